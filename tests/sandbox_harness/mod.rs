//! The backend-selection half of the isolation battery: which sandbox a test
//! gets, how leftovers are seen, and the unhardened control run. Assertions live
//! in the tests, never here; this is the only place that names a backend.
//!
//! `JIRA_MCP_TEST_SANDBOX` picks the backend:
//! - `docker` (default): Docker + gVisor runsc on this host;
//! - `e2b-double`: the E2B backend against tests/e2b_double running each sandbox
//!   in a runc container with E2B's defaults (needs Docker, not runsc);
//! - `e2b`: the E2B backend against real E2B (`E2B_API_KEY`, `E2B_DOMAIN`,
//!   `JIRA_MCP_E2B_TEMPLATE`); this repository's CI cannot run it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]
#![allow(dead_code, unreachable_pub)]

use std::{process::Command, time::Duration};

use jira_mcp::{
    Config, JiraMcp,
    config::{E2bConfig, Env, SandboxBackend},
    emulator::Emulator,
};
use serde_json::json;

use crate::{
    common::{self, call, config_for, connect, emulator, text},
    e2b_double::{self, Double, Exec},
};

pub const LABEL: &str = "io.github.jira-mcp.sandbox";
pub const SETUP: &str =
    "Docker with the runsc runtime and the sandbox image are required: run `sudo scripts/setup-host` first";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Docker,
    E2bDouble,
    E2b,
}

/// The backend `JIRA_MCP_TEST_SANDBOX` selects.
pub fn selected() -> Backend {
    match std::env::var("JIRA_MCP_TEST_SANDBOX").as_deref() {
        Err(_) | Ok("" | "docker") => Backend::Docker,
        Ok("e2b-double") => Backend::E2bDouble,
        Ok("e2b") => Backend::E2b,
        Ok(other) => panic!("JIRA_MCP_TEST_SANDBOX={other:?}: use docker, e2b-double or e2b"),
    }
}

pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap_or_else(|e| panic!("{SETUP} (docker CLI: {e})"));
    assert!(out.status.success(), "{SETUP}: docker {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn image() -> String {
    jira_mcp::config::DEFAULT_IMAGE.to_owned()
}

fn real_e2b() -> E2bConfig {
    let lookup = |k: &str| std::env::var(k).ok();
    E2bConfig::from_env(&Env::new(&lookup)).unwrap_or_else(|e| panic!("JIRA_MCP_TEST_SANDBOX=e2b: {e}"))
}

/// `pid:start time:pid namespace` of this process, as the Docker backend labels its containers.
pub fn own_identity() -> String {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let start = stat.rsplit_once(')').unwrap().1.split_whitespace().nth(19).unwrap().to_owned();
    let ns = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let ns = ns.to_str().unwrap().trim_start_matches("pid:[").trim_end_matches(']').to_owned();
    format!("{}:{start}:{ns}", std::process::id())
}

/// Sandboxes of ours alive now, by name or id.
pub fn leftovers(backend: Backend) -> Vec<String> {
    let lines = |s: String| s.lines().map(str::to_owned).collect();
    match backend {
        // Only this test process's containers (the in-process server labels them with its
        // owner identity): other test runs may share the Docker host.
        Backend::Docker => lines(docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label={LABEL}"),
            "--filter",
            &format!("label=io.github.jira-mcp.owner={}", own_identity()),
            "--format",
            "{{.Names}}",
        ])),
        Backend::E2bDouble => lines(docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label={}", e2b_double::CONTAINER_LABEL),
            "--format",
            "{{.Names}}",
        ])),
        Backend::E2b => {
            let e2b = real_e2b();
            let url = format!("https://api.{}/v2/sandboxes?metadata={LABEL}%3D1&state=running", e2b.domain);
            let key = secrecy::ExposeSecret::expose_secret(&e2b.api_key).to_owned();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    let list: Vec<serde_json::Value> = reqwest::Client::new()
                        .get(url)
                        .header("X-API-Key", key)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    list.iter().map(|s| s["sandboxID"].as_str().unwrap_or_default().to_owned()).collect()
                })
            })
            .join()
            .unwrap()
        }
    }
}

