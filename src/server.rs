//! `JiraMcp`, the MCP server handler: tools (from the toolset routers),
//! resources, prompts, read-only filtering and the initialize instructions.
//! It does not know its transport; `server::stdio` and `server::http` serve it.

pub mod http;
pub mod stdio;

use std::{sync::Arc, time::Duration};

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    handler::server::{
        router::{prompt::PromptRouter, tool::ToolRouter},
        tool::ToolCallContext,
        wrapper::Parameters,
    },
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject,
        ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams, PromptMessage,
        ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource, ResourceContents,
        ResourceTemplate, Role, ServerCapabilities, ServerConfig, Tool,
    },
    prompt, prompt_handler, prompt_router,
    service::RequestContext,
    tool_handler,
};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::{
    config::Config,
    jira::{self, Jira},
    sandbox::{Sandbox, docker::DockerSandbox},
    tools::{delete::ConfirmStore, issues::RenderOptions},
};

const INSTRUCTIONS: &str = "Jira tools for one Jira Cloud site. Start with search_issues (JQL or simple filters) or \
summarize_project; read one issue whole with get_issue. Paging: a search page ends with either \
`MORE AVAILABLE: ... cursor=\"...\"` (call again with the same query plus that cursor) or `END OF RESULTS`; \
never assume a page is complete otherwise. Deleting is two-phase: delete_issue with confirm=false returns a \
preview and a confirm_token; show the preview, get the user's explicit yes, then call with confirm=true and \
the token (single use, 5 minutes). run_python runs stdlib Python in an offline sandbox (30 s, 512 MB); pass \
jql to get the issues as /data/issues.json. Errors are plain sentences that say what to do next.";

const JQL_REFERENCE: &str = include_str!("../docs/jql-reference.md");

/// The MCP server. Cheap to clone: per-session copies share state through `Arc`s.
#[derive(Clone)]
pub struct JiraMcp {
    pub(crate) jira: Jira,
    pub(crate) confirm: Arc<ConfirmStore>,
    pub(crate) sandbox: Option<Arc<dyn Sandbox>>,
    sandbox_timeout: Duration,
    /// Tools hidden and refused because of read-only mode.
    hidden: Arc<Vec<String>>,
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

impl std::fmt::Debug for JiraMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraMcp").field("jira", &self.jira).field("hidden", &self.hidden).finish_non_exhaustive()
    }
}

/// Why the server could not be built.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BuildError(String);

impl JiraMcp {
    /// Builds the server with the real Jira client and the Docker sandbox.
    ///
    /// # Errors
    /// When the HTTP client cannot be created (TLS backend failure).
    pub fn new(config: &Config) -> Result<Self, BuildError> {
        let client = jira::Client::new(&config.jira).map_err(|e| BuildError(e.to_string()))?;
        let sandbox: Arc<dyn Sandbox> = Arc::new(DockerSandbox::new(config.sandbox.clone()));
        Ok(Self::with_parts(config, Jira::new(client), Some(sandbox)))
    }

    pub(crate) fn with_parts(config: &Config, jira: Jira, sandbox: Option<Arc<dyn Sandbox>>) -> Self {
        let all = Self::search_router()
            + Self::issues_router()
            + Self::comments_router()
            + Self::delete_router()
            + Self::python_router();
        let mut tool_router = ToolRouter::new();
        for mut route in all {
            let mut schema = (*route.attr.input_schema).clone();
            compact_schema(&mut schema);
            route.attr.input_schema = Arc::new(schema);
            tool_router.add_route(route);
        }
        let mut hidden = Vec::new();
        if config.read_only {
            // Keep only tools that promise not to modify Jira (readOnlyHint = true).
            hidden = tool_router
                .list_all()
                .into_iter()
                .filter(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) != Some(true))
                .map(|t| t.name.to_string())
                .collect();
            for name in &hidden {
                tool_router.remove_route(name);
            }
        }
        Self {
            jira,
            confirm: Arc::new(ConfirmStore::default()),
            sandbox,
            sandbox_timeout: config.sandbox.max_timeout,
            hidden: Arc::new(hidden),
            tool_router,
            prompt_router: Self::prompt_router(),
        }
    }

    /// The tools this server lists (sorted by name).
    #[must_use]
    pub fn tools(&self) -> Vec<Tool> {
        self.tool_router.list_all()
    }

    pub(crate) fn sandbox_timeout_cap(&self) -> Duration {
        self.sandbox_timeout
    }

    /// Sweeps sandbox containers left by a crash (best effort, logs only).
    pub async fn sweep_sandbox(&self) {
        if let Some(s) = &self.sandbox {
            s.sweep().await;
        }
    }

    /// At shutdown: cancels running `run_python` jobs and waits (at most 10 s) until
    /// their containers are removed.
    pub async fn drain_sandbox(&self) {
        if let Some(s) = &self.sandbox {
            s.drain().await;
        }
    }
}

