//! The E2B checks of `jira-mcp doctor`: the key, the template, a trial run.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Api, E2bSandbox, LABEL};
use crate::{
    config::{E2bConfig, SandboxConfig},
    sandbox::{Check, Job, Sandbox},
};

/// Key accepted, template readable, and `print(1)` runs hardened (then the sandbox is killed).
pub(crate) async fn diagnose(e2b: &E2bConfig, config: &SandboxConfig) -> Vec<Check> {
    let mut checks = Vec::new();
    let api = match Api::new(e2b) {
        Ok(api) => api,
        Err(e) => {
            checks.push(Check::failed("e2b client", format!("{e}; check E2B_DOMAIN")));
            return checks;
        }
    };
    match api.list(LABEL, "1").await {
        Ok(_) => checks.push(Check::passed("e2b API key", format!("accepted by api.{}", e2b.domain))),
        Err(e) => {
            let fix = match e.status() {
                Some(401 | 403) => {
                    "create an API key at https://e2b.dev/dashboard and set E2B_API_KEY (or E2B_API_KEY_FILE)"
                }
                _ => "check E2B_DOMAIN and this machine's access to it",
            };
            checks.push(Check::failed("e2b API key", format!("{e}; {fix}")));
            return checks;
        }
    }
    match api.template(&e2b.template).await {
        Ok(()) => checks.push(Check::passed("e2b template", format!("{} is available to this team", e2b.template))),
        // Public templates need not be listed for a team: the trial run decides.
        Err(e) => checks.push(Check::passed(
            "e2b template",
            format!("{} is not listed for this team ({e}); the trial run below decides", e2b.template),
        )),
    }
    let sandbox = E2bSandbox::new(e2b, config);
    let job =
        Job { code: "print(1)".to_owned(), data: None, attachments: Vec::new(), timeout: Duration::from_secs(10) };
    match sandbox.run(job, CancellationToken::new()).await {
        Ok(o) if o.exit_code == Some(0) && o.stdout.bytes == b"1\n" => checks.push(Check::passed(
            "e2b trial run",
            format!("print(1) ran hardened in {:.1} s; the sandbox was killed afterwards", o.duration.as_secs_f64()),
        )),
        Ok(o) => checks.push(Check::failed(
            "e2b trial run",
            format!(
                "print(1) ended with exit code {:?}, stdout {:?}, stderr {:?}; {}",
                o.exit_code,
                String::from_utf8_lossy(&o.stdout.bytes),
                String::from_utf8_lossy(&o.stderr.bytes).chars().take(300).collect::<String>(),
                super::HARDENING_FIX
            ),
        )),
        Err(e) => checks.push(Check::failed("e2b trial run", e.to_string())),
    }
    checks
}
