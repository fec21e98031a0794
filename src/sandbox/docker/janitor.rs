//! Who owns a sandbox container, and the janitor that removes those a crashed
//! server left behind, never the running containers of another jira-mcp that
//! may be alive. "Cannot tell" counts as alive: under systemd's
//! `ProtectProc=invisible` other users' /proc entries are hidden, so age is
//! the rule that needs no view of other processes.

use std::{
    collections::HashMap,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bollard::{
    Docker,
    errors::Error as DockerError,
    query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder},
};
use nix::{errno::Errno, sys::signal::kill, unistd::Pid};

use crate::limits::RUN_TIMEOUT_SECS;

/// Label on every sandbox container; the janitor removes what carries it.
pub(super) const LABEL: &str = "io.github.jira-mcp.sandbox";
/// Label naming the server process that owns a container (`pid:start time`), so a
/// janitor never removes the running containers of another live jira-mcp.
pub(super) const OWNER_LABEL: &str = "io.github.jira-mcp.owner";

/// `pid:start-time` of a process, from /proc; `None` when it does not exist.
/// The start time makes a recycled pid look like the different process it is.
fn process_identity(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22 (starttime); fields after the ")" of the command name start at field 3.
    let start = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
    Some(format!("{pid}:{start}"))
}

/// This process's pid namespace (the inode of /proc/self/ns/pid): a pid
/// from another namespace (a jira-mcp in a container) means nothing here.
fn pid_namespace() -> Option<String> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some(link.to_str()?.strip_prefix("pid:[")?.strip_suffix(']')?.to_owned())
}

/// This process's owner label value: `pid:start-time:pid-namespace`.
pub(super) fn my_identity() -> String {
    let pid = std::process::id();
    let id = process_identity(pid).unwrap_or_else(|| format!("{pid}:?"));
    match pid_namespace() {
        Some(ns) => format!("{id}:{ns}"),
        None => id,
    }
}

/// Longest a sandbox container can legitimately exist: the largest run
/// timeout plus a grace period for creating, starting, collecting output and
/// removing it (gVisor's start and a busy dockerd take seconds, not minutes).
/// A labelled container older than this is a leftover whoever owns it.
pub(super) const MAX_AGE: Duration = Duration::from_secs(RUN_TIMEOUT_SECS.max as u64 + 300);

/// What can be told about the process an owner label names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Liveness {
    /// The same process (pid and start time) is running.
    Alive,
    /// No process has that pid, or one with another start time does.
    Dead,
    /// It cannot be told: the pid exists but its /proc entry is hidden
    /// (systemd's `ProtectProc=invisible`, `hidepid`), or the label is not
    /// one this code wrote.
    Unknown,
}

/// Liveness of the owner `pid:start-time[:pid-namespace]` (labels of older
/// versions have no namespace: taken as ours). An owner in another pid
/// namespace cannot be told. `identity` reads /proc (it answers `None` for a
/// hidden process as for a missing one); `kill(pid, 0)`, which /proc's
/// visibility does not affect, tells "no such process" (ESRCH) from "exists"
/// (success or EPERM).
fn liveness(owner: &str, identity: impl Fn(u32) -> Option<String>) -> Liveness {
    let mut parts = owner.splitn(3, ':');
    let (Some(pid), Some(start)) = (parts.next(), parts.next()) else { return Liveness::Unknown };
    if let Some(ns) = parts.next()
        && pid_namespace().as_deref() != Some(ns)
    {
        return Liveness::Unknown;
    }
    let Ok(pid) = pid.parse::<u32>() else { return Liveness::Unknown };
    let Ok(raw) = i32::try_from(pid) else { return Liveness::Unknown };
    if raw <= 0 {
        return Liveness::Unknown;
    }
    match identity(pid) {
        Some(seen) if start != "?" => {
            if seen == format!("{pid}:{start}") {
                Liveness::Alive
            } else {
                Liveness::Dead
            }
        }
        _ => match kill(Pid::from_raw(raw), None) {
            Err(Errno::ESRCH) => Liveness::Dead,
            Ok(()) | Err(_) => Liveness::Unknown,
        },
    }
}

/// Whether a labelled container is a crashed server's leftover. Too old:
/// yes, whoever owns it (no run outlives [`MAX_AGE`]). Otherwise only when
/// its owner is provably gone; ours, a live owner's, an owner that cannot be
/// seen, and one without an owner label are kept (a later start removes them
/// once they are too old).
fn is_leftover(age: Option<Duration>, owner: Option<&str>, me: &str, liveness: impl Fn(&str) -> Liveness) -> bool {
    if age.is_some_and(|age| age > MAX_AGE) {
        return true;
    }
    match owner {
        Some(owner) if owner != me => liveness(owner) == Liveness::Dead,
        _ => false,
    }
}

/// How long ago a container was created (Docker's Unix seconds); `None` when
/// unknown or in the future.
fn age(created: Option<i64>, now: SystemTime) -> Option<Duration> {
    let created = UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(created?).ok()?))?;
    now.duration_since(created).ok()
}

pub(super) async fn force_remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    match docker.remove_container(id, Some(options)).await {
        Ok(()) | Err(DockerError::DockerResponseServerError { status_code: 404 | 409, .. }) => {}
        Err(e) => tracing::warn!("cannot remove sandbox container {id}: {e}"),
    }
}

