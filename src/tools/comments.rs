//! Comment toolset: `add_comment`.

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    JiraMcp,
    args::{key_arg, markdown_arg},
};
use crate::error::ToolError;

/// Arguments of `add_comment`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddCommentParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// Comment text in Markdown (lists, code, links, tables).
    body: String,
}

#[tool_router(router = comments_router, vis = "pub(crate)")]
impl JiraMcp {
    /// Add a Markdown comment to an issue (converted to Jira's format). Returns the comment id.
    /// Not for editing fields (use update_issue); to comment while changing status use
    /// transition_issue's comment.
    #[tool(annotations(
        title = "Add comment",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub(crate) async fn add_comment(&self, Parameters(p): Parameters<AddCommentParams>) -> Result<String, ToolError> {
        let key = key_arg(&p.key)?;
        if p.body.trim().is_empty() {
            return Err(ToolError::InvalidInput("body is empty; give the comment text in Markdown".to_owned()));
        }
        let id = self.jira.add_comment(&key, markdown_arg(&self.jira, "body", &p.body).await?).await?;
        Ok(format!("Added comment {id} to {key}."))
    }
}
