# checks.<system>.vm: boots a NixOS VM with nixosModules.default and checks
# the deployment end to end:
#   - Docker lists runsc with --network=none and --oci-seccomp;
#   - the Nix-built image is loaded and runs python as 65534 under gVisor,
#     without a shell, network, subprocesses or writes outside /tmp (each
#     negative check has a control showing it could fail);
#   - run_python called over MCP, via `jira-mcp demo` on stdio and via the
#     hardened HTTP service, cannot open a socket to 127.0.0.1;
#   - the service is hardened and keeps its secrets out of its environment.
#
#   nix build .#checks.x86_64-linux.vm  (needs the kvm and nixos-test system
#   features; .driverInteractive for debugging)
{ testers
, writeScriptBin
, python3
, curl
, self
}:
let
  # Stdlib-only MCP client: stdio (spawns a command) or streamable HTTP.
  mcpCall = writeScriptBin "mcp-call" (
    "#!${python3.interpreter}\n" + builtins.readFile ./tests/mcp_call.py
  );
  httpAddress = "127.0.0.1:8808";
  # Test-only; 48 characters.
  httpToken = "vm-test-http-token-0123456789abcdef0123456789abc";
in
testers.runNixOSTest {
  name = "jira-mcp";

  nodes.machine = {
    imports = [ self.nixosModules.default ];

    virtualisation.memorySize = 2048;
    virtualisation.diskSize = 4096;

    # Test-only secrets; a real host points these at sops-nix/agenix output.
    environment.etc."jira-mcp/jira-api-token".text = "test-jira-token";
    # The server refuses tokens shorter than 32 characters (exit 2).
    environment.etc."jira-mcp/http-tokens".text = "${httpToken}\n";

    services.jira-mcp = {
      enable = true;
      # Never resolves; the checks below do not need Jira.
      jiraUrl = "https://jira.example.invalid";
      jiraUsername = "bot@example.com";
      jiraTokenFile = "/etc/jira-mcp/jira-api-token";
      http = {
        enable = true;
        address = httpAddress;
        tokenFile = "/etc/jira-mcp/http-tokens";
      };
    };

    environment.systemPackages = [ mcpCall curl ];
  };

  testScript = { nodes, ... }:
    let
      pkg = nodes.machine.services.jira-mcp.package;
    in
    ''
      import json
      import shlex

      REF = "${pkg.imageRef}"
      SECCOMP = "${pkg.seccompProfile}"
      HTTP_URL = "http://${httpAddress}/mcp"
      HTTP_TOKENS = "/etc/jira-mcp/http-tokens"

      # Connects to a port that is open on the VM's loopback (the HTTP
      # service). Inside the sandbox socket() itself must fail with EPERM
      # (the seccomp profile), so no address is ever reached.
      SOCKET_CODE = "\n".join([
          "import socket",
          "try:",
          "    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
          "    s.settimeout(3)",
          "    s.connect(('127.0.0.1', 8808))",
          "except OSError as e:",
          "    print('NET-RESULT blocked errno=%d' % (e.errno or 0))",
          "else:",
          "    print('NET-RESULT connected')",
      ])
      ALIVE_CODE = "print('SANDBOX-ALIVE', 6 * 7)"


      def docker_python(code, seccomp=True):
          """The flags the server uses, as a docker CLI command."""
          profile = SECCOMP if seccomp else "unconfined"
          return " ".join([
              "docker run --rm --runtime=runsc --network=none --read-only",
              "--tmpfs /tmp --cap-drop=ALL --security-opt no-new-privileges",
              "--user 65534:65534 --ulimit nproc=32:32 --pids-limit 512",
              "--memory 256m --security-opt seccomp=" + profile,
              REF, "/usr/bin/python3 -c", shlex.quote(code),
          ])


      def mcp(tool, arguments, http=False):
          """One tools/call; returns the JSON-RPC response text."""
          call = shlex.quote(tool) + " " + shlex.quote(json.dumps(arguments))
          if http:
              cmd = "mcp-call --timeout 300 --http " + HTTP_URL
              cmd += " --token-file " + HTTP_TOKENS + " " + call
          else:
              cmd = "mcp-call --timeout 300 " + call + " -- jira-mcp demo"
          return machine.succeed(cmd)


      start_all()
      machine.wait_for_unit("docker.service")
      machine.wait_for_unit("jira-mcp-sandbox-image.service")

      with subtest("runsc is registered with both runtime flags"):
          runtimes = json.loads(machine.succeed("docker info --format '{{json .Runtimes}}'"))
          assert "runsc" in runtimes, runtimes
          runsc_args = runtimes["runsc"].get("runtimeArgs") or []
          for flag in ("--network=none", "--oci-seccomp"):
              assert flag in runsc_args, f"runsc lacks {flag}: {runtimes['runsc']}"

      with subtest("the Nix-built image is loaded"):
          machine.succeed("docker image inspect " + REF)
          user = machine.succeed("docker image inspect -f '{{.Config.User}}' " + REF)
          assert user.strip() == "65534:65534", user

      with subtest("python runs in gVisor as nobody"):
          assert machine.succeed(docker_python("print(1 + 1)")).strip() == "2"
          ids = machine.succeed(docker_python("import os; print(os.getuid(), os.getgid())"))
          assert ids.strip() == "65534 65534", ids
          # Threads need clone3 to be allowed (runsc ignores errnoRet).
          machine.succeed(docker_python("import threading; t = threading.Thread(target=print); t.start(); t.join()"))
          machine.succeed("docker run -d --name sbx-check --runtime=runsc " + REF + " /usr/bin/python3 -c 'import time; time.sleep(60)'")
          runtime = machine.succeed("docker inspect -f '{{.HostConfig.Runtime}}' sbx-check")
          machine.succeed("docker rm -f sbx-check")
          assert runtime.strip() == "runsc", runtime

      with subtest("no shell, no network, no subprocess, no writes outside /tmp"):
          machine.fail("docker run --rm --runtime=runsc --network=none --entrypoint /bin/sh " + REF + " -c true")
          machine.succeed("docker run --rm --runtime=runsc --network=none --entrypoint /usr/bin/python3 " + REF + " -c pass")
          machine.fail(docker_python("import socket; socket.socket()"))
          # Control: without the profile socket() works, so the check above can fail.
          machine.succeed(docker_python("import socket; socket.socket()", seccomp=False))
          # python3's closure contains bash (subprocess.py is patched to it),
          # so "no subprocess" rests on the profile denying execve.
          machine.fail(docker_python("import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'])"))
          machine.succeed(docker_python("import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'])", seccomp=False))
          machine.fail(docker_python("open('/etc/x', 'w')"))
          machine.succeed(docker_python("open('/tmp/x', 'w').write('ok')"))

      with subtest("run_python over stdio (jira-mcp demo) cannot reach 127.0.0.1"):
          out = mcp("run_python", {"code": ALIVE_CODE})
          assert "SANDBOX-ALIVE 42" in out, out
          out = mcp("run_python", {"code": SOCKET_CODE})
          assert "NET-RESULT blocked errno=1" in out, out
          assert "NET-RESULT connected" not in out, out

      with subtest("the HTTP service is up, hardened, and keeps secrets out of its environment"):
          machine.wait_for_unit("jira-mcp.service")
          machine.wait_for_open_port(8808)
          machine.succeed("systemctl show jira-mcp -p DynamicUser | grep -qx DynamicUser=yes")
          machine.succeed("systemctl show jira-mcp -p NoNewPrivileges | grep -qx NoNewPrivileges=yes")
          env = machine.succeed("systemctl show jira-mcp -p Environment")
          assert "test-jira-token" not in env and "${httpToken}" not in env, env
          assert "JIRA_API_TOKEN_FILE=/run/credentials/jira-mcp.service/jira-api-token" in env or "%d/jira-api-token" in env, env
          status = machine.succeed(
              "curl -s -o /dev/null -w '%{http_code}' -X POST"
              " -H 'Content-Type: application/json'"
              " -H 'Accept: application/json, text/event-stream'"
              " --data '{}' " + HTTP_URL
          )
          assert status.strip() == "401", f"expected 401 without a bearer token, got {status}"
          machine.log(machine.succeed("systemd-analyze security --no-pager jira-mcp.service"))

      with subtest("run_python through the hardened service (docker group, runsc)"):
          out = mcp("run_python", {"code": ALIVE_CODE}, http=True)
          assert "SANDBOX-ALIVE 42" in out, out
          out = mcp("run_python", {"code": SOCKET_CODE}, http=True)
          assert "NET-RESULT blocked errno=1" in out, out
          assert "NET-RESULT connected" not in out, out
    '';
}
