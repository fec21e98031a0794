//! Where the audit log of writes goes (`JIRA_MCP_AUDIT_LOG`).

use std::path::PathBuf;

use super::env::{Env, Error};

/// The audit log's destination.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuditTarget {
    /// JSON lines on stderr, between the log lines (the default).
    #[default]
    Stderr,
    /// JSON lines appended to this file (created with mode 0600 when missing).
    File(PathBuf),
    /// No audit log.
    Off,
}

/// Settings of the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditConfig {
    /// Where records go.
    pub target: AuditTarget,
}

impl AuditConfig {
    /// Reads `JIRA_MCP_AUDIT_LOG`: unset or `stderr`, `off`, or an absolute file path.
    ///
    /// # Errors
    /// A relative path (it would depend on the directory the server starts in).
    pub fn from_env(env: &Env<'_>) -> Result<Self, Error> {
        let target = match env.get("JIRA_MCP_AUDIT_LOG") {
            None => AuditTarget::Stderr,
            Some(v) if v.eq_ignore_ascii_case("stderr") => AuditTarget::Stderr,
            Some(v) if v.eq_ignore_ascii_case("off") => AuditTarget::Off,
            Some(path) if path.starts_with('/') => AuditTarget::File(PathBuf::from(path)),
            Some(other) => {
                return Err(Error::Invalid {
                    var: "JIRA_MCP_AUDIT_LOG",
                    problem: format!(
                        "{:?} is not stderr, off or an absolute file path such as /var/log/jira-mcp/audit.jsonl",
                        other.chars().take(80).collect::<String>()
                    ),
                });
            }
        };
        Ok(Self { target })
    }
}

#[cfg(test)]
mod tests {
    use super::{super::tests::with_env, *};

    #[test]
    fn audit_log_goes_to_stderr_a_file_or_nowhere() {
        let read = |v: &str| with_env(&[("JIRA_MCP_AUDIT_LOG", v)], AuditConfig::from_env);
        assert_eq!(read("").unwrap().target, AuditTarget::Stderr);
        assert_eq!(read("STDERR").unwrap().target, AuditTarget::Stderr);
        assert_eq!(read("off").unwrap().target, AuditTarget::Off);
        assert_eq!(read("/var/log/a.jsonl").unwrap().target, AuditTarget::File("/var/log/a.jsonl".into()));
        assert_eq!(
            read("audit.jsonl").unwrap_err().to_string(),
            "JIRA_MCP_AUDIT_LOG is invalid: \"audit.jsonl\" is not stderr, off or an absolute file path such as \
             /var/log/jira-mcp/audit.jsonl (see README.md#configuration)"
        );
    }
}
