//! Schemas of request fields, stated as exactly as JSON Schema allows, so that the OpenAPI
//! document says what the validation in `core` accepts: lengths, patterns, ranges, enums.
//! Request structs keep `Option` fields (every bad field is reported at once) and name one
//! of these with `#[schema(schema_with = …, required = true)]`.
//!
//! Patterns are written in the subset of regular-expression syntax that ECMA-262 (the
//! document's dialect) and Python's `re` (what Schemathesis generates from) read alike.
//! What a pattern cannot say (a business number's check digit, a password's strength, a
//! variant price across two fields) is in the description; `scripts/contract/hooks.py`
//! tells the fuzzer.

use utoipa::openapi::schema::{
    ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Object, RefOr};

trait IntoSchema {
    fn into_schema(self) -> RefOr<Schema>;
}

impl IntoSchema for utoipa::openapi::OneOf {
    fn into_schema(self) -> RefOr<Schema> {
        RefOr::T(Schema::OneOf(self))
    }
}

use jangteo_core::catalog::{MAX_POSITION, MAX_PRICE, MAX_STOCK, MAX_VARIANTS};

/// A character-class body (for `[...]` and `[^...]`) of the BMP characters `pred` holds
/// for, as `\uXXXX` escapes and ranges: derived from the rules in `core`, so the document
/// cannot drift from them.
fn class_of(pred: impl Fn(char) -> bool) -> String {
    let mut out = String::new();
    let mut run: Option<(u32, u32)> = None;
    let flush = |run: Option<(u32, u32)>, out: &mut String| {
        if let Some((a, b)) = run {
            out.push_str(&format!("\\u{a:04x}"));
            if b > a {
                out.push_str(&format!("-\\u{b:04x}"));
            }
        }
    };
    for cp in 0..=0xFFFFu32 {
        let hit = char::from_u32(cp).is_some_and(&pred);
        run = match (hit, run) {
            (true, Some((a, b))) if b + 1 == cp => Some((a, cp)),
            (true, previous) => {
                flush(previous, &mut out);
                Some((cp, cp))
            }
            (false, previous) => {
                flush(previous, &mut out);
                None
            }
        };
    }
    flush(run, &mut out);
    out
}

/// Characters `core::validation::is_invisible` refuses.
static INVISIBLE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| class_of(jangteo_core::validation::is_invisible));
/// The same, but allowing tab, line feed and carriage return (descriptions).
static INVISIBLE_BUT_LINES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    class_of(|c| jangteo_core::validation::is_invisible(c) && !matches!(c, '\t' | '\n' | '\r'))
});
/// Whitespace that trimming removes and that is not refused as invisible.
static SPACE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    class_of(|c| c.is_whitespace() && !jangteo_core::validation::is_invisible(c))
});

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable(b: ObjectBuilder, t: Type) -> ObjectBuilder {
    b.schema_type(SchemaType::Array(vec![t, Type::Null]))
}

/// Text as `core::validation::bounded_text` takes it: at most `max` characters as sent, no
/// invisible characters, and at least `visible` characters that are not spaces (trimmed
/// away around the text).
fn text(visible: u8, max: usize) -> ObjectBuilder {
    let invisible = INVISIBLE.as_str();
    let any = format!("[^{invisible}]*");
    let solid = format!("[^\\s{invisible}]");
    let pattern = match visible {
        0 => format!("^{any}$"),
        1 => format!("^{any}{solid}{any}$"),
        _ => format!("^{any}{solid}{any}{solid}{any}$"),
    };
    string().max_length(Some(max)).pattern(Some(pattern))
}

fn integer(min: i64, max: i64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .minimum(Some(min))
        .maximum(Some(max))
}

// ---- accounts

/// An e-mail address as `core::Email` takes it (ASCII; surrounding spaces are trimmed).
pub fn email() -> Object {
    // At most 64 characters before the @, no dot first, last or twice in a row. `-` ends
    // the class so that it is never read as a range.
    let c = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-";
    let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    string()
        .max_length(Some(254))
        .pattern(Some(format!(
            "^[{space}]*(?!.*\\.\\.)[{c}]([.{c}]{{0,62}}[{c}])?@({label}\\.)+{label}[{space}]*$",
            space = SPACE.as_str()
        )))
        .description(Some(
            "ASCII, case-insensitive; an internationalised domain in its ASCII form \
             (`xn--…`). Spaces around it are ignored.",
        ))
        .examples(["kim@example.com"])
        .build()
}

pub fn new_password() -> Object {
    string()
        .min_length(Some(10))
        .max_length(Some(128))
        .description(Some(
            "10 to 128 characters, at least 4 different ones, not a common password and not \
             built from the e-mail address (422 `too_weak` otherwise).",
        ))
        .build()
}

