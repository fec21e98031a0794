# The HTTP service exactly as the VM test configures it: nix/vm-test.nix's
# services.jira-mcp settings evaluated by nix/tests/module-typed-eval.nix,
# with the test's secret files. scripts/check-service.py starts the real
# binary with this unit's command line, environment and credentials.
#
#   nix-instantiate --eval --strict --json nix/tests/vm-service.nix
let
  vm = import ./render-vm-test.nix;
  module = import ./module-typed-eval.nix { userConfig.services.jira-mcp = vm.services; };
in
{
  inherit (module) failedAssertions tokenFileDescription;
  service = module.services.jira-mcp;
  etc = builtins.listToAttrs (map (name: { name = "/etc/${name}"; value = vm.etc.${name}; }) (builtins.attrNames vm.etc));
}
