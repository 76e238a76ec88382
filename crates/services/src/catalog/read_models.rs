//! What catalog reads return: product details and listing summaries (what the api
//! shows), category trees and references.

use chrono::{DateTime, Utc};
use jangteo_core::catalog::{self as rules, ProductStatus};
use jangteo_core::ids::{CategoryId, ProductId, UserId, VariantId};
use jangteo_core::money::Money;
use jangteo_store::catalog::Product;

use crate::images::ImageView;

#[derive(Debug, Clone)]
pub struct CategoryNode {
    pub id: CategoryId,
    pub name: String,
    pub slug: String,
    pub children: Vec<CategoryNode>,
}

#[derive(Debug, Clone)]
pub struct CategoryRef {
    pub id: CategoryId,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Clone)]
pub struct VariantView {
    pub id: VariantId,
    pub sku: String,
    pub name: String,
    pub options: serde_json::Value,
    pub price_delta: i64,
    /// The product's price plus the delta.
    pub price: Money,
    pub stock: i64,
}

#[derive(Debug, Clone)]
pub struct ProductDetail {
    pub id: ProductId,
    pub seller_id: UserId,
    pub name: String,
    pub description: String,
    pub brand: Option<String>,
    pub publisher: Option<String>,
    pub price: Money,
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
    pub id: ProductId,
    pub seller_id: UserId,
    pub name: String,
    pub brand: Option<String>,
    pub price: Money,
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

pub(super) fn rating_average(p: &Product) -> f64 {
    f64::from(p.rating_avg_x100) / 100.0
}
