//! An in-process sandbox that runs nothing: it records each job and answers with
//! a scripted outcome, so run_python's argument checks, data staging and
//! rendering are tested without Docker. Test-only.

use std::sync::Mutex;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::{Error, Job, Outcome, Sandbox};

/// Records jobs; answers every run with `answer`.
#[derive(Debug)]
pub(crate) struct FakeSandbox {
    answer: Mutex<Result<Outcome, Error>>,
    jobs: Mutex<Vec<Job>>,
}

impl FakeSandbox {
    /// A sandbox whose every run ends with `answer`.
    pub(crate) fn answering(answer: Result<Outcome, Error>) -> Self {
        Self { answer: Mutex::new(answer), jobs: Mutex::new(Vec::new()) }
    }

    /// The jobs run so far, oldest first.
    pub(crate) fn jobs(&self) -> Vec<Job> {
        self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

fn copy(answer: &Result<Outcome, Error>) -> Result<Outcome, Error> {
    match answer {
        Ok(outcome) => Ok(outcome.clone()),
        Err(Error::Unavailable { problem, fix }) => {
            Err(Error::Unavailable { problem: problem.clone(), fix: fix.clone() })
        }
        Err(Error::Docker(detail)) => Err(Error::Docker(detail.clone())),
        Err(Error::Remote(detail)) => Err(Error::Remote(detail.clone())),
        Err(Error::Busy { waiting, slots }) => Err(Error::Busy { waiting: *waiting, slots: *slots }),
        Err(Error::Cancelled) => Err(Error::Cancelled),
    }
}

impl Sandbox for FakeSandbox {
    fn run(&self, job: Job, cancel: CancellationToken) -> BoxFuture<'_, Result<Outcome, Error>> {
        Box::pin(async move {
            self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(job);
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            copy(&self.answer.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
        })
    }
}
