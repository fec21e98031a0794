//! The two-phase confirmation behind destructive actions: single-use tokens bound
//! to what the user saw, which any replica holding the same key can verify.
//!
//! A token is `del-` + base64url(payload) + `.` + base64url(tag): the payload names the
//! issue, its `updated` time and subtask count at the preview, the expiry (wall clock, so
//! replicas agree) and a random nonce; the tag is HMAC-SHA256 over it under the key
//! (`JIRA_MCP_CONFIRM_KEY`, else a random key per process, so a restart invalidates
//! every token), cut to 128 bits and compared in constant time. A forged or altered token
//! is "unknown". Single use: the nonce is claimed in an in-process set and, in a fleet,
//! with `SET NX` in Redis, so a second redemption on any replica is refused; without Redis
//! a token replayed on another process still meets the `updated` binding, which a delete
//! (or any change) breaks.
//!
//! Knows nothing of MCP or Jira: it issues and redeems tokens; the delete tool decides
//! what a token is bound to and what to say about a refusal.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, SystemTime},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::{fleet::Fleet, limits::CONFIRM_TTL_MINUTES};

/// How long a preview's token stays valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(CONFIRM_TTL_MINUTES * 60);
/// Bytes of the HMAC tag kept in a token.
const TAG_BYTES: usize = 16;
/// Domain separation: these tags are for confirm tokens of this format only.
const CONTEXT: &[u8] = b"jira-mcp confirm token v1\n";

/// What a token was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    key: String,
    /// The issue's `updated` time when the preview was shown.
    pub updated: String,
    /// Its subtask count when the preview was shown.
    pub subtasks: usize,
    /// Milliseconds since the Unix epoch after which the token is refused.
    expires_ms: u64,
    nonce: String,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Never issued with this key, altered, or already used.
    Unknown,
    /// Older than [`TOKEN_TTL`].
    Expired,
    /// Issued for this other issue (and still valid for it).
    OtherIssue(String),
    /// The fleet's Redis does not answer, so whether the token was used elsewhere is unknown.
    Unavailable,
}

/// Issues and redeems confirm tokens.
pub struct ConfirmStore {
    mac: Hmac<Sha256>,
    /// Nonces redeemed (or expired) in this process, with their tokens' expiry.
    used: Mutex<HashMap<String, u64>>,
    fleet: Option<Fleet>,
}

impl std::fmt::Debug for ConfirmStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never shown.
        f.debug_struct("ConfirmStore").field("fleet", &self.fleet.is_some()).finish_non_exhaustive()
    }
}

