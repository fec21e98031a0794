//! Jira connection settings: site URL, credentials, rate limit, timeouts.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use secrecy::SecretString;

use super::env::{Env, Error};
use crate::limits::Bounds;

/// How requests authenticate against Jira.
///
/// `Bearer` is the seam for Server/Data Center personal access tokens; the
/// config refuses it today because this server speaks Cloud REST v3 only.
#[derive(Clone)]
pub enum Auth {
    /// Jira Cloud: account email + API token as HTTP Basic.
    Basic {
        /// The Atlassian account email.
        email: String,
        /// The API token; never printed.
        token: SecretString,
    },
    /// A bearer token (Server/Data Center PAT, or the built-in emulator).
    Bearer(SecretString),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { email, .. } => {
                f.debug_struct("Basic").field("email", email).field("token", &"[REDACTED]").finish()
            }
            Self::Bearer(_) => f.write_str("Bearer([REDACTED])"),
        }
    }
}

/// Jira connection settings.
#[derive(Debug, Clone)]
pub struct JiraConfig {
    /// Base URL of the REST API, without a trailing slash: the site, or for scoped
    /// API tokens `https://api.atlassian.com/ex/jira/{cloudId}`.
    pub base_url: String,
    /// The site people open in a browser (`…/browse/KEY` links), when it differs from
    /// `base_url` (scoped tokens); `None` means `base_url`.
    pub site_url: Option<String>,
    /// Credentials.
    pub auth: Auth,
    /// Sustained requests per second allowed towards Jira.
    pub rate_per_second: NonZeroU32,
    /// Requests allowed in a burst above the sustained rate.
    pub burst: NonZeroU32,
    /// Total timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Longest one tool call keeps retrying Jira (waits, backoffs and retried attempts).
    pub retry_budget: Duration,
    /// Most bytes read from one Jira answer; a bigger one is refused as oversized.
    pub max_response_bytes: u64,
}

/// Sustained rate towards Jira (`JIRA_MCP_RATE_LIMIT`), requests per second.
const RATE: Bounds = Bounds { min: 1, max: 1000, default: 10 };
/// Burst above the sustained rate (`JIRA_MCP_RATE_BURST`). Unset, it is the
/// smaller of this default and the rate: never more than one second's worth.
const BURST: Bounds = Bounds { min: 1, max: 1000, default: 5 };
/// Seconds one request to Jira may take (`JIRA_MCP_REQUEST_TIMEOUT_SECS`).
const REQUEST_TIMEOUT_SECS: Bounds = Bounds { min: 1, max: 300, default: 30 };
/// Seconds one tool call may keep retrying Jira (`JIRA_MCP_RETRY_BUDGET_SECS`): no
/// retry starts, and no retried attempt runs, past it. A hung Jira costs at most
/// the first request's timeout plus this, instead of four timeouts.
const RETRY_BUDGET_SECS: Bounds = Bounds { min: 0, max: 600, default: 30 };
/// MiB read from one Jira answer at most (`JIRA_MCP_MAX_RESPONSE_MB`). The largest
/// answers the tools ask for (100 issues with fields, an issue with 50 comments)
/// stay far below the default; raise it only for unusually large fields.
const MAX_RESPONSE_MB: Bounds = Bounds { min: 1, max: 1024, default: 32 };

