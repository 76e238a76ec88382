//! Placing an order. One unit of work: the idempotency key first (its read must see what
//! other transactions committed), then the lines priced from current rows, then the stock of
//! every line taken by a conditional UPDATE in variant-id order — two orders sharing
//! variants lock them in the same order, so PostgreSQL and MySQL never deadlock them — and
//! the order written. Buyers of different products never wait for each other: there is no
//! lock but the rows of the variants bought.

use std::collections::BTreeMap;

use jangteo_core::FieldErrors;
use jangteo_core::cart as cart_rules;
use jangteo_core::catalog::variant_price;
use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{AddressId, OrderId, UserId, VariantId};
use jangteo_core::inventory::StockReason;
use jangteo_core::money::{Currency, Money};
use jangteo_core::order::{self as rules, OrderStatus, Shortage};
use jangteo_core::pricing::{PricedLine, ShippingRule, order_totals};
use jangteo_store::catalog::{self as catalog_store, Product, Variant};
use jangteo_store::inventory::{self as stock_store, StockChange};
use jangteo_store::orders::{self as store, Order, OrderLine, ShipTo, Shipment};
use jangteo_store::{addresses, cart as cart_store};

use super::{OrderView, Orders};
use crate::error::NotFoundAs;
use crate::idempotency::{IdempotentRequest, Replayable};
use crate::inventory::change_in;
use crate::tokens::Principal;
use crate::tx::UnitOfWork;
use crate::{ServiceError, ServiceResult};

const PLACE_SCOPE: &str = "orders.place";

/// One "buy now" line as sent.
#[derive(Debug, Clone, Copy)]
pub struct CheckoutItem {
    pub variant_id: Option<VariantId>,
    pub quantity: Option<i64>,
}

/// What to order: the `items` named ("buy now"), or without them the selected cart lines;
/// shipped to an address of the buyer's address book.
#[derive(Debug, Clone, Default)]
pub struct CheckoutInput {
    pub address_id: Option<AddressId>,
    pub items: Option<Vec<CheckoutItem>>,
}

/// Variants and quantities, one entry per variant.
type Lines = Vec<(VariantId, i64)>;

/// The lines wanted, merged by variant, in the order first named.
struct Wanted {
    lines: Lines,
    from_cart: bool,
}

/// What an order is made of, read before its unit of work.
struct Prepared {
    wanted: Wanted,
    address: addresses::Address,
    rows: Vec<(Variant, Option<Product>)>,
    rules: Vec<store::StoredShippingRule>,
}