/// Shrinks a generated input schema without changing what it accepts in
/// practice: drops `$schema`, `"default": null` and integer `format`s, and
/// turns `"type": ["T", "null"]` of optional fields into `"T"`. Every byte of
/// tools/list is sent to the model on every session, and the union types also
/// trip strict schema linters.
fn compact_schema(schema: &mut JsonObject) {
    schema.remove("$schema");
    for key in ["properties", "$defs"] {
        if let Some(serde_json::Value::Object(props)) = schema.get_mut(key) {
            for prop in props.values_mut() {
                if let serde_json::Value::Object(p) = prop {
                    compact_property(p);
                }
            }
        }
    }
}

fn compact_property(p: &mut JsonObject) {
    if p.get("default").is_some_and(serde_json::Value::is_null) {
        p.remove("default");
    }
    if p.get("format").and_then(|f| f.as_str()).is_some_and(|f| f.starts_with("uint") || f.starts_with("int")) {
        p.remove("format");
    }
    let single = match p.get("type") {
        Some(serde_json::Value::Array(types)) => {
            let rest: Vec<&serde_json::Value> = types.iter().filter(|t| t.as_str() != Some("null")).collect();
            match rest.as_slice() {
                [one] => Some((*one).clone()),
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(t) = single {
        p.insert("type".to_owned(), t);
    }
}

/// Arguments of the `investigate` prompt.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct InvestigateArgs {
    /// Issue key, e.g. DEMO-12.
    issue_key: String,
}

/// Arguments of the project prompts.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ProjectArgs {
    /// Project key, e.g. DEMO.
    project: String,
}

#[prompt_router]
impl JiraMcp {
    /// Investigate one issue: its history, related work, and a suggested next step.
    #[prompt(name = "investigate")]
    async fn investigate(&self, Parameters(a): Parameters<InvestigateArgs>) -> Vec<PromptMessage> {
        let key = a.issue_key.trim().to_ascii_uppercase();
        vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Investigate Jira issue {key}.\n1. Call get_issue with key={key} and read description, comments, links and status changes.\n\
                 2. For each linked issue and subtask that matters, call get_issue on it.\n\
                 3. Call search_issues with text set to the issue's key terms to find duplicates or related work.\n\
                 Then report: what the problem is, what has been tried, who is involved, what blocks it, and one concrete next step. \
                 Do not change anything in Jira unless I ask."
            ),
        )]
    }

    /// Triage a project's open, unassigned or stale work and propose priorities and owners.
    #[prompt(name = "triage")]
    async fn triage(&self, Parameters(a): Parameters<ProjectArgs>) -> Vec<PromptMessage> {
        let p = a.project.trim().to_ascii_uppercase();
        vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Triage Jira project {p}.\n1. Call summarize_project with project={p} for the overall picture and the stale issues.\n\
                 2. Call search_issues with project={p}, assignee=none to list unassigned work (follow MORE AVAILABLE cursors).\n\
                 3. Read the top candidates with get_issue.\n\
                 Propose, in a table: issue, suggested priority, suggested owner, reason. Ask me before calling update_issue or transition_issue."
            ),
        )]
    }

    /// Prepare a stand-up summary of a project's last day of activity.
    #[prompt(name = "standup")]
    async fn standup(&self, Parameters(a): Parameters<ProjectArgs>) -> Vec<PromptMessage> {
        let p = a.project.trim().to_ascii_uppercase();
        vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Write a stand-up summary for Jira project {p}.\n1. Call search_issues with project={p}, updated_since=-1d (follow MORE AVAILABLE cursors).\n\
                 2. For issues that changed status, call get_issue with include=[\"history\",\"comments\"].\n\
                 Group by person: done yesterday, doing today, blocked. Keep it under 15 lines."
            ),
        )]
    }
}

