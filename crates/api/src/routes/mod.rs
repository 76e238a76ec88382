//! One module per resource; `api_router` assembles them with their OpenAPI descriptions.

pub mod admin;
pub mod auth;
pub mod categories;
pub mod files;
pub mod images;
pub mod me;
pub mod ops;
pub mod products;
pub mod search;
pub mod sellers;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::signup))
        .routes(routes!(auth::verify))
        .routes(routes!(auth::resend_code))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(me::get_me, me::patch_me))
        .routes(routes!(me::list_addresses, me::create_address))
        .routes(routes!(
            me::get_address,
            me::patch_address,
            me::delete_address
        ))
        .routes(routes!(sellers::apply, sellers::list_applications))
        .routes(routes!(sellers::get_application))
        .routes(routes!(sellers::approve))
        .routes(routes!(sellers::reject))
        .routes(routes!(sellers::my_shop))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::list_events))
        .routes(routes!(admin::retry_event))
        .routes(routes!(categories::tree, categories::create))
        .routes(routes!(categories::rename))
        .routes(routes!(products::list, products::create))
        .routes(routes!(products::popular))
        .routes(routes!(products::get, products::update, products::delete))
        .routes(routes!(images::upload, images::list))
        .routes(routes!(images::delete))
        .routes(routes!(images::reorder))
        .routes(routes!(products::add_variant))
        .routes(routes!(products::update_variant))
        .routes(routes!(products::adjust_stock))
        .routes(routes!(products::ledger))
        .routes(routes!(products::mine))
        .routes(routes!(search::search))
        .routes(routes!(search::autocomplete))
        .routes(routes!(search::popular_terms))
}
