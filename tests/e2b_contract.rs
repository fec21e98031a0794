//! Contract check of the E2B backend and the local double against E2B's published
//! specifications.
//!
//! tests/fixtures/e2b-spec-subset.json is extracted from openapi.yml, envd.yaml
//! and process.proto by scripts/extract-e2b-subset.py. A scenario drives the real
//! backend (a run with data and an attachment, a timeout, the sweep) against the
//! double, which records every exchange; then every request the backend sent must
//! be an operation of the subset with only declared query parameters and body
//! properties (the required ones present), and every answer the double gave must
//! carry a status the spec declares for it and only declared properties (the
//! required ones present). The process stream is checked against the proto's
//! JSON field names. A control shows the check catches a drifted key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;
mod e2b_double;

use std::{collections::HashMap, sync::Arc};

use e2b_double::{API_KEY, Double, Exchange, Exec, Step};
use jira_mcp::{JiraMcp, config::SandboxBackend};
use serde_json::{Value, json};

fn subset() -> Value {
    serde_json::from_str(include_str!("fixtures/e2b-spec-subset.json")).unwrap()
}

/// The spec operation (`METHOD /path/{param}`) a concrete request is an instance of.
fn operation<'a>(ops: &'a serde_json::Map<String, Value>, method: &str, path: &str) -> Option<(&'a str, &'a Value)> {
    ops.iter().find_map(|(key, op)| {
        let (m, template) = key.split_once(' ')?;
        let t: Vec<&str> = template.split('/').collect();
        let p: Vec<&str> = path.split('/').collect();
        let same = m == method
            && t.len() == p.len()
            && t.iter().zip(&p).all(|(a, b)| a == b || (a.starts_with('{') && !b.is_empty()));
        same.then_some((key.as_str(), op))
    })
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// Problems of one JSON object against a schema shape from the subset.
fn object_problems(what: &str, value: &Value, shape: &Value, out: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        out.push(format!("{what}: expected an object, got {value}"));
        return;
    };
    let allowed = names(&shape["properties"]);
    for key in object.keys() {
        if !allowed.contains(&key.as_str()) {
            out.push(format!("{what}: {key:?} is not a property the spec declares ({allowed:?})"));
        }
    }
    for key in names(&shape["required"]) {
        if !object.contains_key(key) {
            out.push(format!("{what}: required {key:?} is missing"));
        }
    }
    if let Some(nested) = shape["nested"].as_object() {
        for (key, inner) in nested {
            if let Some(v) = object.get(key) {
                object_problems(&format!("{what}.{key}"), v, inner, out);
            }
        }
    }
}

fn body_problems(what: &str, value: &Value, shape: &Value, out: &mut Vec<String>) {
    if shape["array"] == true {
        match value.as_array() {
            Some(items) => items.iter().for_each(|i| object_problems(&format!("{what}[]"), i, shape, out)),
            None => out.push(format!("{what}: expected an array, got {value}")),
        }
    } else {
        object_problems(what, value, shape, out);
    }
}

/// Everything in `exchanges` that the spec subset does not allow.
fn problems(exchanges: &[Exchange], spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for e in exchanges {
        let what = format!("{} {} {}", e.host, e.method, e.path);
        if e.path == "/process.Process/Start" {
            process_problems(e, &spec["process"], &mut out);
            continue;
        }
        let ops = spec[if e.host == "api" { "control" } else { "envd" }].as_object().unwrap();
        let Some((key, op)) = operation(ops, &e.method, &e.path) else {
            out.push(format!("{what}: not an operation of the spec subset"));
            continue;
        };
        for (name, _) in &e.query {
            if !names(&op["query"]).contains(&name.as_str()) {
                out.push(format!("{key}: query parameter {name:?} is not declared"));
            }
        }
        if let (Some(body), Some(shape)) = (&e.request, op.get("request")) {
            object_problems(&format!("{key} request"), body, shape, &mut out);
        }
        let Some(response) = op["responses"].get(e.status.to_string()) else {
            out.push(format!("{key}: status {} is not declared", e.status));
            continue;
        };
        if let Some(body) = &e.response
            && response["no_json"] != true
        {
            body_problems(&format!("{key} {}", e.status), body, response, &mut out);
        }
    }
    out
}

fn process_problems(e: &Exchange, messages: &Value, out: &mut Vec<String>) {
    let fields = |m: &str| names(&messages[m]);
    let check = |what: &str, v: &Value, message: &str, out: &mut Vec<String>| {
        for key in v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            if !fields(message).contains(&key.as_str()) {
                out.push(format!("{what}: {key:?} is not a field of {message} ({:?})", fields(message)));
            }
        }
    };
    let request = e.request.clone().unwrap_or_default();
    check("Start request", &request, "StartRequest", out);
    check("Start request.process", &request["process"], "ProcessConfig", out);
    let (last, events) = e.frames.split_last().map_or((None, &[][..]), |(l, rest)| (Some(l), rest));
    for frame in events {
        check("Start frame", frame, "StartResponse", out);
        check("Start frame.event", &frame["event"], "ProcessEvent", out);
        for (kind, message) in [
            ("start", "ProcessEvent.StartEvent"),
            ("data", "ProcessEvent.DataEvent"),
            ("end", "ProcessEvent.EndEvent"),
            ("keepalive", "ProcessEvent.KeepAlive"),
        ] {
            if let Some(v) = frame["event"].get(kind) {
                check(&format!("Start frame.event.{kind}"), v, message, out);
            }
        }
    }
    // Connect's end-of-stream message: `error` and `metadata` only (connectrpc.com/docs/protocol).
    if let Some(end) = last
        && end.get("event").is_none()
        && end.as_object().is_some_and(|o| o.keys().any(|k| k != "error" && k != "metadata"))
    {
        out.push(format!("Start end-of-stream: unexpected keys in {end}"));
    }
}

