//! What every backend shares around a run: the bounded queue for sandbox slots,
//! and one cancellation for "the caller gave up" or "the server is stopping".

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
}

impl Slots {
    pub(crate) fn new(slots: usize) -> Self {
        let slots = slots.max(1);
        Self { permits: Arc::new(Semaphore::new(slots)), slots, queued: AtomicUsize::new(0) }
    }

    /// Waits for a slot, refusing when too many runs already wait.
    pub(crate) async fn wait(&self, cancel: &CancellationToken) -> Result<OwnedSemaphorePermit, Error> {
        let slots = self.slots;
        let ahead = self.queued.fetch_add(1, Ordering::SeqCst);
        let result = if ahead >= slots * MAX_QUEUED_PER_SLOT && self.permits.available_permits() == 0 {
            Err(Error::Busy { waiting: ahead, slots })
        } else {
            tokio::select! {
                permit = tokio::time::timeout(QUEUE_DEADLINE, self.permits.clone().acquire_owned()) => match permit {
                    Ok(Ok(p)) => Ok(p),
                    // The semaphore is never closed; a closed one means no slot will come.
                    Ok(Err(_)) | Err(_) => Err(Error::Busy { waiting: ahead, slots }),
                },
                () = cancel.cancelled() => Err(Error::Cancelled),
            }
        };
        self.queued.fetch_sub(1, Ordering::SeqCst);
        result
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
