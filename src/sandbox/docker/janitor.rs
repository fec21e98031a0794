//! Who owns a sandbox container, and the janitor that removes those a crashed
//! server left behind, never the running containers of another live jira-mcp.

use std::collections::HashMap;

use bollard::{
    Docker,
    errors::Error as DockerError,
    query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder},
};

/// Label on every sandbox container; the janitor removes what carries it.
pub(super) const LABEL: &str = "io.github.jira-mcp.sandbox";
/// Label naming the server process that owns a container (`pid:start time`), so a
/// janitor never removes the running containers of another live jira-mcp.
pub(super) const OWNER_LABEL: &str = "io.github.jira-mcp.owner";

/// `pid:start-time` of a process, from /proc; `None` when it does not exist.
/// The start time makes a recycled pid look like the different process it is.
fn process_identity(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22 (starttime); fields after the ")" of the command name start at field 3.
    let start = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
    Some(format!("{pid}:{start}"))
}

/// This process's owner label value.
pub(super) fn my_identity() -> String {
    process_identity(std::process::id()).unwrap_or_else(|| format!("{}:?", std::process::id()))
}

/// Whether the owner named by a label value is a live process other than us.
fn owned_by_another_live_process(owner: Option<&str>, me: &str) -> bool {
    let Some(owner) = owner else { return false };
    owner != me
        && owner.split_once(':').and_then(|(pid, _)| pid.parse::<u32>().ok()).and_then(process_identity).as_deref()
            == Some(owner)
}

pub(super) async fn force_remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    match docker.remove_container(id, Some(options)).await {
        Ok(()) | Err(DockerError::DockerResponseServerError { status_code: 404 | 409, .. }) => {}
        Err(e) => tracing::warn!("cannot remove sandbox container {id}: {e}"),
    }
}

/// Removes sandbox containers left by a crashed server: labelled, and not owned
/// by this process or by another live jira-mcp process (whose runs are in flight).
pub(super) async fn janitor(docker: &Docker, me: &str) -> Result<usize, DockerError> {
    let filters = HashMap::from([("label", vec![LABEL])]);
    let list = docker
        .list_containers(Some(ListContainersOptionsBuilder::default().all(true).filters(&filters).build()))
        .await?;
    let mut removed = 0;
    for c in &list {
        let owner = c.labels.as_ref().and_then(|l| l.get(OWNER_LABEL)).map(String::as_str);
        if owner == Some(me) || owned_by_another_live_process(owner, me) {
            continue;
        }
        if let Some(id) = c.id.as_deref() {
            force_remove(docker, id).await;
            removed += 1;
        }
    }
    Ok(removed)
}
