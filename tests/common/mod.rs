//! Shared helpers for the integration tests: an emulator, a server wired to
//! it, and an rmcp client talking to the server in-process.

// Test code: panicking on a broken expectation is the point, and tests spawn the binary and docker.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]
#![allow(dead_code, unreachable_pub)]

use jira_mcp::{
    Config, JiraMcp,
    config::JiraConfig,
    emulator::{Emulator, EmulatorConfig},
};
use rmcp::{
    ServiceExt,
    model::{CallToolRequestParams, CallToolResult, JsonObject},
    service::{RoleClient, RunningService},
};
use serde_json::Value;

pub type Client = RunningService<RoleClient, ()>;

/// The tools a read-only server (or a read-only token) lists, sorted.
pub const READ_ONLY_TOOLS: [&str; 7] = [
    "describe_fields",
    "get_attachment",
    "get_issue",
    "list_sprints",
    "run_python",
    "search_issues",
    "summarize_project",
];

/// A plain HTTP client for probing the emulator directly. No CA roots: the tests
/// also run in the Nix build sandbox, which has none.
pub fn probe_client() -> reqwest::Client {
    reqwest::Client::builder().tls_certs_only(Vec::<reqwest::Certificate>::new()).build().unwrap()
}

pub async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.expect("emulator starts on 127.0.0.1")
}

pub fn config_for(emu: &Emulator) -> Config {
    Config::with_jira(JiraConfig::demo(emu.url()))
}

/// Serves `server` on one end of an in-memory pipe and returns a client on the other.
pub async fn connect(server: JiraMcp) -> Client {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_io).await.expect("client initializes")
}

pub fn args(v: Value) -> JsonObject {
    v.as_object().cloned().expect("arguments are a JSON object")
}

pub async fn call(client: &Client, tool: &str, arguments: Value) -> CallToolResult {
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args(arguments)))
        .await
        .unwrap_or_else(|e| panic!("{tool} answered with a protocol error: {e}"))
}

/// The text of a result, with whether it was an error.
pub fn text(result: &CallToolResult) -> (bool, String) {
    let text = result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n");
    (result.is_error == Some(true), text)
}

/// Calls a tool and returns its text, asserting it succeeded.
pub async fn ok(client: &Client, tool: &str, arguments: Value) -> String {
    let (is_error, text) = text(&call(client, tool, arguments.clone()).await);
    assert!(!is_error, "{tool}({arguments}) failed: {text}");
    text
}

/// Calls a tool and returns its text, asserting it failed as a tool error.
pub async fn err(client: &Client, tool: &str, arguments: Value) -> String {
    let (is_error, text) = text(&call(client, tool, arguments.clone()).await);
    assert!(is_error, "{tool}({arguments}) should have failed but returned: {text}");
    text
}
