//! Running several replicas as one fleet: the Redis that holds their shared state
//! (rate budget, 429 pause, confirm-token nonces, sandbox leases), the replica count the
//! local fallback divides the rate by, the confirm-token key and the fleet-wide sandbox slots.

use std::num::NonZeroU32;

use secrecy::{ExposeSecret, SecretString};

use super::env::{Env, Error};
use crate::limits::{CONFIRM_KEY_MIN_BYTES, FLEET_REPLICAS, FLEET_SANDBOX_CONCURRENCY};

/// Fleet settings. Without `redis_url` every replica keeps its state to itself (today's
/// single-process behaviour).
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// `redis://` or `rediss://` URL of the shared Redis; may hold a password, so never shown.
    pub redis_url: Option<SecretString>,
    /// Replicas in the fleet (`JIRA_MCP_FLEET_REPLICAS`): with Redis unreachable each one
    /// falls back to the shared rate divided by this.
    pub replicas: NonZeroU32,
    /// The HMAC key of confirm tokens, shared by the fleet; `None`: a random key per process.
    pub confirm_key: Option<SecretString>,
    /// Fleet-wide run_python slots per backend (`JIRA_MCP_SANDBOX_FLEET_CONCURRENCY`);
    /// `None`: the per-process slots times the replicas.
    pub sandbox_slots: Option<NonZeroU32>,
}

impl Default for FleetConfig {
    fn default() -> Self {
        Self { redis_url: None, replicas: NonZeroU32::MIN, confirm_key: None, sandbox_slots: None }
    }
}

impl FleetConfig {
    /// Reads `JIRA_MCP_REDIS_URL` (or `_FILE`), `JIRA_MCP_FLEET_REPLICAS`,
    /// `JIRA_MCP_CONFIRM_KEY` (or `_FILE`) and `JIRA_MCP_SANDBOX_FLEET_CONCURRENCY`.
    ///
    /// # Errors
    /// A malformed value; the message never repeats a URL or a key.
    pub fn from_env(env: &Env<'_>) -> Result<Self, Error> {
        let redis_url = match secret(env, "JIRA_MCP_REDIS_URL", "JIRA_MCP_REDIS_URL_FILE")? {
            Some((var, url)) => Some(check_redis_url(var, url)?),
            None => None,
        };
        let replicas = env.number("JIRA_MCP_FLEET_REPLICAS", FLEET_REPLICAS)?;
        let confirm_key = match secret(env, "JIRA_MCP_CONFIRM_KEY", "JIRA_MCP_CONFIRM_KEY_FILE")? {
            Some((var, key)) if key.expose_secret().len() < CONFIRM_KEY_MIN_BYTES => {
                return Err(Error::Invalid {
                    var,
                    problem: format!(
                        "the key is {} bytes; use at least {CONFIRM_KEY_MIN_BYTES} random bytes, e.g. the output of \
                         `openssl rand -hex 32`, the same on every replica",
                        key.expose_secret().len()
                    ),
                });
            }
            Some((_, key)) => Some(key),
            None => None,
        };
        let sandbox_slots = match env.get("JIRA_MCP_SANDBOX_FLEET_CONCURRENCY") {
            Some(_) => NonZeroU32::new(env.number("JIRA_MCP_SANDBOX_FLEET_CONCURRENCY", FLEET_SANDBOX_CONCURRENCY)?),
            None => None,
        };
        Ok(Self {
            redis_url,
            replicas: NonZeroU32::new(replicas).unwrap_or(NonZeroU32::MIN),
            confirm_key,
            sandbox_slots,
        })
    }
}

/// A secret from `var` or from the file `file_var` names (trimmed), with the variable it came from.
fn secret(
    env: &Env<'_>,
    var: &'static str,
    file_var: &'static str,
) -> Result<Option<(&'static str, SecretString)>, Error> {
    if let Some(value) = env.get(var) {
        return Ok(Some((var, SecretString::from(value))));
    }
    let Some(text) = env.file(file_var)? else { return Ok(None) };
    let value = text.trim();
    if value.is_empty() {
        let path = env.get(file_var).unwrap_or_default();
        return Err(Error::Invalid { var: file_var, problem: format!("{path} is empty") });
    }
    Ok(Some((file_var, SecretString::from(value.to_owned()))))
}

