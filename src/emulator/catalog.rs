//! The emulated site's metadata, in the shapes of Atlassian's OpenAPI specs:
//! the field list (system and custom fields with realistic ids and schemas),
//! create/edit screens with allowed values, components, versions, issue link
//! types, boards and sprints. Static data only: no HTTP, no issue state.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::config::DEMO_EMAIL;

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

/// A timestamp as Jira writes it: `2026-11-20T10:30:00.000+0000`.
pub(crate) fn jira_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Custom field ids, as Jira Cloud numbers them on a fresh site.
pub(crate) const STORY_POINTS: &str = "customfield_10016";
pub(crate) const SPRINT: &str = "customfield_10020";
pub(crate) const SEVERITY: &str = "customfield_10030";
pub(crate) const TEAM_OPTION: &str = "customfield_10031";
pub(crate) const TEAM_TEXT: &str = "customfield_10032";
pub(crate) const CUSTOMER: &str = "customfield_10033";
pub(crate) const REVIEWERS: &str = "customfield_10034";
pub(crate) const DESIGN_DOC: &str = "customfield_10035";
pub(crate) const ACCEPTANCE: &str = "customfield_10036";
pub(crate) const PLATFORMS: &str = "customfield_10038";

const CF: &str = "com.atlassian.jira.plugin.system.customfieldtypes";

