//! Work toolset: `log_work` (worklogs) and `link_issues` (add or remove an issue link).

use chrono::{NaiveDate, NaiveDateTime, Utc};
use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    JiraMcp,
    args::{key_arg, markdown_arg, some_trimmed},
    text::one_line,
};
use crate::{error::ToolError, jira::models::LinkTypeDef};

/// Arguments of `log_work`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogWorkParams {
    /// Issue key, e.g. DEMO-12.
    key: String,
    /// Jira duration, e.g. "2h 30m", "1d" (w, d, h, m).
    time_spent: String,
    /// Start, "2026-11-30T09:00" or "2026-11-30" (default now, UTC).
    started: Option<String>,
    /// What was done, in Markdown.
    comment: Option<String>,
}

/// Arguments of `link_issues`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkIssuesParams {
    /// First issue of the sentence, e.g. DEMO-1.
    key: String,
    /// "blocks", "is blocked by", "relates to", "duplicates"…, or a type name.
    link: String,
    /// Second issue, e.g. DEMO-4.
    other: String,
    /// true: remove the link instead (default false).
    #[serde(default)]
    remove: bool,
}

/// Checks Jira's duration format: one or more `<number><w|d|h|m>` parts.
fn check_duration(text: &str) -> Result<String, ToolError> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let valid = !parts.is_empty()
        && parts.iter().all(|p| {
            p.len() > 1
                && p.ends_with(['w', 'd', 'h', 'm'])
                && p.get(..p.len() - 1).is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()) && n != "0")
        });
    if valid {
        Ok(parts.join(" "))
    } else {
        Err(ToolError::InvalidInput(format!(
            "time_spent {text:?} is not a Jira duration; write it like \"2h 30m\", \"1d\" or \"45m\" (w, d, h, m)"
        )))
    }
}

/// Jira's timestamp for a start given as date-time or date (UTC); now when absent.
fn started_at(raw: Option<&str>) -> Result<String, ToolError> {
    let format = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string();
    let Some(raw) = raw else { return Ok(format(Utc::now().naive_utc())) };
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .ok()
        .or_else(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(9, 0, 0)))
        .map(format)
        .ok_or_else(|| ToolError::InvalidInput(format!("started {raw:?} is not like 2026-11-30T09:00 or 2026-11-30")))
}

/// The link type and direction a phrase means: (type, the key issue is the outward side).
fn link_direction<'a>(types: &'a [LinkTypeDef], phrase: &str) -> Option<(&'a LinkTypeDef, bool)> {
    let p = phrase.trim();
    types
        .iter()
        .find(|t| t.outward.eq_ignore_ascii_case(p) || t.name.eq_ignore_ascii_case(p))
        .map(|t| (t, true))
        .or_else(|| types.iter().find(|t| t.inward.eq_ignore_ascii_case(p)).map(|t| (t, false)))
}

#[tool_router(router = work_router, vis = "pub(crate)")]
impl JiraMcp {
    /// Log time spent on an issue: time_spent in Jira's format ("2h 30m"), optional start
    /// (default now) and Markdown comment; returns the worklog id. Totals and recent worklogs
    /// show in get_issue. Not for estimates (update_issue fields "Time tracking").
    #[tool(annotations(
        title = "Log work",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub(crate) async fn log_work(&self, Parameters(p): Parameters<LogWorkParams>) -> Result<String, ToolError> {
        let key = key_arg(&p.key)?;
        let spent = check_duration(&p.time_spent)?;
        let started = started_at(some_trimmed(p.started.as_ref()))?;
        let comment = match some_trimmed(p.comment.as_ref()) {
            Some(c) => Some(markdown_arg(&self.jira, "comment", c).await?),
            None => None,
        };
        let log = self.jira.add_worklog(&key, &spent, &started, comment).await?;
        Ok(format!(
            "Logged {} on {key} (worklog {}, started {}).",
            log.time_spent.as_deref().unwrap_or(&spent),
            log.id,
            started.get(..16).unwrap_or(&started).replace('T', " ")
        ))
    }

    /// Add or remove a link between two issues, read as a sentence: key link other, e.g. DEMO-1
    /// "blocks" DEMO-4 (unknown links are refused, listing the site's). remove=true deletes it.
    /// Not for parents or epics (create_issue's parent).
    #[tool(annotations(
        title = "Link issues",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub(crate) async fn link_issues(&self, Parameters(p): Parameters<LinkIssuesParams>) -> Result<String, ToolError> {
        let key = key_arg(&p.key)?;
        let other = key_arg(&p.other)?;
        if key == other {
            return Err(ToolError::InvalidInput("key and other are the same issue; a link needs two".to_owned()));
        }
        let types = self.jira.link_types().await?;
        let Some((kind, key_is_outward)) = link_direction(&types, &p.link) else {
            let valid: Vec<String> =
                types.iter().map(|t| format!("\"{}\" / \"{}\" ({})", t.outward, t.inward, t.name)).collect();
            return Err(ToolError::InvalidInput(format!(
                "link {:?} is not a link type of this site. Use one of: {}",
                p.link,
                valid.join(", ")
            )));
        };
        let phrase = if key_is_outward { &kind.outward } else { &kind.inward };
        let (outward, inward) = if key_is_outward { (&key, &other) } else { (&other, &key) };
        if !p.remove {
            self.jira.create_link(&kind.name, outward, inward).await?;
            return Ok(format!("Linked: {key} {} {other}.", one_line(phrase)));
        }
        let issue = self.jira.issue(&key, "issuelinks", false).await?;
        let existing = issue.fields.issuelinks.iter().find(|l| {
            l.link_type.name == kind.name
                && if key_is_outward {
                    l.outward_issue.as_ref().is_some_and(|i| i.key == other)
                } else {
                    l.inward_issue.as_ref().is_some_and(|i| i.key == other)
                }
        });
        let Some(id) = existing.and_then(|l| l.id.clone()) else {
            return Err(ToolError::InvalidInput(format!(
                "{key} has no \"{phrase}\" link to {other}; get_issue {key} lists its links"
            )));
        };
        self.jira.delete_link(&id, outward, inward).await?;
        Ok(format!("Removed the link: {key} {} {other} (add it again with link_issues to undo).", one_line(phrase)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_jiras_format() {
        assert_eq!(check_duration("2h  30m").unwrap(), "2h 30m");
        assert_eq!(check_duration("1d").unwrap(), "1d");
        for bad in ["2 hours", "", "h", "0m", "2.5h", "30"] {
            let err = check_duration(bad).unwrap_err().to_string();
            assert!(err.contains("write it like \"2h 30m\""), "{bad}: {err}");
        }
    }

    #[test]
    fn start_times_take_a_date_or_a_date_and_time() {
        assert_eq!(started_at(Some("2026-11-30T14:05")).unwrap(), "2026-11-30T14:05:00.000+0000");
        assert_eq!(started_at(Some("2026-11-30")).unwrap(), "2026-11-30T09:00:00.000+0000");
        assert!(started_at(Some("yesterday")).is_err());
    }

    #[test]
    fn phrases_pick_type_and_direction() {
        let types =
            vec![LinkTypeDef { name: "Blocks".into(), inward: "is blocked by".into(), outward: "blocks".into() }];
        assert_eq!(link_direction(&types, "Blocks").map(|(t, o)| (t.name.as_str(), o)), Some(("Blocks", true)));
        assert_eq!(link_direction(&types, "IS BLOCKED BY").map(|(_, o)| o), Some(false));
        assert!(link_direction(&types, "depends on").is_none());
    }
}
