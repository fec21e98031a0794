//! jira-mcp: an MCP server for Jira Cloud with task-level tools, and a
//! gVisor-sandboxed Python runner.
//!
//! `main` reads a validated [`Config`] (`config`) and hands it to [`JiraMcp`]
//! (`tools`: the application state and its task-level tools), which `server`
//! adapts to MCP and serves over stdio or streamable HTTP. `jira` is the REST
//! client (knows nothing of MCP), `sandbox` runs Python under Docker + gVisor,
//! `error` words every failure for the model, `limits` holds every promised
//! number, and `emulator` is a seeded in-memory Jira for the demo and the tests.
//! See ARCHITECTURE.md for the map and the invariants.

pub mod audit;
pub mod budget;
pub mod config;
pub mod confirm;
pub mod doctor;
pub mod emulator;
mod error;
pub mod fleet;
mod jira;
pub mod limits;
pub mod metrics;
mod progress;
mod sandbox;
pub mod scrub;
pub mod server;
pub mod telemetry;
mod tools;

pub use config::Config;
pub use tools::{BuildError, JiraMcp};
