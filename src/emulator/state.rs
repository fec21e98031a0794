//! The emulator's data model, seed data (with the demo credentials) and JSON
//! rendering in Jira's shapes.
//!
//! It stores and renders issues; it must not evaluate JQL (that is `jql`'s job)
//! or know about HTTP.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// Credentials the emulator accepts: the demo account the configuration's `demo`
/// mode uses, written once there.
pub use crate::config::{DEMO_EMAIL, DEMO_TOKEN};
use crate::jira::adf;

pub(crate) struct UserRec {
    pub(crate) account_id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) email: &'static str,
}

pub(crate) const USERS: &[UserRec] = &[
    UserRec { account_id: "acc-dana", name: "Dana Demo", email: DEMO_EMAIL },
    UserRec { account_id: "acc-sam", name: "Sam Rivera", email: "sam@example.com" },
    UserRec { account_id: "acc-priya", name: "Priya Patel", email: "priya@example.com" },
    UserRec { account_id: "acc-lee", name: "Lee Chen", email: "lee@example.com" },
];

/// (id, name, category key, category name, colour)
pub(crate) const STATUSES: &[(&str, &str, &str, &str, &str)] = &[
    ("10000", "To Do", "new", "To Do", "blue-gray"),
    ("3", "In Progress", "indeterminate", "In Progress", "yellow"),
    ("10001", "In Review", "indeterminate", "In Progress", "yellow"),
    ("10002", "Done", "done", "Done", "green"),
];

/// The workflow: (transition id, name, from status, to status).
pub(crate) const WORKFLOW: &[(&str, &str, &str, &str)] = &[
    ("11", "Start progress", "To Do", "In Progress"),
    ("21", "Send to review", "In Progress", "In Review"),
    ("31", "Stop progress", "In Progress", "To Do"),
    ("41", "Approve", "In Review", "Done"),
    ("51", "Request changes", "In Review", "In Progress"),
    ("61", "Reopen", "Done", "To Do"),
];

pub(crate) const PRIORITIES: &[(&str, &str)] =
    &[("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest")];

/// (id, name, subtask)
pub(crate) const ISSUE_TYPES: &[(&str, &str, bool)] = &[
    ("10001", "Task", false),
    ("10002", "Bug", false),
    ("10003", "Story", false),
    ("10004", "Epic", false),
    ("10005", "Subtask", true),
];

pub(crate) const PROJECTS: &[(&str, &str, &str)] =
    &[("10000", "DEMO", "Demo Platform"), ("10001", "OPS", "Operations")];

#[derive(Debug, Clone)]
pub(crate) struct Comment {
    pub(crate) id: u64,
    pub(crate) author: usize,
    pub(crate) body: Value,
    pub(crate) created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) id: u64,
    pub(crate) author: usize,
    pub(crate) created: DateTime<Utc>,
    pub(crate) field: String,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub(crate) id: u64,
    pub(crate) key: String,
    pub(crate) project: &'static str,
    pub(crate) summary: String,
    pub(crate) description: Option<Value>,
    pub(crate) issue_type: &'static str,
    pub(crate) status: &'static str,
    pub(crate) priority: &'static str,
    pub(crate) assignee: Option<usize>,
    pub(crate) reporter: usize,
    pub(crate) labels: Vec<String>,
    pub(crate) created: DateTime<Utc>,
    pub(crate) updated: DateTime<Utc>,
    pub(crate) parent: Option<String>,
    pub(crate) comments: Vec<Comment>,
    pub(crate) history: Vec<Change>,
    /// (link type, this issue is the outward side, other key)
    pub(crate) links: Vec<(&'static str, bool, String)>,
}

/// All mutable emulator data.
#[derive(Debug, Default)]
pub(crate) struct Data {
    pub(crate) issues: BTreeMap<String, Issue>,
    pub(crate) next_id: u64,
    pub(crate) next_num: BTreeMap<&'static str, u64>,
    pub(crate) next_comment: u64,
}

