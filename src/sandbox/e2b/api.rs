//! E2B's wire, after the specs in /work/shared/e2b-spec (copied in part to
//! tests/fixtures/e2b-spec-subset.json): the control plane (`openapi.yml`, REST
//! with `X-API-Key` at `api.{domain}`) and one sandbox's daemon, envd (`envd.yaml`
//! for files over plain HTTP, `process.proto` over Connect RPC in its JSON
//! encoding, at `49983-{sandboxID}.{domain}` with the sandbox's `X-Access-Token`).
//!
//! Facts only: errors say what E2B answered, never with the API key (it travels
//! only in a header), and `super` words them. Every body read is capped.
//! The one module besides `jira::client` that uses reqwest.

#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "the E2B backend's wire talks HTTP (reqwest) to E2B's control plane and its sandboxes' daemon, never to Jira"
)]

use std::{collections::HashMap, net::SocketAddr, sync::Arc, time::Duration};

use base64::Engine;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::E2bConfig;

/// The port envd listens on inside every sandbox.
pub(crate) const ENVD_PORT: u16 = 49983;
/// Largest JSON answer read from E2B.
const JSON_CAP: usize = 4 * 1024 * 1024;
/// Largest Connect frame accepted (envd sends output in small chunks).
const FRAME_CAP: usize = 4 * 1024 * 1024;

/// What went wrong talking to E2B.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// 401: the API key (or the sandbox's access token) was not accepted.
    #[error("E2B rejected the credentials (401): {0}")]
    Unauthorized(String),
    /// Any other answer than the expected one.
    #[error("E2B answered {status} to {what}: {message}")]
    Status { what: &'static str, status: u16, message: String },
    /// No answer: connection, TLS or timeout.
    #[error("cannot reach E2B for {what}: {detail}")]
    Transport { what: &'static str, detail: String },
    /// An answer this client cannot read.
    #[error("E2B sent an unreadable answer to {what}: {detail}")]
    Protocol { what: &'static str, detail: String },
}

impl ApiError {
    /// The HTTP status E2B answered with, if it answered.
    pub(crate) const fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized(_) => Some(401),
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `NewSandbox` (openapi.yml), with only the fields this backend sets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewSandbox<'a> {
    #[serde(rename = "templateID")]
    pub(crate) template_id: &'a str,
    /// Seconds before E2B kills it on its own.
    pub(crate) timeout: u32,
    pub(crate) auto_pause: bool,
    /// envd then requires the returned access token.
    pub(crate) secure: bool,
    #[serde(rename = "allow_internet_access")]
    pub(crate) allow_internet_access: bool,
    pub(crate) network: Network,
    pub(crate) metadata: HashMap<String, String>,
    pub(crate) env_vars: HashMap<String, String>,
}

/// `SandboxNetworkConfig`: egress denied everywhere, no unauthenticated traffic in.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Network {
    pub(crate) allow_public_traffic: bool,
    pub(crate) deny_out: Vec<String>,
}

/// `Sandbox` (the 201 answer), the fields this backend reads.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Created {
    #[serde(rename = "sandboxID")]
    pub(crate) sandbox_id: String,
    #[serde(rename = "envdAccessToken", default)]
    pub(crate) envd_access_token: Option<String>,
}

/// `SandboxDetail`, the fields the backend checks after creation.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Detail {
    /// `null` or absent when the deployment does not say.
    #[serde(rename = "allowInternetAccess", default)]
    pub(crate) allow_internet_access: Option<bool>,
}

/// `ListedSandbox`, the fields the sweep reads.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Listed {
    #[serde(rename = "sandboxID")]
    pub(crate) sandbox_id: String,
    #[serde(rename = "startedAt")]
    pub(crate) started_at: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    pub(crate) metadata: HashMap<String, String>,
}

/// `Error` (openapi.yml and envd.yaml): `{code, message}`.
#[derive(Debug, Deserialize)]
struct WireError {
    #[serde(default)]
    message: String,
}

