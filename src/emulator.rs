//! A seeded, in-memory Jira Cloud emulator on loopback.
//!
//! Used by `jira-mcp demo` and by the tests. It speaks the REST v3 paths and
//! JSON shapes of Atlassian's OpenAPI spec, with Jira's own error texts: 404
//! "Issue does not exist...", plain-text 401, 400 for bad JQL, 410 for the
//! removed search API, and 429 with `Retry-After` + `X-RateLimit-*` when the
//! configured burst is exceeded. It is a test double, not a Jira: it never
//! binds anything but 127.0.0.1.
//!
//! Layout: this file holds the public API, the router and its middleware
//! (request counting, auth, scripted faults and the burst limit). `app` has the
//! shared state and the caller lookup, `respond` Jira's error shapes, `issues`,
//! `search`, `meta`, `work`, `agile` and `media` the handlers, `attachments` the files, `state` the seed
//! data and the in-memory store, and `jql` the JQL parser and evaluator. Child modules never import
//! this file; it imports them. Handlers and data do not belong here.

mod agile;
mod app;
mod attachments;
mod bulk;
mod catalog;
mod issues;
mod jql;
mod media;
mod meta;
mod permissions;
mod respond;
mod search;
mod state;
mod v2;
mod work;

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use chrono::Utc;
use tokio_util::sync::CancellationToken;

pub use app::{Fault, Shape, ShapeFault};
pub use state::{DEMO_EMAIL, DEMO_TOKEN};

use app::{AppState, Shared, caller};
use issues::{
    add_comment, create_issue, delete_issue, do_transition, edit_issue, get_issue, list_comments, list_transitions,
};
use meta::{create_meta, myself, priorities, project, project_search, statuses, user_search};
use respond::{error_collection, shaped};
use search::{approximate_count, search};
use state::Data;

/// Emulator settings.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// Requests per second allowed before answering 429 (`None`: unlimited).
    pub burst_per_second: Option<u32>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Generated issues added to the seeded site (the simulated week's larger data set).
    pub extra_issues: usize,
    /// Milliseconds every write (create, edit, transition, comment, delete) waits before
    /// it is handled: a slow site, so a test can act while a write is in flight.
    pub write_delay_ms: u64,
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<Mutex<Shared>>,
    stop: CancellationToken,
}

