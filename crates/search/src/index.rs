//! The product index: open/create, upsert/delete, rebuild, search, autocomplete.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Mutex, MutexGuard};

use tantivy::collector::sort_key::SortByErasedType;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::Query;
use tantivy::schema::{OwnedValue, Value};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    Term,
};

use crate::analyzer::{KoreanAnalyzer, WordTokenizer};
use crate::chosung::ChosungTokenizer;
use crate::document::ProductDocument;
use crate::error::{SearchError, SearchResult};
use crate::query::{
    self, MAX_PAGE_SIZE, MAX_RESULT_WINDOW, SearchHit, SearchPage, SearchRequest, Sort, Strictness,
    Suggestion,
};
use crate::schema::{self, Fields};

// Stored as the commit payload so that an index built with one analyzer is recognised as
// stale when opened with another (e.g. after the dictionary was installed).
const PAYLOAD_PREFIX: &str = "jangteo-search/1 analyzer=";

/// Writer resources. tantivy needs at least 15 MB of buffer per indexing thread.
#[derive(Debug, Clone, Copy)]
pub struct IndexOptions {
    pub writer_threads: usize,
    pub writer_memory_bytes: usize,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            writer_threads: 1,
            writer_memory_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The product search index. Shareable across threads (`&self` everywhere); writes are
/// serialised by an internal lock and become visible to searches at `commit`.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    analyzer: KoreanAnalyzer,
    stale: AtomicBool,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the directory and an empty index if needed.
    pub fn open_or_create(dir: &Path, analyzer: KoreanAnalyzer) -> SearchResult<Self> {
        Self::open_or_create_with(dir, analyzer, IndexOptions::default())
    }