/// One event of `process.Process/Start` (`ProcessEvent`, proto3 JSON names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Start { pid: u32 },
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    End { exit_code: i32, exited: bool, status: String, error: Option<String> },
    KeepAlive,
}

#[derive(Debug, Deserialize)]
struct StartResponse {
    #[serde(default)]
    event: Option<ProcessEvent>,
}

#[derive(Debug, Deserialize)]
struct ProcessEvent {
    #[serde(default)]
    start: Option<StartEvent>,
    #[serde(default)]
    data: Option<DataEvent>,
    #[serde(default)]
    end: Option<EndEvent>,
    #[serde(default)]
    keepalive: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct StartEvent {
    #[serde(default)]
    pid: u32,
}

#[derive(Debug, Deserialize)]
struct DataEvent {
    #[serde(default)]
    stdout: Option<String>,
    #[serde(default)]
    stderr: Option<String>,
}

// proto3 JSON omits default values, and parsers accept the proto field name too.
#[derive(Debug, Deserialize)]
struct EndEvent {
    #[serde(default, alias = "exit_code", rename = "exitCode")]
    exit_code: i32,
    #[serde(default)]
    exited: bool,
    #[serde(default)]
    status: String,
    #[serde(default)]
    error: Option<String>,
}

/// Connect's end-of-stream message.
#[derive(Debug, Deserialize)]
struct EndOfStream {
    #[serde(default)]
    error: Option<ConnectError>,
}

#[derive(Debug, Deserialize)]
struct ConnectError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// A sandbox as envd is reached: its id and access token.
#[derive(Debug, Clone)]
pub(crate) struct Handle {
    pub(crate) id: String,
    token: Option<SecretString>,
}

impl Handle {
    pub(crate) fn new(created: Created) -> Self {
        Self { id: created.sandbox_id, token: created.envd_access_token.map(SecretString::from) }
    }
}

/// Answers every name with one loopback address: a local E2B double serves the
/// control plane and every sandbox's envd on one port, told apart by Host.
#[derive(Debug)]
struct Loopback(SocketAddr);

impl reqwest::dns::Resolve for Loopback {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addr = self.0;
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs) })
    }
}

/// The HTTP client for one E2B deployment.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    key: SecretString,
    domain: String,
    /// `https://`, or `http://` for a local double.
    scheme: &'static str,
    /// `:port` for a local double.
    port: String,
}

impl Api {
    /// A client for `config`'s deployment.
    ///
    /// # Errors
    /// A local double that is not on loopback, or no usable TLS backend.
    pub(crate) fn new(config: &E2bConfig) -> Result<Self, ApiError> {
        let builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Each request but the process stream is short; the stream has its own deadline.
            .read_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jira-mcp/", env!("CARGO_PKG_VERSION")));
        let (builder, scheme, port) = match config.local_double {
            // Plain HTTP on loopback: no TLS roots are needed (the Nix build sandbox has none).
            Some(addr) if addr.ip().is_loopback() => (
                builder
                    .dns_resolver(Arc::new(Loopback(addr)))
                    .no_proxy()
                    .tls_certs_only(Vec::<reqwest::Certificate>::new()),
                "http://",
                format!(":{}", addr.port()),
            ),
            Some(addr) => {
                return Err(ApiError::Transport {
                    what: "the local E2B double",
                    detail: format!("{addr} is not a loopback address"),
                });
            }
            None => (builder.https_only(true), "https://", String::new()),
        };
        let http = builder.build().map_err(|e| ApiError::Transport {
            what: "the HTTP client",
            detail: format!(
                "{e}: no usable TLS root certificates? Set SSL_CERT_FILE to a PEM file of trusted CA certificates, \
                 e.g. /etc/ssl/certs/ca-certificates.crt"
            ),
        })?;
        Ok(Self { http, key: config.api_key.clone(), domain: config.domain.clone(), scheme, port })
    }

    fn api_url(&self, path: &str) -> String {
        format!("{}api.{}{}{path}", self.scheme, self.domain, self.port)
    }

