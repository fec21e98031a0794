//! What the MCP layer records of a tool call for the response-budget telemetry
//! (`crate::budget`): the shape of its arguments (names the tool declares, the
//! size numbers, `include`, whether a cursor was used), a keyed hash of its
//! target, and the text the model received. Never argument values otherwise.

#![allow(clippy::disallowed_types, reason = "reads rmcp's call and result types")]

use std::{sync::LazyLock, time::Duration};

use rmcp::model::{CallToolResponse, ContentBlock, JsonObject, Tool};
use serde_json::Value;

use crate::budget::{Call, Facts, tag};

/// Size arguments whose numbers are recorded (they are caps, not content).
const SIZE_ARGS: &[&str] =
    &["page_size", "max_comments", "description_max_chars", "max_chars", "max_issues", "stale_days", "timeout_s"];
/// Arguments that never identify the target (paging and sizes).
const NOT_TARGET: &[&str] = &["cursor", "page_size", "max_comments", "description_max_chars", "max_chars", "include"];

/// This process's session id for transports without one (stdio).
static PROCESS_SESSION: LazyLock<String> = LazyLock::new(|| uuid::Uuid::new_v4().simple().to_string());

/// A call's outcome (`ok`, `error:KIND`) and the text the model received.
pub(super) fn outcome_and_text(
    response: &Result<CallToolResponse, rmcp::ErrorData>,
    error_kind: Option<&'static str>,
) -> (String, String) {
    match response {
        Ok(CallToolResponse::Complete(r)) => {
            let text: Vec<&str> = r
                .content
                .iter()
                .filter_map(|c| match c {
                    ContentBlock::Text(t) => Some(t.text.as_str()),
                    _ => None,
                })
                .collect();
            let outcome = if r.is_error == Some(true) {
                format!("error:{}", error_kind.unwrap_or("tool"))
            } else {
                "ok".to_owned()
            };
            (outcome, text.join("\n"))
        }
        Ok(_) => ("ok".to_owned(), String::new()),
        Err(_) => ("error:protocol".to_owned(), String::new()),
    }
}

/// The facts of one call, ready for [`crate::budget::Recorder::record`].
pub(super) fn call_record(
    tool: &Tool,
    args: Option<&JsonObject>,
    session: Option<&str>,
    outcome: String,
    facts: Facts,
    duration: Duration,
) -> Call {
    let declared: Vec<&str> = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let given = |name: &str| args.and_then(|a| a.get(name)).filter(|v| !v.is_null());
    let mut names: Vec<String> = declared.iter().filter(|n| given(n).is_some()).map(|n| (*n).to_owned()).collect();
    names.sort();
    let sizes =
        SIZE_ARGS.iter().filter_map(|n| given(n).and_then(Value::as_u64).map(|v| ((*n).to_owned(), v))).collect();
    let include = given("include").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .filter(|s| s.len() <= 20 && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            .map(str::to_owned)
            .collect()
    });
    let cursor = given("cursor").and_then(Value::as_str).is_some_and(|c| !c.trim().is_empty());
    // The target: every declared argument but paging and sizes, canonically.
    let target_parts: Vec<String> = declared
        .iter()
        .filter(|n| !NOT_TARGET.contains(n))
        .filter_map(|n| given(n).map(|v| format!("{n}={v}")))
        .collect();
    let target = (!target_parts.is_empty()).then(|| {
        let mut parts: Vec<&str> = vec![tool.name.as_ref()];
        parts.extend(target_parts.iter().map(String::as_str));
        tag(&parts)
    });
    Call {
        at_ms: chrono::Utc::now().timestamp_millis(),
        session: tag(&["session", session.unwrap_or(&PROCESS_SESSION)]),
        tool: tool.name.to_string(),
        outcome,
        duration,
        jira_requests: facts.jira_requests,
        args: names,
        sizes,
        include,
        cursor,
        target,
        cuts: facts.cuts,
        image_tokens: facts.image_tokens,
    }
}
