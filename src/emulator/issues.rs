//! The issue endpoints: get, create, edit and delete an issue, list and do
//! its transitions, list and add its comments.
//!
//! Validation answers with Jira's field errors. This module reads and changes
//! the issues in the shared state; it must not know about routing, auth or
//! rate limits.

// Handlers answer errors as ready-made responses, the natural shape for a test double.
#![allow(clippy::result_large_err)]

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    app::{AppState, caller},
    catalog,
    respond::{error_collection, field_errors, issue_not_found},
    state::{self, ISSUE_TYPES, PRIORITIES, PROJECTS, USERS, WORKFLOW},
};

#[derive(Deserialize)]
pub(crate) struct IssueQuery {
    #[serde(default)]
    fields: Option<String>,
    #[serde(default)]
    expand: Option<String>,
}

pub(crate) async fn get_issue(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<IssueQuery>,
) -> Response {
    let s = state.lock();
    let Some(issue) = s.data.find(&key) else { return issue_not_found() };
    let fields: Option<Vec<String>> = q.fields.map(|f| f.split(',').map(|x| x.trim().to_owned()).collect());
    let changelog = q.expand.is_some_and(|e| e.split(',').any(|x| x.trim() == "changelog"));
    Json(s.data.issue_json(issue, &state.base, fields.as_deref(), changelog)).into_response()
}

fn lookup_user(v: &Value) -> Result<Option<usize>, Response> {
    if v.is_null() {
        return Ok(None);
    }
    let id = v.get("accountId").and_then(Value::as_str).unwrap_or_default();
    USERS
        .iter()
        .position(|u| u.account_id == id)
        .map(Some)
        .ok_or_else(|| field_errors(json!({ "assignee": format!("User '{id}' cannot be assigned issues.") })))
}

fn lookup_priority(v: &Value) -> Result<&'static str, Response> {
    let name = v.get("name").and_then(Value::as_str);
    let id = v.get("id").and_then(Value::as_str);
    PRIORITIES
        .iter()
        .find(|p| name.is_some_and(|n| p.1.eq_ignore_ascii_case(n)) || id == Some(p.0))
        .map(|p| p.1)
        .ok_or_else(|| field_errors(json!({ "priority": "Specify the Priority (name) in the string format" })))
}

/// Stores screen values on an issue: the sprint field moves it between sprints,
/// `null` clears a field, anything else is kept as Jira's JSON.
fn store(issue: &mut state::Issue, values: Vec<(String, Value)>) {
    for (id, value) in values {
        if id == catalog::SPRINT {
            issue.sprints = match &value {
                Value::Number(n) => n.as_u64().into_iter().collect(),
                Value::Array(items) => items.iter().filter_map(Value::as_u64).collect(),
                _ => Vec::new(),
            };
        } else if value.is_null() {
            issue.fields.remove(&id);
        } else {
            issue.fields.insert(id, with_users(value));
        }
    }
}

/// Jira answers user fields with whole users, however they were set (`{"accountId"}`).
fn with_users(value: Value) -> Value {
    let user = |v: &Value| {
        let id = v.as_object().filter(|o| o.len() == 1).and_then(|o| o.get("accountId")).and_then(Value::as_str)?;
        USERS.iter().position(|u| u.account_id == id).map(state::user_json)
    };
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| user(v).unwrap_or_else(|| v.clone())).collect()),
        other => user(&other).unwrap_or(other),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

