//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};

/// A string parameter that takes one of `values` (for `#[param(schema_with = …)]`).
fn string_enum(values: &[&str]) -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

pub fn role_values() -> utoipa::openapi::Object {
    string_enum(&["USER", "SELLER", "ADMIN"])
}

pub fn application_statuses() -> utoipa::openapi::Object {
    string_enum(&["PENDING", "APPROVED", "REJECTED"])
}

pub fn finish(mut spec: OpenApi) -> OpenApi {
    spec.info = InfoBuilder::new()
        .title("jangteo")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Headless commerce engine. Errors are RFC 9457 application/problem+json with a stable `code`.",
        ))
        .build();
    let components = spec.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    spec
}
