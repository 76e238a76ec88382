//! Search behaviour, run with every available analyzer (the bigram fallback always, the
//! morphological one when JANGTEO_KO_DIC is set).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failed test

mod common;

use common::{analyzers, catalog, ids, ids_for, index_with, product};
use jangteo_search::{
    Filters, KoreanAnalyzer, ProductDocument, SearchError, SearchIndex, SearchRequest, Sort,
};

fn kind(a: &KoreanAnalyzer) -> &'static str {
    a.kind().as_str()
}

#[test]
fn title_match_outranks_publisher_match() {
    for a in analyzers() {
        let index = index_with(&a, &catalog());
        // p05 has 한빛 in its title, p06 only as publisher.
        assert_eq!(ids_for(&index, "한빛"), ["p05", "p06"], "{}", kind(&a));
    }
}

#[test]
fn weights_order_title_brand_category_publisher() {
    for a in analyzers() {
        let docs = vec![
            ProductDocument {
                publishers: vec!["Aurora".into()],
                ..product("by-publisher", "Plain thing")
            },
            ProductDocument {
                categories: vec!["Aurora".into()],
                ..product("by-category", "Plain thing")
            },
            ProductDocument {
                brands: vec!["Aurora".into()],
                ..product("by-brand", "Plain thing")
            },
            product("by-title", "Aurora thing"),
        ];
        let index = index_with(&a, &docs);
        assert_eq!(
            ids_for(&index, "aurora"),
            ["by-title", "by-brand", "by-category", "by-publisher"],
            "{}",
            kind(&a)
        );
    }
}

#[test]
fn korean_query_with_particle_finds_the_title() {
    for a in analyzers() {
        let index = index_with(&a, &catalog());
        let found = ids_for(&index, "한정판 도서를");
        assert_eq!(
            found.first().map(String::as_str),
            Some("p01"),
            "{}",
            kind(&a)
        );
    }
}

#[test]
fn chosung_finds_initial_consonants() {
    for a in analyzers() {
        let index = index_with(&a, &catalog());
        let mut found = ids_for(&index, "ㅎㅈㅍ");
        found.sort();
        assert_eq!(found, ["p01", "p07"], "{}", kind(&a));
        assert_eq!(ids_for(&index, "ㅎㅈㅍ ㄷㅅ"), ["p01"], "{}", kind(&a));
        assert_eq!(ids_for(&index, "ㅎㅈㅍㄷㅅ"), ["p01"], "{}", kind(&a));
        // A prefix of the initials is enough, as while typing.
        assert!(ids_for(&index, "ㅎㅈ").contains(&"p01".to_string()));
    }
}

#[test]
fn latin_words_tolerate_typos() {
    for a in analyzers() {
        let index = index_with(&a, &catalog());
        assert_eq!(ids_for(&index, "Programing"), ["p03"], "{}", kind(&a));
        assert_eq!(ids_for(&index, "rsut"), ["p03"], "{}", kind(&a));
        assert_eq!(ids_for(&index, "keybaord"), ["p04"], "{}", kind(&a));
        // Exact matches rank above typo matches.
        let docs = vec![product("exact", "Rust book"), product("typo", "Rush book")];
        let two = index_with(&a, &docs);
        assert_eq!(ids_for(&two, "rust"), ["exact", "typo"], "{}", kind(&a));
        // Short words get no tolerance: "cat" must not find "car".
        let short = index_with(&a, &[product("car", "Toy car")]);
        assert!(ids_for(&short, "cat").is_empty(), "{}", kind(&a));
    }
}

