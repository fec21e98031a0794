//! Fields toolset: `describe_fields`, what the model may set on an issue and to
//! which values.
//!
//! A tool rather than a resource template: models call tools on their own when a
//! write is refused, while resources depend on the client showing them, and
//! the answer needs arguments (project and type, or an issue) that a URI
//! template would hide.

use std::fmt::Write as _;

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    JiraMcp,
    args::{key_arg, some_trimmed},
    custom::screen_line,
};
use crate::{error::ToolError, jira::jql};

/// Allowed values listed per field before "+N more".
const VALUES_SHOWN: usize = 12;

/// Arguments of `describe_fields`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DescribeFieldsParams {
    /// Project key for a new issue, e.g. DEMO.
    project: Option<String>,
    /// Issue type for a new issue, e.g. Bug.
    issue_type: Option<String>,
    /// Key of an existing issue, e.g. DEMO-12.
    key: Option<String>,
}

#[tool_router(router = fields_router, vis = "pub(crate)")]
impl JiraMcp {
    /// What can be set when creating (project + issue_type) or editing (key) an issue: one line
    /// per field, name (id) | type | required | allowed values. Use it before create_issue or
    /// update_issue with fields. Not for current values (use get_issue).
    #[tool(annotations(title = "Describe fields", read_only_hint = true, open_world_hint = true))]
    pub(crate) async fn describe_fields(
        &self,
        Parameters(p): Parameters<DescribeFieldsParams>,
    ) -> Result<String, ToolError> {
        let (title, screen) =
            match (some_trimmed(p.key.as_ref()), some_trimmed(p.project.as_ref()), some_trimmed(p.issue_type.as_ref()))
            {
                (Some(key), None, None) => {
                    let key = key_arg(key)?;
                    (format!("Fields you can change on {key}"), self.jira.edit_screen(&key).await?)
                }
                (None, Some(project), Some(type_name)) => {
                    let project = jql::project_key(project).map_err(ToolError::InvalidInput)?;
                    let types = self.jira.issue_types(&project).await?;
                    let Some(t) = types.iter().find(|t| t.name.eq_ignore_ascii_case(type_name)) else {
                        let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
                        return Err(ToolError::InvalidInput(format!(
                            "issue type {type_name:?} does not exist in {project}. Valid types: {}",
                            names.join(", ")
                        )));
                    };
                    (
                        format!("Fields for a new {} in {project}", t.name),
                        self.jira.create_screen(&project, &t.id).await?,
                    )
                }
                _ => {
                    return Err(ToolError::InvalidInput(
                        "give key (to edit an issue) or project and issue_type (to create one), not both".to_owned(),
                    ));
                }
            };
        let mut fields: Vec<_> = screen.iter().filter(|f| !matches!(f.key.as_str(), "project" | "issuetype")).collect();
        fields.sort_by_key(|f| (!f.required, f.name.to_lowercase()));
        let mut out = format!("{title} (pass them in the fields argument by name or id):\n");
        for f in fields {
            let _ = writeln!(out, "{}", screen_line(f, VALUES_SHOWN));
        }
        Ok(out.trim_end().to_owned())
    }
}
