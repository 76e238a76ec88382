//! SeaORM entities: one per table, plain data. Business meaning lives in services.

pub mod addresses;
pub mod email_codes;
pub mod refresh_tokens;
pub mod seller_applications;
pub mod sellers;
pub mod users;
