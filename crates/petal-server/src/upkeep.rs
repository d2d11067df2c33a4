//! The server's scheduled upkeep, also run by hand from the command line: signed checkpoints
//! of every organisation's audit chain, and retention (audit events after
//! `PETAL_AUDIT_RETENTION`, jobs after their organisation's `retention_days` without activity,
//! exports a day after they were asked for).
//!
//! Every decision about time takes `now` from the caller, so tests move a clock instead of
//! waiting.

use crate::audit_seals::{self, AuditSealer};
use chrono::{DateTime, Utc};
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_domain::{Clock, OrgId};
use petal_storage::objects::ObjectStorage;
use petal_storage::{Database, OrgScope, audit, jobs, orgs};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the scheduler runs: checkpoints are made at least hourly.
pub const SCHEDULE: Duration = Duration::from_secs(3600);

/// What upkeep works on.
#[derive(Debug, Clone)]
pub struct Upkeep {
    /// The database.
    pub db: Database,
    /// The object store (documents, seal copies).
    pub objects: ObjectStorage,
    /// Signs checkpoints and anchors.
    pub sealer: Arc<AuditSealer>,
    /// How long audit events are kept.
    pub audit_retention: Duration,
}

/// What retention did in one organisation.
#[derive(Debug, Serialize)]
pub struct OrgRetention {
    /// The organisation.
    pub org_id: OrgId,
    /// Audit events purged (a signed anchor now stands for them).
    pub audit_events_purged: u64,
    /// Jobs purged for inactivity.
    pub jobs_purged: usize,
    /// Documents purged with those jobs.
    pub documents_purged: usize,
    /// Exports deleted a day after they were asked for.
    pub exports_expired: usize,
    /// Why retention stopped short in this organisation (the others still ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl OrgRetention {
    fn new(org_id: OrgId) -> Self {
        Self {
            org_id,
            audit_events_purged: 0,
            jobs_purged: 0,
            documents_purged: 0,
            exports_expired: 0,
            error: None,
        }
    }
}

/// What a round of checkpoints did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Checkpoints {
    /// Checkpoints made.
    pub made: usize,
    /// Organisations whose checkpoint failed (logged).
    pub failed: usize,
}

/// Why upkeep stopped.
#[derive(Debug, thiserror::Error)]
pub enum UpkeepError {
    /// Storage or sealing failed.
    #[error(transparent)]
    Seal(#[from] audit_seals::SealError),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] petal_storage::StorageError),
}

impl Upkeep {
    /// Upkeep over opened `resources`, keeping audit events for `audit_retention`.
    pub fn new(
        resources: &crate::app::Resources,
        audit_retention: Duration,
    ) -> Result<Self, petal_crypto::CryptoError> {
        Ok(Self {
            db: resources.db.clone(),
            objects: resources.objects.clone(),
            sealer: Arc::new(AuditSealer::new(&resources.installation_key)?),
            audit_retention,
        })
    }

    /// Applies retention to every organisation at `now`, on behalf of `context` (the
    /// scheduler, or an operator).
    pub async fn run_retention(
        &self,
        now: DateTime<Utc>,
        context: &AuditContext,
    ) -> Result<Vec<OrgRetention>, UpkeepError> {
        let audit_cutoff =
            now - chrono::Duration::from_std(self.audit_retention).unwrap_or_default();
        let mut report = Vec::new();
        // Upkeep acts on every organisation; each action is audited in that organisation.
        #[allow(clippy::disallowed_methods)]
        for scope in OrgScope::for_upkeep(&self.db).await? {
            let mut done = OrgRetention::new(scope.org_id());
            // One organisation's failure is reported and does not stop the others.
            if let Err(error) = self.retain(&scope, now, audit_cutoff, context, &mut done).await {
                tracing::error!(org = %scope.org_id(), %error, "retention failed");
                done.error = Some(error.to_string());
            }
            report.push(done);
        }
        let purged = report.iter().any(|r| r.jobs_purged > 0 || r.audit_events_purged > 0);
        if purged && let Err(error) = self.db.flush_deletions().await {
            tracing::warn!(%error, "could not checkpoint the database after retention");
        }
        Ok(report)
    }

