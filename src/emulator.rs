//! A seeded, in-memory Jira Cloud emulator on loopback.
//!
//! Used by `jira-mcp demo` and by the tests. It speaks the REST v3 paths and
//! JSON shapes of Atlassian's OpenAPI spec, with Jira's own error texts: 404
//! "Issue does not exist...", plain-text 401, 400 for bad JQL, 410 for the
//! removed search API, and 429 with `Retry-After` + `X-RateLimit-*` when the
//! configured burst is exceeded. It is a test double, not a Jira: it never
//! binds anything but 127.0.0.1.

// Handlers answer errors as ready-made responses, the natural shape for a test double.
#![allow(clippy::result_large_err)]

mod jql;
mod state;

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use state::{Data, ISSUE_TYPES, PRIORITIES, PROJECTS, STATUSES, USERS, WORKFLOW};

/// Credentials the emulator accepts (and `jira-mcp demo` uses).
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The demo API token. Not a secret: it only opens the local emulator.
pub const DEMO_TOKEN: &str = "demo-token";

/// Emulator settings.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// Requests per second allowed before answering 429 (`None`: unlimited).
    pub burst_per_second: Option<u32>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

/// A scripted failure: the next `times` requests whose path contains
/// `path_contains` get `status` instead of the real answer.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Substring of the request path to match.
    pub path_contains: String,
    /// HTTP status to answer.
    pub status: u16,
    /// How many matching requests fail.
    pub times: u32,
    /// `Retry-After` seconds to send with it.
    pub retry_after: Option<u32>,
}

struct Shared {
    data: Data,
    faults: Vec<Fault>,
    /// Arrival times in the last second, for the burst limit.
    window: VecDeque<Instant>,
    /// Every arrival, for measuring the peak rate in load tests.
    arrivals: Vec<Instant>,
    burst: Option<u32>,
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Mutex<Shared>>,
    base: Arc<str>,
}

impl AppState {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A poisoned lock only means another handler panicked; the data is still usable.
        self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<Mutex<Shared>>,
    stop: CancellationToken,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("issues", &self.data.issues.len()).finish_non_exhaustive()
    }
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
            data: Data::seeded(Utc::now()),
            faults: Vec::new(),
            window: VecDeque::new(),
            arrivals: Vec::new(),
            burst: config.burst_per_second,
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
        let s = self.lock();
        let mut peak = 0;
        let mut start = 0;
        for (end, t) in s.arrivals.iter().enumerate() {
            while s.arrivals.get(start).is_some_and(|a| t.duration_since(*a) >= Duration::from_secs(1)) {
                start += 1;
            }
            peak = peak.max(end + 1 - start);
        }
        peak
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
        .fallback(not_found_route);
    // Each .layer() wraps what came before, so the last one is outermost:
    // count every arrival, then auth (401 before anything else), then faults and the burst limit.
    api.layer(middleware::from_fn_with_state(state.clone(), limits))
        .layer(middleware::from_fn(auth))
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    state.lock().arrivals.push(Instant::now());
    next.run(request).await
}

fn error_collection(status: StatusCode, messages: &[&str]) -> Response {
    (status, Json(json!({ "errorMessages": messages, "errors": {} }))).into_response()
}

fn field_errors(errors: Value) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "errorMessages": [], "errors": errors }))).into_response()
}

fn issue_not_found() -> Response {
    error_collection(StatusCode::NOT_FOUND, &["Issue does not exist or you do not have permission to see it."])
}

/// Which demo user the credentials belong to.
fn caller(headers: &HeaderMap) -> Option<usize> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    if let Some(b64) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (email, token) = text.split_once(':')?;
        if token != DEMO_TOKEN {
            return None;
        }
        return USERS.iter().position(|u| u.email.eq_ignore_ascii_case(email));
    }
    (value.strip_prefix("Bearer ")? == DEMO_TOKEN).then_some(0)
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

