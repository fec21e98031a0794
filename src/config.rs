//! Configuration from environment variables, validated once at startup, for every mode.
//!
//! [`Env`] is the one way a variable is read: trimmed, and empty means unset.
//! Typed sub-configs ([`JiraConfig`], [`SandboxConfig`], [`HttpConfig`]) each
//! read their own variables through it, and every problem is one [`Error`]
//! naming the variable and the README section that documents it. The library
//! never reads the process environment itself: `main` hands in a lookup
//! closure (tests hand in a map).

mod audit;
mod budget;
mod env;
mod fleet;
mod http;
mod jira;
mod projects;
mod sandbox;

pub use audit::{AuditConfig, AuditTarget};
pub use budget::{telemetry_from_env, tunables_from_env};
pub use env::{Env, Error};
pub use fleet::FleetConfig;
pub use http::{BearerToken, HttpConfig, MAX_IN_FLIGHT, TokenScope, ToolScope};
pub use jira::{Auth, DEMO_EMAIL, DEMO_TOKEN, JiraConfig};
pub use projects::Projects;
pub use sandbox::{DEFAULT_E2B_DOMAIN, DEFAULT_E2B_TEMPLATE, DEFAULT_IMAGE, E2bConfig, SandboxBackend, SandboxConfig};

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Jira connection.
    pub jira: JiraConfig,
    /// When true, every tool that writes is hidden and refused.
    pub read_only: bool,
    /// Sandbox settings.
    pub sandbox: SandboxConfig,
    /// The project allow-list (`JIRA_MCP_PROJECTS`); `None` allows every project.
    pub projects: Option<Projects>,
    /// Where the audit log of writes goes.
    pub audit: AuditConfig,
    /// Response-budget telemetry (off in [`Config::with_jira`]).
    pub telemetry: crate::budget::Settings,
    /// The tunable caps' defaults (`main` installs them before the tools are built).
    pub tunables: crate::limits::Tunables,
    /// Shared state of a fleet of replicas (Redis, confirm key); default: none.
    pub fleet: FleetConfig,
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
        Ok(Self {
            jira,
            read_only: env.flag("JIRA_MCP_READ_ONLY", false)?,
            sandbox: SandboxConfig::from_env(env)?,
            projects: Projects::from_env(env)?,
            audit: AuditConfig::from_env(env)?,
            telemetry: telemetry_from_env(env)?,
            tunables: tunables_from_env(env)?,
            fleet: FleetConfig::from_env(env)?,
        })
    }

    /// Defaults around a Jira connection (tests and benchmarks).
    #[must_use]
    pub fn with_jira(jira: JiraConfig) -> Self {
        Self {
            jira,
            read_only: false,
            sandbox: SandboxConfig::default(),
            projects: None,
            audit: AuditConfig::default(),
            telemetry: crate::budget::Settings { enabled: false, path: std::path::PathBuf::new(), retention_days: 30 },
            tunables: crate::limits::Tunables::default(),
            fleet: FleetConfig::default(),
        }
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
