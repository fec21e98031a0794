//! The one HTTP path to Jira: auth header, client-side rate limit, status
//! mapping, bounded retries that honour `Retry-After`, and a tracing span.

#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "the Jira client is the one module that talks HTTP to Jira"
)]

use std::{sync::Arc, time::Duration};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{Method, StatusCode, header::HeaderMap};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;

use super::error::{Error, body_message};
use crate::config::{Auth, JiraConfig};

/// How hard the client retries transient failures of idempotent requests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Total attempts, including the first.
    pub(crate) attempts: u32,
    /// First backoff after a 5xx or timeout; doubled each time.
    pub(crate) base_backoff: Duration,
    /// Longest total time spent waiting on `Retry-After` within one call.
    pub(crate) max_wait: Duration,
}

/// A body to send, or none.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Body<'a> {
    None,
    Json(&'a serde_json::Value),
}

/// Authenticated, rate-limited Jira REST client. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: Arc<str>,
    auth: Auth,
    limiter: Arc<DefaultDirectRateLimiter>,
    retry: RetryPolicy,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).field("auth", &self.auth).finish_non_exhaustive()
    }
}

impl Client {
    /// Builds the client. Fails only if the TLS backend cannot initialise.
    pub(crate) fn new(config: &JiraConfig) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("jira-mcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Unreachable { url: config.base_url.clone(), detail: e.to_string() })?;
        let quota = Quota::per_second(config.rate_per_second).allow_burst(config.burst);
        Ok(Self {
            http,
            base: config.base_url.as_str().into(),
            auth: config.auth.clone(),
            limiter: Arc::new(RateLimiter::direct(quota)),
            retry: RetryPolicy {
                attempts: 4,
                base_backoff: Duration::from_millis(250),
                max_wait: config.max_retry_wait,
            },
            timeout: config.request_timeout,
        })
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

    /// GET and decode JSON.
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, Error> {
        let text = self.send(Method::GET, path, query, Body::None, true).await?;
        decode(&text)
    }

    /// POST and decode JSON. `idempotent` allows retries (searches are).
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        idempotent: bool,
    ) -> Result<T, Error> {
        let text = self.send(Method::POST, path, &[], Body::Json(body), idempotent).await?;
        decode(&text)
    }

    /// POST expecting no body back (204).
    pub(crate) async fn post_no_content(&self, path: &str, body: &serde_json::Value) -> Result<(), Error> {
        self.send(Method::POST, path, &[], Body::Json(body), false).await.map(drop)
    }

    /// PUT expecting no body back (204). Edits are idempotent: same body, same result.
    pub(crate) async fn put(&self, path: &str, body: &serde_json::Value) -> Result<(), Error> {
        self.send(Method::PUT, path, &[], Body::Json(body), true).await.map(drop)
    }

    /// DELETE expecting no body back.
    pub(crate) async fn delete(&self, path: &str, query: &[(&str, String)]) -> Result<(), Error> {
        self.send(Method::DELETE, path, query, Body::None, false).await.map(drop)
    }

    /// Sends one logical request: waits for the local limiter, retries
    /// transient failures of idempotent requests, maps the status to [`Error`].
    #[tracing::instrument(skip_all, fields(http.method = %method, jira.path = path, http.status))]
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Body<'_>,
        idempotent: bool,
    ) -> Result<String, Error> {
        let url = format!("{}{path}", self.base);
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.limiter.until_ready().await;
            let outcome = self.send_once(&method, &url, query, body).await;
            let retry_in = match &outcome {
                Ok(_) => None,
                Err(failure) => self.retry_delay(failure, attempt, idempotent, waited),
            };
            match (outcome, retry_in) {
                (Ok(text), _) => return Ok(text),
                (Err(failure), Some(delay)) => {
                    tracing::warn!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "retrying Jira request: {}",
                        failure.summary()
                    );
                    waited += delay;
                    tokio::time::sleep(delay).await;
                }
                (Err(failure), None) => return Err(failure.into_error(&self.base, attempt, self.timeout)),
            }
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &str,
        query: &[(&str, String)],
        body: Body<'_>,
    ) -> Result<String, Failure> {
        let mut request = self.http.request(method.clone(), url).header("Accept", "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Body::Json(json) = body {
            request = request.json(json);
        }
        request = match &self.auth {
            Auth::Basic { email, token } => request.basic_auth(email, Some(token.expose_secret())),
            Auth::Bearer(token) => request.bearer_auth(token.expose_secret()),
        };
        let response = request.send().await.map_err(Failure::Transport)?;
        let status = response.status();
        tracing::Span::current().record("http.status", status.as_u16());
        let headers = response.headers().clone();
        let text = response.text().await.map_err(Failure::Transport)?;
        if status.is_success() { Ok(text) } else { Err(Failure::Status { status, headers, body: text }) }
    }

    /// How long to wait before the next attempt, or `None` to give up now.
    fn retry_delay(&self, failure: &Failure, attempt: u32, idempotent: bool, waited: Duration) -> Option<Duration> {
        if !idempotent || attempt >= self.retry.attempts {
            return None;
        }
        let backoff = self.retry.base_backoff.saturating_mul(1 << (attempt - 1).min(6));
        match failure {
            Failure::Status { status, headers, .. } if *status == StatusCode::TOO_MANY_REQUESTS => {
                // Atlassian: retry only with a Retry-After, and wait at least that long.
                let after = retry_after(headers)?;
                (waited + after <= self.retry.max_wait).then_some(after.max(backoff))
            }
            Failure::Status { status, headers, .. } if status.is_server_error() => {
                let after = retry_after(headers).unwrap_or(backoff);
                (waited + after <= self.retry.max_wait).then_some(after)
            }
            Failure::Transport(e) if e.is_timeout() || e.is_connect() => Some(backoff),
            Failure::Status { .. } | Failure::Transport(_) => None,
        }
    }
}

/// One failed attempt, before it becomes a user-facing [`Error`].
enum Failure {
    Transport(reqwest::Error),
    Status { status: StatusCode, headers: HeaderMap, body: String },
}

impl Failure {
    fn summary(&self) -> String {
        match self {
            Self::Transport(e) => transport_detail(e),
            Self::Status { status, .. } => status.to_string(),
        }
    }

    fn into_error(self, base: &str, attempts: u32, timeout: Duration) -> Error {
        match self {
            Self::Transport(e) if e.is_timeout() => Error::Timeout { secs: timeout.as_secs(), attempts },
            Self::Transport(e) => Error::Unreachable { url: base.to_owned(), detail: transport_detail(&e) },
            Self::Status { status, headers, body } => {
                // An upstream or proxy may echo the Authorization header into its error body.
                let message = crate::scrub::secrets(&body_message(&body)).into_owned();
                match status.as_u16() {
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
                    },
                    code @ 500..=599 => Error::Server { status: code, attempts },
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

fn decode<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    // A 204 has no body; callers that expect one get a clear decode error.
    let text = if text.trim().is_empty() { "null" } else { text };
    serde_json::from_str(text).map_err(|e| Error::Decode { detail: e.to_string() })
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    use super::*;

    fn after(raw: &'static str) -> Option<Duration> {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static(raw));
        retry_after(&h)
    }

    #[test]
    fn retry_after_parses_seconds_and_survives_garbage() {
        assert_eq!(after("2"), Some(Duration::from_secs(2)));
        assert_eq!(after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(after("1e20"), None, "would overflow Duration: ignored, not a panic");
        assert_eq!(after("-5"), None);
        assert_eq!(after("soon"), None);
    }
}
