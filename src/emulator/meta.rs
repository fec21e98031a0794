//! The metadata endpoints: myself, create metadata, projects, user search,
//! statuses and priorities.
//!
//! They answer from the seed tables alone: this module must not read or change
//! the shared state.

use axum::{
    Json,
    extract::{Path, Query},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    app::caller,
    respond::error_collection,
    state::{self, ISSUE_TYPES, PRIORITIES, PROJECTS, STATUSES, USERS},
};

pub(crate) async fn myself(headers: HeaderMap) -> Response {
    Json(state::user_json(caller(&headers).unwrap_or(0))).into_response()
}

pub(crate) async fn create_meta(Path(project): Path<String>) -> Response {
    if !PROJECTS.iter().any(|p| p.1.eq_ignore_ascii_case(&project) || p.0 == project) {
        let message = format!("No project could be found with key '{project}'.");
        return error_collection(StatusCode::NOT_FOUND, &[message.as_str()]);
    }
    let types: Vec<Value> = ISSUE_TYPES.iter().map(|t| json!({ "id": t.0, "name": t.1, "subtask": t.2 })).collect();
    Json(json!({ "issueTypes": types, "maxResults": 50, "startAt": 0, "total": types.len() })).into_response()
}

fn project_json(p: &(&str, &str, &str)) -> Value {
    json!({ "id": p.0, "key": p.1, "name": p.2, "projectTypeKey": "software", "simplified": false })
}

pub(crate) async fn project_search() -> Response {
    let values: Vec<Value> = PROJECTS.iter().map(project_json).collect();
    Json(json!({ "values": values, "startAt": 0, "maxResults": 50, "total": values.len(), "isLast": true }))
        .into_response()
}

pub(crate) async fn project(Path(key): Path<String>) -> Response {
    match PROJECTS.iter().find(|p| p.1.eq_ignore_ascii_case(&key) || p.0 == key) {
        Some(p) => Json(project_json(p)).into_response(),
        None => {
            let message = format!("No project could be found with key '{key}'.");
            error_collection(StatusCode::NOT_FOUND, &[message.as_str()])
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct UserQuery {
    #[serde(default)]
    query: String,
}

pub(crate) async fn user_search(Query(q): Query<UserQuery>) -> Response {
    let needle = q.query.to_lowercase();
    let users: Vec<Value> = USERS
        .iter()
        .enumerate()
        .filter(|(_, u)| {
            !needle.is_empty()
                && (u.email.to_lowercase().starts_with(&needle)
                    || u.name.to_lowercase().split(' ').any(|w| w.starts_with(&needle))
                    || u.name.to_lowercase().starts_with(&needle))
        })
        .map(|(i, _)| state::user_json(i))
        .collect();
    Json(users).into_response()
}

pub(crate) async fn statuses() -> Response {
    Json(STATUSES.iter().map(|s| state::status_json(s.1)).collect::<Vec<_>>()).into_response()
}

pub(crate) async fn priorities() -> Response {
    let values: Vec<Value> =
        PRIORITIES.iter().map(|p| json!({ "id": p.0, "name": p.1, "isDefault": p.1 == "Medium" })).collect();
    Json(json!({ "values": values, "startAt": 0, "maxResults": 100, "total": values.len(), "isLast": true }))
        .into_response()
}