impl Orders<'_> {
    /// Places an order; with an idempotency key, a retry answers with the order the first
    /// request placed.
    pub async fn place(
        &self,
        buyer: Principal,
        input: CheckoutInput,
        idempotency: Option<&IdempotentRequest>,
    ) -> ServiceResult<Replayable<OrderView>> {
        let (address_id, items) = validate(&input)?;
        // The order's reads run on the readers before its unit of work, so that the one
        // SQLite writer only takes the stock and writes (its time bounds every engine's
        // checkouts a second there; elsewhere it is the same statements). Prices, the
        // address and the cart are as good a moment before: stock is taken in the unit by
        // a conditional update, and ordered cart lines leave only while they still hold
        // the quantity ordered.
        let prepared = self.prepare(buyer.user_id, address_id, items).await;
        if idempotency.is_none() {
            // A refusal without a key to replay needs no unit of work at all.
            if let Err(e) = prepared {
                return Err(e);
            }
        }
        let mut tx = self.s.begin().await?;
        if let Some(request) = idempotency
            && let Some(first) = tx
                .reserve_key::<OrderId>(PLACE_SCOPE, buyer.user_id, request)
                .await?
        {
            tx.rollback().await?;
            return Ok(Replayable::replayed(self.get(buyer, first).await?));
        }
        // After the key: a retry whose first request emptied the cart (nothing selected
        // any more) gets the order it placed, not that error.
        let prepared = prepared?;
        let view = self.place_in(&mut tx, buyer.user_id, &prepared).await?;
        let wanted = &prepared.wanted;
        if wanted.from_cart {
            // In the order's transaction, not after it: a unit the buyer adds again right
            // after ordering must stay in the cart, and no moment shows ordered lines there.
            let (later, backend) = tx.later();
            cart_store::remove_ordered_into(later, backend, buyer.user_id, &wanted.lines);
        }
        if idempotency.is_some() {
            tx.complete_key(&view.order.id).await?;
        }
        tx.commit().await?;
        Ok(Replayable::fresh(view))
    }

    /// Reads what the order needs: its lines (the buy-now items or the selected cart
    /// lines), the address, the variants with their products, their sellers' shipping
    /// rules.
    async fn prepare(
        &self,
        buyer: UserId,
        address_id: AddressId,
        items: Option<Lines>,
    ) -> ServiceResult<Prepared> {
        let db = self.s.reader();
        let wanted = match items {
            Some(items) => Wanted {
                lines: items,
                from_cart: false,
            },
            None => selected_cart_lines(db, buyer, self.s.clock().now()).await?,
        };
        let address = addresses::find_owned(db, buyer, address_id)
            .await
            .not_found_as("address")?;
        let ids: Vec<VariantId> = wanted.lines.iter().map(|(v, _)| *v).collect();
        let rows = catalog_store::find_variants_with_products(db, &ids).await?;
        let mut sellers: Vec<UserId> = rows
            .iter()
            .filter_map(|(_, p)| p.as_ref().map(|p| p.seller_id))
            .collect();
        sellers.sort_unstable();
        sellers.dedup();
        let rules = store::shipping_rules(db, &sellers).await?;
        Ok(Prepared {
            wanted,
            address,
            rows,
            rules,
        })
    }

    async fn place_in(
        &self,
        tx: &mut UnitOfWork<'_>,
        buyer: UserId,
        prepared: &Prepared,
    ) -> ServiceResult<OrderView> {
        let now = self.s.clock().now();
        let Prepared {
            wanted,
            address,
            rows,
            rules: stored,
        } = prepared;
        let ids: Vec<VariantId> = wanted.lines.iter().map(|(v, _)| *v).collect();
        let (priced, currency) = price_lines(&wanted.lines, rows)?;
        let rule_of = |seller: UserId| shipping_rule(stored, seller, currency);
        let lines: Vec<PricedLine> = priced
            .iter()
            .map(|l| PricedLine {
                seller_id: l.product.seller_id,
                unit_price: l.unit_price,
                quantity: l.quantity,
            })
            .collect();
        let totals = order_totals(&lines, rule_of, Money::zero(currency)).map_err(too_large)?;

        let order_id = OrderId::new();
        take_stock(tx, buyer, order_id, &priced, now).await?;

        let deadline = now + chrono::Duration::minutes(i64::from(self.settings().payment_minutes));
        let order = Order {
            id: order_id,
            buyer_id: buyer,
            status: OrderStatus::Pending,
            items_total: totals.items,
            shipping_total: totals.shipping,
            discount_total: totals.discounts,
            total: totals.total,
            vat: totals.vat,
            refunded_total: Money::zero(currency),
            ship_to: ShipTo {
                recipient: address.recipient.clone(),
                phone: address.phone.clone(),
                postal_code: address.postal_code.clone(),
                line1: address.line1.clone(),
                line2: address.line2.clone(),
            },
            payment_deadline: deadline,
            cancel_reason: None,
            created_at: now,
            updated_at: now,
            paid_at: None,
            cancelled_at: None,
        };
        let order_lines = order_lines(order_id, &priced)?;
        let shipments = shipments(order_id, &order_lines, rule_of, now)?;
        // Nothing in this unit reads the order back: it is written with the commit.
        let (later, backend) = tx.later();
        store::insert_into(later, backend, &order, &order_lines, &shipments);
        tx.record(DomainEvent::OrderPlaced {
            order_id,
            buyer_id: buyer,
            from_cart: wanted.from_cart,
            variant_ids: ids,
        });
        Ok(OrderView {
            order,
            lines: order_lines,
            shipments,
            payments: Vec::new(),
            refunds: Vec::new(),
            partial: false,
        })
    }
}

