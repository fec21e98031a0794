//! Search toolset: `search_issues` (paged lines) and `summarize_project` (aggregates).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{
    JiraMcp,
    agile::{find_sprint, sprint_label},
    args::{UserChoice, resolve_user, some_trimmed},
    custom::{resolve_all, value_text},
    paging::{decode_cursor, encode_cursor},
    text::{clip, day, issue_line, one_line, unreadable_note},
};
use crate::{
    budget::Cap,
    error::ToolError,
    jira::{
        self, LINE_FIELDS,
        fields::SPRINT_TYPE,
        jql::{self, Assignee, Filters, SprintFilter},
        models::{Issue, Sprint},
    },
    limits::{PAGE_SIZE, SCAN_ISSUES, STALE_DAYS},
};

fn default_page_size() -> u32 {
    crate::limits::tuned().page_size
}

/// Arguments of `search_issues`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchIssuesParams {
    /// Full JQL, e.g. `project = DEMO AND status = "In Progress" ORDER BY priority DESC`; not with the filters.
    jql: Option<String>,
    /// Project key, e.g. DEMO.
    project: Option<String>,
    /// Status name, e.g. "In Progress".
    status: Option<String>,
    /// "me", "none", an email or a display name.
    assignee: Option<String>,
    /// Words in summary, description or comments.
    text: Option<String>,
    /// Updated on/after a date (2026-11-01) or offset (-7d, -2w).
    updated_since: Option<String>,
    /// Issues per page ([`PAGE_SIZE`]).
    #[serde(default = "default_page_size")]
    #[schemars(
        range(min = PAGE_SIZE.min, max = PAGE_SIZE.max),
        description = "Issues per page."
    )]
    page_size: u32,
    /// Cursor from the previous page's MORE AVAILABLE line; omit for page 1.
    cursor: Option<String>,
    /// "active", "next", "backlog", or a sprint name or id.
    sprint: Option<String>,
    /// Extra columns, by field name or id, e.g. ["Story Points"].
    fields: Option<Vec<String>>,
}

fn default_max_issues() -> u32 {
    SCAN_ISSUES.default
}

fn default_stale_days() -> u32 {
    STALE_DAYS.default
}

/// Arguments of `summarize_project`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SummarizeProjectParams {
    /// Project key, e.g. DEMO. Give this or jql.
    project: Option<String>,
    /// JQL scope instead of a project.
    jql: Option<String>,
    /// With project: a sprint ("active", "next", name or id) to report on.
    sprint: Option<String>,
    /// Open issues not updated for this many days count as stale ([`STALE_DAYS`]).
    #[serde(default = "default_stale_days")]
    #[schemars(
        range(min = STALE_DAYS.min, max = STALE_DAYS.max),
        description = "Open issues not updated for this many days are stale."
    )]
    stale_days: u32,
    /// Most issues to scan ([`SCAN_ISSUES`]).
    #[serde(default = "default_max_issues")]
    #[schemars(
        range(min = SCAN_ISSUES.min, max = SCAN_ISSUES.max),
        description = "Most issues to scan."
    )]
    max_issues: u32,
}

