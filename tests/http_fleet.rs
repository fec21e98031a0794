//! Streamable HTTP for a fleet (issue 16): `/readyz`, the drain on stop, and
//! stateless mode (any replica answers any request). Servers bind 127.0.0.1 only.

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

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use common::{config_for, emulator};
use jira_mcp::{
    JiraMcp,
    config::{Env, HttpConfig},
    emulator::{Emulator, Shape, ShapeFault},
    server::http::serve_listener,
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "fleet-token-0123456789abcdef0123456789";

/// One replica: its address, the stop signal, and the serving task (done once drained).
struct Replica {
    addr: SocketAddr,
    stop: CancellationToken,
    served: JoinHandle<()>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Replica {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Starts a replica against `emu` with `JIRA_MCP_HTTP_TOKEN` = TOKEN plus `vars`.
async fn replica(emu: &Emulator, vars: &[(&str, &str)]) -> Replica {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    vars.push(("JIRA_MCP_HTTP_TOKEN".to_owned(), TOKEN.to_owned()));
    let lookup = move |k: &str| vars.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone());
    let http = HttpConfig::from_env(Some(&addr.to_string()), &Env::new(&lookup)).unwrap();
    let stop = CancellationToken::new();
    let server = JiraMcp::new(&config_for(emu)).unwrap();
    let served = tokio::spawn(serve_listener(listener, server, http, stop.clone()));
    Replica { addr, stop, served }
}

/// A fresh client per request (no pooled connection survives into the next check). Plain HTTP to
/// loopback, so no CA roots: the tests also run in the Nix build sandbox, which has none.
fn fresh() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).tls_certs_only(Vec::new()).build().unwrap()
}

async fn get(url: &str) -> (u16, String) {
    let r = fresh().get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// POSTs one JSON-RPC message with the token (and `extra` headers).
async fn rpc(url: &str, extra: &[(&str, &str)], body: &Value) -> reqwest::Response {
    let mut req = fresh()
        .post(url)
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(body.to_string());
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

fn initialize() -> Value {
    json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "0" } } })
}

fn get_issue(id: u32, key: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": { "name": "get_issue", "arguments": { "key": key } } })
}

/// The JSON-RPC result text of a stateless reply (JSON, or SSE whose last data line is it).
async fn reply(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap();
    let json = text.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).rfind(|l| !l.is_empty());
    serde_json::from_str(json.unwrap_or(&text)).unwrap_or_else(|e| panic!("not JSON-RPC ({e}): {text:?}"))
}

fn tool_text(reply: &Value) -> (bool, String) {
    let result = &reply["result"];
    (result["isError"] == json!(true), result["content"][0]["text"].as_str().unwrap_or_default().to_owned())
}

/// Makes Jira answer `GET …/issue/KEY` late (or never), once.
fn slow_issue(emu: &Emulator, key: &str, shape: Shape) {
    emu.inject_shape(ShapeFault {
        path_contains: format!("/issue/{key}"),
        method: Some("GET"),
        times: 1,
        after_handler: false,
        shape,
    });
}