    /// Applies retention to one organisation, recording what it did in `done` as it goes.
    async fn retain(
        &self,
        scope: &OrgScope,
        now: DateTime<Utc>,
        audit_cutoff: DateTime<Utc>,
        context: &AuditContext,
        done: &mut OrgRetention,
    ) -> Result<(), UpkeepError> {
        (done.jobs_purged, done.documents_purged) = self.purge_jobs(scope, now, context).await?;
        done.exports_expired =
            crate::org_export::expire(&self.db, &self.objects, scope, now).await?;
        done.audit_events_purged = audit_seals::purge_before(
            &self.db,
            &self.objects,
            &self.sealer,
            scope,
            now,
            audit_cutoff,
            context,
        )
        .await?;
        Ok(())
    }

    /// Purges `scope`'s jobs without activity for its `retention_days` (none when 0): each
    /// job's rows and key in one transaction with its `job.purged` event, then its blobs.
    async fn purge_jobs(
        &self,
        scope: &OrgScope,
        now: DateTime<Utc>,
        context: &AuditContext,
    ) -> Result<(usize, usize), UpkeepError> {
        let mut tx = self.db.begin_scoped(scope).await?;
        let days = orgs::settings(&mut tx).await?.retention_days;
        if days == 0 {
            return Ok((0, 0));
        }
        let cutoff = now - chrono::Duration::days(i64::from(days));
        let inactive = jobs::inactive_since(&mut tx, cutoff).await?;
        drop(tx);
        let (mut purged, mut documents) = (0, 0);
        for job in inactive {
            let mut tx = self.db.begin_scoped(scope).await?;
            jobs::lock(&mut tx, job).await?;
            // Checked again under the lock: activity since the list was read keeps the job.
            if !jobs::inactive_since(&mut tx, cutoff).await?.contains(&job) {
                continue;
            }
            let Some(names) = jobs::delete(&mut tx, job).await? else { continue };
            let event = AuditEvent::success(AuditAction::JobPurged, Some(Target::job(job)))
                .detail("documents", Detail::Number(names.len() as i64))
                .detail("retention_days", Detail::Number(i64::from(days)));
            audit::append(&mut tx, now, context, &event).await?;
            let withdrawn = crate::org_export::withdraw_all(&mut tx, now).await?;
            tx.commit().await?;
            purged += 1;
            documents += names.len();
            crate::upload::delete_all(&self.objects, names).await;
            crate::org_export::delete_zips(&self.objects, &withdrawn).await;
        }
        Ok((purged, documents))
    }

    /// Makes a checkpoint of every organisation whose chain moved since its last one;
    /// returns how many were made. One organisation's failure is logged and counted, and the
    /// others still get theirs.
    pub async fn checkpoint_all(&self, now: DateTime<Utc>) -> Result<Checkpoints, UpkeepError> {
        let mut done = Checkpoints::default();
        #[allow(clippy::disallowed_methods)]
        for scope in OrgScope::for_upkeep(&self.db).await? {
            match audit_seals::checkpoint_if_moved(
                &self.db,
                &self.objects,
                &self.sealer,
                &scope,
                now,
            )
            .await
            {
                Ok(made) => done.made += usize::from(made),
                Err(error) => {
                    tracing::error!(org = %scope.org_id(), %error, "audit checkpoint failed");
                    done.failed += 1;
                }
            }
        }
        Ok(done)
    }

    /// Runs retention and then checkpoints every [`SCHEDULE`] (the first one period from
    /// now) until `stop` is cancelled. A failed round is logged and tried again next time.
    pub fn spawn(
        self,
        clock: Arc<dyn Clock>,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let first = tokio::time::Instant::now() + SCHEDULE;
            let mut ticks = tokio::time::interval_at(first, SCHEDULE);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let now = clock.now();
                match self.run_retention(now, &AuditContext::system()).await {
                    Ok(report) => {
                        let events: u64 = report.iter().map(|r| r.audit_events_purged).sum();
                        let jobs: usize = report.iter().map(|r| r.jobs_purged).sum();
                        if events > 0 || jobs > 0 {
                            tracing::info!(audit_events = events, jobs, "retention purged");
                        }
                    }
                    Err(error) => tracing::error!(%error, "retention failed"),
                }
                // After retention, so the checkpoint covers its events.
                if let Err(error) = self.checkpoint_all(now).await {
                    tracing::error!(%error, "audit checkpoints failed");
                }
            }
        })
    }
}
