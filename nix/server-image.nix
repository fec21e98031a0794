# The server as an OCI image for Kubernetes (deploy/kubernetes, docs/deploy.md),
# built with dockerTools.streamLayeredImage like the sandbox image:
#
#   nix build .#server-image && ./result | docker load   # jira-mcp:<tag>
#
# then push it to your registry and deploy it by the digest the registry reports.
#
# - The unwrapped server and CA certificates for rustls (SSL_CERT_FILE), nothing
#   else: no shell, no Docker client, no sandbox image (in a cluster run_python
#   uses E2B; docs/deploy.md says why Docker is not offered there).
# - Non-root: uid and gid 10001, the Deployment's runAsUser and runAsGroup
#   (deploy/kubernetes/base/deployment.yaml); scripts/check-nix compares them.
# - tag = null: as for the sandbox image, the tag is the hash part of the store
#   path of the image's configuration derivation (input-addressed), not a
#   digest of its layers.
{ lib
, dockerTools
, cacert
, server
, serverUid ? 10001
}:
let
  uid = toString serverUid;
in
dockerTools.streamLayeredImage {
  name = "jira-mcp";
  tag = null;

  config = {
    User = "${uid}:${uid}";
    Entrypoint = [ (lib.getExe server) ];
    # HTTP at JIRA_MCP_HTTP_ADDR (the manifests set 0.0.0.0:8808).
    Cmd = [ "serve" "--http" ];
    Env = [ "SSL_CERT_FILE=${cacert}/etc/ssl/certs/ca-bundle.crt" ];
    ExposedPorts = { "8808/tcp" = { }; };
    Labels = {
      "org.opencontainers.image.title" = "jira-mcp";
      "org.opencontainers.image.description" = "Jira MCP server (streamable HTTP); run_python through E2B in a cluster";
    };
  };
}