pub fn password() -> Object {
    string().min_length(Some(1)).max_length(Some(128)).build()
}

pub fn display_name() -> Object {
    nullable(text(1, 50), Type::String).build()
}

pub fn code() -> Object {
    string()
        .pattern(Some("^[0-9]{6}$"))
        .description(Some("The six digits from the mail."))
        .build()
}

pub fn refresh_token() -> Object {
    string().min_length(Some(1)).max_length(Some(256)).build()
}

/// Digits with an optional leading `+`, spaces and dashes; 8 to 15 digits.
fn phone_builder() -> ObjectBuilder {
    string()
        .max_length(Some(20))
        .pattern(Some(format!(
            "^[{space}]*\\+?[- ]*([0-9][- ]*){{8,15}}[{space}]*$",
            space = SPACE.as_str()
        )))
        .examples(["010-1234-5678"])
}

pub fn phone() -> Object {
    phone_builder().build()
}

/// In a profile patch: `null` removes the number.
pub fn phone_nullable() -> Object {
    nullable(phone_builder(), Type::String).build()
}

pub fn postal_code() -> Object {
    string()
        .max_length(Some(10))
        .pattern(Some(format!(
            "^[{space}]*[0-9]{{5}}[{space}]*$",
            space = SPACE.as_str()
        )))
        .examples(["06236"])
        .build()
}

pub fn recipient() -> Object {
    text(1, 50).build()
}

pub fn address_line() -> Object {
    text(1, 200).build()
}

pub fn address_line2() -> Object {
    nullable(text(0, 200), Type::String).build()
}

pub fn address_label() -> Object {
    nullable(text(0, 30), Type::String).build()
}

// ---- sellers

pub fn shop_name() -> Object {
    text(2, 60).build()
}

pub fn business_number() -> Object {
    string()
        .max_length(Some(40))
        .pattern(Some("^[- ]*([0-9][- ]*){10}$"))
        .format(Some(utoipa::openapi::SchemaFormat::Custom(
            "kr-business-number".into(),
        )))
        .description(Some(
            "사업자등록번호: ten digits, dashes and spaces ignored; the last digit is the \
             National Tax Service check digit (422 `invalid_checksum` otherwise).",
        ))
        .examples(["220-81-62517"])
        .build()
}

pub fn reject_reason() -> Object {
    nullable(text(1, 500), Type::String).build()
}

// ---- catalog

pub fn category_name() -> Object {
    text(1, 60).build()
}

fn slug_builder() -> ObjectBuilder {
    string()
        .max_length(Some(80))
        .pattern(Some(
            "^[0-9A-Za-z\\uac00-\\ud7a3]([-0-9A-Za-z\\uac00-\\ud7a3]*[0-9A-Za-z\\uac00-\\ud7a3])?$",
        ))
        .description(Some(
            "ASCII letters (stored lower-case), digits, Hangul syllables and `-`, neither first \
             nor last. Derived from the name when absent.",
        ))
}

pub fn slug_nullable() -> Object {
    nullable(slug_builder(), Type::String).build()
}

pub fn position_nullable() -> Object {
    nullable(integer(0, i64::from(MAX_POSITION)), Type::Integer)
        .description(Some("Sort position among siblings, default 0."))
        .build()
}

pub fn sku() -> Object {
    string()
        .pattern(Some("^[A-Za-z0-9._-]{1,64}$"))
        .description(Some("Unique; stored upper-case."))
        .examples(["TEE-RED-L"])
        .build()
}

pub fn variant_name() -> Object {
    text(1, 100).build()
}

pub fn variant_name_nullable() -> Object {
    nullable(text(1, 100), Type::String).build()
}

pub fn options_nullable() -> Object {
    nullable(ObjectBuilder::new(), Type::Object)
        .max_properties(Some(10))
        .property_names(Some(string().max_length(Some(30))))
        .additional_properties(Some(string().max_length(Some(50))))
        .description(Some(
            "Up to 10 string options, e.g. {\"size\": \"L\", \"color\": \"red\"}.",
        ))
        .build()
}

pub fn price() -> Object {
    integer(0, MAX_PRICE)
        .description(Some(
            "Minor units of the currency (KRW has none: 15000 means ₩15,000).",
        ))
        .examples([15000])
        .build()
}

pub fn price_nullable() -> Object {
    nullable(integer(0, MAX_PRICE), Type::Integer).build()
}

pub fn price_delta_nullable() -> Object {
    nullable(integer(-MAX_PRICE, MAX_PRICE), Type::Integer)
        .description(Some(
            "Added to the product price, default 0; the variant's price must stay between 0 \
             and the maximum price (422 on creation, 409 against an existing product).",
        ))
        .build()
}

