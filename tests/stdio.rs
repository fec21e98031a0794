//! Protocol layer: the built binary as a child process, spoken to over stdio
//! with the rmcp client, against the emulator.

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

use std::process::Stdio;

use common::{args, emulator};
use jira_mcp::emulator::{DEMO_EMAIL, DEMO_TOKEN, Emulator, Fault};
use rmcp::{
    ServiceExt,
    model::{CallToolRequestParams, GetPromptRequestParams, ReadResourceRequestParams},
    service::{RoleClient, RunningService},
    transport::{ConfigureCommandExt, TokioChildProcess},
};
use serde_json::json;
use tokio::io::AsyncReadExt;

const BIN: &str = env!("CARGO_BIN_EXE_jira-mcp");

fn command(emu: &Emulator, token: &str) -> tokio::process::Command {
    let url = emu.url();
    let token = token.to_owned();
    tokio::process::Command::new(BIN).configure(move |c| {
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("JIRA_URL", &url)
            .env("JIRA_USERNAME", DEMO_EMAIL)
            .env("JIRA_API_TOKEN", &token)
            .env("JIRA_MCP_RATE_LIMIT", "200")
            .env("JIRA_MCP_SANDBOX_RUNTIME", "no-such-runtime")
            .env("RUST_LOG", "debug");
    })
}

async fn spawn(emu: &Emulator, token: &str) -> (RunningService<RoleClient, ()>, tokio::process::ChildStderr) {
    let (transport, stderr) = TokioChildProcess::builder(command(emu, token)).stderr(Stdio::piped()).spawn().unwrap();
    let client = ().serve(transport).await.expect("the binary answers initialize");
    (client, stderr.expect("stderr is piped"))
}

async fn call_text(client: &RunningService<RoleClient, ()>, tool: &str, a: serde_json::Value) -> (bool, String) {
    let r = client.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args(a))).await.unwrap();
    common::text(&r)
}

