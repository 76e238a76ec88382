//! Test support: panicking on a broken fixture is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)] // each test binary uses a different part of this module

use std::sync::OnceLock;

use jangteo_search::{KoreanAnalyzer, ProductDocument, SearchIndex, SearchRequest, dictionary};

/// The analyzers to run behaviour tests with: always the dictionary-free one, plus the
/// morphological one when `JANGTEO_KO_DIC` names a built dictionary.
pub fn analyzers() -> Vec<KoreanAnalyzer> {
    let mut all = vec![KoreanAnalyzer::bigram()];
    if let Some(a) = morphological() {
        all.push(a);
    }
    all
}

/// The morphological analyzer when `JANGTEO_KO_DIC` names a dictionary. A set but broken
/// dictionary fails the test rather than quietly testing less.
/// Loaded once per test binary: loading takes a while in a debug build.
pub fn morphological() -> Option<KoreanAnalyzer> {
    static MORPH: OnceLock<Option<KoreanAnalyzer>> = OnceLock::new();
    MORPH
        .get_or_init(|| {
            let dir = dictionary::dir_from_env()?;
            match KoreanAnalyzer::with_dictionary(&dir) {
                Ok(a) => Some(a),
                Err(e) => panic!("{} is set but unusable: {e}", dictionary::DICTIONARY_ENV),
            }
        })
        .clone()
}

pub fn require_morphology() -> KoreanAnalyzer {
    morphological().unwrap_or_else(|| {
        panic!(
            "this test needs the Korean dictionary: run scripts/ko-dic/build.sh and set {}",
            dictionary::DICTIONARY_ENV
        )
    })
}

pub fn product(id: &str, title: &str) -> ProductDocument {
    ProductDocument {
        id: id.into(),
        title: title.into(),
        in_stock: true,
        ..ProductDocument::default()
    }
}

/// A small mixed Korean/English catalog, one product per line.
#[rustfmt::skip]
pub fn catalog() -> Vec<ProductDocument> {
    let mut docs = Vec::new();
    let mut add = |id: &str,
                   title: &str,
                   brands: &[&str],
                   categories: &[(&str, &str)],
                   publishers: &[&str],
                   price: u64,
                   in_stock: bool,
                   created_at_ms: i64,
                   popularity: u64| {
        docs.push(ProductDocument {
            id: id.into(),
            title: title.into(),
            brands: brands.iter().map(|s| s.to_string()).collect(),
            categories: categories.iter().map(|c| c.1.to_string()).collect(),
            publishers: publishers.iter().map(|s| s.to_string()).collect(),
            category_ids: categories.iter().map(|c| c.0.to_string()).collect(),
            price,
            in_stock,
            created_at_ms,
            popularity,
        });
    };
    let books = ("books", "도서");
    add("p01", "한정판 도서", &["김작가"], &[books, ("novels", "소설")], &["문학동네"], 15_000, true, 1_000, 50);
    add("p02", "삼성전자 무선 이어폰 갤럭시 버즈", &["삼성"], &[("electronics", "전자기기"), ("audio", "음향")], &["삼성스토어"], 159_000, true, 2_000, 300);
    add("p03", "Rust Programming Language", &["Steve Klabnik"], &[books, ("computers", "컴퓨터")], &["No Starch Press"], 45_000, true, 3_000, 120);
    add("p04", "Mechanical Keyboard 기계식 키보드", &["Logitech"], &[("electronics", "전자기기"), ("peripherals", "주변기기")], &["로지텍코리아"], 89_000, false, 4_000, 80);
    add("p05", "한빛 이야기", &[], &[books], &["문학과지성사"], 12_000, true, 5_000, 10);
    add("p06", "파이썬 입문", &["이저자"], &[books, ("computers", "컴퓨터")], &["한빛"], 18_000, true, 6_000, 90);
    add("p07", "Limited Edition Vinyl 한정판 음반", &["밴드"], &[("music", "음반")], &["Press Records"], 39_000, true, 7_000, 200);
    add("p08", "빵을 만든 사람들", &["박제빵"], &[books], &["요리책방"], 16_000, true, 8_000, 30);
    docs
}

pub fn index_with(analyzer: &KoreanAnalyzer, docs: &[ProductDocument]) -> SearchIndex {
    let index = SearchIndex::in_memory(analyzer.clone()).expect("in-memory index");
    for doc in docs {
        index.upsert(doc).expect("upsert");
    }
    index.commit().expect("commit");
    index
}

/// Ids of the first page (up to 100) for `request`.
pub fn ids(index: &SearchIndex, request: &SearchRequest) -> Vec<String> {
    let mut request = request.clone();
    request.size = 100;
    index
        .search(&request)
        .expect("search")
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

pub fn ids_for(index: &SearchIndex, query: &str) -> Vec<String> {
    ids(index, &SearchRequest::new(query))
}
