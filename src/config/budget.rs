//! Response-budget telemetry (`JIRA_MCP_TELEMETRY`, `JIRA_MCP_TELEMETRY_DB`,
//! `JIRA_MCP_TELEMETRY_RETENTION_DAYS`) and the tunable caps it recommends
//! (`JIRA_MCP_DESCRIPTION_CHARS`, `JIRA_MCP_COMMENTS`, `JIRA_MCP_PAGE_SIZE`,
//! `JIRA_MCP_ATTACHMENT_CHARS`).

use std::path::PathBuf;

use super::env::{Env, Error};
use crate::{
    budget::Settings,
    limits::{ATTACHMENT_CHARS, Bounds, COMMENTS, DESCRIPTION_CHARS, PAGE_SIZE, Tunables},
};

/// Days of history kept.
pub(crate) const RETENTION_DAYS: Bounds = Bounds { min: 1, max: 3650, default: 30 };

/// The default database: `$XDG_STATE_HOME/jira-mcp/telemetry.db`, else
/// `~/.local/state/jira-mcp/telemetry.db`; `None` without either variable.
fn default_path(env: &Env<'_>) -> Option<PathBuf> {
    let state =
        env.get("XDG_STATE_HOME").filter(|d| d.starts_with('/')).map(PathBuf::from).or_else(|| {
            env.get("HOME").filter(|h| h.starts_with('/')).map(|h| PathBuf::from(h).join(".local/state"))
        })?;
    Some(state.join("jira-mcp").join("telemetry.db"))
}

/// Reads the telemetry settings: on by default, off without a place to keep the file.
///
/// # Errors
/// A malformed flag or number, or a relative database path.
pub fn telemetry_from_env(env: &Env<'_>) -> Result<Settings, Error> {
    let enabled = env.flag("JIRA_MCP_TELEMETRY", true)?;
    let retention_days = env.number("JIRA_MCP_TELEMETRY_RETENTION_DAYS", RETENTION_DAYS)?;
    let path = match env.get("JIRA_MCP_TELEMETRY_DB") {
        Some(p) if p.starts_with('/') => Some(PathBuf::from(p)),
        Some(other) => {
            return Err(Error::Invalid {
                var: "JIRA_MCP_TELEMETRY_DB",
                problem: format!("{:?} is not an absolute path", other.chars().take(80).collect::<String>()),
            });
        }
        None => default_path(env),
    };
    Ok(match path {
        Some(path) => Settings { enabled, path, retention_days },
        None => Settings { enabled: false, path: PathBuf::new(), retention_days },
    })
}

/// Reads the tunable caps' defaults, each within its bounds.
///
/// # Errors
/// A value that is not a whole number within the cap's bounds.
pub fn tunables_from_env(env: &Env<'_>) -> Result<Tunables, Error> {
    Ok(Tunables {
        description_chars: env.number("JIRA_MCP_DESCRIPTION_CHARS", DESCRIPTION_CHARS)?,
        comments: env.number("JIRA_MCP_COMMENTS", COMMENTS)?,
        page_size: env.number("JIRA_MCP_PAGE_SIZE", PAGE_SIZE)?,
        attachment_chars: env.number("JIRA_MCP_ATTACHMENT_CHARS", ATTACHMENT_CHARS)?,
    })
}

#[cfg(test)]
mod tests {
    use super::{super::tests::with_env, *};

    #[test]
    fn telemetry_is_on_in_the_state_directory_unless_switched_off() {
        let s = with_env(&[("HOME", "/home/u")], telemetry_from_env).unwrap();
        assert_eq!(
            s,
            Settings { enabled: true, path: "/home/u/.local/state/jira-mcp/telemetry.db".into(), retention_days: 30 }
        );
        let s = with_env(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "/st")], telemetry_from_env).unwrap();
        assert_eq!(s.path, PathBuf::from("/st/jira-mcp/telemetry.db"));
        let s = with_env(&[("HOME", "/home/u"), ("JIRA_MCP_TELEMETRY", "off")], telemetry_from_env).unwrap();
        assert!(!s.enabled);
        assert!(!with_env(&[], telemetry_from_env).unwrap().enabled, "no HOME: nowhere to keep it");
        let err = with_env(&[("JIRA_MCP_TELEMETRY_DB", "t.db")], telemetry_from_env).unwrap_err().to_string();
        assert_eq!(
            err,
            "JIRA_MCP_TELEMETRY_DB is invalid: \"t.db\" is not an absolute path (see README.md#configuration)"
        );
    }

    #[test]
    fn tunable_caps_are_read_within_their_bounds() {
        let t = with_env(&[("JIRA_MCP_DESCRIPTION_CHARS", "6000"), ("JIRA_MCP_PAGE_SIZE", "10")], tunables_from_env)
            .unwrap();
        assert_eq!((t.description_chars, t.page_size, t.comments), (6000, 10, COMMENTS.default));
        let err = with_env(&[("JIRA_MCP_PAGE_SIZE", "500")], tunables_from_env).unwrap_err().to_string();
        assert_eq!(
            err,
            "JIRA_MCP_PAGE_SIZE is invalid: \"500\" is not a whole number from 1 to 50 (see README.md#configuration)"
        );
    }
}
