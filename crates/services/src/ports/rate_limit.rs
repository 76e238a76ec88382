//! Rate limits: one token bucket (GCRA) per key, for the routes attackers hammer. Each
//! limiter has one quota; callers build the key (an IP, an account and client) and keep one
//! limiter per action, so a key never competes with another action's attempts.
//!
//! The in-process adapter (governor) lives in the api crate, which owns that dependency. In
//! process, every instance behind a load balancer grants the whole quota again; a cluster
//! adapter keeps the bucket in Redis instead (a GCRA Lua script over one key holding the
//! theoretical arrival time, or redis-cell's CL.THROTTLE), so the quota holds cluster-wide.

use std::time::Duration;

/// Refused: how long until the next attempt under the key would be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, as the `Retry-After` header wants them: a client told
    /// "0" would retry at once and be refused again.
    pub fn secs(self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)
    }
}

/// `check` is async although the local adapter answers from memory: a cluster adapter
/// needs a round trip to Redis for it.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one attempt under `key`, or refuses it while the key's bucket is empty.
    async fn check(&self, key: &str) -> Result<(), RetryAfter>;
    /// Drops keys whose buckets are full again, so memory stays bounded; called
    /// periodically (a cluster adapter lets the keys expire instead).
    fn shrink(&self);
}
