//! The relay of the transactional outbox. Units of work write events as rows with their
//! business change (`tx.rs`); the relay claims due rows in batches under a lease, hands
//! each subscriber the events it has not applied yet, and marks them delivered. A
//! subscriber's effect and its record of the applied ids commit in one transaction, so an
//! event delivered twice (a relay died after applying, before marking) is applied once.
//! An effect outside the database (the search index) is made before that transaction
//! (`Subscriber::apply_outside`) and is idempotent instead, so it never holds the writer.
//! A failing event is retried with backoff and, after `max_attempts`, parked as `failed`
//! with its last error until an operator retries it (`jangteo events retry`).
//!
//! The relay is woken by every commit that wrote events and otherwise polls slowly, for
//! events written by other processes and for retries coming due.

mod subscribers;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use backon::Retryable;
use chrono::{DateTime, Utc};
use jangteo_core::events::DomainEvent;
use jangteo_core::jobs::{AfterFailure, after_failure};
use jangteo_store::DatabaseTransaction;
use jangteo_store::outbox::{self as store, EventStatus, StoredEvent};
use tokio::sync::Notify;
use uuid::Uuid;

pub use subscribers::{OrderMail, SalesCounter, SearchIndexer};

use crate::{ServiceError, ServiceResult, Services};

/// An event as a subscriber receives it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    pub event: DomainEvent,
    /// When the business change committed (e.g. the day a sale counts on).
    pub at: DateTime<Utc>,
}

/// Something that must happen because of committed events.
#[async_trait::async_trait]
pub trait Subscriber: Send + Sync {
    /// The consumer's stable name: its processed ids are recorded under it.
    fn name(&self) -> &'static str;

    /// Events this subscriber has no use for are not handed to it.
    fn wants(&self, event: &DomainEvent) -> bool;

    /// Applies `events`, oldest first. Database writes go to `tx`, which commits together
    /// with the record that these ids were applied; an error rolls both back and the
    /// events are retried (one by one, to find the one that fails).
    async fn apply(
        &self,
        services: &Services,
        tx: &DatabaseTransaction,
        events: &[Delivery],
    ) -> anyhow::Result<()>;

    /// Work outside the database (an index, a cache), done before the transaction that
    /// records the ids as applied, so that it never holds a connection (SQLite's one
    /// writer) while it runs; it reads through `services.reader()`. It must be idempotent:
    /// a crash before the record repeats it.
    async fn apply_outside(
        &self,
        _services: &Services,
        _events: &[Delivery],
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxSettings {
    /// Most events claimed (and indexed in one search commit) per round.
    pub batch: u64,
    /// How long a claim holds its events before another relay may take them over. Short:
    /// a round takes well under a second, and after a `kill -9` the restarted server waits
    /// this long for the dead one's claim. A round that outlasts it is delivered again,
    /// which the processed-id records make harmless.
    pub lease_secs: u64,
    /// Failed attempts before an event is parked.
    pub max_attempts: u32,
    /// How often the relay looks for events it was not woken for.
    pub poll_ms: u64,
    /// How long delivered events (and processed-id records) are kept.
    pub retention_days: u32,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            batch: 1_000,
            lease_secs: 10,
            max_attempts: 8,
            poll_ms: 500,
            retention_days: 7,
        }
    }
}

pub struct Outbox {
    subscribers: Vec<Arc<dyn Subscriber>>,
    settings: OutboxSettings,
    wake: Notify,
    /// Told after every round that delivered or failed something (for `settle`).
    progressed: Notify,
    /// One round at a time in this process. The search subscriber writes the documents it
    /// read into the index outside the database transaction, so two overlapping rounds (the
    /// relay loop and a `settle`) could let the one that read earlier commit later and put
    /// an older document back.
    round: tokio::sync::Mutex<()>,
}

/// What one relay round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundReport {
    pub claimed: usize,
    pub delivered: usize,
    pub failed: usize,
    pub parked: usize,
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("outbox: {e}"))
}

