//! The agile API (`/rest/agile/1.0`): boards of a project, sprints of a board,
//! moving issues into a sprint or to the backlog.

// Handlers answer errors as ready-made responses, the natural shape for a test double.
#![allow(clippy::result_large_err)]

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    app::AppState,
    catalog::{self, BOARDS, SPRINTS},
    respond::error_collection,
    state::Change,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BoardQuery {
    #[serde(default)]
    project_key_or_id: Option<String>,
}

/// `GET /rest/agile/1.0/board`.
pub(crate) async fn boards(Query(q): Query<BoardQuery>) -> Response {
    let values: Vec<Value> = BOARDS
        .iter()
        .filter(|b| q.project_key_or_id.as_deref().is_none_or(|p| b.3.eq_ignore_ascii_case(p)))
        .map(|b| json!({ "id": b.0, "name": b.1, "type": b.2, "location": { "projectKey": b.3 } }))
        .collect();
    Json(json!({ "startAt": 0, "maxResults": 50, "total": values.len(), "isLast": true, "values": values }))
        .into_response()
}

/// The query of `GET /rest/agile/1.0/board/{id}/sprint`.
#[derive(Debug, Deserialize)]
pub(crate) struct SprintQuery {
    /// Comma-separated states (`future`, `active`, `closed`); all when absent.
    #[serde(default)]
    state: Option<String>,
}

/// `GET /rest/agile/1.0/board/{id}/sprint`.
pub(crate) async fn sprints(
    State(state): State<AppState>,
    Path(board): Path<u64>,
    Query(q): Query<SprintQuery>,
) -> Response {
    if !BOARDS.iter().any(|b| b.0 == board) {
        return error_collection(
            StatusCode::NOT_FOUND,
            &["Board does not exist or you do not have permission to see it."],
        );
    }
    if BOARDS.iter().any(|b| b.0 == board && b.2 == "kanban") {
        return error_collection(StatusCode::BAD_REQUEST, &["The board does not support sprints"]);
    }
    let epoch = state.lock().data.epoch;
    let wanted = |sprint_state: &str| {
        q.state.as_deref().is_none_or(|states| states.split(',').any(|w| w.trim().eq_ignore_ascii_case(sprint_state)))
    };
    let values: Vec<Value> =
        SPRINTS.iter().filter(|s| s.1 == board && wanted(s.3)).map(|s| catalog::sprint_json(s.0, epoch)).collect();
    Json(json!({ "startAt": 0, "maxResults": 50, "isLast": true, "values": values })).into_response()
}

/// Moves the issues named in `body` to `sprint` (`None`: the backlog).
fn move_issues(state: &AppState, sprint: Option<u64>, body: &Value) -> Response {
    let keys: Vec<String> = body
        .get("issues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    if keys.len() > 50 {
        return error_collection(StatusCode::BAD_REQUEST, &["Maximum 50 issues can be moved at once"]);
    }
    let mut s = state.lock();
    let now = Utc::now();
    for key in keys {
        let Some(real) = s.data.find_key(&key) else {
            return error_collection(StatusCode::BAD_REQUEST, &[&format!("Issue '{key}' does not exist")]);
        };
        if let Some(issue) = s.data.issues.get_mut(&real) {
            let name = sprint.and_then(|id| SPRINTS.iter().find(|s| s.0 == id)).map(|s| s.2.to_owned());
            issue.sprints.retain(|id| SPRINTS.iter().any(|s| s.0 == *id && s.3 == "closed"));
            issue.sprints.extend(sprint);
            issue.history.push(Change {
                id: now.timestamp_millis() as u64,
                author: 0,
                created: now,
                field: "Sprint".to_owned(),
                from: None,
                to: name,
            });
            issue.updated = now;
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /rest/agile/1.0/sprint/{id}/issue`: only open (active or future) sprints take issues.
pub(crate) async fn sprint_issues(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    Json(body): Json<Value>,
) -> Response {
    match SPRINTS.iter().find(|s| s.0 == id) {
        None => {
            error_collection(StatusCode::NOT_FOUND, &["Sprint does not exist or you do not have permission to see it."])
        }
        Some(s) if s.3 == "closed" => {
            error_collection(StatusCode::BAD_REQUEST, &["Cannot move issues to a closed sprint."])
        }
        Some(_) => move_issues(&state, Some(id), &body),
    }
}

/// `POST /rest/agile/1.0/backlog/issue`.
pub(crate) async fn backlog_issues(State(state): State<AppState>, Json(body): Json<Value>) -> Response {
    move_issues(&state, None, &body)
}
