//! Rich text through the tools: mentions and panels survive a read-edit-write
//! cycle, a replacement that would drop them is refused with nothing written,
//! appending leaves the rest alone, and `@email` becomes a real mention.

// Test code: panicking on a broken expectation is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::disallowed_types)]

mod common;

use common::{config_for, connect, emulator, err, ok};
use jira_mcp::JiraMcp;
use serde_json::json;

const MENTION: &str = "[@Sam Rivera](accountId:acc-sam)";

/// The description of a get_issue text that includes only the description section.
fn description(get: &str) -> String {
    let start = get.find("## Description\n").unwrap() + "## Description\n".len();
    get[start..].to_owned()
}

#[tokio::test]
async fn a_mention_and_a_panel_survive_get_edit_update() {
    let emu = emulator().await;
    let client = connect(JiraMcp::new(&config_for(&emu)).unwrap()).await;
    let args = json!({ "key": "DEMO-1", "include": ["description"], "description_max_chars": 50000 });
    let before = description(&ok(&client, "get_issue", args.clone()).await);
    assert!(before.contains(&format!(":::warning\nOnly on 3G: {MENTION} reproduces it every time.\n:::")), "{before}");
    let edited = before.replace("every time", "on every try");
    assert_eq!(
        ok(&client, "update_issue", json!({ "key": "DEMO-1", "description": edited })).await,
        "Updated DEMO-1: description"
    );
    let after = description(&ok(&client, "get_issue", args.clone()).await);
    assert_eq!(after, edited, "only the edited words changed");

    let msg = err(&client, "update_issue", json!({ "key": "DEMO-1", "description": "Short and plain." })).await;
    assert_eq!(
        msg,
        "Invalid input: nothing was written: the new description of DEMO-1 would drop 1 mention (@Sam Rivera), 1 panel \
         that the current one has. Keep them by editing the text get_issue shows with their forms intact \
         ([@Name](accountId:…), :::panel … :::, ![…](attachment:…), [kind](adf:…)); or use description_mode \"append\" \
         to add at the end, or \"replace_all\" to accept the loss"
    );
    assert_eq!(description(&ok(&client, "get_issue", args.clone()).await), edited, "the refused write changed nothing");

    ok(&client, "update_issue", json!({ "key": "DEMO-1", "description": "Also on 4G.", "description_mode": "append" }))
        .await;
    // get_issue puts Jira content between ⟦ and ⟧ (this server's delimiters, dropped again on write).
    let inner = edited.strip_suffix('⟧').unwrap();
    assert_eq!(description(&ok(&client, "get_issue", args.clone()).await), format!("{inner}\n\nAlso on 4G.⟧"));

    ok(&client, "update_issue", json!({ "key": "DEMO-1", "description": "Plain.", "description_mode": "replace_all" }))
        .await;
    assert_eq!(description(&ok(&client, "get_issue", args.clone()).await), "⟦Plain.⟧");
}

#[tokio::test]
async fn email_mentions_become_real_mentions_or_are_refused() {
    let emu = emulator().await;
    let client = connect(JiraMcp::new(&config_for(&emu)).unwrap()).await;
    ok(
        &client,
        "add_comment",
        json!({ "key": "DEMO-2", "body": "Ping @sam@example.com, please look; `@not@code.example`" }),
    )
    .await;
    let text = ok(&client, "get_issue", json!({ "key": "DEMO-2", "include": ["comments"] })).await;
    assert!(text.contains(&format!("Ping {MENTION}, please look; `@not@code.example`")), "{text}");
    let msg = err(&client, "add_comment", json!({ "key": "DEMO-2", "body": "Hi @nobody@example.com" })).await;
    assert!(msg.starts_with("Invalid input: no Jira user matches \"nobody@example.com\""), "{msg}");
}
