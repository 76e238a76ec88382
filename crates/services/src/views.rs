//! Unique visitors per product per day (SPEC F2.5): each view goes to the unique-visitor
//! counter (the port, HyperLogLog++ in process), whose estimates are written to
//! `product_views_daily` periodically and at shutdown; `products.view_count` is the sum
//! over days.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jangteo_core::ids::ProductId;

use crate::catalog::day_number;
use crate::ports::{LocalUniqueCounter, UniqueCounter};
use crate::{ServiceResult, Services};

pub struct ViewCounter {
    counter: Arc<dyn UniqueCounter>,
}

impl Default for ViewCounter {
    /// Counts in this process only.
    fn default() -> Self {
        Self::new(Arc::new(LocalUniqueCounter::default()))
    }
}

impl ViewCounter {
    pub fn new(counter: Arc<dyn UniqueCounter>) -> Self {
        Self { counter }
    }

    /// Counts a view of `product` by `visitor` (a user id or an IP address).
    pub fn record(&self, product: ProductId, visitor: &str, at: DateTime<Utc>) {
        self.counter.add((product, day_number(at)), visitor);
    }

    /// Writes the estimates that changed since the last flush and forgets sketches of days
    /// before yesterday (yesterday's late views still count). Returns how many product-days
    /// were written.
    pub async fn flush(&self, services: &Services) -> ServiceResult<usize> {
        let today = day_number(services.clock.now());
        let estimates = self.counter.take_dirty().await;
        self.counter.forget_before(today - 1).await;
        // One transaction for the batch: on SQLite one sync instead of one per product.
        let txn = services.begin().await?;
        for ((product, day), visitors) in &estimates {
            let visitors = i64::try_from(*visitors).unwrap_or(i64::MAX);
            // Products are only soft-deleted, so the foreign key always holds.
            jangteo_store::catalog::put_daily_visitors(txn.conn(), *product, *day, visitors)
                .await?;
        }
        txn.commit().await?;
        for ((product, _), _) in &estimates {
            services.catalog_cache.detail_changed(*product).await;
        }
        Ok(estimates.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn views_are_counted_per_visitor_and_utc_day() {
        let counter = Arc::new(LocalUniqueCounter::default());
        let c = ViewCounter::new(counter.clone());
        let p = ProductId::new();
        let day1 = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for round in 0..3 {
            c.record(p, "kim", day1 + chrono::Duration::minutes(round));
        }
        c.record(p, "lee", day1);
        c.record(p, "kim", day1 + chrono::Duration::days(1));
        let mut dirty = counter.take_dirty().await;
        dirty.sort_unstable();
        let d = day_number(day1);
        assert_eq!(dirty, vec![((p, d), 2), ((p, d + 1), 1)]);
    }
}