pub(crate) async fn create_issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let f = body.get("fields").cloned().unwrap_or_default();
    let project_key =
        f.pointer("/project/key").or_else(|| f.pointer("/project/id")).and_then(Value::as_str).unwrap_or_default();
    let Some(project) =
        PROJECTS.iter().find(|p| p.1.eq_ignore_ascii_case(project_key) || p.0 == project_key).map(|p| p.1)
    else {
        return field_errors(json!({ "project": "valid project is required" }));
    };
    let type_name = f.pointer("/issuetype/name").and_then(Value::as_str);
    let type_id = f.pointer("/issuetype/id").and_then(Value::as_str);
    let Some(&(_, issue_type, subtask)) =
        ISSUE_TYPES.iter().find(|t| type_name.is_some_and(|n| t.1.eq_ignore_ascii_case(n)) || type_id == Some(t.0))
    else {
        return field_errors(json!({ "issuetype": "The issue type selected is invalid." }));
    };
    let summary = f.get("summary").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    if summary.is_empty() {
        return field_errors(json!({ "summary": "You must specify a summary of the issue." }));
    }
    let priority = match f.get("priority") {
        Some(p) => match lookup_priority(p) {
            Ok(p) => p,
            Err(r) => return r,
        },
        None => "Medium",
    };
    let assignee = match f.get("assignee").map(lookup_user).transpose() {
        Ok(a) => a.flatten(),
        Err(r) => return r,
    };
    let mut s = state.lock();
    let parent = f.pointer("/parent/key").and_then(Value::as_str).and_then(|k| s.data.find_key(k));
    if subtask && parent.is_none() {
        return field_errors(json!({ "parent": "Given parent issue does not belong to appropriate hierarchy." }));
    }
    let extras = match catalog::screen_values(&f, project, issue_type) {
        Ok(v) => v,
        Err(errors) => return field_errors(errors),
    };
    let now = Utc::now();
    let key = s.data.insert(state::Issue {
        id: 0,
        key: String::new(),
        project,
        summary,
        description: f.get("description").filter(|d| !d.is_null()).cloned(),
        issue_type,
        status: "To Do",
        priority,
        assignee,
        reporter: caller(&headers).unwrap_or(0),
        labels: f.get("labels").map(strings).unwrap_or_default(),
        created: now,
        updated: now,
        parent,
        ..state::Issue::default()
    });
    if let Some(issue) = s.data.issues.get_mut(&key) {
        store(issue, extras);
    }
    let id = s.data.issues.get(&key).map(|i| i.id).unwrap_or_default();
    (
        StatusCode::CREATED,
        Json(json!({ "id": id.to_string(), "key": key, "self": format!("{}/rest/api/3/issue/{id}", state.base) })),
    )
        .into_response()
}

