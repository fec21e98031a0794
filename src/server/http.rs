//! Serving `JiraMcp` over MCP streamable HTTP, behind bearer-token auth.
//!
//! Connections first pass `accept` (TCP_NODELAY, header-read and idle timeouts,
//! the connection cap: all before any request is read). Then the layers,
//! outermost first: in-flight bound + access log → the drain gate (counts calls,
//! turns requests away while stopping) → `/healthz`, `/readyz` (public) → bearer
//! auth (names the caller, bounds its requests in flight) → Host/Origin
//! allow-lists → session cap (and the status of a session's DELETE) → body
//! buffering (to name the tool) → rmcp's service (which checks Host/Origin again,
//! enforces the body limit and keeps the sessions). Nothing reads a request body
//! before auth. rmcp has no server-side auth of its own; this module is it.
//!
//! Sessions: stateful by default (rmcp's `LocalSessionManager`, `Mcp-Session-Id`,
//! resumable SSE); `JIRA_MCP_HTTP_STATELESS=true` serves every POST on its own
//! (no session id, JSON replies, SSE only when a call reports progress), so any
//! replica of a fleet answers any request.

mod accept;
mod drain;
mod events;
mod guarded;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService,
    session::{
        SessionManager,
        local::{LocalSessionManager, SessionConfig},
    },
};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::{
    config::{BearerToken, HttpConfig, MAX_IN_FLIGHT, TokenScope},
    tools::JiraMcp,
};

/// Who sent an authenticated request: the token's name and scope. The auth layer
/// puts it in the request's extensions; the `ServerHandler` reads it from there
/// (rmcp hands each message the HTTP request parts) to filter and refuse tools
/// and to name the caller in the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's name (`JIRA_MCP_HTTP_TOKEN_FILE`), or `token-N` for `JIRA_MCP_HTTP_TOKEN`.
    pub name: Arc<str>,
    /// What the token may do.
    pub scope: Arc<TokenScope>,
}

/// An accepted token with its own bound on requests in flight.
struct Holder {
    token: BearerToken,
    caller: Caller,
    in_flight: Arc<tokio::sync::Semaphore>,
}

#[derive(Clone)]
struct Gate {
    holders: Arc<Vec<Holder>>,
    /// The holders' secrets, in the same order.
    secrets: Arc<Vec<SecretString>>,
    max_in_flight_per_token: usize,
    sessions: Arc<LocalSessionManager>,
    /// When each session last sent a request.
    last_seen: Arc<Mutex<HashMap<String, Instant>>>,
    evictable_after: Duration,
    max_sessions: usize,
    max_body: usize,
    allowed_hosts: Arc<Vec<String>>,
    allowed_origins: Arc<Vec<String>>,
    /// Requests being served; bounded so slow or abusive clients cannot pile up.
    in_flight: Arc<tokio::sync::Semaphore>,
}

/// The index of the token `presented` equals, if any; every token is compared in
/// constant time and all are checked, so timing says nothing about their bytes.
fn token_matches(tokens: &[SecretString], presented: &[u8]) -> Option<usize> {
    let mut found = None;
    for (i, t) in tokens.iter().enumerate() {
        if bool::from(t.expose_secret().as_bytes().ct_eq(presented)) {
            found = Some(i);
        }
    }
    found
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer realm=\"jira-mcp\"")], Body::empty()).into_response()
}

async fn require_bearer(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, t)| t))
        .map(str::trim);
    let Some(holder) =
        presented.and_then(|t| token_matches(&gate.secrets, t.as_bytes())).and_then(|i| gate.holders.get(i))
    else {
        return unauthorized();
    };
    // One token holder (slow bodies, a runaway agent) cannot take every slot.
    let Ok(_slot) = holder.in_flight.clone().try_acquire_owned() else {
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many requests in flight for token {:?} (limit {}, JIRA_MCP_HTTP_MAX_IN_FLIGHT_PER_TOKEN); \
                 wait for some to finish",
                holder.token.name, gate.max_in_flight_per_token
            ),
        )
            .into_response();
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    request.extensions_mut().insert(holder.caller.clone());
    next.run(request).await
}

/// `host[:port]` → (lower-case host without brackets, port).
fn split_authority(raw: &str) -> Option<(String, Option<u16>)> {
    let raw = raw.trim();
    // A bare IPv6 address (`::1`) is a host without a port.
    if !raw.starts_with('[') && raw.matches(':').count() > 1 {
        return Some((raw.to_ascii_lowercase(), None));
    }
    let authority: axum::http::uri::Authority = raw.parse().ok()?;
    Some((authority.host().trim_matches(['[', ']']).to_ascii_lowercase(), authority.port_u16()))
}

