//! The state every request shares, and who is calling.
//!
//! The router's middleware and the handlers both need these, so they live here
//! rather than in `emulator.rs`, which no child module may import. `Fault` is
//! defined here because the shared state queues faults; `emulator.rs`
//! re-exports it. This module must not know about routes or handlers.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

use axum::http::{HeaderMap, header};
use base64::Engine;

use super::state::{DEMO_TOKEN, Data, USERS};

/// A scripted failure: the next `times` requests whose path contains
/// `path_contains` get `status` instead of the real answer.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Substring of the request path to match.
    pub path_contains: String,
    /// HTTP status to answer.
    pub status: u16,
    /// How many matching requests fail.
    pub times: u32,
    /// `Retry-After` seconds to send with it.
    pub retry_after: Option<u32>,
}

/// What a misbehaving upstream (or a proxy in front of Jira) sends instead of Jira's answer.
#[derive(Debug, Clone)]
pub enum Shape {
    /// This status with this body and `Content-Type` (HTML login page, empty 200, wrong-shape or malformed JSON).
    Body {
        /// HTTP status.
        status: u16,
        /// `Content-Type` header (empty: none).
        content_type: &'static str,
        /// The body, sent whole with its length.
        body: String,
    },
    /// A 200 JSON answer that declares `declared` bytes, sends `sent`, then drops the connection.
    Truncated {
        /// The `Content-Length` announced.
        declared: usize,
        /// What is actually sent before the connection drops.
        sent: String,
    },
    /// No answer at all: the request hangs until the client gives up.
    Hang,
    /// This 3xx status with this `Location` (a site that moved, an SSO page, a hostile redirect).
    Redirect {
        /// HTTP status (301, 302, 303, 307, 308).
        status: u16,
        /// Where to.
        location: String,
    },
    /// A 200 JSON answer whose headers arrive and whose body never finishes.
    SlowBody,
    /// Jira's own answer, this many milliseconds late (a slow site); not a misbehaviour.
    Delay {
        /// The wait before the request is handled.
        millis: u64,
    },
    /// A 200 JSON answer of `bytes` bytes of garbage, streamed; with `Content-Length` only if `declare`.
    Huge {
        /// Size of the body.
        bytes: u64,
        /// Whether `Content-Length` announces it (false: chunked, the size is unknown up front).
        declare: bool,
    },
}

/// A scripted misbehaviour: the next `times` requests whose path contains
/// `path_contains` (and whose method is `method`, if set) get `shape`. With
/// `after_handler` the real handler runs first (a write is applied) and its
/// answer is replaced: "the write happened, the answer was lost".
#[derive(Debug, Clone)]
pub struct ShapeFault {
    /// Substring of the request path to match.
    pub path_contains: String,
    /// HTTP method to match (`None`: any).
    pub method: Option<&'static str>,
    /// How many matching requests get the shape.
    pub times: u32,
    /// Run the real handler first, then replace its answer.
    pub after_handler: bool,
    /// What to send.
    pub shape: Shape,
}

pub(crate) struct Shared {
    pub(crate) data: Data,
    pub(crate) faults: Vec<Fault>,
    pub(crate) shape_faults: Vec<ShapeFault>,
    /// Writes (create, edit, transition, comment, delete) that Jira applied, answered or not.
    pub(crate) writes: usize,
    /// How long each write waits before it is handled (`EmulatorConfig::write_delay_ms`).
    pub(crate) write_delay: std::time::Duration,
    /// Arrival times in the last second, for the burst limit.
    pub(crate) window: VecDeque<Instant>,
    /// Every arrival, for measuring the peak rate in load tests.
    pub(crate) arrivals: Vec<Instant>,
    pub(crate) burst: Option<u32>,
    /// Requests left that answer 400 with their Authorization header echoed in the body,
    /// as a misbehaving upstream or proxy might.
    pub(crate) echo_auth: u32,
    /// Permission keys `mypermissions` reports as not held.
    pub(crate) denied_permissions: Vec<String>,
    /// Download tokens the media redirect handed out: (token, attachment id).
    pub(crate) media_tokens: Vec<(String, u64)>,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) shared: Arc<Mutex<Shared>>,
    pub(crate) base: Arc<str>,
}

impl AppState {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        // A poisoned lock only means another handler panicked; the data is still usable.
        self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("issues", &self.data.issues.len()).finish_non_exhaustive()
    }
}

/// Which demo user the credentials belong to.
pub(crate) fn caller(headers: &HeaderMap) -> Option<usize> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    if let Some(b64) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (email, token) = text.split_once(':')?;
        if token != DEMO_TOKEN {
            return None;
        }
        return USERS.iter().position(|u| u.email.eq_ignore_ascii_case(email));
    }
    (value.strip_prefix("Bearer ")? == DEMO_TOKEN).then_some(0)
}
