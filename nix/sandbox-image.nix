# The OCI image run_python starts: CPython and its standard library, nothing
# else. Built with dockerTools.streamLayeredImage, so the output is a script
# that streams the image to stdout:
#
#   nix build .#sandbox-image && ./result | docker load
#
# - No /bin/sh, no coreutils, no package manager. Caveat: nixpkgs' python3
#   references bash (Lib/subprocess.py is patched to it), so a bash binary
#   sits in the image's /nix/store. It stays inert because the run_python
#   seccomp profile denies execve under runsc; the VM test checks that
#   subprocess.run fails.
# - Non-root: user and group 65534 (nobody, from dockerTools.fakeNss).
# - tag = null: the tag is the hash part of the store path of the image's
#   configuration derivation (`<name>-conf.json`), passthru.imageTag. That
#   path is input-addressed: it changes when anything the image is built
#   from changes (so a changed image gets a new tag), and may also change
#   when the contents do not (e.g. a nixpkgs bump that rebuilds python3
#   identically). It is not a digest of the image's layers.
# - Drop-in for the Debian image of the host setup: /usr/bin/python3 exists
#   and is the default command, so the server's `/usr/bin/python3 -` works.
{ dockerTools
, python3
, sandboxUid ? 65534
}:
let
  uid = toString sandboxUid;
  python = "${python3}/bin/python3";
in
dockerTools.streamLayeredImage {
  name = "jira-mcp-sandbox";
  tag = null;

  # /etc/passwd and /etc/group with root and nobody only. binSh and
  # usrBinEnv are opt-in and left out.
  contents = [ dockerTools.fakeNss ];

  # Runs in the customisation layer's root. /tmp is the tmpfs mount point
  # (the server mounts it; the root filesystem is read-only); /data is where
  # the server may bind-mount an issues file read-only.
  extraCommands = ''
    mkdir -p usr/bin tmp data
    chmod 1777 tmp
    ln -s ${python} usr/bin/python3
  '';

  config = {
    User = "${uid}:${uid}";
    WorkingDir = "/tmp";
    # No Entrypoint: the server passes the full command.
    # -I: isolated mode (ignores PYTHON* variables and user site-packages).
    Cmd = [ "/usr/bin/python3" "-I" "-" ];
    Env = [
      "HOME=/tmp"
      "PYTHONDONTWRITEBYTECODE=1"
      "PYTHONUNBUFFERED=1"
    ];
    Labels = {
      "org.opencontainers.image.title" = "jira-mcp run_python sandbox";
      "org.opencontainers.image.description" = "CPython ${python3.version} standard library only; run under gVisor (runsc) with the run_python seccomp profile";
    };
  };
}
