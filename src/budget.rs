//! Response-budget telemetry: for every tool call, how many tokens the model
//! received and how the call was shaped, kept in a local SQLite history that
//! `jira-mcp budget report` turns into figures and cap recommendations.
//!
//! What is recorded is facts about the call, never its content: the tool, the
//! outcome (ok or an error kind), duration, Jira requests, bytes and tokens of
//! the result, the names of the arguments set (only names the tool's schema
//! declares), the numbers of the size arguments (`page_size`, `max_comments`…),
//! the `include` sections, whether a cursor was used, and which caps cut the
//! output by how much. Never argument values otherwise, JQL, issue keys, text
//! or anything from Jira. Follow-ups ("the next call fetched more of the same
//! issue") are linked through a keyed hash of the call's target whose key is
//! random per process and never stored, so the history cannot be joined back to
//! keys or queries.
//!
//! Recording must never fail or slow a call: [`Recorder::record`] hands the
//! facts to a writer thread (token counting happens there too); a database
//! that cannot be opened or written is logged once and telemetry switches
//! itself off for the process. `count` counts tokens, `store` owns the
//! database, `report` reads it back. Knows nothing about MCP.

pub(crate) mod count;
mod record;
pub mod report;
mod store;

use std::{
    hash::{BuildHasher, Hasher},
    path::PathBuf,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

pub use record::{Call, Cut};
pub use store::Error;

/// A cap that can cut a tool's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cap {
    /// get_issue's description characters (`description_max_chars`).
    Description,
    /// get_issue's newest comments (`max_comments`).
    Comments,
    /// search_issues' page (`page_size`): the rest is behind the cursor.
    Page,
    /// get_attachment's text characters (`max_chars`).
    AttachmentText,
    /// get_attachment's image size (downscaled).
    Image,
    /// run_python's stdout or stderr bytes.
    RunOutput,
    /// summarize_project's scanned issues (`max_issues`).
    Scan,
}

impl Cap {
    /// Every cap, in report order.
    pub const ALL: [Self; 7] =
        [Self::Description, Self::Comments, Self::Page, Self::AttachmentText, Self::Image, Self::RunOutput, Self::Scan];

    /// The stored name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Description => "description",
            Self::Comments => "comments",
            Self::Page => "page",
            Self::AttachmentText => "attachment_text",
            Self::Image => "image",
            Self::RunOutput => "run_output",
            Self::Scan => "scan",
        }
    }

    /// The cap of a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// What the code of one call reported while it ran.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// Jira requests sent (retries included).
    pub(crate) jira_requests: u32,
    /// Caps that cut the output.
    pub(crate) cuts: Vec<Cut>,
    /// Image tokens of image content (Anthropic's width x height / 750).
    pub(crate) image_tokens: u64,
    /// The error kind, when the call failed.
    pub(crate) error_kind: Option<&'static str>,
}

tokio::task_local! {
    static FACTS: Arc<Mutex<Facts>>;
}

fn with_facts(f: impl FnOnce(&mut Facts)) {
    let _ = FACTS.try_with(|facts| f(&mut facts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)));
}

/// Tokens of `text` in o200k_base, the approximation every report uses (for the scripts that
/// count another server's output the same way, through `jira-mcp budget count`).
#[must_use]
pub fn count_tokens(text: &str) -> u64 {
    count::tokens(text)
}

/// Counts one Jira request of the current tool call (no-op outside one).
pub(crate) fn note_jira_request() {
    with_facts(|f| f.jira_requests += 1);
}

/// Records that `cap` cut the current call's output: `shown` of `total` units,
/// `shown_bytes` of result text for the shown part.
pub(crate) fn note_cut(cap: Cap, shown: u64, total: Option<u64>, shown_bytes: u64) {
    with_facts(|f| f.cuts.push(Cut { cap: cap.name().to_owned(), shown, total, shown_bytes }));
}

/// Records image content of `width` x `height` pixels in the current result.
pub(crate) fn note_image(width: u32, height: u32) {
    with_facts(|f| f.image_tokens += u64::from(width) * u64::from(height) / 750);
}

/// Records the current call's error kind (a fixed word, never text).
pub(crate) fn note_error(kind: &'static str) {
    with_facts(|f| f.error_kind = Some(kind));
}