pub(crate) async fn edit_issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let who = caller(&headers).unwrap_or(0);
    let f = body.get("fields").cloned().unwrap_or_default();
    let priority = match f.get("priority").map(lookup_priority).transpose() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let assignee = match f.get("assignee").map(lookup_user).transpose() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut s = state.lock();
    let Some(real) = s.data.find_key(&key) else { return issue_not_found() };
    let Some(issue) = s.data.issues.get_mut(&real) else { return issue_not_found() };
    let extras = match catalog::screen_values(&f, issue.project, issue.issue_type) {
        Ok(v) => v,
        Err(errors) => return field_errors(errors),
    };
    let now = Utc::now();
    let mut changes: Vec<(String, Option<String>, Option<String>)> = extras
        .iter()
        .map(|(id, _)| (if id == catalog::SPRINT { "Sprint".to_owned() } else { id.clone() }, None, None))
        .collect();
    store(issue, extras);
    if let Some(summary) = f.get("summary").and_then(Value::as_str) {
        if summary.trim().is_empty() {
            return field_errors(json!({ "summary": "You must specify a summary of the issue." }));
        }
        changes.push(("summary".to_owned(), Some(issue.summary.clone()), Some(summary.to_owned())));
        issue.summary = summary.to_owned();
    }
    if let Some(d) = f.get("description") {
        issue.description = (!d.is_null()).then(|| d.clone());
        changes.push(("description".to_owned(), None, None));
    }
    if let Some(p) = priority {
        changes.push(("priority".to_owned(), Some(issue.priority.to_owned()), Some(p.to_owned())));
        issue.priority = p;
    }
    if let Some(a) = assignee {
        changes.push((
            "assignee".to_owned(),
            issue.assignee.and_then(|i| USERS.get(i)).map(|u| u.name.to_owned()),
            a.and_then(|i| USERS.get(i)).map(|u| u.name.to_owned()),
        ));
        issue.assignee = a;
    }
    if let Some(labels) = f.get("labels") {
        issue.labels = strings(labels);
    }
    for op in body.pointer("/update/labels").and_then(Value::as_array).into_iter().flatten() {
        if let Some(add) = op.get("add").and_then(Value::as_str)
            && !issue.labels.iter().any(|l| l == add)
        {
            issue.labels.push(add.to_owned());
        }
        if let Some(remove) = op.get("remove").and_then(Value::as_str) {
            issue.labels.retain(|l| l != remove);
        }
    }
    issue.updated = now;
    for (n, (field, from, to)) in changes.into_iter().enumerate() {
        issue.history.push(state::Change {
            id: now.timestamp_millis() as u64 + n as u64,
            author: who,
            created: now,
            field,
            from,
            to,
        });
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteQuery {
    #[serde(default)]
    delete_subtasks: Option<String>,
}

pub(crate) async fn delete_issue(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Response {
    let mut s = state.lock();
    let Some(real) = s.data.find_key(&key) else { return issue_not_found() };
    let subtasks: Vec<String> = s.data.subtasks(&real).iter().map(|i| i.key.clone()).collect();
    if !subtasks.is_empty() && q.delete_subtasks.as_deref() != Some("true") {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &["The issue has subtasks. Set deleteSubtasks to true to delete the issue and its subtasks."],
        );
    }
    for k in subtasks.iter().chain(std::iter::once(&real)) {
        s.data.issues.remove(k);
    }
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) async fn list_transitions(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let s = state.lock();
    let Some(issue) = s.data.find(&key) else { return issue_not_found() };
    let list: Vec<Value> = WORKFLOW
        .iter()
        .filter(|t| t.2 == issue.status)
        .map(|t| json!({ "id": t.0, "name": t.1, "to": state::status_json(t.3), "hasScreen": false, "isAvailable": true, "isConditional": false, "isGlobal": false, "isInitial": false }))
        .collect();
    Json(json!({ "transitions": list })).into_response()
}

pub(crate) async fn do_transition(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let who = caller(&headers).unwrap_or(0);
    let id = body.pointer("/transition/id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut s = state.lock();
    let Some(real) = s.data.find_key(&key) else { return issue_not_found() };
    let next_comment = s.data.next_comment;
    let Some(issue) = s.data.issues.get_mut(&real) else { return issue_not_found() };
    let Some(&(_, _, from, to)) = WORKFLOW.iter().find(|t| t.0 == id && t.2 == issue.status) else {
        let message = format!("Transition id '{id}' is not valid for this issue.");
        return error_collection(StatusCode::BAD_REQUEST, &[message.as_str()]);
    };
    let now = Utc::now();
    issue.status = to;
    issue.updated = now;
    issue.history.push(state::Change {
        id: now.timestamp_millis() as u64,
        author: who,
        created: now,
        field: "status".to_owned(),
        from: Some(from.to_owned()),
        to: Some(to.to_owned()),
    });
    let mut used_comment = false;
    for op in body.pointer("/update/comment").and_then(Value::as_array).into_iter().flatten() {
        if let Some(adf) = op.pointer("/add/body") {
            issue.comments.push(state::Comment { id: next_comment, author: who, body: adf.clone(), created: now });
            used_comment = true;
        }
    }
    if used_comment {
        s.data.next_comment += 1;
    }
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) async fn list_comments(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let s = state.lock();
    let Some(issue) = s.data.find(&key) else { return issue_not_found() };
    let comments: Vec<Value> = issue.comments.iter().map(|c| state::comment_json(c, &issue.key, &state.base)).collect();
    Json(json!({ "comments": comments, "startAt": 0, "maxResults": 100, "total": comments.len() })).into_response()
}

pub(crate) async fn add_comment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let who = caller(&headers).unwrap_or(0);
    let Some(adf) = body.get("body").filter(|b| b.get("type").and_then(Value::as_str) == Some("doc")).cloned() else {
        return field_errors(json!({ "comment": "Comment body can not be empty!" }));
    };
    let mut s = state.lock();
    let Some(real) = s.data.find_key(&key) else { return issue_not_found() };
    let id = s.data.next_comment;
    s.data.next_comment += 1;
    let Some(issue) = s.data.issues.get_mut(&real) else { return issue_not_found() };
    let comment = state::Comment { id, author: who, body: adf, created: Utc::now() };
    issue.updated = comment.created;
    let json = state::comment_json(&comment, &real, &state.base);
    issue.comments.push(comment);
    (StatusCode::CREATED, Json(json)).into_response()
}