#[test]
fn filters_combine_with_relevance() {
    for a in analyzers() {
        let index = index_with(&a, &catalog());
        let mut request = SearchRequest::new("한정판");
        request.filters.category_id = Some("books".into());
        assert_eq!(ids(&index, &request), ["p01"], "{}", kind(&a));

        let browse = |filters: Filters| {
            let mut found = ids(
                &index,
                &SearchRequest {
                    filters,
                    ..SearchRequest::default()
                },
            );
            found.sort();
            found
        };
        let books = browse(Filters {
            category_id: Some("books".into()),
            ..Filters::default()
        });
        assert_eq!(books, ["p01", "p03", "p05", "p06", "p08"]);
        let cheap = browse(Filters {
            price_min: Some(12_000),
            price_max: Some(16_000),
            ..Filters::default()
        });
        assert_eq!(cheap, ["p01", "p05", "p08"]);
        let in_stock_electronics = browse(Filters {
            category_id: Some("electronics".into()),
            in_stock_only: true,
            ..Filters::default()
        });
        assert_eq!(in_stock_electronics, ["p02"]);
        let nothing = browse(Filters {
            price_min: Some(1_000_000),
            ..Filters::default()
        });
        assert!(nothing.is_empty());
    }
}

#[test]
fn sorts_and_pages() {
    let index = index_with(&KoreanAnalyzer::bigram(), &catalog());
    let sorted = |sort| {
        ids(
            &index,
            &SearchRequest {
                sort,
                ..SearchRequest::default()
            },
        )
    };
    assert_eq!(
        sorted(Sort::PriceAsc),
        ["p05", "p01", "p08", "p06", "p07", "p03", "p04", "p02"]
    );
    assert_eq!(
        sorted(Sort::PriceDesc),
        ["p02", "p04", "p03", "p07", "p06", "p08", "p01", "p05"]
    );
    assert_eq!(
        sorted(Sort::Newest),
        ["p08", "p07", "p06", "p05", "p04", "p03", "p02", "p01"]
    );
    let by_popularity = ["p02", "p07", "p03", "p06", "p04", "p01", "p08", "p05"];
    assert_eq!(sorted(Sort::Popularity), by_popularity);
    // Browsing "by relevance" has no text to be relevant to: most popular first.
    assert_eq!(sorted(Sort::Relevance), by_popularity);

    // A sort applies to the text matches only.
    // "도서" is p01's title and the category name of every book.
    let mut books_by_price = SearchRequest::new("도서");
    books_by_price.sort = Sort::PriceDesc;
    assert_eq!(
        ids(&index, &books_by_price),
        ["p03", "p06", "p08", "p01", "p05"]
    );

    // Pages of 3 partition the full order, and every page reports the full total.
    let mut seen = Vec::new();
    for page in 0..3 {
        let result = index
            .search(&SearchRequest {
                sort: Sort::Popularity,
                page,
                size: 3,
                ..SearchRequest::default()
            })
            .expect("page");
        assert_eq!(result.total, 8);
        seen.extend(result.hits.into_iter().map(|h| h.id));
    }
    assert_eq!(seen, by_popularity);
}

#[test]
fn page_bounds_are_enforced() {
    let index = index_with(&KoreanAnalyzer::bigram(), &catalog());
    for (page, size) in [(0, 0), (0, 101), (100, 100), (usize::MAX, 2)] {
        let result = index.search(&SearchRequest {
            page,
            size,
            ..SearchRequest::default()
        });
        assert!(
            matches!(result, Err(SearchError::InvalidPage(_))),
            "page {page} size {size}"
        );
    }
    assert!(
        index
            .search(&SearchRequest {
                page: 99,
                size: 100,
                ..SearchRequest::default()
            })
            .is_ok()
    );
}

#[test]
fn no_full_match_falls_back_to_similar_results() {
    for a in analyzers() {
        let index = index_with(&a, &catalog());
        let page = index
            .search(&SearchRequest::new("한정판 자동차"))
            .expect("search");
        assert!(page.relaxed, "{}", kind(&a));
        let mut found: Vec<_> = page.hits.into_iter().map(|h| h.id).collect();
        found.sort();
        assert_eq!(found, ["p01", "p07"], "{}", kind(&a));

        let exact = index.search(&SearchRequest::new("한정판")).expect("search");
        assert!(!exact.relaxed);
    }
}

