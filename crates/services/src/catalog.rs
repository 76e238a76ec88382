//! The catalog: categories (a tree), products owned by sellers, their variants, public
//! reads (detail and keyset listings) served through an in-process cache that every write
//! invalidates, and popularity by units sold.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jangteo_core::catalog::{self as rules, ProductStatus};
use jangteo_core::events::DomainEvent;
use jangteo_core::{FieldErrors, Role, ids, validation};
use jangteo_store::StoreError;
use jangteo_store::catalog::{self as store, ListCursor, ProductFilter, ProductSort};
use jangteo_store::entities::{categories, products, variants};
use uuid::Uuid;

use crate::error::NotFoundAs;
use crate::images::ImageView;
use crate::tokens::Principal;
use crate::{ServiceError, ServiceResult, Services};

const MAX_CATEGORY_DEPTH: i32 = 5;

// ---- views ----------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct CategoryNode {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub children: Vec<CategoryNode>,
}

#[derive(Debug, Clone)]
pub struct CategoryRef {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Clone)]
pub struct VariantView {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub options: serde_json::Value,
    pub price_delta: i64,
    pub price: i64,
    pub stock: i64,
}

#[derive(Debug, Clone)]
pub struct ProductDetail {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub name: String,
    pub description: String,
    pub brand: Option<String>,
    pub publisher: Option<String>,
    pub price: i64,
    pub currency: String,
    pub status: ProductStatus,
    pub categories: Vec<CategoryRef>,
    pub variants: Vec<VariantView>,
    /// Cover first.
    pub images: Vec<ImageView>,
    pub rating_average: f64,
    pub rating_count: i64,
    pub view_count: i64,
    pub sales_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductDetail {
    pub fn total_stock(&self) -> i64 {
        rules::total_stock(self.variants.iter().map(|v| v.stock))
    }
}

#[derive(Debug, Clone)]
pub struct ProductSummary {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub name: String,
    pub brand: Option<String>,
    pub price: i64,
    pub currency: String,
    pub status: ProductStatus,
    pub in_stock: bool,
    /// The first image, if the product has any.
    pub cover: Option<ImageView>,
    pub rating_average: f64,
    pub rating_count: i64,
    pub sales_count: i64,
    pub created_at: DateTime<Utc>,
    /// Opaque position of this item, for `after=` of the next page.
    pub cursor: String,
}

// ---- inputs ---------------------------------------------------------------------------------

#[derive(Debug, Default)]
pub struct VariantInput<'a> {
    pub sku: Option<&'a str>,
    pub name: Option<&'a str>,
    pub options: Option<&'a serde_json::Map<String, serde_json::Value>>,
    pub price_delta: Option<i64>,
    pub stock: Option<i64>,
}

#[derive(Debug, Default)]
pub struct ProductInput<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub brand: Option<&'a str>,
    pub publisher: Option<&'a str>,
    pub price: Option<i64>,
    pub currency: Option<&'a str>,
    pub status: Option<&'a str>,
    pub category_ids: Option<&'a [Uuid]>,
    pub variants: Option<Vec<VariantInput<'a>>>,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub category_id: Option<Uuid>,
    pub seller_id: Option<Uuid>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub statuses: Vec<ProductStatus>,
    pub sort: Option<ProductSort>,
    pub after: Option<String>,
    pub limit: u64,
}

// ---- the read cache ---------------------------------------------------------------------------

/// Hot reads kept in process. Product details are invalidated by id on every write to the
/// product; listing pages are keyed by a generation number that every catalog write bumps,
/// so a change is visible on the very next read. A TTL bounds staleness should another
/// process (cluster mode) write the same product.
pub struct CatalogCache {
    details: moka::future::Cache<Uuid, Arc<ProductDetail>>,
    pages: moka::future::Cache<String, Arc<Vec<ProductSummary>>>,
    generation: AtomicU64,
}

impl Default for CatalogCache {
    fn default() -> Self {
        Self {
            details: moka::future::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            pages: moka::future::Cache::builder()
                .max_capacity(5_000)
                .time_to_live(Duration::from_secs(30))
                .build(),
            generation: AtomicU64::new(0),
        }
    }
}

