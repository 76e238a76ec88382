//! The read cache of product details and listing pages, over the cache port.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jangteo_core::ids::ProductId;

use super::*;
use crate::ports::{LocalReadCache, ReadCache};

/// Hot reads. Product details are invalidated by id on every write to the product; listing
/// pages are keyed by a generation number that every catalog write bumps, so a change is
/// visible on the very next read. A TTL bounds staleness should another process (cluster
/// mode) write the same product. The caches are ports: in process by default (moka), a
/// shared cache in cluster mode.
pub struct CatalogCache {
    pub(super) details: Arc<dyn ReadCache<Arc<ProductDetail>>>,
    pub(super) pages: Arc<dyn ReadCache<Arc<Vec<ProductSummary>>>>,
    pub(super) generation: AtomicU64,
}

impl Default for CatalogCache {
    /// In-process caches: 50,000 details for a minute, 5,000 listing pages for 30 s.
    fn default() -> Self {
        Self::new(
            Arc::new(LocalReadCache::new(50_000, Duration::from_secs(60))),
            Arc::new(LocalReadCache::new(5_000, Duration::from_secs(30))),
        )
    }
}

impl CatalogCache {
    pub fn new(
        details: Arc<dyn ReadCache<Arc<ProductDetail>>>,
        pages: Arc<dyn ReadCache<Arc<Vec<ProductSummary>>>>,
    ) -> Self {
        Self {
            details,
            pages,
            generation: AtomicU64::new(0),
        }
    }

    pub(super) fn detail_key(id: ProductId) -> String {
        id.uuid().simple().to_string()
    }

    /// A change that listings do not show (e.g. the view count): only the detail is dropped.
    pub async fn detail_changed(&self, product_id: ProductId) {
        self.details.invalidate(&Self::detail_key(product_id)).await;
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
                self.detail_changed(id).await;
            }
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}
