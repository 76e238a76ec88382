//! Takes ordered lines out of the buyer's cart (SPEC F7.2): off the checkout's path, so the
//! checkout transaction writes no cart rows. Deleting lines that are already gone changes
//! nothing, so a repeated delivery is harmless.

use jangteo_core::events::DomainEvent;
use jangteo_store::DatabaseTransaction;
use jangteo_store::cart as store;

use crate::Services;
use crate::outbox::{Delivery, Subscriber};

pub struct CartCleanup;

#[async_trait::async_trait]
impl Subscriber for CartCleanup {
    fn name(&self) -> &'static str {
        "cart_cleanup"
    }

    fn wants(&self, event: &DomainEvent) -> bool {
        matches!(
            event,
            DomainEvent::OrderPlaced {
                from_cart: true,
                ..
            }
        )
    }

    async fn apply(
        &self,
        _services: &Services,
        tx: &DatabaseTransaction,
        events: &[Delivery],
    ) -> anyhow::Result<()> {
        for d in events {
            if let DomainEvent::OrderPlaced {
                buyer_id,
                from_cart: true,
                variant_ids,
                ..
            } = &d.event
            {
                store::remove_lines(tx, *buyer_id, variant_ids).await?;
            }
        }
        Ok(())
    }
}
