//! jira-mcp: an MCP server for Jira Cloud with task-level tools, and a
//! gVisor-sandboxed Python runner.
//!
//! `main` reads a validated [`Config`] and hands it to [`JiraMcp`], which is
//! served over stdio ([`server::stdio`]). `jira` is the REST client (knows
//! nothing of MCP), `tools` the task-level tools, `sandbox` the Docker/gVisor
//! runner, and `emulator` a seeded in-memory Jira for the demo and the tests.
//! See ARCHITECTURE.md for the map and the invariants.

pub mod config;
pub mod doctor;
pub mod emulator;
mod error;
mod jira;
mod sandbox;
pub mod server;
pub mod telemetry;
mod tools;

use std::{num::NonZeroU32, time::Duration};

use secrecy::SecretString;

pub use config::Config;
pub use server::JiraMcp;

/// Jira settings pointing at the built-in emulator at `base_url`, with its demo
/// credentials and a rate limit high enough never to get in the way.
#[must_use]
pub fn demo_jira_config(base_url: String) -> config::JiraConfig {
    config::JiraConfig {
        base_url,
        auth: config::Auth::Basic {
            email: emulator::DEMO_EMAIL.to_owned(),
            token: SecretString::from(emulator::DEMO_TOKEN),
        },
        rate_per_second: NonZeroU32::new(1000).unwrap_or(NonZeroU32::MIN),
        burst: NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN),
        request_timeout: Duration::from_secs(30),
        max_retry_wait: Duration::from_secs(20),
    }
}
