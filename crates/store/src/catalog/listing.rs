use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use jangteo_core::catalog::ProductStatus;
use jangteo_core::ids::{CategoryId, ProductId, UserId};

use super::records::{Product, products_from};
use crate::entities::{product_categories, products};
use crate::{StoreResult, uuids};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductSort {
    Newest,
    PriceAsc,
    PriceDesc,
    Popularity,
    Rating,
}

/// Position after the last item of a page: the sort key and the id (the tie-break).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    pub key: i64,
    pub id: ProductId,
}

#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub statuses: Vec<ProductStatus>,
    pub seller_id: Option<UserId>,
    /// Products in any of these categories (the caller expands sub-categories).
    pub category_ids: Option<Vec<CategoryId>>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
}

impl ProductSort {
    /// The value of the sort key for `p`, as stored in cursors.
    pub fn key_of(self, p: &Product) -> i64 {
        match self {
            ProductSort::Newest => 0,
            ProductSort::PriceAsc | ProductSort::PriceDesc => p.price.minor(),
            ProductSort::Popularity => p.sales_count,
            ProductSort::Rating => i64::from(p.rating_avg_x100),
        }
    }
}

/// One keyset page. Every sort ends with the id so the order is total and a cursor names
/// exactly one position; each has a matching index (see the catalog migration).
///
/// Several statuses are read one status at a time and merged here: with `status IN (…)`
/// an index on (status, key, id) no longer yields rows in key order, and the engines sort
/// the whole status range instead (measured on SQLite with 100k products: 270 ms against
/// 0.5 ms per status).
pub async fn list_products(
    c: &impl ConnectionTrait,
    filter: &ProductFilter,
    sort: ProductSort,
    after: Option<ListCursor>,
    limit: u64,
) -> StoreResult<Vec<Product>> {
    if filter.statuses.len() <= 1 {
        return list_products_in(c, filter, sort, after, limit).await;
    }
    let mut merged = Vec::new();
    for status in &filter.statuses {
        let one = ProductFilter {
            statuses: vec![*status],
            ..filter.clone()
        };
        merged.extend(list_products_in(c, &one, sort, after, limit).await?);
    }
    merged.sort_by(|a, b| {
        let (ka, kb) = (sort.key_of(a), sort.key_of(b));
        match sort {
            ProductSort::PriceAsc => (ka, a.id).cmp(&(kb, b.id)),
            _ => (kb, b.id).cmp(&(ka, a.id)),
        }
    });
    merged.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(merged)
}

async fn list_products_in(
    c: &impl ConnectionTrait,
    filter: &ProductFilter,
    sort: ProductSort,
    after: Option<ListCursor>,
    limit: u64,
) -> StoreResult<Vec<Product>> {
    use products::Column as P;
    let mut q = products::Entity::find().filter(P::DeletedAt.is_null());
    match filter.statuses.as_slice() {
        [] => {}
        [one] => q = q.filter(P::Status.eq(one.as_str())),
        many => q = q.filter(P::Status.is_in(many.iter().map(|s| s.as_str()))),
    }
    if let Some(seller) = filter.seller_id {
        q = q.filter(P::SellerId.eq(seller.uuid()));
    }
    if let Some(min) = filter.min_price {
        q = q.filter(P::Price.gte(min));
    }
    if let Some(max) = filter.max_price {
        q = q.filter(P::Price.lte(max));
    }
    if let Some(cats) = &filter.category_ids {
        if cats.is_empty() {
            return Ok(Vec::new());
        }
        // EXISTS, not `id IN (SELECT …)`: the engine then walks the sort index and probes
        // each product's categories (2 ms on SQLite at 1M products), instead of first
        // materialising every product id of the category tree (150 ms and growing).
        q = q.filter(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(product_categories::Entity)
                .and_where(
                    Expr::col((
                        product_categories::Entity,
                        product_categories::Column::ProductId,
                    ))
                    .equals((products::Entity, P::Id)),
                )
                .and_where(product_categories::Column::CategoryId.is_in(uuids(cats)))
                .to_owned(),
        ));
    }
    let key_col = match sort {
        ProductSort::Newest => None,
        ProductSort::PriceAsc | ProductSort::PriceDesc => Some(P::Price),
        ProductSort::Popularity => Some(P::SalesCount),
        ProductSort::Rating => Some(P::RatingAvgX100),
    };
    let ascending = sort == ProductSort::PriceAsc;
    if let Some(cur) = after {
        q = q.filter(match (key_col, ascending) {
            (None, _) => Condition::all().add(P::Id.lt(cur.id.uuid())),
            (Some(k), true) => Condition::any().add(k.gt(cur.key)).add(
                Condition::all()
                    .add(k.eq(cur.key))
                    .add(P::Id.gt(cur.id.uuid())),
            ),
            (Some(k), false) => Condition::any().add(k.lt(cur.key)).add(
                Condition::all()
                    .add(k.eq(cur.key))
                    .add(P::Id.lt(cur.id.uuid())),
            ),
        });
    }
    q = match (key_col, ascending) {
        (None, _) => q.order_by_desc(P::Id),
        (Some(k), true) => q.order_by_asc(k).order_by_asc(P::Id),
        (Some(k), false) => q.order_by_desc(k).order_by_desc(P::Id),
    };
    products_from(q.limit(limit).all(c).await?)
}
