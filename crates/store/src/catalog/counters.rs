use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use jangteo_core::catalog::ProductStatus;
use jangteo_core::ids::{CategoryId, ProductId, UserId};

use crate::entities::{product_categories, product_sales_daily, products};
use crate::{Batch, StoreResult, uuids};

// ---- sales --------------------------------------------------------------------------------

/// Adds `units` sold on `day` (days since the epoch) and to the product's running total.
pub async fn record_sale(
    c: &impl ConnectionTrait,
    product_id: ProductId,
    day: i32,
    units: i64,
) -> StoreResult<()> {
    let mut batch = Batch::default();
    record_sale_into(&mut batch, c.get_database_backend(), product_id, day, units);
    batch.run(c).await
}

/// [`record_sale`], added to a batch (a relay round counts many products at once).
pub fn record_sale_into(
    batch: &mut Batch,
    backend: sea_orm::DbBackend,
    product_id: ProductId,
    day: i32,
    units: i64,
) {
    let product_id = product_id.uuid();
    let table = Alias::new("product_sales_daily");
    // The product's row first: the daily row's foreign key takes a shared lock on it, and
    // a shared lock upgraded to the update's exclusive one deadlocks on InnoDB with any
    // other writer of the product (its sold-out switch) that queued in between.
    batch.push(
        products::Entity::update_many()
            .col_expr(
                products::Column::SalesCount,
                Expr::col(products::Column::SalesCount).add(units),
            )
            .filter(products::Column::Id.eq(product_id))
            .build(backend),
    );
    batch.push(
        product_sales_daily::Entity::insert(
            product_sales_daily::Model {
                product_id,
                day,
                units,
            }
            .into_active_model(),
        )
        .on_conflict(
            OnConflict::columns([
                product_sales_daily::Column::ProductId,
                product_sales_daily::Column::Day,
            ])
            .value(
                product_sales_daily::Column::Units,
                Expr::col((table, product_sales_daily::Column::Units)).add(units),
            )
            .to_owned(),
        )
        .build(backend),
    );
}

/// Product ids by units sold on days `>= since_day`, most first; optionally only products
/// in the given categories. Only products on sale count.
pub async fn top_sellers(
    c: &impl ConnectionTrait,
    since_day: i32,
    category_ids: Option<&[CategoryId]>,
    limit: u64,
) -> StoreResult<Vec<(ProductId, i64)>> {
    use product_categories::Column as PC;
    use product_sales_daily::Column as S;
    use products::Column as P;
    let backend = c.get_database_backend();
    let sum = Func::sum(Expr::col((product_sales_daily::Entity, S::Units)));
    // SUM over BIGINT is NUMERIC on PostgreSQL and DECIMAL on MySQL: cast it back to a
    // 64-bit integer, in each engine's name for that type.
    let total: Expr = match backend {
        DbBackend::Postgres => Func::cast_as(sum, Alias::new("BIGINT")).into(),
        DbBackend::MySql => Func::cast_as(sum, Alias::new("SIGNED")).into(),
        _ => sum.into(),
    };
    let mut q = Query::select();
    q.column((product_sales_daily::Entity, S::ProductId))
        .expr_as(total.clone(), Alias::new("units"))
        .from(product_sales_daily::Entity)
        .inner_join(
            products::Entity,
            Expr::col((products::Entity, P::Id))
                .equals((product_sales_daily::Entity, S::ProductId)),
        )
        .and_where(Expr::col((product_sales_daily::Entity, S::Day)).gte(since_day))
        .and_where(Expr::col((products::Entity, P::DeletedAt)).is_null())
        .and_where(Expr::col((products::Entity, P::Status)).eq(ProductStatus::OnSale.as_str()))
        .group_by_col((product_sales_daily::Entity, S::ProductId))
        .order_by_expr(total, Order::Desc)
        .order_by((product_sales_daily::Entity, S::ProductId), Order::Desc)
        .limit(limit);
    if let Some(cats) = category_ids {
        if cats.is_empty() {
            return Ok(Vec::new());
        }
        q.and_where(
            Expr::col((product_sales_daily::Entity, S::ProductId)).in_subquery(
                Query::select()
                    .column(PC::ProductId)
                    .from(product_categories::Entity)
                    .and_where(Expr::col(PC::CategoryId).is_in(uuids(cats)))
                    .to_owned(),
            ),
        );
    }
    let rows = c.query_all_raw(backend.build(&q)).await?;
    rows.iter()
        .map(|r| {
            Ok((
                ProductId::from(r.try_get::<Uuid>("", "product_id")?),
                r.try_get::<i64>("", "units")?,
            ))
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(Into::into)
}

// ---- views ----------------------------------------------------------------------------------

/// Stores the unique-visitor estimate of a product for a day and refreshes the product's
/// total (the sum over all days).
pub async fn put_daily_visitors(
    c: &impl ConnectionTrait,
    product_id: ProductId,
    day: i32,
    visitors: i64,
) -> StoreResult<i64> {
    let product_id = product_id.uuid();
    use crate::entities::product_views_daily as views;
    views::Entity::insert(
        views::Model {
            product_id,
            day,
            visitors,
        }
        .into_active_model(),
    )
    .on_conflict(
        OnConflict::columns([views::Column::ProductId, views::Column::Day])
            .update_column(views::Column::Visitors)
            .to_owned(),
    )
    .exec_without_returning(c)
    .await?;
    let days = views::Entity::find()
        .select_only()
        .column(views::Column::Visitors)
        .filter(views::Column::ProductId.eq(product_id))
        .into_tuple::<i64>()
        .all(c)
        .await?;
    let total: i64 = days.iter().sum();
    products::Entity::update_many()
        .col_expr(products::Column::ViewCount, Expr::value(total))
        .filter(products::Column::Id.eq(product_id))
        .exec(c)
        .await?;
    Ok(total)
}

/// Shop names of the given sellers.
pub async fn shop_names(
    c: &impl ConnectionTrait,
    seller_ids: &[UserId],
) -> StoreResult<Vec<(UserId, String)>> {
    use crate::entities::sellers;
    if seller_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sellers::Entity::find()
        .select_only()
        .columns([sellers::Column::UserId, sellers::Column::ShopName])
        .filter(sellers::Column::UserId.is_in(uuids(seller_ids)))
        .into_tuple::<(Uuid, String)>()
        .all(c)
        .await?
        .into_iter()
        .map(|(id, name)| (id.into(), name))
        .collect())
}
