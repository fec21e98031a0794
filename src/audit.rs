//! The audit log: one JSON line per write tool call and per refused call (tool,
//! issue key or project, outcome, who, time), appended to a file or stderr.
//! Never arguments beyond the key and project, never content, never secrets.
//! The server decides what to record (`crate::server`); this module only writes.

use std::{
    fs::File,
    io::Write,
    sync::{Arc, Mutex, PoisonError},
};

use serde::Serialize;

use crate::config::{AuditConfig, AuditTarget};

/// What came of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The tool ran and reported success.
    Ok,
    /// The tool ran and reported an error (a refused delete confirmation included).
    Error,
    /// A delete preview: nothing changed yet.
    Preview,
    /// Refused: the server runs read-only.
    RefusedReadOnly,
    /// Refused: outside the caller's token scope.
    RefusedScope,
}

/// One audit record.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// RFC 3339 UTC time, milliseconds.
    pub time: String,
    /// The token's name over HTTP, `stdio` over stdio.
    pub who: &'a str,
    /// The tool called.
    pub tool: &'a str,
    /// The issue key argument, if it looks like one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<&'a str>,
    /// The project argument, if it looks like one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<&'a str>,
    /// What came of it.
    pub outcome: Outcome,
}

/// Why the audit log cannot be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the audit log {path} (JIRA_MCP_AUDIT_LOG): {source}")]
pub struct Error {
    /// The file.
    path: String,
    /// The OS error.
    source: std::io::Error,
}

#[derive(Debug, Default)]
enum Sink {
    #[default]
    Stderr,
    File(Mutex<File>),
    Off,
}

/// The audit log; cheap to clone (one shared sink).
#[derive(Debug, Clone, Default)]
pub struct AuditLog {
    sink: Arc<Sink>,
}

impl AuditLog {
    /// Opens the configured destination (a file is created 0600 and appended to).
    ///
    /// # Errors
    /// When the file cannot be opened for appending.
    pub fn open(config: &AuditConfig) -> Result<Self, Error> {
        let sink = match &config.target {
            AuditTarget::Stderr => Sink::Stderr,
            AuditTarget::Off => Sink::Off,
            AuditTarget::File(path) => {
                use std::os::unix::fs::OpenOptionsExt;
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|source| Error { path: path.display().to_string(), source })?;
                Sink::File(Mutex::new(file))
            }
        };
        Ok(Self { sink: Arc::new(sink) })
    }

    /// The current time in the records' format.
    #[must_use]
    pub fn now() -> String {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    /// Appends one record as one line (one write, so lines never interleave).
    /// A failed write is logged, never fatal: the call it records has happened.
    pub fn record(&self, record: &Record<'_>) {
        let Ok(mut line) = serde_json::to_vec(record) else { return };
        line.push(b'\n');
        let written = match &*self.sink {
            Sink::Off => Ok(()),
            Sink::Stderr => std::io::stderr().lock().write_all(&line),
            Sink::File(file) => file.lock().unwrap_or_else(PoisonError::into_inner).write_all(&line),
        };
        if let Err(e) = written {
            tracing::error!(error = %e, tool = record.tool, "cannot write the audit log");
        }
    }
}

/// `value` if it is a plain Jira key (`DEMO` or `DEMO-12`: letters, digits and `_`,
/// at most 64 characters), so a client cannot write arbitrary text into the log.
#[must_use]
pub fn plain_key(value: &str) -> Option<&str> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_json_lines_appended_to_the_file() {
        let path = std::env::temp_dir().join(format!("jira-mcp-audit-{}.jsonl", std::process::id()));
        std::fs::write(&path, "earlier line\n").unwrap();
        let log = AuditLog::open(&AuditConfig { target: AuditTarget::File(path.clone()) }).unwrap();
        log.record(&Record {
            time: "2026-11-30T10:00:00.000Z".to_owned(),
            who: "ci",
            tool: "delete_issue",
            issue: plain_key("DEMO-5"),
            project: None,
            outcome: Outcome::RefusedScope,
        });
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            text,
            "earlier line\n{\"time\":\"2026-11-30T10:00:00.000Z\",\"who\":\"ci\",\"tool\":\"delete_issue\",\
             \"issue\":\"DEMO-5\",\"outcome\":\"refused_scope\"}\n"
        );
    }

    #[test]
    fn only_plain_keys_reach_the_log() {
        assert_eq!(plain_key("DEMO-12"), Some("DEMO-12"));
        assert_eq!(plain_key("DEMO-1\n{\"forged\":1}"), None);
        assert_eq!(plain_key(&"A".repeat(65)), None);
        assert_eq!(plain_key(""), None);
    }
}
