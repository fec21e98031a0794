"""The task mix of the simulated week, shared by scripts/simulate-week and
scripts/compare-peer: what each kind of agent session does with jira-mcp's
tools, and the emulator they run against."""

from __future__ import annotations

import random
import re
import socket
import subprocess
import sys
import time

from mcp_session import Session

TASKS = [("triage", 20), ("standup", 20), ("investigate", 30), ("duplicates", 15), ("sprint", 5), ("write", 10)]
AREAS = ["login", "checkout", "search", "reports", "billing", "notifications", "sync", "export", "admin", "API"]
# How often a model needs a detail of an issue's description or comments, and wants more than one page.
# The detail is equally likely anywhere in the text, so a cut that hides a share h of it is followed up
# with probability FOLLOW × h (the model `jira-mcp budget report` prices caps with).
FOLLOW = {"description": 0.7, "comments": 0.6, "page": 0.5}
TRUNCATED = re.compile(r"\[description truncated: showing (\d+) of (\d+) characters")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """One session doing one task the way a model would."""

    def __init__(self, session: Session, rng: random.Random) -> None:
        self.s = session
        self.rng = rng
        self.followups = 0
        self.calls = 0

    def call(self, tool: str, args: dict) -> str:
        self.calls += 1
        result, _, _ = self.s.tool(tool, args)
        return "\n".join(c.get("text", "") for c in result["content"] if c["type"] == "text")

    def keys(self, text: str) -> list[str]:
        return [line.split(" | ", 1)[0] for line in text.splitlines() if " | " in line and "-" in line.split(" | ", 1)[0]]

    def page_through(self, args: dict, want: int) -> list[str]:
        text = self.call("search_issues", args)
        seen = self.keys(text)
        while "MORE AVAILABLE" in text and len(seen) < want:
            cursor = text.rsplit('cursor="', 1)[1].rstrip('"')
            self.followups += 1
            text = self.call("search_issues", {**args, "cursor": cursor})
            seen += self.keys(text)
        return seen

    def read_issue(self, key: str) -> None:
        text = self.call("get_issue", {"key": key})
        more: dict = {}
        cut = TRUNCATED.search(text)
        if cut and self.rng.random() < FOLLOW["description"] * (1 - int(cut[1]) / int(cut[2])):
            more["description_max_chars"] = 50000
        marker = "## Comments ("
        if marker in text:
            shown, total = (int(n) for n in text.split(marker, 1)[1].split(",", 1)[0].split(" of "))
            if total > shown and self.rng.random() < FOLLOW["comments"] * (1 - shown / total):
                more["max_comments"] = 50
        if more:
            self.followups += 1
            self.call("get_issue", {"key": key, **more})

    def run(self, task: str) -> None:
        area = self.rng.choice(AREAS)
        if task == "triage":
            self.call("summarize_project", {"project": "DEMO"})
            self.page_through({"project": "DEMO", "status": "To Do", "assignee": "none"}, self.rng.choice([10, 20, 40, 60]))
        elif task == "standup":
            found = self.page_through({"jql": "project = DEMO AND updated >= -1d ORDER BY updated DESC"}, 20)
            for key in found[:2]:
                self.read_issue(key)
        elif task == "investigate":
            found = self.keys(self.call("search_issues", {"text": area, "page_size": 10}))
            for key in self.rng.sample(found, min(2, len(found))):
                self.read_issue(key)
        elif task == "duplicates":
            want = 40 if self.rng.random() < FOLLOW["page"] else 10
            self.page_through({"text": area, "project": "DEMO"}, want)
        elif task == "sprint":
            self.call("summarize_project", {"project": "DEMO", "sprint": "active"})
        elif task == "write":
            created = self.call("create_issue", {"project": "DEMO", "issue_type": "Task", "summary": f"Follow up on {area}"})
            key = next(w for w in created.replace(".", " ").split() if w.startswith("DEMO-"))
            self.call("update_issue", {"key": key, "priority": "High", "add_labels": [area.lower()]})
            self.call("add_comment", {"key": key, "body": f"Checked the {area} dashboards; details to follow."})


class Emulator:
    """`jira-mcp emulator --issues N` on a free loopback port, fresh for each week (the writes reset)."""

    def __init__(self, args) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([args.bin, "emulator", "--port", str(port), "--issues", str(args.issues)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.close()
                    sys.exit("the emulator did not start")
                time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()