fn text_resource(uri: &str, text: String, mime: &str) -> ReadResourceResponse {
    ReadResourceResult::new(vec![ResourceContents::text(text, uri.to_owned()).with_mime_type(mime)]).into()
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for JiraMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().enable_prompts().build())
            .with_server_info(Implementation::new("jira-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.to_string();
        if self.hidden.contains(&name) {
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "Tool {name} is disabled: this server runs read-only (JIRA_MCP_READ_ONLY=true), so tools that change Jira \
                 are switched off. Tell the user; the operator can unset JIRA_MCP_READ_ONLY if changes are intended"
            ))])
            .into());
        }
        if !self.tool_router.has_route(&name) {
            // A protocol error (-32602) as the spec asks, but one that names the tool and the choices.
            let known: Vec<String> = self.tool_router.list_all().into_iter().map(|t| t.name.to_string()).collect();
            return Err(McpError::invalid_params(
                format!("unknown tool {name:?}; available: {}", known.join(", ")),
                None,
            ));
        }
        let started = std::time::Instant::now();
        let result = self.tool_router.call(ToolCallContext::new(self, request, context)).await;
        tracing::info!(mcp.tool = %name, duration_ms = started.elapsed().as_millis() as u64, "tool call");
        result
    }

    async fn list_resources(
        &self,
        _r: Option<PaginatedRequestParams>,
        _c: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(vec![
            Resource::new("jira://reference/jql", "jql-reference")
                .with_title("JQL quick reference")
                .with_description("Fields, operators, functions and examples for search_issues' jql argument")
                .with_mime_type("text/markdown"),
            Resource::new("jira://reference/statuses", "statuses")
                .with_title("Statuses of this site")
                .with_description("Every status with its category (To Do / In Progress / Done), read live from Jira")
                .with_mime_type("text/plain"),
        ]))
    }

    async fn list_resource_templates(
        &self,
        _r: Option<PaginatedRequestParams>,
        _c: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new("jira://issue/{key}", "issue")
                .with_title("Jira issue")
                .with_description("One issue rendered like get_issue, e.g. jira://issue/DEMO-1")
                .with_mime_type("text/markdown"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _c: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.as_str();
        match uri {
            "jira://reference/jql" => Ok(text_resource(uri, JQL_REFERENCE.to_owned(), "text/markdown")),
            "jira://reference/statuses" => {
                let statuses = self.jira.statuses().await.map_err(|e| McpError::internal_error(e.to_string(), None))?;
                let mut lines: Vec<String> = statuses
                    .iter()
                    .map(|s| format!("{} | {}", s.name, s.status_category.as_ref().map_or("-", |c| c.name.as_str())))
                    .collect();
                lines.sort();
                lines.dedup();
                Ok(text_resource(uri, format!("status | category\n{}", lines.join("\n")), "text/plain"))
            }
            _ => match uri.strip_prefix("jira://issue/") {
                Some(raw) => {
                    let key = crate::jira::jql::issue_key(raw).map_err(|m| McpError::invalid_params(m, None))?;
                    let text = self
                        .render_issue(&key, &RenderOptions::default())
                        .await
                        .map_err(|e| McpError::resource_not_found(e.to_string(), None))?;
                    Ok(text_resource(uri, text, "text/markdown"))
                }
                None => Err(McpError::resource_not_found(
                    format!(
                        "no resource {uri}; available: jira://reference/jql, jira://reference/statuses, jira://issue/{{key}}"
                    ),
                    None,
                )),
            },
        }
    }
}