/// The Host header must name this server (DNS-rebinding protection). Entries
/// are `host` (any port) or `host:port`.
fn host_allowed(host: Option<&str>, allowed: &[String]) -> bool {
    let Some((host, port)) = host.and_then(split_authority) else { return false };
    allowed.iter().filter_map(|a| split_authority(a)).any(|(h, p)| h == host && p.is_none_or(|p| Some(p) == port))
}

/// A present Origin must match an entry: `scheme://host`, `scheme://host:port`
/// or `scheme://host:*`. Requests without Origin (non-browser clients) pass.
fn origin_allowed(origin: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin else { return true };
    let parse = |s: &str| -> Option<(String, String, Option<String>)> {
        let (scheme, rest) = s.trim().split_once("://")?;
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') && h.ends_with(']') => {
                if p.chars().all(|c| c.is_ascii_digit() || c == '*') { (h, Some(p.to_owned())) } else { (rest, None) }
            }
            _ => (rest, None),
        };
        Some((scheme.to_ascii_lowercase(), host.trim_matches(['[', ']']).to_ascii_lowercase(), port))
    };
    let Some((scheme, host, port)) = parse(origin) else { return false };
    allowed
        .iter()
        .filter_map(|a| parse(a))
        .any(|(s, h, p)| s == scheme && h == host && (p.as_deref() == Some("*") || p == port))
}

/// Refuses a foreign Host or Origin with 403 before anything else looks at the request.
async fn check_host_origin(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let refusal = {
        let header = |name: header::HeaderName| request.headers().get(name).and_then(|v| v.to_str().ok());
        if !host_allowed(header(header::HOST), &gate.allowed_hosts) {
            Some("Forbidden: Host header is not allowed")
        } else if !origin_allowed(header(header::ORIGIN), &gate.allowed_origins) {
            Some("Forbidden: Origin header is not allowed")
        } else {
            None
        }
    };
    match refusal {
        Some(message) => (StatusCode::FORBIDDEN, message).into_response(),
        None => next.run(request).await,
    }
}

/// Refuses a new session (a POST without `Mcp-Session-Id`) when the cap is
/// reached, after first closing the least recently used session that has
/// been silent for `session_evictable_after`, if there is one.
async fn cap_sessions(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let session = request.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let is_delete = request.method() == axum::http::Method::DELETE;
    let opening = request.method() == axum::http::Method::POST && session.is_none();
    // Only ids rmcp knows are tracked: made-up ids must not grow the map.
    if let Some(id) = &session
        && (is_delete || gate.sessions.sessions.read().await.contains_key(id.as_str()))
    {
        gate.seen(id, is_delete);
    }
    if opening && gate.sessions.sessions.read().await.len() >= gate.max_sessions && !gate.evict_one().await {
        let mut r = (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("too many MCP sessions (limit {}); close one or retry later", gate.max_sessions),
        )
            .into_response();
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        return r;
    }
    let mut response = next.run(request).await;
    if opening && let Some(id) = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
        gate.seen(id, false);
    }
    // rmcp answers a session's DELETE with 202, which the Python SDK logs as
    // "Session termination failed: 202"; the session is gone, so say 204.
    if is_delete && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::NO_CONTENT;
        *response.body_mut() = Body::empty();
    }
    response
}

impl Gate {
    fn seen(&self, id: &str, forget: bool) {
        let mut map = self.last_seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if forget {
            map.remove(id);
        } else {
            map.insert(id.to_owned(), Instant::now());
        }
    }

    /// Closes the least recently used evictable session; false if none qualifies.
    async fn evict_one(&self) -> bool {
        let live: Vec<String> = self.sessions.sessions.read().await.keys().map(ToString::to_string).collect();
        let victim = {
            let mut map = self.last_seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Forget sessions rmcp already closed (idle timeout, DELETE).
            map.retain(|id, _| live.contains(id));
            map.iter()
                .filter(|(_, t)| t.elapsed() >= self.evictable_after)
                .min_by_key(|(_, t)| **t)
                .map(|(id, _)| id.clone())
        };
        let Some(id) = victim else { return false };
        self.seen(&id, true);
        let closed = self.sessions.close_session(&id.as_str().into()).await;
        tracing::info!(mcp.session = %id, ok = closed.is_ok(), "session cap reached: closed the least recently used idle session");
        true
    }
}

