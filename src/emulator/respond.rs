//! Ready-made error responses in Jira's ErrorCollection shape.
//!
//! Shared by the middleware and the handlers so every error reads like Jira's.
//! It only builds responses: it must not touch the emulator's state or know
//! about routes.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

pub(crate) fn error_collection(status: StatusCode, messages: &[&str]) -> Response {
    (status, Json(json!({ "errorMessages": messages, "errors": {} }))).into_response()
}

pub(crate) fn field_errors(errors: Value) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "errorMessages": [], "errors": errors }))).into_response()
}

pub(crate) fn issue_not_found() -> Response {
    error_collection(StatusCode::NOT_FOUND, &["Issue does not exist or you do not have permission to see it."])
}
