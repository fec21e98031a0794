//! Turning tool arguments into checked values: keys, users, Markdown, optional strings.

use crate::{error::ToolError, jira::Jira};

/// An optional string argument, trimmed; blank counts as absent.
pub(crate) fn some_trimmed(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Who a user argument means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserChoice {
    Me,
    Nobody,
    Account { id: String, label: String },
}

/// Resolves "me", "none"/"unassigned", an email or a name to a Jira account.
pub(crate) async fn resolve_user(jira: &Jira, raw: &str) -> Result<UserChoice, ToolError> {
    let value = raw.trim();
    match value.to_ascii_lowercase().as_str() {
        "me" | "currentuser()" | "myself" => return Ok(UserChoice::Me),
        "none" | "unassigned" | "nobody" => return Ok(UserChoice::Nobody),
        "" => {
            return Err(ToolError::InvalidInput(
                "assignee is empty; give \"me\", \"none\", an email or a name".to_owned(),
            ));
        }
        _ => {}
    }
    let users = jira.find_users(value).await?;
    let exact: Vec<_> = users
        .iter()
        .filter(|u| {
            u.email_address.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(value))
                || u.display_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(value))
        })
        .collect();
    let pick = match (exact.as_slice(), users.as_slice()) {
        ([one], _) => *one,
        ([], [one]) => one,
        ([], []) => {
            return Err(ToolError::InvalidInput(format!(
                "no Jira user matches {value:?}. Give the email address of a user of this site, \"me\", or \"none\" to unassign"
            )));
        }
        _ => {
            let names: Vec<String> = users
                .iter()
                .map(|u| format!("{} <{}>", u.label(), u.email_address.as_deref().unwrap_or("email hidden")))
                .collect();
            return Err(ToolError::InvalidInput(format!(
                "{value:?} matches several users: {}. Repeat with the full email address",
                names.join(", ")
            )));
        }
    };
    let id =
        pick.account_id.clone().ok_or_else(|| ToolError::InvalidInput(format!("user {value:?} has no account id")))?;
    Ok(UserChoice::Account { id, label: pick.label().to_owned() })
}

/// The account id of "me", for writes that need an id rather than `currentUser()`.
pub(crate) async fn account_id(jira: &Jira, choice: UserChoice) -> Result<Option<String>, ToolError> {
    match choice {
        UserChoice::Me => Ok(jira.myself().await?.account_id),
        UserChoice::Nobody => Ok(None),
        UserChoice::Account { id, .. } => Ok(Some(id)),
    }
}

/// Converts a Markdown argument to ADF after checking its size (`field` names it in the
/// error). `@email` mentions become real mentions (`[@Name](accountId:…)`), so the person
/// is notified; an unknown or ambiguous address is refused with the candidates.
pub(crate) async fn markdown_arg(jira: &Jira, field: &str, text: &str) -> Result<serde_json::Value, ToolError> {
    crate::jira::adf::check_markdown(text).map_err(|m| ToolError::InvalidInput(format!("{field}: {m}")))?;
    // Text copied from get_issue may carry this server's block delimiters: they are ours, not content.
    let trimmed = text.trim();
    let text = trimmed
        .strip_prefix(super::text::BLOCK_OPEN)
        .and_then(|t| t.strip_suffix(super::text::BLOCK_CLOSE))
        .unwrap_or(text);
    let text = expand_mentions(jira, text).await?;
    Ok(crate::jira::adf::from_markdown(&text))
}

/// Replaces `@someone@example.com` outside code with the mention form.
async fn expand_mentions(jira: &Jira, text: &str) -> Result<String, ToolError> {
    let mut out = String::with_capacity(text.len());
    let mut in_fence = false;
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence || !line.contains('@') {
            out.push_str(line);
            continue;
        }
        let mut first = true;
        for word in line.split(' ') {
            if !first {
                out.push(' ');
            }
            first = false;
            let address = word.strip_prefix('@').map(|w| w.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']));
            match address.filter(|a| a.contains('@') && a.contains('.') && !a.contains('`')) {
                Some(email) => {
                    let rest = word.get(1 + email.len()..).unwrap_or_default();
                    match resolve_user(jira, email).await? {
                        UserChoice::Account { id, label } => out.push_str(&format!("[@{label}](accountId:{id}){rest}")),
                        _ => out.push_str(word),
                    }
                }
                None => out.push_str(word),
            }
        }
    }
    Ok(out)
}

/// Parses a key argument, mapping the problem to an `InvalidInput` tool error.
pub(crate) fn key_arg(raw: &str) -> Result<String, ToolError> {
    crate::jira::jql::issue_key(raw).map_err(ToolError::InvalidInput)
}
