//! JQL evaluation: which seeded issues a parsed query matches, and in what order.
//!
//! It checks values the way Jira does (unknown project, status, bad date) and
//! then filters and sorts. It reads the data and must not change it; it must
//! not parse JQL text either (that is `parse`'s job).

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::parse::{Expr, Op, Query, Value};
use crate::{
    emulator::{
        catalog::SPRINTS,
        state::{Data, ISSUE_TYPES, Issue, PRIORITIES, PROJECTS, STATUSES, USERS},
    },
    jira::adf,
};

/// Runs a parsed query over `data`: filter, then order (default: key descending, like Jira).
pub(crate) fn search<'a>(
    data: &'a Data,
    query: &Query,
    me: usize,
    now: DateTime<Utc>,
) -> Result<Vec<&'a Issue>, String> {
    if let Some(filter) = &query.filter {
        check_values(filter)?;
    }
    let mut hits: Vec<&Issue> =
        data.issues.values().filter(|i| query.filter.as_ref().is_none_or(|f| eval(f, i, me, now))).collect();
    let order = if query.order.is_empty() { vec![("key".to_owned(), true)] } else { query.order.clone() };
    hits.sort_by(|a, b| {
        let mut ord = std::cmp::Ordering::Equal;
        for (field, desc) in &order {
            let o = sort_key(a, field).cmp(&sort_key(b, field));
            let o = if *desc { o.reverse() } else { o };
            if o != std::cmp::Ordering::Equal {
                ord = o;
                break;
            }
        }
        ord
    });
    Ok(hits)
}

fn sort_key(i: &Issue, field: &str) -> (i64, String) {
    match field {
        "updated" => (i.updated.timestamp_millis(), String::new()),
        "created" => (i.created.timestamp_millis(), String::new()),
        "priority" => (PRIORITIES.iter().position(|p| p.1 == i.priority).map_or(9, |p| p as i64), String::new()),
        "status" => (0, i.status.to_owned()),
        "summary" => (0, i.summary.to_lowercase()),
        // key: order by project, then number.
        _ => {
            let num = i.key.rsplit('-').next().and_then(|n| n.parse::<i64>().ok()).unwrap_or(0);
            (num, i.project.to_owned())
        }
    }
}

/// Jira checks values of some fields before searching.
fn check_values(e: &Expr) -> Result<(), String> {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => check_values(a).and_then(|()| check_values(b)),
        Expr::Not(a) => check_values(a),
        Expr::Clause { field, values, .. } => {
            for v in values {
                let Value::Text(t) = v else { continue };
                let known = match field.as_str() {
                    "project" => {
                        PROJECTS.iter().any(|p| p.1.eq_ignore_ascii_case(t) || p.0 == t || p.2.eq_ignore_ascii_case(t))
                    }
                    "status" => STATUSES.iter().any(|s| s.1.eq_ignore_ascii_case(t) || s.0 == t),
                    "priority" => PRIORITIES.iter().any(|p| p.1.eq_ignore_ascii_case(t)),
                    "type" | "issuetype" => ISSUE_TYPES.iter().any(|p| p.1.eq_ignore_ascii_case(t)),
                    "created" | "updated" => {
                        if date_value(t, Utc::now()).is_none() {
                            return Err(format!(
                                "Date value '{t}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
                            ));
                        }
                        true
                    }
                    _ => true,
                };
                if !known {
                    return Err(format!("The value '{t}' does not exist for the field '{field}'."));
                }
            }
            Ok(())
        }
    }
}

fn user_matches(idx: Option<usize>, v: &Value, me: usize) -> bool {
    match v {
        Value::CurrentUser => idx == Some(me),
        Value::Text(t) => idx
            .and_then(|i| USERS.get(i))
            .is_some_and(|u| u.account_id == t || u.email.eq_ignore_ascii_case(t) || u.name.eq_ignore_ascii_case(t)),
        Value::Sprints(_) => false,
    }
}

fn text_of(i: &Issue) -> String {
    let mut s = i.summary.to_lowercase();
    if let Some(d) = &i.description {
        s.push(' ');
        s.push_str(&adf::to_markdown(d).to_lowercase());
    }
    for c in &i.comments {
        s.push(' ');
        s.push_str(&adf::to_markdown(&c.body).to_lowercase());
    }
    s
}

fn eval(e: &Expr, i: &Issue, me: usize, now: DateTime<Utc>) -> bool {
    match e {
        Expr::And(a, b) => eval(a, i, me, now) && eval(b, i, me, now),
        Expr::Or(a, b) => eval(a, i, me, now) || eval(b, i, me, now),
        Expr::Not(a) => !eval(a, i, me, now),
        Expr::Clause { field, op, values } => clause(field, *op, values, i, me, now),
    }
}

