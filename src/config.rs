//! Configuration from environment variables, validated once at startup, for every mode.
//!
//! [`Env`] is the one way a variable is read: trimmed, and empty means unset.
//! Typed sub-configs ([`JiraConfig`], [`SandboxConfig`], [`HttpConfig`]) each
//! read their own variables through it, and every problem is one [`Error`]
//! naming the variable and the README section that documents it. The library
//! never reads the process environment itself: `main` hands in a lookup
//! closure (tests hand in a map).

mod http;
mod jira;
mod sandbox;

use std::path::Path;

pub use http::HttpConfig;
pub use jira::{Auth, DEMO_EMAIL, DEMO_TOKEN, JiraConfig};
pub use sandbox::{DEFAULT_IMAGE, SandboxConfig};

use crate::limits::Bounds;

/// A configuration problem found at startup. The message names the variable,
/// what to do, and where the README documents it; `main` prints it as one line
/// and exits 2.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A required variable is absent or empty.
    #[error("{var} is not set: {hint} (see {anchor})", anchor = readme_anchor(var))]
    Missing {
        /// The variable name.
        var: &'static str,
        /// What the value should look like.
        hint: &'static str,
    },
    /// A variable is present but malformed.
    #[error("{var} is invalid: {problem} (see {anchor})", anchor = readme_anchor(var))]
    Invalid {
        /// The variable name.
        var: &'static str,
        /// What is wrong and what would be right.
        problem: String,
    },
}

/// The README section that documents `var`.
fn readme_anchor(var: &str) -> &'static str {
    if var.starts_with("JIRA_MCP_HTTP_") { "README.md#http-transport" } else { "README.md#configuration" }
}

/// The environment as the configuration reads it.
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be secrets: never shown.
        f.write_str("Env(..)")
    }
}

impl<'a> Env<'a> {
    /// Wraps a lookup that returns `None` for unset variables (`main` passes `std::env::var`).
    #[must_use]
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The value, trimmed; `None` when unset or empty.
    pub(crate) fn get(&self, var: &str) -> Option<String> {
        (self.lookup)(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A boolean (`true/false`, `yes/no`, `on/off`, `1/0`), or `default` when unset.
    pub(crate) fn flag(&self, var: &'static str, default: bool) -> Result<bool, Error> {
        let Some(raw) = self.get(var) else { return Ok(default) };
        match raw.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(Error::Invalid { var, problem: format!("{raw:?} is not a boolean; use true or false") }),
        }
    }

    /// A whole number within `bounds`, or its default when unset.
    pub(crate) fn number(&self, var: &'static str, bounds: Bounds) -> Result<u32, Error> {
        let Some(raw) = self.get(var) else { return Ok(bounds.default) };
        raw.parse::<u32>().ok().filter(|v| bounds.contains(*v)).ok_or_else(|| Error::Invalid {
            var,
            problem: format!("{raw:?} is not a whole number from {} to {}", bounds.min, bounds.max),
        })
    }

    /// The text of the file a `…_FILE` variable names (systemd's `LoadCredential`
    /// hands secrets over this way), or `None` when the variable is unset.
    pub(crate) fn file(&self, var: &'static str) -> Result<Option<String>, Error> {
        let Some(path) = self.get(var) else { return Ok(None) };
        std::fs::read_to_string(Path::new(&path))
            .map(Some)
            .map_err(|e| Error::Invalid { var, problem: format!("cannot read {path}: {e}") })
    }
}

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Jira connection.
    pub jira: JiraConfig,
    /// When true, every tool that writes is hidden and refused.
    pub read_only: bool,
    /// Sandbox settings.
    pub sandbox: SandboxConfig,
}

impl Config {
    /// `serve`: every variable, Jira credentials included.
    ///
    /// # Errors
    /// The first missing or malformed variable.
    pub fn serve(env: &Env<'_>) -> Result<Self, Error> {
        let jira = JiraConfig::from_env(env)?;
        Self::around(jira, env)
    }

