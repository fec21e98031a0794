//! Contract check of the emulator against Atlassian's OpenAPI spec.
//!
//! tests/fixtures/jira-openapi-subset.json is extracted from the official spec
//! by scripts/extract-openapi-subset.py. For every operation jira-mcp uses, the
//! emulator must answer a valid request with one of the spec's success codes,
//! and every JSON key it returns must be a property the spec declares. The
//! emulator rejects unknown keys in the search body, as the spec's
//! `additionalProperties: false` does, so the client cannot drift either.

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

use jira_mcp::emulator::{DEMO_EMAIL, DEMO_TOKEN};
use serde_json::{Value, json};

fn subset() -> Value {
    serde_json::from_str(include_str!("fixtures/jira-openapi-subset.json")).unwrap()
}

/// A concrete request for each spec operation.
fn example(method: &str, path: &str) -> (String, Option<Value>) {
    let concrete = path
        .replace("{issueIdOrKey}", "DEMO-1")
        .replace("{projectIdOrKey}", "DEMO")
        .replace("{issueTypeId}", "10002")
        .replace("{linkId}", "10010")
        .replace("{id}", "60000")
        .replace("{boardId}", "1")
        .replace("{sprintId}", "2");
    let body = match (method, path) {
        ("POST", "/rest/api/3/search/jql") => {
            Some(json!({ "jql": "project = DEMO", "fields": ["summary", "status"], "maxResults": 5 }))
        }
        ("POST", "/rest/api/3/search/approximate-count") => Some(json!({ "jql": "project = DEMO" })),
        ("POST", "/rest/api/3/issue") => Some(json!({ "fields": {
            "project": { "key": "DEMO" }, "issuetype": { "name": "Task" }, "summary": "contract" } })),
        ("PUT", _) => Some(json!({ "fields": { "summary": "renamed" } })),
        ("POST", "/rest/api/3/issue/{issueIdOrKey}/transitions") => Some(json!({ "transition": { "id": "21" } })),
        ("POST", "/rest/api/3/issue/{issueIdOrKey}/comment") => {
            Some(json!({ "body": { "type": "doc", "version": 1, "content": [] } }))
        }
        ("POST", "/rest/api/3/search") => Some(json!({ "jql": "project = DEMO" })),
        ("POST", "/rest/api/3/issue/{issueIdOrKey}/worklog") => {
            Some(json!({ "timeSpent": "1h 30m", "started": "2026-11-30T09:00:00.000+0000" }))
        }
        ("POST", "/rest/api/3/issueLink") => Some(json!({
            "type": { "name": "Relates" }, "inwardIssue": { "key": "DEMO-2" }, "outwardIssue": { "key": "DEMO-3" } })),
        ("POST", "/rest/agile/1.0/sprint/{sprintId}/issue") => Some(json!({ "issues": ["DEMO-2"] })),
        ("POST", "/rest/agile/1.0/backlog/issue") => Some(json!({ "issues": ["DEMO-3"] })),
        _ => None,
    };
    let query = match path {
        "/rest/api/3/user/search" => "?query=sam",
        "/rest/api/3/issue/{issueIdOrKey}" if method == "DELETE" => "?deleteSubtasks=true",
        "/rest/agile/1.0/board" => "?projectKeyOrId=DEMO",
        _ => "",
    };
    (format!("{concrete}{query}"), body)
}

fn check_keys(op: &str, value: &Value, allowed: &[Value]) {
    let allowed: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
    let object = value.as_object().unwrap_or_else(|| panic!("{op}: expected a JSON object, got {value}"));
    for key in object.keys() {
        assert!(allowed.contains(&key.as_str()), "{op}: key {key:?} is not in the spec ({allowed:?})");
    }
}

