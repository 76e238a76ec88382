//! Popularity: bestsellers of a window by units sold, and sales recorded directly.

use chrono::{DateTime, Utc};
use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{CategoryId, ProductId};
use jangteo_store::catalog::{self as store, ProductSort};

use super::*;
use crate::ServiceResult;
use crate::error::NotFoundAs;

impl Catalog<'_> {
    /// Products on sale by units sold over the last `days` days (bestsellers), optionally
    /// within a category and its sub-categories.
    pub async fn popular(
        &self,
        days: u32,
        category_id: Option<CategoryId>,
        limit: u64,
    ) -> ServiceResult<Vec<(ProductSummary, i64)>> {
        let today = day_number(self.now());
        let since = today - i32::try_from(days).unwrap_or(i32::MAX).saturating_sub(1);
        let cats = match category_id {
            None => None,
            Some(cid) => {
                let root = store::find_category(&self.s.reader, cid)
                    .await
                    .not_found_as("category")?;
                Some(store::subtree_ids(&self.s.reader, &root).await?)
            }
        };
        let top = store::top_sellers(&self.s.reader, since, cats.as_deref(), limit).await?;
        let ids: Vec<ProductId> = top.iter().map(|t| t.0).collect();
        let rows = store::find_products(&self.s.reader, &ids).await?;
        let summaries = self.summaries(rows, ProductSort::Popularity).await?;
        Ok(top
            .into_iter()
            .filter_map(|(id, units)| {
                summaries
                    .iter()
                    .find(|s| s.id == id)
                    .map(|s| (s.clone(), units))
            })
            .collect())
    }

    /// Records units sold on the day of `at` directly, for imports of past sales. Sales made
    /// here are counted by the sales subscriber from their stock changes instead.
    pub async fn record_sale(
        &self,
        product_id: ProductId,
        units: i64,
        at: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let mut tx = self.s.begin().await?;
        store::record_sale(tx.conn(), product_id, day_number(at), units).await?;
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await
    }
}

/// Days since 1970-01-01 in UTC.
pub fn day_number(at: DateTime<Utc>) -> i32 {
    i32::try_from(at.timestamp().div_euclid(86_400)).unwrap_or(i32::MAX)
}
