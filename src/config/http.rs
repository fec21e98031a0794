//! Settings of the streamable HTTP transport: address, bearer tokens, allow-lists, limits.

use std::{net::SocketAddr, time::Duration};

use secrecy::{ExposeSecret, SecretString};

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
/// Open TCP connections (`JIRA_MCP_HTTP_MAX_CONNECTIONS`). The default stays well below the
/// common file limit of 1,024, so the process never runs out of descriptors.
const MAX_CONNECTIONS: Bounds = Bounds { min: 8, max: 100_000, default: 512 };
/// Seconds a client has to send a complete request head (`JIRA_MCP_HTTP_HEADER_TIMEOUT_SECS`).
const HEADER_TIMEOUT_SECS: Bounds = Bounds { min: 1, max: 300, default: 10 };
/// Seconds a connection may sit with no request in flight (`JIRA_MCP_HTTP_IDLE_TIMEOUT_SECS`).
const IDLE_TIMEOUT_SECS: Bounds = Bounds { min: 1, max: 3600, default: 60 };
/// Requests one token may have in flight at once (`JIRA_MCP_HTTP_MAX_IN_FLIGHT_PER_TOKEN`);
/// the whole server serves at most [`MAX_IN_FLIGHT`].
const MAX_IN_FLIGHT_PER_TOKEN: Bounds = Bounds { min: 1, max: 512, default: 64 };
/// Most requests the whole server serves at once (SSE streams included); more get 503.
pub const MAX_IN_FLIGHT: usize = 512;
/// Seconds between SIGTERM and closing the listener, while `/readyz` already says
/// `draining` and requests are still served (`JIRA_MCP_HTTP_DRAIN_DELAY_SECS`): time for a
/// load balancer to see the replica unready.
const DRAIN_DELAY_SECS: Bounds = Bounds { min: 0, max: 120, default: 5 };
/// Seconds in-flight calls get to finish once the listener is closed (`JIRA_MCP_HTTP_DRAIN_SECS`);
/// delay + drain stay below Kubernetes' default 30 s `terminationGracePeriodSeconds` (killing
/// run_python sandboxes may add up to 10 s: docs/http-fleet.md).
const DRAIN_SECS: Bounds = Bounds { min: 0, max: 600, default: 20 };

/// What a bearer token may do: its tools and, optionally, its projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolScope {
    /// Every tool the server offers.
    All,
    /// Only tools that promise not to change Jira (readOnlyHint = true).
    ReadOnly,
    /// Only these tools (by name).
    Tools(Vec<String>),
}

/// The scope of one token (`JIRA_MCP_HTTP_TOKEN_FILE` lines `name:scope:token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenScope {
    /// Which tools the token may list and call.
    pub tools: ToolScope,
    /// The projects this token is limited to, within the server's own allow-list;
    /// `None`: no limit beyond the server's.
    pub projects: Option<Vec<String>>,
}

impl TokenScope {
    /// Every tool, every project: the scope of tokens without one.
    #[must_use]
    pub const fn full() -> Self {
        Self { tools: ToolScope::All, projects: None }
    }
}

/// One accepted bearer token with the name the logs and the audit log use.
#[derive(Clone)]
pub struct BearerToken {
    /// Who holds it (`[A-Za-z0-9_.-]`, at most 64 characters); never secret.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// The token itself.
    pub secret: SecretString,
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerToken").field("name", &self.name).field("scope", &self.scope).finish_non_exhaustive()
    }
}

