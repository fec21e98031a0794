"""Minimal MCP client for the NixOS VM test (nix/vm-test.nix). Stdlib only.

    mcp-call [--timeout S] TOOL ARGS_JSON -- COMMAND [ARG...]
    mcp-call [--timeout S] --http URL --token-file FILE TOOL ARGS_JSON

Stdio mode spawns COMMAND (e.g. `jira-mcp demo`); HTTP mode talks to the
streamable HTTP transport with a bearer token. Both send initialize,
notifications/initialized and one tools/call, then print the tools/call
JSON-RPC response as one JSON line on stdout.

Exit status: 0 when the response has a "result" (a tool-level error with
isError is still a result: the caller inspects it), 1 on a JSON-RPC error,
2 on a usage or transport failure (timeout, no answer, non-JSON output on the
server's stdout, HTTP error status).
"""

import argparse
import json
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

PROTOCOL_VERSION = "2025-06-18"


class TransportError(Exception):
    pass


def initialize_request():
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "jira-mcp-vm-test", "version": "0.1.0"},
        },
    }


def initialized_notification():
    return {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call_request(tool, arguments):
    return {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


def is_response(msg, want_id):
    return msg.get("id") == want_id and ("result" in msg or "error" in msg)


class StdioSession:
    """JSON-RPC over a child's stdin/stdout, one message per line."""

    def __init__(self, command, deadline):
        self.deadline = deadline
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, msg):
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
        self.proc.stdin.flush()

    def request(self, msg):
        self.send(msg)
        while True:
            remaining = self.deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(remaining, 0))
            except queue.Empty:
                raise TransportError(f"timed out waiting for the answer to id {msg['id']}")
            if line is None:
                try:
                    code = self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    code = "still running"
                raise TransportError(f"server closed stdout before answering id {msg['id']} (exit status {code})")
            text = line.decode(errors="replace").strip()
            if not text:
                continue
            try:
                reply = json.loads(text)
            except ValueError:
                raise TransportError(f"non-JSON line on the server's stdout: {text[:200]!r}")
            if is_response(reply, msg["id"]):
                return reply
            self._answer_server_request(reply)

    def notify(self, msg):
        self.send(msg)

    def _answer_server_request(self, msg):
        if "method" in msg and "id" in msg:
            if msg["method"] == "ping":
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": {}})
            else:
                self.send({
                    "jsonrpc": "2.0",
                    "id": msg["id"],
                    "error": {"code": -32601, "message": "not supported by mcp-call"},
                })

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class HttpSession:
    """Streamable HTTP: one POST per message, JSON or SSE answers."""

    def __init__(self, url, token, deadline):
        self.url = url
        self.token = token
        self.deadline = deadline
        self.session_id = None
        self.protocol_version = None

    def _post(self, msg):
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "Authorization": f"Bearer {self.token}",
        }
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version:
            headers["MCP-Protocol-Version"] = self.protocol_version
        req = urllib.request.Request(
            self.url, data=json.dumps(msg).encode(), headers=headers, method="POST"
        )
        timeout = max(self.deadline - time.monotonic(), 1)
        try:
            return urllib.request.urlopen(req, timeout=timeout)
        except urllib.error.HTTPError as err:
            body = err.read().decode(errors="replace")[:500]
            raise TransportError(f"HTTP {err.code} for {msg.get('method')}: {body}")
        except (urllib.error.URLError, OSError) as err:
            raise TransportError(f"cannot reach {self.url}: {err}")

    def request(self, msg):
        with self._post(msg) as resp:
            self.session_id = resp.headers.get("Mcp-Session-Id") or self.session_id
            ctype = resp.headers.get("Content-Type", "")
            if ctype.startswith("text/event-stream"):
                reply = self._read_sse(resp, msg["id"])
            else:
                reply = json.loads(resp.read().decode())
        if not is_response(reply, msg["id"]):
            raise TransportError(f"unexpected answer to id {msg['id']}: {reply!r}")
        if msg["method"] == "initialize" and "result" in reply:
            self.protocol_version = reply["result"].get("protocolVersion")
        return reply

    def _read_sse(self, resp, want_id):
        data = []
        for raw in resp:
            line = raw.decode(errors="replace").rstrip("\r\n")
            if line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
                continue
            if line == "" and data:
                payload, data = "\n".join(data), []
                try:
                    msg = json.loads(payload)
                except ValueError:
                    continue
                if is_response(msg, want_id):
                    return msg
        raise TransportError(f"event stream ended without an answer to id {want_id}")

    def notify(self, msg):
        with self._post(msg) as resp:
            resp.read()

    def close(self):
        pass


def parse_args(argv):
    command = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(prog="mcp-call", description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=120.0, help="overall deadline in seconds")
    parser.add_argument("--http", metavar="URL", help="streamable HTTP endpoint instead of a child process")
    parser.add_argument("--token-file", help="file whose first line is the bearer token (HTTP)")
    parser.add_argument("tool")
    parser.add_argument("arguments", help="tool arguments as a JSON object")
    args = parser.parse_args(argv)
    if bool(args.http) == bool(command):
        parser.error("give either --http URL or -- COMMAND...")
    if args.http and not args.token_file:
        parser.error("--http needs --token-file")
    args.command = command
    return args


def main(argv):
    args = parse_args(argv)
    try:
        arguments = json.loads(args.arguments)
    except ValueError as err:
        print(f"mcp-call: ARGS_JSON is not JSON: {err}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.timeout
    try:
        if args.http:
            with open(args.token_file, encoding="utf-8") as f:
                token = next((ln.strip() for ln in f if ln.strip()), "")
            session = HttpSession(args.http, token, deadline)
        else:
            session = StdioSession(args.command, deadline)
    except OSError as err:
        print(f"mcp-call: {err}", file=sys.stderr)
        return 2
    try:
        init = session.request(initialize_request())
        if "error" in init:
            print(json.dumps(init))
            return 1
        session.notify(initialized_notification())
        reply = session.request(call_request(args.tool, arguments))
    except TransportError as err:
        print(f"mcp-call: {err}", file=sys.stderr)
        return 2
    finally:
        session.close()
    print(json.dumps(reply))
    return 0 if "result" in reply else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