#[tokio::test]
async fn full_session_over_stdio() {
    let emu = emulator().await;
    let (client, _stderr) = spawn(&emu, DEMO_TOKEN).await;
    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "jira-mcp");
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(instructions.contains("MORE AVAILABLE") && instructions.contains("confirm_token"), "{instructions}");

    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 15);
    assert_eq!(client.list_all_resources().await.unwrap().len(), 2);
    assert_eq!(client.list_all_resource_templates().await.unwrap().len(), 1);
    assert_eq!(client.list_all_prompts().await.unwrap().len(), 3);

    // Every tool, once, on its happy path (run_python: the sandbox is absent here, which it must say).
    let calls = [
        ("search_issues", json!({ "project": "DEMO", "page_size": 3 }), "MORE AVAILABLE: call search_issues again"),
        ("get_issue", json!({ "key": "DEMO-1" }), "DEMO-1: Login page times out on slow networks"),
        ("create_issue", json!({ "project": "OPS", "issue_type": "Task", "summary": "Rotate keys" }), "Created OPS-"),
        ("update_issue", json!({ "key": "DEMO-2", "add_labels": ["q4"] }), "Updated DEMO-2: labels +q4"),
        ("transition_issue", json!({ "key": "DEMO-2", "status": "In Review" }), "Moved DEMO-2 to \"In Review\""),
        ("add_comment", json!({ "key": "DEMO-2", "body": "done *soon*" }), "to DEMO-2."),
        ("summarize_project", json!({ "project": "OPS" }), "By status: "),
        ("delete_issue", json!({ "key": "DEMO-5" }), "PREVIEW (nothing deleted yet)"),
    ];
    for (tool, a, expected) in calls {
        let (is_error, text) = call_text(&client, tool, a).await;
        assert!(!is_error && text.contains(expected), "{tool}: {text}");
    }
    let (is_error, text) = call_text(&client, "run_python", json!({ "code": "print(1)" })).await;
    assert!(is_error && text.starts_with("run_python is unavailable: "), "{text}");

    // A wrong id: the message names the key and the next move.
    let (is_error, text) = call_text(&client, "get_issue", json!({ "key": "DEMO-777" })).await;
    assert!(is_error);
    assert!(text.starts_with("Issue DEMO-777 was not found (404)") && text.contains("search_issues"), "{text}");

    let r = client.read_resource(ReadResourceRequestParams::new("jira://issue/DEMO-1")).await.unwrap();
    assert!(format!("{r:?}").contains("Login page times out"));
    let p = client
        .get_prompt(GetPromptRequestParams::new("triage").with_arguments(args(json!({ "project": "demo" }))))
        .await
        .unwrap();
    assert!(format!("{p:?}").contains("Triage Jira project DEMO"));

    // A rate limit that outlasts the retry budget: say how long to wait. Last Jira call: the
    // shared limiter now holds every caller for those 60 s.
    emu.inject(Fault { path_contains: "/search/jql".into(), status: 429, times: 10, retry_after: Some(60) });
    let (is_error, text) = call_text(&client, "search_issues", json!({ "project": "DEMO" })).await;
    assert!(is_error);
    assert!(
        text.starts_with("Jira's rate limit was hit (429, jira-burst-based)") && text.contains("Wait 60 s"),
        "{text}"
    );

    // Unknown tools are protocol errors; unknown arguments are rejected in-band.
    let unknown = client.call_tool(CallToolRequestParams::new("no_such_tool")).await.unwrap_err().to_string();
    assert!(
        unknown.contains("unknown tool \"no_such_tool\"; available: add_attachment, add_comment, create_issue"),
        "{unknown}"
    );
    let (is_error, text) = call_text(&client, "get_issue", json!({ "key": "DEMO-1", "columns": "all" })).await;
    assert!(is_error && text.contains("unknown field `columns`"), "{text}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn expired_token_is_explained_and_never_printed() {
    let emu = emulator().await;
    let secret = "s3cr3t-token-that-must-never-appear";
    let (client, mut stderr) = spawn(&emu, secret).await;
    let (is_error, text) = call_text(&client, "search_issues", json!({ "project": "DEMO" })).await;
    assert!(is_error);
    assert!(
        text.starts_with(
            "Jira rejected the credentials (401): the API token for JIRA_USERNAME is invalid or has expired."
        ),
        "{text}"
    );
    assert!(text.contains("https://id.atlassian.com/manage-profile/security/api-tokens"), "{text}");
    assert!(!text.contains(secret));
    client.cancel().await.unwrap();
    let mut logs = String::new();
    stderr.read_to_string(&mut logs).await.unwrap();
    assert!(logs.contains("tool call"), "debug logs were captured: {logs}");
    assert!(!logs.contains(secret), "the token leaked into the logs");
}

// Red-team finding 6: an echoed Authorization header reached the model, and at RUST_LOG=debug rmcp
// logs whole requests and responses to stderr.
#[tokio::test]
async fn an_echoed_credential_is_scrubbed_from_results_and_debug_logs() {
    use base64::Engine;
    let emu = emulator().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{DEMO_EMAIL}:{DEMO_TOKEN}"));
    let (client, mut stderr) = spawn(&emu, DEMO_TOKEN).await;
    // get_issue sends the issue request and the field catalogue's side by side, and the echo
    // goes to whichever arrives first: echo both, so the issue's is always one of them.
    emu.echo_authorization(2);
    let (is_error, text) = call_text(&client, "get_issue", json!({ "key": "DEMO-1", "include": [] })).await;
    assert!(is_error && text.contains("Authorization: Basic [REDACTED]"), "{text}");
    // The model (or a prompt-injected issue) puts the credential into a call: logged at debug, scrubbed.
    let (_, text) = call_text(&client, "search_issues", json!({ "jql": format!("text ~ \"{basic}\"") })).await;
    assert!(!text.contains(&basic), "{text}");
    client.cancel().await.unwrap();
    let mut logs = String::new();
    stderr.read_to_string(&mut logs).await.unwrap();
    // Control: the request and the response were logged, with the credential where it was.
    assert!(logs.contains("String(\"text ~ \\\"[REDACTED]\\\"\")"), "{logs}");
    assert!(!logs.contains(&basic) && !logs.contains(DEMO_TOKEN), "the credential leaked into the logs: {logs}");
}

#[tokio::test]
async fn missing_configuration_fails_fast_with_one_line() {
    let out = std::process::Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing on the MCP wire");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        "jira-mcp: configuration error: JIRA_URL is not set: set it to your site, e.g. https://your-site.atlassian.net \
         (see README.md#configuration)"
    );
}

