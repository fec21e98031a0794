//! Wire types of Jira Cloud REST v3, only the parts this server reads.
//!
//! Invariant: these never leave `jira` + `tools` formatting; no tool returns
//! them raw. Everything Jira may omit is optional or defaulted.
//!
//! Reading is tolerant where it can be: an issue field the server only displays
//! and that arrives in an unexpected shape is left empty and its name recorded
//! in [`IssueFields::unreadable`], so the call still succeeds and says what it
//! could not show. Identifiers a call needs (an issue's `key`, a transition's
//! `id`, a created issue's `key`) are required: without them decoding fails,
//! naming the field.

use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Map, Value};

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

/// A file attached to an issue: its metadata (Jira's `Attachment`), never its content.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Attachment {
    /// Required: an attachment is named by its id. The spec says string; its own example
    /// (and older sites) send a number.
    #[serde(deserialize_with = "string_or_number")]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) filename: String,
    /// Bytes.
    #[serde(default)]
    pub(crate) size: u64,
    #[serde(default)]
    pub(crate) mime_type: Option<String>,
    #[serde(default)]
    pub(crate) author: Option<User>,
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

#[derive(Debug, Clone, Default)]
pub(crate) struct IssueFields {
    pub(crate) summary: Option<String>,
    pub(crate) status: Option<Status>,
    pub(crate) assignee: Option<User>,
    pub(crate) reporter: Option<User>,
    pub(crate) priority: Option<Named>,
    pub(crate) issuetype: Option<IssueType>,
    pub(crate) labels: Vec<String>,
    pub(crate) created: Option<String>,
    pub(crate) updated: Option<String>,
    pub(crate) description: Option<Value>,
    pub(crate) comment: Option<CommentPage>,
    pub(crate) subtasks: Vec<IssueRef>,
    pub(crate) issuelinks: Vec<IssueLink>,
    pub(crate) parent: Option<IssueRef>,
    pub(crate) attachment: Vec<Attachment>,
    /// Fields that arrived in a shape this server cannot read; they are shown as unavailable.
    pub(crate) unreadable: Vec<&'static str>,
    /// Every other field Jira sent (custom fields, components, versions, time tracking…),
    /// by field id, for rendering by type.
    pub(crate) other: Map<String, Value>,
}

/// Takes fields out of Jira's `fields` object one by one, tolerating each.
struct Tolerant {
    map: Map<String, Value>,
    unreadable: Vec<&'static str>,
}

impl Tolerant {
    /// The field, or its default when absent, null, or of a shape that does not fit (recorded).
    fn take<T: DeserializeOwned + Default>(&mut self, name: &'static str) -> T {
        match self.map.remove(name) {
            None | Some(Value::Null) => T::default(),
            Some(v) => serde_json::from_value(v).unwrap_or_else(|_| {
                self.unreadable.push(name);
                T::default()
            }),
        }
    }
}

impl<'de> Deserialize<'de> for IssueFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut t = Tolerant { map: Map::deserialize(d)?, unreadable: Vec::new() };
        Ok(Self {
            summary: t.take("summary"),
            status: t.take("status"),
            assignee: t.take("assignee"),
            reporter: t.take("reporter"),
            priority: t.take("priority"),
            issuetype: t.take("issuetype"),
            labels: t.take("labels"),
            created: t.take("created"),
            updated: t.take("updated"),
            description: t.take("description"),
            comment: t.take("comment"),
            subtasks: t.take("subtasks"),
            issuelinks: t.take("issuelinks"),
            parent: t.take("parent"),
            attachment: t.take("attachment"),
            unreadable: t.unreadable,
            other: t.map,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Issue {
    /// Required: every issue Jira returns has one.
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) fields: IssueFields,
    /// Displayed only: an unreadable changelog is left out.
    #[serde(default, deserialize_with = "tolerant")]
    pub(crate) changelog: Option<Changelog>,
}

/// `deserialize_with` for an id Jira sends as `"10000"` or `10000`.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("expected an id, got {other}"))),
    }
}

/// `deserialize_with` for a displayed-only value: unreadable becomes the default.
fn tolerant<'de, D: serde::Deserializer<'de>, T: DeserializeOwned + Default>(d: D) -> Result<T, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).unwrap_or_default())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SearchPage {
    /// Required: a search answer without `issues` is not Jira's.
    pub(crate) issues: Vec<Issue>,
    #[serde(default)]
    pub(crate) is_last: Option<bool>,
    #[serde(default)]
    pub(crate) next_page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Count {
    pub(crate) count: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Transition {
    /// Required: the move is made by id.
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default, deserialize_with = "tolerant")]
    pub(crate) to: Status,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Transitions {
    /// Required: an answer without it is not Jira's ("no transitions" would be a lie).
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
    pub(crate) values: Vec<T>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IssueTypePage {
    pub(crate) issue_types: Vec<IssueType>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Created {
    /// Required: the new issue's key is the answer.
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
