//! The shopper's cart (SPEC F4.1): lines of variants with quantities and a selection. What
//! a cart shows is read now — each line's current price, stock and availability, and the
//! count and total of the selected lines — and checked again at checkout; the cart holds no
//! stock. A cart expires 7 days after its last change: reads treat it as empty from that
//! instant, and the hourly `expire_carts` job deletes it.

use chrono::{DateTime, SubsecRound, Utc};
use jangteo_core::FieldErrors;
use jangteo_core::cart::{self as rules, LineStatus};
use jangteo_core::catalog as catalog_rules;
use jangteo_core::ids::{ProductId, UserId, VariantId};
use jangteo_core::money::{Currency, Money};
use jangteo_store::cart as store;
use jangteo_store::catalog as catalog_store;

use crate::tx::UnitOfWork;
use crate::{ServiceError, ServiceResult, Services};

pub struct Cart<'a> {
    s: &'a Services,
}

/// One line as the cart shows it.
#[derive(Debug, Clone)]
pub struct CartLineView {
    pub variant_id: VariantId,
    pub product_id: Option<ProductId>,
    pub product_name: Option<String>,
    pub variant_name: Option<String>,
    pub sku: Option<String>,
    /// The current price of one unit (None when the variant is gone).
    pub unit_price: Option<Money>,
    pub quantity: i64,
    pub line_total: Option<Money>,
    pub selected: bool,
    pub stock: i64,
    pub status: LineStatus,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct CartView {
    pub lines: Vec<CartLineView>,
    /// Selected lines that can be bought as they are.
    pub selected_lines: usize,
    pub selected_quantity: i64,
    pub selected_total: Money,
    /// When the cart goes away unless it changes before (None for an empty cart).
    pub expires_at: Option<DateTime<Utc>>,
}

impl<'a> Cart<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    pub async fn view(&self, user: UserId) -> ServiceResult<CartView> {
        let db = self.s.reader();
        let now = self.s.clock().now();
        let last = store::last_change(db, user).await?;
        let lines = match last {
            Some(t) if !rules::is_expired(t, now) => store::lines(db, user).await?,
            _ => Vec::new(),
        };
        self.view_of(last, lines).await
    }

    /// The cart of `lines`, last changed at `last`, with each line's current price and
    /// stock (read on the readers).
    async fn view_of(
        &self,
        last: Option<DateTime<Utc>>,
        lines: Vec<store::CartLine>,
    ) -> ServiceResult<CartView> {
        let ids: Vec<VariantId> = lines.iter().map(|l| l.variant_id).collect();
        let rows = catalog_store::find_variants_with_products(self.s.reader(), &ids).await?;
        let mut views = Vec::with_capacity(lines.len());
        for line in lines {
            let row = rows.iter().find(|(v, _)| v.id == line.variant_id);
            let variant = row.map(|(v, _)| v);
            let product = row.and_then(|(_, p)| p.as_ref());
            let unit_price = match (variant, product) {
                (Some(v), Some(p)) => Some(
                    catalog_rules::variant_price(p.price, v.price_delta)
                        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("price: {e}")))?,
                ),
                _ => None,
            };
            let offered = product.is_some_and(|p| p.status.is_public());
            let stock = variant.map_or(0, |v| v.stock);
            views.push(CartLineView {
                variant_id: line.variant_id,
                product_id: product.map(|p| p.id),
                product_name: product.map(|p| p.name.clone()),
                variant_name: variant.map(|v| v.name.clone()),
                sku: variant.map(|v| v.sku.clone()),
                line_total: unit_price
                    .map(|p| p.checked_mul(line.quantity))
                    .transpose()
                    .map_err(|e| ServiceError::Internal(anyhow::anyhow!("line total: {e}")))?,
                unit_price,
                quantity: line.quantity,
                selected: line.selected,
                stock,
                status: LineStatus::of(offered, stock, line.quantity),
                added_at: line.created_at,
            });
        }
        let buyable: Vec<&CartLineView> = views
            .iter()
            .filter(|l| l.selected && l.status == LineStatus::Available)
            .collect();
        let currency = buyable
            .first()
            .and_then(|l| l.unit_price)
            .map_or(Currency::KRW, Money::currency);
        let selected_total =
            Money::checked_sum(currency, buyable.iter().filter_map(|l| l.line_total))
                .map_err(|e| ServiceError::Internal(anyhow::anyhow!("cart total: {e}")))?;
        Ok(CartView {
            selected_lines: buyable.len(),
            selected_quantity: buyable.iter().map(|l| l.quantity).sum(),
            selected_total,
            expires_at: last.filter(|_| !views.is_empty()).map(rules::expires_at),
            lines: views,
        })
    }

    /// Puts `quantity` units of a variant in the cart, adding to its line if it has one.
    pub async fn add(
        &self,
        user: UserId,
        variant_id: Option<VariantId>,
        quantity: Option<i64>,
    ) -> ServiceResult<CartView> {
        let variant = variant_id
            .ok_or_else(|| FieldErrors::single("variant_id", "required", "variant_id is required"));
        let quantity = rules::line_quantity("quantity", quantity);
        let (variant_id, quantity) = FieldErrors::new().all((variant, quantity))?;
        self.buyable(variant_id).await?;
        // Microseconds, as every engine stores it: the answer's expiry is the stored one.
        let now = self.s.clock().now().trunc_subsecs(6);
        let tx = self.begin_at(user, now).await?;
        let lines = self.add_in(&tx, user, variant_id, quantity, now).await?;
        tx.commit().await?;
        // The answer is the cart the add left (its lines read after the add, under the
        // cart's row lock), not a second read of it: two statements fewer per add.
        self.view_of(Some(now), lines).await
    }

    /// The variant exists and its product is one shoppers can see (a draft's variant is as
    /// good as missing). Read before the unit of work, on the readers: only the cart's own
    /// rows are written, and a product hidden a moment later shows as unavailable there.
    pub(crate) async fn buyable(&self, variant_id: VariantId) -> ServiceResult<()> {
        catalog_store::find_variants_with_products(self.s.reader(), &[variant_id])
            .await?
            .pop()
            .and_then(|(_, product)| product)
            .filter(|p| p.status.is_public())
            .ok_or(ServiceError::NotFound("variant"))?;
        Ok(())
    }

    /// Adds a line (or to a line) of a [`Self::buyable`] variant inside a unit of work begun
    /// by [`Self::begin_at`] `now`: the cart not full, the line at most 999 units. Returns
    /// the cart's lines after the add.
    pub(crate) async fn add_in(
        &self,
        tx: &UnitOfWork<'_>,
        user: UserId,
        variant_id: VariantId,
        quantity: i64,
        now: DateTime<Utc>,
    ) -> ServiceResult<Vec<store::CartLine>> {
        let total = store::add(tx.conn(), user, variant_id, quantity, now).await?;
        if total > rules::MAX_LINE_QUANTITY {
            return Err(ServiceError::conflict(
                "quantity_limit",
                format!(
                    "a cart line holds at most {} units",
                    rules::MAX_LINE_QUANTITY
                ),
            ));
        }
        // A line holds at least one unit, so the add made a new line exactly when the line
        // now holds what was added. Checked after the add, whose transaction then rolls
        // back: the lines are read once, with the new one in them.
        let lines = store::lines(tx.conn(), user).await?;
        let is_new = total == quantity;
        if is_new && lines.len() as u64 > rules::MAX_LINES {
            return Err(ServiceError::conflict(
                "cart_full",
                format!("a cart holds at most {} products", rules::MAX_LINES),
            ));
        }
        Ok(lines)
    }

    /// Changes a line's quantity and/or whether it is selected.
    pub async fn update_line(
        &self,
        user: UserId,
        variant_id: VariantId,
        quantity: Option<i64>,
        selected: Option<bool>,
    ) -> ServiceResult<CartView> {
        let quantity = quantity
            .map(|q| rules::line_quantity("quantity", Some(q)))
            .transpose()?;
        let tx = self.begin(user).await?;
        if !store::update_line(tx.conn(), user, variant_id, quantity, selected).await? {
            return Err(ServiceError::NotFound("cart line"));
        }
        tx.commit().await?;
        self.view(user).await
    }

    /// Selects exactly the lines of `variants`; naming a variant that is not in the cart is
    /// 404 and changes nothing.
    pub async fn select(&self, user: UserId, variants: &[VariantId]) -> ServiceResult<CartView> {
        let mut wanted = variants.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let tx = self.begin(user).await?;
        if store::select_only(tx.conn(), user, &wanted).await? != wanted.len() as u64 {
            return Err(ServiceError::NotFound("cart line"));
        }
        tx.commit().await?;
        self.view(user).await
    }

    pub async fn remove(&self, user: UserId, variant_id: VariantId) -> ServiceResult<CartView> {
        let tx = self.begin(user).await?;
        if !store::remove(tx.conn(), user, variant_id).await? {
            return Err(ServiceError::NotFound("cart line"));
        }
        tx.commit().await?;
        self.view(user).await
    }

    pub async fn remove_selected(&self, user: UserId) -> ServiceResult<CartView> {
        let tx = self.begin(user).await?;
        store::remove_selected(tx.conn(), user).await?;
        tx.commit().await?;
        self.view(user).await
    }

    /// A unit of work on the user's cart: an expired cart is emptied first (so a change
    /// never revives old lines), then its last change is stamped now.
    async fn begin(&self, user: UserId) -> ServiceResult<UnitOfWork<'a>> {
        self.begin_at(user, self.s.clock().now()).await
    }

    /// [`Self::begin`], stamping the change `now`.
    pub(crate) async fn begin_at(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> ServiceResult<UnitOfWork<'a>> {
        let tx = self.s.begin().await?;
        // A live cart (nearly always) is stamped in one statement; a missing or expired one
        // is emptied first, so a change never revives old lines.
        if !store::touch_live(tx.conn(), user, now, rules::live_after(now)).await? {
            store::clear(tx.conn(), user).await?;
            store::touch(tx.conn(), user, now).await?;
        }
        Ok(tx)
    }
}

/// Deletes carts past their time (the `expire_carts` job); returns how many.
pub(crate) async fn expire(services: &Services) -> ServiceResult<u64> {
    let cutoff = services.clock().now() - chrono::Duration::days(rules::TTL_DAYS);
    let tx = services.begin().await?;
    let n = store::expire_before(tx.conn(), cutoff).await?;
    tx.commit().await?;
    Ok(n)
}
