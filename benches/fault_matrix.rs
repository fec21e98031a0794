//! Fault matrix: every Jira tool against every upstream fault shape, on loopback.
//!
//! Each cell starts a fresh emulator and server, injects one fault shape (on the
//! tool's read, or only on its final write after successful reads, before or
//! after the write was applied), calls the tool and classifies the outcome:
//!
//! - `ok`: correct (a real success, or an error that tells the truth and a next step)
//! - `FALSE`: false success (the tool said it worked, nothing happened or it read garbage)
//! - `RETRY`: misleading retry advice (the write was applied; the text does not say it may have been)
//! - `BUG`: bug-blame ("this is a jira-mcp bug") for what is someone else's fault
//! - `other`: an error where a success was due (a fault the client should have absorbed)
//!
//!   cargo bench --bench fault_matrix                 # the matrix and its counts
//!   cargo bench --bench fault_matrix -- memory [MiB] # peak RSS reading one huge answer (default 1024 MiB)
//!   cargo bench --bench fault_matrix -- pressure     # 20 callers x 5 calls against a Jira that 429s above 3/s
//!
//! It uses only APIs that main also has (plus the emulator), so the same file runs
//! against the old code for a before/after comparison. It is a report, not a test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use jira_mcp::{
    Config, JiraMcp,
    config::JiraConfig,
    emulator::{Emulator, EmulatorConfig, Fault, Shape, ShapeFault},
};
use rmcp::{
    ServiceExt,
    model::CallToolRequestParams,
    service::{RoleClient, RunningService},
};
use serde_json::{Value, json};

type Client = RunningService<RoleClient, ()>;

const HUGE: u64 = 64 * 1024 * 1024;

async fn connect(server: JiraMcp) -> Client {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_io).await.unwrap()
}

async fn server(base: String, timeout: Duration) -> Client {
    let mut jira = JiraConfig::demo(base);
    jira.request_timeout = timeout;
    connect(JiraMcp::new(&Config::with_jira(jira)).unwrap()).await
}

