//! Text analysis: Korean morphology when a dictionary is available, CJK bigrams otherwise.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use lindera::dictionary::Lattice;
use lindera::mode::Mode;
use lindera::segmenter::Segmenter;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::UnicodeNormalization;

use crate::dictionary;
use crate::error::SearchResult;

// Longer "words" are noise (URLs, serials); tantivy also refuses terms over ~65 KB.
const MAX_TERM_CHARS: usize = 64;

/// Which analysis an index was built with; an index must be queried with the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyzerKind {
    /// mecab-ko-dic through lindera: stems, compounds and their parts.
    Morphological,
    /// No dictionary: overlapping character bigrams for Hangul/CJK runs.
    Bigram,
}

impl AnalyzerKind {
    /// Stable name stored with the index to detect a change of analyzer.
    pub fn as_str(self) -> &'static str {
        match self {
            AnalyzerKind::Morphological => "morph-ko-dic",
            AnalyzerKind::Bigram => "bigram",
        }
    }
}

/// The analyzer used for title, brand, category and publisher fields and for queries.
///
/// Cheap to clone: the dictionary is shared.
#[derive(Clone)]
pub struct KoreanAnalyzer {
    segmenter: Option<Arc<Segmenter>>,
}

impl std::fmt::Debug for KoreanAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KoreanAnalyzer")
            .field("kind", &self.kind())
            .finish()
    }
}

impl KoreanAnalyzer {
    /// The dictionary-free analyzer (bigrams for Hangul/CJK, words for the rest).
    pub fn bigram() -> Self {
        KoreanAnalyzer { segmenter: None }
    }

    /// A morphological analyzer over the lindera dictionary built in `dir`.
    pub fn with_dictionary(dir: &Path) -> SearchResult<Self> {
        let dictionary = dictionary::load(dir)?;
        let segmenter = Segmenter::new(Mode::Normal, dictionary, None);
        Ok(KoreanAnalyzer {
            segmenter: Some(Arc::new(segmenter)),
        })
    }

    /// Morphological when `dir` is given, bigram otherwise.
    pub fn new(dir: Option<&Path>) -> SearchResult<Self> {
        match dir {
            Some(dir) => Self::with_dictionary(dir),
            None => Ok(Self::bigram()),
        }
    }

    pub fn kind(&self) -> AnalyzerKind {
        if self.segmenter.is_some() {
            AnalyzerKind::Morphological
        } else {
            AnalyzerKind::Bigram
        }
    }

    /// The index terms of `text`, in order (compound parts follow their compound).
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut terms = Vec::new();
        self.analyze(text, &mut |t| terms.push(t));
        terms
    }

    fn analyze(&self, text: &str, emit: &mut dyn FnMut(String)) {
        let normalized = normalize(text);
        let mut emit_checked = |t: String| {
            if !t.is_empty() && t.chars().count() <= MAX_TERM_CHARS {
                emit(t);
            }
        };
        match &self.segmenter {
            Some(segmenter) => {
                // A segmentation failure must not lose the document; bigrams still find it.
                if morphemes(segmenter, &normalized, &mut emit_checked).is_err() {
                    bigrams(&normalized, &mut emit_checked);
                }
            }
            None => bigrams(&normalized, &mut emit_checked),
        }
    }
}

