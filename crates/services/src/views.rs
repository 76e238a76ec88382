//! Unique visitors per product per day (SPEC F2.5), counted with HyperLogLog++: a sketch of
//! a few hundred bytes per product and day estimates how many distinct visitors (user id,
//! or IP for guests) looked at it, however many times each looked. Sketches live in memory
//! and their estimates are written to `product_views_daily` periodically and at shutdown;
//! `products.view_count` is the sum over days.
//!
//! In-process sketches count the visitors one process saw. Several processes behind a load
//! balancer each write their own estimate for the same day, the last write winning; the
//! cluster mode moves the sketches to Redis (PFADD/PFCOUNT), which merges them.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};
use uuid::Uuid;

use crate::catalog::day_number;
use crate::{ServiceResult, Services};

/// 2^14 registers once dense (~1% standard error); sparse (exact-ish, tiny) before that.
const PRECISION: u8 = 14;

type Sketch = HyperLogLogPlus<str, RandomState>;

#[derive(Default)]
pub struct ViewCounter {
    inner: Mutex<State>,
}

#[derive(Default)]
struct State {
    sketches: HashMap<(Uuid, i32), Sketch>,
    dirty: HashSet<(Uuid, i32)>,
    /// One hasher for every sketch: sketches of a day must hash visitors the same way.
    hasher: RandomState,
}

impl ViewCounter {
    /// Counts a view of `product` by `visitor` (a user id or an IP address).
    pub fn record(&self, product: Uuid, visitor: &str, at: DateTime<Utc>) {
        let key = (product, day_number(at));
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let hasher = state.hasher.clone();
        let sketch = state.sketches.entry(key).or_insert_with(|| {
            HyperLogLogPlus::new(PRECISION, hasher)
                .unwrap_or_else(|_| unreachable!("precision 14 is within 4..=18"))
        });
        sketch.insert(visitor);
        state.dirty.insert(key);
    }

    /// Writes the estimates that changed since the last flush and forgets sketches of days
    /// before yesterday. Returns how many product-days were written.
    pub async fn flush(&self, services: &Services) -> ServiceResult<usize> {
        let today = day_number(services.clock.now());
        let estimates: Vec<(Uuid, i32, i64)> = {
            let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let dirty: Vec<(Uuid, i32)> = state.dirty.drain().collect();
            let out = dirty
                .into_iter()
                .filter_map(|k| {
                    state
                        .sketches
                        .get_mut(&k)
                        .map(|s| (k.0, k.1, s.count().round() as i64))
                })
                .collect();
            state.sketches.retain(|(_, day), _| *day >= today - 1);
            out
        };
        // One transaction for the batch: on SQLite one sync instead of one per product.
        let txn = services.begin().await?;
        for (product, day, visitors) in &estimates {
            // Products are only soft-deleted, so the foreign key always holds.
            jangteo_store::catalog::put_daily_visitors(txn.conn(), *product, *day, *visitors)
                .await?;
        }
        txn.commit().await?;
        for (product, _, _) in &estimates {
            services.catalog_cache.detail_changed(*product).await;
        }
        Ok(estimates.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_visitors_per_day() {
        let c = ViewCounter::default();
        let p = Uuid::now_v7();
        let day1 = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for round in 0..5 {
            for v in 0..100 {
                c.record(
                    p,
                    &format!("visitor-{v}"),
                    day1 + chrono::Duration::minutes(round),
                );
            }
        }
        c.record(p, "visitor-0", day1 + chrono::Duration::days(1));
        let mut state = c.inner.lock().unwrap();
        let first = state
            .sketches
            .get_mut(&(p, day_number(day1)))
            .unwrap()
            .count();
        assert!((first - 100.0).abs() <= 1.0, "estimate {first}");
        let second = state
            .sketches
            .get_mut(&(p, day_number(day1) + 1))
            .unwrap()
            .count();
        assert_eq!(second.round(), 1.0);
    }
}
