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
    pub(crate) id: String,
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
    #[serde(default)]
    pub(crate) id: Option<String>,
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
    /// Every other field Jira sent (custom fields, components, versions, time tracking…),
    /// by field id, for rendering by type.
    #[serde(flatten)]
    pub(crate) other: serde_json::Map<String, Value>,
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

/// A field's type as Jira describes it (`JsonTypeBean`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FieldSchema {
    /// `number`, `string`, `option`, `array`, `user`, `date`, `datetime`, `option-with-child`…
    #[serde(default, rename = "type")]
    pub(crate) kind: String,
    /// The element type of an `array`.
    #[serde(default)]
    pub(crate) items: Option<String>,
    /// The custom field type key, e.g. `com.atlassian.jira.plugin.system.customfieldtypes:float`.
    #[serde(default)]
    pub(crate) custom: Option<String>,
    /// The system field it is, e.g. `duedate`.
    #[serde(default)]
    pub(crate) system: Option<String>,
}

/// One field of the site (`GET /rest/api/3/field`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct FieldDef {
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) schema: Option<FieldSchema>,
}

/// A field on a create or edit screen, with what it accepts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScreenField {
    /// The field id (editmeta keys its map by it; `Jira` fills it from `fieldId` for createmeta).
    #[serde(default)]
    pub(crate) key: String,
    /// createmeta's name for the id.
    #[serde(default)]
    pub(crate) field_id: Option<String>,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) required: bool,
    #[serde(default)]
    pub(crate) schema: FieldSchema,
    /// Options, components, versions, priorities…: each an object with `value` or `name`.
    #[serde(default)]
    pub(crate) allowed_values: Option<Vec<Value>>,
}

/// `GET /rest/api/3/issue/createmeta/{project}/issuetypes/{id}` (paged list of fields).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct CreateMetaPage {
    #[serde(default, alias = "results")]
    pub(crate) fields: Vec<ScreenField>,
}

/// `GET /rest/api/3/issue/{key}/editmeta`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct EditMeta {
    #[serde(default)]
    pub(crate) fields: std::collections::BTreeMap<String, ScreenField>,
}

/// A link type (`GET /rest/api/3/issueLinkType`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct LinkTypeDef {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) inward: String,
    #[serde(default)]
    pub(crate) outward: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LinkTypes {
    #[serde(default)]
    pub(crate) issue_link_types: Vec<LinkTypeDef>,
}

/// A worklog entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Worklog {
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) author: Option<User>,
    #[serde(default)]
    pub(crate) started: Option<String>,
    #[serde(default)]
    pub(crate) time_spent: Option<String>,
    #[serde(default)]
    pub(crate) time_spent_seconds: u64,
    #[serde(default)]
    pub(crate) comment: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct WorklogPage {
    #[serde(default)]
    pub(crate) worklogs: Vec<Worklog>,
    #[serde(default)]
    pub(crate) total: Option<u64>,
}

/// A remote (web) link of an issue.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RemoteLink {
    #[serde(default)]
    pub(crate) object: RemoteObject,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RemoteObject {
    #[serde(default)]
    pub(crate) url: String,
    #[serde(default)]
    pub(crate) title: String,
}

/// An agile board.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Board {
    #[serde(default)]
    pub(crate) id: u64,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default, rename = "type")]
    pub(crate) kind: String,
}

/// A sprint of a board.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Sprint {
    #[serde(default)]
    pub(crate) id: u64,
    #[serde(default)]
    pub(crate) name: String,
    /// `active`, `future` or `closed`.
    #[serde(default)]
    pub(crate) state: String,
    #[serde(default)]
    pub(crate) start_date: Option<String>,
    #[serde(default)]
    pub(crate) end_date: Option<String>,
    #[serde(default)]
    pub(crate) goal: Option<String>,
}

/// The agile API's page shape (`values`, `isLast`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgilePage<T> {
    #[serde(default = "Vec::new")]
    pub(crate) values: Vec<T>,
    #[serde(default)]
    pub(crate) is_last: Option<bool>,
}