/// Fails loudly (never skips) when the host is not prepared.
pub fn require_host(backend: Backend) {
    match backend {
        Backend::Docker => {
            let runtimes = docker(&["info", "--format", "{{json .Runtimes}}"]);
            assert!(runtimes.contains("runsc"), "{SETUP}: runsc is not registered ({runtimes})");
            docker(&["image", "inspect", &image()]);
        }
        // The double's sandboxes are runc containers of the same image.
        Backend::E2bDouble => drop(docker(&["image", "inspect", &image()])),
        Backend::E2b => drop(real_e2b()),
    }
}

pub struct Sandbox {
    pub emu: Emulator,
    pub client: common::Client,
    /// Kept alive for the test: the E2B double serving this server.
    pub double: Option<Double>,
}

pub async fn sandbox_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Sandbox {
    require_host(backend);
    let emu = emulator().await;
    let mut config = config_for(&emu);
    let double = match backend {
        Backend::Docker => None,
        Backend::E2bDouble => {
            let d = Double::start(Exec::Docker { image: image() }).await;
            config.sandbox.backend = SandboxBackend::E2b(d.config());
            Some(d)
        }
        Backend::E2b => {
            config.sandbox.backend = SandboxBackend::E2b(real_e2b());
            None
        }
    };
    tweak(&mut config);
    let client = connect(JiraMcp::new(&config).unwrap()).await;
    Sandbox { emu, client, double }
}

impl Sandbox {
    pub async fn run(&self, code: &str, extra: serde_json::Value) -> (bool, String) {
        let mut a = json!({ "code": code });
        if let (Some(obj), Some(more)) = (a.as_object_mut(), extra.as_object()) {
            obj.extend(more.clone());
        }
        text(&call(&self.client, "run_python", a).await)
    }

    pub async fn ok(&self, code: &str) -> String {
        let (is_error, out) = self.run(code, json!({})).await;
        assert!(!is_error, "run_python failed: {out}");
        out
    }
}

/// Runs `code` on stdin where the backend's code runs, with none of run_python's
/// hardening (root, network, no filter): the control that shows a probe detects a leak.
pub async fn unhardened(backend: Backend, code: &str) -> String {
    let args: Vec<String> = match backend {
        Backend::Docker => {
            ["run", "--rm", "-i", "--runtime=runc", "--network=host", "--security-opt", "seccomp=unconfined"]
                .into_iter()
                .map(str::to_owned)
                .chain([image(), "/usr/bin/python3".to_owned(), "-".to_owned()])
                .collect()
        }
        // The double's sandbox as E2B hands it over, before the launcher.
        Backend::E2bDouble => {
            ["run", "--rm", "-i", "--runtime", "runc", "--network", "host", "--user", "0", "--cap-add", "SYS_ADMIN"]
                .into_iter()
                .map(str::to_owned)
                .chain([image(), "/usr/bin/python3".to_owned(), "-".to_owned()])
                .collect()
        }
        Backend::E2b => panic!(
            "the unhardened control needs a sandbox on this host's network; against real E2B it cannot reach the \
             host's listener (run the battery with JIRA_MCP_TEST_SANDBOX=e2b-double for the controls)"
        ),
    };
    let mut child = Command::new("docker")
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), code.as_bytes()).unwrap();
    drop(child.stdin.take());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A TCP listener on the host's loopback that counts accepted connections.
pub async fn host_listener() -> (u16, tokio::task::JoinHandle<usize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let mut accepted = 0;
        while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(4), listener.accept()).await {
            accepted += 1;
        }
        accepted
    });
    (port, handle)
}

pub fn connect_probe(port: u16) -> String {
    format!(
        "import socket\ntry:\n    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\nexcept OSError as e:\n    print('socket denied errno', e.errno)\nelse:\n    s.settimeout(3)\n    try:\n        s.connect(('127.0.0.1', {port}))\n        print('CONNECTED')\n    except OSError as e:\n        print('connect failed errno', e.errno)\n"
    )
}
