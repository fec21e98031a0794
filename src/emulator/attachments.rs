//! Attachments of the demo site: metadata as Jira's `Attachment` schema and the
//! seeded files (a screenshot and a capture on DEMO-1, a log on OPS-2). It knows
//! nothing of the store: `state` attaches the files and names the authors.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::catalog::jira_time;

/// A file attached to an issue.
#[derive(Debug, Clone)]
pub(crate) struct FileRec {
    pub(crate) id: u64,
    pub(crate) filename: String,
    pub(crate) mime_type: String,
    pub(crate) size: u64,
    pub(crate) author: usize,
    pub(crate) created: DateTime<Utc>,
}

/// An attachment as the `attachment` field of an issue lists it, with its author's JSON.
pub(crate) fn attachment_json(a: &FileRec, author: Value, base: &str) -> Value {
    json!({
        "self": format!("{base}/rest/api/3/attachment/{}", a.id),
        "id": a.id.to_string(),
        "filename": a.filename,
        "author": author,
        "created": jira_time(a.created),
        "size": a.size,
        "mimeType": a.mime_type,
        "content": format!("{base}/rest/api/3/attachment/content/{}", a.id),
    })
}

/// Seeded files: (issue, name, media type, bytes, author, days ago).
const SEEDED: &[(&str, &str, &str, u64, usize, i64)] = &[
    ("DEMO-1", "login-timeout-3g.png", "image/png", 245_760, 1, 6),
    ("DEMO-1", "session-call.har.json", "application/json", 18_432, 0, 3),
    ("OPS-2", "api-gateway-2026-11-29.log", "text/plain", 52_114, 2, 1),
];

/// The seeded files, by issue key.
pub(crate) fn seeded(now: DateTime<Utc>) -> impl Iterator<Item = (&'static str, FileRec)> {
    SEEDED.iter().enumerate().map(move |(n, (key, name, mime, size, author, days))| {
        let file = FileRec {
            id: 60000 + n as u64,
            filename: (*name).to_owned(),
            mime_type: (*mime).to_owned(),
            size: *size,
            author: *author,
            created: now - Duration::days(*days),
        };
        (*key, file)
    })
}
