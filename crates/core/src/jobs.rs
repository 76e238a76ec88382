//! Rules of durable jobs and outbox delivery that need no I/O: when a failed attempt is
//! tried again, and when it is given up.

use std::time::Duration;

/// Delay before attempt `attempts + 1` after `attempts` failures: 2^attempts seconds from
/// a base of one second (1 s, 2 s, 4 s, … ), capped at one hour so a long outage of a mail
/// server is retried hourly rather than daily.
pub fn backoff(attempts: u32) -> Duration {
    const CAP: u64 = 3_600;
    let secs = 1u64.checked_shl(attempts.min(63)).unwrap_or(CAP).min(CAP);
    Duration::from_secs(secs)
}

/// What becomes of work whose attempt just failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again once the delay has passed.
    RetryIn(Duration),
    /// Out of attempts: parked (dead letter) with its last error until an operator retries.
    Park,
}

/// `attempts` counts the failures so far, including the one just seen.
pub fn after_failure(attempts: u32, max_attempts: u32) -> AfterFailure {
    if attempts >= max_attempts {
        AfterFailure::Park
    } else {
        AfterFailure::RetryIn(backoff(attempts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(12), Duration::from_secs(3_600));
        assert_eq!(backoff(200), Duration::from_secs(3_600));
    }

    #[test]
    fn work_is_parked_when_out_of_attempts() {
        assert_eq!(
            after_failure(1, 3),
            AfterFailure::RetryIn(Duration::from_secs(2))
        );
        assert_eq!(after_failure(3, 3), AfterFailure::Park);
        assert_eq!(after_failure(9, 3), AfterFailure::Park);
    }
}