async fn myself(headers: HeaderMap) -> Response {
    Json(state::user_json(caller(&headers).unwrap_or(0))).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SearchBody {
    #[serde(default)]
    jql: String,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    max_results: Option<u32>,
    #[serde(default)]
    fields: Option<Vec<String>>,
    // Accepted as the spec allows (the body is `additionalProperties: false`, so these
    // must be known), but the emulator does not act on them.
    #[serde(default)]
    #[expect(dead_code, reason = "accepted like Jira, not used by the emulator")]
    expand: Option<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted like Jira, not used by the emulator")]
    fields_by_keys: Option<bool>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted like Jira, not used by the emulator")]
    properties: Option<Vec<String>>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted like Jira, not used by the emulator")]
    reconcile_issues: Option<Vec<i64>>,
}

/// Page tokens are opaque to clients; here: `<offset>:<hash of the JQL>`, base64.
fn page_token(offset: usize, jql: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{offset}:{}", jql_hash(jql)))
}

/// The emulator lives in one process, so std's hasher (stable within a process) is enough.
fn jql_hash(jql: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    jql.hash(&mut h);
    h.finish()
}

fn parse_bounded(jql_text: &str) -> Result<jql::Query, Response> {
    let query = jql::parse(jql_text).map_err(|m| error_collection(StatusCode::BAD_REQUEST, &[m.as_str()]))?;
    if query.filter.is_none() {
        return Err(error_collection(
            StatusCode::BAD_REQUEST,
            &["Unbounded JQL queries are not allowed here. Please add a search restriction to your query."],
        ));
    }
    Ok(query)
}

async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<SearchBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &["Invalid request payload. Refer to the REST API documentation and try again."],
        );
    };
    let query = match parse_bounded(&body.jql) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let offset = match &body.next_page_token {
        None => 0,
        Some(token) => {
            let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            match decoded.as_deref().and_then(|d| d.split_once(':')) {
                Some((off, hash)) if hash == jql_hash(&body.jql).to_string() => off.parse().unwrap_or(0),
                _ => {
                    return error_collection(
                        StatusCode::BAD_REQUEST,
                        &["The provided next page token is invalid or expired."],
                    );
                }
            }
        }
    };
    let max = body.max_results.unwrap_or(50).clamp(1, 100) as usize;
    let s = state.lock();
    let me = caller(&headers).unwrap_or(0);
    let hits = match s.data.search(&query, me, Utc::now()) {
        Ok(h) => h,
        Err(m) => return error_collection(StatusCode::BAD_REQUEST, &[m.as_str()]),
    };
    // Like Jira: without `fields`, only ids come back.
    let fields = body.fields.unwrap_or_else(|| vec!["id".to_owned()]);
    let page: Vec<Value> =
        hits.iter().skip(offset).take(max).map(|i| s.data.issue_json(i, &state.base, Some(&fields), false)).collect();
    let is_last = offset + max >= hits.len();
    let mut out = json!({ "issues": page, "isLast": is_last });
    if !is_last && let Some(obj) = out.as_object_mut() {
        obj.insert("nextPageToken".to_owned(), json!(page_token(offset + max, &body.jql)));
    }
    Json(out).into_response()
}

#[derive(Deserialize)]
struct CountBody {
    #[serde(default)]
    jql: String,
}

async fn approximate_count(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<CountBody>) -> Response {
    let query = match parse_bounded(&body.jql) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let s = state.lock();
    match s.data.search(&query, caller(&headers).unwrap_or(0), Utc::now()) {
        Ok(hits) => Json(json!({ "count": hits.len() })).into_response(),
        Err(m) => error_collection(StatusCode::BAD_REQUEST, &[m.as_str()]),
    }
}

#[derive(Deserialize)]
struct IssueQuery {
    #[serde(default)]
    fields: Option<String>,
    #[serde(default)]
    expand: Option<String>,
}

async fn get_issue(State(state): State<AppState>, Path(key): Path<String>, Query(q): Query<IssueQuery>) -> Response {
    let s = state.lock();
    let Some(issue) = s.data.find(&key) else { return issue_not_found() };
    let fields: Option<Vec<String>> = q.fields.map(|f| f.split(',').map(|x| x.trim().to_owned()).collect());
    let changelog = q.expand.is_some_and(|e| e.split(',').any(|x| x.trim() == "changelog"));
    Json(s.data.issue_json(issue, &state.base, fields.as_deref(), changelog)).into_response()
}

