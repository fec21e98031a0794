//! Docker-only properties of run_python's Docker + gVisor backend: what the
//! backend-generic battery (tests/sandbox_isolation.rs) cannot state for every
//! backend. gVisor itself, the seccomp profile's second layer (network=none),
//! host logs, the data folder, the janitor of labelled containers, and the
//! binary's handling of signals and of a client that goes away.
//!
//! Ignored by default like the battery; scripts/test runs them with
//! `--run-ignored all`. Without Docker they FAIL with the setup step to run.

// Test code: panicking on a broken expectation is the point, and tests spawn the binary and docker.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;
mod e2b_double;
mod sandbox_harness;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use common::{emulator, text};
use jira_mcp::Config;
use rmcp::{
    ServiceExt,
    model::CallToolRequestParams,
    transport::{ConfigureCommandExt, TokioChildProcess},
};
use sandbox_harness::{Backend, LABEL, Sandbox, connect_probe, docker, host_listener, image};
use serde_json::json;

/// Every labelled container on the host: these tests also watch the binary's containers.
fn leftovers() -> Vec<String> {
    docker(&["ps", "-a", "--filter", &format!("label={LABEL}"), "--format", "{{.Names}}"])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn require_host() {
    sandbox_harness::require_host(Backend::Docker);
}

async fn sandbox_with(tweak: impl FnOnce(&mut Config)) -> Sandbox {
    sandbox_harness::sandbox_with(Backend::Docker, tweak).await
}

async fn sandbox() -> Sandbox {
    sandbox_with(|_| {}).await
}

/// Calls run_python on any connected client and returns its text, asserting success.
async fn run_ok(client: &common::Client, code: &str) -> String {
    let request = CallToolRequestParams::new("run_python").with_arguments(common::args(json!({ "code": code })));
    let (is_error, out) = text(&client.call_tool(request).await.unwrap());
    assert!(!is_error, "run_python failed: {out}");
    out
}

fn assert_clean() {
    assert_eq!(leftovers(), Vec::<String>::new(), "a sandbox container was left behind");
}

#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn network_none_alone_blocks_the_connect_under_a_permissive_profile() {
    let (port, accepted) = host_listener().await;
    let probe = connect_probe(port);

    // A test profile that allows every socket: network=none alone still blocks the connect.
    // (The control that this probe does connect without isolation is in tests/sandbox_isolation.rs.)
    let permissive = concat!(env!("CARGO_MANIFEST_DIR"), "/seccomp/permissive-test.json");
    let sb = sandbox_with(|c| c.sandbox.seccomp_profile = Some(permissive.into())).await;
    let out = sb.ok(&probe).await;
    assert!(out.contains("connect failed errno"), "network=none must block the connect: {out}");
    assert!(!out.contains("CONNECTED"), "{out}");

    assert_eq!(accepted.await.unwrap(), 0, "nothing reached the host listener");
    assert_clean();
}

#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn runs_under_gvisor() {
    let sb = sandbox().await;
    let out = sb.ok("import os\nprint('release', os.uname().release)").await;
    // gVisor's Sentry reports its own kernel release; the host's differs (control).
    assert!(out.contains("release 4.4.0"), "runsc must be the runtime: {out}");
    let host_release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_ne!(host_release.trim(), "4.4.0", "the host kernel must differ for this check to mean anything");
    assert_clean();
}