#[tokio::test]
async fn readyz_flips_first_the_listener_closes_later_and_a_call_in_flight_completes() {
    let emu = emulator().await;
    let mut server =
        replica(&emu, &[("JIRA_MCP_HTTP_DRAIN_DELAY_SECS", "1"), ("JIRA_MCP_HTTP_STATELESS", "true")]).await;
    assert_eq!(get(&server.url("/readyz")).await, (200, "ready".to_owned()));

    // A call Jira answers 2.5 s late is in flight when the stop comes.
    slow_issue(&emu, "DEMO-1", Shape::Delay { millis: 2500 });
    let url = server.url("/mcp");
    let in_flight = tokio::spawn(async move { reply(rpc(&url, &[], &get_issue(1, "DEMO-1")).await).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = Instant::now();
    server.stop.cancel();

    // Unready at once, still serving during the delay (load balancers need probes to notice).
    assert_eq!(get(&server.url("/readyz")).await, (503, "draining".to_owned()));
    assert_eq!(get(&server.url("/healthz")).await, (200, "ok".to_owned()), "alive while draining");
    let during = rpc(&server.url("/mcp"), &[], &initialize()).await;
    assert_eq!(during.status(), 200, "requests are still served during the unready delay");
    assert!(stopped.elapsed() < Duration::from_secs(1), "checked within the delay: {:?}", stopped.elapsed());

    // After the delay the listener is closed: a new connection is refused, so a
    // load balancer or client retries elsewhere.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let refused = tokio::net::TcpStream::connect(server.addr).await;
    assert!(refused.is_err(), "the listener is closed after the delay");

    // The call in flight still completes, with Jira's answer.
    let answer = in_flight.await.unwrap();
    let (is_error, text) = tool_text(&answer);
    assert!(!is_error && text.contains("DEMO-1"), "{answer}");
    // And the server is done once it has.
    tokio::time::timeout(Duration::from_secs(5), &mut server.served)
        .await
        .expect("drained once the call finished")
        .unwrap();
}

#[tokio::test]
async fn a_call_that_outlives_the_drain_is_cancelled_with_an_instructive_error() {
    let emu = emulator().await;
    let mut server = replica(&emu, &[("JIRA_MCP_HTTP_DRAIN_DELAY_SECS", "0"), ("JIRA_MCP_HTTP_DRAIN_SECS", "1")]).await;
    let init = rpc(&server.url("/mcp"), &[], &initialize()).await;
    let session = init.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let headers = [("Mcp-Session-Id", session.as_str()), ("Mcp-Protocol-Version", "2025-06-18")];
    let r =
        rpc(&server.url("/mcp"), &headers, &json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).await;
    assert_eq!(r.status(), 202);

    // Jira never answers this one.
    slow_issue(&emu, "DEMO-2", Shape::Hang);
    let url = server.url("/mcp");
    let owned: Vec<(String, String)> = headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let in_flight = tokio::spawn(async move {
        let headers: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        reply(rpc(&url, &headers, &get_issue(7, "DEMO-2")).await).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = Instant::now();
    server.stop.cancel();

    let answer = tokio::time::timeout(Duration::from_secs(10), in_flight).await.expect("answered, not hung").unwrap();
    let (is_error, text) = tool_text(&answer);
    assert!(is_error, "{answer}");
    assert_eq!(
        text,
        "The call to get_issue was cancelled: this server is shutting down (a replica stop) and the call ran past \
         the drain bound (JIRA_MCP_HTTP_DRAIN_SECS). Retry the call: another replica, or this server once \
         restarted, will serve it"
    );
    let waited = stopped.elapsed();
    assert!(waited >= Duration::from_secs(1), "not before the drain bound: {waited:?}");
    // Nothing is left running: the server returns (its sessions and connections closed).
    tokio::time::timeout(Duration::from_secs(10), &mut server.served).await.expect("the server stops").unwrap();
    assert!(stopped.elapsed() < Duration::from_secs(10), "stopped in {:?}", stopped.elapsed());
}

#[tokio::test]
async fn a_request_arriving_while_the_listener_closes_gets_a_retryable_503() {
    let emu = emulator().await;
    let server = replica(&emu, &[("JIRA_MCP_HTTP_DRAIN_DELAY_SECS", "0"), ("JIRA_MCP_HTTP_STATELESS", "true")]).await;
    // A call keeps the drain waiting, so the server is in its closing stage below.
    slow_issue(&emu, "DEMO-1", Shape::Delay { millis: 3000 });
    let url = server.url("/mcp");
    let in_flight = tokio::spawn(async move { reply(rpc(&url, &[], &get_issue(1, "DEMO-1")).await).await });
    // A client with a kept-alive connection from before the stop.
    let pooled_before = common::probe_client();
    let r = pooled_before.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok");
    // A client that has sent half a request head when the stop comes.
    let mut half = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let body = initialize().to_string();
    let rest = format!(
        "Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nAccept: application/json, \
         text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // hyper finishes reading a request it had begun; the drain gate answers it with a
    // 503 the client retries elsewhere: never a hang and never a served request.
    let _ = half.write_all(rest.as_bytes()).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), half.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(read.is_ok(), "no hang");
    assert!(
        answer.starts_with("http/1.1 503")
            && answer.contains("retry-after: 1")
            && answer.contains("connection: close")
            && answer.contains("shutting down; retry the request"),
        "{answer}"
    );
    // A connection kept alive from before the stop is not closed under the client
    // (a proxy may be sending on it): its next request gets the same 503.
    let pooled = pooled_before.post(server.url("/mcp")).header("Authorization", format!("Bearer {TOKEN}"));
    let r = pooled
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(initialize().to_string())
        .send()
        .await
        .expect("the kept-alive connection answers");
    assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (503, "1"));
    let (is_error, text) = tool_text(&in_flight.await.unwrap());
    assert!(!is_error && text.contains("DEMO-1"), "{text}");
}

#[tokio::test]
async fn stateless_mode_serves_each_post_on_its_own_on_any_replica() {
    let emu = emulator().await;
    let vars = [("JIRA_MCP_HTTP_STATELESS", "true")];
    let (a, b) = (replica(&emu, &vars).await, replica(&emu, &vars).await);

    // Initialize on A: no session id, a plain JSON reply.
    let init = rpc(&a.url("/mcp"), &[], &initialize()).await;
    assert_eq!(init.status(), 200);
    assert!(init.headers().get("mcp-session-id").is_none(), "stateless: no session");
    assert!(init.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(reply(init).await["result"]["serverInfo"]["name"], "jira-mcp");

    // Two independent POSTs without a session id, each to another replica, both work.
    let version = [("Mcp-Protocol-Version", "2025-06-18")];
    let listed =
        reply(rpc(&b.url("/mcp"), &version, &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })).await).await;
    assert_eq!(listed["result"]["tools"].as_array().map(Vec::len), Some(15), "{listed}");
    let (is_error, text) = tool_text(&reply(rpc(&a.url("/mcp"), &version, &get_issue(2, "DEMO-1")).await).await);
    assert!(!is_error && text.contains("DEMO-1"), "{text}");
    let (is_error, text) = tool_text(&reply(rpc(&b.url("/mcp"), &version, &get_issue(3, "DEMO-404")).await).await);
    assert!(is_error && text.starts_with("Issue DEMO-404 was not found (404)"), "{text}");

    // Auth is per request as before.
    let r = fresh().post(b.url("/mcp")).body(initialize().to_string()).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // A call that reports progress streams it (SSE) before its result, in the same response.
    let call = json!({ "jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
        "name": "summarize_project", "arguments": { "project": "DEMO" }, "_meta": { "progressToken": "p1" } } });
    let r = rpc(&a.url("/mcp"), &version, &call).await;
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    let text = r.text().await.unwrap();
    assert!(
        content_type.starts_with("text/event-stream")
            && text.contains("notifications/progress")
            && text.contains("\"id\":4"),
        "{content_type}: {text}"
    );

    // No standalone stream and no session to delete: nothing lives between requests.
    let r = fresh()
        .get(a.url("/mcp"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}
