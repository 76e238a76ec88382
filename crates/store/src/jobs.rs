//! Durable jobs: work due at a time, enqueued in the caller's transaction (so it commits
//! with the business change), claimed under a lease by a conditional UPDATE (`lease.rs`,
//! shared with the outbox), deleted when done, retried with
//! backoff when it fails and parked when out of attempts.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entities::jobs;
use crate::{StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Queued (or running under a lease).
    Pending,
    /// Out of attempts: kept with its last error for an operator.
    Failed,
}

impl JobStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A job row as the store returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredJob {
    pub id: Uuid,
    pub kind: String,
    pub payload: String,
    pub dedup_key: Option<String>,
    pub status: JobStatus,
    pub due_at: DateTime<Utc>,
    /// Failed attempts so far.
    pub attempts: u32,
    pub max_attempts: u32,
    pub lease_owner: Option<Uuid>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<jobs::Model> for StoredJob {
    type Error = StoreError;

    fn try_from(m: jobs::Model) -> StoreResult<Self> {
        let status = JobStatus::parse(&m.status).ok_or_else(|| {
            StoreError::Corrupt(format!("job {} has unknown status {:?}", m.id, m.status))
        })?;
        Ok(Self {
            id: m.id,
            kind: m.kind,
            payload: m.payload,
            dedup_key: m.dedup_key,
            status,
            due_at: m.due_at,
            attempts: u32::try_from(m.attempts).unwrap_or(0),
            max_attempts: u32::try_from(m.max_attempts).unwrap_or(1),
            lease_owner: m.lease_owner,
            last_error: m.last_error,
            created_at: m.created_at,
        })
    }
}

pub struct NewJob {
    pub id: Uuid,
    pub kind: &'static str,
    pub payload: String,
    pub dedup_key: Option<String>,
    pub due_at: DateTime<Utc>,
    pub max_attempts: u32,
}

/// Queues a job in the caller's transaction. With a dedup key that is already queued,
/// nothing is written and `Ok(false)` is returned.
///
/// On PostgreSQL a unique violation aborts the surrounding transaction, so the key is
/// looked up first; the unique index still decides a race between two enqueuers (the
/// loser's transaction then fails with `Conflict`, which its caller treats as "queued").
pub async fn enqueue(
    c: &impl ConnectionTrait,
    job: NewJob,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    if let Some(key) = &job.dedup_key {
        let queued = jobs::Entity::find()
            .filter(jobs::Column::DedupKey.eq(key.as_str()))
            .count(c)
            .await?;
        if queued > 0 {
            return Ok(false);
        }
    }
    crate::insert_one(c, queued_row(job, now)).await?;
    Ok(true)
}

/// The row of a newly queued job.
fn queued_row(job: NewJob, now: DateTime<Utc>) -> jobs::ActiveModel {
    jobs::Model {
        id: job.id,
        kind: job.kind.to_owned(),
        payload: job.payload,
        dedup_key: job.dedup_key,
        status: JobStatus::Pending.as_str().to_owned(),
        due_at: job.due_at,
        attempts: 0,
        max_attempts: i32::try_from(job.max_attempts).unwrap_or(i32::MAX),
        lease_owner: None,
        lease_until: None,
        last_error: None,
        created_at: now,
    }
    .into_active_model()
}

/// Queues jobs without dedup keys in the caller's transaction, in one statement (a
/// subscriber's batch: the outbox's delivery record already makes it once per event).
pub async fn enqueue_many(
    c: &impl ConnectionTrait,
    jobs: Vec<NewJob>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let rows = jobs.into_iter().map(|job| queued_row(job, now)).collect();
    crate::insert_many(c, rows).await
}

/// Claims up to `limit` due jobs, earliest due first, until `lease_until` (the claim is in
/// `lease.rs`). Jobs whose lease ran out (their runner died) are claimable again. The
/// returned token owns the claimed jobs: `complete` and `fail` only act while it
/// still does.
pub async fn claim(
    c: &impl ConnectionTrait,
    read: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> StoreResult<(Uuid, Vec<StoredJob>)> {
    let cols = columns();
    let pending = JobStatus::Pending.as_str();
    let (token, rows) =
        crate::lease::claim::<jobs::Entity>(c, read, &cols, pending, now, lease_until, limit)
            .await?;
    Ok((
        token,
        rows.into_iter()
            .map(StoredJob::try_from)
            .collect::<StoreResult<_>>()?,
    ))
}

/// Deletes the queued job of `dedup_key` if no runner has claimed it (its work was done
/// another way); `true` when it was deleted.
pub async fn drop_unclaimed(c: &impl ConnectionTrait, dedup_key: &str) -> StoreResult<bool> {
    Ok(jobs::Entity::delete_many()
        .filter(jobs::Column::DedupKey.eq(dedup_key))
        .filter(jobs::Column::LeaseOwner.is_null())
        .exec(c)
        .await?
        .rows_affected
        > 0)
}

/// Deletes finished jobs that `token` still holds, in one statement; returns how many (fewer
/// than `ids` when a lease was lost meanwhile).
pub async fn complete_many(
    c: &impl ConnectionTrait,
    ids: &[Uuid],
    token: Uuid,
) -> StoreResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(crate::error::retry_deadlocks(|| {
        jobs::Entity::delete_many()
            .filter(jobs::Column::Id.is_in(ids.iter().copied()))
            .filter(jobs::Column::LeaseOwner.eq(token))
            .exec(c)
    })
    .await?
    .rows_affected)
}

/// Puts a finished recurring job back in the queue for its next run, in place (the same
/// row, so the job can never be lost between a delete and a re-insert), if its claim still
/// holds it; `Ok(false)` when the lease was lost.
pub async fn reschedule(
    c: &impl ConnectionTrait,
    id: Uuid,
    token: Uuid,
    due_at: DateTime<Utc>,
) -> StoreResult<bool> {
    use sea_orm::sea_query::Expr;
    Ok(crate::error::retry_deadlocks(|| {
        jobs::Entity::update_many()
            .col_expr(jobs::Column::DueAt, Expr::value(due_at))
            .col_expr(jobs::Column::Attempts, Expr::value(0))
            .col_expr(jobs::Column::LastError, Expr::value(Option::<String>::None))
            .col_expr(jobs::Column::LeaseOwner, Expr::value(Option::<Uuid>::None))
            .col_expr(
                jobs::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(jobs::Column::Id.eq(id))
            .filter(jobs::Column::LeaseOwner.eq(token))
            .exec(c)
    })
    .await?
    .rows_affected
        == 1)
}

/// Records a failed attempt: due again at `retry_at`, or parked when that is None.
pub async fn fail(
    c: &impl ConnectionTrait,
    id: Uuid,
    token: Uuid,
    attempts: u32,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> StoreResult<()> {
    crate::lease::release_failed::<jobs::Entity>(
        c,
        &columns(),
        &STATUSES,
        id,
        token,
        attempts,
        error,
        retry_at,
    )
    .await
}

/// Parked jobs back to the queue with fresh attempts: all, or the one named.
pub async fn retry_failed(
    c: &impl ConnectionTrait,
    id: Option<Uuid>,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    crate::lease::requeue_failed::<jobs::Entity>(c, &columns(), &STATUSES, id, now).await
}

/// Jobs in `status`, earliest due first (all when None), at most `limit`.
pub async fn list(
    c: &impl ConnectionTrait,
    status: Option<JobStatus>,
    limit: u64,
) -> StoreResult<Vec<StoredJob>> {
    let mut q = jobs::Entity::find();
    if let Some(s) = status {
        q = q.filter(jobs::Column::Status.eq(s.as_str()));
    }
    q.order_by_asc(jobs::Column::DueAt)
        .order_by_asc(jobs::Column::Id)
        .limit(limit)
        .all(c)
        .await?
        .into_iter()
        .map(StoredJob::try_from)
        .collect()
}

/// Pending jobs due at `now`, leased or not.
pub async fn count_due(c: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(jobs::Entity::find()
        .filter(jobs::Column::Status.eq(JobStatus::Pending.as_str()))
        .filter(jobs::Column::DueAt.lte(now))
        .count(c)
        .await?)
}

/// Jobs currently under a lease that has not run out at `now`.
pub async fn count_leased(c: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(jobs::Entity::find()
        .filter(jobs::Column::LeaseUntil.gte(now))
        .count(c)
        .await?)
}

fn columns() -> crate::lease::LeaseColumns<jobs::Column> {
    crate::lease::LeaseColumns {
        id: jobs::Column::Id,
        status: jobs::Column::Status,
        due: jobs::Column::DueAt,
        order: jobs::Column::DueAt,
        owner: jobs::Column::LeaseOwner,
        until: jobs::Column::LeaseUntil,
        attempts: jobs::Column::Attempts,
        last_error: jobs::Column::LastError,
    }
}

const STATUSES: crate::lease::Statuses = crate::lease::Statuses {
    pending: JobStatus::Pending.as_str(),
    failed: JobStatus::Failed.as_str(),
};