fn lookup_user(v: &Value) -> Result<Option<usize>, Response> {
    if v.is_null() {
        return Ok(None);
    }
    let id = v.get("accountId").and_then(Value::as_str).unwrap_or_default();
    USERS
        .iter()
        .position(|u| u.account_id == id)
        .map(Some)
        .ok_or_else(|| field_errors(json!({ "assignee": format!("User '{id}' cannot be assigned issues.") })))
}

fn lookup_priority(v: &Value) -> Result<&'static str, Response> {
    let name = v.get("name").and_then(Value::as_str);
    let id = v.get("id").and_then(Value::as_str);
    PRIORITIES
        .iter()
        .find(|p| name.is_some_and(|n| p.1.eq_ignore_ascii_case(n)) || id == Some(p.0))
        .map(|p| p.1)
        .ok_or_else(|| field_errors(json!({ "priority": "Specify the Priority (name) in the string format" })))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

async fn create_issue(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let f = body.get("fields").cloned().unwrap_or_default();
    let project_key =
        f.pointer("/project/key").or_else(|| f.pointer("/project/id")).and_then(Value::as_str).unwrap_or_default();
    let Some(project) =
        PROJECTS.iter().find(|p| p.1.eq_ignore_ascii_case(project_key) || p.0 == project_key).map(|p| p.1)
    else {
        return field_errors(json!({ "project": "valid project is required" }));
    };
    let type_name = f.pointer("/issuetype/name").and_then(Value::as_str);
    let type_id = f.pointer("/issuetype/id").and_then(Value::as_str);
    let Some(&(_, issue_type, subtask)) =
        ISSUE_TYPES.iter().find(|t| type_name.is_some_and(|n| t.1.eq_ignore_ascii_case(n)) || type_id == Some(t.0))
    else {
        return field_errors(json!({ "issuetype": "The issue type selected is invalid." }));
    };
    let summary = f.get("summary").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    if summary.is_empty() {
        return field_errors(json!({ "summary": "You must specify a summary of the issue." }));
    }
    let priority = match f.get("priority") {
        Some(p) => match lookup_priority(p) {
            Ok(p) => p,
            Err(r) => return r,
        },
        None => "Medium",
    };
    let assignee = match f.get("assignee").map(lookup_user).transpose() {
        Ok(a) => a.flatten(),
        Err(r) => return r,
    };
    let mut s = state.lock();
    let parent = f.pointer("/parent/key").and_then(Value::as_str).and_then(|k| s.data.find_key(k));
    if subtask && parent.is_none() {
        return field_errors(json!({ "parent": "Given parent issue does not belong to appropriate hierarchy." }));
    }
    let now = Utc::now();
    let key = s.data.insert(state::Issue {
        id: 0,
        key: String::new(),
        project,
        summary,
        description: f.get("description").filter(|d| !d.is_null()).cloned(),
        issue_type,
        status: "To Do",
        priority,
        assignee,
        reporter: caller(&headers).unwrap_or(0),
        labels: f.get("labels").map(strings).unwrap_or_default(),
        created: now,
        updated: now,
        parent,
        comments: Vec::new(),
        history: Vec::new(),
        links: Vec::new(),
    });
    let id = s.data.issues.get(&key).map(|i| i.id).unwrap_or_default();
    (
        StatusCode::CREATED,
        Json(json!({ "id": id.to_string(), "key": key, "self": format!("{}/rest/api/3/issue/{id}", state.base) })),
    )
        .into_response()
}

