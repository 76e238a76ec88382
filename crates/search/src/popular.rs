//! Popular search terms over a sliding window, built to resist poisoning.
//!
//! Counts are kept per time bucket plus a running total; when a bucket falls out of the
//! window its counts are subtracted. So `record` and expiry are O(terms in a bucket) and
//! the window slides by whole buckets (a bucket of 1 minute over 1 hour errs by at most a
//! minute). Pure and in-memory: callers pass the time and share it behind their own lock.
//!
//! What an attacker cannot do with it (each found by a probe of an earlier version):
//! - push a term to the top by repeating it: a client (user or address) counts once per
//!   term per bucket, and for at most [`PER_CLIENT_TERMS`] terms per bucket;
//! - freeze the table with unique junk: when it is full, the least counted tenth is
//!   dropped, so a new term that real shoppers repeat still gets in (junk counts once);
//! - publish markup: text with `<`, `>`, quotes, backticks, braces or backslashes, or
//!   without a letter or digit, is never a term. Callers also count only searches that
//!   found something.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::analyzer::normalize;

// Longer "terms" are pasted text, not searches worth ranking.
const MAX_TERM_CHARS: usize = 50;
/// Distinct terms one client may contribute per bucket. Generous, because many shoppers
/// can share one address (carrier NAT, an office); a flood still adds only this many.
pub const PER_CLIENT_TERMS: u8 = 20;
/// Counted (client, term) pairs remembered per bucket; past it a bucket counts nothing new,
/// which bounds memory under a flood from very many addresses.
const MAX_SEEN_PER_BUCKET: usize = 200_000;

#[derive(Debug)]
struct Bucket {
    start: u64,
    counts: HashMap<String, u64>,
    /// (client, term) pairs already counted in this bucket.
    seen: HashSet<(u64, u64)>,
    /// Terms counted per client in this bucket.
    per_client: HashMap<u64, u8>,
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
    /// At most `max_terms` distinct terms are tracked at once.
    pub fn new(window: Duration, bucket: Duration, max_terms: usize) -> Self {
        let bucket_secs = bucket.as_secs().max(1);
        PopularTerms {
            window_secs: window.as_secs().max(bucket_secs),
            bucket_secs,
            max_terms: max_terms.max(1),
            buckets: VecDeque::new(),
            totals: HashMap::new(),
        }
    }

    /// Counts one search for `term` by `client` (a user id or an address) at `now`. Terms
    /// are normalized (NFC, lowercase, single spaces); empty, overlong and markup-like
    /// terms are ignored, and so are repeats by the same client within a bucket.
    pub fn record(&mut self, term: &str, client: &str, now: SystemTime) {
        let Some(term) = canonical(term) else {
            return;
        };
        let now = secs(now);
        self.expire(now);
        let start = now - now % self.bucket_secs;
        // A clock that stepped back lands in the newest bucket rather than reopening one.
        if self.buckets.back().is_none_or(|b| b.start < start) {
            self.buckets.push_back(Bucket {
                start,
                counts: HashMap::new(),
                seen: HashSet::new(),
                per_client: HashMap::new(),
            });
        }
        let client = hash(client);
        let pair = (client, hash(&term));
        {
            let Some(bucket) = self.buckets.back_mut() else {
                return;
            };
            let contributed = bucket.per_client.get(&client).copied().unwrap_or(0);
            if bucket.seen.contains(&pair)
                || contributed >= PER_CLIENT_TERMS
                || bucket.seen.len() >= MAX_SEEN_PER_BUCKET
            {
                return;
            }
            bucket.seen.insert(pair);
            bucket.per_client.insert(client, contributed + 1);
        }
        if !self.totals.contains_key(&term) && self.totals.len() >= self.max_terms {
            self.evict_least_counted();
        }
        if let Some(bucket) = self.buckets.back_mut() {
            *bucket.counts.entry(term.clone()).or_default() += 1;
            *self.totals.entry(term).or_default() += 1;
        }
    }