/// Runs one tool call, collecting what its code reports.
pub(crate) async fn observe<F: Future>(call: F) -> (F::Output, Facts) {
    let facts = Arc::new(Mutex::new(Facts::default()));
    let output = FACTS.scope(facts.clone(), call).await;
    let facts = std::mem::take(&mut *facts.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    (output, facts)
}

/// The per-process key of [`tag`]: random, never stored.
static TAG_KEY: LazyLock<std::hash::RandomState> = LazyLock::new(std::hash::RandomState::new);

/// A keyed hash of `parts` (a call's target), linkable within this process only.
#[must_use]
pub(crate) fn tag(parts: &[&str]) -> String {
    let mut h = TAG_KEY.build_hasher();
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0);
    }
    format!("{:016x}", h.finish())
}

/// Telemetry settings (`JIRA_MCP_TELEMETRY`, `JIRA_MCP_TELEMETRY_DB`,
/// `JIRA_MCP_TELEMETRY_RETENTION_DAYS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Off: nothing is recorded and no file is created.
    pub enabled: bool,
    /// The database file.
    pub path: PathBuf,
    /// Calls older than this are deleted when the recorder starts.
    pub retention_days: u32,
}

enum Message {
    Record(Box<Call>, String),
    Flush(std::sync::mpsc::Sender<()>),
}

/// Records calls on a writer thread. Cheap to clone; a disabled recorder does nothing.
#[derive(Clone, Default)]
pub struct Recorder {
    tx: Option<std::sync::mpsc::Sender<Message>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("enabled", &self.tx.is_some()).finish()
    }
}

impl Recorder {
    /// A recorder that records nothing.
    #[must_use]
    pub fn off() -> Self {
        Self::default()
    }

    /// Starts the writer thread on `settings.path`. Never fails: a database that
    /// cannot be opened is logged once and the recorder is off.
    #[must_use]
    pub fn start(settings: &Settings) -> Self {
        if !settings.enabled {
            return Self::off();
        }
        let mut store = match store::Store::open(&settings.path) {
            Ok(store) => store,
            Err(e) => {
                tracing::warn!("telemetry is off for this process: {e}");
                return Self::off();
            }
        };
        if let Err(e) = store.prune(settings.retention_days) {
            tracing::warn!("telemetry is off for this process: {e}");
            return Self::off();
        }
        Self::spawn(Some(store))
    }

    /// This recorder, or, when it records nothing, one that only counts tokens for `/metrics`
    /// (an HTTP server with `JIRA_MCP_TELEMETRY=off` still shows operators its tokens per tool).
    #[must_use]
    pub fn or_metrics_only(self) -> Self {
        if self.is_on() { self } else { Self::spawn(None) }
    }

    /// The thread that counts each result's tokens (for `/metrics`) and writes it to `store`, if any.
    fn spawn(store: Option<store::Store>) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Message>();
        let spawned = std::thread::Builder::new().name("telemetry".to_owned()).spawn(move || {
            // Build the encoding now, not when the first call's record arrives.
            let _ = count::tokens("");
            let mut store = store;
            for message in rx {
                match message {
                    Message::Record(call, text) => {
                        let tokens = count::tokens(&text);
                        crate::metrics::tool_tokens(&call.tool, tokens);
                        let Some(s) = store.as_mut() else { continue };
                        if let Err(e) = s.insert(&call, text.len() as u64, tokens) {
                            // Logged once: the store is dropped and later records only feed /metrics.
                            tracing::warn!("telemetry is off for this process: {e}");
                            store = None;
                        }
                    }
                    Message::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        match spawned {
            Ok(_) => Self { tx: Some(tx) },
            Err(e) => {
                tracing::warn!("telemetry is off for this process: cannot start its thread: {e}");
                Self::off()
            }
        }
    }

    /// Whether calls are being recorded or counted.
    #[must_use]
    pub fn is_on(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues `call` with the text the model received (counted on the writer thread).
    pub fn record(&self, call: Call, text: String) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Message::Record(Box::new(call), text));
        }
    }

    /// Waits until everything queued so far is written (tests, shutdown).
    pub fn flush(&self) {
        if let Some(tx) = &self.tx {
            let (done, wait) = std::sync::mpsc::channel();
            if tx.send(Message::Flush(done)).is_ok() {
                let _ = wait.recv_timeout(Duration::from_secs(10));
            }
        }
    }
}
