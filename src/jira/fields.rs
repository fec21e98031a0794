//! Jira's fields: the site's catalogue (names ↔ ids, types), the create and
//! edit screens (what may be set, to which values), and the conversion of a
//! plain value into the JSON shape Jira wants for a field's type.
//!
//! Facts only: a [`FieldError`] says what is wrong with a field or value and
//! what would be right; `crate::error` words it for the model.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

use super::{
    Error, Jira, adf,
    models::{CreateMetaPage, EditMeta, FieldDef, FieldSchema, ScreenField},
};

/// Custom field type of Jira Software's sprint field; sprints move through the agile API.
pub(crate) const SPRINT_TYPE: &str = "com.pyxis.greenhopper.jira:gh-sprint";
/// Custom field type of multi-line text fields, which take ADF.
const TEXTAREA_TYPE: &str = "com.atlassian.jira.plugin.system.customfieldtypes:textarea";
/// Custom field type of URL fields.
const URL_TYPE: &str = "com.atlassian.jira.plugin.system.customfieldtypes:url";
/// System fields that hold rich text (ADF).
const RICH_SYSTEM_FIELDS: &[&str] = &["description", "environment"];

/// What is wrong with a field name or value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FieldError {
    /// No field of the site has this name or id.
    #[error("no field named {name:?}")]
    Unknown { name: String, similar: Vec<String> },
    /// Several fields share the name: (id, type) of each.
    #[error("{name:?} names several fields")]
    Ambiguous { name: String, candidates: Vec<(String, String)> },
    /// The field exists but is not on this create or edit screen.
    #[error("{name} is not on this screen")]
    NotOnScreen { name: String, on_screen: Vec<String> },
    /// The value has the wrong JSON type for the field.
    #[error("{field} expects {expected}, got {got}")]
    WrongType { field: String, expected: String, got: String },
    /// The value is not one of the field's options.
    #[error("{value:?} is not an option of {field}")]
    NotAllowed { field: String, value: String, allowed: Vec<String> },
    /// This server does not write fields of this type.
    #[error("{field} has type {kind}, which this server does not write")]
    Unsupported { field: String, kind: String },
    /// The field is changed through another API (the sprint field).
    #[error("{field} is changed through the agile API, not as a field")]
    Managed { field: String },
}

/// A short name for a field's type, as the model reads it.
pub(crate) fn type_label(schema: &FieldSchema) -> String {
    let custom = schema.custom.as_deref().unwrap_or_default();
    if custom == SPRINT_TYPE {
        return "sprint".to_owned();
    }
    if custom == TEXTAREA_TYPE || schema.system.as_deref().is_some_and(|s| RICH_SYSTEM_FIELDS.contains(&s)) {
        return "text (Markdown)".to_owned();
    }
    if custom == URL_TYPE {
        return "url".to_owned();
    }
    match (schema.kind.as_str(), schema.items.as_deref()) {
        ("array", Some(item)) => format!("list of {item}"),
        ("option", _) => "option".to_owned(),
        ("option-with-child", _) => "option > child".to_owned(),
        (kind, _) => kind.to_owned(),
    }
}

/// The label of an allowed value (`value` for options, `name` for components, versions…).
pub(crate) fn allowed_label(v: &Value) -> Option<&str> {
    v.get("value").or_else(|| v.get("name")).and_then(Value::as_str)
}

impl Jira {
    /// Every field of the site, cached for the process (refreshed after the TTL).
    pub(crate) async fn field_catalogue(&self) -> Result<Arc<Vec<FieldDef>>, Error> {
        if let Some(fields) = self.meta.fields.get(&()) {
            return Ok(fields);
        }
        let fields: Vec<FieldDef> = self.client.get("/rest/api/3/field", &[]).await?;
        Ok(self.meta.fields.put((), fields))
    }

    /// The field a name or id means. Names match case-insensitively; an id
    /// (`customfield_10016`, `duedate`) always works. A miss refreshes the
    /// catalogue once (a field may have been added since it was read).
    pub(crate) async fn resolve_field(&self, name: &str) -> Result<Result<FieldDef, FieldError>, Error> {
        let first = resolve_in(&self.field_catalogue().await?, name);
        let stale = self.meta.fields.age(&()).is_some_and(|age| age > std::time::Duration::from_secs(5));
        if matches!(first, Err(FieldError::Unknown { .. })) && stale {
            self.meta.fields.forget(&());
            return Ok(resolve_in(&self.field_catalogue().await?, name));
        }
        Ok(first)
    }