/// One wanted line priced from the rows as they are now.
struct Priced<'r> {
    variant: &'r Variant,
    product: &'r Product,
    quantity: i64,
    unit_price: Money,
}

/// Prices every wanted line and gives the order's currency; a variant gone or no longer
/// offered is 409 naming each such line, products in several currencies 422.
fn price_lines<'r>(
    wanted: &[(VariantId, i64)],
    rows: &'r [(Variant, Option<Product>)],
) -> ServiceResult<(Vec<Priced<'r>>, Currency)> {
    let mut priced = Vec::with_capacity(wanted.len());
    let mut unavailable = Vec::new();
    for &(variant_id, quantity) in wanted {
        let offered = rows.iter().find_map(|(v, p)| match p {
            Some(p) if v.id == variant_id && p.status.is_public() => Some((v, p)),
            _ => None,
        });
        match offered {
            Some((variant, product)) => priced.push(Priced {
                variant,
                product,
                quantity,
                unit_price: variant_price(product.price, variant.price_delta).map_err(too_large)?,
            }),
            None => unavailable.push(variant_id.to_string()),
        }
    }
    if !unavailable.is_empty() {
        return Err(ServiceError::conflict(
            "product_unavailable",
            format!("no longer offered: variant {}", unavailable.join(", ")),
        ));
    }
    let Some(currency) = priced.first().map(|l| l.unit_price.currency()) else {
        return Err(ServiceError::conflict(
            "nothing_selected",
            "an order needs at least one line",
        ));
    };
    if priced.iter().any(|l| l.unit_price.currency() != currency) {
        return Err(ServiceError::Unprocessable {
            code: "mixed_currencies",
            detail: "an order's products must all be priced in one currency".into(),
        });
    }
    Ok((priced, currency))
}

/// Takes every line's stock in variant-id order (the lock order); a shortfall is 409
/// naming every short line with what is left.
async fn take_stock(
    tx: &mut UnitOfWork<'_>,
    buyer: UserId,
    order_id: OrderId,
    priced: &[Priced<'_>],
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<()> {
    let reference = order_id.to_string();
    let mut by_variant: Vec<&Priced<'_>> = priced.iter().collect();
    by_variant.sort_unstable_by_key(|l| l.variant.id);
    let mut shortages = Vec::new();
    for line in by_variant {
        let change = StockChange {
            variant_id: line.variant.id,
            delta: -line.quantity,
            reason: StockReason::Sale,
            reference: Some(&reference),
            actor_id: Some(buyer),
            at: now,
        };
        match change_in(tx, line.product.id, &change).await {
            Ok(_) => {}
            Err(ServiceError::Conflict {
                code: "insufficient_stock",
                ..
            }) => shortages.push(Shortage {
                variant_id: line.variant.id,
                requested: line.quantity,
                available: stock_store::stock_of(tx.conn(), line.variant.id).await?,
            }),
            Err(e) => return Err(e),
        }
    }
    if shortages.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::OutOfStock(shortages))
    }
}