#[test]
fn upsert_replaces_and_delete_removes() {
    for a in analyzers() {
        let index = index_with(&a, &catalog());
        assert_eq!(index.num_docs(), 8);

        let mut renamed = catalog()[2].clone();
        renamed.title = "Go Programming".into();
        index.upsert(&renamed).expect("upsert");
        // Not visible before commit.
        assert_eq!(ids_for(&index, "rust"), ["p03"]);
        index.commit().expect("commit");
        assert!(ids_for(&index, "rust").is_empty(), "{}", kind(&a));
        assert_eq!(ids_for(&index, "go programming"), ["p03"]);
        assert_eq!(index.num_docs(), 8);

        index.delete("p03").expect("delete");
        index.delete("no-such-product").expect("delete absent");
        index.commit().expect("commit");
        assert!(ids_for(&index, "programming").is_empty());
        assert_eq!(index.num_docs(), 7);
    }
}

/// Every request the equivalence test compares.
fn probe_requests() -> Vec<SearchRequest> {
    let mut requests = Vec::new();
    for query in [
        "",
        "한정판",
        "도서",
        "한빛",
        "programming",
        "rust",
        "ㅎㅈㅍ",
        "전자기기",
        "press",
        "keybaord",
        "한정판 자동차",
        "음반",
    ] {
        for sort in [
            Sort::Relevance,
            Sort::Newest,
            Sort::PriceAsc,
            Sort::PriceDesc,
            Sort::Popularity,
        ] {
            for filters in [
                Filters::default(),
                Filters {
                    category_id: Some("books".into()),
                    in_stock_only: true,
                    price_max: Some(40_000),
                    ..Filters::default()
                },
            ] {
                requests.push(SearchRequest {
                    query: query.into(),
                    filters,
                    sort,
                    page: 0,
                    size: 100,
                });
            }
        }
    }
    requests
}

#[test]
fn rebuilt_index_equals_incrementally_maintained_one() {
    for a in analyzers() {
        let mut expected = catalog();
        let incremental = SearchIndex::in_memory(a.clone()).expect("index");
        // Several commits, so the incremental index has several segments and deletes.
        for chunk in catalog().chunks(3) {
            for doc in chunk {
                incremental.upsert(doc).expect("upsert");
            }
            incremental.commit().expect("commit");
        }
        incremental
            .upsert(&product("gone", "곧 삭제될 상품"))
            .expect("upsert");
        incremental.commit().expect("commit");
        incremental.delete("gone").expect("delete");
        expected[1].price = 99_000;
        expected[1].popularity = 5;
        expected[4].title = "한빛 이야기 개정판".into();
        expected[6].in_stock = false;
        for changed in [&expected[1], &expected[4], &expected[6]] {
            incremental.upsert(changed).expect("upsert");
        }
        incremental.delete("p08").expect("delete");
        expected.remove(7);
        incremental.commit().expect("commit");

        let rebuilt = SearchIndex::in_memory(a.clone()).expect("index");
        rebuilt
            .upsert(&product("stale", "지워질 예전 내용"))
            .expect("upsert");
        rebuilt.commit().expect("commit");
        assert_eq!(rebuilt.rebuild(expected.clone()).expect("rebuild"), 7);

        assert_eq!(incremental.num_docs(), rebuilt.num_docs());
        for request in probe_requests() {
            let want = rebuilt.search(&request).expect("search");
            let got = incremental.search(&request).expect("search");
            let want_ids: Vec<_> = want.hits.iter().map(|h| &h.id).collect();
            let got_ids: Vec<_> = got.hits.iter().map(|h| &h.id).collect();
            assert_eq!(got_ids, want_ids, "{} {request:?}", kind(&a));
            assert_eq!(got.total, want.total);
            assert_eq!(got.relaxed, want.relaxed);
        }
    }
}

#[test]
fn abandoned_rebuild_keeps_the_old_contents() {
    let index = index_with(&KoreanAnalyzer::bigram(), &catalog());
    {
        let mut rebuild = index.begin_rebuild().expect("begin");
        rebuild.add(&product("only", "유일한 상품")).expect("add");
        assert_eq!(rebuild.added(), 1);
        // Dropped without commit, as on an error half-way through a reindex.
    }
    assert_eq!(index.num_docs(), 8);
    index.commit().expect("commit");
    assert_eq!(index.num_docs(), 8);
    assert!(ids_for(&index, "유일한").is_empty());
}

