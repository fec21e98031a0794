//! run_python("print(1)") end to end through each backend, in one run: p50 and p95
//! of the Docker + gVisor backend and of the E2B backend against the local double
//! (tests/e2b_double, each sandbox a runc container). Figures only: the double
//! says nothing about E2B's own latency (sandbox creation there and the
//! round trips to it over the internet dominate).
//!
//!   cargo bench --profile dev --bench sandbox_backends [-- RUNS]   # default 20 runs each
//!
//! Needs Docker, runsc and the sandbox image (scripts/setup-host). A report, not a test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::indexing_slicing,
    dead_code,
    unreachable_pub
)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/e2b_double/mod.rs"]
mod e2b_double;

use std::time::{Duration, Instant};

use jira_mcp::{JiraMcp, config::SandboxBackend};
use serde_json::json;

async fn measure(backend: SandboxBackend, runs: usize) -> Vec<Duration> {
    let emu = common::emulator().await;
    let mut config = common::config_for(&emu);
    config.sandbox.backend = backend;
    let client = common::connect(JiraMcp::new(&config).unwrap()).await;
    // One warm-up run: the first connects to Docker and sweeps.
    common::ok(&client, "run_python", json!({ "code": "print(1)" })).await;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let out = common::ok(&client, "run_python", json!({ "code": "print(1)" })).await;
        times.push(started.elapsed());
        assert!(out.contains("exit code 0"), "{out}");
    }
    times.sort();
    times
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let double =
        e2b_double::Double::start(e2b_double::Exec::Docker { image: jira_mcp::config::DEFAULT_IMAGE.to_owned() }).await;
    let rows = [
        ("docker (gVisor runsc)", measure(SandboxBackend::Docker, runs).await),
        ("e2b backend -> local double (runc)", measure(SandboxBackend::E2b(double.config()), runs).await),
    ];
    println!("run_python(\"print(1)\"), {runs} runs each, end to end through MCP in process");
    println!("{:<36} {:>8} {:>8}", "backend", "p50 ms", "p95 ms");
    for (name, times) in rows {
        println!("{name:<36} {:>8} {:>8}", quantile(&times, 0.5).as_millis(), quantile(&times, 0.95).as_millis());
    }
}
