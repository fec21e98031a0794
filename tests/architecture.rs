//! ARCHITECTURE.md's invariants, checked on the source (rust-analyzer's `tidy.rs`
//! precedent). clippy's `disallowed-types`/`disallowed-methods` (clippy.toml) catch
//! each crate used outside its module; these tests close what a module-wide
//! `#[allow]` leaves open, and check that no module imports a module that
//! imports it back (directly or round a longer loop).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

/// Every module of the library, by path (`tools::search`), with its code stripped of comments.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix("src").unwrap().with_extension("");
                let name = rel.to_str().unwrap().replace('/', "::");
                if name == "lib" || name == "main" {
                    continue;
                }
                let code = code_only(&std::fs::read_to_string(&path).unwrap());
                // An inline `mod tests` is a module of its own: its `super` is this file's module.
                match code.split_once("#[cfg(test)]\nmod tests {") {
                    Some((main, tests)) => {
                        out.insert(format!("{name}::tests"), tests.to_owned());
                        out.insert(name, main.to_owned());
                    }
                    None => {
                        out.insert(name, code);
                    }
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(Path::new("src"), &mut out);
    out
}

/// The source without comment lines (doc links name modules without using them).
fn code_only(text: &str) -> String {
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Expands a `use` tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else { return vec![tree.split(" as ").next().unwrap().trim().to_owned()] };
    let prefix = tree[..open].trim_end_matches("::").trim();
    let close = tree.rfind('}').unwrap_or_else(|| panic!("unbalanced use tree: {tree:?}"));
    let inner = &tree[open + 1..close];
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| if prefix.is_empty() { p } else { format!("{prefix}::{p}") })
        .collect()
}

/// The module a path names, as the longest known module prefix (`None`: outside the crate).
fn resolve(from: &str, path: &str, known: &BTreeMap<String, String>) -> Option<String> {
    let mut here: Vec<&str> = from.split("::").collect();
    let mut segments = path.split("::").map(str::trim).peekable();
    let mut base: Vec<String> = match segments.peek().copied() {
        Some("crate") => {
            segments.next();
            Vec::new()
        }
        Some("super") => {
            while segments.peek() == Some(&"super") {
                segments.next();
                here.pop();
            }
            here.iter().map(|s| (*s).to_owned()).collect()
        }
        Some("self") => {
            segments.next();
            here.iter().map(|s| (*s).to_owned()).collect()
        }
        // A child module used by its bare name (`use connect::…` after `mod connect;`).
        Some(first) if known.contains_key(&format!("{from}::{first}")) => {
            here.iter().map(|s| (*s).to_owned()).collect()
        }
        _ => return None,
    };
    let mut found = Some(base.join("::")).filter(|b| known.contains_key(b));
    for seg in segments {
        base.push(seg.to_owned());
        let name = base.join("::");
        if known.contains_key(&name) {
            found = Some(name);
        } else {
            break;
        }
    }
    found
}

/// Which modules each module uses, through `use` items and `crate::`/`super::` paths.
fn edges(known: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (module, code) in known {
        let mut paths = Vec::new();
        let text = format!("\n{code}");
        for (i, _) in text.match_indices('\n') {
            let line = text[i + 1..].trim_start();
            let line = line.strip_prefix("pub(crate) ").or_else(|| line.strip_prefix("pub ")).unwrap_or(line);
            if let Some(tree) = line.strip_prefix("use ") {
                paths.extend(expand(tree.split(';').next().unwrap_or_default()));
            }
        }
        for root in ["crate::", "super::"] {
            for (i, _) in code.match_indices(root) {
                let rest: String =
                    code[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                // `super::{…}` is a use tree, expanded above.
                if !rest.ends_with("::") {
                    paths.push(rest);
                }
            }
        }
        let targets: BTreeSet<String> =
            paths.iter().filter_map(|p| resolve(module, p, known)).filter(|t| t != module).collect();
        graph.insert(module.clone(), targets);
    }
    graph
}

/// A loop of imports starting at `start`, if there is one.
fn cycle_from(start: &str, graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn dfs(at: &str, start: &str, graph: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                return true;
            }
            if !path.contains(next) {
                path.push(next.clone());
                if dfs(next, start, graph, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    dfs(start, start, graph, &mut path).then_some(path)
}

#[test]
fn no_module_imports_a_module_that_imports_it() {
    let known = modules();
    let graph = edges(&known);
    let loops: Vec<String> =
        known.keys().filter_map(|m| cycle_from(m, &graph)).map(|p| format!("{} -> {}", p.join(" -> "), p[0])).collect();
    assert!(loops.is_empty(), "import cycles:\n{}", loops.join("\n"));
}

#[test]
fn the_cycle_check_would_see_a_cycle() {
    // Control: the check finds the loop that server and tools had before the restructuring.
    let known: BTreeMap<String, String> = [
        ("server".to_owned(), "use crate::tools::delete::ConfirmStore;".to_owned()),
        ("tools".to_owned(), String::new()),
        ("tools::delete".to_owned(), "use crate::{error::ToolError, server::JiraMcp};".to_owned()),
        ("error".to_owned(), String::new()),
    ]
    .into();
    let graph = edges(&known);
    assert_eq!(cycle_from("server", &graph), Some(vec!["server".to_owned(), "tools::delete".to_owned()]));
    assert_eq!(resolve("sandbox::docker::diagnose", "super::connect::load_profile", &known), None);
    assert_eq!(expand("super::{JiraMcp, args::{a, b}}"), ["super::JiraMcp", "super::args::a", "super::args::b"]);
}

/// Modules (by path prefix) that mention `needle`.
fn users_of(needle: &str) -> BTreeSet<String> {
    modules().into_iter().filter(|(_, code)| code.contains(needle)).map(|(m, _)| m).collect()
}

fn only_under(needle: &str, allowed: &[&str]) -> Vec<String> {
    users_of(needle)
        .into_iter()
        .filter(|m| !allowed.iter().any(|a| m == a || m.starts_with(&format!("{a}::"))))
        .collect()
}

#[test]
fn only_server_tools_and_error_speak_mcp() {
    assert_eq!(only_under("rmcp::", &["server", "tools", "error"]), Vec::<String>::new());
}

#[test]
fn only_the_docker_backend_talks_to_docker() {
    assert_eq!(only_under("bollard::", &["sandbox::docker"]), Vec::<String>::new());
}

#[test]
fn only_the_jira_client_and_the_e2b_wire_use_reqwest() {
    // The E2B backend's wire is the one other HTTP client: it talks to E2B, never to Jira.
    assert_eq!(only_under("reqwest::", &["jira::client", "sandbox::e2b::api"]), Vec::<String>::new());
    let users = users_of("reqwest::");
    assert!(
        users.contains("jira::client") && users.contains("sandbox::e2b::api"),
        "control: the check sees both: {users:?}"
    );
    assert!(!users.contains("sandbox::e2b"), "the backend itself goes through its wire");
}

#[test]
fn only_the_fleet_module_talks_to_redis() {
    // Redis holds the fleet's shared state; everything else reaches it through `fleet`'s API.
    assert_eq!(only_under("redis::", &["fleet"]), Vec::<String>::new());
    let users = users_of("redis::");
    assert!(users.contains("fleet::conn") && users.contains("fleet::rate"), "control: the check sees it: {users:?}");
}