    /// The create screen of a project and issue type: the fields that may be set.
    pub(crate) async fn create_screen(
        &self,
        project: &str,
        issue_type_id: &str,
    ) -> Result<Arc<Vec<ScreenField>>, Error> {
        self.check_project(project)?;
        let key = (project.to_owned(), issue_type_id.to_owned());
        if let Some(screen) = self.meta.create.get(&key) {
            return Ok(screen);
        }
        let path = format!("/rest/api/3/issue/createmeta/{project}/issuetypes/{issue_type_id}");
        let page: CreateMetaPage = self.client.get(&path, &[("maxResults", "200".to_owned())]).await?;
        let fields = page
            .fields
            .into_iter()
            .map(|mut f| {
                if let Some(id) = f.field_id.take() {
                    f.key = id;
                }
                f
            })
            .collect();
        Ok(self.meta.create.put(key, fields))
    }

    /// The edit screen of an issue: the fields that may be changed now.
    pub(crate) async fn edit_screen(&self, key: &str) -> Result<Arc<Vec<ScreenField>>, Error> {
        self.check_key(key)?;
        if let Some(screen) = self.meta.edit.get(&key.to_owned()) {
            return Ok(screen);
        }
        let meta: EditMeta =
            self.client.get(&format!("/rest/api/3/issue/{key}/editmeta"), &[]).await.map_err(|e| e.for_issue(key))?;
        let fields = meta
            .fields
            .into_iter()
            .map(|(id, mut f)| {
                f.key = id;
                f
            })
            .collect();
        Ok(self.meta.edit.put(key.to_owned(), fields))
    }
}

/// Resolves a name or id against a catalogue.
pub(crate) fn resolve_in(catalogue: &[FieldDef], name: &str) -> Result<FieldDef, FieldError> {
    let wanted = name.trim();
    if let Some(f) = catalogue.iter().find(|f| f.id == wanted) {
        return Ok(f.clone());
    }
    let matches: Vec<&FieldDef> = catalogue.iter().filter(|f| f.name.eq_ignore_ascii_case(wanted)).collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let lower = wanted.to_lowercase();
            let mut similar: Vec<String> = catalogue
                .iter()
                .filter(|f| {
                    let n = f.name.to_lowercase();
                    lower.split_whitespace().any(|w| w.len() > 2 && n.contains(w)) || n.contains(&lower)
                })
                .map(|f| f.name.clone())
                .collect();
            similar.sort();
            similar.dedup();
            similar.truncate(8);
            Err(FieldError::Unknown { name: wanted.to_owned(), similar })
        }
        many => Err(FieldError::Ambiguous {
            name: wanted.to_owned(),
            candidates: many
                .iter()
                .map(|f| (f.id.clone(), f.schema.as_ref().map(type_label).unwrap_or_default()))
                .collect(),
        }),
    }
}