/// The tool a JSON-RPC body calls, for the access log: only a plain tool name
/// (`[a-z0-9_]`, at most 64 characters), so a body cannot forge log lines.
fn tool_of(body: &[u8]) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    if json.get("method")?.as_str()? != "tools/call" {
        return None;
    }
    let name = json.pointer("/params/name")?.as_str()?;
    let plain = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    Some(if plain { name.to_owned() } else { "(invalid name)".to_owned() })
}

/// Attached to a response so the outer access log can name the tool.
#[derive(Debug, Clone)]
struct LoggedTool(String);

/// Inside auth: buffers the (bounded) body with a deadline and notes the tool it calls.
/// Unauthenticated requests never get here, so nobody without a token makes the
/// server hold a body in memory.
async fn name_tool(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, gate.max_body)).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, format!("request body over {} bytes", gate.max_body))
                .into_response();
        }
        Err(_) => return (StatusCode::REQUEST_TIMEOUT, "request body not received in time").into_response(),
    };
    let tool = tool_of(&bytes);
    let mut response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if let Some(tool) = tool {
        response.extensions_mut().insert(LoggedTool(tool));
    }
    response
}

/// Events kept per SSE stream for resumption.
const RESUME_EVENTS_PER_STREAM: usize = 64;
/// Bytes of SSE events kept for resumption in all.
const RESUME_BYTES: usize = 32 * 1024 * 1024;

/// Longest time an authenticated client may take to send its request body.
const BODY_DEADLINE: Duration = Duration::from_secs(30);

/// Outermost: bounds requests in flight (503 beyond), then logs one structured
/// line per request on stderr. Never the Authorization header; client-supplied
/// values are Debug-escaped and truncated.
async fn access_log(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let Ok(_slot) = gate.in_flight.clone().try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many requests in flight; retry shortly").into_response();
    };
    let started = Instant::now();
    let method = request.method().clone();
    let path: String = request.uri().path().chars().take(128).collect();
    let mut session: String =
        request.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).unwrap_or("-").chars().take(64).collect();
    let response = next.run(request).await;
    if let Some(id) = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
        id.clone_into(&mut session);
    }
    let tool = response.extensions().get::<LoggedTool>().map_or("-", |t| t.0.as_str());
    tracing::info!(
        http.method = %method,
        http.path = ?path,
        http.status = response.status().as_u16(),
        mcp.session = ?session,
        mcp.tool = %tool,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "http request"
    );
    response
}

