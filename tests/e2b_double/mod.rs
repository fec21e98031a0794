//! A local double of E2B for the tests: the control plane (openapi.yml), envd's
//! files API (envd.yaml) and `process.Process/Start` over Connect in JSON
//! (process.proto), on 127.0.0.1 only, one port for all: like E2B's proxy it
//! tells `api.{domain}` from `49983-{sandboxID}.{domain}` by the Host header.
//! It records every exchange so tests/e2b_contract.rs can hold both sides to
//! the spec.
//!
//! Test scaffolding, not part of the server. Its "sandboxes" run in one of two ways:
//! - [`Exec::Scripted`]: nothing runs; a test's script answers each Start (output,
//!   an exit, a report file, or a hang). This proves the protocol, the kill on
//!   every path, the refusals and the caps, and needs no Docker.
//! - [`Exec::Docker`]: each sandbox is a container with E2B's defaults as far as
//!   they matter here: a writable root filesystem, root reachable with
//!   `sudo -n` (a shim: the image has no sudo, and E2B's default user has
//!   passwordless sudo), CAP_SYS_ADMIN as root in a VM has, all under runc (a
//!   real Linux kernel like the VM's, where mounts and seccomp filters behave as
//!   there; gVisor's runsc cannot remount read-only) and with the network on, as
//!   E2B's is: the host's (`--network host`), so a leak would reach the test's
//!   listener on 127.0.0.1. Tests only ever connect to loopback. No hardening
//!   comes from here: every isolation property the battery sees is the launcher's
//!   (tests/sandbox_e2b.rs shows the bare sandbox isolates nothing).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]
#![allow(dead_code, unreachable_pub)]

