//! SeaORM entities: one per table, plain data. The query modules return their own typed
//! records instead; the entities are public for tests that check rows directly.

pub mod addresses;
pub mod cart_lines;
pub mod carts;
pub mod categories;
pub mod email_codes;
pub mod idempotency_keys;
pub mod inventory_ledger;
pub mod jobs;
pub mod order_lines;
pub mod order_shipments;
pub mod orders;
pub mod outbox_events;
pub mod outbox_processed;
pub mod payments;
pub mod product_categories;
pub mod product_images;
pub mod product_sales_daily;
pub mod product_views_daily;
pub mod products;
pub mod refresh_tokens;
pub mod refunds;
pub mod seller_applications;
pub mod sellers;
pub mod shipping_rules;
pub mod users;
pub mod variants;
pub mod wishlist_items;