    fn envd_url(&self, sandbox: &Handle, path: &str) -> String {
        format!("{}{ENVD_PORT}-{}.{}{}{path}", self.scheme, sandbox.id, self.domain, self.port)
    }

    /// Sends to the control plane with the API key.
    async fn control(
        &self,
        what: &'static str,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let mut req = self.http.request(method, self.api_url(path)).header("X-API-Key", self.key.expose_secret());
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.timeout(Duration::from_secs(60)).send().await.map_err(|e| transport(what, &e))?;
        finish(what, resp).await
    }

    /// `POST /sandboxes` (201).
    pub(crate) async fn create(&self, body: &NewSandbox<'_>) -> Result<Created, ApiError> {
        const WHAT: &str = "creating a sandbox";
        let (status, bytes) = self.control(WHAT, Method::POST, "/sandboxes", Some(body)).await?;
        expect(WHAT, status, &bytes, &[StatusCode::CREATED])?;
        decode(WHAT, &bytes)
    }

    /// `GET /sandboxes/{sandboxID}` (200).
    pub(crate) async fn detail(&self, id: &str) -> Result<Detail, ApiError> {
        const WHAT: &str = "reading the sandbox";
        let (status, bytes) = self.control(WHAT, Method::GET, &format!("/sandboxes/{id}"), None::<&()>).await?;
        expect(WHAT, status, &bytes, &[StatusCode::OK])?;
        decode(WHAT, &bytes)
    }

    /// `DELETE /sandboxes/{sandboxID}` (204; 404 means it is gone already).
    pub(crate) async fn kill(&self, id: &str) -> Result<(), ApiError> {
        const WHAT: &str = "killing a sandbox";
        let (status, bytes) = self.control(WHAT, Method::DELETE, &format!("/sandboxes/{id}"), None::<&()>).await?;
        expect(WHAT, status, &bytes, &[StatusCode::NO_CONTENT, StatusCode::NOT_FOUND])
    }

    /// `GET /v2/sandboxes?metadata=key=value` (200), first page of running ones.
    pub(crate) async fn list(&self, key: &str, value: &str) -> Result<Vec<Listed>, ApiError> {
        const WHAT: &str = "listing sandboxes";
        let metadata = format!("{}={}", encode(key), encode(value));
        let path = format!("/v2/sandboxes?metadata={}&state=running&limit=100", encode(&metadata));
        let (status, bytes) = self.control(WHAT, Method::GET, &path, None::<&()>).await?;
        expect(WHAT, status, &bytes, &[StatusCode::OK])?;
        decode(WHAT, &bytes)
    }

    /// `GET /templates/{templateID}` (200): whether the key's team may use the template.
    pub(crate) async fn template(&self, id: &str) -> Result<(), ApiError> {
        const WHAT: &str = "reading the template";
        let (status, bytes) =
            self.control(WHAT, Method::GET, &format!("/templates/{}", encode(id)), None::<&()>).await?;
        expect(WHAT, status, &bytes, &[StatusCode::OK])
    }

