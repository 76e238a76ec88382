use std::path::PathBuf;

/// Everything that can go wrong in the search crate.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),

    #[error("cannot open the search index in {path}: {source}")]
    OpenIndex {
        path: PathBuf,
        source: tantivy::TantivyError,
    },

    #[error("Korean dictionary at {path}: {message}")]
    Dictionary { path: PathBuf, message: String },

    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("invalid page: {0}")]
    InvalidPage(String),

    #[error("the search index writer lock is poisoned (a writer thread panicked)")]
    WriterPoisoned,
}

pub type SearchResult<T> = Result<T, SearchError>;