/// What a JSON value is, in words.
fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text {s:?}"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// Converts a plain value (number, text, list of names, `"Parent > Child"`) into the
/// JSON Jira expects for `field`, checking options against the screen's allowed
/// values. User fields take account ids (the caller resolves names first).
pub(crate) fn to_jira_value(field: &ScreenField, value: &Value) -> Result<Value, FieldError> {
    let name = field.name.clone();
    let wrong = |expected: &str| FieldError::WrongType {
        field: name.clone(),
        expected: expected.to_owned(),
        got: kind_of(value),
    };
    let schema = &field.schema;
    let custom = schema.custom.as_deref().unwrap_or_default();
    if custom == SPRINT_TYPE {
        return Err(FieldError::Managed { field: name });
    }
    match (schema.kind.as_str(), schema.items.as_deref()) {
        ("number", _) => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| wrong("a number")),
            _ => Err(wrong("a number")),
        },
        ("string", _) => {
            let text = value.as_str().ok_or_else(|| wrong("text"))?;
            if custom == TEXTAREA_TYPE || schema.system.as_deref().is_some_and(|s| RICH_SYSTEM_FIELDS.contains(&s)) {
                Ok(adf::from_markdown(text))
            } else if custom == URL_TYPE && !(text.starts_with("https://") || text.starts_with("http://")) {
                Err(wrong("a URL starting with https://"))
            } else {
                Ok(json!(text))
            }
        }
        ("date", _) => {
            let text = value.as_str().ok_or_else(|| wrong("a date like 2026-12-24"))?.trim();
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|_| json!(text))
                .map_err(|_| wrong("a date like 2026-12-24"))
        }
        ("datetime", _) => {
            let text = value.as_str().ok_or_else(|| wrong("a date and time like 2026-12-24T09:30"))?.trim();
            let parsed = chrono::DateTime::parse_from_rfc3339(text)
                .map(|d| d.naive_utc())
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
                .map_err(|_| wrong("a date and time like 2026-12-24T09:30"))?;
            Ok(json!(parsed.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()))
        }
        ("option", _) => Ok(json!({ "value": pick(field, one_text(value).ok_or_else(|| wrong("one option name"))?)? })),
        ("priority" | "version" | "resolution" | "component", _) => {
            Ok(json!({ "name": pick(field, one_text(value).ok_or_else(|| wrong("one name"))?)? }))
        }
        ("option-with-child", _) => {
            let parts: Vec<String> = match value {
                Value::String(s) => s.split('>').map(|p| p.trim().to_owned()).collect(),
                Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
                _ => Vec::new(),
            };
            let (parent, child) = match parts.as_slice() {
                [p] => (p.clone(), None),
                [p, c] => (p.clone(), Some(c.clone())),
                _ => return Err(wrong("\"Parent > Child\"")),
            };
            let parent = pick(field, &parent)?;
            let mut out = json!({ "value": parent });
            if let (Some(child), Some(obj)) = (child, out.as_object_mut()) {
                let children: Vec<String> = field
                    .allowed_values
                    .iter()
                    .flatten()
                    .find(|v| allowed_label(v) == Some(parent.as_str()))
                    .and_then(|v| v.get("children"))
                    .and_then(Value::as_array)
                    .map(|c| c.iter().filter_map(allowed_label).map(str::to_owned).collect())
                    .unwrap_or_default();
                let Some(exact) = children.iter().find(|c| c.eq_ignore_ascii_case(&child)) else {
                    return Err(FieldError::NotAllowed {
                        field: format!("{name} > {parent}"),
                        value: child,
                        allowed: children,
                    });
                };
                obj.insert("child".to_owned(), json!({ "value": exact }));
            }
            Ok(out)
        }
        ("user", _) => Ok(json!({ "accountId": one_text(value).ok_or_else(|| wrong("one user"))? })),
        ("array", Some(item)) => {
            let items: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            let texts: Vec<&str> =
                items.iter().map(|v| v.as_str().ok_or_else(|| wrong("a list of names"))).collect::<Result<_, _>>()?;
            let converted: Result<Vec<Value>, FieldError> = texts
                .iter()
                .map(|t| match item {
                    "string" => Ok(json!(t)),
                    "option" => Ok(json!({ "value": pick(field, t)? })),
                    "component" | "version" => Ok(json!({ "name": pick(field, t)? })),
                    "user" => Ok(json!({ "accountId": t })),
                    other => Err(FieldError::Unsupported { field: name.clone(), kind: format!("list of {other}") }),
                })
                .collect();
            Ok(Value::Array(converted?))
        }
        ("timetracking", _) => match value {
            Value::String(s) => Ok(json!({ "originalEstimate": s.trim() })),
            Value::Object(o) => Ok(Value::Object(o.clone())),
            _ => Err(wrong("an estimate like \"2d 4h\"")),
        },
        _ => Err(FieldError::Unsupported { field: name, kind: type_label(schema) }),
    }
}

/// A single name from a string or a one-element list.
fn one_text(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s.trim()),
        Value::Array(items) if items.len() == 1 => items.first().and_then(Value::as_str).map(str::trim),
        _ => None,
    }
}

