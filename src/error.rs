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
    jira::{
        self,
        error::{TOKEN_URL, took},
    },
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
    /// A field name or value the site does not accept.
    #[error("Invalid input: {}", field_sentence(.0))]
    Field(#[from] jira::fields::FieldError),
    /// An attachment cannot be read or written as asked.
    #[error("{}", attachment_sentence(.0))]
    Attachment(#[from] crate::tools::attachments::error::AttachmentError),
    /// The delete confirmation protocol refused the call.
    #[error("{0}")]
    Confirm(String),
    /// The tool writes to Jira and the server runs read-only.
    #[error(
        "Tool {tool} is disabled: this server runs read-only (JIRA_MCP_READ_ONLY=true), so tools that change Jira \
         are switched off. Tell the user; the operator can unset JIRA_MCP_READ_ONLY if changes are intended"
    )]
    ReadOnly { tool: String },
    /// The tool writes to Jira and the account lacks the permission (checked at start).
    #[error(
        "Tool {tool} is disabled: the Jira account this server uses lacks the {permission} permission (checked at \
         start), so the tool is switched off. Tell the user; a Jira admin can grant it, then the server must restart"
    )]
    NoPermission { tool: String, permission: &'static str },
    /// The HTTP bearer token's scope does not cover this call.
    #[error(
        "Tool {tool} is not allowed for this connection: its token ({token}) is limited to {allowed}. Use one of \
         those, or tell the user; the operator sets each token's scope in JIRA_MCP_HTTP_TOKEN_FILE"
    )]
    OutOfScope { tool: String, token: String, allowed: String },
    /// The HTTP server's drain (SIGTERM) ran out of time before the call finished.
    #[error(
        "The call to {tool} was cancelled: this server is shutting down (a replica stop) and the call ran past the \
         drain bound (JIRA_MCP_HTTP_DRAIN_SECS){}. Retry the call: another replica, or this server once restarted, \
         will serve it{}",
        if tool == "run_python" { "; its sandbox was removed" } else { "" },
        if *writes { ". It writes to Jira: check the issue first, the change may have been made before the cut" } else { "" }
    )]
    Drained { tool: String, writes: bool },
}

