//! Serving `JiraMcp` over stdio: stdout is the JSON-RPC wire, logs go to stderr.

use rmcp::ServiceExt;

use crate::tools::JiraMcp;

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The client never completed `initialize`.
    #[error("MCP initialization failed: {0}")]
    Init(String),
    /// The service task failed.
    #[error("MCP service failed: {0}")]
    Service(String),
}

/// Serves one client on stdin/stdout until it disconnects.
///
/// # Errors
/// When the handshake fails or the service task dies.
pub async fn serve(server: JiraMcp) -> Result<(), ServeError> {
    let sweeper = server.clone();
    // Sweeping leftovers needs Docker; never delay the handshake for it.
    tokio::spawn(async move { sweeper.sweep_sandbox().await });
    let running = server.clone().serve(rmcp::transport::stdio()).await.map_err(|e| ServeError::Init(e.to_string()))?;
    let reason = running.waiting().await.map_err(|e| ServeError::Service(e.to_string()));
    // The client is gone: stop its runs and remove their containers before exiting.
    server.drain_sandbox().await;
    tracing::info!(reason = ?reason?, "stdio session ended");
    Ok(())
}
