//! Client behaviour against the emulator: status mapping, retries, limits.

use std::time::{Duration, Instant};

use secrecy::SecretString;

use super::{Client, Error, Jira, client::RetryPolicy};
use crate::{
    config::{Auth, JiraConfig},
    emulator::{Emulator, EmulatorConfig, Fault},
};

const FAST: RetryPolicy =
    RetryPolicy { attempts: 4, base_backoff: Duration::from_millis(5), max_wait: Duration::from_secs(3) };

async fn setup() -> (Emulator, Jira) {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let jira = Jira::new(Client::new(&JiraConfig::demo(emu.url())).unwrap().with_retry(FAST));
    (emu, jira)
}

fn fault(path: &str, status: u16, times: u32, retry_after: Option<u32>) -> Fault {
    Fault { path_contains: path.into(), status, times, retry_after }
}

#[tokio::test]
async fn wrong_token_maps_to_unauthorized_with_the_fix() {
    let (emu, _) = setup().await;
    let mut config = JiraConfig::demo(emu.url());
    config.auth = Auth::Basic { email: "demo@example.com".into(), token: SecretString::from("expired") };
    let jira = Jira::new(Client::new(&config).unwrap());
    let err = jira.myself().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("expired"), "the token itself never appears");
    assert_eq!(emu.request_count(), 1, "401 is not retried");
}

#[tokio::test]
async fn forbidden_is_distinct_from_unauthorized() {
    let (emu, jira) = setup().await;
    emu.inject(fault("/issue/DEMO-1", 403, 1, None));
    let err = jira.issue("DEMO-1", "summary", false).await.unwrap_err();
    assert!(matches!(&err, Error::Forbidden { message } if message == "Injected failure from the emulator"), "{err:?}");
}

#[tokio::test]
async fn unknown_issue_names_the_key() {
    let (_emu, jira) = setup().await;
    let err = jira.issue("DEMO-4040", "summary", false).await.unwrap_err();
    assert!(matches!(&err, Error::IssueNotFound { key } if key == "DEMO-4040"), "{err:?}");
}

#[tokio::test]
async fn bad_jql_quotes_jira_and_hints() {
    let (_emu, jira) = setup().await;
    let err = jira.search("project = DEMO AND (status = Done", &["summary"], 5, None).await.unwrap_err();
    assert!(
        matches!(&err, Error::BadJql { message }
            if message.starts_with("Error in the JQL Query: Expecting ')' before the end of the query")),
        "{err:?}"
    );
    let err = jira.search("ORDER BY key", &["summary"], 5, None).await.unwrap_err();
    assert!(
        matches!(&err, Error::BadJql { message } if message.contains("Unbounded JQL queries are not allowed here")),
        "{err:?}"
    );
}

#[tokio::test]
async fn rate_limit_is_retried_after_retry_after() {
    let (emu, jira) = setup().await;
    emu.inject(fault("/myself", 429, 2, Some(0)));
    let me = jira.myself().await.unwrap();
    assert_eq!(me.display_name.as_deref(), Some("Dana Demo"));
    assert_eq!(emu.request_count(), 3, "two 429s, then success");
}

#[tokio::test]
async fn rate_limit_gives_up_with_the_wait_when_retry_after_is_too_long() {
    let (emu, jira) = setup().await;
    emu.inject(fault("/myself", 429, 5, Some(30)));
    let started = Instant::now();
    let err = jira.myself().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "does not sleep 30 s inside a call");
    assert!(
        matches!(&err, Error::RateLimited { retry_after, reason }
            if *retry_after == Duration::from_secs(30) && reason.as_deref() == Some("jira-burst-based")),
        "{err:?}"
    );
}

#[tokio::test]
async fn rate_limited_writes_are_not_retried() {
    let (emu, jira) = setup().await;
    emu.inject(fault("/comment", 429, 1, Some(0)));
    let err = jira.add_comment("DEMO-1", super::adf::from_markdown("hi")).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(emu.request_count(), 1);
}

