//! The admission gate: a counter per key (e.g. one flash sale) that lets at most `limit`
//! buyers hold a place at once, so that a crowd is turned away in memory instead of
//! queueing on the stock row. The gate is an optimisation, never the guarantee: the
//! database's conditional update (`stock >= quantity`) stays the final guard. It may only
//! be wrong in the safe direction: refusing too many (a place lost with a crashed process,
//! a release that never came) costs a sale; admitting more than `limit` would let through
//! the crowd the gate exists to hold back, so no adapter may ever do that.
//!
//! A cluster adapter keeps the counters in Redis: a Lua script does the compare-and-INCR
//! (and DECR-unless-zero for `release`) in one round trip, and a Redis that cannot be
//! reached means `Refused`, the safe direction.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The answer of [`AdmissionGate::try_admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A place is held; `ticket` is the number of places held under the key, this one
    /// included (1 for the first). Places given back are reused, so tickets are positions,
    /// not identifiers.
    Admitted { ticket: u64 },
    /// `limit` places are held already.
    Refused,
}

impl Admission {
    pub fn is_admitted(self) -> bool {
        matches!(self, Self::Admitted { .. })
    }
}

/// Counters per key. Async because a cluster adapter's answer is a network round trip; the
/// local adapter's futures are ready at once and hold no lock.
#[async_trait::async_trait]
pub trait AdmissionGate: Send + Sync {
    /// Takes a place under `key` unless `limit` are held already.
    async fn try_admit(&self, key: &str, limit: u64) -> Admission;
    /// Gives one place back (the payment failed, the order was abandoned); never below zero.
    async fn release(&self, key: &str);
    /// Places held under `key` now.
    async fn admitted(&self, key: &str) -> u64;
    /// Forgets `key` (the sale is over or restarts): every place is free again.
    async fn reset(&self, key: &str);
}

/// Shards of the local adapter: enough that admissions to different sales rarely meet on
/// one lock; admissions to one sale share a read lock and only race on their atomic.
const SHARDS: usize = 32;

/// The in-process adapter: a sharded map of atomic counters. Lookups take a shard's read
/// lock and count with compare-and-swap, so concurrent admissions to one key never block
/// each other; only a key's first admission and `reset` take the write lock.
pub struct LocalGate {
    shards: Box<[RwLock<HashMap<String, AtomicU64>>]>,
    hasher: RandomState,
}

impl Default for LocalGate {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl LocalGate {
    fn shard(&self, key: &str) -> &RwLock<HashMap<String, AtomicU64>> {
        // The modulo keeps the value below SHARDS, so the cast back cannot truncate.
        let i = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        &self.shards[i]
    }

    /// Runs `f` on the counter of `key`, creating it (at zero) if `create` is set.
    fn with_counter<T>(&self, key: &str, create: bool, f: impl Fn(&AtomicU64) -> T) -> Option<T> {
        let shard = self.shard(key);
        // A poisoned lock still guards valid counters (atomics cannot be left half-written).
        if let Some(c) = shard.read().unwrap_or_else(|p| p.into_inner()).get(key) {
            return Some(f(c));
        }
        if !create {
            return None;
        }
        let mut map = shard.write().unwrap_or_else(|p| p.into_inner());
        let c = map.entry(key.to_owned()).or_default();
        Some(f(c))
    }

    fn admit_now(&self, key: &str, limit: u64) -> Admission {
        if limit == 0 {
            return Admission::Refused;
        }
        self.with_counter(key, true, |c| {
            match c.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            }) {
                Ok(before) => Admission::Admitted { ticket: before + 1 },
                Err(_) => Admission::Refused,
            }
        })
        .unwrap_or(Admission::Refused)
    }

    fn release_now(&self, key: &str) {
        self.with_counter(key, false, |c| {
            let _ = c.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        });
    }

    fn admitted_now(&self, key: &str) -> u64 {
        self.with_counter(key, false, |c| c.load(Ordering::Acquire))
            .unwrap_or(0)
    }

    fn reset_now(&self, key: &str) {
        // Under the write lock no admission is halfway: each one ran entirely before or
        // will run entirely after, on a fresh counter.
        self.shard(key)
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[async_trait::async_trait]
impl AdmissionGate for LocalGate {
    async fn try_admit(&self, key: &str, limit: u64) -> Admission {
        self.admit_now(key, limit)
    }

    async fn release(&self, key: &str) {
        self.release_now(key);
    }

    async fn admitted(&self, key: &str) -> u64 {
        self.admitted_now(key)
    }

    async fn reset(&self, key: &str) {
        self.reset_now(key);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Runs the gate's (immediately ready) future on the calling thread.
    fn now<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn concurrent_tries_admit_exactly_the_limit() {
        let gate: Arc<dyn AdmissionGate> = Arc::new(LocalGate::default());
        let start = Arc::new(std::sync::Barrier::new(64));
        let threads: Vec<_> = (0..64)
            .map(|_| {
                let (gate, start) = (gate.clone(), start.clone());
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    start.wait();
                    let mut tickets = Vec::new();
                    for _ in 0..1000 {
                        if let Admission::Admitted { ticket } =
                            rt.block_on(gate.try_admit("sale-1", 5000))
                        {
                            tickets.push(ticket);
                        }
                    }
                    tickets
                })
            })
            .collect();
        let mut tickets: Vec<u64> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        tickets.sort_unstable();
        assert_eq!(tickets, (1..=5000).collect::<Vec<_>>(), "each place once");
        assert_eq!(now(gate.admitted("sale-1")), 5000);
        assert_eq!(now(gate.try_admit("sale-1", 5000)), Admission::Refused);
        assert_eq!(now(gate.admitted("sale-2")), 0, "keys are independent");
    }

    #[tokio::test]
    async fn a_released_place_is_admitted_again_and_reset_frees_all() {
        let gate = LocalGate::default();
        assert_eq!(
            gate.try_admit("k", 2).await,
            Admission::Admitted { ticket: 1 }
        );
        assert_eq!(
            gate.try_admit("k", 2).await,
            Admission::Admitted { ticket: 2 }
        );
        assert_eq!(gate.try_admit("k", 2).await, Admission::Refused);
        gate.release("k").await;
        assert_eq!(gate.admitted("k").await, 1);
        assert_eq!(
            gate.try_admit("k", 2).await,
            Admission::Admitted { ticket: 2 }
        );
        gate.reset("k").await;
        assert_eq!(gate.admitted("k").await, 0);
        assert_eq!(
            gate.try_admit("k", 2).await,
            Admission::Admitted { ticket: 1 }
        );
    }

    #[tokio::test]
    async fn release_never_goes_below_zero_and_limit_zero_refuses() {
        let gate = LocalGate::default();
        gate.release("never-admitted").await;
        assert_eq!(gate.admitted("never-admitted").await, 0);
        assert_eq!(
            gate.try_admit("k", 1).await,
            Admission::Admitted { ticket: 1 }
        );
        gate.release("k").await;
        gate.release("k").await;
        assert_eq!(gate.admitted("k").await, 0);
        assert_eq!(
            gate.try_admit("k", 1).await,
            Admission::Admitted { ticket: 1 }
        );
        assert_eq!(gate.try_admit("other", 0).await, Admission::Refused);
        assert!(!gate.try_admit("k", 1).await.is_admitted());
    }
}