impl Outbox {
    /// The relay with today's subscribers (search index, sales counters) and any extra
    /// ones (tests add their own).
    pub fn new(settings: OutboxSettings, extra: Vec<Arc<dyn Subscriber>>) -> Self {
        let mut subscribers: Vec<Arc<dyn Subscriber>> = vec![
            Arc::new(SearchIndexer),
            Arc::new(SalesCounter),
            Arc::new(OrderMail),
        ];
        subscribers.extend(extra);
        Self {
            subscribers,
            settings,
            wake: Notify::new(),
            progressed: Notify::new(),
            round: tokio::sync::Mutex::new(()),
        }
    }

    /// Called after a commit that wrote events.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers events until `stop` resolves; the round in progress finishes first.
    pub async fn run(&self, services: &Services, stop: impl std::future::Future<Output = ()>) {
        let poll = Duration::from_millis(self.settings.poll_ms);
        crate::worker::run_rounds("outbox", poll, &self.wake, stop, || async {
            Ok(self.round(services).await?.claimed)
        })
        .await;
    }

    /// Claims one batch and delivers it to every subscriber.
    pub async fn round(&self, services: &Services) -> ServiceResult<RoundReport> {
        let _one_at_a_time = self.round.lock().await;
        let db = &services.db;
        let now = services.clock.now();
        let lease =
            chrono::Duration::seconds(i64::try_from(self.settings.lease_secs).unwrap_or(10));
        let (token, rows) =
            store::claim(db, &services.reader, now, now + lease, self.settings.batch).await?;
        let mut report = RoundReport {
            claimed: rows.len(),
            ..RoundReport::default()
        };
        if rows.is_empty() {
            return Ok(report);
        }
        let mut failures: HashMap<Uuid, String> = HashMap::new();
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in &rows {
            match serde_json::from_str::<DomainEvent>(&row.payload) {
                Ok(event) => deliveries.push(Delivery {
                    id: row.id,
                    event,
                    at: row.created_at,
                }),
                Err(e) => {
                    failures.insert(row.id, format!("unreadable event: {e}"));
                }
            }
        }
        for sub in &self.subscribers {
            for (id, error) in self.deliver(services, sub.as_ref(), &deliveries).await? {
                failures.entry(id).or_insert(error);
            }
        }
        let delivered: Vec<Uuid> = rows
            .iter()
            .map(|r| r.id)
            .filter(|id| !failures.contains_key(id))
            .collect();
        let at = services.clock.now();
        report.delivered = usize::try_from(
            services
                .writer
                .alone(async |c| store::mark_delivered(c, token, &delivered, at).await)
                .await?,
        )
        .unwrap_or(0);
        for row in rows.iter().filter(|r| failures.contains_key(&r.id)) {
            let error = failures.get(&row.id).map_or("", String::as_str);
            let attempts = row.attempts.saturating_add(1);
            let retry_at = match after_failure(attempts, self.settings.max_attempts) {
                AfterFailure::RetryIn(d) => {
                    report.failed += 1;
                    Some(at + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX))
                }
                AfterFailure::Park => {
                    report.parked += 1;
                    tracing::error!(event_id = %row.id, kind = %row.kind, attempts, error, "outbox event parked");
                    None
                }
            };
            store::mark_failed(db, token, row.id, attempts, error, retry_at).await?;
        }
        self.progressed.notify_waiters();
        Ok(report)
    }

    /// Hands `sub` the events it wants and has not applied; returns the ids it failed on.
    async fn deliver(
        &self,
        services: &Services,
        sub: &dyn Subscriber,
        deliveries: &[Delivery],
    ) -> ServiceResult<Vec<(Uuid, String)>> {
        let wanted: Vec<&Delivery> = deliveries.iter().filter(|d| sub.wants(&d.event)).collect();
        let ids: Vec<Uuid> = wanted.iter().map(|d| d.id).collect();
        let done = store::processed_of(services.reader(), sub.name(), &ids).await?;
        let todo: Vec<Delivery> = wanted
            .into_iter()
            .filter(|d| !done.contains(&d.id))
            .cloned()
            .collect();
        if todo.is_empty() {
            return Ok(Vec::new());
        }
        let failed = match self.apply(services, sub, &todo).await {
            Ok(()) => return Ok(Vec::new()),
            Err(e) if todo.len() == 1 => vec![(todo[0].id, format!("{}: {e:#}", sub.name()))],
            Err(_) => {
                // Find the event(s) that fail; the others are applied on their own.
                let mut failed = Vec::new();
                for d in todo {
                    if let Err(e) = self.apply(services, sub, std::slice::from_ref(&d)).await {
                        failed.push((d.id, format!("{}: {e:#}", sub.name())));
                    }
                }
                failed
            }
        };
        // A relay whose lease ran out while it worked may have applied some of them first
        // (our processed record then collided with its own): applied once, so delivered.
        let ids: Vec<Uuid> = failed.iter().map(|f| f.0).collect();
        let applied = store::processed_of(&services.db, sub.name(), &ids).await?;
        Ok(failed
            .into_iter()
            .filter(|(id, _)| !applied.contains(id))
            .collect())
    }

    async fn apply(
        &self,
        services: &Services,
        sub: &dyn Subscriber,
        events: &[Delivery],
    ) -> anyhow::Result<()> {
        sub.apply_outside(services, events).await?;
        let ids: Vec<Uuid> = events.iter().map(|d| d.id).collect();
        let unit = || async {
            // With the units of work, so that on SQLite it shares their group's commit.
            let tx = services.writer.begin().await?;
            sub.apply(services, tx.conn(), events).await?;
            store::record_processed(tx.conn(), sub.name(), &ids, services.clock.now()).await?;
            tx.commit().await?;
            anyhow::Ok(())
        };
        // InnoDB breaks a deadlock by rolling one transaction back whole (a sales counter
        // against a product's sold-out switch, say): that one simply runs again, at once,
        // instead of waiting out the event's retry delay.
        unit.retry(jangteo_store::deadlock_retries())
            .when(|e: &anyhow::Error| jangteo_store::deadlock_in(e.as_ref()))
            .await
    }

    /// Runs rounds until no due event is left pending (also those another relay holds),
    /// or `within` passes. For tests and for shutdown: after it, everything committed
    /// before the call has been delivered, failed for now, or parked.
    pub async fn settle(&self, services: &Services, within: Duration) -> ServiceResult<()> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let r = self.round(services).await?;
            if r.claimed > 0 {
                continue;
            }
            if store::count_due(&services.db, services.clock.now()).await? == 0 {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(internal("events still pending after the wait"));
            }
            // Another relay holds a lease: wait for its round (or a moment).
            tokio::select! {
                () = self.progressed.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        }
    }
}