impl CatalogCache {
    /// A change that listings do not show (e.g. the view count): only the detail is dropped.
    pub async fn detail_changed(&self, product_id: Uuid) {
        self.details.invalidate(&product_id).await;
    }

    /// Bumped by every catalog write: caches of derived pages key on it.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Drops what committed events made stale: the details of the products they name, and
    /// every cached page (by bumping the generation).
    pub async fn apply(&self, events: &[jangteo_core::events::DomainEvent]) {
        for e in events {
            if let Some(id) = e.product_id() {
                self.details.invalidate(&id).await;
            }
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

// ---- cursors ------------------------------------------------------------------------------------

fn encode_cursor(key: i64, id: Uuid) -> String {
    format!("{key}~{}", id.simple())
}

fn decode_cursor(raw: &str) -> Result<ListCursor, FieldErrors> {
    let bad = || {
        FieldErrors::single(
            "after",
            "invalid_cursor",
            "after must be a next_cursor returned by a previous page",
        )
    };
    let (key, id) = raw.split_once('~').ok_or_else(bad)?;
    Ok(ListCursor {
        key: key.parse().map_err(|_| bad())?,
        id: Uuid::parse_str(id).map_err(|_| bad())?,
    })
}

fn variant_price_conflict() -> ServiceError {
    ServiceError::conflict(
        "variant_price_out_of_range",
        "a variant's price (product price + price_delta) would leave the range 0 to the maximum price",
    )
}

fn rating_average(p: &products::Model) -> f64 {
    f64::from(p.rating_avg_x100) / 100.0
}

fn status_of(p: &products::Model) -> ServiceResult<ProductStatus> {
    ProductStatus::parse(&p.status).ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("unknown product status {:?}", p.status))
    })
}

// ---- the service ----------------------------------------------------------------------------------

pub struct Catalog<'a> {
    s: &'a Services,
}

