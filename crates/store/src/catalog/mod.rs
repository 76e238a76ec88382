//! Categories, products, their categories and variants; product listing with keyset pages;
//! sales and view counters for popularity. Every function returns the typed records of
//! [`records`], never SeaORM entities.

mod categories;
mod counters;
mod listing;
mod products;
mod records;
mod variants;

pub use categories::*;
pub use counters::*;
pub use listing::*;
pub use products::*;
pub use records::{Category, Product, Variant};
pub use variants::*;
