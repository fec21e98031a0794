# jira-mcp: Jira MCP server whose run_python tool runs in gVisor (runsc).
#
#   packages.<system>.default             `jira-mcp`, wrapped with the Nix-built
#                                         sandbox image and seccomp profile
#                                         (nix/wrapper.nix, wrapper-script.nix)
#   packages.<system>.jira-mcp-unwrapped  the crane build (nix/package.nix)
#   packages.<system>.sandbox-image       run_python image, a script that streams
#                                         it: ./result | docker load
#                                         (nix/sandbox-image.nix)
#   packages.<system>.server-image        the server as an OCI image for
#                                         Kubernetes (deploy/kubernetes), same
#                                         streaming script (nix/server-image.nix)
#   apps.<system>.default / .demo         nix run / nix run .#demo (stdio)
#   checks.<system>.*                     build clippy doc fmt nextest audit deny
#                                         nixpkgs-fmt deadnix vm (nix/vm-test.nix)
#   devShells.<system>.default            toolchain, cargo-nextest, cargo-insta,
#                                         cargo-deny
#   nixosModules.default                  service, Docker + runsc, image loader
#                                         (nix/module.nix, nix/hardening.nix)
#   formatter.<system>                    nixpkgs-fmt
#
# Needs Nix >= 2.18 with flakes. Hosts without nixpkgs run scripts/check-nix
# (offline checks). docs/nix.md has the details.
{
  description = "Jira MCP server whose run_python tool runs in a gVisor (runsc) sandbox";

  # Exactly these four inputs: flake.lock pins them (scripts/check-nix checks
  # that the names agree).
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    crane.url = "github:ipetkov/crane";
    flake-utils.url = "github:numtide/flake-utils";
    advisory-db = {
      url = "github:rustsec/advisory-db";
      flake = false;
    };
  };

  outputs =
    { self
    , nixpkgs
    , crane
    , flake-utils
    , advisory-db
    , ...
    }:
    # gVisor exists for Linux only, so only Linux systems are offered.
    flake-utils.lib.eachSystem [ "x86_64-linux" "aarch64-linux" ]
      (
        system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
          inherit (pkgs) lib;
          craneLib = crane.mkLib pkgs;

          server = pkgs.callPackage ./nix/package.nix { inherit craneLib advisory-db; };
          sandbox-image = pkgs.callPackage ./nix/sandbox-image.nix { };
          server-image = pkgs.callPackage ./nix/server-image.nix { server = server.package; };
          jira-mcp = pkgs.callPackage ./nix/wrapper.nix {
            unwrapped = server.package;
            sandboxImage = sandbox-image;
            seccompProfile = ./seccomp/run_python.json;
          };
          demo = pkgs.writeShellApplication {
            name = "jira-mcp-demo";
            text = ''exec ${lib.getExe jira-mcp} demo "$@"'';
          };

          # The Nix files, for the lint checks.
          nixFiles = lib.fileset.toSource {
            root = ./.;
            fileset = lib.fileset.unions [ ./flake.nix ./nix ];
          };
          lintCheck = name: tool: command:
            pkgs.runCommand "jira-mcp-${name}" { nativeBuildInputs = [ tool ]; } ''
              cd ${nixFiles}
              ${command}
              touch $out
            '';
        in
        {
          packages = {
            default = jira-mcp;
            inherit jira-mcp sandbox-image server-image;
            jira-mcp-unwrapped = server.package;
          };

          # `nix run` would find packages.default through meta.mainProgram;
          # the apps add descriptions (newer Nix warns without them).
          apps = {
            default = {
              type = "app";
              program = lib.getExe jira-mcp;
              meta.description = "Jira MCP server on stdio (needs JIRA_URL, JIRA_USERNAME, JIRA_API_TOKEN)";
            };
            demo = {
              type = "app";
              program = lib.getExe demo;
              meta.description = "Jira MCP server on stdio against the built-in Jira emulator (no credentials)";
            };
          };

          checks = server.checks // {
            nixpkgs-fmt = lintCheck "nixpkgs-fmt" pkgs.nixpkgs-fmt "nixpkgs-fmt --check .";
            deadnix = lintCheck "deadnix" pkgs.deadnix "deadnix --fail .";
            vm = pkgs.callPackage ./nix/vm-test.nix { inherit self; };
          };

          # Tools only: passing `checks` here would pull every check's inputs
          # (and, with the VM test, QEMU) into the shell.
          devShells.default = craneLib.devShell {
            packages = [
              pkgs.cargo-nextest
              pkgs.cargo-insta
              pkgs.cargo-deny
              pkgs.cargo-audit
              pkgs.nixpkgs-fmt
              pkgs.deadnix
            ];
          };

          formatter = pkgs.nixpkgs-fmt;
        }
      )
    // {
      nixosModules.default = import ./nix/module.nix { inherit self; };
    };
}
