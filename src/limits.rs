//! Every limit the server promises to a model or an operator, written once.
//!
//! Schemas (`#[schemars(range(..))]`), runtime checks, configuration ranges and
//! the texts the model reads (tool descriptions, instructions, errors) all use
//! these constants, so a number can never say one thing and do another.
//! A leaf module: it imports nothing from the crate.

use std::fmt;

/// An inclusive range of accepted values with the value used when none is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Smallest accepted value.
    pub(crate) min: u32,
    /// Largest accepted value.
    pub(crate) max: u32,
    /// The value used when the caller gives none.
    pub(crate) default: u32,
}

impl Bounds {
    /// Whether `value` is accepted.
    pub(crate) const fn contains(self, value: u32) -> bool {
        self.min <= value && value <= self.max
    }
}

/// `min-max`, the form every message uses ("page_size must be 1-50").
impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

/// Issues per `search_issues` page.
pub(crate) const PAGE_SIZE: Bounds = Bounds { min: 1, max: 50, default: 20 };
/// Issues `summarize_project` scans.
pub(crate) const SCAN_ISSUES: Bounds = Bounds { min: 1, max: 1000, default: 500 };
/// Days without an update after which an open issue counts as stale.
pub(crate) const STALE_DAYS: Bounds = Bounds { min: 1, max: 365, default: 14 };
/// Characters of description `get_issue` shows.
pub(crate) const DESCRIPTION_CHARS: Bounds = Bounds { min: 100, max: 50_000, default: 4000 };
/// Newest comments `get_issue` shows.
pub(crate) const COMMENTS: Bounds = Bounds { min: 0, max: 50, default: 15 };
/// Largest page asked of Jira when a tool scans many issues (Jira's own maximum with fields).
pub(crate) const JIRA_SCAN_PAGE: u32 = 100;

/// Wall-clock seconds of one `run_python` run; the default is the configured cap.
pub(crate) const RUN_TIMEOUT_SECS: Bounds = Bounds { min: 1, max: 30, default: 30 };
/// Seconds past a run's wall-clock limit after which the container stops by
/// itself (its PID 1 supervisor exits), even if the server has died.
pub(crate) const RUN_SELF_STOP_GRACE_SECS: u32 = 3;
/// Memory of one run, in MiB, without swap.
pub(crate) const RUN_MEMORY_MIB: u32 = 512;
/// CPUs of one run.
pub(crate) const RUN_CPUS: u32 = 1;
/// The writable, noexec `/tmp` of one run, in MiB.
pub(crate) const RUN_TMP_MIB: u32 = 64;
/// The writable, noexec `/dev/shm` of one run, in MiB.
pub(crate) const RUN_SHM_MIB: u32 = 16;
/// Processes (and threads) the code of one run may have at once (RLIMIT_NPROC).
pub(crate) const RUN_NPROC: u32 = 32;
/// Open files of one run (RLIMIT_NOFILE).
pub(crate) const RUN_NOFILE: u32 = 256;
/// Largest file one run may write, in MiB (RLIMIT_FSIZE; /tmp caps the total anyway).
pub(crate) const RUN_FILE_MIB: u32 = 64;
/// The unprivileged uid (and gid) code runs as: `nobody`.
pub(crate) const RUN_UID: u32 = 65534;
/// Seconds a hosted (E2B) sandbox may outlive the run's wall-clock limit before E2B
/// itself kills it: time to create it, upload the data and start the launcher. The
/// backend kills it as soon as the run ends; this only bounds a crash.
pub(crate) const RUN_REMOTE_GRACE_SECS: u32 = 30;
/// Bytes of stdout (and, separately, stderr) kept from one run; the rest is counted.
pub(crate) const RUN_OUTPUT_BYTES: usize = 64 * 1024;
/// Issues written to `/data/issues.json` for one run.
pub(crate) const RUN_DATA_ISSUES: u32 = 1000;
/// Runs at once (`JIRA_MCP_SANDBOX_CONCURRENCY`).
pub(crate) const RUN_CONCURRENCY: Bounds = Bounds { min: 1, max: 16, default: 2 };

