use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use jangteo_core::ids::{CategoryId, ProductId};

use super::records::Category;
use crate::entities::{categories, product_categories};
use crate::{StoreError, StoreResult, uuids};

pub async fn insert_category(c: &impl ConnectionTrait, cat: Category) -> StoreResult<()> {
    crate::insert_one(c, categories::Model::from(cat).into_active_model()).await?;
    Ok(())
}

pub async fn find_category(c: &impl ConnectionTrait, id: CategoryId) -> StoreResult<Category> {
    categories::Entity::find_by_id(id.uuid())
        .one(c)
        .await?
        .map(Category::from)
        .ok_or(StoreError::NotFound)
}

/// Every category, parents before children (ordered by materialised path).
pub async fn list_categories(c: &impl ConnectionTrait) -> StoreResult<Vec<Category>> {
    Ok(categories::Entity::find()
        .order_by_asc(categories::Column::Depth)
        .order_by_asc(categories::Column::Position)
        .order_by_asc(categories::Column::Name)
        .all(c)
        .await?
        .into_iter()
        .map(Category::from)
        .collect())
}

pub async fn find_categories(
    c: &impl ConnectionTrait,
    ids: &[CategoryId],
) -> StoreResult<Vec<Category>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(categories::Entity::find()
        .filter(categories::Column::Id.is_in(uuids(ids)))
        .all(c)
        .await?
        .into_iter()
        .map(Category::from)
        .collect())
}

/// Ids of a category and all its descendants.
pub async fn subtree_ids(
    c: &impl ConnectionTrait,
    root: &Category,
) -> StoreResult<Vec<CategoryId>> {
    let rows = categories::Entity::find()
        .select_only()
        .column(categories::Column::Id)
        .filter(categories::Column::Path.starts_with(&root.path))
        .into_tuple::<Uuid>()
        .all(c)
        .await?;
    Ok(rows.into_iter().map(CategoryId::from).collect())
}

pub async fn rename_category(
    c: &impl ConnectionTrait,
    id: CategoryId,
    name: &str,
) -> StoreResult<Category> {
    let mut cat = categories::Entity::find_by_id(id.uuid())
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)?
        .into_active_model();
    cat.name = Set(name.to_owned());
    Ok(cat.update(c).await?.into())
}

// ---- product ↔ category links -------------------------------------------------------------

pub async fn set_product_categories(
    c: &impl ConnectionTrait,
    product_id: ProductId,
    ids: &[CategoryId],
) -> StoreResult<()> {
    product_categories::Entity::delete_many()
        .filter(product_categories::Column::ProductId.eq(product_id.uuid()))
        .exec(c)
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let rows = ids.iter().map(|&category_id| {
        product_categories::Model {
            product_id: product_id.uuid(),
            category_id: category_id.uuid(),
        }
        .into_active_model()
    });
    product_categories::Entity::insert_many(rows)
        .exec_without_returning(c)
        .await?;
    Ok(())
}

pub async fn product_category_ids(
    c: &impl ConnectionTrait,
    product_id: ProductId,
) -> StoreResult<Vec<CategoryId>> {
    Ok(product_categories::Entity::find()
        .select_only()
        .column(product_categories::Column::CategoryId)
        .filter(product_categories::Column::ProductId.eq(product_id.uuid()))
        .into_tuple::<Uuid>()
        .all(c)
        .await?
        .into_iter()
        .map(CategoryId::from)
        .collect())
}

/// Products filed under any of the given categories (e.g. a renamed one and its
/// descendants).
pub async fn products_in_categories(
    c: &impl ConnectionTrait,
    category_ids: &[CategoryId],
) -> StoreResult<Vec<ProductId>> {
    if category_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(product_categories::Entity::find()
        .select_only()
        .column(product_categories::Column::ProductId)
        .distinct()
        .filter(product_categories::Column::CategoryId.is_in(uuids(category_ids)))
        .into_tuple::<Uuid>()
        .all(c)
        .await?
        .into_iter()
        .map(ProductId::from)
        .collect())
}

/// (product, category) links of the given products.
pub async fn category_links(
    c: &impl ConnectionTrait,
    product_ids: &[ProductId],
) -> StoreResult<Vec<(ProductId, CategoryId)>> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(product_categories::Entity::find()
        .select_only()
        .columns([
            product_categories::Column::ProductId,
            product_categories::Column::CategoryId,
        ])
        .filter(product_categories::Column::ProductId.is_in(uuids(product_ids)))
        .into_tuple::<(Uuid, Uuid)>()
        .all(c)
        .await?
        .into_iter()
        .map(|(p, cat)| (p.into(), cat.into()))
        .collect())
}
