//! Password policy. The rules follow NIST SP 800-63B: length matters, composition rules
//! mostly do not, and a password must not be trivially derived from the account.

use crate::validation::FieldErrors;

pub const MIN_CHARS: usize = 10;
/// Bounded so that a client cannot make us hash megabytes with a memory-hard KDF.
pub const MAX_CHARS: usize = 128;

/// Checks a new password; `email` is used to refuse passwords built from the address.
pub fn check_new(field: &str, password: &str, email: Option<&str>) -> Result<(), FieldErrors> {
    let chars = password.chars().count();
    let weak = |code: &str, msg: String| Err(FieldErrors::single(field, code, msg));
    if chars < MIN_CHARS {
        return weak(
            "too_short",
            format!("password must be at least {MIN_CHARS} characters"),
        );
    }
    if chars > MAX_CHARS {
        return weak(
            "too_long",
            format!("password must be at most {MAX_CHARS} characters"),
        );
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if distinct.len() < 4 {
        return weak(
            "too_weak",
            "password uses too few distinct characters".into(),
        );
    }
    let lower = password.to_lowercase();
    // A common word padded with a few characters ("password1234") is still a common word.
    if COMMON
        .iter()
        .any(|c| lower.contains(c) && chars - c.chars().count() < 6)
    {
        return weak("too_weak", "password is too common".into());
    }
    let local_part = email.and_then(|e| e.split('@').next()).unwrap_or_default();
    if local_part.len() >= 4 && lower.contains(&local_part.to_lowercase()) {
        return weak(
            "too_weak",
            "password must not contain the e-mail address".into(),
        );
    }
    Ok(())
}

const COMMON: &[&str] = &[
    "password", "12345678", "qwerty", "letmein", "iloveyou", "admin",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_reasonable_passwords() {
        assert!(check_new("p", "correct horse battery", Some("kim@example.com")).is_ok());
        assert!(check_new("p", "장터에서산책하기좋은날", None).is_ok());
    }

    #[test]
    fn refuses_weak_passwords() {
        assert!(check_new("p", "short1", None).is_err());
        assert!(check_new("p", "aaaaaaaaaaaa", None).is_err());
        assert!(check_new("p", "password1234", None).is_err());
        assert!(check_new("p", "xkim.leex99!", Some("kim.lee@example.com")).is_err());
        assert!(check_new("p", &"ab1!".repeat(40), None).is_err());
    }
}
