//! Jira errors, mapped from HTTP status (never from body shape: Jira's 401 is plain text).
//!
//! Each variant carries facts: the status, the key, Jira's own message, how
//! long to wait. None names an MCP tool, resource or argument; `crate::error`
//! turns them into the sentence the model reads. `Display` is a short factual
//! line for logs and `doctor`.

use std::time::Duration;

/// Where a new Cloud API token is created.
pub(crate) const TOKEN_URL: &str = "https://id.atlassian.com/manage-profile/security/api-tokens";

/// What went wrong talking to Jira.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// 404 on an issue.
    #[error("Jira answered 404 for issue {key}")]
    IssueNotFound { key: String },
    /// 404 on a project, with the projects the account can see (`None`: they could not be listed).
    #[error("Jira answered 404 for project {key}")]
    ProjectNotFound { key: String, visible: Option<Vec<(String, String)>> },
    /// Any other 404.
    #[error("Jira answered 404 for {what}: {message}")]
    NotFound { what: String, message: String },
    /// 401: bad or expired credentials.
    #[error("Jira rejected the credentials (401)")]
    Unauthorized,
    /// 403: authenticated but not allowed.
    #[error("Jira denied permission (403): {message}")]
    Forbidden { message: String },
    /// 400 on a search: the JQL is wrong.
    #[error("Jira rejected the JQL (400): {message}")]
    BadJql { message: String },
    /// 400 on anything else.
    #[error("Jira rejected the request (400): {message}")]
    BadRequest { message: String },
    /// 409 conflicting update.
    #[error("Jira reported a conflicting update (409): {message}")]
    Conflict { message: String },
    /// 410: an endpoint Atlassian removed.
    #[error("Jira says this API was removed (410): {message}")]
    Gone { message: String },
    /// 413: per-issue limits (comments, links, ...).
    #[error("Jira refused the request as too large (413): {message}")]
    TooLarge { message: String },
    /// 429 after the bounded retries.
    #[error("Jira's rate limit was hit (429); Retry-After {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration, reason: Option<String> },
    /// 5xx after the bounded retries.
    #[error("Jira had a server error ({status}) on {attempts} attempt(s)")]
    Server { status: u16, attempts: u32 },
    /// Any other unexpected status.
    #[error("Jira answered with unexpected status {status}: {message}")]
    Unexpected { status: u16, message: String },
    /// No answer in time.
    #[error("Jira did not answer within {secs} s ({attempts} attempt(s))")]
    Timeout { secs: u64, attempts: u32 },
    /// DNS, TCP or TLS failure.
    #[error("cannot reach Jira at {url} ({detail})")]
    Unreachable { url: String, detail: String },
    /// An issue or project outside the allow-list (`JIRA_MCP_PROJECTS`); refused before any
    /// request, in the same words whether or not it exists.
    #[error("{what} is outside the allowed projects {}", allowed.join(", "))]
    NotAllowed { what: String, allowed: Vec<String> },
    /// JQL that cannot be restricted to the allow-list with certainty; never sent.
    #[error("the JQL cannot be restricted to the allowed projects: {problem}")]
    UnscopableJql { problem: String },
    /// Jira answered 2xx with a body we cannot read.
    #[error("Jira's answer could not be read ({detail})")]
    Decode { detail: String },
}

impl Error {
    /// Turns a generic 404 into the issue-specific message.
    pub(crate) fn for_issue(self, key: &str) -> Self {
        match self {
            Self::NotFound { .. } => Self::IssueNotFound { key: key.to_owned() },
            other => other,
        }
    }

    /// Turns a generic 400 into the JQL-specific message.
    pub(crate) fn for_jql(self) -> Self {
        match self {
            Self::BadRequest { message } => Self::BadJql { message },
            other => other,
        }
    }
}

/// Extracts a short human message from an error body: Jira's ErrorCollection,
/// then `{"message": ..}`, then plain text. Capped so a huge HTML page never
/// reaches the model.
pub(crate) fn body_message(body: &str) -> String {
    const CAP: usize = 400;
    let text = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => {
            let mut parts: Vec<String> = json
                .get("errorMessages")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|m| m.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            if let Some(errors) = json.get("errors").and_then(|v| v.as_object()) {
                parts.extend(errors.iter().map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default())));
            }
            if parts.is_empty()
                && let Some(m) = json.get("message").and_then(|v| v.as_str())
            {
                parts.push(m.to_owned());
            }
            parts.join("; ")
        }
        Err(_) => body.trim().to_owned(),
    };
    let text = text.trim().trim_end_matches('.').to_owned();
    if text.is_empty() {
        return "no details given".to_owned();
    }
    match text.char_indices().nth(CAP) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_collection_messages_and_field_errors_are_joined() {
        let body = r#"{"errorMessages":["Field 'priority' is required."],"errors":{"issuetype":"The issue type selected is invalid."}}"#;
        assert_eq!(body_message(body), "Field 'priority' is required.; issuetype: The issue type selected is invalid");
    }

    #[test]
    fn plain_text_and_message_bodies_are_read() {
        assert_eq!(
            body_message("Client must be authenticated to access this resource."),
            "Client must be authenticated to access this resource"
        );
        assert_eq!(body_message(r#"{"message":"nope","status-code":401}"#), "nope");
        assert_eq!(body_message(""), "no details given");
    }

    #[test]
    fn huge_bodies_are_capped() {
        let msg = body_message(&"x".repeat(5000));
        assert!(msg.chars().count() <= 401 && msg.ends_with('…'));
    }

    #[test]
    fn not_found_becomes_issue_specific_and_bad_request_jql_specific() {
        let e = Error::NotFound { what: "x".into(), message: "y".into() }.for_issue("DEMO-9");
        assert!(matches!(&e, Error::IssueNotFound { key } if key == "DEMO-9"), "{e:?}");
        let e = Error::BadRequest { message: "m".into() }.for_jql();
        assert!(matches!(&e, Error::BadJql { message } if message == "m"), "{e:?}");
    }
}