#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn host_environment_and_jira_token_are_invisible_inside() {
    require_host();
    let emu = emulator().await;
    let marker = "JIRA_MCP_ENV_MARKER_7f3a";
    let probe = format!(
        "import os\nseen = ' '.join(f'{{k}}={{v}}' for k, v in os.environ.items())\ntry:\n    seen += open('/proc/1/environ').read()\nexcept OSError:\n    pass\nprint('MARKER LEAKED' if '{marker}' in seen else 'no marker')\nprint('TOKEN LEAKED' if 'demo-token' in seen else 'no token')\n"
    );
    // Control: the same probe, run by the host's python with the same environment, sees both.
    let control = Command::new("python3")
        .args(["-c", &probe])
        .env("JIRA_MCP_TEST_MARKER", marker)
        .env("JIRA_API_TOKEN", "demo-token")
        .output()
        .unwrap();
    let control = String::from_utf8_lossy(&control.stdout);
    assert!(control.contains("MARKER LEAKED") && control.contains("TOKEN LEAKED"), "control must detect: {control}");

    // The real server, as a client would start it, with the marker and the token in its environment.
    let url = emu.url();
    let cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_jira-mcp")).configure(|c| {
        c.env("JIRA_URL", &url)
            .env("JIRA_USERNAME", "demo@example.com")
            .env("JIRA_API_TOKEN", "demo-token")
            .env("JIRA_MCP_TEST_MARKER", marker);
    });
    let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();
    let out = run_ok(&client, &probe).await;
    assert!(out.contains("no marker") && out.contains("no token"), "{out}");
    client.cancel().await.unwrap();
    assert_clean();
}

#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn run_python_over_stdio_end_to_end() {
    require_host();
    let cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_jira-mcp")).configure(|c| {
        c.arg("demo");
    });
    let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();
    let out = run_ok(&client, "print(6 * 7)").await;
    assert!(out.starts_with("exit code 0 |") && out.contains(" ---\n42\n--- stderr "), "{out}");
    client.cancel().await.unwrap();
    assert_clean();
}

#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn sigterm_on_the_http_server_drains_then_cancels_in_flight_runs_and_removes_their_containers() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use rmcp::transport::{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig};

    require_host();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let token = "sigterm-test-token-0123456789abcdef0123";
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_jira-mcp"))
        .args(["demo", "--http", &format!("127.0.0.1:{port}")])
        .env("JIRA_MCP_HTTP_TOKEN", token)
        // The drain: 1 s not ready, then 2 s for calls in flight, then they are cancelled.
        .env("JIRA_MCP_HTTP_DRAIN_DELAY_SECS", "1")
        .env("JIRA_MCP_HTTP_DRAIN_SECS", "2")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let health = format!("http://127.0.0.1:{port}/healthz");
    let started = Instant::now();
    while reqwest::get(&health).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "HTTP server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(format!("http://127.0.0.1:{port}/mcp")).auth_header(token),
    );
    let client = ().serve(transport).await.unwrap();
    let call = tokio::spawn(async move {
        client
            .call_tool(
                CallToolRequestParams::new("run_python")
                    .with_arguments(common::args(json!({ "code": "import time\ntime.sleep(60)" }))),
            )
            .await
    });
    let started = Instant::now();
    while leftovers().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(15), "the run never started a container");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = i32::try_from(child.id().unwrap()).unwrap();
    kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!leftovers().is_empty(), "the drain lets a call in flight go on at first");
    // Delay + drain bound + at most 10 s to remove the sandbox.
    let status =
        tokio::time::timeout(Duration::from_secs(20), child.wait()).await.expect("server exits after SIGTERM").unwrap();
    assert!(status.success(), "graceful exit: {status:?}");
    let answer = tokio::time::timeout(Duration::from_secs(5), call).await;
    // The wording is tests/http_fleet.rs's to check; here, if the answer came through, it is the drain's.
    if let Ok(Ok(Ok(result))) = answer {
        let (is_error, text) = common::text(&result);
        assert!(is_error && text.contains("JIRA_MCP_HTTP_DRAIN_SECS"), "{text}");
    }
    let started = Instant::now();
    while !leftovers().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "in-flight container survived shutdown: {:?}",
            leftovers()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `pid:start time` of a live process, as the server labels its containers.
fn identity(pid: u32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start = stat.rsplit_once(')').unwrap().1.split_whitespace().nth(19).unwrap().to_owned();
    format!("{pid}:{start}")
}

