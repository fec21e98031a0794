//! The SSE event store that makes an interrupted response stream resumable with
//! `Last-Event-ID`, also after the response was sent into a dropped connection
//! (rmcp's own per-request cache forgets a request's events once its response is
//! out). In memory, bounded in events and bytes, and expiring: a resume that comes
//! too late gets an error event instead of silence.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use rmcp::{
    model::{ErrorCode, ErrorData, ServerJsonRpcMessage},
    transport::{
        common::server_side_http::ServerSseMessage,
        streamable_http_server::session::{EventId, EventStore, EventStoreError, EventStream},
    },
};

/// The store's bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// Events kept per stream (the oldest go first).
    pub(crate) per_stream: usize,
    /// Bytes of messages kept in all (the oldest events go first).
    pub(crate) total_bytes: usize,
    /// How long an event stays replayable.
    pub(crate) ttl: Duration,
}

#[derive(Debug)]
struct Stored {
    seq: u64,
    at: Instant,
    bytes: usize,
    event: ServerSseMessage,
}

#[derive(Debug, Default)]
struct Inner {
    next_seq: u64,
    next_stream: u64,
    /// Stream number by rmcp's stream id.
    numbers: HashMap<String, u64>,
    /// Events by stream number, oldest first.
    streams: HashMap<u64, VecDeque<Stored>>,
    /// (arrival sequence, stream number), oldest first: the global eviction order.
    order: VecDeque<(u64, u64)>,
    bytes: usize,
}

impl Inner {
    /// Drops the oldest event of all; false when there is none.
    fn evict_oldest(&mut self) -> bool {
        let Some((seq, stream)) = self.order.pop_front() else { return false };
        if let Some(events) = self.streams.get_mut(&stream)
            && events.front().is_some_and(|e| e.seq == seq)
            && let Some(gone) = events.pop_front()
        {
            self.bytes = self.bytes.saturating_sub(gone.bytes);
            if events.is_empty() {
                self.streams.remove(&stream);
                self.numbers.retain(|_, n| *n != stream);
            }
        }
        true
    }
}

/// In-memory [`EventStore`] (see the module docs).
#[derive(Debug)]
pub(crate) struct MemoryEventStore {
    bounds: Bounds,
    inner: Mutex<Inner>,
}

impl MemoryEventStore {
    pub(crate) fn new(bounds: Bounds) -> Arc<Self> {
        Arc::new(Self { bounds, inner: Mutex::new(Inner::default()) })
    }
}

/// `stream-seq`: the stream is found again from the id alone.
fn event_id(stream: u64, seq: u64) -> String {
    format!("{stream}-{seq}")
}

fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (stream, seq) = id.trim().split_once('-')?;
    Some((stream.parse().ok()?, seq.parse().ok()?))
}

/// The one event a client gets when its stream cannot be replayed: an error, not silence.
fn expired(last_event_id: &str) -> EventStream {
    let message = ServerJsonRpcMessage::error(
        ErrorData::new(
            ErrorCode(-32000),
            format!(
                "cannot resume the stream after event {:?}: its events expired or were never stored here; \
                 send the request again (for a write, check first whether it was applied)",
                last_event_id.chars().take(40).collect::<String>()
            ),
            None,
        ),
        None,
    );
    let event = ServerSseMessage::from_message(message);
    Box::pin(futures_util::stream::iter([event]))
}

#[async_trait::async_trait]
impl EventStore for MemoryEventStore {
    async fn store_event(&self, stream_id: &str, event: &ServerSseMessage) -> Result<EventId, EventStoreError> {
        let bytes = event.message.as_ref().map_or(0, |m| serde_json::to_vec(m).map_or(0, |v| v.len())) + 64;
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        // Expire first (entries already dropped by the per-stream bound go too), then make room.
        while inner.order.front().is_some_and(|(seq, stream)| {
            inner
                .streams
                .get(stream)
                .and_then(|events| events.iter().find(|e| e.seq == *seq))
                .is_none_or(|e| e.at.elapsed() >= self.bounds.ttl)
        }) {
            inner.evict_oldest();
        }
        while inner.bytes + bytes > self.bounds.total_bytes && inner.evict_oldest() {}
        let stream = match inner.numbers.get(stream_id) {
            Some(n) => *n,
            None => {
                let n = inner.next_stream;
                inner.next_stream += 1;
                inner.numbers.insert(stream_id.to_owned(), n);
                n
            }
        };
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let id = event_id(stream, seq);
        let mut stored = event.clone();
        stored.event_id = Some(id.clone());
        let events = inner.streams.entry(stream).or_default();
        events.push_back(Stored { seq, at: Instant::now(), bytes, event: stored });
        let mut freed = 0;
        while events.len() > self.bounds.per_stream {
            freed += events.pop_front().map_or(0, |e| e.bytes);
        }
        inner.bytes = inner.bytes.saturating_sub(freed) + bytes;
        inner.order.push_back((seq, stream));
        Ok(id)
    }

