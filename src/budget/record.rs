//! The record of one call: what the MCP layer and the tools report, what the
//! store writes and the report reads. A leaf of `budget`.

use std::time::Duration;

/// One cut: `shown` units of `total` (characters, comments, issues, bytes), and
/// the bytes of what was shown of it (to price one unit in tokens).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cut {
    /// Which cap.
    pub cap: String,
    /// Units shown.
    pub shown: u64,
    /// Units there were (when known).
    pub total: Option<u64>,
    /// Bytes of the shown part in the result.
    pub shown_bytes: u64,
}

/// One tool call as recorded. Built by the MCP layer from facts only.
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// Unix time, milliseconds.
    pub at_ms: i64,
    /// A random id of the MCP session (tags of different sessions never match).
    pub session: String,
    /// The tool.
    pub tool: String,
    /// `ok`, or `error:KIND`.
    pub outcome: String,
    /// Wall time of the call.
    pub duration: Duration,
    /// Jira requests it sent.
    pub jira_requests: u32,
    /// Names of the arguments set, sorted.
    pub args: Vec<String>,
    /// Numeric size arguments given: (name, value).
    pub sizes: Vec<(String, u64)>,
    /// `include` sections given (enum values).
    pub include: Option<Vec<String>>,
    /// Whether a paging cursor was given.
    pub cursor: bool,
    /// Keyed hash of what the call was about (see [`tag`]).
    pub target: Option<String>,
    /// Caps that cut the output.
    pub cuts: Vec<Cut>,
    /// Image tokens of the result.
    pub image_tokens: u64,
}