impl Emulator {
    /// Binds 127.0.0.1 and serves the seeded site in the background.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared {
            data: {
                let now = Utc::now();
                let mut data = Data::seeded(now);
                data.add_bulk(config.extra_issues, now);
                data
            },
            faults: Vec::new(),
            shape_faults: Vec::new(),
            writes: 0,
            window: VecDeque::new(),
            arrivals: Vec::new(),
            burst: config.burst_per_second,
            write_delay: Duration::from_millis(config.write_delay_ms),
            echo_auth: 0,
            denied_permissions: Vec::new(),
            media_tokens: Vec::new(),
        }));
        let app = router(AppState { shared: shared.clone(), base: format!("http://{addr}").into() });
        let stop = CancellationToken::new();
        let token = stop.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(token.cancelled_owned()).await;
            if let Err(e) = served {
                tracing::error!("emulator stopped: {e}");
            }
        });
        Ok(Self { addr, state: shared, stop })
    }

    /// The base URL to use as `JIRA_URL`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues a scripted failure.
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// Queues a scripted misbehaviour (HTML page, cut or endless body, ...).
    pub fn inject_shape(&self, fault: ShapeFault) {
        self.lock().shape_faults.push(fault);
    }

    /// Writes Jira applied so far (whether or not their answer reached the client).
    #[must_use]
    pub fn writes_applied(&self) -> usize {
        self.lock().writes
    }

    /// The next `times` requests answer 400 with their `Authorization` header copied
    /// into the error message, like a misbehaving proxy (tests of credential scrubbing).
    pub fn echo_authorization(&self, times: u32) {
        self.lock().echo_auth = times;
    }

    /// From now on `mypermissions` reports `key` (e.g. `DELETE_ISSUES`) as not held.
    pub fn deny_permission(&self, key: &str) {
        self.lock().denied_permissions.push(key.to_owned());
    }

    /// Attaches a file to `key` by `author` (a demo user's index) as Jira would store
    /// it, name unchanged (tests plant hostile names with it). `None` if there is no such issue.
    pub fn attach(&self, key: &str, name: &str, mime: &str, bytes: &[u8]) -> Option<u64> {
        self.lock().data.attach(key, name, mime, bytes, 0).map(|f| f.id)
    }

    /// The files attached to `key`, oldest first: (id, name, content).
    #[must_use]
    pub fn attachments(&self, key: &str) -> Vec<(u64, String, Vec<u8>)> {
        let s = self.lock();
        s.data.find(key).map_or_else(Vec::new, |i| {
            i.attachments.iter().map(|a| (a.id, a.filename.clone(), a.content.to_vec())).collect()
        })
    }

    /// Changes the burst limit (`None`: unlimited).
    pub fn set_burst(&self, burst: Option<u32>) {
        self.lock().burst = burst;
    }

    /// Requests received so far.
    #[must_use]
    pub fn request_count(&self) -> usize {
        self.lock().arrivals.len()
    }

    /// The most requests that arrived within any one-second window.
    #[must_use]
    pub fn peak_requests_per_second(&self) -> usize {
        peak_per_second(&self.lock().arrivals)
    }

    /// Whether an issue exists (tests check deletes with it).
    #[must_use]
    pub fn has_issue(&self, key: &str) -> bool {
        self.lock().data.find(key).is_some()
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/rest/api/3/myself", get(myself))
        .route("/rest/api/3/mypermissions", get(permissions::my_permissions))
        .route("/rest/api/3/search/jql", post(search))
        .route("/rest/api/3/search/approximate-count", post(approximate_count))
        .route("/rest/api/3/search", get(removed_search).post(removed_search))
        .route("/rest/api/3/issue", post(create_issue))
        .route("/rest/api/3/issue/{key}", get(get_issue).put(edit_issue).delete(delete_issue))
        .route("/rest/api/3/issue/{key}/transitions", get(list_transitions).post(do_transition))
        .route("/rest/api/3/issue/{key}/comment", get(list_comments).post(add_comment))
        .route("/rest/api/3/issue/createmeta/{project}/issuetypes", get(create_meta))
        .route("/rest/api/3/project/search", get(project_search))
        .route("/rest/api/3/project/{key}", get(project))
        .route("/rest/api/3/user/search", get(user_search))
        .route("/rest/api/3/status", get(statuses))
        .route("/rest/api/3/priority/search", get(priorities))
        .route("/rest/api/3/field", get(work::fields))
        .route("/rest/api/3/issue/createmeta/{project}/issuetypes/{type_id}", get(work::create_fields))
        .route("/rest/api/3/issue/{key}/editmeta", get(work::edit_fields))
        .route("/rest/api/3/issue/{key}/worklog", get(work::list_worklogs).post(work::add_worklog))
        .route("/rest/api/3/issue/{key}/remotelink", get(work::remote_links))
        // axum caps bodies at 2 MB by default; Jira takes files up to its attachment limit.
        .route(
            "/rest/api/3/issue/{key}/attachments",
            post(media::upload).layer(axum::extract::DefaultBodyLimit::max(media::UPLOAD_BODY_LIMIT)),
        )
        .route("/rest/api/3/attachment/content/{id}", get(media::content))
        .route("/rest/api/3/issueLinkType", get(work::link_types))
        .route("/rest/api/3/issueLink", post(work::create_link))
        .route("/rest/api/3/issueLink/{id}", axum::routing::delete(work::delete_link))
        .route("/rest/agile/1.0/board", get(agile::boards))
        .route("/rest/agile/1.0/board/{id}/sprint", get(agile::sprints))
        .route("/rest/agile/1.0/sprint/{id}/issue", post(agile::sprint_issues))
        .route("/rest/agile/1.0/backlog/issue", post(agile::backlog_issues))
        .fallback(not_found_route);
    // REST v2: the same routes, with rich text as strings (other clients, e.g. the peer server, call v2).
    let v3 = api.clone().with_state(state.clone());
    let api = api.route("/rest/api/2/{*rest}", any(move |request: Request| v2::translate(v3.clone(), request)));
    // Each .layer() wraps what came before, so the last one is outermost:
    // count every arrival, then auth (401 before anything else), then faults and the burst limit.
    // `/_emulator/stats` is added after the layers: benchmarks read the request count
    // without counting themselves, and it needs no credentials (loopback only).
    api.layer(middleware::from_fn_with_state(state.clone(), limits))
        .layer(middleware::from_fn(auth))
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/stats/reset", post(reset_stats))
        // The media service: its own token authorises a download, not Jira's credentials.
        .route("/media/file/{id}/binary", get(media::media))
        .with_state(state)
}

/// The most arrivals within any one-second window.
fn peak_per_second(arrivals: &[Instant]) -> usize {
    let mut peak = 0;
    let mut start = 0;
    for (end, t) in arrivals.iter().enumerate() {
        while arrivals.get(start).is_some_and(|a| t.duration_since(*a) >= Duration::from_secs(1)) {
            start += 1;
        }
        peak = peak.max(end + 1 - start);
    }
    peak
}

/// Requests received so far and the busiest one-second window among them (not a
/// Jira endpoint: the benchmarks' and the fleet test's window into the emulator).
async fn stats(State(state): State<AppState>) -> Response {
    let s = state.lock();
    axum::Json(serde_json::json!({ "requests": s.arrivals.len(), "peak_per_second": peak_per_second(&s.arrivals) }))
        .into_response()
}

