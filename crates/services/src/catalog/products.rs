//! Products: create, read (through the cache), change, delete, and the owner check that
//! every write starts with.

use std::sync::Arc;

use jangteo_core::catalog::{self as rules, ProductStatus};
use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{CategoryId, ProductId, UserId};
use jangteo_core::money::Money;
use jangteo_core::{FieldErrors, Role};
use jangteo_store::catalog::{self as store, Product};

use super::*;
use crate::error::NotFoundAs;
use crate::idempotency::{IdempotentRequest, Replayable};
use crate::tokens::Principal;

/// The idempotency scope of product creation.
const CREATE_SCOPE: &str = "products.create";
use crate::{ServiceError, ServiceResult};

impl Catalog<'_> {
    /// Creates a product with its variants. With an idempotency key, a retry of the same
    /// request gets the product the first one created instead of a second product.
    pub async fn create_product(
        &self,
        seller: Principal,
        input: ProductInput<'_>,
        idempotency: Option<&IdempotentRequest>,
    ) -> ServiceResult<Replayable<ProductDetail>> {
        let mut errors = FieldErrors::new();
        let name = rules::product_name(input.name);
        let description = rules::description(input.description.unwrap_or_default());
        let brand = rules::optional_label("brand", input.brand, 100);
        let publisher = rules::optional_label("publisher", input.publisher, 100);
        let price = rules::price("price", input.price);
        let currency = rules::currency(input.currency);
        let status = match input.status {
            None => Ok(ProductStatus::Draft),
            Some(s) => ProductStatus::parse(s).ok_or_else(|| {
                FieldErrors::single(
                    "status",
                    "unknown_value",
                    "status must be DRAFT, ON_SALE, SOLD_OUT or HIDDEN",
                )
            }),
        };
        let base_price = price.as_ref().map_or(0, |p| *p);
        let category_ids = self
            .check_categories(&mut errors, input.category_ids.unwrap_or_default())
            .await?;
        let variant_inputs = input.variants.unwrap_or_default();
        if variant_inputs.is_empty() {
            errors.add(
                "variants",
                "required",
                "a product needs at least one variant",
            );
        } else if variant_inputs.len() > rules::MAX_VARIANTS {
            errors.add(
                "variants",
                "too_many",
                format!("a product has at most {} variants", rules::MAX_VARIANTS),
            );
        }
        let now = self.now();
        let product_id = ProductId::new();
        let mut variant_rows = Vec::new();
        if variant_inputs.len() <= rules::MAX_VARIANTS {
            for (i, v) in variant_inputs.iter().enumerate() {
                if let Some(row) =
                    errors.take(parse_variant(i, v, Some(base_price), product_id, now))
                {
                    variant_rows.push(row);
                }
            }
        }
        let (name, description, brand, publisher, price, currency, status) =
            errors.all((name, description, brand, publisher, price, currency, status))?;
        let mut skus: Vec<&str> = variant_rows.iter().map(|v| v.sku.as_str()).collect();
        skus.sort_unstable();
        if skus.windows(2).any(|w| w[0] == w[1]) {
            return Err(ServiceError::conflict(
                "sku_taken",
                "two variants of the request have the same sku",
            ));
        }
        self.require_categories(&category_ids).await?;
        let product = Product::new(
            product_id,
            seller.user_id,
            name,
            description,
            brand,
            publisher,
            Money::new(price, currency),
            status,
            now,
        );
        let mut tx = self.s.begin().await?;
        if let Some(request) = idempotency {
            if let Some(first) = tx
                .reserve_key::<ProductId>(CREATE_SCOPE, seller.user_id, request)
                .await?
            {
                tx.rollback().await?;
                return Ok(Replayable::replayed(self.load_detail(first).await?));
            }
            tx.complete_key(&product_id).await?;
        }
        store::insert_product(tx.conn(), product).await?;
        store::set_product_categories(tx.conn(), product_id, &category_ids).await?;
        for v in variant_rows {
            store::insert_variant(tx.conn(), v)
                .await
                .map_err(sku_taken)?;
        }
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await?;
        Ok(Replayable::fresh(self.load_detail(product_id).await?))
    }

    pub(super) async fn check_categories(
        &self,
        errors: &mut FieldErrors,
        ids: &[CategoryId],
    ) -> ServiceResult<Vec<CategoryId>> {
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if ids.len() > rules::MAX_CATEGORIES_PER_PRODUCT {
            errors.add(
                "category_ids",
                "too_many",
                format!(
                    "a product is in at most {} categories",
                    rules::MAX_CATEGORIES_PER_PRODUCT
                ),
            );
            return Ok(Vec::new());
        }
        Ok(unique)
    }

    /// NotFound unless every one of `ids` is a category (after the body passed validation:
    /// a reference to something missing is 404, not a malformed body).
    pub(super) async fn require_categories(&self, ids: &[CategoryId]) -> ServiceResult<()> {
        let found = store::find_categories(&self.s.db, ids).await?;
        if found.len() != ids.len() {
            return Err(ServiceError::NotFound("category"));
        }
        Ok(())
    }

    /// The product as the viewer may see it: public products to everyone, drafts and hidden
    /// products only to their seller and admins (others get 404).
    pub async fn product(
        &self,
        viewer: Option<Principal>,
        id: ProductId,
    ) -> ServiceResult<Arc<ProductDetail>> {
        let key = CatalogCache::detail_key(id);
        // Concurrent misses of one product load it once; the others wait for that load.
        let detail = self
            .s
            .catalog_cache
            .details
            .get_or_load(
                &key,
                Box::pin(async move { self.load_detail(id).await.map(Arc::new) }),
            )
            .await?;
        if !detail.status.is_public() && !may_manage(viewer, detail.seller_id) {
            return Err(ServiceError::NotFound("product"));
        }
        Ok(detail)
    }

    pub(super) async fn load_detail(&self, id: ProductId) -> ServiceResult<ProductDetail> {
        let db = &self.s.reader;
        let p = store::find_product(db, id).await.not_found_as("product")?;
        let cats = store::find_categories(db, &store::product_category_ids(db, id).await?).await?;
        let vars = store::list_variants(db, id).await?;
        let images = self.s.images().list(id).await?;
        let variants = vars
            .into_iter()
            .map(|v| {
                Ok(VariantView {
                    id: v.id,
                    price: rules::variant_price(p.price, v.price_delta).map_err(|e| {
                        ServiceError::Internal(anyhow::anyhow!("price of variant {}: {e}", v.id))
                    })?,
                    options: serde_json::from_str(&v.options).unwrap_or(serde_json::Value::Null),
                    sku: v.sku,
                    name: v.name,
                    price_delta: v.price_delta,
                    stock: v.stock,
                })
            })
            .collect::<ServiceResult<_>>()?;
        Ok(ProductDetail {
            images,
            variants,
            status: p.status,
            rating_average: rating_average(&p),
            categories: cats
                .into_iter()
                .map(|c| CategoryRef {
                    id: c.id,
                    name: c.name,
                    slug: c.slug,
                })
                .collect(),
            id: p.id,
            seller_id: p.seller_id,
            name: p.name,
            description: p.description,
            brand: p.brand,
            publisher: p.publisher,
            price: p.price,
            rating_count: p.rating_count,
            view_count: p.view_count,
            sales_count: p.sales_count,
            created_at: p.created_at,
            updated_at: p.updated_at,
        })
    }

    /// Loads a product for a write by `who`: the seller who owns it or an admin. Others get
    /// 403 when the product is public (they can see it exists) and 404 otherwise.
    pub(crate) async fn owned(&self, who: Principal, id: ProductId) -> ServiceResult<Product> {
        let p = store::find_product(&self.s.db, id)
            .await
            .not_found_as("product")?;
        if may_manage(Some(who), p.seller_id) {
            return Ok(p);
        }
        if p.status.is_public() {
            Err(ServiceError::forbidden(
                "not_product_owner",
                "only the product's seller or an admin may change it",
            ))
        } else {
            Err(ServiceError::NotFound("product"))
        }
    }

    pub async fn update_product(
        &self,
        who: Principal,
        id: ProductId,
        input: ProductInput<'_>,
    ) -> ServiceResult<ProductDetail> {
        let current = self.owned(who, id).await?;
        let mut errors = FieldErrors::new();
        let mut next = current.clone();
        let (mut illegal_transition, mut price_conflict) = (false, false);
        if let Some(n) = input.name {
            next.name = errors
                .take(rules::product_name(Some(n)))
                .unwrap_or_default();
        }
        if let Some(d) = input.description {
            next.description = errors.take(rules::description(d)).unwrap_or_default();
        }
        if input.brand.is_some() {
            next.brand = errors
                .take(rules::optional_label("brand", input.brand, 100))
                .flatten();
        }
        if input.publisher.is_some() {
            next.publisher = errors
                .take(rules::optional_label("publisher", input.publisher, 100))
                .flatten();
        }
        if input.price.is_some() {
            let minor = errors
                .take(rules::price("price", input.price))
                .unwrap_or(current.price.minor());
            next.price = Money::new(minor, current.price.currency());
            let vars = store::list_variants(&self.s.db, id).await?;
            if vars
                .iter()
                .any(|v| !rules::variant_price_in_range(minor, v.price_delta))
            {
                price_conflict = true;
            }
        }
        if input.currency.is_some() {
            errors.add(
                "currency",
                "immutable",
                "currency cannot change after creation",
            );
        }
        if input.variants.is_some() {
            errors.add("variants", "not_here", "change variants through /variants");
        }
        if let Some(s) = input.status {
            match ProductStatus::parse(s) {
                None => errors.add(
                    "status",
                    "unknown_value",
                    "status must be DRAFT, ON_SALE, SOLD_OUT or HIDDEN",
                ),
                Some(new) if !current.status.can_become(new) => illegal_transition = true,
                Some(new) => next.status = new,
            }
        }
        let category_ids = match input.category_ids {
            Some(ids) => Some(self.check_categories(&mut errors, ids).await?),
            None => None,
        };
        errors.finish(())?;
        // The body is well formed; what follows depends on the product as it is now.
        if illegal_transition {
            return Err(ServiceError::conflict(
                "illegal_status_transition",
                "a product that was offered cannot go back to DRAFT",
            ));
        }
        if price_conflict {
            return Err(variant_price_conflict());
        }
        if let Some(ids) = &category_ids {
            self.require_categories(ids).await?;
        }
        next.updated_at = self.now();
        let mut tx = self.s.begin().await?;
        store::update_product(tx.conn(), next)
            .await
            .not_found_as("product")?;
        if let Some(ids) = category_ids {
            store::set_product_categories(tx.conn(), id, &ids).await?;
        }
        tx.record(DomainEvent::ProductChanged { product_id: id });
        tx.commit().await?;
        self.load_detail(id).await
    }

    pub async fn delete_product(&self, who: Principal, id: ProductId) -> ServiceResult<()> {
        self.owned(who, id).await?;
        let mut tx = self.s.begin().await?;
        store::soft_delete_product(tx.conn(), id, self.now())
            .await
            .not_found_as("product")?;
        tx.record(DomainEvent::ProductChanged { product_id: id });
        tx.commit().await
    }
}

pub(super) fn variant_price_conflict() -> ServiceError {
    ServiceError::conflict(
        "variant_price_out_of_range",
        "a variant's price (product price + price_delta) would leave the range 0 to the maximum price",
    )
}

pub(super) fn may_manage(viewer: Option<Principal>, seller_id: UserId) -> bool {
    viewer.is_some_and(|v| v.role == Role::Admin || v.user_id == seller_id)
}
