//! Opaque paging cursors: Jira's page token bound to a hash of the query it belongs to,
//! so a cursor can only continue the query that produced it.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;

/// Opaque paging cursor: Jira's page token bound to a hash of the query it belongs to.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Cursor {
    /// FNV-1a of the JQL the token was issued for.
    q: String,
    /// Jira's nextPageToken.
    t: String,
}

/// FNV-1a, 64 bit: stable across builds and platforms (unlike `DefaultHasher`).
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Wraps Jira's token into a cursor bound to `jql`.
pub(crate) fn encode_cursor(jql: &str, token: &str) -> String {
    let cursor = Cursor { q: format!("{:x}", fnv1a(jql)), t: token.to_owned() };
    let json = serde_json::to_vec(&cursor).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// Unwraps a cursor, refusing one that was issued for a different query.
pub(crate) fn decode_cursor(jql: &str, cursor: &str, tool: &str) -> Result<String, ToolError> {
    let cursor: Cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            ToolError::InvalidInput(format!(
                "cursor is not one that {tool} issued. Pass the cursor value exactly as the previous page \
                 printed it, or omit cursor to start from the first page"
            ))
        })?;
    if cursor.q != format!("{:x}", fnv1a(jql)) {
        return Err(ToolError::InvalidInput(
            "this cursor belongs to a different query. A cursor only continues the exact query (same \
             jql or filters) that produced it: repeat that query with it, or omit cursor to start this \
             new query from the first page"
                .to_owned(),
        ));
    }
    Ok(cursor.t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_for_the_same_query() {
        let c = encode_cursor("project = DEMO", "tok-1");
        assert_eq!(decode_cursor("project = DEMO", &c, "search_issues").unwrap(), "tok-1");
    }

    #[test]
    fn cursor_for_another_query_is_refused_with_a_next_step() {
        let c = encode_cursor("project = DEMO", "tok-1");
        let err = decode_cursor("project = OPS", &c, "search_issues").unwrap_err().to_string();
        assert!(err.starts_with("Invalid input: this cursor belongs to a different query."), "{err}");
        assert!(err.contains("omit cursor"), "{err}");
    }

    #[test]
    fn garbage_cursor_is_refused() {
        let err = decode_cursor("q", "not-a-cursor!", "search_issues").unwrap_err().to_string();
        assert!(err.contains("cursor is not one that search_issues issued"), "{err}");
    }
}
