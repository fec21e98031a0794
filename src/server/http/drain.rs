//! A replica's orderly stop (SIGTERM in HTTP mode), in three stages:
//!
//! 1. **unready**: `/readyz` answers `503 draining` at once, while every request
//!    is still served, for `JIRA_MCP_HTTP_DRAIN_DELAY_SECS` (a load balancer needs
//!    a few probes to take the replica out of rotation);
//!    Every answer from now on says `Connection: close`, so clients and proxies stop
//!    reusing their connections to this replica;
//! 2. **closing**: the listener closes; a request that still arrives on an open
//!    connection gets `503` with `Retry-After: 1` and `Connection: close` (never a
//!    hang, never a connection closed under a request being sent); requests already
//!    in flight go on, for at most `JIRA_MCP_HTTP_DRAIN_SECS`;
//! 3. **cancel**: calls still running then are cancelled with an instructive error
//!    (`JiraMcp::stop_calls`), run_python's sandboxes are killed and removed, the
//!    sessions end and the remaining connections are closed.
//!
//! Only JSON-RPC POSTs count as in flight: a session's standalone GET stream has
//! no end of its own and must not hold the stop for the whole bound.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio_util::sync::CancellationToken;

/// How often the drain looks whether the calls in flight have finished.
const POLL: Duration = Duration::from_millis(50);

/// The drain's state, shared by the router and the serving loop.
#[derive(Debug, Clone, Default)]
pub(crate) struct Drain {
    /// Cancelled at the stop signal: `/readyz` answers 503.
    unready: CancellationToken,
    /// Cancelled when the listener closes: new requests are turned away.
    closing: CancellationToken,
    /// JSON-RPC POSTs whose response has not ended.
    calls: Arc<AtomicUsize>,
}

impl Drain {
    /// Stage 1: report not-ready (requests are still served).
    pub(crate) fn set_unready(&self) {
        self.unready.cancel();
    }

    /// Stage 2: from now on new requests get 503 + `Retry-After`.
    pub(crate) fn set_closing(&self) {
        self.closing.cancel();
    }

    /// Calls in flight.
    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Waits until no call is in flight; false when `within` ran out first.
    pub(crate) async fn settled(&self, within: Duration) -> bool {
        tokio::time::timeout(within, async {
            while self.calls() > 0 {
                tokio::time::sleep(POLL).await;
            }
        })
        .await
        .is_ok()
    }

    fn hold(&self) -> Held {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Held(self.calls.clone())
    }
}

/// Counts one call in flight until dropped.
#[derive(Debug)]
struct Held(Arc<AtomicUsize>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `GET /readyz`: `ready`, or `503 draining` from the stop signal on. Public: it
/// reveals nothing else.
pub(crate) async fn readyz(State(drain): State<Drain>) -> Response {
    if drain.unready.is_cancelled() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else {
        "ready".into_response()
    }
}

/// Outside everything but the access log: counts calls in flight, and once the
/// listener is closing turns new requests away with an answer a client retries.
/// The probes (`/healthz`, `/readyz`) always pass.
pub(crate) async fn gate(State(drain): State<Drain>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(request).await;
    }
    // Counted before the check, so the drain never sees zero while a call slips in.
    let held = (request.method() == Method::POST).then(|| drain.hold());
    if drain.closing.is_cancelled() {
        drop(held);
        let mut r = (
            StatusCode::SERVICE_UNAVAILABLE,
            "this server is shutting down; retry the request (another replica will answer it)",
        )
            .into_response();
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    let mut response = next.run(request).await;
    if drain.unready.is_cancelled() {
        // From the stop signal on, no connection is kept alive for another request:
        // clients and proxies open new ones, which reach a ready replica.
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    match held {
        Some(held) => response.map(|inner| super::guarded::hold(inner, held)),
        None => response,
    }
}
