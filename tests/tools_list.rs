//! The tools/list contract: snapshot, per-tool invariants, and docs/tools.md.

// Test code: panicking on a broken expectation is the point, and tests spawn the binary and docker.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use jira_mcp::JiraMcp;
use rmcp::model::Tool;
use serde_json::Value;

fn tools() -> Vec<Tool> {
    let config = jira_mcp::Config::with_jira(jira_mcp::config::JiraConfig::demo("http://127.0.0.1:9".to_owned()));
    JiraMcp::new(&config).unwrap().tools()
}

#[test]
fn tools_list_snapshot() {
    insta::assert_json_snapshot!("tools_list", tools());
}

/// The product's budget (README "Tools"; `scripts/bench` (e) measures the same line
/// from the real binary): at most 15 tools and 15 KB for the whole tools/list answer.
#[test]
fn tools_list_stays_within_the_budget() {
    let tools = tools();
    let line =
        serde_json::to_string(&serde_json::json!({ "jsonrpc": "2.0", "id": 1, "result": { "tools": tools } })).unwrap();
    assert!(
        tools.len() <= 15,
        "{} tools; the budget is 15: fold the new capability into an existing tool",
        tools.len()
    );
    assert!(
        line.len() <= 15_000,
        "tools/list is {} bytes; the budget is 15,000: shorten descriptions or fold tools together",
        line.len()
    );
}

fn has_bare_bool_schema(v: &Value) -> bool {
    match v {
        Value::Bool(_) => true,
        Value::Object(map) => map.iter().any(|(k, sub)| match k.as_str() {
            "properties" | "$defs" => {
                sub.as_object().is_some_and(|props| props.values().any(|p| p.is_boolean() || has_bare_bool_schema(p)))
            }
            "items" => has_bare_bool_schema(sub),
            _ => false,
        }),
        _ => false,
    }
}

#[test]
fn every_tool_is_well_formed() {
    for tool in tools() {
        let name = tool.name.to_string();
        assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}: snake_case");
        let a = tool.annotations.as_ref().unwrap_or_else(|| panic!("{name}: annotations"));
        let read_only = a.read_only_hint.unwrap_or_else(|| panic!("{name}: readOnlyHint must be explicit"));
        assert!(a.open_world_hint.is_some(), "{name}: openWorldHint must be explicit");
        assert!(a.title.is_some(), "{name}: title");
        if !read_only {
            assert!(
                a.destructive_hint.is_some() && a.idempotent_hint.is_some(),
                "{name}: writers state destructive and idempotent hints"
            );
        }
        let d = tool.description.as_deref().unwrap_or_default();
        assert!(d.contains("Not for") || d.contains("not for"), "{name}: says when not to use it: {d}");
        assert!(d.len() < 900, "{name}: description too long ({} bytes)", d.len());
        let schema = Value::Object((*tool.input_schema).clone());
        assert_eq!(schema["type"], "object", "{name}: object schema");
        assert_eq!(schema["additionalProperties"], false, "{name}: unknown arguments are rejected");
        assert!(!has_bare_bool_schema(&schema), "{name}: no bare true/false schemas (Claude Code rejects them)");
        for (field, prop) in schema["properties"].as_object().unwrap() {
            assert!(prop.get("description").is_some(), "{name}.{field}: every field is documented");
        }
        for combinator in ["anyOf", "oneOf", "allOf"] {
            assert!(schema.get(combinator).is_none(), "{name}: no top-level {combinator}");
        }
    }
    let destructive: Vec<String> = tools()
        .iter()
        .filter(|t| t.annotations.as_ref().and_then(|a| a.destructive_hint) == Some(true))
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(destructive, ["delete_issue"], "exactly one destructive tool");
}

/// docs/tools.md is generated from the tool list; this test keeps it true.
/// Regenerate with `UPDATE_DOCS=1 cargo test --test tools_list`.
#[test]
fn docs_tools_md_matches_the_tool_list() {
    let mut md = String::from(
        "# Tools\n\nGenerated from the server's tools/list by `tests/tools_list.rs`; do not edit by hand.\n",
    );
    for tool in tools() {
        let a = tool.annotations.clone().unwrap_or_default();
        let kind = match (a.read_only_hint, a.destructive_hint) {
            (Some(true), _) => "read-only",
            (_, Some(true)) => "writes, DESTRUCTIVE",
            _ => "writes",
        };
        md.push_str(&format!(
            "\n## `{}` ({kind})\n\n{}\n\n| argument | type | description |\n|---|---|---|\n",
            tool.name,
            tool.description.as_deref().unwrap_or_default()
        ));
        let schema = Value::Object((*tool.input_schema).clone());
        let required: Vec<&str> =
            schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        for (field, prop) in schema["properties"].as_object().unwrap() {
            let ty = match &prop["type"] {
                Value::String(s) => s.clone(),
                Value::Array(a) => {
                    a.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect::<Vec<_>>().join("|")
                }
                _ => "see schema".to_owned(),
            };
            let req = if required.contains(&field.as_str()) { " (required)" } else { "" };
            let desc = prop["description"].as_str().unwrap_or_default().replace('|', "\\|").replace('\n', " ");
            md.push_str(&format!("| `{field}`{req} | {ty} | {desc} |\n"));
        }
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/tools.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &md).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(on_disk == md, "docs/tools.md is stale: run `UPDATE_DOCS=1 cargo test --test tools_list` and commit it");
}
