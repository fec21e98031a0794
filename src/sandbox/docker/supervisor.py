# PID 1 of every run_python container (issue 10, finding 3): a limit that holds
# even if the server dies outright.
#
# Runs as root with only CAP_SETUID and CAP_SETGID, no-new-privileges and the
# run_python seccomp profile, started as `python3 -I -S -c <this> DEADLINE UID`.
# It forks; the child drops to UID (groups, gid, uid: its capabilities are
# cleared by the kernel) and runs the code from stdin the way `python3 -I -`
# would. The parent waits for the child until DEADLINE seconds have passed and
# then exits: when PID 1 of a pid namespace exits, everything in it dies and
# the container stops. The child cannot signal or trace the parent (another
# uid, no CAP_KILL, ptrace denied by seccomp), so no user code can keep a
# container alive. The parent exits with the child's code, or 128 + signal.
# Verified under runsc: seccomp/VERIFIED.md.
import os
import select
import signal
import sys
import time

# The parent's exit code when the deadline passed (the server normally kills
# the container first and reports a timeout), and the child's when it could
# not drop its privileges (the code is then never run).
DEADLINE_EXIT = 124
DROP_FAILED_EXIT = 125


def run_user_code(uid):
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    except OSError as e:
        print(f"sandbox supervisor: cannot drop to uid {uid}: {e}", file=sys.stderr)
        os._exit(DROP_FAILED_EXIT)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid) or os.getgroups():
        print(f"sandbox supervisor: still privileged after dropping to uid {uid}", file=sys.stderr)
        os._exit(DROP_FAILED_EXIT)
    import builtins
    import site
    import types

    site.main()
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    sys.argv = ["-"]
    try:
        code = compile(sys.stdin.buffer.read(), "<stdin>", "exec")
    except SyntaxError as e:
        report(e.with_traceback(None))
    try:
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except BaseException as e:
        # Leave this frame out: the traceback starts in <stdin>, as with `python3 -`.
        report(e.with_traceback(e.__traceback__.tb_next if e.__traceback__ else None))


def report(e):
    """Prints an uncaught exception as the interpreter would, and exits 1."""
    sys.excepthook(type(e), e, e.__traceback__)
    sys.exit(1)


def supervise(child, deadline, wake):
    poller = select.poll()
    poller.register(wake, select.POLLIN)
    while True:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                # No child left without its status seen: cannot happen.
                os._exit(1)
            if pid == 0:
                break
            if pid == child:
                if os.WIFSIGNALED(status):
                    os._exit(128 + os.WTERMSIG(status))
                os._exit(os.waitstatus_to_exitcode(status))
        left = deadline - time.monotonic()
        if left <= 0:
            os._exit(DEADLINE_EXIT)
        poller.poll(max(1, int(left * 1000)))
        try:
            os.read(wake, 4096)
        except BlockingIOError:
            pass


def start():
    deadline = time.monotonic() + float(sys.argv[1])
    uid = int(sys.argv[2])
    # SIGCHLD wakes the parent's poll through the wakeup pipe; installed before
    # the fork so an early exit is not missed.
    wake, wake_w = os.pipe()
    os.set_blocking(wake, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    # A full pipe (a flood of orphans' SIGCHLDs) is not worth a line on stderr:
    # one byte already wakes the parent.
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    child = os.fork()
    if child == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(wake)
        os.close(wake_w)
        run_user_code(uid)
    else:
        supervise(child, deadline, wake)


start()
