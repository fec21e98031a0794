//! Running untrusted Python: the `Sandbox` trait, its job and outcome types.
//!
//! The backends are [`docker::DockerSandbox`] (Docker + gVisor `runsc`, the
//! default) and [`e2b::E2bSandbox`] (E2B's hosted Firecracker VMs, hardened from
//! inside by a launcher); [`fake::FakeSandbox`] runs nothing and serves the tests
//! of the tool around it. [`for_config`] picks one.
//! Implementations must enforce every limit of a [`Job`] and of
//! [`crate::limits`] (`RUN_*`); callers rely on it. Errors carry facts (what is
//! missing, the fix command); `crate::error` words them for the model.

pub(crate) mod docker;
pub(crate) mod e2b;
#[cfg(test)]
pub(crate) mod fake;
mod slots;

use std::{sync::Arc, time::Duration};

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::{
    fleet::{Fleet, FleetSlots},
    limits::FLEET_SLOT_LEASE_SECS,
};

/// The run_python seccomp profile (seccomp/run_python.json): runsc applies it for
/// Docker, and the E2B backend compiles it to BPF for its launcher.
pub(crate) const SECCOMP_PROFILE: &str = include_str!("../seccomp/run_python.json");

/// Largest stdout or stderr kept from one run; the rest is counted, not kept.
pub(crate) const OUTPUT_CAP: usize = crate::limits::RUN_OUTPUT_BYTES;

/// One piece of code to run.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// Python source, fed on stdin.
    pub(crate) code: String,
    /// Bytes to mount read-only at /data/issues.json.
    pub(crate) data: Option<Vec<u8>>,
    /// Files to mount read-only under /data/attachments/: (safe single name, bytes).
    /// Callers make the names safe; the backend refuses any that is not.
    pub(crate) attachments: Vec<(String, Vec<u8>)>,
    /// Wall-clock limit.
    pub(crate) timeout: Duration,
}

/// Output kept up to [`OUTPUT_CAP`], and how much was dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Capped {
    pub(crate) bytes: Vec<u8>,
    pub(crate) dropped: usize,
}

impl Capped {
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        let room = OUTPUT_CAP.saturating_sub(self.bytes.len());
        let keep = chunk.len().min(room);
        self.bytes.extend_from_slice(chunk.get(..keep).unwrap_or_default());
        self.dropped += chunk.len() - keep;
    }
}

/// What happened to a job.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    /// The process exit code, when it exited.
    pub(crate) exit_code: Option<i64>,
    pub(crate) stdout: Capped,
    pub(crate) stderr: Capped,
    pub(crate) duration: Duration,
    /// Killed by the wall-clock limit.
    pub(crate) timed_out: bool,
    /// Killed for exceeding the memory limit.
    pub(crate) oom_killed: bool,
    /// The sandbox itself died (for example the process limit under runsc).
    pub(crate) aborted: bool,
    /// Time spent waiting for a free sandbox slot before the run started.
    pub(crate) queued: Duration,
}

/// Why code could not be run at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Docker, the runtime, the image or the profile is missing.
    #[error("the sandbox is unavailable: {problem} (fix: {fix})")]
    Unavailable {
        /// What is missing or wrong.
        problem: String,
        /// What fixes it: a command to run or a setting to change.
        fix: String,
    },
    /// The container engine failed while running the job.
    #[error("the sandbox failed while running: {0}")]
    Docker(String),
    /// The hosted sandbox service (E2B) failed while running the job.
    #[error("the hosted sandbox failed while running: {0}")]
    Remote(String),
    /// Too many runs are waiting for a slot.
    #[error("the sandbox is busy: {waiting} run(s) waiting for {slots} slot(s)")]
    Busy { waiting: usize, slots: usize },
    /// The caller cancelled; the run was killed and its container removed.
    #[error("the run was cancelled; its container was killed and removed")]
    Cancelled,
}

/// Runs untrusted Python and returns its output.
pub(crate) trait Sandbox: Send + Sync + std::fmt::Debug {
    /// Runs `job`; `cancel` kills the run early.
    fn run(&self, job: Job, cancel: CancellationToken) -> BoxFuture<'_, Result<Outcome, Error>>;

    /// Removes leftovers of earlier runs (best effort). The default does nothing.
    fn sweep(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// Cancels running jobs and waits (bounded) until their containers are removed.
    fn drain(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The backend `config` selects.
///
/// In a fleet (`fleet`), each run also holds one of the backend's fleet-wide slots.
pub(crate) fn for_config(config: &crate::config::SandboxConfig, fleet: Option<(Fleet, u32)>) -> Arc<dyn Sandbox> {
    let lease = Duration::from_secs(FLEET_SLOT_LEASE_SECS);
    let slots = |name: &str| fleet.map(|(fleet, limit)| FleetSlots::new(fleet, name, limit, lease));
    match &config.backend {
        crate::config::SandboxBackend::Docker => {
            Arc::new(docker::DockerSandbox::new(config.clone()).in_fleet(slots("docker")))
        }
        crate::config::SandboxBackend::E2b(e2b) => Arc::new(e2b::E2bSandbox::new(e2b, config).in_fleet(slots("e2b"))),
    }
}

/// The sandbox checks of `jira-mcp doctor` for the configured backend.
pub(crate) async fn diagnose(config: &crate::config::SandboxConfig) -> Vec<Check> {
    match &config.backend {
        crate::config::SandboxBackend::Docker => docker::diagnose(config).await,
        crate::config::SandboxBackend::E2b(e2b) => e2b::diagnose::diagnose(e2b, config).await,
    }
}

/// One line of `doctor` output.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    /// What was checked.
    pub(crate) name: String,
    /// Whether it passed.
    pub(crate) ok: bool,
    /// What was found, or what to do.
    pub(crate) detail: String,
}

impl Check {
    pub(crate) fn passed(name: &str, detail: String) -> Self {
        Self { name: name.to_owned(), ok: true, detail }
    }

    pub(crate) fn failed(name: &str, detail: String) -> Self {
        Self { name: name.to_owned(), ok: false, detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_output_keeps_the_head_and_counts_the_rest() {
        let mut c = Capped::default();
        c.push(&vec![b'a'; OUTPUT_CAP - 1]);
        c.push(b"bcd");
        assert_eq!(c.bytes.len(), OUTPUT_CAP);
        assert_eq!(c.dropped, 2);
    }
}
