//! Load run of the HTTP transport, on loopback only, bounded in count and time.
//!
//! Starts the emulator in this process and `jira-mcp serve --http` as a child
//! pointed at it, then runs C concurrent rmcp HTTP clients x N `get_issue`
//! calls each, twice:
//!   1. with a high client-side quota: throughput, p50/p99 latency, peak RSS;
//!   2. with a low quota (JIRA_MCP_RATE_LIMIT=Q, burst B): the busiest second
//!      the emulator saw must stay at or under Q + B requests;
//!   3. one session making S sequential calls over one reused connection, with
//!      the rmcp client and with a hyper client that leaves Nagle's algorithm on
//!      (the case TCP delayed ACK hurts: about 40 ms per call when the server
//!      does not set TCP_NODELAY), against this build and, when
//!      JIRA_MCP_BENCH_BASELINE names another jira-mcp binary (e.g. a build of
//!      main), against it in the same run, with the ratio of the p50s.
//!
//!   cargo bench --bench http_load -- [clients] [calls] [quota] [sequential calls]
//!
//! It is a report, not a test: it prints figures and exits 0 unless something crashed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use jira_mcp::emulator::{DEMO_EMAIL, DEMO_TOKEN, Emulator, EmulatorConfig};
use rmcp::{
    ServiceExt,
    model::CallToolRequestParams,
    transport::{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig},
};

const TOKEN: &str = "load-test-token-0123456789abcdef0123456789";

struct Report {
    latencies: Vec<Duration>,
    wall: Duration,
    errors: usize,
    peak_rss_kib: u64,
    emulator_requests: usize,
    emulator_peak_per_s: usize,
}

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The emulator and `bin serve --http` pointed at it; the server's port.
async fn start_server(bin: &str, clients: usize, quota: u32, burst: u32) -> (Emulator, tokio::process::Child, u16) {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(bin)
        .args(["serve", "--http", &format!("127.0.0.1:{port}")])
        .env("JIRA_URL", emu.url())
        .env("JIRA_USERNAME", DEMO_EMAIL)
        .env("JIRA_API_TOKEN", DEMO_TOKEN)
        .env("JIRA_MCP_HTTP_TOKEN", TOKEN)
        .env("JIRA_MCP_HTTP_MAX_SESSIONS", (clients + 8).to_string())
        .env("JIRA_MCP_RATE_LIMIT", quota.to_string())
        .env("JIRA_MCP_RATE_BURST", burst.to_string())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (emu, child, port)
}

