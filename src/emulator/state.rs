//! The emulator's data model, seed data (with the demo credentials) and JSON
//! rendering in Jira's shapes.
//!
//! It stores and renders issues; it must not evaluate JQL (that is `jql`'s job)
//! or know about HTTP.

use std::collections::BTreeMap;

pub(crate) use super::catalog::{ISSUE_TYPES, PRIORITIES, PROJECTS, STATUSES, USERS, WORKFLOW, jira_time};
use super::{
    attachments::{self, FileRec, attachment_json},
    catalog::{self, SPRINT},
};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// Credentials the emulator accepts: the demo account the configuration's `demo`
/// mode uses, written once there.
pub use crate::config::{DEMO_EMAIL, DEMO_TOKEN};
use crate::jira::adf;

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

/// A link between two issues, stored on both; `outward` says which side this issue is.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) id: u64,
    pub(crate) kind: &'static str,
    pub(crate) outward: bool,
    pub(crate) other: String,
}

/// A worklog entry.
#[derive(Debug, Clone)]
pub(crate) struct WorkEntry {
    pub(crate) id: u64,
    pub(crate) author: usize,
    pub(crate) started: DateTime<Utc>,
    pub(crate) seconds: u64,
    pub(crate) comment: Option<Value>,
}

#[derive(Debug, Clone, Default)]
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
    pub(crate) links: Vec<Link>,
    /// Other fields (custom fields, components, versions, due date…) as Jira's JSON, by id.
    pub(crate) fields: BTreeMap<String, Value>,
    /// Sprint ids, oldest first (an issue carried over sits in several).
    pub(crate) sprints: Vec<u64>,
    pub(crate) worklogs: Vec<WorkEntry>,
    /// Remote links: (url, title).
    pub(crate) remote_links: Vec<(String, String)>,
    pub(crate) attachments: Vec<FileRec>,
}

/// All mutable emulator data.
#[derive(Debug, Default)]
pub(crate) struct Data {
    pub(crate) issues: BTreeMap<String, Issue>,
    pub(crate) next_id: u64,
    pub(crate) next_num: BTreeMap<&'static str, u64>,
    pub(crate) next_comment: u64,
    /// Ids of links and worklogs.
    pub(crate) next_link: u64,
    pub(crate) next_worklog: u64,
    pub(crate) next_attachment: u64,
    /// When the site was seeded: sprint dates are relative to it.
    pub(crate) epoch: DateTime<Utc>,
}

