# jira-mcp's hardening launcher for an E2B sandbox (a Firecracker VM).
#
# The backend uploads this file, run.json and the code to /root/jira-mcp/ and
# starts it as root (sudo -n). A VM from E2B starts writable, with a default user
# that has sudo and with the network on; everything run_python promises comes
# from here and from the creation options. Every step is checked; any step that
# fails makes the launcher refuse (exit 121, "refused" in report.json) BEFORE
# the code runs, never run it weaker.
#
# Steps, each against a threat:
#  1. a private mount namespace for the child that runs the code, so the steps
#     below cannot disturb envd or this parent, which keeps a writable view;
#  2. /tmp and /dev/shm: fresh small noexec tmpfs (a disk-filling or exec-from-tmp run);
#  3. every other mount read-only, checked afterwards in mountinfo (tampering with
#     the VM's files, /data included, and planting files for a later step);
#  4. /data owned by root, files 0444 (the code rewriting its own input);
#  5. limits: address space 512 MiB, nproc, nofile, fsize, no core (memory and fork bombs);
#  6. in the child only: no capability bounding set, no groups, uid/gid 65534
#     (sudo, root, the default user's files), no_new_privs (setuid binaries such
#     as sudo stop working), then the seccomp filter compiled from
#     seccomp/run_python.json (no sockets but AF_UNIX, no exec, no namespaces);
#  7. the code runs in that child; the parent (root, outside the filter) waits,
#     kills whatever the code left running, and writes report.json, which only
#     root can write, so the code cannot forge the verdict.
import base64
import ctypes
import json
import os
import resource
import signal
import sys
import traceback

HERE = "/root/jira-mcp"
REPORT = HERE + "/report.json"
REFUSED = 121

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
CLONE_NEWNS = 0x00020000
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 24, 22, 2
# Mounts that stay writable: the fresh tmpfs below; proc's files guard themselves.
WRITABLE = ("/tmp", "/dev/shm")


def report(**fields):
    tmp = REPORT + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, json.dumps(fields).encode())
    os.close(fd)
    os.rename(tmp, REPORT)


def refuse(what):
    try:
        report(refused=what)
    finally:
        sys.stderr.write("jira-mcp launcher: refusing to run the code: %s\n" % what)
        sys.stderr.flush()
        os._exit(REFUSED)


libc = ctypes.CDLL(None, use_errno=True)


class Refusal(Exception):
    """A hardening step failed in the child: reported to the parent, the code never runs."""


def call(what, result):
    if result != 0:
        raise Refusal("%s failed (%s)" % (what, os.strerror(ctypes.get_errno())))


def mount(src, target, fstype, flags, data):
    enc = lambda s: s.encode() if s is not None else None
    return libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))


