//! A circuit breaker as a pure state machine (SPEC F6.5, after the S2 seed's Resilience4j
//! settings): over the last `window` calls, once at least `min_calls` were made and the
//! failure rate reaches `failure_rate_percent`, it OPENs and refuses calls; after
//! `open_for` it is HALF_OPEN and lets `probes` calls through; if they all succeed it
//! CLOSEs, a failing probe opens it again. The caller passes the time in, so tests drive it
//! without sleeping. (The crates looked at close on the first good probe, or count only
//! consecutive failures; the S2 behaviour needs both a rate over a window and N probes.)

use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    pub window: usize,
    pub min_calls: usize,
    pub failure_rate_percent: u32,
    pub open_for: Duration,
    pub probes: u32,
}

impl BreakerSettings {
    /// S2: opens at a failure rate of 75% (over the last 20 calls, from 10 on), half-opens
    /// after 10 s, closes after 10 good probes.
    pub const S2: BreakerSettings = BreakerSettings {
        window: 20,
        min_calls: 10,
        failure_rate_percent: 75,
        open_for: Duration::from_secs(10),
        probes: 10,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open { until: Instant },
    HalfOpen { admitted: u32, succeeded: u32 },
}

#[derive(Debug, Clone)]
pub struct Breaker {
    settings: BreakerSettings,
    state: BreakerState,
    /// Outcomes of the last calls while closed (true = failed).
    recent: VecDeque<bool>,
}

impl Breaker {
    pub fn new(settings: BreakerSettings) -> Self {
        Self {
            settings,
            state: BreakerState::Closed,
            recent: VecDeque::with_capacity(settings.window),
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether a call may go out now; a half-open breaker counts the probe it admits.
    pub fn admit(&mut self, now: Instant) -> bool {
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen {
                    admitted: 1,
                    succeeded: 0,
                };
                true
            }
            BreakerState::Open { .. } => false,
            BreakerState::HalfOpen {
                admitted,
                succeeded,
            } if admitted < self.settings.probes => {
                self.state = BreakerState::HalfOpen {
                    admitted: admitted + 1,
                    succeeded,
                };
                true
            }
            BreakerState::HalfOpen { .. } => false,
        }
    }

    /// Records how an admitted call ended.
    pub fn record(&mut self, failed: bool, now: Instant) {
        match self.state {
            BreakerState::Closed => {
                if self.recent.len() == self.settings.window {
                    self.recent.pop_front();
                }
                self.recent.push_back(failed);
                let calls = self.recent.len();
                let failures = self.recent.iter().filter(|f| **f).count();
                if calls >= self.settings.min_calls
                    && failures * 100 >= calls * self.settings.failure_rate_percent as usize
                {
                    self.open(now);
                }
            }
            BreakerState::HalfOpen {
                admitted,
                succeeded,
            } => {
                if failed {
                    self.open(now);
                } else if succeeded + 1 >= self.settings.probes {
                    self.state = BreakerState::Closed;
                    self.recent.clear();
                } else {
                    self.state = BreakerState::HalfOpen {
                        admitted,
                        succeeded: succeeded + 1,
                    };
                }
            }
            // A call admitted before the breaker opened: it changes nothing now.
            BreakerState::Open { .. } => {}
        }
    }

    fn open(&mut self, now: Instant) {
        self.state = BreakerState::Open {
            until: now + self.settings.open_for,
        };
        self.recent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_at_the_failure_rate_half_opens_and_closes_after_the_probes() {
        let t0 = Instant::now();
        let mut b = Breaker::new(BreakerSettings::S2);
        // 9 failures are below the minimum number of calls.
        for _ in 0..9 {
            assert!(b.admit(t0));
            b.record(true, t0);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.admit(t0));
        b.record(true, t0);
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        assert!(!b.admit(t0 + Duration::from_secs(9)));
        // Half-open: ten probes, no eleventh until they are back.
        let t1 = t0 + Duration::from_secs(10);
        for _ in 0..10 {
            assert!(b.admit(t1));
        }
        assert!(!b.admit(t1));
        for _ in 0..9 {
            b.record(false, t1);
        }
        assert!(matches!(b.state(), BreakerState::HalfOpen { .. }));
        b.record(false, t1);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_failing_probe_opens_it_again_and_a_mixed_rate_keeps_it_closed() {
        let t0 = Instant::now();
        let mut b = Breaker::new(BreakerSettings::S2);
        // Two of three failing: under 75% at every point, stays closed.
        for i in 0..40 {
            assert!(b.admit(t0));
            b.record(i % 3 != 2, t0);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        for _ in 0..20 {
            b.admit(t0);
            b.record(true, t0);
        }
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        let t1 = t0 + Duration::from_secs(10);
        assert!(b.admit(t1));
        b.record(true, t1);
        assert!(!b.admit(t1), "open again after a failed probe");
        assert!(b.admit(t1 + Duration::from_secs(10)));
    }
}