/// One field: (id, name, custom type key or "" for system, schema type, array item type or "").
type FieldRow = (&'static str, &'static str, &'static str, &'static str, &'static str);

/// Fields that may be set on create and edit screens (besides summary, type, project).
const SETTABLE: &[FieldRow] = &[
    ("description", "Description", "", "string", ""),
    ("environment", "Environment", "", "string", ""),
    ("priority", "Priority", "", "priority", ""),
    ("labels", "Labels", "", "array", "string"),
    ("assignee", "Assignee", "", "user", ""),
    ("duedate", "Due date", "", "date", ""),
    ("components", "Components", "", "array", "component"),
    ("fixVersions", "Fix versions", "", "array", "version"),
    ("versions", "Affects versions", "", "array", "version"),
    ("timetracking", "Time tracking", "", "timetracking", ""),
    ("parent", "Parent", "", "issuelink", ""),
    (STORY_POINTS, "Story Points", "float", "number", ""),
    (SPRINT, "Sprint", "gh-sprint", "array", "json"),
    (SEVERITY, "Severity", "select", "option", ""),
    (TEAM_OPTION, "Team", "select", "option", ""),
    (TEAM_TEXT, "Team", "textfield", "string", ""),
    (CUSTOMER, "Customer", "cascadingselect", "option-with-child", ""),
    (REVIEWERS, "Reviewers", "multiuserpicker", "array", "user"),
    (DESIGN_DOC, "Design doc", "url", "string", ""),
    (ACCEPTANCE, "Acceptance criteria", "textarea", "string", ""),
    (PLATFORMS, "Platforms", "multiselect", "array", "option"),
];

/// Read-only system fields.
const READ_ONLY: &[FieldRow] = &[
    ("summary", "Summary", "", "string", ""),
    ("issuetype", "Issue Type", "", "issuetype", ""),
    ("project", "Project", "", "project", ""),
    ("status", "Status", "", "status", ""),
    ("reporter", "Reporter", "", "user", ""),
    ("created", "Created", "", "datetime", ""),
    ("updated", "Updated", "", "datetime", ""),
    ("resolution", "Resolution", "", "resolution", ""),
    ("comment", "Comment", "", "comments-page", ""),
    ("issuelinks", "Linked Issues", "", "array", "issuelinks"),
    ("subtasks", "Sub-tasks", "", "array", "issuelinks"),
    ("worklog", "Log Work", "", "array", "worklog"),
    ("attachment", "Attachment", "", "array", "attachment"),
];

/// Components by project.
pub(crate) const COMPONENTS: &[(&str, &[&str])] =
    &[("DEMO", &["API", "Web", "Mobile", "Auth"]), ("OPS", &["Infra", "Monitoring"])];
/// Versions by project.
pub(crate) const VERSIONS: &[(&str, &[&str])] = &[("DEMO", &["4.2", "4.3", "5.0"]), ("OPS", &["2026.11"])];
/// Link types: (id, name, inward, outward).
pub(crate) const LINK_TYPES: &[(&str, &str, &str, &str)] = &[
    ("10000", "Blocks", "is blocked by", "blocks"),
    ("10001", "Cloners", "is cloned by", "clones"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
    ("10003", "Relates", "relates to", "relates to"),
];
/// Boards: (id, name, type, project).
pub(crate) const BOARDS: &[(u64, &str, &str, &str)] =
    &[(1, "DEMO board", "scrum", "DEMO"), (2, "OPS board", "kanban", "OPS")];
/// Sprints: (id, board, name, state, start and end in days from the seed time, goal).
pub(crate) const SPRINTS: &[(u64, u64, &str, &str, i64, i64, &str)] = &[
    (1, 1, "DEMO Sprint 1", "closed", -21, -7, "Stabilise login"),
    (2, 1, "DEMO Sprint 2", "active", -7, 7, "Ship CSV export"),
    (3, 1, "DEMO Sprint 3", "future", 7, 21, ""),
];

fn schema(row: &FieldRow) -> Value {
    let (id, _, custom, kind, items) = *row;
    let mut s = json!({ "type": kind });
    if let Some(obj) = s.as_object_mut() {
        if !items.is_empty() {
            obj.insert("items".to_owned(), json!(items));
        }
        if custom.is_empty() {
            obj.insert("system".to_owned(), json!(id));
        } else {
            let full = if custom == "gh-sprint" {
                "com.pyxis.greenhopper.jira:gh-sprint".to_owned()
            } else {
                format!("{CF}:{custom}")
            };
            obj.insert("custom".to_owned(), json!(full));
            obj.insert("customId".to_owned(), json!(id.trim_start_matches("customfield_").parse::<u64>().unwrap_or(0)));
        }
    }
    s
}

/// `GET /rest/api/3/field`.
pub(crate) fn field_list() -> Value {
    Value::Array(
        READ_ONLY
            .iter()
            .chain(SETTABLE)
            .map(|row| {
                json!({
                    "id": row.0, "key": row.0, "name": row.1, "custom": !row.2.is_empty(),
                    "orderable": true, "navigable": true, "searchable": true,
                    "clauseNames": [row.1.to_lowercase()], "schema": schema(row)
                })
            })
            .collect(),
    )
}

fn names(project: &str, table: &[(&str, &[&str])]) -> Vec<Value> {
    table
        .iter()
        .find(|(p, _)| *p == project)
        .map(|(_, v)| v.iter().map(|n| json!({ "name": n })).collect())
        .unwrap_or_default()
}

fn allowed(id: &str, project: &str) -> Option<Vec<Value>> {
    let values = |vs: &[&str]| vs.iter().map(|v| json!({ "value": v })).collect::<Vec<_>>();
    Some(match id {
        "priority" => PRIORITIES.iter().map(|p| json!({ "id": p.0, "name": p.1 })).collect(),
        "components" => names(project, COMPONENTS),
        "fixVersions" | "versions" => names(project, VERSIONS),
        SEVERITY => values(&["S1", "S2", "S3", "S4"]),
        TEAM_OPTION => values(&["Core", "Growth"]),
        PLATFORMS => values(&["Web", "iOS", "Android"]),
        CUSTOMER => vec![
            json!({ "value": "Acme", "children": [{ "value": "EU" }, { "value": "US" }] }),
            json!({ "value": "Globex", "children": [{ "value": "APAC" }] }),
        ],
        _ => return None,
    })
}

/// The fields on the create screen of `project` and issue type `type_id`
/// (`None` when the type does not exist). Subtasks carry no story points or sprint.
pub(crate) fn create_screen(project: &str, type_id: &str) -> Option<Vec<Value>> {
    let (_, type_name, subtask) = ISSUE_TYPES.iter().find(|t| t.0 == type_id).copied()?;
    let mut fields = vec![
        json!({ "fieldId": "summary", "key": "summary", "name": "Summary", "required": true, "operations": ["set"], "schema": { "type": "string", "system": "summary" }, "hasDefaultValue": false }),
        json!({ "fieldId": "issuetype", "key": "issuetype", "name": "Issue Type", "required": true, "operations": [], "schema": { "type": "issuetype", "system": "issuetype" }, "hasDefaultValue": false, "allowedValues": [{ "id": type_id, "name": type_name }] }),
        json!({ "fieldId": "project", "key": "project", "name": "Project", "required": true, "operations": ["set"], "schema": { "type": "project", "system": "project" }, "hasDefaultValue": false }),
    ];
    for row in SETTABLE {
        if subtask && matches!(row.0, STORY_POINTS | SPRINT) || !subtask && row.0 == "parent" && type_name == "Epic" {
            continue;
        }
        let mut f = json!({
            "fieldId": row.0, "key": row.0, "name": row.1, "required": false,
            "operations": ["set"], "schema": schema(row), "hasDefaultValue": false
        });
        if let (Some(values), Some(obj)) = (allowed(row.0, project), f.as_object_mut()) {
            obj.insert("allowedValues".to_owned(), Value::Array(values));
        }
        fields.push(f);
    }
    Some(fields)
}

/// The edit screen of an issue: its create screen keyed by field id, without the
/// identity fields (`GET …/editmeta`).
pub(crate) fn edit_screen(project: &str, type_name: &str) -> Value {
    let type_id = ISSUE_TYPES.iter().find(|t| t.1 == type_name).map_or("10001", |t| t.0);
    let mut map = serde_json::Map::new();
    for mut f in create_screen(project, type_id).unwrap_or_default() {
        let Some(obj) = f.as_object_mut() else { continue };
        let id = obj.remove("fieldId").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        if matches!(id.as_str(), "issuetype" | "project") {
            continue;
        }
        obj.remove("hasDefaultValue");
        map.insert(id, f);
    }
    json!({ "fields": map })
}

/// A sprint as the agile API and the sprint field render it.
pub(crate) fn sprint_json(id: u64, epoch: DateTime<Utc>) -> Value {
    SPRINTS.iter().find(|s| s.0 == id).map_or(Value::Null, |&(id, board, name, state, start, end, goal)| {
        let at = |days: i64| jira_time(epoch + Duration::days(days));
        let mut s = json!({
            "id": id, "self": format!("/rest/agile/1.0/sprint/{id}"), "state": state, "name": name,
            "originBoardId": board, "goal": goal, "boardId": board
        });
        if let Some(obj) = s.as_object_mut()
            && state != "future"
        {
            obj.insert("startDate".to_owned(), json!(at(start)));
            obj.insert("endDate".to_owned(), json!(at(end)));
            if state == "closed" {
                obj.insert("completeDate".to_owned(), json!(at(end)));
            }
        }
        s
    })
}

/// Fields that `create`/`edit` handle themselves; everything else goes through [`screen_values`].
const CORE: &[&str] = &["summary", "description", "priority", "assignee", "labels", "issuetype", "project", "parent"];

/// Checks the non-core fields of a create or edit body against the issue's screen,
/// the way Jira does (unknown or off-screen fields, options not among the allowed
/// values). `Ok` holds the values to store (`null` clears); `Err` Jira's field errors.
pub(crate) fn screen_values(fields: &Value, project: &str, type_name: &str) -> Result<Vec<(String, Value)>, Value> {
    let type_id = ISSUE_TYPES.iter().find(|t| t.1 == type_name).map_or("10001", |t| t.0);
    let screen = create_screen(project, type_id).unwrap_or_default();
    let mut out = Vec::new();
    let mut errors = serde_json::Map::new();
    for (id, value) in fields.as_object().into_iter().flatten() {
        if CORE.contains(&id.as_str()) {
            continue;
        }
        let Some(field) = screen.iter().find(|f| f["fieldId"] == id.as_str()) else {
            errors.insert(
                id.clone(),
                json!(format!("Field '{id}' cannot be set. It is not on the appropriate screen, or unknown.")),
            );
            continue;
        };
        if let Some(allowed) = field["allowedValues"].as_array() {
            let labels: Vec<&str> = allowed
                .iter()
                .filter_map(|a| a.get("value").or_else(|| a.get("name")).and_then(Value::as_str))
                .collect();
            let given: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                Value::Null => Vec::new(),
                other => vec![other],
            };
            for g in given {
                let label = g.get("value").or_else(|| g.get("name")).and_then(Value::as_str).unwrap_or_default();
                if !labels.contains(&label) {
                    errors.insert(id.clone(), json!(format!("Option value '{label}' is not valid")));
                }
            }
        }
        out.push((id.clone(), value.clone()));
    }
    if errors.is_empty() { Ok(out) } else { Err(Value::Object(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_an_ambiguous_name_and_typed_custom_fields() {
        let list = field_list();
        let teams = list.as_array().unwrap().iter().filter(|f| f["name"] == "Team").count();
        assert_eq!(teams, 2, "two fields called Team, as on real sites");
        let points = list.as_array().unwrap().iter().find(|f| f["id"] == STORY_POINTS).unwrap();
        assert_eq!(points["schema"]["custom"], "com.atlassian.jira.plugin.system.customfieldtypes:float");
    }

    #[test]
    fn subtasks_have_no_sprint_and_edit_screens_drop_identity_fields() {
        let sub = create_screen("DEMO", "10005").unwrap();
        assert!(!sub.iter().any(|f| f["fieldId"] == SPRINT));
        let edit = edit_screen("DEMO", "Bug");
        assert!(edit["fields"].get("project").is_none());
        assert_eq!(edit["fields"][SEVERITY]["allowedValues"][1]["value"], "S2");
    }
}
