//! The job runner: claims due jobs under a lease (a few at a time, as many as it runs at
//! once), runs them concurrently, deletes each that succeeded and reschedules each that
//! failed. Stopping lets the jobs in hand finish: a job is never abandoned half-claimed by
//! a clean shutdown, so mail queued before a restart is sent exactly once.

use std::time::Duration;

use jangteo_core::jobs::{AfterFailure, after_failure};
use jangteo_store::jobs::{self as store, StoredJob};
use tokio::sync::Notify;
use uuid::Uuid;

use super::kinds;
use crate::{ServiceError, ServiceResult, Services};

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Jobs run at once by one process.
    pub concurrency: u64,
    /// How long a claim holds a job before another runner may take it over.
    pub lease_secs: u64,
    /// How often the runner looks for jobs that came due without a wake-up.
    pub poll_ms: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            concurrency: 64,
            lease_secs: 300,
            poll_ms: 1_000,
        }
    }
}

pub struct JobRunner {
    settings: JobSettings,
    wake: Notify,
    progressed: Notify,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JobRound {
    pub claimed: usize,
    pub done: usize,
    pub failed: usize,
    pub parked: usize,
}

impl JobRunner {
    pub fn new(settings: JobSettings) -> Self {
        Self {
            settings,
            wake: Notify::new(),
            progressed: Notify::new(),
        }
    }

    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Queues the recurring housekeeping jobs if they are not queued yet.
    pub async fn schedule_recurring(&self, services: &Services) -> ServiceResult<()> {
        kinds::schedule_recurring(services).await
    }

    /// Runs due jobs until `stop` resolves; the round in progress finishes first.
    pub async fn run(&self, services: &Services, stop: impl std::future::Future<Output = ()>) {
        let poll = Duration::from_millis(self.settings.poll_ms);
        crate::worker::run_rounds("job", poll, &self.wake, stop, || async {
            Ok(self.round(services).await?.claimed)
        })
        .await;
    }

    /// Claims up to `concurrency` due jobs and runs them to the end.
    pub async fn round(&self, services: &Services) -> ServiceResult<JobRound> {
        let now = services.clock.now();
        let lease =
            chrono::Duration::seconds(i64::try_from(self.settings.lease_secs).unwrap_or(300));
        let (token, jobs) = store::claim(
            &services.db,
            &services.reader,
            now,
            now + lease,
            self.settings.concurrency.max(1),
        )
        .await?;
        let mut round = JobRound {
            claimed: jobs.len(),
            ..JobRound::default()
        };
        if jobs.is_empty() {
            return Ok(round);
        }
        let results = futures_util::future::join_all(
            jobs.iter()
                .map(|job| kinds::dispatch(services, &job.kind, &job.payload)),
        )
        .await;
        // One job's bookkeeping failing (a dropped connection, say) must not leave the
        // others of the round leased until their lease runs out: log it and go on; the
        // job whose state could not be written is simply taken again after its lease.
        // Finished one-shot jobs are deleted together, in one statement.
        let mut first_error = None;
        let mut finished = Vec::new();
        for (job, result) in jobs.iter().zip(results) {
            let recorded = match result {
                Ok(outcome) => match outcome.every {
                    None => {
                        finished.push(job.id);
                        Ok(())
                    }
                    Some(every) => self
                        .reschedule(services, token, job, every)
                        .await
                        .map(|()| round.done += 1),
                },
                Err(e) => self
                    .failed(services, token, job, &format!("{e:#}"))
                    .await
                    .map(|parked| {
                        if parked {
                            round.parked += 1;
                        } else {
                            round.failed += 1;
                        }
                    }),
            };
            if let Err(e) = recorded {
                tracing::error!(job_id = %job.id, kind = %job.kind, error = %e, "could not record a job's outcome; it runs again after its lease");
                first_error.get_or_insert(e);
            }
        }
        match services
            .writer
            .alone(async |c| store::complete_many(c, &finished, token).await)
            .await
        {
            Ok(deleted) => {
                round.done += finished.len();
                if deleted < finished.len() as u64 {
                    // Leases ran out while the jobs ran and another runner holds them now;
                    // they run again there. Jobs are kept shorter than the lease.
                    tracing::warn!(
                        lost = finished.len() as u64 - deleted,
                        "jobs finished after their lease was taken over"
                    );
                }
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = finished.len(), "could not delete finished jobs; they run again after their lease");
                first_error.get_or_insert(e.into());
            }
        }
        self.progressed.notify_waiters();
        if let Some(e) = first_error {
            return Err(e);
        }
        Ok(round)
    }

    /// Puts a finished recurring job back for its next run.
    async fn reschedule(
        &self,
        services: &Services,
        token: Uuid,
        job: &StoredJob,
        every: Duration,
    ) -> ServiceResult<()> {
        // A recurring job's row is rescheduled in place (one UPDATE): deleting it and
        // inserting the next run could lose the job between the two on a busy MariaDB.
        let next = services.clock.now()
            + chrono::Duration::from_std(every).unwrap_or(chrono::Duration::hours(1));
        if !store::reschedule(&services.db, job.id, token, next).await? {
            // The lease ran out while the job ran and another runner holds it now; it
            // will run again there. Jobs are kept shorter than the lease to avoid this.
            tracing::warn!(job_id = %job.id, kind = %job.kind, "job finished after its lease was taken over");
        }
        Ok(())
    }

    /// Records a failure; true when the job is now parked.
    async fn failed(
        &self,
        services: &Services,
        token: Uuid,
        job: &StoredJob,
        error: &str,
    ) -> ServiceResult<bool> {
        let attempts = job.attempts.saturating_add(1);
        let now = services.clock.now();
        let (retry_at, parked) = match after_failure(attempts, job.max_attempts) {
            AfterFailure::RetryIn(d) => (
                Some(now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))),
                false,
            ),
            AfterFailure::Park => (None, true),
        };
        if parked {
            tracing::error!(job_id = %job.id, kind = %job.kind, attempts, error, "job parked");
        } else {
            tracing::warn!(job_id = %job.id, kind = %job.kind, attempts, error, "job failed; will retry");
        }
        store::fail(&services.db, job.id, token, attempts, error, retry_at).await?;
        Ok(parked)
    }

    /// Runs rounds until no due job is left (also those another runner holds), or `within`
    /// passes. Tests call it after moving the clock; `jangteo` never needs to.
    pub async fn run_due(&self, services: &Services, within: Duration) -> ServiceResult<usize> {
        let deadline = tokio::time::Instant::now() + within;
        let mut ran = 0;
        loop {
            let r = self.round(services).await?;
            ran += r.claimed;
            if r.claimed > 0 {
                continue;
            }
            let now = services.clock.now();
            if store::count_due(&services.db, now).await? == 0 {
                return Ok(ran);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ServiceError::Internal(anyhow::anyhow!(
                    "jobs still due after the wait"
                )));
            }
            tokio::select! {
                () = self.progressed.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        }
    }
}

/// Admin views and actions on jobs.
impl Services {
    pub async fn jobs_list(
        &self,
        status: Option<store::JobStatus>,
        limit: u64,
    ) -> ServiceResult<Vec<StoredJob>> {
        Ok(store::list(&self.db, status, limit).await?)
    }

    /// Parked jobs back to the queue: all, or the one named. Returns how many.
    pub async fn retry_jobs(&self, id: Option<Uuid>) -> ServiceResult<u64> {
        let n = store::retry_failed(&self.db, id, self.clock.now()).await?;
        if n > 0 {
            self.jobs.wake();
        }
        Ok(n)
    }
}
