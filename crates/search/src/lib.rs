//! jangteo's product search: a tantivy index with Korean morphological analysis
//! (lindera over mecab-ko-dic, loaded from a directory at run time), a dictionary-free
//! bigram fallback, 초성 search, typo tolerance for Latin words, filters, sorts, paging,
//! prefix autocomplete, and a sliding-window counter of popular search terms.
//!
//! The crate knows nothing of the catalog: callers hand it [`ProductDocument`]s.
#![forbid(unsafe_code)]

pub mod analyzer;
pub mod chosung;
pub mod dictionary;
pub mod document;
pub mod error;
pub mod index;
pub mod popular;
pub mod query;
mod schema;

pub use analyzer::{AnalyzerKind, KoreanAnalyzer};
pub use document::ProductDocument;
pub use error::{SearchError, SearchResult};
pub use index::{IndexOptions, Rebuild, SearchIndex};
pub use popular::PopularTerms;
pub use query::{
    Filters, MAX_PAGE_SIZE, MAX_RESULT_WINDOW, SearchHit, SearchPage, SearchRequest, Sort,
    Suggestion,
};
pub use schema::{BRAND_WEIGHT, CATEGORY_WEIGHT, PUBLISHER_WEIGHT, TITLE_WEIGHT};