async fn edit_issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let who = caller(&headers).unwrap_or(0);
    let f = body.get("fields").cloned().unwrap_or_default();
    let priority = match f.get("priority").map(lookup_priority).transpose() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let assignee = match f.get("assignee").map(lookup_user).transpose() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut s = state.lock();
    let Some(real) = s.data.find_key(&key) else { return issue_not_found() };
    let Some(issue) = s.data.issues.get_mut(&real) else { return issue_not_found() };
    let now = Utc::now();
    let mut changes = Vec::new();
    if let Some(summary) = f.get("summary").and_then(Value::as_str) {
        if summary.trim().is_empty() {
            return field_errors(json!({ "summary": "You must specify a summary of the issue." }));
        }
        changes.push(("summary", Some(issue.summary.clone()), Some(summary.to_owned())));
        issue.summary = summary.to_owned();
    }
    if let Some(d) = f.get("description") {
        issue.description = (!d.is_null()).then(|| d.clone());
        changes.push(("description", None, None));
    }
    if let Some(p) = priority {
        changes.push(("priority", Some(issue.priority.to_owned()), Some(p.to_owned())));
        issue.priority = p;
    }
    if let Some(a) = assignee {
        changes.push((
            "assignee",
            issue.assignee.and_then(|i| USERS.get(i)).map(|u| u.name.to_owned()),
            a.and_then(|i| USERS.get(i)).map(|u| u.name.to_owned()),
        ));
        issue.assignee = a;
    }
    if let Some(labels) = f.get("labels") {
        issue.labels = strings(labels);
    }
    for op in body.pointer("/update/labels").and_then(Value::as_array).into_iter().flatten() {
        if let Some(add) = op.get("add").and_then(Value::as_str)
            && !issue.labels.iter().any(|l| l == add)
        {
            issue.labels.push(add.to_owned());
        }
        if let Some(remove) = op.get("remove").and_then(Value::as_str) {
            issue.labels.retain(|l| l != remove);
        }
    }
    issue.updated = now;
    for (n, (field, from, to)) in changes.into_iter().enumerate() {
        issue.history.push(state::Change {
            id: now.timestamp_millis() as u64 + n as u64,
            author: who,
            created: now,
            field: field.to_owned(),
            from,
            to,
        });
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteQuery {
    #[serde(default)]
    delete_subtasks: Option<String>,
}

async fn delete_issue(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Response {
    let mut s = state.lock();
    let Some(real) = s.data.find_key(&key) else { return issue_not_found() };
    let subtasks: Vec<String> = s.data.subtasks(&real).iter().map(|i| i.key.clone()).collect();
    if !subtasks.is_empty() && q.delete_subtasks.as_deref() != Some("true") {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &["The issue has subtasks. Set deleteSubtasks to true to delete the issue and its subtasks."],
        );
    }
    for k in subtasks.iter().chain(std::iter::once(&real)) {
        s.data.issues.remove(k);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn list_transitions(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let s = state.lock();
    let Some(issue) = s.data.find(&key) else { return issue_not_found() };
    let list: Vec<Value> = WORKFLOW
        .iter()
        .filter(|t| t.2 == issue.status)
        .map(|t| json!({ "id": t.0, "name": t.1, "to": state::status_json(t.3), "hasScreen": false, "isAvailable": true, "isConditional": false, "isGlobal": false, "isInitial": false }))
        .collect();
    Json(json!({ "transitions": list })).into_response()
}

async fn do_transition(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let who = caller(&headers).unwrap_or(0);
    let id = body.pointer("/transition/id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut s = state.lock();
    let Some(real) = s.data.find_key(&key) else { return issue_not_found() };
    let next_comment = s.data.next_comment;
    let Some(issue) = s.data.issues.get_mut(&real) else { return issue_not_found() };
    let Some(&(_, _, from, to)) = WORKFLOW.iter().find(|t| t.0 == id && t.2 == issue.status) else {
        let message = format!("Transition id '{id}' is not valid for this issue.");
        return error_collection(StatusCode::BAD_REQUEST, &[message.as_str()]);
    };
    let now = Utc::now();
    issue.status = to;
    issue.updated = now;
    issue.history.push(state::Change {
        id: now.timestamp_millis() as u64,
        author: who,
        created: now,
        field: "status".to_owned(),
        from: Some(from.to_owned()),
        to: Some(to.to_owned()),
    });
    let mut used_comment = false;
    for op in body.pointer("/update/comment").and_then(Value::as_array).into_iter().flatten() {
        if let Some(adf) = op.pointer("/add/body") {
            issue.comments.push(state::Comment { id: next_comment, author: who, body: adf.clone(), created: now });
            used_comment = true;
        }
    }
    if used_comment {
        s.data.next_comment += 1;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn list_comments(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let s = state.lock();
    let Some(issue) = s.data.find(&key) else { return issue_not_found() };
    let comments: Vec<Value> = issue.comments.iter().map(|c| state::comment_json(c, &issue.key, &state.base)).collect();
    Json(json!({ "comments": comments, "startAt": 0, "maxResults": 100, "total": comments.len() })).into_response()
}

async fn add_comment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let who = caller(&headers).unwrap_or(0);
    let Some(adf) = body.get("body").filter(|b| b.get("type").and_then(Value::as_str) == Some("doc")).cloned() else {
        return field_errors(json!({ "comment": "Comment body can not be empty!" }));
    };
    let mut s = state.lock();
    let Some(real) = s.data.find_key(&key) else { return issue_not_found() };
    let id = s.data.next_comment;
    s.data.next_comment += 1;
    let Some(issue) = s.data.issues.get_mut(&real) else { return issue_not_found() };
    let comment = state::Comment { id, author: who, body: adf, created: Utc::now() };
    issue.updated = comment.created;
    let json = state::comment_json(&comment, &real, &state.base);
    issue.comments.push(comment);
    (StatusCode::CREATED, Json(json)).into_response()
}

async fn create_meta(Path(project): Path<String>) -> Response {
    if !PROJECTS.iter().any(|p| p.1.eq_ignore_ascii_case(&project) || p.0 == project) {
        let message = format!("No project could be found with key '{project}'.");
        return error_collection(StatusCode::NOT_FOUND, &[message.as_str()]);
    }
    let types: Vec<Value> = ISSUE_TYPES.iter().map(|t| json!({ "id": t.0, "name": t.1, "subtask": t.2 })).collect();
    Json(json!({ "issueTypes": types, "maxResults": 50, "startAt": 0, "total": types.len() })).into_response()
}

fn project_json(p: &(&str, &str, &str)) -> Value {
    json!({ "id": p.0, "key": p.1, "name": p.2, "projectTypeKey": "software", "simplified": false })
}

async fn project_search() -> Response {
    let values: Vec<Value> = PROJECTS.iter().map(project_json).collect();
    Json(json!({ "values": values, "startAt": 0, "maxResults": 50, "total": values.len(), "isLast": true }))
        .into_response()
}

async fn project(Path(key): Path<String>) -> Response {
    match PROJECTS.iter().find(|p| p.1.eq_ignore_ascii_case(&key) || p.0 == key) {
        Some(p) => Json(project_json(p)).into_response(),
        None => {
            let message = format!("No project could be found with key '{key}'.");
            error_collection(StatusCode::NOT_FOUND, &[message.as_str()])
        }
    }
}

#[derive(Deserialize)]
struct UserQuery {
    #[serde(default)]
    query: String,
}

async fn user_search(Query(q): Query<UserQuery>) -> Response {
    let needle = q.query.to_lowercase();
    let users: Vec<Value> = USERS
        .iter()
        .enumerate()
        .filter(|(_, u)| {
            !needle.is_empty()
                && (u.email.to_lowercase().starts_with(&needle)
                    || u.name.to_lowercase().split(' ').any(|w| w.starts_with(&needle))
                    || u.name.to_lowercase().starts_with(&needle))
        })
        .map(|(i, _)| state::user_json(i))
        .collect();
    Json(users).into_response()
}

async fn statuses() -> Response {
    Json(STATUSES.iter().map(|s| state::status_json(s.1)).collect::<Vec<_>>()).into_response()
}

async fn priorities() -> Response {
    let values: Vec<Value> =
        PRIORITIES.iter().map(|p| json!({ "id": p.0, "name": p.1, "isDefault": p.1 == "Medium" })).collect();
    Json(json!({ "values": values, "startAt": 0, "maxResults": 100, "total": values.len(), "isLast": true }))
        .into_response()
}
