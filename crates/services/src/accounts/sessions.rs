//! Sessions: login, refresh-token rotation with reuse detection, logout.

use chrono::{DateTime, Utc};
use jangteo_core::{Email, FieldErrors, ids, password, validation};
use jangteo_store::accounts::RefreshToken;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::*;
use crate::tokens::{self, Principal};
use crate::{ServiceError, ServiceResult, passwords};

impl Accounts<'_> {
    pub async fn login(
        &self,
        email_raw: Option<&str>,
        password: Option<&str>,
    ) -> ServiceResult<TokenPair> {
        let email = validation::required("email", email_raw, |raw| Email::parse("email", raw));
        let password = validation::required("password", password, |p| {
            if !p.is_empty() && p.chars().count() <= password::MAX_CHARS {
                Ok(p)
            } else {
                Err(FieldErrors::single(
                    "password",
                    "invalid",
                    "password must be 1 to 128 characters",
                ))
            }
        });
        let (email, password) = FieldErrors::new().all((email, password))?;
        let bad =
            || ServiceError::unauthorized("invalid_credentials", "e-mail or password is wrong");

        let user = store::find_user_by_email(self.db(), email.as_str()).await?;
        let stored = user
            .as_ref()
            .and_then(|u| u.password_hash.clone())
            .unwrap_or_else(|| passwords::decoy_hash().to_owned());
        let matches = passwords::verify(password.to_owned(), stored).await?;
        let Some(user) = user.filter(|_| matches) else {
            return Err(bad());
        };
        if user.email_verified_at.is_none() {
            return Err(ServiceError::forbidden(
                "email_not_verified",
                "verify your e-mail address with the code we sent before logging in",
            ));
        }
        let principal = Principal {
            user_id: user.id,
            role: user.role,
        };
        self.issue_pair(self.db(), principal, ids::new_id()).await
    }

    pub(super) async fn issue_pair(
        &self,
        c: &impl ConnectionTrait,
        principal: Principal,
        family_id: Uuid,
    ) -> ServiceResult<TokenPair> {
        let now = self.now();
        let keys = &self.s.keys;
        let access_token = keys.issue_access(principal, now)?;
        let refresh_token = tokens::new_refresh_token();
        store::insert_refresh_token(
            c,
            RefreshToken {
                id: ids::new_id(),
                family_id,
                user_id: principal.user_id,
                token_hash: tokens::hash_refresh_token(&refresh_token),
                expires_at: now + keys.refresh_ttl,
                used_at: None,
                revoked_at: None,
                created_at: now,
            },
        )
        .await?;
        Ok(TokenPair {
            access_token,
            access_expires_in: keys.access_ttl.num_seconds(),
            refresh_token,
            refresh_expires_in: keys.refresh_ttl.num_seconds(),
            user_id: principal.user_id,
            role: principal.role,
        })
    }

    /// Rotates a refresh token. Presenting a token that was already used means it was
    /// copied: the whole family (every token descended from that login) is revoked.
    pub async fn refresh(&self, token: Option<&str>) -> ServiceResult<TokenPair> {
        let token = token
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(|| {
                FieldErrors::single("refresh_token", "required", "refresh_token is required")
            })?;
        let invalid = || {
            ServiceError::unauthorized("invalid_refresh_token", "the refresh token is not valid")
        };
        let now = self.now();
        let Some(row) =
            store::find_refresh_token(self.db(), &tokens::hash_refresh_token(token)).await?
        else {
            return Err(invalid());
        };
        if row.revoked_at.is_some() {
            return Err(invalid());
        }
        if row.used_at.is_some() {
            return Err(self.reuse_detected(&row, now).await);
        }
        if row.expires_at <= now {
            return Err(ServiceError::unauthorized(
                "refresh_token_expired",
                "the refresh token has expired",
            ));
        }
        // Claim and successor in one transaction: a racing presentation of the same token
        // blocks on the claimed row until the successor is committed, so its family
        // revocation (below) also revokes the successor. No live token survives a reuse.
        let txn = self.s.begin().await?;
        if !store::claim_refresh_token(txn.conn(), row.id, now).await? {
            txn.rollback().await?;
            // Another request rotated (or revoked) it a moment ago: same as reuse.
            return Err(self.reuse_detected(&row, now).await);
        }
        let user = store::find_user(txn.conn(), row.user_id)
            .await
            .map_err(|_| invalid())?;
        let principal = Principal {
            user_id: user.id,
            role: user.role,
        };
        let pair = self
            .issue_pair(txn.conn(), principal, row.family_id)
            .await?;
        txn.commit().await?;
        Ok(pair)
    }

    pub(super) async fn reuse_detected(
        &self,
        row: &RefreshToken,
        now: DateTime<Utc>,
    ) -> ServiceError {
        match store::revoke_family(self.db(), row.family_id, now).await {
            Ok(n) => {
                tracing::warn!(user_id = %row.user_id, family_id = %row.family_id, revoked = n, "refresh token reuse: family revoked")
            }
            Err(e) => return e.into(),
        }
        ServiceError::unauthorized(
            "refresh_token_reused",
            "the refresh token was already used; log in again",
        )
    }

    /// Revokes the session (token family) the refresh token belongs to. Idempotent.
    pub async fn logout(&self, token: Option<&str>) -> ServiceResult<()> {
        let token = token
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(|| {
                FieldErrors::single("refresh_token", "required", "refresh_token is required")
            })?;
        if let Some(row) =
            store::find_refresh_token(self.db(), &tokens::hash_refresh_token(token)).await?
        {
            store::revoke_family(self.db(), row.family_id, self.now()).await?;
        }
        Ok(())
    }
}
