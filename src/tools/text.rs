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
pub(crate) fn issue_line(issue: &Issue) -> String {
    let f = &issue.fields;
    format!(
        "{} | {} | {} | {} | {} | {}",
        issue.key,
        clip(f.summary.as_deref().unwrap_or("(no summary)"), 80),
        f.status.as_ref().map_or("-", |s| s.name.as_str()),
        f.assignee.as_ref().map_or("Unassigned", |u| u.label()),
        f.priority.as_ref().map_or("-", |p| p.name.as_str()),
        day(f.updated.as_deref()),
    )
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
