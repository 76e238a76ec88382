//! Product search wired to the catalog. Catalog writes record domain events in their unit
//! of work; the outbox relay hands them in batches to the search subscriber
//! (`outbox/subscribers/search_index.rs`), which loads the products and upserts (or
//! removes) their documents with one tantivy commit per batch — so a burst of writes costs
//! one commit, the request that wrote never waits for the index, and a change committed
//! before a crash is indexed after the restart. `jangteo reindex` rebuilds the whole index
//! from the database.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jangteo_core::catalog::ProductStatus;
use jangteo_core::ids::{CategoryId, ProductId, UserId};
use jangteo_search::{
    KoreanAnalyzer, PopularTerms, ProductDocument, SearchIndex, SearchPage, SearchRequest,
    Suggestion,
};
use jangteo_store::ConnectionTrait;
use jangteo_store::catalog::{self as store, ListCursor, ProductFilter, ProductSort};
use jangteo_store::catalog::{Category, Product};

use crate::catalog::ProductSummary;
use crate::ports::{LocalReadCache, ReadCache};
use crate::{ServiceError, ServiceResult, Services};

/// Most products read and indexed per tantivy commit.
pub(crate) const BATCH: usize = 1_000;

pub struct Search {
    /// None for processes that do not own the index (CLI commands): tantivy allows one
    /// writer per index directory, and that is the server's.
    index: Option<Arc<SearchIndex>>,
    terms: Mutex<PopularTerms>,
    /// Result pages of recent queries, as returned. Keyed by the index generation (bumped
    /// by every index commit) and the catalog generation (bumped by every catalog write, so
    /// prices and stock on the page are current), so a cached page never outlives either;
    /// a hot query costs one cache lookup instead of a tantivy search and three queries.
    pages: Arc<dyn ReadCache<Arc<SearchResults>>>,
    generation: AtomicU64,
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("search: {e}"))
}

impl Search {
    /// Opens (or creates) the index in `dir`, with Korean morphology when a dictionary is
    /// given and the bigram fallback otherwise.
    pub fn open(dir: &Path, dictionary: Option<&Path>) -> anyhow::Result<Self> {
        // The dictionary's error names its directory and how to build one (a
        // `JANGTEO_KO_DIC` pointing at nothing is the usual cause); only the index's is
        // about the index directory, which another process may hold.
        let analyzer = KoreanAnalyzer::new(dictionary).map_err(|e| anyhow::anyhow!("{e}"))?;
        let index = SearchIndex::open_or_create(dir, analyzer).map_err(|e| {
            anyhow::anyhow!(
                "opening the search index in {} (is another jangteo process using it?): {e}",
                dir.display()
            )
        })?;
        Ok(Self::with_index(Some(Arc::new(index))))
    }

    /// A search that indexes nothing and answers 503: for commands that run beside a server.
    pub fn disabled() -> Self {
        Self::with_index(None)
    }

    fn with_index(index: Option<Arc<SearchIndex>>) -> Self {
        Self {
            index,
            // Popular terms of the last hour, in one-minute buckets, 10,000 distinct terms.
            terms: Mutex::new(PopularTerms::new(
                Duration::from_secs(3600),
                Duration::from_secs(60),
                10_000,
            )),
            pages: Arc::new(LocalReadCache::new(10_000, Duration::from_secs(300))),
            generation: AtomicU64::new(0),
        }
    }

    /// Keeps result pages in `cache` instead of this process's memory (cluster mode).
    pub fn with_page_cache(mut self, cache: Arc<dyn ReadCache<Arc<SearchResults>>>) -> Self {
        self.pages = cache;
        self
    }

    /// Called after every index commit: cached result pages are from now on stale.
    fn committed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn index(&self) -> ServiceResult<Arc<SearchIndex>> {
        self.index
            .clone()
            .ok_or(ServiceError::Unavailable("search"))
    }

    /// Documents in the index (0 when disabled).
    pub fn num_docs(&self) -> u64 {
        self.index.as_ref().map_or(0, |i| i.num_docs())
    }

