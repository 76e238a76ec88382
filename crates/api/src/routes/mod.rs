//! One module per resource, each with its `router()` (routes and their OpenAPI
//! descriptions); `api_router` merges them.

pub mod admin;
pub mod auth;
pub mod cart;
pub mod categories;
pub mod files;
pub mod images;
pub mod me;
pub mod ops;
pub mod orders;
pub mod payments;
pub mod products;
pub mod search;
pub mod sellers;
pub mod wishlist;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(me::router())
        .merge(sellers::router())
        .merge(admin::router())
        .merge(categories::router())
        .merge(products::router())
        .merge(images::router())
        .merge(search::router())
        .merge(cart::router())
        .merge(wishlist::router())
        .merge(orders::router())
        .merge(payments::router())
}
