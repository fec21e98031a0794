//! Compact text for the model: dates, clipped strings, the one-line issue view.

use crate::jira::models::Issue;

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
/// A field Jira sent in an unreadable shape shows as `?`.
pub(crate) fn issue_line(issue: &Issue) -> String {
    let f = &issue.fields;
    let or_unknown = |field: &'static str, shown: &str| {
        if f.unreadable.contains(&field) { "?".to_owned() } else { shown.to_owned() }
    };
    format!(
        "{} | {} | {} | {} | {} | {}",
        issue.key,
        or_unknown("summary", &clip(f.summary.as_deref().unwrap_or("(no summary)"), 80)),
        or_unknown("status", f.status.as_ref().map_or("-", |s| s.name.as_str())),
        or_unknown("assignee", f.assignee.as_ref().map_or("Unassigned", |u| u.label())),
        or_unknown("priority", f.priority.as_ref().map_or("-", |p| p.name.as_str())),
        or_unknown("updated", day(f.updated.as_deref())),
    )
}

/// The note under a list when some issues had fields of a shape this server cannot read.
pub(crate) fn unreadable_note(issues: &[Issue]) -> Option<String> {
    let mut fields: Vec<&str> = issues.iter().flat_map(|i| i.fields.unreadable.iter().copied()).collect();
    fields.sort_unstable();
    fields.dedup();
    (!fields.is_empty())
        .then(|| format!("Note: Jira sent {} in a shape this server cannot read; shown as \"?\".", fields.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_marks_the_cut() {
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(day(Some("2026-11-20T10:30:00.000+0000")), "2026-11-20");
        assert_eq!(day(None), "-");
    }
}
