//! E2B backend: each run in a fresh hosted sandbox (a Firecracker VM), reached
//! over E2B's published API with reqwest (E2B has no Rust SDK).
//!
//! Every run: `POST /sandboxes` with internet access off (checked back with
//! `GET /sandboxes/{id}`: refused unless E2B confirms it), a timeout just above
//! the run's limit, our metadata label and no environment; the launcher
//! (`e2b/launcher.py`), its settings, the code and the `/data` files uploaded
//! as root through envd; the launcher started as root with `sudo -n` through
//! `process.Process/Start`; stdout and stderr streamed into the same caps as
//! Docker's; the wall-clock limit kept on this side; the verdict read from the
//! root-only report the launcher writes; and the sandbox killed on every path
//! (success, error, timeout, cancellation, a dropped future, shutdown).
//!
//! The VM starts writable, with a sudo-capable default user and the network
//! on; every other guarantee of run_python comes from the launcher, which
//! refuses (and so does the backend) when it cannot establish one.

mod api;
pub(crate) mod diagnose;
mod filter;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::Engine;
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use api::{Api, ApiError, Event, Handle, Network, NewSandbox};

use super::{
    Capped, Error, Job, Outcome, Sandbox,
    slots::{Slots, either},
};
use crate::{
    config::{E2bConfig, SandboxConfig},
    limits::{
        RUN_FILE_MIB, RUN_MEMORY_MIB, RUN_NOFILE, RUN_NPROC, RUN_REMOTE_GRACE_SECS, RUN_SHM_MIB, RUN_TIMEOUT_SECS,
        RUN_TMP_MIB, RUN_UID,
    },
};

/// Metadata on every sandbox this server creates; the sweep looks for it.
pub(crate) const LABEL: &str = "io.github.jira-mcp.sandbox";
/// Metadata naming the server process that created a sandbox.
pub(crate) const OWNER_LABEL: &str = "io.github.jira-mcp.owner";
/// The launcher, uploaded to every sandbox.
const LAUNCHER: &str = include_str!("e2b/launcher.py");
/// Where the launcher and its inputs live in the VM: root's home, unreadable to the code.
const HERE: &str = "/root/jira-mcp";
/// The launcher's exit code when it refuses to run the code.
const REFUSED: i32 = 121;
/// Oldest a sandbox of ours can legitimately be; older ones are a crash's leftovers.
const MAX_AGE: Duration = Duration::from_secs((RUN_TIMEOUT_SECS.max + RUN_REMOTE_GRACE_SECS) as u64 + 60);
/// What to do when the sandbox cannot give run_python's guarantees.
const HARDENING_FIX: &str = "use an E2B template (JIRA_MCP_E2B_TEMPLATE) with python3 on x86_64 whose default user \
                             has passwordless sudo, or set JIRA_MCP_SANDBOX_BACKEND=docker";

/// The E2B sandbox backend.
#[derive(Debug)]
pub(crate) struct E2bSandbox {
    /// `None` when the client could not be built; `problem` says why.
    api: Option<Api>,
    problem: String,
    template: String,
    /// The BPF program the launcher installs (compiled from seccomp/run_python.json).
    filter: Result<Vec<u8>, String>,
    slots: Slots,
    /// Sandboxes created and not yet killed (for the shutdown drain).
    live: Arc<Mutex<HashSet<String>>>,
    /// Cancelled at shutdown: every run kills its sandbox.
    shutdown: CancellationToken,
    owner: String,
}

impl E2bSandbox {
    /// In a fleet, each run also holds one of `fleet`'s slots.
    pub(crate) fn in_fleet(mut self, fleet: Option<crate::fleet::FleetSlots>) -> Self {
        if let Some(fleet) = fleet {
            self.slots = self.slots.in_fleet(fleet);
        }
        self
    }