async fn call(client: &Client, tool: &str, args: Value) -> (bool, String) {
    let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(args.as_object().cloned().unwrap());
    match client.call_tool(params).await {
        Ok(r) => (
            r.is_error == Some(true),
            r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n"),
        ),
        Err(e) => (true, format!("protocol error: {e}")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

struct Tool {
    name: &'static str,
    kind: Kind,
    /// Path of the request the fault hits (the read for reads, the final write for writes).
    path: &'static str,
    method: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool { name: "search_issues", kind: Kind::Read, path: "/search/jql", method: "POST" },
    Tool { name: "get_issue", kind: Kind::Read, path: "/issue/DEMO-1", method: "GET" },
    Tool { name: "summarize_project", kind: Kind::Read, path: "/search/jql", method: "POST" },
    Tool { name: "create_issue", kind: Kind::Write, path: "/rest/api/3/issue", method: "POST" },
    Tool { name: "update_issue", kind: Kind::Write, path: "/issue/DEMO-3", method: "PUT" },
    Tool { name: "transition_issue", kind: Kind::Write, path: "/transitions", method: "POST" },
    Tool { name: "add_comment", kind: Kind::Write, path: "/comment", method: "POST" },
    Tool { name: "delete_issue", kind: Kind::Write, path: "/issue/DEMO-4", method: "DELETE" },
];

/// One upstream misbehaviour.
#[derive(Clone)]
enum Inject {
    Shape(Shape, u32),
    Status(u16, u32, Option<u32>),
    /// JIRA_URL with a wrong path: every endpoint 404s.
    WrongSitePath,
    /// Atlassian's own example answer (reads only).
    OfficialExample,
}

struct Case {
    name: &'static str,
    inject: Inject,
    /// The client is expected to absorb it: success is the right outcome.
    absorbable: bool,
    /// Also run on the final write after the handler applied it.
    after_write: bool,
}

fn body(status: u16, content_type: &'static str, text: &str) -> Shape {
    Shape::Body { status, content_type, body: text.to_owned() }
}

fn cases() -> Vec<Case> {
    let many = 100;
    let c = |name, inject, absorbable, after_write| Case { name, inject, absorbable, after_write };
    let login = "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>SSO</body></html>";
    vec![
        c("html-200", Inject::Shape(body(200, "text/html", login), many), false, true),
        c("html-200-json-type", Inject::Shape(body(200, "application/json", login), many), false, false),
        c("empty-200", Inject::Shape(body(200, "", ""), many), false, true),
        c("empty-200-json-type", Inject::Shape(body(200, "application/json", ""), many), false, false),
        c("text-200", Inject::Shape(body(200, "text/plain", "OK"), many), false, false),
        c("wrong-shape-json", Inject::Shape(body(200, "application/json", "{\"unexpected\":true}"), many), false, true),
        c("json-array", Inject::Shape(body(200, "application/json", "[]"), many), false, false),
        c("json-null", Inject::Shape(body(200, "application/json", "null"), many), false, false),
        c("malformed-json", Inject::Shape(body(200, "application/json", "{\"issues\": [{\"key\""), many), false, false),
        c(
            "truncated",
            Inject::Shape(Shape::Truncated { declared: 4096, sent: "{\"issues\":[".into() }, many),
            false,
            true,
        ),
        c("slow-body", Inject::Shape(Shape::SlowBody, many), false, true),
        c("hang", Inject::Shape(Shape::Hang, many), false, true),
        c("huge-chunked", Inject::Shape(Shape::Huge { bytes: HUGE, declare: false }, many), false, false),
        c("huge-declared", Inject::Shape(Shape::Huge { bytes: HUGE, declare: true }, many), false, false),
        c("500", Inject::Status(500, many, None), false, false),
        c(
            "500-after-write",
            Inject::Shape(body(500, "application/json", "{\"errorMessages\":[\"Internal server error\"]}"), many),
            false,
            true,
        ),
        c(
            "502-html",
            Inject::Shape(body(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"), many),
            false,
            true,
        ),
        c("503-once-retry-after", Inject::Status(503, 1, Some(1)), true, false),
        c("429-once-retry-after", Inject::Status(429, 1, Some(1)), true, false),
        c("429-once-no-retry-after", Inject::Status(429, 1, None), false, false),
        c("429-persistent", Inject::Status(429, many, Some(60)), false, false),
        c("404-wrong-site-path", Inject::WrongSitePath, false, false),
        c("official-example", Inject::OfficialExample, true, false),
    ]
}

#[derive(Default)]
struct Counts {
    ok: usize,
    false_success: usize,
    retry: usize,
    bug: usize,
    other: usize,
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Runs one cell; returns its class and the tool's text.
async fn cell(tool: &Tool, case: &Case, after: bool) -> Option<(&'static str, String)> {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let base = match case.inject {
        Inject::WrongSitePath => format!("{}/wiki", emu.url()),
        _ => emu.url(),
    };
    let client = server(base, Duration::from_secs(2)).await;
    let mut args = match tool.name {
        "search_issues" | "summarize_project" => json!({ "project": "DEMO" }),
        "get_issue" => json!({ "key": "DEMO-1" }),
        "create_issue" => json!({ "project": "DEMO", "issue_type": "Task", "summary": "Fault matrix probe" }),
        "update_issue" => json!({ "key": "DEMO-3", "summary": "Fault matrix edit" }),
        "transition_issue" => json!({ "key": "DEMO-1", "status": "In Review" }),
        "add_comment" => json!({ "key": "DEMO-1", "body": "fault matrix" }),
        _ => json!({ "key": "DEMO-4" }),
    };
    if tool.name == "delete_issue" && !matches!(case.inject, Inject::WrongSitePath) {
        // The preview is a successful read; the fault hits only the final write.
        let (_, preview) = call(&client, "delete_issue", args.clone()).await;
        let token = preview.split("confirm_token=\"").nth(1)?.split('"').next()?.to_owned();
        args = json!({ "key": "DEMO-4", "confirm": true, "confirm_token": token });
    }
    let method = (tool.kind == Kind::Write).then_some(tool.method);
    match &case.inject {
        Inject::Shape(shape, times) => emu.inject_shape(ShapeFault {
            path_contains: tool.path.into(),
            method,
            times: *times,
            after_handler: after,
            shape: shape.clone(),
        }),
        Inject::Status(status, times, retry_after) => emu.inject(Fault {
            // Status faults match any method: on write tools they may hit a read on the same path first.
            path_contains: tool.path.into(),
            status: *status,
            times: *times,
            retry_after: *retry_after,
        }),
        Inject::WrongSitePath => {}
        Inject::OfficialExample => {
            let file = match tool.name {
                "get_issue" => "openapi_example_issue.json",
                _ => "openapi_example_search_jql.json",
            };
            emu.inject_shape(ShapeFault {
                path_contains: tool.path.into(),
                method: Some(tool.method),
                times: 1,
                after_handler: false,
                shape: body(200, "application/json", &fixture(file)),
            });
        }
    }
    let (is_error, text) = call(&client, tool.name, args).await;
    let applied = emu.writes_applied() > 0;
    let class = if !is_error {
        match tool.kind {
            Kind::Write if applied => "ok",
            Kind::Write => "FALSE",
            Kind::Read if case.absorbable => "ok",
            Kind::Read => "FALSE",
        }
    } else if text.contains("jira-mcp bug") {
        "BUG"
    } else if applied && !text.contains("may have been applied") {
        "RETRY"
    } else if case.absorbable {
        "other"
    } else {
        "ok"
    };
    Some((class, text))
}

async fn matrix(verbose: bool) {
    let mut counts = Counts::default();
    let mut cells = 0;
    println!("{:<28} {}", "fault \\ tool", TOOLS.iter().map(|t| format!("{:<18}", t.name)).collect::<String>());
    for case in cases() {
        for after in [false, true] {
            if after && !case.after_write {
                continue;
            }
            let label = format!("{}{}", case.name, if after { " (write applied)" } else { "" });
            let mut row = format!("{label:<28} ");
            for tool in TOOLS {
                let skip = (after && tool.kind == Kind::Read)
                    || (matches!(case.inject, Inject::OfficialExample) && tool.kind == Kind::Write);
                if skip {
                    row.push_str(&format!("{:<18}", "·"));
                    continue;
                }
                let Some((class, text)) = cell(tool, &case, after).await else {
                    row.push_str(&format!("{:<18}", "setup?"));
                    continue;
                };
                cells += 1;
                match class {
                    "ok" => counts.ok += 1,
                    "FALSE" => counts.false_success += 1,
                    "RETRY" => counts.retry += 1,
                    "BUG" => counts.bug += 1,
                    _ => counts.other += 1,
                }
                if verbose && class != "ok" {
                    eprintln!("[{class}] {} / {label}: {}", tool.name, text.replace('\n', " ⏎ "));
                }
                row.push_str(&format!("{class:<18}"));
            }
            println!("{row}");
        }
    }
    println!(
        "\n{cells} cells: correct {} | false success {} | misleading retry advice {} | bug-blame {} | other wrong failure {}",
        counts.ok, counts.false_success, counts.retry, counts.bug, counts.other
    );
}

fn vm_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

async fn memory(mib: u64) {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = server(emu.url(), Duration::from_secs(120)).await;
    emu.inject_shape(ShapeFault {
        path_contains: "/search/jql".into(),
        method: None,
        times: 1,
        after_handler: false,
        shape: Shape::Huge { bytes: mib * 1024 * 1024, declare: false },
    });
    let before = vm_kib("VmHWM:");
    let started = Instant::now();
    let (is_error, text) = call(&client, "search_issues", json!({ "project": "DEMO" })).await;
    println!(
        "one {mib} MiB answer (chunked, no Content-Length): peak RSS before {} MiB, after {} MiB, {:.1} s; error={is_error}: {}",
        before / 1024,
        vm_kib("VmHWM:") / 1024,
        started.elapsed().as_secs_f64(),
        text.chars().take(160).collect::<String>()
    );
}

async fn pressure() {
    // Jira answers 429 (Retry-After 1) above 3 requests per second; the server keeps its defaults.
    let emu =
        Emulator::start(EmulatorConfig { burst_per_second: Some(3), port: 0, extra_issues: 0, write_delay_ms: 0 })
            .await
            .unwrap();
    let mut jira = JiraConfig::demo(emu.url());
    jira.rate_per_second = std::num::NonZeroU32::new(10).unwrap();
    jira.burst = std::num::NonZeroU32::new(5).unwrap();
    let server = JiraMcp::new(&Config::with_jira(jira)).unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for caller in 0..20 {
        let client = connect(server.clone()).await;
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in 0..5 {
                let t = Instant::now();
                let key = format!("DEMO-{}", (caller * 5 + i) % 48 + 1);
                let (is_error, _) = call(&client, "get_issue", json!({ "key": key, "include": [] })).await;
                out.push((is_error, t.elapsed()));
            }
            out
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.extend(t.await.unwrap());
    }
    let failed = results.iter().filter(|r| r.0).count();
    let mut waits: Vec<Duration> = results.iter().map(|r| r.1).collect();
    waits.sort();
    let pct = |p: f64| waits[((waits.len() as f64 - 1.0) * p) as usize];
    println!(
        "20 callers x 5 get_issue, Jira 429s above 3/s: {failed} of {} failed, {} upstream requests, latency p50 {:.1} s, p99 {:.1} s, max {:.1} s, wall {:.1} s",
        results.len(),
        emu.request_count(),
        pct(0.5).as_secs_f64(),
        pct(0.99).as_secs_f64(),
        waits.last().unwrap().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    match args.first().map(String::as_str) {
        Some("memory") => memory(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1024)).await,
        Some("pressure") => pressure().await,
        Some("verbose") => matrix(true).await,
        _ => matrix(false).await,
    }
}
