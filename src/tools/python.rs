//! Python toolset: `run_python` in the gVisor sandbox, optionally over Jira data.

use std::{fmt::Write as _, time::Duration};

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::{
    error::ToolError,
    jira::LINE_FIELDS,
    sandbox::{self, Job, Outcome},
    server::JiraMcp,
};

/// Most issues fetched for `jql` before the run.
const MAX_DATA_ISSUES: usize = 1000;

/// Arguments of `run_python`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunPythonParams {
    /// Python 3 source; print what you want back.
    code: String,
    /// Wall-clock limit in seconds, 1-30 (default 30).
    #[serde(default)]
    #[schemars(range(min = 1, max = 30))]
    timeout_s: Option<u32>,
    /// If set, matching issues (max 1000) are at /data/issues.json: a list of {key, summary, status, assignee, priority, updated}.
    #[serde(default)]
    jql: Option<String>,
}

#[tool_router(router = python_router, vis = "pub(crate)")]
impl JiraMcp {
    /// Run Python 3 (standard library only) in a throw-away gVisor sandbox: no network, 512 MB,
    /// 1 CPU, 30 s max, read-only filesystem except a 64 MB /tmp, no subprocesses. With `jql`, the
    /// matching issues are fetched first and readable at /data/issues.json. Returns exit code,
    /// duration, timeout/OOM flags, stdout and stderr (each capped at 64 KB). Use it for
    /// calculations over many issues. Not for anything needing network, pip packages or more
    /// than 30 s; for simple counts use summarize_project.
    #[tool(annotations(title = "Run Python (sandboxed)", read_only_hint = true, open_world_hint = true))]
    pub(crate) async fn run_python(
        &self,
        Parameters(p): Parameters<RunPythonParams>,
        ct: CancellationToken,
    ) -> Result<String, ToolError> {
        let cap = self.sandbox_timeout_cap();
        let timeout = match p.timeout_s {
            None => cap,
            Some(s) if s >= 1 && u64::from(s) <= cap.as_secs() => Duration::from_secs(u64::from(s)),
            Some(s) => return Err(ToolError::InvalidInput(format!("timeout_s must be 1-{}, got {s}", cap.as_secs()))),
        };
        if p.code.trim().is_empty() {
            return Err(ToolError::InvalidInput("code is empty".to_owned()));
        }
        let Some(sandbox) = self.sandbox.clone() else {
            return Err(sandbox::Error::Unavailable {
                problem: "the sandbox is disabled in this server".to_owned(),
                fix: "start jira-mcp with the sandbox enabled (unset JIRA_MCP_SANDBOX=off)".to_owned(),
            }
            .into());
        };
        let (data, note) = match p.jql.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(jql) => {
                let (bytes, count, capped) = self.issues_json(jql).await?;
                let more = if capped {
                    format!(" (capped at {MAX_DATA_ISSUES}; narrow the JQL for all)")
                } else {
                    String::new()
                };
                (Some(bytes), format!("data: {count} issues at /data/issues.json{more}\n"))
            }
            None => (None, String::new()),
        };
        let outcome = sandbox.run(Job { code: p.code, data, timeout }, ct).await?;
        Ok(format!("{note}{}", render(&outcome, timeout)))
    }
}

impl JiraMcp {
    /// Fetches up to [`MAX_DATA_ISSUES`] issues as compact JSON.
    async fn issues_json(&self, jql: &str) -> Result<(Vec<u8>, usize, bool), ToolError> {
        let mut rows: Vec<Value> = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.jira.search(jql, LINE_FIELDS, 100, token.as_deref()).await?;
            for i in &page.issues {
                let f = &i.fields;
                rows.push(json!({
                    "key": i.key,
                    "summary": f.summary,
                    "status": f.status.as_ref().map(|s| &s.name),
                    "status_category": f.status.as_ref().and_then(|s| s.status_category.as_ref()).map(|c| &c.key),
                    "assignee": f.assignee.as_ref().map(|u| u.label()),
                    "priority": f.priority.as_ref().map(|p| &p.name),
                    "updated": f.updated,
                }));
            }
            // An empty page that still claims more would loop forever: treat it as the end.
            token = page.next_page_token.filter(|_| page.is_last != Some(true) && !page.issues.is_empty());
            if token.is_none() || rows.len() >= MAX_DATA_ISSUES {
                break;
            }
        }
        let capped = token.is_some();
        rows.truncate(MAX_DATA_ISSUES);
        let count = rows.len();
        Ok((serde_json::to_vec(&rows).unwrap_or_default(), count, capped))
    }
}

fn render(o: &Outcome, timeout: Duration) -> String {
    let mut out = String::new();
    let status = if o.timed_out {
        format!("TIMED OUT after {} s: the container was killed", timeout.as_secs())
    } else if o.oom_killed {
        "KILLED: exceeded 512 MB memory".to_owned()
    } else if o.exit_code == Some(137) {
        "KILLED by SIGKILL (exit 137) without a memory event".to_owned()
    } else if o.aborted {
        "exit code 2 with no output: the sandbox probably hit its process limit (too many processes or threads), unless the code itself exited with 2".to_owned()
    } else {
        format!("exit code {}", o.exit_code.map_or("unknown".to_owned(), |c| c.to_string()))
    };
    let queued = if o.queued >= Duration::from_millis(100) {
        format!(" | waited {:.1} s for a sandbox slot", o.queued.as_secs_f64())
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{status} | duration {:.2} s | timed_out: {} | oom_killed: {}{queued}",
        o.duration.as_secs_f64(),
        o.timed_out,
        o.oom_killed
    );
    let _ = writeln!(out, "--- stdout ---\n{}", o.stdout.render().trim_end());
    let _ = write!(out, "--- stderr ---\n{}", o.stderr.render().trim_end());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::Capped;

    #[test]
    fn render_reports_timeouts_and_oom_plainly() {
        let o = Outcome { timed_out: true, duration: Duration::from_secs(5), ..Outcome::default() };
        assert!(render(&o, Duration::from_secs(5)).starts_with("TIMED OUT after 5 s: the container was killed"));
        let o = Outcome { oom_killed: true, exit_code: Some(137), ..Outcome::default() };
        assert!(render(&o, Duration::from_secs(5)).starts_with("KILLED: exceeded 512 MB memory"));
        let mut stdout = Capped::default();
        stdout.push(b"2\n");
        let o = Outcome { exit_code: Some(0), stdout, ..Outcome::default() };
        let text = render(&o, Duration::from_secs(5));
        assert!(text.starts_with("exit code 0 |"), "{text}");
        assert!(text.contains("--- stdout ---\n2\n--- stderr ---"), "{text}");
    }
}
