//! Wishlists (SPEC F4.2, "찜"): like and unlike products, list them with their current
//! listing summary, remove several at once, and move them to the cart.

use chrono::{DateTime, Utc};
use jangteo_core::FieldErrors;
use jangteo_core::ids::{ProductId, UserId, VariantId};
use jangteo_store::catalog as catalog_store;
use jangteo_store::wishlist as store;

use crate::cart::CartView;
use crate::catalog::ProductSummary;
use crate::{ServiceError, ServiceResult, Services};

/// Products one user may like.
pub const MAX_LIKES: u64 = 200;

pub struct Wishlist<'a> {
    s: &'a Services,
}

/// A liked product as it is listed now.
#[derive(Debug, Clone)]
pub struct Liked {
    pub product: ProductSummary,
    pub liked_at: DateTime<Utc>,
}

/// One product to move to the cart: which variant (optional when the product has only
/// one) and how many (default 1).
#[derive(Debug, Clone, Copy)]
pub struct MoveItem {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub quantity: Option<i64>,
}

impl<'a> Wishlist<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    /// Likes a product shoppers can see; liking it again changes nothing.
    pub async fn like(&self, user: UserId, product: ProductId) -> ServiceResult<()> {
        catalog_store::find_product(self.s.db(), product)
            .await
            .ok()
            .filter(|p| p.status.is_public())
            .ok_or(ServiceError::NotFound("product"))?;
        let tx = self.s.begin().await?;
        if store::count(tx.conn(), user).await? >= MAX_LIKES
            && !store::list(tx.conn(), user)
                .await?
                .iter()
                .any(|l| l.product_id == product)
        {
            return Err(ServiceError::conflict(
                "wishlist_full",
                format!("a wishlist holds at most {MAX_LIKES} products"),
            ));
        }
        store::like(tx.conn(), user, product, self.s.clock().now()).await?;
        tx.commit().await
    }

    /// Unlikes products; those not liked are ignored.
    pub async fn unlike(&self, user: UserId, products: &[ProductId]) -> ServiceResult<()> {
        let tx = self.s.begin().await?;
        store::unlike(tx.conn(), user, products).await?;
        tx.commit().await
    }

    /// The liked products that still exist, newest like first.
    pub async fn list(&self, user: UserId) -> ServiceResult<Vec<Liked>> {
        let likes = store::list(self.s.reader(), user).await?;
        let ids: Vec<ProductId> = likes.iter().map(|l| l.product_id).collect();
        let summaries = self.s.catalog().summaries_by_id(&ids).await?;
        Ok(likes
            .into_iter()
            .filter_map(|l| {
                summaries
                    .iter()
                    .find(|s| s.id == l.product_id)
                    .map(|s| Liked {
                        product: s.clone(),
                        liked_at: l.liked_at,
                    })
            })
            .collect())
    }

    /// Puts the given liked products in the cart and unlikes them, in one unit of work: a
    /// bad item (a product with several variants and no `variant_id`, a full cart, a line
    /// over 999 units) moves nothing.
    pub async fn move_to_cart(&self, user: UserId, items: &[MoveItem]) -> ServiceResult<CartView> {
        let liked = store::list(self.s.reader(), user).await?;
        let mut errors = FieldErrors::new();
        let mut moves = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if !liked.iter().any(|l| l.product_id == item.product_id) {
                return Err(ServiceError::NotFound("liked product"));
            }
            let variants = catalog_store::list_variants(self.s.reader(), item.product_id).await?;
            let variant = match item.variant_id {
                Some(v) => variants.iter().find(|x| x.id == v).map(|x| x.id),
                None if variants.len() == 1 => variants.first().map(|x| x.id),
                None => {
                    errors.add(
                        &format!("items[{i}].variant_id"),
                        "required",
                        "this product has several variants: say which one",
                    );
                    continue;
                }
            };
            let Some(variant) = variant else {
                return Err(ServiceError::NotFound("variant"));
            };
            let quantity = errors.take(jangteo_core::cart::line_quantity(
                &format!("items[{i}].quantity"),
                Some(item.quantity.unwrap_or(1)),
            ));
            if let Some(q) = quantity {
                moves.push((item.product_id, variant, q));
            }
        }
        errors.finish(())?;
        // One unit of work: every item reaches the cart and leaves the wishlist, or none.
        let cart = self.s.cart();
        for (_, variant, _) in &moves {
            cart.buyable(*variant).await?;
        }
        let now = self.s.clock().now();
        let tx = cart.begin_at(user, now).await?;
        for (_, variant, quantity) in &moves {
            cart.add_in(&tx, user, *variant, *quantity, now).await?;
        }
        let moved: Vec<ProductId> = moves.iter().map(|m| m.0).collect();
        store::unlike(tx.conn(), user, &moved).await?;
        tx.commit().await?;
        cart.view(user).await
    }
}
