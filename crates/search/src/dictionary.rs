//! The Korean dictionary (mecab-ko-dic compiled for lindera), obtained at run time.
//!
//! lindera's `embed-ko-dic` feature downloads the dictionary in a build script, which cannot
//! work offline, so jangteo builds the lindera dictionary from MeCab source decoded out of the
//! `python-mecab-ko-dic` wheel (see `scripts/ko-dic/build.sh`) and loads it from a directory.

use std::fs;
use std::path::{Path, PathBuf};

use lindera::dictionary::{Dictionary, DictionaryBuilder, Metadata};

use crate::error::{SearchError, SearchResult};

/// Environment variable naming a built dictionary directory.
pub const DICTIONARY_ENV: &str = "JANGTEO_KO_DIC";

/// Where `scripts/ko-dic/build.sh` puts the dictionary by default (relative to the cwd).
pub const DEFAULT_DICTIONARY_DIR: &str = "data/ko-dic";

// The source-side metadata lindera-ko-dic 6.2.0 ships (MIT): it names the CSV columns and the
// left-space penalties mecab-ko-dic uses. Vendored so building needs only the wheel.
const SOURCE_METADATA: &str = include_str!("../ko-dic/metadata.json");
// Context-id access histogram from the same crate; only orders the cost matrix for locality.
const CONTEXT_ID_FREQ: &str = include_str!("../ko-dic/context_id_freq.txt");

// Files lindera writes; their presence is what "already built" means.
const BUILT_FILES: [&str; 2] = ["metadata.json", "matrix.mtx"];
// A marker written last, so an interrupted build is never taken for a finished one.
const COMPLETE_MARKER: &str = ".jangteo-complete";

/// True when `dir` holds a completely built lindera dictionary.
pub fn is_built(dir: &Path) -> bool {
    dir.join(COMPLETE_MARKER).is_file() && BUILT_FILES.iter().all(|f| dir.join(f).is_file())
}

/// Builds a lindera dictionary in `out` from decoded mecab-ko-dic source in `src`
/// (lexicon CSV, matrix.def, char.def, unk.def as written by `decode_mecab.py`).
///
/// Does nothing when `out` already holds a complete build.
pub fn build(src: &Path, out: &Path) -> SearchResult<()> {
    if is_built(out) {
        return Ok(());
    }
    let metadata: Metadata =
        serde_json::from_str(SOURCE_METADATA).map_err(|e| dictionary_error(src, e))?;
    for required in ["matrix.def", "char.def", "unk.def"] {
        if !src.join(required).is_file() {
            return Err(SearchError::Dictionary {
                path: src.to_path_buf(),
                message: format!("{required} is missing; run scripts/ko-dic/decode_mecab.py first"),
            });
        }
    }
    // The builder takes the histogram as a path; keep it beside the source it describes.
    let freq = src.join("context_id_freq.txt");
    fs::write(&freq, CONTEXT_ID_FREQ).map_err(|e| io_error(&freq, e))?;

    // Build next to the target and rename, so readers never see a half-written dictionary.
    let staging = staging_dir(out);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| io_error(&staging, e))?;
    }
    DictionaryBuilder::new(metadata)
        .with_context_id_freq(&freq)
        .build_dictionary(src, &staging)
        .map_err(|e| dictionary_error(src, e))?;
    let marker = staging.join(COMPLETE_MARKER);
    fs::write(&marker, "built from python-mecab-ko-dic by jangteo\n")
        .map_err(|e| io_error(&marker, e))?;
    if out.exists() {
        fs::remove_dir_all(out).map_err(|e| io_error(out, e))?;
    }
    fs::rename(&staging, out).map_err(|e| io_error(out, e))?;
    Ok(())
}

/// Loads a built dictionary from `dir`.
pub fn load(dir: &Path) -> SearchResult<Dictionary> {
    if !is_built(dir) {
        return Err(SearchError::Dictionary {
            path: dir.to_path_buf(),
            message: "not a built dictionary; run scripts/ko-dic/build.sh".into(),
        });
    }
    let uri = dir.to_str().ok_or_else(|| SearchError::Dictionary {
        path: dir.to_path_buf(),
        message: "path is not valid UTF-8".into(),
    })?;
    lindera::dictionary::load_dictionary(uri).map_err(|e| dictionary_error(dir, e))
}

/// The dictionary directory named by `JANGTEO_KO_DIC`, if set and non-empty.
pub fn dir_from_env() -> Option<PathBuf> {
    std::env::var_os(DICTIONARY_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The dictionary to use by default: `JANGTEO_KO_DIC` if set, else `data/ko-dic` (where
/// the build script puts it) if a finished build is there, else none (bigram fallback).
pub fn locate() -> Option<PathBuf> {
    dir_from_env().or_else(|| {
        let default = PathBuf::from(DEFAULT_DICTIONARY_DIR);
        is_built(&default).then_some(default)
    })
}

fn staging_dir(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".building");
    out.with_file_name(name)
}

fn dictionary_error(path: &Path, e: impl std::fmt::Display) -> SearchError {
    SearchError::Dictionary {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> SearchError {
    SearchError::Io {
        path: path.to_path_buf(),
        source,
    }
}