#[tool_router(router = search_router, vis = "pub(crate)")]
impl JiraMcp {
    /// Find issues by JQL or simple filters (ANDed, newest first; not both); one line per issue:
    /// `KEY | summary | status | assignee | priority | updated`; `fields` adds columns.
    /// The output ends with `MORE AVAILABLE: ... cursor="..."` (repeat the same query with that
    /// cursor) or `END OF RESULTS`. Not for one issue's details (use get_issue) or for counts
    /// (use summarize_project).
    #[tool(annotations(title = "Search issues", read_only_hint = true, open_world_hint = true))]
    pub(crate) async fn search_issues(
        &self,
        Parameters(p): Parameters<SearchIssuesParams>,
    ) -> Result<String, ToolError> {
        if !PAGE_SIZE.contains(p.page_size) {
            return Err(ToolError::InvalidInput(format!("page_size must be {PAGE_SIZE}, got {}", p.page_size)));
        }
        let jql = self.search_jql(&p).await?;
        let token = match some_trimmed(p.cursor.as_ref()) {
            Some(c) => Some(decode_cursor(&jql, c, "search_issues")?),
            None => None,
        };
        let columns = match p.fields.as_deref().filter(|f| !f.is_empty()) {
            Some(names) => resolve_all(&self.jira, names).await?,
            None => Vec::new(),
        };
        let mut fields: Vec<&str> = LINE_FIELDS.to_vec();
        fields.extend(columns.iter().map(|c| c.id.as_str()));
        let page = match self.jira.search(&jql, &fields, p.page_size, token.as_deref()).await {
            Ok(page) => page,
            Err(e) => return Err(self.unknown_project(some_trimmed(p.project.as_ref()), e).await),
        };
        let mut out = String::with_capacity(128 + page.issues.len() * 96);
        let _ = writeln!(out, "JQL: {}", one_line(&jql));
        let lines_start = out.len();
        if page.issues.is_empty() {
            out.push_str("No issues match.\n");
        }
        for issue in &page.issues {
            out.push_str(&issue_line(issue));
            for c in &columns {
                let value = issue.fields.other.get(&c.id).and_then(|v| value_text(c.schema.as_ref(), v));
                let _ = write!(out, " | {}: {}", one_line(&c.name), clip(value.as_deref().unwrap_or("-"), 40));
            }
            out.push('\n');
        }
        if let Some(note) = unreadable_note(&page.issues) {
            out.push_str(&note);
            out.push('\n');
        }
        let more = page.next_page_token.is_some() && page.is_last != Some(true);
        let shown = page.issues.len() as u64;
        // A page with more behind the cursor has no known total (Jira's search gives none).
        let total = if more { None } else { Some(shown) };
        crate::budget::note_cut(Cap::Page, shown, total, (out.len() - lines_start) as u64);
        match page.next_page_token.as_deref().filter(|_| page.is_last != Some(true)) {
            Some(next) => {
                let _ = write!(
                    out,
                    "MORE AVAILABLE: call search_issues again with the same query and cursor=\"{}\"",
                    encode_cursor(&jql, next)
                );
            }
            None => out.push_str("END OF RESULTS"),
        }
        Ok(out)
    }

    /// Counts for a project or JQL scope, computed server-side over up to max_issues issues: by
    /// status, assignee and priority, the oldest and the stale open issues (not updated for
    /// stale_days); with sprint, done vs remaining issues and story points, scope added, carry-over.
    /// Use it for "how is project X doing". Not for listing issues (use search_issues).
    #[tool(annotations(title = "Summarize project", read_only_hint = true, open_world_hint = true))]
    pub(crate) async fn summarize_project(
        &self,
        Parameters(p): Parameters<SummarizeProjectParams>,
    ) -> Result<String, ToolError> {
        let sprint = match (some_trimmed(p.sprint.as_ref()), some_trimmed(p.project.as_ref())) {
            (Some(wanted), Some(project)) => Some(find_sprint(&self.jira, project, wanted).await?),
            (Some(_), None) => {
                return Err(ToolError::InvalidInput(
                    "sprint needs project: sprints belong to a project's board (e.g. project=DEMO, sprint=\"active\")"
                        .to_owned(),
                ));
            }
            (None, _) => None,
        };
        let jql = match (some_trimmed(p.project.as_ref()), some_trimmed(p.jql.as_ref())) {
            (Some(project), None) => {
                let key = jql::project_key(project).map_err(ToolError::InvalidInput)?;
                self.jira.check_project(&key)?;
                match &sprint {
                    Some(s) => format!("project = {} AND sprint = {} ORDER BY created ASC", jql::quote(&key), s.id),
                    None => format!("project = {} ORDER BY created ASC", jql::quote(&key)),
                }
            }
            (None, Some(q)) => q.to_owned(),
            (Some(_), Some(_)) => {
                return Err(ToolError::InvalidInput(
                    "give project or jql, not both; put the project into the JQL".to_owned(),
                ));
            }
            (None, None) => return Err(ToolError::InvalidInput("give project (e.g. DEMO) or jql".to_owned())),
        };
        if !STALE_DAYS.contains(p.stale_days) {
            return Err(ToolError::InvalidInput(format!("stale_days must be {STALE_DAYS}, got {}", p.stale_days)));
        }
        if !SCAN_ISSUES.contains(p.max_issues) {
            return Err(ToolError::InvalidInput(format!("max_issues must be {SCAN_ISSUES}, got {}", p.max_issues)));
        }
        let mut fields = vec!["summary", "status", "assignee", "priority", "created", "updated"];
        let Some(sprint) = sprint else {
            let (issues, capped) = match self.jira.search_all(&jql, &fields, p.max_issues as usize).await {
                Ok(found) => found,
                Err(e) => return Err(self.unknown_project(some_trimmed(p.project.as_ref()), e).await),
            };
            let total = if capped { self.jira.approximate_count(&jql).await.ok() } else { None };
            return Ok(summarize(&jql, &issues, total, !capped, p.stale_days, Utc::now()));
        };
        // A sprint adds story points and the sprint field (when the site has them) and the history.
        let catalogue = self.jira.field_catalogue().await?;
        let points = self.jira.resolve_field("Story Points").await?.ok().map(|f| f.id);
        let sprint_field = catalogue
            .iter()
            .find(|f| f.schema.as_ref().and_then(|s| s.custom.as_deref()) == Some(SPRINT_TYPE))
            .map(|f| f.id.clone());
        fields.extend(points.iter().chain(sprint_field.iter()).map(String::as_str));
        let (issues, capped) = self.jira.search_all_with_changelog(&jql, &fields, p.max_issues as usize).await?;
        let total = if capped { self.jira.approximate_count(&jql).await.ok() } else { None };
        let head = sprint_progress(&sprint, &issues, points.as_deref(), sprint_field.as_deref());
        Ok(format!("{head}\n{}", summarize(&jql, &issues, total, !capped, p.stale_days, Utc::now())))
    }
}

