//! The one HTTP path to Jira: auth header, client-side rate limit, status
//! mapping, bounded retries that honour `Retry-After`, and a tracing span.

#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "the Jira client is the one module that talks HTTP to Jira"
)]

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::Quota;
use reqwest::{Method, StatusCode, header::HeaderMap};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::{
    error::{Error, body_message},
    gate::Gate,
};
use crate::{
    config::{Auth, JiraConfig},
    fleet::{Fleet, SharedRate},
};

mod redirect;

#[cfg(test)]
use redirect::redirect_allowed;
use redirect::{location_origin, redirect_policy};

tokio::task_local! {
    /// When the current tool call stops retrying (set by [`with_retry_budget`]).
    static DEADLINE: Instant;
}

/// Runs `work` (one tool call) so that all its Jira requests together stop
/// retrying `budget` after it started. Without it, each request gets its own budget.
pub(crate) async fn with_retry_budget<F: Future>(budget: Duration, work: F) -> F::Output {
    DEADLINE.scope(Instant::now() + budget, work).await
}

/// How hard the client retries transient failures of idempotent requests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Total attempts, including the first.
    pub(crate) attempts: u32,
    /// First backoff after a 5xx or timeout; doubled each time.
    pub(crate) base_backoff: Duration,
    /// Longest a request (or, with [`with_retry_budget`], a tool call) keeps retrying.
    pub(crate) budget: Duration,
}

/// A body to send, or none.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Body<'a> {
    None,
    Json(&'a serde_json::Value),
    /// One file as the `file` part of a multipart form (an attachment upload).
    File {
        /// The name Jira stores.
        name: &'a str,
        /// Its media type.
        mime: &'a str,
        /// The content.
        bytes: &'a [u8],
    },
}

/// What [`Client::retry_delay`] decided.
struct RetryDelay {
    /// Wait this long and retry; `None`: give up.
    retry_in: Option<Duration>,
    /// A 429's pause, to share with the fleet.
    pause: Option<Duration>,
}

/// An answered request: the status, the `Content-Type` and the (capped) body.
struct Reply {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

/// Authenticated, rate-limited Jira REST client. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: Arc<str>,
    auth: Auth,
    gate: Arc<Gate>,
    retry: RetryPolicy,
    timeout: Duration,
    max_body: u64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).field("auth", &self.auth).finish_non_exhaustive()
    }
}

/// The reqwest client for `config.base_url`.
///
/// A plain `http://` site (the emulator, a loopback test server) gets an empty
/// root store: it needs no CA certificates, so it works where there are none
/// (the Nix build sandbox), and an `https://` redirect from it fails instead
/// of being trusted. An `https://` site uses the platform's roots
/// (`SSL_CERT_FILE`, `SSL_CERT_DIR`, else the system store); with none usable
/// the error says which variable to set.
fn http_client(config: &JiraConfig) -> Result<reqwest::Client, Error> {
    let plain = config.base_url.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
    let builder = reqwest::Client::builder()
        .timeout(config.request_timeout)
        .connect_timeout(Duration::from_secs(10))
        .redirect(redirect_policy(&config.base_url))
        .user_agent(concat!("jira-mcp/", env!("CARGO_PKG_VERSION")));
    let builder = if plain { builder.tls_certs_only(Vec::<reqwest::Certificate>::new()) } else { builder };
    builder.build().map_err(|e| {
        let mut cause = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(err) = source {
            cause = err.to_string();
            source = err.source();
        }
        let detail = if plain {
            cause
        } else {
            format!(
                "no usable TLS root certificates ({cause}); set SSL_CERT_FILE to a PEM file of trusted CA \
                 certificates, e.g. /etc/ssl/certs/ca-certificates.crt"
            )
        };
        Error::Unreachable { url: config.base_url.clone(), detail }
    })
}

impl Client {
    /// Builds the client. Fails only when an `https://` site finds no usable TLS root
    /// certificates ([`http_client`]).
    pub(crate) fn new(config: &JiraConfig) -> Result<Self, Error> {
        let http = http_client(config)?;
        let quota = Quota::per_second(config.rate_per_second).allow_burst(config.burst);
        Ok(Self {
            http,
            base: config.base_url.as_str().into(),
            auth: config.auth.clone(),
            gate: Arc::new(Gate::new(quota)),
            retry: RetryPolicy { attempts: 4, base_backoff: Duration::from_millis(250), budget: config.retry_budget },
            timeout: config.request_timeout,
            max_body: config.max_response_bytes,
        })
    }

