//! Configuration from environment variables, validated once at startup.
//!
//! `Config::from_lookup` turns raw variables into a validated [`Config`] or one
//! [`Error`] naming the variable and the fix. It never reads the environment
//! itself, so tests pass a closure; `main` passes `std::env::var`.

use std::{net::IpAddr, num::NonZeroU32, path::PathBuf, time::Duration};

use secrecy::SecretString;

/// Where the README documents every variable; error messages point there.
const README_CONFIG: &str = "README.md#configuration";

/// A configuration problem found at startup. The message names the variable
/// and what to do; `main` prints it as one line and exits non-zero.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A required variable is absent or empty.
    #[error("{var} is not set: {hint} (see {README_CONFIG})")]
    Missing {
        /// The variable name.
        var: &'static str,
        /// What the value should look like.
        hint: &'static str,
    },
    /// A variable is present but malformed.
    #[error("{var} is invalid: {problem} (see {README_CONFIG})")]
    Invalid {
        /// The variable name.
        var: &'static str,
        /// What is wrong and what would be right.
        problem: String,
    },
}

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
    /// Base URL of the site, without a trailing slash.
    pub base_url: String,
    /// Credentials.
    pub auth: Auth,
    /// Sustained requests per second allowed towards Jira.
    pub rate_per_second: NonZeroU32,
    /// Requests allowed in a burst above the sustained rate.
    pub burst: NonZeroU32,
    /// Total timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Longest `Retry-After` the client waits for inside one call before giving up.
    pub max_retry_wait: Duration,
}

/// Settings of the `run_python` sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Docker image with Python 3 (built by scripts/setup-host or Nix).
    pub image: String,
    /// Where the image came from, as reported by `doctor` (for example "nix").
    pub image_source: Option<String>,
    /// The OCI runtime; `runsc` unless a developer overrides it.
    pub runtime: String,
    /// A seccomp profile file that replaces the embedded one.
    pub seccomp_profile: Option<PathBuf>,
    /// Upper bound of the wall-clock limit of one run.
    pub max_timeout: Duration,
    /// How many containers may run at once.
    pub concurrency: usize,
    /// Where per-run data (issues.json) is written before it is mounted
    /// read-only; must be visible to dockerd. Default: the system temp dir.
    pub data_dir: Option<PathBuf>,
}

/// The validated configuration the library runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Jira connection.
    pub jira: JiraConfig,
    /// When true, every tool that writes is hidden and refused.
    pub read_only: bool,
    /// Sandbox settings.
    pub sandbox: SandboxConfig,
}

/// Default sustained rate towards Jira (requests per second).
pub const DEFAULT_RATE: u32 = 10;
/// Default burst above the sustained rate.
pub const DEFAULT_BURST: u32 = 5;
/// Default sandbox image: built by scripts/setup-host, tagged with the crate version.
pub const DEFAULT_IMAGE: &str = concat!("jira-mcp-sandbox:", env!("CARGO_PKG_VERSION"));