/// Admin views and actions on the outbox.
impl Services {
    pub async fn outbox_events(
        &self,
        status: Option<EventStatus>,
        before: Option<Uuid>,
        limit: u64,
    ) -> ServiceResult<Vec<StoredEvent>> {
        Ok(store::list(&self.db, status, before, limit).await?)
    }

    /// One parked event back to pending; 404 if there is no such event, 409 unless it is
    /// parked (a pending one is retried anyway, a delivered one is done).
    pub async fn retry_event(&self, id: Uuid) -> ServiceResult<StoredEvent> {
        let event = store::find(&self.db, id).await.map_err(|e| match e {
            jangteo_store::StoreError::NotFound => ServiceError::NotFound("event"),
            other => other.into(),
        })?;
        if event.status != EventStatus::Failed {
            return Err(ServiceError::conflict(
                "event_not_failed",
                "only a failed (parked) event can be retried",
            ));
        }
        self.retry_events(Some(id)).await?;
        Ok(store::find(&self.db, id).await?)
    }

    /// Parked events back to pending: all, or the one named. Returns how many.
    pub async fn retry_events(&self, id: Option<Uuid>) -> ServiceResult<u64> {
        let n = store::retry_failed(&self.db, id, self.clock.now()).await?;
        if n > 0 {
            self.outbox.wake();
        }
        Ok(n)
    }

    /// Deletes delivered events older than the retention period.
    pub async fn prune_events(&self) -> ServiceResult<u64> {
        let days = i64::from(self.outbox.settings.retention_days);
        let cutoff = self.clock.now() - chrono::Duration::days(days);
        Ok(store::prune(&self.db, cutoff).await?)
    }
}
