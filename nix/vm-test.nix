# checks.<system>.vm: boots a NixOS VM with nixosModules.default and checks
# the deployment end to end:
#   - Docker lists runsc with --network=none and --oci-seccomp;
#   - the Nix-built image is loaded and runs python as 65534 under gVisor,
#     proven from inside the container (the kernel release gVisor reports,
#     with runc's, the host's, as control);
#   - no shell, no network, no subprocesses, no writes outside /tmp;
#   - run_python called over MCP, via `jira-mcp demo` on stdio and via the
#     hardened HTTP service, cannot open a socket at all (socket() fails with
#     EPERM); control: the same code through the server with the test-only
#     permissive profile connects to a listener inside its own sandbox;
#   - run_python with jql reads /data/issues.json, staged by the service
#     under the module's JIRA_MCP_SANDBOX_DATA_DIR (a test-only Jira emulator
#     unit stands in for Jira);
#   - the service is hardened and keeps its secrets out of its environment.
# Every negative assertion goes through a helper that also runs its control
# (negative, absent, differs, blocked, denied); scripts/check-nix checks that
# structurally (scripts/check-vm-script.py).
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
  # The test-only Jira: `jira-mcp emulator` (its demo account and token).
  emulatorPort = "8089";
  # TEST ONLY: run_python.json with every socket family allowed, for the
  # controls of the socket checks.
  permissiveProfile = ../seccomp/permissive-test.json;
  # Test-only; 48 characters.
  httpToken = "vm-test-http-token-0123456789abcdef0123456789abc";