#[tokio::test]
async fn malformed_configuration_names_the_variable() {
    let out = std::process::Command::new(BIN)
        .env_clear()
        .env("JIRA_URL", "https://x.atlassian.net")
        .env("JIRA_USERNAME", "me@example.com")
        .env("JIRA_API_TOKEN", "t")
        .env("JIRA_MCP_READ_ONLY", "perhaps")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "jira-mcp: configuration error: JIRA_MCP_READ_ONLY is invalid: \"perhaps\" is not a boolean; use true or false \
         (see README.md#configuration)"
    );
}

#[tokio::test]
async fn doctor_reports_who_you_are_or_what_is_wrong() {
    let emu = emulator().await;
    let run = |token: &str| {
        tokio::process::Command::new(BIN)
            .arg("doctor")
            .env_clear()
            .env("JIRA_URL", emu.url())
            .env("JIRA_USERNAME", DEMO_EMAIL)
            .env("JIRA_API_TOKEN", token)
            .env("JIRA_MCP_SANDBOX_RUNTIME", "no-such-runtime")
            .output()
    };
    let good = run(DEMO_TOKEN).await.unwrap();
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert_eq!(good.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("✔ jira: authenticated as Dana Demo <demo@example.com>"), "{stdout}");
    assert!(stdout.contains("✔ JIRA_API_TOKEN: set (10 characters, not shown)"), "{stdout}");
    assert!(!stdout.contains(DEMO_TOKEN), "{stdout}");
    assert!(stdout.contains("✘ sandbox: "), "the bogus runtime is reported: {stdout}");
    let bad = run("wrong").await.unwrap();
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("✘ jira: Jira answered 401: the API token is invalid or expired"), "{stdout}");
}

/// The binary with raw pipes: lines in, lines out.
struct Raw {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl Raw {
    fn spawn(emu: &Emulator) -> Self {
        Self::spawn_with(emu, &[])
    }