#[test]
fn autocomplete_completes_title_words() {
    for a in analyzers() {
        let index = index_with(&a, &catalog());
        let titles = |typed: &str| -> Vec<String> {
            index
                .autocomplete(typed, 5)
                .expect("autocomplete")
                .into_iter()
                .map(|s| s.title)
                .collect()
        };
        // Most popular first: p07 (200) before p01 (50).
        assert_eq!(
            titles("한정"),
            ["Limited Edition Vinyl 한정판 음반", "한정판 도서"],
            "{}",
            kind(&a)
        );
        assert_eq!(titles("ㅎㅈ"), titles("한정"));
        assert_eq!(titles("rust prog"), ["Rust Programming Language"]);
        assert_eq!(titles("Mecha"), ["Mechanical Keyboard 기계식 키보드"]);
        // One typo allowed in a longer Latin prefix.
        assert_eq!(titles("progrm"), ["Rust Programming Language"]);
        // A finished word must match whole.
        assert!(titles("rus ").is_empty());
        assert!(titles("").is_empty());
        assert_eq!(index.autocomplete("한", 1).expect("one").len(), 1);
    }
}

#[test]
fn on_disk_index_persists_and_notices_an_analyzer_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("search");
    {
        let index = SearchIndex::open_or_create(&path, KoreanAnalyzer::bigram()).expect("create");
        assert!(!index.needs_reindex());
        index.rebuild(catalog()).expect("rebuild");
    }
    {
        let index = SearchIndex::open_or_create(&path, KoreanAnalyzer::bigram()).expect("reopen");
        assert_eq!(index.num_docs(), 8);
        assert!(!index.needs_reindex());
        assert_eq!(ids_for(&index, "한정판 도서"), ["p01"]);
    }
    if let Some(morph) = common::morphological() {
        let index = SearchIndex::open_or_create(&path, morph.clone()).expect("reopen");
        assert!(index.needs_reindex());
        // Ordinary writes do not hide that the bulk of the index is stale.
        index.upsert(&product("new", "새 상품")).expect("upsert");
        index.commit().expect("commit");
        drop(index);
        let index = SearchIndex::open_or_create(&path, morph.clone()).expect("reopen");
        assert!(index.needs_reindex());
        index.rebuild(catalog()).expect("rebuild");
        assert!(!index.needs_reindex());
        drop(index);
        let index = SearchIndex::open_or_create(&path, morph).expect("reopen");
        assert!(!index.needs_reindex());
    }
}

#[test]
fn a_query_of_particles_or_punctuation_finds_nothing() {
    for a in analyzers() {
        let index = index_with(&a, &catalog());
        let page = index
            .search(&SearchRequest::new("!!! ..."))
            .expect("search");
        assert_eq!(page.total, 0, "{}", kind(&a));
        assert!(page.hits.is_empty());
    }
}

#[test]
fn an_empty_index_answers_every_kind_of_request() {
    let index = SearchIndex::in_memory(KoreanAnalyzer::bigram()).expect("index");
    for request in probe_requests() {
        let page = index.search(&request).expect("search");
        assert_eq!(page.total, 0);
    }
    assert!(
        index
            .autocomplete("한정", 5)
            .expect("autocomplete")
            .is_empty()
    );
    assert_eq!(index.num_docs(), 0);
}

#[test]
fn the_index_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<SearchIndex>();
    shareable::<KoreanAnalyzer>();

    let index = std::sync::Arc::new(index_with(&KoreanAnalyzer::bigram(), &catalog()));
    let writers: Vec<_> = (0..4)
        .map(|i| {
            let index = index.clone();
            std::thread::spawn(move || {
                index
                    .upsert(&product(&format!("t{i}"), "스레드 상품"))
                    .expect("upsert");
                index.search(&SearchRequest::new("상품")).expect("search");
            })
        })
        .collect();
    for w in writers {
        w.join().expect("thread");
    }
    index.commit().expect("commit");
    assert_eq!(ids_for(&index, "스레드 상품").len(), 4);
}
