//! Progress notifications of long tool calls, as an rmcp client sees them.

// Test code: panicking on a broken expectation is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::disallowed_types)]

mod common;

use std::sync::{Arc, Mutex};

use common::{config_for, emulator};
use jira_mcp::JiraMcp;
use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ProgressNotificationParam},
    service::NotificationContext,
};
use serde_json::json;

#[derive(Clone, Default)]
struct Recording {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recording {
    async fn on_progress(&self, p: ProgressNotificationParam, _c: NotificationContext<RoleClient>) {
        self.progress.lock().unwrap().push(p);
    }
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(ClientCapabilities::default(), Implementation::new("progress-test", "0"))
    }
}

#[tokio::test]
async fn a_scan_reports_each_page_before_its_result() {
    let emu = emulator().await;
    let server = JiraMcp::new(&config_for(&emu)).unwrap();
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let recording = Recording::default();
    let client = recording.clone().serve(client_io).await.unwrap();
    let r = client
        .call_tool(
            CallToolRequestParams::new("summarize_project").with_arguments(common::args(json!({ "project": "DEMO" }))),
        )
        .await
        .unwrap();
    let (is_error, text) = common::text(&r);
    assert!(!is_error, "{text}");
    // Sent before the result: nothing arrives late.
    let seen = recording.progress.lock().unwrap().clone();
    let messages: Vec<(f64, String)> =
        seen.iter().map(|p| (p.progress, p.message.clone().unwrap_or_default())).collect();
    assert_eq!(messages, [(1.0, "fetched 50 issues (at most 500)".to_owned())], "{seen:?}");
    // Control: a call that scans nothing reports nothing.
    client
        .call_tool(CallToolRequestParams::new("get_issue").with_arguments(common::args(json!({ "key": "DEMO-1" }))))
        .await
        .unwrap();
    assert_eq!(recording.progress.lock().unwrap().len(), 1);
    client.cancel().await.unwrap();
}