    pub fn open_or_create_with(
        dir: &Path,
        analyzer: KoreanAnalyzer,
        options: IndexOptions,
    ) -> SearchResult<Self> {
        std::fs::create_dir_all(dir).map_err(|source| SearchError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let open_error = |source: tantivy::TantivyError| SearchError::OpenIndex {
            path: dir.to_path_buf(),
            source,
        };
        let directory =
            MmapDirectory::open(dir).map_err(|e| open_error(tantivy::TantivyError::from(e)))?;
        let (schema, _) = schema::build();
        // A schema change (a new jangteo version) surfaces here as an error naming the
        // directory; deleting it and reindexing is the remedy.
        let index = Index::open_or_create(directory, schema).map_err(open_error)?;
        Self::from_index(index, analyzer, options)
    }

    /// An index held in memory only (tests, demos).
    pub fn in_memory(analyzer: KoreanAnalyzer) -> SearchResult<Self> {
        let (schema, _) = schema::build();
        Self::from_index(
            Index::create_in_ram(schema),
            analyzer,
            IndexOptions::default(),
        )
    }

    fn from_index(
        index: Index,
        analyzer: KoreanAnalyzer,
        options: IndexOptions,
    ) -> SearchResult<Self> {
        let (_, fields) = schema::build();
        let tokenizers = index.tokenizers();
        tokenizers.register(schema::KOREAN_TOKENIZER, analyzer.clone());
        tokenizers.register(schema::CHOSUNG_TOKENIZER, ChosungTokenizer);
        tokenizers.register(schema::WORD_TOKENIZER, WordTokenizer);

        let payload = index.load_metas()?.payload;
        let stale = payload.is_some_and(|p| p != payload_for(&analyzer));

        let writer = index
            .writer_with_num_threads(options.writer_threads.max(1), options.writer_memory_bytes)?;
        // Reloaded explicitly after each commit, so a write is visible to the next search.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            analyzer,
            stale: AtomicBool::new(stale),
        })
    }

    pub fn analyzer(&self) -> &KoreanAnalyzer {
        &self.analyzer
    }

    /// True when the index on disk was built with a different analyzer than this one:
    /// queries would miss, so the caller should run a full rebuild.
    pub fn needs_reindex(&self) -> bool {
        self.stale.load(AtomicOrdering::Relaxed)
    }

    /// Number of products visible to searches (as of the last commit).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Adds or replaces the product with `doc.id`. Visible after [`commit`](Self::commit).
    pub fn upsert(&self, doc: &ProductDocument) -> SearchResult<()> {
        let writer = self.lock_writer()?;
        writer.delete_term(Term::from_field_text(self.fields.id, &doc.id));
        writer.add_document(doc.to_tantivy(&self.fields))?;
        Ok(())
    }

    /// Removes the product `id` (a no-op if absent). Visible after [`commit`](Self::commit).
    pub fn delete(&self, id: &str) -> SearchResult<()> {
        let writer = self.lock_writer()?;
        writer.delete_term(Term::from_field_text(self.fields.id, id));
        Ok(())
    }

    /// Makes every change so far durable and visible to searches.
    pub fn commit(&self) -> SearchResult<()> {
        let mut writer = self.lock_writer()?;
        // A stale index keeps its old analyzer mark until a rebuild replaces it all.
        let payload = if self.needs_reindex() {
            self.index.load_metas()?.payload
        } else {
            Some(payload_for(&self.analyzer))
        };
        let mut prepared = writer.prepare_commit()?;
        if let Some(p) = payload {
            prepared.set_payload(&p);
        }
        prepared.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Starts replacing the whole index. Searches see the old contents until
    /// [`Rebuild::commit`]; dropping the `Rebuild` without committing discards it.
    /// Other writes wait until the rebuild ends.
    pub fn begin_rebuild(&self) -> SearchResult<Rebuild<'_>> {
        let writer = self.lock_writer()?;
        writer.delete_all_documents()?;
        Ok(Rebuild {
            index: self,
            writer: Some(writer),
            added: 0,
        })
    }

    /// Replaces the whole index with `docs` and commits; returns how many were indexed.
    pub fn rebuild<I>(&self, docs: I) -> SearchResult<u64>
    where
        I: IntoIterator<Item = ProductDocument>,
    {
        let mut rebuild = self.begin_rebuild()?;
        for doc in docs {
            rebuild.add(&doc)?;
        }
        rebuild.commit()
    }

    /// Runs a search: text with typo tolerance and 초성, filters, sort and paging.
    /// When no product matches every word, products matching some words are returned
    /// with `relaxed` set.
    pub fn search(&self, request: &SearchRequest) -> SearchResult<SearchPage> {
        check_page(request.page, request.size)?;
        let searcher = self.reader.searcher();
        let filters = || query::filter_clauses(&self.fields, &request.filters);
        let has_text = !request.query.trim().is_empty();

        let strict = query::text_query(
            &self.analyzer,
            &self.fields,
            &request.query,
            Strictness::AllWords,
        );
        if has_text && strict.is_none() {
            // Only particles or punctuation: nothing to look for.
            return Ok(SearchPage {
                total: 0,
                hits: Vec::new(),
                relaxed: false,
            });
        }
        let page = self.run(&searcher, &*query::combine(strict, filters()), request)?;
        if page.total > 0 || !has_text {
            return Ok(page);
        }
        let relaxed = query::text_query(
            &self.analyzer,
            &self.fields,
            &request.query,
            Strictness::AnyTerm,
        );
        let mut page = self.run(&searcher, &*query::combine(relaxed, filters()), request)?;
        page.relaxed = page.total > 0;
        Ok(page)
    }

    fn run(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        request: &SearchRequest,
    ) -> SearchResult<SearchPage> {
        let browsing = request.query.trim().is_empty();
        let (primary, order) = match request.sort {
            Sort::Relevance if browsing => {
                (SortByErasedType::for_field(schema::POPULARITY), Order::Desc)
            }
            Sort::Relevance => (SortByErasedType::for_score(), Order::Desc),
            Sort::Newest => (SortByErasedType::for_field(schema::CREATED_AT), Order::Desc),
            Sort::PriceAsc => (SortByErasedType::for_field(schema::PRICE), Order::Asc),
            Sort::PriceDesc => (SortByErasedType::for_field(schema::PRICE), Order::Desc),
            Sort::Popularity => (SortByErasedType::for_field(schema::POPULARITY), Order::Desc),
        };
        let scored = matches!(primary, SortByErasedType::Score);
        // Ties are broken by a hash of the id so that pages are stable and an index
        // rebuilt from scratch orders exactly like an incrementally maintained one.
        let top = TopDocs::with_limit(request.size)
            .and_offset(request.page * request.size)
            .order_by((
                (primary, order),
                (SortByErasedType::for_field(schema::TIEBREAK), Order::Asc),
            ));
        let (total, docs) = searcher.search(query, &(Count, top))?;
        let hits = docs
            .into_iter()
            .map(|((key, _), address)| {
                let score = match key {
                    OwnedValue::F64(s) if scored => Some(s as f32),
                    _ => None,
                };
                Ok(SearchHit {
                    id: self.id_of(searcher, address)?,
                    score,
                })
            })
            .collect::<SearchResult<Vec<_>>>()?;
        Ok(SearchPage {
            total,
            hits,
            relaxed: false,
        })
    }

    /// The id of a hit, from the id column (cheaper than loading the stored document).
    fn id_of(&self, searcher: &Searcher, address: DocAddress) -> SearchResult<String> {
        let segment = searcher.segment_reader(address.segment_ord);
        let mut id = String::new();
        if let Some(column) = segment.fast_fields().str(schema::ID)?
            && let Some(ord) = column.term_ords(address.doc_id).next()
        {
            column
                .ord_to_str(ord, &mut id)
                .map_err(tantivy::TantivyError::from)?;
        }
        Ok(id)
    }

    /// Products whose title words start with what was typed (the last word may be
    /// incomplete, or typed as 초성), most popular first, without duplicate titles.
    pub fn autocomplete(&self, typed: &str, limit: usize) -> SearchResult<Vec<Suggestion>> {
        let limit = limit.min(MAX_PAGE_SIZE);
        let Some(query) = query::prefix_query(&self.fields, typed) else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        // Fetch extra so that dropping duplicate titles still fills the list.
        let top = TopDocs::with_limit(limit * 3).order_by((
            (SortByErasedType::for_field(schema::POPULARITY), Order::Desc),
            (SortByErasedType::for_field(schema::TIEBREAK), Order::Asc),
        ));
        let mut seen = std::collections::HashSet::new();
        let mut suggestions = Vec::new();
        for (_, address) in searcher.search(&*query, &top)? {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |f| {
                doc.get_first(f)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let title = text(self.fields.title);
            if seen.insert(title.clone()) {
                suggestions.push(Suggestion {
                    id: text(self.fields.id),
                    title,
                });
            }
            if suggestions.len() == limit {
                break;
            }
        }
        Ok(suggestions)
    }

    fn lock_writer(&self) -> SearchResult<MutexGuard<'_, IndexWriter>> {
        self.writer.lock().map_err(|_| SearchError::WriterPoisoned)
    }
}

