//! Issue toolset: read one issue whole, create, update, transition by status name.

use std::fmt::Write as _;

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    JiraMcp,
    args::{account_id, key_arg, markdown_arg, resolve_user},
    text::{block, clip, day, one_line},
};
use crate::{
    error::ToolError,
    jira::{Jira, adf, jql, models::Issue},
    limits::{COMMENTS, DESCRIPTION_CHARS},
};

/// Sections `get_issue` can include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Section {
    Description,
    Comments,
    Subtasks,
    Links,
    History,
}

const ALL_SECTIONS: [Section; 5] =
    [Section::Description, Section::Comments, Section::Subtasks, Section::Links, Section::History];

fn default_max_chars() -> u32 {
    DESCRIPTION_CHARS.default
}

fn default_comments() -> u32 {
    COMMENTS.default
}

/// Arguments of `get_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetIssueParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// Sections to add to the core fields (default: all).
    include: Option<Vec<Section>>,
    /// Cap on description characters ([`DESCRIPTION_CHARS`]).
    #[serde(default = "default_max_chars")]
    #[schemars(
        range(min = DESCRIPTION_CHARS.min, max = DESCRIPTION_CHARS.max),
        description = format!("Cap on description characters (default {}, max {}).", DESCRIPTION_CHARS.default, DESCRIPTION_CHARS.max)
    )]
    description_max_chars: u32,
    /// Newest comments to show ([`COMMENTS`]).
    #[serde(default = "default_comments")]
    #[schemars(
        range(min = COMMENTS.min, max = COMMENTS.max),
        description = format!("Newest comments to show (default {}, max {}).", COMMENTS.default, COMMENTS.max)
    )]
    max_comments: u32,
}

/// Arguments of `create_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateIssueParams {
    /// Project key, e.g. DEMO.
    project: String,
    /// Issue type name, e.g. Task, Bug, Story, Subtask.
    issue_type: String,
    /// One-line title.
    summary: String,
    /// Description in Markdown.
    description: Option<String>,
    /// Priority name, e.g. High.
    priority: Option<String>,
    /// Labels (no spaces).
    #[serde(default)]
    labels: Vec<String>,
    /// "me", an email or a display name.
    assignee: Option<String>,
    /// Parent issue key; required for subtasks.
    parent: Option<String>,
}

/// Arguments of `update_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateIssueParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// New one-line title.
    summary: Option<String>,
    /// New description in Markdown (replaces the old one).
    description: Option<String>,
    /// New priority name.
    priority: Option<String>,
    /// Labels to add.
    #[serde(default)]
    add_labels: Vec<String>,
    /// Labels to remove.
    #[serde(default)]
    remove_labels: Vec<String>,
    /// "me", "none" to unassign, an email or a display name.
    assignee: Option<String>,
}

/// Arguments of `transition_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransitionIssueParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// Target status name, e.g. "Done" (or a transition name).
    status: String,
    /// Comment in Markdown to add with the move.
    comment: Option<String>,
}

fn check_labels(labels: &[String]) -> Result<(), ToolError> {
    match labels.iter().find(|l| l.trim().is_empty() || l.contains(char::is_whitespace)) {
        Some(bad) => Err(ToolError::InvalidInput(format!(
            "label {bad:?} is empty or has spaces; Jira labels are single words like needs-review"
        ))),
        None => Ok(()),
    }
}

/// Checks a priority name against the site's list; the error lists the valid ones.
async fn check_priority(jira: &Jira, name: &str) -> Result<String, ToolError> {
    let all = jira.priorities().await?;
    all.iter().find(|p| p.name.eq_ignore_ascii_case(name.trim())).map(|p| p.name.clone()).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        ToolError::InvalidInput(format!(
            "priority {name:?} does not exist. Valid priorities: {}",
            one_line(&names.join(", "))
        ))
    })
}