impl ToolError {
    /// A short, argument-free name for logs: error texts quote user input.
    fn kind(&self) -> &'static str {
        match self {
            Self::Jira(_) => "jira",
            Self::Sandbox(_) => "sandbox",
            Self::InvalidInput(_) | Self::Field(_) => "invalid_input",
            Self::Attachment(_) => "attachment",
            Self::Confirm(_) => "confirm_refused",
            Self::ReadOnly { .. } => "read_only",
            Self::NoPermission { .. } => "no_permission",
            Self::OutOfScope { .. } => "out_of_scope",
            Self::Drained { .. } => "drained",
        }
    }

    /// The same sentence as a tool would give, as the protocol error a resource
    /// read must answer with: a bad argument is invalid params, a missing
    /// issue is "resource not found", anything else an internal error.
    pub(crate) fn into_resource_error(self) -> McpError {
        let text = self.to_string();
        match self {
            Self::InvalidInput(_) | Self::Field(_) | Self::OutOfScope { .. } => McpError::invalid_params(text, None),
            Self::Jira(jira::Error::IssueNotFound { .. } | jira::Error::NotFound { .. }) => {
                McpError::resource_not_found(text, None)
            }
            _ => McpError::internal_error(text, None),
        }
    }

    /// The same sentence as a tool would give, as the protocol error a prompt
    /// answers with: a prompt fails only on its arguments (invalid params).
    pub(crate) fn into_prompt_error(self) -> McpError {
        McpError::invalid_params(self.to_string(), None)
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, McpError> {
        tracing::info!(kind = self.kind(), "tool error");
        crate::budget::note_error(self.kind());
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
                Some(_) => "No projects are visible to this account".to_owned(),
                None => "The list of visible projects could not be read; check the key with the user".to_owned(),
            };
            format!("Project {key} was not found (404) or is not visible to this account. {valid}")
        }
        E::NotFound { what, message } => format!("Jira answered 404 for {what}: {message}"),
        E::EndpointMissing { path, base } => format!(
            "Jira answered 404 for {path} at {base}, an endpoint every Jira Cloud site has: JIRA_URL most likely \
             has a wrong path, or points at a host that is not Jira Cloud. Set JIRA_URL to the site root only \
             (e.g. https://your-site.atlassian.net) and run `jira-mcp doctor`; retrying will not help"
        ),
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
        E::RateLimited { retry_after, reason, .. } => format!(
            "Jira's rate limit was hit (429{reason}) and the bounded retries are used up. Wait {wait} \
             s before the next call, and reduce load: fewer parallel calls, a smaller page_size, or a \
             lower JIRA_MCP_RATE_LIMIT",
            reason = reason.as_deref().map(|r| format!(", {r}")).unwrap_or_default(),
            wait = retry_after.as_secs().max(1)
        ),
        E::Server { status, attempts, elapsed } => format!(
            "Jira had a server error ({status}) on {attempts} attempt(s) over {}. The problem is on Jira's \
             side: try again in a minute, and check https://status.atlassian.com if it persists",
            took(*elapsed)
        ),
        E::Unexpected { status, message } => format!("Jira answered with unexpected status {status}: {message}"),
        E::Timeout { secs, attempts, elapsed } => format!(
            "Jira did not answer within {secs} s ({attempts} attempt(s) over {}; retries stop after \
             JIRA_MCP_RETRY_BUDGET_SECS). Try again in a minute; if it keeps happening, ask for less (smaller \
             page_size, fewer sections) or run `jira-mcp doctor`",
            took(*elapsed)
        ),
        E::Interrupted { detail, attempts, elapsed } => format!(
            "The connection broke before Jira's whole answer arrived ({detail}; {attempts} attempt(s) over {}). \
             Try again; if it keeps happening, something between this server and Jira (a proxy) cuts answers: \
             run `jira-mcp doctor`",
            took(*elapsed)
        ),
        E::Unreachable { url, detail } => format!(
            "Cannot reach Jira at {url} ({detail}). Check JIRA_URL and the network; `jira-mcp doctor` \
             tells DNS, TLS and connection problems apart"
        ),
        E::Redirected { status, to } => format!(
            "Jira's answer (HTTP {status}) redirected to {to}, which is neither JIRA_URL's site nor its media \
             service, so it was not followed: this server only sends requests to the configured site. If the site \
             moved, set JIRA_URL to its new address; if a proxy or SSO page sits in front of Jira, use an address that \
             reaches Jira directly. Run `jira-mcp doctor` to check"
        ),
        E::NotJira { status, content_type, snippet } => format!(
            "The answer did not come from Jira's REST API: HTTP {status}, Content-Type {}, starting \"{}\". \
             JIRA_URL probably points at a proxy, an SSO or login page, or a host that is not Jira Cloud. Check \
             JIRA_URL and run `jira-mcp doctor`; retrying will not help until that is fixed",
            if content_type.is_empty() { "(none)" } else { content_type },
            snippet
        ),
        E::Decode { field, detail } => format!(
            "Jira's answer did not have the shape Jira Cloud sends for this call ({}{detail}). JIRA_URL may point at \
             a proxy or a service that is not Jira Cloud REST v3: run `jira-mcp doctor`. If doctor passes, report \
             this message to the jira-mcp maintainers",
            field.as_deref().map(|f| format!("field {f}: ")).unwrap_or_default()
        ),
        E::Oversized { cap, declared } => format!(
            "Jira's answer was larger than the {} MiB this server reads from one answer (JIRA_MCP_MAX_RESPONSE_MB){}; \
             reading stopped there. Ask for less (a smaller page_size or max_issues, fewer sections); if Jira really \
             sends answers this big, the operator can raise JIRA_MCP_MAX_RESPONSE_MB",
            cap / (1024 * 1024),
            declared.map(|d| format!(", and it announced {} MiB", d / (1024 * 1024))).unwrap_or_default()
        ),
        E::Unconfirmed { write, cause } => unconfirmed_sentence(write, cause),
        E::NotAllowed { what, allowed, by_caller } => {
            let (who, set_in) = if *by_caller {
                ("this connection", "its token's scope in JIRA_MCP_HTTP_TOKEN_FILE, within JIRA_MCP_PROJECTS")
            } else {
                ("this server", "JIRA_MCP_PROJECTS")
            };
            let projects = if allowed.is_empty() {
                "no project".to_owned()
            } else {
                format!("the projects {}", allowed.join(", "))
            };
            format!(
                "{what} was not found or is not allowed: {who} only works with {projects} ({set_in}). Use an issue \
                 or project from those, or find one with search_issues"
            )
        }
        E::UnscopableJql { problem } => format!(
            "The JQL was not sent: this server restricts every query to its allowed projects, and this one cannot \
             be restricted with certainty ({problem}). Simplify it: balanced parentheses, closed quotes, plain ASCII \
             outside quotes, no comments, ORDER BY only at the end with field names"
        ),
    }
}

