//! A seller's shipping rule (SPEC F6.1): a base fee per order and an optional threshold
//! from which shipping is free. A seller who never set one has the default (3,000 won, free
//! from 50,000).

use jangteo_core::FieldErrors;
use jangteo_core::catalog::MAX_PRICE;
use jangteo_core::money::Money;
use jangteo_core::pricing::ShippingRule;
use jangteo_store::orders::{self as store, StoredShippingRule};

use super::Orders;
use crate::ServiceResult;
use crate::tokens::Principal;

/// The highest base fee a seller may charge per order.
pub const MAX_SHIPPING_FEE: i64 = 1_000_000;

impl Orders<'_> {
    /// The seller's rule in won (the default when they never set one).
    pub async fn shipping_rule(&self, seller: Principal) -> ServiceResult<ShippingRule> {
        let stored = store::shipping_rules(self.s.db(), &[seller.user_id]).await?;
        Ok(stored.first().map_or(ShippingRule::DEFAULT_KRW, |r| {
            let krw = |n| Money::new(n, jangteo_core::money::Currency::KRW);
            ShippingRule {
                base_fee: krw(r.base_fee),
                free_from: r.free_from.map(krw),
            }
        }))
    }

    /// Replaces the seller's rule; it applies to orders placed from now on.
    pub async fn set_shipping_rule(
        &self,
        seller: Principal,
        base_fee: Option<i64>,
        free_from: Option<i64>,
    ) -> ServiceResult<ShippingRule> {
        let base = match base_fee {
            None => Err(FieldErrors::single(
                "base_fee",
                "required",
                "base_fee is required",
            )),
            Some(f) if (0..=MAX_SHIPPING_FEE).contains(&f) => Ok(f),
            Some(_) => Err(FieldErrors::single(
                "base_fee",
                "out_of_range",
                format!("base_fee must be between 0 and {MAX_SHIPPING_FEE}"),
            )),
        };
        let threshold = match free_from {
            Some(f) if !(0..=MAX_PRICE).contains(&f) => Err(FieldErrors::single(
                "free_from",
                "out_of_range",
                format!("free_from must be between 0 and {MAX_PRICE}"),
            )),
            other => Ok(other),
        };
        let (base_fee, free_from) = FieldErrors::new().all((base, threshold))?;
        let now = self.s.clock().now();
        store::set_shipping_rule(
            self.s.db(),
            StoredShippingRule {
                seller_id: seller.user_id,
                base_fee,
                free_from,
            },
            now,
        )
        .await?;
        self.shipping_rule(seller).await
    }
}
