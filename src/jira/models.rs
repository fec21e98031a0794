//! Wire types of Jira Cloud REST v3, only the parts this server reads.
//!
//! Invariant: these never leave `jira` + `tools` formatting; no tool returns
//! them raw. Everything Jira may omit is optional or defaulted.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    #[serde(default)]
    pub(crate) account_id: Option<String>,
    #[serde(default)]
    pub(crate) display_name: Option<String>,
    #[serde(default)]
    pub(crate) email_address: Option<String>,
}

impl User {
    pub(crate) fn label(&self) -> &str {
        self.display_name.as_deref().or(self.email_address.as_deref()).unwrap_or("unknown user")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusCategory {
    #[serde(default)]
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Status {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) status_category: Option<StatusCategory>,
}

impl Status {
    /// True when Jira counts the status as finished ("done" category).
    pub(crate) fn is_done(&self) -> bool {
        self.status_category.as_ref().is_some_and(|c| c.key == "done")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Named {
    #[serde(default)]
    pub(crate) name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct IssueType {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) subtask: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct IssueRefFields {
    #[serde(default)]
    pub(crate) summary: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<Status>,
}

/// An issue as it appears inside another (subtask, link, parent).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct IssueRef {
    #[serde(default)]
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) fields: Option<IssueRefFields>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct LinkType {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) inward: Option<String>,
    #[serde(default)]
    pub(crate) outward: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IssueLink {
    #[serde(default, rename = "type")]
    pub(crate) link_type: LinkType,
    #[serde(default)]
    pub(crate) inward_issue: Option<IssueRef>,
    #[serde(default)]
    pub(crate) outward_issue: Option<IssueRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Comment {
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) author: Option<User>,
    #[serde(default)]
    pub(crate) body: Option<Value>,
    #[serde(default)]
    pub(crate) created: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct CommentPage {
    #[serde(default)]
    pub(crate) comments: Vec<Comment>,
    #[serde(default)]
    pub(crate) total: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangeItem {
    #[serde(default)]
    pub(crate) field: String,
    #[serde(default)]
    pub(crate) from_string: Option<String>,
    #[serde(default)]
    pub(crate) to_string: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct History {
    #[serde(default)]
    pub(crate) author: Option<User>,
    #[serde(default)]
    pub(crate) created: Option<String>,
    #[serde(default)]
    pub(crate) items: Vec<ChangeItem>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Changelog {
    #[serde(default)]
    pub(crate) histories: Vec<History>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct IssueFields {
    #[serde(default)]
    pub(crate) summary: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<Status>,
    #[serde(default)]
    pub(crate) assignee: Option<User>,
    #[serde(default)]
    pub(crate) reporter: Option<User>,
    #[serde(default)]
    pub(crate) priority: Option<Named>,
    #[serde(default)]
    pub(crate) issuetype: Option<IssueType>,
    #[serde(default)]
    pub(crate) labels: Vec<String>,
    #[serde(default)]
    pub(crate) created: Option<String>,
    #[serde(default)]
    pub(crate) updated: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<Value>,
    #[serde(default)]
    pub(crate) comment: Option<CommentPage>,
    #[serde(default)]
    pub(crate) subtasks: Vec<IssueRef>,
    #[serde(default)]
    pub(crate) issuelinks: Vec<IssueLink>,
    #[serde(default)]
    pub(crate) parent: Option<IssueRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Issue {
    #[serde(default)]
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) fields: IssueFields,
    #[serde(default)]
    pub(crate) changelog: Option<Changelog>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SearchPage {
    #[serde(default)]
    pub(crate) issues: Vec<Issue>,
    #[serde(default)]
    pub(crate) is_last: Option<bool>,
    #[serde(default)]
    pub(crate) next_page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Count {
    #[serde(default)]
    pub(crate) count: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Transition {
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) to: Status,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Transitions {
    #[serde(default)]
    pub(crate) transitions: Vec<Transition>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Project {
    #[serde(default)]
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) name: String,
}

/// Jira's generic `PageBean*` shape (`values`, `isLast`, ...); only `values` is read.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub(crate) values: Vec<T>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IssueTypePage {
    #[serde(default)]
    pub(crate) issue_types: Vec<IssueType>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Created {
    #[serde(default)]
    pub(crate) key: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusDetails {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) status_category: Option<StatusCategory>,
}

/// `GET /mypermissions`: each requested permission and whether the caller holds it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct MyPermissions {
    #[serde(default)]
    pub(crate) permissions: std::collections::BTreeMap<String, PermissionState>,
}

/// One permission in [`MyPermissions`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PermissionState {
    #[serde(default)]
    pub(crate) have_permission: bool,
}
