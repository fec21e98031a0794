//! REST v2 as Jira Cloud serves it beside v3: the same resources, with rich text
//! (descriptions, environments, comment bodies) as strings where v3 carries ADF
//! documents. Other clients (mcp-atlassian, which `scripts/compare-peer` drives
//! through the same tasks) call v2 paths; rather than a second set of handlers,
//! a v2 request is translated to v3 (string rich text → ADF), answered by the v3
//! routes, and the answer translated back (every ADF document → its text).
//!
//! Jira renders v2 rich text as wiki markup; the emulator renders it as the
//! Markdown form of `jira::adf`, which carries the same text (headings, lists,
//! code) in a syntax every v2 client passes through as text.

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::Request,
    http::{HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;
use tower::ServiceExt;

use super::respond::error_collection;
use crate::jira::adf;

/// Largest JSON body translated (attachments, the one large upload, pass through untranslated).
const JSON_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Fields that are rich text in v3 and strings in v2.
const RICH_FIELDS: [&str; 2] = ["description", "environment"];

/// Answers a `/rest/api/2/...` request through the v3 routes of `v3`.
pub(crate) async fn translate(v3: Router, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let Some(uri) = v3_uri(&parts.uri) else {
        return error_collection(StatusCode::NOT_FOUND, &[format!("null for uri: {}", parts.uri).as_str()]);
    };
    parts.uri = uri;
    // The outer route's `{*rest}` parameter must not reach the v3 route's extractors
    // (the caller is read from the headers, so nothing else lives here).
    parts.extensions = axum::http::Extensions::new();
    let body = if is_json(parts.headers.get(header::CONTENT_TYPE)) {
        let Ok(bytes) = to_bytes(body, JSON_BODY_LIMIT).await else {
            return error_collection(StatusCode::PAYLOAD_TOO_LARGE, &["The request body is too large."]);
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut json) => {
                request_to_v3(&mut json);
                parts.headers.remove(header::CONTENT_LENGTH);
                Body::from(json.to_string())
            }
            // Let v3 word the parse error, exactly as it would for its own path.
            Err(_) => Body::from(bytes),
        }
    } else {
        body
    };
    let Ok(response) = v3.oneshot(Request::from_parts(parts, body)).await;
    if !is_json(response.headers().get(header::CONTENT_TYPE)) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, JSON_BODY_LIMIT).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    response_to_v2(&mut json);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json.to_string()))
}

fn v3_uri(uri: &Uri) -> Option<Uri> {
    let rest = uri.path().strip_prefix("/rest/api/2/")?;
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!("/rest/api/3/{rest}{query}").parse().ok()
}

fn is_json(content_type: Option<&HeaderValue>) -> bool {
    content_type.and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"))
}

/// v2 writes: `fields.description`, `fields.environment` and a comment's `body` as strings.
fn request_to_v3(json: &mut Value) {
    if let Some(fields) = json.get_mut("fields").and_then(Value::as_object_mut) {
        for name in RICH_FIELDS {
            if let Some(value) = fields.get_mut(name) {
                to_adf(value);
            }
        }
    }
    if let Some(body) = json.get_mut("body") {
        to_adf(body);
    }
}

fn to_adf(value: &mut Value) {
    if let Some(text) = value.as_str() {
        *value = adf::from_markdown(text);
    }
}

/// Every ADF document anywhere in an answer becomes its text.
fn response_to_v2(json: &mut Value) {
    match json {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("doc") && map.contains_key("content") {
                *json = Value::String(adf::to_markdown(json));
                return;
            }
            map.values_mut().for_each(response_to_v2);
        }
        Value::Array(items) => items.iter_mut().for_each(response_to_v2),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_v2_path_maps_to_its_v3_twin_with_the_query() {
        let uri: Uri = "/rest/api/2/issue/DEMO-1?fields=summary&expand=renderedFields".parse().unwrap();
        assert_eq!(v3_uri(&uri).unwrap(), "/rest/api/3/issue/DEMO-1?fields=summary&expand=renderedFields");
        assert!(v3_uri(&"/rest/api/3/issue/DEMO-1".parse().unwrap()).is_none());
    }

    #[test]
    fn rich_text_strings_become_adf_and_adf_becomes_text() {
        let mut write = json!({"fields": {"summary": "s", "description": "Steps:\n\n- one"}, "body": "A *comment*"});
        request_to_v3(&mut write);
        assert_eq!(write["fields"]["description"]["type"], "doc");
        assert_eq!(write["body"]["type"], "doc");
        assert_eq!(write["fields"]["summary"], "s", "plain fields stay as they are");
        let mut read = json!({"fields": {"comment": {"comments": [{"body": write["body"].clone()}]},
                                         "description": write["fields"]["description"].clone()}});
        response_to_v2(&mut read);
        assert_eq!(read["fields"]["description"], "Steps:\n\n- one");
        assert_eq!(read["fields"]["comment"]["comments"][0]["body"], "A *comment*");
    }
}
