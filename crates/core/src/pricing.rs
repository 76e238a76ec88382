//! What an order costs, computed on the server from current prices (SPEC F6.1): line totals,
//! a shipping fee per seller (the seller's base fee, waived from a threshold), discounts
//! (coupons and points come with the next issue; here they are amounts the caller passes),
//! and the VAT contained in the KRW total. Pure and checked: an overflow is an error, never
//! a wrapped amount.

use std::collections::BTreeMap;

use crate::ids::UserId;
use crate::money::{Currency, Money, MoneyError};

/// A seller's shipping charge: `base_fee` per order, waived once the seller's part of the
/// order reaches `free_from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippingRule {
    pub base_fee: Money,
    pub free_from: Option<Money>,
}

impl ShippingRule {
    /// 3,000 won per order, free from 50,000 won: the most common rule of Korean shops.
    pub const DEFAULT_KRW: ShippingRule = ShippingRule {
        base_fee: Money::new(3_000, Currency::KRW),
        free_from: Some(Money::new(50_000, Currency::KRW)),
    };

    /// The fee for a seller whose lines come to `subtotal`.
    pub fn fee_for(&self, subtotal: Money) -> Money {
        match self.free_from {
            Some(threshold) if subtotal.minor() >= threshold.minor() => {
                Money::zero(self.base_fee.currency())
            }
            _ => self.base_fee,
        }
    }
}

/// One line as priced now: whose it is, the unit price, how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedLine {
    pub seller_id: UserId,
    pub unit_price: Money,
    pub quantity: i64,
}

impl PricedLine {
    pub fn total(&self) -> Result<Money, MoneyError> {
        self.unit_price.checked_mul(self.quantity)
    }
}

/// The totals of an order. `total = items + shipping − discounts`, never below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTotals {
    pub items: Money,
    pub shipping: Money,
    pub discounts: Money,
    pub total: Money,
    /// The VAT included in `total` (prices are VAT-inclusive in Korea).
    pub vat: Money,
}

/// The VAT contained in a VAT-inclusive amount at 10%: one eleventh, rounded half up to the
/// won (how Korean receipts and the gateways, e.g. Toss's `vat` default, compute it).
pub fn vat_included(total: Money) -> Money {
    let t = total.minor().max(0);
    Money::new(t / 11 + i64::from(t % 11 >= 6), total.currency())
}

/// Totals of `lines` (at least one, all in one currency) with each seller's shipping rule
/// from `rule_of`, less `discounts`.
pub fn order_totals(
    lines: &[PricedLine],
    rule_of: impl Fn(UserId) -> ShippingRule,
    discounts: Money,
) -> Result<OrderTotals, MoneyError> {
    let currency = lines
        .first()
        .map_or(discounts.currency(), |l| l.unit_price.currency());
    let mut per_seller: BTreeMap<UserId, Money> = BTreeMap::new();
    for line in lines {
        let total = line.total()?;
        let sum = per_seller
            .get(&line.seller_id)
            .copied()
            .unwrap_or(Money::zero(currency));
        per_seller.insert(line.seller_id, sum.checked_add(total)?);
    }
    let items = Money::checked_sum(currency, per_seller.values().copied())?;
    let shipping = Money::checked_sum(
        currency,
        per_seller
            .iter()
            .map(|(seller, subtotal)| rule_of(*seller).fee_for(*subtotal)),
    )?;
    let gross = items.checked_add(shipping)?;
    let applied = if discounts.minor() > gross.minor() {
        gross
    } else {
        Money::new(discounts.minor().max(0), currency)
    };
    let total = gross.checked_sub(applied)?;
    Ok(OrderTotals {
        items,
        shipping,
        discounts: applied,
        total,
        vat: vat_included(total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krw(n: i64) -> Money {
        Money::new(n, Currency::KRW)
    }

    #[test]
    fn vat_is_an_eleventh_rounded_half_up() {
        assert_eq!(vat_included(krw(11_000)).minor(), 1_000);
        assert_eq!(vat_included(krw(15_000)).minor(), 1_364); // 1363.63…
        assert_eq!(vat_included(krw(10)).minor(), 1); // 0.909…
        assert_eq!(vat_included(krw(5)).minor(), 0); // 0.45…
        assert_eq!(vat_included(krw(0)).minor(), 0);
    }

    #[test]
    fn shipping_is_charged_per_seller_and_waived_from_the_threshold() {
        let (a, b) = (UserId::new(), UserId::new());
        let lines = [
            PricedLine {
                seller_id: a,
                unit_price: krw(20_000),
                quantity: 2,
            },
            PricedLine {
                seller_id: a,
                unit_price: krw(10_000),
                quantity: 1,
            },
            PricedLine {
                seller_id: b,
                unit_price: krw(9_000),
                quantity: 1,
            },
        ];
        let t = order_totals(&lines, |_| ShippingRule::DEFAULT_KRW, krw(0)).unwrap();
        // Seller a: 50,000 (free shipping); seller b: 9,000 + 3,000.
        assert_eq!(t.items, krw(59_000));
        assert_eq!(t.shipping, krw(3_000));
        assert_eq!(t.total, krw(62_000));
        assert_eq!(t.vat, krw(5_636));
    }

    #[test]
    fn discounts_never_take_the_total_below_zero_and_overflow_is_an_error() {
        let s = UserId::new();
        let one = [PricedLine {
            seller_id: s,
            unit_price: krw(1_000),
            quantity: 1,
        }];
        let t = order_totals(&one, |_| ShippingRule::DEFAULT_KRW, krw(10_000)).unwrap();
        assert_eq!((t.discounts, t.total, t.vat), (krw(4_000), krw(0), krw(0)));
        let t = order_totals(&one, |_| ShippingRule::DEFAULT_KRW, krw(-5)).unwrap();
        assert_eq!(t.discounts, krw(0));
        let huge = [PricedLine {
            seller_id: s,
            unit_price: krw(i64::MAX / 2),
            quantity: 3,
        }];
        assert_eq!(
            order_totals(&huge, |_| ShippingRule::DEFAULT_KRW, krw(0)),
            Err(MoneyError::Overflow)
        );
    }
}
