//! What the catalog tables hold, as typed records: ids by kind, prices as [`Money`],
//! statuses as enums. Rows are checked once, here, on the way out of the database.

use chrono::{DateTime, Utc};
use jangteo_core::catalog::ProductStatus;
use jangteo_core::ids::{CategoryId, ProductId, UserId, VariantId};
use jangteo_core::money::{Currency, Money};

use crate::entities::{categories, products, variants};
use crate::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub name: String,
    pub slug: String,
    /// Materialised path of ids from the root, for sub-tree queries.
    pub path: String,
    pub depth: i32,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub seller_id: UserId,
    pub name: String,
    pub description: String,
    pub brand: Option<String>,
    pub publisher: Option<String>,
    pub price: Money,
    pub status: ProductStatus,
    pub sales_count: i64,
    pub view_count: i64,
    pub rating_count: i64,
    pub rating_sum: i64,
    pub rating_avg_x100: i32,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// A new product as a seller creates it: no sales, views or ratings yet.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: ProductId,
        seller_id: UserId,
        name: String,
        description: String,
        brand: Option<String>,
        publisher: Option<String>,
        price: Money,
        status: ProductStatus,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            seller_id,
            name,
            description,
            brand,
            publisher,
            price,
            status,
            sales_count: 0,
            view_count: 0,
            rating_count: 0,
            rating_sum: 0,
            rating_avg_x100: 0,
            deleted_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub id: VariantId,
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    /// The options as a JSON object (`{"color":"red"}`), as sent.
    pub options: String,
    /// Minor units added to the product's price (may be negative).
    pub price_delta: i64,
    pub stock: i64,
    pub initial_stock: i64,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<categories::Model> for Category {
    fn from(m: categories::Model) -> Self {
        Self {
            id: m.id.into(),
            parent_id: m.parent_id.map(Into::into),
            name: m.name,
            slug: m.slug,
            path: m.path,
            depth: m.depth,
            position: m.position,
            created_at: m.created_at,
        }
    }
}

impl From<Category> for categories::Model {
    fn from(c: Category) -> Self {
        Self {
            id: c.id.uuid(),
            parent_id: c.parent_id.map(CategoryId::uuid),
            name: c.name,
            slug: c.slug,
            path: c.path,
            depth: c.depth,
            position: c.position,
            created_at: c.created_at,
        }
    }
}

impl TryFrom<products::Model> for Product {
    type Error = StoreError;

    fn try_from(m: products::Model) -> StoreResult<Self> {
        let currency = Currency::parse(&m.currency).ok_or_else(|| {
            StoreError::Corrupt(format!("product {} has currency {:?}", m.id, m.currency))
        })?;
        let status = ProductStatus::parse(&m.status).ok_or_else(|| {
            StoreError::Corrupt(format!("product {} has status {:?}", m.id, m.status))
        })?;
        Ok(Self {
            id: m.id.into(),
            seller_id: m.seller_id.into(),
            name: m.name,
            description: m.description,
            brand: m.brand,
            publisher: m.publisher,
            price: Money::new(m.price, currency),
            status,
            sales_count: m.sales_count,
            view_count: m.view_count,
            rating_count: m.rating_count,
            rating_sum: m.rating_sum,
            rating_avg_x100: m.rating_avg_x100,
            deleted_at: m.deleted_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

impl From<Product> for products::Model {
    fn from(p: Product) -> Self {
        Self {
            id: p.id.uuid(),
            seller_id: p.seller_id.uuid(),
            name: p.name,
            description: p.description,
            brand: p.brand,
            publisher: p.publisher,
            price: p.price.minor(),
            currency: p.price.currency().as_str().to_owned(),
            status: p.status.as_str().to_owned(),
            sales_count: p.sales_count,
            view_count: p.view_count,
            rating_count: p.rating_count,
            rating_sum: p.rating_sum,
            rating_avg_x100: p.rating_avg_x100,
            deleted_at: p.deleted_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl From<variants::Model> for Variant {
    fn from(m: variants::Model) -> Self {
        Self {
            id: m.id.into(),
            product_id: m.product_id.into(),
            sku: m.sku,
            name: m.name,
            options: m.options,
            price_delta: m.price_delta,
            stock: m.stock,
            initial_stock: m.initial_stock,
            deleted_at: m.deleted_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl From<Variant> for variants::Model {
    fn from(v: Variant) -> Self {
        Self {
            id: v.id.uuid(),
            product_id: v.product_id.uuid(),
            sku: v.sku,
            name: v.name,
            options: v.options,
            price_delta: v.price_delta,
            stock: v.stock,
            initial_stock: v.initial_stock,
            deleted_at: v.deleted_at,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

pub(crate) fn products_from(rows: Vec<products::Model>) -> StoreResult<Vec<Product>> {
    rows.into_iter().map(Product::try_from).collect()
}