#[tokio::test]
async fn emulator_answers_every_used_operation_in_the_specs_shape() {
    let emu = common::emulator().await;
    let http = reqwest::Client::new();
    let ops = subset()["operations"].as_array().unwrap().clone();
    assert!(ops.len() >= 30, "the fixture lists the operations jira-mcp uses");
    // Deletes last, so the other operations still find DEMO-1, and the issue itself very last.
    let mut ordered = ops.clone();
    ordered.sort_by_key(|op| (op["method"] == "DELETE", op["path"] == "/rest/api/3/issue/{issueIdOrKey}"));
    for op in ordered {
        let method = op["method"].as_str().unwrap();
        let path = op["path"].as_str().unwrap();
        let name = format!("{method} {path}");
        let (url_path, body) = example(method, path);
        let mut req = http
            .request(method.parse().unwrap(), format!("{}{url_path}", emu.url()))
            .basic_auth(DEMO_EMAIL, Some(DEMO_TOKEN));
        if let Some(b) = &body {
            req = req.json(b);
        }
        if path == "/rest/api/3/issue/{issueIdOrKey}/attachments" {
            // multipart/form-data with a `file` part, and Jira's XSRF opt-out header.
            let part =
                reqwest::multipart::Part::bytes(b"a,b\n".to_vec()).file_name("contract.csv").mime_str("text/csv");
            req = req
                .header("X-Atlassian-Token", "no-check")
                .multipart(reqwest::multipart::Form::new().part("file", part.unwrap()));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        if path == "/rest/api/3/search" {
            // The spec still lists the removed search (deprecated); Jira Cloud answers 410 since 2025.
            // Other deprecated operations (e.g. priority/search) still work and are checked normally.
            assert_eq!(op["deprecated"], true, "{name}");
            assert_eq!(status, 410, "{name}: removed API must answer 410: {text}");
            assert!(text.contains("/rest/api/3/search/jql"), "{name}: {text}");
            continue;
        }
        let success: Vec<u16> =
            op["success"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().parse().unwrap()).collect();
        assert!(success.contains(&status), "{name}: status {status} not in the spec's {success:?}: {text}");
        let Some(shape) = op["response"].as_object() else { continue };
        let allowed = shape["properties"].as_array().unwrap();
        if allowed.is_empty() || text.is_empty() {
            continue;
        }
        let json: Value = serde_json::from_str(&text).unwrap();
        if shape["array"] == true {
            for item in json.as_array().unwrap_or_else(|| panic!("{name}: expected an array")) {
                check_keys(&name, item, allowed);
            }
        } else if path == "/rest/api/3/issue/{issueIdOrKey}/remotelink" {
            // The spec declares one RemoteIssueLink, but Jira answers a list of them when no
            // globalId is given: each element must have the declared shape.
            for item in json.as_array().unwrap_or_else(|| panic!("{name}: expected a list")) {
                check_keys(&name, item, allowed);
            }
        } else {
            check_keys(&name, &json, allowed);
        }
    }
}

#[tokio::test]
async fn attachment_downloads_redirect_to_the_media_service_and_uploads_need_the_xsrf_header() {
    let emu = common::emulator().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |q: &str| {
        http.get(format!("{}/rest/api/3/attachment/content/60002{q}", emu.url()))
            .basic_auth(DEMO_EMAIL, Some(DEMO_TOKEN))
            .send()
    };
    // The default: 303 to a tokenised media URL, which answers without Jira's credentials.
    let resp = get("").await.unwrap();
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/media/file/60002/binary?token=", emu.url())), "{location}");
    let media = http.get(&location).send().await.unwrap();
    assert_eq!(media.status(), 200);
    let bytes = media.bytes().await.unwrap();
    assert_eq!(bytes, emu.attachments("OPS-2")[0].2);
    // Control: the media service refuses a made-up token.
    let forged = http.get(format!("{}/media/file/60002/binary?token=forged", emu.url())).send().await.unwrap();
    assert_eq!(forged.status(), 401);
    // redirect=false: the bytes themselves.
    let direct = get("?redirect=false").await.unwrap();
    assert_eq!(direct.status(), 200);
    assert_eq!(direct.bytes().await.unwrap(), bytes);
    assert_eq!(get("/../60999").await.unwrap().status(), 404);
    // Upload without X-Atlassian-Token: Jira's XSRF check refuses it.
    let part = reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt");
    let resp = http
        .post(format!("{}/rest/api/3/issue/DEMO-2/attachments", emu.url()))
        .basic_auth(DEMO_EMAIL, Some(DEMO_TOKEN))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.text().await.unwrap(), "XSRF check failed");
    assert!(emu.attachments("DEMO-2").is_empty());
}

