//! Sign-up: an unverified USER account and its verification mail, queued as a job in the
//! same transaction.

use chrono::{DateTime, Utc};
use jangteo_core::verification::{self};
use jangteo_core::{Email, FieldErrors, Role, password, validation};
use jangteo_store::accounts::EmailCode;

use super::*;
use crate::jobs::SendMail;
use crate::tokens::{self};
use crate::tx::UnitOfWork;
use crate::{ServiceResult, mail, passwords};

impl Accounts<'_> {
    /// Creates an unverified USER account and mails a verification code.
    pub async fn signup(&self, input: SignupInput<'_>) -> ServiceResult<Profile> {
        let email = validation::required("email", input.email, |raw| Email::parse("email", raw));
        let known_email = email.as_ref().ok().map(Email::as_str);
        let password = validation::required("password", input.password, |pw| {
            password::check_new("password", pw, known_email).map(|()| pw)
        });
        let display_name = input
            .display_name
            .map(|d| validation::bounded_text("display_name", d, 1, 50))
            .transpose();
        let (email, password, display_name) =
            FieldErrors::new().all((email, password, display_name))?;

        // Cheap early answer for the common case; the unique index still decides races.
        if store::find_user_by_email(self.db(), email.as_str())
            .await?
            .is_some()
        {
            return Err(email_taken());
        }
        let hash = passwords::hash(password.to_owned()).await?;
        let now = self.now();
        let user = User::new(email, Some(hash), display_name, Role::User, now);
        let code = tokens::new_code();
        let code_row = self.code_row(user.id, &code, now);
        let mut txn = self.s.begin().await?;
        insert_new_user(txn.conn(), user.clone()).await?;
        store::put_email_code(txn.conn(), code_row).await?;
        // The mail is a job of this transaction: queued with the account or not at all,
        // sent (and retried) by the job runner, so the request never waits for SMTP.
        self.queue_code_mail(&mut txn, user.email.as_str(), &code)
            .await?;
        txn.commit().await?;
        Ok(user.into())
    }

    pub(super) fn code_row(&self, user_id: UserId, code: &str, now: DateTime<Utc>) -> EmailCode {
        EmailCode {
            user_id,
            code_hash: self.s.keys.hash_code(user_id, code),
            expires_at: verification::expiry_from(now),
            attempts: 0,
            sent_at: now,
        }
    }

    pub(super) async fn queue_code_mail(
        &self,
        tx: &mut UnitOfWork<'_>,
        to: &str,
        code: &str,
    ) -> ServiceResult<()> {
        let m = mail::verification_code(to, code, verification::CODE_TTL_MINUTES);
        tx.enqueue(&SendMail::from(m), None, None).await?;
        Ok(())
    }
}