/// Builds the HTTP app. `ct` cancels every session (and their in-flight tool calls);
/// `drain` is the stop's state (`/readyz`, requests turned away while closing).
fn router(server: JiraMcp, config: &HttpConfig, ct: &CancellationToken, drain: &drain::Drain) -> Router {
    let mut sessions = LocalSessionManager::default();
    if !config.stateless {
        // Resumable streams: events replayable (Last-Event-ID) while their session may
        // live, bounded in memory; a late resume gets an error event, not silence.
        // Stateless mode has no sessions to resume (and a replica would not have the events).
        sessions = sessions.with_event_store(events::MemoryEventStore::new(events::Bounds {
            per_stream: RESUME_EVENTS_PER_STREAM,
            total_bytes: RESUME_BYTES,
            ttl: config.session_idle,
        }));
    }
    let mut session_config = SessionConfig::default();
    session_config.keep_alive = Some(config.session_idle);
    sessions.session_config = session_config;
    let sessions = Arc::new(sessions);
    let mut hosts = config.allowed_hosts.clone();
    hosts.push(config.addr.to_string());
    let mcp_config = StreamableHttpServerConfig::default()
        .with_cancellation_token(ct.child_token())
        .with_allowed_hosts(hosts.clone())
        .with_allowed_origins(config.allowed_origins.clone())
        .with_max_request_body_bytes(config.max_body_bytes)
        // Stateless: no Mcp-Session-Id, each POST served on its own, plain JSON replies.
        .with_legacy_session_mode(!config.stateless)
        .with_json_response(config.stateless);
    let service = StreamableHttpService::new(move || Ok(server.clone()), sessions.clone(), mcp_config);
    let holders = config
        .tokens
        .iter()
        .map(|token| Holder {
            token: token.clone(),
            caller: Caller { name: Arc::from(token.name.as_str()), scope: Arc::new(token.scope.clone()) },
            in_flight: Arc::new(tokio::sync::Semaphore::new(config.max_in_flight_per_token)),
        })
        .collect();
    let gate = Gate {
        holders: Arc::new(holders),
        secrets: Arc::new(config.tokens.iter().map(|t| t.secret.clone()).collect()),
        max_in_flight_per_token: config.max_in_flight_per_token,
        sessions,
        last_seen: Arc::new(Mutex::new(HashMap::new())),
        evictable_after: config.session_evictable_after,
        max_sessions: config.max_sessions,
        max_body: config.max_body_bytes,
        allowed_hosts: Arc::new(hosts),
        allowed_origins: Arc::new(config.allowed_origins.clone()),
        in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
    };
    // Each .layer() wraps everything added before it, so the last is outermost:
    // auth first (an unauthenticated caller learns nothing, not even that the server
    // is full), then Host/Origin (a foreign Host is refused whatever the load), then
    // the session cap. /healthz is added after the auth layer, so it is public, and
    // reveals nothing but "ok"; /metrics sits inside auth but outside the session cap.
    let open = gate.sessions.clone();
    Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(gate.clone(), name_tool))
        .layer(middleware::from_fn_with_state(gate.clone(), cap_sessions))
        // Prometheus scrapes: behind Host/Origin and bearer auth like /mcp, outside the session cap.
        .route(
            "/metrics",
            get(move || {
                let open = open.clone();
                async move {
                    let sessions = open.sessions.read().await.len();
                    (
                        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                        crate::metrics::render(sessions),
                    )
                }
            }),
        )
        .layer(middleware::from_fn_with_state(gate.clone(), check_host_origin))
        .layer(middleware::from_fn_with_state(gate.clone(), require_bearer))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(drain::readyz).with_state(drain.clone()))
        .layer(middleware::from_fn_with_state(drain.clone(), drain::gate))
        .layer(middleware::from_fn_with_state(gate, access_log))
}

/// Why the HTTP server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Serves until SIGINT, SIGTERM or SIGHUP; then drains (see [`serve_listener`]) and returns.
///
/// # Errors
/// When the address cannot be bound.
pub async fn serve(server: JiraMcp, config: HttpConfig) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Bind { addr: config.addr, source })?;
    let stop = CancellationToken::new();
    let stop_signal = super::signal::stop_requested();
    let signals = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let signal = stop_signal.await;
            tracing::info!(signal, "stop requested: draining");
            stop.cancel();
        })
    };
    serve_listener(listener, server, config, stop).await;
    signals.abort();
    Ok(())
}