pub fn initial_stock_nullable() -> Object {
    nullable(integer(0, MAX_STOCK), Type::Integer)
        .description(Some("Initial stock, default 0."))
        .build()
}

pub fn product_name() -> Object {
    text(1, 200).examples(["한정판 도서"]).build()
}

pub fn product_name_nullable() -> Object {
    nullable(text(1, 200), Type::String).build()
}

pub fn description_nullable() -> Object {
    nullable(string(), Type::String)
        .max_length(Some(20_000))
        .pattern(Some(format!("^[^{}]*$", INVISIBLE_BUT_LINES.as_str())))
        .build()
}

/// Brand, publisher: empty means none.
pub fn label_nullable() -> Object {
    nullable(text(0, 100), Type::String).build()
}

pub fn currency_nullable() -> Object {
    nullable(string(), Type::String)
        .pattern(Some("^[A-Z]{3}$"))
        .description(Some("ISO 4217, default KRW."))
        .build()
}

pub fn status_nullable() -> Object {
    nullable(string(), Type::String)
        .enum_values(Some([
            serde_json::json!("DRAFT"),
            serde_json::json!("ON_SALE"),
            serde_json::json!("SOLD_OUT"),
            serde_json::json!("HIDDEN"),
            serde_json::Value::Null,
        ]))
        .description(Some(
            "Default DRAFT. A product that was offered cannot go back to DRAFT (409).",
        ))
        .build()
}

pub fn category_ids_nullable() -> RefOr<Schema> {
    let ids = ArrayBuilder::new()
        .items(
            string().format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Uuid,
            ))),
        )
        .max_items(Some(jangteo_core::catalog::MAX_CATEGORIES_PER_PRODUCT))
        .description(Some("Categories of the product (404 for an unknown one)."));
    OneOfBuilder::new()
        .item(ids)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into_schema()
}

pub fn variants() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "VariantRequest",
        )))
        .min_items(Some(1))
        .max_items(Some(MAX_VARIANTS))
        .description(Some(
            "At least one; SKUs unique (409 `sku_taken` otherwise).",
        ))
        .build()
        .into()
}

pub fn stock_delta() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(integer(-MAX_STOCK, -1))
        .item(integer(1, MAX_STOCK))
        .description(Some(
            "Units to add (positive) or remove (negative); never zero.",
        ))
        .build()
        .into_schema()
}

pub fn stock_reason() -> Object {
    string()
        .enum_values(Some(["RESTOCK", "CORRECTION", "DAMAGE", "RETURN"]))
        .build()
}

pub fn tracking_number_nullable() -> Object {
    nullable(text(1, 64), Type::String).build()
}

pub fn reference_nullable() -> Object {
    nullable(text(0, 100), Type::String)
        .description(Some("Free text such as a delivery note number."))
        .build()
}

/// A PATCH body of `T`'s shape: every field optional, and `null` means "leave as it is"
/// (fields whose `null` clears them say so). Deserialises exactly like `T`, whose fields
/// are `Option`s anyway; only the schema differs.
#[derive(serde::Deserialize)]
#[serde(transparent)]
pub struct Patch<T>(pub T);

impl<T: utoipa::ToSchema> utoipa::PartialSchema for Patch<T> {
    fn schema() -> RefOr<Schema> {
        match T::schema() {
            RefOr::T(Schema::Object(mut object)) => {
                object.required.clear();
                for property in object.properties.values_mut() {
                    if let RefOr::T(Schema::Object(p)) = property
                        && let SchemaType::Type(t) = &p.schema_type
                        && *t != Type::Null
                    {
                        p.schema_type = SchemaType::Array(vec![t.clone(), Type::Null]);
                    }
                }
                RefOr::T(Schema::Object(object))
            }
            other => other,
        }
    }
}

impl<T: utoipa::ToSchema> utoipa::ToSchema for Patch<T> {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Owned(format!("{}Patch", T::name()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        T::schemas(schemas);
    }
}

/// A request body that is a file's bytes (`type: string, format: binary`).
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> RefOr<Schema> {
        string()
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .into()
    }
}

impl utoipa::ToSchema for FileBytes {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_built_from_the_rules() {
        let invisible = INVISIBLE.as_str();
        assert!(
            invisible.starts_with("\\u0000-\\u001f\\u007f-\\u009f"),
            "{invisible}"
        );
        assert!(invisible.contains("\\u200b-\\u200f"), "{invisible}");
        assert!(invisible.contains("\\ufeff"));
        assert!(!INVISIBLE_BUT_LINES.contains("\\u0009"));
        assert!(INVISIBLE_BUT_LINES.starts_with("\\u0000-\\u0008\\u000b-\\u000c"));
        assert!(SPACE.starts_with("\\u0020\\u00a0"), "{}", SPACE.as_str());
    }
}
