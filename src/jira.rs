//! Jira Cloud REST v3: the client facade the tools call.
//!
//! Knows nothing about MCP. Callers get domain errors ([`Error`]) that carry
//! facts (status, key, Jira's message), not HTTP responses; `crate::error`
//! words them for the model.

pub(crate) mod adf;
pub(crate) mod agile;
mod client;
pub(crate) mod error;
pub(crate) mod fields;
mod gate;
pub(crate) mod jql;
mod meta;
pub(crate) mod models;
pub(crate) mod scope;
mod work;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::{config::Projects, limits::JIRA_SCAN_PAGE};

pub(crate) use client::{Client, with_retry_budget};
pub(crate) use error::{Error, Write};
use models::{
    Count, Created, Issue, IssueType, IssueTypePage, Named, Page, Project, SearchPage, StatusDetails, Transition,
    Transitions, User,
};

/// The project permission needed to see issues at all.
pub(crate) const BROWSE: &str = "BROWSE_PROJECTS";
/// The project permissions that writing needs, one per kind of change.
pub(crate) const WRITE_PERMISSIONS: &[&str] =
    &["CREATE_ISSUES", "EDIT_ISSUES", "TRANSITION_ISSUES", "ADD_COMMENTS", "DELETE_ISSUES", "CREATE_ATTACHMENTS"];

/// The fields of the compact one-line issue view.
pub(crate) const LINE_FIELDS: &[&str] = &["summary", "status", "assignee", "priority", "updated"];

/// Jira operations used by the tools. Every method goes through the
/// rate-limited, retrying [`Client`], and, with an allow-list, through its
/// checks: keys and projects before the request, JQL restricted (see
/// [`scope`]), answers checked again after it.
#[derive(Debug, Clone)]
pub(crate) struct Jira {
    client: Client,
    /// Field, screen, link-type, board and sprint metadata, shared by clones.
    meta: std::sync::Arc<meta::MetaCache>,
    projects: Option<Arc<Projects>>,
    /// Whether `projects` is a caller's own list (an HTTP token's), not the server's.
    by_caller: bool,
}

impl Jira {
    pub(crate) fn new(client: Client) -> Self {
        Self { client, meta: Arc::default(), projects: None, by_caller: false }
    }

    /// Restricts every operation to `projects` (`None`: no restriction).
    pub(crate) fn restricted_to(mut self, projects: Option<Projects>) -> Self {
        self.projects = projects.map(Arc::new);
        self
    }

    /// This facade held to `own` as well (an HTTP token's project list): every
    /// key, project, JQL and answer is checked against `own` within the
    /// server's allow-list, by the same code ([`scope::narrow`]).
    pub(crate) fn narrowed_to(&self, own: &[String]) -> Self {
        let projects = scope::narrow(self.projects.as_deref(), own);
        Self { projects: Some(Arc::new(projects)), by_caller: true, ..self.clone() }
    }

    fn not_allowed(&self, what: String) -> Error {
        Error::NotAllowed {
            what,
            allowed: self.projects.as_ref().map(|p| p.keys().to_vec()).unwrap_or_default(),
            by_caller: self.by_caller,
        }
    }

    /// Refuses, before any request, an issue key outside the allow-list.
    pub(crate) fn check_key(&self, key: &str) -> Result<(), Error> {
        match &self.projects {
            Some(p) if !scope::allows_key(key, p) => Err(self.not_allowed(format!("Issue {key}"))),
            _ => Ok(()),
        }
    }

    /// Refuses, before any request, a project outside the allow-list.
    pub(crate) fn check_project(&self, key: &str) -> Result<(), Error> {
        match &self.projects {
            Some(p) if !p.allows(key) => Err(self.not_allowed(format!("Project {key}"))),
            _ => Ok(()),
        }
    }

    /// `jql` as it is sent: restricted to the allow-list, if any.
    fn scoped_jql(&self, jql: &str) -> Result<String, Error> {
        match &self.projects {
            Some(p) => scope::constrain(jql, p).map_err(|problem| Error::UnscopableJql { problem }),
            None => Ok(jql.to_owned()),
        }
    }

    /// Whether an issue key from an answer may be shown (defence in depth: the
    /// query was restricted already).
    fn shows(&self, key: &str) -> bool {
        self.projects.as_ref().is_none_or(|p| scope::allows_key(key, p))
    }

    /// Drops what an answer holds from outside the allow-list, logging it.
    fn drop_outside(&self, issues: &mut Vec<Issue>) {
        let before = issues.len();
        issues.retain(|i| self.shows(&i.key));
        if issues.len() < before {
            tracing::warn!(
                dropped = before - issues.len(),
                "dropped issues outside the project allow-list from a Jira answer"
            );
        }
    }

    pub(crate) fn base_url(&self) -> &str {
        self.client.base_url()
    }

