//! Catalog rules: product status transitions and validation of product, variant and
//! category input. Prices are integer minor units (KRW has none).

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError};
use crate::validation::{FieldErrors, bounded_text};

pub const MAX_VARIANTS: usize = 100;
pub const MAX_CATEGORIES_PER_PRODUCT: usize = 10;
/// Upper bound on any price: ten billion won. Keeps sums of many lines far from i64 overflow.
pub const MAX_PRICE: i64 = 10_000_000_000;
/// Upper bound on one variant's stock and on one adjustment.
pub const MAX_STOCK: i64 = 1_000_000_000;
/// Upper bound on a category's sort position.
pub const MAX_POSITION: i32 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    Draft,
    OnSale,
    SoldOut,
    Hidden,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::OnSale => "ON_SALE",
            Self::SoldOut => "SOLD_OUT",
            Self::Hidden => "HIDDEN",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "DRAFT" => Some(Self::Draft),
            "ON_SALE" => Some(Self::OnSale),
            "SOLD_OUT" => Some(Self::SoldOut),
            "HIDDEN" => Some(Self::Hidden),
            _ => None,
        }
    }

    /// Whether shoppers (and guests) can see the product.
    pub fn is_public(self) -> bool {
        matches!(self, Self::OnSale | Self::SoldOut)
    }

    /// A product can move between any two states except back to DRAFT once it was offered:
    /// orders and reviews may reference it, so it can only be hidden.
    pub fn can_become(self, next: ProductStatus) -> bool {
        self == next || next != Self::Draft || self == Self::Draft
    }
}

pub fn product_name(raw: Option<&str>) -> Result<String, FieldErrors> {
    match raw {
        None => Err(FieldErrors::single("name", "required", "name is required")),
        Some(raw) => bounded_text("name", raw, 1, 200),
    }
}

pub fn description(raw: &str) -> Result<String, FieldErrors> {
    // Descriptions may hold line breaks and tabs; other control and invisible formatting
    // characters are refused.
    if raw
        .chars()
        .any(|c| crate::validation::is_invisible(c) && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldErrors::single(
            "description",
            "invalid_characters",
            "description has control or invisible formatting characters",
        ));
    }
    if raw.chars().count() > 20_000 {
        return Err(FieldErrors::single(
            "description",
            "too_long",
            "description must be at most 20000 characters",
        ));
    }
    Ok(crate::validation::nfc(raw.trim()))
}