    fn spawn_with(emu: &Emulator, vars: &[(&str, &str)]) -> Self {
        let mut command = command(emu, DEMO_TOKEN);
        for (k, v) in vars {
            command.env(k, v);
        }
        let mut child = command
            .env("RUST_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stdout.take().unwrap()));
        Self { child, stdin, stdout }
    }

    async fn send(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.write_all(b"\n").await.unwrap();
    }

    /// The next line the server writes, as JSON (10 s at most).
    async fn reply(&mut self) -> serde_json::Value {
        let line = tokio::time::timeout(std::time::Duration::from_secs(10), self.stdout.next_line())
            .await
            .expect("a reply within 10 s")
            .unwrap()
            .expect("the server is still running");
        serde_json::from_str(&line).unwrap()
    }

    async fn initialize(&mut self) {
        self.send(
            &json!({ "jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "raw", "version": "0" } } })
            .to_string(),
        )
        .await;
        let reply = self.reply().await;
        assert_eq!(reply["id"], "init", "{reply}");
        assert_eq!(reply["result"]["serverInfo"]["name"], "jira-mcp", "{reply}");
        self.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
    }
}

// Issue 9 item 9: one notification or stray response before initialize ended the
// process with "expect initialized request".
#[tokio::test]
async fn messages_before_initialize_that_a_server_may_ignore_do_not_end_the_session() {
    let emu = emulator().await;
    for early in [
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#,
        r#"{"jsonrpc":"2.0","method":"made/up"}"#,
        r#"{"jsonrpc":"2.0","id":5,"result":{}}"#,
        r#"{"jsonrpc":"2.0","id":6,"error":{"code":-32000,"message":"stray"}}"#,
    ] {
        let mut raw = Raw::spawn(&emu);
        raw.send(early).await;
        raw.initialize().await;
        raw.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#).await;
        let reply = raw.reply().await;
        assert_eq!(reply["result"]["tools"].as_array().map(Vec::len), Some(15), "after {early}: {reply}");
    }
}

// Issue 9 item 10: invalid JSON and over-deep nesting got no reply at all, and a
// 10 MB method name became a 10 MB log line.
#[tokio::test]
async fn invalid_json_gets_a_parse_error_and_logs_stay_bounded() {
    let emu = emulator().await;
    let mut raw = Raw::spawn(&emu);
    raw.send("{this is not json").await;
    let reply = raw.reply().await;
    assert_eq!(reply["id"], serde_json::Value::Null, "{reply}");
    assert_eq!(reply["error"]["code"], -32700, "{reply}");
    raw.initialize().await;
    raw.send(&"[".repeat(100_000)).await;
    let reply = raw.reply().await;
    assert_eq!((reply["id"].clone(), reply["error"]["code"].clone()), (json!(null), json!(-32700)), "{reply}");
    let huge = format!(r#"{{"jsonrpc":"2.0","id":3,"method":"{}"}}"#, "m".repeat(10 * 1024 * 1024));
    raw.send(&huge).await;
    let reply = raw.reply().await;
    assert_eq!((reply["id"].clone(), reply["error"]["code"].clone()), (json!(3), json!(-32601)), "{reply}");
    raw.send(r#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#).await;
    assert_eq!(raw.reply().await["id"], 4, "still serving");
    drop(raw.stdin);
    let out = tokio::time::timeout(std::time::Duration::from_secs(15), raw.child.wait_with_output())
        .await
        .expect("exits at EOF")
        .unwrap();
    let longest = String::from_utf8_lossy(&out.stderr).lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 4096, "a log line copied client input: {longest} bytes");
}

// Issue 10 item 3: stdio mode exited at once on SIGTERM, leaving run_python's
// container running; now it stops like HTTP mode: cancel, drain, exit 0.
#[tokio::test]
async fn sigterm_stops_the_stdio_server_cleanly() {
    for signal in [nix::sys::signal::Signal::SIGTERM, nix::sys::signal::Signal::SIGHUP] {
        let emu = emulator().await;
        let mut raw = Raw::spawn(&emu);
        raw.initialize().await;
        let pid = nix::unistd::Pid::from_raw(i32::try_from(raw.child.id().unwrap()).unwrap());
        nix::sys::signal::kill(pid, signal).unwrap();
        // stdin stays open: the server must not wait for the client to hang up.
        let out = tokio::time::timeout(std::time::Duration::from_secs(15), raw.child.wait_with_output())
            .await
            .expect("the server exits after the signal")
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{signal}: {stderr}");
        assert!(
            stderr.contains(&format!("shutting down: cancelling in-flight tool calls signal=\"{signal}\"")),
            "{stderr}"
        );
        drop(raw.stdin);
    }
}

// Issue 10 item 9: every write (and every refusal) is one JSON line in the audit
// log, attributed to "stdio", without content.
#[tokio::test]
async fn writes_over_stdio_are_audited_without_content() {
    let emu = emulator().await;
    let path = std::env::temp_dir().join(format!("jira-mcp-stdio-audit-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut raw = Raw::spawn_with(&emu, &[("JIRA_MCP_AUDIT_LOG", path.to_str().unwrap())]);
    raw.initialize().await;
    let calls = [
        json!({ "name": "add_comment", "arguments": { "key": "DEMO-2", "body": "private words" } }),
        json!({ "name": "delete_issue", "arguments": { "key": "DEMO-5" } }),
        json!({ "name": "delete_issue", "arguments": { "key": "DEMO-5", "confirm": true, "confirm_token": "forged" } }),
        json!({ "name": "get_issue", "arguments": { "key": "DEMO-1" } }),
    ];
    for (id, params) in calls.into_iter().enumerate() {
        raw.send(&json!({ "jsonrpc": "2.0", "id": id + 10, "method": "tools/call", "params": params }).to_string())
            .await;
        assert_eq!(raw.reply().await["id"], id + 10);
    }
    drop(raw.stdin);
    let _ = raw.child.wait().await;
    let audit = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let lines: Vec<serde_json::Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: Vec<(&str, &str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["who"].as_str().unwrap(),
                l["tool"].as_str().unwrap(),
                l["issue"].as_str().unwrap(),
                l["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("stdio", "add_comment", "DEMO-2", "ok"),
            ("stdio", "delete_issue", "DEMO-5", "preview"),
            ("stdio", "delete_issue", "DEMO-5", "error"),
        ],
        "reads are not audited: {audit}"
    );
    assert!(!audit.contains("private words") && !audit.contains("forged"), "{audit}");
}