/// The order's lines, numbered from 1 in the order wanted, with what each copies of its
/// product as it is now.
fn order_lines(order_id: OrderId, priced: &[Priced<'_>]) -> ServiceResult<Vec<OrderLine>> {
    priced
        .iter()
        .enumerate()
        .map(|(i, l)| {
            Ok(OrderLine {
                order_id,
                line_no: i32::try_from(i + 1).unwrap_or(i32::MAX),
                product_id: l.product.id,
                variant_id: l.variant.id,
                seller_id: l.product.seller_id,
                product_name: l.product.name.clone(),
                variant_name: l.variant.name.clone(),
                sku: l.variant.sku.clone(),
                unit_price: l.unit_price,
                quantity: l.quantity,
                line_total: l.unit_price.checked_mul(l.quantity).map_err(too_large)?,
                discount: Money::zero(l.unit_price.currency()),
                refunded_quantity: 0,
            })
        })
        .collect()
}

/// One shipment per seller, READY, with the seller's fee for their lines' total.
fn shipments(
    order_id: OrderId,
    lines: &[OrderLine],
    rule_of: impl Fn(UserId) -> ShippingRule,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<Vec<Shipment>> {
    let mut per_seller: BTreeMap<UserId, Money> = BTreeMap::new();
    for line in lines {
        let sum = per_seller
            .entry(line.seller_id)
            .or_insert(Money::zero(line.line_total.currency()));
        *sum = sum.checked_add(line.line_total).map_err(too_large)?;
    }
    Ok(per_seller
        .into_iter()
        .map(|(seller_id, items_total)| Shipment {
            order_id,
            seller_id,
            status: jangteo_core::order::DeliveryStatus::Ready,
            items_total,
            shipping_fee: rule_of(seller_id).fee_for(items_total),
            tracking_number: None,
            updated_at: now,
        })
        .collect())
}

/// The address and the buy-now lines (merged by variant), or `None` for the cart; every
/// field error at once.
fn validate(input: &CheckoutInput) -> ServiceResult<(AddressId, Option<Lines>)> {
    let mut errors = FieldErrors::new();
    let address = input
        .address_id
        .ok_or_else(|| FieldErrors::single("address_id", "required", "address_id is required"));
    let items = match &input.items {
        None => None,
        Some(items) => {
            if items.is_empty() || items.len() > rules::MAX_LINES {
                errors.add(
                    "items",
                    "out_of_range",
                    format!("an order has 1 to {} items", rules::MAX_LINES),
                );
            }
            let mut lines = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let variant = item.variant_id.ok_or_else(|| {
                    FieldErrors::single(
                        &format!("items[{i}].variant_id"),
                        "required",
                        "variant_id is required",
                    )
                });
                let quantity =
                    cart_rules::line_quantity(&format!("items[{i}].quantity"), item.quantity);
                if let Some(line) = errors.take(FieldErrors::new().all((variant, quantity))) {
                    lines.push(line);
                }
            }
            let merged = rules::merge_lines(&lines);
            if merged.iter().any(|(_, q)| *q > rules::MAX_LINE_QUANTITY) {
                errors.add(
                    "items",
                    "out_of_range",
                    format!(
                        "at most {} units of one variant per order",
                        rules::MAX_LINE_QUANTITY
                    ),
                );
            }
            Some(merged)
        }
    };
    let (address,) = errors.all((address,))?;
    Ok((address, items))
}

async fn selected_cart_lines(
    db: &impl jangteo_store::ConnectionTrait,
    buyer: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<Wanted> {
    let live = cart_store::last_change(db, buyer)
        .await?
        .is_some_and(|t| !cart_rules::is_expired(t, now));
    let lines = if live {
        cart_store::lines(db, buyer).await?
    } else {
        Vec::new()
    };
    let lines: Lines = lines
        .into_iter()
        .filter(|l| l.selected)
        .map(|l| (l.variant_id, l.quantity))
        .collect();
    if lines.is_empty() {
        return Err(ServiceError::conflict(
            "nothing_selected",
            "no cart lines are selected; select lines or send `items`",
        ));
    }
    Ok(Wanted {
        lines,
        from_cart: true,
    })
}

/// The seller's rule in the order's currency: their stored one, else the default (3,000
/// won, free from 50,000; free shipping in other currencies, which have no default).
fn shipping_rule(
    stored: &[store::StoredShippingRule],
    seller: UserId,
    currency: Currency,
) -> ShippingRule {
    match stored.iter().find(|r| r.seller_id == seller) {
        Some(r) => ShippingRule {
            base_fee: Money::new(r.base_fee, currency),
            free_from: r.free_from.map(|f| Money::new(f, currency)),
        },
        None if currency == Currency::KRW => ShippingRule::DEFAULT_KRW,
        None => ShippingRule {
            base_fee: Money::zero(currency),
            free_from: None,
        },
    }
}

fn too_large(_: jangteo_core::money::MoneyError) -> ServiceError {
    ServiceError::Unprocessable {
        code: "amount_too_large",
        detail: "the order's amounts are too large".into(),
    }
}
