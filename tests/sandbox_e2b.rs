//! The E2B backend against the scripted double (tests/e2b_double): the protocol,
//! the kill on every path (success, timeout, refusal, cancellation, shutdown),
//! the refusals when a guarantee is missing, the caps, the sweep, and that no
//! secret reaches a sandbox. Nothing runs code here: isolation itself is the
//! battery's (tests/sandbox_isolation.rs), and only real E2B shows the VM's.

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

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use common::{call, config_for, connect, emulator, text};
use e2b_double::{API_KEY, Double, Exec, Step};
use jira_mcp::{JiraMcp, config::SandboxBackend};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

/// A double whose every run answers `steps(code)`.
async fn double(steps: impl Fn(&str) -> Vec<Step> + Send + Sync + 'static) -> Double {
    Double::start(Exec::Scripted(Arc::new(move |files: &HashMap<String, Vec<u8>>| {
        let code = files.get("/root/jira-mcp/main.py").map(|c| String::from_utf8_lossy(c).into_owned());
        steps(&code.unwrap_or_default())
    })))
    .await
}

fn report(v: Value) -> Step {
    Step::Write("/root/jira-mcp/report.json".to_owned(), v.to_string().into_bytes())
}

/// What the launcher does for a run that exits with `code` after printing `out`.
fn ran(out: &str, code: i32) -> Vec<Step> {
    vec![
        Step::Stdout(out.as_bytes().to_vec()),
        report(json!({ "exit_code": code, "oom_killed": false })),
        Step::Exit(code),
    ]
}

async fn server(d: &Double, key: Option<&str>) -> (JiraMcp, common::Client, jira_mcp::emulator::Emulator) {
    let emu = emulator().await;
    let mut config = config_for(&emu);
    let mut e2b = d.config();
    if let Some(k) = key {
        e2b.api_key = k.to_owned().into();
    }
    config.sandbox.backend = SandboxBackend::E2b(e2b);
    let mcp = JiraMcp::new(&config).unwrap();
    let client = connect(mcp.clone()).await;
    (mcp, client, emu)
}

async fn run(client: &common::Client, args: Value) -> (bool, String) {
    text(&call(client, "run_python", args).await)
}

/// Waits (bounded) until `f` holds; the bound only turns a hang into a failure.
async fn eventually(what: &str, f: impl Fn() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < Duration::from_secs(20), "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn requests<'a>(d: &'a [e2b_double::Exchange], method: &str, path: &str) -> Vec<&'a e2b_double::Exchange> {
    d.iter().filter(|e| e.method == method && e.path == path).collect()
}

#[tokio::test]
async fn a_run_creates_an_offline_labelled_sandbox_uploads_as_root_and_kills_it() {
    let d = double(|code| if code == "print(1)" { ran("1\n", 0) } else { ran("", 1) }).await;
    let (_, client, _emu) = server(&d, None).await;
    let (is_error, out) = run(&client, json!({ "code": "print(1)", "jql": "project = OPS" })).await;
    assert!(!is_error, "{out}");
    assert!(out.contains("exit code 0"), "{out}");
    assert!(out.contains("\n1\n"), "{out}");
    let seen = d.exchanges();
    let create = &requests(&seen, "POST", "/sandboxes")[0];
    let body = create.request.as_ref().unwrap();
    assert_eq!(body["allow_internet_access"], false);
    assert_eq!(body["network"]["denyOut"], json!(["0.0.0.0/0"]));
    assert_eq!(body["metadata"]["io.github.jira-mcp.sandbox"], "1");
    assert_eq!(body["timeout"], 30 + 30, "the run's limit plus the grace for creation and uploads");
    assert_eq!(
        (body["secure"].clone(), body["autoPause"].clone(), body["envVars"].clone()),
        (json!(true), json!(false), json!({}))
    );
    let uploads: Vec<String> = requests(&seen, "POST", "/files")
        .iter()
        .map(|e| {
            let q: HashMap<_, _> = e.query.iter().cloned().collect();
            assert_eq!(q["username"], "root", "uploaded as root, so the code cannot change them");
            q["path"].clone()
        })
        .collect();
    assert_eq!(
        uploads,
        ["/root/jira-mcp/launch.py", "/root/jira-mcp/run.json", "/root/jira-mcp/main.py", "/data/issues.json"]
    );
    let start = &requests(&seen, "POST", "/process.Process/Start")[0];
    assert_eq!(
        start.request.as_ref().unwrap()["process"]["args"],
        json!(["-n", "/usr/bin/python3", "-I", "-S", "/root/jira-mcp/launch.py"])
    );
    assert_eq!(d.killed().len(), 1, "killed after the run");
    assert!(d.live().is_empty());
}

