use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};

use jangteo_core::ids::{CategoryId, ProductId};

use super::records::{Product, products_from};
use crate::entities::{product_categories, products};
use crate::{StoreError, StoreResult, uuids};

pub async fn insert_product(c: &impl ConnectionTrait, p: Product) -> StoreResult<()> {
    crate::insert_one(c, products::Model::from(p).into_active_model()).await?;
    Ok(())
}

/// Many products in one statement (bulk loads such as `jangteo seed`; see
/// [`crate::insert_many`] for the batch size).
pub async fn insert_products(c: &impl ConnectionTrait, rows: Vec<Product>) -> StoreResult<()> {
    let rows = rows
        .into_iter()
        .map(|p| products::Model::from(p).into_active_model())
        .collect();
    crate::insert_many(c, rows).await
}

/// Many product ↔ category links in one statement (bulk loads).
pub async fn insert_category_links(
    c: &impl ConnectionTrait,
    links: &[(ProductId, CategoryId)],
) -> StoreResult<()> {
    let rows = links
        .iter()
        .map(|&(p, cat)| {
            product_categories::Model {
                product_id: p.uuid(),
                category_id: cat.uuid(),
            }
            .into_active_model()
        })
        .collect();
    crate::insert_many(c, rows).await
}

/// A product that is not soft-deleted.
pub async fn find_product(c: &impl ConnectionTrait, id: ProductId) -> StoreResult<Product> {
    products::Entity::find_by_id(id.uuid())
        .filter(products::Column::DeletedAt.is_null())
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

pub async fn find_products(
    c: &impl ConnectionTrait,
    ids: &[ProductId],
) -> StoreResult<Vec<Product>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    products_from(
        products::Entity::find()
            .filter(products::Column::Id.is_in(uuids(ids)))
            .filter(products::Column::DeletedAt.is_null())
            .all(c)
            .await?,
    )
}

/// Writes the editable fields of `p` (everything but counters, currency and creation time).
pub async fn update_product(c: &impl ConnectionTrait, p: Product) -> StoreResult<()> {
    let res = products::Entity::update_many()
        .col_expr(products::Column::Name, Expr::value(p.name))
        .col_expr(products::Column::Description, Expr::value(p.description))
        .col_expr(products::Column::Brand, Expr::value(p.brand))
        .col_expr(products::Column::Publisher, Expr::value(p.publisher))
        .col_expr(products::Column::Price, Expr::value(p.price.minor()))
        .col_expr(products::Column::Status, Expr::value(p.status.as_str()))
        .col_expr(products::Column::UpdatedAt, Expr::value(p.updated_at))
        .filter(products::Column::Id.eq(p.id.uuid()))
        .filter(products::Column::DeletedAt.is_null())
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

pub async fn soft_delete_product(
    c: &impl ConnectionTrait,
    id: ProductId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let res = products::Entity::update_many()
        .col_expr(products::Column::DeletedAt, Expr::value(now))
        .col_expr(products::Column::UpdatedAt, Expr::value(now))
        .filter(products::Column::Id.eq(id.uuid()))
        .filter(products::Column::DeletedAt.is_null())
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

/// Puts an ON_SALE product whose live variants have no stock left to SOLD_OUT, or a
/// SOLD_OUT one with stock again back to ON_SALE; returns the new status when it changed.
/// Each move is one conditional UPDATE that reads the committed stock, so run it after the
/// stock change committed: of two orders taking the last units of two variants, the
/// later commit's check sees both.
pub async fn sync_sold_out(
    c: &impl ConnectionTrait,
    id: ProductId,
    at: DateTime<Utc>,
) -> StoreResult<Option<jangteo_core::catalog::ProductStatus>> {
    use jangteo_core::catalog::ProductStatus;
    use sea_orm::sea_query::{ExprTrait, Query};

    use crate::entities::variants;

    let in_stock = || {
        Query::select()
            .expr(Expr::val(1))
            .from(variants::Entity)
            .and_where(Expr::col((variants::Entity, variants::Column::ProductId)).eq(id.uuid()))
            .and_where(Expr::col((variants::Entity, variants::Column::DeletedAt)).is_null())
            .and_where(Expr::col((variants::Entity, variants::Column::Stock)).gt(0))
            .to_owned()
    };
    for (from, to, exists) in [
        (ProductStatus::OnSale, ProductStatus::SoldOut, false),
        (ProductStatus::SoldOut, ProductStatus::OnSale, true),
    ] {
        let cond = if exists {
            Expr::exists(in_stock())
        } else {
            Expr::exists(in_stock()).not()
        };
        let moved = products::Entity::update_many()
            .col_expr(products::Column::Status, Expr::value(to.as_str()))
            .col_expr(products::Column::UpdatedAt, Expr::value(at))
            .filter(products::Column::Id.eq(id.uuid()))
            .filter(products::Column::Status.eq(from.as_str()))
            .filter(products::Column::DeletedAt.is_null())
            .filter(cond)
            .exec(c)
            .await?
            .rows_affected;
        if moved == 1 {
            return Ok(Some(to));
        }
    }
    Ok(None)
}
