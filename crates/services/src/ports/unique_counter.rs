//! Distinct visitors per product and day (SPEC F2.5), estimated rather than counted: a
//! HyperLogLog++ sketch of a few hundred bytes per product and day tells how many distinct
//! visitors looked at it, however many times each looked, where a set of ids would grow
//! with the crowd.
//!
//! In-process sketches count the visitors one process saw; behind a load balancer each
//! process would write its own estimate for the same day, the last write winning. A cluster
//! adapter keeps one sketch per key in Redis instead: PFADD per view (and SADD of the key
//! to a dirty set), PFCOUNT when draining, EXPIRE for old days; Redis merges what every
//! process saw (PFMERGE, should sketches ever be split by process or hour).

use std::collections::HashMap;
use std::collections::HashSet;
use std::hash::RandomState;
use std::sync::Mutex;

use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};
use jangteo_core::ids::ProductId;

/// A product and a day (days since 1970-01-01, UTC).
pub type ProductDay = (ProductId, i32);

#[async_trait::async_trait]
pub trait UniqueCounter: Send + Sync {
    /// Counts `visitor` (a user id, or an IP address for guests) under `key`. Synchronous
    /// because it runs inside every product view: a cluster adapter buffers visitors and
    /// sends them as one pipeline of PFADDs at the next drain, not a round trip per view.
    fn add(&self, key: ProductDay, visitor: &str);
    /// The keys that saw visitors since the last call, with their current estimates;
    /// each key is handed out once per change, so a writer does not rewrite idle days.
    async fn take_dirty(&self) -> Vec<(ProductDay, u64)>;
    /// Drops the sketches of days before `day`: their estimates are written already, and
    /// memory must not grow with the calendar.
    async fn forget_before(&self, day: i32);
}

/// 2^14 registers once dense (~1% standard error); sparse (exact-ish, tiny) before that.
const PRECISION: u8 = 14;

type Sketch = HyperLogLogPlus<str, RandomState>;

/// The in-process adapter: HyperLogLog++ sketches in a map.
#[derive(Default)]
pub struct LocalUniqueCounter {
    inner: Mutex<State>,
}

#[derive(Default)]
struct State {
    sketches: HashMap<ProductDay, Sketch>,
    dirty: HashSet<ProductDay>,
    /// One hasher for every sketch: sketches of a day must hash visitors the same way.
    hasher: RandomState,
}

impl LocalUniqueCounter {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic mid-insert leaves at worst one sketch a visitor short.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl UniqueCounter for LocalUniqueCounter {
    fn add(&self, key: ProductDay, visitor: &str) {
        let mut state = self.state();
        let hasher = state.hasher.clone();
        let sketch = state.sketches.entry(key).or_insert_with(|| {
            HyperLogLogPlus::new(PRECISION, hasher)
                .unwrap_or_else(|_| unreachable!("precision 14 is within 4..=18"))
        });
        sketch.insert(visitor);
        state.dirty.insert(key);
    }

    async fn take_dirty(&self) -> Vec<(ProductDay, u64)> {
        let mut state = self.state();
        let dirty: Vec<ProductDay> = state.dirty.drain().collect();
        dirty
            .into_iter()
            .filter_map(|k| {
                // Estimates are non-negative and far below 2^53: the cast is exact.
                state
                    .sketches
                    .get_mut(&k)
                    .map(|s| (k, s.count().round() as u64))
            })
            .collect()
    }

    async fn forget_before(&self, day: i32) {
        let mut state = self.state();
        state.sketches.retain(|(_, d), _| *d >= day);
        state.dirty.retain(|(_, d)| *d >= day);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_distinct_visitors_per_day() {
        let c = LocalUniqueCounter::default();
        let p = ProductId::new();
        let day = 20_000;
        for _round in 0..5 {
            for v in 0..100 {
                c.add((p, day), &format!("visitor-{v}"));
            }
        }
        c.add((p, day + 1), "visitor-0");
        let mut dirty = c.take_dirty().await;
        dirty.sort_unstable();
        assert_eq!(dirty.len(), 2);
        let (first, second) = (dirty[0], dirty[1]);
        assert_eq!(first.0, (p, day));
        assert!(first.1.abs_diff(100) <= 1, "estimate {}", first.1);
        assert_eq!(second, ((p, day + 1), 1));
    }

    #[tokio::test]
    async fn dirty_keys_are_handed_out_once_per_change() {
        let c = LocalUniqueCounter::default();
        let p = ProductId::new();
        c.add((p, 10), "a");
        assert_eq!(c.take_dirty().await, vec![((p, 10), 1)]);
        assert!(c.take_dirty().await.is_empty());
        c.add((p, 10), "b");
        assert_eq!(
            c.take_dirty().await,
            vec![((p, 10), 2)],
            "the sketch is kept"
        );
    }

    #[tokio::test]
    async fn old_days_are_forgotten() {
        let c = LocalUniqueCounter::default();
        let p = ProductId::new();
        c.add((p, 9), "a");
        c.add((p, 10), "a");
        c.forget_before(10).await;
        assert_eq!(c.take_dirty().await, vec![((p, 10), 1)]);
        c.add((p, 9), "b");
        assert_eq!(
            c.take_dirty().await,
            vec![((p, 9), 1)],
            "a new sketch, not the old one"
        );
    }
}
