//! Search requests and their translation into tantivy queries.

use std::ops::Bound;

use serde::{Deserialize, Serialize};
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::analyzer::{KoreanAnalyzer, WordTokenizer, normalize};
use crate::chosung::is_chosung_query;
use crate::schema::Fields;

/// Largest page size a caller may ask for.
pub const MAX_PAGE_SIZE: usize = 100;
/// Deepest result reachable by paging (`(page + 1) * size`): deeper pages cost a full
/// top-k of that depth on every request, and nobody reads them.
pub const MAX_RESULT_WINDOW: usize = 10_000;

// A fuzzy (typo) match is worth this fraction of an exact match in the same field; an
// exact match also matches the fuzzy clause, so it always ranks above a typo.
const FUZZY_FACTOR: f32 = 0.5;

/// Result order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best match first; with an empty query, most popular first.
    #[default]
    Relevance,
    Newest,
    PriceAsc,
    PriceDesc,
    Popularity,
}

/// Filters; every one that is set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    /// Matches products in this category or any of its sub-categories (the document lists
    /// ancestors in `category_ids`).
    pub category_id: Option<String>,
    pub price_min: Option<u64>,
    pub price_max: Option<u64>,
    pub in_stock_only: bool,
}

/// One search: text (may be empty to browse), filters, order and page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRequest {
    pub query: String,
    pub filters: Filters,
    pub sort: Sort,
    /// Zero-based page number.
    pub page: usize,
    pub size: usize,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: String::new(),
            filters: Filters::default(),
            sort: Sort::Relevance,
            page: 0,
            size: 20,
        }
    }
}

impl SearchRequest {
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest {
            query: query.into(),
            ..Self::default()
        }
    }
}

/// One hit: the product id and, when ordering by relevance, its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: String,
    pub score: Option<f32>,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    /// Number of matching products (all pages).
    pub total: usize,
    pub hits: Vec<SearchHit>,
    /// True when nothing matched every word, and these are products matching some of them
    /// ("similar results").
    pub relaxed: bool,
}

/// An autocomplete suggestion: a product whose title starts words with what was typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub id: String,
    pub title: String,
}

/// Typo tolerance for Latin words: none below 4 letters (too many neighbours), one edit
/// from 4, two from 8.
pub fn fuzzy_distance(term: &str) -> Option<u8> {
    if !term.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    match term.len() {
        0..=3 => None,
        4..=7 => Some(1),
        _ => Some(2),
    }
}

/// How strictly the words of a query must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// Every word must match (at least half of each word's terms).
    AllWords,
    /// Any term of any word may match: the fallback when nothing matches strictly.
    AnyTerm,
}

/// The text part of a query, or `None` when the text yields no searchable term
/// (only particles or punctuation).
pub(crate) fn text_query(
    analyzer: &KoreanAnalyzer,
    fields: &Fields,
    text: &str,
    strictness: Strictness,
) -> Option<Box<dyn Query>> {
    let normalized = normalize(text);
    let mut words: Vec<Box<dyn Query>> = Vec::new();
    for word in normalized.split_whitespace() {
        if is_chosung_query(word) {
            let term = Term::from_field_text(fields.chosung, word);
            words.push(Box::new(FuzzyTermQuery::new_prefix(term, 0, false)));
            continue;
        }
        let mut terms = analyzer.terms(word);
        dedup_keep_order(&mut terms);
        if terms.is_empty() {
            continue;
        }
        // Bigrams of an inflected word ("도서를" -> 도서, 서를) and a compound's parts do not
        // all occur in a matching title, so a word matches when half its terms do.
        let required = match strictness {
            Strictness::AllWords => terms.len().div_ceil(2),
            Strictness::AnyTerm => 1,
        };
        let clauses = terms
            .iter()
            .map(|t| (Occur::Should, term_clause(fields, t)))
            .collect();
        words.push(Box::new(BooleanQuery::with_minimum_required_clauses(
            clauses, required,
        )));
    }
    if words.is_empty() {
        return None;
    }
    let occur = match strictness {
        Strictness::AllWords => Occur::Must,
        Strictness::AnyTerm => Occur::Should,
    };
    Some(Box::new(BooleanQuery::new(
        words.into_iter().map(|q| (occur, q)).collect(),
    )))
}

