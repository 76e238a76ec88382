//! The catalog: categories (a tree), products owned by sellers, their variants, public
//! reads (detail and keyset listings) served through an in-process cache that every write
//! invalidates, and popularity by units sold.
//!
//! One file per concern: `read_models` (what reads return), `inputs` (what writes take),
//! `cache`, `cursors`, `categories`, `products`, `variants`, `listing`, `popularity`.

mod cache;
mod categories;
mod cursors;
mod inputs;
mod listing;
mod popularity;
mod products;
mod read_models;
mod variants;

pub use cache::CatalogCache;
pub use inputs::{ListQuery, ProductInput, VariantInput};
pub use popularity::day_number;
pub use read_models::{CategoryNode, CategoryRef, ProductDetail, ProductSummary, VariantView};

use chrono::{DateTime, Utc};

use crate::Services;

use cursors::*;
use products::*;
use read_models::*;
use variants::*;

const MAX_CATEGORY_DEPTH: i32 = 5;

pub struct Catalog<'a> {
    s: &'a Services,
}

impl<'a> Catalog<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    fn now(&self) -> DateTime<Utc> {
        self.s.clock.now()
    }
}
