# The program `nix run` starts (packages.default): the unwrapped server with
# the Nix-built sandbox image and seccomp profile as defaults. Each default
# can still be overridden from the environment. The script text is in
# wrapper-script.nix; what it does:
#
#   JIRA_MCP_SANDBOX_IMAGE    jira-mcp-sandbox:<tag> (the hash of the image
#                             config derivation's store path, input-addressed)
#   JIRA_MCP_IMAGE_SOURCE     nix (reported by `jira-mcp doctor`)
#   JIRA_MCP_SECCOMP_PROFILE  the store copy of seccomp/run_python.json
#   JIRA_MCP_SANDBOX_RUNTIME  runsc
#
# and loads the image into Docker when it is missing, or prints the one
# command that does: through the daemon the server uses (DOCKER_HOST when
# unix://, else /var/run/docker.sock; never a docker CLI context), and only
# when that socket is accessible.
{ lib
, writeShellApplication
, unwrapped
, sandboxImage
, seccompProfile
}:
let
  imageRef = "${sandboxImage.imageName}:${sandboxImage.imageTag}";
  # A path; interpolating it copies the file into the store.
  seccompProfileInStore = "${seccompProfile}";
in
writeShellApplication {
  name = "jira-mcp";
  text = import ./wrapper-script.nix {
    server = lib.getExe unwrapped;
    inherit imageRef;
    imageStream = "${sandboxImage}";
    seccompProfile = seccompProfileInStore;
  };
  passthru = {
    inherit unwrapped sandboxImage imageRef;
    inherit (unwrapped) version;
    seccompProfile = seccompProfileInStore;
  };
  meta = unwrapped.meta // {
    description = "Jira MCP server with the Nix-built run_python sandbox image";
    mainProgram = "jira-mcp";
  };
}
