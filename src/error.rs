//! `ToolError`: the single place that decides what a caller sees when a tool fails.
//!
//! Lower layers carry facts (`jira::Error`: status, key, Jira's message,
//! Retry-After; `sandbox::Error`: what is missing and the fix command). This
//! module is the one place that turns them into the sentence the model reads,
//! naming the next move (search_issues, jira://reference/jql, page_size,
//! `jira-mcp doctor`…). Everything the model can act on becomes a tool result
//! with `isError: true`; nothing here becomes a JSON-RPC error, except for
//! resource reads, where MCP has no other channel.

#![allow(clippy::disallowed_types, reason = "error turns failures into MCP tool results")]

use rmcp::{
    ErrorData as McpError,
    handler::server::tool::IntoCallToolResult,
    model::{CallToolResponse, CallToolResult, ContentBlock},
};

use crate::{
    jira::{self, error::TOKEN_URL},
    sandbox,
};

/// An error raised while running a tool.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ToolError {
    /// Jira said no, or could not be reached.
    #[error("{}", jira_sentence(.0))]
    Jira(#[from] jira::Error),
    /// The sandbox could not run the code.
    #[error("{}", sandbox_sentence(.0))]
    Sandbox(#[from] sandbox::Error),
    /// The arguments are wrong in a way the schema cannot express.
    #[error("Invalid input: {0}")]
    InvalidInput(String),
    /// The delete confirmation protocol refused the call.
    #[error("{0}")]
    Confirm(String),
    /// The tool writes to Jira and the server runs read-only.
    #[error(
        "Tool {tool} is disabled: this server runs read-only (JIRA_MCP_READ_ONLY=true), so tools that change Jira \
         are switched off. Tell the user; the operator can unset JIRA_MCP_READ_ONLY if changes are intended"
    )]
    ReadOnly { tool: String },
    /// The HTTP bearer token's scope does not cover this call.
    #[error(
        "Tool {tool} is not allowed for this connection: its token ({token}) is limited to {allowed}. Use one of \
         those, or tell the user; the operator sets each token's scope in JIRA_MCP_HTTP_TOKEN_FILE"
    )]
    OutOfScope { tool: String, token: String, allowed: String },
}

impl ToolError {
    /// A short, argument-free name for logs: error texts quote user input.
    fn kind(&self) -> &'static str {
        match self {
            Self::Jira(_) => "jira",
            Self::Sandbox(_) => "sandbox",
            Self::InvalidInput(_) => "invalid_input",
            Self::Confirm(_) => "confirm_refused",
            Self::ReadOnly { .. } => "read_only",
            Self::OutOfScope { .. } => "out_of_scope",
        }
    }

    /// The same sentence as a tool would give, as the protocol error a resource
    /// read must answer with: a bad argument is invalid params, a missing
    /// issue is "resource not found", anything else an internal error.
    pub(crate) fn into_resource_error(self) -> McpError {
        let text = self.to_string();
        match self {
            Self::InvalidInput(_) | Self::OutOfScope { .. } => McpError::invalid_params(text, None),
            Self::Jira(jira::Error::IssueNotFound { .. } | jira::Error::NotFound { .. }) => {
                McpError::resource_not_found(text, None)
            }
            _ => McpError::internal_error(text, None),
        }
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, McpError> {
        tracing::info!(kind = self.kind(), "tool error");
        Ok(CallToolResult::error(vec![ContentBlock::text(self.to_string())]).into())
    }
}