/// Accepts `redis://host[:port][/db]` and `rediss://…`; the message never echoes the URL
/// (it may hold a password).
fn check_redis_url(var: &'static str, url: SecretString) -> Result<SecretString, Error> {
    let invalid = |problem: &str| Error::Invalid {
        var,
        problem: format!(
            "{problem}; expected redis://[:password@]host[:port][/db] or rediss://… (the value is not shown: it may hold a password)"
        ),
    };
    let parsed = url::Url::parse(url.expose_secret()).map_err(|_| invalid("not a URL"))?;
    if !matches!(parsed.scheme(), "redis" | "rediss") {
        return Err(invalid("the scheme is not redis or rediss"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::with_env;

    fn load(vars: &[(&str, &str)]) -> Result<FleetConfig, Error> {
        with_env(vars, FleetConfig::from_env)
    }

    #[test]
    fn unset_means_no_fleet() {
        let c = load(&[]).unwrap();
        assert!(c.redis_url.is_none() && c.confirm_key.is_none() && c.sandbox_slots.is_none());
        assert_eq!(c.replicas.get(), 1);
    }

    #[test]
    fn a_bad_redis_url_is_refused_without_echoing_it() {
        for bad in ["http://:hunter2secret@redis:6379", "redis://:hunter2secret@", "not a url hunter2secret"] {
            let e = load(&[("JIRA_MCP_REDIS_URL", bad)]).unwrap_err().to_string();
            assert!(e.starts_with("JIRA_MCP_REDIS_URL is invalid: "), "{e}");
            assert!(e.contains("the value is not shown"), "{e}");
            assert!(!e.contains("hunter2secret"), "the URL's password leaked: {e}");
        }
        let good = load(&[("JIRA_MCP_REDIS_URL", "rediss://:pw@redis.internal:6380/2")]).unwrap();
        assert_eq!(good.redis_url.unwrap().expose_secret(), "rediss://:pw@redis.internal:6380/2");
    }

    #[test]
    fn a_short_confirm_key_is_refused_with_how_to_make_one() {
        let e = load(&[("JIRA_MCP_CONFIRM_KEY", "too-short-key")]).unwrap_err().to_string();
        assert_eq!(
            e,
            "JIRA_MCP_CONFIRM_KEY is invalid: the key is 13 bytes; use at least 32 random bytes, e.g. the output of \
             `openssl rand -hex 32`, the same on every replica (see README.md#configuration)"
        );
        let key = "0123456789abcdef0123456789abcdef";
        assert_eq!(load(&[("JIRA_MCP_CONFIRM_KEY", key)]).unwrap().confirm_key.unwrap().expose_secret(), key);
    }

    #[test]
    fn the_confirm_key_and_url_can_come_from_files() {
        let dir = std::env::temp_dir().join(format!("jira-mcp-fleet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("key");
        std::fs::write(&key, "  0123456789abcdef0123456789abcdef0123\n").unwrap();
        let url = dir.join("url");
        std::fs::write(&url, "redis://127.0.0.1:6379\n").unwrap();
        let c = load(&[
            ("JIRA_MCP_CONFIRM_KEY_FILE", key.to_str().unwrap()),
            ("JIRA_MCP_REDIS_URL_FILE", url.to_str().unwrap()),
        ])
        .unwrap();
        assert_eq!(c.confirm_key.unwrap().expose_secret(), "0123456789abcdef0123456789abcdef0123");
        assert_eq!(c.redis_url.unwrap().expose_secret(), "redis://127.0.0.1:6379");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replicas_and_fleet_slots_are_bounded_numbers() {
        let c = load(&[("JIRA_MCP_FLEET_REPLICAS", "3"), ("JIRA_MCP_SANDBOX_FLEET_CONCURRENCY", "8")]).unwrap();
        assert_eq!((c.replicas.get(), c.sandbox_slots.map(NonZeroU32::get)), (3, Some(8)));
        let e = load(&[("JIRA_MCP_FLEET_REPLICAS", "0")]).unwrap_err().to_string();
        assert!(e.contains("\"0\" is not a whole number from 1 to 1000"), "{e}");
    }
}