impl Default for ConfirmStore {
    fn default() -> Self {
        Self::new(None, None)
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl ConfirmStore {
    /// A store signing with `key` (a random per-process key when `None`), enforcing single use
    /// through `fleet`'s Redis when given.
    #[must_use]
    pub fn new(key: Option<&SecretString>, fleet: Option<Fleet>) -> Self {
        let random: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()].iter().flat_map(|u| *u.as_bytes()).collect();
        let material = key.map_or(random.as_slice(), |k| k.expose_secret().as_bytes());
        // HMAC takes keys of any length; the error branch cannot happen.
        let mac = Hmac::<Sha256>::new_from_slice(material).unwrap_or_else(|_| Hmac::<Sha256>::new(&Default::default()));
        Self { mac, used: Mutex::new(HashMap::new()), fleet }
    }

    fn used(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.used.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn tag(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(CONTEXT);
        mac.update(payload);
        mac
    }

    /// Issues a token for `key` as it was at `updated` with `subtasks` subtasks.
    #[must_use]
    pub fn issue(&self, key: &str, updated: &str, subtasks: usize, now: SystemTime) -> String {
        let expires_ms = millis(now + TOKEN_TTL);
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let payload = format!("{expires_ms}.{subtasks}.{nonce}.{key}.{updated}");
        let tag = self.tag(payload.as_bytes()).finalize().into_bytes();
        let tag = tag.get(..TAG_BYTES).unwrap_or_default();
        format!("del-{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The token's content if this store's key made it.
    fn open(&self, token: &str) -> Option<Pending> {
        let (payload, tag) = token.strip_prefix("del-")?.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != TAG_BYTES {
            return None;
        }
        // Constant-time comparison of the leftmost bytes.
        self.tag(&payload).verify_truncated_left(&tag).ok()?;
        let payload = String::from_utf8(payload).ok()?;
        let mut parts = payload.splitn(5, '.');
        let expires_ms = parts.next()?.parse().ok()?;
        let subtasks = parts.next()?.parse().ok()?;
        let nonce = parts.next()?.to_owned();
        let key = parts.next()?.to_owned();
        let updated = parts.next()?.to_owned();
        Some(Pending { key, updated, subtasks, expires_ms, nonce })
    }

    /// Takes a token for `key`. A token for another issue stays valid for that issue;
    /// an expired one is used up.
    ///
    /// # Errors
    /// The [`Refusal`]: the delete tool words each one.
    pub async fn redeem(&self, token: &str, key: &str, now: SystemTime) -> Result<Pending, Refusal> {
        let pending = self.open(token).ok_or(Refusal::Unknown)?;
        if pending.key != key {
            return Err(Refusal::OtherIssue(pending.key));
        }
        let now_ms = millis(now);
        {
            let mut used = self.used();
            if used.contains_key(&pending.nonce) {
                return Err(Refusal::Unknown);
            }
            if pending.expires_ms <= now_ms {
                used.insert(pending.nonce, pending.expires_ms);
                return Err(Refusal::Expired);
            }
            if self.fleet.is_none() {
                used.retain(|_, expires| *expires > now_ms);
                used.insert(pending.nonce.clone(), pending.expires_ms);
                return Ok(pending);
            }
        }
        if let Some(fleet) = &self.fleet {
            // Fail closed: a destructive action waits for Redis rather than risk a second use.
            let ttl = Duration::from_millis(pending.expires_ms.saturating_sub(now_ms));
            let first = fleet.claim_once("confirm", &pending.nonce, ttl).await.map_err(|_| Refusal::Unavailable)?;
            let mut used = self.used();
            used.retain(|_, expires| *expires > now_ms);
            if used.insert(pending.nonce.clone(), pending.expires_ms).is_some() || !first {
                return Err(Refusal::Unknown);
            }
        }
        Ok(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> SecretString {
        SecretString::from(k.to_owned())
    }

    #[tokio::test]
    async fn token_is_single_use() {
        let store = ConfirmStore::default();
        let now = SystemTime::now();
        let t = store.issue("DEMO-1", "u1", 0, now);
        assert!(t.starts_with("del-"), "{t}");
        assert!(store.redeem(&t, "DEMO-1", now).await.is_ok());
        assert_eq!(store.redeem(&t, "DEMO-1", now).await, Err(Refusal::Unknown));
    }

    #[tokio::test]
    async fn token_for_another_issue_is_refused_and_kept() {
        let store = ConfirmStore::default();
        let now = SystemTime::now();
        let t = store.issue("DEMO-1", "u1", 0, now);
        assert_eq!(store.redeem(&t, "DEMO-2", now).await, Err(Refusal::OtherIssue("DEMO-1".into())));
        assert!(store.redeem(&t, "DEMO-1", now).await.is_ok(), "the rightful issue can still use it");
    }

    #[tokio::test]
    async fn token_expires_after_the_ttl() {
        let store = ConfirmStore::default();
        let now = SystemTime::now();
        let t = store.issue("DEMO-1", "u1", 0, now);
        assert_eq!(store.redeem(&t, "DEMO-1", now + TOKEN_TTL).await, Err(Refusal::Expired));
        assert_eq!(store.redeem(&t, "DEMO-1", now).await, Err(Refusal::Unknown), "an expired token is gone");
    }

    #[tokio::test]
    async fn unknown_tokens_are_refused() {
        let store = ConfirmStore::default();
        for t in ["del-nope", "del-", "nope", "del-a.b", "del-....", ""] {
            assert_eq!(store.redeem(t, "DEMO-1", SystemTime::now()).await, Err(Refusal::Unknown), "{t:?}");
        }
    }

    #[tokio::test]
    async fn a_token_binds_what_the_preview_saw_and_another_key_verifies_it() {
        let k = key("0123456789abcdef0123456789abcdef");
        let (a, b) = (ConfirmStore::new(Some(&k), None), ConfirmStore::new(Some(&k), None));
        let now = SystemTime::now();
        let t = a.issue("DEMO-7", "2024-05-01T10:00:00.000+0000", 3, now);
        let p = b.redeem(&t, "DEMO-7", now).await.expect("the same key verifies it");
        assert_eq!((p.updated.as_str(), p.subtasks), ("2024-05-01T10:00:00.000+0000", 3));
    }

    #[tokio::test]
    async fn forged_and_tampered_tokens_are_unknown() {
        let k = key("0123456789abcdef0123456789abcdef");
        let store = ConfirmStore::new(Some(&k), None);
        let now = SystemTime::now();
        let t = store.issue("DEMO-1", "u1", 0, now);
        let (payload, tag) = t.strip_prefix("del-").unwrap().split_once('.').unwrap();
        let plain = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        // A later expiry, more subtasks, another `updated`: the tag no longer fits.
        let longer = plain.replacen(&plain[..plain.find('.').unwrap()], "99999999999999", 1);
        for forged in [longer, plain.replace(".0.", ".5."), plain.replace(".u1", ".u2")] {
            assert_ne!(forged, plain);
            let t = format!("del-{}.{tag}", URL_SAFE_NO_PAD.encode(forged));
            assert_eq!(store.redeem(&t, "DEMO-1", now).await, Err(Refusal::Unknown));
        }
        let mut bytes = URL_SAFE_NO_PAD.decode(tag).unwrap();
        bytes[0] ^= 1;
        let t = format!("del-{payload}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(store.redeem(&t, "DEMO-1", now).await, Err(Refusal::Unknown), "a flipped tag bit");
        let other = ConfirmStore::new(Some(&key("another key, 32 bytes or longer....")), None);
        let t = store.issue("DEMO-1", "u1", 0, now);
        assert_eq!(other.redeem(&t, "DEMO-1", now).await, Err(Refusal::Unknown), "another key");
        assert!(store.redeem(&t, "DEMO-1", now).await.is_ok(), "untouched, it is valid");
    }

    #[tokio::test]
    async fn without_a_key_each_process_has_its_own() {
        let now = SystemTime::now();
        let t = ConfirmStore::default().issue("DEMO-1", "u1", 0, now);
        assert_eq!(ConfirmStore::default().redeem(&t, "DEMO-1", now).await, Err(Refusal::Unknown));
    }
}