/// Done vs remaining (issues and story points), scope added after the start, carry-over.
fn sprint_progress(sprint: &Sprint, issues: &[Issue], points: Option<&str>, sprint_field: Option<&str>) -> String {
    let pts = |i: &Issue| points.and_then(|p| i.fields.other.get(p)).and_then(Value::as_f64).unwrap_or(0.0);
    let done = |i: &&Issue| i.fields.status.as_ref().is_some_and(|s| s.is_done());
    let (finished, open): (Vec<&Issue>, Vec<&Issue>) = issues.iter().partition(done);
    let sum = |v: &[&Issue]| v.iter().map(|i| pts(i)).sum::<f64>();
    let start = sprint.start_date.as_deref().and_then(|d| parse_time(Some(d)));
    let added: Vec<&str> = issues
        .iter()
        .filter(|i| {
            i.changelog.iter().flat_map(|c| &c.histories).any(|h| {
                h.items.iter().any(|item| {
                    item.field.eq_ignore_ascii_case("sprint")
                        && item.to_string.as_deref().is_some_and(|t| t.contains(&sprint.name))
                }) && start.is_some_and(|s| parse_time(h.created.as_deref()).is_some_and(|c| c > s))
            })
        })
        .map(|i| i.key.as_str())
        .collect();
    let carried: Vec<&str> = issues
        .iter()
        .filter(|i| {
            sprint_field.and_then(|f| i.fields.other.get(f)).and_then(Value::as_array).is_some_and(|sprints| {
                sprints.iter().any(|s| s.get("id").and_then(Value::as_u64).is_some_and(|id| id != sprint.id))
            })
        })
        .map(|i| i.key.as_str())
        .collect();
    let keys = |v: &[&str]| {
        let shown: Vec<&str> = v.iter().take(10).copied().collect();
        let more = v.len().saturating_sub(10);
        if v.is_empty() {
            String::new()
        } else {
            format!(" ({}{})", shown.join(", "), if more > 0 { format!(", +{more}") } else { String::new() })
        }
    };
    let points_note = if points.is_some() { "" } else { " (this site has no Story Points field)" };
    let goal = sprint
        .goal
        .as_deref()
        .filter(|g| !g.is_empty())
        .map(|g| format!(" | goal: {}", one_line(g)))
        .unwrap_or_default();
    format!(
        "Sprint: {}{goal}\nDone: {} issues, {} points | Remaining: {} issues, {} points{points_note}\n\
         Added after the sprint started: {}{}\nCarried over from earlier sprints: {}{}",
        sprint_label(sprint),
        finished.len(),
        sum(&finished),
        open.len(),
        sum(&open),
        added.len(),
        keys(&added),
        carried.len(),
        keys(&carried),
    )
}

impl JiraMcp {
    /// The `jira://reference/statuses` resource: every status of the site and its
    /// category, one per line. Names are an admin's text, rendered like any Jira string.
    pub(crate) async fn statuses_resource(&self) -> Result<String, ToolError> {
        let statuses = self.jira.statuses().await?;
        let mut lines: Vec<String> = statuses
            .iter()
            .map(|s| {
                let category = s.status_category.as_ref().map_or("-", |c| c.name.as_str());
                format!("{} | {}", one_line(&s.name), one_line(category))
            })
            .collect();
        lines.sort();
        lines.dedup();
        Ok(format!("status | category\n{}", lines.join("\n")))
    }