fn scripted() -> Exec {
    Exec::Scripted(Arc::new(|files: &HashMap<String, Vec<u8>>| {
        let code =
            String::from_utf8_lossy(files.get("/root/jira-mcp/main.py").map_or(&[][..], Vec::as_slice)).into_owned();
        if code.contains("sleep") {
            return vec![Step::Hang];
        }
        vec![
            Step::Stdout(b"ok\n".to_vec()),
            Step::Stderr(b"warn\n".to_vec()),
            Step::Write("/root/jira-mcp/report.json".into(), br#"{"exit_code":0,"oom_killed":false}"#.to_vec()),
            Step::Exit(0),
        ]
    }))
}

#[tokio::test]
async fn the_backend_and_the_double_speak_e2bs_published_shapes() {
    let d = Double::start(scripted()).await;
    d.seed(&[("io.github.jira-mcp.sandbox", "1")], chrono::Duration::hours(1));
    let emu = common::emulator().await;
    emu.attach("DEMO-3", "report.csv", "text/csv", b"a,b\n1,2\n").unwrap();
    let mut config = common::config_for(&emu);
    config.sandbox.backend = SandboxBackend::E2b(d.config());
    let mcp = JiraMcp::new(&config).unwrap();
    mcp.sweep_sandbox().await;
    let client = common::connect(mcp).await;
    let args = json!({ "code": "print('ok')", "jql": "project = OPS", "attachments": ["DEMO-3"] });
    assert!(!common::text(&common::call(&client, "run_python", args).await).0);
    let timed = json!({ "code": "import time\ntime.sleep(9)", "timeout_s": 1 });
    assert!(common::text(&common::call(&client, "run_python", timed).await).1.starts_with("TIMED OUT"));
    // The template check doctor makes, and a dead sandbox's answer, straight at the double.
    let http = reqwest::Client::builder()
        .resolve("api.e2b.local", d.addr)
        .tls_certs_only(Vec::<reqwest::Certificate>::new())
        .build()
        .unwrap();
    for path in ["/templates/base", "/sandboxes/gone"] {
        let url = format!("http://api.e2b.local:{}{path}", d.addr.port());
        http.get(url).header("X-API-Key", API_KEY).send().await.unwrap();
    }
    let seen = d.exchanges();
    let ops: Vec<String> = seen.iter().map(|e| format!("{} {} {}", e.host, e.method, e.path)).collect();
    for expected in [
        "api GET /v2/sandboxes",
        "api POST /sandboxes",
        "api GET /templates/base",
        "envd POST /files",
        "envd POST /process.Process/Start",
        "envd GET /files",
    ] {
        assert!(ops.iter().any(|o| o == expected), "control: the scenario covers {expected}: {ops:?}");
    }
    assert!(seen.iter().any(|e| e.method == "DELETE" && e.status == 204), "{ops:?}");
    assert!(seen.iter().any(|e| e.status == 404), "an error answer is checked too: {ops:?}");
    let found = problems(&seen, &subset());
    assert!(found.is_empty(), "off the spec:\n{}", found.join("\n"));
}

#[test]
fn the_check_catches_a_drifted_key_and_an_undeclared_status() {
    // Control: `allowInternetAccess` is SandboxDetail's spelling; NewSandbox's is allow_internet_access.
    let drifted = Exchange {
        host: "api",
        method: "POST".into(),
        path: "/sandboxes".into(),
        query: Vec::new(),
        request: Some(json!({ "templateID": "base", "allowInternetAccess": false })),
        status: 418,
        response: None,
        frames: Vec::new(),
    };
    let found = problems(&[drifted], &subset());
    assert_eq!(
        found,
        [
            "POST /sandboxes request: \"allowInternetAccess\" is not a property the spec declares ([\"allow_internet_access\", \
             \"autoPause\", \"autoPauseMemory\", \"autoResume\", \"envVars\", \"iam\", \"mcp\", \"metadata\", \"network\", \
             \"secure\", \"templateID\", \"timeout\", \"volumeMounts\"])",
            "POST /sandboxes: status 418 is not declared",
        ]
    );
    let stream = Exchange {
        host: "envd",
        method: "POST".into(),
        path: "/process.Process/Start".into(),
        query: Vec::new(),
        request: Some(json!({ "process": { "cmd": "x", "argv": [] } })),
        status: 200,
        response: None,
        frames: vec![json!({ "event": { "end": { "exit_code": 0 } } }), json!({})],
    };
    let found = problems(&[stream], &subset());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("\"argv\" is not a field of ProcessConfig"), "{found:?}");
    assert!(
        found[1].contains("\"exit_code\" is not a field of ProcessEvent.EndEvent"),
        "proto3 JSON is exitCode: {found:?}"
    );
}