    /// Drops the least counted tenth of the terms (at least one), so that the table never
    /// freezes; amortised over the inserts that fill the room again.
    fn evict_least_counted(&mut self) {
        let mut all: Vec<(u64, &String)> = self.totals.iter().map(|(t, c)| (*c, t)).collect();
        let k = (self.max_terms / 10).clamp(1, all.len());
        all.select_nth_unstable_by(k - 1, |a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        let victims: Vec<String> = all[..k].iter().map(|(_, t)| (*t).clone()).collect();
        for term in victims {
            self.totals.remove(&term);
            for bucket in &mut self.buckets {
                bucket.counts.remove(&term);
            }
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

/// The form a term is counted and shown in, or `None` when it is not worth showing.
pub fn canonical(term: &str) -> Option<String> {
    let normalized = normalize(term);
    let joined = normalized.split_whitespace().collect::<Vec<_>>().join(" ");
    let showable = !joined.is_empty()
        && joined.chars().count() <= MAX_TERM_CHARS
        && joined.chars().any(char::is_alphanumeric)
        && !joined
            .chars()
            .any(|c| "<>\"'`{}\\".contains(c) || c.is_control() || is_format(c));
    showable.then_some(joined)
}

/// Zero-width, bidirectional and other invisible formatting characters (Unicode Cf) that
/// could disguise a term.
fn is_format(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    c.general_category() == GeneralCategory::Format
}

fn hash(value: &str) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
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
        for (t, term, client) in [
            (0, "노트북", "a"),
            (1, "노트북", "b"),
            (2, "Mouse", "a"),
            (3, "mouse ", "b"),
            (4, "키보드", "c"),
        ] {
            p.record(term, client, at(t));
        }
        p.record("노트북", "c", at(5));
        assert_eq!(
            p.top(2, at(10)),
            [("노트북".to_string(), 3), ("mouse".to_string(), 2)]
        );
        assert_eq!(p.top(10, at(10)).len(), 3);
    }

    #[test]
    fn old_searches_slide_out_of_the_window() {
        let mut p = hour_by_minutes();
        for c in ["a", "b", "c", "d", "e"] {
            p.record("old", c, at(0));
        }
        p.record("new", "a", at(1800));
        p.record("new", "b", at(1801));
        assert_eq!(p.top(1, at(1900))[0], ("old".to_string(), 5));
        // 3600 s after the first minute's bucket ended, it is gone.
        assert_eq!(p.top(5, at(3660)), [("new".to_string(), 2)]);
        assert!(p.top(5, at(1800 + 3660)).is_empty());
    }

    #[test]
    fn prefix_completion() {
        let mut p = PopularTerms::new(Duration::from_secs(60), Duration::from_secs(10), 100);
        p.record("한정판 도서", "a", at(0));
        p.record("한정판 음반", "a", at(0));
        p.record("한정판 음반", "b", at(1));
        assert_eq!(
            p.complete("한정판", 5, at(3)),
            [
                ("한정판 음반".to_string(), 2),
                ("한정판 도서".to_string(), 1)
            ]
        );
        p.record("   ", "c", at(3));
        assert_eq!(p.top(5, at(3)).len(), 2);
    }

    #[test]
    fn a_clock_stepping_back_counts_in_the_newest_bucket() {
        let mut p = hour_by_minutes();
        p.record("a", "x", at(600));
        p.record("a", "y", at(300));
        assert_eq!(p.top(1, at(600)), [("a".to_string(), 2)]);
    }

    #[test]
    fn one_client_cannot_push_a_term_up() {
        let mut p = hour_by_minutes();
        // 25 searches in one minute by one client count once; a minute later once more.
        for i in 0..25 {
            p.record("<img src=x>", "attacker", at(i));
            p.record("spam", "attacker", at(i));
        }
        p.record("spam", "attacker", at(61));
        for c in ["a", "b", "c"] {
            p.record("노트북", c, at(5));
        }
        assert_eq!(
            p.top(5, at(70)),
            [("노트북".to_string(), 3), ("spam".to_string(), 2)]
        );
        // And at most PER_CLIENT_TERMS distinct terms per minute.
        for i in 0..50 {
            p.record(&format!("term{i}"), "flooder", at(120));
        }
        assert_eq!(p.top(100, at(121)).len(), 2 + usize::from(PER_CLIENT_TERMS));
    }

    #[test]
    fn a_full_table_still_admits_new_real_terms() {
        let mut p = PopularTerms::new(Duration::from_secs(3600), Duration::from_secs(60), 100);
        // 100 unique junk terms, each from its own address, fill the table.
        for i in 0..100 {
            p.record(&format!("junk{i}"), &format!("10.0.0.{i}"), at(1));
        }
        for c in ["a", "b", "c", "d"] {
            p.record("이어폰", c, at(2));
        }
        let top = p.top(1, at(3));
        assert_eq!(top, [("이어폰".to_string(), 4)]);
        assert!(p.top(1000, at(3)).len() <= 100);
    }

    #[test]
    fn markup_and_invisible_text_is_never_a_term() {
        for bad in [
            "<img src=x onerror=alert(1)>",
            "\"quoted\"",
            "a'b",
            "`cmd`",
            "{{7*7}}",
            "back\\slash",
            "zero\u{200B}width",
            "rtl\u{202E}txt",
            "!!!",
            "",
        ] {
            assert_eq!(canonical(bad), None, "{bad:?}");
        }
        assert_eq!(
            canonical("  Wireless   Headphones "),
            Some("wireless headphones".into())
        );
        assert_eq!(canonical("h&m 티셔츠"), Some("h&m 티셔츠".into()));
    }
}