    fn envd(&self, sandbox: &Handle, method: Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, self.envd_url(sandbox, path));
        match &sandbox.token {
            Some(t) => req.header("X-Access-Token", t.expose_secret()),
            None => req,
        }
    }

    /// envd `POST /files?path=…&username=root` (200), the raw bytes; root owns the file.
    pub(crate) async fn upload(&self, sandbox: &Handle, path: &str, bytes: Vec<u8>) -> Result<(), ApiError> {
        const WHAT: &str = "uploading a file";
        let url = format!("/files?path={}&username=root", encode(path));
        let resp = self
            .envd(sandbox, Method::POST, &url)
            .header("Content-Type", "application/octet-stream")
            .body(bytes)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| transport(WHAT, &e))?;
        let (status, body) = finish(WHAT, resp).await?;
        expect(WHAT, status, &body, &[StatusCode::OK])
    }

    /// envd `GET /files?path=…&username=root`: the file, or `None` when it does not exist.
    pub(crate) async fn download(&self, sandbox: &Handle, path: &str) -> Result<Option<Vec<u8>>, ApiError> {
        const WHAT: &str = "reading a file";
        let url = format!("/files?path={}&username=root", encode(path));
        let resp = self
            .envd(sandbox, Method::GET, &url)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| transport(WHAT, &e))?;
        let (status, body) = finish(WHAT, resp).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        expect(WHAT, status, &body, &[StatusCode::OK])?;
        Ok(Some(body))
    }

    /// `process.Process/Start` without stdin: the stream of its events.
    pub(crate) async fn start(&self, sandbox: &Handle, cmd: &str, args: &[&str]) -> Result<Events, ApiError> {
        const WHAT: &str = "starting the launcher";
        let message = serde_json::json!({
            "process": { "cmd": cmd, "args": args, "envs": {} },
            "stdin": false,
        });
        let resp = self
            .envd(sandbox, Method::POST, "/process.Process/Start")
            .header("Content-Type", "application/connect+json")
            .header("Connect-Protocol-Version", "1")
            .body(envelope(0, &message.to_string()))
            .send()
            .await
            .map_err(|e| transport(WHAT, &e))?;
        if resp.status() != StatusCode::OK {
            let (status, body) = finish(WHAT, resp).await?;
            return Err(status_error(WHAT, status, &body));
        }
        Ok(Events { resp, buf: Vec::new(), done: false })
    }
}

/// The event stream of one process.
#[derive(Debug)]
pub(crate) struct Events {
    resp: reqwest::Response,
    buf: Vec<u8>,
    done: bool,
}

impl Events {
    /// The next event; `None` once the stream has ended cleanly.
    ///
    /// # Errors
    /// A broken connection, a malformed frame, or a Connect error at the end.
    pub(crate) async fn next(&mut self) -> Result<Option<Event>, ApiError> {
        const WHAT: &str = "the process stream";
        loop {
            if self.done {
                return Ok(None);
            }
            if let Some((flags, message)) = take_frame(&mut self.buf)? {
                if flags & 0x02 != 0 {
                    self.done = true;
                    let end: EndOfStream = decode(WHAT, &message)?;
                    return match end.error {
                        Some(e) => Err(ApiError::Protocol { what: WHAT, detail: format!("{}: {}", e.code, e.message) }),
                        None => Ok(None),
                    };
                }
                return parse_event(&message).map(Some);
            }
            match self.resp.chunk().await.map_err(|e| transport(WHAT, &e))? {
                Some(chunk) => self.buf.extend_from_slice(&chunk),
                None => {
                    return Err(ApiError::Protocol {
                        what: WHAT,
                        detail: "the stream ended without Connect's end-of-stream message".to_owned(),
                    });
                }
            }
        }
    }
}