    /// The same client drawing from the fleet's rate budget for this site and account
    /// (`JIRA_MCP_RATE_LIMIT`/`_BURST` are then the fleet's), sharing 429 pauses with it.
    pub(crate) fn in_fleet(mut self, config: &JiraConfig, fleet: Fleet, replicas: NonZeroU32) -> Self {
        // The account, never its secret: the email, or for a bearer token (no email) a hash of it,
        // which `SharedRate` hashes again with the site into the key.
        let account = match &config.auth {
            Auth::Basic { email, .. } => format!("basic:{}", email.to_lowercase()),
            Auth::Bearer(token) => {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(token.expose_secret().as_bytes());
                format!("bearer:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
            }
        };
        let quota = Quota::per_second(config.rate_per_second).allow_burst(config.burst);
        let shared = SharedRate::new(fleet, &self.base, &account, config.rate_per_second, config.burst, replicas);
        self.gate = Arc::new(Gate::new(quota).shared(shared));
        self
    }

    /// Replaces the retry policy (tests use short backoffs).
    #[cfg(test)]
    pub(crate) fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The site URL, for messages.
    pub(crate) fn base_url(&self) -> &str {
        &self.base
    }

    /// How long one tool call may keep retrying.
    pub(crate) fn retry_budget(&self) -> Duration {
        self.retry.budget
    }

    /// GET and decode JSON.
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, Error> {
        let reply = self.send(Method::GET, path, query, Body::None, true).await?;
        decode(&reply)
    }

    /// POST and decode JSON. `idempotent` allows retries (searches are).
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        idempotent: bool,
    ) -> Result<T, Error> {
        let reply = self.send(Method::POST, path, &[], Body::Json(body), idempotent).await?;
        decode(&reply)
    }

    /// POST expecting no body back (204).
    pub(crate) async fn post_no_content(&self, path: &str, body: &serde_json::Value) -> Result<(), Error> {
        let reply = self.send(Method::POST, path, &[], Body::Json(body), false).await?;
        no_content(&reply)
    }

    /// PUT expecting no body back (204). Edits are idempotent: same body, same result.
    pub(crate) async fn put(&self, path: &str, body: &serde_json::Value) -> Result<(), Error> {
        let reply = self.send(Method::PUT, path, &[], Body::Json(body), true).await?;
        no_content(&reply)
    }

    /// GET raw bytes (an attachment's content), following only the redirects
    /// [`redirect::redirect_allowed`] accepts (the site itself, or its media service), and
    /// reading at most `cap` bytes: a larger declared length is refused before
    /// the body is read, a longer stream is cut ([`Error::Oversized`]).
    pub(crate) async fn get_bytes(&self, path: &str, cap: u64) -> Result<Vec<u8>, Error> {
        Ok(self.send_capped(Method::GET, path, &[], Body::None, true, cap).await?.body)
    }

    /// POST one file as multipart form data with Jira's `X-Atlassian-Token: no-check`
    /// (its XSRF check), and decode the JSON answer. Never retried: a lost answer may
    /// mean the file was attached.
    pub(crate) async fn post_file<T: DeserializeOwned>(
        &self,
        path: &str,
        name: &str,
        mime: &str,
        bytes: &[u8],
    ) -> Result<T, Error> {
        let reply = self.send(Method::POST, path, &[], Body::File { name, mime, bytes }, false).await?;
        decode(&reply)
    }

    /// DELETE expecting no body back.
    pub(crate) async fn delete(&self, path: &str, query: &[(&str, String)]) -> Result<(), Error> {
        let reply = self.send(Method::DELETE, path, query, Body::None, false).await?;
        no_content(&reply)
    }