pub fn optional_label(
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldErrors> {
    match raw {
        None => Ok(None),
        Some(r) => {
            let v = bounded_text(field, r, 0, max)?;
            Ok((!v.is_empty()).then_some(v))
        }
    }
}

pub fn price(field: &str, value: Option<i64>) -> Result<i64, FieldErrors> {
    match value {
        None => Err(FieldErrors::single(
            field,
            "required",
            format!("{field} is required"),
        )),
        Some(v) if v < 0 => Err(FieldErrors::single(
            field,
            "negative",
            format!("{field} must not be negative"),
        )),
        Some(v) if v > MAX_PRICE => Err(FieldErrors::single(
            field,
            "too_large",
            format!("{field} must be at most {MAX_PRICE}"),
        )),
        Some(v) => Ok(v),
    }
}

pub fn currency(raw: Option<&str>) -> Result<Currency, FieldErrors> {
    match raw {
        None => Ok(Currency::KRW),
        Some(c) => Currency::parse(c).ok_or_else(|| {
            FieldErrors::single(
                "currency",
                "invalid_format",
                "currency must be an ISO-4217 code such as KRW",
            )
        }),
    }
}

/// SKUs: 1–64 characters of ASCII letters, digits, `-`, `_` and `.` (not trimmed: an
/// identifier is taken as sent); stored upper-case so that `abc-1` and `ABC-1` cannot both
/// exist.
pub fn sku(field: &str, raw: Option<&str>) -> Result<String, FieldErrors> {
    let Some(raw) = raw else {
        return Err(FieldErrors::single(field, "required", "sku is required"));
    };
    // ASCII before upper-casing: "ﬀ" would otherwise become "FF".
    let v = raw.to_ascii_uppercase();
    if v.is_empty()
        || v.len() > 64
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(FieldErrors::single(
            field,
            "invalid_format",
            "sku must be 1-64 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(v)
}

/// A variant's price delta may be negative, but the variant's price (`base_price + delta`)
/// must stay within `0..=MAX_PRICE`. Checked without `abs()`, which wraps for `i64::MIN`.
pub fn price_delta(field: &str, base_price: i64, delta: Option<i64>) -> Result<i64, FieldErrors> {
    let d = delta_in_range(field, delta)?;
    if !variant_price_in_range(base_price, d) {
        return Err(FieldErrors::single(
            field,
            "out_of_range",
            format!("price + price_delta must be between 0 and {MAX_PRICE}"),
        ));
    }
    Ok(d)
}

/// A delta on its own: within `±MAX_PRICE` (default 0).
pub fn delta_in_range(field: &str, delta: Option<i64>) -> Result<i64, FieldErrors> {
    let d = delta.unwrap_or(0);
    if !(-MAX_PRICE..=MAX_PRICE).contains(&d) {
        return Err(FieldErrors::single(
            field,
            "out_of_range",
            format!("{field} must be between -{MAX_PRICE} and {MAX_PRICE}"),
        ));
    }
    Ok(d)
}

/// Whether a variant priced `base_price + delta` stays within `0..=MAX_PRICE`.
pub fn variant_price_in_range(base_price: i64, delta: i64) -> bool {
    base_price
        .checked_add(delta)
        .is_some_and(|p| (0..=MAX_PRICE).contains(&p))
}

/// The price of a variant: the product's price plus the variant's delta. Both parts are
/// validated on the way in, so this fails only for a row written by something else.
pub fn variant_price(base_price: Money, delta: i64) -> Result<Money, MoneyError> {
    base_price.checked_add_minor(delta)
}

/// A manual stock adjustment: non-zero, at most `MAX_STOCK` units either way.
pub fn stock_delta(field: &str, value: Option<i64>) -> Result<i64, FieldErrors> {
    match value {
        None => Err(FieldErrors::single(
            field,
            "required",
            format!("{field} is required"),
        )),
        Some(0) => Err(FieldErrors::single(
            field,
            "zero",
            format!("{field} must not be zero"),
        )),
        Some(d) if !(-MAX_STOCK..=MAX_STOCK).contains(&d) => Err(FieldErrors::single(
            field,
            "out_of_range",
            format!("{field} must be between -{MAX_STOCK} and {MAX_STOCK}"),
        )),
        Some(d) => Ok(d),
    }
}

/// Units taken or returned in one system change (a sale, a cancellation): 1 to `MAX_STOCK`.
pub fn quantity(field: &str, value: i64) -> Result<i64, FieldErrors> {
    if (1..=MAX_STOCK).contains(&value) {
        Ok(value)
    } else {
        Err(FieldErrors::single(
            field,
            "out_of_range",
            format!("{field} must be between 1 and {MAX_STOCK}"),
        ))
    }
}

/// A category's sort position: 0 (default) to `MAX_POSITION`.
pub fn position(field: &str, value: Option<i32>) -> Result<i32, FieldErrors> {
    match value.unwrap_or(0) {
        v if (0..=MAX_POSITION).contains(&v) => Ok(v),
        _ => Err(FieldErrors::single(
            field,
            "out_of_range",
            format!("{field} must be between 0 and {MAX_POSITION}"),
        )),
    }
}

/// The total stock of a product's variants. Stock is bounded and never negative by the
/// conditional update, but a sum over corrupt rows must not wrap into "in stock":
/// negative values count as zero and the sum saturates.
pub fn total_stock(stocks: impl IntoIterator<Item = i64>) -> i64 {
    stocks
        .into_iter()
        .fold(0i64, |sum, s| sum.saturating_add(s.max(0)))
}

pub fn initial_stock(field: &str, value: Option<i64>) -> Result<i64, FieldErrors> {
    match value.unwrap_or(0) {
        v if v < 0 => Err(FieldErrors::single(
            field,
            "negative",
            "stock must not be negative",
        )),
        v if v > MAX_STOCK => Err(FieldErrors::single(
            field,
            "too_large",
            "stock is too large",
        )),
        v => Ok(v),
    }
}

fn is_slug_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ('가'..='힣').contains(&c)
}

/// URL slugs for categories: ASCII letters (stored lower-case), digits, Hangul syllables
/// and `-`, neither first nor last.
pub fn slug(field: &str, raw: &str) -> Result<String, FieldErrors> {
    let v = raw.to_ascii_lowercase();
    let ok = !v.is_empty()
        && v.chars().count() <= 80
        && v.chars().all(|c| is_slug_char(c) || c == '-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if !ok {
        return Err(FieldErrors::single(
            field,
            "invalid_format",
            "slug must be ASCII letters, digits, Hangul syllables and '-'",
        ));
    }
    Ok(v)
}

/// Derives a slug from a name: `"Books & Comics"` → `books-comics`, `"국내 도서"` → `국내-도서`.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        if is_slug_char(c) {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_rules() {
        assert!(ProductStatus::OnSale.is_public());
        assert!(!ProductStatus::Hidden.is_public());
        assert!(ProductStatus::Draft.can_become(ProductStatus::OnSale));
        assert!(ProductStatus::OnSale.can_become(ProductStatus::Hidden));
        assert!(!ProductStatus::OnSale.can_become(ProductStatus::Draft));
        assert!(!ProductStatus::Hidden.can_become(ProductStatus::Draft));
        assert_eq!(ProductStatus::parse("ON_SALE"), Some(ProductStatus::OnSale));
        assert_eq!(ProductStatus::parse("on_sale"), None);
    }

    #[test]
    fn prices_and_stock() {
        assert!(price("price", Some(-1)).is_err());
        assert!(price("price", None).is_err());
        assert_eq!(price("price", Some(15_000)).unwrap(), 15_000);
        assert!(price("price", Some(MAX_PRICE + 1)).is_err());
        assert!(price_delta("d", 1000, Some(-1001)).is_err());
        assert_eq!(price_delta("d", 1000, Some(-1000)).unwrap(), -1000);
        assert!(initial_stock("s", Some(-5)).is_err());
        assert_eq!(initial_stock("s", None).unwrap(), 0);
    }

    #[test]
    fn integers_from_outside_never_wrap() {
        for v in [
            i64::MIN,
            i64::MIN + 1,
            i64::MAX,
            -MAX_PRICE - 1,
            MAX_PRICE + 1,
        ] {
            assert!(price_delta("d", 1000, Some(v)).is_err(), "{v}");
            assert!(price("p", Some(v)).is_err(), "{v}");
        }
        assert!(price_delta("d", MAX_PRICE, Some(1)).is_err());
        assert_eq!(
            price_delta("d", MAX_PRICE, Some(-MAX_PRICE)).unwrap(),
            -MAX_PRICE
        );
        for v in [
            i64::MIN,
            i64::MIN + 1,
            i64::MAX,
            -MAX_STOCK - 1,
            MAX_STOCK + 1,
            0,
        ] {
            assert!(stock_delta("delta", Some(v)).is_err(), "{v}");
            assert!(initial_stock("s", Some(v)).is_err() || v == 0, "{v}");
        }
        assert_eq!(stock_delta("delta", Some(-MAX_STOCK)).unwrap(), -MAX_STOCK);
        assert_eq!(stock_delta("delta", Some(MAX_STOCK)).unwrap(), MAX_STOCK);
        for v in [i64::MIN, -1, 0, MAX_STOCK + 1, i64::MAX] {
            assert!(quantity("qty", v).is_err(), "{v}");
        }
        for v in [i32::MIN, -1, MAX_POSITION + 1, i32::MAX] {
            assert!(position("position", Some(v)).is_err(), "{v}");
        }
        assert_eq!(position("position", None).unwrap(), 0);
        assert_eq!(total_stock([i64::MAX, i64::MAX]), i64::MAX);
        assert_eq!(total_stock([i64::MIN, 5, i64::MIN]), 5);
        let max = Money::new(i64::MAX, Currency::KRW);
        assert_eq!(variant_price(max, 1), Err(MoneyError::Overflow));
        assert_eq!(
            variant_price(Money::new(15_000, Currency::KRW), -500),
            Ok(Money::new(14_500, Currency::KRW))
        );
    }

    #[test]
    fn skus_and_slugs() {
        assert_eq!(sku("sku", Some("tee-red-l")).unwrap(), "TEE-RED-L");
        assert!(
            sku("sku", Some(" tee-red-l ")).is_err(),
            "identifiers are not trimmed"
        );
        assert!(sku("sku", Some("\u{FB00}")).is_err());
        assert!(sku("sku", Some("a b")).is_err());
        assert!(sku("sku", Some("")).is_err());
        assert_eq!(slugify("Books & Comics"), "books-comics");
        assert_eq!(slugify("국내 도서"), "국내-도서");
        assert!(slug("slug", "-bad").is_err());
        assert_eq!(slug("slug", "Fiction").unwrap(), "fiction");
    }
}