/// A Connect envelope: flags, big-endian length, message.
pub(crate) fn envelope(flags: u8, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 5);
    out.push(flags);
    out.extend_from_slice(&u32::try_from(message.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(message.as_bytes());
    out
}

/// Takes one whole envelope off the front of `buf`, if it holds one.
fn take_frame(buf: &mut Vec<u8>) -> Result<Option<(u8, Vec<u8>)>, ApiError> {
    let Some(&[flags, a, b, c, d]) = buf.get(..5) else { return Ok(None) };
    let len = u32::from_be_bytes([a, b, c, d]) as usize;
    if len > FRAME_CAP {
        return Err(ApiError::Protocol { what: "the process stream", detail: format!("a {len}-byte frame") });
    }
    if buf.len() < 5 + len {
        return Ok(None);
    }
    let message = buf.get(5..5 + len).map(<[u8]>::to_vec).unwrap_or_default();
    buf.drain(..5 + len);
    Ok(Some((flags, message)))
}

fn parse_event(message: &[u8]) -> Result<Event, ApiError> {
    const WHAT: &str = "the process stream";
    let bad = |detail: String| ApiError::Protocol { what: WHAT, detail };
    let resp: StartResponse = decode(WHAT, message)?;
    let event = resp.event.ok_or_else(|| bad("an event without a body".to_owned()))?;
    let b64 = |s: &str| {
        base64::engine::general_purpose::STANDARD.decode(s).map_err(|e| bad(format!("output is not base64 ({e})")))
    };
    if let Some(s) = event.start {
        return Ok(Event::Start { pid: s.pid });
    }
    if let Some(d) = event.data {
        return match (d.stdout, d.stderr) {
            (Some(out), _) => Ok(Event::Stdout(b64(&out)?)),
            (None, Some(err)) => Ok(Event::Stderr(b64(&err)?)),
            (None, None) => Ok(Event::KeepAlive),
        };
    }
    if let Some(e) = event.end {
        return Ok(Event::End { exit_code: e.exit_code, exited: e.exited, status: e.status, error: e.error });
    }
    if event.keepalive.is_some() {
        return Ok(Event::KeepAlive);
    }
    Err(bad("an event of no known kind".to_owned()))
}

fn transport(what: &'static str, e: &reqwest::Error) -> ApiError {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    ApiError::Transport { what, detail }
}

/// The status and (capped) body of an answer.
async fn finish(what: &'static str, mut resp: reqwest::Response) -> Result<(StatusCode, Vec<u8>), ApiError> {
    let status = resp.status();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport(what, &e))? {
        if body.len() + chunk.len() > JSON_CAP {
            return Err(ApiError::Protocol { what, detail: format!("an answer over {JSON_CAP} bytes") });
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

fn status_error(what: &'static str, status: StatusCode, body: &[u8]) -> ApiError {
    let message = serde_json::from_slice::<WireError>(body)
        .map(|e| e.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body.get(..200).unwrap_or(body)).into_owned());
    // One line, bounded: E2B's text is quoted in our own sentences.
    let message: String = message.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect();
    if status == StatusCode::UNAUTHORIZED {
        ApiError::Unauthorized(message)
    } else {
        ApiError::Status { what, status: status.as_u16(), message }
    }
}

fn expect(what: &'static str, status: StatusCode, body: &[u8], ok: &[StatusCode]) -> Result<(), ApiError> {
    if ok.contains(&status) { Ok(()) } else { Err(status_error(what, status, body)) }
}

fn decode<T: serde::de::DeserializeOwned>(what: &'static str, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Protocol { what, detail: e.to_string() })
}

/// Percent-encodes a query value or path segment.
fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_where_connect_says() {
        let mut buf = envelope(0, r#"{"event":{"start":{"pid":7}}}"#);
        buf.extend(envelope(0, r#"{"event":{"data":{"stdout":"aGk="}}}"#));
        buf.extend_from_slice(&[2, 0, 0]);
        let (_, first) = take_frame(&mut buf).unwrap().unwrap();
        assert_eq!(parse_event(&first).unwrap(), Event::Start { pid: 7 });
        let (_, second) = take_frame(&mut buf).unwrap().unwrap();
        assert_eq!(parse_event(&second).unwrap(), Event::Stdout(b"hi".to_vec()));
        assert_eq!(take_frame(&mut buf).unwrap(), None, "a partial header waits for more");
    }

    #[test]
    fn end_events_default_omitted_fields_as_proto3_json_does() {
        assert_eq!(
            parse_event(br#"{"event":{"end":{"status":"exit status 0","exited":true}}}"#).unwrap(),
            Event::End { exit_code: 0, exited: true, status: "exit status 0".into(), error: None }
        );
        assert_eq!(
            parse_event(br#"{"event":{"end":{"exit_code":-1,"status":"signal: killed"}}}"#).unwrap(),
            Event::End { exit_code: -1, exited: false, status: "signal: killed".into(), error: None }
        );
    }

    #[test]
    fn oversized_frames_are_refused_before_they_are_buffered() {
        let mut buf = vec![0, 0xff, 0xff, 0xff, 0xff];
        assert!(take_frame(&mut buf).unwrap_err().to_string().contains("frame"));
    }
}
