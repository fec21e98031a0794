//! Fields beyond the core ones, for the tools: resolving names the model gives,
//! converting values for create and update (with user fields resolved to
//! accounts), and rendering any field's value compactly by its type.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::{
    args::{UserChoice, account_id, resolve_user},
    text::{clip, day, one_line},
};
use crate::{
    error::ToolError,
    jira::{
        Jira, adf,
        fields::{FieldError, SPRINT_TYPE, allowed_label, to_jira_value},
        models::{FieldDef, FieldSchema, ScreenField},
    },
};

/// Standard fields `get_issue` shows besides its header, in this order.
pub(crate) const STANDARD_EXTRAS: &[&str] =
    &["components", "fixVersions", "versions", "duedate", "resolution", "timetracking", "environment"];

/// Whether a field id is one `get_issue` lists among the extra fields.
pub(crate) fn is_extra(id: &str) -> bool {
    STANDARD_EXTRAS.contains(&id) || id.starts_with("customfield_")
}

/// Resolves field names or ids the model gave, failing on the first unknown or ambiguous one.
pub(crate) async fn resolve_all(jira: &Jira, names: &[String]) -> Result<Vec<FieldDef>, ToolError> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        out.push(jira.resolve_field(name).await??);
    }
    Ok(out)
}

/// Converts `fields` (names or ids → plain values) for `screen`: each field must
/// exist, be on the screen and accept the value. User fields take "me", an email
/// or a name. Returns Jira's `fields` object.
pub(crate) async fn convert(
    jira: &Jira,
    screen: &[ScreenField],
    fields: &Map<String, Value>,
) -> Result<Map<String, Value>, ToolError> {
    let mut out = Map::new();
    for (name, value) in fields {
        let def = jira.resolve_field(name).await??;
        let Some(slot) = screen.iter().find(|f| f.key == def.id) else {
            let mut on_screen: Vec<String> = screen.iter().map(|f| f.name.clone()).collect();
            on_screen.sort();
            return Err(FieldError::NotOnScreen { name: def.name, on_screen }.into());
        };
        if value.is_null() {
            // null clears the field, whatever its type.
            out.insert(slot.key.clone(), Value::Null);
            continue;
        }
        let value = resolve_users(jira, slot, value).await?;
        out.insert(slot.key.clone(), to_jira_value(slot, &value)?);
    }
    Ok(out)
}

/// For user fields, turns names, emails or "me" into account ids first.
async fn resolve_users(jira: &Jira, slot: &ScreenField, value: &Value) -> Result<Value, ToolError> {
    let is_user = slot.schema.kind == "user" || slot.schema.items.as_deref() == Some("user");
    if !is_user {
        return Ok(value.clone());
    }
    let one = |v: &Value| v.as_str().map(str::to_owned);
    let names: Vec<String> = match value {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    };
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        let choice = resolve_user(jira, &name).await?;
        if choice == UserChoice::Nobody {
            continue;
        }
        if let Some(id) = account_id(jira, choice).await? {
            ids.push(Value::String(id));
        }
    }
    Ok(if slot.schema.kind == "user" { ids.into_iter().next().unwrap_or(Value::Null) } else { Value::Array(ids) })
}

/// A field's value in a few words, by its type; `None` when it is empty.
pub(crate) fn value_text(schema: Option<&FieldSchema>, v: &Value) -> Option<String> {
    let text = match v {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map_or_else(|| n.to_string(), |f| format!("{f:.0}")),
        Value::String(s) if s.trim().is_empty() => return None,
        Value::String(s) if schema.is_some_and(|s| s.kind == "datetime") => day(Some(s)).to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(|i| value_text(None, i)).collect();
            if parts.is_empty() {
                return None;
            }
            parts.join(", ")
        }
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("doc") => {
            let md = adf::to_markdown(v);
            if md.trim().is_empty() {
                return None;
            }
            md.split_whitespace().collect::<Vec<_>>().join(" ")
        }
        Value::Object(o)
            if schema.is_some_and(|s| s.custom.as_deref() == Some(SPRINT_TYPE))
                || o.contains_key("state") && o.contains_key("name") =>
        {
            let name = o.get("name").and_then(Value::as_str).unwrap_or("?");
            match o.get("state").and_then(Value::as_str) {
                Some(state) => format!("{name} ({state})"),
                None => name.to_owned(),
            }
        }
        Value::Object(o) if o.contains_key("originalEstimate") || o.contains_key("timeSpent") => {
            let mut parts = Vec::new();
            for (key, label) in
                [("originalEstimate", "estimate"), ("remainingEstimate", "remaining"), ("timeSpent", "spent")]
            {
                if let Some(t) = o.get(key).and_then(Value::as_str) {
                    parts.push(format!("{label} {t}"));
                }
            }
            if parts.is_empty() {
                return None;
            }
            parts.join(", ")
        }
        Value::Object(o) => {
            let main = o
                .get("value")
                .or_else(|| o.get("displayName"))
                .or_else(|| o.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            match (main, o.get("child").and_then(|c| value_text(None, c))) {
                (Some(m), Some(child)) => format!("{m} > {child}"),
                (Some(m), None) => m,
                (None, _) if o.is_empty() => return None,
                (None, _) => clip(&v.to_string(), 80),
            }
        }
    };
    // Field values are written by whoever can edit the issue: one line, no control characters.
    Some(clip(&one_line(&text), 200))
}