/// A seeded status change `from` → `to`.
fn status_change(id: u64, author: usize, created: DateTime<Utc>, from: &str, to: &str) -> Change {
    Change { id, author, created, field: "status".to_owned(), from: Some(from.to_owned()), to: Some(to.to_owned()) }
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
        let mut d = Self {
            next_id: 10000,
            next_comment: 20000,
            next_link: 40000,
            next_worklog: 50000,
            next_attachment: 60100,
            epoch: now,
            ..Self::default()
        };
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
                ..Issue::default()
            });
            d.enrich_fields(&key, i, now);
            if status != "To Do"
                && let Some(issue) = d.issues.get_mut(&key)
            {
                issue.history.push(status_change(30000 + i as u64, i % USERS.len(), updated, "To Do", status));
            }
        }
        d.enrich_demo_1(now);
        d.seed_epic();
        for (key, file) in attachments::seeded(now) {
            if let Some(issue) = d.issues.get_mut(key) {
                issue.attachments.push(file);
            }
        }
        d
    }

    /// Story points, severity, components, versions, due dates and sprints, spread
    /// over the seeded issues so the demo shows every field type.
    fn enrich_fields(&mut self, key: &str, i: usize, now: DateTime<Utc>) {
        let Some(issue) = self.issues.get_mut(key) else { return };
        let f = &mut issue.fields;
        f.insert(catalog::STORY_POINTS.to_owned(), json!([1, 2, 3, 5, 8].get(i % 5).copied().unwrap_or(3)));
        if issue.issue_type == "Bug" {
            let severity = ["S1", "S2", "S3", "S4"].get(i % 4).copied().unwrap_or("S3");
            f.insert(catalog::SEVERITY.to_owned(), json!({ "value": severity }));
        }
        if issue.project == "DEMO" {
            let component = if issue.labels.iter().any(|l| l == "backend") { "API" } else { "Web" };
            f.insert("components".to_owned(), json!([{ "name": component }]));
            if i.is_multiple_of(6) {
                f.insert("fixVersions".to_owned(), json!([{ "name": "4.3" }]));
            }
        }
        if i.is_multiple_of(8) {
            f.insert("duedate".to_owned(), json!((now + Duration::days(10)).format("%Y-%m-%d").to_string()));
        }
        if issue.status == "Done" {
            f.insert("resolution".to_owned(), json!({ "id": "10000", "name": "Done" }));
        }
        if issue.project != "DEMO" {
            return;
        }
        // Sprints of the DEMO board: 0 active, 1 closed (carried over when not done), 2 future, 3 backlog.
        issue.sprints = match i % 4 {
            0 => vec![2],
            1 if issue.status == "Done" => vec![1],
            1 => vec![1, 2],
            2 => vec![3],
            _ => Vec::new(),
        };
        for (n, sprint) in issue.sprints.iter().enumerate() {
            let name = catalog::SPRINTS.iter().find(|s| s.0 == *sprint).map_or("", |s| s.2);
            let start = catalog::SPRINTS.iter().find(|s| s.0 == *sprint).map_or(0, |s| s.4);
            // Some issues joined the active sprint after it started: scope added.
            let when = if *sprint == 2 && i.is_multiple_of(8) {
                now - Duration::days(3)
            } else {
                now + Duration::days(start) - Duration::hours(1)
            };
            issue.history.push(Change {
                id: 35000 + i as u64 * 4 + n as u64,
                author: 0,
                created: when.min(now),
                field: "Sprint".to_owned(),
                from: None,
                to: Some(name.to_owned()),
            });
        }
    }

    /// One epic with children: "Add SSO support for Okta" becomes an epic of three issues.
    fn seed_epic(&mut self) {
        let Some(epic) = self.issues.values().find(|i| i.summary == "Add SSO support for Okta").map(|i| i.key.clone())
        else {
            return;
        };
        let children: Vec<String> =
            ["DEMO-11", "DEMO-12", "DEMO-13"].iter().map(|k| (*k).to_owned()).filter(|k| *k != epic).collect();
        if let Some(e) = self.issues.get_mut(&epic) {
            e.issue_type = "Epic";
            e.sprints.clear();
            e.fields.remove(catalog::STORY_POINTS);
        }
        for child in children {
            if let Some(c) = self.issues.get_mut(&child) {
                c.parent = Some(epic.clone());
            }
        }
    }

    fn enrich_demo_1(&mut self, now: DateTime<Utc>) {
        let description = adf_text(
            "Users on slow networks see **Session expired** after 10 s on the login page.\n\n\
             ## Steps to reproduce\n\n1. Throttle the network to 3G\n2. Open `/login`\n3. Submit valid credentials\n\n\
             ## Notes\n\n- Happens on web and mobile\n- Started after the 4.2 release\n\n\
             ```js\nfetch('/api/session', { timeout: 10000 })\n```\n\n\
             :::warning\nOnly on 3G: [@Sam Rivera](accountId:acc-sam) reproduces it every time.\n:::",
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
            issue.links = vec![
                Link { id: 10010, kind: "Blocks", outward: true, other: "DEMO-4".to_owned() },
                Link { id: 10011, kind: "Relates", outward: false, other: "OPS-5".to_owned() },
            ];
            issue.worklogs = vec![
                WorkEntry { id: 50001, author: 0, started: now - Duration::days(5), seconds: 7200, comment: None },
                WorkEntry {
                    id: 50002,
                    author: 1,
                    started: now - Duration::days(2),
                    seconds: 5400,
                    comment: Some(adf_text("Profiled the session call on 3G.")),
                },
            ];
            issue.fields.insert("timetracking".to_owned(), json!({ "originalEstimate": "1d" }));
            issue.fields.insert("environment".to_owned(), adf_text("Chrome 120 and the iOS app, 3G throttling"));
            issue.remote_links =
                vec![("https://status.example.com/incidents/42".to_owned(), "Incident 42: login timeouts".to_owned())];
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
            ..Issue::default()
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
    /// Attaches a new file to `key_or_id` (the issue counts as updated); `None` if
    /// there is no such issue.
    pub(crate) fn attach(
        &mut self,
        key_or_id: &str,
        name: &str,
        mime: &str,
        bytes: &[u8],
        author: usize,
    ) -> Option<FileRec> {
        let key = self.find_key(key_or_id)?;
        let id = self.next_attachment;
        let issue = self.issues.get_mut(&key)?;
        self.next_attachment += 1;
        let now = Utc::now();
        let file = FileRec {
            id,
            filename: name.to_owned(),
            mime_type: mime.to_owned(),
            author,
            created: now,
            content: bytes.into(),
        };
        issue.attachments.push(file.clone());
        issue.updated = now;
        Some(file)
    }

    pub(crate) fn find(&self, key_or_id: &str) -> Option<&Issue> {
        let upper = key_or_id.to_ascii_uppercase();
        self.issues.get(&upper).or_else(|| self.issues.values().find(|i| i.id.to_string() == key_or_id))
    }

    pub(crate) fn find_key(&self, key_or_id: &str) -> Option<String> {
        self.find(key_or_id).map(|i| i.key.clone())
    }

    /// The subtasks of an issue (an epic's children are not subtasks).
    pub(crate) fn subtasks(&self, key: &str) -> Vec<&Issue> {
        self.issues.values().filter(|i| i.parent.as_deref() == Some(key) && i.issue_type == "Subtask").collect()
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
                    .map(|l| {
                        let (name, inward, outward) = catalog::LINK_TYPES
                            .iter()
                            .find(|t| t.1 == l.kind)
                            .map_or((l.kind, "relates to", "relates to"), |t| (t.1, t.2, t.3));
                        let side = if l.outward { "outwardIssue" } else { "inwardIssue" };
                        json!({ "id": l.id.to_string(), "type": { "name": name, "inward": inward, "outward": outward }, side: self.ref_json(&l.other) })
                    })
                    .collect(),
            ),
        );
        for (id, value) in &issue.fields {
            if id != "timetracking" {
                put(id, value.clone());
            }
        }
        put(
            SPRINT,
            if issue.sprints.is_empty() {
                Value::Null
            } else {
                Value::Array(issue.sprints.iter().map(|s| catalog::sprint_json(*s, self.epoch)).collect())
            },
        );
        put("worklog", worklog_page(issue, base));
        put("attachment", issue.attachments.iter().map(|a| attachment_json(a, user_json(a.author), base)).collect());
        put("timetracking", time_tracking(issue));
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

/// `2h 30m` from seconds, as Jira writes durations (8-hour days).
pub(crate) fn duration_text(seconds: u64) -> String {
    let (d, h, m) = (seconds / 28_800, seconds % 28_800 / 3600, seconds % 3600 / 60);
    let parts: Vec<String> =
        [(d, "d"), (h, "h"), (m, "m")].iter().filter(|(n, _)| *n > 0).map(|(n, u)| format!("{n}{u}")).collect();
    if parts.is_empty() { "0m".to_owned() } else { parts.join(" ") }
}

/// Seconds of a Jira duration (`1d 2h 30m`, 8-hour days, 5-day weeks); `None` if malformed.
pub(crate) fn duration_seconds(text: &str) -> Option<u64> {
    let mut total = 0_u64;
    let mut any = false;
    for part in text.split_whitespace() {
        let (num, unit) = part.split_at(part.len().checked_sub(1)?);
        let n: u64 = num.parse().ok()?;
        total += n * match unit {
            "w" => 144_000,
            "d" => 28_800,
            "h" => 3600,
            "m" => 60,
            _ => return None,
        };
        any = true;
    }
    any.then_some(total)
}

pub(crate) fn worklog_json(w: &WorkEntry, issue: &Issue, base: &str) -> Value {
    let mut json = json!({
        "id": w.id.to_string(), "issueId": issue.id.to_string(),
        "self": format!("{base}/rest/api/3/issue/{}/worklog/{}", issue.id, w.id),
        "author": user_json(w.author), "updateAuthor": user_json(w.author),
        "started": jira_time(w.started), "created": jira_time(w.started), "updated": jira_time(w.started),
        "timeSpent": duration_text(w.seconds), "timeSpentSeconds": w.seconds
    });
    if let (Some(c), Some(obj)) = (&w.comment, json.as_object_mut()) {
        obj.insert("comment".to_owned(), c.clone());
    }
    json
}

fn worklog_page(issue: &Issue, base: &str) -> Value {
    let logs: Vec<Value> = issue.worklogs.iter().map(|w| worklog_json(w, issue, base)).collect();
    json!({ "startAt": 0, "maxResults": 20, "total": logs.len(), "worklogs": logs })
}

/// Estimates and time spent, as the `timetracking` field shows them.
fn time_tracking(issue: &Issue) -> Value {
    let spent: u64 = issue.worklogs.iter().map(|w| w.seconds).sum();
    let original = issue.fields.get("timetracking").and_then(|t| t.get("originalEstimate")).and_then(Value::as_str);
    let mut out = serde_json::Map::new();
    if let Some(o) = original.and_then(|o| duration_seconds(o).map(|s| (o, s))) {
        out.insert("originalEstimate".to_owned(), json!(o.0));
        out.insert("originalEstimateSeconds".to_owned(), json!(o.1));
        let remaining = o.1.saturating_sub(spent);
        out.insert("remainingEstimate".to_owned(), json!(duration_text(remaining)));
        out.insert("remainingEstimateSeconds".to_owned(), json!(remaining));
    }
    if spent > 0 {
        out.insert("timeSpent".to_owned(), json!(duration_text(spent)));
        out.insert("timeSpentSeconds".to_owned(), json!(spent));
    }
    Value::Object(out)
}

pub(crate) fn comment_json(c: &Comment, key: &str, base: &str) -> Value {
    json!({
        "id": c.id.to_string(), "self": format!("{base}/rest/api/3/issue/{key}/comment/{}", c.id),
        "author": user_json(c.author), "body": c.body,
        "created": jira_time(c.created), "updated": jira_time(c.created)
    })
}
