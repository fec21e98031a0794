//! Docker + gVisor backend (bollard). The only module that talks to Docker.
//!
//! Every run: a fresh container under `runsc` with no network, a read-only
//! root, uid 65534, no capabilities, no-new-privileges, the custom seccomp
//! profile (inline JSON), 512 MiB without swap, one CPU, a 64 MiB noexec
//! tmpfs, nproc/nofile/fsize limits, no host environment, and a label so a
//! crash leftover is swept at the next start. The container is removed on
//! every path: success, error, timeout and cancellation.

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
    models::{ContainerCreateBody, HostConfig, Mount, MountType, ResourcesUlimits},
    query_parameters::{
        AttachContainerOptionsBuilder, CreateContainerOptionsBuilder, KillContainerOptionsBuilder,
        ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, WaitContainerOptionsBuilder,
    },
};
use futures_util::{StreamExt, future::BoxFuture};
use tokio::{io::AsyncWriteExt, sync::Semaphore};
use tokio_util::sync::CancellationToken;

use super::{Capped, Error, Job, Outcome, Sandbox};
use crate::{
    config::SandboxConfig,
    limits::{RUN_CPUS, RUN_MEMORY_MIB, RUN_TMP_MIB},
};

/// The profile shipped in seccomp/, compiled in so the binary is self-contained.
pub(crate) const EMBEDDED_PROFILE: &str = include_str!("../../seccomp/run_python.json");

/// Label on every sandbox container; the janitor removes what carries it.
pub(crate) const LABEL: &str = "io.github.jira-mcp.sandbox";
/// Label naming the server process that owns a container (`pid:start time`), so a
/// janitor never removes the running containers of another live jira-mcp.
pub(crate) const OWNER_LABEL: &str = "io.github.jira-mcp.owner";

/// `pid:start-time` of a process, from /proc; `None` when it does not exist.
/// The start time makes a recycled pid look like the different process it is.
fn process_identity(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22 (starttime); fields after the ")" of the command name start at field 3.
    let start = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
    Some(format!("{pid}:{start}"))
}

/// This process's owner label value.
fn my_identity() -> String {
    process_identity(std::process::id()).unwrap_or_else(|| format!("{}:?", std::process::id()))
}

/// Whether the owner named by a label value is a live process other than us.
fn owned_by_another_live_process(owner: Option<&str>, me: &str) -> bool {
    let Some(owner) = owner else { return false };
    owner != me
        && owner.split_once(':').and_then(|(pid, _)| pid.parse::<u32>().ok()).and_then(process_identity).as_deref()
            == Some(owner)
}

const MIB: i64 = 1024 * 1024;
/// Memory limit; swap is set equal so there is none.
const MEMORY_BYTES: i64 = RUN_MEMORY_MIB as i64 * MIB;
/// RLIMIT_NPROC, enforced inside gVisor's Sentry (fork -> EAGAIN).
const NPROC: i64 = 32;
/// Backstop only: under runsc the pids cgroup counts the Sentry's host threads
/// (about 6 per guest process) and hitting it kills the sandbox; keep >= 8 x NPROC.
const PIDS_LIMIT: i64 = 512;
/// Largest file the code may write (the tmpfs caps the total anyway).
const FSIZE: i64 = 64 * MIB;
const SETUP_FIX: &str = "run `sudo scripts/setup-host` (installs Docker and gVisor runsc, registers the runtime, builds the image), then retry";

/// The fix for a problem, by who can fix it.
fn unavailable(problem: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::Unavailable { problem: problem.into(), fix: fix.into() }
}

/// Loads and sanity-checks the seccomp profile (the configured file, or the embedded one).
pub(crate) fn load_profile(path: Option<&Path>) -> Result<String, Error> {
    let text = match path {
        Some(p) => std::fs::read_to_string(p).map_err(|e| {
            unavailable(
                format!("the seccomp profile {} cannot be read ({e})", p.display()),
                "fix JIRA_MCP_SECCOMP_PROFILE or unset it to use the built-in profile",
            )
        })?,
        None => EMBEDDED_PROFILE.to_owned(),
    };
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| unavailable(format!("the seccomp profile is not valid JSON ({e})"), "fix the profile file"))?;
    if json.get("defaultAction").and_then(|v| v.as_str()) != Some("SCMP_ACT_ERRNO") {
        return Err(unavailable(
            "the seccomp profile must deny by default (defaultAction SCMP_ACT_ERRNO)",
            "use the profile from seccomp/run_python.json",
        ));
    }
    // Compact it: Docker wants the JSON text itself inside security_opt.
    Ok(json.to_string())
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