    pub(crate) fn new(e2b: &E2bConfig, config: &SandboxConfig) -> Self {
        let (api, problem) = match Api::new(e2b) {
            Ok(api) => (Some(api), String::new()),
            Err(e) => (None, e.to_string()),
        };
        Self {
            api,
            problem,
            template: e2b.template.clone(),
            filter: filter::compile(super::SECCOMP_PROFILE).map_err(|e| e.to_string()),
            slots: Slots::new(config.concurrency),
            live: Arc::default(),
            shutdown: CancellationToken::new(),
            owner: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    fn api(&self) -> Result<&Api, Error> {
        self.api.as_ref().ok_or_else(|| Error::Unavailable {
            problem: format!("the E2B client cannot be built ({})", self.problem),
            fix: "check E2B_DOMAIN, or set JIRA_MCP_SANDBOX_BACKEND=docker".to_owned(),
        })
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn run_job(&self, job: Job, cancel: CancellationToken) -> Result<Outcome, Error> {
        let api = self.api()?;
        let filter =
            self.filter.clone().map_err(|problem| Error::Unavailable { problem, fix: HARDENING_FIX.into() })?;
        if let Some((name, _)) = job.attachments.iter().find(|(n, _)| !plain_name(n)) {
            return Err(Error::Unavailable {
                problem: format!("the attachment name {name:?} is not one plain file name"),
                fix: "rename the file in Jira".to_owned(),
            });
        }
        let cancel = either(cancel, self.shutdown.clone());
        let _stop_watch = cancel.clone().drop_guard();
        let queued_at = Instant::now();
        let _slot = self.slots.wait(&cancel).await?;
        let queued = queued_at.elapsed();
        let body = NewSandbox {
            template_id: &self.template,
            timeout: u32::try_from(job.timeout.as_secs()).unwrap_or(RUN_TIMEOUT_SECS.max) + RUN_REMOTE_GRACE_SECS,
            auto_pause: false,
            secure: true,
            allow_internet_access: false,
            network: Network { allow_public_traffic: false, deny_out: vec!["0.0.0.0/0".to_owned()] },
            metadata: HashMap::from([(LABEL.to_owned(), "1".to_owned()), (OWNER_LABEL.to_owned(), self.owner.clone())]),
            // Nothing from this process: the Jira token and the E2B key never enter the VM.
            env_vars: HashMap::new(),
        };
        // Not raced against `cancel`: a sandbox created after we stopped waiting would be
        // left to E2B's timeout. Creation is bounded by the request timeout instead.
        let created = api.create(&body).await.map_err(|e| self.api_failure(&e))?;
        let sandbox = Handle::new(created);
        let guard = KillGuard::new(api.clone(), sandbox.id.clone(), self.live.clone());
        let result = tokio::select! {
            r = run_in(api, &sandbox, &job, filter) => r,
            () = cancel.cancelled() => Err(Error::Cancelled),
        };
        guard.kill().await;
        result.map(|mut outcome| {
            outcome.queued = queued;
            outcome
        })
    }

    /// The refusal or failure an API error stands for.
    fn api_failure(&self, e: &ApiError) -> Error {
        match e.status() {
            Some(401 | 403) => Error::Unavailable {
                problem: format!("{e}"),
                fix: "create an API key at https://e2b.dev/dashboard and set E2B_API_KEY (or E2B_API_KEY_FILE)"
                    .to_owned(),
            },
            Some(404) => Error::Unavailable {
                problem: format!("the E2B template {:?} was not found ({e})", self.template),
                fix: "set JIRA_MCP_E2B_TEMPLATE to a template your team can use".to_owned(),
            },
            _ => Error::Remote(e.to_string()),
        }
    }

    /// Kills sandboxes of ours that outlived any possible run (a crashed server's).
    async fn sweep_at_startup(&self) {
        let Ok(api) = self.api() else { return };
        let listed = match api.list(LABEL, "1").await {
            Ok(l) => l,
            Err(e) => {
                tracing::info!("run_python (E2B) not ready: {e}");
                return;
            }
        };
        let now = chrono::Utc::now();
        let mut killed = 0;
        for sb in listed.iter().filter(|s| s.metadata.get(LABEL).is_some_and(|v| v == "1")) {
            let age = (now - sb.started_at).to_std().unwrap_or_default();
            if age > MAX_AGE && sb.metadata.get(OWNER_LABEL) != Some(&self.owner) {
                match api.kill(&sb.sandbox_id).await {
                    Ok(()) => killed += 1,
                    Err(e) => tracing::warn!("cannot kill leftover E2B sandbox {}: {e}", sb.sandbox_id),
                }
            }
        }
        if killed > 0 {
            tracing::info!(killed, "killed leftover E2B sandboxes");
        }
    }

    /// Cancels every run (each kills its sandbox) and waits up to 10 s for the kills.
    async fn drain(&self) {
        self.shutdown.cancel();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.live().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Sandbox for E2bSandbox {
    fn run(&self, job: Job, cancel: CancellationToken) -> BoxFuture<'_, Result<Outcome, Error>> {
        Box::pin(self.run_job(job, cancel))
    }

    fn sweep(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.sweep_at_startup())
    }

    fn drain(&self) -> BoxFuture<'_, ()> {
        Box::pin(Self::drain(self))
    }
}

/// One plain file name: not empty, no separator, not `.` or `..`, no NUL.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// Kills its sandbox if the run's future is dropped before the normal kill (a
/// client that disconnects mid-run), and keeps the set of live sandboxes.
struct KillGuard {
    api: Api,
    id: String,
    live: Arc<Mutex<HashSet<String>>>,
    armed: bool,
}

impl KillGuard {
    fn new(api: Api, id: String, live: Arc<Mutex<HashSet<String>>>) -> Self {
        live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id.clone());
        Self { api, id, live, armed: true }
    }

    async fn kill(mut self) {
        if let Err(e) = self.api.kill(&self.id).await {
            tracing::warn!("cannot kill E2B sandbox {} (E2B's own timeout will): {e}", self.id);
        }
        self.armed = false;
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.id);
    }
}

