# Evaluates nix/module.nix with the real nixpkgs `lib` against stub NixOS
# options (docker, systemd.services, assertions, systemPackages), without
# the rest of nixpkgs. Optional in scripts/check-nix: it needs a checkout of
# nix-community/nixpkgs.lib (lib only, small), which is never committed here.
#
#   nix-instantiate --eval --strict --json nix/tests/module-eval.nix \
#     --argstr nixpkgsLib /path/to/nixpkgs.lib \
#     --arg userConfig '{ services.jira-mcp.enable = true; }'
{ nixpkgsLib
, userConfig
}:
let
  lib = import (nixpkgsLib + "/lib");
  fakeDrv = name: extra: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  } // extra;
  pkgs = {
    stdenv.hostPlatform.system = "x86_64-linux";
    gvisor = fakeDrv "gvisor" { meta.mainProgram = "runsc"; };
  };
  self.packages.x86_64-linux.default = fakeDrv "jira-mcp" {
    unwrapped = fakeDrv "jira-mcp-0.1.0" { meta.mainProgram = "jira-mcp"; };
    sandboxImage = fakeDrv "stream-jira-mcp-sandbox" { };
    imageRef = "jira-mcp-sandbox:stubtag";
    seccompProfile = "/nix/store/11111111111111111111111111111111-run_python.json";
    meta.mainProgram = "jira-mcp";
  };
  freeform = lib.types.submodule { freeformType = lib.types.attrsOf lib.types.anything; };
  stubs = {
    options = {
      assertions = lib.mkOption { type = lib.types.listOf lib.types.unspecified; default = [ ]; };
      environment.systemPackages = lib.mkOption { type = lib.types.listOf lib.types.package; default = [ ]; };
      virtualisation.docker = lib.mkOption {
        type = lib.types.submodule {
          freeformType = lib.types.attrsOf lib.types.anything;
          options.package = lib.mkOption { default = fakeDrv "docker" { }; };
        };
        default = { };
      };
      systemd.services = lib.mkOption { type = lib.types.attrsOf freeform; default = { }; };
    };
  };
  config = (lib.evalModules {
    specialArgs = { inherit pkgs; };
    modules = [ stubs (import ../module.nix { inherit self; }) userConfig ];
  }).config;
in
{
  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
  runsc = config.virtualisation.docker.daemon.settings.runtimes.runsc or null;
  services = config.systemd.services;
  systemPackages = map (p: p.name) config.environment.systemPackages;
}