/// NFC (so decomposed jamo from some keyboards match composed syllables), lowercase, and
/// full-width ASCII folded to ASCII (common in Korean product names: ＵＳＢ).
pub fn normalize(text: &str) -> String {
    text.nfc()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

// mecab-ko-dic tags worth indexing: nouns, numerals, verb/adjective stems, roots, foreign
// words, hanja, numbers, and unknown Hangul words (often brand names). Particles (J*),
// endings (E*), affixes (X[SP]*), dependent nouns, pronouns and symbols only add noise.
fn keep_tag(tag: &str) -> bool {
    matches!(
        tag,
        "NNG" | "NNP" | "NR" | "VV" | "VA" | "XR" | "SL" | "SH" | "SN" | "UNKNOWN"
    )
}

fn morphemes(
    segmenter: &Segmenter,
    text: &str,
    emit: &mut dyn FnMut(String),
) -> Result<(), lindera::error::LinderaError> {
    let mut lattice = Lattice::default();
    // Each space-separated word (어절) is analysed on its own: in context the analysis of a
    // word can change (한빛 in "한빛 이야기" is one noun, alone it is 한 + 빛), and a query
    // is usually a bare word, so analysing both sides alike is what makes them meet.
    for word in text.split_whitespace() {
        for mut token in segmenter.segment_with_lattice(Cow::Borrowed(word), &mut lattice)? {
            let surface = token.surface.to_string();
            // ko-dic details: 0 POS tag, 4 type (Inflect/Compound/Preanalysis/*), 7
            // expression ("삼성/NNG/*+전자/NNG/*"); unknown words carry fewer fields.
            let details = token.details();
            let tag = details.first().copied().unwrap_or("UNKNOWN");
            let kind = details.get(4).copied().unwrap_or("*");
            let expression = details.get(7).copied().unwrap_or("*");
            match kind {
                // Inflected forms (만든 = 만들/VV + ㄴ/ETM) are indexed by their stems only.
                "Inflect" => emit_parts(expression, emit),
                _ => {
                    if !tag.contains('+') && keep_tag(tag) {
                        emit(surface);
                    }
                    // Compounds are indexed whole and by parts, so 삼성 finds 삼성전자.
                    if kind == "Compound" || kind == "Preanalysis" {
                        emit_parts(expression, emit);
                    }
                }
            }
        }
    }
    Ok(())
}

fn emit_parts(expression: &str, emit: &mut dyn FnMut(String)) {
    if expression == "*" {
        return;
    }
    for part in expression.split('+') {
        let mut fields = part.split('/');
        if let (Some(surface), Some(tag)) = (fields.next(), fields.next())
            && keep_tag(tag)
        {
            emit(surface.to_string());
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Hangul,
    Cjk,
    Word,
    Separator,
}

fn script(c: char) -> Script {
    match c {
        '\u{AC00}'..='\u{D7A3}'
        | '\u{1100}'..='\u{11FF}'
        | '\u{3130}'..='\u{318F}'
        | '\u{A960}'..='\u{A97F}'
        | '\u{D7B0}'..='\u{D7FF}' => Script::Hangul,
        '\u{3040}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FFFF}' => Script::Cjk,
        c if c.is_alphanumeric() => Script::Word,
        _ => Script::Separator,
    }
}

/// Splits `text` (already normalized) into runs of one script and emits Hangul/CJK runs
/// as overlapping bigrams (a one-character run as itself) and other runs as words.
fn bigrams(text: &str, emit: &mut dyn FnMut(String)) {
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0;
    while start < chars.len() {
        let kind = script(chars[start]);
        let mut end = start + 1;
        while end < chars.len() && script(chars[end]) == kind {
            end += 1;
        }
        let run = &chars[start..end];
        match kind {
            Script::Hangul | Script::Cjk if run.len() > 1 => {
                for pair in run.windows(2) {
                    emit(pair.iter().collect());
                }
            }
            Script::Separator => {}
            _ => emit(run.iter().collect()),
        }
        start = end;
    }
}

impl Tokenizer for KoreanAnalyzer {
    type TokenStream<'a> = TermStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermStream {
        TermStream::new(self.terms(text))
    }
}

/// A token stream over precomputed terms. Offsets are not tracked: jangteo does not
/// highlight, and normalization changes them anyway.
pub struct TermStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TermStream {
    pub(crate) fn new(terms: Vec<String>) -> Self {
        let tokens = terms
            .into_iter()
            .enumerate()
            .map(|(position, text)| Token {
                offset_from: 0,
                offset_to: 0,
                position,
                text,
                position_length: 1,
            })
            .collect();
        TermStream { tokens, next: 0 }
    }
}

impl TokenStream for TermStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1)]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self.next.saturating_sub(1);
        &mut self.tokens[i]
    }
}

/// Lowercased words split at anything not alphanumeric; used for prefix autocomplete,
/// where whole surface words (한정판, galaxy) are what a user types the start of.
#[derive(Clone, Default)]
pub struct WordTokenizer;

impl WordTokenizer {
    pub fn words(text: &str) -> Vec<String> {
        normalize(text)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty() && w.chars().count() <= MAX_TERM_CHARS)
            .map(str::to_string)
            .collect()
    }
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = TermStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermStream {
        TermStream::new(Self::words(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_hangul_runs_and_keeps_latin_words() {
        let a = KoreanAnalyzer::bigram();
        assert_eq!(
            a.terms("한정판 도서, iPhone15 책"),
            ["한정", "정판", "도서", "iphone15", "책"]
        );
    }

    #[test]
    fn normalizes_decomposed_hangul_and_full_width() {
        let decomposed: String = "한정판".nfd().collect();
        assert_eq!(
            KoreanAnalyzer::bigram().terms(&decomposed),
            ["한정", "정판"]
        );
        assert_eq!(normalize("ＵＳＢ　케이블"), "usb 케이블");
    }

    #[test]
    fn script_change_splits_runs() {
        assert_eq!(
            KoreanAnalyzer::bigram().terms("갤럭시S24울트라"),
            ["갤럭", "럭시", "s24", "울트", "트라"]
        );
    }

    #[test]
    fn words_split_on_punctuation() {
        assert_eq!(
            WordTokenizer::words("Galaxy-S24 한정판!"),
            ["galaxy", "s24", "한정판"]
        );
    }
}