#[tokio::test]
async fn no_secret_reaches_the_sandbox() {
    let d = double(|_| ran("ok\n", 0)).await;
    let (_, client, _emu) = server(&d, None).await;
    assert!(!run(&client, json!({ "code": "print('ok')" })).await.0);
    for e in d.exchanges() {
        let sent = format!("{:?} {:?}", e.request, e.query);
        assert!(!sent.contains(API_KEY), "the E2B key travels only in X-API-Key: {} {}", e.method, e.path);
        assert!(!sent.contains(jira_mcp::emulator::DEMO_TOKEN), "the Jira token never leaves for E2B");
    }
    // Control: the key does travel, as a header, so the scan above looks where it could leak.
    assert!(d.exchanges().iter().any(|e| e.host == "api" && e.status == 201));
}

#[tokio::test]
async fn the_wall_clock_limit_is_kept_from_our_side_and_the_sandbox_is_killed() {
    let d = double(|_| vec![Step::Stdout(b"started\n".to_vec()), Step::Hang]).await;
    let (_, client, _emu) = server(&d, None).await;
    let (is_error, out) = run(&client, json!({ "code": "import time\ntime.sleep(60)", "timeout_s": 2 })).await;
    assert!(!is_error, "{out}");
    assert!(out.starts_with("TIMED OUT after 2 s"), "{out}");
    assert!(out.contains("started"), "output before the limit is kept: {out}");
    assert_eq!(d.killed().len(), 1);
    assert!(d.live().is_empty());
}

#[tokio::test]
async fn output_is_capped_with_the_same_marker_as_docker() {
    let d = double(|_| {
        let mut steps: Vec<Step> = (0..16).map(|_| Step::Stdout(vec![b'y'; 65536])).collect();
        steps.extend(ran("", 0));
        steps
    })
    .await;
    let (_, client, _emu) = server(&d, None).await;
    let (_, out) = run(&client, json!({ "code": "import sys\nsys.stdout.write('y' * 1_000_000)" })).await;
    assert!(out.contains("[output truncated: "), "{out:.200}");
    assert!(out.len() < 80_000, "capped near 64 KiB, got {}", out.len());
}

#[tokio::test]
async fn a_launcher_that_cannot_harden_makes_the_run_refuse_with_its_reason() {
    let d = double(|_| {
        vec![
            Step::Stderr(b"jira-mcp launcher: refusing to run the code: remounting / read-only failed\n".to_vec()),
            report(json!({ "refused": "remounting / read-only failed (Operation not permitted)" })),
            Step::Exit(121),
        ]
    })
    .await;
    let (_, client, _emu) = server(&d, None).await;
    let (is_error, out) = run(&client, json!({ "code": "print(1)" })).await;
    assert!(is_error, "{out}");
    assert!(
        out.starts_with(
            "run_python is unavailable: the E2B sandbox cannot be hardened as run_python requires: remounting / \
             read-only failed (Operation not permitted). Fix: use an E2B template (JIRA_MCP_E2B_TEMPLATE) with python3 \
             on x86_64 whose default user has passwordless sudo, or set JIRA_MCP_SANDBOX_BACKEND=docker"
        ),
        "{out}"
    );
    assert_eq!(d.killed().len(), 1, "killed on the refusal path too");
}

#[tokio::test]
async fn without_the_launchers_report_nothing_counts_as_run() {
    // As a template without passwordless sudo answers: the launcher never starts.
    let d = double(|_| vec![Step::Stderr(b"sudo: a password is required\n".to_vec()), Step::Exit(1)]).await;
    let (_, client, _emu) = server(&d, None).await;
    let (is_error, out) = run(&client, json!({ "code": "print(1)" })).await;
    assert!(is_error, "{out}");
    assert!(
        out.starts_with(
            "run_python is unavailable: the hardening launcher did not run in the E2B sandbox: exit status 1; stderr: \
             sudo: a password is required. Fix: use an E2B template"
        ),
        "{out}"
    );
    assert_eq!(d.killed().len(), 1);
}

#[tokio::test]
async fn a_sandbox_whose_internet_access_is_not_confirmed_off_is_never_used() {
    let d = double(|_| ran("1\n", 0)).await;
    d.stop_reporting_internet_access();
    let (_, client, _emu) = server(&d, None).await;
    let (is_error, out) = run(&client, json!({ "code": "print(1)" })).await;
    assert!(is_error, "{out}");
    assert!(
        out.starts_with(
            "run_python is unavailable: E2B did not confirm that the sandbox's internet access is off \
             (allowInternetAccess: not reported)"
        ),
        "{out}"
    );
    let seen = d.exchanges();
    assert!(requests(&seen, "POST", "/files").is_empty(), "nothing was uploaded to it");
    assert!(requests(&seen, "POST", "/process.Process/Start").is_empty(), "nothing ran in it");
    assert_eq!(d.killed().len(), 1);
}

