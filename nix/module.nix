# nixosModules.default
#
# services.jira-mcp.enable       Docker with the gVisor runtime (runsc,
#                                registered with --network=none and
#                                --oci-seccomp), the run_python image loaded
#                                from the store at boot, and the `jira-mcp`
#                                command for local stdio MCP clients.
# services.jira-mcp.http.enable  the server as a hardened systemd service on
#                                the streamable HTTP transport (loopback by
#                                default, bearer tokens required).
#
# Trust model: access to the Docker socket is root on this host.
# Membership of the `docker` group is root-equivalent: anything that can talk
# to dockerd can start a privileged container that mounts /. The service gets
# that group (SupplementaryGroups) as its one privilege, because run_python
# must start containers. What this module does about it:
#   - the service runs as a fresh DynamicUser with no capabilities, a
#     read-only filesystem, a syscall and address-family allow-list and the
#     rest of nix/hardening.nix; the docker group is the only thing it gets;
#   - it adds no user to the docker group; people who run the stdio
#     `jira-mcp` themselves need Docker access, which is a root grant;
#   - the server decides every container flag itself (runsc, no network,
#     read-only root, seccomp profile, non-root user, limits); MCP clients
#     only send Python code;
#   - the HTTP transport listens on loopback by default, needs bearer tokens,
#     and the unit may only bind that one port;
#   - Jira and HTTP secrets never enter the Nix store: the *File options
#     refuse store paths and are read by systemd (LoadCredential).
# The hardening limits what the server process can do directly; it does not
# make the Docker socket less powerful. A compromised server is a compromised
# host. To remove the root grant, run a rootless Docker daemon or put a socket
# proxy in front of dockerd that only allows the calls run_python makes.
# Neither is provided here.
{ self }:
{ config
, lib
, pkgs
, ...
}:
let
  cfg = config.services.jira-mcp;
  inherit (lib) mkEnableOption mkIf mkMerge mkOption types;

  # Runtime paths only: a Nix path literal or a /nix/store path would put
  # the secret into the world-readable store.
  secretPath = types.pathWith {
    absolute = true;
    inStore = false;
  };

  image = cfg.package.sandboxImage;
  httpPort = lib.last (lib.splitString ":" cfg.http.address);

  # The two runsc flags the server checks for in `docker info`.
  runscArgs = [ "--network=none" "--oci-seccomp" ] ++ cfg.runscExtraArgs;
