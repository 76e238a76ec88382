//! What the catalog hands the index for one product.

use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;

use crate::schema::{Fields, tiebreak};

/// One product as the search index sees it. Empty strings and lists are simply not indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDocument {
    /// The product's id (any string: a UUID, a number); unique in the index.
    pub id: String,
    pub title: String,
    /// Author(s) for books, brand for other goods (weight 3).
    pub brands: Vec<String>,
    /// Names of the product's categories, ancestors included (weight 2).
    pub categories: Vec<String>,
    /// Publisher and/or seller names (weight 1).
    pub publishers: Vec<String>,
    /// Ids of the product's categories *including every ancestor*, so that filtering on a
    /// parent category finds products of its sub-categories.
    pub category_ids: Vec<String>,
    /// Price in minor units of the shop currency (KRW has none: won).
    pub price: u64,
    pub in_stock: bool,
    /// Creation time in milliseconds since the Unix epoch (for "newest" sorting).
    pub created_at_ms: i64,
    /// Any popularity score, higher is more popular (units sold, views...).
    pub popularity: u64,
}

impl ProductDocument {
    pub(crate) fn to_tantivy(&self, f: &Fields) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &self.id);
        doc.add_text(f.title, &self.title);
        doc.add_text(f.chosung, &self.title);
        doc.add_text(f.words, &self.title);
        for brand in &self.brands {
            doc.add_text(f.brand, brand);
        }
        for category in &self.categories {
            doc.add_text(f.category, category);
        }
        for publisher in &self.publishers {
            doc.add_text(f.publisher, publisher);
        }
        for id in &self.category_ids {
            doc.add_text(f.category_id, id);
        }
        doc.add_u64(f.price, self.price);
        doc.add_bool(f.in_stock, self.in_stock);
        doc.add_i64(f.created_at, self.created_at_ms);
        doc.add_u64(f.popularity, self.popularity);
        doc.add_u64(f.tiebreak, tiebreak(&self.id));
        doc
    }
}
