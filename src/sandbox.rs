//! Running untrusted Python: the `Sandbox` trait, its job and outcome types.
//!
//! The one real backend is [`docker::DockerSandbox`] (Docker + gVisor `runsc`).
//! Implementations must enforce every limit of a [`Job`]; callers rely on it.

pub(crate) mod docker;

use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

/// Largest stdout or stderr kept from one run; the rest is counted, not kept.
pub(crate) const OUTPUT_CAP: usize = 64 * 1024;

/// One piece of code to run.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// Python source, fed on stdin.
    pub(crate) code: String,
    /// Bytes to mount read-only at /data/issues.json.
    pub(crate) data: Option<Vec<u8>>,
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

    /// The text, with a visible marker when output was cut.
    pub(crate) fn render(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.dropped > 0 {
            text.push_str(&format!(
                "\n[output truncated: {} more bytes not shown; print less, or summarise in the code]",
                self.dropped
            ));
        }
        text
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
    /// Docker, the runtime, the image or the profile is missing. Names the fix.
    #[error(
        "run_python is unavailable: {problem}. Fix: {fix}. Meanwhile use search_issues or summarize_project, which need no sandbox"
    )]
    Unavailable { problem: String, fix: String },
    /// Docker failed while running the container.
    #[error("run_python failed inside Docker: {0}. Retry once; if it persists, run `jira-mcp doctor`")]
    Docker(String),
    /// Too many runs are waiting for a slot.
    #[error(
        "run_python is busy: {waiting} run(s) are already waiting for the {slots} sandbox slot(s). Retry in a \
         minute, or combine the work into fewer runs"
    )]
    Busy { waiting: usize, slots: usize },
    /// The MCP client cancelled the call; the container was killed and removed.
    #[error("run_python was cancelled; the container was killed and removed")]
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
        assert!(
            c.render().ends_with("[output truncated: 2 more bytes not shown; print less, or summarise in the code]")
        );
    }
}