#[tokio::test]
async fn an_issues_attachments_have_the_specs_shape() {
    let emu = common::emulator().await;
    let url = format!("{}/rest/api/3/issue/DEMO-1?fields=attachment", emu.url());
    let resp = reqwest::Client::new().get(url).basic_auth(DEMO_EMAIL, Some(DEMO_TOKEN)).send().await.unwrap();
    let json: Value = resp.json().await.unwrap();
    let files = json["fields"]["attachment"].as_array().unwrap();
    assert!(!files.is_empty(), "DEMO-1 has seeded attachments: {json}");
    let allowed = subset()["field_schemas"]["Attachment"]["properties"].as_array().unwrap().clone();
    for file in files {
        check_keys("attachment", file, &allowed);
        for required in ["id", "filename", "size", "mimeType", "created", "author", "content"] {
            assert!(file.get(required).is_some(), "{required} missing: {file}");
        }
    }
}

#[tokio::test]
async fn search_body_is_as_strict_as_the_spec() {
    let spec = subset();
    let search = spec["operations"].as_array().unwrap().iter().find(|o| o["path"] == "/rest/api/3/search/jql").unwrap();
    assert_eq!(search["request"]["additional"], false, "the spec forbids extra keys in the search body");
    let emu = common::emulator().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/rest/api/3/search/jql", emu.url()))
        .basic_auth(DEMO_EMAIL, Some(DEMO_TOKEN))
        .json(&json!({ "jql": "project = DEMO", "startAt": 20 }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "startAt belongs to the removed search API");
}

/// REST v2 (what other clients such as mcp-atlassian call) is v3 with rich text as strings.
#[tokio::test]
async fn rest_v2_is_v3_with_rich_text_as_strings() {
    let emu = common::emulator().await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", emu.url());
    let auth = |r: reqwest::RequestBuilder| r.basic_auth(DEMO_EMAIL, Some(DEMO_TOKEN));
    let get_json = |path: String| {
        let request = auth(http.get(url(&path)));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    let v3 = get_json("/rest/api/3/issue/DEMO-1?fields=description,summary".to_owned()).await;
    assert_eq!(v3["fields"]["description"]["type"], "doc", "control: v3 carries ADF");
    let v2 = get_json("/rest/api/2/issue/DEMO-1?fields=description,summary&updateHistory=true".to_owned()).await;
    let description = v2["fields"]["description"].as_str().expect("v2 description is a string");
    assert!(description.contains("Steps to reproduce"), "{description}");
    assert_eq!(v2["fields"]["summary"], v3["fields"]["summary"]);

    let created = auth(http.post(url("/rest/api/2/issue")))
        .json(&json!({ "fields": { "project": { "key": "DEMO" }, "issuetype": { "name": "Task" },
                                   "summary": "v2", "description": "Line one\n\n- a point" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let key = created.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned();
    let comment = auth(http.post(url(&format!("/rest/api/2/issue/{key}/comment"))))
        .json(&json!({ "body": "A plain *comment*" }))
        .send()
        .await
        .unwrap();
    assert_eq!(comment.status(), 201);
    assert_eq!(comment.json::<Value>().await.unwrap()["body"], "A plain *comment*");
    let stored = get_json(format!("/rest/api/3/issue/{key}?fields=description,comment")).await;
    assert_eq!(stored["fields"]["description"]["type"], "doc", "a v2 string is stored as ADF");
    assert_eq!(stored["fields"]["comment"]["comments"][0]["body"]["type"], "doc");

    let missing = auth(http.get(url("/rest/api/2/issue/NOPE-1"))).send().await.unwrap();
    assert_eq!(missing.status(), 404, "v3's errors come through unchanged");
}

#[tokio::test]
async fn board_sprints_filter_by_state() {
    let emu = common::emulator().await;
    let get = |q: &'static str| {
        let url = format!("{}/rest/agile/1.0/board/1/sprint{q}", emu.url());
        async move {
            let body: Value = reqwest::Client::new()
                .get(url)
                .basic_auth(DEMO_EMAIL, Some(DEMO_TOKEN))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["state"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(get("").await, ["closed", "active", "future"], "control: all without a filter");
    assert_eq!(get("?state=active").await, ["active"]);
    assert_eq!(get("?state=future,active").await, ["active", "future"]);
}