/// The demo account's email: the built-in emulator accepts it, and `demo` uses it.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The demo API token. Not a secret: it opens only the local emulator.
pub const DEMO_TOKEN: &str = "demo-token";

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl JiraConfig {
    /// Reads `JIRA_URL`, `JIRA_USERNAME`, `JIRA_API_TOKEN` (or `_FILE`) and the limits.
    ///
    /// # Errors
    /// The first missing or malformed variable.
    pub fn from_env(env: &Env<'_>) -> Result<Self, Error> {
        if env.get("JIRA_PERSONAL_TOKEN").is_some() {
            return Err(Error::Invalid {
                var: "JIRA_PERSONAL_TOKEN",
                problem: "Server/Data Center personal access tokens are not supported yet; this \
                          server speaks Jira Cloud REST v3. Unset it and set JIRA_USERNAME and \
                          JIRA_API_TOKEN"
                    .to_owned(),
            });
        }
        let base_url = parse_jira_url(env.get("JIRA_URL"))?;
        let site_url = site_url(&base_url, env)?;
        let email = env.get("JIRA_USERNAME").ok_or(Error::Missing {
            var: "JIRA_USERNAME",
            hint: "set it to the email address of your Atlassian account",
        })?;
        if !email.contains('@') {
            return Err(Error::Invalid {
                var: "JIRA_USERNAME",
                problem: format!(
                    "{email:?} is not an email address; Jira Cloud API tokens belong to the \
                     account email"
                ),
            });
        }
        let token = read_token(env)?;
        let rate = env.number("JIRA_MCP_RATE_LIMIT", RATE)?;
        let burst = match env.get("JIRA_MCP_RATE_BURST") {
            Some(_) => env.number("JIRA_MCP_RATE_BURST", BURST)?,
            None => BURST.default.min(rate),
        };
        Ok(Self {
            base_url,
            site_url,
            auth: Auth::Basic { email, token },
            rate_per_second: nonzero(rate),
            burst: nonzero(burst),
            request_timeout: Duration::from_secs(u64::from(
                env.number("JIRA_MCP_REQUEST_TIMEOUT_SECS", REQUEST_TIMEOUT_SECS)?,
            )),
            retry_budget: Duration::from_secs(u64::from(env.number("JIRA_MCP_RETRY_BUDGET_SECS", RETRY_BUDGET_SECS)?)),
            max_response_bytes: u64::from(env.number("JIRA_MCP_MAX_RESPONSE_MB", MAX_RESPONSE_MB)?) * 1024 * 1024,
        })
    }

    /// The built-in emulator at `base_url` (`demo` fills it in once the emulator
    /// listens), with the demo account and a rate limit that never gets in the way.
    #[must_use]
    pub fn demo(base_url: String) -> Self {
        Self {
            base_url,
            site_url: None,
            auth: Auth::Basic { email: DEMO_EMAIL.to_owned(), token: SecretString::from(DEMO_TOKEN) },
            rate_per_second: nonzero(RATE.max),
            burst: nonzero(100),
            request_timeout: Duration::from_secs(u64::from(REQUEST_TIMEOUT_SECS.default)),
            retry_budget: Duration::from_secs(u64::from(RETRY_BUDGET_SECS.default)),
            max_response_bytes: u64::from(MAX_RESPONSE_MB.default) * 1024 * 1024,
        }
    }
}

/// Atlassian's API gateway, used with scoped API tokens: `https://api.atlassian.com/ex/jira/{cloudId}`.
const GATEWAY_HOST: &str = "api.atlassian.com";

/// The site for browse links: `JIRA_SITE_URL`, required when `JIRA_URL` is the API
/// gateway (scoped tokens), whose host is not the site people open.
fn site_url(base_url: &str, env: &Env<'_>) -> Result<Option<String>, Error> {
    let gateway = url::Url::parse(base_url).ok().filter(|u| u.host_str() == Some(GATEWAY_HOST));
    if let Some(url) = &gateway {
        let cloud_id = url.path().strip_prefix("/ex/jira/").unwrap_or_default();
        if uuid::Uuid::parse_str(cloud_id).is_err() {
            return Err(Error::Invalid {
                var: "JIRA_URL",
                problem: format!(
                    "{base_url:?} is on Atlassian's API gateway but is not https://{GATEWAY_HOST}/ex/jira/<cloudId> \
                     (the cloud id is a UUID: open https://your-site.atlassian.net/_edge/tenant_info)"
                ),
            });
        }
    }
    match env.get("JIRA_SITE_URL") {
        Some(raw) => {
            let site = parse_jira_url(Some(raw)).map_err(|e| match e {
                Error::Invalid { problem, .. } => Error::Invalid { var: "JIRA_SITE_URL", problem },
                other => other,
            })?;
            if site.contains(GATEWAY_HOST) {
                return Err(Error::Invalid {
                    var: "JIRA_SITE_URL",
                    problem: "give the site people open, e.g. https://your-site.atlassian.net, not the API gateway"
                        .to_owned(),
                });
            }
            Ok(Some(site))
        }
        None if gateway.is_some() => Err(Error::Missing {
            var: "JIRA_SITE_URL",
            hint: "JIRA_URL is Atlassian's API gateway (scoped API tokens); set JIRA_SITE_URL to your site, e.g. \
                   https://your-site.atlassian.net, for the links to issues",
        }),
        None => Ok(None),
    }
}

impl JiraConfig {
    /// The site for browse links.
    #[must_use]
    pub fn site(&self) -> &str {
        self.site_url.as_deref().unwrap_or(&self.base_url)
    }
}

