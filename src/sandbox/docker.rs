//! Docker + gVisor backend (bollard): the run path. This module and its children
//! (`connect`, `janitor`, `diagnose`) are the only code that talks to Docker.
//!
//! Every run: a fresh container under `runsc` with no network, a read-only
//! root, no-new-privileges, the custom seccomp profile (inline JSON), 512 MiB
//! without swap, one CPU, a 64 MiB noexec tmpfs, nproc/nofile/fsize limits, no
//! log file on the host (log driver `none`; output comes through attach), no
//! host environment, and a label so a crash leftover is swept at the next
//! start. Its PID 1 is the supervisor (`supervisor.py`): root with only
//! `SETUID`/`SETGID`, it runs the code as uid 65534 without capabilities and
//! stops the container shortly after the wall-clock limit even if the server
//! has died. Issue data is staged in a private per-run directory ([`DataDir`]).
//! The container is removed on every path: success, error, timeout and
//! cancellation.

#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "the Docker backend is the one module that talks to Docker"
)]

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use bollard::{
    Docker,
    container::LogOutput,
    errors::Error as DockerError,
    models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountType, ResourcesUlimits},
    query_parameters::{
        AttachContainerOptionsBuilder, CreateContainerOptionsBuilder, KillContainerOptionsBuilder,
        WaitContainerOptionsBuilder,
    },
};
use futures_util::{StreamExt, future::BoxFuture};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

mod connect;
mod data_dir;
mod diagnose;
mod janitor;

use connect::{SETUP_FIX, connect_checked, load_profile, unavailable};
use data_dir::{DataDir, DataDirError};
pub(crate) use diagnose::diagnose;
use janitor::{LABEL, OWNER_LABEL, force_remove, janitor, my_identity};

use super::{
    Capped, Error, Job, Outcome, Sandbox,
    slots::{Slots, either},
};
use crate::{
    config::SandboxConfig,
    limits::{
        RUN_CPUS, RUN_FILE_MIB, RUN_MEMORY_MIB, RUN_NOFILE, RUN_NPROC, RUN_SELF_STOP_GRACE_SECS, RUN_SHM_MIB,
        RUN_TMP_MIB, RUN_UID,
    },
};

const MIB: i64 = 1024 * 1024;
/// Memory limit; swap is set equal so there is none.
const MEMORY_BYTES: i64 = RUN_MEMORY_MIB as i64 * MIB;
/// RLIMIT_NPROC, enforced inside gVisor's Sentry (fork -> EAGAIN).
const NPROC: i64 = RUN_NPROC as i64;
/// Backstop only: under runsc the pids cgroup counts the Sentry's host threads
/// (about 6 per guest process) and hitting it kills the sandbox; keep >= 8 x NPROC.
const PIDS_LIMIT: i64 = 512;
/// Largest file the code may write (the tmpfs caps the total anyway).
const FSIZE: i64 = RUN_FILE_MIB as i64 * MIB;
/// The uid (and gid) the code runs as: nobody. The seccomp profile lets
/// `setuid`/`setgid` name this id only.
const SANDBOX_UID: u32 = RUN_UID;
/// PID 1 of every container: forks, drops the child to [`SANDBOX_UID`], runs
/// the code from stdin in it, and exits at the deadline, which stops the container.
const SUPERVISOR: &str = include_str!("docker/supervisor.py");
/// The supervisor's exit code when it stopped the container at its deadline
/// (`DEADLINE_EXIT` in `supervisor.py`).
const SUPERVISOR_DEADLINE_EXIT: i64 = 124;

/// The Docker + gVisor sandbox.
#[derive(Debug)]
pub(crate) struct DockerSandbox {
    config: SandboxConfig,
    data_dir: PathBuf,
    docker: tokio::sync::Mutex<Option<Docker>>,
    slots: Slots,
    /// Containers created and not yet removed (for the shutdown drain).
    live: Arc<std::sync::atomic::AtomicUsize>,
    /// Cancelled at shutdown: every run kills and removes its container.
    shutdown: CancellationToken,
    /// The janitor runs once per process, never on a reconnect.
    swept: std::sync::atomic::AtomicBool,
    owner: String,
}