/// What a Jira failure means for the caller, and what to do next.
fn jira_sentence(e: &jira::Error) -> String {
    use jira::Error as E;
    match e {
        E::IssueNotFound { key } => format!(
            "Issue {key} was not found (404): it does not exist, or this Jira account is not allowed \
             to see it. Check the key, or find the issue with search_issues"
        ),
        E::ProjectNotFound { key, visible } => {
            let valid = match visible {
                Some(list) if !list.is_empty() => format!(
                    "Projects you can use: {}",
                    list.iter().map(|(key, name)| format!("{key} ({name})")).collect::<Vec<_>>().join(", ")
                ),
                _ => "No projects are visible to this account".to_owned(),
            };
            format!("Project {key} was not found (404) or is not visible to this account. {valid}")
        }
        E::NotFound { what, message } => format!("Jira answered 404 for {what}: {message}"),
        E::Unauthorized => format!(
            "Jira rejected the credentials (401): the API token for JIRA_USERNAME is invalid or has \
             expired. Create a new token at {TOKEN_URL}, set JIRA_API_TOKEN and restart the server; \
             retrying will not help. `jira-mcp doctor` checks the setup"
        ),
        E::Forbidden { message } => format!(
            "Jira denied permission (403): {message}. The account is signed in but lacks the Jira \
             permission for this action; ask a Jira admin to grant it, or do something else"
        ),
        E::BadJql { message } => format!(
            "Jira rejected the JQL (400): {message}. Fix the query (syntax: resource \
             jira://reference/jql), or use search_issues' simple filters (project, status, assignee, \
             text) instead of jql"
        ),
        E::BadRequest { message } => format!("Jira rejected the request (400): {message}"),
        E::Conflict { message } => {
            format!("Jira reported a conflicting update (409): {message}. Fetch the issue again and retry")
        }
        E::Gone { message } => format!("Jira says this API was removed (410): {message}. Upgrade jira-mcp"),
        E::TooLarge { message } => format!(
            "Jira refused the request as too large (413): {message}. Shorten the text, or the issue has reached a \
             per-issue limit (comments, links, attachments)"
        ),
        E::RateLimited { retry_after, reason } => format!(
            "Jira's rate limit was hit (429{reason}) and the bounded retries are used up. Wait {wait} \
             s before the next call, and reduce load: fewer parallel calls, a smaller page_size, or a \
             lower JIRA_MCP_RATE_LIMIT",
            reason = reason.as_deref().map(|r| format!(", {r}")).unwrap_or_default(),
            wait = retry_after.as_secs().max(1)
        ),
        E::Server { status, attempts } => format!(
            "Jira had a server error ({status}) on {attempts} attempt(s). The problem is on Jira's \
             side: try again in a minute, and check https://status.atlassian.com if it persists"
        ),
        E::Unexpected { status, message } => format!("Jira answered with unexpected status {status}: {message}"),
        E::Timeout { secs, attempts } => format!(
            "Jira did not answer within {secs} s ({attempts} attempt(s)). Try again; if it keeps \
             happening, ask for less (smaller page_size, fewer sections)"
        ),
        E::Unreachable { url, detail } => format!(
            "Cannot reach Jira at {url} ({detail}). Check JIRA_URL and the network; `jira-mcp doctor` \
             tells DNS, TLS and connection problems apart"
        ),
        E::Decode { detail } => {
            format!("Jira's answer could not be read ({detail}); this is a jira-mcp bug, please report it")
        }
    }
}

