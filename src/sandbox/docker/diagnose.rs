//! The sandbox checks of `jira-mcp doctor`: profile, daemon and runtime flags, image.

use super::connect::{SETUP_FIX, connect_checked, load_profile};
use crate::{config::SandboxConfig, sandbox::Check};

/// The sandbox checks of `jira-mcp doctor`: daemon, runtime flags, image, profile.
pub(crate) async fn diagnose(config: &SandboxConfig) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut push = |name: &str, result: Result<String, String>| {
        let ok = result.is_ok();
        checks.push(Check { name: name.to_owned(), ok, detail: result.unwrap_or_else(|e| e) });
    };
    match load_profile(config.seccomp_profile.as_deref()) {
        Ok(_) => push(
            "seccomp profile",
            Ok(config
                .seccomp_profile
                .as_ref()
                .map_or("built-in seccomp/run_python.json".to_owned(), |p| p.display().to_string())),
        ),
        Err(e) => push("seccomp profile", Err(e.to_string())),
    }
    let docker = match connect_checked(&config.runtime).await {
        Ok(d) => {
            push(
                "docker + runtime",
                Ok(format!(
                    "daemon reachable; runtime {} registered with --network=none --oci-seccomp",
                    config.runtime
                )),
            );
            d
        }
        Err(e) => {
            push("docker + runtime", Err(e.to_string()));
            return checks;
        }
    };
    let source = config.image_source.as_deref().unwrap_or("scripts/setup-host (debootstrap)");
    match docker.inspect_image(&config.image).await {
        Ok(_) => push("sandbox image", Ok(format!("{} present (built by {source})", config.image))),
        Err(e) => push("sandbox image", Err(format!("{} missing ({e}); {SETUP_FIX}", config.image))),
    }
    checks
}
