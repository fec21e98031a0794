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

pub(crate) struct Shared {
    pub(crate) data: Data,
    pub(crate) faults: Vec<Fault>,
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
