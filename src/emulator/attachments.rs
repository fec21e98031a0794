//! Attachments of the demo site: metadata as Jira's `Attachment` schema, the
//! seeded files with their bytes (two screenshots, a HAR capture, a PDF report,
//! a gateway log), and the names Jira's media service would serve them under.
//! It knows nothing of the store: `state` attaches the files and names the authors.

use std::{fmt::Write as _, sync::Arc};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::catalog::jira_time;

/// A file attached to an issue.
#[derive(Debug, Clone)]
pub(crate) struct FileRec {
    pub(crate) id: u64,
    pub(crate) filename: String,
    pub(crate) mime_type: String,
    pub(crate) author: usize,
    pub(crate) created: DateTime<Utc>,
    /// The file itself; its length is the `size` Jira reports.
    pub(crate) content: Arc<[u8]>,
}

/// Jira Cloud's default attachment size limit (`GET /rest/api/3/attachment/meta`).
pub(crate) const UPLOAD_LIMIT: u64 = 10 * 1024 * 1024;

/// An attachment as the `attachment` field of an issue (and `GET /attachment/{id}`) shows it.
pub(crate) fn attachment_json(a: &FileRec, author: Value, base: &str) -> Value {
    json!({
        "self": format!("{base}/rest/api/3/attachment/{}", a.id),
        "id": a.id.to_string(),
        "filename": a.filename,
        "author": author,
        "created": jira_time(a.created),
        "size": a.content.len(),
        "mimeType": a.mime_type,
        "content": format!("{base}/rest/api/3/attachment/content/{}", a.id),
    })
}

/// A seeded file: (issue, name, media type, author, days ago, bytes).
type Seed = (&'static str, &'static str, &'static str, usize, i64, Vec<u8>);

/// The seeded files.
fn seeded_files() -> Vec<Seed> {
    vec![
        ("DEMO-1", "login-timeout-3g.png", "image/png", 1, 6, include_bytes!("files/login-timeout-3g.png").to_vec()),
        ("DEMO-1", "session-call.har.json", "application/json", 0, 3, har().into_bytes()),
        ("OPS-2", "api-gateway-2026-11-29.log", "text/plain", 2, 1, gateway_log().into_bytes()),
        ("DEMO-5", "dark-mode-table.png", "image/png", 3, 2, include_bytes!("files/dark-mode-table.png").to_vec()),
        (
            "OPS-1",
            "backup-incident-2026-11-27.pdf",
            "application/pdf",
            2,
            3,
            include_bytes!("files/backup-incident-2026-11-27.pdf").to_vec(),
        ),
    ]
}

/// The seeded files, by issue key (ids from 60000, in the order above).
pub(crate) fn seeded(now: DateTime<Utc>) -> impl Iterator<Item = (&'static str, FileRec)> {
    seeded_files().into_iter().enumerate().map(move |(n, (key, name, mime, author, days, bytes))| {
        let file = FileRec {
            id: 60000 + n as u64,
            filename: name.to_owned(),
            mime_type: mime.to_owned(),
            author,
            created: now - Duration::days(days),
            content: bytes.into(),
        };
        (key, file)
    })
}

/// Lines of the seeded gateway log that are errors.
pub(crate) const GATEWAY_LOG_ERRORS: usize = 37;

/// A day of an API gateway's log: 600 lines, [`GATEWAY_LOG_ERRORS`] of them ERROR
/// (upstream timeouts on /api/session), some WARN, the rest INFO.
fn gateway_log() -> String {
    let mut out = String::new();
    let mut errors = 0;
    for n in 0..600_u32 {
        let (h, m, s) = (n / 25, (n * 7) % 60, (n * 13) % 60);
        let (level, line) = if n % 16 == 5 && errors < GATEWAY_LOG_ERRORS {
            errors += 1;
            ("ERROR", format!("upstream timeout after 30000 ms: POST /api/session (pod auth-{})", n % 3))
        } else if n % 9 == 0 {
            ("WARN", format!("slow upstream: GET /api/reports took {} ms", 2000 + n * 3))
        } else {
            ("INFO", format!("200 GET /api/projects/{} in {} ms", n % 40, 20 + n % 90))
        };
        let _ = writeln!(out, "2026-11-29T{h:02}:{m:02}:{s:02}Z {level:<5} gateway {line}");
    }
    out
}

/// A browser's HAR capture of the failing login call.
fn har() -> String {
    let entry = |method: &str, url: &str, status: u16, ms: u32| {
        json!({
            "startedDateTime": "2026-11-27T09:14:03.120Z",
            "time": ms,
            "request": { "method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": [] },
            "response": { "status": status, "statusText": if status == 504 { "Gateway Timeout" } else { "OK" },
                          "httpVersion": "HTTP/1.1", "headers": [], "content": { "size": 0, "mimeType": "application/json" } },
            "timings": { "send": 1, "wait": ms.saturating_sub(2), "receive": 1 }
        })
    };
    let har = json!({ "log": { "version": "1.2", "creator": { "name": "Chrome DevTools", "version": "131" }, "entries": [
        entry("GET", "https://app.example.com/login", 200, 1900),
        entry("GET", "https://app.example.com/static/app.js", 200, 11_200),
        entry("POST", "https://app.example.com/api/session", 504, 30_000),
    ]}});
    serde_json::to_string_pretty(&har).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeded_log_has_the_promised_error_lines() {
        let log = gateway_log();
        assert_eq!(log.lines().filter(|l| l.contains(" ERROR ")).count(), GATEWAY_LOG_ERRORS);
        assert_eq!(log.lines().count(), 600);
    }
}
