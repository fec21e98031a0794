# The server built with crane, and crane's check derivations. Everything
# shares one dependency-only build (cargoArtifacts), so a change to the
# crate's own sources does not rebuild the dependencies.
{ lib
, craneLib
, advisory-db
, cacert
, redis
}:
let
  root = ../.;

  # Cargo sources (*.rs, *.toml incl. deny.toml/clippy.toml/rustfmt.toml,
  # Cargo.lock), insta snapshots next to the code (src/**/*.snap), and the
  # other files the crate and its tests read, listed in
  # crate-source-extras.nix (seccomp/, docs/, tests/, README.md). Edits to
  # nix/ or scripts/ do not rebuild anything.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions (
      [
        (craneLib.fileset.commonCargoSources root)
        (lib.fileset.fileFilter (file: file.hasExt "snap") ../src)
      ]
      ++ map (path: lib.fileset.maybeMissing (root + "/${path}")) (import ./crate-source-extras.nix)
    );
  };

  commonArgs = {
    inherit src;
    strictDeps = true;
    # Given explicitly so crane need not read Cargo.toml (no
    # import-from-derivation). Keep in sync with Cargo.toml.
    pname = "jira-mcp";
    version = "0.1.0";
  };

  # Dependencies only, built once and reused by the package and every check.
  cargoArtifacts = craneLib.buildDepsOnly commonArgs;

  package = craneLib.buildPackage (
    commonArgs
    // {
      inherit cargoArtifacts;
      # Tests run once, in the nextest check below.
      doCheck = false;
      meta = {
        description = "Jira MCP server (unwrapped binary)";
        license = with lib.licenses; [ mit asl20 ];
        mainProgram = "jira-mcp";
        platforms = lib.platforms.linux;
      };
    }
  );
in
{
  inherit package;

  checks = {
    build = package;

    clippy = craneLib.cargoClippy (
      commonArgs
      // {
        inherit cargoArtifacts;
        cargoClippyExtraArgs = "--all-targets -- --deny warnings";
      }
    );

    doc = craneLib.cargoDoc (
      commonArgs
      // {
        inherit cargoArtifacts;
        cargoDocExtraArgs = "--no-deps --document-private-items";
        env.RUSTDOCFLAGS = "--deny warnings";
      }
    );

    fmt = craneLib.cargoFmt { inherit (commonArgs) src pname version; };

    # The Nix build sandbox has neither Docker nor network: the container
    # tests are #[ignore = "needs Docker + runsc"] and are skipped here. They
    # run with --run-ignored all on a prepared host; the VM test covers the
    # deployed sandbox.
    #
    # Nor CA certificates: stdenv exports SSL_CERT_FILE=/no-cert-file.crt.
    # The server needs none for the emulator's http:// URL, but some tests'
    # own HTTP clients (reqwest::Client::new(), rmcp's) load the platform
    # roots. cacert's setup hook points SSL_CERT_FILE at its bundle.
    # scripts/check-nix re-enacts this run, with and without the bundle.
    #
    # The fleet tests start their own redis-server on a loopback port (no
    # network needed): nixpkgs' redis provides the binary on PATH.
    nextest = craneLib.cargoNextest (
      commonArgs
      // {
        inherit cargoArtifacts;
        nativeBuildInputs = [ cacert redis ];
        partitions = 1;
        partitionType = "count";
        cargoNextestPartitionsExtraArgs = "--no-tests=pass";
        # A new or changed snapshot fails instead of writing *.snap.new.
        env.INSTA_UPDATE = "no";
      }
    );

    # RustSec advisories from the pinned advisory-db input (offline).
    audit = craneLib.cargoAudit {
      inherit (commonArgs) src pname version;
      inherit advisory-db;
    };

    # deny.toml: "bans licenses sources" (crane's default, runs offline).
    deny = craneLib.cargoDeny { inherit (commonArgs) src pname version; };
  };
}
