//! The destructive toolset: `delete_issue`, behind a two-phase confirmation.
//!
//! Phase 1 (`confirm=false`) previews what would be deleted and issues a
//! single-use token bound to the issue key and its `updated` time. Phase 2
//! (`confirm=true`) deletes only with a fresh, matching token, and only if the
//! issue has not changed since the preview.

use std::time::SystemTime;

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    JiraMcp,
    args::key_arg,
    text::{day, one_line},
};
use crate::{confirm::Refusal, error::ToolError, jira, limits::CONFIRM_TTL_MINUTES};

/// The tool description, with the token lifetime it enforces.
fn description() -> String {
    format!(
        "PERMANENTLY delete an issue and its subtasks, in two phases: confirm=false (default) returns a\n\
         preview and a confirm_token; show the preview to the user and get their explicit approval; then\n\
         call with confirm=true and that token (single use, bound to the issue's last update, valid\n\
         {CONFIRM_TTL_MINUTES} minutes). Not for closing an issue (use transition_issue to \"Done\")."
    )
}

/// Arguments of `delete_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteIssueParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// false (default): preview and confirm_token. true: delete (needs confirm_token).
    #[serde(default)]
    confirm: bool,
    /// Token from the preview of this same issue; single use, valid [`CONFIRM_TTL_MINUTES`].
    #[schemars(description = format!(
        "Token from this issue's preview (valid {CONFIRM_TTL_MINUTES} minutes)."
    ))]
    confirm_token: Option<String>,
}

#[tool_router(router = delete_router, vis = "pub(crate)")]
impl JiraMcp {
    /// Deletes an issue behind the two-phase confirmation; see [`description`].
    #[tool(
        description = description(),
        annotations(
        title = "Delete issue",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    )
    )]
    pub(crate) async fn delete_issue(&self, Parameters(p): Parameters<DeleteIssueParams>) -> Result<String, ToolError> {
        let key = key_arg(&p.key)?;
        let issue = self.jira.issue(&key, "summary,status,updated,subtasks,comment", false).await?;
        let f = &issue.fields;
        let updated = f.updated.clone().unwrap_or_default();
        let subtasks = f.subtasks.len();
        let token_arg = p.confirm_token.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if !p.confirm {
            let comments = f.comment.as_ref().map_or(0, |c| c.total.unwrap_or(c.comments.len() as u64));
            let token = self.confirm.issue(&issue.key, &updated, subtasks, SystemTime::now());
            let also = if subtasks > 0 { format!(" and its {subtasks} subtask(s)") } else { String::new() };
            return Ok(format!(
                "PREVIEW (nothing deleted yet)\n{}: {}\nStatus: {} | Subtasks: {subtasks} | Comments: {comments} | Updated: {}\n\
                 This permanently deletes {}{also}, with all comments, attachments and history. It cannot be undone.\n\
                 To proceed, show this to the user, get explicit approval, then call delete_issue with key={}, confirm=true, \
                 confirm_token=\"{token}\" (valid {CONFIRM_TTL_MINUTES} minutes, single use).",
                issue.key,
                one_line(f.summary.as_deref().unwrap_or("(no summary)")),
                one_line(f.status.as_ref().map_or("-", |s| s.name.as_str())),
                day(Some(&updated)),
                issue.key,
                issue.key,
            ));
        }
        let Some(token) = token_arg else {
            return Err(ToolError::Confirm(format!(
                "Refused: confirm=true needs confirm_token. Call delete_issue with key={key} and confirm=false first to get a preview and a token"
            )));
        };
        let pending = self.confirm.redeem(token, &issue.key, SystemTime::now()).await.map_err(|r| {
            ToolError::Confirm(match r {
                Refusal::Unknown => format!(
                    "Refused: confirm_token is not valid (never issued, already used, or issued before a server restart). \
                     Call delete_issue with key={key} and confirm=false for a fresh preview and token"
                ),
                Refusal::Expired => format!(
                    "Refused: confirm_token expired (tokens live {CONFIRM_TTL_MINUTES} minutes). Call delete_issue with key={key} and \
                     confirm=false for a fresh preview, and confirm it with the user again"
                ),
                Refusal::OtherIssue(other) => format!(
                    "Refused: this confirm_token was issued for {other}, not {key}. Preview {key} itself (confirm=false) \
                     to get its own token"
                ),
                Refusal::Unavailable => format!(
                    "Refused: cannot check that this confirm_token was not used already, because the fleet's shared \
                     store (Redis) does not answer. Nothing was deleted. Try again in a moment with the same key={key}, \
                     confirm=true and this token (it stays valid {CONFIRM_TTL_MINUTES} minutes from the preview)"
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
        let also = if subtasks > 0 { format!(" and its {subtasks} subtask(s)") } else { String::new() };
        match self.jira.delete_issue(&issue.key, subtasks > 0).await {
            Ok(()) => Ok(format!("Deleted {}{also}. This cannot be undone.", issue.key)),
            Err(lost @ jira::Error::Unconfirmed { .. }) => {
                // Cheap to find out: a deleted issue answers 404.
                match self.jira.issue(&issue.key, "summary", false).await {
                    Err(jira::Error::IssueNotFound { .. }) => Ok(format!(
                        "Deleted {}{also}. This cannot be undone. Jira's answer was lost ({lost}); reading {} back \
                         answers 404, so the deletion was applied.",
                        issue.key, issue.key
                    )),
                    _ => Err(lost.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}
