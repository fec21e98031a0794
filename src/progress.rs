//! Progress of a long tool call (MCP `notifications/progress`), reported from
//! wherever the work happens without knowing MCP: the server sets a sink for
//! the call when the client sent a progress token, and [`report`] is a no-op
//! otherwise. The sink numbers the reports 1, 2, 3… (progress must grow; the
//! total is rarely known up front) and keeps their order.

use std::sync::Arc;

/// Where one call's progress messages go.
#[derive(Clone)]
pub(crate) struct Sink(Arc<dyn Fn(String) + Send + Sync>);

impl Sink {
    pub(crate) fn new(f: impl Fn(String) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("progress::Sink")
    }
}

tokio::task_local! {
    static SINK: Sink;
}

/// Runs `call` with `sink` receiving its progress (none: reports are dropped).
pub(crate) async fn with_sink<F: Future>(sink: Option<Sink>, call: F) -> F::Output {
    match sink {
        Some(sink) => SINK.scope(sink, call).await,
        None => call.await,
    }
}

/// Reports what the current tool call is doing, if its client asked for progress.
pub(crate) fn report(message: impl Into<String>) {
    let _ = SINK.try_with(|sink| (sink.0)(message.into()));
}
