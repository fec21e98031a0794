//! The telemetry database: one SQLite file (WAL, so Claude Desktop and Claude
//! Code can write to it at once), one row per tool call, facts only.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, params};

use super::record::{Call, Cut};

/// Why the database cannot be used: the path and SQLite's reason.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder cannot be created.
    #[error("cannot create {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    /// SQLite refused (read-only, corrupt, locked, not a database…).
    #[error("{path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
}

/// Version of the schema below (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    session TEXT NOT NULL,
    tool TEXT NOT NULL,
    outcome TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    jira_requests INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    image_tokens INTEGER NOT NULL,
    args TEXT NOT NULL,
    sizes TEXT NOT NULL,
    include TEXT,
    cursor INTEGER NOT NULL,
    target TEXT,
    cuts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_at ON calls (at_ms);
";

/// An open database.
pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating) the database at `path` and its folder (mode 0700).
    pub(crate) fn open(path: &Path) -> Result<Self, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| Error::Folder { path: dir.display().to_string(), source })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let sqlite = |source| Error::Sqlite { path: path.display().to_string(), source };
        let conn = Connection::open_with_flags(path, flags).map_err(sqlite)?;
        // Writers of other processes wait up to 2 s (on this thread, never a tool call's).
        conn.busy_timeout(std::time::Duration::from_secs(2)).map_err(sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sqlite)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(sqlite)?;
        conn.execute_batch(SCHEMA).map_err(sqlite)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(sqlite)?;
        Ok(Self { conn, path: path.to_owned() })
    }

    /// Opens an existing database read-only (the report).
    pub(crate) fn open_read_only(path: &Path) -> Result<Self, Error> {
        let sqlite = |source| Error::Sqlite { path: path.display().to_string(), source };
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(2)).map_err(sqlite)?;
        Ok(Self { conn, path: path.to_owned() })
    }

    fn sqlite(&self, source: rusqlite::Error) -> Error {
        Error::Sqlite { path: self.path.display().to_string(), source }
    }

    /// Deletes calls older than `days`.
    pub(crate) fn prune(&mut self, days: u32) -> Result<usize, Error> {
        let cutoff = chrono::Utc::now().timestamp_millis() - i64::from(days) * 86_400_000;
        self.conn.execute("DELETE FROM calls WHERE at_ms < ?1", params![cutoff]).map_err(|e| self.sqlite(e))
    }

    /// Appends one call with its result's size.
    pub(crate) fn insert(&mut self, c: &Call, bytes: u64, tokens: u64) -> Result<(), Error> {
        let sizes = serde_json::to_string(&c.sizes).unwrap_or_default();
        let include = c.include.as_ref().map(|i| i.join(","));
        let cuts = serde_json::to_string(&c.cuts).unwrap_or_default();
        self.conn
            .execute(
                "INSERT INTO calls (at_ms, session, tool, outcome, duration_ms, jira_requests, bytes, tokens, \
                 image_tokens, args, sizes, include, cursor, target, cuts) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    c.at_ms,
                    c.session,
                    c.tool,
                    c.outcome,
                    c.duration.as_secs_f64() * 1000.0,
                    c.jira_requests,
                    bytes as i64,
                    tokens as i64,
                    c.image_tokens as i64,
                    c.args.join(","),
                    sizes,
                    include,
                    c.cursor,
                    c.target,
                    cuts
                ],
            )
            .map(drop)
            .map_err(|e| self.sqlite(e))
    }

    /// Calls since `since_ms`, oldest first (per session in call order).
    pub(crate) fn calls_since(&self, since_ms: i64) -> Result<Vec<Row>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT at_ms, session, tool, outcome, duration_ms, jira_requests, bytes, tokens, image_tokens, args, \
                 sizes, include, cursor, target, cuts FROM calls WHERE at_ms >= ?1 ORDER BY at_ms, id",
            )
            .map_err(|e| self.sqlite(e))?;
        let rows = stmt
            .query_map(params![since_ms], |r| {
                let sizes: String = r.get(10)?;
                let cuts: String = r.get(14)?;
                let include: Option<String> = r.get(11)?;
                Ok(Row {
                    at_ms: r.get(0)?,
                    session: r.get(1)?,
                    tool: r.get(2)?,
                    outcome: r.get(3)?,
                    duration_ms: r.get(4)?,
                    jira_requests: r.get(5)?,
                    bytes: r.get::<_, i64>(6)?.max(0) as u64,
                    tokens: r.get::<_, i64>(7)?.max(0) as u64,
                    image_tokens: r.get::<_, i64>(8)?.max(0) as u64,
                    sizes: serde_json::from_str(&sizes).unwrap_or_default(),
                    include: include.map(|i| i.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()),
                    cursor: r.get(12)?,
                    target: r.get(13)?,
                    cuts: serde_json::from_str::<Vec<Cut>>(&cuts).unwrap_or_default(),
                })
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.sqlite(e))
    }
}

/// One recorded call, as the report reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub at_ms: i64,
    pub session: String,
    pub tool: String,
    pub outcome: String,
    pub duration_ms: f64,
    pub jira_requests: u32,
    pub bytes: u64,
    pub tokens: u64,
    pub image_tokens: u64,
    pub sizes: Vec<(String, u64)>,
    pub include: Option<Vec<String>>,
    pub cursor: bool,
    pub target: Option<String>,
    pub cuts: Vec<Cut>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_drops_calls_older_than_the_retention() {
        let dir = std::env::temp_dir().join(format!("jira-mcp-store-{}", uuid::Uuid::new_v4().simple()));
        let mut store = Store::open(&dir.join("t.db")).unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        for days in [0, 2, 40] {
            let call = Call { at_ms: now - days * 86_400_000, tool: format!("t{days}"), ..Call::default() };
            store.insert(&call, 10, 3).unwrap();
        }
        assert_eq!(store.calls_since(0).unwrap().len(), 3);
        assert_eq!(store.prune(30).unwrap(), 1);
        assert_eq!(store.prune(1).unwrap(), 1);
        let left: Vec<String> = store.calls_since(0).unwrap().into_iter().map(|r| r.tool).collect();
        assert_eq!(left, ["t0"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
