//! Agile toolset: `list_sprints` (boards and sprints of a project), and finding a
//! sprint by what the model calls it ("active", "next", a name or an id) for the
//! sprint arguments of search_issues, summarize_project and update_issue.

use std::fmt::Write as _;

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    JiraMcp,
    text::{day, one_line},
};
use crate::{
    error::ToolError,
    jira::{
        Jira, jql,
        models::{Board, Sprint},
    },
};

/// Arguments of `list_sprints`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListSprintsParams {
    /// Project key, e.g. DEMO.
    project: String,
}

/// `name (state, start → end)`, the way every tool names a sprint.
pub(crate) fn sprint_label(s: &Sprint) -> String {
    match (&s.start_date, &s.end_date) {
        (Some(start), Some(end)) => {
            format!("{} ({}, {} → {})", one_line(&s.name), one_line(&s.state), day(Some(start)), day(Some(end)))
        }
        _ => format!("{} ({})", one_line(&s.name), one_line(&s.state)),
    }
}

/// The scrum boards of a project and their sprints.
async fn project_sprints(jira: &Jira, project: &str) -> Result<Vec<(Board, Vec<Sprint>)>, ToolError> {
    let mut out = Vec::new();
    for board in jira.boards(project).await?.iter().filter(|b| b.kind == "scrum") {
        out.push((board.clone(), jira.sprints(board.id).await?.as_ref().clone()));
    }
    Ok(out)
}

/// The sprint of `project` that `wanted` names: "active", "next" (the first future
/// one), a sprint name (any case) or a sprint id.
pub(crate) async fn find_sprint(jira: &Jira, project: &str, wanted: &str) -> Result<Sprint, ToolError> {
    let project = jql::project_key(project).map_err(ToolError::InvalidInput)?;
    let boards = project_sprints(jira, &project).await?;
    let all: Vec<&Sprint> = boards.iter().flat_map(|(_, sprints)| sprints.iter()).collect();
    let w = wanted.trim();
    let found = match w.to_ascii_lowercase().as_str() {
        "active" | "current" => all.iter().find(|s| s.state == "active"),
        "next" | "future" => all.iter().find(|s| s.state == "future"),
        lower => all.iter().find(|s| s.name.to_ascii_lowercase() == lower || s.id.to_string() == lower),
    };
    found.map(|s| (*s).clone()).ok_or_else(|| {
        let names: Vec<String> = all.iter().map(|s| sprint_label(s)).collect();
        ToolError::InvalidInput(if boards.is_empty() {
            format!("project {project} has no scrum board, so it has no sprints")
        } else {
            format!(
                "no sprint of {project} matches {w:?}. Give \"active\", \"next\", a sprint name or id; sprints: {}",
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            )
        })
    })
}

#[tool_router(router = agile_router, vis = "pub(crate)")]
impl JiraMcp {
    /// A project's boards and sprints (active, future, last closed): id, dates, goal, one line
    /// each, for the sprint arguments of other tools. Not for a sprint's issues or progress
    /// (search_issues or summarize_project with sprint).
    #[tool(annotations(title = "List sprints", read_only_hint = true, open_world_hint = true))]
    pub(crate) async fn list_sprints(&self, Parameters(p): Parameters<ListSprintsParams>) -> Result<String, ToolError> {
        let project = jql::project_key(&p.project).map_err(ToolError::InvalidInput)?;
        let boards = self.jira.boards(&project).await?;
        if boards.is_empty() {
            return Ok(format!("{project} has no boards."));
        }
        let mut out = String::new();
        for board in boards.iter() {
            let _ = writeln!(out, "Board {} (id {}, {})", one_line(&board.name), board.id, one_line(&board.kind));
            if board.kind != "scrum" {
                out.push_str("- no sprints (not a scrum board)\n");
                continue;
            }
            let sprints = self.jira.sprints(board.id).await?;
            let closed: Vec<&Sprint> = sprints.iter().filter(|s| s.state == "closed").collect();
            let shown = sprints
                .iter()
                .filter(|s| s.state != "closed")
                .chain(closed.iter().rev().take(3).copied())
                .collect::<Vec<_>>();
            if shown.is_empty() {
                out.push_str("- no sprints\n");
            }
            for s in shown {
                let goal = s
                    .goal
                    .as_deref()
                    .filter(|g| !g.is_empty())
                    .map(|g| format!(" | goal: {}", one_line(g)))
                    .unwrap_or_default();
                let _ = writeln!(out, "- {} | id {}{goal}", sprint_label(s), s.id);
            }
            if closed.len() > 3 {
                let _ = writeln!(out, "- (+{} older closed sprints)", closed.len() - 3);
            }
        }
        Ok(out.trim_end().to_owned())
    }
}
