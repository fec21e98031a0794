//! What every backend shares around a run: the bounded queue for sandbox slots,
//! and one cancellation for "the caller gave up" or "the server is stopping".
//!
//! In a fleet (`JIRA_MCP_REDIS_URL`), a run also holds one of the backend's fleet-wide
//! slots (a Redis lease, `crate::fleet::FleetSlots`), taken after the process's own slot
//! within the same queue deadline and cancellation; with Redis unreachable the
//! per-process slots alone apply (`Fleet` logs that once).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::Error;
use crate::{
    fleet::{FleetSlots, Lease},
    limits::FLEET_SLOT_POLL_MS,
};

/// Runs allowed to wait per sandbox slot before new ones are refused.
const MAX_QUEUED_PER_SLOT: usize = 4;
/// Longest wait for a sandbox slot.
const QUEUE_DEADLINE: Duration = Duration::from_secs(60);

/// `JIRA_MCP_SANDBOX_CONCURRENCY` slots, and a bounded queue in front of them.
#[derive(Debug)]
pub(crate) struct Slots {
    permits: Arc<Semaphore>,
    slots: usize,
    /// Runs waiting for a permit.
    queued: AtomicUsize,
    /// The fleet-wide slots of this backend, when the server is part of a fleet.
    fleet: Option<FleetSlots>,
}

/// A run's right to go: its process slot and, in a fleet, its fleet-wide lease (released
/// when dropped).
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    _lease: Option<Lease>,
}

impl Slots {
    pub(crate) fn new(slots: usize) -> Self {
        let slots = slots.max(1);
        Self { permits: Arc::new(Semaphore::new(slots)), slots, queued: AtomicUsize::new(0), fleet: None }
    }

    /// The same slots, each run also holding one of `fleet`'s.
    pub(crate) fn in_fleet(mut self, fleet: FleetSlots) -> Self {
        self.fleet = Some(fleet);
        self
    }

    /// Waits for a slot (and in a fleet, a fleet-wide one), refusing when too many runs
    /// already wait or none comes within the queue deadline.
    pub(crate) async fn wait(&self, cancel: &CancellationToken) -> Result<Slot, Error> {
        self.wait_within(cancel, QUEUE_DEADLINE).await
    }

    /// [`Self::wait`] with its deadline (tests use a short one).
    async fn wait_within(&self, cancel: &CancellationToken, within: std::time::Duration) -> Result<Slot, Error> {
        let slots = self.slots;
        let deadline = tokio::time::Instant::now() + within;
        let ahead = self.queued.fetch_add(1, Ordering::SeqCst);
        let result = if ahead >= slots * MAX_QUEUED_PER_SLOT && self.permits.available_permits() == 0 {
            Err(Error::Busy { waiting: ahead, slots })
        } else {
            tokio::select! {
                permit = tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned()) => match permit {
                    Ok(Ok(p)) => Ok(p),
                    // The semaphore is never closed; a closed one means no slot will come.
                    Ok(Err(_)) | Err(_) => Err(Error::Busy { waiting: ahead, slots }),
                },
                () = cancel.cancelled() => Err(Error::Cancelled),
            }
        };
        let result = match (result, &self.fleet) {
            (Ok(permit), Some(fleet)) => {
                fleet_lease(fleet, deadline, cancel, ahead).await.map(|lease| Slot { _permit: permit, _lease: lease })
            }
            (Ok(permit), None) => Ok(Slot { _permit: permit, _lease: None }),
            (Err(e), _) => Err(e),
        };
        self.queued.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

/// Waits for one of the fleet's slots until `deadline`; `None` when Redis is unreachable
/// (the per-process slot alone applies).
async fn fleet_lease(
    fleet: &FleetSlots,
    deadline: tokio::time::Instant,
    cancel: &CancellationToken,
    ahead: usize,
) -> Result<Option<Lease>, Error> {
    loop {
        match fleet.try_acquire().await {
            Ok(Some(lease)) => return Ok(Some(lease)),
            Err(crate::fleet::Unavailable) => return Ok(None),
            Ok(None) => {}
        }
        let next = tokio::time::Instant::now() + std::time::Duration::from_millis(FLEET_SLOT_POLL_MS);
        if next >= deadline {
            let slots = usize::try_from(fleet.limit()).unwrap_or(usize::MAX);
            return Err(Error::Busy { waiting: ahead, slots });
        }
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            () = cancel.cancelled() => return Err(Error::Cancelled),
        }
    }
}

/// A token cancelled when either `caller` or `shutdown` is; its watcher ends with it.
pub(crate) fn either(caller: CancellationToken, shutdown: CancellationToken) -> CancellationToken {
    let out = CancellationToken::new();
    let watched = out.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = caller.cancelled() => watched.cancel(),
            () = shutdown.cancelled() => watched.cancel(),
            () = watched.cancelled() => {}
        }
    });
    out
}

// The throw-away redis-server of the integration tests.
#[cfg(test)]
#[path = "../../tests/redis_server/mod.rs"]
mod redis_server;

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use secrecy::SecretString;

    use super::*;
    use crate::fleet::Fleet;

    fn slots(redis_url: &str, per_process: usize, fleet_wide: u32) -> Slots {
        let fleet = Fleet::new(&SecretString::from(redis_url.to_owned())).unwrap();
        Slots::new(per_process).in_fleet(FleetSlots::new(fleet, "docker", fleet_wide, Duration::from_secs(5)))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_fleet_bound_holds_across_processes_with_the_queue_deadline_and_cancellation() {
        let redis = super::redis_server::RedisServer::start();
        // Two replicas with two slots each, one slot fleet-wide.
        let (a, b) = (slots(&redis.url(), 2, 1), slots(&redis.url(), 2, 1));
        let never = CancellationToken::new();
        let held = a.wait(&never).await.unwrap();

        let refused = b.wait_within(&never, Duration::from_millis(600)).await.unwrap_err();
        // The existing Busy refusal (worded by crate::error), naming the fleet's slots.
        assert!(matches!(refused, Error::Busy { waiting: 0, slots: 1 }), "{refused:?}");
        assert_eq!(refused.to_string(), "the sandbox is busy: 0 run(s) waiting for 1 slot(s)");

        let cancel = CancellationToken::new();
        let waiting = tokio::spawn({
            let cancel = cancel.clone();
            async move { b.wait(&cancel).await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
        assert!(matches!(waiting.await.unwrap(), Err(Error::Cancelled)), "a cancelled wait ends at once");

        let c = slots(&redis.url(), 2, 1);
        let started = Instant::now();
        let next = tokio::spawn(async move { c.wait(&CancellationToken::new()).await.map(drop) });
        tokio::time::sleep(Duration::from_millis(400)).await;
        drop(held);
        next.await.unwrap().unwrap();
        assert!(started.elapsed() >= Duration::from_millis(400), "it waited for the other replica's slot");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_redis_unreachable_the_process_slots_alone_apply() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (a, b) =
            (slots(&format!("redis://127.0.0.1:{port}"), 2, 1), slots(&format!("redis://127.0.0.1:{port}"), 2, 1));
        let never = CancellationToken::new();
        let started = Instant::now();
        let _one = a.wait(&never).await.unwrap();
        let _two = a.wait(&never).await.unwrap();
        let _three = b.wait(&never).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }
}
