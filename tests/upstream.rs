//! Tools against a misbehaving upstream (issue 9, "Upstream faults"): foreign
//! pages, lost answers to writes, official example shapes, wrong site paths,
//! oversized answers. Each fault is injected by the emulator, often only on
//! the final write after the reads succeeded.

// Test code: panicking on a broken expectation is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::time::Duration;

use common::{connect, emulator, err, ok};
use jira_mcp::{
    Config, JiraMcp,
    config::JiraConfig,
    emulator::{Emulator, Shape, ShapeFault},
};
use serde_json::json;

/// A server on `emu` with a 1 s request timeout (faults that hang cost a second).
async fn setup_at(emu: &Emulator, base: String) -> common::Client {
    let mut jira = JiraConfig::demo(base);
    jira.request_timeout = Duration::from_secs(1);
    jira.retry_budget = Duration::from_secs(2);
    jira.max_response_bytes = 1024 * 1024;
    let _ = emu;
    connect(JiraMcp::new(&Config::with_jira(jira)).unwrap()).await
}

async fn setup() -> (Emulator, common::Client) {
    let emu = emulator().await;
    let client = setup_at(&emu, emu.url()).await;
    (emu, client)
}

fn on_write(path: &str, method: &'static str, after_handler: bool, shape: Shape) -> ShapeFault {
    ShapeFault { path_contains: path.into(), method: Some(method), times: 1, after_handler, shape }
}