#[tokio::test]
async fn a_rejected_api_key_is_refused_with_the_fix_and_never_echoed() {
    let d = double(|_| ran("1\n", 0)).await;
    let wrong = "e2b_wrong_key_0000000000";
    let (_, client, _emu) = server(&d, Some(wrong)).await;
    let (is_error, out) = run(&client, json!({ "code": "print(1)" })).await;
    assert!(is_error, "{out}");
    assert!(
        out.starts_with(
            "run_python is unavailable: E2B rejected the credentials (401): Invalid API key, it must start with 'e2b_' \
             prefix. Fix: create an API key at https://e2b.dev/dashboard and set E2B_API_KEY"
        ),
        "{out}"
    );
    assert!(!out.contains(wrong));
    assert!(d.live().is_empty(), "nothing was created");
}

#[tokio::test]
async fn cancelling_the_call_kills_the_sandbox() {
    let d = double(|_| vec![Step::Hang]).await;
    let (_, client, _emu) = server(&d, None).await;
    let request = CallToolRequestParams::new("run_python")
        .with_arguments(common::args(json!({ "code": "import time\ntime.sleep(60)" })));
    let watch = d.clone();
    let call = client.call_tool(request);
    // Dropping the pending call makes the rmcp client send notifications/cancelled.
    let dropped = tokio::select! {
        r = call => Some(r),
        () = eventually("the sandbox is running", move || watch.live().len() == 1) => None,
    };
    assert!(dropped.is_none(), "the call ended on its own: {dropped:?}");
    let watch = d.clone();
    eventually("the cancelled run's sandbox is killed", move || watch.killed().len() == 1).await;
    assert!(d.live().is_empty());
}

#[tokio::test]
async fn shutdown_drains_running_runs_and_kills_their_sandboxes() {
    let d = double(|_| vec![Step::Hang]).await;
    let (mcp, client, _emu) = server(&d, None).await;
    let running = tokio::spawn(async move { run(&client, json!({ "code": "while True:\n    pass" })).await });
    let watch = d.clone();
    eventually("the sandbox is running", move || watch.live().len() == 1).await;
    mcp.drain_sandbox().await;
    assert!(d.live().is_empty(), "drain returns once the sandbox is killed");
    assert_eq!(d.killed().len(), 1);
    let (is_error, out) = running.await.unwrap();
    assert!(is_error && out.starts_with("run_python was cancelled"), "{out}");
}

#[tokio::test]
async fn the_sweep_kills_only_our_leftovers_older_than_any_run() {
    let d = double(|_| ran("", 0)).await;
    let ours = [("io.github.jira-mcp.sandbox", "1"), ("io.github.jira-mcp.owner", "crashed-server")];
    let old = d.seed(&ours, chrono::Duration::minutes(10));
    let young = d.seed(&ours, chrono::Duration::seconds(10));
    let foreign = d.seed(&[("app", "someone-else")], chrono::Duration::hours(2));
    assert_eq!(d.live().len(), 3, "control: all three are listed before the sweep");
    let (mcp, _client, _emu) = server(&d, None).await;
    mcp.sweep_sandbox().await;
    assert_eq!(d.killed(), [old]);
    let left: Vec<String> = d.live().into_iter().map(|b| b.id).collect();
    assert!(left.contains(&young) && left.contains(&foreign), "{left:?}");
}

