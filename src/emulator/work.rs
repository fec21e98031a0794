//! Field metadata, worklog and link endpoints: the field list, create and edit
//! screens, worklogs, issue links and link types, remote links.
//!
//! Answers in the shapes of Atlassian's OpenAPI spec; reads and changes the
//! shared issues; knows nothing about routing or auth.

// Handlers answer errors as ready-made responses, the natural shape for a test double.
#![allow(clippy::result_large_err)]

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{
    app::{AppState, caller},
    catalog::{self, LINK_TYPES},
    respond::{error_collection, field_errors, issue_not_found},
    state::{Link, PROJECTS, WorkEntry, duration_seconds, worklog_json},
};

/// `GET /rest/api/3/field`.
pub(crate) async fn fields() -> Response {
    Json(catalog::field_list()).into_response()
}

/// `GET /rest/api/3/issue/createmeta/{project}/issuetypes/{id}`.
pub(crate) async fn create_fields(Path((project, type_id)): Path<(String, String)>) -> Response {
    let Some(project) = PROJECTS.iter().find(|p| p.1.eq_ignore_ascii_case(&project) || p.0 == project) else {
        return error_collection(StatusCode::NOT_FOUND, &["No project could be found with key or id."]);
    };
    match catalog::create_screen(project.1, &type_id) {
        Some(fields) => {
            let total = fields.len();
            Json(json!({ "startAt": 0, "maxResults": 200, "total": total, "fields": fields })).into_response()
        }
        None => error_collection(StatusCode::NOT_FOUND, &["Issue type with id does not exist."]),
    }
}

/// `GET /rest/api/3/issue/{key}/editmeta`.
pub(crate) async fn edit_fields(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let s = state.lock();
    let Some(issue) = s.data.find(&key) else { return issue_not_found() };
    Json(catalog::edit_screen(issue.project, issue.issue_type)).into_response()
}

/// `GET /rest/api/3/issue/{key}/worklog`.
pub(crate) async fn list_worklogs(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let s = state.lock();
    let Some(issue) = s.data.find(&key) else { return issue_not_found() };
    let logs: Vec<Value> = issue.worklogs.iter().map(|w| worklog_json(w, issue, &state.base)).collect();
    Json(json!({ "startAt": 0, "maxResults": 5000, "total": logs.len(), "worklogs": logs })).into_response()
}

/// `POST /rest/api/3/issue/{key}/worklog`.
pub(crate) async fn add_worklog(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let seconds = body
        .get("timeSpentSeconds")
        .and_then(Value::as_u64)
        .or_else(|| body.get("timeSpent").and_then(Value::as_str).and_then(duration_seconds));
    let Some(seconds) = seconds.filter(|s| *s > 0) else {
        return field_errors(json!({ "timeLogged": "Worklog must not be null." }));
    };
    let started = match body.get("started").and_then(Value::as_str) {
        Some(t) => match DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.3f%z") {
            Ok(d) => d.with_timezone(&Utc),
            Err(_) => return field_errors(json!({ "started": "Could not parse the start date." })),
        },
        None => Utc::now(),
    };
    let mut s = state.lock();
    let id = s.data.next_worklog;
    s.data.next_worklog += 1;
    let Some(real) = s.data.find_key(&key) else { return issue_not_found() };
    let Some(issue) = s.data.issues.get_mut(&real) else { return issue_not_found() };
    let entry = WorkEntry {
        id,
        author: caller(&headers).unwrap_or(0),
        started,
        seconds,
        comment: body.get("comment").filter(|c| !c.is_null()).cloned(),
    };
    issue.worklogs.push(entry.clone());
    issue.updated = Utc::now();
    (StatusCode::CREATED, Json(worklog_json(&entry, issue, &state.base))).into_response()
}

/// `GET /rest/api/3/issueLinkType`.
pub(crate) async fn link_types(State(state): State<AppState>) -> Response {
    let types: Vec<Value> = LINK_TYPES
        .iter()
        .map(|t| json!({ "id": t.0, "name": t.1, "inward": t.2, "outward": t.3, "self": format!("{}/rest/api/3/issueLinkType/{}", state.base, t.0) }))
        .collect();
    Json(json!({ "issueLinkTypes": types })).into_response()
}

/// `POST /rest/api/3/issueLink`: stored on both issues; 201 with no body.
pub(crate) async fn create_link(State(state): State<AppState>, Json(body): Json<Value>) -> Response {
    let name = body.pointer("/type/name").and_then(Value::as_str).unwrap_or_default();
    let Some(kind) = LINK_TYPES.iter().find(|t| t.1.eq_ignore_ascii_case(name)).map(|t| t.1) else {
        return error_collection(StatusCode::NOT_FOUND, &[&format!("No issue link type with name '{name}' found.")]);
    };
    let mut s = state.lock();
    let outward = body.pointer("/outwardIssue/key").and_then(Value::as_str).and_then(|k| s.data.find_key(k));
    let inward = body.pointer("/inwardIssue/key").and_then(Value::as_str).and_then(|k| s.data.find_key(k));
    let (Some(outward), Some(inward)) = (outward, inward) else {
        return error_collection(
            StatusCode::NOT_FOUND,
            &["Issue does not exist or you do not have permission to see it."],
        );
    };
    let id = s.data.next_link;
    s.data.next_link += 1;
    if let Some(i) = s.data.issues.get_mut(&outward) {
        i.links.push(Link { id, kind, outward: true, other: inward.clone() });
    }
    if let Some(i) = s.data.issues.get_mut(&inward) {
        i.links.push(Link { id, kind, outward: false, other: outward });
    }
    StatusCode::CREATED.into_response()
}

/// `DELETE /rest/api/3/issueLink/{id}`: removed from both issues.
pub(crate) async fn delete_link(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let mut s = state.lock();
    let mut found = false;
    for issue in s.data.issues.values_mut() {
        let before = issue.links.len();
        issue.links.retain(|l| l.id.to_string() != id);
        found |= issue.links.len() != before;
    }
    if found {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error_collection(StatusCode::NOT_FOUND, &[&format!("No issue link with id '{id}' exists.")])
    }
}

/// `GET /rest/api/3/issue/{key}/remotelink`.
pub(crate) async fn remote_links(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let s = state.lock();
    let Some(issue) = s.data.find(&key) else { return issue_not_found() };
    let links: Vec<Value> = issue
        .remote_links
        .iter()
        .enumerate()
        .map(|(n, (url, title))| json!({ "id": 60000 + n, "object": { "url": url, "title": title } }))
        .collect();
    Json(links).into_response()
}
