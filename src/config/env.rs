//! Reading variables: [`Env`], the one normalised lookup (trimmed; empty means
//! unset) with its number, flag and file readers, and [`Error`], the one error
//! type every setting reports through.

use std::path::Path;

use crate::limits::Bounds;

/// A configuration problem found at startup. The message names the variable,
/// what to do, and where the README documents it; `main` prints it as one line
/// and exits 2.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A required variable is absent or empty.
    #[error("{var} is not set: {hint} (see {anchor})", anchor = readme_anchor(var))]
    Missing {
        /// The variable name.
        var: &'static str,
        /// What the value should look like.
        hint: &'static str,
    },
    /// A variable is present but malformed.
    #[error("{var} is invalid: {problem} (see {anchor})", anchor = readme_anchor(var))]
    Invalid {
        /// The variable name.
        var: &'static str,
        /// What is wrong and what would be right.
        problem: String,
    },
}

/// The README section that documents `var`.
fn readme_anchor(var: &str) -> &'static str {
    if var.starts_with("JIRA_MCP_HTTP_") { "README.md#http-transport" } else { "README.md#configuration" }
}

/// The environment as the configuration reads it.
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be secrets: never shown.
        f.write_str("Env(..)")
    }
}

impl<'a> Env<'a> {
    /// Wraps a lookup that returns `None` for unset variables (`main` passes `std::env::var`).
    #[must_use]
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The value, trimmed; `None` when unset or empty.
    pub(crate) fn get(&self, var: &str) -> Option<String> {
        (self.lookup)(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A boolean (`true/false`, `yes/no`, `on/off`, `1/0`), or `default` when unset.
    pub(crate) fn flag(&self, var: &'static str, default: bool) -> Result<bool, Error> {
        let Some(raw) = self.get(var) else { return Ok(default) };
        match raw.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(Error::Invalid { var, problem: format!("{raw:?} is not a boolean; use true or false") }),
        }
    }

    /// A whole number within `bounds`, or its default when unset.
    pub(crate) fn number(&self, var: &'static str, bounds: Bounds) -> Result<u32, Error> {
        let Some(raw) = self.get(var) else { return Ok(bounds.default) };
        raw.parse::<u32>().ok().filter(|v| bounds.contains(*v)).ok_or_else(|| Error::Invalid {
            var,
            problem: format!("{raw:?} is not a whole number from {} to {}", bounds.min, bounds.max),
        })
    }

    /// The text of the file a `…_FILE` variable names (systemd's `LoadCredential`
    /// hands secrets over this way), or `None` when the variable is unset.
    pub(crate) fn file(&self, var: &'static str) -> Result<Option<String>, Error> {
        let Some(path) = self.get(var) else { return Ok(None) };
        std::fs::read_to_string(Path::new(&path))
            .map(Some)
            .map_err(|e| Error::Invalid { var, problem: format!("cannot read {path}: {e}") })
    }
}
