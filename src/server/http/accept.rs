//! Which TCP connections the HTTP app gets, decided before any request reaches it
//! (so before authentication): `TCP_NODELAY` on every accepted socket, hyper's
//! header-read timeout, an idle timeout, and a cap on open connections. At the cap
//! the connection that has been idle longest (no request in flight: silent,
//! slow-header or kept-alive sockets) is closed to make room, so a flood of sockets
//! cannot lock out `/healthz` or a client with a token; connections serving a
//! request are never closed for it. hyper parses HTTP; this module never does.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, body::Body};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// The connection limits (from `HttpConfig`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Most open connections.
    pub(crate) max_connections: usize,
    /// Time to send a complete request head.
    pub(crate) header_timeout: Duration,
    /// Time a connection may sit without a request in flight.
    pub(crate) idle_timeout: Duration,
}

/// Pause after a failed accept (e.g. out of file descriptors) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// One open connection as the cap and the idle timeout see it.
#[derive(Debug)]
struct Conn {
    /// Requests whose response has not been sent completely.
    busy: AtomicUsize,
    /// When the last request started or finished (accept time at first).
    last_active: Mutex<Instant>,
    /// Cancelled to close the connection at once (evicted at the cap).
    kill: CancellationToken,
}

impl Conn {
    fn idle_for(&self) -> Duration {
        self.last_active.lock().unwrap_or_else(PoisonError::into_inner).elapsed()
    }

    fn touch(&self) {
        *self.last_active.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }
}

/// Marks a request in flight on its connection until its response body is done.
#[derive(Debug)]
struct Busy(Arc<Conn>);

impl Busy {
    fn start(conn: &Arc<Conn>) -> Self {
        conn.busy.fetch_add(1, Ordering::SeqCst);
        conn.touch();
        Self(conn.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The open connections.
#[derive(Debug, Default)]
struct Registry {
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    /// When the last "cap reached" warning was logged (one per second at most).
    last_warning: Mutex<Option<Instant>>,
}

impl Registry {
    /// Registers a new connection; at the cap, first closes the connection idle
    /// longest. `None` when the cap is reached and every connection is busy.
    fn admit(&self, max: usize) -> Option<(u64, Arc<Conn>)> {
        let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        if conns.len() >= max {
            let victim = conns
                .iter()
                .filter(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
                .max_by_key(|(_, c)| c.idle_for())
                .map(|(id, _)| *id);
            let evicted = victim.and_then(|id| conns.remove(&id));
            match evicted {
                Some(conn) => {
                    conn.kill.cancel();
                    self.warn_once_a_second(max, "closed the longest-idle connection to make room");
                }
                None => {
                    self.warn_once_a_second(max, "every connection is serving a request: refused a new one");
                    return None;
                }
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
            kill: CancellationToken::new(),
        });
        conns.insert(id, conn.clone());
        Some((id, conn))
    }

    fn remove(&self, id: u64) {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }

    fn open(&self) -> usize {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    fn warn_once_a_second(&self, max: usize, what: &str) {
        let mut last = self.last_warning.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            *last = Some(Instant::now());
            tracing::warn!(max_connections = max, "connection cap reached (JIRA_MCP_HTTP_MAX_CONNECTIONS): {what}");
        }
    }
}

/// The connections still open after the listener closed.
#[derive(Debug, Clone)]
pub(crate) struct Open(Arc<Registry>);

impl Open {
    /// Waits until every connection has closed, at most `within`; false if some are left.
    pub(crate) async fn closed(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.0.open() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(ACCEPT_BACKOFF).await;
        }
        true
    }
}

/// Accepts connections and serves `app` on each until `stop_accepting` is
/// cancelled; then closes the listener and returns the connections still open.
/// They go on (a request on one still reaches `app`) until `close` is cancelled:
/// then each closes once its response in flight is sent, idle ones at once.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop_accepting: CancellationToken,
    close: CancellationToken,
) -> Open {
    let registry = Arc::new(Registry::default());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: never fatal.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = stop_accepting.cancelled() => match pending(&listener).await {
                // Connections the kernel completed before the listener closes would be reset
                // with their request unread (a proxy answers 502 and does not retry a POST):
                // take them too; their requests get the draining server's retryable answer.
                Some(stream) => stream,
                None => break,
            },
        };
        // Without it, small responses on a reused connection wait for the
        // client's delayed ACK (about 40 ms per request).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let Some((id, conn)) = registry.admit(limits.max_connections) else { continue };
        let (registry, app, close) = (registry.clone(), app.clone(), close.clone());
        tokio::spawn(async move {
            connection(stream, app, &conn, limits, &close).await;
            registry.remove(id);
        });
    }
    drop(listener);
    Open(registry)
}