/// Removes sandbox containers left by a crashed server ([`is_leftover`]):
/// never those of this process or of another jira-mcp that may be alive
/// (whose runs are in flight), always those older than [`MAX_AGE`].
pub(super) async fn janitor(docker: &Docker, me: &str) -> Result<usize, DockerError> {
    let filters = HashMap::from([("label", vec![LABEL])]);
    let list = docker
        .list_containers(Some(ListContainersOptionsBuilder::default().all(true).filters(&filters).build()))
        .await?;
    let now = SystemTime::now();
    let mut removed = 0;
    for c in &list {
        let owner = c.labels.as_ref().and_then(|l| l.get(OWNER_LABEL)).map(String::as_str);
        if !is_leftover(age(c.created, now), owner, me, |o| liveness(o, process_identity)) {
            continue;
        }
        if let Some(id) = c.id.as_deref() {
            force_remove(docker, id).await;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::disallowed_methods, reason = "a test spawns and reaps a child to get a dead pid")]

    use super::*;

    const ME: &str = "100:5000";
    const OTHER: &str = "200:6000";
    const YOUNG: Option<Duration> = Some(Duration::from_secs(5));

    fn old() -> Option<Duration> {
        Some(MAX_AGE + Duration::from_secs(1))
    }

    fn always(answer: Liveness) -> impl Fn(&str) -> Liveness {
        move |_| answer
    }

    #[test]
    fn an_owner_that_cannot_be_seen_keeps_its_container() {
        assert!(!is_leftover(YOUNG, Some(OTHER), ME, always(Liveness::Unknown)));
        assert!(!is_leftover(None, Some(OTHER), ME, always(Liveness::Unknown)));
        // Control: the same container is removed once its owner is provably gone.
        assert!(is_leftover(YOUNG, Some(OTHER), ME, always(Liveness::Dead)));
    }

    #[test]
    fn a_live_owner_keeps_its_container_and_so_do_we() {
        assert!(!is_leftover(YOUNG, Some(OTHER), ME, always(Liveness::Alive)));
        assert!(!is_leftover(YOUNG, Some(ME), ME, always(Liveness::Dead)), "our own is never probed");
        assert!(!is_leftover(YOUNG, None, ME, always(Liveness::Dead)), "no owner label: cannot tell");
    }

    #[test]
    fn a_container_older_than_any_run_is_removed_whatever_its_owner() {
        for owner in [Some(OTHER), Some(ME), None] {
            for seen in [Liveness::Alive, Liveness::Unknown, Liveness::Dead] {
                assert!(is_leftover(old(), owner, ME, always(seen)), "{owner:?} {seen:?}");
            }
        }
        // Control: at exactly the limit it is still a possible run.
        assert!(!is_leftover(Some(MAX_AGE), Some(OTHER), ME, always(Liveness::Alive)));
        assert!(MAX_AGE >= Duration::from_secs(u64::from(RUN_TIMEOUT_SECS.max)), "{MAX_AGE:?}");
    }

    #[test]
    fn age_comes_from_dockers_created_seconds() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(age(Some(400), now), Some(Duration::from_secs(600)));
        assert_eq!(age(Some(2_000), now), None, "created in the future");
        assert_eq!(age(Some(-1), now), None);
        assert_eq!(age(None, now), None);
    }

    /// A pid that no process has any more: a child, spawned and reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn liveness_of_real_processes_through_proc() {
        let me = my_identity();
        assert_eq!(liveness(&me, process_identity), Liveness::Alive);
        let [pid, start, ns] = me.splitn(3, ':').collect::<Vec<_>>()[..] else { panic!("{me}") };
        assert_eq!(liveness(&format!("{pid}:{start}1:{ns}"), process_identity), Liveness::Dead, "recycled pid");
        assert_eq!(liveness(&format!("{pid}:{start}"), process_identity), Liveness::Alive, "a label without namespace");
        assert_eq!(liveness(&format!("{}:1", dead_pid()), process_identity), Liveness::Dead);
        assert_eq!(liveness("garbage", process_identity), Liveness::Unknown);
        assert_eq!(liveness("0:1", process_identity), Liveness::Unknown);
    }

    #[test]
    fn an_owner_in_another_pid_namespace_is_unknown_not_dead() {
        let ns = pid_namespace().unwrap();
        assert!(my_identity().ends_with(&format!(":{ns}")), "{}", my_identity());
        let dead = dead_pid();
        // A pid from a container's namespace says nothing about ours.
        assert_eq!(liveness(&format!("{dead}:1:1"), process_identity), Liveness::Unknown);
        // Control: the same dead pid in our namespace is told as dead, and we are alive.
        assert_eq!(liveness(&format!("{dead}:1:{ns}"), process_identity), Liveness::Dead);
        assert_eq!(liveness(&my_identity(), process_identity), Liveness::Alive);
    }

    #[test]
    fn a_process_hidden_from_proc_is_unknown_not_dead() {
        // ProtectProc=invisible: /proc answers as if the pid did not exist.
        let hidden = |_: u32| None;
        assert_eq!(liveness(&my_identity(), hidden), Liveness::Unknown, "alive but invisible");
        // Control: a pid that really is gone is still told apart.
        assert_eq!(liveness(&format!("{}:1", dead_pid()), hidden), Liveness::Dead);
    }
}
