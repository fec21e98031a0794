//! Settings of the streamable HTTP transport: address, bearer tokens, allow-lists, limits.

use std::{net::SocketAddr, time::Duration};

use secrecy::SecretString;

use super::env::{Env, Error};
use crate::limits::Bounds;

/// Shortest bearer token accepted: 32 characters (e.g. `openssl rand -hex 32` gives 64).
const MIN_TOKEN_LEN: usize = 32;
/// Address when neither `--http ADDR` nor `JIRA_MCP_HTTP_ADDR` names one.
const DEFAULT_ADDR: &str = "127.0.0.1:8808";
/// Largest request body (`JIRA_MCP_HTTP_MAX_BODY_BYTES`).
const MAX_BODY_BYTES: Bounds = Bounds { min: 1024, max: 64 * 1024 * 1024, default: 1024 * 1024 };
/// Concurrent MCP sessions (`JIRA_MCP_HTTP_MAX_SESSIONS`).
const MAX_SESSIONS: Bounds = Bounds { min: 1, max: 100_000, default: 64 };
/// Seconds an idle session lives (`JIRA_MCP_HTTP_SESSION_IDLE_SECS`).
const SESSION_IDLE_SECS: Bounds = Bounds { min: 1, max: 86_400, default: 300 };
/// Seconds of silence after which a session may be evicted at the cap (`JIRA_MCP_HTTP_SESSION_EVICT_SECS`).
const SESSION_EVICT_SECS: Bounds = Bounds { min: 1, max: 86_400, default: 60 };

/// Settings of the HTTP transport.
#[derive(Clone)]
pub struct HttpConfig {
    /// Address to bind; loopback by default.
    pub addr: SocketAddr,
    /// Accepted bearer tokens; several allow rotation without downtime.
    pub tokens: Vec<SecretString>,
    /// Host header values accepted (DNS-rebinding protection).
    pub allowed_hosts: Vec<String>,
    /// Origin header values accepted when present (`http://localhost:*` style).
    pub allowed_origins: Vec<String>,
    /// Largest request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Most concurrent MCP sessions; initialize beyond it gets 503.
    pub max_sessions: usize,
    /// A session idle this long is closed.
    pub session_idle: Duration,
    /// At the cap, the least recently used session silent this long is closed to make
    /// room (clients that vanish without DELETE would otherwise hold a slot until
    /// `session_idle`).
    pub session_evictable_after: Duration,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("addr", &self.addr)
            .field("tokens", &format!("{} token(s), redacted", self.tokens.len()))
            .field("allowed_hosts", &self.allowed_hosts)
            .field("allowed_origins", &self.allowed_origins)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_sessions", &self.max_sessions)
            .field("session_idle", &self.session_idle)
            .field("session_evictable_after", &self.session_evictable_after)
            .finish()
    }
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

