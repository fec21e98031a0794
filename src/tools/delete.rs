//! The destructive toolset: `delete_issue`, behind a two-phase confirmation.
//!
//! Phase 1 (`confirm=false`) previews what would be deleted and issues a
//! single-use token bound to the issue key and its `updated` time. Phase 2
//! (`confirm=true`) deletes only with a fresh, matching token, and only if the
//! issue has not changed since the preview.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::{error::ToolError, server::JiraMcp, tools::key_arg};

/// How long a preview's token stays valid.
pub(crate) const TOKEN_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    key: String,
    updated: String,
    subtasks: usize,
    expires: Instant,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Unknown,
    Expired,
    OtherIssue(String),
}

/// Single-use confirmation tokens, in memory (a restart invalidates them all).
#[derive(Debug, Default)]
pub(crate) struct ConfirmStore {
    pending: Mutex<HashMap<String, Pending>>,
}

impl ConfirmStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Issues a token for `key` as it was at `updated`.
    pub(crate) fn issue(&self, key: &str, updated: &str, subtasks: usize, now: Instant) -> String {
        let token = format!("del-{}", uuid::Uuid::new_v4().simple());
        let mut map = self.lock();
        map.retain(|_, p| p.expires > now);
        map.insert(
            token.clone(),
            Pending { key: key.to_owned(), updated: updated.to_owned(), subtasks, expires: now + TOKEN_TTL },
        );
        token
    }

    /// Takes a token for `key`. A token for another issue stays valid for that issue;
    /// an expired one is dropped.
    pub(crate) fn redeem(&self, token: &str, key: &str, now: Instant) -> Result<Pending, Refusal> {
        let mut map = self.lock();
        let pending = map.get(token).ok_or(Refusal::Unknown)?;
        if pending.key != key {
            return Err(Refusal::OtherIssue(pending.key.clone()));
        }
        let pending = map.remove(token).ok_or(Refusal::Unknown)?;
        if pending.expires <= now {
            return Err(Refusal::Expired);
        }
        Ok(pending)
    }
}

/// Arguments of `delete_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteIssueParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// false (default): preview only, returns confirm_token. true: delete, needs confirm_token.
    #[serde(default)]
    confirm: bool,
    /// Token from the preview of this same issue; single use, valid 5 minutes.
    #[serde(default)]
    confirm_token: Option<String>,
}

#[tool_router(router = delete_router, vis = "pub(crate)")]
impl JiraMcp {
    /// PERMANENTLY delete an issue (and its subtasks). Two phases: call with confirm=false (the
    /// default) to get a preview (summary, status, subtask and comment counts) and a confirm_token;
    /// show the preview to the user and get their explicit approval; then call again with
    /// confirm=true and that confirm_token. Tokens are single use, bound to the issue and its last
    /// update, and expire after 5 minutes. Not for closing an issue (use transition_issue to "Done").
    #[tool(annotations(
        title = "Delete issue",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub(crate) async fn delete_issue(&self, Parameters(p): Parameters<DeleteIssueParams>) -> Result<String, ToolError> {
        let key = key_arg(&p.key)?;
        let issue = self.jira.issue(&key, "summary,status,updated,subtasks,comment", false).await?;
        let f = &issue.fields;
        let updated = f.updated.clone().unwrap_or_default();
        let subtasks = f.subtasks.len();
        let token_arg = p.confirm_token.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if !p.confirm {
            let comments = f.comment.as_ref().map_or(0, |c| c.total.unwrap_or(c.comments.len() as u64));
            let token = self.confirm.issue(&issue.key, &updated, subtasks, Instant::now());
            let also = if subtasks > 0 { format!(" and its {subtasks} subtask(s)") } else { String::new() };
            return Ok(format!(
                "PREVIEW (nothing deleted yet)\n{}: {}\nStatus: {} | Subtasks: {subtasks} | Comments: {comments} | Updated: {}\n\
                 This permanently deletes {}{also}, with all comments, attachments and history. It cannot be undone.\n\
                 To proceed, show this to the user, get explicit approval, then call delete_issue with key={}, confirm=true, \
                 confirm_token=\"{token}\" (valid 5 minutes, single use).",
                issue.key,
                f.summary.as_deref().unwrap_or("(no summary)"),
                f.status.as_ref().map_or("-", |s| s.name.as_str()),
                crate::tools::day(Some(&updated)),
                issue.key,
                issue.key,
            ));
        }
        let Some(token) = token_arg else {
            return Err(ToolError::Confirm(format!(
                "Refused: confirm=true needs confirm_token. Call delete_issue with key={key} and confirm=false first to get a preview and a token"
            )));
        };
        let pending = self.confirm.redeem(token, &issue.key, Instant::now()).map_err(|r| {
            ToolError::Confirm(match r {
                Refusal::Unknown => format!(
                    "Refused: confirm_token is not valid (never issued, already used, or issued before a server restart). \
                     Call delete_issue with key={key} and confirm=false for a fresh preview and token"
                ),
                Refusal::Expired => format!(
                    "Refused: confirm_token expired (tokens live 5 minutes). Call delete_issue with key={key} and \
                     confirm=false for a fresh preview, and confirm it with the user again"
                ),
                Refusal::OtherIssue(other) => format!(
                    "Refused: this confirm_token was issued for {other}, not {key}. Preview {key} itself (confirm=false) \
                     to get its own token"
                ),
            })
        })?;
        if pending.updated != updated || pending.subtasks != subtasks {
            return Err(ToolError::Confirm(format!(
                "Refused: {key} changed after the preview (it was updated at {updated}; the preview saw {}). Nothing was \
                 deleted. Call delete_issue with confirm=false for a fresh preview and confirm the current state with the user",
                pending.updated
            )));
        }
        self.jira.delete_issue(&issue.key, subtasks > 0).await?;
        let also = if subtasks > 0 { format!(" and its {subtasks} subtask(s)") } else { String::new() };
        Ok(format!("Deleted {}{also}. This cannot be undone.", issue.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_single_use() {
        let store = ConfirmStore::default();
        let now = Instant::now();
        let t = store.issue("DEMO-1", "u1", 0, now);
        assert!(store.redeem(&t, "DEMO-1", now).is_ok());
        assert_eq!(store.redeem(&t, "DEMO-1", now), Err(Refusal::Unknown));
    }

    #[test]
    fn token_for_another_issue_is_refused_and_kept() {
        let store = ConfirmStore::default();
        let now = Instant::now();
        let t = store.issue("DEMO-1", "u1", 0, now);
        assert_eq!(store.redeem(&t, "DEMO-2", now), Err(Refusal::OtherIssue("DEMO-1".into())));
        assert!(store.redeem(&t, "DEMO-1", now).is_ok(), "the rightful issue can still use it");
    }

    #[test]
    fn token_expires_after_the_ttl() {
        let store = ConfirmStore::default();
        let now = Instant::now();
        let t = store.issue("DEMO-1", "u1", 0, now);
        assert_eq!(store.redeem(&t, "DEMO-1", now + TOKEN_TTL), Err(Refusal::Expired));
        assert_eq!(store.redeem(&t, "DEMO-1", now), Err(Refusal::Unknown), "an expired token is gone");
    }

    #[test]
    fn unknown_tokens_are_refused() {
        let store = ConfirmStore::default();
        assert_eq!(store.redeem("del-nope", "DEMO-1", Instant::now()), Err(Refusal::Unknown));
    }
}
