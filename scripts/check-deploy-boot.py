"""Boot check: start the real binary with the arguments, environment and secret files that a
rendered Deployment gives its container, and prove it accepts them and stops in time.

  check-deploy-boot.py RENDERED.yaml BINARY      (scripts/check-deploy --bin runs it)

No cluster, so it stands in where it must:
- each Secret item is a file under a private copy of its mount path, with a stand-in value
  per Secret key (a key without one fails: a new Secret needs a stand-in here);
- emptyDir mounts are fresh directories; paths in the environment under any mount are
  rewritten to the copies; $(VAR) references are expanded as the kubelet does, with
  status.podIP = 127.0.0.1;
- the Jira site and account become the built-in emulator's, the listen address a free
  loopback port; every other variable is the manifest's.

It then requires: /healthz answers 200; POST /mcp without a token gets 401; initialize with
the token file's token succeeds with Host set to the manifest's public host name, and a
foreign Host gets 403 (so JIRA_MCP_HTTP_ALLOWED_HOSTS is read as intended); no stand-in
secret appears in the server's output; after SIGTERM the process exits with status 0 within
terminationGracePeriodSeconds, and, when the binary serves /readyz, /readyz turns 503 first.
"""

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

# What the emulator accepts (src/config/jira.rs DEMO_EMAIL, DEMO_TOKEN).
DEMO_EMAIL = "demo@example.com"
DEMO_TOKEN = "demo-token"
STARTUP_SECS = 30


