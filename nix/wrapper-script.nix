# Text of the `jira-mcp` launcher that `nix run` starts (built by
# nix/wrapper.nix with writeShellApplication, which adds the shebang and
# `set -o errexit -o nounset -o pipefail`).
#
# A plain function of strings, without lib or pkgs, so scripts/check-nix can
# render it with stub paths and run it against a fake `docker` offline.
#
# Every message goes to stderr: in stdio mode stdout carries the MCP protocol.
{ server
, imageRef
, imageStream
, seccompProfile
}:
''
  nix_image='${imageRef}'
  image_stream='${imageStream}'

  note() {
    printf 'jira-mcp (nix): %s\n' "$*" >&2
  }

  # The daemon the server reaches (bollard): DOCKER_HOST when it is a unix://
  # socket, otherwise /var/run/docker.sock. The docker CLI below is pinned to
  # the same one, so CLI contexts (DOCKER_CONTEXT, `docker context use`)
  # cannot load the image into another daemon.
  case "''${DOCKER_HOST:-}" in
    unix://*) docker_host=$DOCKER_HOST ;;
    *) docker_host=unix:///var/run/docker.sock ;;
  esac
  docker_socket=''${docker_host#unix://}
  load_command="$image_stream | DOCKER_HOST=$docker_host docker load"
  server_docker() (
    unset DOCKER_CONTEXT
    DOCKER_HOST=$docker_host exec docker "$@"
  )

  # Load the Nix-built sandbox image into Docker unless it is already there.
  # Never fatal: without the image the server still starts and run_python
  # reports the problem (the server fails closed).
  ensure_image() {
    if ! command -v docker >/dev/null 2>&1; then
      note "docker CLI not found; run_python needs Docker with the runsc runtime and the image $nix_image."
      note "load the image with: $load_command"
      return 0
    fi
    if [ ! -S "$docker_socket" ] || [ ! -r "$docker_socket" ] || [ ! -w "$docker_socket" ]; then
      note "cannot use the Docker socket $docker_socket (missing, or this user may not use it); run_python needs it, then load the image once with: $load_command"
      return 0
    fi
    if server_docker image inspect "$nix_image" >/dev/null 2>&1; then
      return 0
    fi
    note "loading sandbox image $nix_image into Docker (first start only)"
    if "$image_stream" | server_docker load >&2; then
      note "loaded $nix_image"
    else
      note "could not load the image (is the Docker daemon running?)"
      note "load it with: $load_command"
    fi
  }

  # Only the Nix image is loaded automatically; an image chosen through
  # JIRA_MCP_SANDBOX_IMAGE is the caller's business.
  uses_nix_image=false
  if [ "''${JIRA_MCP_SANDBOX_IMAGE:-$nix_image}" = "$nix_image" ]; then
    uses_nix_image=true
    export JIRA_MCP_SANDBOX_IMAGE="$nix_image"
    export JIRA_MCP_IMAGE_SOURCE="''${JIRA_MCP_IMAGE_SOURCE:-nix}"
  fi

  case "''${1:-}" in
    -h | --help | -V | --version | help) ;;
    *)
      if [ "$uses_nix_image" = true ]; then
        ensure_image
      fi
      ;;
  esac

  export JIRA_MCP_SECCOMP_PROFILE="''${JIRA_MCP_SECCOMP_PROFILE:-${seccompProfile}}"
  export JIRA_MCP_SANDBOX_RUNTIME="''${JIRA_MCP_SANDBOX_RUNTIME:-runsc}"

  exec '${server}' "$@"
''
