//! Per-process caches of Jira metadata (fields, screens, link types, boards,
//! sprints), each entry kept for a time-to-live, so a typical task costs no more
//! round trips than it did before custom fields existed.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::models::{Board, FieldDef, LinkTypeDef, ScreenField, Sprint};

/// How long site-wide metadata (fields, create screens, link types, boards) is kept.
const SITE_TTL: Duration = Duration::from_secs(600);
/// How long fast-changing metadata (an issue's edit screen, sprints) is kept.
const SHORT_TTL: Duration = Duration::from_secs(60);

/// Values by key, each fresh for `ttl` after it was stored.
#[derive(Debug)]
pub(crate) struct Cached<K, V> {
    ttl: Duration,
    map: Mutex<HashMap<K, (Instant, Arc<V>)>>,
}

impl<K: Eq + Hash, V> Cached<K, V> {
    fn new(ttl: Duration) -> Self {
        Self { ttl, map: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, Arc<V>)>> {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The stored value if it is still fresh.
    pub(crate) fn get(&self, key: &K) -> Option<Arc<V>> {
        self.lock().get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    /// Stores `value` and returns it shared.
    pub(crate) fn put(&self, key: K, value: V) -> Arc<V> {
        let value = Arc::new(value);
        self.lock().insert(key, (Instant::now(), value.clone()));
        value
    }

    /// Forgets `key`, so the next read fetches it again.
    pub(crate) fn forget(&self, key: &K) {
        self.lock().remove(key);
    }

    /// How long ago `key` was stored, if it is.
    pub(crate) fn age(&self, key: &K) -> Option<Duration> {
        self.lock().get(key).map(|(at, _)| at.elapsed())
    }
}

/// Every metadata cache of one Jira site.
#[derive(Debug)]
pub(crate) struct MetaCache {
    pub(crate) fields: Cached<(), Vec<FieldDef>>,
    /// Create screens by (project key, issue type id).
    pub(crate) create: Cached<(String, String), Vec<ScreenField>>,
    /// Edit screens by issue key.
    pub(crate) edit: Cached<String, Vec<ScreenField>>,
    pub(crate) link_types: Cached<(), Vec<LinkTypeDef>>,
    /// Boards by project key.
    pub(crate) boards: Cached<String, Vec<Board>>,
    /// Sprints by board id.
    pub(crate) sprints: Cached<u64, Vec<Sprint>>,
}

impl Default for MetaCache {
    fn default() -> Self {
        Self {
            fields: Cached::new(SITE_TTL),
            create: Cached::new(SITE_TTL),
            edit: Cached::new(SHORT_TTL),
            link_types: Cached::new(SITE_TTL),
            boards: Cached::new(SITE_TTL),
            sprints: Cached::new(SHORT_TTL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let c: Cached<u8, &str> = Cached::new(Duration::from_millis(30));
        c.put(1, "a");
        assert_eq!(c.get(&1).as_deref(), Some(&"a"));
        c.forget(&1);
        assert!(c.get(&1).is_none());
        c.put(2, "b");
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.get(&2).is_none(), "stale after the ttl");
        assert!(c.age(&2).is_some());
    }
}
