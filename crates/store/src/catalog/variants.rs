use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use jangteo_core::ids::{ProductId, VariantId};

use super::records::{Product, Variant};
use crate::entities::{products, variants};
use crate::{StoreError, StoreResult, uuids};

pub async fn insert_variant(c: &impl ConnectionTrait, v: Variant) -> StoreResult<()> {
    crate::insert_one(c, variants::Model::from(v).into_active_model()).await?;
    Ok(())
}

/// Many variants in one statement (bulk loads).
pub async fn insert_variants(c: &impl ConnectionTrait, rows: Vec<Variant>) -> StoreResult<()> {
    let rows = rows
        .into_iter()
        .map(|v| variants::Model::from(v).into_active_model())
        .collect();
    crate::insert_many(c, rows).await
}

pub async fn list_variants(
    c: &impl ConnectionTrait,
    product_id: ProductId,
) -> StoreResult<Vec<Variant>> {
    Ok(variants::Entity::find()
        .filter(variants::Column::ProductId.eq(product_id.uuid()))
        .filter(variants::Column::DeletedAt.is_null())
        .order_by_asc(variants::Column::Id)
        .all(c)
        .await?
        .into_iter()
        .map(Variant::from)
        .collect())
}

/// Live variants among `ids`, each with its product (None when the product is deleted), in
/// one statement: what a cart and a checkout price their lines from.
pub async fn find_variants_with_products(
    c: &impl ConnectionTrait,
    ids: &[VariantId],
) -> StoreResult<Vec<(Variant, Option<Product>)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let product = variants::Entity::belongs_to(products::Entity)
        .from(variants::Column::ProductId)
        .to(products::Column::Id)
        .on_condition(|_, right| {
            Expr::col((right, products::Column::DeletedAt))
                .is_null()
                .into_condition()
        })
        .into();
    variants::Entity::find()
        .join(JoinType::LeftJoin, product)
        .select_also(products::Entity)
        .filter(variants::Column::Id.is_in(uuids(ids)))
        .filter(variants::Column::DeletedAt.is_null())
        .all(c)
        .await?
        .into_iter()
        .map(|(v, p)| Ok((Variant::from(v), p.map(Product::try_from).transpose()?)))
        .collect()
}

pub async fn count_variants(c: &impl ConnectionTrait, product_id: ProductId) -> StoreResult<u64> {
    Ok(variants::Entity::find()
        .filter(variants::Column::ProductId.eq(product_id.uuid()))
        .filter(variants::Column::DeletedAt.is_null())
        .count(c)
        .await?)
}

pub async fn find_variant(
    c: &impl ConnectionTrait,
    product_id: ProductId,
    id: VariantId,
) -> StoreResult<Variant> {
    variants::Entity::find_by_id(id.uuid())
        .filter(variants::Column::ProductId.eq(product_id.uuid()))
        .filter(variants::Column::DeletedAt.is_null())
        .one(c)
        .await?
        .map(Variant::from)
        .ok_or(StoreError::NotFound)
}

pub async fn update_variant_details(
    c: &impl ConnectionTrait,
    id: VariantId,
    name: &str,
    options: &str,
    price_delta: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    variants::Entity::update_many()
        .col_expr(variants::Column::Name, Expr::value(name))
        .col_expr(variants::Column::Options, Expr::value(options))
        .col_expr(variants::Column::PriceDelta, Expr::value(price_delta))
        .col_expr(variants::Column::UpdatedAt, Expr::value(now))
        .filter(variants::Column::Id.eq(id.uuid()))
        .exec(c)
        .await?;
    Ok(())
}

/// Which of `ids` have at least one live variant with stock.
pub async fn products_in_stock(
    c: &impl ConnectionTrait,
    ids: &[ProductId],
) -> StoreResult<HashSet<ProductId>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows = variants::Entity::find()
        .select_only()
        .column(variants::Column::ProductId)
        .distinct()
        .filter(variants::Column::ProductId.is_in(uuids(ids)))
        .filter(variants::Column::DeletedAt.is_null())
        .filter(variants::Column::Stock.gt(0))
        .into_tuple::<Uuid>()
        .all(c)
        .await?;
    Ok(rows.into_iter().map(ProductId::from).collect())
}
