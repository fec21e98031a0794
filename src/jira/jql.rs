//! Composing JQL from simple filters, with safe quoting.
//!
//! Every user value is quoted with [`quote`], so a filter can never inject a
//! clause (`status = "x" OR project = SECRET` stays one string literal).

/// Simple filters, each optional; combined with AND.
#[derive(Debug, Default, Clone)]
pub(crate) struct Filters<'a> {
    pub(crate) project: Option<&'a str>,
    pub(crate) status: Option<&'a str>,
    /// Already resolved: `currentUser()`, `EMPTY`, or an account id.
    pub(crate) assignee: Option<Assignee<'a>>,
    pub(crate) text: Option<&'a str>,
    /// A date (`2026-11-01`) or a relative offset (`-7d`).
    pub(crate) updated_since: Option<&'a str>,
    pub(crate) sprint: Option<SprintFilter<'a>>,
}

/// Which sprint a search is limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SprintFilter<'a> {
    /// A started, not yet closed sprint.
    Active,
    /// A sprint not started yet.
    Future,
    /// In no sprint at all.
    Backlog,
    /// A sprint by name or id.
    Named(&'a str),
}

impl<'a> SprintFilter<'a> {
    /// "active", "next"/"future", "backlog"/"none", or a sprint name or id.
    pub(crate) fn parse(raw: &'a str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "active" | "current" => Self::Active,
            "next" | "future" => Self::Future,
            "backlog" | "none" => Self::Backlog,
            _ => Self::Named(raw.trim()),
        }
    }

    /// The JQL clause.
    pub(crate) fn clause(self) -> String {
        match self {
            Self::Active => "sprint in openSprints() AND sprint not in futureSprints()".to_owned(),
            Self::Future => "sprint in futureSprints()".to_owned(),
            Self::Backlog => "sprint is EMPTY".to_owned(),
            Self::Named(name) if name.chars().all(|c| c.is_ascii_digit()) => format!("sprint = {name}"),
            Self::Named(name) => format!("sprint = {}", quote(name)),
        }
    }
}

/// How the assignee filter is expressed in JQL.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Assignee<'a> {
    CurrentUser,
    Unassigned,
    AccountId(&'a str),
}

/// A JQL string literal: double-quoted, with `"` and `\` escaped.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Checks a date or relative offset for `updated >=`. `Err` says what is wrong with the value.
pub(crate) fn check_since(value: &str) -> Result<(), String> {
    let relative = value
        .strip_prefix('-')
        .and_then(|rest| rest.strip_suffix(['d', 'w', 'h', 'm']))
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if relative || chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() {
        Ok(())
    } else {
        Err(format!("{value:?} is neither a date (2026-11-01) nor a relative offset like -7d, -2w, -12h"))
    }
}

impl Filters<'_> {
    /// True when no filter is set (Jira refuses unbounded searches).
    pub(crate) fn is_empty(&self) -> bool {
        self.project.is_none()
            && self.status.is_none()
            && self.assignee.is_none()
            && self.text.is_none()
            && self.updated_since.is_none()
            && self.sprint.is_none()
    }

    /// The JQL clauses joined with AND, ordered by most recently updated.
    pub(crate) fn to_jql(&self) -> String {
        let mut clauses = Vec::new();
        if let Some(p) = self.project {
            clauses.push(format!("project = {}", quote(p)));
        }
        if let Some(s) = self.status {
            clauses.push(format!("status = {}", quote(s)));
        }
        match self.assignee {
            Some(Assignee::CurrentUser) => clauses.push("assignee = currentUser()".to_owned()),
            Some(Assignee::Unassigned) => clauses.push("assignee is EMPTY".to_owned()),
            Some(Assignee::AccountId(id)) => clauses.push(format!("assignee = {}", quote(id))),
            None => {}
        }
        if let Some(t) = self.text {
            clauses.push(format!("text ~ {}", quote(t)));
        }
        if let Some(since) = self.updated_since {
            clauses.push(format!("updated >= {}", quote(since)));
        }
        if let Some(sprint) = self.sprint {
            clauses.push(sprint.clause());
        }
        format!("{} ORDER BY updated DESC", clauses.join(" AND "))
    }
}