def fail(message):
    sys.exit(f"boot: {message}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stand_ins():
    """A value per Secret key; the Redis URL points at a closed port (the fallback path)."""
    return {
        "api-token": DEMO_TOKEN,
        "tokens": f"boot-check:all:{secrets.token_hex(32)}\n",
        "key": secrets.token_hex(32),
        "url": f"redis://127.0.0.1:{free_port()}/0",
        "api-key": f"e2b_{secrets.token_hex(20)}",
    }


def mounts(pod, container, root, values):
    """Creates each mounted volume under root; returns {mountPath: local path}."""
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    local = {}
    for m in container.get("volumeMounts") or []:
        path = os.path.join(root, m["mountPath"].lstrip("/"))
        os.makedirs(path, mode=0o700)
        volume = volumes[m["name"]]
        sources = [s["secret"] for s in (volume.get("projected") or {}).get("sources") or [] if "secret" in s]
        if "secret" in volume:
            sources.append({"name": volume["secret"]["secretName"], "items": volume["secret"].get("items")})
        for secret in sources:
            for item in secret.get("items") or fail(f"Secret {secret['name']}: list its items"):
                if item["key"] not in values:
                    fail(f"no stand-in for key {item['key']!r} of Secret {secret['name']}")
                with open(os.path.join(path, item["path"]), "w", encoding="utf-8") as f:
                    f.write(values[item["key"]])
        if not sources and "emptyDir" not in volume:
            fail(f"volume {m['name']}: only Secrets, projected Secrets and emptyDirs have stand-ins")
        local[m["mountPath"].rstrip("/")] = path
    return local


def environment(docs, container, local):
    config = {cm["metadata"]["name"]: cm.get("data") or {} for cm in docs if cm.get("kind") == "ConfigMap"}
    env = {}
    for src in container.get("envFrom") or []:
        env.update(config[src["configMapRef"]["name"]])
    for var in container.get("env") or []:
        if "valueFrom" in var:
            if var["valueFrom"].get("fieldRef", {}).get("fieldPath") != "status.podIP":
                fail(f"{var['name']}: no stand-in for {var['valueFrom']}")
            env[var["name"]] = "127.0.0.1"
        else:
            env[var["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), var["value"])
    for name, value in env.items():
        for mount, path in local.items():
            if value == mount or value.startswith(mount + "/"):
                env[name] = path + value[len(mount):]
    return env


def request(port, method, path, host=None, token=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if host:
        headers["Host"] = host
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def wait_for(port, path, proc, what, log, answered=lambda status: status == 200):
    deadline = time.monotonic() + STARTUP_SECS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"{what} exited with status {proc.returncode}:\n{read(log).strip()}")
        try:
            if answered(request(port, "GET", path)[0]):
                return
        except OSError:
            pass
        time.sleep(0.1)
    fail(f"{what}: nothing answered GET {path} on port {port} within {STARTUP_SECS} s")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def drain(proc, port, grace, serves_readyz):
    """SIGTERM: /readyz must turn 503 (when served), the process exit 0 within the grace period."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    saw_503 = False
    while serves_readyz and not saw_503 and proc.poll() is None and time.monotonic() - started < 2:
        try:
            saw_503 = request(port, "GET", "/readyz")[0] == 503
        except OSError:
            break
        time.sleep(0.05)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail(f"still running {grace} s after SIGTERM: the kubelet would SIGKILL it mid-drain")
    took = time.monotonic() - started
    if proc.returncode != 0:
        fail(f"exited with status {proc.returncode} after SIGTERM")
    if serves_readyz and not saw_503:
        fail("/readyz did not answer 503 after SIGTERM before the listener stopped")
    return took


def main(argv):
    if len(argv) != 2:
        fail("usage: check-deploy-boot.py RENDERED.yaml BINARY")
    with open(argv[0], encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    binary = os.path.abspath(argv[1])
    deploy = next(d for d in docs if d.get("kind") == "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    container = pod["containers"][0]
    grace = int(pod.get("terminationGracePeriodSeconds", 30))
    values = stand_ins()
    with tempfile.TemporaryDirectory() as root:
        env = environment(docs, container, mounts(pod, container, root, values))
        public_host = env.get("JIRA_MCP_HTTP_ALLOWED_HOSTS", "").split(",")[0]
        emu_port, port = free_port(), free_port()
        env.update(
            JIRA_URL=f"http://127.0.0.1:{emu_port}",
            JIRA_USERNAME=DEMO_EMAIL,
            JIRA_MCP_HTTP_ADDR=f"127.0.0.1:{port}",
            HOME=root,
            PATH="/usr/bin:/bin",
        )
        emu_log, log = os.path.join(root, "emulator.log"), os.path.join(root, "server.log")
        with open(emu_log, "w") as out:
            emulator = subprocess.Popen([binary, "emulator", "--port", str(emu_port)], stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=out)
        proc = None
        try:
            wait_for(emu_port, "/", emulator, "the emulator", emu_log, answered=lambda status: True)
            with open(log, "w") as out:
                proc = subprocess.Popen([binary, *container.get("args", [])], env=env, stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=out)
            wait_for(port, "/healthz", proc, "the server", log)
            init = json.dumps({
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "check-deploy-boot", "version": "0"}},
            })
            token = values["tokens"].split(":")[-1].strip()
            status, text = request(port, "POST", "/mcp", body=init)
            if status != 401:
                fail(f"POST /mcp without a token answered {status}, not 401: {text[:200]}")
            status, text = request(port, "POST", "/mcp", host=public_host, token=token, body=init)
            if status != 200 or '"serverInfo"' not in text:
                fail(f"initialize with Host {public_host} and the token file's token answered {status}: {text[:300]}")
            status, _ = request(port, "POST", "/mcp", host="foreign.example", token=token, body=init)
            if status != 403:
                fail(f"a foreign Host got {status}, not 403")
            serves_readyz = request(port, "GET", "/readyz")[0] == 200
            took = drain(proc, port, grace, serves_readyz)
            output = read(log)
            leaked = [k for k, v in values.items() if k != "url" and v.strip() and v.strip().split(":")[-1] in output]
            if leaked:
                fail(f"the server's output contains the stand-in secrets of {leaked}")
            readyz = "/readyz 503 on SIGTERM" if serves_readyz else "no /readyz in this binary (not checked)"
            print(f"boot: accepted: /healthz 200, 401 without a token, initialize via Host {public_host}, "
                  f"foreign Host 403; {readyz}; exit 0 {took:.1f} s after SIGTERM (grace {grace} s)")
        finally:
            for p in (proc, emulator):
                if p is not None and p.poll() is None:
                    p.kill()
                    p.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
