//! Connecting to Docker with the runtime checked (fail closed), the seccomp
//! profile, and the fix every "unavailable" error names. Shared by the run path
//! and the doctor checks.

use std::path::Path;

use bollard::Docker;

use crate::sandbox::Error;

pub(super) const SETUP_FIX: &str = "run `sudo scripts/setup-host` (installs Docker and gVisor runsc, registers the runtime, builds the image), then retry";

/// The fix for a problem, by who can fix it.
pub(super) fn unavailable(problem: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::Unavailable { problem: problem.into(), fix: fix.into() }
}

/// Loads and sanity-checks the seccomp profile (the configured file, or the embedded one).
pub(crate) fn load_profile(path: Option<&Path>) -> Result<String, Error> {
    let text = match path {
        Some(p) => std::fs::read_to_string(p).map_err(|e| {
            unavailable(
                format!("the seccomp profile {} cannot be read ({e})", p.display()),
                "fix JIRA_MCP_SECCOMP_PROFILE or unset it to use the built-in profile",
            )
        })?,
        None => crate::sandbox::SECCOMP_PROFILE.to_owned(),
    };
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| unavailable(format!("the seccomp profile is not valid JSON ({e})"), "fix the profile file"))?;
    if json.get("defaultAction").and_then(|v| v.as_str()) != Some("SCMP_ACT_ERRNO") {
        return Err(unavailable(
            "the seccomp profile must deny by default (defaultAction SCMP_ACT_ERRNO)",
            "use the profile from seccomp/run_python.json",
        ));
    }
    // Compact it: Docker wants the JSON text itself inside security_opt.
    Ok(json.to_string())
}

/// Connects, negotiates the API version, and refuses a missing or
/// misconfigured runtime (fail closed).
pub(super) async fn connect_checked(runtime: &str) -> Result<Docker, Error> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|e| unavailable(format!("cannot open the Docker socket ({e})"), SETUP_FIX))?;
    // bollard speaks API 1.53 by default; Debian's dockerd 20.10 tops out at 1.41.
    let docker = docker
        .negotiate_version()
        .await
        .map_err(|e| unavailable(format!("the Docker daemon is not reachable ({e})"), SETUP_FIX))?;
    let info = docker.info().await.map_err(|e| unavailable(format!("`docker info` failed ({e})"), SETUP_FIX))?;
    let runtimes = info.runtimes.unwrap_or_default();
    let Some(rt) = runtimes.get(runtime) else {
        let mut have: Vec<&String> = runtimes.keys().collect();
        have.sort();
        return Err(unavailable(
            format!("the Docker runtime {runtime:?} is not registered (registered: {have:?})"),
            SETUP_FIX,
        ));
    };
    // Without --oci-seccomp runsc ignores the container's seccomp profile; fail closed.
    if runtime == "runsc" {
        let args = rt.runtime_args.clone().unwrap_or_default();
        for required in ["--network=none", "--oci-seccomp"] {
            if !args.iter().any(|a| a == required) {
                return Err(unavailable(
                    format!("the runsc runtime lacks {required} in its runtimeArgs (has {args:?})"),
                    SETUP_FIX,
                ));
            }
        }
    }
    Ok(docker)
}
