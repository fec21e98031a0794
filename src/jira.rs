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
pub(crate) mod jql;
mod meta;
pub(crate) mod models;
mod work;

use serde_json::{Value, json};

use crate::limits::JIRA_SCAN_PAGE;

pub(crate) use client::Client;
pub(crate) use error::Error;
use models::{
    Count, Created, Issue, IssueType, IssueTypePage, Named, Page, Project, SearchPage, StatusDetails, Transition,
    Transitions, User,
};

/// The fields of the compact one-line issue view.
pub(crate) const LINE_FIELDS: &[&str] = &["summary", "status", "assignee", "priority", "updated"];

/// Jira operations used by the tools. Every method goes through the
/// rate-limited, retrying [`Client`].
#[derive(Debug, Clone)]
pub(crate) struct Jira {
    client: Client,
    /// Field, screen, link-type, board and sprint metadata, shared by clones.
    meta: std::sync::Arc<meta::MetaCache>,
}

impl Jira {
    pub(crate) fn new(client: Client) -> Self {
        Self { client, meta: std::sync::Arc::default() }
    }

    pub(crate) fn base_url(&self) -> &str {
        self.client.base_url()
    }

    /// The authenticated user: the credential check (no anonymous access).
    pub(crate) async fn myself(&self) -> Result<User, Error> {
        self.client.get("/rest/api/3/myself", &[]).await
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
        let mut body = json!({ "jql": jql, "fields": fields, "maxResults": max_results });
        if let (Some(token), Some(obj)) = (next_page_token, body.as_object_mut()) {
            obj.insert("nextPageToken".to_owned(), Value::String(token.to_owned()));
        }
        if let (true, Some(obj)) = (changelog, body.as_object_mut()) {
            obj.insert("expand".to_owned(), Value::String("changelog".to_owned()));
        }
        self.client.post("/rest/api/3/search/jql", &body, true).await.map_err(Error::for_jql)
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
        let count: Count = self
            .client
            .post("/rest/api/3/search/approximate-count", &json!({ "jql": jql }), true)
            .await
            .map_err(Error::for_jql)?;
        Ok(count.count)
    }

    pub(crate) async fn issue(&self, key: &str, fields: &str, changelog: bool) -> Result<Issue, Error> {
        let mut query = vec![("fields", fields.to_owned())];
        if changelog {
            query.push(("expand", "changelog".to_owned()));
        }
        self.client.get(&format!("/rest/api/3/issue/{key}"), &query).await.map_err(|e| e.for_issue(key))
    }

    pub(crate) async fn create_issue(&self, fields: Value) -> Result<String, Error> {
        let created: Created = self.client.post("/rest/api/3/issue", &json!({ "fields": fields }), false).await?;
        Ok(created.key)
    }

    pub(crate) async fn edit_issue(&self, key: &str, body: &Value) -> Result<(), Error> {
        self.client.put(&format!("/rest/api/3/issue/{key}"), body).await.map_err(|e| e.for_issue(key))
    }

    pub(crate) async fn delete_issue(&self, key: &str, delete_subtasks: bool) -> Result<(), Error> {
        self.client
            .delete(&format!("/rest/api/3/issue/{key}"), &[("deleteSubtasks", delete_subtasks.to_string())])
            .await
            .map_err(|e| e.for_issue(key))
    }

    pub(crate) async fn transitions(&self, key: &str) -> Result<Vec<Transition>, Error> {
        let t: Transitions = self
            .client
            .get(&format!("/rest/api/3/issue/{key}/transitions"), &[])
            .await
            .map_err(|e| e.for_issue(key))?;
        Ok(t.transitions)
    }

    pub(crate) async fn transition(&self, key: &str, id: &str, comment: Option<Value>) -> Result<(), Error> {
        let mut body = json!({ "transition": { "id": id } });
        if let (Some(adf), Some(obj)) = (comment, body.as_object_mut()) {
            obj.insert("update".to_owned(), json!({ "comment": [{ "add": { "body": adf } }] }));
        }
        self.client
            .post_no_content(&format!("/rest/api/3/issue/{key}/transitions"), &body)
            .await
            .map_err(|e| e.for_issue(key))
    }

    pub(crate) async fn add_comment(&self, key: &str, body: Value) -> Result<String, Error> {
        let created: models::Comment = self
            .client
            .post(&format!("/rest/api/3/issue/{key}/comment"), &json!({ "body": body }), false)
            .await
            .map_err(|e| e.for_issue(key))?;
        Ok(created.id)
    }

    /// Projects visible to the account (first 50, by key), for error messages.
    pub(crate) async fn projects(&self) -> Result<Vec<Project>, Error> {
        let page: Page<Project> = self
            .client
            .get("/rest/api/3/project/search", &[("maxResults", "50".to_owned()), ("orderBy", "key".to_owned())])
            .await?;
        Ok(page.values)
    }

    /// Issue types that can be created in a project. A 404 names the valid projects.
    pub(crate) async fn issue_types(&self, project: &str) -> Result<Vec<IssueType>, Error> {
        let path = format!("/rest/api/3/issue/createmeta/{project}/issuetypes");
        match self.client.get::<IssueTypePage>(&path, &[]).await {
            Ok(page) => Ok(page.issue_types),
            Err(Error::NotFound { .. }) => {
                let visible =
                    self.projects().await.ok().map(|list| list.into_iter().map(|p| (p.key, p.name)).collect());
                Err(Error::ProjectNotFound { key: project.to_owned(), visible })
            }
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn find_users(&self, query: &str) -> Result<Vec<User>, Error> {
        self.client.get("/rest/api/3/user/search", &[("query", query.to_owned()), ("maxResults", "5".to_owned())]).await
    }

    pub(crate) async fn statuses(&self) -> Result<Vec<StatusDetails>, Error> {
        self.client.get("/rest/api/3/status", &[]).await
    }

    /// Priorities of the site (`GET /priority` is deprecated; this is its replacement).
    pub(crate) async fn priorities(&self) -> Result<Vec<Named>, Error> {
        let page: models::Page<Named> =
            self.client.get("/rest/api/3/priority/search", &[("maxResults", "100".to_owned())]).await?;
        Ok(page.values)
    }
}

#[cfg(test)]
mod tests;