/// A full rebuild in progress; see [`SearchIndex::begin_rebuild`].
pub struct Rebuild<'a> {
    index: &'a SearchIndex,
    writer: Option<MutexGuard<'a, IndexWriter>>,
    added: u64,
}

impl Rebuild<'_> {
    pub fn add(&mut self, doc: &ProductDocument) -> SearchResult<()> {
        if let Some(writer) = &self.writer {
            writer.add_document(doc.to_tantivy(&self.index.fields))?;
            self.added += 1;
        }
        Ok(())
    }

    /// Number of products added so far.
    pub fn added(&self) -> u64 {
        self.added
    }

    /// Swaps the new contents in; returns how many products were indexed.
    pub fn commit(mut self) -> SearchResult<u64> {
        let Some(mut writer) = self.writer.take() else {
            return Ok(self.added);
        };
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload_for(&self.index.analyzer));
        prepared.commit()?;
        drop(writer);
        self.index.stale.store(false, AtomicOrdering::Relaxed);
        self.index.reader.reload()?;
        Ok(self.added)
    }
}

impl Drop for Rebuild<'_> {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.as_mut() {
            // Abandoned (error or early return): put the last committed state back. A
            // failure here leaves the uncommitted deletes pending, which the next
            // rollback or rebuild clears; there is no one to report it to in drop.
            let _ = writer.rollback();
        }
    }
}

fn payload_for(analyzer: &KoreanAnalyzer) -> String {
    format!("{PAYLOAD_PREFIX}{}", analyzer.kind().as_str())
}

fn check_page(page: usize, size: usize) -> SearchResult<()> {
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(SearchError::InvalidPage(format!(
            "size must be between 1 and {MAX_PAGE_SIZE}, got {size}"
        )));
    }
    let depth = page.checked_add(1).and_then(|p| p.checked_mul(size));
    match depth {
        Some(d) if d <= MAX_RESULT_WINDOW => Ok(()),
        _ => Err(SearchError::InvalidPage(format!(
            "page {page} of size {size} goes deeper than {MAX_RESULT_WINDOW} results"
        ))),
    }
}
