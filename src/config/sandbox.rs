//! Settings of the `run_python` sandbox: which backend (Docker + gVisor, or
//! E2B's hosted Firecracker VMs) and its settings.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use secrecy::SecretString;

use super::env::{Env, Error};
use crate::limits::{RUN_CONCURRENCY, RUN_TIMEOUT_SECS};

/// Default sandbox image: built by scripts/setup-host, tagged with the crate version.
pub const DEFAULT_IMAGE: &str = concat!("jira-mcp-sandbox:", env!("CARGO_PKG_VERSION"));

/// E2B's public deployment (`E2B_DOMAIN`).
pub const DEFAULT_E2B_DOMAIN: &str = "e2b.app";
/// The E2B template run_python uses unless `JIRA_MCP_E2B_TEMPLATE` names another.
pub const DEFAULT_E2B_TEMPLATE: &str = "base";

/// Where `run_python` runs code.
#[derive(Debug, Clone, Default)]
pub enum SandboxBackend {
    /// A local Docker container under gVisor (`runsc`).
    #[default]
    Docker,
    /// A hosted E2B sandbox (a Firecracker VM): the code and its `/data` files leave this machine.
    E2b(E2bConfig),
}

impl SandboxBackend {
    /// The name `JIRA_MCP_SANDBOX_BACKEND` takes.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::E2b(_) => "e2b",
        }
    }
}

/// Settings of the E2B backend.
#[derive(Debug, Clone)]
pub struct E2bConfig {
    /// The team's API key (`E2B_API_KEY` or `E2B_API_KEY_FILE`), sent only to the E2B API.
    pub api_key: SecretString,
    /// The deployment's domain: `api.{domain}` is the control plane and
    /// `49983-{sandboxID}.{domain}` a sandbox's daemon.
    pub domain: String,
    /// The template each sandbox starts from; it needs `python3` and passwordless `sudo`.
    pub template: String,
    /// Tests and benchmarks only: send every request, in plain HTTP, to this loopback
    /// address (a local E2B double) instead of resolving `domain`. Never read from the
    /// environment; a non-loopback address is refused when the backend starts.
    pub local_double: Option<SocketAddr>,
}

impl E2bConfig {
    /// Settings for a local E2B double listening on `addr` (tests, benchmarks).
    #[must_use]
    pub fn local_double(addr: SocketAddr, api_key: &str) -> Self {
        Self {
            api_key: SecretString::from(api_key.to_owned()),
            domain: "e2b.local".to_owned(),
            template: DEFAULT_E2B_TEMPLATE.to_owned(),
            local_double: Some(addr),
        }
    }

    /// Reads `E2B_API_KEY` (or `E2B_API_KEY_FILE`), `E2B_DOMAIN` and `JIRA_MCP_E2B_TEMPLATE`.
    ///
    /// # Errors
    /// A missing key, or a malformed domain or template name.
    pub fn from_env(env: &Env<'_>) -> Result<Self, Error> {
        let api_key = match env.get("E2B_API_KEY") {
            Some(key) => key,
            None => match env.file("E2B_API_KEY_FILE")? {
                Some(text) if !text.trim().is_empty() => text.trim().to_owned(),
                Some(_) => {
                    let path = env.get("E2B_API_KEY_FILE").unwrap_or_default();
                    return Err(Error::Invalid {
                        var: "E2B_API_KEY_FILE",
                        problem: format!("{path} is empty; put the E2B API key in it"),
                    });
                }
                None => {
                    return Err(Error::Missing {
                        var: "E2B_API_KEY",
                        hint: "JIRA_MCP_SANDBOX_BACKEND=e2b needs the team's API key from \
                               https://e2b.dev/dashboard (or E2B_API_KEY_FILE)",
                    });
                }
            },
        };
        if api_key.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(Error::Invalid {
                var: "E2B_API_KEY",
                problem: "it contains spaces or characters an API key does not have".to_owned(),
            });
        }
        let domain = env.get("E2B_DOMAIN").unwrap_or_else(|| DEFAULT_E2B_DOMAIN.to_owned());
        let label_ok =
            |l: &str| !l.is_empty() && !l.starts_with('-') && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !domain.contains('.') || !domain.split('.').all(label_ok) {
            return Err(Error::Invalid {
                var: "E2B_DOMAIN",
                problem: format!("{domain:?} is not a domain name; give it bare, e.g. e2b.app (no scheme, no path)"),
            });
        }
        let template = env.get("JIRA_MCP_E2B_TEMPLATE").unwrap_or_else(|| DEFAULT_E2B_TEMPLATE.to_owned());
        if !template.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c)) {
            return Err(Error::Invalid {
                var: "JIRA_MCP_E2B_TEMPLATE",
                problem: format!("{template:?} is not a template ID or name (letters, digits, - _ . / :)"),
            });
        }
        Ok(Self { api_key: SecretString::from(api_key), domain, template, local_double: None })
    }
}

