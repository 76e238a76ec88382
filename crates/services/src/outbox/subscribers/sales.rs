//! Sales counters (SPEC F2.5 popularity): units sold per product and day, and the lifetime
//! total the popularity sort reads. Fed by stock changes whose reason is a sale (or its
//! cancellation); the counter update commits with the processed record, so each sale is
//! counted exactly once however often it is delivered.

use jangteo_core::events::DomainEvent;
use jangteo_core::ids::ProductId;
use jangteo_store::catalog as store;
use jangteo_store::{ConnectionTrait, DatabaseTransaction};

use crate::Services;
use crate::catalog::day_number;
use crate::outbox::{Delivery, Subscriber};

pub struct SalesCounter;

#[async_trait::async_trait]
impl Subscriber for SalesCounter {
    fn name(&self) -> &'static str {
        "sales_counter"
    }

    fn wants(&self, event: &DomainEvent) -> bool {
        matches!(event, DomainEvent::StockChanged { reason, .. } if reason.counts_as_sale())
    }

    async fn apply(
        &self,
        _services: &Services,
        tx: &DatabaseTransaction,
        events: &[Delivery],
    ) -> anyhow::Result<()> {
        // One upsert per product and day of the batch, however many sales it holds.
        let mut units: std::collections::BTreeMap<(ProductId, i32), i64> = Default::default();
        for d in events {
            if let DomainEvent::StockChanged {
                product_id,
                delta,
                reason,
                ..
            } = &d.event
                && reason.counts_as_sale()
            {
                let sold = delta.checked_neg().unwrap_or(i64::MAX);
                let sum = units.entry((*product_id, day_number(d.at))).or_insert(0);
                *sum = sum.saturating_add(sold);
            }
        }
        // Every product's two writes in one call on SQLite: the writer is held for it.
        let mut batch = jangteo_store::Batch::default();
        for ((product_id, day), sold) in units {
            store::record_sale_into(&mut batch, tx.get_database_backend(), product_id, day, sold);
        }
        batch.run(tx).await?;
        Ok(())
    }
}
