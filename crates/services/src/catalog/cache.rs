//! The read cache of product details and listing pages.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jangteo_core::ids::ProductId;

use super::*;

/// Hot reads kept in process. Product details are invalidated by id on every write to the
/// product; listing pages are keyed by a generation number that every catalog write bumps,
/// so a change is visible on the very next read. A TTL bounds staleness should another
/// process (cluster mode) write the same product.
pub struct CatalogCache {
    pub(super) details: moka::future::Cache<ProductId, Arc<ProductDetail>>,
    pub(super) pages: moka::future::Cache<String, Arc<Vec<ProductSummary>>>,
    pub(super) generation: AtomicU64,
}

impl Default for CatalogCache {
    fn default() -> Self {
        Self {
            details: moka::future::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            pages: moka::future::Cache::builder()
                .max_capacity(5_000)
                .time_to_live(Duration::from_secs(30))
                .build(),
            generation: AtomicU64::new(0),
        }
    }
}

impl CatalogCache {
    /// A change that listings do not show (e.g. the view count): only the detail is dropped.
    pub async fn detail_changed(&self, product_id: ProductId) {
        self.details.invalidate(&product_id).await;
    }

    /// Bumped by every catalog write: caches of derived pages key on it.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Drops what committed events made stale: the details of the products they name, and
    /// every cached page (by bumping the generation).
    pub async fn apply(&self, events: &[jangteo_core::events::DomainEvent]) {
        for e in events {
            if let Some(id) = e.product_id() {
                self.details.invalidate(&id).await;
            }
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}