/// The owner label a running server writes: `pid:start:pid-namespace`.
fn owner_label(pid: u32) -> String {
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    let ns = ns.to_str().unwrap().trim_start_matches("pid:[").trim_end_matches(']').to_owned();
    format!("{}:{ns}", identity(pid))
}

fn labelled_container(owner: Option<&str>) -> String {
    let mut args = vec!["create".to_owned(), "--label".to_owned(), format!("{LABEL}=1")];
    if let Some(o) = owner {
        args.extend(["--label".to_owned(), format!("io.github.jira-mcp.owner={o}")]);
    }
    args.extend([image(), "/usr/bin/python3".to_owned(), "-c".to_owned(), "pass".to_owned()]);
    docker(&args.iter().map(String::as_str).collect::<Vec<_>>()).trim().to_owned()
}

#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn leftovers_of_dead_servers_are_swept_but_live_servers_runs_are_not() {
    require_host();
    // As a crashed server leaves them: labelled, owner gone.
    let dead = labelled_container(Some("999999999:1"));
    // Owner unknown (no owner label): cannot tell, so kept until it is older
    // than any run could be (that age rule is unit-tested in the janitor).
    let unowned = labelled_container(None);
    // As another live jira-mcp's in-flight run looks: owned by a live process (pid 1 here).
    let live = labelled_container(Some(&identity(1)));
    assert_eq!(leftovers().len(), 3, "control: the check sees all three");
    let sb = sandbox().await;
    assert!(sb.ok("print('first run')").await.contains("first run"));
    let left = docker(&["ps", "-a", "-q", "--no-trunc", "--filter", &format!("label={LABEL}")]);
    assert!(!left.contains(&dead), "a dead server's leftover was not swept: {left}");
    assert!(left.contains(&live), "a live server's container was removed");
    assert!(left.contains(&unowned), "a young container whose owner cannot be told was removed");
    docker(&["rm", "-f", &live, &unowned]);
    assert_clean();
}

/// `jira-mcp demo` over stdio, initialized and asked to run `code`; its stdin stays open.
async fn stdio_server_running(code: &str) -> (tokio::process::Child, tokio::process::ChildStdin) {
    stdio_server_calling(json!({ "code": code })).await
}

/// `jira-mcp demo` over stdio, initialized and calling run_python with `arguments`.
async fn stdio_server_calling(arguments: serde_json::Value) -> (tokio::process::Child, tokio::process::ChildStdin) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_jira-mcp"))
        .arg("demo")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines = [
        json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": { "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "0" } } }),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "run_python", "arguments": arguments } }),
    ];
    for l in lines {
        stdin.write_all(format!("{l}\n").as_bytes()).await.unwrap();
    }
    (child, stdin)
}

#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn a_client_that_disconnects_mid_run_leaves_no_container() {
    require_host();
    let (mut child, stdin) = stdio_server_running("import time\ntime.sleep(25)").await;
    let started = Instant::now();
    while leftovers().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(15), "the run never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(stdin); // the client goes away mid-run
    let status =
        tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("server exits after EOF").unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "it did not wait for the 25 s run");
    assert_clean();
}

