//! Holding every request to the project allow-list (`JIRA_MCP_PROJECTS`).
//!
//! Every JQL the server sends becomes `project in ("A", "B") AND (<clause>)
//! ORDER BY <fields>`: the caller's clause sits in its own parentheses, so no
//! `OR` inside it can reach past the restriction, and `ORDER BY` stays outside.
//! That only holds if this module reads the query's structure exactly as Jira
//! does, so anything it cannot read with certainty is refused rather than
//! guessed: unbalanced parentheses, an unclosed quote, comment-like sequences,
//! non-ASCII outside quoted strings, characters that compatibility
//! normalisation would turn into a parenthesis, quote or backslash, and an
//! `ORDER BY` that lists anything but fields. Results are checked again after
//! the fact by the caller (`Jira`), and issue keys are checked before any
//! request.

use crate::config::Projects;

/// Characters Unicode compatibility normalisation (NFKC) maps to `(`, `)`, `"`,
/// `'` or `\`: fullwidth, small, superscript and subscript forms. A parser that
/// normalised would see structure here that this module does not.
const LOOKALIKES: &[char] = &[
    '\u{FF08}', '\u{FF09}', '\u{FE59}', '\u{FE5A}', '\u{207D}', '\u{207E}', '\u{208D}', '\u{208E}', '\u{FF02}',
    '\u{FF07}', '\u{FF3C}', '\u{FE68}',
];

/// The projects a caller with its own list (an HTTP token's `;projects=`) may
/// use: that list within the server's allow-list, if there is one.
pub(crate) fn narrow(server: Option<&Projects>, own: &[String]) -> Projects {
    Projects::new(own.iter().filter(|k| server.is_none_or(|s| s.allows(k))).cloned())
}

/// The project clause for `projects`: `project in ("A", "B")`.
fn project_clause(projects: &Projects) -> String {
    let keys: Vec<String> = projects.keys().iter().map(|k| super::jql::quote(k)).collect();
    format!("project in ({})", keys.join(", "))
}

/// `jql` restricted to `projects`, or why it cannot be restricted safely.
pub(crate) fn constrain(jql: &str, projects: &Projects) -> Result<String, String> {
    if projects.keys().is_empty() {
        // `project in ()` is not JQL; nothing may be searched.
        return Err("no project is allowed here".to_owned());
    }
    let (clause, order) = split(jql)?;
    let mut out = project_clause(projects);
    let clause = clause.trim();
    if !clause.is_empty() {
        out.push_str(" AND (");
        out.push_str(clause);
        out.push(')');
    }
    if let Some(order) = order {
        check_order(order)?;
        out.push_str(" ORDER BY ");
        out.push_str(order.trim());
    }
    Ok(out)
}

/// Whether an issue key (`DEMO-12`) belongs to an allowed project. Numeric ids
/// cannot be checked before a request and are not allowed.
pub(crate) fn allows_key(key: &str, projects: &Projects) -> bool {
    key.rsplit_once('-').is_some_and(|(project, number)| {
        !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) && projects.allows(project)
    })
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Splits at the first `ORDER BY` outside quotes and parentheses, after reading
/// the whole query the way Jira's lexer does: `"…"` and `'…'` strings, and a
/// backslash escaping the next character both inside and outside them.
fn split(jql: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(c) = jql.chars().find(|c| LOOKALIKES.contains(c)) {
        return Err(format!(
            "it contains {c:?} (U+{:04X}), which looks like JQL syntax; use plain ASCII",
            u32::from(c)
        ));
    }
    let mut quote: Option<char> = None;
    let mut depth: i32 = 0;
    let mut order_at: Option<(usize, usize)> = None;
    let mut chars = jql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            chars.next();
            continue;
        }
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("a ')' closes more than was opened".to_owned());
                }
            }
            '/' | '*' | '-' if matches!(chars.peek(), Some((_, n)) if *n == c || (c == '/' && *n == '*')) => {
                // `--`, `//`, `/*`, `**`: JQL has no comments; refuse anything that might be one.
                let next = chars.peek().map_or(c, |(_, n)| *n);
                return Err(format!("it contains {c}{next}, which some parsers read as a comment"));
            }
            '*' if matches!(chars.peek(), Some((_, '/'))) => {
                return Err("it contains */, which some parsers read as a comment".to_owned());
            }
            c if !c.is_ascii() => {
                return Err(format!("it contains {c:?} outside a quoted string; put non-ASCII text in quotes"));
            }
            'o' | 'O' if depth == 0 && order_at.is_none() => {
                let before_ok = jql.get(..i).and_then(|b| b.chars().next_back()).is_none_or(|p| !is_word(p));
                if before_ok && let Some(end) = order_by_end(jql, i) {
                    order_at = Some((i, end));
                }
            }
            _ => {}
        }
    }
    if quote.is_some() {
        return Err("a quoted string is not closed".to_owned());
    }
    if depth != 0 {
        return Err("a '(' is never closed".to_owned());
    }
    Ok(match order_at {
        Some((start, end)) => (jql.get(..start).unwrap_or_default(), Some(jql.get(end..).unwrap_or_default())),
        None => (jql, None),
    })
}

