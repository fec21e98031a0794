#!/usr/bin/env python3
"""Offline behaviour test of the `nix run` launcher (nix/wrapper-script.nix).

    scripts/check-wrapper.py

Renders the launcher with bare `nix-instantiate` and stub store paths, adds
the header writeShellApplication adds (bash, errexit, nounset, pipefail),
then runs it against a fake `docker` and a fake server that reports its
arguments and environment. Checks that stdout carries nothing but the
server's output (it is the MCP channel), that the image is loaded only when
missing, that the one load command is printed when Docker is unusable (one
line, nothing streamed, when the socket is not accessible), that the docker
CLI is pinned to the daemon the server reaches (DOCKER_HOST when unix://,
else /var/run/docker.sock; never a CLI context), and that environment
overrides win. Runs `bash -n`, and shellcheck when it is
installed. Exit status 0 when every case passes.
"""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
IMAGE_REF = "jira-mcp-sandbox:0123456789abcdef0123456789abcdef"
HEADER = "#!/usr/bin/env bash\nset -o errexit\nset -o nounset\nset -o pipefail\n"

FAKE_SERVER = """#!/usr/bin/env python3
import json, os, sys
keys = ["JIRA_MCP_SANDBOX_IMAGE", "JIRA_MCP_IMAGE_SOURCE",
        "JIRA_MCP_SECCOMP_PROFILE", "JIRA_MCP_SANDBOX_RUNTIME"]
print(json.dumps({"argv": sys.argv[1:], "env": {k: os.environ.get(k) for k in keys}}))
"""

# Logs every call; `image inspect` succeeds when $FAKE_IMAGE_PRESENT=1;
# `load` reads the stream and prints to stdout like the real CLI, or fails
# when $FAKE_LOAD_FAILS=1.
FAKE_DOCKER = """#!/usr/bin/env bash
echo "docker $*" >> "$FAKE_DOCKER_LOG"
echo "${DOCKER_HOST-<unset>} ${DOCKER_CONTEXT-<unset>}" >> "$FAKE_DOCKER_LOG.env"
case "$1 ${2:-}" in
  "image inspect") [ "${FAKE_IMAGE_PRESENT:-0}" = 1 ] ;;
  "load ")
    cat > /dev/null
    if [ "${FAKE_LOAD_FAILS:-0}" = 1 ]; then
      echo "permission denied while trying to connect to the Docker daemon socket" >&2
      exit 1
    fi
    echo "Loaded image: IMAGE" ;;
  *) exit 2 ;;
esac
"""

FAKE_STREAM = """#!/usr/bin/env bash
echo "streaming image" >&2
printf 'TARBALL'
"""


def render(tmp):
    paths = {
        "server": str(tmp / "server"),
        "imageRef": IMAGE_REF,
        "imageStream": str(tmp / "stream"),
        "seccompProfile": str(tmp / "run_python.json"),
    }
    args = []
    for key, value in paths.items():
        args += ["--argstr", key, value]
    expr = "{ ... }@args: import " + str(ROOT / "nix/wrapper-script.nix") + " args"
    proc = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", *args, "-E", expr],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"check-wrapper: cannot render nix/wrapper-script.nix:\n{proc.stderr}")
    out = proc.stdout
    script = tmp / "jira-mcp"
    script.write_text(HEADER + json.loads(out))
    script.chmod(0o755)
    return script, paths


def write_exe(path, text):
    path.write_text(text)
    path.chmod(0o755)


class Case:
    def __init__(self, tmp, script, paths):
        self.tmp, self.script, self.paths = tmp, script, paths
        self.log = tmp / "docker.log"
        self.env_log = tmp / "docker.log.env"
        self.bin_with_docker = tmp / "bin-docker"
        self.bin_without_docker = tmp / "bin-nodocker"
        for d in (self.bin_with_docker, self.bin_without_docker):
            d.mkdir()
        write_exe(self.bin_with_docker / "docker", FAKE_DOCKER)
        # A real unix socket stands in for dockerd's (the launcher checks it).
        self.socket_path = tmp / "docker.sock"
        self.socket = socket.socket(socket.AF_UNIX)
        self.socket.bind(str(self.socket_path))
        # Only what the launcher and the fakes need, never the host's docker.
        for tool in ("bash", "cat", "python3", "env"):
            found = shutil.which(tool)
            for d in (self.bin_with_docker, self.bin_without_docker):
                os.symlink(found, d / tool)

    def run(self, argv=(), docker=True, **env):
        for log in (self.log, self.env_log):
            if log.exists():
                log.unlink()
        environ = {
            "PATH": str(self.bin_with_docker if docker else self.bin_without_docker),
            "FAKE_DOCKER_LOG": str(self.log),
            "HOME": str(self.tmp),
            "DOCKER_HOST": f"unix://{self.socket_path}",
        }
        environ.update(env)
        proc = subprocess.run([str(self.script), *argv], env=environ, capture_output=True, text=True, timeout=30)
        calls = self.log.read_text().splitlines() if self.log.exists() else []
        if proc.returncode != 0:
            raise AssertionError(f"launcher exited {proc.returncode}: {proc.stderr}")
        lines = proc.stdout.splitlines()
        if len(lines) != 1:
            raise AssertionError(f"stdout must hold only the server's one line, got {proc.stdout!r}")
        return json.loads(lines[0]), proc.stderr, calls