    async fn replay_events_after(&self, last_event_id: &str) -> Result<EventStream, EventStoreError> {
        let Some((stream, after)) = parse_event_id(last_event_id) else { return Ok(expired(last_event_id)) };
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let events = inner.streams.get(&stream);
        // The client's last event must still be here, or events after it may be missing.
        let known = events.is_some_and(|e| e.iter().any(|e| e.seq == after && e.at.elapsed() < self.bounds.ttl));
        if !known {
            return Ok(expired(last_event_id));
        }
        let live: Vec<ServerSseMessage> =
            events.into_iter().flatten().filter(|e| e.seq > after).map(|e| e.event.clone()).collect();
        drop(inner);
        Ok(Box::pin(futures_util::stream::iter(live)))
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use rmcp::model::{EmptyResult, NumberOrString, ServerResult};

    use super::*;

    fn event(n: u32) -> ServerSseMessage {
        ServerSseMessage::from_message(ServerJsonRpcMessage::response(
            ServerResult::EmptyResult(EmptyResult {}),
            NumberOrString::Number(n.into()),
        ))
    }

    async fn replay(store: &MemoryEventStore, after: &str) -> Vec<String> {
        let events: Vec<ServerSseMessage> = store.replay_events_after(after).await.unwrap().collect().await;
        events
            .iter()
            .map(|e| match &e.event_id {
                Some(id) => id.clone(),
                None => serde_json::to_string(&e.message).unwrap(),
            })
            .collect()
    }

    fn bounds(per_stream: usize, total_bytes: usize, ttl_ms: u64) -> Bounds {
        Bounds { per_stream, total_bytes, ttl: Duration::from_millis(ttl_ms) }
    }

    #[tokio::test]
    async fn replays_later_events_of_the_same_stream_only() {
        let store = MemoryEventStore::new(bounds(8, 1 << 20, 60_000));
        let a0 = store.store_event("a", &event(0)).await.unwrap();
        let _b0 = store.store_event("b", &event(1)).await.unwrap();
        let a1 = store.store_event("a", &event(2)).await.unwrap();
        assert_eq!(replay(&store, &a0).await, std::slice::from_ref(&a1));
        assert!(replay(&store, &a1).await.is_empty(), "nothing after the last event");
    }

    #[tokio::test]
    async fn evicted_or_expired_events_give_an_error_not_silence() {
        let store = MemoryEventStore::new(bounds(2, 1 << 20, 60_000));
        let first = store.store_event("a", &event(0)).await.unwrap();
        for n in 1..3 {
            store.store_event("a", &event(n)).await.unwrap();
        }
        let replayed = replay(&store, &first).await;
        assert!(replayed.len() == 1 && replayed[0].contains("cannot resume"), "per-stream bound: {replayed:?}");

        let store = MemoryEventStore::new(bounds(8, 400, 60_000));
        let old = store.store_event("a", &event(0)).await.unwrap();
        for n in 1..10 {
            store.store_event("b", &event(n)).await.unwrap();
        }
        assert!(replay(&store, &old).await[0].contains("cannot resume"), "byte bound");
        assert!(store.inner.lock().unwrap().bytes <= 400);

        let store = MemoryEventStore::new(bounds(8, 1 << 20, 50));
        let id = store.store_event("a", &event(0)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(replay(&store, &id).await[0].contains("cannot resume"), "expiry");
        assert!(replay(&store, "garbage").await[0].contains("cannot resume"));
    }
}
