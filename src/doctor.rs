//! `jira-mcp doctor`: checks the configuration, the Jira credentials and the
//! sandbox host, and says exactly what to fix.

use std::io::Write;

use crate::{
    config::{Config, Env, SandboxBackend, SandboxConfig},
    jira::{self, Error, Jira},
    sandbox,
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

/// Short names of the permissions, as the report shows them.
fn short(permission: &str) -> &str {
    match permission {
        jira::BROWSE => "browse",
        "CREATE_ISSUES" => "create",
        "EDIT_ISSUES" => "edit",
        "TRANSITION_ISSUES" => "transition",
        "ADD_COMMENTS" => "comment",
        "DELETE_ISSUES" => "delete",
        "CREATE_ATTACHMENTS" => "attach",
        other => other,
    }
}

/// Reports what the account may do in each allowed project (or anywhere), and warns
/// about write permissions a read-only deployment does not need. False when the
/// account cannot browse an allowed project.
async fn permissions(jira: &Jira, read_only: bool, out: &mut dyn Write) -> bool {
    let mut wanted = vec![jira::BROWSE];
    wanted.extend_from_slice(jira::WRITE_PERMISSIONS);
    let mut ok = true;
    for project in jira.permission_scopes() {
        let name = format!("permissions in {}", project.as_deref().unwrap_or("any project"));
        let held = match jira.my_permissions(project.as_deref(), &wanted).await {
            Ok(held) => held,
            Err(e) => {
                line(out, false, &name, &format!("cannot be read ({e})"));
                ok = false;
                continue;
            }
        };
        let has = |p: &str| held.iter().any(|h| h == p);
        let list = |perms: &[&str]| perms.iter().map(|p| short(p)).collect::<Vec<_>>().join(", ");
        let may: Vec<&str> = wanted.iter().copied().filter(|p| has(p)).collect();
        let may_not: Vec<&str> = wanted.iter().copied().filter(|p| !has(p)).collect();
        let detail = match (may.is_empty(), may_not.is_empty()) {
            (true, _) => "none".to_owned(),
            (false, true) => list(&may),
            (false, false) => format!("{} (not: {})", list(&may), list(&may_not)),
        };
        let browse = has(jira::BROWSE);
        line(
            out,
            browse,
            &name,
            &if browse { detail } else { format!("{detail}: the account cannot see issues there") },
        );
        ok &= browse;
        let writes: Vec<&str> = jira::WRITE_PERMISSIONS.iter().copied().filter(|p| has(p)).collect();
        if read_only && !writes.is_empty() {
            let _ = writeln!(
                out,
                "! {name}: this deployment is read-only but the account may also {}; a token of an account (or a \
                 scoped token) without those would limit what a leaked token can do",
                list(&writes)
            );
        }
    }
    ok
}

/// The sandbox lines of the report: which backend is active (and, for E2B, that the
/// code and its data leave this machine), then its own checks. True when all pass.
pub async fn check_sandbox(config: &SandboxConfig, out: &mut dyn Write) -> bool {
    let backend = match &config.backend {
        SandboxBackend::Docker => "docker (Docker + gVisor runsc on this machine)".to_owned(),
        SandboxBackend::E2b(e2b) => {
            crate::scrub::register_secret(&e2b.api_key);
            format!(
                "e2b (hosted at {}, template {}): the code and its /data files leave this machine for E2B",
                e2b.domain, e2b.template
            )
        }
    };
    line(out, true, "sandbox: backend", &backend);
    let checks = sandbox::diagnose(config).await;
    for c in &checks {
        line(out, c.ok, &format!("sandbox: {}", c.name), &crate::scrub::secrets(&c.detail));
    }
    !checks.is_empty() && checks.iter().all(|c| c.ok)
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
                            let jira = jira.restricted_to(config.projects.clone());
                            permissions(&jira, config.read_only, out).await
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
    let sandbox_ok = match &sandbox_config {
        Some(config) => check_sandbox(config, out).await,
        None => false,
    };
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::emulator::{DEMO_EMAIL, DEMO_TOKEN, Emulator, EmulatorConfig};

    async fn report(emu: &Emulator, extra: &[(&str, &str)]) -> String {
        let mut vars: HashMap<String, String> = [
            ("JIRA_URL", emu.url().as_str()),
            ("JIRA_USERNAME", DEMO_EMAIL),
            ("JIRA_API_TOKEN", DEMO_TOKEN),
            ("JIRA_MCP_SANDBOX_RUNTIME", "no-such-runtime"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let lookup = move |k: &str| vars.get(k).cloned();
        let mut out = Vec::new();
        run(&Env::new(&lookup), &mut out).await;
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn names_the_active_sandbox_backend() {
        let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
        let text = report(&emu, &[]).await;
        assert!(text.contains("✔ sandbox: backend: docker (Docker + gVisor runsc on this machine)\n"), "{text}");
        let text = report(&emu, &[("JIRA_MCP_SANDBOX_BACKEND", "e2b")]).await;
        assert!(text.contains("✘ sandbox: configuration: E2B_API_KEY is not set: "), "{text}");
        assert!(!text.contains("sandbox: backend"), "no backend is active without its settings: {text}");
    }

    #[tokio::test]
    async fn reports_permissions_per_allowed_project_and_warns_a_read_only_deployment() {
        let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
        emu.deny_permission("DELETE_ISSUES");
        let text = report(&emu, &[("JIRA_MCP_PROJECTS", "OPS,DEMO")]).await;
        for p in ["DEMO", "OPS"] {
            assert!(
                text.contains(&format!(
                    "✔ permissions in {p}: browse, create, edit, transition, comment, attach (not: delete)\n"
                )),
                "{text}"
            );
        }
        assert!(!text.contains("! permissions"), "no warning when writes are intended: {text}");
        let text = report(&emu, &[("JIRA_MCP_READ_ONLY", "true")]).await;
        assert!(
            text.contains(
                "! permissions in any project: this deployment is read-only but the account may also create, edit, \
                 transition, comment, attach; a token of an account (or a scoped token) without those would limit what a \
                 leaked token can do"
            ),
            "{text}"
        );
        emu.deny_permission("BROWSE_PROJECTS");
        let text = report(&emu, &[]).await;
        assert!(text.contains("✘ permissions in any project: create, edit"), "{text}");
        assert!(text.contains(": the account cannot see issues there"), "{text}");
    }
}