#[tokio::test]
async fn emulator_burst_limit_is_absorbed_by_retries() {
    let (emu, jira) = setup().await;
    emu.set_burst(Some(2));
    for _ in 0..4 {
        jira.myself().await.unwrap();
    }
    assert!(emu.request_count() > 4, "some requests were answered 429 and retried");
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let (emu, jira) = setup().await;
    emu.inject(fault("/myself", 503, 1, None));
    assert!(jira.myself().await.is_ok(), "one 503 is retried away");
    emu.inject(fault("/myself", 500, 10, None));
    let err = jira.myself().await.unwrap_err();
    assert!(matches!(err, Error::Server { status: 500, attempts: 4 }), "{err:?}");
}

#[tokio::test]
async fn absurd_retry_after_does_not_panic() {
    let (emu, jira) = setup().await;
    emu.inject(Fault { path_contains: "/myself".into(), status: 429, times: 10, retry_after: Some(u32::MAX) });
    let err = jira.myself().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
}

#[tokio::test]
async fn removed_api_maps_to_gone() {
    let (emu, jira) = setup().await;
    emu.inject(fault("/myself", 410, 1, None));
    let err = jira.myself().await.unwrap_err();
    assert!(matches!(err, Error::Gone { .. }), "{err:?}");
}

#[tokio::test]
async fn unreachable_host_says_connection_refused() {
    // Bind, learn a free port, release it: nothing listens there afterwards.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let jira = Jira::new(Client::new(&JiraConfig::demo(format!("http://127.0.0.1:{port}"))).unwrap().with_retry(FAST));
    let err = jira.myself().await.unwrap_err();
    let url = format!("http://127.0.0.1:{port}");
    assert!(
        matches!(&err, Error::Unreachable { url: u, detail } if *u == url && detail.starts_with("connection refused")),
        "{err:?}"
    );
}

#[tokio::test]
async fn local_limiter_holds_the_rate() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let mut config = JiraConfig::demo(emu.url());
    config.rate_per_second = std::num::NonZeroU32::new(20).unwrap();
    config.burst = std::num::NonZeroU32::new(1).unwrap();
    let jira = Jira::new(Client::new(&config).unwrap());
    let started = Instant::now();
    for _ in 0..11 {
        jira.myself().await.unwrap();
    }
    // 11 requests at 20/s with burst 1 need at least 10 intervals of 50 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "limiter let requests through too fast: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn search_all_pages_to_the_end_or_reports_the_cap() {
    let (_emu, jira) = setup().await;
    let (all, capped) = jira.search_all("project = DEMO", &["summary"], 1000).await.unwrap();
    assert!(!capped, "the whole project fits under the cap");
    assert!(all.len() > 30, "the demo project has more issues than one small page: {}", all.len());
    let (some, capped) = jira.search_all("project = DEMO", &["summary"], 30).await.unwrap();
    assert!(capped, "more issues match than the cap");
    assert_eq!(some.len(), 30);
    let keys = |v: &[super::models::Issue]| v.iter().map(|i| i.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&some), keys(&all[..30]), "the capped scan is the head of the full one");
}

// Defence in depth for JIRA_MCP_PROJECTS: an answer that still holds another project's issues
// (a moved issue, a Jira that ignored part of the query) loses them.
#[test]
fn answers_are_checked_again_after_the_fact() {
    use crate::config::Projects;
    let base = Jira::new(Client::new(&JiraConfig::demo("http://127.0.0.1:9".into())).unwrap());
    let issues = || -> Vec<super::models::Issue> {
        serde_json::from_value(serde_json::json!([
            { "key": "OPS-1", "fields": {} }, { "key": "DEMO-2", "fields": {} }, { "key": "OPSX-3", "fields": {} }
        ]))
        .unwrap()
    };
    let keys = |list: &[super::models::Issue]| list.iter().map(|i| i.key.clone()).collect::<Vec<_>>();
    let mut unrestricted = issues();
    base.drop_outside(&mut unrestricted);
    assert_eq!(keys(&unrestricted), ["OPS-1", "DEMO-2", "OPSX-3"], "control: without a list nothing is dropped");
    let restricted = base.restricted_to(Some(Projects::new(["OPS".to_owned()])));
    let mut answer = issues();
    restricted.drop_outside(&mut answer);
    assert_eq!(keys(&answer), ["OPS-1"]);
}