/// What is wrong with a field or value, and what to do instead.
/// What went wrong with an attachment, and what to do instead.
fn attachment_sentence(e: &crate::tools::attachments::error::AttachmentError) -> String {
    use crate::tools::{attachments::error::AttachmentError as E, text::file_size};
    match e {
        E::NoSuchFile { key, wanted, available } if available.is_empty() => {
            format!("Invalid input: {key} has no attachment {wanted:?}; it has no attachments at all")
        }
        E::NoSuchFile { key, wanted, available } => {
            let list: Vec<String> = available
                .iter()
                .take(20)
                .map(|(id, name)| {
                    format!("{} {}", crate::tools::text::one_line(id), crate::tools::text::one_line(name))
                })
                .collect();
            format!("Invalid input: {key} has no attachment {wanted:?}. Its files (id name): {}", list.join(", "))
        }
        E::Ambiguous { key, name, ids } => format!(
            "Invalid input: {key} has {} attachments named {name:?} (ids {}); give the id instead",
            ids.len(),
            ids.join(", ")
        ),
        E::TooLarge { name, size, cap } => format!(
            "Attachment {:?} is {}, more than the {} this server downloads for one call. Open it in Jira, or pick \
             smaller files",
            crate::tools::text::one_line(name),
            size.map_or_else(|| "larger than Jira listed".to_owned(), file_size),
            file_size(*cap)
        ),
        E::BadBase64 { detail } => format!(
            "Invalid input: content_base64 is not valid base64 ({detail}); send the file's bytes base64-encoded \
             (standard alphabet; a data: URL prefix is accepted)"
        ),
        E::UploadTooLarge { size, cap } => format!(
            "Invalid input: the file is {}, more than the {} add_attachment uploads; attach it in Jira instead",
            file_size(*size),
            file_size(*cap)
        ),
        E::BadName { name } => format!(
            "Invalid input: file_name {name:?} has no usable characters once made safe (no paths, no hidden files); \
             give a plain name such as report.csv"
        ),
        E::BadMediaType { value } => {
            format!(
                "Invalid input: media_type {value:?} is not a media type like text/csv; omit it to guess from the name"
            )
        }
        E::TooMuchForRun { files, bytes, max_files, max_bytes } => format!(
            "Invalid input: attachments asks for {files} file(s), {}; one run takes at most {max_files} files and {} \
             in all. Name fewer files (KEY:FILE instead of a whole issue)",
            file_size(*bytes),
            file_size(*max_bytes)
        ),
    }
}

fn field_sentence(e: &jira::fields::FieldError) -> String {
    use jira::fields::FieldError as E;
    let list = |items: &[String]| if items.is_empty() { "none".to_owned() } else { items.join(", ") };
    match e {
        E::Unknown { name, similar } if similar.is_empty() => format!(
            "no field is called {name:?} on this site. Call describe_fields (project and issue_type, or key) to see \
             the fields you can set"
        ),
        E::Unknown { name, similar } => format!(
            "no field is called {name:?} on this site; similar: {}. Call describe_fields to see the fields you can set",
            similar.join(", ")
        ),
        E::Ambiguous { name, candidates } => format!(
            "{name:?} names {} fields: {}. Give the id instead of the name",
            candidates.len(),
            candidates.iter().map(|(id, kind)| format!("{id} ({kind})")).collect::<Vec<_>>().join(", ")
        ),
        E::NotOnScreen { name, on_screen } => format!(
            "{name} cannot be set here: it is not on the screen of this issue type. Fields you can set: {}",
            list(on_screen)
        ),
        E::WrongType { field, expected, got } => format!("{field} expects {expected}, got {got}"),
        E::NotAllowed { field, value, allowed } => {
            format!("{value:?} is not an option of {field}. Valid: {}", list(allowed))
        }
        E::Unsupported { field, kind } => {
            format!("{field} has the type {kind}, which this server does not write; change it in Jira itself")
        }
        E::Managed { field } => format!(
            "{field} is not set as a field: use update_issue's sprint argument (\"active\", a sprint name, or \
             \"backlog\")"
        ),
    }
}

