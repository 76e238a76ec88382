//! A seller moves their shipment of a paid order READY → IN_TRANSIT → DELIVERED; when every
//! shipment of the order is delivered, the order is COMPLETE.

use jangteo_core::ids::OrderId;
use jangteo_core::order::{DeliveryStatus, OrderStatus};
use jangteo_core::validation;
use jangteo_store::orders as store;

use super::{OrderView, Orders, seller_part};
use crate::tokens::Principal;
use crate::{ServiceError, ServiceResult};

impl Orders<'_> {
    pub async fn move_shipment(
        &self,
        seller: Principal,
        id: OrderId,
        to: Option<&str>,
        tracking_number: Option<&str>,
    ) -> ServiceResult<OrderView> {
        let to = to.and_then(DeliveryStatus::parse).ok_or_else(|| {
            jangteo_core::FieldErrors::single(
                "status",
                "unknown_value",
                "status must be IN_TRANSIT or DELIVERED",
            )
        });
        let tracking = tracking_number
            .map(|t| validation::bounded_text("tracking_number", t, 1, 64))
            .transpose();
        let (to, tracking) = jangteo_core::FieldErrors::new().all((to, tracking))?;
        let order = store::find(self.s.db(), id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        let shipments = store::shipments(self.s.db(), std::slice::from_ref(&order)).await?;
        let shipment = shipments
            .iter()
            .find(|s| s.seller_id == seller.user_id)
            .ok_or(ServiceError::NotFound("order"))?;
        if order.status != OrderStatus::Ordered {
            return Err(ServiceError::conflict(
                "order_not_shippable",
                format!("a {} order is not shipped", order.status),
            ));
        }
        let from = shipment.status;
        from.transition(to)
            .map_err(|e| ServiceError::conflict("illegal_transition", e.to_string()))?;
        let now = self.s.clock().now();
        let tx = self.s.begin().await?;
        if !store::move_shipment(
            tx.conn(),
            id,
            seller.user_id,
            from,
            to,
            tracking.as_deref(),
            now,
        )
        .await?
        {
            return Err(ServiceError::conflict(
                "illegal_transition",
                "the shipment was moved by another request",
            ));
        }
        if to == DeliveryStatus::Delivered && store::all_delivered(tx.conn(), id).await? {
            store::move_status(
                tx.conn(),
                id,
                OrderStatus::Ordered,
                OrderStatus::Complete,
                None,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        let view = self.get(seller, id).await?;
        // An admin who is also in the order still gets the seller's part here.
        Ok(if view.partial {
            view
        } else {
            seller_part(view, seller.user_id).ok_or(ServiceError::NotFound("order"))?
        })
    }
}
