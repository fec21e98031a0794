# Assertions on nix/hardening.nix that need nothing but bare Nix:
#
#   nix-instantiate --eval --strict --json nix/tests/hardening-test.nix
#
# prints the names of the checks that passed, or fails evaluation with
# "hardening check failed: <name>". Not a function, so Nix 2.8 (which does
# not auto-call) and newer Nix evaluate it the same way. scripts/check-nix
# also copies it next to mutated copies of hardening.nix to show that each
# mutation makes it fail.
let
  h = import ../hardening.nix;
  get = name: h.${name} or null;
  toList = v: if builtins.isList v then v else [ v ];
  elem = x: xs: builtins.elem x (toList xs);
  isTrue = name: get name == true;
  isPlain = v:
    builtins.isBool v
    || builtins.isString v
    || (builtins.isList v && builtins.all builtins.isString v);

  checks = [
    { name = "is an attribute set (plain data, not a function)"; ok = builtins.isAttrs h; }
    {
      name = "every value is a bool, a string or a list of strings";
      ok = builtins.all (n: isPlain h.${n}) (builtins.attrNames h);
    }
    { name = "DynamicUser = true"; ok = isTrue "DynamicUser"; }
    { name = "NoNewPrivileges = true"; ok = isTrue "NoNewPrivileges"; }
    { name = "ProtectSystem = \"strict\""; ok = get "ProtectSystem" == "strict"; }
    { name = "ProtectHome = true"; ok = isTrue "ProtectHome"; }
    { name = "PrivateTmp = true"; ok = isTrue "PrivateTmp"; }
    { name = "PrivateDevices = true"; ok = isTrue "PrivateDevices"; }
    {
      name = "PrivateUsers = false (keeps the docker group mapped)";
      ok = get "PrivateUsers" == false;
    }
    {
      name = "CapabilityBoundingSet is empty";
      ok = h ? CapabilityBoundingSet && builtins.all (c: c == "") (toList h.CapabilityBoundingSet);
    }
    {
      name = "AmbientCapabilities is empty";
      ok = builtins.all (c: c == "") (toList (get "AmbientCapabilities"));
    }
    { name = "RestrictAddressFamilies contains AF_UNIX"; ok = elem "AF_UNIX" (get "RestrictAddressFamilies"); }
    { name = "RestrictAddressFamilies contains AF_INET"; ok = elem "AF_INET" (get "RestrictAddressFamilies"); }
    { name = "RestrictAddressFamilies contains AF_INET6"; ok = elem "AF_INET6" (get "RestrictAddressFamilies"); }
    {
      name = "RestrictAddressFamilies does not contain AF_PACKET";
      ok = !(elem "AF_PACKET" (get "RestrictAddressFamilies"));
    }
    {
      name = "RestrictAddressFamilies is an allow-list (no ~ entries)";
      ok = builtins.all (f: builtins.substring 0 1 f != "~") (toList (get "RestrictAddressFamilies"));
    }
    {
      name = "SystemCallFilter allow-lists @system-service first";
      ok = builtins.head (toList (get "SystemCallFilter")) == "@system-service";
    }
    { name = "SystemCallFilter denies @privileged"; ok = elem "~@privileged" (get "SystemCallFilter"); }
    { name = "SystemCallArchitectures = \"native\""; ok = get "SystemCallArchitectures" == "native"; }
    { name = "MemoryDenyWriteExecute = true"; ok = isTrue "MemoryDenyWriteExecute"; }
    { name = "LockPersonality = true"; ok = isTrue "LockPersonality"; }
    { name = "RestrictNamespaces = true"; ok = isTrue "RestrictNamespaces"; }
    { name = "RestrictSUIDSGID = true"; ok = isTrue "RestrictSUIDSGID"; }
    { name = "RestrictRealtime = true"; ok = isTrue "RestrictRealtime"; }
    { name = "ProtectKernelTunables = true"; ok = isTrue "ProtectKernelTunables"; }
    { name = "ProtectKernelModules = true"; ok = isTrue "ProtectKernelModules"; }
    { name = "ProtectKernelLogs = true"; ok = isTrue "ProtectKernelLogs"; }
    { name = "ProtectControlGroups = true"; ok = isTrue "ProtectControlGroups"; }
    { name = "ProtectClock = true"; ok = isTrue "ProtectClock"; }
    { name = "UMask = \"0077\""; ok = get "UMask" == "0077"; }
    {
      name = "grants no privilege (no User, Group, SupplementaryGroups)";
      ok = !(h ? User || h ? Group || h ? SupplementaryGroups);
    }
  ];
in
map (c: if c.ok then c.name else throw "hardening check failed: ${c.name}") checks
