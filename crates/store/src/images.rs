//! Product images: rows that point at files in the object store, ordered by position.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::StoreResult;
use crate::entities::{product_images, products};

/// Serialises image changes of one product: the first statement of the caller's transaction
/// updates the product row, which holds its row lock (PostgreSQL, MySQL) or the write lock
/// (SQLite) until commit, so two uploads cannot both take the last free slot. Fails with
/// NotFound for a missing or deleted product.
pub async fn lock_product(
    c: &impl ConnectionTrait,
    product_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let res = products::Entity::update_many()
        .col_expr(products::Column::UpdatedAt, Expr::value(now))
        .filter(products::Column::Id.eq(product_id))
        .filter(products::Column::DeletedAt.is_null())
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

pub async fn insert_image(c: &impl ConnectionTrait, row: product_images::Model) -> StoreResult<()> {
    crate::insert_one(c, row.into_active_model()).await
}

/// A product's images, cover first.
pub async fn list_images(
    c: &impl ConnectionTrait,
    product_id: Uuid,
) -> StoreResult<Vec<product_images::Model>> {
    Ok(product_images::Entity::find()
        .filter(product_images::Column::ProductId.eq(product_id))
        .order_by_asc(product_images::Column::Position)
        .order_by_asc(product_images::Column::Id)
        .all(c)
        .await?)
}

/// The cover (first) image of each of the given products that has one.
pub async fn covers(
    c: &impl ConnectionTrait,
    product_ids: &[Uuid],
) -> StoreResult<Vec<product_images::Model>> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let all = product_images::Entity::find()
        .filter(product_images::Column::ProductId.is_in(product_ids.to_vec()))
        .order_by_asc(product_images::Column::ProductId)
        .order_by_asc(product_images::Column::Position)
        .order_by_asc(product_images::Column::Id)
        .all(c)
        .await?;
    let mut out: Vec<product_images::Model> = Vec::new();
    for img in all {
        if out
            .last()
            .is_none_or(|last| last.product_id != img.product_id)
        {
            out.push(img);
        }
    }
    Ok(out)
}

pub async fn delete_image(
    c: &impl ConnectionTrait,
    product_id: Uuid,
    image_id: Uuid,
) -> StoreResult<product_images::Model> {
    let row = product_images::Entity::find_by_id(image_id)
        .filter(product_images::Column::ProductId.eq(product_id))
        .one(c)
        .await?
        .ok_or(crate::StoreError::NotFound)?;
    let res = product_images::Entity::delete_by_id(image_id)
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)?;
    Ok(row)
}

pub async fn set_position(
    c: &impl ConnectionTrait,
    image_id: Uuid,
    position: i32,
) -> StoreResult<()> {
    let res = product_images::Entity::update_many()
        .col_expr(product_images::Column::Position, Expr::value(position))
        .filter(product_images::Column::Id.eq(image_id))
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

/// Up to `limit` images of soft-deleted products: their files are swept, then the rows.
pub async fn images_of_deleted_products(
    c: &impl ConnectionTrait,
    limit: u64,
) -> StoreResult<Vec<product_images::Model>> {
    use sea_orm::{QuerySelect, QueryTrait};
    let deleted = products::Entity::find()
        .select_only()
        .column(products::Column::Id)
        .filter(products::Column::DeletedAt.is_not_null())
        .into_query();
    Ok(product_images::Entity::find()
        .filter(product_images::Column::ProductId.in_subquery(deleted))
        .order_by_asc(product_images::Column::Id)
        .limit(limit)
        .all(c)
        .await?)
}

pub async fn delete_image_row(c: &impl ConnectionTrait, image_id: Uuid) -> StoreResult<()> {
    product_images::Entity::delete_by_id(image_id)
        .exec(c)
        .await?;
    Ok(())
}

/// Which of `keys` some image row points at.
pub async fn existing_keys(
    c: &impl ConnectionTrait,
    keys: &[String],
) -> StoreResult<std::collections::HashSet<String>> {
    use sea_orm::QuerySelect;
    if keys.is_empty() {
        return Ok(Default::default());
    }
    Ok(product_images::Entity::find()
        .select_only()
        .column(product_images::Column::ObjectKey)
        .filter(product_images::Column::ObjectKey.is_in(keys.to_vec()))
        .into_tuple::<String>()
        .all(c)
        .await?
        .into_iter()
        .collect())
}
