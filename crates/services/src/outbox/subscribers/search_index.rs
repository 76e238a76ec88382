//! Keeps the search index in step with the catalog: every product an event touches is
//! re-read and its document upserted (or removed), one tantivy commit per batch. Applying
//! an event twice re-reads the same rows, so the index effect is idempotent even where a
//! crash between the index commit and the processed record repeats it.

use std::collections::HashSet;

use jangteo_core::events::DomainEvent;
use jangteo_core::ids::ProductId;
use jangteo_store::DatabaseTransaction;
use jangteo_store::catalog as store;

use crate::Services;
use crate::outbox::{Delivery, Subscriber};

pub struct SearchIndexer;

#[async_trait::async_trait]
impl Subscriber for SearchIndexer {
    fn name(&self) -> &'static str {
        "search_index"
    }

    /// Stock changes come as a `ProductChanged` too when they flip whether the product is
    /// in stock, the only stock fact a document holds; the others are not wanted.
    fn wants(&self, event: &DomainEvent) -> bool {
        matches!(
            event,
            DomainEvent::ProductChanged { .. } | DomainEvent::CategoryChanged { .. }
        )
    }

    /// Nothing to write in the transaction: the index is the effect.
    async fn apply(
        &self,
        _services: &Services,
        _tx: &DatabaseTransaction,
        _events: &[Delivery],
    ) -> anyhow::Result<()> {
        Ok(())
    }

    /// The rows are read on the readers (the events are committed, so they see them) and
    /// indexed before the relay's transaction begins: a tantivy commit takes tens of
    /// milliseconds, which the writer used to wait out.
    async fn apply_outside(&self, services: &Services, events: &[Delivery]) -> anyhow::Result<()> {
        if !services.search.is_enabled() {
            // A process without the index (CLI commands) never runs the relay; if one
            // does, failing keeps the events for the server instead of dropping them.
            anyhow::bail!("this process does not own the search index");
        }
        let db = services.reader();
        let mut products: HashSet<ProductId> = HashSet::new();
        for d in events {
            match &d.event {
                DomainEvent::ProductChanged { product_id } => {
                    products.insert(*product_id);
                }
                DomainEvent::CategoryChanged { category_id } => {
                    // The renamed category's products and its descendants' carry its name
                    // in their documents (a category path lists every ancestor).
                    let root = match store::find_category(db, *category_id).await {
                        Ok(c) => c,
                        Err(jangteo_store::StoreError::NotFound) => continue,
                        Err(e) => return Err(e.into()),
                    };
                    let subtree = store::subtree_ids(db, &root).await?;
                    products.extend(store::products_in_categories(db, &subtree).await?);
                }
                DomainEvent::StockChanged { .. }
                | DomainEvent::OrderPlaced { .. }
                | DomainEvent::OrderCancelled { .. }
                | DomainEvent::OrderPaid { .. }
                | DomainEvent::OrderRefunded { .. } => {}
            }
        }
        let ids: Vec<ProductId> = products.into_iter().collect();
        for chunk in ids.chunks(crate::search::BATCH) {
            services.search.index_products(db, chunk).await?;
        }
        Ok(())
    }
}
