//! TLS roots: the built binary with no CA certificates at all, as in the Nix
//! build sandbox (nixpkgs' stdenv exports `SSL_CERT_FILE=/no-cert-file.crt`
//! and there is no /etc/ssl). With `SSL_CERT_FILE` set, rustls-native-certs
//! reads only that file, so these hold on a host with a system store too.

// Test code: panicking on a broken expectation is the point, and tests spawn the binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

use std::process::{Output, Stdio};

use common::{args, emulator};
use jira_mcp::emulator::{DEMO_EMAIL, DEMO_TOKEN};
use rmcp::{
    ServiceExt,
    model::CallToolRequestParams,
    transport::{ConfigureCommandExt, TokioChildProcess},
};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_jira-mcp");
/// What nixpkgs' stdenv exports: a file that does not exist.
const NO_CERTS: &str = "/no-cert-file.crt";
/// One public root CA (ISRG Root X1), a stand-in for the cacert bundle.
const CA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/root-ca.pem");

/// The whole environment of the child (it starts from an empty one).
fn vars(url: &str, cert_file: &str) -> [(&'static str, String); 6] {
    [
        ("JIRA_URL", url.to_owned()),
        ("JIRA_USERNAME", DEMO_EMAIL.to_owned()),
        ("JIRA_API_TOKEN", DEMO_TOKEN.to_owned()),
        ("JIRA_MCP_SANDBOX_RUNTIME", "no-such-runtime".to_owned()),
        ("HOME", "/homeless-shelter".to_owned()),
        ("SSL_CERT_FILE", cert_file.to_owned()),
    ]
}

/// `serve` on stdio with stdin closed: it either fails building the client or
/// gets past it and ends at the end of its input.
fn serve_until_eof(url: &str, cert_file: &str) -> Output {
    std::process::Command::new(BIN).env_clear().envs(vars(url, cert_file)).stdin(Stdio::null()).output().unwrap()
}

#[tokio::test]
async fn plain_http_loopback_needs_no_root_store() {
    let emu = emulator().await;
    let url = emu.url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let command = tokio::process::Command::new(BIN).configure(|c| {
        c.env_clear().envs(vars(&url, NO_CERTS));
    });
    let (transport, _stderr) = TokioChildProcess::builder(command).stderr(Stdio::piped()).spawn().unwrap();
    let client = ().serve(transport).await.expect("the server starts without any CA certificate");
    let params = CallToolRequestParams::new("get_issue").with_arguments(args(json!({ "key": "DEMO-1" })));
    let result = client.call_tool(params).await.unwrap();
    let (is_error, text) = common::text(&result);
    assert!(!is_error, "{text}");
    assert!(text.contains("DEMO-1: Login page times out"), "{text}");
    client.cancel().await.unwrap();
}

#[test]
fn https_without_roots_names_the_variable_to_set() {
    let url = "https://jira.example.invalid";
    let out = serve_until_eof(url, NO_CERTS);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on the MCP wire");
    // The last line is the server's own (rustls logs a warning before it).
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with(
            "jira-mcp: cannot reach Jira at https://jira.example.invalid (no usable TLS root certificates"
        ),
        "{stderr}"
    );
    assert!(last.contains("set SSL_CERT_FILE to a PEM file of trusted CA certificates"), "{stderr}");

    // Control: the same start with one usable root gets past building the
    // client, so the failure above is about the roots and nothing else.
    let out = serve_until_eof(url, CA_FILE);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("TLS root certificates"), "{stderr}");
    // Past the client, the start-up permission check may still fail to reach the site: only a
    // failed start would print `jira-mcp: cannot reach Jira`.
    assert!(!stderr.contains("jira-mcp: cannot reach Jira"), "{stderr}");
}
