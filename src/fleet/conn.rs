//! The connection to the fleet's Redis and its health (see the parent module): a leaf the
//! shared-state users build on.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use tokio::{sync::OnceCell, time::Instant};

use crate::limits::{REDIS_PROBE_SECS, REDIS_TIMEOUT_MS};

/// Prefix of every key this server writes, so a shared Redis can tell them apart.
const PREFIX: &str = "jira-mcp";

/// Why a fleet could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL was not accepted by the Redis client (the URL itself is not repeated).
    #[error("the Redis URL is not usable: {0}")]
    Url(String),
}

/// Redis did not answer in time or answered with an error; the caller uses its local fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the fleet's Redis is unreachable")]
pub struct Unavailable;

/// The handle every shared-state user holds. Cheap to clone: clones share the connection
/// and the health state.
#[derive(Clone)]
pub struct Fleet {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    /// True while Redis is considered down (local fallback in use).
    down: AtomicBool,
    /// While down: when the next caller may probe Redis again.
    next_probe: Mutex<Option<Instant>>,
    /// Times this process switched to its local fallback.
    fallbacks: AtomicU64,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never shown.
        f.debug_struct("Fleet").field("shared", &self.is_shared()).finish_non_exhaustive()
    }
}

impl Fleet {
    /// A fleet on the Redis at `url` (`redis://` or `rediss://`). Nothing is connected yet:
    /// the first operation connects, and an unreachable Redis only means the local fallback.
    ///
    /// # Errors
    /// The Redis client refuses the URL.
    pub fn new(url: &SecretString) -> Result<Self, Error> {
        let client = redis::Client::open(url.expose_secret()).map_err(|e| Error::Url(format!("{:?}", e.kind())))?;
        crate::metrics::fleet_mode(true);
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                conn: OnceCell::new(),
                down: AtomicBool::new(false),
                next_probe: Mutex::new(None),
                fallbacks: AtomicU64::new(0),
            }),
        })
    }

    /// Whether the last Redis operation succeeded (shared mode) rather than falling back.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        !self.inner.down.load(Ordering::SeqCst)
    }

    /// How many times this process fell back to local state (each time logged once).
    #[must_use]
    pub fn fallbacks(&self) -> u64 {
        self.inner.fallbacks.load(Ordering::SeqCst)
    }

    /// Runs one Redis operation within [`REDIS_TIMEOUT_MS`]. `Err(Unavailable)` at once while
    /// Redis is known to be down and no probe is due.
    pub(crate) async fn run<T, F, Fut>(&self, what: &'static str, op: F) -> Result<T, Unavailable>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if self.inner.down.load(Ordering::SeqCst) {
            let mut next = self.inner.next_probe.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            if next.is_some_and(|at| now < at) {
                return Err(Unavailable);
            }
            // This caller probes; the others keep to the fallback until it is done.
            *next = Some(now + Duration::from_secs(REDIS_PROBE_SECS));
        }
        let attempt = async {
            let conn = self
                .inner
                .conn
                .get_or_try_init(|| async {
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(Duration::from_millis(REDIS_TIMEOUT_MS)))
                        .set_response_timeout(Some(Duration::from_millis(REDIS_TIMEOUT_MS)))
                        .set_number_of_retries(1)
                        .set_max_delay(Duration::from_millis(REDIS_TIMEOUT_MS));
                    ConnectionManager::new_lazy_with_config(self.inner.client.clone(), config)
                })
                .await?
                .clone();
            op(conn).await
        };
        match tokio::time::timeout(Duration::from_millis(REDIS_TIMEOUT_MS), attempt).await {
            Ok(Ok(value)) => {
                if self.inner.down.swap(false, Ordering::SeqCst) {
                    tracing::info!(
                        "the fleet's Redis answers again: shared rate budget, confirm nonces and sandbox slots resumed"
                    );
                    crate::metrics::fleet_mode(true);
                }
                Ok(value)
            }
            Ok(Err(e)) => Err(self.failed(what, &format!("{:?}", e.kind()))),
            Err(_) => Err(self.failed(what, "no answer in time")),
        }
    }

    /// Records a failed operation: the first one of an outage warns and switches to the fallback.
    fn failed(&self, what: &'static str, why: &str) -> Unavailable {
        *self.inner.next_probe.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(Instant::now() + Duration::from_secs(REDIS_PROBE_SECS));
        if !self.inner.down.swap(true, Ordering::SeqCst) {
            self.inner.fallbacks.fetch_add(1, Ordering::SeqCst);
            crate::metrics::fleet_fallback();
            tracing::warn!(
                operation = what,
                "the fleet's Redis is unreachable ({why}): using local limits (the shared rate divided by \
                 JIRA_MCP_FLEET_REPLICAS, per-process sandbox slots) until it answers again; deletes wait for it"
            );
        }
        Unavailable
    }

    /// Claims `id` in `namespace` for `ttl` (SET NX PX): `Ok(true)` for the first claim in the
    /// whole fleet, `Ok(false)` when any replica claimed it before.
    ///
    /// # Errors
    /// Redis is unreachable: nothing is known about earlier claims.
    pub async fn claim_once(&self, namespace: &'static str, id: &str, ttl: Duration) -> Result<bool, Unavailable> {
        let key = format!("{PREFIX}:{namespace}:{id}");
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.run("claim", move |mut conn| async move {
            let set: Option<String> =
                redis::cmd("SET").arg(&key).arg(1).arg("NX").arg("PX").arg(ms).query_async(&mut conn).await?;
            Ok(set.is_some())
        })
        .await
    }
}

/// A Redis key for `parts`, hashed: names and URLs never appear in Redis.
pub(super) fn hashed_key(kind: &str, parts: &[&str]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"jira-mcp fleet key v1");
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}:{kind}:{hex}")
}
