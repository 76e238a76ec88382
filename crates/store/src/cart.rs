//! Carts and their lines. One line per (user, variant): adding a variant already in the
//! cart adds to its quantity in one upsert. Every change also stamps `carts.updated_at`,
//! from which a cart expires.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QueryTrait,
};

use jangteo_core::ids::{UserId, VariantId};

use crate::entities::{cart_lines as lines, carts};
use crate::{Batch, StoreResult, uuids};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub variant_id: VariantId,
    pub quantity: i64,
    pub selected: bool,
    pub created_at: DateTime<Utc>,
}

impl From<lines::Model> for CartLine {
    fn from(m: lines::Model) -> Self {
        Self {
            variant_id: m.variant_id.into(),
            quantity: m.quantity,
            selected: m.selected,
            created_at: m.created_at,
        }
    }
}

/// When the user's cart last changed, if they have one.
pub async fn last_change(
    c: &impl ConnectionTrait,
    user: UserId,
) -> StoreResult<Option<DateTime<Utc>>> {
    Ok(carts::Entity::find_by_id(user.uuid())
        .one(c)
        .await?
        .map(|m| m.updated_at))
}

/// Creates the cart or stamps its last change.
pub async fn touch(c: &impl ConnectionTrait, user: UserId, now: DateTime<Utc>) -> StoreResult<()> {
    carts::Entity::insert(
        carts::Model {
            user_id: user.uuid(),
            updated_at: now,
        }
        .into_active_model(),
    )
    .on_conflict(
        OnConflict::column(carts::Column::UserId)
            .update_column(carts::Column::UpdatedAt)
            .to_owned(),
    )
    .exec_without_returning(c)
    .await?;
    Ok(())
}

/// Stamps the cart's last change `now` if it last changed after `live_after` (it is live);
/// `false` when there is no such cart (none, or an expired one).
pub async fn touch_live(
    c: &impl ConnectionTrait,
    user: UserId,
    now: DateTime<Utc>,
    live_after: DateTime<Utc>,
) -> StoreResult<bool> {
    // MySQL counts the rows matched, not only those changed (SQLx asks for FOUND_ROWS), so
    // a stamp equal to the stored one still reports the cart.
    Ok(carts::Entity::update_many()
        .col_expr(carts::Column::UpdatedAt, Expr::value(now))
        .filter(carts::Column::UserId.eq(user.uuid()))
        .filter(carts::Column::UpdatedAt.gt(live_after))
        .exec(c)
        .await?
        .rows_affected
        == 1)
}

