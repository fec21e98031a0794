//! seccomp/run_python.json compiled to a classic BPF program for x86_64, which
//! the E2B launcher installs with `prctl(PR_SET_SECCOMP)` before the code runs.
//!
//! Docker hands the JSON profile to runsc; inside an E2B VM nothing does, so
//! the backend compiles the same allow-list itself. Two differences, both
//! because the VM runs a real Linux kernel rather than gVisor:
//! - `clone3` answers ENOSYS instead of being allowed. Its flags live in
//!   memory a filter cannot read, so allowing it would allow new namespaces;
//!   glibc falls back to `clone(2)`, whose flags are filtered. (The JSON allows
//!   it only because gVisor answers ENOSYS itself: google/gvisor#14688.)
//! - A foreign architecture or the x32 ABI kills the process.
//!
//! Pure code: no IO. Tested with a small BPF interpreter below.

use serde::Deserialize;

/// `AUDIT_ARCH_X86_64` (linux/audit.h).
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// Syscall numbers at or above this are the x32 ABI.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const ENOSYS: u32 = 38;

// Classic BPF opcodes (linux/bpf_common.h).
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const AND_K: u16 = 0x54;
const RET_K: u16 = 0x06;

/// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARGS: u32 = 16;

/// x86_64 numbers of every syscall the profile names (asm/unistd_64.h).
const X86_64: &[(&str, u32)] = &[
    ("accept4", 288),
    ("access", 21),
    ("arch_prctl", 158),
    ("bind", 49),
    ("brk", 12),
    ("chdir", 80),
    ("chmod", 90),
    ("clock_getres", 229),
    ("clock_gettime", 228),
    ("clock_nanosleep", 230),
    ("clone", 56),
    ("clone3", 435),
    ("close", 3),
    ("close_range", 436),
    ("connect", 42),
    ("dup", 32),
    ("dup2", 33),
    ("dup3", 292),
    ("epoll_create1", 291),
    ("epoll_ctl", 233),
    ("epoll_pwait", 281),
    ("epoll_wait", 232),
    ("eventfd2", 290),
    ("exit", 60),
    ("exit_group", 231),
    ("faccessat", 269),
    ("faccessat2", 439),
    ("fchdir", 81),
    ("fchmod", 91),
    ("fchmodat", 268),
    ("fcntl", 72),
    ("fdatasync", 75),
    ("flistxattr", 196),
    ("fstat", 5),
    ("fstatfs", 138),
    ("fsync", 74),
    ("ftruncate", 77),
    ("futex", 202),
    ("futex_waitv", 449),
    ("get_robust_list", 274),
    ("getcwd", 79),
    ("getdents64", 217),
    ("getegid", 108),
    ("geteuid", 107),
    ("getgid", 104),
    ("getgroups", 115),
    ("getpeername", 52),
    ("getpgrp", 111),
    ("getpid", 39),
    ("getppid", 110),
    ("getpriority", 140),
    ("getrandom", 318),
    ("getresgid", 120),
    ("getresuid", 118),
    ("getrlimit", 97),
    ("getrusage", 98),
    ("getsid", 124),
    ("getsockname", 51),
    ("getsockopt", 55),
    ("gettid", 186),
    ("gettimeofday", 96),
    ("getuid", 102),
    ("ioctl", 16),
    ("kill", 62),
    ("link", 86),
    ("linkat", 265),
    ("listen", 50),
    ("listxattr", 194),
    ("llistxattr", 195),
    ("lseek", 8),
    ("lstat", 6),
    ("madvise", 28),
    ("membarrier", 324),
    ("mkdir", 83),
    ("mkdirat", 258),
    ("mmap", 9),
    ("mprotect", 10),
    ("mremap", 25),
    ("munmap", 11),
    ("nanosleep", 35),
    ("newfstatat", 262),
    ("open", 2),
    ("openat", 257),
    ("pipe", 22),
    ("pipe2", 293),
    ("poll", 7),
    ("ppoll", 271),
    ("pread64", 17),
    ("preadv", 295),
    ("prlimit64", 302),
    ("pselect6", 270),
    ("pwrite64", 18),
    ("pwritev", 296),
    ("read", 0),
    ("readlink", 89),
    ("readlinkat", 267),
    ("readv", 19),
    ("recvfrom", 45),
    ("rename", 82),
    ("renameat", 264),
    ("renameat2", 316),
    ("restart_syscall", 219),
    ("rmdir", 84),
    ("rseq", 334),
    ("rt_sigaction", 13),
    ("rt_sigprocmask", 14),
    ("rt_sigreturn", 15),
    ("sched_getaffinity", 204),
    ("sched_yield", 24),
    ("select", 23),
    ("sendto", 44),
    ("set_robust_list", 273),
    ("set_tid_address", 218),
    ("setgid", 106),
    ("setgroups", 116),
    ("setsid", 112),
    ("setsockopt", 54),
    ("setuid", 105),
    ("shutdown", 48),
    ("sigaltstack", 131),
    ("socket", 41),
    ("socketpair", 53),
    ("stat", 4),
    ("statfs", 137),
    ("statx", 332),
    ("sysinfo", 99),
    ("tgkill", 234),
    ("time", 201),
    ("tkill", 200),
    ("umask", 95),
    ("uname", 63),
    ("unlink", 87),
    ("unlinkat", 263),
    ("utimensat", 280),
    ("wait4", 61),
    ("waitid", 247),
    ("write", 1),
    ("writev", 20),
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: String,
    default_errno_ret: u32,
    syscalls: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
struct Rule {
    names: Vec<String>,
    action: String,
    #[serde(default)]
    args: Vec<Arg>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Arg {
    index: u32,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

/// Why a profile cannot be compiled: the launcher is then never run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the seccomp profile cannot be compiled for the E2B sandbox: {0}")]
pub(crate) struct FilterError(String);

/// One `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

const fn stmt(code: u16, k: u32) -> Insn {
    Insn { code, jt: 0, jf: 0, k }
}

const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code, jt, jf, k }
}

/// The instructions that leave the accumulator holding `(arg & mask) == want`
/// as a fall-through (true) or a jump past `deny` (false) — for one 32-bit half.
fn half_check(out: &mut Vec<Insn>, offset: u32, mask: u32, want: u32, deny: u32) {
    out.push(stmt(LD_W_ABS, offset));
    if mask != u32::MAX {
        out.push(stmt(AND_K, mask));
    }
    out.push(jump(JEQ_K, want, 1, 0));
    out.push(stmt(RET_K, deny));
}

/// Compiles the profile's JSON to BPF for x86_64: `sock_filter` records, 8 bytes each.
pub(crate) fn compile(profile_json: &str) -> Result<Vec<u8>, FilterError> {
    let profile: Profile =
        serde_json::from_str(profile_json).map_err(|e| FilterError(format!("it is not a seccomp profile ({e})")))?;
    if profile.default_action != "SCMP_ACT_ERRNO" {
        return Err(FilterError(format!("default action {} is not SCMP_ACT_ERRNO", profile.default_action)));
    }
    let deny = SECCOMP_RET_ERRNO | (profile.default_errno_ret & 0xffff);
    let mut prog = vec![
        stmt(LD_W_ABS, ARCH),
        jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(RET_K, SECCOMP_RET_KILL_PROCESS),
        stmt(LD_W_ABS, NR),
        jump(JGE_K, X32_SYSCALL_BIT, 0, 1),
        stmt(RET_K, SECCOMP_RET_KILL_PROCESS),
    ];
    for rule in &profile.syscalls {
        if rule.action != "SCMP_ACT_ALLOW" {
            return Err(FilterError(format!("action {} is not supported", rule.action)));
        }
        for name in &rule.names {
            let nr = X86_64
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, nr)| *nr)
                .ok_or_else(|| FilterError(format!("syscall {name} has no x86_64 number here")))?;
            // clone3's flags are in memory: see the module comment.
            let (verdict, args) = if name == "clone3" {
                (SECCOMP_RET_ERRNO | ENOSYS, &[][..])
            } else {
                (SECCOMP_RET_ALLOW, &rule.args[..])
            };
            let mut body = Vec::new();
            for arg in args {
                if arg.index > 5 {
                    return Err(FilterError(format!("{name}: argument index {} out of range", arg.index)));
                }
                let (mask, want) = match arg.op.as_str() {
                    "SCMP_CMP_EQ" => (u64::MAX, arg.value),
                    "SCMP_CMP_MASKED_EQ" => (arg.value, arg.value_two),
                    other => return Err(FilterError(format!("{name}: comparison {other} is not supported"))),
                };
                let offset = ARGS + 8 * arg.index;
                // Little endian: the low half first, then the high half.
                half_check(&mut body, offset, mask as u32, want as u32, deny);
                half_check(&mut body, offset + 4, (mask >> 32) as u32, (want >> 32) as u32, deny);
            }
            body.push(stmt(RET_K, verdict));
            // The rule's block restores the syscall number for the next comparison only by
            // returning: every path through `body` ends in a RET.
            let skip = u8::try_from(body.len()).map_err(|_| FilterError(format!("{name}: rule too long")))?;
            prog.push(jump(JEQ_K, nr, 0, skip));
            prog.extend(body);
        }
    }
    prog.push(stmt(RET_K, deny));
    if prog.len() > 4096 {
        return Err(FilterError(format!("{} instructions exceed the kernel's 4096", prog.len())));
    }
    Ok(prog
        .iter()
        .flat_map(|i| {
            let mut b = Vec::with_capacity(8);
            b.extend_from_slice(&i.code.to_le_bytes());
            b.push(i.jt);
            b.push(i.jf);
            b.extend_from_slice(&i.k.to_le_bytes());
            b
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = include_str!("../../../seccomp/run_python.json");

    /// Runs the compiled filter the way the kernel would, for one call.
    fn verdict(prog: &[u8], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut data = Vec::new();
        data.extend_from_slice(&nr.to_le_bytes());
        data.extend_from_slice(&arch.to_le_bytes());
        data.extend_from_slice(&0u64.to_le_bytes());
        for a in args {
            data.extend_from_slice(&a.to_le_bytes());
        }
        let insns: Vec<Insn> = prog
            .chunks(8)
            .map(|c| Insn {
                code: u16::from_le_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = insns[pc];
            pc += 1;
            match i.code {
                LD_W_ABS => {
                    let o = i.k as usize;
                    acc = u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
                }
                AND_K => acc &= i.k,
                JEQ_K => pc += usize::from(if acc == i.k { i.jt } else { i.jf }),
                JGE_K => pc += usize::from(if acc >= i.k { i.jt } else { i.jf }),
                RET_K => return i.k,
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    fn nr(name: &str) -> u32 {
        X86_64.iter().find(|(n, _)| *n == name).unwrap().1
    }

    const EPERM: u32 = SECCOMP_RET_ERRNO | 1;

    #[test]
    fn the_profile_compiles_and_decides_as_the_json_says() {
        let prog = compile(PROFILE).unwrap();
        let call = |name: &str, a0: u64| verdict(&prog, AUDIT_ARCH_X86_64, nr(name), [a0, 0, 0, 0, 0, 0]);
        assert_eq!(call("read", 0), SECCOMP_RET_ALLOW);
        assert_eq!(call("write", 1), SECCOMP_RET_ALLOW);
        // socket: AF_UNIX only.
        assert_eq!(call("socket", 1), SECCOMP_RET_ALLOW, "AF_UNIX");
        assert_eq!(call("socket", 2), EPERM, "AF_INET");
        assert_eq!(call("socket", 10), EPERM, "AF_INET6");
        assert_eq!(call("socket", 1 | (1 << 32)), EPERM, "the high half counts too");
        // clone: threads and fork, no namespaces.
        assert_eq!(call("clone", 0x003d_0f00), SECCOMP_RET_ALLOW, "pthread_create's flags");
        assert_eq!(call("clone", 0x1000_0000 | 0x11), EPERM, "CLONE_NEWUSER");
        assert_eq!(call("clone", 0x0002_0000), EPERM, "CLONE_NEWNS");
        assert_eq!(call("clone3", 0), SECCOMP_RET_ERRNO | ENOSYS, "glibc falls back to clone");
    }

    #[test]
    fn what_the_profile_leaves_out_is_denied_and_foreign_abis_are_killed() {
        let prog = compile(PROFILE).unwrap();
        // Not in the profile (x86_64 numbers): execve 59, execveat 322, unshare 272, mount 165,
        // ptrace 101, setuid 105, prctl 157.
        for nr in [59, 322, 272, 165, 101, 105, 157] {
            assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, nr, [0; 6]), EPERM, "syscall {nr}");
        }
        assert_eq!(verdict(&prog, 0x4000_00b7, nr("read"), [0; 6]), SECCOMP_RET_KILL_PROCESS, "aarch64");
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, [0; 6]), SECCOMP_RET_KILL_PROCESS, "x32");
        // Control: the interpreter does allow, so the denials above are the filter's.
        assert_eq!(verdict(&prog, AUDIT_ARCH_X86_64, nr("getpid"), [0; 6]), SECCOMP_RET_ALLOW);
    }

    #[test]
    fn profiles_it_cannot_express_are_refused() {
        let unknown = r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[{"names":["kexec_load"],"action":"SCMP_ACT_ALLOW"}]}"#;
        assert_eq!(
            compile(unknown).unwrap_err().to_string(),
            "the seccomp profile cannot be compiled for the E2B sandbox: syscall kexec_load has no x86_64 number here"
        );
        let permissive = r#"{"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRet":1,"syscalls":[]}"#;
        assert!(compile(permissive).unwrap_err().to_string().contains("is not SCMP_ACT_ERRNO"));
    }
}
