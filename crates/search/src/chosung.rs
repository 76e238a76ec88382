//! 초성 (initial consonant) search: "ㅎㅈㅍ" finds 한정판.
//!
//! Precomposed Hangul syllables U+AC00..=U+D7A3 are laid out as
//! `0xAC00 + (initial * 21 + medial) * 28 + final`, so the initial consonant is arithmetic;
//! no dictionary is needed.

use tantivy::tokenizer::Tokenizer;

use crate::analyzer::{TermStream, normalize};

const SYLLABLE_FIRST: u32 = 0xAC00;
const SYLLABLE_LAST: u32 = 0xD7A3;
const SYLLABLES_PER_INITIAL: u32 = 21 * 28;

// The 19 initials, as Hangul Compatibility Jamo: what a Korean keyboard types alone.
const INITIALS: [char; 19] = [
    'ㄱ', 'ㄲ', 'ㄴ', 'ㄷ', 'ㄸ', 'ㄹ', 'ㅁ', 'ㅂ', 'ㅃ', 'ㅅ', 'ㅆ', 'ㅇ', 'ㅈ', 'ㅉ', 'ㅊ', 'ㅋ',
    'ㅌ', 'ㅍ', 'ㅎ',
];

/// The initial consonant of a precomposed Hangul syllable.
pub fn initial_of(c: char) -> Option<char> {
    let code = c as u32;
    if (SYLLABLE_FIRST..=SYLLABLE_LAST).contains(&code) {
        INITIALS
            .get(((code - SYLLABLE_FIRST) / SYLLABLES_PER_INITIAL) as usize)
            .copied()
    } else {
        None
    }
}

/// True for a compatibility-jamo consonant (ㄱ..ㅎ, including clusters a user might type).
pub fn is_consonant_jamo(c: char) -> bool {
    ('\u{3131}'..='\u{314E}').contains(&c)
}

/// The initials of the Hangul syllables of `text`; other characters are dropped.
pub fn to_chosung(text: &str) -> String {
    text.chars().filter_map(initial_of).collect()
}

/// True when `word` is made only of consonant jamo, i.e. the user is typing initials.
pub fn is_chosung_query(word: &str) -> bool {
    !word.is_empty() && word.chars().all(is_consonant_jamo)
}

/// Index terms for the 초성 field: the initials of each word, and of the whole text run
/// together so a query can span words ("ㅎㅈㅍㄷ" for 한정판 도서).
pub fn chosung_terms(text: &str) -> Vec<String> {
    let normalized = normalize(text);
    let mut terms: Vec<String> = normalized
        .split_whitespace()
        .map(to_chosung)
        .filter(|t| !t.is_empty())
        .collect();
    if terms.len() > 1 {
        terms.push(terms.concat());
    }
    terms
}

/// tantivy tokenizer producing [`chosung_terms`].
#[derive(Clone, Default)]
pub struct ChosungTokenizer;

impl Tokenizer for ChosungTokenizer {
    type TokenStream<'a> = TermStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermStream {
        TermStream::new(chosung_terms(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_cover_the_syllable_block_edges() {
        assert_eq!(initial_of('가'), Some('ㄱ'));
        assert_eq!(initial_of('힣'), Some('ㅎ'));
        assert_eq!(initial_of('빠'), Some('ㅃ'));
        assert_eq!(initial_of('a'), None);
        assert_eq!(initial_of('ㄱ'), None);
    }

    #[test]
    fn chosung_of_words_and_whole_title() {
        assert_eq!(to_chosung("한정판"), "ㅎㅈㅍ");
        assert_eq!(
            chosung_terms("한정판 도서 Vol.2"),
            ["ㅎㅈㅍ", "ㄷㅅ", "ㅎㅈㅍㄷㅅ"]
        );
        assert_eq!(chosung_terms("갤럭시S24"), ["ㄱㄹㅅ"]);
        assert!(chosung_terms("iPhone").is_empty());
    }

    #[test]
    fn detects_chosung_queries() {
        assert!(is_chosung_query("ㅎㅈㅍ"));
        assert!(!is_chosung_query("ㅎㅈ판"));
        assert!(!is_chosung_query(""));
    }
}