/// The cart's lines, oldest first.
pub async fn lines(c: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<CartLine>> {
    Ok(lines::Entity::find()
        .filter(lines::Column::UserId.eq(user.uuid()))
        .order_by_asc(lines::Column::CreatedAt)
        .order_by_asc(lines::Column::VariantId)
        .all(c)
        .await?
        .into_iter()
        .map(CartLine::from)
        .collect())
}

pub async fn line(
    c: &impl ConnectionTrait,
    user: UserId,
    variant: VariantId,
) -> StoreResult<Option<CartLine>> {
    Ok(lines::Entity::find_by_id((user.uuid(), variant.uuid()))
        .one(c)
        .await?
        .map(CartLine::from))
}

/// Adds `quantity` of `variant` (a new line, or more of an existing one, selected either
/// way: a shopper who adds a product means to buy it) and returns the line's quantity now.
/// Call [`touch`] first: the line refers to the cart. SQLite and PostgreSQL return the
/// quantity from the upsert itself; MySQL has no `RETURNING` and reads the line back.
pub async fn add(
    c: &impl ConnectionTrait,
    user: UserId,
    variant: VariantId,
    quantity: i64,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let table = Alias::new("cart_lines");
    let insert = lines::Entity::insert(
        lines::Model {
            user_id: user.uuid(),
            variant_id: variant.uuid(),
            quantity,
            selected: true,
            created_at: now,
        }
        .into_active_model(),
    )
    .on_conflict(
        OnConflict::columns([lines::Column::UserId, lines::Column::VariantId])
            .value(
                lines::Column::Quantity,
                Expr::col((table, lines::Column::Quantity)).add(quantity),
            )
            .value(lines::Column::Selected, Expr::value(true))
            .to_owned(),
    );
    if c.get_database_backend() == sea_orm::DbBackend::MySql {
        insert.exec_without_returning(c).await?;
        return Ok(line(c, user, variant).await?.map_or(0, |l| l.quantity));
    }
    let mut stmt = insert.into_query();
    stmt.returning_col(lines::Column::Quantity);
    Ok(match c.query_one(&stmt).await? {
        Some(row) => row.try_get::<i64>("", "quantity")?,
        None => 0,
    })
}

/// Changes a line's quantity and/or selection; `false` when the cart has no such line.
pub async fn update_line(
    c: &impl ConnectionTrait,
    user: UserId,
    variant: VariantId,
    quantity: Option<i64>,
    selected: Option<bool>,
) -> StoreResult<bool> {
    if quantity.is_none() && selected.is_none() {
        return Ok(line(c, user, variant).await?.is_some());
    }
    let mut update = lines::Entity::update_many()
        .filter(lines::Column::UserId.eq(user.uuid()))
        .filter(lines::Column::VariantId.eq(variant.uuid()));
    if let Some(q) = quantity {
        update = update.col_expr(lines::Column::Quantity, Expr::value(q));
    }
    if let Some(s) = selected {
        update = update.col_expr(lines::Column::Selected, Expr::value(s));
    }
    Ok(update.exec(c).await?.rows_affected == 1)
}

/// Selects exactly `variants` (the other lines are deselected); returns how many of them
/// are lines of the cart.
pub async fn select_only(
    c: &impl ConnectionTrait,
    user: UserId,
    variants: &[VariantId],
) -> StoreResult<u64> {
    lines::Entity::update_many()
        .col_expr(lines::Column::Selected, Expr::value(false))
        .filter(lines::Column::UserId.eq(user.uuid()))
        .exec(c)
        .await?;
    if variants.is_empty() {
        return Ok(0);
    }
    Ok(lines::Entity::update_many()
        .col_expr(lines::Column::Selected, Expr::value(true))
        .filter(lines::Column::UserId.eq(user.uuid()))
        .filter(lines::Column::VariantId.is_in(uuids(variants)))
        .exec(c)
        .await?
        .rows_affected)
}

/// Removes one line; `false` when there was none.
pub async fn remove(
    c: &impl ConnectionTrait,
    user: UserId,
    variant: VariantId,
) -> StoreResult<bool> {
    Ok(lines::Entity::delete_many()
        .filter(lines::Column::UserId.eq(user.uuid()))
        .filter(lines::Column::VariantId.eq(variant.uuid()))
        .exec(c)
        .await?
        .rows_affected
        == 1)
}

/// Removes every line of the cart.
pub async fn clear(c: &impl ConnectionTrait, user: UserId) -> StoreResult<u64> {
    Ok(lines::Entity::delete_many()
        .filter(lines::Column::UserId.eq(user.uuid()))
        .exec(c)
        .await?
        .rows_affected)
}

/// Removes the selected lines; returns how many.
pub async fn remove_selected(c: &impl ConnectionTrait, user: UserId) -> StoreResult<u64> {
    Ok(lines::Entity::delete_many()
        .filter(lines::Column::UserId.eq(user.uuid()))
        .filter(lines::Column::Selected.eq(true))
        .exec(c)
        .await?
        .rows_affected)
}

/// Deletes carts (and their lines) whose last change was at or before `cutoff`; returns
/// how many carts.
pub async fn expire_before(c: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> StoreResult<u64> {
    let stale = Query::select()
        .column(carts::Column::UserId)
        .from(carts::Entity)
        .and_where(Expr::col(carts::Column::UpdatedAt).lte(cutoff))
        .to_owned();
    lines::Entity::delete_many()
        .filter(lines::Column::UserId.in_subquery(stale))
        .exec(c)
        .await?;
    Ok(carts::Entity::delete_many()
        .filter(carts::Column::UpdatedAt.lte(cutoff))
        .exec(c)
        .await?
        .rows_affected)
}

/// Removes the lines an order took, each only while it still holds the quantity ordered
/// (a line the buyer changed meanwhile stays): one statement, added to a batch that runs
/// later in the transaction.
pub fn remove_ordered_into(
    batch: &mut Batch,
    backend: sea_orm::DbBackend,
    user: UserId,
    ordered: &[(VariantId, i64)],
) {
    if ordered.is_empty() {
        return;
    }
    let mut any = sea_orm::Condition::any();
    for (variant, quantity) in ordered {
        any = any.add(
            sea_orm::Condition::all()
                .add(lines::Column::VariantId.eq(variant.uuid()))
                .add(lines::Column::Quantity.eq(*quantity)),
        );
    }
    batch.push(
        lines::Entity::delete_many()
            .filter(lines::Column::UserId.eq(user.uuid()))
            .filter(any)
            .build(backend),
    );
}
