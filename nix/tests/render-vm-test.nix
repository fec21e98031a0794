# Renders nix/vm-test.nix with stubs instead of nixpkgs, so the VM test's
# Python test script can be syntax-checked on a host without nixpkgs:
#
#   nix-instantiate --eval --strict --json nix/tests/render-vm-test.nix
#
# testers.runNixOSTest is replaced by the identity, so the result is the
# test's own attribute set with the node module and the testScript function
# applied to stub arguments.
let
  stubPackage = {
    imageRef = "jira-mcp-sandbox:stubtag";
    seccompProfile = "/nix/store/00000000000000000000000000000000-run_python.json";
    unwrapped = "/nix/store/00000000000000000000000000000000-jira-mcp-0.1.0";
  };
  test = import ../vm-test.nix {
    testers.runNixOSTest = t: t;
    writeScriptBin = name: text: { inherit name text; };
    python3.interpreter = "/nix/store/00000000000000000000000000000000-python3/bin/python3";
    curl = "curl";
    self.nixosModules.default = { };
  };
  machine = test.nodes.machine { config.services.jira-mcp.package = stubPackage; };
in
{
  inherit (test) name;
  testScript = test.testScript { nodes.machine.services.jira-mcp.package = stubPackage; };
  mcpCall = builtins.head (builtins.filter (p: p ? text) machine.environment.systemPackages);
  services = machine.services.jira-mcp;
  # The test's files under /etc (its secrets), path -> text.
  etc = builtins.mapAttrs (_: f: f.text) machine.environment.etc;
}