async fn run(bin: &str, clients: usize, calls: usize, quota: u32, burst: u32) -> Report {
    let (emu, mut child, port) = start_server(bin, clients, quota, burst).await;
    let pid = child.id().unwrap();
    let before = emu.request_count();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let transport = StreamableHttpClientTransport::from_config(
                StreamableHttpClientTransportConfig::with_uri(url).auth_header(TOKEN),
            );
            let client = ().serve(transport).await.unwrap();
            let mut lat = Vec::with_capacity(calls);
            let mut errors = 0;
            for i in 0..calls {
                let key = format!("DEMO-{}", 1 + (c * calls + i) % 48);
                let args = serde_json::json!({ "key": key, "include": [] }).as_object().cloned().unwrap();
                let t = Instant::now();
                match tokio::time::timeout(
                    Duration::from_secs(60),
                    client.call_tool(CallToolRequestParams::new("get_issue").with_arguments(args)),
                )
                .await
                {
                    Ok(Ok(r)) if r.is_error != Some(true) => lat.push(t.elapsed()),
                    _ => errors += 1,
                }
            }
            let _ = client.cancel().await;
            (lat, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let wall = started.elapsed();
    let peak_rss_kib = vm_hwm_kib(pid);
    let _ = child.kill().await;
    latencies.sort();
    Report {
        latencies,
        wall,
        errors,
        peak_rss_kib,
        emulator_requests: emu.request_count() - before,
        emulator_peak_per_s: emu.peak_requests_per_second(),
    }
}

/// One session over one hyper client connection that leaves Nagle's algorithm on
/// (the socket default, as in many HTTP clients): `calls` sequential `get_issue`
/// calls, each a POST whose SSE answer is read to its end. Sorted latencies.
async fn nagle_client(bin: &str, calls: usize) -> Vec<Duration> {
    use axum::body::Body;
    let (_emu, mut child, port) = start_server(bin, 1, 1000, 100).await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake::<_, Body>(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut session: Option<String> = None;
    let mut post = async |session: &Option<String>, body: serde_json::Value| {
        let mut request = hyper::Request::post("/mcp")
            .header("host", format!("127.0.0.1:{port}"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(id) = session {
            request = request.header("mcp-session-id", id.as_str());
        }
        sender.ready().await.unwrap();
        let response = sender.send_request(request.body(Body::from(body.to_string())).unwrap()).await.unwrap();
        let id = response.headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(Body::new(response.into_body()), usize::MAX).await.unwrap();
        (id, String::from_utf8_lossy(&body).into_owned())
    };
    let init = serde_json::json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "bench", "version": "0" } } });
    session = post(&session, init).await.0;
    post(&session, serde_json::json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).await;
    let mut latencies = Vec::with_capacity(calls);
    for i in 0..calls {
        let call = serde_json::json!({ "jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
            "params": { "name": "get_issue", "arguments": { "key": format!("DEMO-{}", 1 + i % 48), "include": [] } } });
        let t = Instant::now();
        let (_, text) = post(&session, call).await;
        latencies.push(t.elapsed());
        assert!(text.contains("\"result\""), "call {i} failed: {text}");
    }
    let _ = child.kill().await;
    latencies.sort();
    latencies
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

fn print(label: &str, clients: usize, calls: usize, r: &Report) {
    let ok = r.latencies.len();
    println!(
        "{label}: {clients} clients x {calls} calls: {ok} ok, {} errors in {:.2} s -> {:.0} calls/s; latency p50 {:.2} ms, p99 {:.2} ms; server peak RSS {:.1} MiB; emulator saw {} requests, busiest second {}",
        r.errors,
        r.wall.as_secs_f64(),
        ok as f64 / r.wall.as_secs_f64(),
        pct(&r.latencies, 0.50),
        pct(&r.latencies, 0.99),
        r.peak_rss_kib as f64 / 1024.0,
        r.emulator_requests,
        r.emulator_peak_per_s,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let clients = args.first().copied().unwrap_or(50);
    let calls = args.get(1).copied().unwrap_or(20);
    let quota = args.get(2).copied().unwrap_or(50) as u32;
    let sequential = args.get(3).copied().unwrap_or(200);
    let ours = env!("CARGO_BIN_EXE_jira-mcp");
    println!("machine: {} cores; loopback only", std::thread::available_parallelism().map_or(0, |n| n.get()));
    let fast = run(ours, clients, calls, 1000, 100).await;
    print("unthrottled (quota 1000/s)", clients, calls, &fast);
    let burst = 5;
    let slow = run(ours, clients, calls.min(4), quota, burst).await;
    print(&format!("throttled (quota {quota}/s, burst {burst})"), clients, calls.min(4), &slow);
    let limit = quota as usize + burst as usize;
    println!(
        "limiter: busiest second at the emulator {} <= quota + burst {limit}: {}",
        slow.emulator_peak_per_s,
        if slow.emulator_peak_per_s <= limit { "HELD" } else { "EXCEEDED" }
    );
    let seq = run(ours, 1, sequential, 1000, 100).await;
    print("sequential, one session, one connection (this build)", 1, sequential, &seq);
    let nagle = nagle_client(ours, sequential).await;
    println!(
        "sequential, one connection, client with Nagle on (this build): p50 {:.2} ms, p99 {:.2} ms",
        pct(&nagle, 0.5),
        pct(&nagle, 0.99)
    );
    if let Ok(baseline) = std::env::var("JIRA_MCP_BENCH_BASELINE") {
        let base_nagle = nagle_client(&baseline, sequential).await;
        println!(
            "sequential, one connection, client with Nagle on (baseline): p50 {:.2} ms, p99 {:.2} ms; p50 ratio {:.1}x",
            pct(&base_nagle, 0.5),
            pct(&base_nagle, 0.99),
            pct(&base_nagle, 0.5) / pct(&nagle, 0.5)
        );
        let base = run(&baseline, 1, sequential, 1000, 100).await;
        print(&format!("sequential, one session, one connection (baseline {baseline})"), 1, sequential, &base);
        println!(
            "sequential p50: baseline {:.2} ms / this build {:.2} ms = {:.1}x",
            pct(&base.latencies, 0.5),
            pct(&seq.latencies, 0.5),
            pct(&base.latencies, 0.5) / pct(&seq.latencies, 0.5)
        );
    }
}