    /// Sends one logical request: waits at the shared gate, retries transient
    /// failures of idempotent requests within the retry budget, maps the status to [`Error`].
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Body<'_>,
        idempotent: bool,
    ) -> Result<Reply, Error> {
        self.send_capped(method, path, query, body, idempotent, self.max_body).await
    }

    /// [`Self::send`], reading at most `cap` bytes of the answer.
    #[tracing::instrument(skip_all, fields(http.method = %method, jira.path = path, http.status))]
    async fn send_capped(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Body<'_>,
        idempotent: bool,
        cap: u64,
    ) -> Result<Reply, Error> {
        let url = format!("{}{path}", self.base);
        let started = Instant::now();
        let deadline = DEADLINE.try_with(|d| *d).unwrap_or(started + self.retry.budget);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let arrived = Instant::now();
            let admitted = self.gate.admit(Some(deadline)).await;
            crate::metrics::limiter_wait(arrived.elapsed());
            let sent = match admitted {
                Ok(sent) => sent,
                Err(paused) => {
                    return Err(Error::RateLimited {
                        retry_after: paused.remaining,
                        reason: None,
                        elapsed: started.elapsed(),
                    });
                }
            };
            // A retry never runs past the deadline; the first attempt gets the full timeout.
            let timeout = if attempt == 1 {
                self.timeout
            } else {
                self.timeout.min(deadline.saturating_duration_since(Instant::now()))
            };
            let outcome = self.send_once(&method, &url, query, body, timeout, cap).await;
            let retry_in = match &outcome {
                Ok(_) => {
                    self.gate.answered();
                    None
                }
                Err(failure) => {
                    let delay = self.retry_delay(failure, attempt, idempotent, deadline, sent);
                    if let Some(pause) = delay.pause {
                        self.gate.share_pause(pause).await;
                    }
                    delay.retry_in
                }
            };
            match (outcome, retry_in) {
                (Ok(reply), _) => return Ok(reply),
                (Err(failure), Some(delay)) => {
                    tracing::warn!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "retrying Jira request: {}",
                        failure.summary()
                    );
                    tokio::time::sleep(delay).await;
                }
                (Err(failure), None) => {
                    return Err(failure.into_error(&self.base, attempt, self.timeout, started.elapsed()));
                }
            }
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &str,
        query: &[(&str, String)],
        body: Body<'_>,
        timeout: Duration,
        cap: u64,
    ) -> Result<Reply, Failure> {
        let mut request = self.http.request(method.clone(), url).header("Accept", "application/json").timeout(timeout);
        if !query.is_empty() {
            request = request.query(query);
        }
        match body {
            Body::None => {}
            Body::Json(json) => request = request.json(json),
            Body::File { name, mime, bytes } => {
                let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                    .file_name(name.to_owned())
                    .mime_str(mime)
                    .map_err(Failure::Transport)?;
                request = request
                    .header("X-Atlassian-Token", "no-check")
                    .multipart(reqwest::multipart::Form::new().part("file", part));
            }
        }
        request = match &self.auth {
            Auth::Basic { email, token } => request.basic_auth(email, Some(token.expose_secret())),
            Auth::Bearer(token) => request.bearer_auth(token.expose_secret()),
        };
        crate::budget::note_jira_request();
        let response = request.send().await.map_err(|e| {
            crate::metrics::jira_response(None);
            Failure::Transport(e)
        })?;
        let status = response.status();
        crate::metrics::jira_response(Some(status.as_u16()));
        if status == StatusCode::TOO_MANY_REQUESTS {
            crate::metrics::jira_throttled(retry_after(response.headers()));
        }
        tracing::Span::current().record("http.status", status.as_u16());
        let headers = response.headers().clone();
        let content_type =
            headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let body = read_capped(response, cap).await?;
        if status.is_success() {
            Ok(Reply { status, content_type, body })
        } else {
            Err(Failure::Status { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
        }
    }

    /// How long to wait before the next attempt (`None`: give up now), and the pause a 429 set.
    fn retry_delay(
        &self,
        failure: &Failure,
        attempt: u32,
        idempotent: bool,
        deadline: Instant,
        sent: Instant,
    ) -> RetryDelay {
        if let Failure::Status { status, headers, .. } = failure
            && *status == StatusCode::TOO_MANY_REQUESTS
        {
            // Every caller waits now, not only this one.
            let pause = self.gate.throttled(retry_after(headers), sent);
            // Atlassian: retry only idempotent requests, only with a Retry-After, and wait at least that long.
            // The shared pause spaces these retries out, so a read may take a few more of them.
            let retry_in = retry_after(headers).and(
                (idempotent && attempt < self.retry.attempts * 2 && Instant::now() + pause < deadline)
                    .then_some(Duration::ZERO),
            );
            return RetryDelay { retry_in, pause: Some(pause) };
        }
        RetryDelay { retry_in: self.backoff_delay(failure, attempt, idempotent, deadline), pause: None }
    }

    /// How long to wait before retrying a failure other than a 429, or `None` to give up now.
    fn backoff_delay(&self, failure: &Failure, attempt: u32, idempotent: bool, deadline: Instant) -> Option<Duration> {
        if !idempotent || attempt >= self.retry.attempts {
            return None;
        }
        let backoff = self.retry.base_backoff.saturating_mul(1 << (attempt - 1).min(6));
        let within = |wait: Duration| (Instant::now() + wait < deadline).then_some(wait);
        match failure {
            Failure::Status { status, headers, .. } if status.is_server_error() => {
                within(retry_after(headers).unwrap_or(backoff))
            }
            Failure::Transport(e) if e.is_timeout() || e.is_connect() || e.is_body() || e.is_request() => {
                within(backoff)
            }
            Failure::Cut(_) => within(backoff),
            Failure::Status { .. } | Failure::Transport(_) | Failure::Oversized { .. } => None,
        }
    }
}

/// Reads at most `cap` bytes of the body, chunk by chunk: a bigger answer is
/// refused as soon as it is announced (`Content-Length`) or as soon as the
/// bytes read pass the cap, whatever `Content-Length` said.
async fn read_capped(mut response: reqwest::Response, cap: u64) -> Result<Vec<u8>, Failure> {
    if let Some(declared) = response.content_length()
        && declared > cap
    {
        return Err(Failure::Oversized { cap, declared: Some(declared) });
    }
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0).min(64 * 1024) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > cap {
                    return Err(Failure::Oversized { cap, declared: None });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(Failure::Transport(e)),
            Err(e) => return Err(Failure::Cut(transport_detail(&e))),
        }
    }
}

