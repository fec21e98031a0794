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
    /// 429 after the bounded retries (or a shared pause that outlasts the retry budget).
    #[error("Jira's rate limit was hit (429); Retry-After {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration, reason: Option<String>, elapsed: Duration },
    /// 5xx after the bounded retries.
    #[error("Jira had a server error ({status}) on {attempts} attempt(s) over {}", took(*elapsed))]
    Server { status: u16, attempts: u32, elapsed: Duration },
    /// Any other unexpected status.
    #[error("Jira answered with unexpected status {status}: {message}")]
    Unexpected { status: u16, message: String },
    /// No answer in time, after the request was sent.
    #[error("Jira did not answer within {secs} s ({attempts} attempt(s) over {})", took(*elapsed))]
    Timeout { secs: u64, attempts: u32, elapsed: Duration },
    /// The request was sent and the connection broke before the whole answer arrived.
    #[error("the connection broke before Jira's whole answer arrived ({detail}; {attempts} attempt(s) over {})", took(*elapsed))]
    Interrupted { detail: String, attempts: u32, elapsed: Duration },
    /// DNS, TCP or TLS failure: nothing was sent.
    #[error("cannot reach Jira at {url} ({detail})")]
    Unreachable { url: String, detail: String },
    /// A redirect to a host that is neither the site nor its media service: not followed.
    /// `to` is the target's origin (scheme, host, port) only.
    #[error("Jira answered HTTP {status} with a redirect to {to}, which is not the configured site; not followed")]
    Redirected { status: u16, to: String },
    /// An issue or project outside the allow-list (`JIRA_MCP_PROJECTS`, or a caller's own
    /// list within it when `by_caller`); refused before any request, in the same words
    /// whether or not it exists.
    #[error("{what} is outside the allowed projects {}", allowed.join(", "))]
    NotAllowed { what: String, allowed: Vec<String>, by_caller: bool },
    /// JQL that cannot be restricted to the allow-list with certainty; never sent.
    #[error("the JQL cannot be restricted to the allowed projects: {problem}")]
    UnscopableJql { problem: String },
    /// A 2xx answer that is not JSON: an HTML page, a proxy's text, nothing at all.
    #[error("the answer (HTTP {status}, Content-Type {}) is not Jira's JSON: {}", shown(content_type), shown(snippet))]
    NotJira { status: u16, content_type: String, snippet: String },
    /// A 2xx JSON answer without the shape Jira sends for this call.
    #[error("Jira's answer did not have the expected shape ({}{detail})", field.as_deref().map(|f| format!("at {f}: ")).unwrap_or_default())]
    Decode { field: Option<String>, detail: String },
    /// The answer is larger than `JIRA_MCP_MAX_RESPONSE_MB` allows; reading stopped at the cap.
    #[error("Jira's answer is larger than the {} MiB cap{}", cap / (1024 * 1024), declared.map(|d| format!(" ({} MiB announced)", d / (1024 * 1024))).unwrap_or_default())]
    Oversized { cap: u64, declared: Option<u64> },
    /// 404 on an endpoint that every Jira Cloud site has: the site URL is wrong.
    #[error("Jira answered 404 for {path}, which every Jira Cloud site has, at {base}")]
    EndpointMissing { path: String, base: String },
    /// A write was sent and its outcome is unknown: it may have been applied.
    #[error("{write}: sent, outcome unknown ({cause})")]
    Unconfirmed { write: Write, cause: Box<Self> },
}

/// A change sent to Jira, named for messages about its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Write {
    /// Create an issue in `project` with `summary`.
    Create { project: String, summary: String },
    /// Edit fields of `key`.
    Edit { key: String },
    /// Move `key` through transition `id`.
    Transition { key: String },
    /// Add a comment to `key`.
    Comment { key: String },
    /// Delete `key`.
    Delete { key: String },
    /// Log work on `key`.
    Worklog { key: String },
    /// Link `outward` to `inward`, or remove a link (`remove`).
    Link { outward: String, inward: String, remove: bool },
    /// Move `keys` into a sprint or to the backlog.
    SprintMove { keys: Vec<String> },
    /// Attach file `name` to `key`.
    Attach { key: String, name: String },
}

impl std::fmt::Display for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Create { project, summary } => write!(f, "create issue in {project} ({summary:?})"),
            Self::Edit { key } => write!(f, "edit {key}"),
            Self::Transition { key } => write!(f, "transition {key}"),
            Self::Comment { key } => write!(f, "comment on {key}"),
            Self::Delete { key } => write!(f, "delete {key}"),
            Self::Worklog { key } => write!(f, "log work on {key}"),
            Self::Link { outward, inward, remove: false } => write!(f, "link {outward} to {inward}"),
            Self::Link { outward, inward, remove: true } => write!(f, "unlink {outward} from {inward}"),
            Self::SprintMove { keys } => write!(f, "move {} to another sprint", keys.join(", ")),
            Self::Attach { key, name } => write!(f, "attach {name:?} to {key}"),
        }
    }
}

/// `12 s`, or `0.4 s` under ten seconds: how long a call tried, for messages.
pub(crate) fn took(d: Duration) -> String {
    if d.as_secs() >= 10 { format!("{} s", d.as_secs_f64().round()) } else { format!("{:.1} s", d.as_secs_f64()) }
}

fn shown(text: &str) -> &str {
    if text.is_empty() { "(none)" } else { text }
}

impl Error {
    /// Turns a generic 404 into the issue-specific message.
    pub(crate) fn for_issue(self, key: &str) -> Self {
        match self {
            Self::NotFound { .. } => Self::IssueNotFound { key: key.to_owned() },
            other => other,
        }
    }

    /// Turns a 404 on an endpoint every site has into "the site URL is wrong".
    pub(crate) fn for_endpoint(self, path: &str, base: &str) -> Self {
        match self {
            Self::NotFound { .. } => Self::EndpointMissing { path: path.to_owned(), base: base.to_owned() },
            other => other,
        }
    }

    /// For a non-idempotent write: a failure after the request went out (no answer in
    /// time, a cut or foreign answer, a 5xx) leaves the outcome unknown; say so.
    /// Failures where Jira said no (4xx, 429) or nothing was sent stay as they are.
    pub(crate) fn for_write(self, write: Write) -> Self {
        match self {
            Self::Timeout { .. }
            | Self::Interrupted { .. }
            | Self::Server { .. }
            | Self::NotJira { .. }
            | Self::Decode { .. }
            | Self::Oversized { .. } => Self::Unconfirmed { write, cause: Box::new(self) },
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
