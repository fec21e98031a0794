//! Shared tool plumbing: cursors, compact issue lines, user resolution, text caps.
//!
//! One file per toolset lives under `tools/`; each adds a `#[tool_router]`
//! impl block to [`crate::server::JiraMcp`].

pub(crate) mod comments;
pub(crate) mod delete;
pub(crate) mod issues;
pub(crate) mod python;
pub(crate) mod search;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::{
    error::ToolError,
    jira::{Jira, models::Issue},
};

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

/// `2026-11-20T10:30:00.000+0000` -> `2026-11-20`.
pub(crate) fn day(timestamp: Option<&str>) -> &str {
    timestamp.and_then(|t| t.get(..10)).unwrap_or("-")
}

/// Shortens to at most `max` characters, marking the cut with `…`.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default().trim_end()),
        None => text.to_owned(),
    }
}

/// The compact one-line view: `KEY | summary | status | assignee | priority | updated`.
pub(crate) fn issue_line(issue: &Issue) -> String {
    let f = &issue.fields;
    format!(
        "{} | {} | {} | {} | {} | {}",
        issue.key,
        clip(f.summary.as_deref().unwrap_or("(no summary)"), 80),
        f.status.as_ref().map_or("-", |s| s.name.as_str()),
        f.assignee.as_ref().map_or("Unassigned", |u| u.label()),
        f.priority.as_ref().map_or("-", |p| p.name.as_str()),
        day(f.updated.as_deref()),
    )
}

/// Who a user argument means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserChoice {
    Me,
    Nobody,
    Account { id: String, label: String },
}

/// Resolves "me", "none"/"unassigned", an email or a name to a Jira account.
pub(crate) async fn resolve_user(jira: &Jira, raw: &str) -> Result<UserChoice, ToolError> {
    let value = raw.trim();
    match value.to_ascii_lowercase().as_str() {
        "me" | "currentuser()" | "myself" => return Ok(UserChoice::Me),
        "none" | "unassigned" | "nobody" => return Ok(UserChoice::Nobody),
        "" => {
            return Err(ToolError::InvalidInput(
                "assignee is empty; give \"me\", \"none\", an email or a name".to_owned(),
            ));
        }
        _ => {}
    }
    let users = jira.find_users(value).await?;
    let exact: Vec<_> = users
        .iter()
        .filter(|u| {
            u.email_address.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(value))
                || u.display_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(value))
        })
        .collect();
    let pick = match (exact.as_slice(), users.as_slice()) {
        ([one], _) => *one,
        ([], [one]) => one,
        ([], []) => {
            return Err(ToolError::InvalidInput(format!(
                "no Jira user matches {value:?}. Give the email address of a user of this site, \"me\", or \"none\" to unassign"
            )));
        }
        _ => {
            let names: Vec<String> = users
                .iter()
                .map(|u| format!("{} <{}>", u.label(), u.email_address.as_deref().unwrap_or("email hidden")))
                .collect();
            return Err(ToolError::InvalidInput(format!(
                "{value:?} matches several users: {}. Repeat with the full email address",
                names.join(", ")
            )));
        }
    };
    let id =
        pick.account_id.clone().ok_or_else(|| ToolError::InvalidInput(format!("user {value:?} has no account id")))?;
    Ok(UserChoice::Account { id, label: pick.label().to_owned() })
}

/// The account id of "me", for writes that need an id rather than `currentUser()`.
pub(crate) async fn account_id(jira: &Jira, choice: UserChoice) -> Result<Option<String>, ToolError> {
    match choice {
        UserChoice::Me => Ok(jira.myself().await?.account_id),
        UserChoice::Nobody => Ok(None),
        UserChoice::Account { id, .. } => Ok(Some(id)),
    }
}

/// Converts a Markdown argument to ADF after checking its size (`field` names it in the error).
pub(crate) fn markdown_arg(field: &str, text: &str) -> Result<serde_json::Value, ToolError> {
    crate::jira::adf::check_markdown(text).map_err(|m| ToolError::InvalidInput(format!("{field}: {m}")))?;
    Ok(crate::jira::adf::from_markdown(text))
}

/// Parses a key argument, mapping the problem to an `InvalidInput` tool error.
pub(crate) fn key_arg(raw: &str) -> Result<String, ToolError> {
    crate::jira::jql::issue_key(raw).map_err(ToolError::InvalidInput)
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

    #[test]
    fn clip_marks_the_cut() {
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(day(Some("2026-11-20T10:30:00.000+0000")), "2026-11-20");
        assert_eq!(day(None), "-");
    }
}
