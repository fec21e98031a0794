#!/usr/bin/env python3
"""Service configuration dry run: start the real binary as systemd would start
jira-mcp.service, outside systemd, and prove it accepts its configuration.

    nix-instantiate --eval --strict --json nix/tests/vm-service.nix > unit.json
    python3 scripts/check-service.py unit.json target/debug/jira-mcp

unit.json is the unit the NixOS module renders for the VM test's settings
(nix/tests/vm-service.nix). From it this script takes ExecStart, the
environment and LoadCredential, and stands in for systemd where it must:

- LoadCredential: each source file's text (the VM test's files under /etc)
  is copied into a private credentials directory, and %d in the environment
  becomes that directory (systemd's $CREDENTIALS_DIRECTORY);
- RuntimeDirectory: /run/<name> in the environment becomes a fresh directory;
- store paths: the unwrapped server becomes BINARY, the seccomp profile the
  repository's seccomp/run_python.json (the store holds a copy of it);
- the environment is exactly the unit's, plus PATH (systemd sets one).

It then requires: the process stays up, GET /healthz answers 200, a POST to
/mcp without a token gets 401 (control: the server does check tokens), and an
MCP initialize with the first token from the credential file succeeds. A
configuration error (exit status 2) fails with the server's own message and
says whether the unit would crash-loop (RestartPreventExitStatus lacks 2).

Run it in a private network namespace (scripts/check-nix does): the unit's
port is then free whatever the host runs.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

STORE = "/nix/store/"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(message):
    sys.exit(f"check-service: {message}")


def render(unit, binary, work):
    """The command line and environment systemd would start, with stand-ins."""
    sc = unit["service"]["serviceConfig"]
    env = dict(unit["service"]["environment"])
    creds = os.path.join(work, "credentials")
    os.makedirs(creds, mode=0o700)
    for entry in sc.get("LoadCredential", []):
        name, _, source = entry.partition(":")
        if source not in unit["etc"]:
            fail(f"LoadCredential {entry!r}: the VM test provides no file {source}")
        with open(os.path.join(creds, name), "w") as f:
            f.write(unit["etc"][source])
    runtime = sc.get("RuntimeDirectory")
    for key, value in env.items():
        value = value.replace("%d", creds)
        if runtime and value.startswith(f"/run/{runtime}"):
            value = os.path.join(work, "run", runtime) + value[len(f"/run/{runtime}"):]
            os.makedirs(os.path.join(work, "run", runtime), mode=int(sc.get("RuntimeDirectoryMode", "0755"), 8),
                        exist_ok=True)
        if key == "JIRA_MCP_SECCOMP_PROFILE" and value.startswith(STORE):
            value = os.path.join(ROOT, "seccomp", "run_python.json")
        env[key] = value
    env["PATH"] = "/usr/bin:/bin"
    argv = shlex.split(sc["ExecStart"])
    if not argv[0].startswith(STORE) or not argv[0].endswith("/bin/jira-mcp"):
        fail(f"ExecStart does not start the server from the store: {sc['ExecStart']}")
    return [binary] + argv[1:], env, creds


def http(method, url, token=None, body=None):
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    if len(sys.argv) != 3:
        fail("usage: check-service.py UNIT.json BINARY")
    unit = json.load(open(sys.argv[1]))
    binary = sys.argv[2]
    if unit["failedAssertions"]:
        fail(f"the module's assertions fail: {unit['failedAssertions']}")
    sc = unit["service"]["serviceConfig"]
    with tempfile.TemporaryDirectory() as work:
        argv, env, creds = render(unit, binary, work)
        print("ExecStart:", " ".join(argv))
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            address = env["JIRA_MCP_HTTP_ADDR"]
            base = f"http://{address}"
            deadline = time.monotonic() + 15
            while True:
                if proc.poll() is not None:
                    _, err = proc.communicate()
                    code = proc.returncode
                    loop = ""
                    if code == 2 and 2 not in sc.get("RestartPreventExitStatus", []):
                        loop = f"; with Restart={sc.get('Restart')} and no RestartPreventExitStatus=2 " \
                               "the unit would crash-loop"
                    fail(f"the server exited with status {code}{loop}:\n{err.strip()}")
                try:
                    status, _ = http("GET", base + "/healthz")
                    if status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    fail(f"nothing answered on {base}/healthz within 15 s")
                time.sleep(0.1)
            init = json.dumps({
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "check-service", "version": "0"}},
            }).encode()
            status, text = http("POST", base + "/mcp", body=init)
            if status != 401:
                fail(f"POST /mcp without a token answered {status}, not 401: {text[:200]}")
            token = open(os.path.join(creds, "http-tokens")).read().split()[0]
            status, text = http("POST", base + "/mcp", token=token, body=init)
            if status != 200 or '"serverInfo"' not in text:
                fail(f"initialize with the unit's token answered {status}: {text[:300]}")
            print(f"the server accepted the unit's configuration: {base}/healthz 200, "
                  "401 without a token, initialize with the credential's token")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    if 2 not in sc.get("RestartPreventExitStatus", []):
        fail("RestartPreventExitStatus lacks 2: a configuration error would crash-loop (Restart=on-failure)")
    if "32" not in unit["tokenFileDescription"]:
        fail("services.jira-mcp.http.tokenFile's description does not say the minimum length (32)")


if __name__ == "__main__":
    main()
