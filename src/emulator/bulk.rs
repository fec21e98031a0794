//! A larger, realistic site for the simulated week (`jira-mcp emulator --issues N`):
//! N more issues with descriptions from a line to several pages, comment threads
//! from none to dozens, every status and priority, updated over the last 90 days.
//! Deterministic: the same N gives the same site.

use chrono::{DateTime, Duration, Utc};

use super::{
    catalog::USERS,
    state::{Comment, Data, Issue},
};
use crate::jira::adf;

/// A small deterministic generator (xorshift64*): test data only, never security.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len() as u64) as usize).copied().unwrap_or_default()
    }
}

const AREAS: &[&str] =
    &["login", "checkout", "search", "reports", "billing", "notifications", "sync", "export", "admin", "API"];
const PROBLEMS: &[&str] = &[
    "is slow for large accounts",
    "fails intermittently",
    "shows the wrong totals",
    "times out behind the proxy",
    "ignores the user's locale",
    "breaks after the last release",
    "needs an audit trail",
    "should support bulk edits",
];
const WORDS: &[&str] = &[
    "the",
    "request",
    "customer",
    "page",
    "timeout",
    "retry",
    "cache",
    "query",
    "index",
    "deploy",
    "rollback",
    "latency",
    "error",
    "users",
    "tenant",
    "session",
    "token",
    "report",
    "export",
    "worker",
    "queue",
    "database",
    "after",
    "before",
    "when",
    "because",
    "we",
    "saw",
    "logs",
    "show",
    "that",
    "it",
    "is",
    "not",
    "only",
    "also",
    "in",
    "production",
    "staging",
    "since",
    "Monday",
    "increased",
    "by",
    "percent",
    "and",
];
const STATUSES: &[&str] = &["To Do", "In Progress", "In Review", "Done", "Done", "To Do"];
const TYPES: &[&str] = &["Bug", "Task", "Story", "Bug", "Task"];
const PRIORITIES: &[&str] = &["Highest", "High", "Medium", "Medium", "Low", "Lowest"];

/// A paragraph of about `words` words.
fn paragraph(dice: &mut Dice, words: u64) -> String {
    let mut out = String::new();
    for n in 0..words {
        if n > 0 {
            out.push(' ');
        }
        out.push_str(dice.pick(WORDS));
    }
    out.push('.');
    out
}

/// Description lengths as real trackers have them: most a few lines, some pages.
fn description(dice: &mut Dice, area: &str) -> String {
    let paragraphs = match dice.below(100) {
        0..=54 => 1 + dice.below(3),
        55..=84 => 4 + dice.below(8),
        _ => 12 + dice.below(40),
    };
    let mut out = format!("## Problem\n\nThe {area} flow {}\n\n## Details\n\n", dice.pick(PROBLEMS));
    for _ in 0..paragraphs {
        let words = 20 + dice.below(60);
        out.push_str(&paragraph(dice, words));
        out.push_str("\n\n");
    }
    out
}

impl Data {
    /// Adds `count` generated issues (see the module docs).
    pub(crate) fn add_bulk(&mut self, count: usize, now: DateTime<Utc>) {
        let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
        for n in 0..count {
            let area = dice.pick(AREAS);
            let project = if dice.below(5) == 0 { "OPS" } else { "DEMO" };
            let age = 1 + dice.below(90) as i64;
            let created = now - Duration::days(age) - Duration::minutes(dice.below(1440) as i64);
            let updated = created + Duration::minutes(dice.below(age as u64 * 1440) as i64);
            let summary = format!("The {area} flow {} (#{})", dice.pick(PROBLEMS), n + 1);
            let text = description(&mut dice, area);
            let threads = match dice.below(10) {
                0..=3 => 0,
                4..=7 => 1 + dice.below(6),
                _ => 6 + dice.below(30),
            };
            let mut comments = Vec::new();
            for c in 0..threads {
                let words = 8 + dice.below(90);
                comments.push(Comment {
                    id: 900_000 + (n as u64) * 100 + c,
                    author: dice.below(USERS.len() as u64) as usize,
                    body: adf::from_markdown(&paragraph(&mut dice, words)),
                    created: created + Duration::hours(c as i64 + 1),
                });
            }
            let labels = match dice.below(4) {
                0 => vec![area.replace(' ', "-").to_lowercase()],
                1 => vec!["customer".to_owned(), area.to_lowercase()],
                _ => Vec::new(),
            };
            self.insert(Issue {
                project,
                summary,
                description: Some(adf::from_markdown(&text)),
                issue_type: dice.pick(TYPES),
                status: dice.pick(STATUSES),
                priority: dice.pick(PRIORITIES),
                assignee: if dice.below(4) == 0 { None } else { Some(dice.below(USERS.len() as u64) as usize) },
                reporter: dice.below(USERS.len() as u64) as usize,
                labels,
                created,
                updated: updated.min(now),
                comments,
                ..Issue::default()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bulk_site_is_deterministic_and_varied() {
        let now = Utc::now();
        let mut a = Data::default();
        a.add_bulk(300, now);
        let mut b = Data::default();
        b.add_bulk(300, now);
        let summaries = |d: &Data| d.issues.values().map(|i| i.summary.clone()).collect::<Vec<_>>();
        assert_eq!(summaries(&a), summaries(&b));
        assert_eq!(a.issues.len(), 300);
        let long = a.issues.values().filter(|i| adf::to_markdown(i.description.as_ref().unwrap()).len() > 4000).count();
        let chatty = a.issues.values().filter(|i| i.comments.len() > 5).count();
        assert!(long > 10 && long < 150, "some long descriptions: {long}");
        assert!(chatty > 10, "some long comment threads: {chatty}");
    }
}