/// Forgets the arrivals counted so far, so a test measures one phase at a time
/// (test-only, like `stats`; the site's data is untouched).
async fn reset_stats(State(state): State<AppState>) -> Response {
    state.lock().arrivals.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    state.lock().arrivals.push(Instant::now());
    next.run(request).await
}

async fn auth(request: Request, next: Next) -> Response {
    if caller(request.headers()).is_none() {
        // Jira Cloud's 401 is plain text, not an ErrorCollection.
        let mut response =
            (StatusCode::UNAUTHORIZED, "Client must be authenticated to access this resource.").into_response();
        response.headers_mut().insert("x-seraph-loginreason", HeaderValue::from_static("AUTHENTICATED_FAILED"));
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("OAuth realm=\"https%3A%2F%2Fexample.atlassian.net\""),
        );
        return response;
    }
    next.run(request).await
}

async fn limits(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let is_write = method != axum::http::Method::GET && !path.contains("/search");
    let write_delay = state.lock().write_delay;
    if is_write && !write_delay.is_zero() {
        tokio::time::sleep(write_delay).await;
    }
    let shape = {
        let mut s = state.lock();
        let found = s
            .shape_faults
            .iter_mut()
            .find(|f| f.times > 0 && path.contains(&f.path_contains) && f.method.is_none_or(|m| m == method.as_str()))
            .map(|f| {
                f.times -= 1;
                f.clone()
            });
        s.shape_faults.retain(|f| f.times > 0);
        found
    };
    if let Some(ShapeFault { shape: Shape::Delay { millis }, .. }) = shape {
        tokio::time::sleep(Duration::from_millis(millis)).await;
    } else if let Some(fault) = shape {
        if fault.after_handler {
            let applied = next.run(request).await;
            if is_write && applied.status().is_success() {
                state.lock().writes += 1;
            }
        }
        return shaped(fault.shape).await;
    }
    let echo = {
        let mut s = state.lock();
        let echo = s.echo_auth > 0;
        s.echo_auth = s.echo_auth.saturating_sub(1);
        echo
    };
    if echo {
        let header = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let message = format!("Invalid request. Received headers: Authorization: {header}");
        return error_collection(StatusCode::BAD_REQUEST, &[message.as_str()]);
    }
    let (fault, limited, burst, remaining) = {
        let mut s = state.lock();
        let now = Instant::now();
        let fault = s.faults.iter_mut().find(|f| f.times > 0 && path.contains(&f.path_contains)).map(|f| {
            f.times -= 1;
            f.clone()
        });
        s.faults.retain(|f| f.times > 0);
        while s.window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            s.window.pop_front();
        }
        let burst = s.burst;
        let limited = burst.is_some_and(|b| s.window.len() >= b as usize);
        if !limited {
            s.window.push_back(now);
        }
        let remaining = burst.map(|b| (b as usize).saturating_sub(s.window.len()));
        (fault, limited, burst, remaining)
    };
    if let Some(fault) = fault {
        let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = if status == StatusCode::TOO_MANY_REQUESTS {
            StatusCode::TOO_MANY_REQUESTS.into_response()
        } else {
            error_collection(status, &["Injected failure from the emulator."])
        };
        if let Some(after) = fault.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(after));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert("RateLimit-Reason", HeaderValue::from_static("jira-burst-based"));
        }
        return response;
    }
    if limited {
        let reset = (Utc::now() + chrono::Duration::seconds(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
        let h = response.headers_mut();
        h.insert(header::RETRY_AFTER, HeaderValue::from(1));
        h.insert("X-RateLimit-Limit", HeaderValue::from(burst.unwrap_or(0)));
        h.insert("X-RateLimit-Remaining", HeaderValue::from(0));
        if let Ok(v) = HeaderValue::from_str(&reset) {
            h.insert("X-RateLimit-Reset", v);
        }
        h.insert("RateLimit-Reason", HeaderValue::from_static("jira-burst-based"));
        return response;
    }
    let mut response = next.run(request).await;
    if is_write && response.status().is_success() {
        state.lock().writes += 1;
    }
    if let (Some(b), Some(r)) = (burst, remaining) {
        response.headers_mut().insert("X-RateLimit-Limit", HeaderValue::from(b));
        response.headers_mut().insert("X-RateLimit-Remaining", HeaderValue::from(r));
    }
    response
}

async fn not_found_route(request: Request) -> Response {
    let message = format!("null for uri: {}", request.uri());
    error_collection(StatusCode::NOT_FOUND, &[message.as_str()])
}

async fn removed_search() -> Response {
    error_collection(
        StatusCode::GONE,
        &[
            "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
        ],
    )
}
