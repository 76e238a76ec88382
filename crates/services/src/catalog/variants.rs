//! Variants of a product: added and changed by the owner; stock moves through inventory.

use chrono::{DateTime, Utc};
use jangteo_core::catalog::{self as rules};
use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{ProductId, VariantId};
use jangteo_core::{FieldErrors, validation};
use jangteo_store::StoreError;
use jangteo_store::catalog::{self as store, Variant};

use super::*;
use crate::error::NotFoundAs;
use crate::tokens::Principal;
use crate::{ServiceError, ServiceResult};

impl Catalog<'_> {
    /// Adds a variant; returns it as the product's detail now lists it.
    pub async fn add_variant(
        &self,
        who: Principal,
        product_id: ProductId,
        input: VariantInput<'_>,
    ) -> ServiceResult<VariantView> {
        let p = self.owned(who, product_id).await?;
        let row = parse_variant(0, &input, None, product_id, self.now()).map_err(unprefix)?;
        if !rules::variant_price_in_range(p.price.minor(), row.price_delta) {
            return Err(variant_price_conflict());
        }
        if store::count_variants(&self.s.db, product_id).await? >= rules::MAX_VARIANTS as u64 {
            return Err(ServiceError::conflict(
                "too_many_variants",
                "this product already has the maximum number of variants",
            ));
        }
        let variant_id = row.id;
        let mut tx = self.s.begin().await?;
        store::insert_variant(tx.conn(), row)
            .await
            .map_err(sku_taken)?;
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await?;
        self.load_detail(product_id)
            .await?
            .variants
            .into_iter()
            .find(|v| v.id == variant_id)
            .ok_or(ServiceError::NotFound("variant"))
    }

    pub async fn update_variant(
        &self,
        who: Principal,
        product_id: ProductId,
        variant_id: VariantId,
        name: Option<&str>,
        options: Option<&serde_json::Map<String, serde_json::Value>>,
        price_delta: Option<i64>,
    ) -> ServiceResult<ProductDetail> {
        let p = self.owned(who, product_id).await?;
        let v = store::find_variant(&self.s.db, product_id, variant_id)
            .await
            .not_found_as("variant")?;
        let mut errors = FieldErrors::new();
        let name = match name {
            Some(n) => errors
                .take(validation::required_text("name", Some(n), 1, 100))
                .unwrap_or_default(),
            None => v.name.clone(),
        };
        let options = match options {
            Some(o) => errors.take(options_json("options", o)).unwrap_or_default(),
            None => v.options.clone(),
        };
        let delta = errors.take(rules::delta_in_range(
            "price_delta",
            price_delta.or(Some(v.price_delta)),
        ));
        errors.finish(())?;
        if delta.is_some_and(|d| !rules::variant_price_in_range(p.price.minor(), d)) {
            return Err(variant_price_conflict());
        }
        let mut tx = self.s.begin().await?;
        store::update_variant_details(
            tx.conn(),
            variant_id,
            &name,
            &options,
            delta.unwrap_or(0),
            self.now(),
        )
        .await?;
        tx.record(DomainEvent::ProductChanged { product_id });
        tx.commit().await?;
        self.load_detail(product_id).await
    }
}

pub(super) fn options_json(
    field: &str,
    o: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, FieldErrors> {
    if o.len() > 10
        || o.iter().any(|(k, v)| {
            k.chars().count() > 30
                || !v.is_string()
                || v.as_str().is_some_and(|s| s.chars().count() > 50)
        })
    {
        return Err(FieldErrors::single(
            field,
            "invalid",
            "options are at most 10 string values of up to 50 characters, e.g. {\"size\": \"L\"}",
        ));
    }
    serde_json::to_string(o)
        .map_err(|_| FieldErrors::single(field, "invalid", "options are not serialisable"))
}

/// A variant of a request. With `base_price` (a new product) the variant's price is checked
/// as a field of the same body; without it the caller checks it against the stored product.
pub(super) fn parse_variant(
    index: usize,
    v: &VariantInput<'_>,
    base_price: Option<i64>,
    product_id: ProductId,
    now: DateTime<Utc>,
) -> Result<Variant, FieldErrors> {
    let f = |name: &str| format!("variants[{index}].{name}");
    let sku = rules::sku(&f("sku"), v.sku);
    let name = validation::required_text(&f("name"), v.name, 1, 100);
    let options = match v.options {
        Some(o) => options_json(&f("options"), o),
        None => Ok("{}".to_owned()),
    };
    let delta = match base_price {
        Some(base) => rules::price_delta(&f("price_delta"), base, v.price_delta),
        None => rules::delta_in_range(&f("price_delta"), v.price_delta),
    };
    let stock = rules::initial_stock(&f("stock"), v.stock);
    let (sku, name, options, price_delta, stock) =
        FieldErrors::new().all((sku, name, options, delta, stock))?;
    Ok(Variant {
        id: VariantId::new(),
        product_id,
        sku,
        name,
        options,
        price_delta,
        stock,
        initial_stock: stock,
        deleted_at: None,
        created_at: now,
        updated_at: now,
    })
}

/// For the single-variant endpoint, report `sku` rather than `variants[0].sku`.
pub(super) fn unprefix(errors: FieldErrors) -> ServiceError {
    let mut out = FieldErrors::new();
    for e in errors.into_vec() {
        out.add(
            e.field.trim_start_matches("variants[0]."),
            &e.code,
            e.message,
        );
    }
    out.into()
}

pub(super) fn sku_taken(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict {
            index: Some("ux_variants_sku"),
        } => ServiceError::conflict("sku_taken", "a variant with this sku already exists"),
        other => other.into(),
    }
}
