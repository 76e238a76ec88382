//! The unit of work: one database transaction that several services' operations join,
//! collecting the domain events they record and the jobs they enqueue. `commit` writes the
//! events as outbox rows in the same transaction, so a business change and its events
//! commit together or not at all; only after the commit are the relay and the job runner
//! woken and this process's read cache told. Nothing leaves the process before the commit.

use std::collections::HashSet;

use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{ProductId, UserId};
use jangteo_store::idempotency::{self, KeyUse, Reservation};
use jangteo_store::{Batch, ConnectionTrait, DatabaseTransaction, WriteTxn, outbox};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::idempotency::IdempotentRequest;
use crate::jobs::Job;
use crate::{ServiceError, ServiceResult, Services};

pub struct UnitOfWork<'s> {
    s: &'s Services,
    txn: WriteTxn,
    events: Vec<DomainEvent>,
    seen: HashSet<DomainEvent>,
    jobs_enqueued: bool,
    /// A key reserved by this unit, until its result is recorded.
    open_key: Option<(&'static str, UserId, String)>,
    /// Products whose stock ran out or came back: their SOLD_OUT status is checked after
    /// the commit (see `inventory::sync_sold_out`).
    stock_turned: Vec<ProductId>,
    /// Writes that need no answer, sent with the outbox rows just before the commit.
    later: Batch,
}

impl Services {
    /// Starts a unit of work. Pass `uow.conn()` to store functions; call `commit` at the end
    /// (dropping it rolls everything back, events and jobs included).
    pub async fn begin(&self) -> ServiceResult<UnitOfWork<'_>> {
        Ok(UnitOfWork {
            s: self,
            txn: self.writer.begin().await?,
            events: Vec::new(),
            seen: HashSet::new(),
            jobs_enqueued: false,
            open_key: None,
            stock_turned: Vec::new(),
            later: Batch::default(),
        })
    }
}

impl<'s> UnitOfWork<'s> {
    /// The transaction, for store functions.
    pub fn conn(&self) -> &DatabaseTransaction {
        self.txn.conn()
    }