in
{
  options.services.jira-mcp = {
    enable = mkEnableOption "Docker with the gVisor runtime, the run_python sandbox image and the jira-mcp command";

    package = mkOption {
      type = types.package;
      default = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      defaultText = lib.literalExpression "jira-mcp.packages.\${system}.default";
      description = ''
        The wrapped server (nix/wrapper.nix). Its passthru attributes
        `unwrapped`, `sandboxImage`, `imageRef` and `seccompProfile` are used
        by the service and the image loader.
      '';
    };

    gvisorPackage = lib.mkPackageOption pkgs "gvisor" { };

    runscExtraArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "--platform=ptrace" ];
      description = ''
        Extra runsc flags for the registered runtime. `--network=none` and
        `--oci-seccomp` are always set: the server refuses run_python without
        them.
      '';
    };

    jiraUrl = mkOption {
      type = types.str;
      example = "https://example.atlassian.net";
      description = "Base URL of the Jira Cloud site (JIRA_URL of the HTTP service).";
    };

    jiraUsername = mkOption {
      type = types.str;
      example = "bot@example.com";
      description = "Atlassian account email that goes with the API token (JIRA_USERNAME of the HTTP service).";
    };

    jiraTokenFile = mkOption {
      type = secretPath;
      example = "/run/secrets/jira-api-token";
      description = ''
        File holding the Jira API token for the HTTP service, e.g. from
        sops-nix or agenix. systemd reads it (LoadCredential) and the server gets
        JIRA_API_TOKEN_FILE=$CREDENTIALS_DIRECTORY/jira-api-token. Store paths
        are refused.
      '';
    };

    readOnly = mkOption {
      type = types.bool;
      default = false;
      description = "Offer only the read-only tools (JIRA_MCP_READ_ONLY of the HTTP service).";
    };

    rateLimit = mkOption {
      type = types.nullOr (types.ints.between 1 1000);
      default = null;
      description = "Jira requests per second (JIRA_MCP_RATE_LIMIT of the HTTP service); null keeps the server's default (10).";
    };

    environment = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = { RUST_LOG = "jira_mcp=debug"; };
      description = "Extra environment for the service (no secrets: the unit file is world-readable).";
    };

    http = {
      enable = mkEnableOption "the server as a systemd service on the streamable HTTP transport";

      address = mkOption {
        type = types.strMatching "[^[:space:]]+:[0-9]+";
        default = "127.0.0.1:8808";
        description = ''
          Listen address (JIRA_MCP_HTTP_ADDR, `serve --http`). Keep it on
          loopback and put a TLS-terminating proxy in front for remote
          clients.
        '';
      };

      tokenFile = mkOption {
        type = types.nullOr secretPath;
        default = null;
        example = "/run/secrets/jira-mcp-http-tokens";
        description = ''
          File with one or more bearer tokens, one per line, each at least 32
          characters (`openssl rand -hex 32` gives 64); the server refuses a
          shorter one and exits with status 2. Required with http.enable.
          systemd reads it (LoadCredential) and the server gets
          JIRA_MCP_HTTP_TOKEN_FILE=$CREDENTIALS_DIRECTORY/http-tokens.
        '';
      };
    };
  };

  config = mkMerge [
    {
      assertions = [
        {
          assertion = cfg.http.enable -> cfg.enable;
          message = "services.jira-mcp.http.enable needs services.jira-mcp.enable (Docker, runsc and the sandbox image).";
        }
        {
          assertion = cfg.http.enable -> cfg.http.tokenFile != null;
          message = "services.jira-mcp.http.tokenFile must be set: every local user can reach a loopback port.";
        }
      ];
    }

    (mkIf cfg.enable {
      virtualisation.docker = {
        enable = true;
        # Registered next to runc; the server asks for runsc explicitly and
        # other containers on this host keep their default runtime.
        daemon.settings.runtimes.runsc = {
          path = lib.getExe' cfg.gvisorPackage "runsc";
          runtimeArgs = runscArgs;
        };
      };

      # Load the image from the store; nothing is pulled from a registry.
      systemd.services.jira-mcp-sandbox-image = {
        description = "Load the jira-mcp run_python sandbox image into Docker";
        wantedBy = [ "multi-user.target" ];
        after = [ "docker.service" ];
        requires = [ "docker.service" ];
        path = [ config.virtualisation.docker.package ];
        serviceConfig = {
          Type = "oneshot";
          RemainAfterExit = true;
        };
        script = ''
          if ! docker image inspect ${lib.escapeShellArg cfg.package.imageRef} >/dev/null 2>&1; then
            ${image} | docker load
          fi
        '';
      };

      # For MCP clients that spawn the stdio server. Running it needs Docker
      # access (root-equivalent); no user is added to the docker group here.
      environment.systemPackages = [ cfg.package ];
    })

    (mkIf (cfg.enable && cfg.http.enable && cfg.http.tokenFile != null) {
      systemd.services.jira-mcp = {
        description = "Jira MCP server (streamable HTTP on ${cfg.http.address})";
        wantedBy = [ "multi-user.target" ];
        wants = [ "network-online.target" ];
        after = [ "network-online.target" "docker.service" "jira-mcp-sandbox-image.service" ];
        requires = [ "docker.service" "jira-mcp-sandbox-image.service" ];

        environment = {
          JIRA_URL = cfg.jiraUrl;
          JIRA_USERNAME = cfg.jiraUsername;
          # %d is $CREDENTIALS_DIRECTORY (systemd specifier).
          JIRA_API_TOKEN_FILE = "%d/jira-api-token";
          JIRA_MCP_HTTP_ADDR = cfg.http.address;
          JIRA_MCP_HTTP_TOKEN_FILE = "%d/http-tokens";
          JIRA_MCP_SANDBOX_IMAGE = cfg.package.imageRef;
          JIRA_MCP_SECCOMP_PROFILE = cfg.package.seccompProfile;
          JIRA_MCP_SANDBOX_RUNTIME = "runsc";
          JIRA_MCP_IMAGE_SOURCE = "nix";
          # Issue data for run_python is written here and bind-mounted into
          # the container by dockerd, so it must be a path dockerd sees too:
          # the service's /tmp is private (PrivateTmp), /run/jira-mcp is not.
          JIRA_MCP_SANDBOX_DATA_DIR = "/run/jira-mcp";
          DOCKER_HOST = "unix:///run/docker.sock";
          JIRA_MCP_READ_ONLY = lib.boolToString cfg.readOnly;
        }
        // lib.optionalAttrs (cfg.rateLimit != null) { JIRA_MCP_RATE_LIMIT = toString cfg.rateLimit; }
        // cfg.environment;

        serviceConfig = import ./hardening.nix // {
          ExecStart = "${lib.getExe cfg.package.unwrapped} serve --http ${cfg.http.address}";
          # The unit's one privilege, root-equivalent (see the header).
          SupplementaryGroups = [ "docker" ];
          LoadCredential = [
            "jira-api-token:${cfg.jiraTokenFile}"
            "http-tokens:${cfg.http.tokenFile}"
          ];
          # Writable despite ProtectSystem=strict; removed when the unit stops.
          RuntimeDirectory = "jira-mcp";
          RuntimeDirectoryMode = "0711";
          # Only the listening port may be bound.
          SocketBindAllow = [ "tcp:${httpPort}" ];
          SocketBindDeny = [ "any" ];
          Restart = "on-failure";
          RestartSec = "5s";
          # Exit status 2 is a configuration error (a short token, a bad
          # variable): restarting cannot fix it, so the unit stops and says
          # why instead of crash-looping.
          RestartPreventExitStatus = [ 2 ];
        };
      };
    })
  ];
}
