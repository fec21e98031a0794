//! `ToolError`: the single place that decides what a caller sees when a tool fails.
//!
//! Everything the model can act on (bad input, unknown key, 401, 429, sandbox
//! limits) becomes a tool result with `isError: true` and a message that names
//! the problem and the next move. Nothing here becomes a JSON-RPC error:
//! clients render those opaquely, so the model would learn nothing.

use rmcp::{
    ErrorData as McpError,
    handler::server::tool::IntoCallToolResult,
    model::{CallToolResponse, CallToolResult, ContentBlock},
};

use crate::{jira, sandbox};

/// An error raised while running a tool.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ToolError {
    /// Jira said no, or could not be reached.
    #[error(transparent)]
    Jira(#[from] jira::Error),
    /// The sandbox could not run the code.
    #[error(transparent)]
    Sandbox(#[from] sandbox::Error),
    /// The arguments are wrong in a way the schema cannot express.
    #[error("Invalid input: {0}")]
    InvalidInput(String),
    /// The delete confirmation protocol refused the call.
    #[error("{0}")]
    Confirm(String),
}

impl ToolError {
    /// A short, argument-free name for logs: error texts quote user input.
    fn kind(&self) -> &'static str {
        match self {
            Self::Jira(_) => "jira",
            Self::Sandbox(_) => "sandbox",
            Self::InvalidInput(_) => "invalid_input",
            Self::Confirm(_) => "confirm_refused",
        }
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, McpError> {
        tracing::info!(kind = self.kind(), "tool error");
        Ok(CallToolResult::error(vec![ContentBlock::text(self.to_string())]).into())
    }
}
