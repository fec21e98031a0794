//! Jira Software's agile API (`/rest/agile/1.0`): boards, sprints, moving issues
//! into a sprint or to the backlog.

use std::sync::Arc;

use serde_json::json;

use super::{
    Error, Jira, Write,
    models::{AgilePage, Board, Sprint},
};

impl Jira {
    /// The boards of a project (cached).
    pub(crate) async fn boards(&self, project: &str) -> Result<Arc<Vec<Board>>, Error> {
        self.check_project(project)?;
        if let Some(boards) = self.meta.boards.get(&project.to_owned()) {
            return Ok(boards);
        }
        let page: AgilePage<Board> = self
            .client
            .get("/rest/agile/1.0/board", &[("projectKeyOrId", project.to_owned()), ("maxResults", "50".to_owned())])
            .await?;
        Ok(self.meta.boards.put(project.to_owned(), page.values))
    }

    /// Every sprint of a board (active, future and closed), oldest first (cached briefly).
    pub(crate) async fn sprints(&self, board: u64) -> Result<Arc<Vec<Sprint>>, Error> {
        if let Some(sprints) = self.meta.sprints.get(&board) {
            return Ok(sprints);
        }
        let mut all = Vec::new();
        loop {
            let page: AgilePage<Sprint> = self
                .client
                .get(
                    &format!("/rest/agile/1.0/board/{board}/sprint"),
                    &[
                        ("state", "active,future,closed".to_owned()),
                        ("startAt", all.len().to_string()),
                        ("maxResults", "50".to_owned()),
                    ],
                )
                .await?;
            let empty = page.values.is_empty();
            all.extend(page.values);
            if empty || page.is_last != Some(false) {
                break;
            }
        }
        Ok(self.meta.sprints.put(board, all))
    }

    /// Moves issues into an open sprint (Jira takes at most 50 per call).
    pub(crate) async fn move_to_sprint(&self, sprint: u64, keys: &[String]) -> Result<(), Error> {
        keys.iter().try_for_each(|k| self.check_key(k))?;
        self.client
            .post_no_content(&format!("/rest/agile/1.0/sprint/{sprint}/issue"), &json!({ "issues": keys }))
            .await
            .map_err(|e| e.for_write(Write::SprintMove { keys: keys.to_vec() }))
    }

    /// Moves issues out of their sprint into the backlog.
    pub(crate) async fn move_to_backlog(&self, keys: &[String]) -> Result<(), Error> {
        keys.iter().try_for_each(|k| self.check_key(k))?;
        self.client
            .post_no_content("/rest/agile/1.0/backlog/issue", &json!({ "issues": keys }))
            .await
            .map_err(|e| e.for_write(Write::SprintMove { keys: keys.to_vec() }))
    }
}
