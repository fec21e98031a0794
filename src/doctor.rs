//! `jira-mcp doctor`: checks the configuration, the Jira credentials and the
//! sandbox host, and says exactly what to fix.

use std::io::Write;

use crate::{
    config::{Config, Env, SandboxConfig},
    jira::{self, Error, Jira},
    sandbox::docker,
};

/// Outcome of a doctor run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Config and Jira checks passed.
    pub jira_ok: bool,
    /// Sandbox checks passed.
    pub sandbox_ok: bool,
}

fn line(out: &mut dyn Write, ok: bool, name: &str, detail: &str) {
    let mark = if ok { "✔" } else { "✘" };
    // A failed write to the terminal is not worth failing the checks over.
    let _ = writeln!(out, "{mark} {name}: {detail}");
}

/// What to do about a failed `GET /myself`.
fn explain(e: &Error, base: &str) -> String {
    match e {
        Error::Unauthorized => format!(
            "Jira answered 401: the API token is invalid or expired, or JIRA_USERNAME is not the account's email. \
             Create a token at {} and set JIRA_API_TOKEN",
            jira::error::TOKEN_URL
        ),
        Error::Forbidden { message } => format!(
            "Jira answered 403 ({message}): the credentials work but this account may not use the REST API \
             (site access or IP allow-list). Ask your Jira admin"
        ),
        Error::NotFound { .. } => format!(
            "{base}/rest/api/3/myself answered 404: JIRA_URL does not point at a Jira Cloud site. Use \
             https://your-site.atlassian.net"
        ),
        Error::Unreachable { detail, .. } => format!("cannot reach {base}: {detail}"),
        other => other.to_string(),
    }
}

/// Runs every check, writing one line each to `out`. Reads the same variables,
/// the same way, as `serve`; the sandbox is checked with its own settings even
/// when the Jira ones are broken.
pub async fn run(env: &Env<'_>, out: &mut dyn Write) -> Verdict {
    let _ = writeln!(out, "jira-mcp {} doctor", env!("CARGO_PKG_VERSION"));
    for var in ["JIRA_URL", "JIRA_USERNAME"] {
        match env.get(var) {
            Some(v) => line(out, true, var, &v),
            None => line(out, false, var, "not set"),
        }
    }
    match (env.get("JIRA_API_TOKEN"), env.get("JIRA_API_TOKEN_FILE")) {
        (Some(t), _) => {
            line(out, true, "JIRA_API_TOKEN", &format!("set ({} characters, not shown)", t.chars().count()))
        }
        (None, Some(path)) => line(out, true, "JIRA_API_TOKEN_FILE", &path),
        (None, None) => line(out, false, "JIRA_API_TOKEN", "not set"),
    }
    let (jira_ok, sandbox_config) = match Config::serve(env) {
        Err(e) => {
            line(out, false, "configuration", &e.to_string());
            match SandboxConfig::from_env(env) {
                Ok(sandbox) => (false, Some(sandbox)),
                Err(e) => {
                    line(out, false, "sandbox: configuration", &e.to_string());
                    (false, None)
                }
            }
        }
        Ok(config) => {
            line(
                out,
                true,
                "configuration",
                &format!("valid (read-only: {}, rate limit {}/s)", config.read_only, config.jira.rate_per_second),
            );
            crate::scrub::register(&config.jira.auth);
            let ok = match jira::Client::new(&config.jira) {
                Err(e) => {
                    line(out, false, "jira", &e.to_string());
                    false
                }
                Ok(client) => {
                    let jira = Jira::new(client);
                    match jira.myself().await {
                        Ok(me) => {
                            let email = me.email_address.as_deref().map(|e| format!(" <{e}>")).unwrap_or_default();
                            line(
                                out,
                                true,
                                "jira",
                                &format!("authenticated as {}{email} at {}", me.label(), jira.base_url()),
                            );
                            true
                        }
                        Err(e) => {
                            line(out, false, "jira", &explain(&e, jira.base_url()));
                            false
                        }
                    }
                }
            };
            (ok, Some(config.sandbox))
        }
    };
    let checks = match &sandbox_config {
        Some(config) => docker::diagnose(config).await,
        None => Vec::new(),
    };
    let sandbox_ok = !checks.is_empty() && checks.iter().all(|c| c.ok);
    for c in &checks {
        line(out, c.ok, &format!("sandbox: {}", c.name), &c.detail);
    }
    let _ = writeln!(
        out,
        "{}",
        match (jira_ok, sandbox_ok) {
            (true, true) => "All checks passed.",
            (true, false) => "Jira is ready; run_python is unavailable until the sandbox lines above are fixed.",
            (false, _) =>
                "Fix the ✘ lines above (see README.md#configuration and #troubleshooting), then run doctor again.",
        }
    );
    Verdict { jira_ok, sandbox_ok }
}
