//! Jira's data model through the tools, in process against the emulator: custom
//! and standard fields (read, discover, write with validation), sprints and
//! boards, epics, worklogs, issue links, and the metadata caches.

// Test code: panicking on a broken expectation is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::disallowed_types)]

mod common;

use common::{config_for, connect, emulator, err, ok};
use jira_mcp::{JiraMcp, emulator::Emulator};
use serde_json::json;

async fn setup() -> (Emulator, common::Client) {
    let emu = emulator().await;
    let client = connect(JiraMcp::new(&config_for(&emu)).unwrap()).await;
    (emu, client)
}

#[tokio::test]
async fn get_issue_shows_standard_and_custom_fields_worklogs_and_web_links() {
    let (_emu, client) = setup().await;
    let text = ok(&client, "get_issue", json!({ "key": "DEMO-1" })).await;
    for expected in [
        "Components: API | Fix versions: 4.3 | Due date: ",
        "Time tracking: estimate 1d, remaining 4h 30m, spent 3h 30m",
        "Severity: S1",
        "Sprint: DEMO Sprint 2 (active) | Story Points: 1",
        "- web link: Incident 42: login timeouts | https://status.example.com/incidents/42",
        "## Work log (2 entries, 3.5h logged; newest first)\n- ",
        "Sam Rivera: 1h 30m | Profiled the session call on 3G.",
        "## Attachments (2)\n- 60001 session-call.har.json | application/json | 2 KB | Dana Demo ",
        "\n- 60000 login-timeout-3g.png | image/png | 43 KB | Sam Rivera ",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let only = ok(&client, "get_issue", json!({ "key": "DEMO-1", "fields": ["story points"], "include": [] })).await;
    assert!(only.contains("Story Points: 1"), "{only}");
    assert!(!only.contains("Severity") && !only.contains("Components"), "only the named field: {only}");
    assert!(only.contains("## Attachments (2)"), "attachments are listed whatever the sections: {only}");
    let log = ok(&client, "get_issue", json!({ "key": "OPS-2", "include": [] })).await;
    assert!(
        log.contains("## Attachments (1)\n- 60002 api-gateway-2026-11-29.log | text/plain | 43 KB | Priya Patel "),
        "{log}"
    );
    let msg = err(&client, "get_issue", json!({ "key": "DEMO-1", "fields": ["Team"] })).await;
    assert_eq!(
        msg,
        "Invalid input: \"Team\" names 2 fields: customfield_10031 (option), customfield_10032 (string). Give the id \
         instead of the name"
    );
}

#[tokio::test]
async fn an_epic_lists_its_children() {
    let (_emu, client) = setup().await;
    let epic = ok(&client, "search_issues", json!({ "jql": "project = DEMO AND type = Epic" })).await;
    let key = epic.lines().nth(1).unwrap().split(" | ").next().unwrap().to_owned();
    let text = ok(&client, "get_issue", json!({ "key": key })).await;
    assert!(text.contains("## Children (3)\n- DEMO-11 | "), "{text}");
}

#[tokio::test]
async fn search_columns_and_sprint_filters() {
    let (_emu, client) = setup().await;
    let plain = ok(&client, "search_issues", json!({ "project": "DEMO", "page_size": 5 })).await;
    assert!(!plain.contains("Story Points"), "the default page has no extra columns: {plain}");
    let with = ok(
        &client,
        "search_issues",
        json!({ "project": "DEMO", "page_size": 5, "fields": ["Story Points", "Sprint"] }),
    )
    .await;
    let line = with.lines().nth(1).unwrap();
    assert!(line.contains(" | Story Points: ") && line.contains(" | Sprint: "), "{with}");
    let active = ok(&client, "search_issues", json!({ "project": "DEMO", "sprint": "active", "page_size": 50 })).await;
    assert!(active.starts_with(
        "JQL: project = \"DEMO\" AND sprint in openSprints() AND sprint not in futureSprints() ORDER BY updated DESC"
    ));
    assert!(active.contains("DEMO-1 | "), "DEMO-1 is in the active sprint: {active}");
    let sprint_of = |key: &str, text: &str| text.lines().any(|l| l.starts_with(&format!("{key} | ")));
    let backlog =
        ok(&client, "search_issues", json!({ "project": "DEMO", "sprint": "backlog", "page_size": 50 })).await;
    assert!(!sprint_of("DEMO-1", &backlog), "{backlog}");
    let named =
        ok(&client, "search_issues", json!({ "project": "DEMO", "sprint": "DEMO Sprint 2", "page_size": 50 })).await;
    assert_eq!(named.lines().count(), active.lines().count(), "the name finds the same sprint");
}

#[tokio::test]
async fn describe_fields_lists_what_can_be_set_and_the_options() {
    let (_emu, client) = setup().await;
    let text = ok(&client, "describe_fields", json!({ "project": "demo", "issue_type": "bug" })).await;
    assert!(
        text.starts_with("Fields for a new Bug in DEMO (pass them in the fields argument by name or id):"),
        "{text}"
    );
    assert!(text.contains("- Summary (summary) | string | required"), "{text}");
    assert!(text.contains("- Severity (customfield_10030) | option | values: S1, S2, S3, S4"), "{text}");
    assert!(text.contains("- Customer (customfield_10033) | option > child | values: Acme, Globex"), "{text}");
    let edit = ok(&client, "describe_fields", json!({ "key": "DEMO-1" })).await;
    assert!(edit.starts_with("Fields you can change on DEMO-1"), "{edit}");
    let msg = err(&client, "describe_fields", json!({ "project": "DEMO", "issue_type": "Saga" })).await;
    assert!(
        msg.starts_with("Invalid input: issue type \"Saga\" does not exist in DEMO. Valid types: Task, Bug"),
        "{msg}"
    );
    let msg = err(&client, "describe_fields", json!({ "key": "DEMO-1", "project": "DEMO" })).await;
    assert!(msg.contains("not both"), "{msg}");
}

#[tokio::test]
async fn custom_fields_are_written_by_name_and_validated_before_sending() {
    let (emu, client) = setup().await;
    let created = ok(
        &client,
        "create_issue",
        json!({
            "project": "DEMO", "issue_type": "Bug", "summary": "Export fails",
            "fields": {
                "Story Points": 5, "severity": "s2", "Components": ["api", "Web"], "Due date": "2026-12-24",
                "Customer": "Acme > EU", "Reviewers": ["sam@example.com"], "customfield_10032": "Core team",
                "Acceptance criteria": "- exports **all** rows"
            }
        }),
    )
    .await;
    let key = created.split_whitespace().nth(1).unwrap().to_owned();
    let text = ok(&client, "get_issue", json!({ "key": key })).await;
    for expected in [
        "Components: API, Web",
        "Due date: 2026-12-24",
        "Story Points: 5",
        "Severity: S2",
        "Customer: Acme > EU",
        "Reviewers: Sam Rivera",
        "Team: Core team",
        "Acceptance criteria: - exports **all** rows",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let before = emu.request_count();
    let cases = [
        (json!({ "Severity": "S9" }), "Invalid input: \"S9\" is not an option of Severity. Valid: S1, S2, S3, S4"),
        (json!({ "Story Points": "many" }), "Invalid input: Story Points expects a number, got the text \"many\""),
        (
            json!({ "Sprint": 2 }),
            "Invalid input: Sprint is not set as a field: use update_issue's sprint argument (\"active\", a sprint name, \
             or \"backlog\")",
        ),
        (
            json!({ "Storypoints": 3 }),
            "Invalid input: no field is called \"Storypoints\" on this site. Call describe_fields",
        ),
        (json!({ "Points": 3 }), "Invalid input: no field is called \"Points\" on this site; similar: Story Points."),
        (
            json!({ "Customer": "Acme > Mars" }),
            "Invalid input: \"Mars\" is not an option of Customer > Acme. Valid: EU, US",
        ),
    ];
    for (fields, expected) in cases {
        let msg = err(&client, "update_issue", json!({ "key": key, "fields": fields })).await;
        assert!(msg.starts_with(expected), "{fields}: {msg}");
    }
    let writes = emu.request_count() - before;
    assert!(writes <= 2, "refusals are decided before sending: {writes} requests for 6 refused calls");
    let sub = err(
        &client,
        "create_issue",
        json!({ "project": "DEMO", "issue_type": "Subtask", "parent": "DEMO-1", "summary": "x", "fields": { "Story Points": 1 } }),
    )
    .await;
    assert!(
        sub.starts_with("Invalid input: Story Points cannot be set here: it is not on the screen of this issue type."),
        "{sub}"
    );
    let updated =
        ok(&client, "update_issue", json!({ "key": key, "fields": { "Story Points": 8, "Due date": null } })).await;
    assert_eq!(updated, format!("Updated {key}: Story Points, Due date"));
    let text = ok(&client, "get_issue", json!({ "key": key, "fields": ["Story Points", "Due date"] })).await;
    assert!(text.contains("Story Points: 8") && !text.contains("Due date"), "{text}");
}

#[tokio::test]
async fn sprints_are_listed_summarised_and_issues_moved() {
    let (_emu, client) = setup().await;
    let list = ok(&client, "list_sprints", json!({ "project": "DEMO" })).await;
    assert!(list.starts_with("Board DEMO board (id 1, scrum)\n- DEMO Sprint 2 (active, "), "{list}");
    assert!(list.contains("| id 2 | goal: Ship CSV export"), "{list}");
    assert!(list.contains("- DEMO Sprint 3 (future) | id 3"), "{list}");
    let ops = ok(&client, "list_sprints", json!({ "project": "OPS" })).await;
    assert!(ops.contains("- no sprints (not a scrum board)"), "{ops}");

    let summary = ok(&client, "summarize_project", json!({ "project": "DEMO", "sprint": "active" })).await;
    let head: Vec<&str> = summary.lines().take(4).collect();
    assert!(
        head[0].starts_with("Sprint: DEMO Sprint 2 (active, ") && head[0].ends_with("| goal: Ship CSV export"),
        "{summary}"
    );
    assert!(head[1].starts_with("Done: ") && head[1].contains(" points | Remaining: "), "{summary}");
    assert!(head[2].starts_with("Added after the sprint started: ") && !head[2].ends_with(": 0"), "{summary}");
    assert!(head[3].starts_with("Carried over from earlier sprints: ") && !head[3].ends_with(": 0"), "{summary}");
    assert!(summary.contains("Scope: project = \"DEMO\" AND sprint = 2 ORDER BY created ASC"), "{summary}");
    let msg = err(&client, "summarize_project", json!({ "jql": "project = DEMO", "sprint": "active" })).await;
    assert!(msg.starts_with("Invalid input: sprint needs project"), "{msg}");

    let moved = ok(&client, "update_issue", json!({ "key": "DEMO-2", "sprint": "next" })).await;
    assert_eq!(moved, "Updated DEMO-2: sprint=DEMO Sprint 3");
    let text = ok(&client, "get_issue", json!({ "key": "DEMO-2", "fields": ["Sprint"], "include": [] })).await;
    assert!(
        text.contains("Sprint: DEMO Sprint 1 (closed), DEMO Sprint 3 (future)"),
        "closed sprints stay in the history: {text}"
    );
    let back = ok(&client, "update_issue", json!({ "key": "DEMO-2", "sprint": "backlog" })).await;
    assert_eq!(back, "Updated DEMO-2: moved to the backlog");
    let msg = err(&client, "update_issue", json!({ "key": "DEMO-2", "sprint": "Sprint 99" })).await;
    assert!(
        msg.starts_with("Invalid input: no sprint of DEMO matches \"Sprint 99\". Give \"active\", \"next\""),
        "{msg}"
    );
    assert!(msg.contains("DEMO Sprint 2 (active, "), "{msg}");
}

#[tokio::test]
async fn work_is_logged_and_bad_durations_refused() {
    let (_emu, client) = setup().await;
    let logged = ok(
        &client,
        "log_work",
        json!({ "key": "DEMO-3", "time_spent": "2h 30m", "started": "2026-11-30T09:15", "comment": "Wrote the **fix**" }),
    )
    .await;
    assert!(logged.starts_with("Logged 2h 30m on DEMO-3 (worklog "), "{logged}");
    assert!(logged.ends_with("started 2026-11-30 09:15)."), "{logged}");
    let text = ok(&client, "get_issue", json!({ "key": "DEMO-3", "include": ["worklogs"] })).await;
    assert!(
        text.contains(
            "## Work log (1 entries, 2.5h logged; newest first)\n- 2026-11-30 Dana Demo: 2h 30m | Wrote the **fix**"
        ),
        "{text}"
    );
    let msg = err(&client, "log_work", json!({ "key": "DEMO-3", "time_spent": "2 hours" })).await;
    assert_eq!(
        msg,
        "Invalid input: time_spent \"2 hours\" is not a Jira duration; write it like \"2h 30m\", \"1d\" or \"45m\" (w, d, h, m)"
    );
}

#[tokio::test]
async fn issues_are_linked_and_unlinked_by_phrase() {
    let (_emu, client) = setup().await;
    assert_eq!(
        ok(&client, "link_issues", json!({ "key": "DEMO-5", "link": "is blocked by", "other": "DEMO-6" })).await,
        "Linked: DEMO-5 is blocked by DEMO-6."
    );
    let text = ok(&client, "get_issue", json!({ "key": "DEMO-6", "include": ["links"] })).await;
    assert!(text.contains("- blocks DEMO-5 | "), "the other side sees the outward phrase: {text}");
    let msg = err(&client, "link_issues", json!({ "key": "DEMO-5", "link": "depends on", "other": "DEMO-6" })).await;
    assert!(
        msg.starts_with("Invalid input: link \"depends on\" is not a link type of this site. Use one of: \"blocks\" / \"is blocked by\" (Blocks)"),
        "{msg}"
    );
    assert_eq!(
        ok(
            &client,
            "link_issues",
            json!({ "key": "DEMO-5", "link": "is blocked by", "other": "DEMO-6", "remove": true })
        )
        .await,
        "Removed the link: DEMO-5 is blocked by DEMO-6 (add it again with link_issues to undo)."
    );
    let msg =
        err(&client, "link_issues", json!({ "key": "DEMO-5", "link": "blocks", "other": "DEMO-6", "remove": true }))
            .await;
    assert_eq!(msg, "Invalid input: DEMO-5 has no \"blocks\" link to DEMO-6; get_issue DEMO-5 lists its links");
}

#[tokio::test]
async fn metadata_is_cached_so_repeated_calls_cost_no_more_requests() {
    let (emu, client) = setup().await;
    let cost = |before: usize| emu.request_count() - before;
    let before = emu.request_count();
    ok(&client, "get_issue", json!({ "key": "DEMO-1" })).await;
    let first = cost(before);
    let before = emu.request_count();
    ok(&client, "get_issue", json!({ "key": "DEMO-2" })).await;
    assert_eq!(cost(before), first - 1, "the field catalogue is read once per process");
    let create = json!({ "project": "DEMO", "issue_type": "Story", "summary": "s", "fields": { "Story Points": 3 } });
    let before = emu.request_count();
    ok(&client, "create_issue", create.clone()).await;
    let first_create = cost(before);
    let before = emu.request_count();
    ok(&client, "create_issue", create).await;
    assert_eq!(cost(before), first_create - 1, "the create screen is cached too");
}
