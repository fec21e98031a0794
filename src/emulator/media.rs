//! Attachment endpoints: the download, which redirects to a media service as
//! Jira Cloud does (`303` to a tokenised URL, or the bytes with `redirect=false`),
//! that media service itself, and the multipart upload with its XSRF header.
//!
//! Answers in the shapes of Atlassian's OpenAPI spec; reads and changes the
//! shared issues; knows nothing about routing or auth.

// Handlers answer errors as ready-made responses, the natural shape for a test double.
#![allow(clippy::result_large_err)]

use axum::{
    Json,
    extract::{Multipart, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;

use super::{
    app::{AppState, caller},
    attachments::{FileRec, UPLOAD_LIMIT, attachment_json},
    respond::{error_collection, issue_not_found},
    state::user_json,
};

/// Largest upload request body: the attachment limit plus room for the multipart framing.
pub(crate) const UPLOAD_BODY_LIMIT: usize = UPLOAD_LIMIT as usize + 64 * 1024;

/// Query of `GET /rest/api/3/attachment/content/{id}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ContentQuery {
    /// `false`: answer the bytes instead of redirecting to the media service.
    redirect: Option<bool>,
}

/// The file with this id, whichever issue holds it.
fn find_file(state: &AppState, id: &str) -> Option<FileRec> {
    let s = state.lock();
    s.data.issues.values().flat_map(|i| i.attachments.iter()).find(|a| a.id.to_string() == id).cloned()
}

fn attachment_not_found() -> Response {
    error_collection(
        StatusCode::NOT_FOUND,
        &["The attachment with id does not exist or you do not have permission to see it."],
    )
}

/// `GET /rest/api/3/attachment/content/{id}`: `303` to the media service (default),
/// or the bytes themselves with `redirect=false`.
pub(crate) async fn content(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ContentQuery>,
) -> Response {
    let Some(file) = find_file(&state, &id) else { return attachment_not_found() };
    if q.redirect == Some(false) {
        return bytes_response(&file);
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    {
        let mut s = state.lock();
        // Real tokens expire; here the oldest make room.
        if s.media_tokens.len() >= 1000 {
            s.media_tokens.remove(0);
        }
        s.media_tokens.push((token.clone(), file.id));
    }
    let location = format!("{}/media/file/{}/binary?token={token}&dl=true", state.base, file.id);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Query of the media service's download URL.
#[derive(Debug, Deserialize)]
pub(crate) struct MediaQuery {
    /// The token the redirect carried.
    token: Option<String>,
}

/// `GET /media/file/{id}/binary?token=…`: the media service. No Jira credentials:
/// the token from the redirect is the authorisation.
pub(crate) async fn media(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<MediaQuery>,
) -> Response {
    let granted = {
        let s = state.lock();
        q.token
            .as_deref()
            .is_some_and(|t| s.media_tokens.iter().any(|(token, file)| token == t && file.to_string() == id))
    };
    if !granted {
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({ "error": "token is invalid or expired" })))
            .into_response();
    }
    match find_file(&state, &id) {
        Some(file) => bytes_response(&file),
        None => attachment_not_found(),
    }
}

fn bytes_response(file: &FileRec) -> Response {
    let mut response = (StatusCode::OK, file.content.to_vec()).into_response();
    if let Ok(v) = HeaderValue::from_str(&file.mime_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    response
}

/// `POST /rest/api/3/issue/{key}/attachments`: multipart, one or more `file`
/// parts; refused without `X-Atlassian-Token: no-check` (Jira's XSRF check) and
/// past the site's size limit (413).
pub(crate) async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    mut multipart: Multipart,
) -> Response {
    if headers.get("x-atlassian-token").and_then(|v| v.to_str().ok()) != Some("no-check") {
        return (StatusCode::FORBIDDEN, "XSRF check failed").into_response();
    }
    if state.lock().data.find_key(&key).is_none() {
        return issue_not_found();
    }
    let mut files = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                if field.name() != Some("file") {
                    continue;
                }
                let name = field.file_name().unwrap_or("attachment").to_owned();
                let mime = field.content_type().unwrap_or("application/octet-stream").to_owned();
                match field.bytes().await {
                    Ok(bytes) if bytes.len() as u64 > UPLOAD_LIMIT => {
                        return error_collection(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            &["The attachments exceed the maximum attachment size for issues."],
                        );
                    }
                    Ok(bytes) => files.push((name, mime, bytes)),
                    Err(e) => return error_collection(StatusCode::BAD_REQUEST, &[&e.to_string()]),
                }
            }
            Ok(None) => break,
            Err(e) => return error_collection(StatusCode::BAD_REQUEST, &[&e.to_string()]),
        }
    }
    let author = caller(&headers).unwrap_or(0);
    let mut s = state.lock();
    let mut answer: Vec<Value> = Vec::new();
    for (filename, mime_type, bytes) in files {
        let Some(file) = s.data.attach(&key, &filename, &mime_type, &bytes, author) else { return issue_not_found() };
        answer.push(attachment_json(&file, user_json(author), &state.base));
    }
    Json(answer).into_response()
}