    /// How long one tool call may keep retrying (`JIRA_MCP_RETRY_BUDGET_SECS`).
    pub(crate) fn retry_budget(&self) -> std::time::Duration {
        self.client.retry_budget()
    }

    /// GET of an endpoint every Jira Cloud site has: a 404 means the site URL is wrong.
    async fn get_site<T: serde::de::DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, Error> {
        self.client.get(path, query).await.map_err(|e| e.for_endpoint(path, self.base_url()))
    }

    /// The authenticated user: the credential check (no anonymous access). The
    /// account id is required: writes use it.
    pub(crate) async fn myself(&self) -> Result<User, Error> {
        let me: User = self.get_site("/rest/api/3/myself", &[]).await?;
        if me.account_id.as_deref().is_none_or(str::is_empty) {
            return Err(Error::Decode { field: Some("accountId".to_owned()), detail: "missing field".to_owned() });
        }
        Ok(me)
    }

    /// Which of `keys` the account holds in `project`; without a project, Jira answers
    /// whether it holds each in at least one project.
    pub(crate) async fn my_permissions(&self, project: Option<&str>, keys: &[&str]) -> Result<Vec<String>, Error> {
        let mut query = vec![("permissions", keys.join(","))];
        if let Some(p) = project {
            query.push(("projectKey", p.to_owned()));
        }
        let answer: models::MyPermissions = self.client.get("/rest/api/3/mypermissions", &query).await?;
        Ok(answer.permissions.into_iter().filter(|(_, s)| s.have_permission).map(|(k, _)| k).collect())
    }

    /// The projects permission checks are about: the allow-list, or none (any project).
    pub(crate) fn permission_scopes(&self) -> Vec<Option<String>> {
        match &self.projects {
            Some(p) => p.keys().iter().cloned().map(Some).collect(),
            None => vec![None],
        }
    }

    /// One page of `POST /rest/api/3/search/jql`.
    pub(crate) async fn search(
        &self,
        jql: &str,
        fields: &[&str],
        max_results: u32,
        next_page_token: Option<&str>,
    ) -> Result<SearchPage, Error> {
        self.search_page(jql, fields, max_results, next_page_token, false).await
    }

    /// One page of search results, with each issue's changelog when `changelog`.
    async fn search_page(
        &self,
        jql: &str,
        fields: &[&str],
        max_results: u32,
        next_page_token: Option<&str>,
        changelog: bool,
    ) -> Result<SearchPage, Error> {
        let jql = self.scoped_jql(jql)?;
        let mut body = json!({ "jql": jql, "fields": fields, "maxResults": max_results });
        if let (Some(token), Some(obj)) = (next_page_token, body.as_object_mut()) {
            obj.insert("nextPageToken".to_owned(), Value::String(token.to_owned()));
        }
        if let (true, Some(obj)) = (changelog, body.as_object_mut()) {
            obj.insert("expand".to_owned(), Value::String("changelog".to_owned()));
        }
        let path = "/rest/api/3/search/jql";
        let mut page: SearchPage =
            self.client.post(path, &body, true).await.map_err(|e| e.for_jql().for_endpoint(path, self.base_url()))?;
        self.drop_outside(&mut page.issues);
        Ok(page)
    }

    /// Every issue matching `jql`, page by page, up to `cap`. The flag is true when
    /// the cap cut the result short (more issues match than were returned).
    ///
    /// This is the one paging loop over Jira's search: an empty page that still
    /// claims more would loop forever, so it counts as the end.
    pub(crate) async fn search_all(&self, jql: &str, fields: &[&str], cap: usize) -> Result<(Vec<Issue>, bool), Error> {
        self.scan(jql, fields, cap, false).await
    }

    /// [`Self::search_all`] with each issue's changelog (for sprint scope changes).
    pub(crate) async fn search_all_with_changelog(
        &self,
        jql: &str,
        fields: &[&str],
        cap: usize,
    ) -> Result<(Vec<Issue>, bool), Error> {
        self.scan(jql, fields, cap, true).await
    }

    async fn scan(&self, jql: &str, fields: &[&str], cap: usize, changelog: bool) -> Result<(Vec<Issue>, bool), Error> {
        let mut issues: Vec<Issue> = Vec::new();
        let mut token: Option<String> = None;
        while issues.len() < cap {
            let want = u32::try_from(cap - issues.len()).unwrap_or(u32::MAX).min(JIRA_SCAN_PAGE);
            let page = self.search_page(jql, fields, want, token.as_deref(), changelog).await?;
            let empty = page.issues.is_empty();
            issues.extend(page.issues);
            crate::progress::report(format!("fetched {} issues (at most {cap})", issues.len()));
            token = page.next_page_token.filter(|_| page.is_last != Some(true) && !empty);
            if token.is_none() {
                return Ok((issues, false));
            }
        }
        // The cap was reached with Jira still offering a next page.
        issues.truncate(cap);
        Ok((issues, true))
    }