/// A scratch directory under the temp dir with the given mode.
fn scratch_dir(name: &str, mode: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("jira-mcp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
    dir
}

// Red-team finding 1: a pre-created world-writable data folder let a local user read every run's
// issue data and swap in a symlink to a root-only host folder.
#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn a_data_folder_others_can_write_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir("open-data", 0o777);
    let sb = sandbox_with(|c| c.sandbox.data_dir = Some(dir.clone())).await;
    let read = "import json\nprint('n', len(json.load(open('/data/issues.json'))))";
    let (is_error, out) = sb.run(read, json!({ "jql": "project = OPS" })).await;
    assert!(is_error, "{out}");
    assert!(
        out.starts_with(&format!(
            "run_python is unavailable: the issue data cannot be staged safely under {d} ({d} is writable by other \
             users (mode 777)). Fix: remove it so the server recreates it privately, or set JIRA_MCP_SANDBOX_DATA_DIR",
            d = dir.display()
        )),
        "{out}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no issue data was written into it");
    // Control: the same folder, private, works.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711)).unwrap();
    let (is_error, out) = sb.run(read, json!({ "jql": "project = OPS" })).await;
    assert!(!is_error && out.contains("n 1"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_clean();
}

fn inspect(id: &str, format: &str) -> String {
    docker(&["inspect", "--format", format, id]).trim().to_owned()
}

// Red-team finding 2: an output flood grew Docker's json-file log by 3 GB in 20 s.
#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn an_output_flood_leaves_no_log_file_on_the_host() {
    // Control: a container with Docker's default logging does get a log file the probe finds.
    let control = docker(&[
        "run",
        "-d",
        "--runtime",
        "runsc",
        "--log-driver",
        "json-file",
        "--network",
        "none",
        &image(),
        "/usr/bin/python3",
        "-c",
        "print('x' * 100000)",
    ]);
    let control = control.trim();
    docker(&["wait", control]);
    let log = inspect(control, "{{.LogPath}}");
    let size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    docker(&["rm", "-f", control]);
    assert!(size > 100_000, "control: the default driver writes {log:?} ({size} bytes)");

    let sb = sandbox().await;
    let watcher = async {
        let started = Instant::now();
        let id = loop {
            if let Some(id) = leftovers().first() {
                break id.clone();
            }
            assert!(started.elapsed() < Duration::from_secs(20), "the run never started");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        tokio::time::sleep(Duration::from_secs(2)).await;
        (inspect(&id, "{{.HostConfig.LogConfig.Type}}"), inspect(&id, "{{.LogPath}}"))
    };
    let flood = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)";
    let ((is_error, out), (driver, log)) = tokio::join!(sb.run(flood, json!({ "timeout_s": 5 })), watcher);
    assert!(!is_error, "{out:.300}");
    assert_eq!((driver.as_str(), log.as_str()), ("none", ""), "no log file while flooding");
    assert!(out.contains("xxxxxxxx") && out.contains("[output truncated: "), "attach still works: {out:.300}");
    assert_clean();
}

// Issue 10 item 3: stdio mode exited at once on SIGTERM and a `while True: pass`
// container kept a CPU busy until removed by hand.
#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn sigterm_on_the_stdio_server_cancels_the_run_and_removes_its_container() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    require_host();
    let (mut child, stdin) = stdio_server_running("while True:\n    pass").await;
    // Only this server's containers: other test runs may share the Docker host.
    let owner = owner_label(child.id().unwrap());
    let ours = || docker(&["ps", "-a", "-q", "--filter", &format!("label=io.github.jira-mcp.owner={owner}")]);
    let started = Instant::now();
    while ours().trim().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(15), "the run never started a container");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Control: the probe sees the running container before the signal.
    assert!(!ours().trim().is_empty());
    let signalled = Instant::now();
    kill(Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap()), Signal::SIGTERM).unwrap();
    // stdin stays open: the server must not wait for the client to hang up.
    let status =
        tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("server exits after SIGTERM").unwrap();
    assert!(status.success(), "graceful exit: {status:?}");
    assert!(ours().trim().is_empty(), "the container outlived the server: {}", ours());
    assert!(signalled.elapsed() < Duration::from_secs(15), "it did not wait for the 30 s run");
    drop(stdin);
}

// Issue 10 item 3, second half: a limit that holds even if the server dies
// outright. PID 1 is a root supervisor the code (uid 65534) cannot signal; it
// exits shortly after the wall-clock limit, which stops the container.
const SUPERVISOR_PROBE: &str = r#"
import os, signal, time
def status(pid, field):
    return [l.split()[1] for l in open(f'/proc/{pid}/status') if l.startswith(field + ':')][0]
# Control: a process of the code's own uid is stopped and killed by the same calls.
sibling = os.fork()
if sibling == 0:
    while True:
        time.sleep(1)
