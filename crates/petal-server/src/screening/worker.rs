//! The worker loop: claim a task, process it, and on a passing failure give it back with a
//! growing delay; after the last attempt the document fails alone.

use super::Wakeup;
use super::process;
use super::remote::RemoteEngines;
use petal_documents::Limits;
use petal_domain::Clock;
use petal_storage::objects::ObjectStorage;
use petal_storage::{Database, tasks};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

/// How long a claimed task stays the worker's beyond the time reading and a remote engine may
/// take (fetching, decrypting, screening and recording take far less).
const LEASE_MARGIN: Duration = Duration::from_secs(120);
/// How often an idle worker looks for due tasks.
const POLL: Duration = Duration::from_millis(500);
/// Attempts before a document is marked failed.
pub(super) const MAX_ATTEMPTS: i32 = 5;

/// What a worker needs.
#[derive(Clone)]
pub struct Screener {
    /// The database holding the queue.
    pub db: Database,
    /// Where documents are.
    pub objects: ObjectStorage,
    /// The key hierarchy.
    pub vault: crate::vault::Vault,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Limits for reading a document (the upload checks' limits).
    pub limits: Limits,
    /// Longest a document's text may take to read.
    pub read_deadline: Duration,
    /// Wakes idle workers.
    pub wakeup: Wakeup,
    /// The remote engines, for organisations that chose one.
    pub remote: Arc<RemoteEngines>,
    /// CVs waiting on a remote engine: they run beside the workers, which go on claiming.
    pub(super) at_remote: TaskTracker,
}

/// How long [`Workers::shutdown`] waits for tasks in flight.
const DRAIN: Duration = Duration::from_secs(30);

/// Running workers.
pub struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
    at_remote: TaskTracker,
}

impl Workers {
    /// Stops the workers: each finishes the task it holds and takes no other. One still busy
    /// after the drain time is aborted; its task is retried when its lease runs out.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + DRAIN;
        for mut handle in self.handles {
            if tokio::time::timeout_at(deadline, &mut handle).await.is_err() {
                handle.abort();
            }
        }
        // CVs at a remote engine get what is left of the drain time; one still waiting
        // is retried when its lease runs out.
        self.at_remote.close();
        let _ = tokio::time::timeout_at(deadline, self.at_remote.wait()).await;
    }
}

impl Screener {
    /// A screener over the opened resources, reading documents under the configured upload
    /// limits and read timeout, with the configured remote engines.
    pub fn new(
        resources: &crate::app::Resources,
        config: &crate::config::Config,
        clock: Arc<dyn Clock>,
        wakeup: Wakeup,
    ) -> anyhow::Result<Self> {
        let uploads = crate::upload::UploadLimits::new(
            config.max_upload_bytes,
            config.max_upload_request_bytes,
        );
        Ok(Self {
            db: resources.db.clone(),
            objects: resources.objects.clone(),
            vault: resources.vault.clone(),
            clock,
            limits: uploads.checks,
            read_deadline: config.read_timeout,
            wakeup,
            remote: Arc::new(RemoteEngines::new(config.remote.clone())?),
            at_remote: TaskTracker::new(),
        })
    }

    /// Starts `count` workers.
    pub fn spawn(self, count: usize) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let handles = (0..count)
            .map(|_| {
                let screener = self.clone();
                let stopped = stopped.clone();
                tokio::spawn(async move { screener.run(stopped).await })
            })
            .collect();
        Workers { stop, handles, at_remote: self.at_remote.clone() }
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        while !*stopped.borrow() {
            let now = self.clock.now();
            let lease = self.read_deadline + self.remote.budget() + LEASE_MARGIN;
            let lease_until = now + chrono::Duration::from_std(lease).unwrap_or_default();
            let saturated = self.remote.saturated();
            match tasks::claim(&self.db, now, lease_until, &saturated).await {
                Ok(Some(task)) => self.handle(task).await,
                Ok(None) => {
                    tokio::select! {
                        () = self.wakeup.notified() => {}
                        () = tokio::time::sleep(POLL) => {}
                        changed = stopped.changed() => if changed.is_err() { return },
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "could not claim a screening task");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// Processes one task to a stored outcome, or gives it back for later.
    pub(super) async fn handle(&self, task: tasks::Claimed) {
        let document = task.document_id;
        // A task claimed more often than allowed lost its lease each time (its worker died,
        // perhaps on this very document): it fails alone instead of coming back for ever.
        if task.attempt > MAX_ATTEMPTS {
            tracing::error!(%document, attempt = task.attempt, "screening never finished");
            if let Err(error) = process::give_up(self, &task, "processing_failed").await {
                tracing::error!(%document, error = %format!("{error:#}"), "could not record the failure");
            }
            return;
        }
        let outcome = process::process(self, &task).await;
        self.settle(&task, outcome).await;
    }

    /// After processing: nothing to do on success; on a passing failure the task is given
    /// back with a growing delay; after the last attempt the document fails alone.
    pub(super) async fn settle(&self, task: &tasks::Claimed, outcome: anyhow::Result<()>) {
        let document = task.document_id;
        match outcome {
            Ok(()) => {}
            Err(error) if task.attempt < MAX_ATTEMPTS => {
                let delay = backoff(task.attempt);
                tracing::warn!(%document, attempt = task.attempt, error = %format!("{error:#}"),
                    retry_in_s = delay.as_secs(), "screening failed; will retry");
                let run_after =
                    self.clock.now() + chrono::Duration::from_std(delay).unwrap_or_default();
                if let Err(error) = tasks::retry(&self.db, task, run_after).await {
                    tracing::warn!(%document, %error, "could not reschedule; the lease will");
                }
            }
            Err(error) => {
                tracing::error!(%document, error = %format!("{error:#}"), "screening failed on every attempt");
                if let Err(error) = process::give_up(self, task, "processing_failed").await {
                    tracing::error!(%document, %error, "could not record the failure");
                }
            }
        }
    }
}

/// 5 s, 10 s, 20 s, 40 s… capped at five minutes.
fn backoff(attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(6);
    Duration::from_secs(5 * 2u64.pow(doublings)).min(Duration::from_secs(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(4), Duration::from_secs(40));
        assert_eq!(backoff(50), Duration::from_secs(300));
    }
}