impl Config {
    /// Reads and validates every variable. `lookup` returns `None` for unset variables.
    ///
    /// # Errors
    /// The first missing or malformed variable, as an [`Error`] whose message
    /// names it and says how to fix it.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |var: &str| lookup(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        if get("JIRA_PERSONAL_TOKEN").is_some() {
            return Err(Error::Invalid {
                var: "JIRA_PERSONAL_TOKEN",
                problem: "Server/Data Center personal access tokens are not supported yet; this \
                          server speaks Jira Cloud REST v3. Unset it and set JIRA_USERNAME and \
                          JIRA_API_TOKEN"
                    .to_owned(),
            });
        }
        let base_url = parse_jira_url(get("JIRA_URL"))?;
        let email = get("JIRA_USERNAME").ok_or(Error::Missing {
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
        let token = read_token(&get)?;
        let mut config = Self::with_jira(JiraConfig {
            base_url,
            auth: Auth::Basic { email, token },
            rate_per_second: parse_nonzero(&get, "JIRA_MCP_RATE_LIMIT", DEFAULT_RATE, 1000)?,
            burst: parse_nonzero(&get, "JIRA_MCP_RATE_BURST", DEFAULT_BURST, 1000)?,
            request_timeout: Duration::from_secs(u64::from(
                parse_nonzero(&get, "JIRA_MCP_REQUEST_TIMEOUT_SECS", 30, 300)?.get(),
            )),
            max_retry_wait: Duration::from_secs(20),
        });
        config.apply_common(&get)?;
        Ok(config)
    }

    /// Builds a config for the given Jira connection, with defaults for the rest.
    #[must_use]
    pub fn with_jira(jira: JiraConfig) -> Self {
        Self {
            jira,
            read_only: false,
            sandbox: SandboxConfig {
                image: DEFAULT_IMAGE.to_owned(),
                image_source: None,
                runtime: "runsc".to_owned(),
                seccomp_profile: None,
                max_timeout: Duration::from_secs(30),
                concurrency: 2,
                data_dir: None,
            },
        }
    }

    /// Applies the settings that do not concern Jira credentials (read-only
    /// mode, sandbox). Used by the normal path and by `demo`, so both honour
    /// the same variables.
    ///
    /// # Errors
    /// A malformed variable, as [`Error::Invalid`].
    pub fn apply_common(&mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<(), Error> {
        if let Some(raw) = get("JIRA_MCP_READ_ONLY") {
            self.read_only = parse_bool("JIRA_MCP_READ_ONLY", &raw)?;
        }
        if let Some(image) = get("JIRA_MCP_SANDBOX_IMAGE") {
            self.sandbox.image = image;
        }
        self.sandbox.image_source = get("JIRA_MCP_IMAGE_SOURCE");
        if let Some(runtime) = get("JIRA_MCP_SANDBOX_RUNTIME") {
            self.sandbox.runtime = runtime;
        }
        self.sandbox.seccomp_profile = get("JIRA_MCP_SECCOMP_PROFILE").map(PathBuf::from);
        self.sandbox.data_dir = get("JIRA_MCP_SANDBOX_DATA_DIR").map(PathBuf::from);
        let timeout = parse_nonzero(get, "JIRA_MCP_SANDBOX_TIMEOUT_SECS", 30, 30)?;
        self.sandbox.max_timeout = Duration::from_secs(u64::from(timeout.get()));
        let concurrency = parse_nonzero(get, "JIRA_MCP_SANDBOX_CONCURRENCY", 2, 16)?;
        self.sandbox.concurrency = usize::try_from(concurrency.get()).unwrap_or(2);
        Ok(())
    }
}

fn read_token(get: &dyn Fn(&str) -> Option<String>) -> Result<SecretString, Error> {
    if let Some(token) = get("JIRA_API_TOKEN") {
        return Ok(SecretString::from(token));
    }
    // A file lets systemd's LoadCredential hand the token over without an environment variable.
    if let Some(path) = get("JIRA_API_TOKEN_FILE") {
        return match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => Ok(SecretString::from(text.trim().to_owned())),
            Ok(_) => Err(Error::Invalid {
                var: "JIRA_API_TOKEN_FILE",
                problem: format!("{path} is empty; put the API token in it"),
            }),
            Err(e) => Err(Error::Invalid { var: "JIRA_API_TOKEN_FILE", problem: format!("cannot read {path}: {e}") }),
        };
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
    let url = reqwest::Url::parse(&raw)
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

fn parse_bool(var: &'static str, raw: &str) -> Result<bool, Error> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::Invalid { var, problem: format!("{raw:?} is not a boolean; use true or false") }),
    }
}

fn parse_nonzero(
    get: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
    default: u32,
    max: u32,
) -> Result<NonZeroU32, Error> {
    let value = match get(var) {
        None => default,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|v| (1..=max).contains(v))
            .ok_or_else(|| Error::Invalid { var, problem: format!("{raw:?} is not a whole number from 1 to {max}") })?,
    };
    NonZeroU32::new(value).ok_or(Error::Invalid { var, problem: "must not be 0".to_owned() })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Config, Error> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(&|k| map.get(k).cloned())
    }

    const GOOD: [(&str, &str); 3] = [
        ("JIRA_URL", "https://example.atlassian.net/"),
        ("JIRA_USERNAME", "me@example.com"),
        ("JIRA_API_TOKEN", "tok-123"),
    ];

    #[test]
    fn valid_cloud_config_uses_defaults() {
        let config = load(&GOOD).unwrap();
        assert_eq!(config.jira.base_url, "https://example.atlassian.net");
        assert_eq!(config.jira.rate_per_second.get(), DEFAULT_RATE);
        assert!(!config.read_only);
        let Auth::Basic { email, token } = &config.jira.auth else { panic!("basic auth") };
        assert_eq!(email, "me@example.com");
        assert_eq!(token.expose_secret(), "tok-123");
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
    fn malformed_numbers_and_booleans_are_refused() {
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_MCP_RATE_LIMIT", "fast"));
        assert_eq!(
            load(&vars).unwrap_err().to_string(),
            "JIRA_MCP_RATE_LIMIT is invalid: \"fast\" is not a whole number from 1 to 1000 \
             (see README.md#configuration)"
        );
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_MCP_READ_ONLY", "maybe"));
        assert!(load(&vars).unwrap_err().to_string().contains("is not a boolean"));
    }

    #[test]
    fn read_only_and_sandbox_overrides_apply() {
        let mut vars = GOOD.to_vec();
        vars.extend([("JIRA_MCP_READ_ONLY", "yes"), ("JIRA_MCP_SANDBOX_TIMEOUT_SECS", "10")]);
        let config = load(&vars).unwrap();
        assert!(config.read_only);
        assert_eq!(config.sandbox.max_timeout, Duration::from_secs(10));
    }

    #[test]
    fn sandbox_timeout_cannot_exceed_thirty_seconds() {
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_MCP_SANDBOX_TIMEOUT_SECS", "31"));
        assert!(load(&vars).unwrap_err().to_string().contains("from 1 to 30"));
    }

    #[test]
    fn personal_token_is_refused_with_a_next_step() {
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_PERSONAL_TOKEN", "pat"));
        assert!(load(&vars).unwrap_err().to_string().contains("set JIRA_USERNAME and JIRA_API_TOKEN"));
    }

    #[test]
    fn debug_output_never_contains_the_token() {
        let config = load(&GOOD).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("tok-123"), "{debug}");
        assert!(debug.contains("REDACTED"));
    }
}