/// Connects, negotiates the API version, and refuses a missing or
/// misconfigured runtime (fail closed).
async fn connect_checked(runtime: &str) -> Result<Docker, Error> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|e| unavailable(format!("cannot open the Docker socket ({e})"), SETUP_FIX))?;
    // bollard speaks API 1.53 by default; Debian's dockerd 20.10 tops out at 1.41.
    let docker = docker
        .negotiate_version()
        .await
        .map_err(|e| unavailable(format!("the Docker daemon is not reachable ({e})"), SETUP_FIX))?;
    let info = docker.info().await.map_err(|e| unavailable(format!("`docker info` failed ({e})"), SETUP_FIX))?;
    let runtimes = info.runtimes.unwrap_or_default();
    let Some(rt) = runtimes.get(runtime) else {
        let mut have: Vec<&String> = runtimes.keys().collect();
        have.sort();
        return Err(unavailable(
            format!("the Docker runtime {runtime:?} is not registered (registered: {have:?})"),
            SETUP_FIX,
        ));
    };
    // Without --oci-seccomp runsc ignores the container's seccomp profile; fail closed.
    if runtime == "runsc" {
        let args = rt.runtime_args.clone().unwrap_or_default();
        for required in ["--network=none", "--oci-seccomp"] {
            if !args.iter().any(|a| a == required) {
                return Err(unavailable(
                    format!("the runsc runtime lacks {required} in its runtimeArgs (has {args:?})"),
                    SETUP_FIX,
                ));
            }
        }
    }
    Ok(docker)
}

/// The Docker + gVisor sandbox.
#[derive(Debug)]
pub(crate) struct DockerSandbox {
    config: SandboxConfig,
    data_dir: PathBuf,
    docker: tokio::sync::Mutex<Option<Docker>>,
    permits: Arc<Semaphore>,
    /// Runs waiting for a permit; bounded by [`MAX_QUEUED_PER_SLOT`] per slot.
    queued: Arc<std::sync::atomic::AtomicUsize>,
    /// Containers created and not yet removed (for the shutdown drain).
    live: Arc<std::sync::atomic::AtomicUsize>,
    /// Cancelled at shutdown: every run kills and removes its container.
    shutdown: CancellationToken,
    /// The janitor runs once per process, never on a reconnect.
    swept: std::sync::atomic::AtomicBool,
    owner: String,
}

/// Runs allowed to wait per sandbox slot before new ones are refused.
const MAX_QUEUED_PER_SLOT: usize = 4;
/// Longest wait for a sandbox slot.
const QUEUE_DEADLINE: Duration = Duration::from_secs(60);