    /// A search that named a project failed with 400 or 404: if the project is
    /// not among the visible ones, say that (with the list) instead.
    async fn unknown_project(&self, project: Option<&str>, e: jira::Error) -> ToolError {
        let Some(raw) = project.filter(|_| matches!(e, jira::Error::BadJql { .. } | jira::Error::NotFound { .. }))
        else {
            return e.into();
        };
        let Ok(key) = jql::project_key(raw) else { return e.into() };
        match self.jira.project_not_found(&key).await {
            jira::Error::ProjectNotFound { visible: Some(list), .. }
                if list.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) =>
            {
                e.into()
            }
            jira::Error::ProjectNotFound { visible: None, .. } => e.into(),
            other => other.into(),
        }
    }

    /// The JQL for a search: the caller's, or one composed from the filters.
    async fn search_jql(&self, p: &SearchIssuesParams) -> Result<String, ToolError> {
        let project =
            some_trimmed(p.project.as_ref()).map(jql::project_key).transpose().map_err(ToolError::InvalidInput)?;
        if let Some(key) = &project {
            self.jira.check_project(key)?;
        }
        let since = some_trimmed(p.updated_since.as_ref());
        if let Some(s) = since {
            jql::check_since(s).map_err(|m| ToolError::InvalidInput(format!("updated_since {m}")))?;
        }
        let resolved = match some_trimmed(p.assignee.as_ref()) {
            Some(a) => Some(resolve_user(&self.jira, a).await?),
            None => None,
        };
        let filters = Filters {
            project: project.as_deref(),
            status: some_trimmed(p.status.as_ref()),
            assignee: resolved.as_ref().map(|r| match r {
                UserChoice::Me => Assignee::CurrentUser,
                UserChoice::Nobody => Assignee::Unassigned,
                UserChoice::Account { id, .. } => Assignee::AccountId(id),
            }),
            text: some_trimmed(p.text.as_ref()),
            updated_since: since,
            sprint: some_trimmed(p.sprint.as_ref()).map(SprintFilter::parse),
        };
        match (some_trimmed(p.jql.as_ref()), filters.is_empty()) {
            (Some(q), true) => Ok(q.to_owned()),
            (Some(_), false) => Err(ToolError::InvalidInput(
                "give either jql or the simple filters (project, status, assignee, text, updated_since, sprint), not both; \
                 put the filter into the JQL instead, e.g. `project = DEMO AND status = Done`"
                    .to_owned(),
            )),
            (None, false) => Ok(filters.to_jql()),
            (None, true) => Err(ToolError::InvalidInput(
                "no search criteria: give jql or at least one of project, status, assignee, text, updated_since, sprint \
                 (Jira refuses unbounded searches)"
                    .to_owned(),
            )),
        }
    }
}

fn parse_time(t: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(t?, "%Y-%m-%dT%H:%M:%S%.3f%z").ok().map(|d| d.with_timezone(&Utc))
}

fn counts(out: &mut String, title: &str, values: impl Iterator<Item = String>) {
    let mut map: BTreeMap<String, usize> = BTreeMap::new();
    for v in values {
        *map.entry(one_line(&v).into_owned()).or_default() += 1;
    }
    let mut sorted: Vec<_> = map.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let parts: Vec<String> = sorted.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let _ = writeln!(out, "{title}: {}", parts.join(", "));
}

/// Up to five `- KEY | summary | <what> <date>` lines.
fn dated_lines<'a>(
    out: &mut String,
    issues: impl Iterator<Item = &'a Issue>,
    what: &str,
    date: impl Fn(&Issue) -> Option<&str>,
) {
    for i in issues.take(5) {
        let summary = clip(&one_line(i.fields.summary.as_deref().unwrap_or_default()), 60);
        let _ = writeln!(out, "- {} | {summary} | {what} {}", one_line(&i.key), day(date(i)));
    }
}

