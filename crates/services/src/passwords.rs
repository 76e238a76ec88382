//! Password hashing with argon2id (RFC 9106). Hashing is CPU- and memory-heavy by design,
//! so it runs on the blocking pool and never stalls the async workers serving other requests.

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::{ServiceError, ServiceResult};

/// OWASP's recommended argon2id minimum (19 MiB, 2 passes, 1 lane) is argon2's default.
fn hasher() -> Argon2<'static> {
    Argon2::default()
}

pub async fn hash(password: String) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })
    .await
    .context("hashing task")?
    .map_err(ServiceError::Internal)
}

/// `true` if `password` matches the stored PHC string. A malformed stored hash counts as a
/// mismatch (and is logged), never as a crash.
pub async fn verify(password: String, stored: String) -> ServiceResult<bool> {
    let ok = tokio::task::spawn_blocking(move || {
        match hasher().verify_password(password.as_bytes(), stored.as_str()) {
            Ok(()) => true,
            Err(argon2::password_hash::Error::PasswordInvalid) => false,
            Err(e) => {
                tracing::error!(error = %e, "stored password hash is unreadable");
                false
            }
        }
    })
    .await
    .context("verify task")?;
    Ok(ok)
}

/// A hash of a random password, verified against when a login names an unknown e-mail so
/// that the response time does not reveal which addresses have accounts.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hasher()
            .hash_password(b"decoy password that matches nothing")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse battery".into(), h).await.unwrap());
        assert!(!verify("x".into(), "not a hash".into()).await.unwrap());
    }
}