impl<'a> Catalog<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    fn now(&self) -> DateTime<Utc> {
        self.s.clock.now()
    }

    // -- categories

    pub async fn create_category(
        &self,
        name: Option<&str>,
        slug: Option<&str>,
        parent_id: Option<Uuid>,
        position: Option<i32>,
    ) -> ServiceResult<CategoryRef> {
        let mut errors = FieldErrors::new();
        let name = errors.take(validation::required_text("name", name, 1, 60));
        let id = ids::new_id();
        let slug = match (slug, &name) {
            (Some(s), _) => errors.take(rules::slug("slug", s)),
            // A name of only punctuation has no slug of its own: one from the id, then.
            (None, Some(n)) => match rules::slugify(n) {
                derived if derived.is_empty() => {
                    Some(format!("c-{}", &id.simple().to_string()[..12]))
                }
                derived => errors.take(rules::slug("slug", &derived)),
            },
            (None, None) => None,
        };
        let position = errors.take(rules::position("position", position));
        let (Some(name), Some(slug), Some(position)) = errors.finish((name, slug, position))?
        else {
            unreachable!()
        };
        let parent = match parent_id {
            None => None,
            Some(pid) => Some(
                store::find_category(&self.s.db, pid)
                    .await
                    .not_found_as("parent category")?,
            ),
        };
        let depth = parent.as_ref().map_or(0, |p| p.depth + 1);
        if depth >= MAX_CATEGORY_DEPTH {
            return Err(ServiceError::conflict(
                "category_too_deep",
                "categories nest at most 5 levels; this parent is already at the deepest",
            ));
        }
        let path = format!(
            "{}{}/",
            parent.as_ref().map_or("/", |p| p.path.as_str()),
            id.simple()
        );
        let row = categories::Model {
            id,
            parent_id,
            name: name.clone(),
            slug: slug.clone(),
            path,
            depth,
            position,
            created_at: self.now(),
        };
        let tx = self.s.begin().await?;
        store::insert_category(tx.conn(), row)
            .await
            .map_err(|e| match e {
                StoreError::Conflict => {
                    ServiceError::conflict("slug_taken", "another category uses this slug")
                }
                other => other.into(),
            })?;
        tx.commit().await?;
        Ok(CategoryRef { id, name, slug })
    }

    /// `NotFound` unless a category with this id exists (for filters naming one).
    pub async fn require_category(&self, id: Uuid) -> ServiceResult<()> {
        store::find_category(&self.s.db, id)
            .await
            .not_found_as("category")
            .map(drop)
    }

    pub async fn rename_category(
        &self,
        id: Uuid,
        name: Option<&str>,
    ) -> ServiceResult<CategoryRef> {
        let name = validation::required_text("name", name, 1, 60)?;
        let mut tx = self.s.begin().await?;
        let c = store::rename_category(tx.conn(), id, &name)
            .await
            .not_found_as("category")?;
        // Listings, pages and search documents of its products show the name.
        tx.record(DomainEvent::CategoryChanged { category_id: id });
        tx.commit().await?;
        Ok(CategoryRef {
            id: c.id,
            name: c.name,
            slug: c.slug,
        })
    }

    pub async fn category_tree(&self) -> ServiceResult<Vec<CategoryNode>> {
        let all = store::list_categories(&self.s.db).await?;
        Ok(build_tree(&all, None))
    }

    // -- products

    pub async fn create_product(
        &self,
        seller: Principal,
        input: ProductInput<'_>,
    ) -> ServiceResult<ProductDetail> {
        let mut errors = FieldErrors::new();
        let name = errors.take(rules::product_name(input.name));
        let description = errors.take(rules::description(input.description.unwrap_or_default()));
        let brand = errors.take(rules::optional_label("brand", input.brand, 100));
        let publisher = errors.take(rules::optional_label("publisher", input.publisher, 100));
        let price = errors.take(rules::price("price", input.price));
        let currency = errors.take(rules::currency(input.currency));
        let status = match input.status {
            None => Some(ProductStatus::Draft),
            Some(s) => {
                let parsed = ProductStatus::parse(s);
                if parsed.is_none() {
                    errors.add(
                        "status",
                        "unknown_value",
                        "status must be DRAFT, ON_SALE, SOLD_OUT or HIDDEN",
                    );
                }
                parsed
            }
        };
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
        let product_id = ids::new_id();
        let mut variant_rows = Vec::new();
        if variant_inputs.len() <= rules::MAX_VARIANTS {
            for (i, v) in variant_inputs.iter().enumerate() {
                if let Some(row) = errors.take(parse_variant(
                    i,
                    v,
                    Some(price.unwrap_or(0)),
                    product_id,
                    now,
                )) {
                    variant_rows.push(row);
                }
            }
        }
        let mut skus: Vec<&str> = variant_rows.iter().map(|v| v.sku.as_str()).collect();
        skus.sort_unstable();
        errors.finish(())?;
        if skus.windows(2).any(|w| w[0] == w[1]) {
            return Err(ServiceError::conflict(
                "sku_taken",
                "two variants of the request have the same sku",
            ));
        }
        self.require_categories(&category_ids).await?;
        let (Some(name), Some(description), Some(price), Some(currency), Some(status)) =
            (name, description, price, currency, status)
        else {
            unreachable!("validated above")
        };
        let product = products::Model {
            id: product_id,
            seller_id: seller.user_id,
            name,
            description,
            brand: brand.flatten(),
            publisher: publisher.flatten(),
            price,
            currency: currency.as_str().to_owned(),
            status: status.as_str().to_owned(),
            sales_count: 0,
            view_count: 0,
            rating_count: 0,
            rating_sum: 0,
            rating_avg_x100: 0,
            deleted_at: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.s.begin().await?;
        store::insert_product(tx.conn(), product).await?;
        store::set_product_categories(tx.conn(), product_id, &category_ids).await?;
        for v in variant_rows {
            store::insert_variant(tx.conn(), v)
                .await
                .map_err(sku_taken)?;
        }
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await?;
        self.load_detail(product_id).await
    }

    async fn check_categories(
        &self,
        errors: &mut FieldErrors,
        ids: &[Uuid],
    ) -> ServiceResult<Vec<Uuid>> {
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
    async fn require_categories(&self, ids: &[Uuid]) -> ServiceResult<()> {
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
        id: Uuid,
    ) -> ServiceResult<Arc<ProductDetail>> {
        let detail = match self.s.catalog_cache.details.get(&id).await {
            Some(d) => d,
            None => {
                let d = Arc::new(self.load_detail(id).await?);
                self.s.catalog_cache.details.insert(id, d.clone()).await;
                d
            }
        };
        if !detail.status.is_public() && !may_manage(viewer, detail.seller_id) {
            return Err(ServiceError::NotFound("product"));
        }
        Ok(detail)
    }

    async fn load_detail(&self, id: Uuid) -> ServiceResult<ProductDetail> {
        let db = &self.s.db;
        let p = store::find_product(db, id).await.not_found_as("product")?;
        let cats = store::find_categories(db, &store::product_category_ids(db, id).await?).await?;
        let vars = store::list_variants(db, id).await?;
        let images = self.s.images().list(id).await?;
        Ok(ProductDetail {
            images,
            status: status_of(&p)?,
            rating_average: rating_average(&p),
            categories: cats
                .into_iter()
                .map(|c| CategoryRef {
                    id: c.id,
                    name: c.name,
                    slug: c.slug,
                })
                .collect(),
            variants: vars
                .into_iter()
                .map(|v| VariantView {
                    id: v.id,
                    price: rules::variant_price(p.price, v.price_delta),
                    options: serde_json::from_str(&v.options).unwrap_or(serde_json::Value::Null),
                    sku: v.sku,
                    name: v.name,
                    price_delta: v.price_delta,
                    stock: v.stock,
                })
                .collect(),
            id: p.id,
            seller_id: p.seller_id,
            name: p.name,
            description: p.description,
            brand: p.brand,
            publisher: p.publisher,
            price: p.price,
            currency: p.currency,
            rating_count: p.rating_count,
            view_count: p.view_count,
            sales_count: p.sales_count,
            created_at: p.created_at,
            updated_at: p.updated_at,
        })
    }

    /// Loads a product for a write by `who`: the seller who owns it or an admin. Others get
    /// 403 when the product is public (they can see it exists) and 404 otherwise.
    pub(crate) async fn owned(&self, who: Principal, id: Uuid) -> ServiceResult<products::Model> {
        let p = store::find_product(&self.s.db, id)
            .await
            .not_found_as("product")?;
        if may_manage(Some(who), p.seller_id) {
            return Ok(p);
        }
        if status_of(&p)?.is_public() {
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
        id: Uuid,
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
            next.price = errors
                .take(rules::price("price", input.price))
                .unwrap_or(current.price);
            let vars = store::list_variants(&self.s.db, id).await?;
            if vars
                .iter()
                .any(|v| !rules::variant_price_in_range(next.price, v.price_delta))
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
                Some(new) if !status_of(&current)?.can_become(new) => illegal_transition = true,
                Some(new) => next.status = new.as_str().to_owned(),
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

    pub async fn delete_product(&self, who: Principal, id: Uuid) -> ServiceResult<()> {
        self.owned(who, id).await?;
        let mut tx = self.s.begin().await?;
        store::soft_delete_product(tx.conn(), id, self.now())
            .await
            .not_found_as("product")?;
        tx.record(DomainEvent::ProductChanged { product_id: id });
        tx.commit().await
    }

    /// Adds a variant; returns it as the product's detail now lists it.
    pub async fn add_variant(
        &self,
        who: Principal,
        product_id: Uuid,
        input: VariantInput<'_>,
    ) -> ServiceResult<VariantView> {
        let p = self.owned(who, product_id).await?;
        let row = parse_variant(0, &input, None, product_id, self.now()).map_err(unprefix)?;
        if !rules::variant_price_in_range(p.price, row.price_delta) {
            return Err(variant_price_conflict());
        }
        if store::count_variants(&self.s.db, product_id).await? >= rules::MAX_VARIANTS as u64 {
            return Err(ServiceError::conflict(
                "too_many_variants",
                "this product already has the maximum number of variants",
            ));
        }
        let variant_id = row.id;
        let mut tx = self.s.begin().await?;
        store::insert_variant(tx.conn(), row)
            .await
            .map_err(sku_taken)?;
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await?;
        self.load_detail(product_id)
            .await?
            .variants
            .into_iter()
            .find(|v| v.id == variant_id)
            .ok_or(ServiceError::NotFound("variant"))
    }

    pub async fn update_variant(
        &self,
        who: Principal,
        product_id: Uuid,
        variant_id: Uuid,
        name: Option<&str>,
        options: Option<&serde_json::Map<String, serde_json::Value>>,
        price_delta: Option<i64>,
    ) -> ServiceResult<ProductDetail> {
        let p = self.owned(who, product_id).await?;
        let v = store::find_variant(&self.s.db, product_id, variant_id)
            .await
            .not_found_as("variant")?;
        let mut errors = FieldErrors::new();
        let name = match name {
            Some(n) => errors
                .take(validation::required_text("name", Some(n), 1, 100))
                .unwrap_or_default(),
            None => v.name.clone(),
        };
        let options = match options {
            Some(o) => errors.take(options_json("options", o)).unwrap_or_default(),
            None => v.options.clone(),
        };
        let delta = errors.take(rules::delta_in_range(
            "price_delta",
            price_delta.or(Some(v.price_delta)),
        ));
        errors.finish(())?;
        if delta.is_some_and(|d| !rules::variant_price_in_range(p.price, d)) {
            return Err(variant_price_conflict());
        }
        let mut tx = self.s.begin().await?;
        store::update_variant_details(
            tx.conn(),
            variant_id,
            &name,
            &options,
            delta.unwrap_or(0),
            self.now(),
        )
        .await?;
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await?;
        self.load_detail(product_id).await
    }

    // -- listings

    /// A keyset page of products. Public callers see ON_SALE and SOLD_OUT products; a seller
    /// listing their own (`seller_id` = themselves) and admins may ask for any status.
    pub async fn list(
        &self,
        viewer: Option<Principal>,
        q: ListQuery,
    ) -> ServiceResult<(Vec<ProductSummary>, Option<String>)> {
        let privileged = match (viewer, q.seller_id) {
            (Some(v), _) if v.role == Role::Admin => true,
            (Some(v), Some(seller)) => v.user_id == seller,
            _ => false,
        };
        let statuses: Vec<ProductStatus> = if q.statuses.is_empty() {
            if privileged {
                vec![
                    ProductStatus::Draft,
                    ProductStatus::OnSale,
                    ProductStatus::SoldOut,
                    ProductStatus::Hidden,
                ]
            } else {
                vec![ProductStatus::OnSale, ProductStatus::SoldOut]
            }
        } else {
            if !privileged && q.statuses.iter().any(|s| !s.is_public()) {
                return Err(ServiceError::forbidden(
                    "status_not_public",
                    "only ON_SALE and SOLD_OUT products are listed publicly; sellers see \
                     their own drafts and hidden products at /api/v1/sellers/me/products",
                ));
            }
            q.statuses.clone()
        };
        let sort = q.sort.unwrap_or(ProductSort::Newest);
        let after = q.after.as_deref().map(decode_cursor).transpose()?;
        // An empty price range (min above max) is not an error: it matches nothing. The
        // other parameters are still checked.
        if let (Some(min), Some(max)) = (q.min_price, q.max_price)
            && min > max
        {
            if let Some(category) = q.category_id {
                self.require_category(category).await?;
            }
            return Ok((Vec::new(), None));
        }
        let cache_key = (!privileged).then(|| {
            format!(
                "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
                self.s.catalog_cache.generation.load(Ordering::SeqCst),
                q.category_id,
                q.seller_id,
                q.min_price,
                q.max_price,
                statuses,
                sort,
                after,
                q.limit
            )
        });
        let load = async {
            let category_ids = match q.category_id {
                None => None,
                Some(cid) => {
                    let root = store::find_category(&self.s.db, cid)
                        .await
                        .not_found_as("category")?;
                    Some(store::subtree_ids(&self.s.db, &root).await?)
                }
            };
            let filter = ProductFilter {
                statuses: statuses.iter().map(|s| s.as_str().to_owned()).collect(),
                seller_id: q.seller_id,
                category_ids,
                min_price: q.min_price,
                max_price: q.max_price,
            };
            let rows = store::list_products(&self.s.db, &filter, sort, after, q.limit).await?;
            self.summaries(rows, sort).await
        };
        let items = match cache_key {
            // Concurrent misses of one key run the query once; the others wait for it.
            Some(key) => self
                .s
                .catalog_cache
                .pages
                .try_get_with(key, async { load.await.map(Arc::new) })
                .await
                .map_err(|e: Arc<ServiceError>| match Arc::try_unwrap(e) {
                    Ok(e) => e,
                    Err(shared) => shared_error(&shared),
                })?
                .as_ref()
                .clone(),
            None => load.await?,
        };
        Ok(page_with_cursor(items, q.limit))
    }

    /// Listing summaries of the given products (any order; missing ones skipped).
    pub async fn summaries_by_id(&self, ids: &[Uuid]) -> ServiceResult<Vec<ProductSummary>> {
        let rows = store::find_products(&self.s.db, ids).await?;
        self.summaries(rows, ProductSort::Newest).await
    }

    async fn summaries(
        &self,
        rows: Vec<products::Model>,
        sort: ProductSort,
    ) -> ServiceResult<Vec<ProductSummary>> {
        let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
        let stocked = store::products_in_stock(&self.s.db, &ids).await?;
        let mut covers = jangteo_store::images::covers(&self.s.db, &ids).await?;
        rows.into_iter()
            .map(|p| {
                let cover = covers
                    .iter()
                    .position(|c| c.product_id == p.id)
                    .map(|i| ImageView::from_row(&self.s.image_settings, covers.swap_remove(i)));
                Ok(ProductSummary {
                    cover,
                    status: status_of(&p)?,
                    rating_average: rating_average(&p),
                    in_stock: stocked.contains(&p.id),
                    cursor: encode_cursor(sort.key_of(&p), p.id),
                    id: p.id,
                    seller_id: p.seller_id,
                    name: p.name,
                    brand: p.brand,
                    price: p.price,
                    currency: p.currency,
                    rating_count: p.rating_count,
                    sales_count: p.sales_count,
                    created_at: p.created_at,
                })
            })
            .collect()
    }

    /// Products on sale by units sold over the last `days` days (bestsellers), optionally
    /// within a category and its sub-categories.
    pub async fn popular(
        &self,
        days: u32,
        category_id: Option<Uuid>,
        limit: u64,
    ) -> ServiceResult<Vec<(ProductSummary, i64)>> {
        let today = day_number(self.now());
        let since = today - i32::try_from(days).unwrap_or(i32::MAX).saturating_sub(1);
        let cats = match category_id {
            None => None,
            Some(cid) => {
                let root = store::find_category(&self.s.db, cid)
                    .await
                    .not_found_as("category")?;
                Some(store::subtree_ids(&self.s.db, &root).await?)
            }
        };
        let top = store::top_sellers(&self.s.db, since, cats.as_deref(), limit).await?;
        let ids: Vec<Uuid> = top.iter().map(|t| t.0).collect();
        let rows = store::find_products(&self.s.db, &ids).await?;
        let summaries = self.summaries(rows, ProductSort::Popularity).await?;
        Ok(top
            .into_iter()
            .filter_map(|(id, units)| {
                summaries
                    .iter()
                    .find(|s| s.id == id)
                    .map(|s| (s.clone(), units))
            })
            .collect())
    }

    /// Records units sold on the day of `at` directly, for imports of past sales. Sales made
    /// here are counted by the sales subscriber from their stock changes instead.
    pub async fn record_sale(
        &self,
        product_id: Uuid,
        units: i64,
        at: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let mut tx = self.s.begin().await?;
        store::record_sale(tx.conn(), product_id, day_number(at), units).await?;
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await
    }
}

/// An error shared by coalesced requests is re-created for each of them.
fn shared_error(e: &ServiceError) -> ServiceError {
    match e {
        ServiceError::Validation(f) => ServiceError::Validation(f.clone()),
        ServiceError::NotFound(w) => ServiceError::NotFound(w),
        other => ServiceError::Internal(anyhow::anyhow!("{other}")),
    }
}

fn page_with_cursor(
    items: Vec<ProductSummary>,
    limit: u64,
) -> (Vec<ProductSummary>, Option<String>) {
    let next = (items.len() as u64 == limit)
        .then(|| items.last().map(|i| i.cursor.clone()))
        .flatten();
    (items, next)
}

/// Days since 1970-01-01 in UTC.
pub fn day_number(at: DateTime<Utc>) -> i32 {
    i32::try_from(at.timestamp().div_euclid(86_400)).unwrap_or(i32::MAX)
}

fn may_manage(viewer: Option<Principal>, seller_id: Uuid) -> bool {
    viewer.is_some_and(|v| v.role == Role::Admin || v.user_id == seller_id)
}

fn build_tree(all: &[categories::Model], parent: Option<Uuid>) -> Vec<CategoryNode> {
    all.iter()
        .filter(|c| c.parent_id == parent)
        .map(|c| CategoryNode {
            id: c.id,
            name: c.name.clone(),
            slug: c.slug.clone(),
            children: build_tree(all, Some(c.id)),
        })
        .collect()
}

fn options_json(
    field: &str,
    o: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, FieldErrors> {
    if o.len() > 10
        || o.iter().any(|(k, v)| {
            k.chars().count() > 30
                || !v.is_string()
                || v.as_str().is_some_and(|s| s.chars().count() > 50)
        })
    {
        return Err(FieldErrors::single(
            field,
            "invalid",
            "options are at most 10 string values of up to 50 characters, e.g. {\"size\": \"L\"}",
        ));
    }
    serde_json::to_string(o)
        .map_err(|_| FieldErrors::single(field, "invalid", "options are not serialisable"))
}

/// A variant of a request. With `base_price` (a new product) the variant's price is checked
/// as a field of the same body; without it the caller checks it against the stored product.
fn parse_variant(
    index: usize,
    v: &VariantInput<'_>,
    base_price: Option<i64>,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> Result<variants::Model, FieldErrors> {
    let f = |name: &str| format!("variants[{index}].{name}");
    let mut errors = FieldErrors::new();
    let sku = errors.take(rules::sku(&f("sku"), v.sku));
    let name = errors.take(validation::required_text(&f("name"), v.name, 1, 100));
    let options = match v.options {
        Some(o) => errors.take(options_json(&f("options"), o)),
        None => Some("{}".to_owned()),
    };
    let delta = errors.take(match base_price {
        Some(base) => rules::price_delta(&f("price_delta"), base, v.price_delta),
        None => rules::delta_in_range(&f("price_delta"), v.price_delta),
    });
    let stock = errors.take(rules::initial_stock(&f("stock"), v.stock));
    let (Some(sku), Some(name), Some(options), Some(price_delta), Some(stock)) =
        errors.finish((sku, name, options, delta, stock))?
    else {
        unreachable!("validated above")
    };
    Ok(variants::Model {
        id: ids::new_id(),
        product_id,
        sku,
        name,
        options,
        price_delta,
        stock,
        initial_stock: stock,
        deleted_at: None,
        created_at: now,
        updated_at: now,
    })
}

/// For the single-variant endpoint, report `sku` rather than `variants[0].sku`.
fn unprefix(errors: FieldErrors) -> ServiceError {
    let mut out = FieldErrors::new();
    for e in errors.into_vec() {
        out.add(
            e.field.trim_start_matches("variants[0]."),
            &e.code,
            e.message,
        );
    }
    out.into()
}

fn sku_taken(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict => {
            ServiceError::conflict("sku_taken", "a variant with this sku already exists")
        }
        other => other.into(),
    }
}