impl Drop for KillGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (api, id, live) = (self.api.clone(), std::mem::take(&mut self.id), self.live.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if let Err(e) = api.kill(&id).await {
                        tracing::warn!("cannot kill E2B sandbox {id} (E2B's own timeout will): {e}");
                    }
                    live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
                });
            }
            Err(_) => {
                live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
                tracing::warn!("E2B sandbox {id} left to E2B's timeout and the next start's sweep");
            }
        }
    }
}

/// The launcher's settings (`run.json`): every number from `crate::limits`.
fn run_settings(filter: &[u8]) -> String {
    const MIB: u64 = 1024 * 1024;
    serde_json::json!({
        "uid": RUN_UID,
        "memory_bytes": u64::from(RUN_MEMORY_MIB) * MIB,
        "nproc": RUN_NPROC,
        "nofile": RUN_NOFILE,
        "fsize_bytes": u64::from(RUN_FILE_MIB) * MIB,
        "tmp_mib": RUN_TMP_MIB,
        "shm_mib": RUN_SHM_MIB,
        "filter": base64::engine::general_purpose::STANDARD.encode(filter),
    })
    .to_string()
}

/// The launcher's verdict (`report.json`), written by root after the code ended.
#[derive(Debug, serde::Deserialize)]
struct Report {
    #[serde(default)]
    refused: Option<String>,
    #[serde(default)]
    exit_code: Option<i64>,
    #[serde(default)]
    oom_killed: bool,
}

fn remote(e: &ApiError) -> Error {
    Error::Remote(e.to_string())
}