/// A connection already waiting in the listener's backlog, if any (never waits for a new one).
async fn pending(listener: &TcpListener) -> Option<TcpStream> {
    match tokio::time::timeout(Duration::ZERO, listener.accept()).await {
        Ok(Ok((stream, _peer))) => Some(stream),
        Ok(Err(_)) | Err(_) => None,
    }
}

/// Serves one connection until it ends, is evicted, idles out, or shuts down.
async fn connection(stream: TcpStream, app: Router, conn: &Arc<Conn>, limits: Limits, shutdown: &CancellationToken) {
    let service = {
        let conn = conn.clone();
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let busy = Busy::start(&conn);
            let app = app.clone();
            async move {
                let response = app.oneshot(request.map(Body::new)).await?;
                Ok::<_, std::convert::Infallible>(response.map(|inner| super::guarded::hold(inner, busy)))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    let served = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(served);
    let mut draining = false;
    loop {
        let idle_left = limits.idle_timeout.saturating_sub(conn.idle_for());
        tokio::select! {
            result = served.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = conn.kill.cancelled() => return,
            () = shutdown.cancelled(), if !draining => {
                served.as_mut().graceful_shutdown();
                draining = true;
            }
            () = tokio::time::sleep(idle_left.max(Duration::from_millis(10))) => {
                if conn.busy.load(Ordering::SeqCst) == 0 && conn.idle_for() >= limits.idle_timeout {
                    tracing::debug!("closing an idle connection");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_waiting_in_the_backlog_when_accepting_stops_are_served_not_reset() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        // See the fleet test's drain check: nginx answered 502 to a few POSTs sent on connections the kernel
        // had completed just before the listener closed.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut waiting = Vec::new();
        for _ in 0..10 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
            waiting.push(stream);
        }
        let stop = CancellationToken::new();
        stop.cancel();
        let app = Router::new().route("/", axum::routing::get(|| async { "served" }));
        let limits = Limits {
            max_connections: 64,
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(5),
        };
        let open = serve(listener, app, limits, stop, CancellationToken::new()).await;
        for mut stream in waiting {
            let mut answer = String::new();
            let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer)).await;
            assert!(matches!(read, Ok(Ok(_))), "{read:?}");
            assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("served"), "{answer:?}");
        }
        assert!(open.closed(Duration::from_secs(5)).await);
    }

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room_and_busy_ones_never_do() {
        let registry = Registry::default();
        let (_, oldest) = registry.admit(2).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let (_, newer) = registry.admit(2).unwrap();
        let (_, third) = registry.admit(2).unwrap();
        assert!(oldest.kill.is_cancelled(), "the longest-idle connection is closed");
        assert!(!newer.kill.is_cancelled());
        let busy_a = Busy::start(&newer);
        let busy_b = Busy::start(&third);
        assert!(registry.admit(2).is_none(), "all busy: the newcomer is refused, nobody is closed");
        assert!(!newer.kill.is_cancelled() && !third.kill.is_cancelled());
        drop(busy_a);
        assert!(registry.admit(2).is_some(), "a finished request makes its connection evictable again");
        assert!(newer.kill.is_cancelled());
        drop(busy_b);
    }
}