/// What a sandbox failure means for the caller, and what to do next.
fn sandbox_sentence(e: &sandbox::Error) -> String {
    use sandbox::Error as E;
    match e {
        E::Unavailable { problem, fix } => format!(
            "run_python is unavailable: {problem}. Fix: {fix}. Meanwhile use search_issues or summarize_project, \
             which need no sandbox"
        ),
        E::Docker(detail) => {
            format!("run_python failed inside Docker: {detail}. Retry once; if it persists, run `jira-mcp doctor`")
        }
        E::Busy { waiting, slots } => format!(
            "run_python is busy: {waiting} run(s) are already waiting for the {slots} sandbox slot(s). Retry in a \
             minute, or combine the work into fewer runs"
        ),
        E::Cancelled => "run_python was cancelled; the container was killed and removed".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn say(e: jira::Error) -> String {
        ToolError::from(e).to_string()
    }

    #[test]
    fn missing_issue_names_the_key_and_the_search_tool() {
        assert_eq!(
            say(jira::Error::IssueNotFound { key: "DEMO-9".into() }),
            "Issue DEMO-9 was not found (404): it does not exist, or this Jira account is not \
             allowed to see it. Check the key, or find the issue with search_issues"
        );
    }

    #[test]
    fn forbidden_is_distinct_from_unauthorized() {
        assert_eq!(
            say(jira::Error::Forbidden { message: "Injected failure from the emulator".into() }),
            "Jira denied permission (403): Injected failure from the emulator. The account is signed in but lacks the \
             Jira permission for this action; ask a Jira admin to grant it, or do something else"
        );
        let unauthorized = say(jira::Error::Unauthorized);
        assert!(unauthorized.starts_with("Jira rejected the credentials (401)"), "{unauthorized}");
        assert!(unauthorized.contains(TOKEN_URL), "{unauthorized}");
        assert!(unauthorized.contains("retrying will not help"), "{unauthorized}");
    }

    #[test]
    fn bad_jql_quotes_jira_and_points_at_the_reference() {
        let text = say(jira::Error::BadJql { message: "Error in the JQL Query: Expecting ')'".into() });
        assert!(text.starts_with("Jira rejected the JQL (400): Error in the JQL Query: Expecting ')'."), "{text}");
        assert!(text.contains("jira://reference/jql"), "{text}");
    }

    #[test]
    fn rate_limit_message_says_how_long_to_wait() {
        let text = say(jira::Error::RateLimited {
            retry_after: Duration::from_secs(7),
            reason: Some("jira-burst-based".into()),
        });
        assert!(text.starts_with("Jira's rate limit was hit (429, jira-burst-based)"), "{text}");
        assert!(text.contains("Wait 7 s"), "{text}");
        assert!(text.contains("page_size"), "{text}");
    }

    #[test]
    fn server_errors_and_removed_apis_say_whose_problem_it_is() {
        assert_eq!(
            say(jira::Error::Server { status: 500, attempts: 4 }),
            "Jira had a server error (500) on 4 attempt(s). The problem is on Jira's side: try again in a minute, and \
             check https://status.atlassian.com if it persists"
        );
        assert!(say(jira::Error::Gone { message: "m".into() }).starts_with("Jira says this API was removed (410)"));
    }

    #[test]
    fn unreachable_names_the_url_and_the_doctor() {
        let text = say(jira::Error::Unreachable {
            url: "http://127.0.0.1:9".into(),
            detail: "connection refused: nothing listens at that address and port".into(),
        });
        assert!(text.starts_with("Cannot reach Jira at http://127.0.0.1:9 (connection refused"), "{text}");
        assert!(text.contains("`jira-mcp doctor`"), "{text}");
    }

    #[test]
    fn unknown_project_lists_the_visible_ones() {
        let text = say(jira::Error::ProjectNotFound {
            key: "NOPE".into(),
            visible: Some(vec![("DEMO".into(), "Demo".into()), ("OPS".into(), "Operations".into())]),
        });
        assert_eq!(
            text,
            "Project NOPE was not found (404) or is not visible to this account. Projects you can use: DEMO (Demo), \
             OPS (Operations)"
        );
        let none = say(jira::Error::ProjectNotFound { key: "NOPE".into(), visible: None });
        assert!(none.ends_with("No projects are visible to this account"), "{none}");
    }

    #[test]
    fn sandbox_failures_name_the_fix_and_an_alternative() {
        let text = ToolError::from(sandbox::Error::Unavailable {
            problem: "the Docker daemon is not reachable".into(),
            fix: "run `sudo scripts/setup-host`".into(),
        })
        .to_string();
        assert_eq!(
            text,
            "run_python is unavailable: the Docker daemon is not reachable. Fix: run `sudo scripts/setup-host`. \
             Meanwhile use search_issues or summarize_project, which need no sandbox"
        );
    }

    #[test]
    fn facts_below_never_name_a_tool() {
        // The lower layers' own texts (logs, doctor) carry no advice for the model.
        for fact in [
            jira::Error::IssueNotFound { key: "DEMO-9".into() }.to_string(),
            jira::Error::Unauthorized.to_string(),
            jira::Error::RateLimited { retry_after: Duration::from_secs(7), reason: None }.to_string(),
            sandbox::Error::Busy { waiting: 8, slots: 2 }.to_string(),
        ] {
            for word in ["search_issues", "run_python", "page_size", "jira://", "doctor"] {
                assert!(!fact.contains(word), "{fact:?} names {word}");
            }
        }
    }

    #[test]
    fn resource_reads_get_the_tool_sentence_as_a_protocol_error() {
        let e = ToolError::from(jira::Error::IssueNotFound { key: "DEMO-9".into() }).into_resource_error();
        assert_eq!(e.code, rmcp::model::ErrorCode::RESOURCE_NOT_FOUND);
        assert!(e.message.starts_with("Issue DEMO-9 was not found (404)"), "{}", e.message);
        let e = ToolError::InvalidInput("bad key".into()).into_resource_error();
        assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_PARAMS);
        assert_eq!(e.message, "Invalid input: bad key");
    }
}