/// One term searched in every weighted field, plus typo-tolerant variants for Latin words.
fn term_clause(fields: &Fields, term: &str) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let distance = fuzzy_distance(term);
    for (field, weight) in fields.weighted() {
        let t = Term::from_field_text(field, term);
        clauses.push((
            Occur::Should,
            Box::new(BoostQuery::new(
                Box::new(TermQuery::new(t.clone(), IndexRecordOption::WithFreqs)),
                weight,
            )),
        ));
        if let Some(d) = distance {
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(FuzzyTermQuery::new(t, d, true)),
                    weight * FUZZY_FACTOR,
                )),
            ));
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

/// The filter clauses; they restrict matches without changing scores.
pub(crate) fn filter_clauses(fields: &Fields, filters: &Filters) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses: Vec<Box<dyn Query>> = Vec::new();
    if let Some(category) = &filters.category_id {
        let term = Term::from_field_text(fields.category_id, category);
        clauses.push(Box::new(TermQuery::new(term, IndexRecordOption::Basic)));
    }
    if filters.price_min.is_some() || filters.price_max.is_some() {
        let bound = |v: Option<u64>| match v {
            Some(v) => Bound::Included(Term::from_field_u64(fields.price, v)),
            None => Bound::Unbounded,
        };
        clauses.push(Box::new(RangeQuery::new(
            bound(filters.price_min),
            bound(filters.price_max),
        )));
    }
    if filters.in_stock_only {
        let term = Term::from_field_bool(fields.in_stock, true);
        clauses.push(Box::new(TermQuery::new(term, IndexRecordOption::Basic)));
    }
    clauses
        .into_iter()
        .map(|q| {
            let q: Box<dyn Query> = Box::new(ConstScoreQuery::new(q, 0.0));
            (Occur::Must, q)
        })
        .collect()
}

/// Text and filters together; an empty text matches every product.
pub(crate) fn combine(
    text: Option<Box<dyn Query>>,
    filters: Vec<(Occur, Box<dyn Query>)>,
) -> Box<dyn Query> {
    let text = text.unwrap_or_else(|| Box::new(AllQuery));
    if filters.is_empty() {
        return text;
    }
    let mut clauses = vec![(Occur::Must, text)];
    clauses.extend(filters);
    Box::new(BooleanQuery::new(clauses))
}

/// The autocomplete query: every typed word but the last must be a word of the title, the
/// last the start of one (or the start of a word's 초성 when typed as consonants).
pub(crate) fn prefix_query(fields: &Fields, typed: &str) -> Option<Box<dyn Query>> {
    let normalized = normalize(typed);
    let ends_word = normalized.ends_with(char::is_whitespace);
    let raw: Vec<&str> = normalized.split_whitespace().collect();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (i, raw_word) in raw.iter().enumerate() {
        let last = i + 1 == raw.len() && !ends_word;
        if is_chosung_query(raw_word) {
            let term = Term::from_field_text(fields.chosung, raw_word);
            clauses.push((
                Occur::Must,
                Box::new(FuzzyTermQuery::new_prefix(term, 0, false)),
            ));
            continue;
        }
        let words = WordTokenizer::words(raw_word);
        let count = words.len();
        for (j, word) in words.into_iter().enumerate() {
            let term = Term::from_field_text(fields.words, &word);
            let query: Box<dyn Query> = if last && j + 1 == count {
                // Allow one typo in longer Latin prefixes ("galxy" -> galaxy).
                let typos = u8::from(fuzzy_distance(&word).is_some());
                Box::new(FuzzyTermQuery::new_prefix(term, typos, true))
            } else {
                Box::new(TermQuery::new(term, IndexRecordOption::Basic))
            };
            clauses.push((Occur::Must, query));
        }
    }
    if clauses.is_empty() {
        None
    } else {
        Some(Box::new(BooleanQuery::new(clauses)))
    }
}

fn dedup_keep_order(terms: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    terms.retain(|t| seen.insert(t.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_distance_grows_with_length_and_only_for_latin() {
        assert_eq!(fuzzy_distance("usb"), None);
        assert_eq!(fuzzy_distance("rust"), Some(1));
        assert_eq!(fuzzy_distance("keyboard"), Some(2));
        assert_eq!(fuzzy_distance("한정판도서"), None);
        assert_eq!(fuzzy_distance("s24ultra"), None);
    }
}
