//! Issue toolset: read one issue whole, create, update, transition by status name.

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    JiraMcp,
    agile::find_sprint,
    args::{account_id, key_arg, markdown_arg, resolve_user, some_trimmed},
    custom::{convert, resolve_all},
    issue_view::{ALL_SECTIONS, RenderOptions, Section},
    text::one_line,
};
use crate::{
    error::ToolError,
    jira::{self, Jira, adf, jql},
    limits::{COMMENTS, DESCRIPTION_CHARS},
};

/// How far back a create whose answer was lost is looked for, in minutes.
const LOST_CREATE_WINDOW_MINUTES: u32 = 15;
/// Clock difference between this host and Jira tolerated when matching a lost create.
const CLOCK_SLACK: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

fn default_max_chars() -> u32 {
    crate::limits::tuned().description_chars
}

fn default_comments() -> u32 {
    crate::limits::tuned().comments
}

/// Arguments of `get_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetIssueParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// Sections to add to the core fields (default: all).
    include: Option<Vec<Section>>,
    /// Only these other fields, by name or id (default: all non-empty).
    fields: Option<Vec<String>>,
    /// Cap on description characters ([`DESCRIPTION_CHARS`]).
    #[serde(default = "default_max_chars")]
    #[schemars(
        range(min = DESCRIPTION_CHARS.min, max = DESCRIPTION_CHARS.max),
        description = "Description characters shown."
    )]
    description_max_chars: u32,
    /// Newest comments to show ([`COMMENTS`]).
    #[serde(default = "default_comments")]
    #[schemars(
        range(min = COMMENTS.min, max = COMMENTS.max),
        description = "Newest comments shown."
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
    /// Other fields by name or id, e.g. {"Story Points": 5, "Components": ["API"]}.
    #[serde(default)]
    #[schemars(schema_with = "field_values_schema")]
    fields: Option<Map<String, Value>>,
}

/// Arguments of `update_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateIssueParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// New one-line title.
    summary: Option<String>,
    /// New description in Markdown; see description_mode.
    description: Option<String>,
    /// replace (default; refused if it would drop mentions, panels, media…), append, or replace_all (accepts the loss).
    description_mode: Option<DescriptionMode>,
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
    /// Other fields by name or id, e.g. {"Severity": "S2"}; null clears one.
    #[serde(default)]
    #[schemars(schema_with = "field_values_schema")]
    fields: Option<Map<String, Value>>,
    /// Move to "active", "next", a sprint name or id, or "backlog".
    sprint: Option<String>,
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

/// `fields` maps names to plain values: text, numbers, or lists of names.
fn field_values_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    // An object of any values: the field's own type decides, and the checks before sending
    // name the expected form. (A per-value `anyOf` cost 140 bytes of tools/list per tool.)
    schemars::json_schema!({ "type": "object" })
}