impl HttpConfig {
    /// Reads the `JIRA_MCP_HTTP_*` variables; `addr` is the `--http ADDR` flag's value
    /// (empty or absent: `JIRA_MCP_HTTP_ADDR`, else 127.0.0.1:8808).
    ///
    /// # Errors
    /// A missing or short token, an unreadable token file, or a malformed value.
    pub fn from_env(addr: Option<&str>, env: &Env<'_>) -> Result<Self, Error> {
        let raw_addr = addr
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .or_else(|| env.get("JIRA_MCP_HTTP_ADDR"))
            .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr: SocketAddr = raw_addr.parse().map_err(|_| Error::Invalid {
            var: "JIRA_MCP_HTTP_ADDR",
            problem: format!("{raw_addr:?} is not an address like {DEFAULT_ADDR}"),
        })?;
        let mut tokens: Vec<String> = env.get("JIRA_MCP_HTTP_TOKEN").map(|t| split_list(&t)).unwrap_or_default();
        if let Some(text) = env.file("JIRA_MCP_HTTP_TOKEN_FILE")? {
            // One token per line; blank lines and # comments are ignored.
            tokens.extend(
                text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned),
            );
        }
        if tokens.is_empty() {
            return Err(Error::Missing {
                var: "JIRA_MCP_HTTP_TOKEN",
                hint: "HTTP mode needs a bearer token; generate one with `openssl rand -hex 32` and set \
                       JIRA_MCP_HTTP_TOKEN (or JIRA_MCP_HTTP_TOKEN_FILE)",
            });
        }
        if let Some(short) = tokens.iter().find(|t| t.chars().count() < MIN_TOKEN_LEN) {
            return Err(Error::Invalid {
                var: "JIRA_MCP_HTTP_TOKEN",
                problem: format!(
                    "a token is {} characters; each must be at least {MIN_TOKEN_LEN} (use `openssl rand -hex 32`)",
                    short.chars().count()
                ),
            });
        }
        let mut allowed_hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
        if let Some(extra) = env.get("JIRA_MCP_HTTP_ALLOWED_HOSTS") {
            allowed_hosts.extend(split_list(&extra));
        }
        let allowed_origins = env.get("JIRA_MCP_HTTP_ALLOWED_ORIGINS").map(|o| split_list(&o)).unwrap_or_else(|| {
            ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"].map(str::to_owned).to_vec()
        });
        let secs = |var, bounds| env.number(var, bounds).map(|s| Duration::from_secs(u64::from(s)));
        Ok(Self {
            addr,
            tokens: tokens.into_iter().map(SecretString::from).collect(),
            allowed_hosts,
            allowed_origins,
            max_body_bytes: env.number("JIRA_MCP_HTTP_MAX_BODY_BYTES", MAX_BODY_BYTES)? as usize,
            max_sessions: env.number("JIRA_MCP_HTTP_MAX_SESSIONS", MAX_SESSIONS)? as usize,
            session_idle: secs("JIRA_MCP_HTTP_SESSION_IDLE_SECS", SESSION_IDLE_SECS)?,
            session_evictable_after: secs("JIRA_MCP_HTTP_SESSION_EVICT_SECS", SESSION_EVICT_SECS)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{super::tests::with_env, *};

    fn load(vars: &[(&str, &str)]) -> Result<HttpConfig, Error> {
        with_env(vars, |env| HttpConfig::from_env(None, env))
    }

    const GOOD: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn token_is_required_and_must_be_long() {
        assert!(
            load(&[]).unwrap_err().to_string().starts_with("JIRA_MCP_HTTP_TOKEN is not set: HTTP mode needs a bearer")
        );
        let err = load(&[("JIRA_MCP_HTTP_TOKEN", "short")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "JIRA_MCP_HTTP_TOKEN is invalid: a token is 5 characters; each must be at least 32 (use `openssl rand -hex 32`) (see README.md#http-transport)"
        );
        let ok = load(&[("JIRA_MCP_HTTP_TOKEN", GOOD)]).unwrap();
        assert_eq!(ok.addr.to_string(), DEFAULT_ADDR);
        assert!(!format!("{ok:?}").contains(GOOD), "tokens never in Debug");
    }

    #[test]
    fn several_tokens_allow_rotation() {
        let two = format!("{GOOD},{GOOD}ff");
        let config = load(&[("JIRA_MCP_HTTP_TOKEN", &two)]).unwrap();
        assert_eq!(config.tokens.len(), 2);
    }

    #[test]
    fn token_file_holds_one_token_per_line() {
        let path = std::env::temp_dir().join(format!("jira-mcp-token-{}", std::process::id()));
        std::fs::write(&path, format!("# rotated 2026-11\n{GOOD}\n\n{GOOD}00\n")).unwrap();
        let config = load(&[("JIRA_MCP_HTTP_TOKEN_FILE", path.to_str().unwrap())]).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(config.tokens.len(), 2);
    }

    #[test]
    fn flag_address_wins_and_numbers_are_bounded() {
        let config = with_env(&[("JIRA_MCP_HTTP_TOKEN", GOOD), ("JIRA_MCP_HTTP_ADDR", "127.0.0.1:1")], |env| {
            HttpConfig::from_env(Some("127.0.0.1:2"), env)
        })
        .unwrap();
        assert_eq!(config.addr.port(), 2);
        let err = load(&[("JIRA_MCP_HTTP_TOKEN", GOOD), ("JIRA_MCP_HTTP_MAX_SESSIONS", "0")]).unwrap_err();
        assert!(err.to_string().starts_with("JIRA_MCP_HTTP_MAX_SESSIONS is invalid: \"0\" is not a whole number"));
    }
}
