//! Logging: human-readable lines on stderr only (stdout is the MCP wire in stdio mode).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` overrides the default: info for this
/// crate, warnings only for libraries (rmcp logs every handshake at info).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,jira_mcp=info"));
    let installed = tracing_subscriber::fmt()
        // Every line passes the credential scrubber (an echoed token must not reach the log).
        .with_writer(|| crate::scrub::Scrubbing(std::io::stderr()))
        .with_ansi(false)
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
    // Already installed (tests call init more than once): keep the first.
    drop(installed);
}