def mounts():
    """(mount point, per-mount options) from mountinfo, in mount order."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            point = parts[4].encode().decode("unicode_escape")
            out.append((point, parts[5].split(",")))
    return out


def under(point, root):
    return point == root or point.startswith(root.rstrip("/") + "/")


def secure_data():
    """In the parent: /data belongs to root and is read-only to everyone."""
    if os.path.isdir("/data"):
        for root, dirs, files in os.walk("/data"):
            os.chown(root, 0, 0)
            os.chmod(root, 0o755)
            for name in files:
                path = os.path.join(root, name)
                if os.path.islink(path):
                    refuse("a symbolic link under /data")
                os.chown(path, 0, 0)
                os.chmod(path, 0o444)


def harden_filesystem(cfg):
    """In the child: its own mount namespace, read-only but for a small /tmp and /dev/shm."""
    call("unshare(CLONE_NEWNS)", libc.unshare(CLONE_NEWNS))
    call("making / private", mount(None, "/", None, MS_REC | MS_PRIVATE, None))
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    call("mounting /tmp", mount("tmpfs", "/tmp", "tmpfs", flags, "size=%dm,mode=1777" % cfg["tmp_mib"]))
    os.makedirs("/dev/shm", exist_ok=True)
    call("mounting /dev/shm", mount("tmpfs", "/dev/shm", "tmpfs", flags, "size=%dm,mode=1777" % cfg["shm_mib"]))
    for point, opts in mounts():
        if any(under(point, w) for w in WRITABLE) or under(point, "/proc") or "ro" in opts:
            continue
        keep = MS_RDONLY | MS_REMOUNT | MS_BIND
        keep |= MS_NOSUID if "nosuid" in opts else 0
        keep |= MS_NODEV if "nodev" in opts else 0
        keep |= MS_NOEXEC if "noexec" in opts else 0
        call("remounting %s read-only" % point, mount(None, point, None, keep, None))
    for point, opts in mounts():
        writable = any(under(point, w) for w in WRITABLE) or under(point, "/proc")
        if not writable and "ro" not in opts:
            raise Refusal("%s is still writable after the read-only remount" % point)
    if not os.statvfs("/").f_flag & os.ST_RDONLY:
        raise Refusal("/ is still writable after the read-only remount")


def set_limits(cfg):
    for name, value in (
        ("RLIMIT_AS", cfg["memory_bytes"]),
        ("RLIMIT_NPROC", cfg["nproc"]),
        ("RLIMIT_NOFILE", cfg["nofile"]),
        ("RLIMIT_FSIZE", cfg["fsize_bytes"]),
        ("RLIMIT_CORE", 0),
    ):
        resource.setrlimit(getattr(resource, name), (value, value))
        if resource.getrlimit(getattr(resource, name)) != (value, value):
            raise Refusal("%s did not take" % name)


def oom_kills():
    try:
        with open("/proc/vmstat") as f:
            for line in f:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def drop_privileges(cfg):
    """In the child: everything after this runs as the unprivileged uid under the filter."""
    def fail(what):
        raise Refusal("%s failed (%s)" % (what, os.strerror(ctypes.get_errno())))

    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:
            fail("dropping capability %d" % cap)
    uid = cfg["uid"]
    try:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    except OSError as e:
        raise Refusal("dropping to uid %d failed (%s)" % (uid, e))
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid) or os.getgroups():
        fail("the uid did not change")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        fail("no_new_privs")
    program = base64.b64decode(cfg["filter"])
    buf = ctypes.create_string_buffer(program, len(program))

    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = Fprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        fail("installing the seccomp filter")


def child(cfg, code, errors):
    try:
        harden_filesystem(cfg)
        set_limits(cfg)
        drop_privileges(cfg)
    except Exception as e:
        reason = str(e) if isinstance(e, Refusal) else "%s: %s" % (type(e).__name__, e)
        os.write(errors, reason.encode())
        os._exit(REFUSED)
    os.close(errors)
    os.chdir("/tmp")
    os.umask(0o022)
    os.environ.clear()
    os.environ.update(HOME="/tmp", LANG="C.UTF-8", PYTHONDONTWRITEBYTECODE="1")
    sys.argv = ["-"]
    status = 0
    try:
        exec(compile(code, "<stdin>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, int) and e.code is not None:
            sys.stderr.write("%s\n" % e.code)
    except MemoryError:
        # The address-space limit stopped it: reported as the memory kill it is.
        sys.stderr.write("MemoryError: the 512 MiB memory limit was reached\n")
        status = 137
    except BaseException:
        # Without this launcher's own frame, as `python3 -` would print it.
        kind, value, tb = sys.exc_info()
        traceback.print_exception(kind, value, tb.tb_next if tb else None)
        status = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(status & 0xFF)


def kill_leftovers(uid):
    """Kills every process of the code's uid (forked children outliving the code)."""
    for _ in range(50):
        found = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                if os.stat("/proc/" + pid).st_uid == uid:
                    os.kill(int(pid), signal.SIGKILL)
                    found = True
            except OSError:
                pass
        if not found:
            return


def main():
    if os.geteuid() != 0:
        refuse("the launcher is not root: the template's default user needs passwordless sudo")
    if os.uname().machine != "x86_64":
        refuse("the seccomp filter is built for x86_64, not %s" % os.uname().machine)
    with open(HERE + "/run.json") as f:
        cfg = json.load(f)
    with open(HERE + "/main.py", "rb") as f:
        code = f.read()
    secure_data()
    before = oom_kills()
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.closerange(3, write_end)
        os.closerange(write_end + 1, 65536)
        child(cfg, code, write_end)
    os.close(write_end)
    failure = b""
    while True:
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        failure += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    kill_leftovers(cfg["uid"])
    if failure:
        refuse(failure.decode(errors="replace"))
    if os.WIFSIGNALED(status):
        exit_code = 128 + os.WTERMSIG(status)
    else:
        exit_code = os.WEXITSTATUS(status)
    oom = oom_kills() > before or exit_code == 137
    report(exit_code=exit_code, oom_killed=oom)
    os._exit(exit_code)


main()