    pub fn analyzer_name(&self) -> &'static str {
        self.index
            .as_ref()
            .map_or("disabled", |i| i.analyzer().kind().as_str())
    }

    /// True when the index was built with another analyzer (e.g. the dictionary was
    /// installed since) and should be rebuilt.
    pub fn needs_reindex(&self) -> bool {
        self.index.as_ref().is_some_and(|i| i.needs_reindex())
    }

    /// True when this process owns the index (the server; not CLI commands).
    pub fn is_enabled(&self) -> bool {
        self.index.is_some()
    }

    /// Re-reads `ids` and upserts their documents (removing those no longer public), in
    /// one index commit.
    /// Reads through `c`: the subscriber's transaction (SQLite has one connection).
    pub(crate) async fn index_products(
        &self,
        c: &impl ConnectionTrait,
        ids: &[ProductId],
    ) -> ServiceResult<()> {
        let index = self.index()?;
        let docs = documents(c, store::find_products(c, ids).await?).await?;
        let ids = ids.to_vec();
        tokio::task::spawn_blocking(move || -> ServiceResult<()> {
            let present: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
            for id in &ids {
                let id = id.to_string();
                if !present.contains(id.as_str()) {
                    index.delete(&id).map_err(internal)?;
                }
            }
            for doc in &docs {
                index.upsert(doc).map_err(internal)?;
            }
            index.commit().map_err(internal)
        })
        .await
        .map_err(internal)??;
        self.committed();
        Ok(())
    }

    fn record_term(&self, query: &str, client: &str, at: std::time::SystemTime) {
        self.terms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(query, client, at);
    }
}

/// Search documents for the public products among `rows`; drafts, hidden and deleted
/// products get none (and are removed from the index).
async fn documents(
    db: &impl ConnectionTrait,
    rows: Vec<Product>,
) -> ServiceResult<Vec<ProductDocument>> {
    let rows: Vec<Product> = rows
        .into_iter()
        .filter(|p| p.deleted_at.is_none() && p.status.is_public())
        .collect();
    let ids: Vec<ProductId> = rows.iter().map(|p| p.id).collect();
    let all_categories = store::list_categories(db).await?;
    let by_simple: HashMap<String, &Category> = all_categories
        .iter()
        .map(|c| (c.id.uuid().simple().to_string(), c))
        .collect();
    let mut links: HashMap<ProductId, Vec<CategoryId>> = HashMap::new();
    for (product, category) in store::category_links(db, &ids).await? {
        links.entry(product).or_default().push(category);
    }
    let in_stock = store::products_in_stock(db, &ids).await?;
    let seller_ids: Vec<UserId> = rows
        .iter()
        .map(|p| p.seller_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let shops: HashMap<UserId, String> = store::shop_names(db, &seller_ids)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|p| {
            // A category's path lists its ancestors, so a product in 소설 is also found
            // under 도서.
            let mut category_ids = Vec::new();
            let mut category_names = Vec::new();
            for cid in links.get(&p.id).into_iter().flatten() {
                let Some(cat) = all_categories.iter().find(|c| c.id == *cid) else {
                    continue;
                };
                for simple in cat.path.split('/').filter(|s| !s.is_empty()) {
                    if let Some(c) = by_simple.get(simple)
                        && !category_ids.contains(&c.id.to_string())
                    {
                        category_ids.push(c.id.to_string());
                        category_names.push(c.name.clone());
                    }
                }
            }
            ProductDocument {
                id: p.id.to_string(),
                title: p.name,
                brands: p.brand.into_iter().collect(),
                categories: category_names,
                publishers: p
                    .publisher
                    .into_iter()
                    .chain(shops.get(&p.seller_id).cloned())
                    .collect(),
                category_ids,
                price: u64::try_from(p.price.minor()).unwrap_or(0),
                in_stock: in_stock.contains(&p.id),
                created_at_ms: p.created_at.timestamp_millis(),
                popularity: u64::try_from(p.sales_count).unwrap_or(0),
            }
        })
        .collect())
}

#[derive(Clone)]
pub struct SearchResults {
    pub total: usize,
    pub relaxed: bool,
    pub items: Vec<ProductSummary>,
}