impl DockerSandbox {
    /// In a fleet, each run also holds one of `fleet`'s slots.
    pub(crate) fn in_fleet(mut self, fleet: Option<crate::fleet::FleetSlots>) -> Self {
        if let Some(fleet) = fleet {
            self.slots = self.slots.in_fleet(fleet);
        }
        self
    }

    pub(crate) fn new(config: SandboxConfig) -> Self {
        // Default: a directory only its owner can list (mode 0711), so other local users
        // cannot find the per-run directories holding Jira data.
        let data_dir = config
            .data_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("jira-mcp-data-{}", nix::unistd::getuid())));
        Self {
            slots: Slots::new(config.concurrency),
            config,
            data_dir,
            docker: tokio::sync::Mutex::new(None),
            live: Arc::default(),
            shutdown: CancellationToken::new(),
            swept: std::sync::atomic::AtomicBool::new(false),
            owner: my_identity(),
        }
    }

    /// Cancels every run (each kills and removes its container) and waits up to
    /// 10 s for the removals, so a server that exits leaves no container behind.
    pub(crate) async fn drain(&self) {
        self.shutdown.cancel();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.live.load(std::sync::atomic::Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A connected, checked client; reconnects after an earlier failure, so a host
    /// fixed with scripts/setup-host works without restarting the server.
    async fn docker(&self) -> Result<Docker, Error> {
        let mut guard = self.docker.lock().await;
        if let Some(d) = guard.as_ref() {
            return Ok(d.clone());
        }
        let docker = connect_checked(&self.config.runtime).await?;
        if docker.inspect_image(&self.config.image).await.is_err() {
            return Err(unavailable(format!("the sandbox image {} is not in Docker", self.config.image), SETUP_FIX));
        }
        if !self.swept.swap(true, std::sync::atomic::Ordering::SeqCst) {
            match janitor(&docker, &self.owner).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed leftover sandbox containers"),
                Err(e) => tracing::warn!("sandbox janitor failed: {e}"),
            }
        }
        *guard = Some(docker.clone());
        Ok(docker)
    }

    /// Sweeps leftovers at startup (best effort; logs, never fails).
    pub(crate) async fn sweep_at_startup(&self) {
        if let Err(e) = self.docker().await {
            tracing::info!("run_python not ready: {e}");
        }
    }

    fn create_body(&self, profile: &str, data_dir: Option<&Path>, timeout: Duration) -> ContainerCreateBody {
        let mounts = data_dir.map(|dir| {
            vec![Mount {
                target: Some("/data".to_owned()),
                source: Some(dir.display().to_string()),
                typ: Some(MountType::BIND),
                read_only: Some(true),
                ..Default::default()
            }]
        });
        let ulimit = |name: &str, value: i64| ResourcesUlimits {
            name: Some(name.to_owned()),
            soft: Some(value),
            hard: Some(value),
        };
        // The supervisor stops the container this long after it starts: the
        // server's own limit fires first; this one holds when the server is gone.
        let deadline = timeout + Duration::from_secs(u64::from(RUN_SELF_STOP_GRACE_SECS));
        ContainerCreateBody {
            image: Some(self.config.image.clone()),
            // `-I`: isolated mode, ignores PYTHON* variables and the user site directory;
            // `-S`: the root supervisor imports no site code (the child loads it after dropping to SANDBOX_UID).
            cmd: Some(vec![
                "/usr/bin/python3".to_owned(),
                "-I".to_owned(),
                "-S".to_owned(),
                "-c".to_owned(),
                SUPERVISOR.to_owned(),
                format!("{:.3}", deadline.as_secs_f64()),
                SANDBOX_UID.to_string(),
            ]),
            // Root only to start the supervisor; it holds no capability but SETUID/SETGID.
            user: Some("0:0".to_owned()),
            working_dir: Some("/tmp".to_owned()),
            // Only these: nothing from the host (the Jira token must never be visible inside).
            env: Some(vec!["HOME=/tmp".to_owned(), "PYTHONDONTWRITEBYTECODE=1".to_owned(), "LANG=C.UTF-8".to_owned()]),
            network_disabled: Some(true),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            open_stdin: Some(true),
            stdin_once: Some(true),
            tty: Some(false),
            labels: Some(HashMap::from([
                (LABEL.to_owned(), "1".to_owned()),
                (OWNER_LABEL.to_owned(), self.owner.clone()),
            ])),
            host_config: Some(HostConfig {
                runtime: Some(self.config.runtime.clone()),
                network_mode: Some("none".to_owned()),
                readonly_rootfs: Some(true),
                tmpfs: Some(HashMap::from([(
                    "/tmp".to_owned(),
                    format!("rw,noexec,nosuid,nodev,size={RUN_TMP_MIB}m,mode=1777"),
                )])),
                memory: Some(MEMORY_BYTES),
                memory_swap: Some(MEMORY_BYTES),
                nano_cpus: Some(i64::from(RUN_CPUS) * 1_000_000_000),
                ulimits: Some(vec![
                    ulimit("nproc", NPROC),
                    ulimit("nofile", i64::from(RUN_NOFILE)),
                    ulimit("fsize", FSIZE),
                ]),
                pids_limit: Some(PIDS_LIMIT),
                // /dev/shm is a second writable tmpfs; keep it small.
                shm_size: Some(i64::from(RUN_SHM_MIB) * MIB),
                cap_drop: Some(vec!["ALL".to_owned()]),
                // Only for the supervisor's drop to SANDBOX_UID, after which the kernel
                // clears the child's capabilities (CapEff 0, tested).
                cap_add: Some(vec!["SETUID".to_owned(), "SETGID".to_owned()]),
                security_opt: Some(vec!["no-new-privileges".to_owned(), format!("seccomp={profile}")]),
                mounts,
                // No log file on the host: output reaches the server through attach
                // only (capped there), so a flood cannot fill the host's disk.
                log_config: Some(HostConfigLogConfig { typ: Some("none".to_owned()), config: None }),
                auto_remove: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    async fn run_job(&self, job: Job, cancel: CancellationToken) -> Result<Outcome, Error> {
        let profile = load_profile(self.config.seccomp_profile.as_deref())?;
        // Cancelled by the caller, or by shutdown.
        let cancel = either(cancel, self.shutdown.clone());
        let _stop_watch = cancel.clone().drop_guard();
        let queued_at = Instant::now();
        let _slot = self.slots.wait(&cancel).await?;
        let queued = queued_at.elapsed();
        let docker = self.docker().await?;
        let data = if job.data.is_some() || !job.attachments.is_empty() {
            Some(
                DataDir::create(&self.data_dir, job.data.as_deref(), &job.attachments)
                    .map_err(|e| self.data_dir_unusable(&e))?,
            )
        } else {
            None
        };
        let name = format!("jira-mcp-run-{}", uuid::Uuid::new_v4().simple());
        let body = self.create_body(&profile, data.as_ref().map(|d| d.path.as_path()), job.timeout);
        // Last look before Docker resolves the path: still the directory created above.
        if let Some(d) = &data {
            d.verify().map_err(|e| self.data_dir_unusable(&e))?;
        }
        let created = docker
            .create_container(Some(CreateContainerOptionsBuilder::default().name(&name).build()), body)
            .await
            .map_err(|e| match e {
                DockerError::DockerResponseServerError { status_code: 404, .. } => {
                    unavailable(format!("the sandbox image {} is not in Docker", self.config.image), SETUP_FIX)
                }
                other => Error::Docker(other.to_string()),
            })?;
        let guard = ContainerGuard::new(docker.clone(), created.id.clone(), self.live.clone());
        let result = run_container(&docker, &created.id, &job, &cancel).await;
        force_remove(&docker, &created.id).await;
        guard.removed();
        drop(data);
        if matches!(result, Err(Error::Docker(_))) {
            // The connection may be stale (dockerd restarted): reconnect next time.
            *self.docker.lock().await = None;
        }
        result.map(|mut outcome| {
            outcome.queued = queued;
            outcome
        })
    }

    /// The refusal for a data directory that is not private, with the fix.
    fn data_dir_unusable(&self, e: &DataDirError) -> Error {
        unavailable(
            format!("the issue data cannot be staged safely under {} ({e})", self.data_dir.display()),
            format!(
                "remove it so the server recreates it privately, or set JIRA_MCP_SANDBOX_DATA_DIR to a directory owned \
                 by uid {} with mode 0711 (not writable by others) that dockerd can see",
                nix::unistd::geteuid()
            ),
        )
    }
}

/// Removes its container if the run's future is dropped before the normal
/// removal (a client that disconnects mid-run), and counts live containers.
struct ContainerGuard {
    docker: Docker,
    id: String,
    live: Arc<std::sync::atomic::AtomicUsize>,
    armed: bool,
}

impl ContainerGuard {
    fn new(docker: Docker, id: String, live: Arc<std::sync::atomic::AtomicUsize>) -> Self {
        live.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Self { docker, id, live, armed: true }
    }

    fn removed(mut self) {
        self.armed = false;
    }
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        if !self.armed {
            self.live.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            return;
        }
        let (docker, id, live) = (self.docker.clone(), std::mem::take(&mut self.id), self.live.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    force_remove(&docker, &id).await;
                    live.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
            Err(_) => {
                live.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                tracing::warn!("sandbox container {id} left for the next start's janitor");
            }
        }
    }
}

impl Sandbox for DockerSandbox {
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

enum Ending {
    Exited(i64),
    TimedOut,
    Cancelled,
}

async fn run_container(docker: &Docker, id: &str, job: &Job, cancel: &CancellationToken) -> Result<Outcome, Error> {
    let started = Instant::now();
    // Attach before start, or early output is lost.
    let attach = docker
        .attach_container(
            id,
            Some(
                AttachContainerOptionsBuilder::default()
                    .stdin(true)
                    .stdout(true)
                    .stderr(true)
                    .stream(true)
                    .logs(false)
                    .build(),
            ),
        )
        .await
        .map_err(|e| Error::Docker(e.to_string()))?;
    let mut output = attach.output;
    let mut input = attach.input;
    docker.start_container(id, None).await.map_err(|e| Error::Docker(format!("start failed: {e}")))?;
    // Code arrives on stdin; half-closing gives Python its EOF (needs stdin_once).
    let fed = async {
        input.write_all(job.code.as_bytes()).await?;
        input.flush().await?;
        input.shutdown().await
    };
    if let Err(e) = fed.await {
        tracing::debug!("stdin closed early: {e}");
    }
    drop(input);
    // Keep draining past the cap so the container never blocks on a full pipe.
    let collector = tokio::spawn(async move {
        let (mut out, mut err) = (Capped::default(), Capped::default());
        while let Some(frame) = output.next().await {
            match frame {
                Ok(LogOutput::StdOut { message }) => out.push(&message),
                Ok(LogOutput::StdErr { message }) => err.push(&message),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        (out, err)
    });
    let mut wait =
        docker.wait_container(id, Some(WaitContainerOptionsBuilder::default().condition("not-running").build()));
    let ending = tokio::select! {
        next = wait.next() => match next {
            Some(Ok(resp)) => Ending::Exited(resp.status_code),
            // bollard reports a non-zero exit as an error carrying the code.
            Some(Err(DockerError::DockerContainerWaitError { code, .. })) => Ending::Exited(code),
            Some(Err(e)) => return Err(Error::Docker(e.to_string())),
            None => Ending::Exited(-1),
        },
        () = tokio::time::sleep(job.timeout) => Ending::TimedOut,
        () = cancel.cancelled() => Ending::Cancelled,
    };
    if matches!(ending, Ending::TimedOut | Ending::Cancelled) {
        let kill =
            docker.kill_container(id, Some(KillContainerOptionsBuilder::default().signal("SIGKILL").build())).await;
        if let Err(e) = kill {
            tracing::debug!("kill {id}: {e}");
        }
    }
    let duration = started.elapsed();
    let (stdout, stderr) = match tokio::time::timeout(Duration::from_secs(5), collector).await {
        Ok(Ok(pair)) => pair,
        _ => (Capped::default(), Capped::default()),
    };
    let oom_flag =
        docker.inspect_container(id, None).await.ok().and_then(|c| c.state).and_then(|s| s.oom_killed).unwrap_or(false);
    let mut outcome = Outcome { stdout, stderr, duration, ..Outcome::default() };
    match ending {
        Ending::Cancelled => return Err(Error::Cancelled),
        Ending::TimedOut => outcome.timed_out = true,
        Ending::Exited(code) if stopped_by_supervisor(code, duration, job.timeout) => outcome.timed_out = true,
        Ending::Exited(code) => {
            outcome.exit_code = Some(code);
            // Docker records the kernel's memory-cgroup kill (also under runsc).
            outcome.oom_killed = oom_flag;
            // runsc: the pids cgroup was exhausted -> exit 2 with no output at all.
            outcome.aborted = code == 2 && outcome.stdout.bytes.is_empty() && outcome.stderr.bytes.is_empty();
        }
    }
    Ok(outcome)
}

/// Whether the supervisor's own deadline ended the run (the server's timer was
/// late): still a timeout. Code that exits 124 by itself before the limit is not.
fn stopped_by_supervisor(code: i64, duration: Duration, timeout: Duration) -> bool {
    code == SUPERVISOR_DEADLINE_EXIT && duration >= timeout
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_1_is_the_supervisor_with_only_the_capabilities_to_drop_to_nobody() {
        let sandbox = DockerSandbox::new(SandboxConfig::default());
        let body = sandbox.create_body("{}", None, Duration::from_secs(7));
        let cmd = body.cmd.unwrap();
        assert_eq!(cmd[..4], ["/usr/bin/python3", "-I", "-S", "-c"]);
        assert_eq!(cmd[4], SUPERVISOR);
        // The deadline: the run's limit plus the grace; then the uid the code runs as.
        assert_eq!(cmd[5..], [format!("{}.000", 7 + RUN_SELF_STOP_GRACE_SECS), "65534".to_owned()]);
        assert_eq!(body.user.as_deref(), Some("0:0"));
        let host = body.host_config.unwrap();
        assert_eq!(host.cap_drop.unwrap(), ["ALL"]);
        assert_eq!(host.cap_add.unwrap(), ["SETUID", "SETGID"]);
        assert!(host.security_opt.unwrap().contains(&"no-new-privileges".to_owned()));
        assert!(SUPERVISOR.contains(&format!("DEADLINE_EXIT = {SUPERVISOR_DEADLINE_EXIT}\n")));
    }

    #[test]
    fn the_profile_lets_the_supervisor_name_only_nobody() {
        let profile: serde_json::Value = serde_json::from_str(crate::sandbox::SECCOMP_PROFILE).unwrap();
        let rules = profile["syscalls"].as_array().unwrap();
        let rule = |name: &str| {
            let found: Vec<_> =
                rules.iter().filter(|r| r["names"].as_array().unwrap().iter().any(|n| n == name)).collect();
            assert_eq!(found.len(), 1, "{name}: exactly one rule");
            found[0].clone()
        };
        for name in ["setuid", "setgid"] {
            let args = &rule(name)["args"];
            assert_eq!(args[0]["op"], "SCMP_CMP_EQ", "{name}");
            assert_eq!(args[0]["value"], u64::from(SANDBOX_UID), "{name}");
        }
        assert_eq!(rule("setgroups")["args"][0]["value"], 0, "an empty group list only");
        for name in ["setresuid", "setresgid", "setreuid", "setregid", "setfsuid", "capset", "prctl"] {
            assert!(!rules.iter().any(|r| r["names"].as_array().unwrap().iter().any(|n| n == name)), "{name}");
        }
    }

    #[test]
    fn the_supervisors_deadline_reads_as_a_timeout() {
        let limit = Duration::from_secs(5);
        assert!(stopped_by_supervisor(124, Duration::from_secs(8), limit));
        // Control: the code's own exit 124 before the limit, and other codes after it, are exits.
        assert!(!stopped_by_supervisor(124, Duration::from_secs(1), limit));
        assert!(!stopped_by_supervisor(1, Duration::from_secs(8), limit));
    }

    #[test]
    fn containers_log_nothing_on_the_host() {
        let sandbox = DockerSandbox::new(SandboxConfig::default());
        let host = sandbox.create_body("{}", None, Duration::from_secs(1)).host_config.unwrap();
        assert_eq!(host.log_config.and_then(|l| l.typ).as_deref(), Some("none"));
    }
}