impl DockerSandbox {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
        // Default: a directory only its owner can list (mode 0711), so other local users
        // cannot find the per-run directories holding Jira data.
        let data_dir = config
            .data_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("jira-mcp-data-{}", nix::unistd::getuid())));
        Self {
            config,
            data_dir,
            docker: tokio::sync::Mutex::new(None),
            permits,
            queued: Arc::default(),
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

    fn create_body(&self, profile: &str, data_dir: Option<&Path>) -> ContainerCreateBody {
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
        ContainerCreateBody {
            image: Some(self.config.image.clone()),
            // `-I`: isolated mode, ignores PYTHON* variables and the user site directory.
            cmd: Some(vec!["/usr/bin/python3".to_owned(), "-I".to_owned(), "-".to_owned()]),
            user: Some("65534:65534".to_owned()),
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
                ulimits: Some(vec![ulimit("nproc", NPROC), ulimit("nofile", 256), ulimit("fsize", FSIZE)]),
                pids_limit: Some(PIDS_LIMIT),
                // /dev/shm is a second writable tmpfs; keep it small.
                shm_size: Some(16 * MIB),
                cap_drop: Some(vec!["ALL".to_owned()]),
                security_opt: Some(vec!["no-new-privileges".to_owned(), format!("seccomp={profile}")]),
                mounts,
                auto_remove: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    async fn run_job(&self, job: Job, cancel: CancellationToken) -> Result<Outcome, Error> {
        let profile = load_profile(self.config.seccomp_profile.as_deref())?;
        // Cancelled by the caller, or by shutdown.
        let cancel = {
            let either = CancellationToken::new();
            let (a, b, out) = (cancel, self.shutdown.clone(), either.clone());
            tokio::spawn(async move {
                tokio::select! {
                    () = a.cancelled() => out.cancel(),
                    () = b.cancelled() => out.cancel(),
                    () = out.cancelled() => {}
                }
            });
            either
        };
        let _stop_watch = cancel.clone().drop_guard();
        let queued_at = Instant::now();
        let _permit = self.wait_for_slot(&cancel).await?;
        let queued = queued_at.elapsed();
        let docker = self.docker().await?;
        let data = match &job.data {
            Some(bytes) => Some(DataDir::create(&self.data_dir, bytes).map_err(|e| {
                unavailable(
                    format!("cannot write the issue data under {} ({e})", self.data_dir.display()),
                    "set JIRA_MCP_SANDBOX_DATA_DIR to a writable directory that dockerd can see",
                )
            })?),
            None => None,
        };
        let name = format!("jira-mcp-run-{}", uuid::Uuid::new_v4().simple());
        let body = self.create_body(&profile, data.as_ref().map(|d| d.path.as_path()));
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

    /// Waits for a sandbox slot, refusing when too many runs already wait.
    async fn wait_for_slot(&self, cancel: &CancellationToken) -> Result<tokio::sync::OwnedSemaphorePermit, Error> {
        use std::sync::atomic::Ordering;
        let slots = self.config.concurrency.max(1);
        let ahead = self.queued.fetch_add(1, Ordering::SeqCst);
        let result = if ahead >= slots * MAX_QUEUED_PER_SLOT && self.permits.available_permits() == 0 {
            Err(Error::Busy { waiting: ahead, slots })
        } else {
            tokio::select! {
                permit = tokio::time::timeout(QUEUE_DEADLINE, self.permits.clone().acquire_owned()) => match permit {
                    Ok(Ok(p)) => Ok(p),
                    Ok(Err(e)) => Err(Error::Docker(e.to_string())),
                    Err(_) => Err(Error::Busy { waiting: ahead, slots }),
                },
                () = cancel.cancelled() => Err(Error::Cancelled),
            }
        };
        self.queued.fetch_sub(1, Ordering::SeqCst);
        result
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

/// A per-run directory holding issues.json, removed on drop.
struct DataDir {
    path: PathBuf,
}

impl DataDir {
    fn create(parent: &Path, bytes: &[u8]) -> std::io::Result<Self> {
        use std::{io::Write, os::unix::fs::PermissionsExt};
        // The parent may be listed by its owner only (0711): others cannot find the
        // random per-run names, yet dockerd and uid 65534 can traverse into them.
        match std::fs::create_dir(parent) {
            Ok(()) => std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o711))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if std::fs::symlink_metadata(parent)?.file_type().is_symlink() {
                    return Err(std::io::Error::other(format!("{} is a symlink", parent.display())));
                }
            }
            Err(e) => return Err(e),
        }
        let path = parent.join(format!("jira-mcp-data-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&path)?;
        let dir = Self { path };
        // World-readable so uid 65534 inside can read it; the mount itself is read-only.
        std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o755))?;
        // create_new = O_EXCL: never follows a planted symlink, never reuses a file.
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(dir.path.join("issues.json"))?;
        file.write_all(bytes)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        Ok(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!("cannot remove {}: {e}", self.path.display());
        }
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

async fn force_remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    match docker.remove_container(id, Some(options)).await {
        Ok(()) | Err(DockerError::DockerResponseServerError { status_code: 404 | 409, .. }) => {}
        Err(e) => tracing::warn!("cannot remove sandbox container {id}: {e}"),
    }
}

/// Removes sandbox containers left by a crashed server: labelled, and not owned
/// by this process or by another live jira-mcp process (whose runs are in flight).
async fn janitor(docker: &Docker, me: &str) -> Result<usize, DockerError> {
    let filters = HashMap::from([("label", vec![LABEL])]);
    let list = docker
        .list_containers(Some(ListContainersOptionsBuilder::default().all(true).filters(&filters).build()))
        .await?;
    let mut removed = 0;
    for c in &list {
        let owner = c.labels.as_ref().and_then(|l| l.get(OWNER_LABEL)).map(String::as_str);
        if owner == Some(me) || owned_by_another_live_process(owner, me) {
            continue;
        }
        if let Some(id) = c.id.as_deref() {
            force_remove(docker, id).await;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The sandbox checks of `jira-mcp doctor`: daemon, runtime flags, image, profile.
pub(crate) async fn diagnose(config: &SandboxConfig) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut push = |name: &str, result: Result<String, String>| {
        let ok = result.is_ok();
        checks.push(Check { name: name.to_owned(), ok, detail: result.unwrap_or_else(|e| e) });
    };
    match load_profile(config.seccomp_profile.as_deref()) {
        Ok(_) => push(
            "seccomp profile",
            Ok(config
                .seccomp_profile
                .as_ref()
                .map_or("built-in seccomp/run_python.json".to_owned(), |p| p.display().to_string())),
        ),
        Err(e) => push("seccomp profile", Err(e.to_string())),
    }
    let docker = match connect_checked(&config.runtime).await {
        Ok(d) => {
            push(
                "docker + runtime",
                Ok(format!(
                    "daemon reachable; runtime {} registered with --network=none --oci-seccomp",
                    config.runtime
                )),
            );
            d
        }
        Err(e) => {
            push("docker + runtime", Err(e.to_string()));
            return checks;
        }
    };
    let source = config.image_source.as_deref().unwrap_or("scripts/setup-host (debootstrap)");
    match docker.inspect_image(&config.image).await {
        Ok(_) => push("sandbox image", Ok(format!("{} present (built by {source})", config.image))),
        Err(e) => push("sandbox image", Err(format!("{} missing ({e}); {SETUP_FIX}", config.image))),
    }
    checks
}
