//! Keyset listings of products, and summaries by id (search results use them).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use jangteo_core::Role;
use jangteo_core::catalog::ProductStatus;
use jangteo_core::ids::ProductId;
use jangteo_store::catalog::{self as store, Product, ProductFilter, ProductSort};

use super::*;
use crate::error::NotFoundAs;
use crate::images::ImageView;
use crate::tokens::Principal;
use crate::{ServiceError, ServiceResult};

impl Catalog<'_> {
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
                    let root = store::find_category(&self.s.reader, cid)
                        .await
                        .not_found_as("category")?;
                    Some(store::subtree_ids(&self.s.reader, &root).await?)
                }
            };
            let filter = ProductFilter {
                statuses: statuses.clone(),
                seller_id: q.seller_id,
                category_ids,
                min_price: q.min_price,
                max_price: q.max_price,
            };
            let rows = store::list_products(&self.s.reader, &filter, sort, after, q.limit).await?;
            self.summaries(rows, sort).await
        };
        let items = match cache_key {
            // Concurrent misses of one key run the query once; the others wait for it.
            Some(key) => self
                .s
                .catalog_cache
                .pages
                .get_or_load(&key, Box::pin(async { load.await.map(Arc::new) }))
                .await?
                .as_ref()
                .clone(),
            None => load.await?,
        };
        Ok(page_with_cursor(items, q.limit))
    }

    /// Listing summaries of the given products (any order; missing ones skipped).
    pub async fn summaries_by_id(&self, ids: &[ProductId]) -> ServiceResult<Vec<ProductSummary>> {
        let rows = store::find_products(&self.s.reader, ids).await?;
        self.summaries(rows, ProductSort::Newest).await
    }

    pub(super) async fn summaries(
        &self,
        rows: Vec<Product>,
        sort: ProductSort,
    ) -> ServiceResult<Vec<ProductSummary>> {
        let ids: Vec<ProductId> = rows.iter().map(|p| p.id).collect();
        let stocked = store::products_in_stock(&self.s.reader, &ids).await?;
        let mut covers = jangteo_store::images::covers(&self.s.reader, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|p| {
                let cover = covers
                    .iter()
                    .position(|c| c.product_id == p.id)
                    .map(|i| ImageView::from_row(&self.s.image_settings, covers.swap_remove(i)));
                ProductSummary {
                    cover,
                    status: p.status,
                    rating_average: rating_average(&p),
                    in_stock: stocked.contains(&p.id),
                    cursor: encode_cursor(sort.key_of(&p), p.id),
                    id: p.id,
                    seller_id: p.seller_id,
                    name: p.name,
                    brand: p.brand,
                    price: p.price,
                    rating_count: p.rating_count,
                    sales_count: p.sales_count,
                    created_at: p.created_at,
                }
            })
            .collect())
    }
}
