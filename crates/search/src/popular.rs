//! Popular search terms over a sliding window.
//!
//! Counts are kept per time bucket plus a running total; when a bucket falls out of the
//! window its counts are subtracted. So `record` and expiry are O(terms in a bucket) and
//! the window slides by whole buckets (a bucket of 1 minute over 1 hour errs by at most a
//! minute). Pure and in-memory: callers pass the time and share it behind their own lock.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::analyzer::normalize;

// Longer "terms" are pasted text, not searches worth ranking.
const MAX_TERM_CHARS: usize = 50;

#[derive(Debug)]
struct Bucket {
    start: u64,
    counts: HashMap<String, u64>,
}

/// Sliding-window counter of search terms.
#[derive(Debug)]
pub struct PopularTerms {
    window_secs: u64,
    bucket_secs: u64,
    max_terms: usize,
    buckets: VecDeque<Bucket>,
    totals: HashMap<String, u64>,
}

impl PopularTerms {
    /// Counts over the last `window`, sliding by `bucket`; both at least one second.
    /// At most `max_terms` distinct terms are tracked; new terms beyond that are ignored
    /// until older ones expire, which bounds memory under a flood of unique queries.
    pub fn new(window: Duration, bucket: Duration, max_terms: usize) -> Self {
        let bucket_secs = bucket.as_secs().max(1);
        PopularTerms {
            window_secs: window.as_secs().max(bucket_secs),
            bucket_secs,
            max_terms,
            buckets: VecDeque::new(),
            totals: HashMap::new(),
        }
    }

    /// Counts one search for `term` at `now`. Terms are normalized (NFC, lowercase,
    /// single spaces); empty and overlong terms are ignored.
    pub fn record(&mut self, term: &str, now: SystemTime) {
        let Some(term) = canonical(term) else {
            return;
        };
        let now = secs(now);
        self.expire(now);
        if !self.totals.contains_key(&term) && self.totals.len() >= self.max_terms {
            return;
        }
        let start = now - now % self.bucket_secs;
        // A clock that stepped back lands in the newest bucket rather than reopening one.
        if self.buckets.back().is_none_or(|b| b.start < start) {
            self.buckets.push_back(Bucket {
                start,
                counts: HashMap::new(),
            });
        }
        if let Some(bucket) = self.buckets.back_mut() {
            *bucket.counts.entry(term.clone()).or_default() += 1;
            *self.totals.entry(term).or_default() += 1;
        }
    }

    /// The `n` most searched terms in the window ending at `now`, with their counts; ties
    /// in alphabetical order.
    pub fn top(&mut self, n: usize, now: SystemTime) -> Vec<(String, u64)> {
        self.expire(secs(now));
        let mut all: Vec<(String, u64)> =
            self.totals.iter().map(|(t, c)| (t.clone(), *c)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }

    /// Popular terms starting with `prefix` (for autocomplete), most searched first.
    pub fn complete(&mut self, prefix: &str, n: usize, now: SystemTime) -> Vec<(String, u64)> {
        let Some(prefix) = canonical(prefix) else {
            return Vec::new();
        };
        self.expire(secs(now));
        let mut found: Vec<(String, u64)> = self
            .totals
            .iter()
            .filter(|(t, _)| t.starts_with(&prefix))
            .map(|(t, c)| (t.clone(), *c))
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        found.truncate(n);
        found
    }

    fn expire(&mut self, now: u64) {
        // A bucket is in the window while any of its seconds is within the last window_secs.
        let oldest_kept = now.saturating_sub(self.window_secs - 1);
        while let Some(front) = self.buckets.front() {
            if front.start + self.bucket_secs > oldest_kept {
                break;
            }
            if let Some(bucket) = self.buckets.pop_front() {
                for (term, count) in bucket.counts {
                    if let Some(total) = self.totals.get_mut(&term) {
                        *total = total.saturating_sub(count);
                        if *total == 0 {
                            self.totals.remove(&term);
                        }
                    }
                }
            }
        }
    }
}

fn canonical(term: &str) -> Option<String> {
    let normalized = normalize(term);
    let joined = normalized.split_whitespace().collect::<Vec<_>>().join(" ");
    (!joined.is_empty() && joined.chars().count() <= MAX_TERM_CHARS).then_some(joined)
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn hour_by_minutes() -> PopularTerms {
        PopularTerms::new(Duration::from_secs(3600), Duration::from_secs(60), 1000)
    }

    #[test]
    fn ranks_by_count_then_alphabetically() {
        let mut p = hour_by_minutes();
        for (t, term) in [
            (0, "노트북"),
            (1, "노트북"),
            (2, "Mouse"),
            (3, "mouse "),
            (4, "키보드"),
        ] {
            p.record(term, at(t));
        }
        p.record("노트북", at(5));
        assert_eq!(
            p.top(2, at(10)),
            [("노트북".to_string(), 3), ("mouse".to_string(), 2)]
        );
        assert_eq!(p.top(10, at(10)).len(), 3);
    }

    #[test]
    fn old_searches_slide_out_of_the_window() {
        let mut p = hour_by_minutes();
        for _ in 0..5 {
            p.record("old", at(0));
        }
        p.record("new", at(1800));
        p.record("new", at(1801));
        assert_eq!(p.top(1, at(1900))[0], ("old".to_string(), 5));
        // 3600 s after the first minute's bucket ended, it is gone.
        assert_eq!(p.top(5, at(3660)), [("new".to_string(), 2)]);
        assert!(p.top(5, at(1800 + 3660)).is_empty());
    }

    #[test]
    fn bounded_terms_and_prefix_completion() {
        let mut p = PopularTerms::new(Duration::from_secs(60), Duration::from_secs(10), 2);
        p.record("한정판 도서", at(0));
        p.record("한정판 음반", at(0));
        p.record("한정판 음반", at(1));
        p.record("ignored", at(2));
        assert_eq!(p.top(5, at(3)).len(), 2);
        assert_eq!(
            p.complete("한정판", 5, at(3)),
            [
                ("한정판 음반".to_string(), 2),
                ("한정판 도서".to_string(), 1)
            ]
        );
        p.record("   ", at(3));
        assert_eq!(p.top(5, at(3)).len(), 2);
    }

    #[test]
    fn a_clock_stepping_back_counts_in_the_newest_bucket() {
        let mut p = hour_by_minutes();
        p.record("a", at(600));
        p.record("a", at(300));
        assert_eq!(p.top(1, at(600)), [("a".to_string(), 2)]);
    }
}