fn login_page() -> Shape {
    Shape::Body {
        status: 200,
        content_type: "text/html",
        body: "<html><head><title>Log in to continue</title></head></html>".into(),
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test]
async fn an_html_200_to_a_write_is_never_reported_as_done() {
    // See issue 9 item 2: "Updated…", "Moved…", "Deleted … This cannot be undone." although nothing reached Jira.
    let (emu, client) = setup().await;
    emu.inject_shape(on_write("/issue/DEMO-3", "PUT", false, login_page()));
    let text = err(&client, "update_issue", json!({ "key": "DEMO-3", "summary": "new" })).await;
    assert!(text.starts_with("The update of DEMO-3 was sent to Jira, but the answer (HTTP 200, Content-Type text/html) is not Jira's JSON"), "{text}");
    assert!(text.contains("It may have been applied: do not repeat it before checking"), "{text}");
    assert!(text.ends_with("(a proxy or login page?): run `jira-mcp doctor`."), "{text}");

    emu.inject_shape(on_write("/transitions", "POST", false, login_page()));
    let text = err(&client, "transition_issue", json!({ "key": "DEMO-1", "status": "In Review" })).await;
    assert!(text.starts_with("The status change of DEMO-1 was sent to Jira, but the answer (HTTP 200"), "{text}");

    let preview = ok(&client, "delete_issue", json!({ "key": "DEMO-4" })).await;
    let token = preview.split("confirm_token=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    emu.inject_shape(on_write("/issue/DEMO-4", "DELETE", false, login_page()));
    let text = err(&client, "delete_issue", json!({ "key": "DEMO-4", "confirm": true, "confirm_token": token })).await;
    assert!(text.starts_with("The deletion of DEMO-4 was sent to Jira"), "{text}");
    assert!(!text.contains("Deleted"), "{text}");
    assert!(emu.has_issue("DEMO-4"));
    assert_eq!(emu.writes_applied(), 0);
}

#[tokio::test]
async fn someone_elses_page_on_a_read_names_the_likely_cause_not_a_bug() {
    // See issue 9 item 3: "…this is a jira-mcp bug, please report it" for an HTML 200.
    let (emu, client) = setup().await;
    emu.inject_shape(ShapeFault {
        path_contains: "/search/jql".into(),
        method: None,
        times: 5,
        after_handler: false,
        shape: login_page(),
    });
    let text = err(&client, "search_issues", json!({ "project": "DEMO" })).await;
    assert_eq!(
        text,
        "The answer did not come from Jira's REST API: HTTP 200, Content-Type text/html, starting \"<html><head><title>Log \
         in to continue</title></head></html>\". JIRA_URL probably points at a proxy, an SSO or login page, or a host \
         that is not Jira Cloud. Check JIRA_URL and run `jira-mcp doctor`; retrying will not help until that is fixed"
    );
}

#[tokio::test]
async fn a_lost_create_is_found_by_searching_and_reported_once() {
    // See issue 9 item 1: the create had happened, and the message said to try again.
    let (emu, client) = setup().await;
    emu.inject_shape(on_write("/rest/api/3/issue", "POST", true, Shape::Hang));
    let text = ok(
        &client,
        "create_issue",
        json!({ "project": "DEMO", "issue_type": "Task", "summary": "Rotate the signing keys" }),
    )
    .await;
    assert!(text.starts_with("Created DEMO-51 (Task in DEMO): Rotate the signing keys\nJira's answer to the create was lost (create issue in DEMO (\"Rotate the signing keys\"): sent, outcome unknown (Jira did not answer within 1 s"), "{text}");
    assert!(text.contains("so it was created once. Do not create it again."), "{text}");
    assert_eq!(emu.writes_applied(), 1);
    let found = ok(&client, "search_issues", json!({ "project": "DEMO", "text": "signing keys" })).await;
    assert_eq!(found.matches("Rotate the signing keys").count(), 1, "{found}");
}

#[tokio::test]
async fn a_lost_comment_says_it_may_have_been_applied_and_how_to_check() {
    let (emu, client) = setup().await;
    emu.inject_shape(on_write("/comment", "POST", true, Shape::SlowBody));
    let text = err(&client, "add_comment", json!({ "key": "DEMO-1", "body": "deployed" })).await;
    assert!(
        text.starts_with(
            "The comment on DEMO-1 was sent to Jira, but Jira did not answer within 1 s (1 attempt(s) over "
        ),
        "{text}"
    );
    assert!(
        text.ends_with("It may have been applied: do not repeat it before checking. get_issue key=DEMO-1 include=[\"comments\"] shows whether the comment is there."),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("try again"), "{text}");
    assert_eq!(emu.writes_applied(), 1);
}

#[tokio::test]
async fn a_lost_transition_and_a_lost_delete_are_confirmed_by_reading_back() {
    let (emu, client) = setup().await;
    emu.inject_shape(on_write("/transitions", "POST", true, Shape::Truncated { declared: 50, sent: "{".into() }));
    let text = ok(&client, "transition_issue", json!({ "key": "DEMO-1", "status": "In Review" })).await;
    assert!(
        text.starts_with("Moved DEMO-1 to \"In Review\" (transition \"Send to review\"). Jira's answer was lost ("),
        "{text}"
    );
    assert!(
        text.ends_with("reading DEMO-1 back shows it in \"In Review\" now, so the move was applied. Do not repeat it."),
        "{text}"
    );

    let preview = ok(&client, "delete_issue", json!({ "key": "DEMO-5" })).await;
    let token = preview.split("confirm_token=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    emu.inject_shape(on_write("/issue/DEMO-5", "DELETE", true, Shape::Hang));
    let text = ok(&client, "delete_issue", json!({ "key": "DEMO-5", "confirm": true, "confirm_token": token })).await;
    assert!(text.starts_with("Deleted DEMO-5. This cannot be undone. Jira's answer was lost ("), "{text}");
    assert!(text.ends_with("reading DEMO-5 back answers 404, so the deletion was applied."), "{text}");
    assert!(!emu.has_issue("DEMO-5"));
}

#[tokio::test]
async fn official_example_shapes_degrade_instead_of_failing() {
    // See issue 9 item 4: Atlassian's own examples (`comment` as a list) failed search, get_issue and summarize
    // with "invalid type: map, expected a sequence".
    let (emu, client) = setup().await;
    let serve = |path: &str, method: &'static str, body: String| ShapeFault {
        path_contains: path.into(),
        method: Some(method),
        times: 1,
        after_handler: false,
        shape: Shape::Body { status: 200, content_type: "application/json", body },
    };
    emu.inject_shape(serve("/issue/DEMO-1", "GET", fixture("openapi_example_issue.json")));
    let text = ok(&client, "get_issue", json!({ "key": "DEMO-1" })).await;
    assert!(text.starts_with("ED-1: (no summary)\nNote: Jira sent updated, comment in a shape this server cannot read; shown as unavailable (\"?\")."), "{text}");
    assert!(text.contains("## Description\n⟦Main order flow broken"), "the readable fields are shown: {text}");
    assert!(text.contains("## Comments\n? (unavailable: Jira sent them in an unexpected shape)"), "{text}");
    // The example's attachment id is a number where the schema says string: both are read.
    assert!(
        text.contains("## Attachments (1)\n- 10000 picture.jpg | image/jpeg | 23 KB | Mia Krystof 2022-10-06"),
        "{text}"
    );

    emu.inject_shape(serve("/search/jql", "POST", fixture("openapi_example_search_jql.json")));
    let text = ok(&client, "search_issues", json!({ "project": "DEMO" })).await;
    assert!(text.contains("ED-1 | (no summary) | - | Unassigned | - | ?\nNote: Jira sent comment, updated in a shape this server cannot read; shown as \"?\".\nEND OF RESULTS"), "{text}");
    emu.inject_shape(serve("/search/jql", "POST", fixture("openapi_example_search_jql.json")));
    let text = ok(&client, "summarize_project", json!({ "project": "DEMO" })).await;
    assert!(text.contains("Issues: 1 (all scanned)"), "{text}");

    // A required identifier may fail, naming the field.
    emu.inject_shape(serve("/search/jql", "POST", r#"{"issues":[{"id":"1","fields":{}}],"isLast":true}"#.to_owned()));
    let text = err(&client, "search_issues", json!({ "project": "DEMO" })).await;
    assert!(
        text.starts_with(
            "Jira's answer did not have the shape Jira Cloud sends for this call (field issues[0]: missing field `key`)"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_wrong_site_path_is_named_on_search_summarize_and_create() {
    // See issue 9 item 5: "Jira answered 404 for the request: …".
    let emu = emulator().await;
    let client = setup_at(&emu, format!("{}/wiki", emu.url())).await;
    let expected = format!(
        "at {}/wiki, an endpoint every Jira Cloud site has: JIRA_URL most likely has a wrong path, or points at a host \
         that is not Jira Cloud. Set JIRA_URL to the site root only (e.g. https://your-site.atlassian.net) and run \
         `jira-mcp doctor`; retrying will not help",
        emu.url()
    );
    let text = err(&client, "search_issues", json!({ "project": "DEMO" })).await;
    assert_eq!(text, format!("Jira answered 404 for /rest/api/3/search/jql {expected}"));
    let text = err(&client, "summarize_project", json!({ "project": "DEMO" })).await;
    assert_eq!(text, format!("Jira answered 404 for /rest/api/3/search/jql {expected}"));
    let text = err(&client, "create_issue", json!({ "project": "DEMO", "issue_type": "Task", "summary": "s" })).await;
    assert_eq!(text, format!("Jira answered 404 for /rest/api/3/project/search {expected}"));
}

#[tokio::test]
async fn an_unknown_project_is_named_with_the_visible_ones() {
    let (_emu, client) = setup().await;
    for tool in ["summarize_project", "search_issues"] {
        let text = err(&client, tool, json!({ "project": "NOPE" })).await;
        assert!(
            text.starts_with(
                "Project NOPE was not found (404) or is not visible to this account. Projects you can use: DEMO ("
            ),
            "{tool}: {text}"
        );
    }
}

#[tokio::test]
async fn an_oversized_answer_is_reported_as_such() {
    // See issue 9 item 6: a 1 GiB body drove the process to 2 GiB.
    let (emu, client) = setup().await;
    emu.inject_shape(ShapeFault {
        path_contains: "/search/jql".into(),
        method: None,
        times: 1,
        after_handler: false,
        shape: Shape::Huge { bytes: 50 * 1024 * 1024, declare: false },
    });
    let text = err(&client, "search_issues", json!({ "project": "DEMO" })).await;
    assert!(text.starts_with("Jira's answer was larger than the 1 MiB this server reads from one answer (JIRA_MCP_MAX_RESPONSE_MB); reading stopped there."), "{text}");
}

#[tokio::test]
async fn a_hung_jira_costs_one_timeout_plus_the_retry_budget_and_says_how_long_it_tried() {
    // See issue 9 item 8: with the default 30 s timeout and 4 attempts a hung Jira held a read for two minutes.
    let (emu, client) = setup().await;
    emu.inject_shape(ShapeFault {
        path_contains: "/issue/DEMO-1".into(),
        method: None,
        times: 10,
        after_handler: false,
        shape: Shape::Hang,
    });
    let started = std::time::Instant::now();
    let text = err(&client, "get_issue", json!({ "key": "DEMO-1" })).await;
    let took = started.elapsed();
    // 1 s timeout, 2 s budget: the first attempt and one retry cut to the budget's rest (4 attempts would take 5 s+).
    assert!(took < Duration::from_millis(3000), "{took:?}");
    assert!(
        text.starts_with(
            "Jira did not answer within 1 s (2 attempt(s) over 2.0 s; retries stop after JIRA_MCP_RETRY_BUDGET_SECS)."
        ),
        "{text}"
    );
}

fn redirect(path: &str, location: String) -> ShapeFault {
    ShapeFault {
        path_contains: path.into(),
        method: Some("GET"),
        times: 1,
        after_handler: false,
        shape: Shape::Redirect { status: 302, location },
    }
}

/// Issue 13, item 5: a response cannot send this server to a host it names.
#[tokio::test]
async fn a_redirect_to_a_foreign_host_is_not_followed() {
    let (emu, client) = setup().await;
    let foreign = emulator().await;
    // Control: the foreign emulator counts every request that reaches it.
    let plain = common::probe_client();
    plain.get(format!("{}/rest/api/3/myself", foreign.url())).send().await.unwrap();
    let before = foreign.request_count();
    assert_eq!(before, 1, "the probe sees a request");
    emu.inject_shape(redirect("/issue/DEMO-1", format!("{}/rest/api/3/issue/DEMO-1?steal=1", foreign.url())));
    let text = err(&client, "get_issue", json!({ "key": "DEMO-1", "include": [] })).await;
    assert_eq!(
        text,
        format!(
            "Jira's answer (HTTP 302) redirected to {}, which is neither JIRA_URL's site nor its media service, so it \
             was not followed: this server only sends requests to the configured site. If the site moved, set \
             JIRA_URL to its new address; if a proxy or SSO page sits in front of Jira, use an address that reaches \
             Jira directly. Run `jira-mcp doctor` to check",
            foreign.url()
        )
    );
    assert_eq!(foreign.request_count(), before, "the foreign host was contacted");
    // Control: a redirect within the site is followed, so the refusal above is the policy, not a broken redirect.
    emu.inject_shape(redirect("/issue/DEMO-1", format!("{}/rest/api/3/issue/DEMO-2", emu.url())));
    let text = ok(&client, "get_issue", json!({ "key": "DEMO-1", "include": [] })).await;
    assert!(text.starts_with("DEMO-2: "), "{text}");
}
