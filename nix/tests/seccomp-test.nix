# What the flake relies on in seccomp/run_python.json (the wrapper and the
# NixOS service point the server at it), checked with bare Nix:
#
#   nix-instantiate --eval --strict --json nix/tests/seccomp-test.nix
#
# The profile's own behaviour is verified under runsc (seccomp/VERIFIED.md)
# and in the VM test; this only guards its shape.
let
  profile = builtins.fromJSON (builtins.readFile ../../seccomp/run_python.json);
  rules = profile.syscalls or [ ];
  allowRules = builtins.filter (r: (r.action or "") == "SCMP_ACT_ALLOW") rules;
  allowing = name: builtins.filter (r: builtins.elem name (r.names or [ ])) allowRules;
  unconditional = name: builtins.any (r: !(r ? args) || r.args == [ ]) (allowing name);

  checks = [
    { name = "default action is SCMP_ACT_ERRNO"; ok = profile.defaultAction or "" == "SCMP_ACT_ERRNO"; }
    {
      name = "covers x86_64 and aarch64";
      ok = builtins.all (a: builtins.elem a (profile.architectures or [ ])) [ "SCMP_ARCH_X86_64" "SCMP_ARCH_AARCH64" ];
    }
    { name = "execve is not allowed"; ok = allowing "execve" == [ ]; }
    { name = "execveat is not allowed"; ok = allowing "execveat" == [ ]; }
    { name = "socket is never allowed unconditionally"; ok = !(unconditional "socket"); }
    { name = "clone is only allowed with an argument filter"; ok = !(unconditional "clone"); }
    {
      name = "clone3 is allowed (runsc ignores errnoRet; denying it breaks threads)";
      ok = unconditional "clone3";
    }
    { name = "unshare is not allowed"; ok = allowing "unshare" == [ ]; }
    { name = "ptrace is not allowed"; ok = allowing "ptrace" == [ ]; }
  ];
in
map (c: if c.ok then c.name else throw "seccomp check failed: ${c.name}") checks