/// Longest wait, after the calls were cancelled, for their connections to close.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Serves on `listener` until `stop` is cancelled, then drains: `/readyz` says
/// `draining` at once while requests are still served for `drain_delay`; then the
/// listener closes and new requests on open connections get 503 + `Retry-After`;
/// calls in flight get `drain` to finish, the rest are cancelled with an
/// instructive error; sessions end, sandboxes are killed and removed; it returns.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    server: JiraMcp,
    config: HttpConfig,
    stop: CancellationToken,
) {
    // Operators read tokens per tool on /metrics whether or not the history is kept.
    let server = server.with_token_metrics();
    let sweeper = server.clone();
    tokio::spawn(async move { sweeper.sweep_sandbox().await });
    let addr = listener.local_addr().unwrap_or(config.addr);
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening beyond loopback: put TLS in front (reverse proxy) and keep the token secret");
    }
    let names: Vec<&str> = config.tokens.iter().map(|t| t.name.as_str()).collect();
    let mode = if config.stateless { "stateless" } else { "stateful sessions" };
    tracing::info!(%addr, tokens = ?names, mode, "MCP over streamable HTTP at http://{addr}/mcp");
    let drain = drain::Drain::default();
    let sessions = CancellationToken::new();
    let app = router(server.clone(), &config, &sessions, &drain);
    let limits = accept::Limits {
        max_connections: config.max_connections,
        header_timeout: config.header_timeout,
        idle_timeout: config.idle_timeout,
    };
    let (stop_accepting, close) = (CancellationToken::new(), CancellationToken::new());
    let accepting = tokio::spawn(accept::serve(listener, app, limits, stop_accepting.clone(), close.clone()));
    stop.cancelled().await;
    drain.set_unready();
    tracing::info!(delay_secs = config.drain_delay.as_secs(), "draining: /readyz answers 503, still serving");
    tokio::time::sleep(config.drain_delay).await;
    // Open connections stay open: a request on one gets 503 + Connection: close from
    // the drain gate. Closing them now would race a proxy that is just sending a
    // request on a kept-alive connection (nginx answers its client 502 then).
    drain.set_closing();
    stop_accepting.cancel();
    let closing_since = Instant::now();
    let open = accepting.await.ok();
    tracing::info!(
        calls = drain.calls(),
        within_secs = config.drain.as_secs(),
        "draining: listener closed, waiting for calls in flight"
    );
    if !drain.settled(config.drain).await {
        tracing::warn!(calls = drain.calls(), "drain bound reached: cancelling the calls still running");
    }
    // Calls still running end with an instructive error; run_python's sandboxes are
    // killed and removed (drain_sandbox waits, bounded, until they are).
    server.stop_calls();
    server.drain_sandbox().await;
    // Their errors reach the clients before the sessions (and their streams) end.
    if !drain.settled(crate::limits::DRAINED_CALL_GRACE + CLOSE_WAIT).await {
        tracing::warn!(calls = drain.calls(), "calls still running after cancellation; ending the sessions");
    }
    sessions.cancel();
    if let Some(open) = &open {
        // Until the drain bound, kept-alive connections are left for their clients to
        // close (a proxy's keep-alive timeout, or the 503 + Connection: close their
        // next request gets): closing one here races a request being sent on it.
        let left = config.drain.saturating_sub(closing_since.elapsed());
        if !open.closed(left).await {
            tracing::info!("drain bound reached: closing the idle connections left");
        }
    }
    close.cancel();
    if let Some(open) = open
        && !open.closed(CLOSE_WAIT).await
    {
        tracing::warn!("connections still open after the drain; closing them");
    }
    tracing::info!("drained");
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn every_rotated_token_matches_and_nothing_else() {
        let tokens = [SecretString::from(GOOD), SecretString::from(format!("{GOOD}ff"))];
        assert_eq!(token_matches(&tokens, format!("{GOOD}ff").as_bytes()), Some(1));
        assert_eq!(token_matches(&tokens, GOOD.as_bytes()), Some(0));
        assert_eq!(token_matches(&tokens, b"0123456789abcdef0123456789abcdeX"), None);
        assert_eq!(token_matches(&tokens, b""), None);
    }

    #[test]
    fn host_allow_list_matches_host_and_optional_port() {
        let allowed =
            ["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned(), "jira.example.com:443".to_owned()];
        assert!(host_allowed(Some("localhost:8808"), &allowed));
        assert!(host_allowed(Some("127.0.0.1"), &allowed));
        assert!(host_allowed(Some("[::1]:8808"), &allowed));
        assert!(host_allowed(Some("jira.example.com:443"), &allowed));
        assert!(!host_allowed(Some("jira.example.com:80"), &allowed));
        assert!(!host_allowed(Some("evil.example.com"), &allowed));
        assert!(!host_allowed(Some("localhost.evil.com"), &allowed));
        assert!(!host_allowed(None, &allowed));
    }

    #[test]
    fn origin_allow_list_supports_port_wildcards() {
        let allowed = ["http://localhost:*".to_owned(), "https://app.example.com".to_owned()];
        assert!(origin_allowed(None, &allowed), "non-browser clients send no Origin");
        assert!(origin_allowed(Some("http://localhost:5173"), &allowed));
        assert!(origin_allowed(Some("https://app.example.com"), &allowed));
        assert!(!origin_allowed(Some("https://app.example.com:8443"), &allowed));
        assert!(!origin_allowed(Some("http://evil.example.com"), &allowed));
        assert!(!origin_allowed(Some("https://localhost:5173"), &allowed), "scheme matters");
        assert!(!origin_allowed(Some("null"), &allowed));
    }

    #[test]
    fn tool_name_is_read_from_the_body() {
        assert_eq!(
            tool_of(br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_issue"}}"#).as_deref(),
            Some("get_issue")
        );
        assert_eq!(tool_of(br#"{"method":"tools/list"}"#), None);
        assert_eq!(tool_of(b"not json"), None);
        assert_eq!(
            tool_of(br#"{"method":"tools/call","params":{"name":"x\n2026 INFO forged line \u001b[31m"}}"#).as_deref(),
            Some("(invalid name)")
        );
    }
}
