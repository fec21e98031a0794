//! Ready-made error responses in Jira's ErrorCollection shape.
//!
//! Shared by the middleware and the handlers so every error reads like Jira's.
//! It only builds responses: it must not touch the emulator's state or know
//! about routes.

use std::time::Duration;

use axum::{
    Json,
    body::{Body, Bytes},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::app::Shape;

pub(crate) fn error_collection(status: StatusCode, messages: &[&str]) -> Response {
    (status, Json(json!({ "errorMessages": messages, "errors": {} }))).into_response()
}

pub(crate) fn field_errors(errors: Value) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "errorMessages": [], "errors": errors }))).into_response()
}

pub(crate) fn issue_not_found() -> Response {
    error_collection(StatusCode::NOT_FOUND, &["Issue does not exist or you do not have permission to see it."])
}

/// The answer a misbehaving upstream gives (see [`Shape`]). `Hang` waits here, never answering.
pub(crate) async fn shaped(shape: Shape) -> Response {
    let json = HeaderValue::from_static("application/json;charset=UTF-8");
    match shape {
        Shape::Body { status, content_type, body } => {
            let mut response = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            match HeaderValue::from_str(content_type) {
                Ok(v) if !content_type.is_empty() => response.headers_mut().insert(header::CONTENT_TYPE, v),
                _ => response.headers_mut().remove(header::CONTENT_TYPE),
            };
            response
        }
        Shape::Truncated { declared, sent } => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from(sent)),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "emulator: connection cut")),
            ];
            let mut response = Body::from_stream(futures_util::stream::iter(chunks)).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, json);
            response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(declared));
            response
        }
        Shape::Redirect { status, location } => {
            let mut response = StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND).into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
        // Served by the real handler after the wait (`limits`); never shaped here.
        Shape::Delay { .. } => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Shape::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Shape::SlowBody => {
            let stream = futures_util::stream::unfold(0u8, |step| async move {
                if step > 0 {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                Some((Ok::<_, std::io::Error>(Bytes::from_static(b"{\"issues\": [")), step + 1))
            });
            let mut response = Body::from_stream(stream).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, json);
            response
        }
        Shape::Huge { bytes, declare } => {
            const CHUNK: u64 = 64 * 1024;
            let chunk = Bytes::from(vec![b'x'; CHUNK as usize]);
            let stream = futures_util::stream::unfold(0u64, move |sent| {
                let chunk = chunk.clone();
                async move {
                    (sent < bytes).then(|| {
                        let n = CHUNK.min(bytes - sent);
                        (Ok::<_, std::io::Error>(chunk.slice(..n as usize)), sent + n)
                    })
                }
            });
            let mut response = Body::from_stream(stream).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, json);
            if declare {
                response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(bytes));
            }
            response
        }
    }
}
