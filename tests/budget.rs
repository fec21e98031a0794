//! Response-budget telemetry end to end: calls through the MCP client are
//! recorded in SQLite with their shape and tokens, the report reads them back,
//! nothing from Jira or the arguments' text lands in the file, and a database
//! that cannot be used never breaks a tool call.

// Test code: panicking on a broken expectation is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "test code; the lock holder is a second process"
)]

mod common;

use std::path::{Path, PathBuf};

use common::{config_for, connect, emulator, ok};
use jira_mcp::{
    JiraMcp,
    budget::{
        Settings,
        report::{Report, from_database, render},
    },
    emulator::{DEMO_EMAIL, DEMO_TOKEN, Emulator},
    limits::Tunables,
};
use serde_json::json;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jira-mcp-budget-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn recorded(emu: &Emulator, db: &Path) -> (JiraMcp, common::Client) {
    let mut config = config_for(emu);
    config.telemetry = Settings { enabled: true, path: db.to_owned(), retention_days: 30 };
    let server = JiraMcp::new(&config).unwrap();
    let client = connect(server.clone()).await;
    (server, client)
}

fn report(db: &Path) -> Report {
    from_database(db, 0, &Tunables::default()).unwrap()
}

#[tokio::test]
async fn calls_are_recorded_with_their_shape_and_the_report_links_follow_ups() {
    let emu = emulator().await;
    let dir = scratch("record");
    let db = dir.join("telemetry.db");
    let (server, client) = recorded(&emu, &db).await;
    let page = ok(&client, "search_issues", json!({ "project": "DEMO", "page_size": 5 })).await;
    let cursor = page.rsplit("cursor=\"").next().unwrap().trim_end_matches('"').to_owned();
    ok(&client, "search_issues", json!({ "project": "DEMO", "page_size": 5, "cursor": cursor })).await;
    ok(&client, "get_issue", json!({ "key": "DEMO-1", "description_max_chars": 100 })).await;
    ok(&client, "get_issue", json!({ "key": "DEMO-1", "description_max_chars": 50000 })).await;
    common::err(&client, "get_issue", json!({ "key": "DEMO-999" })).await;
    server.flush_budget();

    let r = report(&db);
    assert_eq!((r.calls, r.sessions), (5, 1));
    let search = r.tools.iter().find(|t| t.tool == "search_issues").unwrap();
    assert_eq!(search.calls, 2);
    assert!(search.tokens_p50 > 50, "tokens are counted: {search:?}");
    assert!((search.jira_requests_per_call - 1.0).abs() < 1e-9, "{search:?}");
    let page = r.caps.iter().find(|c| c.cap == "page").unwrap();
    assert_eq!((page.applied, page.cut, page.followed_up), (2, 2, 1), "{page:?}");
    let description = r.caps.iter().find(|c| c.cap == "description").unwrap();
    assert_eq!((description.applied, description.cut, description.followed_up), (2, 1, 1), "{description:?}");
    assert_eq!(r.errors.get("jira"), Some(&1), "{:?}", r.errors);
    let text = render(&r, "7d");
    assert!(text.contains("paging: 2 pages ended with MORE AVAILABLE, 1 were followed with the cursor"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every byte of the database, its WAL and shared-memory files.
fn database_bytes(db: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(bytes) = std::fs::read(PathBuf::from(name)) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

// The history must be safe to share with the maintainers: no keys, JQL, text or secrets.
#[tokio::test]
async fn the_database_holds_no_issue_keys_text_queries_or_secrets() {
    let emu = emulator().await;
    let dir = scratch("privacy");
    let db = dir.join("telemetry.db");
    let (server, client) = recorded(&emu, &db).await;
    ok(&client, "search_issues", json!({ "jql": "project = DEMO AND text ~ \"SEEKRITQUERY\"" })).await;
    ok(&client, "get_issue", json!({ "key": "DEMO-1" })).await;
    let created = ok(
        &client,
        "create_issue",
        json!({ "project": "DEMO", "issue_type": "Task", "summary": "TOPSECRETSUMMARY", "description": "PRIVATEDESCRIPTION" }),
    )
    .await;
    let key =
        created.split_whitespace().find(|w| w.starts_with("DEMO-")).unwrap().trim_end_matches(['.', ':']).to_owned();
    ok(&client, "add_comment", json!({ "key": key, "body": "CONFIDENTIALCOMMENT" })).await;
    ok(&client, "get_attachment", json!({ "key": "OPS-2", "file": "api-gateway-2026-11-29.log" })).await;
    server.flush_budget();
    let bytes = database_bytes(&db);
    // Control: the scan sees what is recorded (tool and argument names), so it would see a leak.
    assert!(contains(&bytes, "add_comment") && contains(&bytes, "description"), "the probe reads the file");
    for secret in [
        "SEEKRITQUERY",
        "project = DEMO",
        "DEMO-1",
        key.as_str(),
        "OPS-2",
        "TOPSECRETSUMMARY",
        "PRIVATEDESCRIPTION",
        "CONFIDENTIALCOMMENT",
        "Login page times out",
        "api-gateway-2026-11-29.log",
        "upstream timeout",
        DEMO_TOKEN,
        DEMO_EMAIL,
    ] {
        assert!(!contains(&bytes, secret), "{secret:?} is in the telemetry database");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The first tool call works and answers like without telemetry.
async fn tool_calls_still_work(emu: &Emulator, db: &Path) {
    let (server, client) = recorded(emu, db).await;
    let text = ok(&client, "get_issue", json!({ "key": "DEMO-1", "include": [] })).await;
    assert!(text.starts_with("DEMO-1: "), "{text}");
    server.flush_budget();
}

#[tokio::test]
async fn an_unusable_database_switches_telemetry_off_and_tool_calls_keep_working() {
    use std::os::unix::fs::PermissionsExt;
    let emu = emulator().await;
    let dir = scratch("broken");
    // A corrupt file.
    let corrupt = dir.join("corrupt.db");
    std::fs::write(&corrupt, vec![0x42; 8192]).unwrap();
    tool_calls_still_work(&emu, &corrupt).await;
    assert_eq!(std::fs::read(&corrupt).unwrap(), vec![0x42; 8192], "left as it was");
    // A folder that cannot be created (a file is in the way).
    std::fs::write(dir.join("file"), b"x").unwrap();
    tool_calls_still_work(&emu, &dir.join("file/sub/telemetry.db")).await;
    // A read-only folder (root ignores modes, so only checked as another user).
    let ro = dir.join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
    tool_calls_still_work(&emu, &ro.join("telemetry.db")).await;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).unwrap();
    // Locked by another process for longer than the writer waits.
    let locked = dir.join("locked.db");
    let mut holder = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('CREATE TABLE t (x)')\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             print('locked', flush=True)\n\
             time.sleep(20)",
        )
        .arg(&locked)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()), &mut line).unwrap();
    assert_eq!(line.trim(), "locked");
    tool_calls_still_work(&emu, &locked).await;
    holder.kill().unwrap();
    holder.wait().unwrap();
    // Control: the same server on a usable path records.
    let good = dir.join("good.db");
    tool_calls_still_work(&emu, &good).await;
    assert_eq!(report(&good).calls, 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn retention_drops_old_calls_and_two_writers_share_one_file() {
    let emu = emulator().await;
    let dir = scratch("shared");
    let db = dir.join("telemetry.db");
    let (a, client_a) = recorded(&emu, &db).await;
    let (b, client_b) = recorded(&emu, &db).await;
    for _ in 0..5 {
        ok(&client_a, "list_sprints", json!({ "project": "DEMO" })).await;
        ok(&client_b, "list_sprints", json!({ "project": "DEMO" })).await;
    }
    a.flush_budget();
    b.flush_budget();
    assert_eq!(report(&db).calls, 10, "both writers' calls are there");
    // A retention of 1 day keeps today's calls.
    let mut config = config_for(&emu);
    config.telemetry = Settings { enabled: true, path: db.clone(), retention_days: 1 };
    drop(JiraMcp::new(&config).unwrap());
    assert_eq!(report(&db).calls, 10);
    std::fs::remove_dir_all(dir).unwrap();
}
