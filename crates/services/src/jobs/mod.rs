//! Durable jobs: work that must happen once, later or in the background, whatever restarts
//! or how many processes share the database. A job is a row (kind, JSON payload, due time)
//! enqueued in the business transaction (`UnitOfWork::enqueue`), claimed under a lease by
//! a runner, deleted when done, retried with backoff when it fails and parked (`failed`)
//! when out of attempts. Time is read through the Clock port: tests move the clock and call
//! `run_due`, they never sleep.
//!
//! A job that runs longer than its lease may be taken over by another runner; keep each
//! job short (one mail, one purge) and idempotent where the outside world allows.

pub(crate) mod kinds;
mod runner;

pub use kinds::{
    ExpireCarts, PruneEvents, PruneIdempotencyKeys, PurgeRefreshTokens, RECURRING, SendMail,
    SweepImages,
};
pub use runner::{JobRunner, JobSettings};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Services;

/// One kind of job. The payload is the value itself, serialized; kinds and payload fields
/// are only ever added (queued rows outlive a deploy).
#[async_trait::async_trait]
pub trait Job: Serialize + DeserializeOwned + Send + Sync {
    /// The stored kind. Unique among jobs.
    const KIND: &'static str;
    /// Attempts before the job is parked.
    const MAX_ATTEMPTS: u32 = 8;
    /// Recurring jobs come back this long after each success (housekeeping).
    const EVERY: Option<std::time::Duration> = None;

    async fn run(self, services: &Services) -> anyhow::Result<()>;
}
