//! The index schema: which product attributes are searched, filtered and sorted on.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

/// Tokenizer names registered on every opened index (tokenizers are not persisted).
pub(crate) const KOREAN_TOKENIZER: &str = "jangteo_ko";
pub(crate) const CHOSUNG_TOKENIZER: &str = "jangteo_chosung";
pub(crate) const WORD_TOKENIZER: &str = "jangteo_words";

/// Field weights: a title match counts five times a publisher match.
pub const TITLE_WEIGHT: f32 = 5.0;
pub const BRAND_WEIGHT: f32 = 3.0;
pub const CATEGORY_WEIGHT: f32 = 2.0;
pub const PUBLISHER_WEIGHT: f32 = 1.0;

// Column names that sort keys refer to by name.
pub(crate) const ID: &str = "id";
pub(crate) const PRICE: &str = "price";
pub(crate) const CREATED_AT: &str = "created_at";
pub(crate) const POPULARITY: &str = "popularity";
pub(crate) const TIEBREAK: &str = "tiebreak";

#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub id: Field,
    pub title: Field,
    pub brand: Field,
    pub category: Field,
    pub publisher: Field,
    pub chosung: Field,
    pub words: Field,
    pub category_id: Field,
    pub price: Field,
    pub in_stock: Field,
    pub created_at: Field,
    pub popularity: Field,
    pub tiebreak: Field,
}

impl Fields {
    /// The weighted full-text fields, in weight order.
    pub fn weighted(&self) -> [(Field, f32); 4] {
        [
            (self.title, TITLE_WEIGHT),
            (self.brand, BRAND_WEIGHT),
            (self.category, CATEGORY_WEIGHT),
            (self.publisher, PUBLISHER_WEIGHT),
        ]
    }
}

fn text(tokenizer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(record),
    )
}

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // Frequencies feed BM25; positions would only serve phrase queries, which we do not run.
    let ko = text(KOREAN_TOKENIZER, IndexRecordOption::WithFreqs);
    let fields = Fields {
        // FAST so hits and tie-breaks read ids from a column instead of the doc store.
        id: b.add_text_field(ID, STRING | STORED | FAST),
        title: b.add_text_field("title", ko.clone() | STORED),
        brand: b.add_text_field("brand", ko.clone()),
        category: b.add_text_field("category", ko.clone()),
        publisher: b.add_text_field("publisher", ko),
        chosung: b.add_text_field("chosung", text(CHOSUNG_TOKENIZER, IndexRecordOption::Basic)),
        words: b.add_text_field("words", text(WORD_TOKENIZER, IndexRecordOption::Basic)),
        category_id: b.add_text_field("category_id", STRING),
        price: b.add_u64_field(PRICE, INDEXED | FAST),
        in_stock: b.add_bool_field("in_stock", INDEXED | FAST),
        created_at: b.add_i64_field(CREATED_AT, FAST),
        popularity: b.add_u64_field(POPULARITY, FAST),
        // A hash of the id, to break ties in sorting: derived from the id alone, so equal
        // keys order the same in any index; a number, so comparing it is cheap (sorting
        // by the id string itself made a 1,000-deep page ~20x slower).
        tiebreak: b.add_u64_field(TIEBREAK, FAST),
    };
    (b.build(), fields)
}

/// 64-bit FNV-1a: stable across runs and platforms, unlike std's randomly keyed hasher.
pub(crate) fn tiebreak(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