/// One failed attempt, before it becomes a user-facing [`Error`].
enum Failure {
    Transport(reqwest::Error),
    Status {
        status: StatusCode,
        headers: HeaderMap,
        body: String,
    },
    /// The connection broke while the answer was being read.
    Cut(String),
    /// The answer is bigger than the cap.
    Oversized {
        cap: u64,
        declared: Option<u64>,
    },
}

impl Failure {
    fn summary(&self) -> String {
        match self {
            Self::Transport(e) => transport_detail(e),
            Self::Status { status, .. } => status.to_string(),
            Self::Cut(detail) => format!("answer cut short: {detail}"),
            Self::Oversized { cap, .. } => format!("answer larger than {cap} bytes"),
        }
    }

    fn into_error(self, base: &str, attempts: u32, timeout: Duration, elapsed: Duration) -> Error {
        match self {
            // Connect errors (including connect timeouts) mean nothing was sent.
            Self::Transport(e) if e.is_connect() => {
                Error::Unreachable { url: base.to_owned(), detail: transport_detail(&e) }
            }
            Self::Transport(e) if e.is_timeout() => Error::Timeout { secs: timeout.as_secs(), attempts, elapsed },
            Self::Transport(e) if e.is_builder() => {
                Error::Unreachable { url: base.to_owned(), detail: transport_detail(&e) }
            }
            Self::Transport(e) => Error::Interrupted { detail: transport_detail(&e), attempts, elapsed },
            Self::Cut(detail) => Error::Interrupted { detail, attempts, elapsed },
            Self::Oversized { cap, declared } => Error::Oversized { cap, declared },
            Self::Status { status, headers, body } => {
                // An upstream or proxy may echo the Authorization header into its error body.
                let message = crate::scrub::secrets(&body_message(&body)).into_owned();
                match status.as_u16() {
                    code @ 300..=399 => Error::Redirected { status: code, to: location_origin(&headers, base) },
                    400 => Error::BadRequest { message },
                    401 => Error::Unauthorized,
                    403 => Error::Forbidden { message },
                    404 => Error::NotFound { what: "the request".to_owned(), message },
                    409 => Error::Conflict { message },
                    410 => Error::Gone { message },
                    413 => Error::TooLarge { message },
                    429 => Error::RateLimited {
                        retry_after: retry_after(&headers).unwrap_or(Duration::from_secs(5)),
                        reason: headers.get("RateLimit-Reason").and_then(|v| v.to_str().ok()).map(str::to_owned),
                        elapsed,
                    },
                    code @ 500..=599 => Error::Server { status: code, attempts, elapsed },
                    code => Error::Unexpected { status: code, message },
                }
            }
        }
    }
}

