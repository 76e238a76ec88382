//! `Idempotency-Key` values (IETF draft-ietf-httpapi-idempotency-key-header): a client picks
//! one per logical request (a UUID is the usual choice) and sends it again on every retry.

use std::time::Duration;

use crate::FieldErrors;

/// How long a key is remembered: a retry within this window gets the first result.
pub const KEY_TTL: Duration = Duration::from_secs(24 * 3600);

pub const MAX_KEY_LEN: usize = 255;

/// A key as sent: 1–255 visible ASCII characters, compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldErrors> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldErrors::single(
                field,
                "invalid_format",
                format!(
                    "{field} must be 1 to {MAX_KEY_LEN} visible ASCII characters, such as a UUID"
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse("k", "0192f6f0-5c2e-7c4a-9a51-4a6b2c1d9e00").is_ok());
        assert!(IdempotencyKey::parse("k", &"a".repeat(255)).is_ok());
        for bad in ["", " ", "has space", "탭", "\t", &"a".repeat(256)] {
            assert!(IdempotencyKey::parse("k", bad).is_err(), "{bad:?}");
        }
    }
}
