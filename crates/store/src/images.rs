//! Product images: rows that point at files in the object store, ordered by position.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

use jangteo_core::ids::{ImageId, ProductId};

use crate::entities::{product_images, products};
use crate::{StoreResult, uuids};

/// One image of a product, as stored (its file lives in the object store under `object_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: ImageId,
    pub product_id: ProductId,
    pub position: i32,
    pub object_key: String,
    pub content_type: String,
    pub byte_size: i64,
    pub width: i32,
    pub height: i32,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<product_images::Model> for Image {
    fn from(m: product_images::Model) -> Self {
        Self {
            id: m.id.into(),
            product_id: m.product_id.into(),
            position: m.position,
            object_key: m.object_key,
            content_type: m.content_type,
            byte_size: m.byte_size,
            width: m.width,
            height: m.height,
            sha256: m.sha256,
            created_at: m.created_at,
        }
    }
}

impl From<Image> for product_images::Model {
    fn from(i: Image) -> Self {
        Self {
            id: i.id.uuid(),
            product_id: i.product_id.uuid(),
            position: i.position,
            object_key: i.object_key,
            content_type: i.content_type,
            byte_size: i.byte_size,
            width: i.width,
            height: i.height,
            sha256: i.sha256,
            created_at: i.created_at,
        }
    }
}

fn images(rows: Vec<product_images::Model>) -> Vec<Image> {
    rows.into_iter().map(Image::from).collect()
}

/// Serialises image changes of one product: the first statement of the caller's transaction
/// updates the product row, which holds its row lock (PostgreSQL, MySQL) or the write lock
/// (SQLite) until commit, so two uploads cannot both take the last free slot. Fails with
/// NotFound for a missing or deleted product.
pub async fn lock_product(
    c: &impl ConnectionTrait,
    product_id: ProductId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let res = products::Entity::update_many()
        .col_expr(products::Column::UpdatedAt, Expr::value(now))
        .filter(products::Column::Id.eq(product_id.uuid()))
        .filter(products::Column::DeletedAt.is_null())
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

pub async fn insert_image(c: &impl ConnectionTrait, row: Image) -> StoreResult<()> {
    crate::insert_one(c, product_images::Model::from(row).into_active_model()).await
}

/// A product's images, cover first.
pub async fn list_images(
    c: &impl ConnectionTrait,
    product_id: ProductId,
) -> StoreResult<Vec<Image>> {
    Ok(images(
        product_images::Entity::find()
            .filter(product_images::Column::ProductId.eq(product_id.uuid()))
            .order_by_asc(product_images::Column::Position)
            .order_by_asc(product_images::Column::Id)
            .all(c)
            .await?,
    ))
}

/// The cover (first) image of each of the given products that has one.
pub async fn covers(
    c: &impl ConnectionTrait,
    product_ids: &[ProductId],
) -> StoreResult<Vec<Image>> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let all = product_images::Entity::find()
        .filter(product_images::Column::ProductId.is_in(uuids(product_ids)))
        .order_by_asc(product_images::Column::ProductId)
        .order_by_asc(product_images::Column::Position)
        .order_by_asc(product_images::Column::Id)
        .all(c)
        .await?;
    let mut out: Vec<Image> = Vec::new();
    for img in images(all) {
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
    product_id: ProductId,
    image_id: ImageId,
) -> StoreResult<Image> {
    let row = product_images::Entity::find_by_id(image_id.uuid())
        .filter(product_images::Column::ProductId.eq(product_id.uuid()))
        .one(c)
        .await?
        .ok_or(crate::StoreError::NotFound)?;
    let res = product_images::Entity::delete_by_id(image_id.uuid())
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)?;
    Ok(row.into())
}

pub async fn set_position(
    c: &impl ConnectionTrait,
    image_id: ImageId,
    position: i32,
) -> StoreResult<()> {
    let res = product_images::Entity::update_many()
        .col_expr(product_images::Column::Position, Expr::value(position))
        .filter(product_images::Column::Id.eq(image_id.uuid()))
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

/// Up to `limit` images of soft-deleted products: their files are swept, then the rows.
pub async fn images_of_deleted_products(
    c: &impl ConnectionTrait,
    limit: u64,
) -> StoreResult<Vec<Image>> {
    use sea_orm::{QuerySelect, QueryTrait};
    let deleted = products::Entity::find()
        .select_only()
        .column(products::Column::Id)
        .filter(products::Column::DeletedAt.is_not_null())
        .into_query();
    Ok(images(
        product_images::Entity::find()
            .filter(product_images::Column::ProductId.in_subquery(deleted))
            .order_by_asc(product_images::Column::Id)
            .limit(limit)
            .all(c)
            .await?,
    ))
}

pub async fn delete_image_row(c: &impl ConnectionTrait, image_id: ImageId) -> StoreResult<()> {
    product_images::Entity::delete_by_id(image_id.uuid())
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