/// `Retry-After` in seconds (Jira sends integers; HTTP dates are not used by Jira).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    // `try_from`: a hostile or broken `Retry-After: 1e20` must not panic the client.
    raw.trim().parse::<f64>().ok().and_then(|s| Duration::try_from_secs_f64(s).ok())
}

/// Names the transport failure precisely enough to fix it: DNS, TLS, refused, timeout.
pub(crate) fn transport_detail(e: &reqwest::Error) -> String {
    let mut chain = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        chain.push(err.to_string());
        source = err.source();
    }
    let all = chain.join(": ").to_lowercase();
    if all.contains("dns error")
        || all.contains("failed to lookup address")
        || all.contains("name or service not known")
    {
        "DNS lookup failed: the host name does not resolve; check the spelling of JIRA_URL".to_owned()
    } else if all.contains("certificate") || all.contains("tls") || all.contains("handshake") {
        format!("TLS failed: {}", chain.last().map(String::as_str).unwrap_or("handshake error"))
    } else if all.contains("connection refused") {
        "connection refused: nothing listens at that address and port".to_owned()
    } else if e.is_timeout() {
        "timed out".to_owned()
    } else {
        chain.last().cloned().unwrap_or_else(|| e.to_string())
    }
}

/// Whether a 2xx body is what Jira sends: JSON. Anything else (an HTML login
/// page, a proxy's text, nothing at all) is someone else's answer.
fn foreign(reply: &Reply) -> Option<Error> {
    let trimmed = reply.body.trim_ascii_start();
    let looks_json = matches!(trimmed.first(), Some(b'{' | b'['));
    let says_json = reply.content_type.is_empty() || reply.content_type.to_ascii_lowercase().contains("json");
    (!looks_json || !says_json).then(|| Error::NotJira {
        status: reply.status.as_u16(),
        content_type: reply.content_type.clone(),
        snippet: snippet(&reply.body),
    })
}

/// The first bytes of a foreign answer, printable, whitespace collapsed, and
/// with long opaque runs (tokens, session ids, base64) replaced by `[…]`.
fn snippet(body: &[u8]) -> String {
    const SHOWN: usize = 120;
    const OPAQUE: usize = 20;
    let head = body.get(..body.len().min(SHOWN * 4)).unwrap_or_default();
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        out.push_str(if run.chars().count() >= OPAQUE { "[…]" } else { run.as_str() });
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || "-_=+/.%".contains(c) {
            run.push(c);
            continue;
        }
        flush(&mut run, &mut out);
        if c.is_whitespace() || c.is_control() {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    let out = out.trim_end();
    match out.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", out.get(..cut).unwrap_or_default()),
        None => out.to_owned(),
    }
}

fn decode<T: DeserializeOwned>(reply: &Reply) -> Result<T, Error> {
    if let Some(e) = foreign(reply) {
        return Err(e);
    }
    let mut de = serde_json::Deserializer::from_slice(&reply.body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            // JSON that does not parse is not Jira's either.
            Error::NotJira {
                status: reply.status.as_u16(),
                content_type: reply.content_type.clone(),
                snippet: snippet(&reply.body),
            }
        } else {
            Error::Decode {
                field: if path == "." { None } else { Some(path) },
                detail: strip_position(&inner.to_string()),
            }
        }
    })
}

/// serde_json's "… at line 1 column 42": the column says nothing to a reader.
fn strip_position(detail: &str) -> String {
    detail.split(" at line ").next().unwrap_or(detail).to_owned()
}

/// A write that Jira answers with no body: 204 No Content (edit, transition,
/// delete, sprint moves) or an empty 201 Created (a new issue link); Atlassian's
/// spec gives no other success. Any other 2xx is not Jira's answer to this call:
/// a page, an empty 200 or a JSON body from something in between.
fn no_content(reply: &Reply) -> Result<(), Error> {
    let empty = reply.body.trim_ascii().is_empty();
    if reply.status == StatusCode::NO_CONTENT || (reply.status == StatusCode::CREATED && empty) {
        return Ok(());
    }
    Err(foreign(reply).unwrap_or_else(|| Error::Decode {
        field: None,
        detail: format!("expected 204 No Content, got {} with a JSON body", reply.status.as_u16()),
    }))
}

#[cfg(test)]
mod tests;