/// How update_issue's description meets the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DescriptionMode {
    /// Replace it, unless that drops rich content the current one has.
    #[default]
    Replace,
    /// Add the Markdown at the end, leaving the rest untouched.
    Append,
    /// Replace it even if rich content is lost.
    ReplaceAll,
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
    /// One issue in one call: type, status, priority, people, labels, dates, parent, attachments,
    /// other non-empty fields (`fields` picks), then the sections in `include` (default all):
    /// description as Markdown (capped, truncation marked), newest comments, subtasks or an epic's
    /// children, links, worklogs, status changes. Not for finding issues (use search_issues).
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
        let only = match p.fields.as_deref().filter(|f| !f.is_empty()) {
            Some(names) => Some(resolve_all(&self.jira, names).await?),
            None => None,
        };
        let opts = RenderOptions {
            include,
            description_max_chars: p.description_max_chars as usize,
            max_comments: p.max_comments as usize,
            only,
        };
        self.render_issue(&key, &opts).await
    }

    /// Create an issue; description in Markdown; `fields` sets other fields by name (describe_fields
    /// lists them). Unknown projects, types, fields or options are refused, listing the valid ones.
    /// Returns the new key. Not for changing an issue (use update_issue).
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
            fields.insert("description".to_owned(), markdown_arg(&self.jira, "description", d).await?);
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
        if let Some(extra) = p.fields.as_ref().filter(|f| !f.is_empty()) {
            let screen = self.jira.create_screen(&project, &issue_type.id).await?;
            fields.extend(convert(&self.jira, &screen, extra).await?);
        }
        let sent_at = chrono::Utc::now();
        let key = match self.jira.create_issue(&project, summary, Value::Object(fields)).await {
            Ok(key) => key,
            Err(lost @ jira::Error::Unconfirmed { .. }) => {
                return match self.find_lost_create(&project, summary, sent_at).await {
                    Some(key) => Ok(format!(
                        "Created {key} ({} in {project}): {}\nJira's answer to the create was lost ({lost}); \
                         a search then found {key}, created by this account with this summary during the request, \
                         so it was created once. Do not create it again.\nView it with get_issue key={key}.",
                        one_line(&issue_type.name),
                        one_line(summary)
                    )),
                    None => Err(lost.into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        Ok(format!(
            "Created {key} ({} in {project}): {}\nLink: {}/browse/{key}\nView it with get_issue key={key}.",
            one_line(&issue_type.name),
            one_line(summary),
            self.site,
            key = one_line(&key),
        ))
    }

    /// Change an issue's summary, description (Markdown), priority, labels (add/remove), assignee
    /// ("none" unassigns), other fields by name (`fields`) and/or its sprint in one call. Only
    /// the given fields change. Not for status changes (use transition_issue) or comments
    /// (use add_comment).
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
            let new = markdown_arg(&self.jira, "description", d).await?;
            let mode = p.description_mode.unwrap_or_default();
            let value = match mode {
                DescriptionMode::ReplaceAll => new,
                DescriptionMode::Replace | DescriptionMode::Append => {
                    let current = self.jira.issue(&key, "description", false).await?.fields.description;
                    let current = current.filter(|c| c.is_object()).unwrap_or_else(|| adf::from_markdown(""));
                    if mode == DescriptionMode::Append {
                        append_blocks(current, new)
                    } else {
                        refuse_loss(&key, &current, &new)?;
                        new
                    }
                }
            };
            fields.insert("description".to_owned(), value);
            changed.push(
                if mode == DescriptionMode::Append { "description (appended)" } else { "description" }.to_owned(),
            );
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
        if let Some(extra) = p.fields.as_ref().filter(|f| !f.is_empty()) {
            let screen = self.jira.edit_screen(&key).await?;
            let converted = convert(&self.jira, &screen, extra).await?;
            for id in converted.keys() {
                changed.push(screen.iter().find(|f| &f.key == id).map_or_else(|| id.clone(), |f| f.name.clone()));
            }
            fields.extend(converted);
        }
        let sprint = match some_trimmed(p.sprint.as_ref()) {
            Some(s) if s.eq_ignore_ascii_case("backlog") => Some(None),
            Some(s) => {
                let project = key.split('-').next().unwrap_or_default();
                Some(Some(find_sprint(&self.jira, project, s).await?))
            }
            None => None,
        };
        if changed.is_empty() && sprint.is_none() {
            return Err(ToolError::InvalidInput(
                "nothing to change: give at least one of summary, description, priority, add_labels, remove_labels, assignee, fields, sprint".to_owned(),
            ));
        }
        let edit_needed = !fields.is_empty() || !ops.is_empty();
        let mut body = json!({ "fields": fields });
        if !ops.is_empty()
            && let Some(obj) = body.as_object_mut()
        {
            obj.insert("update".to_owned(), json!({ "labels": ops }));
        }
        if edit_needed {
            self.jira.edit_issue(&key, &body).await?;
        }
        match sprint {
            Some(Some(target)) => {
                self.jira.move_to_sprint(target.id, std::slice::from_ref(&key)).await?;
                changed.push(format!("sprint={}", target.name));
            }
            Some(None) => {
                self.jira.move_to_backlog(std::slice::from_ref(&key)).await?;
                changed.push("moved to the backlog".to_owned());
            }
            None => {}
        }
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
        let comment = match p.comment.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(c) => Some(markdown_arg(&self.jira, "comment", c).await?),
            None => None,
        };
        let with_comment = comment.is_some();
        let also = if with_comment { " and added the comment" } else { "" };
        match self.jira.transition(&key, &t.id, comment).await {
            Ok(()) => {
                Ok(format!("Moved {key} to \"{}\" (transition \"{}\"){also}.", one_line(&t.to.name), one_line(&t.name)))
            }
            Err(lost @ jira::Error::Unconfirmed { .. }) => {
                // Cheap to find out: read the status back.
                let now = self.jira.issue(&key, "status", false).await.ok().and_then(|i| i.fields.status);
                match now {
                    Some(s) if s.name.eq_ignore_ascii_case(&t.to.name) => Ok(format!(
                        "Moved {key} to \"{}\" (transition \"{}\"){also}. Jira's answer was lost ({lost}); reading \
                         {key} back shows it in \"{}\" now, so the move was applied. Do not repeat it.",
                        one_line(&t.to.name),
                        one_line(&t.name),
                        one_line(&s.name)
                    )),
                    _ => Err(lost.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl JiraMcp {
    /// After a create whose answer was lost: the issue this account created in `project` with
    /// `summary` since the request went out, if a search finds exactly that.
    async fn find_lost_create(
        &self,
        project: &str,
        summary: &str,
        sent_at: chrono::DateTime<chrono::Utc>,
    ) -> Option<String> {
        let found = self.jira.recently_created(project, summary, LOST_CREATE_WINDOW_MINUTES).await.ok()?;
        found.into_iter().find(|(_, created)| created.is_some_and(|c| c >= sent_at - CLOCK_SLACK)).map(|(key, _)| key)
    }
}

/// Refuses a replacement that drops rich content of the current text, naming it.
fn refuse_loss(key: &str, current: &Value, new: &Value) -> Result<(), ToolError> {
    let lost = adf::lost_nodes(current, new);
    if lost.is_empty() {
        return Ok(());
    }
    Err(ToolError::InvalidInput(format!(
        "nothing was written: the new description of {key} would drop {} that the current one has. Keep them by \
         editing the text get_issue shows with their forms intact ([@Name](accountId:…), :::panel … :::, \
         ![…](attachment:…), [kind](adf:…)); or use description_mode \"append\" to add at the end, or \
         \"replace_all\" to accept the loss",
        lost.join(", ")
    )))
}

/// `current` with the blocks of `addition` after its own.
fn append_blocks(mut current: Value, addition: Value) -> Value {
    let extra = addition.get("content").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(Value::Array(content)) = current.get_mut("content") {
        content.extend(extra);
    }
    current
}