fn clause(field: &str, op: Op, values: &[Value], i: &Issue, me: usize, now: DateTime<Utc>) -> bool {
    let first = values.first();
    let text = |v: &Value| match v {
        Value::Text(t) => t.clone(),
        Value::CurrentUser | Value::Sprints(_) => String::new(),
    };
    let eq_any = |pred: &dyn Fn(&Value) -> bool| values.iter().any(pred);
    let positive = match field {
        "assignee" | "reporter" => {
            let who = if field == "assignee" { i.assignee } else { Some(i.reporter) };
            match op {
                Op::IsEmpty => return who.is_none(),
                Op::IsNotEmpty => return who.is_some(),
                _ => eq_any(&|v| user_matches(who, v, me)),
            }
        }
        "created" | "updated" => {
            let t = if field == "created" { i.created } else { i.updated };
            let Some(v) = first.map(text).and_then(|s| date_value(&s, now)) else { return false };
            return match op {
                Op::Gt => t > v,
                Op::Ge => t >= v,
                Op::Lt => t < v,
                Op::Le => t <= v,
                Op::Eq => t.date_naive() == v.date_naive(),
                _ => t.date_naive() != v.date_naive(),
            };
        }
        "text" | "summary" | "description" => {
            let hay = match field {
                "summary" => i.summary.to_lowercase(),
                "description" => i.description.as_ref().map(|d| adf::to_markdown(d).to_lowercase()).unwrap_or_default(),
                _ => text_of(i),
            };
            if matches!(op, Op::IsEmpty) {
                return hay.is_empty();
            }
            let needle = first.map(text).unwrap_or_default().to_lowercase();
            let words: Vec<&str> = needle.split_whitespace().collect();
            let found = !words.is_empty() && words.iter().all(|w| hay.contains(w.trim_matches('*')));
            return if matches!(op, Op::NotLike) { !found } else { found };
        }
        "labels" => match op {
            Op::IsEmpty => return i.labels.is_empty(),
            Op::IsNotEmpty => return !i.labels.is_empty(),
            _ => eq_any(&|v| i.labels.iter().any(|l| l.eq_ignore_ascii_case(&text(v)))),
        },
        "sprint" => match op {
            Op::IsEmpty => return i.sprints.is_empty(),
            Op::IsNotEmpty => return !i.sprints.is_empty(),
            _ => eq_any(&|v| {
                i.sprints.iter().filter_map(|id| SPRINTS.iter().find(|s| s.0 == *id)).any(|s| match v {
                    Value::Sprints(f) => match f.as_str() {
                        "opensprints" => s.3 != "closed",
                        "closedsprints" => s.3 == "closed",
                        _ => s.3 == "future",
                    },
                    other => {
                        let t = text(other);
                        t == s.0.to_string() || t.eq_ignore_ascii_case(s.2)
                    }
                })
            }),
        },
        "parent" => match op {
            Op::IsEmpty => return i.parent.is_none(),
            Op::IsNotEmpty => return i.parent.is_some(),
            _ => eq_any(&|v| i.parent.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(&text(v)))),
        },
        "priority" if matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le) => {
            let rank = |name: &str| PRIORITIES.iter().position(|p| p.1.eq_ignore_ascii_case(name)).unwrap_or(9);
            let (mine, theirs) = (rank(i.priority), rank(&first.map(text).unwrap_or_default()));
            // Higher priority = lower rank number.
            return match op {
                Op::Gt => mine < theirs,
                Op::Ge => mine <= theirs,
                Op::Lt => mine > theirs,
                _ => mine >= theirs,
            };
        }
        _ => {
            let actual: Vec<String> = match field {
                "project" => PROJECTS
                    .iter()
                    .filter(|p| p.1 == i.project)
                    .flat_map(|p| [p.0.to_owned(), p.1.to_owned(), p.2.to_owned()])
                    .collect(),
                "key" | "issuekey" => vec![i.key.clone(), i.id.to_string()],
                "status" => {
                    STATUSES.iter().filter(|s| s.1 == i.status).flat_map(|s| [s.0.to_owned(), s.1.to_owned()]).collect()
                }
                "statuscategory" => {
                    STATUSES.iter().filter(|s| s.1 == i.status).flat_map(|s| [s.2.to_owned(), s.3.to_owned()]).collect()
                }
                "priority" => vec![i.priority.to_owned()],
                _ => vec![i.issue_type.to_owned()],
            };
            match op {
                Op::IsEmpty => return actual.is_empty(),
                Op::IsNotEmpty => return !actual.is_empty(),
                _ => eq_any(&|v| actual.iter().any(|a| a.eq_ignore_ascii_case(&text(v)))),
            }
        }
    };
    match op {
        Op::Ne | Op::NotIn | Op::NotLike => !positive,
        _ => positive,
    }
}

/// Resolves a JQL date value: `-7d`, `-2w`, `-12h`, `-30m`, `2026-11-01`, `2026-11-01 10:00`.
pub(crate) fn date_value(raw: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Some(rest) = raw.strip_prefix('-') {
        let (num, unit) = rest.split_at(rest.len().checked_sub(1)?);
        let n: i64 = num.parse().ok()?;
        let d = match unit {
            "d" => Duration::days(n),
            "w" => Duration::weeks(n),
            "h" => Duration::hours(n),
            "m" => Duration::minutes(n),
            _ => return None,
        };
        return Some(now - d);
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M").ok().map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(date_value("-1d", now).unwrap().to_rfc3339(), "2026-11-24T12:00:00+00:00");
        assert_eq!(date_value("2026-11-01", now).unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert!(date_value("yesterday", now).is_none());
    }
}
