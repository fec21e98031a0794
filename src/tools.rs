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
pub(crate) mod attachments;
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
    fleet::Fleet,
    jira::{self, Jira},
    sandbox::{self, Sandbox},
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
    /// Response-budget telemetry of every tool call (`crate::server` records them).
    pub(crate) budget: crate::budget::Recorder,
    /// Cancelled when an HTTP drain runs out of time: calls still running end with
    /// `ToolError::Drained` (`crate::server` watches it).
    pub(crate) stopping: tokio_util::sync::CancellationToken,
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
    /// Builds the server with the real Jira client and the configured sandbox backend.
    ///
    /// # Errors
    /// When the HTTP client cannot be created (TLS backend failure).
    ///
    /// With `JIRA_MCP_REDIS_URL`, the rate budget, 429 pauses and confirm-token single use are
    /// the fleet's (see `crate::fleet`).
    pub fn new(config: &Config) -> Result<Self, BuildError> {
        let fleet = match &config.fleet.redis_url {
            Some(url) => Some(Fleet::new(url).map_err(|e| BuildError(format!("JIRA_MCP_REDIS_URL: {e}")))?),
            None => None,
        };
        if fleet.is_some() && config.fleet.confirm_key.is_none() {
            tracing::warn!(
                "JIRA_MCP_REDIS_URL is set without JIRA_MCP_CONFIRM_KEY: each replica signs confirm tokens with its own \
                 random key, so a delete previewed on one replica cannot be confirmed on another"
            );
        }
        let mut client = jira::Client::new(&config.jira).map_err(|e| BuildError(e.to_string()))?;
        if let Some(fleet) = &fleet {
            client = client.in_fleet(&config.jira, fleet.clone(), config.fleet.replicas);
        }
        // Fleet-wide run_python slots: JIRA_MCP_SANDBOX_FLEET_CONCURRENCY, else what the fleet
        // runs without Redis (per-process slots times the replicas).
        let fleet_slots = config.fleet.sandbox_slots.map_or_else(
            || {
                u32::try_from(config.sandbox.concurrency)
                    .unwrap_or(u32::MAX)
                    .saturating_mul(config.fleet.replicas.get())
            },
            std::num::NonZeroU32::get,
        );
        let sandbox = sandbox::for_config(&config.sandbox, fleet.clone().map(|f| (f, fleet_slots)));
        let mut server = Self::with_parts(config, Jira::new(client), sandbox);
        server.confirm = Arc::new(ConfirmStore::new(config.fleet.confirm_key.as_ref(), fleet));
        server.budget = crate::budget::Recorder::start(&config.telemetry);
        Ok(server)
    }

    pub(crate) fn with_parts(config: &Config, jira: Jira, sandbox: Arc<dyn Sandbox>) -> Self {
        crate::scrub::register(&config.jira.auth);
        // Before the routers exist: their schemas state the defaults. The first server's
        // values stay for the process (one per process outside tests).
        crate::limits::install(config.tunables);
        if let crate::config::SandboxBackend::E2b(e2b) = &config.sandbox.backend {
            crate::scrub::register_secret(&e2b.api_key);
        }
        let all = Self::search_router()
            + Self::issues_router()
            + Self::comments_router()
            + Self::delete_router()
            + Self::python_router()
            + Self::fields_router()
            + Self::work_router()
            + Self::agile_router()
            + Self::attachments_router();
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
            confirm: Arc::new(ConfirmStore::new(config.fleet.confirm_key.as_ref(), None)),
            sandbox,
            sandbox_timeout: config.sandbox.max_timeout,
            hidden: Arc::new(hidden),
            unpermitted: Arc::default(),
            audit: crate::audit::AuditLog::default(),
            budget: crate::budget::Recorder::off(),
            stopping: tokio_util::sync::CancellationToken::new(),
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

    /// Counts every result's tokens for `/metrics` even with telemetry off (the HTTP transport serves them).
    #[must_use]
    pub fn with_token_metrics(mut self) -> Self {
        self.budget = self.budget.or_metrics_only();
        self
    }

    /// Waits until the telemetry of every call so far is written (tests, shutdown).
    pub fn flush_budget(&self) {
        self.budget.flush();
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

    /// At the end of an HTTP drain: every tool call still running (in every session
    /// and copy of this server) ends with an error saying so and how to retry.
    pub fn stop_calls(&self) {
        self.stopping.cancel();
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
    ("add_attachment", "CREATE_ATTACHMENTS"),
];

/// Shrinks a generated input schema without changing what it accepts in
/// practice: drops `$schema` and integer `format`s, turns `"type": ["T",
/// "null"]` of optional fields into `"T"`, inlines `$defs` (an optional enum is
/// an `anyOf` of a `$ref` and null), and writes a `oneOf` of documented
/// constants as a plain `enum` (the property's own description names the
/// choices). Every byte of tools/list is sent to the model on every session,
/// and the union types also trip strict schema linters.
fn compact_schema(schema: &mut JsonObject) {
    schema.remove("$schema");
    let defs = match schema.remove("$defs") {
        Some(serde_json::Value::Object(defs)) => defs,
        _ => JsonObject::new(),
    };
    if let Some(serde_json::Value::Object(props)) = schema.get_mut("properties") {
        for prop in props.values_mut() {
            if let serde_json::Value::Object(p) = prop {
                inline_defs(p, &defs);
                compact_property(p);
            }
        }
    }
}

/// Replaces a property's `$ref` (direct, in `items`, or beside null in an
/// `anyOf`) with the definition it names, keeping the property's description.
fn inline_defs(p: &mut JsonObject, defs: &JsonObject) {
    let target = |v: &serde_json::Value| {
        v.get("$ref")
            .and_then(|r| r.as_str())
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| defs.get(name))
            .and_then(|d| d.as_object())
            .map(|d| {
                let mut d = d.clone();
                d.remove("description");
                enum_of_consts(&mut d);
                d
            })
    };
    let referenced = match p.get("anyOf").and_then(|a| a.as_array()) {
        Some(branches) => match branches.as_slice() {
            [r, null] | [null, r] if null.get("type").and_then(|t| t.as_str()) == Some("null") => target(r),
            _ => None,
        },
        None => target(&serde_json::Value::Object(p.clone())),
    };
    if let Some(def) = referenced {
        p.remove("anyOf");
        p.remove("$ref");
        p.extend(def);
    }
    if let Some(items) = p.get("items").and_then(target) {
        p.insert("items".to_owned(), serde_json::Value::Object(items));
    }
}

/// `oneOf: [{const: "a", …}, {const: "b", …}]` of one type becomes `enum: ["a", "b"]`.
fn enum_of_consts(d: &mut JsonObject) {
    let Some(serde_json::Value::Array(branches)) = d.get("oneOf") else { return };
    let consts: Option<Vec<serde_json::Value>> = branches.iter().map(|b| b.get("const").cloned()).collect();
    let kind = branches.first().and_then(|b| b.get("type")).cloned();
    if let (Some(consts), Some(kind)) = (consts, kind) {
        d.remove("oneOf");
        d.insert("type".to_owned(), kind);
        d.insert("enum".to_owned(), serde_json::Value::Array(consts));
    }
}

fn compact_property(p: &mut JsonObject) {
    // A default of null or [] says no more than leaving the property out.
    if p.get("default").is_some_and(|d| d.is_null() || d.as_array().is_some_and(Vec::is_empty)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_inlines_definitions_and_keeps_what_is_accepted() {
        let mut schema: JsonObject = serde_json::from_value(serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {
                "Mode": { "description": "How.", "oneOf": [
                    { "const": "replace", "description": "R.", "type": "string" },
                    { "const": "append", "description": "A.", "type": "string" }
                ] },
                "Section": { "description": "S.", "enum": ["a", "b"], "type": "string" }
            },
            "properties": {
                "mode": { "anyOf": [{ "$ref": "#/$defs/Mode" }, { "type": "null" }], "description": "replace or append." },
                "include": { "items": { "$ref": "#/$defs/Section" }, "type": ["array", "null"], "description": "Which." },
                "n": { "type": ["integer", "null"], "format": "uint32" }
            },
            "type": "object"
        }))
        .unwrap();
        compact_schema(&mut schema);
        assert_eq!(
            serde_json::Value::Object(schema),
            serde_json::json!({
                "properties": {
                    "mode": { "description": "replace or append.", "enum": ["replace", "append"], "type": "string" },
                    "include": { "items": { "enum": ["a", "b"], "type": "string" }, "type": "array", "description": "Which." },
                    "n": { "type": "integer" }
                },
                "type": "object"
            })
        );
    }
}
