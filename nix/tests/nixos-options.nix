# The NixOS options nix/module.nix sets or reads, declared with their real
# names and types, for nix/tests/module-typed-eval.nix. Only these exist
# there: a misspelled option fails ("does not exist"), and so does a value
# of the wrong type.
#
# Read from NixOS/nixpkgs at the revisions the search index holds, not at
# the pinned 531670d8 (not stored there; docs/nix.md says so):
#   nixos/modules/virtualisation/docker.nix (bdd8295f): enable (bool),
#     package (mkPackageOption "docker"), daemon.settings
#     (pkgs.formats.json { }).type;
#   nixos/lib/systemd-unit-options.nix (01f31c2e): description
#     (singleLineStr), wantedBy/wants/after/requires (listOf unitNameType),
#     path (listOf (oneOf [ package str ])), environment (attrsOf (nullOr
#     (oneOf [ str path package ]))), serviceConfig (addCheck (attrsOf
#     unitOption) checkService: Type and Restart from fixed sets), script
#     (lines);
#   nixos/modules/misc/assertions.nix: assertions (listOf unspecified);
#   nixos/modules/config/system-path.nix: environment.systemPackages
#     (listOf package).
{ lib, docker }:
let
  inherit (lib) mkOption types;

  # systemd's unit option values: scalars, or lists for repeated keys.
  unitScalar = types.oneOf [ types.bool types.int types.str types.path types.package ];
  unitOption = {
    _type = "option-type";
    name = "systemd option";
    check = v: unitScalar.check v || (builtins.isList v && builtins.all unitScalar.check v);
    merge = path: values:
      if builtins.all builtins.isList values then builtins.concatLists values
      else lib.mergeEqual path values;
  };
  oneOfOrAbsent = key: allowed: cfg: !(cfg ? ${key}) || builtins.elem cfg.${key} allowed;
  checkService = cfg:
    oneOfOrAbsent "Type" [ "exec" "simple" "forking" "oneshot" "dbus" "notify" "notify-reload" "idle" ] cfg
    && oneOfOrAbsent "Restart" [ "no" "on-success" "on-failure" "on-abnormal" "on-abort" "on-watchdog" "always" ] cfg;
  unitNames = types.listOf types.str;

  serviceOptions = {
    description = mkOption { type = types.singleLineStr; default = ""; };
    wantedBy = mkOption { type = unitNames; default = [ ]; };
    wants = mkOption { type = unitNames; default = [ ]; };
    after = mkOption { type = unitNames; default = [ ]; };
    requires = mkOption { type = unitNames; default = [ ]; };
    path = mkOption { type = types.listOf (types.oneOf [ types.package types.str ]); default = [ ]; };
    environment = mkOption {
      type = types.attrsOf (types.nullOr (types.oneOf [ types.str types.path types.package ]));
      default = { };
    };
    serviceConfig = mkOption { type = types.addCheck (types.attrsOf unitOption) checkService; default = { }; };
    script = mkOption { type = types.lines; default = ""; };
  };
in
{
  assertions = mkOption { type = types.listOf types.unspecified; default = [ ]; };
  environment.systemPackages = mkOption { type = types.listOf types.package; default = [ ]; };
  virtualisation.docker = {
    enable = mkOption { type = types.bool; default = false; };
    package = mkOption { type = types.package; default = docker; };
    daemon.settings = mkOption { type = types.json; default = { }; };
  };
  systemd.services = mkOption { type = types.attrsOfSubmodule "submodule" serviceOptions; default = { }; };
}
