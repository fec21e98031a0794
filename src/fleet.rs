//! A fleet's shared state in Redis: the one module that talks to Redis.
//!
//! [`Fleet`] is the connection (redis-rs's reconnecting `ConnectionManager`, opened on first
//! use) and its health: every operation is bounded by `limits::REDIS_TIMEOUT_MS` (250 ms); the first failure
//! switches the process to its local fallback with one warning, later calls skip Redis until
//! a probe every `limits::REDIS_PROBE_SECS` (3 s) succeeds, which is logged once as the recovery.
//! On it: [`SharedRate`] (one GCRA budget and 429 pause per Jira site and account),
//! [`Fleet::claim_once`] (single use of confirm tokens) and [`FleetSlots`] (sandbox leases).
//!
//! Redis holds only counters, instants, random nonces and lease holder ids under keys
//! hashed from the site and account: never a token, a password or Jira content.

#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "the fleet module is the one that talks to Redis"
)]

mod conn;
mod rate;
mod slots;

pub use conn::{Error, Fleet, Unavailable};
pub use rate::{Admission, SharedRate};
pub use slots::{FleetSlots, Lease};