/// A seeded status change `from` → `to`.
fn status_change(id: u64, author: usize, created: DateTime<Utc>, from: &str, to: &str) -> Change {
    Change { id, author, created, field: "status".to_owned(), from: Some(from.to_owned()), to: Some(to.to_owned()) }
}

pub(crate) fn jira_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

pub(crate) fn status_json(name: &str) -> Value {
    let (id, name, key, cat, colour) = STATUSES.iter().find(|s| s.1 == name).copied().unwrap_or((
        "0",
        "Unknown",
        "undefined",
        "No Category",
        "medium-gray",
    ));
    json!({ "id": id, "name": name, "statusCategory": { "key": key, "name": cat, "colorName": colour } })
}

pub(crate) fn user_json(idx: usize) -> Value {
    USERS.get(idx).map_or(Value::Null, |u| {
        json!({ "accountId": u.account_id, "displayName": u.name, "emailAddress": u.email, "active": true, "accountType": "atlassian" })
    })
}

fn type_json(name: &str) -> Value {
    let (id, name, sub) = ISSUE_TYPES.iter().find(|t| t.1 == name).copied().unwrap_or(("0", "Task", false));
    json!({ "id": id, "name": name, "subtask": sub })
}

fn priority_json(name: &str) -> Value {
    let (id, name) = PRIORITIES.iter().find(|p| p.1 == name).copied().unwrap_or(("3", "Medium"));
    json!({ "id": id, "name": name })
}

fn adf_text(text: &str) -> Value {
    adf::from_markdown(text)
}

const TITLES: &[&str] = &[
    "Login page times out on slow networks",
    "Add CSV export to the reports screen",
    "Upgrade the payment SDK to v5",
    "Search results ignore archived projects",
    "Nightly backup job fails on large tenants",
    "Dark mode colours are unreadable in tables",
    "Document the public webhooks API",
    "Rate limiter drops requests during deploys",
    "Onboarding email links point to staging",
    "Mobile app crashes when the session expires",
    "Slow query on the audit log page",
    "Add SSO support for Okta",
];

impl Data {
    /// The demo site: two projects, ~60 issues across all statuses, a rich DEMO-1.
    pub(crate) fn seeded(now: DateTime<Utc>) -> Self {
        let mut d = Self { next_id: 10000, next_comment: 20000, ..Self::default() };
        let statuses = ["To Do", "In Progress", "In Review", "Done", "To Do", "In Progress", "Done"];
        let types = ["Bug", "Task", "Story", "Task", "Bug"];
        let prios = ["High", "Medium", "Low", "Highest", "Medium", "Lowest"];
        for i in 0..60_usize {
            let project = if i % 5 == 4 { "OPS" } else { "DEMO" };
            let title = TITLES.get(i % TITLES.len()).copied().unwrap_or("Task");
            let summary =
                if i < TITLES.len() { title.to_owned() } else { format!("{title} (follow-up {})", i / TITLES.len()) };
            let age = 90 - i as i64;
            let created = now - Duration::days(age) - Duration::hours(i as i64 % 7);
            // Older issues were touched longer ago: some open ones are stale.
            let updated = created + Duration::days((age / 3).min(age - 1).max(0)) / 2;
            let status = statuses.get(i % statuses.len()).copied().unwrap_or("To Do");
            let key = d.insert(Issue {
                id: 0,
                key: String::new(),
                project,
                summary,
                description: Some(adf_text(&format!(
                    "Reported by support.\n\n## Steps\n\n1. Open the app\n2. Trigger: {title}\n\nExpected: it works."
                ))),
                issue_type: types.get(i % types.len()).copied().unwrap_or("Task"),
                status,
                priority: prios.get(i % prios.len()).copied().unwrap_or("Medium"),
                assignee: if i % 4 == 3 { None } else { Some(i % USERS.len()) },
                reporter: (i + 1) % USERS.len(),
                labels: match i % 3 {
                    0 => vec!["backend".to_owned()],
                    1 => vec!["frontend".to_owned(), "ux".to_owned()],
                    _ => Vec::new(),
                },
                created,
                updated,
                parent: None,
                comments: Vec::new(),
                history: Vec::new(),
                links: Vec::new(),
            });
            if status != "To Do"
                && let Some(issue) = d.issues.get_mut(&key)
            {
                issue.history.push(status_change(30000 + i as u64, i % USERS.len(), updated, "To Do", status));
            }
        }
        d.enrich_demo_1(now);
        d
    }

