//! Fleet-wide sandbox slots: a Redis semaphore with leases. A sorted set per backend holds
//! holder → lease end (Redis clock); acquiring drops expired leases first, so a replica
//! that died without releasing frees its slots within one lease. Each operation is one
//! Lua script, atomic in Redis.

use std::{sync::Arc, time::Duration};

use tokio::task::JoinHandle;

use super::conn::{Fleet, Unavailable, hashed_key};

/// `KEYS[1]` the set; `ARGV[1]` holder, `ARGV[2]` lease µs, `ARGV[3]` limit. 1 acquired, 0 full.
const ACQUIRE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], string.format('%.0f', now + lease), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.floor(lease / 1000) * 2)
return 1
";

/// `KEYS[1]` the set; `ARGV[1]` holder, `ARGV[2]` lease µs. 1 renewed, 0 the lease was lost.
const RENEW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now + lease), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.floor(lease / 1000) * 2)
return 1
";

/// The fleet-wide slots of one sandbox backend.
#[derive(Clone)]
pub struct FleetSlots {
    inner: Arc<Inner>,
}

struct Inner {
    fleet: Fleet,
    key: String,
    limit: u32,
    lease: Duration,
    acquire: redis::Script,
    renew: redis::Script,
}

impl std::fmt::Debug for FleetSlots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetSlots").field("limit", &self.inner.limit).field("lease", &self.inner.lease).finish()
    }
}

/// A held fleet slot. Renewed in the background every third of the lease while held;
/// released when dropped.
#[derive(Debug)]
pub struct Lease {
    slots: FleetSlots,
    holder: String,
    renewer: Option<JoinHandle<()>>,
}

impl FleetSlots {
    /// `limit` slots for `backend` (e.g. `docker`, `e2b`) across the fleet, each lease lasting `lease`.
    #[must_use]
    pub fn new(fleet: Fleet, backend: &str, limit: u32, lease: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                fleet,
                key: format!("{}:slots", hashed_key("sandbox", &[backend])),
                limit: limit.max(1),
                lease,
                acquire: redis::Script::new(ACQUIRE),
                renew: redis::Script::new(RENEW),
            }),
        }
    }

    /// The fleet-wide bound.
    #[must_use]
    pub fn limit(&self) -> u32 {
        self.inner.limit
    }

    fn lease_us(&self) -> u64 {
        u64::try_from(self.inner.lease.as_micros()).unwrap_or(u64::MAX)
    }

    /// One attempt: `Ok(Some(lease))` when a slot was free, `Ok(None)` when all are held.
    ///
    /// # Errors
    /// Redis is unreachable.
    pub async fn try_acquire(&self) -> Result<Option<Lease>, Unavailable> {
        let holder = uuid::Uuid::new_v4().simple().to_string();
        let got = self.claim(&holder).await?;
        if !got {
            return Ok(None);
        }
        let renewer = tokio::spawn(renew_while_held(self.clone(), holder.clone()));
        Ok(Some(Lease { slots: self.clone(), holder, renewer: Some(renewer) }))
    }

    /// Takes a slot for `holder` without renewing it (tests: a replica that stops renewing).
    ///
    /// # Errors
    /// Redis is unreachable.
    pub async fn claim(&self, holder: &str) -> Result<bool, Unavailable> {
        let (inner, lease_us) = (&self.inner, self.lease_us());
        inner
            .fleet
            .run("slot", |mut conn| async move {
                let mut call = inner.acquire.key(&inner.key);
                call.arg(holder).arg(lease_us).arg(inner.limit);
                call.invoke_async::<u8>(&mut conn).await
            })
            .await
            .map(|got| got == 1)
    }

    /// Extends `holder`'s lease; `Ok(false)` when it had already expired.
    async fn renew(&self, holder: &str) -> Result<bool, Unavailable> {
        let (inner, lease_us) = (&self.inner, self.lease_us());
        inner
            .fleet
            .run("slot", |mut conn| async move {
                let mut call = inner.renew.key(&inner.key);
                call.arg(holder).arg(lease_us);
                call.invoke_async::<u8>(&mut conn).await
            })
            .await
            .map(|got| got == 1)
    }

    /// Frees `holder`'s slot.
    async fn release(&self, holder: &str) {
        let inner = &self.inner;
        let _ = inner
            .fleet
            .run("slot", |mut conn| async move {
                redis::cmd("ZREM").arg(&inner.key).arg(holder).query_async::<i64>(&mut conn).await
            })
            .await;
    }

    /// Slots held now, expired leases not counted (tests and diagnostics).
    ///
    /// # Errors
    /// Redis is unreachable.
    pub async fn held(&self) -> Result<u64, Unavailable> {
        let inner = &self.inner;
        inner
            .fleet
            .run("slot", |mut conn| async move {
                let t: (u64, u64) = redis::cmd("TIME").query_async(&mut conn).await?;
                let now = t.0.saturating_mul(1_000_000).saturating_add(t.1);
                redis::cmd("ZCOUNT").arg(&inner.key).arg(format!("({now}")).arg("+inf").query_async(&mut conn).await
            })
            .await
    }
}

async fn renew_while_held(slots: FleetSlots, holder: String) {
    let every = slots.inner.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        match slots.renew(&holder).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("a fleet sandbox slot's lease expired before it was renewed; the run goes on");
                return;
            }
            // One warning for the outage is logged by `Fleet`; keep trying.
            Err(Unavailable) => {}
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(renewer) = self.renewer.take() {
            renewer.abort();
        }
        let (slots, holder) = (self.slots.clone(), std::mem::take(&mut self.holder));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { slots.release(&holder).await });
        }
    }
}
