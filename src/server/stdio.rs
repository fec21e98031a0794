//! Serving `JiraMcp` over stdio: stdout is the JSON-RPC wire, logs go to stderr.
//!
//! rmcp's own stdio transport ends the session when anything but a request
//! arrives before `initialize` ("expect initialized request"), and answers invalid
//! JSON with silence. [`LineTransport`] sits in front of rmcp's service loop
//! instead: it reads bounded lines, answers what cannot be a message with the
//! JSON-RPC error the spec names (-32700 parse error, -32600 invalid request, with
//! a null id when the id cannot be known), drops (logging at debug) the
//! notifications and stray responses a server may ignore before the handshake,
//! and hands everything else to rmcp unchanged. Logged client input is bounded.

use std::{
    borrow::Cow,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use rmcp::{
    RoleServer, ServiceExt,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader},
    sync::{Mutex, mpsc},
};

use super::signal::stop_requested;
use crate::tools::JiraMcp;

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The client never completed `initialize`.
    #[error("MCP initialization failed: {0}")]
    Init(String),
    /// The service task failed.
    #[error("MCP service failed: {0}")]
    Service(String),
}

/// Longest line read as one message; longer ones are discarded and answered -32600.
const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
/// Characters of client input a log line may quote.
const LOG_EXCERPT_CHARS: usize = 80;
/// Longest method name passed on; MCP's are a few dozen characters.
const MAX_METHOD_CHARS: usize = 128;

/// At most [`LOG_EXCERPT_CHARS`] of client input, escaped, for a log line.
fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(LOG_EXCERPT_CHARS).flat_map(char::escape_debug).collect();
    if text.chars().nth(LOG_EXCERPT_CHARS).is_some() {
        out.push_str(&format!("… ({} bytes)", text.len()));
    }
    out
}

/// A JSON-RPC error response line.
fn error_line(id: &Value, code: i64, message: &str) -> Vec<u8> {
    let mut line = json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } }).to_string();
    line.push('\n');
    line.into_bytes()
}

/// What to do with one incoming line.
#[derive(Debug)]
enum Verdict {
    /// Hand it to rmcp.
    Pass(Box<RxJsonRpcMessage<RoleServer>>),
    /// Answer it with this line; rmcp never sees it.
    Answer(Vec<u8>),
    /// Ignore it (logged at debug).
    Drop(Cow<'static, str>),
}

/// Judges one line (without its newline). `ready` is whether the handshake is done.
fn judge(line: &[u8], ready: bool) -> Verdict {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        // Invalid JSON, or nested deeper than the parser's limit: no id can be known.
        Err(e) => return Verdict::Answer(error_line(&Value::Null, -32700, &format!("Parse error: {e}"))),
    };
    let id = value.get("id").filter(|id| id.is_string() || id.is_number()).cloned();
    let method = value.get("method").and_then(Value::as_str).map(str::to_owned);
    let is_reply = value.get("result").is_some() || value.get("error").is_some();
    if let (Some(id), Some(m)) = (&id, &method)
        && m.chars().count() > MAX_METHOD_CHARS
    {
        return Verdict::Answer(error_line(id, -32601, "Method not found"));
    }
    match serde_json::from_value::<RxJsonRpcMessage<RoleServer>>(value) {
        Ok(message) => {
            let is_request = matches!(message, rmcp::model::JsonRpcMessage::Request(_));
            if ready || is_request {
                Verdict::Pass(Box::new(message))
            } else {
                // The lifecycle lets a server ignore notifications (and there can be
                // no valid response) before initialize.
                Verdict::Drop(Cow::Owned(format!(
                    "before initialize: {}",
                    method.as_deref().map_or_else(|| "a response".to_owned(), excerpt)
                )))
            }
        }
        Err(_) if method.is_some() && id.is_none() => Verdict::Drop(Cow::Borrowed("a malformed notification")),
        Err(_) if is_reply && method.is_none() => Verdict::Drop(Cow::Borrowed("a malformed response")),
        Err(e) => Verdict::Answer(error_line(
            id.as_ref().unwrap_or(&Value::Null),
            -32600,
            &format!("Invalid Request: {}", excerpt(&e.to_string())),
        )),
    }
}

