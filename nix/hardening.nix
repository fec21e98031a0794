# systemd sandboxing for the jira-mcp service (systemd.exec(5)).
#
# Plain data on purpose: no `lib`, no `pkgs`, no function. Bare Nix can
# evaluate it (`nix-instantiate --eval --strict nix/hardening.nix`), and
# nix/tests/hardening-test.nix asserts on it without nixpkgs.
#
# Only restrictions live here. The unit's one privilege, membership of the
# docker group (root-equivalent), is granted in module.nix where it is
# visible and documented.
{
  # A fresh uid per start; no home, no files left behind.
  DynamicUser = true;
  NoNewPrivileges = true;
  RestrictSUIDSGID = true;
  UMask = "0077";

  # No capabilities at all (the empty string resets the set).
  CapabilityBoundingSet = "";
  AmbientCapabilities = "";

  # Filesystem: the whole tree read-only, no homes, private /tmp and /dev.
  # Connecting to /run/docker.sock still works: connect() on a socket inode
  # is not a write, so ProtectSystem does not block it.
  ProtectSystem = "strict";
  ProtectHome = true;
  PrivateTmp = true;
  PrivateDevices = true;
  DevicePolicy = "closed";
  PrivateMounts = true;
  RemoveIPC = true;

  # Must stay false: a private user namespace would unmap the docker group
  # and the server could no longer reach the Docker socket.
  PrivateUsers = false;

  # Kernel and system state.
  ProtectKernelTunables = true;
  ProtectKernelModules = true;
  ProtectKernelLogs = true;
  ProtectControlGroups = true;
  ProtectClock = true;
  ProtectHostname = true;
  ProtectProc = "invisible";
  ProcSubset = "pid";
  RestrictNamespaces = true;
  RestrictRealtime = true;
  LockPersonality = true;
  MemoryDenyWriteExecute = true;
  KeyringMode = "private";

  # AF_UNIX for /run/docker.sock and journald, AF_INET/AF_INET6 for Jira
  # over HTTPS and the loopback HTTP transport. No AF_NETLINK: Rust's
  # resolver calls getaddrinfo without AI_ADDRCONFIG. No AF_PACKET.
  RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];

  # Syscalls: the usual service set minus privileged and resource-control
  # calls; anything else fails with EPERM instead of killing the process.
  SystemCallArchitectures = "native";
  SystemCallFilter = [ "@system-service" "~@privileged" "~@resources" ];
  SystemCallErrorNumber = "EPERM";
}
