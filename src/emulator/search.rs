//! The search endpoints: `POST /search/jql` with its page tokens, and
//! `POST /search/approximate-count`.
//!
//! It parses the JQL, refuses unbounded queries and pages the hits; matching
//! and ordering are the JQL evaluator's job, not this module's.

// Handlers answer errors as ready-made responses, the natural shape for a test double.
#![allow(clippy::result_large_err)]

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use base64::Engine;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    app::{AppState, caller},
    jql,
    respond::error_collection,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SearchBody {
    #[serde(default)]
    jql: String,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    max_results: Option<u32>,
    #[serde(default)]
    fields: Option<Vec<String>>,
    /// `changelog` adds each issue's history.
    #[serde(default)]
    expand: Option<String>,
    // Accepted as the spec allows (the body is `additionalProperties: false`, so these
    // must be known), but the emulator does not act on them.
    #[serde(default)]
    #[expect(dead_code, reason = "accepted like Jira, not used by the emulator")]
    fields_by_keys: Option<bool>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted like Jira, not used by the emulator")]
    properties: Option<Vec<String>>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted like Jira, not used by the emulator")]
    reconcile_issues: Option<Vec<i64>>,
}

/// Page tokens are opaque to clients; here: `<offset>:<hash of the JQL>`, base64.
fn page_token(offset: usize, jql: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{offset}:{}", jql_hash(jql)))
}

/// The emulator lives in one process, so std's hasher (stable within a process) is enough.
fn jql_hash(jql: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    jql.hash(&mut h);
    h.finish()
}

fn parse_bounded(jql_text: &str) -> Result<jql::Query, Response> {
    let query = jql::parse(jql_text).map_err(|m| error_collection(StatusCode::BAD_REQUEST, &[m.as_str()]))?;
    if query.filter.is_none() {
        return Err(error_collection(
            StatusCode::BAD_REQUEST,
            &["Unbounded JQL queries are not allowed here. Please add a search restriction to your query."],
        ));
    }
    Ok(query)
}

pub(crate) async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<SearchBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &["Invalid request payload. Refer to the REST API documentation and try again."],
        );
    };
    let query = match parse_bounded(&body.jql) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let offset = match &body.next_page_token {
        None => 0,
        Some(token) => {
            let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            match decoded.as_deref().and_then(|d| d.split_once(':')) {
                Some((off, hash)) if hash == jql_hash(&body.jql).to_string() => off.parse().unwrap_or(0),
                _ => {
                    return error_collection(
                        StatusCode::BAD_REQUEST,
                        &["The provided next page token is invalid or expired."],
                    );
                }
            }
        }
    };
    let max = body.max_results.unwrap_or(50).clamp(1, 100) as usize;
    let s = state.lock();
    let me = caller(&headers).unwrap_or(0);
    let hits = match jql::search(&s.data, &query, me, Utc::now()) {
        Ok(h) => h,
        Err(m) => return error_collection(StatusCode::BAD_REQUEST, &[m.as_str()]),
    };
    // Like Jira: without `fields`, only ids come back.
    let fields = body.fields.unwrap_or_else(|| vec!["id".to_owned()]);
    let changelog = body.expand.as_deref().is_some_and(|e| e.split(',').any(|x| x.trim() == "changelog"));
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(max)
        .map(|i| s.data.issue_json(i, &state.base, Some(&fields), changelog))
        .collect();
    let is_last = offset + max >= hits.len();
    let mut out = json!({ "issues": page, "isLast": is_last });
    if !is_last && let Some(obj) = out.as_object_mut() {
        obj.insert("nextPageToken".to_owned(), json!(page_token(offset + max, &body.jql)));
    }
    Json(out).into_response()
}

#[derive(Deserialize)]
pub(crate) struct CountBody {
    #[serde(default)]
    jql: String,
}

pub(crate) async fn approximate_count(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<CountBody>,
) -> Response {
    let query = match parse_bounded(&body.jql) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let s = state.lock();
    match jql::search(&s.data, &query, caller(&headers).unwrap_or(0), Utc::now()) {
        Ok(hits) => Json(json!({ "count": hits.len() })).into_response(),
        Err(m) => error_collection(StatusCode::BAD_REQUEST, &[m.as_str()]),
    }
}
