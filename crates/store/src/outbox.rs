//! The transactional outbox: events inserted in the business transaction, then claimed in
//! batches by a relay under a lease, marked delivered, or failed with backoff and finally
//! parked. Consumers record the ids they applied (`outbox_processed`) in the transaction of
//! their own effect, so an event delivered twice is applied once.
//!
//! Claims are leases (`lease.rs`), shared with the job queue.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entities::{outbox_events as events, outbox_processed as processed};
use crate::{StoreError, StoreResult};

/// Where an event stands. Stored as its `as_str()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    /// Waiting for (another) delivery attempt.
    Pending,
    /// Every subscriber applied it.
    Delivered,
    /// Out of attempts: parked with its last error until an operator retries it.
    Failed,
}

impl EventStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// An event row as the store returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: Uuid,
    pub kind: String,
    /// The serialized event (JSON), as the services wrote it.
    pub payload: String,
    pub status: EventStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl TryFrom<events::Model> for StoredEvent {
    type Error = StoreError;

    fn try_from(m: events::Model) -> StoreResult<Self> {
        let status = EventStatus::parse(&m.status).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "outbox event {} has unknown status {:?}",
                m.id, m.status
            ))
        })?;
        Ok(Self {
            id: m.id,
            kind: m.kind,
            payload: m.payload,
            status,
            attempts: u32::try_from(m.attempts).unwrap_or(0),
            last_error: m.last_error,
            created_at: m.created_at,
            delivered_at: m.delivered_at,
        })
    }
}

/// A new event for [`insert`].
pub struct NewEvent {
    pub id: Uuid,
    pub kind: &'static str,
    pub payload: String,
}

/// Adds the writes of the events to a batch that runs later in the caller's transaction;
/// they become visible with its commit.
pub fn insert_into(
    batch: &mut crate::Batch,
    backend: sea_orm::DbBackend,
    new: Vec<NewEvent>,
    at: DateTime<Utc>,
) {
    let rows: Vec<_> = new
        .into_iter()
        .map(|e| {
            events::Model {
                id: e.id,
                kind: e.kind.to_owned(),
                payload: e.payload,
                status: EventStatus::Pending.as_str().to_owned(),
                attempts: 0,
                available_at: at,
                lease_owner: None,
                lease_until: None,
                last_error: None,
                created_at: at,
                delivered_at: None,
            }
            .into_active_model()
        })
        .collect::<Vec<_>>();
    // 11 columns a row: 500 rows stay far under every engine's bind-parameter limit.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        crate::insert_many_into(batch, backend, rows.by_ref().take(500).collect());
    }
}