    fn enrich_demo_1(&mut self, now: DateTime<Utc>) {
        let description = adf_text(
            "Users on slow networks see **Session expired** after 10 s on the login page.\n\n\
             ## Steps to reproduce\n\n1. Throttle the network to 3G\n2. Open `/login`\n3. Submit valid credentials\n\n\
             ## Notes\n\n- Happens on web and mobile\n- Started after the 4.2 release\n\n\
             ```js\nfetch('/api/session', { timeout: 10000 })\n```",
        );
        self.subtask("DEMO-1", "Raise the session request timeout", "Done", now - Duration::days(20));
        self.subtask("DEMO-1", "Add a retry with backoff on the login call", "In Progress", now - Duration::days(10));
        let comment_id = self.next_comment;
        self.next_comment += 3;
        if let Some(issue) = self.issues.get_mut("DEMO-1") {
            issue.description = Some(description);
            issue.status = "In Progress";
            issue.assignee = Some(0);
            issue.labels = vec!["auth".to_owned(), "backend".to_owned()];
            issue.links = vec![("Blocks", true, "DEMO-4".to_owned()), ("Relates", false, "OPS-5".to_owned())];
            issue.comments = vec![
                Comment {
                    id: comment_id,
                    author: 1,
                    body: adf_text("Reproduced on 3G. The request takes 12 s."),
                    created: now - Duration::days(6),
                },
                Comment {
                    id: comment_id + 1,
                    author: 0,
                    body: adf_text("Raising the timeout in `session.ts` fixes it locally."),
                    created: now - Duration::days(3),
                },
                Comment {
                    id: comment_id + 2,
                    author: 2,
                    body: adf_text("QA: please verify on the **staging** build."),
                    created: now - Duration::days(1),
                },
            ];
            issue.history = vec![
                status_change(39001, 1, now - Duration::days(8), "To Do", "In Progress"),
                status_change(39002, 0, now - Duration::days(2), "In Progress", "In Review"),
                status_change(39003, 2, now - Duration::days(1), "In Review", "In Progress"),
            ];
            issue.updated = now - Duration::days(1);
        }
    }

    fn subtask(&mut self, parent: &str, summary: &str, status: &'static str, created: DateTime<Utc>) -> String {
        let project = self.issues.get(parent).map_or("DEMO", |p| p.project);
        self.insert(Issue {
            id: 0,
            key: String::new(),
            project,
            summary: summary.to_owned(),
            description: None,
            issue_type: "Subtask",
            status,
            priority: "Medium",
            assignee: Some(0),
            reporter: 0,
            labels: Vec::new(),
            created,
            updated: created,
            parent: Some(parent.to_owned()),
            comments: Vec::new(),
            history: Vec::new(),
            links: Vec::new(),
        })
    }

    /// Stores an issue, assigning id and key. Returns the key.
    pub(crate) fn insert(&mut self, mut issue: Issue) -> String {
        let num = self.next_num.entry(issue.project).or_insert(0);
        *num += 1;
        issue.key = format!("{}-{num}", issue.project);
        issue.id = self.next_id;
        self.next_id += 1;
        let key = issue.key.clone();
        self.issues.insert(key.clone(), issue);
        key
    }

    /// Looks an issue up by key (any case) or numeric id.
    pub(crate) fn find(&self, key_or_id: &str) -> Option<&Issue> {
        let upper = key_or_id.to_ascii_uppercase();
        self.issues.get(&upper).or_else(|| self.issues.values().find(|i| i.id.to_string() == key_or_id))
    }

    pub(crate) fn find_key(&self, key_or_id: &str) -> Option<String> {
        self.find(key_or_id).map(|i| i.key.clone())
    }

    pub(crate) fn subtasks(&self, key: &str) -> Vec<&Issue> {
        self.issues.values().filter(|i| i.parent.as_deref() == Some(key)).collect()
    }

