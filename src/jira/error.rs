//! Jira errors, mapped from HTTP status (never from body shape: Jira's 401 is plain text).
//!
//! Every `Display` text names the problem and the caller's next move; these
//! strings reach the model verbatim as tool errors.

use std::time::Duration;

/// Where a new Cloud API token is created; quoted in 401 messages.
pub(crate) const TOKEN_URL: &str = "https://id.atlassian.com/manage-profile/security/api-tokens";

/// What went wrong talking to Jira.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// 404 on an issue.
    #[error(
        "Issue {key} was not found (404): it does not exist, or this Jira account is not allowed \
         to see it. Check the key, or find the issue with search_issues"
    )]
    IssueNotFound { key: String },
    /// 404 on a project.
    #[error("Project {key} was not found (404) or is not visible to this account. {valid}")]
    ProjectNotFound { key: String, valid: String },
    /// Any other 404.
    #[error("Jira answered 404 for {what}: {message}")]
    NotFound { what: String, message: String },
    /// 401: bad or expired credentials.
    #[error(
        "Jira rejected the credentials (401): the API token for JIRA_USERNAME is invalid or has \
         expired. Create a new token at {TOKEN_URL}, set JIRA_API_TOKEN and restart the server; \
         retrying will not help. `jira-mcp doctor` checks the setup"
    )]
    Unauthorized,
    /// 403: authenticated but not allowed.
    #[error(
        "Jira denied permission (403): {message}. The account is signed in but lacks the Jira \
         permission for this action; ask a Jira admin to grant it, or do something else"
    )]
    Forbidden { message: String },
    /// 400 on a search: the JQL is wrong.
    #[error(
        "Jira rejected the JQL (400): {message}. Fix the query (syntax: resource \
         jira://reference/jql), or use search_issues' simple filters (project, status, assignee, \
         text) instead of jql"
    )]
    BadJql { message: String },
    /// 400 on anything else.
    #[error("Jira rejected the request (400): {message}")]
    BadRequest { message: String },
    /// 409 conflicting update.
    #[error("Jira reported a conflicting update (409): {message}. Fetch the issue again and retry")]
    Conflict { message: String },
    /// 410: an endpoint Atlassian removed.
    #[error("Jira says this API was removed (410): {message}. Upgrade jira-mcp")]
    Gone { message: String },
    /// 413: per-issue limits (comments, links, ...).
    #[error(
        "Jira refused the request as too large (413): {message}. Shorten the text, or the issue has reached a \
         per-issue limit (comments, links, attachments)"
    )]
    TooLarge { message: String },
    /// 429 after the bounded retries.
    #[error(
        "Jira's rate limit was hit (429{reason}) and the bounded retries are used up. Wait {wait} \
         s before the next call, and reduce load: fewer parallel calls, a smaller page_size, or a \
         lower JIRA_MCP_RATE_LIMIT",
        reason = reason.as_deref().map(|r| format!(", {r}")).unwrap_or_default(),
        wait = retry_after.as_secs().max(1)
    )]
    RateLimited { retry_after: Duration, reason: Option<String> },
    /// 5xx after the bounded retries.
    #[error(
        "Jira had a server error ({status}) on {attempts} attempt(s). The problem is on Jira's \
         side: try again in a minute, and check https://status.atlassian.com if it persists"
    )]
    Server { status: u16, attempts: u32 },
    /// Any other unexpected status.
    #[error("Jira answered with unexpected status {status}: {message}")]
    Unexpected { status: u16, message: String },
    /// No answer in time.
    #[error(
        "Jira did not answer within {secs} s ({attempts} attempt(s)). Try again; if it keeps \
         happening, ask for less (smaller page_size, fewer sections)"
    )]
    Timeout { secs: u64, attempts: u32 },
    /// DNS, TCP or TLS failure.
    #[error(
        "Cannot reach Jira at {url} ({detail}). Check JIRA_URL and the network; `jira-mcp doctor` \
         tells DNS, TLS and connection problems apart"
    )]
    Unreachable { url: String, detail: String },
    /// Jira answered 2xx with a body we cannot read.
    #[error("Jira's answer could not be read ({detail}); this is a jira-mcp bug, please report it")]
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
    fn not_found_becomes_issue_specific() {
        let e = Error::NotFound { what: "x".into(), message: "y".into() }.for_issue("DEMO-9");
        assert_eq!(
            e.to_string(),
            "Issue DEMO-9 was not found (404): it does not exist, or this Jira account is not \
             allowed to see it. Check the key, or find the issue with search_issues"
        );
    }

    #[test]
    fn rate_limit_message_says_how_long_to_wait() {
        let e = Error::RateLimited { retry_after: Duration::from_secs(7), reason: Some("jira-burst-based".into()) };
        assert!(e.to_string().starts_with("Jira's rate limit was hit (429, jira-burst-based)"));
        assert!(e.to_string().contains("Wait 7 s"));
    }

    #[test]
    fn unauthorized_says_where_to_fix_and_not_to_retry() {
        let e = Error::Unauthorized;
        assert!(e.to_string().contains(TOKEN_URL));
        assert!(e.to_string().contains("retrying will not help"));
    }
}