/// If `ORDER BY` (any case, any whitespace between) starts at `i`, where its
/// fields start.
fn order_by_end(jql: &str, i: usize) -> Option<usize> {
    let rest = jql.get(i..)?;
    let after_order = rest.get(..5).filter(|w| w.eq_ignore_ascii_case("order"))?;
    let tail = rest.get(after_order.len()..)?;
    let trimmed = tail.trim_start();
    if trimmed.len() == tail.len() {
        return None;
    }
    let by = trimmed.get(..2).filter(|w| w.eq_ignore_ascii_case("by"))?;
    let after = trimmed.get(by.len()..)?;
    if after.chars().next().is_some_and(is_word) {
        return None;
    }
    Some(jql.len() - after.len())
}

/// `ORDER BY` may list only fields, each optionally `ASC` or `DESC`: plain names
/// (`priority`, `cf[10010]`) or quoted names without quotes or backslashes inside.
fn check_order(order: &str) -> Result<(), String> {
    let bad = || format!("ORDER BY may only list fields with ASC or DESC, not {:?}", order.trim());
    if order.trim().is_empty() {
        return Err(bad());
    }
    for item in order.split(',') {
        let mut words = item.split_whitespace();
        let field = words.next().ok_or_else(bad)?;
        let plain = field.chars().all(|c| is_word(c) || c == '[' || c == ']');
        let quoted = field.len() >= 2
            && field.starts_with('"')
            && field.ends_with('"')
            && !field.get(1..field.len() - 1).unwrap_or("\"").contains(['"', '\\']);
        if !(plain || quoted) {
            return Err(bad());
        }
        match (words.next(), words.next()) {
            (None, _) => {}
            (Some(d), None) if d.eq_ignore_ascii_case("asc") || d.eq_ignore_ascii_case("desc") => {}
            _ => return Err(bad()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops() -> Projects {
        Projects::new(["OPS".to_owned()])
    }

    /// A facade the way an HTTP token limited to OPS sees it, on a server that
    /// allows DEMO and OPS: it must restrict exactly as a server-wide OPS list.
    fn token_ops(client: crate::jira::Client) -> crate::jira::Jira {
        crate::jira::Jira::new(client)
            .restricted_to(Some(Projects::new(["DEMO".to_owned(), "OPS".to_owned()])))
            .narrowed_to(&["OPS".to_owned()])
    }

    /// A client that is never used to send anything.
    #[allow(clippy::unwrap_used)]
    fn unused_client() -> crate::jira::Client {
        crate::jira::Client::new(&crate::config::JiraConfig::demo("http://127.0.0.1:9".to_owned())).unwrap()
    }

    /// What the token's facade sends for `jql`, or why not (the same words as `constrain`).
    fn sent_by(jira: &crate::jira::Jira, jql: &str) -> Result<String, String> {
        jira.scoped_jql(jql).map_err(|e| match e {
            crate::jira::Error::UnscopableJql { problem } => problem,
            other => other.to_string(),
        })
    }

    #[test]
    fn a_callers_own_list_is_narrowed_to_the_servers() {
        let server = Projects::new(["DEMO".to_owned(), "OPS".to_owned()]);
        let own = ["OPS".to_owned(), "SECRET".to_owned()];
        assert_eq!(narrow(Some(&server), &own).keys(), ["OPS"], "SECRET is not the server's to give");
        assert_eq!(narrow(None, &own).keys(), ["OPS", "SECRET"], "no server list: the caller's own");
        let none = narrow(Some(&ops()), &["DEMO".to_owned()]);
        assert!(none.keys().is_empty() && !allows_key("DEMO-1", &none) && !allows_key("OPS-1", &none));
        assert_eq!(constrain("status = Done", &none), Err("no project is allowed here".to_owned()));
    }

    #[test]
    fn a_refusal_says_whose_list_it_is() {
        let server = crate::jira::Jira::new(unused_client()).restricted_to(Some(ops()));
        let words = |e: crate::jira::Error| crate::error::ToolError::from(e).to_string();
        assert_eq!(
            words(server.check_key("DEMO-1").unwrap_err()),
            "Issue DEMO-1 was not found or is not allowed: this server only works with the projects OPS \
             (JIRA_MCP_PROJECTS). Use an issue or project from those, or find one with search_issues"
        );
        assert_eq!(
            words(server.narrowed_to(&["DEMO".to_owned()]).check_project("OPS").unwrap_err()),
            "Project OPS was not found or is not allowed: this connection only works with no project (its token's \
             scope in JIRA_MCP_HTTP_TOKEN_FILE, within JIRA_MCP_PROJECTS). Use an issue or project from those, or \
             find one with search_issues"
        );
    }

    #[test]
    fn the_clause_is_parenthesised_and_order_by_kept_outside() {
        let p = Projects::new(["OPS".to_owned(), "DEMO".to_owned()]);
        assert_eq!(
            constrain("status = Done ORDER BY priority DESC, key", &p).unwrap(),
            r#"project in ("DEMO", "OPS") AND (status = Done) ORDER BY priority DESC, key"#
        );
        assert_eq!(constrain("order  by created", &ops()).unwrap(), r#"project in ("OPS") ORDER BY created"#);
        assert_eq!(constrain("  ", &ops()).unwrap(), r#"project in ("OPS")"#);
        assert_eq!(
            constrain(r#"summary ~ "order by x" AND reorder = 1"#, &ops()).unwrap(),
            r#"project in ("OPS") AND (summary ~ "order by x" AND reorder = 1)"#,
            "ORDER BY inside a string or a longer word is not the clause's end"
        );
    }

    /// Each adversarial query is either refused or kept entirely inside the parentheses.
    #[test]
    fn adversarial_jql_never_escapes_the_restriction() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            // OR at top level: stays inside the parentheses.
            ("project = DEMO OR project = OPS", Ok(r#"project in ("OPS") AND (project = DEMO OR project = OPS)"#)),
            // Closing our parenthesis early.
            ("status = Done) OR (project = DEMO", Err("a ')' closes more than was opened")),
            ("key = X) OR project = DEMO ORDER BY (key", Err("a ')' closes more than was opened")),
            ("(status = Done", Err("a '(' is never closed")),
            // Unbalanced and escaped quotes.
            (r#"summary ~ "x) OR project = DEMO OR (y"#, Err("a quoted string is not closed")),
            (
                r#"summary ~ "a\" ) OR project = DEMO OR ( \"b""#,
                Ok(r#"project in ("OPS") AND (summary ~ "a\" ) OR project = DEMO OR ( \"b")"#),
            ),
            (
                r#"summary ~ 'it''s' OR project = DEMO"#,
                Ok(r#"project in ("OPS") AND (summary ~ 'it''s' OR project = DEMO)"#),
            ),
            (r"summary ~ x\) OR project = DEMO", Ok(r#"project in ("OPS") AND (summary ~ x\) OR project = DEMO)"#)),
            // Comments (JQL has none; refused in case a parser does).
            (
                "status = Done /* ( */ ) OR project = DEMO OR ( /* ) */",
                Err("it contains /*, which some parsers read as a comment"),
            ),
            ("status = Done -- ) OR project = DEMO", Err("it contains --, which some parsers read as a comment")),
            // ORDER BY tricks.
            ("project = OPS ORDER BY key) OR (project = DEMO", Err("a ')' closes more than was opened")),
            (
                "project = OPS ORDER BY key OR project = DEMO",
                Err(r#"ORDER BY may only list fields with ASC or DESC, not "key OR project = DEMO""#),
            ),
            (
                "ORDER BY key, (project = DEMO)",
                Err(r#"ORDER BY may only list fields with ASC or DESC, not "key, (project = DEMO)""#),
            ),
            ("project = OPS ORDER BY", Err(r#"ORDER BY may only list fields with ASC or DESC, not """#)),
            (
                "status = Done ORDER BY key ORDER BY project = DEMO",
                Err(r#"ORDER BY may only list fields with ASC or DESC, not "key ORDER BY project = DEMO""#),
            ),
            // Functions stay inside the parentheses and under the project clause.
            (
                "issueFunction in linkedIssuesOf(\"project = DEMO\") OR issue in linkedIssues(DEMO-1)",
                Ok(
                    r#"project in ("OPS") AND (issueFunction in linkedIssuesOf("project = DEMO") OR issue in linkedIssues(DEMO-1))"#,
                ),
            ),
            // Unicode lookalikes of ( ) " and non-ASCII outside strings.
            (
                "status = Done \u{FF09} OR project = DEMO OR \u{FF08}",
                Err("it contains '）' (U+FF09), which looks like JQL syntax; use plain ASCII"),
            ),
            (
                "summary ~ \"a\u{FF02} ) OR project = DEMO OR ( \u{FF02}b\"",
                Err("it contains '＂' (U+FF02), which looks like JQL syntax; use plain ASCII"),
            ),
            (
                "status = Done \u{00A0}OR project = DEMO",
                Err("it contains '\\u{a0}' outside a quoted string; put non-ASCII text in quotes"),
            ),
            ("summary ~ \"café\"", Ok("project in (\"OPS\") AND (summary ~ \"café\")")),
        ];
        let token = token_ops(unused_client());
        for (jql, want) in cases {
            let got = constrain(jql, &ops());
            assert_eq!(got.as_deref().map_err(String::as_str), *want, "{jql}");
            // A token's own list (OPS, on a server allowing DEMO and OPS) holds the same way.
            assert_eq!(sent_by(&token, jql).as_deref().map_err(String::as_str), *want, "token: {jql}");
        }
    }

    #[test]
    fn keys_are_checked_by_their_project() {
        let p = ops();
        assert!(allows_key("OPS-1", &p) && allows_key("ops-12", &p));
        assert!(!allows_key("DEMO-1", &p) && !allows_key("10042", &p) && !allows_key("OPS-", &p));
        assert!(!allows_key("OPSX-1", &p) && !allows_key("XOPS-1", &p));
    }

    /// Property: whatever JQL is generated from fragments of the known bypasses, the emulator
    /// never returns an issue outside the allow-list for what `constrain` lets through. Control:
    /// many of the same queries, sent unrestricted, do return other projects' issues.
    #[test]
    #[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    fn generated_jql_never_returns_an_issue_outside_the_allow_list() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use proptest::{
            prelude::*,
            test_runner::{Config, TestRunner},
        };

        use crate::{
            config::JiraConfig,
            emulator::{Emulator, EmulatorConfig},
            jira::{Client, models::SearchPage},
        };

        // Clauses a bypass would use, joined by connectors, with noise from the known tricks
        // dropped in at random places, and sometimes an ORDER BY (or an ORDER BY trick) at the end.
        const CLAUSES: &[&str] = &[
            "project = DEMO",
            "project = OPS",
            "project in (DEMO, OPS)",
            "project = \"DEMO\"",
            "project = 'DEMO'",
            "project != OPS",
            "project not in (OPS)",
            "status = Done",
            "key = DEMO-1",
            "issuekey = OPS-1",
            "key in (DEMO-1, OPS-1)",
            "text ~ \"x\"",
            "summary ~ \"a) OR (b\"",
            "assignee is EMPTY",
            "priority = High",
            "statusCategory != Done",
            "issueFunction in linkedIssues(\"DEMO-1\")",
            "(project = DEMO)",
            "(status = Done OR project = DEMO)",
        ];
        const CONNECTORS: &[&str] = &["AND", "OR", "or", "AND NOT", "OR NOT"];
        const NOISE: &[&str] = &[
            "(",
            ")",
            ") OR (",
            "\"",
            "'",
            "\\",
            "/*",
            "*/",
            "--",
            "\u{FF09}",
            "\u{FF08}",
            "\u{FF02}",
            "ORDER BY key",
            "ORDER BY",
            ",",
            "\u{00A0}",
        ];
        const ORDERS: &[&str] = &[
            "ORDER BY key",
            "order by created DESC",
            "ORDER BY priority DESC, key ASC",
            "ORDER BY key) OR (project = DEMO",
            "ORDER BY key OR project = DEMO",
            "ORDER BY",
        ];
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let emu = runtime.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
        let client = Client::new(&JiraConfig::demo(emu.url())).unwrap();
        let token = token_ops(client.clone());
        let keys = |jql: &str| -> Vec<String> {
            let body = serde_json::json!({ "jql": jql, "fields": ["summary"], "maxResults": 100 });
            runtime
                .block_on(client.post::<SearchPage>("/rest/api/3/search/jql", &body, true))
                .map(|page| page.issues.into_iter().map(|i| i.key).collect())
                .unwrap_or_default()
        };
        let (sent, leaks_unrestricted) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut runner = TestRunner::new(Config { cases: 600, failure_persistence: None, ..Config::default() });
        let strategy = (
            proptest::sample::select(CLAUSES),
            proptest::collection::vec((proptest::sample::select(CONNECTORS), proptest::sample::select(CLAUSES)), 0..4),
            proptest::collection::vec((any::<proptest::sample::Index>(), proptest::sample::select(NOISE)), 0..3),
            proptest::option::of(proptest::sample::select(ORDERS)),
        );
        runner
            .run(&strategy, |(first, rest, noise, order)| {
                let mut parts = vec![first];
                for (connector, clause) in rest {
                    parts.extend([connector, clause]);
                }
                for (at, piece) in noise {
                    parts.insert(at.index(parts.len() + 1), piece);
                }
                parts.extend(order);
                let jql = parts.join(" ");
                if keys(&jql).iter().any(|k| k.starts_with("DEMO-")) {
                    leaks_unrestricted.fetch_add(1, Ordering::Relaxed);
                }
                let server_wide = constrain(&jql, &ops());
                // A token limited to OPS on a server allowing DEMO and OPS: the same query, or the same refusal.
                let by_token = sent_by(&token, &jql);
                prop_assert_eq!(&by_token, &server_wide, "{:?}", jql);
                if let Ok(scoped) = by_token {
                    sent.fetch_add(1, Ordering::Relaxed);
                    let found = keys(&scoped);
                    prop_assert!(found.iter().all(|k| k.starts_with("OPS-")), "{jql:?} -> {scoped:?} -> {found:?}");
                }
                Ok(())
            })
            .unwrap();
        let (sent, leaks) = (sent.into_inner(), leaks_unrestricted.into_inner());
        assert!(sent >= 100, "too few generated queries were accepted to prove anything: {sent}");
        eprintln!("{sent} generated queries sent restricted, {leaks} of them reach DEMO when sent unrestricted");
        assert!(leaks >= 50, "control: unrestricted, the generated queries reach other projects ({leaks})");
    }
}