/// Claims up to `limit` due events for `lease`, oldest first (the claim is in `lease.rs`).
/// The returned token owns them until `lease_until`; after that another relay may take
/// them over.
pub async fn claim(
    c: &impl ConnectionTrait,
    read: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> StoreResult<(Uuid, Vec<StoredEvent>)> {
    let cols = columns();
    let pending = EventStatus::Pending.as_str();
    let (token, rows) =
        crate::lease::claim::<events::Entity>(c, read, &cols, pending, now, lease_until, limit)
            .await?;
    Ok((
        token,
        rows.into_iter()
            .map(StoredEvent::try_from)
            .collect::<StoreResult<_>>()?,
    ))
}

/// Marks claimed events delivered (only those this claim still owns).
pub async fn mark_delivered(
    c: &impl ConnectionTrait,
    token: Uuid,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(crate::error::retry_deadlocks(|| {
        events::Entity::update_many()
            .col_expr(
                events::Column::Status,
                Expr::value(EventStatus::Delivered.as_str()),
            )
            .col_expr(events::Column::DeliveredAt, Expr::value(at))
            .col_expr(
                events::Column::LeaseOwner,
                Expr::value(Option::<Uuid>::None),
            )
            .col_expr(
                events::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(events::Column::Id.is_in(ids.iter().copied()))
            .filter(events::Column::LeaseOwner.eq(token))
            .exec(c)
    })
    .await?
    .rows_affected)
}

/// Records a failed attempt of a claimed event: back to pending, due again at `retry_at`,
/// or parked as failed when `retry_at` is None.
pub async fn mark_failed(
    c: &impl ConnectionTrait,
    token: Uuid,
    id: Uuid,
    attempts: u32,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> StoreResult<()> {
    crate::lease::release_failed::<events::Entity>(
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

/// Parked events back to pending with fresh attempts: all of them, or the one named.
/// Returns how many were requeued.
pub async fn retry_failed(
    c: &impl ConnectionTrait,
    id: Option<Uuid>,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    crate::lease::requeue_failed::<events::Entity>(c, &columns(), &STATUSES, id, now).await
}

/// Events in `status`, newest first, keyset-paged by id.
pub async fn list(
    c: &impl ConnectionTrait,
    status: Option<EventStatus>,
    before: Option<Uuid>,
    limit: u64,
) -> StoreResult<Vec<StoredEvent>> {
    let mut q = events::Entity::find();
    if let Some(s) = status {
        q = q.filter(events::Column::Status.eq(s.as_str()));
    }
    if let Some(b) = before {
        q = q.filter(events::Column::Id.lt(b));
    }
    q.order_by_desc(events::Column::Id)
        .limit(limit)
        .all(c)
        .await?
        .into_iter()
        .map(StoredEvent::try_from)
        .collect()
}

pub async fn find(c: &impl ConnectionTrait, id: Uuid) -> StoreResult<StoredEvent> {
    events::Entity::find_by_id(id)
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// How many events are in `status` (all when None).
pub async fn count(c: &impl ConnectionTrait, status: Option<EventStatus>) -> StoreResult<u64> {
    let mut q = events::Entity::find();
    if let Some(s) = status {
        q = q.filter(events::Column::Status.eq(s.as_str()));
    }
    Ok(q.count(c).await?)
}

/// Pending events that are due at `now` (leased or not): what a relay still has to do.
pub async fn count_due(c: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(events::Entity::find()
        .filter(events::Column::Status.eq(EventStatus::Pending.as_str()))
        .filter(events::Column::AvailableAt.lte(now))
        .count(c)
        .await?)
}

/// Deletes delivered events and processed-id records older than `cutoff`.
pub async fn prune(c: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> StoreResult<u64> {
    let n = events::Entity::delete_many()
        .filter(events::Column::Status.eq(EventStatus::Delivered.as_str()))
        .filter(events::Column::DeliveredAt.lt(cutoff))
        .exec(c)
        .await?
        .rows_affected;
    // Records of events still in the outbox stay: a parked event retried after the
    // retention period must not be applied again by the consumers that already did.
    let remaining = Query::select()
        .column(events::Column::Id)
        .from(events::Entity)
        .to_owned();
    processed::Entity::delete_many()
        .filter(processed::Column::ProcessedAt.lt(cutoff))
        .filter(processed::Column::EventId.not_in_subquery(remaining))
        .exec(c)
        .await?;
    Ok(n)
}

/// Which of `ids` `consumer` has applied already.
pub async fn processed_of(
    c: &impl ConnectionTrait,
    consumer: &str,
    ids: &[Uuid],
) -> StoreResult<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(processed::Entity::find()
        .select_only()
        .column(processed::Column::EventId)
        .filter(processed::Column::Consumer.eq(consumer))
        .filter(processed::Column::EventId.is_in(ids.to_vec()))
        .into_tuple()
        .all(c)
        .await?)
}

/// Records that `consumer` applied `ids`, in the transaction of its effect. A second
/// record of one id is refused by the primary key (`StoreError::Conflict`), which is how a
/// duplicate delivery racing the first is caught.
pub async fn record_processed(
    c: &impl ConnectionTrait,
    consumer: &str,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let rows: Vec<_> = ids
        .iter()
        .map(|id| {
            processed::Model {
                consumer: consumer.to_owned(),
                event_id: *id,
                processed_at: at,
            }
            .into_active_model()
        })
        .collect();
    crate::insert_many(c, rows).await
}

fn columns() -> crate::lease::LeaseColumns<events::Column> {
    crate::lease::LeaseColumns {
        id: events::Column::Id,
        status: events::Column::Status,
        due: events::Column::AvailableAt,
        order: events::Column::CreatedAt,
        owner: events::Column::LeaseOwner,
        until: events::Column::LeaseUntil,
        attempts: events::Column::Attempts,
        last_error: events::Column::LastError,
    }
}

const STATUSES: crate::lease::Statuses = crate::lease::Statuses {
    pending: EventStatus::Pending.as_str(),
    failed: EventStatus::Failed.as_str(),
};