/// Settings of the `run_python` sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where code runs (`JIRA_MCP_SANDBOX_BACKEND`).
    pub backend: SandboxBackend,
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
            backend: SandboxBackend::Docker,
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
    /// Reads the `JIRA_MCP_SANDBOX_*` variables (and the image's provenance), and
    /// the E2B ones when `JIRA_MCP_SANDBOX_BACKEND=e2b`.
    /// Needs no Jira settings: `doctor` checks the sandbox with these alone.
    ///
    /// # Errors
    /// A malformed number, an unknown backend, or a missing or malformed E2B setting.
    pub fn from_env(env: &Env<'_>) -> Result<Self, Error> {
        let defaults = Self::default();
        let timeout = env.number("JIRA_MCP_SANDBOX_TIMEOUT_SECS", RUN_TIMEOUT_SECS)?;
        let backend = match env.get("JIRA_MCP_SANDBOX_BACKEND").map(|b| b.to_ascii_lowercase()).as_deref() {
            None | Some("docker") => SandboxBackend::Docker,
            Some("e2b") => SandboxBackend::E2b(E2bConfig::from_env(env)?),
            Some(other) => {
                return Err(Error::Invalid {
                    var: "JIRA_MCP_SANDBOX_BACKEND",
                    problem: format!("{other:?} is not a backend; use docker or e2b"),
                });
            }
        };
        Ok(Self {
            backend,
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
    fn docker_is_the_default_backend_and_unknown_ones_are_refused() {
        let config = with_env(&[], SandboxConfig::from_env).unwrap();
        assert_eq!(config.backend.name(), "docker");
        let err = with_env(&[("JIRA_MCP_SANDBOX_BACKEND", "podman")], SandboxConfig::from_env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "JIRA_MCP_SANDBOX_BACKEND is invalid: \"podman\" is not a backend; use docker or e2b \
             (see README.md#configuration)"
        );
    }

    #[test]
    fn e2b_needs_a_key_and_reads_its_settings() {
        let err = with_env(&[("JIRA_MCP_SANDBOX_BACKEND", "e2b")], SandboxConfig::from_env).unwrap_err();
        assert!(err.to_string().starts_with("E2B_API_KEY is not set: JIRA_MCP_SANDBOX_BACKEND=e2b needs"), "{err}");
        let config = with_env(
            &[
                ("JIRA_MCP_SANDBOX_BACKEND", "E2B"),
                ("E2B_API_KEY", " e2b_0123456789 "),
                ("E2B_DOMAIN", "e2b.example.org"),
            ],
            SandboxConfig::from_env,
        )
        .unwrap();
        let SandboxBackend::E2b(e2b) = config.backend else { panic!("e2b backend") };
        assert_eq!(secrecy::ExposeSecret::expose_secret(&e2b.api_key), "e2b_0123456789");
        assert_eq!((e2b.domain.as_str(), e2b.template.as_str()), ("e2b.example.org", DEFAULT_E2B_TEMPLATE));
        assert!(e2b.local_double.is_none(), "never set from the environment");
        assert!(!format!("{e2b:?}").contains("e2b_0123456789"), "the key never shows in Debug");
    }

    #[test]
    fn e2b_key_file_is_read_and_an_empty_one_is_refused() {
        let path = std::env::temp_dir().join(format!("jira-mcp-e2b-key-{}", std::process::id()));
        std::fs::write(&path, "e2b_from_file\n").unwrap();
        let vars = [("JIRA_MCP_SANDBOX_BACKEND", "e2b"), ("E2B_API_KEY_FILE", path.to_str().unwrap())];
        let config = with_env(&vars, SandboxConfig::from_env).unwrap();
        std::fs::write(&path, " \n").unwrap();
        let empty = with_env(&vars, SandboxConfig::from_env).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        let SandboxBackend::E2b(e2b) = config.backend else { panic!("e2b backend") };
        assert_eq!(secrecy::ExposeSecret::expose_secret(&e2b.api_key), "e2b_from_file");
        assert!(empty.to_string().contains("is empty; put the E2B API key in it"), "{empty}");
    }

    #[test]
    fn malformed_e2b_domain_and_template_name_the_variable() {
        let key = ("E2B_API_KEY", "e2b_0123456789");
        let backend = ("JIRA_MCP_SANDBOX_BACKEND", "e2b");
        for domain in ["https://e2b.app", "e2b.app/", "localhost", "e2b..app"] {
            let err = with_env(&[backend, key, ("E2B_DOMAIN", domain)], SandboxConfig::from_env).unwrap_err();
            assert!(err.to_string().starts_with("E2B_DOMAIN is invalid: "), "{domain}: {err}");
        }
        let err =
            with_env(&[backend, key, ("JIRA_MCP_E2B_TEMPLATE", "base; rm")], SandboxConfig::from_env).unwrap_err();
        assert!(err.to_string().starts_with("JIRA_MCP_E2B_TEMPLATE is invalid: "), "{err}");
        // Control: E2B variables are not read, and so not refused, for the Docker backend.
        assert!(with_env(&[key, ("E2B_DOMAIN", "https://x")], SandboxConfig::from_env).is_ok());
    }

    #[test]
    fn sandbox_timeout_cannot_exceed_the_limit() {
        let err = with_env(&[("JIRA_MCP_SANDBOX_TIMEOUT_SECS", "31")], SandboxConfig::from_env).unwrap_err();
        assert!(err.to_string().contains("from 1 to 30"), "{err}");
    }
}
