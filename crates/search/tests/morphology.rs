//! Korean morphology with the real mecab-ko-dic. Needs JANGTEO_KO_DIC at build time (see
//! scripts/ko-dic/build.sh); without it these tests are reported as ignored, with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failed test

mod common;

use common::{catalog, ids_for, index_with, product};

#[test]
#[cfg_attr(
    not(jangteo_ko_dic),
    ignore = "needs the Korean dictionary: run scripts/ko-dic/build.sh, set JANGTEO_KO_DIC"
)]
fn particles_and_endings_are_dropped_stems_kept() {
    let a = common::require_morphology();
    assert_eq!(
        a.terms("한정판 도서를 예약했습니다"),
        ["한정판", "한정", "판", "도서", "예약"]
    );
    assert_eq!(a.terms("빵을 만든 사람들"), ["빵", "만들", "사람"]);
}

#[test]
#[cfg_attr(
    not(jangteo_ko_dic),
    ignore = "needs the Korean dictionary: run scripts/ko-dic/build.sh, set JANGTEO_KO_DIC"
)]
fn compounds_are_indexed_whole_and_by_parts() {
    let a = common::require_morphology();
    assert_eq!(
        a.terms("삼성전자무선이어폰"),
        ["삼성전자", "삼성", "전자", "무선", "이어폰"]
    );
    let index = index_with(&a, &catalog());
    for query in ["삼성전자", "삼성", "전자", "무선 이어폰"] {
        // Keyboards match 전자 too, by their category 전자기기 (= 전자 + 기기).
        assert_eq!(
            ids_for(&index, query).first().map(String::as_str),
            Some("p02"),
            "{query}"
        );
    }
    assert_eq!(ids_for(&index, "삼성전자무선이어폰"), ["p02"]);
}

#[test]
#[cfg_attr(
    not(jangteo_ko_dic),
    ignore = "needs the Korean dictionary: run scripts/ko-dic/build.sh, set JANGTEO_KO_DIC"
)]
fn inflected_query_finds_the_title() {
    let a = common::require_morphology();
    let index = index_with(&a, &catalog());
    assert_eq!(ids_for(&index, "한정판 도서를"), ["p01"]);
    assert_eq!(ids_for(&index, "한정판 도서는"), ["p01"]);
    // A different form of the verb in 만든: found through the stem 만들.
    assert_eq!(ids_for(&index, "빵 만드는"), ["p08"]);
}

#[test]
#[cfg_attr(
    not(jangteo_ko_dic),
    ignore = "needs the Korean dictionary: run scripts/ko-dic/build.sh, set JANGTEO_KO_DIC"
)]
fn morphology_avoids_bigram_false_matches() {
    let a = common::require_morphology();
    let docs = [product("a", "한정판 도서"), product("b", "정판 모음")];
    let morph = index_with(&a, &docs);
    // With bigrams "정판" also matches inside 한정판; with morphology it is its own word.
    assert_eq!(ids_for(&morph, "정판"), ["b"]);
    let bigram = index_with(&jangteo_search::KoreanAnalyzer::bigram(), &docs);
    let mut both = ids_for(&bigram, "정판");
    both.sort();
    assert_eq!(both, ["a", "b"]);
}