/// Outgoing lines, shared by rmcp's responses and the transport's own answers.
type Writer = Arc<Mutex<Box<dyn AsyncWrite + Send + Unpin>>>;

async fn write_line(writer: &Writer, line: &[u8]) -> std::io::Result<()> {
    let mut w = writer.lock().await;
    w.write_all(line).await?;
    w.flush().await
}

/// Reads bounded lines from `input`; returns `None` at EOF. A line over the
/// limit is consumed to its end and reported as `Some(Err(len))`.
async fn next_line<R: AsyncRead + Unpin>(input: &mut BufReader<R>, buf: &mut Vec<u8>) -> Option<Result<(), usize>> {
    buf.clear();
    let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX).saturating_add(1);
    let read = (&mut *input).take(limit).read_until(b'\n', buf).await.ok()?;
    if read == 0 {
        return None;
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        return Some(Ok(()));
    }
    if buf.len() <= MAX_LINE_BYTES {
        return Some(Ok(())); // the last line, without a newline
    }
    // Oversized: skip to the end of the line without keeping it.
    let mut skipped = buf.len();
    let mut scratch = Vec::new();
    loop {
        scratch.clear();
        let n = (&mut *input).take(64 * 1024).read_until(b'\n', &mut scratch).await.ok()?;
        skipped += n;
        if n == 0 || scratch.last() == Some(&b'\n') {
            return Some(Err(skipped));
        }
    }
}

/// rmcp's transport for one stdio client (see the module docs).
pub struct LineTransport {
    incoming: mpsc::Receiver<RxJsonRpcMessage<RoleServer>>,
    writer: Writer,
    /// Set once the server has answered `initialize`.
    ready: Arc<AtomicBool>,
}

impl std::fmt::Debug for LineTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineTransport").field("ready", &self.ready).finish_non_exhaustive()
    }
}

impl LineTransport {
    /// Reads messages from `input` and writes to `output` (stdin and stdout in production).
    pub fn new(
        input: impl AsyncRead + Send + Unpin + 'static,
        output: impl AsyncWrite + Send + Unpin + 'static,
    ) -> Self {
        let writer: Writer = Arc::new(Mutex::new(Box::new(output)));
        let ready = Arc::new(AtomicBool::new(false));
        let (tx, incoming) = mpsc::channel(32);
        let (reader_writer, reader_ready) = (writer.clone(), ready.clone());
        tokio::spawn(async move {
            let mut input = BufReader::new(input);
            let mut buf = Vec::new();
            while let Some(line) = next_line(&mut input, &mut buf).await {
                let verdict = match line {
                    Err(len) => {
                        tracing::debug!(bytes = len, "discarded an oversized message");
                        Verdict::Answer(error_line(
                            &Value::Null,
                            -32600,
                            &format!("Invalid Request: message over {MAX_LINE_BYTES} bytes"),
                        ))
                    }
                    Ok(()) if buf.iter().all(u8::is_ascii_whitespace) => continue,
                    Ok(()) => judge(&buf, reader_ready.load(Ordering::SeqCst)),
                };
                match verdict {
                    Verdict::Pass(message) => {
                        if tx.send(*message).await.is_err() {
                            break;
                        }
                    }
                    Verdict::Answer(reply) => {
                        tracing::debug!(input = %excerpt(&String::from_utf8_lossy(&buf)), "answered an invalid message");
                        if write_line(&reader_writer, &reply).await.is_err() {
                            break;
                        }
                    }
                    Verdict::Drop(what) => tracing::debug!("ignored {what}"),
                }
            }
        });
        Self { incoming, writer, ready }
    }
}