def cases(c, p):
    load_cmd = f"{p['imageStream']} | DOCKER_HOST=unix://{c.socket_path} docker load"

    def docker_env():
        return c.env_log.read_text().splitlines() if c.env_log.exists() else []

    def image_present():
        out, err, calls = c.run(["demo"], FAKE_IMAGE_PRESENT="1")
        assert out["argv"] == ["demo"], out
        assert out["env"] == {
            "JIRA_MCP_SANDBOX_IMAGE": IMAGE_REF,
            "JIRA_MCP_IMAGE_SOURCE": "nix",
            "JIRA_MCP_SECCOMP_PROFILE": p["seccompProfile"],
            "JIRA_MCP_SANDBOX_RUNTIME": "runsc",
        }, out
        assert calls == [f"docker image inspect {IMAGE_REF}"], calls
        assert err == "", err

    def image_missing_is_loaded():
        out, err, calls = c.run(["serve", "--http", "127.0.0.1:8808"])
        assert out["argv"] == ["serve", "--http", "127.0.0.1:8808"], out
        assert calls == [f"docker image inspect {IMAGE_REF}", "docker load"], calls
        assert "Loaded image" in err and f"loaded {IMAGE_REF}" in err, err

    def load_failure_prints_the_command():
        out, err, calls = c.run([], FAKE_LOAD_FAILS="1")
        assert out["env"]["JIRA_MCP_SANDBOX_IMAGE"] == IMAGE_REF, out
        assert calls[-1] == "docker load", calls
        assert f"load it with: {load_cmd}" in err, err

    def no_docker_cli_prints_the_command():
        out, err, calls = c.run(["doctor"], docker=False)
        assert out["argv"] == ["doctor"] and calls == [], (out, calls)
        assert "docker CLI not found" in err and f"load the image with: {load_cmd}" in err, err

    def other_image_is_left_alone():
        out, err, calls = c.run(["demo"], JIRA_MCP_SANDBOX_IMAGE="jira-mcp-sandbox:0.1.0")
        assert calls == [] and err == "", (calls, err)
        assert out["env"]["JIRA_MCP_SANDBOX_IMAGE"] == "jira-mcp-sandbox:0.1.0", out
        assert out["env"]["JIRA_MCP_IMAGE_SOURCE"] is None, out

    def overrides_win():
        out, _, _ = c.run(
            [], FAKE_IMAGE_PRESENT="1", JIRA_MCP_SECCOMP_PROFILE="/etc/p.json",
            JIRA_MCP_SANDBOX_RUNTIME="runsc-debug", JIRA_MCP_IMAGE_SOURCE="custom",
        )
        assert out["env"]["JIRA_MCP_SECCOMP_PROFILE"] == "/etc/p.json", out
        assert out["env"]["JIRA_MCP_SANDBOX_RUNTIME"] == "runsc-debug", out
        assert out["env"]["JIRA_MCP_IMAGE_SOURCE"] == "custom", out

    def help_touches_no_docker():
        out, err, calls = c.run(["--help"])
        assert out["argv"] == ["--help"] and calls == [] and err == "", (out, calls, err)

    def arguments_are_passed_verbatim():
        argv = ["demo", "two words", "", "$HOME", "*"]
        out, _, _ = c.run(argv, FAKE_IMAGE_PRESENT="1")
        assert out["argv"] == argv, out

    def inaccessible_socket_is_one_line_and_no_stream():
        absent = c.tmp / "absent.sock"
        out, err, calls = c.run(["demo"], DOCKER_HOST=f"unix://{absent}")
        assert out["argv"] == ["demo"], out
        assert calls == [], f"nothing may reach docker: {calls}"
        assert "streaming image" not in err, err
        lines = err.splitlines()
        assert len(lines) == 1 and f"cannot use the Docker socket {absent}" in lines[0], err
        assert f"{p['imageStream']} | DOCKER_HOST=unix://{absent} docker load" in lines[0], err

    def cli_reaches_the_servers_daemon_not_a_context():
        c.run(["demo"], DOCKER_CONTEXT="elsewhere")
        seen = docker_env()
        assert seen and all(e == f"unix://{c.socket_path} <unset>" for e in seen), seen

    def tcp_docker_host_is_ignored_as_the_server_ignores_it():
        out, err, calls = c.run(["demo"], DOCKER_HOST="tcp://127.0.0.1:2375")
        if calls:
            assert all(e.startswith("unix:///var/run/docker.sock ") for e in docker_env()), docker_env()
        else:
            assert "cannot use the Docker socket /var/run/docker.sock" in err, err

    return [image_present, image_missing_is_loaded, load_failure_prints_the_command,
            no_docker_cli_prints_the_command, other_image_is_left_alone, overrides_win,
            help_touches_no_docker, arguments_are_passed_verbatim,
            inaccessible_socket_is_one_line_and_no_stream, cli_reaches_the_servers_daemon_not_a_context,
            tcp_docker_host_is_ignored_as_the_server_ignores_it]


def main():
    passed = failed = 0
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        script, paths = render(tmp)
        write_exe(tmp / "server", FAKE_SERVER)
        write_exe(tmp / "stream", FAKE_STREAM)
        (tmp / "run_python.json").write_text("{}")

        static = [["bash", "-n", str(script)]]
        if shutil.which("shellcheck"):
            static.append(["shellcheck", "--shell=bash", str(script)])
        else:
            print("check-wrapper: shellcheck not installed, skipped", file=sys.stderr)
        for cmd in static:
            proc = subprocess.run(cmd, capture_output=True, text=True)
            name = cmd[0] + (" -n" if cmd[0] == "bash" else "")
            if proc.returncode == 0:
                passed += 1
            else:
                failed += 1
                print(f"check-wrapper: FAIL {name}:\n{proc.stdout}{proc.stderr}", file=sys.stderr)

        c = Case(tmp, script, paths)
        for case in cases(c, paths):
            try:
                case()
                passed += 1
            except AssertionError as err:
                failed += 1
                print(f"check-wrapper: FAIL {case.__name__}: {err}", file=sys.stderr)
    print(f"wrapper checks: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
