//! Settings of the `run_python` sandbox (Docker + gVisor).

use std::{path::PathBuf, time::Duration};

use super::env::{Env, Error};
use crate::limits::{RUN_CONCURRENCY, RUN_TIMEOUT_SECS};

/// Default sandbox image: built by scripts/setup-host, tagged with the crate version.
pub const DEFAULT_IMAGE: &str = concat!("jira-mcp-sandbox:", env!("CARGO_PKG_VERSION"));

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

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            image: DEFAULT_IMAGE.to_owned(),
            image_source: None,
            runtime: "runsc".to_owned(),
            seccomp_profile: None,
            max_timeout: Duration::from_secs(u64::from(RUN_TIMEOUT_SECS.default)),
            concurrency: RUN_CONCURRENCY.default as usize,
            data_dir: None,
        }
    }
}

impl SandboxConfig {
    /// Reads the `JIRA_MCP_SANDBOX_*` variables (and the image's provenance).
    /// Needs no Jira settings: `doctor` checks the sandbox with these alone.
    ///
    /// # Errors
    /// A malformed number.
    pub fn from_env(env: &Env<'_>) -> Result<Self, Error> {
        let defaults = Self::default();
        let timeout = env.number("JIRA_MCP_SANDBOX_TIMEOUT_SECS", RUN_TIMEOUT_SECS)?;
        Ok(Self {
            image: env.get("JIRA_MCP_SANDBOX_IMAGE").unwrap_or(defaults.image),
            image_source: env.get("JIRA_MCP_IMAGE_SOURCE"),
            runtime: env.get("JIRA_MCP_SANDBOX_RUNTIME").unwrap_or(defaults.runtime),
            seccomp_profile: env.get("JIRA_MCP_SECCOMP_PROFILE").map(PathBuf::from),
            max_timeout: Duration::from_secs(u64::from(timeout)),
            concurrency: env.number("JIRA_MCP_SANDBOX_CONCURRENCY", RUN_CONCURRENCY)? as usize,
            data_dir: env.get("JIRA_MCP_SANDBOX_DATA_DIR").map(PathBuf::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{super::tests::with_env, *};

    #[test]
    fn overrides_apply() {
        let config = with_env(
            &[("JIRA_MCP_SANDBOX_TIMEOUT_SECS", "10"), ("JIRA_MCP_SANDBOX_RUNTIME", " runc ")],
            SandboxConfig::from_env,
        )
        .unwrap();
        assert_eq!(config.max_timeout, Duration::from_secs(10));
        assert_eq!(config.runtime, "runc");
        assert_eq!(config.image, DEFAULT_IMAGE);
    }

    #[test]
    fn sandbox_timeout_cannot_exceed_the_limit() {
        let err = with_env(&[("JIRA_MCP_SANDBOX_TIMEOUT_SECS", "31")], SandboxConfig::from_env).unwrap_err();
        assert!(err.to_string().contains("from 1 to 30"), "{err}");
    }
}