impl Transport<RoleServer> for LineTransport {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let (writer, ready) = (self.writer.clone(), self.ready.clone());
        async move {
            if let rmcp::model::JsonRpcMessage::Response(r) = &item
                && matches!(r.result, rmcp::model::ServerResult::InitializeResult(_))
            {
                ready.store(true, Ordering::SeqCst);
            }
            let mut line = serde_json::to_vec(&item)?;
            line.push(b'\n');
            write_line(&writer, &line).await
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleServer>>> + Send {
        self.incoming.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.incoming.close();
        Ok(())
    }
}

/// Serves one client on stdin/stdout until it disconnects or SIGINT, SIGTERM or
/// SIGHUP arrives; either way in-flight `run_python` runs are cancelled and their
/// containers removed before this returns.
///
/// # Errors
/// When the handshake fails or the service task dies.
pub async fn serve(server: JiraMcp) -> Result<(), ServeError> {
    serve_on(server, tokio::io::stdin(), tokio::io::stdout()).await
}

/// [`serve`] on any pair of streams (tests use in-memory pipes).
///
/// # Errors
/// When the handshake fails or the service task dies.
pub async fn serve_on(
    server: JiraMcp,
    input: impl AsyncRead + Send + Unpin + 'static,
    output: impl AsyncWrite + Send + Unpin + 'static,
) -> Result<(), ServeError> {
    let sweeper = server.clone();
    // Sweeping leftovers needs Docker; never delay the handshake for it.
    tokio::spawn(async move { sweeper.sweep_sandbox().await });
    let stop_signal = stop_requested();
    tokio::pin!(stop_signal);
    let transport = LineTransport::new(input, output);
    let serving = tokio::select! {
        running = server.clone().serve(transport) => Some(running.map_err(|e| ServeError::Init(e.to_string()))?),
        signal = &mut stop_signal => {
            // Dropping the unfinished handshake cancels everything it started.
            tracing::info!(signal, "shutting down: cancelling in-flight tool calls");
            None
        }
    };
    let reason = match serving {
        Some(running) => {
            let stop = running.cancellation_token();
            let waiting = running.waiting();
            tokio::pin!(waiting);
            tokio::select! {
                reason = &mut waiting => reason,
                signal = &mut stop_signal => {
                    tracing::info!(signal, "shutting down: cancelling in-flight tool calls");
                    stop.cancel();
                    waiting.await
                }
            }
            .map(|r| format!("{r:?}"))
            .map_err(|e| ServeError::Service(e.to_string()))
        }
        None => Ok("signal".to_owned()),
    };
    // The client is gone or we were told to stop: stop its runs and remove their
    // containers before exiting.
    server.drain_sandbox().await;
    tracing::info!(reason = ?reason?, "stdio session ended");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(line: &str, ready: bool) -> Value {
        match judge(line.as_bytes(), ready) {
            Verdict::Answer(reply) => serde_json::from_slice(&reply).unwrap(),
            other => panic!("{line}: expected an answer, got {other:?}"),
        }
    }

    #[test]
    fn invalid_json_and_deep_nesting_get_a_parse_error_with_a_null_id() {
        for line in ["{not json", "[", &"[".repeat(10_000), &format!("{}1{}", "[".repeat(200), "]".repeat(200))] {
            let reply = answer(line, true);
            assert_eq!(reply["id"], Value::Null, "{reply}");
            assert_eq!(reply["error"]["code"], -32700, "{reply}");
        }
    }

    #[test]
    fn a_wrong_shape_with_an_id_is_an_invalid_request_for_that_id() {
        let reply = answer(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":"nope"}"#, true);
        assert_eq!((reply["id"].clone(), reply["error"]["code"].clone()), (json!(7), json!(-32600)), "{reply}");
        let reply = answer(&format!(r#"{{"jsonrpc":"2.0","id":8,"method":"{}"}}"#, "m".repeat(10_000)), true);
        assert_eq!(reply["error"]["code"], -32601);
        assert!(reply.to_string().len() < 200, "a long method name is not echoed: {reply}");
    }

    #[test]
    fn notifications_and_stray_replies_before_initialize_are_ignored() {
        for line in [
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#,
            r#"{"jsonrpc":"2.0","method":"no/such/thing"}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"x"}}"#,
        ] {
            assert!(matches!(judge(line.as_bytes(), false), Verdict::Drop(_)), "{line}");
        }
        let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        assert!(matches!(judge(ping.as_bytes(), false), Verdict::Pass(_)), "requests go to rmcp");
    }

    #[test]
    fn log_excerpts_are_bounded_and_escaped() {
        let long = format!("x\n{}", "y".repeat(10_000_000));
        let e = excerpt(&long);
        assert!(e.len() < 120 && e.starts_with("x\\ny") && e.ends_with("(10000002 bytes)"), "{e}");
    }
}