    /// `demo`: the built-in emulator's Jira (its URL is known once it listens),
    /// and the same non-Jira variables as `serve`.
    ///
    /// # Errors
    /// A malformed non-Jira variable.
    pub fn demo(env: &Env<'_>) -> Result<Self, Error> {
        Self::around(JiraConfig::demo(String::new()), env)
    }

    /// Reads everything but the Jira connection.
    fn around(jira: JiraConfig, env: &Env<'_>) -> Result<Self, Error> {
        Ok(Self { jira, read_only: env.flag("JIRA_MCP_READ_ONLY", false)?, sandbox: SandboxConfig::from_env(env)? })
    }

    /// Defaults around a Jira connection (tests and benchmarks).
    #[must_use]
    pub fn with_jira(jira: JiraConfig) -> Self {
        Self { jira, read_only: false, sandbox: SandboxConfig::default() }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    pub(super) fn with_env<T>(vars: &[(&str, &str)], f: impl FnOnce(&Env<'_>) -> T) -> T {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let lookup = move |k: &str| map.get(k).cloned();
        f(&Env::new(&lookup))
    }

    pub(super) const GOOD: [(&str, &str); 3] = [
        ("JIRA_URL", "https://example.atlassian.net/"),
        ("JIRA_USERNAME", "me@example.com"),
        ("JIRA_API_TOKEN", "tok-123"),
    ];

    #[test]
    fn empty_and_blank_values_mean_unset() {
        with_env(&[("A", ""), ("B", "  "), ("C", " x ")], |env| {
            assert_eq!(env.get("A"), None);
            assert_eq!(env.get("B"), None);
            assert_eq!(env.get("C").as_deref(), Some("x"));
        });
    }

    // Regression: `demo` and `doctor` read variables through a lookup that did not
    // trim, so an empty JIRA_MCP_SANDBOX_IMAGE became the image name "".
    #[test]
    fn empty_sandbox_image_means_the_default_in_every_mode() {
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_MCP_SANDBOX_IMAGE", ""));
        with_env(&vars, |env| {
            assert_eq!(Config::serve(env).unwrap().sandbox.image, DEFAULT_IMAGE, "serve");
            assert_eq!(Config::demo(env).unwrap().sandbox.image, DEFAULT_IMAGE, "demo");
            assert_eq!(SandboxConfig::from_env(env).unwrap().image, DEFAULT_IMAGE, "doctor");
        });
    }

    #[test]
    fn malformed_numbers_and_booleans_are_refused() {
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_MCP_RATE_LIMIT", "fast"));
        assert_eq!(
            with_env(&vars, |env| Config::serve(env).unwrap_err().to_string()),
            "JIRA_MCP_RATE_LIMIT is invalid: \"fast\" is not a whole number from 1 to 1000 \
             (see README.md#configuration)"
        );
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_MCP_READ_ONLY", "maybe"));
        assert!(with_env(&vars, |env| Config::serve(env).unwrap_err().to_string()).contains("is not a boolean"));
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_MCP_READ_ONLY", "maybe"));
        assert!(
            with_env(&vars, |env| Config::demo(env).unwrap_err().to_string()).contains("is not a boolean"),
            "demo reads the same variables the same way"
        );
    }

    #[test]
    fn read_only_applies() {
        let mut vars = GOOD.to_vec();
        vars.push(("JIRA_MCP_READ_ONLY", "yes"));
        assert!(with_env(&vars, |env| Config::serve(env).unwrap().read_only));
        assert!(!with_env(&GOOD, |env| Config::serve(env).unwrap().read_only));
    }

    #[test]
    fn http_variables_point_at_the_http_section() {
        let e = Error::Invalid { var: "JIRA_MCP_HTTP_TOKEN", problem: "p".to_owned() };
        assert_eq!(e.to_string(), "JIRA_MCP_HTTP_TOKEN is invalid: p (see README.md#http-transport)");
    }
}