/// A write whose outcome is unknown: never advise a blind retry; say how to find out.
fn unconfirmed_sentence(write: &jira::Write, cause: &jira::Error) -> String {
    use jira::Write as W;
    let (what, check) = match write {
        W::Create { project, summary } => (
            format!("The request to create the issue {summary:?} in {project}"),
            format!(
                "search_issues with jql `project = {project} AND reporter = currentUser() AND created >= -1h ORDER BY \
                 created DESC` shows whether it exists (Jira's search can lag a few seconds)"
            ),
        ),
        W::Edit { key } => (
            format!("The update of {key}"),
            format!("get_issue key={key} shows whether the fields changed (repeating the same update is harmless)"),
        ),
        W::Transition { key } => {
            (format!("The status change of {key}"), format!("get_issue key={key} shows its current status"))
        }
        W::Comment { key } => (
            format!("The comment on {key}"),
            format!("get_issue key={key} include=[\"comments\"] shows whether the comment is there"),
        ),
        W::Delete { key } => {
            (format!("The deletion of {key}"), format!("get_issue key={key}: \"not found\" means it was deleted"))
        }
        W::Attach { key, name } => (
            format!("The upload of {name:?} to {key}"),
            format!("get_issue key={key} lists its attachments: look for {name:?} before uploading again"),
        ),
        W::Worklog { key } => (
            format!("The worklog on {key}"),
            format!("get_issue key={key} include=[\"worklogs\"] shows whether it was logged"),
        ),
        W::Link { outward, remove, .. } => (
            format!("The link change on {outward}"),
            format!(
                "get_issue key={outward} include=[\"links\"] shows whether the link is {}",
                if *remove { "gone" } else { "there" }
            ),
        ),
        W::SprintMove { keys } => (
            format!("The sprint move of {}", keys.join(", ")),
            format!("get_issue key={} fields=[\"Sprint\"] shows its sprint", keys.first().map_or("", String::as_str)),
        ),
    };
    let foreign = match cause {
        jira::Error::NotJira { .. } | jira::Error::Decode { .. } => {
            " The answer did not come from Jira's REST API (a proxy or login page?): run `jira-mcp doctor`."
        }
        _ => "",
    };
    format!(
        "{what} was sent to Jira, but {cause}. It may have been applied: do not repeat it before checking. {check}.\
         {foreign}"
    )
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
        E::Remote(detail) => format!(
            "run_python failed inside the hosted (E2B) sandbox: {detail}. Retry once; if it persists, run `jira-mcp \
             doctor`"
        ),
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
    fn a_drained_write_or_sandbox_run_says_what_may_have_happened() {
        let said = |tool: &str, writes| ToolError::Drained { tool: tool.to_owned(), writes }.to_string();
        assert!(said("update_issue", true).ends_with(
            "will serve it. It writes to Jira: check the issue first, the change may have been made before the cut"
        ));
        assert!(
            said("run_python", false).contains("(JIRA_MCP_HTTP_DRAIN_SECS); its sandbox was removed. Retry the call")
        );
        assert!(said("get_issue", false).ends_with("will serve it"));
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
            elapsed: Duration::ZERO,
        });
        assert!(text.starts_with("Jira's rate limit was hit (429, jira-burst-based)"), "{text}");
        assert!(text.contains("Wait 7 s"), "{text}");
        assert!(text.contains("page_size"), "{text}");
    }

    #[test]
    fn server_errors_and_removed_apis_say_whose_problem_it_is() {
        assert_eq!(
            say(jira::Error::Server { status: 500, attempts: 4, elapsed: Duration::from_millis(2500) }),
            "Jira had a server error (500) on 4 attempt(s) over 2.5 s. The problem is on Jira's side: try again in a \
             minute, and check https://status.atlassian.com if it persists"
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
        let none = say(jira::Error::ProjectNotFound { key: "NOPE".into(), visible: Some(vec![]) });
        assert!(none.ends_with("No projects are visible to this account"), "{none}");
        let unknown = say(jira::Error::ProjectNotFound { key: "NOPE".into(), visible: None });
        assert!(unknown.ends_with("The list of visible projects could not be read; check the key with the user"));
    }

    #[test]
    fn someone_elses_page_is_not_called_our_bug() {
        // See issue 9 item 3: an HTML 200 used to read "this is a jira-mcp bug, please report it".
        let text = say(jira::Error::NotJira {
            status: 200,
            content_type: "text/html; charset=utf-8".into(),
            snippet: "<!DOCTYPE html> <html><head><title>Sign in - Okta</title>".into(),
        });
        assert_eq!(
            text,
            "The answer did not come from Jira's REST API: HTTP 200, Content-Type text/html; charset=utf-8, starting \
             \"<!DOCTYPE html> <html><head><title>Sign in - Okta</title>\". JIRA_URL probably points at a proxy, an SSO \
             or login page, or a host that is not Jira Cloud. Check JIRA_URL and run `jira-mcp doctor`; retrying will \
             not help until that is fixed"
        );
        let shape =
            say(jira::Error::Decode { field: Some("issues[0].key".into()), detail: "missing field `key`".into() });
        assert!(shape.starts_with("Jira's answer did not have the shape Jira Cloud sends for this call (field issues[0].key: missing field `key`)"), "{shape}");
        for t in [text, shape] {
            assert!(!t.contains("this is a jira-mcp bug"), "{t}");
        }
    }

    #[test]
    fn a_write_with_an_unknown_outcome_says_it_may_have_been_applied_and_how_to_check() {
        // See issue 9 item 1: a timed-out comment said "Try again", and the retry duplicated it.
        let cause = jira::Error::Timeout { secs: 30, attempts: 1, elapsed: Duration::from_secs(30) };
        let text = say(cause.for_write(jira::Write::Comment { key: "DEMO-1".into() }));
        assert_eq!(
            text,
            "The comment on DEMO-1 was sent to Jira, but Jira did not answer within 30 s (1 attempt(s) over 30 s). It \
             may have been applied: do not repeat it before checking. get_issue key=DEMO-1 include=[\"comments\"] shows \
             whether the comment is there."
        );
        assert!(!text.contains("Try again"), "{text}");
        let foreign =
            say(jira::Error::NotJira { status: 200, content_type: "text/html".into(), snippet: "<html>".into() }
                .for_write(jira::Write::Delete { key: "DEMO-2".into() }));
        assert!(foreign.starts_with("The deletion of DEMO-2 was sent to Jira, but the answer (HTTP 200"), "{foreign}");
        assert!(foreign.contains("get_issue key=DEMO-2: \"not found\" means it was deleted"), "{foreign}");
        assert!(foreign.ends_with("run `jira-mcp doctor`."), "{foreign}");
        // Jira said no: the write was not applied, and the message stays the plain one.
        let refused =
            jira::Error::Forbidden { message: "m".into() }.for_write(jira::Write::Edit { key: "DEMO-3".into() });
        assert!(matches!(refused, jira::Error::Forbidden { .. }), "{refused:?}");
    }

    #[test]
    fn a_wrong_site_path_and_an_oversized_answer_name_the_setting() {
        let text = say(jira::Error::EndpointMissing {
            path: "/rest/api/3/search/jql".into(),
            base: "https://x.atlassian.net/jira".into(),
        });
        assert!(text.starts_with("Jira answered 404 for /rest/api/3/search/jql at https://x.atlassian.net/jira, an endpoint every Jira Cloud site has: JIRA_URL most likely has a wrong path"), "{text}");
        let text = say(jira::Error::Oversized { cap: 32 * 1024 * 1024, declared: Some(1 << 30) });
        assert!(text.starts_with("Jira's answer was larger than the 32 MiB this server reads from one answer (JIRA_MCP_MAX_RESPONSE_MB), and it announced 1024 MiB"), "{text}");
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
            jira::Error::RateLimited { retry_after: Duration::from_secs(7), reason: None, elapsed: Duration::ZERO }
                .to_string(),
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