in
testers.runNixOSTest {
  name = "jira-mcp";

  nodes.machine = { config, ... }: {
    imports = [ self.nixosModules.default ];

    virtualisation.memorySize = 2048;
    virtualisation.diskSize = 4096;

    # Test-only secrets; a real host points these at sops-nix/agenix output.
    # The emulator's demo token (src/config/jira.rs: DEMO_TOKEN).
    environment.etc."jira-mcp/jira-api-token".text = "demo-token";
    # The server refuses tokens shorter than 32 characters (exit 2).
    environment.etc."jira-mcp/http-tokens".text = "${httpToken}\n";

    services.jira-mcp = {
      enable = true;
      jiraUrl = "http://127.0.0.1:${emulatorPort}";
      jiraUsername = "demo@example.com";
      jiraTokenFile = "/etc/jira-mcp/jira-api-token";
      http = {
        enable = true;
        address = httpAddress;
        tokenFile = "/etc/jira-mcp/http-tokens";
      };
    };

    # Test only: the built-in Jira emulator on loopback, so jql has issues.
    systemd.services.jira-emulator = {
      description = "Jira emulator for the VM test";
      wantedBy = [ "multi-user.target" ];
      before = [ "jira-mcp.service" ];
      serviceConfig = {
        ExecStart = "${config.services.jira-mcp.package.unwrapped}/bin/jira-mcp emulator --port ${emulatorPort}";
        DynamicUser = true;
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
      PERMISSIVE = "${permissiveProfile}"
      HTTP_URL = "http://${httpAddress}/mcp"
      HTTP_TOKENS = "/etc/jira-mcp/http-tokens"

      # A listener and a connect inside the sandbox itself: with
      # --network=none its own loopback is the only address it could reach.
      # Under the run_python profile socket() fails with EPERM (errno 1);
      # under the permissive profile it connects.
      SOCKET_CODE = "\n".join([
          "import socket",
          "try:",
          "    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
          "    srv.bind(('127.0.0.1', 0))",
          "    srv.listen(1)",
          "    c = socket.create_connection(srv.getsockname(), timeout=3)",
          "except OSError as e:",
          "    print('NET-RESULT blocked errno=%d' % (e.errno or 0))",
          "else:",
          "    print('NET-RESULT connected')",
      ])
      ALIVE_CODE = "print('SANDBOX-ALIVE', 6 * 7)"
      KERNEL_CODE = "import os; print('KERNEL', os.uname().release)"
      DATA_CODE = "\n".join([
          "import json, os",
          "print('DATA', os.path.exists('/data/issues.json'))",
          "if os.path.exists('/data/issues.json'):",
          "    issues = json.load(open('/data/issues.json'))",
          "    print('ISSUES', len(issues), min(i['key'] for i in issues))",
      ])


      # Every negative assertion goes through one of these helpers, each of
      # which also runs its control: the same probe where it must succeed,
      # so the negative could have failed. scripts/check-vm-script.py checks
      # that no negative assertion is made outside them.
      def negative(command, control):
          """command must fail; control, the same probe with one layer removed, must succeed."""
          machine.fail(command)
          machine.succeed(control)


      def absent(needle, haystack, present):
          """needle is not in haystack; present, which the same probe shows, is."""
          assert needle not in haystack, f"{needle!r} found in {haystack!r}"
          assert present in haystack, f"control: {present!r} not in {haystack!r}"


      def differs(value, probe, control):
          """value is not in probe's output but is in control's (the same probe elsewhere)."""
          assert value not in probe, f"{value!r} found in {probe!r}"
          assert value in control, f"control: {value!r} not in {control!r}"


      def blocked(out, control_out):
          """SOCKET_CODE was refused socket(); under the permissive profile it connected."""
          assert "NET-RESULT blocked errno=1" in out, out
          assert "NET-RESULT connected" in control_out, f"control: {control_out}"


      def denied(status, control_status):
          """401 without credentials; with them, not 401."""
          assert status.strip() == "401", f"expected 401 without a bearer token, got {status}"
          assert control_status.strip() != "401", f"control: 401 with the token too ({control_status})"


      def docker_python(code, seccomp=True, runtime="runsc"):
          """The limits the server puts on the code's process (uid 65534, no capabilities), as a
          docker CLI command; the server also starts a root supervisor as PID 1 (docs/sandbox.md)."""
          profile = SECCOMP if seccomp else "unconfined"
          return " ".join([
              "docker run --rm --runtime=" + runtime + " --network=none --read-only",
              "--tmpfs /tmp --cap-drop=ALL --security-opt no-new-privileges",
              "--user 65534:65534 --ulimit nproc=32:32 --pids-limit 512",
              "--memory 256m --security-opt seccomp=" + profile,
              REF, "/usr/bin/python3 -c", shlex.quote(code),
          ])


      def mcp(tool, arguments, http=False, profile=None):
          """One tools/call; returns the JSON-RPC response text."""
          call = shlex.quote(tool) + " " + shlex.quote(json.dumps(arguments))
          if http:
              cmd = "mcp-call --timeout 300 --http " + HTTP_URL
              cmd += " --token-file " + HTTP_TOKENS + " " + call
          else:
              env = "JIRA_MCP_SECCOMP_PROFILE=" + profile + " " if profile else ""
              cmd = env + "mcp-call --timeout 300 " + call + " -- jira-mcp demo"
          return machine.succeed(cmd)


      def curl_status(token_file=None):
          auth = " -H \"Authorization: Bearer $(head -n1 " + token_file + ")\"" if token_file else ""
          return machine.succeed(
              "curl -s -o /dev/null -w '%{http_code}' -X POST"
              " -H 'Content-Type: application/json'"
              " -H 'Accept: application/json, text/event-stream'" + auth +
              " --data '{}' " + HTTP_URL
          )


      start_all()
      machine.wait_for_unit("docker.service")
      machine.wait_for_unit("jira-mcp-sandbox-image.service")
      HOST_KERNEL = machine.succeed("uname -r").strip()

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
          # gVisor, seen from inside: its own kernel release, not the host's.
          # Control: the same probe under runc reports the host's release.
          differs(
              "KERNEL " + HOST_KERNEL,
              machine.succeed(docker_python(KERNEL_CODE)),
              machine.succeed(docker_python(KERNEL_CODE, seccomp=False, runtime="runc")),
          )

      with subtest("no shell, no network, no subprocess, no writes outside /tmp"):
          negative(
              "docker run --rm --runtime=runsc --network=none --entrypoint /bin/sh " + REF + " -c true",
              "docker run --rm --runtime=runsc --network=none --entrypoint /usr/bin/python3 " + REF + " -c pass",
          )
          # Without the profile socket() works, so the first can fail.
          negative(
              docker_python("import socket; socket.socket()"),
              docker_python("import socket; socket.socket()", seccomp=False),
          )
          # python3's closure contains bash (subprocess.py is patched to it),
          # so "no subprocess" rests on the profile denying execve.
          negative(
              docker_python("import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'])"),
              docker_python("import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'])", seccomp=False),
          )
          negative(docker_python("open('/etc/x', 'w')"), docker_python("open('/tmp/x', 'w').write('ok')"))

      with subtest("run_python over stdio (jira-mcp demo): no socket, in gVisor"):
          out = mcp("run_python", {"code": ALIVE_CODE})
          assert "SANDBOX-ALIVE 42" in out, out
          blocked(mcp("run_python", {"code": SOCKET_CODE}), mcp("run_python", {"code": SOCKET_CODE}, profile=PERMISSIVE))
          differs(
              "KERNEL " + HOST_KERNEL,
              mcp("run_python", {"code": KERNEL_CODE}),
              machine.succeed(docker_python(KERNEL_CODE, seccomp=False, runtime="runc")),
          )

      with subtest("the HTTP service is up, hardened, and keeps secrets out of its environment"):
          machine.wait_for_unit("jira-emulator.service")
          machine.wait_for_unit("jira-mcp.service")
          machine.wait_for_open_port(8808)
          machine.succeed("systemctl show jira-mcp -p DynamicUser | grep -qx DynamicUser=yes")
          machine.succeed("systemctl show jira-mcp -p NoNewPrivileges | grep -qx NoNewPrivileges=yes")
          machine.succeed("systemctl show jira-mcp -p RestartPreventExitStatus | grep -Eq '^RestartPreventExitStatus=(.* )?2( |$)'")
          env = machine.succeed("systemctl show jira-mcp -p Environment")
          # The probe shows the environment (JIRA_USERNAME), not the secrets.
          absent("demo-token", env, "JIRA_USERNAME=demo@example.com")
          absent("${httpToken}", env, "JIRA_MCP_HTTP_TOKEN_FILE=")
          denied(curl_status(), curl_status(HTTP_TOKENS))
          machine.log(machine.succeed("systemd-analyze security --no-pager jira-mcp.service"))

      with subtest("run_python through the hardened service (docker group, runsc)"):
          out = mcp("run_python", {"code": ALIVE_CODE}, http=True)
          assert "SANDBOX-ALIVE 42" in out, out
          # The service's profile is the module's; the control runs the same
          # code through the same server binary with the permissive profile.
          blocked(
              mcp("run_python", {"code": SOCKET_CODE}, http=True),
              mcp("run_python", {"code": SOCKET_CODE}, profile=PERMISSIVE),
          )
          differs(
              "KERNEL " + HOST_KERNEL,
              mcp("run_python", {"code": KERNEL_CODE}, http=True),
              machine.succeed(docker_python(KERNEL_CODE, seccomp=False, runtime="runc")),
          )

      with subtest("jql: the service stages issues under JIRA_MCP_SANDBOX_DATA_DIR for /data/issues.json"):
          env = machine.succeed("systemctl show jira-mcp -p Environment")
          assert "JIRA_MCP_SANDBOX_DATA_DIR=/run/jira-mcp" in env, env
          out = mcp("run_python", {"code": DATA_CODE, "jql": "project = DEMO"}, http=True)
          assert "/data/issues.json" in out and "DATA True" in out, out
          assert "ISSUES " in out and "DEMO-1" in out, out
          # Without jql nothing is mounted at /data/issues.json.
          out = mcp("run_python", {"code": DATA_CODE}, http=True)
          assert "DATA False" in out, out
    '';
}