/// Largest attachment `get_attachment` downloads, in MiB (checked against Jira's
/// listed size first, then while streaming).
pub(crate) const ATTACHMENT_READ_MIB: u64 = 20;
/// Longest side, in pixels, of an image `get_attachment` returns (Anthropic's
/// recommended maximum; larger ones are downscaled by the client anyway).
pub(crate) const IMAGE_MAX_EDGE: u32 = 1568;
/// Most pixels of an image `get_attachment` returns (about 1,600 image tokens at
/// Anthropic's width x height / 750).
pub(crate) const IMAGE_MAX_PIXELS: u32 = 1_150_000;
/// Most bytes of an encoded image `get_attachment` returns.
pub(crate) const IMAGE_MAX_BYTES: usize = 1024 * 1024;
/// Characters of a text attachment `get_attachment` shows.
pub(crate) const ATTACHMENT_CHARS: Bounds = Bounds { min: 1000, max: 100_000, default: 20_000 };
/// Largest file `add_attachment` uploads, in MiB (after base64 decoding).
pub(crate) const UPLOAD_MIB: u64 = 10;
/// Files `run_python` puts under /data/attachments, at most.
pub(crate) const RUN_ATTACHMENTS: usize = 20;
/// Total size of the files under /data/attachments of one run, in MiB.
pub(crate) const RUN_ATTACHMENTS_MIB: u64 = 50;

/// The defaults of the caps an operator may tune (`JIRA_MCP_DESCRIPTION_CHARS`,
/// `JIRA_MCP_COMMENTS`, `JIRA_MCP_PAGE_SIZE`, `JIRA_MCP_ATTACHMENT_CHARS`), each
/// within its [`Bounds`]; `jira-mcp budget report` recommends values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunables {
    /// get_issue's `description_max_chars` default ([`DESCRIPTION_CHARS`]).
    pub description_chars: u32,
    /// get_issue's `max_comments` default ([`COMMENTS`]).
    pub comments: u32,
    /// search_issues' `page_size` default ([`PAGE_SIZE`]).
    pub page_size: u32,
    /// get_attachment's `max_chars` default ([`ATTACHMENT_CHARS`]).
    pub attachment_chars: u32,
}

impl Default for Tunables {
    fn default() -> Self {
        Self {
            description_chars: DESCRIPTION_CHARS.default,
            comments: COMMENTS.default,
            page_size: PAGE_SIZE.default,
            attachment_chars: ATTACHMENT_CHARS.default,
        }
    }
}

static TUNED: std::sync::OnceLock<Tunables> = std::sync::OnceLock::new();

/// Sets the process's tunable defaults, once, before the tools are built (their
/// schemas state the defaults). A second call changes nothing and returns false.
pub fn install(tunables: Tunables) -> bool {
    TUNED.set(tunables).is_ok()
}

/// The process's tunable defaults ([`Tunables::default`] unless [`install`]ed).
pub(crate) fn tuned() -> Tunables {
    TUNED.get().copied().unwrap_or_default()
}

/// How long a tool call cancelled at the end of an HTTP drain may take to clean up
/// (run_python kills and removes its sandbox) before its caller gets the error anyway.
pub(crate) const DRAINED_CALL_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Minutes a delete preview's confirm token stays valid.
pub(crate) const CONFIRM_TTL_MINUTES: u64 = 5;
/// Shortest `JIRA_MCP_CONFIRM_KEY`, in bytes (HMAC-SHA256's block of security).
pub(crate) const CONFIRM_KEY_MIN_BYTES: usize = 32;

/// Replicas of a fleet (`JIRA_MCP_FLEET_REPLICAS`): the divisor of the local fallback rate.
pub(crate) const FLEET_REPLICAS: Bounds = Bounds { min: 1, max: 1000, default: 1 };
/// Fleet-wide run_python slots per backend (`JIRA_MCP_SANDBOX_FLEET_CONCURRENCY`); its default is
/// computed (per-process slots x replicas), so `default` here is unused.
pub(crate) const FLEET_SANDBOX_CONCURRENCY: Bounds = Bounds { min: 1, max: 10_000, default: 0 };
/// Longest one Redis operation may take before the caller falls back to local state.
pub(crate) const REDIS_TIMEOUT_MS: u64 = 250;
/// How often an unreachable Redis is tried again.
pub(crate) const REDIS_PROBE_SECS: u64 = 3;
/// Lifetime of a fleet sandbox slot's lease; renewed every third of it while the run lasts,
/// so a dead replica's slots come free within it.
pub(crate) const FLEET_SLOT_LEASE_SECS: u64 = 15;
/// How often a run waiting for a fleet-wide slot asks again.
pub(crate) const FLEET_SLOT_POLL_MS: u64 = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_print_as_a_range_and_hold_their_default() {
        assert_eq!(PAGE_SIZE.to_string(), "1-50");
        for b in [
            PAGE_SIZE,
            SCAN_ISSUES,
            STALE_DAYS,
            DESCRIPTION_CHARS,
            COMMENTS,
            RUN_TIMEOUT_SECS,
            RUN_CONCURRENCY,
            ATTACHMENT_CHARS,
        ] {
            assert!(b.contains(b.default), "{b}: default {} outside", b.default);
            assert!(!b.contains(b.max + 1));
        }
        assert!(!DESCRIPTION_CHARS.contains(99));
    }
}
