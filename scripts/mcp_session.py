"""A minimal MCP client over stdio for the benchmark scripts: one session with
`jira-mcp demo` (or any command), requests timed from write to response line."""

from __future__ import annotations

import json
import subprocess
import sys
import time


class Session:
    def __init__(self, binary: str, env: dict[str, str] | None = None, command: list[str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [binary, *(command or ["demo"])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.next_id = 0
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict) -> tuple[dict, int, float]:
        self.next_id += 1
        started = time.perf_counter()
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        elapsed = time.perf_counter() - started
        reply = json.loads(line)
        if "error" in reply or reply.get("result", {}).get("isError"):
            sys.exit(f"{method} failed: {line[:500]!r}")
        return reply["result"], len(line), elapsed

    def tool(self, name: str, args: dict) -> tuple[dict, int, float]:
        return self.request("tools/call", {"name": name, "arguments": args})

    def close(self) -> None:
        """Closes stdin like a client that quits (the server flushes and exits); kills after 10 s."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]