/// Settings of the HTTP transport.
#[derive(Clone)]
pub struct HttpConfig {
    /// Address to bind; loopback by default.
    pub addr: SocketAddr,
    /// Accepted bearer tokens; several allow rotation without downtime.
    pub tokens: Vec<BearerToken>,
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
    /// Most open connections; at the cap the longest-idle connection without a
    /// request in flight is closed to make room (before any authentication).
    pub max_connections: usize,
    /// A connection that has not sent a complete request head this long is closed.
    pub header_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout: Duration,
    /// Requests one token may have in flight; more get 429.
    pub max_in_flight_per_token: usize,
    /// After SIGTERM, how long `/readyz` says `draining` while requests are still served.
    pub drain_delay: Duration,
    /// Then, how long in-flight calls may take before they are cancelled.
    pub drain: Duration,
    /// Stateless streamable HTTP (no `Mcp-Session-Id`, JSON replies): any replica answers any request.
    pub stateless: bool,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("addr", &self.addr)
            .field("tokens", &self.tokens)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("allowed_origins", &self.allowed_origins)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_sessions", &self.max_sessions)
            .field("session_idle", &self.session_idle)
            .field("session_evictable_after", &self.session_evictable_after)
            .field("max_connections", &self.max_connections)
            .field("header_timeout", &self.header_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_in_flight_per_token", &self.max_in_flight_per_token)
            .field("drain_delay", &self.drain_delay)
            .field("drain", &self.drain)
            .field("stateless", &self.stateless)
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
        let mut tokens: Vec<BearerToken> = Vec::new();
        for (i, secret) in
            env.get("JIRA_MCP_HTTP_TOKEN").map(|t| split_list(&t)).unwrap_or_default().into_iter().enumerate()
        {
            tokens.push(BearerToken {
                name: format!("token-{}", i + 1),
                scope: TokenScope::full(),
                secret: secret.into(),
            });
        }
        if let Some(text) = env.file("JIRA_MCP_HTTP_TOKEN_FILE")? {
            for (n, line) in text.lines().map(str::trim).enumerate() {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                tokens.push(token_line(line).map_err(|problem| Error::Invalid {
                    var: "JIRA_MCP_HTTP_TOKEN_FILE",
                    problem: format!("line {}: {problem}", n + 1),
                })?);
            }
        }
        if tokens.is_empty() {
            return Err(Error::Missing {
                var: "JIRA_MCP_HTTP_TOKEN",
                hint: "HTTP mode needs a bearer token; generate one with `openssl rand -hex 32` and set \
                       JIRA_MCP_HTTP_TOKEN (or JIRA_MCP_HTTP_TOKEN_FILE)",
            });
        }
        if let Some(short) = tokens.iter().find(|t| t.secret.expose_secret().chars().count() < MIN_TOKEN_LEN) {
            return Err(Error::Invalid {
                var: "JIRA_MCP_HTTP_TOKEN",
                problem: format!(
                    "a token ({}) is {} characters; each must be at least {MIN_TOKEN_LEN} (use `openssl rand -hex 32`)",
                    short.name,
                    short.secret.expose_secret().chars().count()
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
            tokens,
            allowed_hosts,
            allowed_origins,
            max_body_bytes: env.number("JIRA_MCP_HTTP_MAX_BODY_BYTES", MAX_BODY_BYTES)? as usize,
            max_sessions: env.number("JIRA_MCP_HTTP_MAX_SESSIONS", MAX_SESSIONS)? as usize,
            session_idle: secs("JIRA_MCP_HTTP_SESSION_IDLE_SECS", SESSION_IDLE_SECS)?,
            session_evictable_after: secs("JIRA_MCP_HTTP_SESSION_EVICT_SECS", SESSION_EVICT_SECS)?,
            max_connections: env.number("JIRA_MCP_HTTP_MAX_CONNECTIONS", MAX_CONNECTIONS)? as usize,
            header_timeout: secs("JIRA_MCP_HTTP_HEADER_TIMEOUT_SECS", HEADER_TIMEOUT_SECS)?,
            idle_timeout: secs("JIRA_MCP_HTTP_IDLE_TIMEOUT_SECS", IDLE_TIMEOUT_SECS)?,
            max_in_flight_per_token: env.number("JIRA_MCP_HTTP_MAX_IN_FLIGHT_PER_TOKEN", MAX_IN_FLIGHT_PER_TOKEN)?
                as usize,
            drain_delay: secs("JIRA_MCP_HTTP_DRAIN_DELAY_SECS", DRAIN_DELAY_SECS)?,
            drain: secs("JIRA_MCP_HTTP_DRAIN_SECS", DRAIN_SECS)?,
            stateless: env.flag("JIRA_MCP_HTTP_STATELESS", false)?,
        })
    }
}

/// One line of the token file: `name:scope:token`, or a bare token (full scope,
/// named after its line). Scopes: `all`, `read-only`, `tools=a,b`, each optionally
/// followed by `;projects=KEY,KEY`.
fn token_line(line: &str) -> Result<BearerToken, String> {
    let mut parts = line.splitn(3, ':');
    let (Some(first), Some(scope), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(BearerToken { name: "file-token".to_owned(), scope: TokenScope::full(), secret: line.into() });
    };
    let name = first.trim();
    if name.is_empty()
        || name.len() > 64
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(format!("the name {name:?} must be 1-64 characters of A-Z a-z 0-9 _ . -"));
    }
    Ok(BearerToken { name: name.to_owned(), scope: parse_scope(scope.trim())?, secret: secret.trim().into() })
}

/// `all` | `read-only` | `tools=a,b`, then optionally `;projects=A,B`.
fn parse_scope(raw: &str) -> Result<TokenScope, String> {
    let (tools, projects) = match raw.split_once(';') {
        Some((tools, rest)) => {
            let list = rest.trim().strip_prefix("projects=").ok_or_else(|| {
                format!(
                    "after ';' the scope takes projects=KEY,KEY, not {:?}",
                    rest.chars().take(40).collect::<String>()
                )
            })?;
            (tools.trim(), Some(names(list, |b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_', "project")?))
        }
        None => (raw, None),
    };
    let tools = match tools {
        "all" => ToolScope::All,
        "read-only" => ToolScope::ReadOnly,
        other => match other.strip_prefix("tools=") {
            Some(list) => {
                ToolScope::Tools(names(list, |b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_', "tool")?)
            }
            None => {
                return Err(format!(
                    "the scope {:?} is not one of all, read-only, tools=NAME,NAME (optionally ;projects=KEY,KEY)",
                    other.chars().take(40).collect::<String>()
                ));
            }
        },
    };
    Ok(TokenScope { tools, projects })
}

/// A non-empty comma list of names made of `allowed` bytes.
fn names(list: &str, allowed: impl Fn(u8) -> bool, what: &str) -> Result<Vec<String>, String> {
    let out: Vec<String> = list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if out.is_empty() {
        return Err(format!("the {what} list is empty"));
    }
    match out.iter().find(|n| n.len() > 64 || !n.bytes().all(&allowed)) {
        Some(bad) => Err(format!("{bad:?} is not a {what} name")),
        None => Ok(out),
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
            "JIRA_MCP_HTTP_TOKEN is invalid: a token (token-1) is 5 characters; each must be at least 32 (use `openssl rand -hex 32`) (see README.md#http-transport)"
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
        assert!(config.tokens.iter().all(|t| t.scope == TokenScope::full()), "bare tokens keep full scope");
    }

    fn file_tokens(text: &str) -> Result<Vec<BearerToken>, Error> {
        let path = std::env::temp_dir().join(format!("jira-mcp-scoped-{}-{}", std::process::id(), text.len()));
        std::fs::write(&path, text).unwrap();
        let config = load(&[("JIRA_MCP_HTTP_TOKEN_FILE", path.to_str().unwrap())]);
        std::fs::remove_file(&path).unwrap();
        config.map(|c| c.tokens)
    }

    #[test]
    fn token_file_lines_carry_a_name_and_a_scope() {
        let tokens = file_tokens(&format!(
            "# name:scope:token\nalice:all:{GOOD}a\nbot:read-only:{GOOD}b\nci:tools=search_issues,get_issue;projects=DEMO,OPS:{GOOD}c\n"
        ))
        .unwrap();
        let summary: Vec<(&str, &TokenScope, &str)> =
            tokens.iter().map(|t| (t.name.as_str(), &t.scope, t.secret.expose_secret())).collect();
        let (a, b, c) = (format!("{GOOD}a"), format!("{GOOD}b"), format!("{GOOD}c"));
        assert_eq!(
            summary,
            [
                ("alice", &TokenScope::full(), a.as_str()),
                ("bot", &TokenScope { tools: ToolScope::ReadOnly, projects: None }, b.as_str()),
                (
                    "ci",
                    &TokenScope {
                        tools: ToolScope::Tools(vec!["search_issues".to_owned(), "get_issue".to_owned()]),
                        projects: Some(vec!["DEMO".to_owned(), "OPS".to_owned()]),
                    },
                    c.as_str()
                ),
            ]
        );
        let debug = format!("{tokens:?}");
        assert!(debug.contains("alice") && !debug.contains(GOOD), "names in Debug, never secrets: {debug}");
    }

    #[test]
    fn malformed_token_lines_name_the_line_and_the_fix() {
        let err = |text: String| file_tokens(&text).unwrap_err().to_string();
        assert_eq!(
            err(format!("ok:all:{GOOD}\nbot:write:{GOOD}\n")),
            "JIRA_MCP_HTTP_TOKEN_FILE is invalid: line 2: the scope \"write\" is not one of all, read-only, \
             tools=NAME,NAME (optionally ;projects=KEY,KEY) (see README.md#http-transport)"
        );
        assert!(err(format!("bad name:all:{GOOD}")).contains("line 1: the name \"bad name\" must be 1-64 characters"));
        assert!(err(format!("ci:tools=:{GOOD}")).contains("line 1: the tool list is empty"));
        assert!(err(format!("ci:all;projects=demo:{GOOD}")).contains("\"demo\" is not a project name"));
        assert!(
            err("ci:all:short".to_owned()).contains("a token (ci) is 5 characters"),
            "the short token is named, never shown"
        );
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
        let defaults = load(&[("JIRA_MCP_HTTP_TOKEN", GOOD)]).unwrap();
        assert_eq!(
            (defaults.max_connections, defaults.header_timeout.as_secs(), defaults.idle_timeout.as_secs()),
            (512, 10, 60)
        );
        assert_eq!(defaults.max_in_flight_per_token, 64);
        assert_eq!((defaults.drain_delay.as_secs(), defaults.drain.as_secs(), defaults.stateless), (5, 20, false));
        let fleet = load(&[
            ("JIRA_MCP_HTTP_TOKEN", GOOD),
            ("JIRA_MCP_HTTP_DRAIN_DELAY_SECS", "0"),
            ("JIRA_MCP_HTTP_DRAIN_SECS", "7"),
            ("JIRA_MCP_HTTP_STATELESS", "true"),
        ])
        .unwrap();
        assert_eq!((fleet.drain_delay.as_secs(), fleet.drain.as_secs(), fleet.stateless), (0, 7, true));
        let err = load(&[("JIRA_MCP_HTTP_TOKEN", GOOD), ("JIRA_MCP_HTTP_DRAIN_SECS", "601")]).unwrap_err();
        assert!(err.to_string().contains("from 0 to 600"), "{err}");
        let err = load(&[("JIRA_MCP_HTTP_TOKEN", GOOD), ("JIRA_MCP_HTTP_MAX_CONNECTIONS", "2")]).unwrap_err();
        assert!(err.to_string().contains("from 8 to 100000"), "{err}");
    }
}
