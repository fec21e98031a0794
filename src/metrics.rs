//! Operators' metrics in the Prometheus text format (`GET /metrics` on the HTTP
//! listener, behind the same bearer auth as /mcp), with prometheus-client.
//!
//! Every label value is one of a fixed set (tool names the router knows,
//! outcome kinds, status classes): no label carries user input. A leaf: the
//! layers that see an event call the function for it.

use std::{sync::LazyLock, time::Duration};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolOutcome {
    tool: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabel {
    tool: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusClass {
    class: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunOutcome {
    outcome: &'static str,
}

struct Metrics {
    registry: Registry,
    tool_calls: Family<ToolOutcome, Counter>,
    tool_tokens: Family<ToolLabel, Histogram, fn() -> Histogram>,
    tool_bytes: Family<ToolLabel, Histogram, fn() -> Histogram>,
    jira_responses: Family<StatusClass, Counter>,
    jira_throttled: Counter,
    retry_after: Histogram,
    limiter_wait: Histogram,
    sandbox_runs: Family<RunOutcome, Counter>,
    sandbox_seconds: Histogram,
    sessions: Gauge,
    fleet_shared: Gauge,
    fleet_fallbacks: Counter,
}

fn token_buckets() -> Histogram {
    Histogram::new(exponential_buckets(16.0, 2.0, 14))
}

fn byte_buckets() -> Histogram {
    Histogram::new(exponential_buckets(64.0, 2.0, 16))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("jira_mcp");
    let tool_calls = Family::<ToolOutcome, Counter>::default();
    registry.register("tool_calls", "Tool calls by tool and outcome (ok or the error kind)", tool_calls.clone());
    let tool_tokens = Family::<ToolLabel, Histogram, fn() -> Histogram>::new_with_constructor(token_buckets);
    registry.register(
        "tool_result_tokens",
        "Tokens (o200k_base, an approximation) the model received per call; counted when telemetry is on",
        tool_tokens.clone(),
    );
    let tool_bytes = Family::<ToolLabel, Histogram, fn() -> Histogram>::new_with_constructor(byte_buckets);
    registry.register("tool_result_bytes", "Bytes of text the model received per call", tool_bytes.clone());
    let jira_responses = Family::<StatusClass, Counter>::default();
    registry.register(
        "jira_responses",
        "Jira answers by status class (2xx, 3xx, 4xx, 5xx) or transport error",
        jira_responses.clone(),
    );
    let jira_throttled = Counter::default();
    registry.register("jira_throttled", "Jira answers 429 (rate limited)", jira_throttled.clone());
    let retry_after = Histogram::new(exponential_buckets(0.5, 2.0, 10));
    registry.register("jira_retry_after_seconds", "Retry-After of Jira's 429 answers", retry_after.clone());
    let limiter_wait = Histogram::new(exponential_buckets(0.001, 2.0, 16));
    registry.register(
        "jira_limiter_wait_seconds",
        "Time a Jira request waited at the shared rate limiter",
        limiter_wait.clone(),
    );
    let sandbox_runs = Family::<RunOutcome, Counter>::default();
    registry.register("sandbox_runs", "run_python runs by outcome", sandbox_runs.clone());
    let sandbox_seconds = Histogram::new(exponential_buckets(0.1, 2.0, 10));
    registry.register("sandbox_run_seconds", "Duration of run_python runs", sandbox_seconds.clone());
    let sessions = Gauge::default();
    registry.register("http_sessions", "Open MCP sessions on the HTTP transport", sessions.clone());
    let fleet_shared = Gauge::default();
    registry.register(
        "fleet_shared_mode",
        "1 while the fleet's Redis answers (shared rate budget and sandbox slots), 0 while this replica uses its local fallback",
        fleet_shared.clone(),
    );
    let fleet_fallbacks = Counter::default();
    registry.register(
        "fleet_fallbacks",
        "Times this replica lost its fleet's Redis and fell back to local limits",
        fleet_fallbacks.clone(),
    );
    Metrics {
        registry,
        tool_calls,
        tool_tokens,
        tool_bytes,
        jira_responses,
        jira_throttled,
        retry_after,
        limiter_wait,
        sandbox_runs,
        sandbox_seconds,
        sessions,
        fleet_shared,
        fleet_fallbacks,
    }
});

/// One finished tool call: `tool` is a listed tool's name, `outcome` `ok` or `error:KIND`.
pub(crate) fn tool_call(tool: &str, outcome: &str, bytes: u64) {
    let m = &*METRICS;
    m.tool_calls.get_or_create(&ToolOutcome { tool: tool.to_owned(), outcome: outcome.to_owned() }).inc();
    m.tool_bytes.get_or_create(&ToolLabel { tool: tool.to_owned() }).observe(bytes as f64);
}

/// The tokens of a call's result (from the telemetry thread).
pub(crate) fn tool_tokens(tool: &str, tokens: u64) {
    METRICS.tool_tokens.get_or_create(&ToolLabel { tool: tool.to_owned() }).observe(tokens as f64);
}

/// One Jira answer (`None`: the request failed in transport).
pub(crate) fn jira_response(status: Option<u16>) {
    let class = match status {
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(_) => "5xx",
        None => "error",
    };
    METRICS.jira_responses.get_or_create(&StatusClass { class }).inc();
}

/// A 429 from Jira, with its Retry-After if it gave one.
pub(crate) fn jira_throttled(retry_after: Option<Duration>) {
    METRICS.jira_throttled.inc();
    if let Some(wait) = retry_after {
        METRICS.retry_after.observe(wait.as_secs_f64());
    }
}

/// Time one request waited at the shared limiter.
pub(crate) fn limiter_wait(waited: Duration) {
    METRICS.limiter_wait.observe(waited.as_secs_f64());
}

/// One run_python run: `outcome` is ok, error, timeout, oom, killed, aborted or failed.
pub(crate) fn sandbox_run(outcome: &'static str, took: Duration) {
    METRICS.sandbox_runs.get_or_create(&RunOutcome { outcome }).inc();
    METRICS.sandbox_seconds.observe(took.as_secs_f64());
}

/// Whether this replica uses the fleet's shared state (`true`) or its local fallback.
pub(crate) fn fleet_mode(shared: bool) {
    METRICS.fleet_shared.set(i64::from(shared));
}

/// This replica lost the fleet's Redis and fell back to local limits.
pub(crate) fn fleet_fallback() {
    METRICS.fleet_fallbacks.inc();
    fleet_mode(false);
}

/// The metrics in the Prometheus text format, with the current number of sessions.
#[must_use]
pub fn render(sessions: usize) -> String {
    METRICS.sessions.set(i64::try_from(sessions).unwrap_or(i64::MAX));
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &METRICS.registry).is_err() {
        out.clear();
    }
    out
}
