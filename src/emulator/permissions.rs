//! `GET /rest/api/3/mypermissions`: which of the requested permissions the caller
//! holds, in Jira's shape. Every permission is held unless a test denied it
//! ([`super::Emulator::deny_permission`]).

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, json};

use super::{app::AppState, respond::error_collection, state::PROJECTS};

pub(crate) async fn my_permissions(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(keys) = q.get("permissions").filter(|p| !p.trim().is_empty()) else {
        return error_collection(StatusCode::BAD_REQUEST, &["The permissions query parameter is required."]);
    };
    if let Some(project) = q.get("projectKey")
        && !PROJECTS.iter().any(|p| p.1.eq_ignore_ascii_case(project))
    {
        let message = format!("No project could be found with key '{project}'.");
        return error_collection(StatusCode::NOT_FOUND, &[message.as_str()]);
    }
    let denied = state.lock().denied_permissions.clone();
    let mut permissions = Map::new();
    for key in keys.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        permissions.insert(
            key.to_owned(),
            json!({
                "id": key, "key": key, "name": key, "type": "PROJECT", "description": key,
                "havePermission": !denied.iter().any(|d| d == key),
            }),
        );
    }
    Json(json!({ "permissions": permissions })).into_response()
}