/// Everything between creation and the kill: checks, uploads, the run, the verdict.
async fn run_in(api: &Api, sandbox: &Handle, job: &Job, filter: Vec<u8>) -> Result<Outcome, Error> {
    let detail = api.detail(&sandbox.id).await.map_err(|e| remote(&e))?;
    if detail.allow_internet_access != Some(false) {
        return Err(Error::Unavailable {
            problem: format!(
                "E2B did not confirm that the sandbox's internet access is off (allowInternetAccess: {})",
                detail.allow_internet_access.map_or("not reported".to_owned(), |b| b.to_string())
            ),
            fix: "use an E2B deployment that supports allow_internet_access, or set JIRA_MCP_SANDBOX_BACKEND=docker"
                .to_owned(),
        });
    }
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (format!("{HERE}/launch.py"), LAUNCHER.as_bytes().to_vec()),
        (format!("{HERE}/run.json"), run_settings(&filter).into_bytes()),
        (format!("{HERE}/main.py"), job.code.as_bytes().to_vec()),
    ];
    if let Some(data) = &job.data {
        files.push(("/data/issues.json".to_owned(), data.clone()));
    }
    for (name, bytes) in &job.attachments {
        files.push((format!("/data/attachments/{name}"), bytes.clone()));
    }
    for (path, bytes) in files {
        api.upload(sandbox, &path, bytes).await.map_err(|e| remote(&e))?;
    }
    let launcher = format!("{HERE}/launch.py");
    let started = Instant::now();
    let mut events = api
        .start(sandbox, "/usr/bin/sudo", &["-n", "/usr/bin/python3", "-I", "-S", &launcher])
        .await
        .map_err(|e| remote(&e))?;
    let (mut stdout, mut stderr) = (Capped::default(), Capped::default());
    let deadline = tokio::time::sleep(job.timeout);
    tokio::pin!(deadline);
    let end = loop {
        tokio::select! {
            event = events.next() => match event.map_err(|e| remote(&e))? {
                Some(Event::Stdout(b)) => stdout.push(&b),
                Some(Event::Stderr(b)) => stderr.push(&b),
                Some(Event::Start { .. } | Event::KeepAlive) => {}
                Some(Event::End { exit_code, status, error, .. }) => break Some((exit_code, status, error)),
                None => break None,
            },
            () = &mut deadline => {
                return Ok(Outcome { stdout, stderr, duration: started.elapsed(), timed_out: true, ..Outcome::default() });
            }
        }
    };
    let duration = started.elapsed();
    let report = api.download(sandbox, &format!("{HERE}/report.json")).await.map_err(|e| remote(&e))?;
    let report = report.and_then(|bytes| serde_json::from_slice::<Report>(&bytes).ok());
    match report {
        Some(Report { refused: Some(reason), .. }) => Err(Error::Unavailable {
            problem: format!("the E2B sandbox cannot be hardened as run_python requires: {reason}"),
            fix: HARDENING_FIX.to_owned(),
        }),
        Some(Report { exit_code, oom_killed, .. }) => {
            Ok(Outcome { exit_code, stdout, stderr, duration, oom_killed, ..Outcome::default() })
        }
        None => {
            let (code, status, error) = end.unwrap_or((-1, "no end event".to_owned(), None));
            let said = String::from_utf8_lossy(&stderr.bytes);
            // The last line says most: a traceback's exception, or sudo's complaint.
            let first = said
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect::<String>();
            let refused = if code == REFUSED { " (it refused)" } else { "" };
            Err(Error::Unavailable {
                problem: format!(
                    "the hardening launcher did not run in the E2B sandbox{refused}: {status}{}{}",
                    error.map(|e| format!(", {e}")).unwrap_or_default(),
                    if first.is_empty() { String::new() } else { format!("; stderr: {first}") }
                ),
                fix: HARDENING_FIX.to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_gets_every_limit_from_the_limits_module() {
        let settings: serde_json::Value = serde_json::from_str(&run_settings(&[1, 2, 3])).unwrap();
        assert_eq!(settings["memory_bytes"], 512 * 1024 * 1024);
        assert_eq!(settings["uid"], RUN_UID);
        assert_eq!(settings["tmp_mib"], RUN_TMP_MIB);
        assert_eq!(settings["filter"], "AQID");
    }

    #[test]
    fn attachment_names_must_be_one_plain_component() {
        for bad in ["", ".", "..", "a/b", "../x", "a\0b"] {
            assert!(!plain_name(bad), "{bad:?}");
        }
        assert!(plain_name("_.._etc_passwd") && plain_name("report.csv"));
    }
}
