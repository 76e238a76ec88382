//! Access tokens (short-lived JWTs, HS256) and refresh tokens (opaque random strings stored
//! only as SHA-256 hashes, so a database leak yields no usable token).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jangteo_core::Role;
use jangteo_core::ids::UserId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::ServiceError;

const ISSUER: &str = "jangteo";
const AUDIENCE: &str = "jangteo-api";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    role: Role,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    jti: Uuid,
}

/// The caller identified by a valid access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Mixed into verification-code hashes so that stored hashes cannot be matched against
    /// a precomputed table of the million possible codes.
    pepper: Vec<u8>,
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Self {
        // Only HS256 is accepted: a token claiming `none` or any other algorithm fails.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        // Expiry is checked below against the service clock (so schedules and tests can move
        // time) and answered with its own code; jsonwebtoken would call it merely invalid.
        validation.validate_exp = false;
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
            refresh_ttl,
            pepper: Sha256::digest([b"jangteo-code-pepper:".as_slice(), secret].concat()).to_vec(),
        }
    }

    pub fn issue_access(
        &self,
        principal: Principal,
        now: DateTime<Utc>,
    ) -> Result<String, ServiceError> {
        let claims = Claims {
            sub: principal.user_id.uuid(),
            role: principal.role,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.timestamp(),
            exp: (now + self.access_ttl).timestamp(),
            jti: Uuid::now_v7(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("jwt encode: {e}")))
    }

    /// Verifies signature, algorithm, issuer, audience and expiry against `now`.
    pub fn verify_access(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Principal, ServiceError> {
        let invalid = || ServiceError::unauthorized("invalid_token", "the access token is invalid");
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| invalid())?;
        // Only a token whose signature and claims are valid is called expired: a forged one
        // learns nothing.
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
        if data.claims.exp.saturating_add(leeway) < now.timestamp() {
            return Err(ServiceError::unauthorized(
                "token_expired",
                "the access token has expired",
            ));
        }
        Ok(Principal {
            user_id: data.claims.sub.into(),
            role: data.claims.role,
        })
    }

    pub fn hash_code(&self, user_id: UserId, code: &str) -> String {
        let mut h = Sha256::new();
        h.update(&self.pepper);
        h.update(user_id.uuid().as_bytes());
        h.update(code.as_bytes());
        hex(&h.finalize())
    }
}

/// A new refresh token: 256 random bits, URL-safe.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_refresh_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A random six-digit verification code.
pub fn new_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &[u8]) -> TokenKeys {
        TokenKeys::new(secret, Duration::minutes(15), Duration::days(30))
    }

    #[test]
    fn access_round_trip_and_expiry() {
        let k = keys(b"0123456789abcdef0123456789abcdef");
        let p = Principal {
            user_id: UserId::new(),
            role: Role::Seller,
        };
        let now = Utc::now();
        let t = k.issue_access(p, now).unwrap();
        assert_eq!(k.verify_access(&t, now).unwrap(), p);
        let expired = k
            .verify_access(&t, now + Duration::minutes(16))
            .unwrap_err();
        assert!(
            matches!(
                expired,
                ServiceError::Unauthorized {
                    code: "token_expired",
                    ..
                }
            ),
            "{expired:?}"
        );
        // Issued long ago by the system clock, checked now: expired, not invalid.
        let old = k.issue_access(p, now - Duration::hours(2)).unwrap();
        assert!(matches!(
            k.verify_access(&old, now).unwrap_err(),
            ServiceError::Unauthorized {
                code: "token_expired",
                ..
            }
        ));
        assert!(
            keys(b"another key entirely, 32 bytes!!")
                .verify_access(&t, now)
                .is_err()
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        assert_ne!(a, new_refresh_token());
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_eq!(new_code().len(), 6);
    }
}
