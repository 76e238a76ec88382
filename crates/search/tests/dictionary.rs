//! Building and loading a lindera dictionary from MeCab source, on a tiny hand-written
//! dictionary so it runs everywhere; the real one is exercised by tests/morphology.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failed test

use std::fs;
use std::path::Path;

use jangteo_search::{KoreanAnalyzer, SearchError, dictionary};

// ko-dic's column layout: surface, left id, right id, cost, then POS, meaning, final
// consonant, reading, type, first POS, last POS, expression.
const LEXICON: &str = "\
한정판,1,1,100,NNG,*,T,한정판,Compound,*,*,한정/NNG/*+판/NNG/*
도서,1,1,100,NNG,*,F,도서,*,*,*,*
를,2,2,100,JKO,*,T,를,*,*,*,*
만든,1,2,100,VV+ETM,*,T,만든,Inflect,VV,ETM,만들/VV/*+ᆫ/ETM/*
";
const UNK: &str = "\
DEFAULT,0,0,3000,SY,*,*,*,*,*,*,*
SPACE,0,0,3000,SP,*,*,*,*,*,*,*
HANGUL,1,1,8000,UNKNOWN,*,*,*,*,*,*,*
ALPHA,1,1,1000,SL,*,*,*,*,*,*,*
";
const CHAR_DEF: &str = "\
DEFAULT 0 1 0
SPACE 0 1 0
HANGUL 0 1 2
ALPHA 1 1 0

0x0020 SPACE
0x0041..0x005A ALPHA
0x0061..0x007A ALPHA
0xAC00..0xD7A3 HANGUL
";

fn write_source(dir: &Path) {
    fs::create_dir_all(dir).expect("mkdir");
    fs::write(dir.join("lexicon.csv"), LEXICON).expect("lexicon");
    fs::write(dir.join("unk.def"), UNK).expect("unk");
    fs::write(dir.join("char.def"), CHAR_DEF).expect("char.def");
    let mut matrix = String::from("3 3\n");
    for l in 0..3 {
        for r in 0..3 {
            matrix.push_str(&format!("{l} {r} 0\n"));
        }
    }
    fs::write(dir.join("matrix.def"), matrix).expect("matrix");
}

#[test]
fn builds_loads_and_analyzes_a_dictionary() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    let out = tmp.path().join("ko-dic");
    write_source(&src);

    assert!(!dictionary::is_built(&out));
    dictionary::build(&src, &out).expect("build");
    assert!(dictionary::is_built(&out));
    assert!(!tmp.path().join("ko-dic.building").exists());

    let analyzer = KoreanAnalyzer::with_dictionary(&out).expect("load");
    assert_eq!(analyzer.kind(), jangteo_search::AnalyzerKind::Morphological);
    assert_eq!(
        analyzer.terms("한정판 도서를 Rust"),
        ["한정판", "한정", "판", "도서", "rust"]
    );
    assert_eq!(analyzer.terms("만든"), ["만들"]);

    // Idempotent: a second build leaves the finished dictionary alone.
    let marker = out.join("metadata.json");
    let before = fs::metadata(&marker)
        .and_then(|m| m.modified())
        .expect("mtime");
    fs::remove_dir_all(&src).expect("rm src");
    dictionary::build(&src, &out).expect("no-op build");
    let after = fs::metadata(&marker)
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(before, after);
}

#[test]
fn missing_source_or_dictionary_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = dictionary::build(&tmp.path().join("nothing"), &tmp.path().join("out"))
        .expect_err("no source");
    assert!(matches!(err, SearchError::Dictionary { .. }), "{err}");
    assert!(err.to_string().contains("decode_mecab.py"), "{err}");

    let err = KoreanAnalyzer::with_dictionary(tmp.path()).expect_err("not built");
    assert!(err.to_string().contains("build.sh"), "{err}");
}
