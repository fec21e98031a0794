//! The two-phase confirmation behind destructive actions: single-use tokens
//! bound to what the user saw, kept in memory (a restart invalidates them all).
//!
//! Knows nothing of MCP or Jira: it stores and redeems tokens; the delete tool
//! decides what a token is bound to and what to say about a refusal.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::limits::CONFIRM_TTL_MINUTES;

/// How long a preview's token stays valid.
pub(crate) const TOKEN_TTL: Duration = Duration::from_secs(CONFIRM_TTL_MINUTES * 60);

/// What a token was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    key: String,
    /// The issue's `updated` time when the preview was shown.
    pub(crate) updated: String,
    /// Its subtask count when the preview was shown.
    pub(crate) subtasks: usize,
    expires: Instant,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Unknown,
    Expired,
    OtherIssue(String),
}

/// Single-use confirmation tokens, in memory (a restart invalidates them all).
#[derive(Debug, Default)]
pub(crate) struct ConfirmStore {
    pending: Mutex<HashMap<String, Pending>>,
}

impl ConfirmStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Issues a token for `key` as it was at `updated`.
    pub(crate) fn issue(&self, key: &str, updated: &str, subtasks: usize, now: Instant) -> String {
        let token = format!("del-{}", uuid::Uuid::new_v4().simple());
        let mut map = self.lock();
        map.retain(|_, p| p.expires > now);
        map.insert(
            token.clone(),
            Pending { key: key.to_owned(), updated: updated.to_owned(), subtasks, expires: now + TOKEN_TTL },
        );
        token
    }

    /// Takes a token for `key`. A token for another issue stays valid for that issue;
    /// an expired one is dropped.
    pub(crate) fn redeem(&self, token: &str, key: &str, now: Instant) -> Result<Pending, Refusal> {
        let mut map = self.lock();
        let pending = map.get(token).ok_or(Refusal::Unknown)?;
        if pending.key != key {
            return Err(Refusal::OtherIssue(pending.key.clone()));
        }
        let pending = map.remove(token).ok_or(Refusal::Unknown)?;
        if pending.expires <= now {
            return Err(Refusal::Expired);
        }
        Ok(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_single_use() {
        let store = ConfirmStore::default();
        let now = Instant::now();
        let t = store.issue("DEMO-1", "u1", 0, now);
        assert!(store.redeem(&t, "DEMO-1", now).is_ok());
        assert_eq!(store.redeem(&t, "DEMO-1", now), Err(Refusal::Unknown));
    }

    #[test]
    fn token_for_another_issue_is_refused_and_kept() {
        let store = ConfirmStore::default();
        let now = Instant::now();
        let t = store.issue("DEMO-1", "u1", 0, now);
        assert_eq!(store.redeem(&t, "DEMO-2", now), Err(Refusal::OtherIssue("DEMO-1".into())));
        assert!(store.redeem(&t, "DEMO-1", now).is_ok(), "the rightful issue can still use it");
    }

    #[test]
    fn token_expires_after_the_ttl() {
        let store = ConfirmStore::default();
        let now = Instant::now();
        let t = store.issue("DEMO-1", "u1", 0, now);
        assert_eq!(store.redeem(&t, "DEMO-1", now + TOKEN_TTL), Err(Refusal::Expired));
        assert_eq!(store.redeem(&t, "DEMO-1", now), Err(Refusal::Unknown), "an expired token is gone");
    }

    #[test]
    fn unknown_tokens_are_refused() {
        let store = ConfirmStore::default();
        assert_eq!(store.redeem("del-nope", "DEMO-1", Instant::now()), Err(Refusal::Unknown));
    }
}