impl Services {
    /// Runs a search and returns the matching products in result order, as listing
    /// summaries read from the database (so prices and stock are current).
    /// `client` identifies the searcher (user id or address) for the popular terms, which
    /// count a search only when it found products for every word.
    pub async fn search_products(
        &self,
        mut request: SearchRequest,
        client: &str,
    ) -> ServiceResult<SearchResults> {
        // A page past the deepest reachable result is empty, like any page past the end;
        // its total still comes from a search (of one hit).
        let depth = request
            .page
            .checked_add(1)
            .and_then(|p| p.checked_mul(request.size));
        if depth.is_none_or(|d| d > jangteo_search::query::MAX_RESULT_WINDOW) {
            request.page = 0;
            request.size = 1;
            let mut first = Box::pin(self.search_products(request, client)).await?;
            first.items.clear();
            return Ok(first);
        }
        let index = self.search.index()?;
        let query = request.query.clone();
        let key = format!(
            "{}|{}|{}",
            self.search.generation.load(Ordering::SeqCst),
            self.catalog_cache.generation(),
            serde_json::to_string(&request).map_err(internal)?
        );
        // Concurrent misses of one query run it once; the others wait for that result.
        let results = self
            .search
            .pages
            .get_or_load(
                &key,
                Box::pin(async move {
                    let page = tokio::task::spawn_blocking(move || index.search(&request))
                        .await
                        .map_err(internal)?
                        .map_err(|e| match e {
                            jangteo_search::SearchError::InvalidPage(msg) => {
                                ServiceError::Validation(jangteo_core::FieldErrors::single(
                                    "page",
                                    "out_of_range",
                                    msg,
                                ))
                            }
                            other => internal(other),
                        })?;
                    self.page_results(page).await.map(Arc::new)
                }),
            )
            .await?;
        if results.total > 0 && !results.relaxed {
            self.search
                .record_term(&query, client, self.clock.now().into());
        }
        Ok(results.as_ref().clone())
    }

    /// The products of a result page, in result order, as listing summaries read from the
    /// database (current prices and stock).
    async fn page_results(&self, page: SearchPage) -> ServiceResult<SearchResults> {
        let ids: Vec<ProductId> = page.hits.iter().filter_map(|h| h.id.parse().ok()).collect();
        let summaries = self.catalog().summaries_by_id(&ids).await?;
        let items = ids
            .iter()
            .filter_map(|id| summaries.iter().find(|s| s.id == *id).cloned())
            .collect();
        Ok(SearchResults {
            total: page.total,
            relaxed: page.relaxed,
            items,
        })
    }

    pub async fn autocomplete(&self, typed: &str, limit: usize) -> ServiceResult<Vec<Suggestion>> {
        let index = self.search.index()?;
        let typed = typed.to_owned();
        tokio::task::spawn_blocking(move || index.autocomplete(&typed, limit))
            .await
            .map_err(internal)?
            .map_err(internal)
    }

    /// Most searched terms of the last hour.
    pub fn popular_terms(&self, limit: usize) -> Vec<(String, u64)> {
        let now = self.clock.now().into();
        self.search
            .terms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .top(limit, now)
    }

    /// Rebuilds the index from every public product, calling `progress(done)` as it goes.
    /// Searches keep answering from the old index until the rebuild commits.
    pub async fn reindex(&self, mut progress: impl FnMut(u64)) -> ServiceResult<u64> {
        let filter = ProductFilter {
            statuses: vec![ProductStatus::OnSale, ProductStatus::SoldOut],
            ..ProductFilter::default()
        };
        let index = self.search.index()?;
        let mut rebuild = index.begin_rebuild().map_err(internal)?;
        let mut after: Option<ListCursor> = None;
        loop {
            let rows =
                store::list_products(&self.db, &filter, ProductSort::Newest, after, BATCH as u64)
                    .await?;
            let Some(last) = rows.last() else { break };
            after = Some(ListCursor {
                key: 0,
                id: last.id,
            });
            let n = rows.len();
            for doc in documents(&self.db, rows).await? {
                rebuild.add(&doc).map_err(internal)?;
            }
            progress(rebuild.added());
            if n < BATCH {
                break;
            }
        }
        // The final commit blocks for a moment; a rebuild is an operator's action (the CLI, or
        // once at start), not a request path.
        let added = rebuild.commit().map_err(internal)?;
        self.search.committed();
        Ok(added)
    }
}

impl Services {
    /// Rebuilds the index when it is empty while the catalog has public products, or when
    /// it was built with another analyzer (e.g. the dictionary was installed since).
    pub async fn search_catch_up(&self) -> ServiceResult<Option<u64>> {
        if self.search.index.is_none() {
            return Ok(None);
        }
        let filter = ProductFilter {
            statuses: vec![ProductStatus::OnSale, ProductStatus::SoldOut],
            ..ProductFilter::default()
        };
        let any = !store::list_products(&self.db, &filter, ProductSort::Newest, None, 1)
            .await?
            .is_empty();
        // An empty index with public products and no events on their way (a data directory
        // restored without its index, or one from before the outbox) is rebuilt; pending
        // events are the relay's to index.
        let unindexed = any
            && self.search.num_docs() == 0
            && jangteo_store::outbox::count(
                &self.db,
                Some(jangteo_store::outbox::EventStatus::Pending),
            )
            .await?
                == 0;
        if self.search.needs_reindex() || unindexed {
            return Ok(Some(self.reindex(|_| {}).await?));
        }
        Ok(None)
    }
}
