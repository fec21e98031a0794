//! The application: [`JiraMcp`], the state every tool shares, and its tools.
//!
//! One file per toolset lives under `tools/`; each adds a `#[tool_router]`
//! impl block to [`JiraMcp`], and [`JiraMcp::with_parts`] sums their routers
//! and applies read-only mode. Shared plumbing sits beside them (`args`,
//! `paging`, `text`). The MCP adaptation (the `ServerHandler`, resources,
//! prompts, instructions, transports) lives in `crate::server`, which uses
//! this module and is never used by it.

#![allow(clippy::disallowed_types, reason = "the tools are rmcp routes: they speak MCP")]

pub(crate) mod agile;
pub(crate) mod args;
pub(crate) mod comments;
pub(crate) mod custom;
pub(crate) mod delete;
pub(crate) mod fields;
pub(crate) mod issue_view;
pub(crate) mod issues;
pub(crate) mod paging;
pub(crate) mod python;
pub(crate) mod search;
pub(crate) mod text;
pub(crate) mod work;

use std::{sync::Arc, time::Duration};

use rmcp::{
    handler::server::router::tool::{ToolRoute, ToolRouter},
    model::{JsonObject, Tool},
};

use crate::{
    config::Config,
    confirm::ConfirmStore,
    error::ToolError,
    jira::{self, Jira},
    sandbox::{Sandbox, docker::DockerSandbox},
};

/// The MCP server's state and tools. Cheap to clone: per-session copies share
/// state through `Arc`s.
#[derive(Clone)]
pub struct JiraMcp {
    pub(crate) jira: Jira,
    pub(crate) confirm: Arc<ConfirmStore>,
    pub(crate) sandbox: Arc<dyn Sandbox>,
    /// The site people open, for `…/browse/KEY` links (not the API gateway).
    pub(crate) site: Arc<str>,
    /// Upper bound of one run_python run (`JIRA_MCP_SANDBOX_TIMEOUT_SECS`).
    pub(crate) sandbox_timeout: Duration,
    /// Tools hidden and refused because of read-only mode.
    hidden: Arc<Vec<String>>,
    /// Write tools hidden and refused at start because the Jira account lacks the
    /// permission (tool, permission).
    unpermitted: Arc<Vec<(String, &'static str)>>,
    /// Where write calls and refusals are recorded (`crate::server` records them).
    pub(crate) audit: crate::audit::AuditLog,
    pub(crate) tool_router: ToolRouter<Self>,
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
        Ok(Self::with_parts(config, Jira::new(client), sandbox))
    }

    pub(crate) fn with_parts(config: &Config, jira: Jira, sandbox: Arc<dyn Sandbox>) -> Self {
        crate::scrub::register(&config.jira.auth);
        let all = Self::search_router()
            + Self::issues_router()
            + Self::comments_router()
            + Self::delete_router()
            + Self::python_router()
            + Self::fields_router()
            + Self::work_router()
            + Self::agile_router();
        let mut tool_router = ToolRouter::new();
        let budget = jira.retry_budget();
        for route in all {
            let mut attr = route.attr.clone();
            let mut schema = (*attr.input_schema).clone();
            compact_schema(&mut schema);
            attr.input_schema = Arc::new(schema);
            // All Jira requests of one tool call share one retry budget (JIRA_MCP_RETRY_BUDGET_SECS).
            let inner = route.call.clone();
            tool_router
                .add_route(ToolRoute::new_dyn(attr, move |ctx| Box::pin(jira::with_retry_budget(budget, inner(ctx)))));
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
            jira: jira.restricted_to(config.projects.clone()),
            site: config.jira.site().into(),
            confirm: Arc::new(ConfirmStore::default()),
            sandbox,
            sandbox_timeout: config.sandbox.max_timeout,
            hidden: Arc::new(hidden),
            unpermitted: Arc::default(),
            audit: crate::audit::AuditLog::default(),
            tool_router,
        }
    }

    /// A copy whose every Jira operation is also held to `projects` (an HTTP
    /// token's own list), within the server's allow-list: keys and projects
    /// refused before any request, JQL constrained, answers checked again.
    #[must_use]
    pub(crate) fn narrowed_to(&self, projects: &[String]) -> Self {
        Self { jira: self.jira.narrowed_to(projects), ..self.clone() }
    }

    /// Asks Jira which write permissions the account holds (in the allowed projects,
    /// or anywhere) and hides, like read-only mode, each write tool it cannot use,
    /// with a log line saying why. If Jira cannot be asked, nothing is hidden: Jira
    /// still enforces its permissions on every call.
    pub async fn hide_unpermitted_tools(mut self) -> Self {
        let mut held: Vec<String> = Vec::new();
        for project in self.jira.permission_scopes() {
            match self.jira.my_permissions(project.as_deref(), jira::WRITE_PERMISSIONS).await {
                Ok(keys) => held.extend(keys),
                Err(e) => {
                    tracing::warn!("cannot check the Jira account's permissions, keeping every tool: {e}");
                    return self;
                }
            }
        }
        let mut unpermitted = Vec::new();
        for (tool, permission) in WRITE_TOOL_PERMISSIONS {
            if self.tool_router.has_route(tool) && !held.iter().any(|h| h == permission) {
                tracing::info!(
                    tool = *tool,
                    permission = *permission,
                    "hiding a write tool: the Jira account lacks this permission"
                );
                self.tool_router.remove_route(tool);
                unpermitted.push(((*tool).to_owned(), *permission));
            }
        }
        self.unpermitted = Arc::new(unpermitted);
        self
    }

    /// The tools this server lists (sorted by name).
    #[must_use]
    pub fn tools(&self) -> Vec<Tool> {
        self.tool_router.list_all()
    }

    /// The refusal for a tool that read-only mode or a missing permission switched off,
    /// if `name` is one.
    pub(crate) fn refusal(&self, name: &str) -> Option<ToolError> {
        if let Some((tool, permission)) = self.unpermitted.iter().find(|(t, _)| t == name) {
            return Some(ToolError::NoPermission { tool: tool.clone(), permission });
        }
        self.hidden.iter().any(|h| h == name).then(|| ToolError::ReadOnly { tool: name.to_owned() })
    }

    /// Sweeps sandbox containers left by a crash (best effort, logs only).
    pub async fn sweep_sandbox(&self) {
        self.sandbox.sweep().await;
    }

    /// At shutdown: cancels running `run_python` jobs and waits (at most 10 s) until
    /// their containers are removed.
    pub async fn drain_sandbox(&self) {
        self.sandbox.drain().await;
    }
}

/// The Jira permission each write tool needs (`jira::WRITE_PERMISSIONS`).
const WRITE_TOOL_PERMISSIONS: &[(&str, &str)] = &[
    ("create_issue", "CREATE_ISSUES"),
    ("update_issue", "EDIT_ISSUES"),
    ("transition_issue", "TRANSITION_ISSUES"),
    ("add_comment", "ADD_COMMENTS"),
    ("delete_issue", "DELETE_ISSUES"),
];

/// Shrinks a generated input schema without changing what it accepts in
/// practice: drops `$schema` and integer `format`s, and turns
/// `"type": ["T", "null"]` of optional fields into `"T"`. Every byte of
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
