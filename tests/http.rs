//! Streamable HTTP transport: auth, Host/Origin validation, limits, and a full
//! session with the rmcp HTTP client. Servers bind 127.0.0.1 only.

// Test code: panicking on a broken expectation is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::net::SocketAddr;

use common::{config_for, emulator};
use jira_mcp::{
    JiraMcp,
    config::{Env, HttpConfig},
    emulator::Emulator,
    server::http::router,
};
use rmcp::{
    ServiceExt,
    model::{CallToolRequestParams, ReadResourceRequestParams},
    transport::{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig},
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "test-token-0123456789abcdef0123456789";
const OTHER: &str = "rotated-token-abcdef0123456789abcdef0123";

struct Running {
    _emu: Emulator,
    addr: SocketAddr,
    stop: CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Running {
    fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }
}

async fn start(tweak: impl FnOnce(&mut HttpConfig, &mut jira_mcp::Config)) -> Running {
    let emu = emulator().await;
    let mut config = config_for(&emu);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tokens = format!("{TOKEN},{OTHER}");
    let lookup = |k: &str| (k == "JIRA_MCP_HTTP_TOKEN").then(|| tokens.clone());
    let mut http = HttpConfig::from_env(Some(&addr.to_string()), &Env::new(&lookup)).unwrap();
    tweak(&mut http, &mut config);
    let stop = CancellationToken::new();
    let app = router(JiraMcp::new(&config).unwrap(), &http, &stop);
    let shutdown = stop.clone();
    tokio::spawn(async move {
        axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await.unwrap();
    });
    Running { _emu: emu, addr, stop }
}

fn initialize_body() -> String {
    json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "0" } } })
    .to_string()
}

async fn post(url: &str, headers: &[(&str, &str)], body: String) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn client(url: String, token: &str) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url).auth_header(token),
    );
    ().serve(transport).await.expect("authenticated client initializes")
}

#[tokio::test]
async fn full_session_with_the_rmcp_http_client() {
    let server = start(|_, _| {}).await;
    let client = client(server.url(), TOKEN).await;
    assert_eq!(client.peer_info().unwrap().server_info.as_ref().unwrap().name, "jira-mcp");
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 13);
    let r = client
        .call_tool(
            CallToolRequestParams::new("search_issues")
                .with_arguments(common::args(json!({ "project": "DEMO", "page_size": 2 }))),
        )
        .await
        .unwrap();
    let (is_error, text) = common::text(&r);
    assert!(!is_error && text.contains("MORE AVAILABLE"), "{text}");
    let r = client
        .call_tool(CallToolRequestParams::new("get_issue").with_arguments(common::args(json!({ "key": "DEMO-404" }))))
        .await
        .unwrap();
    let (is_error, text) = common::text(&r);
    assert!(is_error && text.starts_with("Issue DEMO-404 was not found (404)"), "{text}");
    let r = client.read_resource(ReadResourceRequestParams::new("jira://reference/statuses")).await.unwrap();
    assert!(format!("{r:?}").contains("In Review"));
    assert_eq!(client.list_all_prompts().await.unwrap().len(), 3);
    client.cancel().await.unwrap();
    // A second token works too: rotation without downtime.
    let rotated = client_with(&server, OTHER).await;
    assert_eq!(rotated.list_all_tools().await.unwrap().len(), 13);
    rotated.cancel().await.unwrap();
}

async fn client_with(server: &Running, token: &str) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    client(server.url(), token).await
}

#[tokio::test]
async fn missing_or_wrong_token_gets_401_and_nothing_else() {
    let server = start(|_, _| {}).await;
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong-token-0123456789abcdef0123456789")],
        vec![("Authorization", TOKEN)],
        vec![("Authorization", "Basic dGVzdA==")],
    ] {
        let r = post(&server.url(), &headers, initialize_body()).await;
        assert_eq!(r.status(), 401, "{headers:?}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"jira-mcp\"");
        assert!(r.headers().get("mcp-session-id").is_none());
        assert_eq!(r.text().await.unwrap(), "", "a 401 reveals nothing");
    }
    let unauthenticated = StreamableHttpClientTransport::from_uri(server.url());
    assert!(().serve(unauthenticated).await.is_err(), "the rmcp client cannot initialize without the token");
    // Control: the same request with the token succeeds, whatever the case of the scheme.
    let auth = format!("Bearer {TOKEN}");
    assert_eq!(post(&server.url(), &[("Authorization", &auth)], initialize_body()).await.status(), 200);
    let upper = format!("BEARER {TOKEN}");
    assert_eq!(post(&server.url(), &[("Authorization", &upper)], initialize_body()).await.status(), 200);
}