/// Validates an issue key (`DEMO-12`) or numeric id and returns it upper-cased.
/// Keeping keys to this shape also keeps them safe inside URL paths.
pub(crate) fn issue_key(raw: &str) -> Result<String, String> {
    let key = raw.trim().to_ascii_uppercase();
    let valid_key = key.split_once('-').is_some_and(|(project, number)| {
        project.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && project.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit())
    });
    let numeric_id = !key.is_empty() && key.len() <= 19 && key.chars().all(|c| c.is_ascii_digit());
    if valid_key || numeric_id {
        Ok(key)
    } else {
        Err(format!("{raw:?} is not an issue key; keys look like PROJ-123 (project key, dash, number)"))
    }
}

/// Validates a project key (`DEMO`) and returns it upper-cased.
pub(crate) fn project_key(raw: &str) -> Result<String, String> {
    let key = raw.trim().to_ascii_uppercase();
    if key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.len() <= 32
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Ok(key)
    } else {
        Err(format!("{raw:?} is not a project key; project keys look like PROJ (letters, digits, _)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compose_into_anded_quoted_jql() {
        let f = Filters {
            project: Some("DEMO"),
            status: Some("In Progress"),
            assignee: Some(Assignee::CurrentUser),
            text: Some("login"),
            updated_since: Some("-7d"),
            sprint: None,
        };
        assert_eq!(
            f.to_jql(),
            r#"project = "DEMO" AND status = "In Progress" AND assignee = currentUser() AND text ~ "login" AND updated >= "-7d" ORDER BY updated DESC"#
        );
    }

    #[test]
    fn quoting_prevents_clause_injection() {
        let f = Filters { status: Some(r#"Done" OR project = "SECRET"#), ..Filters::default() };
        assert_eq!(f.to_jql(), r#"status = "Done\" OR project = \"SECRET" ORDER BY updated DESC"#);
        assert_eq!(quote(r"a\b"), r#""a\\b""#);
    }

    #[test]
    fn unassigned_and_account_ids_are_expressed_in_jql() {
        let f = Filters { assignee: Some(Assignee::Unassigned), ..Filters::default() };
        assert_eq!(f.to_jql(), "assignee is EMPTY ORDER BY updated DESC");
        let f = Filters { assignee: Some(Assignee::AccountId("abc-1")), ..Filters::default() };
        assert_eq!(f.to_jql(), r#"assignee = "abc-1" ORDER BY updated DESC"#);
        assert!(Filters::default().is_empty());
    }

    #[test]
    fn sprint_filters_become_sprint_clauses() {
        let jql = |raw| Filters { sprint: Some(SprintFilter::parse(raw)), ..Filters::default() }.to_jql();
        assert_eq!(jql("active"), "sprint in openSprints() AND sprint not in futureSprints() ORDER BY updated DESC");
        assert_eq!(jql("backlog"), "sprint is EMPTY ORDER BY updated DESC");
        assert_eq!(jql("DEMO Sprint 2"), r#"sprint = "DEMO Sprint 2" ORDER BY updated DESC"#);
        assert_eq!(jql("12"), "sprint = 12 ORDER BY updated DESC");
        assert_eq!(jql(r#"x" OR project = "SECRET"#), r#"sprint = "x\" OR project = \"SECRET" ORDER BY updated DESC"#);
    }

    #[test]
    fn since_accepts_dates_and_offsets_only() {
        assert!(check_since("2026-11-01").is_ok());
        assert!(check_since("-7d").is_ok());
        assert!(check_since("-12h").is_ok());
        assert_eq!(
            check_since("last week").unwrap_err(),
            "\"last week\" is neither a date (2026-11-01) nor a relative offset like -7d, -2w, -12h"
        );
        assert!(check_since("-d").is_err());
    }

    #[test]
    fn issue_keys_are_validated_and_uppercased() {
        assert_eq!(issue_key(" demo-12 ").unwrap(), "DEMO-12");
        assert_eq!(issue_key("10042").unwrap(), "10042");
        assert!(issue_key("DEMO").is_err());
        assert!(issue_key("../etc/passwd").is_err());
        assert!(issue_key("DEMO-1/comment").is_err());
        assert_eq!(project_key("ops").unwrap(), "OPS");
        assert!(project_key("a b").is_err());
    }
}