/// The display name of a field id, from the catalogue (the id itself if unknown).
pub(crate) fn name_of<'a>(catalogue: &'a [FieldDef], id: &'a str) -> (&'a str, Option<&'a FieldSchema>) {
    catalogue.iter().find(|f| f.id == id).map_or((id, None), |f| (f.name.as_str(), f.schema.as_ref()))
}

/// `Name: value` pairs of `fields`, standard extras first, then custom fields by name.
pub(crate) fn extra_pairs(
    catalogue: &[FieldDef],
    fields: &Map<String, Value>,
    only: Option<&[FieldDef]>,
) -> Vec<String> {
    let mut ids: Vec<&String> = fields.keys().filter(|id| is_extra(id) || only.is_some()).collect();
    if let Some(only) = only {
        ids.retain(|id| only.iter().any(|f| &f.id == *id));
    }
    let rank = |id: &str| STANDARD_EXTRAS.iter().position(|s| *s == id).unwrap_or(STANDARD_EXTRAS.len());
    ids.sort_by_key(|id| (rank(id), name_of(catalogue, id).0.to_lowercase()));
    ids.into_iter()
        .filter_map(|id| {
            let (name, schema) = name_of(catalogue, id);
            let value = fields.get(id.as_str())?;
            value_text(schema, value).map(|t| format!("{}: {t}", one_line(name)))
        })
        .collect()
}

/// Lines of `name: value` pairs within `budget` characters, with a visible marker
/// for what did not fit.
pub(crate) fn budgeted(pairs: &[String], budget: usize) -> String {
    const LINE: usize = 100;
    let (mut out, mut line_len, mut used) = (String::new(), 0, 0);
    for (n, pair) in pairs.iter().enumerate() {
        if n > 0 && used + pair.len() > budget {
            let _ = write!(
                out,
                "\n(+{} more fields; name them in get_issue's fields argument to see them)",
                pairs.len() - n
            );
            break;
        }
        if line_len > 0 && line_len + pair.len() + 3 > LINE {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push_str(" | ");
            line_len += 3;
        }
        out.push_str(pair);
        line_len += pair.len();
        used += pair.len();
    }
    out
}

/// One screen field as a compact line for `describe_fields`.
pub(crate) fn screen_line(f: &ScreenField, max_values: usize) -> String {
    let mut line = format!(
        "- {} ({}) | {}{}",
        one_line(&f.name),
        one_line(&f.key),
        crate::jira::fields::type_label(&f.schema),
        if f.required { " | required" } else { "" }
    );
    let labels: Vec<&str> = f.allowed_values.iter().flatten().filter_map(allowed_label).collect();
    if !labels.is_empty() {
        let shown: Vec<&str> = labels.iter().take(max_values).copied().collect();
        let more = labels.len().saturating_sub(max_values);
        let _ = write!(
            line,
            " | values: {}{}",
            one_line(&shown.join(", ")),
            if more > 0 { format!(" (+{more} more)") } else { String::new() }
        );
    }
    line
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_render_by_type() {
        assert_eq!(value_text(None, &json!(5.0)).as_deref(), Some("5"));
        assert_eq!(value_text(None, &json!(2.5)).as_deref(), Some("2.5"));
        assert_eq!(
            value_text(None, &json!({ "value": "Acme", "child": { "value": "EU" } })).as_deref(),
            Some("Acme > EU")
        );
        assert_eq!(value_text(None, &json!([{ "name": "API" }, { "name": "Web" }])).as_deref(), Some("API, Web"));
        assert_eq!(
            value_text(None, &json!([{ "name": "S1", "state": "closed" }, { "name": "S2", "state": "active" }]))
                .as_deref(),
            Some("S1 (closed), S2 (active)")
        );
        assert_eq!(
            value_text(
                None,
                &json!({ "originalEstimate": "1d", "remainingEstimate": "4h 30m", "timeSpent": "3h 30m" })
            )
            .as_deref(),
            Some("estimate 1d, remaining 4h 30m, spent 3h 30m")
        );
        assert_eq!(value_text(None, &json!({ "displayName": "Sam Rivera" })).as_deref(), Some("Sam Rivera"));
        assert_eq!(value_text(None, &json!([])), None);
        assert_eq!(value_text(None, &json!(null)), None);
        let doc = adf::from_markdown("line one\n\nline **two**");
        assert_eq!(value_text(None, &doc).as_deref(), Some("line one line **two**"));
    }

    #[test]
    fn the_budget_cuts_with_a_visible_marker() {
        let pairs: Vec<String> = (0..20).map(|n| format!("Field {n}: some value")).collect();
        let text = budgeted(&pairs, 100);
        assert!(text.ends_with("(+15 more fields; name them in get_issue's fields argument to see them)"), "{text}");
        assert_eq!(budgeted(&pairs[..2], 100), "Field 0: some value | Field 1: some value");
    }
}