#[tool_router(router = issues_router, vis = "pub(crate)")]
impl JiraMcp {
    /// One issue's whole story in one call: type, status, priority, people, labels, dates, parent,
    /// then the sections in `include` (default all): description as Markdown (capped, with a
    /// visible truncation marker), newest comments, subtasks, links, recent status changes.
    /// Not for finding issues (use search_issues).
    #[tool(annotations(title = "Get issue", read_only_hint = true, open_world_hint = true))]
    pub(crate) async fn get_issue(&self, Parameters(p): Parameters<GetIssueParams>) -> Result<String, ToolError> {
        let key = key_arg(&p.key)?;
        if !DESCRIPTION_CHARS.contains(p.description_max_chars) {
            return Err(ToolError::InvalidInput(format!(
                "description_max_chars must be {DESCRIPTION_CHARS}, got {}",
                p.description_max_chars
            )));
        }
        if !COMMENTS.contains(p.max_comments) {
            return Err(ToolError::InvalidInput(format!("max_comments must be {COMMENTS}, got {}", p.max_comments)));
        }
        let include = p.include.unwrap_or_else(|| ALL_SECTIONS.to_vec());
        let opts = RenderOptions {
            include,
            description_max_chars: p.description_max_chars as usize,
            max_comments: p.max_comments as usize,
        };
        self.render_issue(&key, &opts).await
    }

    /// Create an issue. Description is Markdown (converted to Jira's format). Assignee: "me", an
    /// email or a name. An unknown project or issue type is refused with the valid ones listed.
    /// Returns the new key. Not for changing an existing issue (use update_issue).
    #[tool(annotations(
        title = "Create issue",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub(crate) async fn create_issue(&self, Parameters(p): Parameters<CreateIssueParams>) -> Result<String, ToolError> {
        let project = jql::project_key(&p.project).map_err(ToolError::InvalidInput)?;
        let summary = p.summary.trim();
        if summary.is_empty() {
            return Err(ToolError::InvalidInput("summary is empty; give a one-line title".to_owned()));
        }
        check_labels(&p.labels)?;
        let types = self.jira.issue_types(&project).await?;
        let Some(issue_type) = types.iter().find(|t| t.name.eq_ignore_ascii_case(p.issue_type.trim())) else {
            let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
            return Err(ToolError::InvalidInput(format!(
                "issue type {:?} does not exist in {project}. Valid types: {}",
                p.issue_type,
                one_line(&names.join(", "))
            )));
        };
        let parent = p.parent.as_deref().map(key_arg).transpose()?;
        if issue_type.subtask && parent.is_none() {
            return Err(ToolError::InvalidInput(format!(
                "{} is a subtask type: give parent (the key of the parent issue)",
                issue_type.name
            )));
        }
        let mut fields = Map::new();
        fields.insert("project".to_owned(), json!({ "key": project }));
        fields.insert("issuetype".to_owned(), json!({ "name": issue_type.name }));
        fields.insert("summary".to_owned(), json!(summary));
        if let Some(d) = p.description.as_deref().filter(|d| !d.trim().is_empty()) {
            fields.insert("description".to_owned(), markdown_arg("description", d)?);
        }
        if let Some(pr) = p.priority.as_deref() {
            fields.insert("priority".to_owned(), json!({ "name": check_priority(&self.jira, pr).await? }));
        }
        if !p.labels.is_empty() {
            fields.insert("labels".to_owned(), json!(p.labels));
        }
        if let Some(parent) = &parent {
            fields.insert("parent".to_owned(), json!({ "key": parent }));
        }
        if let Some(a) = p.assignee.as_deref() {
            let choice = resolve_user(&self.jira, a).await?;
            fields.insert(
                "assignee".to_owned(),
                account_id(&self.jira, choice).await?.map_or(Value::Null, |id| json!({ "accountId": id })),
            );
        }
        let key = self.jira.create_issue(Value::Object(fields)).await?;
        Ok(format!(
            "Created {key} ({} in {project}): {}\nLink: {}/browse/{key}\nView it with get_issue key={key}.",
            one_line(&issue_type.name),
            one_line(summary),
            self.site,
            key = one_line(&key),
        ))
    }