os.kill(sibling, signal.SIGSTOP)
print('control SIGSTOP', 'stopped' if os.WIFSTOPPED(os.waitpid(sibling, os.WUNTRACED)[1]) else 'running')
os.kill(sibling, signal.SIGKILL)
print('control SIGKILL', 'killed' if os.WIFSIGNALED(os.waitpid(sibling, 0)[1]) else 'alive')
for target in (1, -1):
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.kill(target, sig)
            print('kill', target, sig.name, 'SENT')
        except OSError as e:
            print('kill', target, sig.name, 'errno', e.errno)
print('parent', os.getppid(), 'uid', status(1, 'Uid'), 'state', status(1, 'State'))
print('me uid', os.getuid(), status('self', 'CapEff'), status('self', 'CapPrm'))
raise SystemExit(7)
"#;

#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn the_code_cannot_stop_or_kill_the_supervisor() {
    let sb = sandbox().await;
    let (is_error, out) = sb.run(SUPERVISOR_PROBE, json!({})).await;
    assert!(!is_error, "{out}");
    // Control: the probe does see success where signalling is permitted.
    assert!(out.contains("control SIGSTOP stopped") && out.contains("control SIGKILL killed"), "{out}");
    // PID 1 refuses: another uid, and the code has no CAP_KILL (EPERM).
    assert!(out.contains("kill 1 SIGSTOP errno 1") && out.contains("kill 1 SIGKILL errno 1"), "{out}");
    // kill(-1) reaches nothing (ESRCH): PID 1 and other uids are out of its reach.
    assert!(out.contains("kill -1 SIGSTOP errno 3") && out.contains("kill -1 SIGKILL errno 3"), "{out}");
    // The supervisor is root, sleeping (not stopped), and the code's parent.
    assert!(out.contains("parent 1 uid 0 state S"), "{out}");
    assert!(out.contains("me uid 65534 0000000000000000 0000000000000000"), "{out}");
    // It outlived the attempts: it passed the code's exit status on.
    assert!(out.starts_with("exit code 7 |"), "{out}");
    assert_clean();
}

#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn a_killed_server_leaves_no_running_container() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    require_host();
    const LIMIT: u64 = 3;
    let spin = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass";
    let (mut child, stdin) = stdio_server_calling(json!({ "code": spin, "timeout_s": LIMIT })).await;
    let owner = owner_label(child.id().unwrap());
    let filter = format!("label=io.github.jira-mcp.owner={owner}");
    let running = || docker(&["ps", "-q", "--no-trunc", "--filter", &filter]).trim().to_owned();
    let started = Instant::now();
    while running().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(15), "the run never started a container");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Control: the container is running, so the probe below can tell.
    let id = running();
    let pid = child.id().unwrap();
    kill(Pid::from_raw(i32::try_from(pid).unwrap()), Signal::SIGKILL).unwrap();
    let killed = Instant::now();
    // Not reaped until the end: a zombie runs no code, yet keeps its /proc entry, so the
    // janitor of another jira-mcp on this Docker host (a parallel test run) takes the
    // owner for alive and leaves the container to the supervisor, which is under test.
    let state =
        || std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap().rsplit_once(") ").unwrap().1[..1].to_owned();
    while state() != "Z" {
        assert!(killed.elapsed() < Duration::from_secs(15), "SIGKILL did not end the server");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(running(), id, "nobody stopped it: the server is gone");
    // Nobody is left to stop it: the container stops itself. The bound only
    // ends the poll; the figure is printed (limit + grace + gVisor's start).
    while !running().is_empty() {
        assert!(killed.elapsed() < Duration::from_secs(60), "the container outlived its dead server: {id}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("container stopped {:.1} s after the server was killed", killed.elapsed().as_secs_f64());
    // The supervisor's deadline ended it (exit 124), not Docker or the test.
    assert_eq!(inspect(&id, "{{.State.ExitCode}}").trim(), "124");
    docker(&["rm", "-f", &id]);
    assert!(!child.wait().await.unwrap().success(), "the server died outright");
    drop(stdin);
    assert_clean();
}