    pub fn services(&self) -> &'s Services {
        self.s
    }

    /// Writes to send at the commit, together with the outbox rows (one call on SQLite),
    /// with the engine to build them for. Only for writes that nothing later in the unit
    /// reads and whose outcome nobody checks: a failure fails the commit.
    pub(crate) fn later(&mut self) -> (&mut Batch, sea_orm::DbBackend) {
        let backend = self.txn.conn().get_database_backend();
        (&mut self.later, backend)
    }

    /// Records an event; it is written with the commit. Repeats within one unit are kept
    /// once (a product edited three times in one transaction changed once).
    pub fn record(&mut self, event: DomainEvent) {
        if self.seen.insert(event.clone()) {
            self.events.push(event);
        }
    }

    /// Notes that a variant of `product` ran out of stock or got stock back.
    pub(crate) fn stock_turned(&mut self, product: ProductId) {
        if !self.stock_turned.contains(&product) {
            self.stock_turned.push(product);
        }
    }

    /// Queues a job that commits with this unit of work. With a dedup key already queued
    /// nothing is added and `false` is returned.
    pub async fn enqueue<J: Job>(
        &mut self,
        job: &J,
        due_at: Option<chrono::DateTime<chrono::Utc>>,
        dedup_key: Option<String>,
    ) -> ServiceResult<bool> {
        let now = self.s.clock.now();
        let queued = jangteo_store::jobs::enqueue(
            self.txn.conn(),
            jangteo_store::jobs::NewJob {
                id: jangteo_core::ids::new_id(),
                kind: J::KIND,
                payload: serde_json::to_string(job)
                    .map_err(|e| ServiceError::Internal(anyhow::anyhow!("job payload: {e}")))?,
                dedup_key,
                due_at: due_at.unwrap_or(now),
                max_attempts: J::MAX_ATTEMPTS,
            },
            now,
        )
        .await?;
        self.jobs_enqueued |= queued;
        Ok(queued)
    }

    /// Reserves an idempotency key for the operation `scope` of `owner`. Call it first in
    /// the unit of work (its read must see what other transactions committed). `Ok(None)`:
    /// the key is new and held by this unit; do the work, then [`Self::complete_key`].
    /// `Ok(Some(result))`: a request with this key and body already did the work; roll back
    /// and answer with it. A different body for the key is 422, a request still open 409.
    pub async fn reserve_key<T: DeserializeOwned>(
        &mut self,
        scope: &'static str,
        owner: UserId,
        request: &IdempotentRequest,
    ) -> ServiceResult<Option<T>> {
        let now = self.s.clock.now();
        let ttl = chrono::Duration::from_std(jangteo_core::idempotency::KEY_TTL)
            .unwrap_or(chrono::Duration::days(1));
        let key = request.key.as_str();
        let found = idempotency::reserve(
            self.txn.conn(),
            KeyUse {
                scope,
                owner_id: owner.uuid(),
                key,
                request_hash: &request.request_hash,
                now,
                expires_at: now + ttl,
            },
        )
        .await?;
        match found {
            Reservation::Fresh => {
                self.open_key = Some((scope, owner, key.to_owned()));
                Ok(None)
            }
            Reservation::Replay(result) => serde_json::from_str(&result)
                .map(Some)
                .map_err(|e| ServiceError::Internal(anyhow::anyhow!("idempotent result: {e}"))),
            Reservation::Mismatch => Err(ServiceError::Unprocessable {
                code: "idempotency_key_reused",
                detail: "this Idempotency-Key was used with a different request body; \
                         use a new key for a new request"
                    .into(),
            }),
            Reservation::InProgress => Err(ServiceError::conflict(
                "idempotency_key_in_use",
                "a request with this Idempotency-Key is still in progress; retry later",
            )),
        }
    }

    /// Records the result of the reserved key's request; it commits with the work.
    pub async fn complete_key<T: Serialize>(&mut self, result: &T) -> ServiceResult<()> {
        let Some((scope, owner, key)) = self.open_key.take() else {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "complete_key without a reserved key"
            )));
        };
        let result = serde_json::to_string(result)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("idempotent result: {e}")))?;
        idempotency::complete(self.txn.conn(), scope, owner.uuid(), &key, &result).await?;
        Ok(())
    }

    /// Writes the recorded events to the outbox and commits. Then, in this process: the
    /// read cache drops what the events made stale (so the writer's next read sees its
    /// write), the events go to the event bus, and the relay and job runner wake up.
    pub async fn commit(self) -> ServiceResult<()> {
        let Self {
            s,
            txn,
            events,
            jobs_enqueued,
            open_key,
            stock_turned,
            mut later,
            ..
        } = self;
        // A key committed without its result would make every retry wait forever.
        if let Some((scope, _, _)) = open_key {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "idempotency key of {scope} reserved but never completed"
            )));
        }
        if !events.is_empty() {
            let rows = events
                .iter()
                .map(|e| {
                    Ok(outbox::NewEvent {
                        id: Uuid::now_v7(),
                        kind: e.kind(),
                        payload: serde_json::to_string(e).map_err(|e| {
                            ServiceError::Internal(anyhow::anyhow!("event payload: {e}"))
                        })?,
                    })
                })
                .collect::<ServiceResult<Vec<_>>>()?;
            outbox::insert_into(
                &mut later,
                txn.conn().get_database_backend(),
                rows,
                s.clock.now(),
            );
        }
        later.run(txn.conn()).await?;
        txn.commit().await?;
        if !events.is_empty() {
            s.catalog_cache.apply(&events).await;
            s.bus.publish(&events);
            s.outbox.wake();
        }
        if jobs_enqueued {
            s.jobs.wake();
        }
        if !stock_turned.is_empty() {
            // Boxed: it commits units of work of its own.
            Box::pin(crate::inventory::sync_sold_out(s, &stock_turned)).await;
        }
        Ok(())
    }

    /// Discards everything (also what dropping the unit of work does, but explicit and
    /// awaited).
    pub async fn rollback(self) -> ServiceResult<()> {
        self.txn.rollback().await?;
        Ok(())
    }
}