    /// Change an issue's summary, description (Markdown), priority, labels (add/remove) and/or
    /// assignee ("none" unassigns) in one call. Only the given fields change. Not for status
    /// changes (use transition_issue) or comments (use add_comment).
    #[tool(annotations(
        title = "Update issue",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    pub(crate) async fn update_issue(&self, Parameters(p): Parameters<UpdateIssueParams>) -> Result<String, ToolError> {
        let key = key_arg(&p.key)?;
        check_labels(&p.add_labels)?;
        check_labels(&p.remove_labels)?;
        let mut fields = Map::new();
        let mut changed = Vec::new();
        if let Some(s) = p.summary.as_deref() {
            if s.trim().is_empty() {
                return Err(ToolError::InvalidInput("summary is empty; omit it to keep the current one".to_owned()));
            }
            fields.insert("summary".to_owned(), json!(s.trim()));
            changed.push("summary".to_owned());
        }
        if let Some(d) = p.description.as_deref() {
            fields.insert("description".to_owned(), markdown_arg("description", d)?);
            changed.push("description".to_owned());
        }
        if let Some(pr) = p.priority.as_deref() {
            let name = check_priority(&self.jira, pr).await?;
            fields.insert("priority".to_owned(), json!({ "name": name }));
            changed.push(format!("priority={name}"));
        }
        if let Some(a) = p.assignee.as_deref() {
            let choice = resolve_user(&self.jira, a).await?;
            let id = account_id(&self.jira, choice).await?;
            changed.push(format!("assignee={}", if id.is_some() { a.trim() } else { "none" }));
            fields.insert("assignee".to_owned(), id.map_or(Value::Null, |id| json!({ "accountId": id })));
        }
        let mut ops: Vec<Value> = p.add_labels.iter().map(|l| json!({ "add": l })).collect();
        ops.extend(p.remove_labels.iter().map(|l| json!({ "remove": l })));
        if !p.add_labels.is_empty() || !p.remove_labels.is_empty() {
            let mut desc: Vec<String> = p.add_labels.iter().map(|l| format!("+{l}")).collect();
            desc.extend(p.remove_labels.iter().map(|l| format!("-{l}")));
            changed.push(format!("labels {}", desc.join(" ")));
        }
        if changed.is_empty() {
            return Err(ToolError::InvalidInput(
                "nothing to change: give at least one of summary, description, priority, add_labels, remove_labels, assignee".to_owned(),
            ));
        }
        let mut body = json!({ "fields": fields });
        if !ops.is_empty()
            && let Some(obj) = body.as_object_mut()
        {
            obj.insert("update".to_owned(), json!({ "labels": ops }));
        }
        self.jira.edit_issue(&key, &body).await?;
        Ok(format!("Updated {key}: {}", changed.join(", ")))
    }

    /// Move an issue to a status by NAME (e.g. "Done"); the transition is found server-side.
    /// If the status cannot be reached from the current one, the error lists the reachable
    /// statuses. Optional Markdown comment. Not for other field changes (use update_issue).
    #[tool(annotations(
        title = "Transition issue",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub(crate) async fn transition_issue(
        &self,
        Parameters(p): Parameters<TransitionIssueParams>,
    ) -> Result<String, ToolError> {
        let key = key_arg(&p.key)?;
        let target = p.status.trim();
        let transitions = self.jira.transitions(&key).await?;
        let chosen = transitions
            .iter()
            .find(|t| t.to.name.eq_ignore_ascii_case(target))
            .or_else(|| transitions.iter().find(|t| t.name.eq_ignore_ascii_case(target)));
        let Some(t) = chosen else {
            let issue = self.jira.issue(&key, "status", false).await?;
            let current = issue.fields.status.map(|s| s.name).unwrap_or_default();
            if current.eq_ignore_ascii_case(target) {
                return Ok(format!("{key} is already in status {}; nothing changed.", one_line(&current)));
            }
            let options: Vec<String> = transitions
                .iter()
                .map(|t| format!("\"{}\" (via \"{}\")", one_line(&t.to.name), one_line(&t.name)))
                .collect();
            let list = if options.is_empty() {
                "none (the workflow allows no move from here)".to_owned()
            } else {
                options.join(", ")
            };
            return Err(ToolError::InvalidInput(format!(
                "{key} cannot move from \"{}\" to \"{}\" directly. Reachable statuses: {list}. \
                 Move through one of them first, or check the status name",
                one_line(&current),
                one_line(target)
            )));
        };
        let comment =
            p.comment.as_deref().filter(|c| !c.trim().is_empty()).map(|c| markdown_arg("comment", c)).transpose()?;
        let with_comment = comment.is_some();
        self.jira.transition(&key, &t.id, comment).await?;
        Ok(format!(
            "Moved {key} to \"{}\" (transition \"{}\"){}.",
            one_line(&t.to.name),
            one_line(&t.name),
            if with_comment { " and added the comment" } else { "" }
        ))
    }
}