    /// Approximate number of issues matching bounded JQL.
    pub(crate) async fn approximate_count(&self, jql: &str) -> Result<u64, Error> {
        let path = "/rest/api/3/search/approximate-count";
        let count: Count = self
            .client
            .post(path, &json!({ "jql": self.scoped_jql(jql)? }), true)
            .await
            .map_err(|e| e.for_jql().for_endpoint(path, self.base_url()))?;
        Ok(count.count)
    }

    pub(crate) async fn issue(&self, key: &str, fields: &str, changelog: bool) -> Result<Issue, Error> {
        self.check_key(key)?;
        let mut query = vec![("fields", fields.to_owned())];
        if changelog {
            query.push(("expand", "changelog".to_owned()));
        }
        let mut issue: Issue =
            self.client.get(&format!("/rest/api/3/issue/{key}"), &query).await.map_err(|e| e.for_issue(key))?;
        // A moved issue answers under its new key, possibly in another project.
        if !self.shows(&issue.key) {
            tracing::warn!("dropped an issue outside JIRA_MCP_PROJECTS from a Jira answer");
            return Err(self.not_allowed(format!("Issue {key}")));
        }
        let f = &mut issue.fields;
        f.subtasks.retain(|s| self.shows(&s.key));
        f.issuelinks
            .retain(|l| l.inward_issue.as_ref().or(l.outward_issue.as_ref()).is_some_and(|i| self.shows(&i.key)));
        if f.parent.as_ref().is_some_and(|p| !self.shows(&p.key)) {
            f.parent = None;
        }
        Ok(issue)
    }

    /// Creates an issue; `project` and `summary` must be the ones in `fields` (they name the write).
    pub(crate) async fn create_issue(&self, project: &str, summary: &str, fields: Value) -> Result<String, Error> {
        if self.projects.is_some() {
            self.check_project(project)?;
            if let Some(parent) = fields.pointer("/parent/key").and_then(Value::as_str) {
                self.check_key(parent)?;
            }
        }
        let path = "/rest/api/3/issue";
        let write = Write::Create { project: project.to_owned(), summary: summary.to_owned() };
        let created: Created = self
            .client
            .post(path, &json!({ "fields": fields }), false)
            .await
            .map_err(|e| e.for_endpoint(path, self.base_url()).for_write(write))?;
        Ok(created.key)
    }

    /// Issues in `project` that this account created in the last `minutes` minutes with exactly
    /// `summary`, newest first, with their creation time: how a create whose answer was lost is found.
    pub(crate) async fn recently_created(
        &self,
        project: &str,
        summary: &str,
        minutes: u32,
    ) -> Result<Vec<(String, Option<chrono::DateTime<chrono::Utc>>)>, Error> {
        let jql = format!(
            "project = {} AND reporter = currentUser() AND created >= -{minutes}m ORDER BY created DESC",
            jql::quote(project)
        );
        let page = self.search(&jql, &["summary", "created"], JIRA_SCAN_PAGE, None).await?;
        Ok(page
            .issues
            .into_iter()
            .filter(|i| i.fields.summary.as_deref().is_some_and(|s| s.trim() == summary.trim()))
            .map(|i| {
                let created = i.fields.created.as_deref().and_then(|c| {
                    chrono::DateTime::parse_from_str(c, "%Y-%m-%dT%H:%M:%S%.3f%z").ok().map(|d| d.to_utc())
                });
                (i.key, created)
            })
            .collect())
    }

    pub(crate) async fn edit_issue(&self, key: &str, body: &Value) -> Result<(), Error> {
        self.check_key(key)?;
        self.client
            .put(&format!("/rest/api/3/issue/{key}"), body)
            .await
            .map_err(|e| e.for_issue(key).for_write(Write::Edit { key: key.to_owned() }))
    }

    pub(crate) async fn delete_issue(&self, key: &str, delete_subtasks: bool) -> Result<(), Error> {
        self.check_key(key)?;
        self.client
            .delete(&format!("/rest/api/3/issue/{key}"), &[("deleteSubtasks", delete_subtasks.to_string())])
            .await
            .map_err(|e| e.for_issue(key).for_write(Write::Delete { key: key.to_owned() }))
    }

    pub(crate) async fn transitions(&self, key: &str) -> Result<Vec<Transition>, Error> {
        self.check_key(key)?;
        let t: Transitions = self
            .client
            .get(&format!("/rest/api/3/issue/{key}/transitions"), &[])
            .await
            .map_err(|e| e.for_issue(key))?;
        Ok(t.transitions)
    }

