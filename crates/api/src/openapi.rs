//! The OpenAPI 3.1 document, generated from the handlers' annotations and completed here
//! with the responses every operation of a kind can send, so that no handler repeats them:
//! 401 for operations that take a token, 400/413/415/422 for JSON bodies, 400 for query
//! parameters, 404 for path parameters, 503 for all (a dependency down or a request that
//! ran out of time). A handler's own declaration of a status wins.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder,
};

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

pub fn event_statuses() -> utoipa::openapi::Object {
    string_enum(&["pending", "delivered", "failed"])
}

pub fn application_statuses() -> utoipa::openapi::Object {
    string_enum(&["PENDING", "APPROVED", "REJECTED"])
}

pub fn order_statuses() -> utoipa::openapi::Object {
    string_enum(&["PENDING", "ORDERED", "COMPLETE", "CANCELLED"])
}

/// The shared responses: (component name, status, description, headers).
const SHARED: [(&str, &str, &str, &[&str]); 8] = [
    (
        "InvalidQuery",
        "400",
        "A query parameter does not parse or is out of range (`invalid_query`), or the body is not valid JSON (`malformed_json`)",
        &[],
    ),
    (
        "Unauthorized",
        "401",
        "No, an invalid or an expired access token (`missing_token`, `invalid_token`, `token_expired`)",
        &["WWW-Authenticate"],
    ),
    (
        "NotFound",
        "404",
        "No such resource, or not one the caller may see (`not_found`)",
        &[],
    ),
    (
        "PayloadTooLarge",
        "413",
        "The body is over the size limit (`payload_too_large`)",
        &[],
    ),
    (
        "UnsupportedMediaType",
        "415",
        "The body is not `application/json` (`unsupported_media_type`)",
        &[],
    ),
    (
        "ValidationFailed",
        "422",
        "The body is not an object of the documented shape, or a field is invalid (`validation_failed`, with every bad field in `errors`)",
        &[],
    ),
    (
        "TooManyRequests",
        "429",
        "Slow down (`rate_limited`); `Retry-After` says for how long",
        &["Retry-After"],
    ),
    (
        "Unavailable",
        "503",
        "A dependency is down or the request ran out of time (`service_unavailable`, `database_unavailable`)",
        &[],
    ),
];

fn shared_response(description: &str, headers: &[&str]) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    for name in headers {
        response = response.header(
            *name,
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        );
    }
    response.build()
}

fn add(op: &mut Operation, status: &str, component: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(component)));
}

fn complete(op: &mut Operation) {
    let params: Vec<ParameterIn> = op
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) => Some(p.parameter_in.clone()),
            RefOr::Ref(_) => None,
        })
        .collect();
    if params.iter().any(|p| matches!(p, ParameterIn::Query)) {
        add(op, "400", "InvalidQuery");
    }
    if params.iter().any(|p| matches!(p, ParameterIn::Path)) {
        add(op, "404", "NotFound");
    }
    let json_body = matches!(&op.request_body, Some(RefOr::T(body))
        if body.content.keys().any(|k| k == "application/json"));
    if json_body {
        for (status, component) in [
            ("400", "InvalidQuery"),
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
            ("422", "ValidationFailed"),
        ] {
            add(op, status, component);
        }
    }
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        add(op, "401", "Unauthorized");
    }
    add(op, "503", "Unavailable");
}

pub fn finish(mut spec: OpenApi) -> OpenApi {
    spec.info = InfoBuilder::new()
        .title("jangteo")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Headless commerce engine. Errors are RFC 9457 application/problem+json with a stable `code`.",
        ))
        .build();
    for item in spec.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            complete(op);
        }
    }
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
    for (name, _, description, headers) in SHARED {
        components.responses.insert(
            name.to_owned(),
            RefOr::T(shared_response(description, headers)),
        );
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::SHARED;

    #[test]
    fn shared_responses_have_distinct_names() {
        let mut names: Vec<&str> = SHARED.iter().map(|s| s.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SHARED.len());
    }
}
