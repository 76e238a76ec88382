//! E-mail verification: resending a code (silently, whatever the address), checking one
//! with counted attempts.

use jangteo_core::verification::{self, CodeCheck, PendingCode};
use jangteo_core::{Email, FieldErrors};
use jangteo_store::accounts as store;

use super::*;
use crate::tokens::{self};
use crate::{ServiceError, ServiceResult};

impl Accounts<'_> {
    /// Sends a new code to an unverified account. Silent for unknown or verified addresses
    /// so the endpoint does not reveal which e-mails have accounts.
    pub async fn resend_code(&self, email_raw: Option<&str>) -> ServiceResult<()> {
        // The answer is the same whether or not the address has an unverified account, a
        // recent code or a working mail server: none of that is the asker's to learn
        // (ARCHITECTURE.md, "What responses reveal"). A resend inside the cool-down sends
        // nothing, and a failed send is retried by the job runner, then logged.
        let email = Email::parse("email", email_raw.unwrap_or_default())?;
        let Some(user) = store::find_user_by_email(self.db(), email.as_str()).await? else {
            return Ok(());
        };
        if user.email_verified_at.is_some() {
            return Ok(());
        }
        let now = self.now();
        if let Some(existing) = store::find_email_code(self.db(), user.id).await?
            && (now - existing.sent_at).num_seconds() < verification::RESEND_COOLDOWN_SECONDS
        {
            return Ok(());
        }
        let code = tokens::new_code();
        let mut tx = self.s.begin().await?;
        store::put_email_code(tx.conn(), self.code_row(user.id, &code, now)).await?;
        self.queue_code_mail(&mut tx, user.email.as_str(), &code)
            .await?;
        tx.commit().await
    }

    /// Checks a verification code. Wrong guesses are counted atomically and lock the code
    /// after [`verification::MAX_ATTEMPTS`]; a locked or expired code needs a resend.
    pub async fn verify_email(
        &self,
        email_raw: Option<&str>,
        code: Option<&str>,
    ) -> ServiceResult<()> {
        let email = Email::parse("email", email_raw.unwrap_or_default());
        let code = code.unwrap_or_default();
        let well_formed = if verification::is_well_formed(code) {
            Ok(code)
        } else {
            Err(FieldErrors::single(
                "code",
                "invalid_format",
                "code must be six digits",
            ))
        };
        let (email, code) = FieldErrors::new().all((email, well_formed))?;
        // A wrong or expired code is a failed proof, like a wrong password (401), not a
        // malformed request.
        let mismatch = || ServiceError::unauthorized("code_mismatch", "the code is not correct");

        let Some(user) = store::find_user_by_email(self.db(), email.as_str()).await? else {
            return Err(mismatch());
        };
        if user.email_verified_at.is_some() {
            return Ok(());
        }
        let Some(pending) = store::find_email_code(self.db(), user.id).await? else {
            return Err(mismatch());
        };
        let now = self.now();
        let hash = self.s.keys.hash_code(user.id, code);
        let state = PendingCode {
            expires_at: pending.expires_at,
            attempts: pending.attempts,
        };
        match verification::check(state, now, hash == pending.code_hash) {
            CodeCheck::Accepted => {
                let txn = self.s.begin().await?;
                let consumed = store::consume_email_code(
                    txn.conn(),
                    user.id,
                    &hash,
                    verification::MAX_ATTEMPTS,
                    now,
                )
                .await?;
                if !consumed {
                    // Lost a race with a lock or a resend: report as locked, change nothing.
                    txn.rollback().await?;
                    return Err(code_locked());
                }
                store::mark_verified(txn.conn(), user.id, now).await?;
                txn.commit().await?;
                Ok(())
            }
            CodeCheck::Expired => Err(ServiceError::unauthorized(
                "code_expired",
                "the code has expired; request a new one",
            )),
            CodeCheck::Locked => Err(code_locked()),
            CodeCheck::Mismatch { remaining } => {
                let counted =
                    store::count_failed_guess(self.db(), user.id, verification::MAX_ATTEMPTS)
                        .await?;
                if !counted || remaining == 0 {
                    return Err(code_locked());
                }
                Err(ServiceError::unauthorized(
                    "code_mismatch",
                    format!("the code is not correct; {remaining} attempts left"),
                ))
            }
        }
    }
}