/// Renders the aggregate text (pure, for tests).
fn summarize(
    jql: &str,
    issues: &[Issue],
    total: Option<u64>,
    complete: bool,
    stale_days: u32,
    now: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Scope: {}", one_line(jql));
    if let Some(note) = unreadable_note(issues) {
        let _ = writeln!(out, "{note} They count as \"-\" below.");
    }
    if complete {
        let _ = writeln!(out, "Issues: {} (all scanned)", issues.len());
    } else {
        let about = total.map(|t| format!(" of about {t}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "Issues: scanned the first {}{about} (cap reached: counts below cover only those; narrow the JQL or raise max_issues up to {})",
            issues.len(),
            SCAN_ISSUES.max
        );
    }
    counts(
        &mut out,
        "By status",
        issues.iter().map(|i| i.fields.status.as_ref().map_or("-".to_owned(), |s| s.name.clone())),
    );
    counts(
        &mut out,
        "By assignee",
        issues.iter().map(|i| i.fields.assignee.as_ref().map_or("Unassigned".to_owned(), |u| u.label().to_owned())),
    );
    counts(
        &mut out,
        "By priority",
        issues.iter().map(|i| i.fields.priority.as_ref().map_or("-".to_owned(), |p| p.name.clone())),
    );
    let open: Vec<&Issue> = issues.iter().filter(|i| !i.fields.status.as_ref().is_some_and(|s| s.is_done())).collect();
    let _ = writeln!(out, "Open: {} | Done: {}", open.len(), issues.len() - open.len());
    let mut oldest = open.clone();
    oldest.sort_by_key(|i| parse_time(i.fields.created.as_deref()));
    let _ = writeln!(out, "Oldest open:");
    dated_lines(&mut out, oldest.iter().copied(), "created", |i| i.fields.created.as_deref());
    let cutoff = now - chrono::Duration::days(i64::from(stale_days));
    let mut stale: Vec<&&Issue> =
        open.iter().filter(|i| parse_time(i.fields.updated.as_deref()).is_some_and(|u| u < cutoff)).collect();
    stale.sort_by_key(|i| parse_time(i.fields.updated.as_deref()));
    let _ = writeln!(out, "Stale (open, no update for {stale_days}+ days): {}", stale.len());
    dated_lines(&mut out, stale.iter().map(|i| **i), "updated", |i| i.fields.updated.as_deref());
    if stale.len() > 5 {
        let _ = writeln!(
            out,
            "(+{} more stale: search_issues with jql `{} AND statusCategory != Done AND updated < -{stale_days}d`)",
            stale.len() - 5,
            jql.split(" ORDER BY").next().unwrap_or(jql)
        );
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn issue(key: &str, status: &str, cat: &str, who: Option<&str>, created: &str, updated: &str) -> Issue {
        serde_json::from_value(json!({
            "key": key,
            "fields": {
                "summary": format!("summary of {key}"),
                "status": { "name": status, "statusCategory": { "key": cat, "name": cat } },
                "assignee": who.map(|w| json!({ "displayName": w })),
                "priority": { "name": "High" },
                "created": created, "updated": updated
            }
        }))
        .unwrap()
    }

    #[test]
    fn summary_counts_and_finds_stale_and_oldest() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T00:00:00Z").unwrap().with_timezone(&Utc);
        let issues = vec![
            issue("D-1", "To Do", "new", Some("Ana"), "2026-01-01T00:00:00.000+0000", "2026-01-02T00:00:00.000+0000"),
            issue("D-2", "Done", "done", Some("Ana"), "2025-01-01T00:00:00.000+0000", "2025-01-02T00:00:00.000+0000"),
            issue(
                "D-3",
                "In Progress",
                "indeterminate",
                None,
                "2026-11-20T00:00:00.000+0000",
                "2026-11-24T00:00:00.000+0000",
            ),
        ];
        let text = summarize("project = \"D\" ORDER BY created ASC", &issues, None, true, 14, now);
        assert!(text.contains("Issues: 3 (all scanned)"), "{text}");
        assert!(text.contains("By status: Done 1, In Progress 1, To Do 1"), "{text}");
        assert!(text.contains("By assignee: Ana 2, Unassigned 1"), "{text}");
        assert!(text.contains("Open: 2 | Done: 1"), "{text}");
        assert!(text.contains("Oldest open:\n- D-1"), "{text}");
        assert!(text.contains("Stale (open, no update for 14+ days): 1\n- D-1"), "{text}");
    }

    #[test]
    fn capped_scan_says_so() {
        let now = Utc::now();
        let text = summarize("project = X", &[], Some(1234), false, 14, now);
        assert!(text.contains("scanned the first 0 of about 1234 (cap reached"), "{text}");
    }
}
