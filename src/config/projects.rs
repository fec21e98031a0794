//! The project allow-list (`JIRA_MCP_PROJECTS`).

use super::env::{Env, Error};

/// The only projects this server may read or change, upper-case, sorted, without
/// duplicates. Unset means every project the Jira account can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projects(Vec<String>);

impl Projects {
    /// Reads `JIRA_MCP_PROJECTS`: project keys separated by commas, e.g. `DEMO,OPS`.
    ///
    /// # Errors
    /// A key that is not a project key, or a list with no key at all.
    pub fn from_env(env: &Env<'_>) -> Result<Option<Self>, Error> {
        let Some(raw) = env.get("JIRA_MCP_PROJECTS") else { return Ok(None) };
        let mut keys = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let key = part.to_ascii_uppercase();
            let valid = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && key.len() <= 32
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(Error::Invalid {
                    var: "JIRA_MCP_PROJECTS",
                    problem: format!("{part:?} is not a project key; list keys like DEMO,OPS (letters, digits, _)"),
                });
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(Error::Invalid {
                var: "JIRA_MCP_PROJECTS",
                problem: "it names no project; list keys like DEMO,OPS, or unset it to allow every project".to_owned(),
            });
        }
        Ok(Some(Self::new(keys)))
    }

    /// An allow-list of these keys (upper-cased, sorted, deduplicated).
    #[must_use]
    pub fn new(keys: impl IntoIterator<Item = String>) -> Self {
        let mut keys: Vec<String> = keys.into_iter().map(|k| k.to_ascii_uppercase()).collect();
        keys.sort();
        keys.dedup();
        Self(keys)
    }

    /// The keys, sorted.
    #[must_use]
    pub fn keys(&self) -> &[String] {
        &self.0
    }

    /// Whether `project` (any case) is on the list.
    #[must_use]
    pub fn allows(&self, project: &str) -> bool {
        self.0.iter().any(|k| k.eq_ignore_ascii_case(project))
    }
}

#[cfg(test)]
mod tests {
    use super::{super::tests::with_env, *};

    #[test]
    fn keys_are_upper_cased_sorted_and_checked() {
        let p = with_env(&[("JIRA_MCP_PROJECTS", " ops, demo ,OPS,")], Projects::from_env).unwrap().unwrap();
        assert_eq!(p.keys(), ["DEMO", "OPS"]);
        assert!(p.allows("demo") && !p.allows("SECRET"));
        assert_eq!(with_env(&[], Projects::from_env).unwrap(), None);
        let err = with_env(&[("JIRA_MCP_PROJECTS", "DEMO,a b")], Projects::from_env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "JIRA_MCP_PROJECTS is invalid: \"a b\" is not a project key; list keys like DEMO,OPS (letters, digits, _) \
             (see README.md#configuration)"
        );
        let err = with_env(&[("JIRA_MCP_PROJECTS", ",")], Projects::from_env).unwrap_err();
        assert!(err.to_string().contains("it names no project"), "{err}");
    }
}