/// The allowed value `wanted` names (case-insensitively), in Jira's spelling.
/// A field whose screen lists no allowed values takes any name.
fn pick(field: &ScreenField, wanted: &str) -> Result<String, FieldError> {
    let Some(allowed) = field.allowed_values.as_ref().filter(|a| !a.is_empty()) else { return Ok(wanted.to_owned()) };
    let labels: Vec<&str> = allowed.iter().filter_map(allowed_label).collect();
    labels.iter().find(|l| l.eq_ignore_ascii_case(wanted.trim())).map(|l| (*l).to_owned()).ok_or_else(|| {
        FieldError::NotAllowed {
            field: field.name.clone(),
            value: wanted.to_owned(),
            allowed: labels.iter().map(|l| (*l).to_owned()).collect(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, kind: &str, items: Option<&str>, custom: Option<&str>, allowed: Option<Value>) -> ScreenField {
        ScreenField {
            key: "customfield_1".into(),
            field_id: None,
            name: name.into(),
            required: false,
            schema: FieldSchema {
                kind: kind.into(),
                items: items.map(Into::into),
                custom: custom.map(Into::into),
                system: None,
            },
            allowed_values: allowed.and_then(|a| a.as_array().cloned()),
        }
    }

    #[track_caller]
    fn check(f: &ScreenField, value: Value, expect: Value) {
        assert_eq!(to_jira_value(f, &value).unwrap(), expect);
    }

    #[test]
    fn numbers_accept_numbers_and_numeric_text() {
        let f = field("Story Points", "number", None, None, None);
        check(&f, json!(5), json!(5));
        check(&f, json!("3.5"), json!(3.5));
        assert_eq!(
            to_jira_value(&f, &json!("five")).unwrap_err().to_string(),
            "Story Points expects a number, got the text \"five\""
        );
    }

    #[test]
    fn options_are_checked_against_the_screen() {
        let f = field("Severity", "option", None, None, Some(json!([{ "value": "S1" }, { "value": "S2" }])));
        check(&f, json!("s2"), json!({ "value": "S2" }));
        let err = to_jira_value(&f, &json!("S9")).unwrap_err();
        assert_eq!(
            err,
            FieldError::NotAllowed {
                field: "Severity".into(),
                value: "S9".into(),
                allowed: vec!["S1".into(), "S2".into()]
            }
        );
    }

    #[test]
    fn lists_of_components_versions_options_and_labels() {
        let comps =
            field("Components", "array", Some("component"), None, Some(json!([{ "name": "API" }, { "name": "Web" }])));
        check(&comps, json!(["api", "Web"]), json!([{ "name": "API" }, { "name": "Web" }]));
        check(&comps, json!("API"), json!([{ "name": "API" }]));
        let labels = field("Labels", "array", Some("string"), None, None);
        check(&labels, json!(["a", "b"]), json!(["a", "b"]));
        let multi = field("Platforms", "array", Some("option"), None, Some(json!([{ "value": "iOS" }])));
        check(&multi, json!(["ios"]), json!([{ "value": "iOS" }]));
    }

    #[test]
    fn cascading_options_take_parent_and_child() {
        let f = field(
            "Customer",
            "option-with-child",
            None,
            None,
            Some(json!([{ "value": "Acme", "children": [{ "value": "EU" }, { "value": "US" }] }])),
        );
        check(&f, json!("acme > eu"), json!({ "value": "Acme", "child": { "value": "EU" } }));
        check(&f, json!(["Acme"]), json!({ "value": "Acme" }));
        let err = to_jira_value(&f, &json!("Acme > Mars")).unwrap_err();
        assert!(matches!(err, FieldError::NotAllowed { ref allowed, .. } if allowed == &["EU", "US"]), "{err:?}");
    }

    #[test]
    fn dates_text_urls_and_rich_text() {
        let due = field("Due date", "date", None, None, None);
        check(&due, json!("2026-12-24"), json!("2026-12-24"));
        assert!(to_jira_value(&due, &json!("24/12/2026")).is_err());
        let at = field("Start", "datetime", None, None, None);
        check(&at, json!("2026-12-24T09:30"), json!("2026-12-24T09:30:00.000+0000"));
        let url = field("Design doc", "string", None, Some(URL_TYPE), None);
        check(&url, json!("https://x.test/doc"), json!("https://x.test/doc"));
        assert!(to_jira_value(&url, &json!("x.test")).is_err());
        let rich = field("Acceptance", "string", None, Some(TEXTAREA_TYPE), None);
        assert_eq!(to_jira_value(&rich, &json!("**done**")).unwrap()["type"], "doc");
    }

    #[test]
    fn sprint_and_unknown_types_are_refused_with_the_reason() {
        let sprint = field("Sprint", "array", Some("json"), Some(SPRINT_TYPE), None);
        assert_eq!(to_jira_value(&sprint, &json!(1)).unwrap_err(), FieldError::Managed { field: "Sprint".into() });
        let odd = field("Odd", "any", None, None, None);
        assert!(matches!(to_jira_value(&odd, &json!(1)).unwrap_err(), FieldError::Unsupported { .. }));
    }

    #[test]
    fn names_resolve_case_insensitively_and_ambiguity_lists_the_ids() {
        let def = |id: &str, name: &str| FieldDef {
            id: id.into(),
            name: name.into(),
            schema: Some(FieldSchema { kind: "string".into(), ..FieldSchema::default() }),
        };
        let cat =
            vec![def("customfield_1", "Story Points"), def("customfield_2", "Team"), def("customfield_3", "Team")];
        assert_eq!(resolve_in(&cat, "story points").unwrap().id, "customfield_1");
        assert_eq!(resolve_in(&cat, "customfield_3").unwrap().id, "customfield_3");
        assert_eq!(
            resolve_in(&cat, "team").unwrap_err(),
            FieldError::Ambiguous {
                name: "team".into(),
                candidates: vec![("customfield_2".into(), "string".into()), ("customfield_3".into(), "string".into())]
            }
        );
        assert_eq!(
            resolve_in(&cat, "Points").unwrap_err(),
            FieldError::Unknown { name: "Points".into(), similar: vec!["Story Points".into()] }
        );
    }
}
