//! What catalog writes and listings take, as the api parsed it (not yet validated).

use jangteo_core::catalog::ProductStatus;
use jangteo_core::ids::{CategoryId, UserId};
use jangteo_store::catalog::ProductSort;

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
    pub category_ids: Option<&'a [CategoryId]>,
    pub variants: Option<Vec<VariantInput<'a>>>,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub category_id: Option<CategoryId>,
    pub seller_id: Option<UserId>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub statuses: Vec<ProductStatus>,
    pub sort: Option<ProductSort>,
    pub after: Option<String>,
    pub limit: u64,
}