fn read_token(env: &Env<'_>) -> Result<SecretString, Error> {
    if let Some(token) = env.get("JIRA_API_TOKEN") {
        return Ok(SecretString::from(token));
    }
    if let Some(text) = env.file("JIRA_API_TOKEN_FILE")? {
        let token = text.trim();
        if token.is_empty() {
            let path = env.get("JIRA_API_TOKEN_FILE").unwrap_or_default();
            return Err(Error::Invalid {
                var: "JIRA_API_TOKEN_FILE",
                problem: format!("{path} is empty; put the API token in it"),
            });
        }
        return Ok(SecretString::from(token.to_owned()));
    }
    Err(Error::Missing {
        var: "JIRA_API_TOKEN",
        hint: "create an API token at https://id.atlassian.com/manage-profile/security/api-tokens \
               and set it (or JIRA_API_TOKEN_FILE)",
    })
}

fn parse_jira_url(raw: Option<String>) -> Result<String, Error> {
    let raw = raw
        .ok_or(Error::Missing { var: "JIRA_URL", hint: "set it to your site, e.g. https://your-site.atlassian.net" })?;
    let invalid = |problem: String| Error::Invalid { var: "JIRA_URL", problem };
    let url = url::Url::parse(&raw)
        .map_err(|e| invalid(format!("{raw:?} is not a URL ({e}); expected e.g. https://your-site.atlassian.net")))?;
    let host = url.host_str().unwrap_or_default();
    let loopback =
        host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        // Plain HTTP only to this machine (the emulator, tests); never send a token in clear text.
        "http" if loopback => {}
        other => {
            return Err(invalid(format!(
                "scheme {other:?} is not allowed; use https://your-site.atlassian.net \
                 (plain http only for localhost)"
            )));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Never echo it: the value holds a credential.
        return Err(invalid(
            "it contains a user name or password; give only the site (https://your-site.atlassian.net) and put the \
             credentials in JIRA_USERNAME and JIRA_API_TOKEN"
                .to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("remove the query string and fragment".to_owned()));
    }
    if url.path().contains("/rest/") {
        return Err(invalid(format!(
            "{raw:?} includes a REST path; give only the site, e.g. https://your-site.atlassian.net"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::{
        super::tests::{GOOD, with_env},
        *,
    };

    fn load(vars: &[(&str, &str)]) -> Result<JiraConfig, Error> {
        with_env(vars, JiraConfig::from_env)
    }

    #[test]
    fn valid_cloud_config_uses_defaults() {
        let config = load(&GOOD).unwrap();
        assert_eq!(config.base_url, "https://example.atlassian.net");
        assert_eq!(config.rate_per_second.get(), RATE.default);
        let Auth::Basic { email, token } = &config.auth else { panic!("basic auth") };
        assert_eq!(email, "me@example.com");
        assert_eq!(token.expose_secret(), "tok-123");
    }

    #[test]
    fn default_burst_never_exceeds_one_seconds_worth_of_the_rate() {
        // See issue 9 item 7: JIRA_MCP_RATE_LIMIT=2 with the default burst let 7 requests through in one second.
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_MCP_RATE_LIMIT", "2"));
        let config = load(&vars).unwrap();
        assert_eq!(config.burst.get(), 2, "default burst capped at the rate");
        assert_eq!(load(&GOOD).unwrap().burst.get(), BURST.default, "rate 10: the default burst of 5 stands");
        vars.push(("JIRA_MCP_RATE_BURST", "4"));
        assert_eq!(load(&vars).unwrap().burst.get(), 4, "an explicit burst is kept");
    }

    #[test]
    fn response_cap_and_retry_budget_are_read_with_sane_defaults() {
        let config = load(&GOOD).unwrap();
        assert_eq!(config.max_response_bytes, 32 * 1024 * 1024);
        assert_eq!(config.retry_budget, Duration::from_secs(30));
        let mut vars = GOOD.to_vec();
        vars.extend([("JIRA_MCP_MAX_RESPONSE_MB", "2"), ("JIRA_MCP_RETRY_BUDGET_SECS", "5")]);
        let config = load(&vars).unwrap();
        assert_eq!(config.max_response_bytes, 2 * 1024 * 1024);
        assert_eq!(config.retry_budget, Duration::from_secs(5));
        let err = with_env(&[GOOD[0], GOOD[1], GOOD[2], ("JIRA_MCP_MAX_RESPONSE_MB", "0")], JiraConfig::from_env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("JIRA_MCP_MAX_RESPONSE_MB"), "{err}");
    }

    #[test]
    fn missing_url_names_the_variable_and_the_readme() {
        let err = load(&GOOD[1..]).unwrap_err().to_string();
        assert_eq!(
            err,
            "JIRA_URL is not set: set it to your site, e.g. https://your-site.atlassian.net \
             (see README.md#configuration)"
        );
    }

    #[test]
    fn missing_token_says_where_to_create_one() {
        let err = load(&GOOD[..2]).unwrap_err().to_string();
        assert!(err.starts_with("JIRA_API_TOKEN is not set: create an API token at https://id.atlassian.com"));
    }

    #[test]
    fn token_file_is_read_and_trimmed() {
        let path = std::env::temp_dir().join(format!("jira-mcp-api-token-{}", std::process::id()));
        std::fs::write(&path, "  tok-from-file\n").unwrap();
        let config = load(&[GOOD[0], GOOD[1], ("JIRA_API_TOKEN_FILE", path.to_str().unwrap())]).unwrap();
        std::fs::write(&path, "\n").unwrap();
        let empty = load(&[GOOD[0], GOOD[1], ("JIRA_API_TOKEN_FILE", path.to_str().unwrap())]).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        let Auth::Basic { token, .. } = &config.auth else { panic!("basic auth") };
        assert_eq!(token.expose_secret(), "tok-from-file");
        assert!(empty.to_string().contains("is empty; put the API token in it"), "{empty}");
    }

    #[test]
    fn plain_http_is_refused_for_remote_hosts() {
        let err = load(&[GOOD[1], GOOD[2], ("JIRA_URL", "http://example.atlassian.net")]).unwrap_err();
        assert!(err.to_string().contains("scheme \"http\" is not allowed"), "{err}");
        assert!(load(&[GOOD[1], GOOD[2], ("JIRA_URL", "http://127.0.0.1:9999")]).is_ok());
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_echoing_them() {
        let err =
            load(&[GOOD[1], GOOD[2], ("JIRA_URL", "https://bot:SECRETPW@x.atlassian.net")]).unwrap_err().to_string();
        assert!(err.contains("contains a user name or password"), "{err}");
        assert!(!err.contains("SECRETPW"), "{err}");
    }

    #[test]
    fn rest_path_in_url_is_refused() {
        let err = load(&[GOOD[1], GOOD[2], ("JIRA_URL", "https://x.atlassian.net/rest/api/3")]).unwrap_err();
        assert!(err.to_string().contains("includes a REST path"), "{err}");
    }

    #[test]
    fn username_must_be_an_email() {
        let err = load(&[GOOD[0], GOOD[2], ("JIRA_USERNAME", "bob")]).unwrap_err();
        assert!(err.to_string().starts_with("JIRA_USERNAME is invalid: \"bob\" is not an email"));
    }

    #[test]
    fn personal_token_is_refused_with_a_next_step() {
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_PERSONAL_TOKEN", "pat"));
        assert!(load(&vars).unwrap_err().to_string().contains("set JIRA_USERNAME and JIRA_API_TOKEN"));
    }

    #[test]
    fn scoped_tokens_use_the_gateway_and_links_point_at_the_site() {
        let gateway = "https://api.atlassian.com/ex/jira/11223344-5566-7788-99aa-bbccddeeff00";
        let config =
            load(&[GOOD[1], GOOD[2], ("JIRA_URL", gateway), ("JIRA_SITE_URL", "https://example.atlassian.net/")])
                .unwrap();
        assert_eq!(config.base_url, gateway, "requests go to the gateway");
        assert_eq!(config.site(), "https://example.atlassian.net", "links point at the site");
        let err = load(&[GOOD[1], GOOD[2], ("JIRA_URL", gateway)]).unwrap_err().to_string();
        assert!(err.starts_with("JIRA_SITE_URL is not set: JIRA_URL is Atlassian's API gateway"), "{err}");
        let err = load(&[GOOD[1], GOOD[2], ("JIRA_URL", "https://api.atlassian.com/ex/jira/not-an-id")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not https://api.atlassian.com/ex/jira/<cloudId>"), "{err}");
        let err = load(&[GOOD[1], GOOD[2], ("JIRA_URL", gateway), ("JIRA_SITE_URL", gateway)]).unwrap_err().to_string();
        assert!(err.contains("not the API gateway"), "{err}");
        // A site URL is its own site.
        assert_eq!(load(&GOOD).unwrap().site(), "https://example.atlassian.net");
    }

    #[test]
    fn debug_output_never_contains_the_token() {
        let config = load(&GOOD).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("tok-123"), "{debug}");
        assert!(debug.contains("REDACTED"));
    }
}