/// What `render_issue` shows.
#[derive(Debug, Clone)]
struct RenderOptions {
    include: Vec<Section>,
    description_max_chars: usize,
    max_comments: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            include: ALL_SECTIONS.to_vec(),
            description_max_chars: DESCRIPTION_CHARS.default as usize,
            max_comments: COMMENTS.default as usize,
        }
    }
}

impl JiraMcp {
    /// The `jira://issue/{key}` resource: `get_issue` with its defaults, with the
    /// same key check and the same errors.
    pub(crate) async fn issue_resource(&self, raw_key: &str) -> Result<String, ToolError> {
        self.render_issue(&key_arg(raw_key)?, &RenderOptions::default()).await
    }

    /// Fetches and renders one issue; shared by `get_issue` and the `jira://issue/{key}` resource.
    async fn render_issue(&self, key: &str, opts: &RenderOptions) -> Result<String, ToolError> {
        let has = |s: Section| opts.include.contains(&s);
        let mut fields = vec![
            "summary",
            "status",
            "assignee",
            "reporter",
            "priority",
            "issuetype",
            "labels",
            "created",
            "updated",
            "parent",
            "project",
        ];
        if has(Section::Description) {
            fields.push("description");
        }
        if has(Section::Comments) {
            fields.push("comment");
        }
        if has(Section::Subtasks) {
            fields.push("subtasks");
        }
        if has(Section::Links) {
            fields.push("issuelinks");
        }
        let issue = self.jira.issue(key, &fields.join(","), has(Section::History)).await?;
        Ok(render(&issue, opts, &self.site))
    }
}