    pub(crate) async fn transition(&self, key: &str, id: &str, comment: Option<Value>) -> Result<(), Error> {
        self.check_key(key)?;
        let mut body = json!({ "transition": { "id": id } });
        if let (Some(adf), Some(obj)) = (comment, body.as_object_mut()) {
            obj.insert("update".to_owned(), json!({ "comment": [{ "add": { "body": adf } }] }));
        }
        self.client
            .post_no_content(&format!("/rest/api/3/issue/{key}/transitions"), &body)
            .await
            .map_err(|e| e.for_issue(key).for_write(Write::Transition { key: key.to_owned() }))
    }

    pub(crate) async fn add_comment(&self, key: &str, body: Value) -> Result<String, Error> {
        self.check_key(key)?;
        let created: models::Comment = self
            .client
            .post(&format!("/rest/api/3/issue/{key}/comment"), &json!({ "body": body }), false)
            .await
            .map_err(|e| e.for_issue(key).for_write(Write::Comment { key: key.to_owned() }))?;
        if created.id.is_empty() {
            let missing = Error::Decode { field: Some("id".to_owned()), detail: "missing field".to_owned() };
            return Err(missing.for_write(Write::Comment { key: key.to_owned() }));
        }
        Ok(created.id)
    }

    /// The files attached to `key`, as the issue lists them (the allow-list applies
    /// as to any read of the issue).
    pub(crate) async fn attachments(&self, key: &str) -> Result<Vec<models::Attachment>, Error> {
        Ok(self.issue(key, "attachment", false).await?.fields.attachment)
    }

    /// The content of attachment `id` of `key` (an id the issue listed), at most `cap` bytes.
    pub(crate) async fn attachment_content(&self, key: &str, id: &str, cap: u64) -> Result<Vec<u8>, Error> {
        self.check_key(key)?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Decode {
                field: Some("attachment[].id".to_owned()),
                detail: format!("{id:?} is not a number"),
            });
        }
        let path = format!("/rest/api/3/attachment/content/{id}");
        self.client.get_bytes(&path, cap).await
    }

    /// Attaches one file to `key`; Jira answers with what it stored.
    pub(crate) async fn add_attachment(
        &self,
        key: &str,
        name: &str,
        mime: &str,
        bytes: &[u8],
    ) -> Result<Vec<models::Attachment>, Error> {
        self.check_key(key)?;
        self.client
            .post_file(&format!("/rest/api/3/issue/{key}/attachments"), name, mime, bytes)
            .await
            .map_err(|e| e.for_issue(key).for_write(Write::Attach { key: key.to_owned(), name: name.to_owned() }))
    }

    /// Projects visible to the account (first 50, by key), for error messages.
    pub(crate) async fn projects(&self) -> Result<Vec<Project>, Error> {
        let page: Page<Project> = self
            .get_site("/rest/api/3/project/search", &[("maxResults", "50".to_owned()), ("orderBy", "key".to_owned())])
            .await?;
        let mut values = page.values;
        values.retain(|p| self.projects.as_ref().is_none_or(|allowed| allowed.allows(&p.key)));
        Ok(values)
    }

    /// Issue types that can be created in a project. A 404 names the valid projects.
    pub(crate) async fn issue_types(&self, project: &str) -> Result<Vec<IssueType>, Error> {
        self.check_project(project)?;
        let path = format!("/rest/api/3/issue/createmeta/{project}/issuetypes");
        match self.client.get::<IssueTypePage>(&path, &[]).await {
            Ok(page) => Ok(page.issue_types),
            Err(Error::NotFound { .. }) => Err(self.project_not_found(project).await),
            Err(e) => Err(e),
        }
    }

    /// Why `project` cannot be used: not visible (with the visible ones listed),
    /// or, when even the project list 404s, a wrong site URL.
    pub(crate) async fn project_not_found(&self, project: &str) -> Error {
        match self.projects().await {
            Ok(list) => Error::ProjectNotFound {
                key: project.to_owned(),
                visible: Some(list.into_iter().map(|p| (p.key, p.name)).collect()),
            },
            Err(e @ Error::EndpointMissing { .. }) => e,
            Err(_) => Error::ProjectNotFound { key: project.to_owned(), visible: None },
        }
    }

    pub(crate) async fn find_users(&self, query: &str) -> Result<Vec<User>, Error> {
        self.get_site("/rest/api/3/user/search", &[("query", query.to_owned()), ("maxResults", "5".to_owned())]).await
    }

    pub(crate) async fn statuses(&self) -> Result<Vec<StatusDetails>, Error> {
        self.get_site("/rest/api/3/status", &[]).await
    }

    /// Priorities of the site (`GET /priority` is deprecated; this is its replacement).
    pub(crate) async fn priorities(&self) -> Result<Vec<Named>, Error> {
        let page: models::Page<Named> =
            self.get_site("/rest/api/3/priority/search", &[("maxResults", "100".to_owned())]).await?;
        Ok(page.values)
    }
}

#[cfg(test)]
mod tests;