#[tokio::test]
async fn healthz_is_public_and_says_only_ok() {
    let server = start(|_, _| {}).await;
    let r = reqwest::get(format!("http://{}/healthz", server.addr)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn foreign_host_and_origin_are_refused() {
    let server = start(|_, _| {}).await;
    let auth = format!("Bearer {TOKEN}");
    let r = post(&server.url(), &[("Authorization", &auth), ("Host", "evil.example.com")], initialize_body()).await;
    assert_eq!(r.status(), 403, "DNS rebinding: a foreign Host is refused");
    let r = post(&server.url(), &[("Authorization", &auth), ("Origin", "http://evil.example.com")], initialize_body())
        .await;
    assert_eq!(r.status(), 403, "a foreign Origin is refused");
    // Controls: loopback origins pass.
    let r =
        post(&server.url(), &[("Authorization", &auth), ("Origin", "http://localhost:5173")], initialize_body()).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn oversized_body_gets_413() {
    let server = start(|http, _| http.max_body_bytes = 64 * 1024).await;
    let auth = format!("Bearer {TOKEN}");
    let big = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "pad": "x".repeat(100_000) } })
        .to_string();
    let r = post(&server.url(), &[("Authorization", &auth)], big.clone()).await;
    assert_eq!(r.status(), 413);
    // Without a token the body is never read: the answer is 401, whatever its size.
    let r = post(&server.url(), &[], big).await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn session_cap_refuses_new_sessions_with_503() {
    let server = start(|http, _| http.max_sessions = 2).await;
    let a = client_with(&server, TOKEN).await;
    let b = client_with(&server, TOKEN).await;
    let auth = format!("Bearer {TOKEN}");
    let r = post(&server.url(), &[("Authorization", &auth)], initialize_body()).await;
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("too many MCP sessions (limit 2)"));
    // Existing sessions keep working.
    assert_eq!(a.list_all_tools().await.unwrap().len(), 13);
    a.cancel().await.unwrap();
    b.cancel().await.unwrap();
}

#[tokio::test]
async fn at_the_cap_a_long_silent_session_makes_room() {
    let server = start(|http, _| {
        http.max_sessions = 1;
        http.session_evictable_after = std::time::Duration::from_millis(300);
    })
    .await;
    let auth = format!("Bearer {TOKEN}");
    let first = client_with(&server, TOKEN).await;
    // Busy right now: a second session is refused.
    assert_eq!(post(&server.url(), &[("Authorization", &auth)], initialize_body()).await.status(), 503);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    // Silent long enough: it is closed to make room.
    let second = client_with(&server, TOKEN).await;
    assert_eq!(second.list_all_tools().await.unwrap().len(), 13);
    assert!(first.list_all_tools().await.is_err(), "the evicted session is gone");
    second.cancel().await.unwrap();
}

#[tokio::test]
async fn read_only_mode_is_the_same_over_http() {
    let server = start(|_, config| config.read_only = true).await;
    let client = client_with(&server, TOKEN).await;
    let mut names: Vec<String> = client.list_all_tools().await.unwrap().iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        ["describe_fields", "get_issue", "list_sprints", "run_python", "search_issues", "summarize_project"]
    );
    let r = client
        .call_tool(
            CallToolRequestParams::new("add_comment")
                .with_arguments(common::args(json!({ "key": "DEMO-1", "body": "x" }))),
        )
        .await
        .unwrap();
    let (is_error, text) = common::text(&r);
    assert!(is_error && text.starts_with("Tool add_comment is disabled"), "{text}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn http_refuses_to_start_without_a_strong_token() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jira-mcp"))
        .args(["demo", "--http", "127.0.0.1:0"])
        .env_clear()
        .env("JIRA_MCP_HTTP_TOKEN", "tooshort")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "jira-mcp: configuration error: JIRA_MCP_HTTP_TOKEN is invalid: a token is 8 characters; each must be at least 32 (use \
         `openssl rand -hex 32`) (see README.md#http-transport)"
    );
}