    fn ref_json(&self, key: &str) -> Value {
        match self.issues.get(key) {
            Some(i) => json!({
                "id": i.id.to_string(), "key": i.key,
                "fields": { "summary": i.summary, "status": status_json(i.status), "issuetype": type_json(i.issue_type), "priority": priority_json(i.priority) }
            }),
            None => json!({ "key": key }),
        }
    }

    /// Renders an issue like `GET /rest/api/3/issue/{key}`, limited to `fields`
    /// (`None` = all).
    pub(crate) fn issue_json(&self, issue: &Issue, base: &str, fields: Option<&[String]>, changelog: bool) -> Value {
        let want = |name: &str| fields.is_none_or(|f| f.iter().any(|x| x == name || x == "*all" || x == "*navigable"));
        let mut out = serde_json::Map::new();
        let mut put = |name: &str, v: Value| {
            if want(name) {
                out.insert(name.to_owned(), v);
            }
        };
        put("summary", json!(issue.summary));
        put("status", status_json(issue.status));
        put("assignee", issue.assignee.map_or(Value::Null, user_json));
        put("reporter", user_json(issue.reporter));
        put("priority", priority_json(issue.priority));
        put("issuetype", type_json(issue.issue_type));
        put("labels", json!(issue.labels));
        put("created", json!(jira_time(issue.created)));
        put("updated", json!(jira_time(issue.updated)));
        put("description", issue.description.clone().unwrap_or(Value::Null));
        put(
            "project",
            PROJECTS
                .iter()
                .find(|p| p.1 == issue.project)
                .map_or(Value::Null, |p| json!({ "id": p.0, "key": p.1, "name": p.2 })),
        );
        put("parent", issue.parent.as_deref().map_or(Value::Null, |p| self.ref_json(p)));
        put("subtasks", Value::Array(self.subtasks(&issue.key).iter().map(|s| self.ref_json(&s.key)).collect()));
        put(
            "issuelinks",
            Value::Array(
                issue
                    .links
                    .iter()
                    .enumerate()
                    .map(|(n, (kind, outward, other))| {
                        let (inward, outward_name) = match *kind {
                            "Blocks" => ("is blocked by", "blocks"),
                            "Duplicate" => ("is duplicated by", "duplicates"),
                            _ => ("relates to", "relates to"),
                        };
                        let side = if *outward { "outwardIssue" } else { "inwardIssue" };
                        json!({ "id": (issue.id * 10 + n as u64).to_string(), "type": { "name": kind, "inward": inward, "outward": outward_name }, side: self.ref_json(other) })
                    })
                    .collect(),
            ),
        );
        put(
            "comment",
            json!({
                "comments": issue.comments.iter().map(|c| comment_json(c, &issue.key, base)).collect::<Vec<_>>(),
                "maxResults": issue.comments.len(), "total": issue.comments.len(), "startAt": 0
            }),
        );
        let mut json = json!({
            "id": issue.id.to_string(), "key": issue.key,
            "self": format!("{base}/rest/api/3/issue/{}", issue.id),
            "fields": Value::Object(out),
        });
        if changelog && let Some(obj) = json.as_object_mut() {
            let histories: Vec<Value> = issue
                .history
                .iter()
                .rev()
                .map(|h| {
                    json!({
                        "id": h.id.to_string(), "author": user_json(h.author), "created": jira_time(h.created),
                        "items": [{ "field": h.field, "fieldtype": "jira", "fromString": h.from, "toString": h.to }]
                    })
                })
                .collect();
            obj.insert("changelog".to_owned(), json!({ "startAt": 0, "maxResults": histories.len(), "total": histories.len(), "histories": histories }));
        }
        json
    }
}

pub(crate) fn comment_json(c: &Comment, key: &str, base: &str) -> Value {
    json!({
        "id": c.id.to_string(), "self": format!("{base}/rest/api/3/issue/{key}/comment/{}", c.id),
        "author": user_json(c.author), "body": c.body,
        "created": jira_time(c.created), "updated": jira_time(c.created)
    })
}
