//! Work records and relations of an issue: worklogs, issue links and link types,
//! remote (web) links.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    Error, Jira, Write,
    models::{LinkTypeDef, LinkTypes, RemoteLink, Worklog},
};

impl Jira {
    /// Logs work: `time_spent` in Jira's format ("2h 30m"), `started` as Jira's timestamp.
    pub(crate) async fn add_worklog(
        &self,
        key: &str,
        time_spent: &str,
        started: &str,
        comment: Option<Value>,
    ) -> Result<Worklog, Error> {
        self.check_key(key)?;
        let mut body = json!({ "timeSpent": time_spent, "started": started });
        if let (Some(adf), Some(obj)) = (comment, body.as_object_mut()) {
            obj.insert("comment".to_owned(), adf);
        }
        self.client
            .post(&format!("/rest/api/3/issue/{key}/worklog"), &body, false)
            .await
            .map_err(|e| e.for_issue(key).for_write(Write::Worklog { key: key.to_owned() }))
    }

    /// The site's issue link types (cached).
    pub(crate) async fn link_types(&self) -> Result<Arc<Vec<LinkTypeDef>>, Error> {
        if let Some(types) = self.meta.link_types.get(&()) {
            return Ok(types);
        }
        let types: LinkTypes = self.client.get("/rest/api/3/issueLinkType", &[]).await?;
        Ok(self.meta.link_types.put((), types.issue_link_types))
    }

    /// Links two issues: `outward` `<type's outward phrase>` `inward` (e.g. A blocks B).
    pub(crate) async fn create_link(&self, link_type: &str, outward: &str, inward: &str) -> Result<(), Error> {
        self.check_key(outward)?;
        self.check_key(inward)?;
        let body = json!({ "type": { "name": link_type }, "outwardIssue": { "key": outward }, "inwardIssue": { "key": inward } });
        let write = Write::Link { outward: outward.to_owned(), inward: inward.to_owned(), remove: false };
        self.client.post_no_content("/rest/api/3/issueLink", &body).await.map_err(|e| e.for_write(write))
    }

    /// Removes an issue link by id.
    /// Removes an issue link by id (`outward` and `inward` name it in messages; both are checked).
    pub(crate) async fn delete_link(&self, id: &str, outward: &str, inward: &str) -> Result<(), Error> {
        self.check_key(outward)?;
        self.check_key(inward)?;
        let write = Write::Link { outward: outward.to_owned(), inward: inward.to_owned(), remove: true };
        self.client.delete(&format!("/rest/api/3/issueLink/{id}"), &[]).await.map_err(|e| e.for_write(write))
    }

    /// An issue's remote (web) links.
    pub(crate) async fn remote_links(&self, key: &str) -> Result<Vec<RemoteLink>, Error> {
        self.check_key(key)?;
        self.client.get(&format!("/rest/api/3/issue/{key}/remotelink"), &[]).await.map_err(|e| e.for_issue(key))
    }
}