fn render(issue: &Issue, opts: &RenderOptions, site: &str) -> String {
    let f = &issue.fields;
    let has = |s: Section| opts.include.contains(&s);
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", one_line(&issue.key), one_line(f.summary.as_deref().unwrap_or("(no summary)")));
    let _ = writeln!(
        out,
        "Type: {} | Status: {} | Priority: {}",
        one_line(f.issuetype.as_ref().map_or("-", |t| t.name.as_str())),
        one_line(f.status.as_ref().map_or("-", |s| s.name.as_str())),
        one_line(f.priority.as_ref().map_or("-", |p| p.name.as_str())),
    );
    let _ = writeln!(
        out,
        "Assignee: {} | Reporter: {}",
        one_line(f.assignee.as_ref().map_or("Unassigned", |u| u.label())),
        one_line(f.reporter.as_ref().map_or("-", |u| u.label())),
    );
    let labels = if f.labels.is_empty() { "-".to_owned() } else { one_line(&f.labels.join(", ")).into_owned() };
    let _ = writeln!(
        out,
        "Labels: {labels} | Created: {} | Updated: {}",
        day(f.created.as_deref()),
        day(f.updated.as_deref())
    );
    let _ = writeln!(out, "Link: {site}/browse/{}", one_line(&issue.key));
    if let Some(parent) = &f.parent {
        let summary = parent.fields.as_ref().and_then(|x| x.summary.as_deref()).unwrap_or_default();
        let _ = writeln!(out, "Parent: {} {}", one_line(&parent.key), clip(&one_line(summary), 60));
    }
    if has(Section::Description) {
        let text = f.description.as_ref().map(adf::to_markdown).unwrap_or_default();
        let _ = writeln!(out, "\n## Description");
        if text.is_empty() {
            out.push_str("(empty)\n");
        } else {
            let total = text.chars().count();
            if total > opts.description_max_chars {
                let cut = block(&clip(&text, opts.description_max_chars));
                let _ = writeln!(
                    out,
                    "{cut}\n[description truncated: showing {} of {total} characters; call get_issue with a larger description_max_chars to read more]",
                    opts.description_max_chars
                );
            } else {
                let _ = writeln!(out, "{}", block(&text));
            }
        }
    }
    if has(Section::Subtasks) && !f.subtasks.is_empty() {
        let _ = writeln!(out, "\n## Subtasks ({})", f.subtasks.len());
        for s in &f.subtasks {
            let sf = s.fields.clone().unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} | {} | {}",
                one_line(&s.key),
                clip(&one_line(sf.summary.as_deref().unwrap_or_default()), 70),
                one_line(&sf.status.map(|x| x.name).unwrap_or_default())
            );
        }
    }
    if has(Section::Links) && !f.issuelinks.is_empty() {
        let _ = writeln!(out, "\n## Links ({})", f.issuelinks.len());
        for l in &f.issuelinks {
            let (verb, other) = match (&l.outward_issue, &l.inward_issue) {
                (Some(o), _) => (l.link_type.outward.as_deref().unwrap_or(&l.link_type.name), o),
                (None, Some(i)) => (l.link_type.inward.as_deref().unwrap_or(&l.link_type.name), i),
                (None, None) => continue,
            };
            let of = other.fields.clone().unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} {} | {} | {}",
                one_line(verb),
                one_line(&other.key),
                clip(&one_line(of.summary.as_deref().unwrap_or_default()), 60),
                one_line(&of.status.map(|x| x.name).unwrap_or_default())
            );
        }
    }
    if has(Section::Comments) {
        let page = f.comment.clone().unwrap_or_default();
        let total = page.total.unwrap_or(page.comments.len() as u64);
        let shown: Vec<_> = page.comments.iter().rev().take(opts.max_comments).collect();
        let _ = writeln!(out, "\n## Comments ({} of {total}, newest first)", shown.len());
        for c in shown {
            let body = c.body.as_ref().map(adf::to_markdown).unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} on {}: {}",
                one_line(c.author.as_ref().map_or("unknown", |a| a.label())),
                day(c.created.as_deref()),
                block(&clip(&body, 500)).replace('\n', "\n  ")
            );
        }
    }
    if has(Section::History) {
        let changes: Vec<String> = issue
            .changelog
            .as_ref()
            .map(|c| {
                // Jira's order differs between endpoints; sort newest first ourselves.
                let mut histories: Vec<_> = c.histories.iter().collect();
                histories.sort_by(|a, b| b.created.cmp(&a.created));
                histories
                    .into_iter()
                    .flat_map(|h| {
                        h.items.iter().filter(|i| i.field == "status").map(move |i| {
                            format!(
                                "- {} {}: {} → {}",
                                day(h.created.as_deref()),
                                one_line(h.author.as_ref().map_or("unknown", |a| a.label())),
                                one_line(i.from_string.as_deref().unwrap_or("?")),
                                one_line(i.to_string.as_deref().unwrap_or("?"))
                            )
                        })
                    })
                    .take(10)
                    .collect()
            })
            .unwrap_or_default();
        if !changes.is_empty() {
            let _ = writeln!(out, "\n## Status changes (newest first)\n{}", changes.join("\n"));
        }
    }
    out.trim_end().to_owned()
}