use std::{
    collections::HashMap,
    convert::Infallible,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use base64::Engine;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

pub const API_KEY: &str = "e2b_double_test_key_0123456789";
pub const TEMPLATE: &str = "base";
/// Docker label on the double's containers.
pub const CONTAINER_LABEL: &str = "io.github.jira-mcp.e2b-double";
const DOMAIN: &str = "e2b.local";

/// What one `process.Process/Start` does in a scripted sandbox.
#[derive(Debug, Clone)]
pub enum Step {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    /// Writes a file in the sandbox (the launcher's report).
    Write(String, Vec<u8>),
    /// The end event with this exit code, then the end of the stream.
    Exit(i32),
    /// Never ends: the stream stays open until the sandbox is killed.
    Hang,
}

/// Answers a Start from the sandbox's files (`main.py`, `run.json`, …).
pub type Script = Arc<dyn Fn(&HashMap<String, Vec<u8>>) -> Vec<Step> + Send + Sync>;

#[derive(Clone)]
pub enum Exec {
    Scripted(Script),
    Docker { image: String },
}

/// One request and its answer, as the double saw them.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `api` or `envd`.
    pub host: &'static str,
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub request: Option<Value>,
    pub status: u16,
    pub response: Option<Value>,
    /// Connect frames of a stream, each a JSON message (the last is the end-of-stream one).
    pub frames: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct Box_ {
    pub id: String,
    pub template: String,
    pub metadata: HashMap<String, String>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub timeout: i64,
    pub allow_internet_access: Option<bool>,
    pub env_vars: Value,
    token: String,
    files: HashMap<String, Vec<u8>>,
    container: Option<String>,
    killed: CancellationToken,
}

struct Inner {
    exec: Exec,
    sandboxes: Mutex<HashMap<String, Box_>>,
    exchanges: Mutex<Vec<Exchange>>,
    killed: Mutex<Vec<String>>,
    /// What `GET /sandboxes/{id}` says of internet access: `None` mimics a
    /// deployment that does not report it.
    report_internet_access: Mutex<bool>,
}

/// The double; it serves until the test's runtime ends (its Docker containers are
/// removed when a sandbox is killed).
#[derive(Clone)]
pub struct Double {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

fn error(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({ "code": status.as_u16(), "message": message }))
}

impl Double {
    pub async fn start(exec: Exec) -> Self {
        let inner = Arc::new(Inner {
            exec,
            sandboxes: Mutex::default(),
            exchanges: Mutex::default(),
            killed: Mutex::default(),
            report_internet_access: Mutex::new(true),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().fallback(handle).with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, inner }
    }

    /// The server's settings for this double.
    pub fn config(&self) -> jira_mcp::config::E2bConfig {
        jira_mcp::config::E2bConfig::local_double(self.addr, API_KEY)
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.inner.exchanges.lock().unwrap().clone()
    }

    /// Sandboxes alive now.
    pub fn live(&self) -> Vec<Box_> {
        self.inner.sandboxes.lock().unwrap().values().cloned().collect()
    }

    /// Ids of the sandboxes killed so far, in order.
    pub fn killed(&self) -> Vec<String> {
        self.inner.killed.lock().unwrap().clone()
    }

    /// From now on, `GET /sandboxes/{id}` leaves `allowInternetAccess` out.
    pub fn stop_reporting_internet_access(&self) {
        *self.inner.report_internet_access.lock().unwrap() = false;
    }

    /// Adds a sandbox as another process (or a crashed server) left it.
    pub fn seed(&self, metadata: &[(&str, &str)], age: chrono::Duration) -> String {
        let id = format!("seed{}", uuid::Uuid::new_v4().simple());
        let b = Box_ {
            id: id.clone(),
            template: TEMPLATE.to_owned(),
            metadata: metadata.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            started_at: chrono::Utc::now() - age,
            timeout: 60,
            allow_internet_access: Some(false),
            env_vars: json!({}),
            token: String::new(),
            files: HashMap::new(),
            container: None,
            killed: CancellationToken::new(),
        };
        self.inner.sandboxes.lock().unwrap().insert(id.clone(), b);
        id
    }
}

fn record(inner: &Inner, exchange: Exchange) -> usize {
    let mut all = inner.exchanges.lock().unwrap();
    all.push(exchange);
    all.len() - 1
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default().to_owned();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let mut exchange = Exchange {
        host: "api",
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: query.clone(),
        request: serde_json::from_slice(&body).ok(),
        status: 0,
        response: None,
        frames: Vec::new(),
    };
    if host == format!("api.{DOMAIN}") {
        let (status, value) = control(&inner, &method, uri.path(), &query, &headers, &exchange.request).await;
        exchange.status = status.as_u16();
        exchange.response = value.clone();
        record(&inner, exchange);
        return match value {
            Some(v) => (status, axum::Json(v)).into_response(),
            None => status.into_response(),
        };
    }
    let Some(id) = host.strip_prefix("49983-").and_then(|h| h.strip_suffix(&format!(".{DOMAIN}"))) else {
        return (StatusCode::BAD_GATEWAY, "unknown host").into_response();
    };
    exchange.host = "envd";
    let sandbox = inner.sandboxes.lock().unwrap().get(id).cloned();
    let Some(sandbox) = sandbox else {
        // E2B's proxy answers a dead sandbox's traffic with 502.
        exchange.status = 502;
        record(&inner, exchange);
        return (StatusCode::BAD_GATEWAY, "sandbox not found").into_response();
    };
    if headers.get("x-access-token").and_then(|t| t.to_str().ok()) != Some(sandbox.token.as_str()) {
        let (status, v) = error(StatusCode::UNAUTHORIZED, "invalid access token");
        exchange.status = 401;
        exchange.response = Some(v.clone());
        record(&inner, exchange);
        return (status, axum::Json(v)).into_response();
    }
    match (method.as_str(), uri.path()) {
        ("GET", "/health") => {
            exchange.status = 204;
            record(&inner, exchange);
            StatusCode::NO_CONTENT.into_response()
        }
        ("POST", "/files") | ("GET", "/files") => {
            let path = query.iter().find(|(k, _)| k == "path").map(|(_, v)| v.clone()).unwrap_or_default();
            exchange.request = None;
            let (status, answer) = files(&inner, &sandbox, &method, &path, body.to_vec()).await;
            exchange.status = status.as_u16();
            let response = match answer {
                Ok(v) => {
                    exchange.response = Some(v.clone());
                    (status, axum::Json(v)).into_response()
                }
                Err(bytes) => (status, bytes).into_response(),
            };
            record(&inner, exchange);
            response
        }
        ("POST", "/process.Process/Start") => start(&inner, &sandbox, &headers, &body, exchange).await,
        _ => {
            exchange.status = 404;
            record(&inner, exchange);
            StatusCode::NOT_FOUND.into_response()
        }
    }
}

async fn control(
    inner: &Inner,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &Option<Value>,
) -> (StatusCode, Option<Value>) {
    if headers.get("x-api-key").and_then(|k| k.to_str().ok()) != Some(API_KEY) {
        let (s, v) = error(StatusCode::UNAUTHORIZED, "Invalid API key, it must start with 'e2b_' prefix");
        return (s, Some(v));
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["sandboxes"]) => {
            let Some(body) = body else {
                let (s, v) = error(StatusCode::BAD_REQUEST, "request body has an error: value is required");
                return (s, Some(v));
            };
            let template = body["templateID"].as_str().unwrap_or_default().to_owned();
            if template != TEMPLATE {
                let (s, v) = error(StatusCode::BAD_REQUEST, &format!("template '{template}' not found"));
                return (s, Some(v));
            }
            let id = format!("i{}", &uuid::Uuid::new_v4().simple().to_string()[..19]);
            let token = uuid::Uuid::new_v4().simple().to_string();
            let container = match &inner.exec {
                Exec::Docker { image } => Some(docker_create(&id, image).await),
                Exec::Scripted(_) => None,
            };
            let b = Box_ {
                id: id.clone(),
                template: template.clone(),
                metadata: serde_json::from_value(body["metadata"].clone()).unwrap_or_default(),
                started_at: chrono::Utc::now(),
                timeout: body["timeout"].as_i64().unwrap_or(15),
                allow_internet_access: body["allow_internet_access"].as_bool(),
                env_vars: body["envVars"].clone(),
                token: token.clone(),
                files: HashMap::new(),
                container,
                killed: CancellationToken::new(),
            };
            inner.sandboxes.lock().unwrap().insert(id.clone(), b);
            let secure = body["secure"].as_bool() == Some(true);
            let mut answer = json!({
                "templateID": template, "sandboxID": id, "clientID": "6532622b", "envdVersion": "0.2.0",
                "domain": DOMAIN,
            });
            if secure {
                answer["envdAccessToken"] = json!(token);
            }
            (StatusCode::CREATED, Some(answer))
        }
        ("GET", ["sandboxes", id]) => match inner.sandboxes.lock().unwrap().get(*id) {
            Some(b) => {
                let mut detail = listed(b);
                if *inner.report_internet_access.lock().unwrap() {
                    detail["allowInternetAccess"] = json!(b.allow_internet_access.unwrap_or(true));
                }
                (StatusCode::OK, Some(detail))
            }
            None => {
                let (s, v) = error(
                    StatusCode::NOT_FOUND,
                    &format!("sandbox \"{id}\" doesn't exist or you don't have access to it"),
                );
                (s, Some(v))
            }
        },
        ("DELETE", ["sandboxes", id]) => {
            let removed = inner.sandboxes.lock().unwrap().remove(*id);
            match removed {
                Some(b) => {
                    b.killed.cancel();
                    if let Some(c) = &b.container {
                        docker(&["rm", "-f", c]).await;
                    }
                    inner.killed.lock().unwrap().push(b.id);
                    (StatusCode::NO_CONTENT, None)
                }
                None => {
                    let (s, v) = error(StatusCode::NOT_FOUND, &format!("sandbox \"{id}\" not found"));
                    (s, Some(v))
                }
            }
        }
        ("GET", ["v2", "sandboxes"]) => {
            let wanted: Vec<(String, String)> = query
                .iter()
                .find(|(k, _)| k == "metadata")
                .map(|(_, v)| url::form_urlencoded::parse(v.as_bytes()).into_owned().collect())
                .unwrap_or_default();
            let all = inner.sandboxes.lock().unwrap();
            let list: Vec<Value> =
                all.values().filter(|b| wanted.iter().all(|(k, v)| b.metadata.get(k) == Some(v))).map(listed).collect();
            (StatusCode::OK, Some(Value::Array(list)))
        }
        ("GET", ["templates", id]) if *id == TEMPLATE => (
            StatusCode::OK,
            Some(json!({
                "templateID": TEMPLATE, "public": true, "aliases": [TEMPLATE], "names": [TEMPLATE],
                "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z", "lastSpawnedAt": null,
                "spawnCount": 1, "builds": []
            })),
        ),
        _ => {
            let (s, v) = error(StatusCode::NOT_FOUND, "not found");
            (s, Some(v))
        }
    }
}

fn listed(b: &Box_) -> Value {
    json!({
        "templateID": b.template, "sandboxID": b.id, "clientID": "6532622b",
        "startedAt": b.started_at.to_rfc3339(), "endAt": (b.started_at + chrono::Duration::seconds(b.timeout)).to_rfc3339(),
        "cpuCount": 2, "memoryMB": 512, "diskSizeMB": 1024, "metadata": b.metadata, "state": "running",
        "envdVersion": "0.2.0",
    })
}

async fn files(
    inner: &Inner,
    sandbox: &Box_,
    method: &Method,
    path: &str,
    body: Vec<u8>,
) -> (StatusCode, Result<Value, Vec<u8>>) {
    let name = path.rsplit('/').next().unwrap_or_default().to_owned();
    if method == Method::POST {
        match &sandbox.container {
            Some(c) => {
                let script = "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\"";
                docker_stdin(&["exec", "-i", "-u", "0", c, "/bin/sh", "-c", script, "sh", path], body).await;
            }
            None => {
                if let Some(b) = inner.sandboxes.lock().unwrap().get_mut(&sandbox.id) {
                    b.files.insert(path.to_owned(), body);
                }
            }
        }
        return (StatusCode::OK, Ok(json!([{ "path": path, "name": name, "type": "file" }])));
    }
    let found = match &sandbox.container {
        Some(c) => docker_output(&["exec", "-u", "0", c, "/bin/cat", path]).await,
        None => inner.sandboxes.lock().unwrap().get(&sandbox.id).and_then(|b| b.files.get(path).cloned()),
    };
    match found {
        Some(bytes) => (StatusCode::OK, Err(bytes)),
        None => {
            let (s, v) = error(StatusCode::NOT_FOUND, &format!("path '{path}' does not exist"));
            (s, Ok(v))
        }
    }
}

fn frame(flags: u8, message: &Value) -> Bytes {
    let text = message.to_string();
    let mut out = vec![flags];
    out.extend_from_slice(&u32::try_from(text.len()).unwrap().to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    Bytes::from(out)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn start(
    inner: &Arc<Inner>,
    sandbox: &Box_,
    headers: &HeaderMap,
    body: &[u8],
    mut exchange: Exchange,
) -> Response {
    let content_type = headers.get("content-type").and_then(|c| c.to_str().ok()).unwrap_or_default();
    // A Connect streaming request: one enveloped message.
    let message = body.get(5..).and_then(|m| serde_json::from_slice::<Value>(m).ok());
    exchange.request = message.clone();
    if content_type != "application/connect+json" || message.is_none() {
        exchange.status = 415;
        record(inner, exchange);
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    let message = message.unwrap();
    exchange.status = 200;
    let index = record(inner, exchange);
    let (tx, rx) = tokio::sync::mpsc::channel::<Value>(64);
    let inner2 = inner.clone();
    let out = futures_util::stream::unfold((rx, inner2), move |(mut rx, inner)| async move {
        let v = rx.recv().await?;
        inner.exchanges.lock().unwrap()[index].frames.push(v.clone());
        let flags = if v.get("event").is_some() { 0 } else { 2 };
        Some((Ok::<_, Infallible>(frame(flags, &v)), (rx, inner)))
    });
    let sandbox = sandbox.clone();
    let inner3 = inner.clone();
    tokio::spawn(async move {
        let _ = tx.send(json!({ "event": { "start": { "pid": 1 } } })).await;
        match &inner3.exec {
            Exec::Scripted(script) => {
                let files =
                    inner3.sandboxes.lock().unwrap().get(&sandbox.id).map(|b| b.files.clone()).unwrap_or_default();
                for step in script(&files) {
                    match step {
                        Step::Stdout(b) => drop(tx.send(json!({ "event": { "data": { "stdout": b64(&b) } } })).await),
                        Step::Stderr(b) => drop(tx.send(json!({ "event": { "data": { "stderr": b64(&b) } } })).await),
                        Step::Write(path, bytes) => {
                            if let Some(b) = inner3.sandboxes.lock().unwrap().get_mut(&sandbox.id) {
                                b.files.insert(path, bytes);
                            }
                        }
                        Step::Exit(code) => {
                            let end = json!({ "event": { "end": { "exitCode": code, "exited": true, "status": format!("exit status {code}") } } });
                            let _ = tx.send(end).await;
                            let _ = tx.send(json!({})).await;
                            return;
                        }
                        // The stream ends when the sandbox is killed (the connection drops).
                        Step::Hang => {
                            sandbox.killed.cancelled().await;
                            return;
                        }
                    }
                }
            }
            Exec::Docker { .. } => docker_process(&sandbox, &message, &tx).await,
        }
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/connect+json")
        .body(Body::from_stream(out))
        .unwrap()
}

/// Runs the Start request's process in the sandbox's container, as root.
async fn docker_process(sandbox: &Box_, message: &Value, tx: &tokio::sync::mpsc::Sender<Value>) {
    let container = sandbox.container.clone().unwrap();
    let process = &message["process"];
    let mut args = vec!["exec".to_owned(), "-u".to_owned(), "0".to_owned(), "-w".to_owned(), "/".to_owned()];
    if let Some(envs) = process["envs"].as_object() {
        for (k, v) in envs {
            args.extend(["-e".to_owned(), format!("{k}={}", v.as_str().unwrap_or_default())]);
        }
    }
    args.push(container);
    args.push(process["cmd"].as_str().unwrap_or_default().to_owned());
    args.extend(process["args"].as_array().into_iter().flatten().filter_map(|a| a.as_str().map(str::to_owned)));
    let mut child = tokio::process::Command::new("docker")
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let pump = |kind: &'static str, mut pipe: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
        let tx = tx.clone();
        async move {
            let mut buf = vec![0u8; 16384];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 || tx.send(json!({ "event": { "data": { kind: b64(&buf[..n]) } } })).await.is_err() {
                    break;
                }
            }
        }
    };
    let streams = async {
        tokio::join!(pump("stdout", Box::new(&mut out)), pump("stderr", Box::new(&mut err)));
    };
    tokio::select! {
        () = streams => {}
        () = sandbox.killed.cancelled() => return,
    }
    let status = tokio::select! {
        s = child.wait() => s.unwrap(),
        () = sandbox.killed.cancelled() => return,
    };
    let code = status.code().unwrap_or(-1);
    let _ = tx.send(json!({ "event": { "end": { "exitCode": code, "exited": true, "status": format!("exit status {code}") } } })).await;
    let _ = tx.send(json!({})).await;
}

async fn docker(args: &[&str]) -> String {
    String::from_utf8(docker_output(args).await.unwrap_or_default()).unwrap()
}

async fn docker_output(args: &[&str]) -> Option<Vec<u8>> {
    let out = tokio::process::Command::new("docker").args(args).output().await.expect("the docker CLI runs");
    out.status.success().then_some(out.stdout)
}

async fn docker_stdin(args: &[&str], input: Vec<u8>) {
    let mut child = tokio::process::Command::new("docker")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&input).await.unwrap();
    drop(stdin);
    assert!(child.wait().await.unwrap().success(), "docker {args:?}");
}

/// A container with E2B's defaults (see the module comment) and the sudo shim.
async fn docker_create(id: &str, image: &str) -> String {
    let name = format!("e2b-double-{id}");
    let out = docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--label",
        &format!("{CONTAINER_LABEL}=1"),
        "--runtime",
        "runc",
        "--network",
        "host",
        "--user",
        "0",
        "--cap-add",
        "SYS_ADMIN",
        image,
        "/usr/bin/python3",
        "-c",
        "import time\nwhile True: time.sleep(3600)",
    ])
    .await;
    assert!(!out.trim().is_empty(), "the double's container did not start from {image}");
    let shim = b"#!/bin/sh\n# E2B's default user has passwordless sudo; this double runs processes as root.\n[ \"$1\" = \"-n\" ] && shift\nexec \"$@\"\n".to_vec();
    docker_stdin(
        &["exec", "-i", "-u", "0", &name, "/bin/sh", "-c", "cat > /usr/bin/sudo && chmod 755 /usr/bin/sudo"],
        shim,
    )
    .await;
    name
}
