//! What catalog reads return: product details and listing summaries (what the api
//! shows), category trees and references.

use chrono::{DateTime, Utc};
use jangteo_core::catalog::{self as rules, ProductStatus};
use jangteo_store::entities::products;
use uuid::Uuid;

use crate::images::ImageView;
use crate::{ServiceError, ServiceResult};

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

pub(super) fn rating_average(p: &products::Model) -> f64 {
    f64::from(p.rating_avg_x100) / 100.0
}

pub(super) fn status_of(p: &products::Model) -> ServiceResult<ProductStatus> {
    ProductStatus::parse(&p.status).ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("unknown product status {:?}", p.status))
    })
}
