//! E-mail verification codes: six digits, valid for a short time, and locked after a few
//! wrong guesses so that the 10^6 code space cannot be walked.

use chrono::{DateTime, Duration, Utc};

pub const CODE_TTL_MINUTES: i64 = 15;
pub const MAX_ATTEMPTS: i32 = 5;
/// A new code may be requested at most this often per account.
pub const RESEND_COOLDOWN_SECONDS: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    /// Wrong code; `remaining` guesses are left before the code is locked.
    Mismatch {
        remaining: i32,
    },
    Expired,
    /// Too many wrong guesses: only a new code can verify the account.
    Locked,
}

/// The state of a pending code as stored.
#[derive(Debug, Clone, Copy)]
pub struct PendingCode {
    pub expires_at: DateTime<Utc>,
    pub attempts: i32,
}

pub fn expiry_from(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::minutes(CODE_TTL_MINUTES)
}

/// Decides the outcome of one guess. `matches` is whether the guess equals the code
/// (compared by the caller on hashes). A guess on a locked or expired code is refused even
/// if it is right, and a wrong guess counts as an attempt.
pub fn check(pending: PendingCode, now: DateTime<Utc>, matches: bool) -> CodeCheck {
    if pending.attempts >= MAX_ATTEMPTS {
        return CodeCheck::Locked;
    }
    if now >= pending.expires_at {
        return CodeCheck::Expired;
    }
    if matches {
        CodeCheck::Accepted
    } else {
        CodeCheck::Mismatch {
            remaining: MAX_ATTEMPTS - pending.attempts - 1,
        }
    }
}

/// Whether a guess has the shape of a code at all (six ASCII digits).
pub fn is_well_formed(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(attempts: i32) -> (PendingCode, DateTime<Utc>) {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        (
            PendingCode {
                expires_at: expiry_from(now),
                attempts,
            },
            now,
        )
    }

    #[test]
    fn right_code_in_time() {
        let (p, now) = pending(0);
        assert_eq!(check(p, now, true), CodeCheck::Accepted);
    }

    #[test]
    fn wrong_codes_lock_after_max_attempts() {
        let (p, now) = pending(0);
        assert_eq!(check(p, now, false), CodeCheck::Mismatch { remaining: 4 });
        let (p, now) = pending(MAX_ATTEMPTS - 1);
        assert_eq!(check(p, now, false), CodeCheck::Mismatch { remaining: 0 });
        let (p, now) = pending(MAX_ATTEMPTS);
        assert_eq!(check(p, now, true), CodeCheck::Locked);
    }

    #[test]
    fn expires() {
        let (p, now) = pending(0);
        let later = now + Duration::minutes(CODE_TTL_MINUTES);
        assert_eq!(check(p, later, true), CodeCheck::Expired);
    }

    #[test]
    fn shape() {
        assert!(is_well_formed("012345"));
        assert!(!is_well_formed("12345"));
        assert!(!is_well_formed("12345a"));
        assert!(!is_well_formed("１２３４５６"));
    }
}