/// Runs `code` in one of the double's sandboxes as E2B hands it over, without the
/// backend (and so without the launcher): create, `process.Process/Start`, kill.
async fn raw_run(d: &Double, code: &str) -> String {
    let port = d.addr.port();
    let api = reqwest::Client::builder()
        .resolve("api.e2b.local", d.addr)
        .tls_certs_only(Vec::<reqwest::Certificate>::new())
        .build()
        .unwrap();
    let created: Value = api
        .post(format!("http://api.e2b.local:{port}/sandboxes"))
        .header("X-API-Key", API_KEY)
        .json(&json!({ "templateID": "base", "secure": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, token) = (created["sandboxID"].as_str().unwrap(), created["envdAccessToken"].as_str().unwrap());
    let host = format!("49983-{id}.e2b.local");
    let envd = reqwest::Client::builder()
        .resolve(&host, d.addr)
        .tls_certs_only(Vec::<reqwest::Certificate>::new())
        .build()
        .unwrap();
    let message = json!({ "process": { "cmd": "/usr/bin/python3", "args": ["-c", code] }, "stdin": false }).to_string();
    let mut body = vec![0u8];
    body.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    body.extend_from_slice(message.as_bytes());
    let stream = envd
        .post(format!("http://{host}:{port}/process.Process/Start"))
        .header("X-Access-Token", token)
        .header("Content-Type", "application/connect+json")
        .body(body)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    api.delete(format!("http://api.e2b.local:{port}/sandboxes/{id}"))
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let (mut rest, mut out) = (&stream[..], String::new());
    while rest.len() >= 5 {
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let frame: Value = serde_json::from_slice(&rest[5..5 + len]).unwrap();
        if let Some(b) = frame["event"]["data"]["stdout"].as_str() {
            out.push_str(&String::from_utf8_lossy(
                &base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).unwrap(),
            ));
        }
        rest = &rest[5 + len..];
    }
    out
}

// What the battery (tests/sandbox_isolation.rs) sees through the double must come from
// the backend's launcher: the double's sandbox itself isolates nothing.
#[tokio::test]
#[ignore = "needs Docker + runsc"]
async fn the_doubles_sandboxes_isolate_nothing_of_their_own() {
    let d = Double::start(Exec::Docker { image: jira_mcp::config::DEFAULT_IMAGE.to_owned() }).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });
    let probe = format!(
        "import os, socket, subprocess\n\
                 print('uid', os.getuid())\n\
                 print([l for l in open('/proc/self/status') if l.startswith('CapEff')][0].strip())\n\
                 open('/etc/planted', 'w').write('x')\nprint('wrote /etc')\n\
                 socket.create_connection(('127.0.0.1', {port}), timeout=5)\nprint('connected')\n\
                 print('spawned', subprocess.run(['/bin/true']).returncode)\n\
                 print('sudo', subprocess.run(['sudo', '-n', 'true']).returncode)"
    );
    let out = raw_run(&d, &probe).await;
    assert!(out.contains("uid 0\n"), "{out}");
    assert!(!out.contains("CapEff:\t0000000000000000"), "{out}");
    for line in ["wrote /etc", "connected", "spawned 0", "sudo 0"] {
        assert!(out.contains(line), "{line}: {out}");
    }
    assert!(accepted.await.unwrap(), "the test's listener on the host's loopback saw the connection");
    assert!(d.live().is_empty(), "killed");
}

async fn doctor(d: &Double, key: &str) -> (bool, String) {
    let mut config = jira_mcp::config::SandboxConfig::default();
    let mut e2b = d.config();
    e2b.api_key = key.to_owned().into();
    config.backend = SandboxBackend::E2b(e2b);
    let mut out = Vec::new();
    let ok = jira_mcp::doctor::check_sandbox(&config, &mut out).await;
    (ok, String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn doctor_names_the_backend_and_checks_key_template_and_a_trial_run() {
    let d = double(|code| if code == "print(1)" { ran("1\n", 0) } else { ran("", 1) }).await;
    let (ok, text) = doctor(&d, API_KEY).await;
    assert!(ok, "{text}");
    let lines: Vec<&str> = text.lines().map(|l| l.split(" ran hardened in ").next().unwrap()).collect();
    assert_eq!(
        lines,
        [
            "✔ sandbox: backend: e2b (hosted at e2b.local, template base): the code and its /data files leave this \
             machine for E2B",
            "✔ sandbox: e2b API key: accepted by api.e2b.local",
            "✔ sandbox: e2b template: base is available to this team",
            "✔ sandbox: e2b trial run: print(1)",
        ]
    );
    assert_eq!(d.killed().len(), 1, "the trial run's sandbox was killed");
}

#[tokio::test]
async fn doctor_gives_the_fix_for_a_rejected_key_and_for_a_template_that_cannot_be_hardened() {
    let d = double(|_| vec![report(json!({ "refused": "the launcher is not root" })), Step::Exit(121)]).await;
    let wrong = "e2b_wrong_key_0000000000";
    let (ok, text) = doctor(&d, wrong).await;
    assert!(!ok);
    assert!(
        text.contains(
            "✘ sandbox: e2b API key: E2B rejected the credentials (401): Invalid API key, it must start with 'e2b_' \
             prefix; create an API key at https://e2b.dev/dashboard and set E2B_API_KEY (or E2B_API_KEY_FILE)\n"
        ),
        "{text}"
    );
    assert!(!text.contains(wrong) && !text.contains("trial run"), "{text}");
    let (ok, text) = doctor(&d, API_KEY).await;
    assert!(!ok);
    assert!(
        text.contains(
            "✘ sandbox: e2b trial run: the sandbox is unavailable: the E2B sandbox cannot be hardened as run_python \
             requires: the launcher is not root (fix: use an E2B template (JIRA_MCP_E2B_TEMPLATE) with python3 on \
             x86_64 whose default user has passwordless sudo, or set JIRA_MCP_SANDBOX_BACKEND=docker)\n"
        ),
        "{text}"
    );
}
