//! Accounts: sign-up with e-mail verification, login, refresh-token rotation with reuse
//! detection, logout, the profile, and the admin bootstrap.

use chrono::{DateTime, Utc};
use jangteo_core::verification::{self, CodeCheck, PendingCode};
use jangteo_core::{Email, FieldErrors, Role, ids, password, validation};
use jangteo_store::entities::{email_codes, refresh_tokens, users};
use jangteo_store::{StoreError, accounts as store};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use crate::error::NotFoundAs;
use crate::jobs::SendMail;
use crate::tokens::{self, Principal};
use crate::tx::UnitOfWork;
use crate::{ServiceError, ServiceResult, Services, mail, passwords};

pub struct Accounts<'a> {
    s: &'a Services,
}

#[derive(Debug, Clone, Default)]
pub struct SignupInput<'a> {
    pub email: Option<&'a str>,
    pub password: Option<&'a str>,
    pub display_name: Option<&'a str>,
}

/// A freshly issued token pair.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    pub user_id: Uuid,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub id: Uuid,
    pub email: String,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<users::Model> for Profile {
    type Error = ServiceError;

    fn try_from(u: users::Model) -> ServiceResult<Self> {
        Ok(Profile {
            id: u.id,
            role: parse_role(&u.role)?,
            email: u.email,
            display_name: u.display_name,
            phone: u.phone,
            email_verified: u.email_verified_at.is_some(),
            created_at: u.created_at,
        })
    }
}

fn parse_role(value: &str) -> ServiceResult<Role> {
    Role::parse(value).ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("unknown role {value:?} in users table"))
    })
}

/// Profile fields a user may change; `Some(None)` clears a field.
#[derive(Debug, Default)]
pub struct ProfilePatch<'a> {
    pub display_name: Option<Option<&'a str>>,
    pub phone: Option<Option<&'a str>>,
}

impl<'a> Accounts<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    fn db(&self) -> &DatabaseConnection {
        &self.s.db
    }

    fn now(&self) -> DateTime<Utc> {
        self.s.clock.now()
    }

    /// Creates an unverified USER account and mails a verification code.
    pub async fn signup(&self, input: SignupInput<'_>) -> ServiceResult<Profile> {
        let mut errors = FieldErrors::new();
        let email = match input.email {
            None => {
                errors.add("email", "required", "email is required");
                None
            }
            Some(raw) => errors.take(Email::parse("email", raw)),
        };
        match input.password {
            None => errors.add("password", "required", "password is required"),
            Some(pw) => {
                errors.take(password::check_new(
                    "password",
                    pw,
                    email.as_ref().map(Email::as_str),
                ));
            }
        }
        let display_name = input
            .display_name
            .and_then(|d| errors.take(validation::bounded_text("display_name", d, 1, 50)));
        let (Some(email), Some(password)) = (errors.finish(email)?, input.password) else {
            unreachable!("validated above")
        };

        // Cheap early answer for the common case; the unique index still decides races.
        if store::find_user_by_email(self.db(), email.as_str())
            .await?
            .is_some()
        {
            return Err(email_taken());
        }
        let hash = passwords::hash(password.to_owned()).await?;
        let now = self.now();
        let user = users::Model {
            id: ids::new_id(),
            email: email.as_str().to_owned(),
            password_hash: Some(hash),
            display_name,
            phone: None,
            role: Role::User.as_str().to_owned(),
            email_verified_at: None,
            created_at: now,
            updated_at: now,
        };
        let code = tokens::new_code();
        let code_row = self.code_row(user.id, &code, now);
        let mut txn = self.s.begin().await?;
        store::insert_user(txn.conn(), user.clone())
            .await
            .map_err(|e| match e {
                StoreError::Conflict => email_taken(),
                other => other.into(),
            })?;
        store::put_email_code(txn.conn(), code_row).await?;
        // The mail is a job of this transaction: queued with the account or not at all,
        // sent (and retried) by the job runner, so the request never waits for SMTP.
        self.queue_code_mail(&mut txn, &user.email, &code).await?;
        txn.commit().await?;
        user.try_into()
    }

    fn code_row(&self, user_id: Uuid, code: &str, now: DateTime<Utc>) -> email_codes::Model {
        email_codes::Model {
            user_id,
            code_hash: self.s.keys.hash_code(user_id, code),
            expires_at: verification::expiry_from(now),
            attempts: 0,
            sent_at: now,
        }
    }

    async fn queue_code_mail(
        &self,
        tx: &mut UnitOfWork<'_>,
        to: &str,
        code: &str,
    ) -> ServiceResult<()> {
        let m = mail::verification_code(to, code, verification::CODE_TTL_MINUTES);
        tx.enqueue(&SendMail::from(m), None, None).await?;
        Ok(())
    }

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
        self.queue_code_mail(&mut tx, &user.email, &code).await?;
        tx.commit().await
    }

    /// Checks a verification code. Wrong guesses are counted atomically and lock the code
    /// after [`verification::MAX_ATTEMPTS`]; a locked or expired code needs a resend.
    pub async fn verify_email(
        &self,
        email_raw: Option<&str>,
        code: Option<&str>,
    ) -> ServiceResult<()> {
        let mut errors = FieldErrors::new();
        let email = errors.take(Email::parse("email", email_raw.unwrap_or_default()));
        let code = code.unwrap_or_default();
        if !verification::is_well_formed(code) {
            errors.add("code", "invalid_format", "code must be six digits");
        }
        let email = errors.finish(email)?.unwrap_or_else(|| unreachable!());
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

    pub async fn login(
        &self,
        email_raw: Option<&str>,
        password: Option<&str>,
    ) -> ServiceResult<TokenPair> {
        let mut errors = FieldErrors::new();
        let email = match email_raw {
            None => {
                errors.add("email", "required", "email is required");
                None
            }
            Some(raw) => errors.take(Email::parse("email", raw)),
        };
        let password = match password {
            Some(p) if !p.is_empty() && p.chars().count() <= password::MAX_CHARS => Some(p),
            Some(_) => {
                errors.add(
                    "password",
                    "invalid",
                    "password must be 1 to 128 characters",
                );
                None
            }
            None => {
                errors.add("password", "required", "password is required");
                None
            }
        };
        let (Some(email), Some(password)) = errors.finish((email, password))? else {
            unreachable!()
        };
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
            role: parse_role(&user.role)?,
        };
        self.issue_pair(self.db(), principal, ids::new_id()).await
    }

    async fn issue_pair(
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
            refresh_tokens::Model {
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
            role: parse_role(&user.role)?,
        };
        let pair = self
            .issue_pair(txn.conn(), principal, row.family_id)
            .await?;
        txn.commit().await?;
        Ok(pair)
    }

    async fn reuse_detected(
        &self,
        row: &refresh_tokens::Model,
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

    pub async fn profile(&self, user_id: Uuid) -> ServiceResult<Profile> {
        store::find_user(self.db(), user_id)
            .await
            .not_found_as("user")?
            .try_into()
    }

    pub async fn update_profile(
        &self,
        user_id: Uuid,
        patch: ProfilePatch<'_>,
    ) -> ServiceResult<Profile> {
        let mut errors = FieldErrors::new();
        let mut change = store::ProfileChange::default();
        match patch.display_name {
            Some(Some(name)) => {
                change.display_name = errors
                    .take(validation::bounded_text("display_name", name, 1, 50))
                    .map(Some)
            }
            Some(None) => change.display_name = Some(None),
            None => {}
        }
        match patch.phone {
            Some(Some(phone)) => {
                change.phone = errors
                    .take(jangteo_core::address::phone("phone", Some(phone)))
                    .map(Some)
            }
            Some(None) => change.phone = Some(None),
            None => {}
        }
        errors.finish(())?;
        store::update_profile(self.db(), user_id, change, self.now())
            .await
            .not_found_as("user")?
            .try_into()
    }

    /// Keyset page of accounts for admins.
    pub async fn list_users(
        &self,
        role: Option<Role>,
        after: Option<Uuid>,
        limit: u64,
    ) -> ServiceResult<Vec<Profile>> {
        let rows = store::list_users(self.db(), role.map(Role::as_str), after, limit).await?;
        rows.into_iter().map(Profile::try_from).collect()
    }

    /// Creates a verified ADMIN account. Used by `jangteo admin create` and the first start.
    pub async fn create_admin(&self, email_raw: &str, password: &str) -> ServiceResult<Profile> {
        let mut errors = FieldErrors::new();
        let email = errors.take(Email::parse("email", email_raw));
        errors.take(password::check_new(
            "password",
            password,
            email.as_ref().map(Email::as_str),
        ));
        let email = errors.finish(email)?.unwrap_or_else(|| unreachable!());
        let now = self.now();
        let user = users::Model {
            id: ids::new_id(),
            email: email.into_string(),
            password_hash: Some(passwords::hash(password.to_owned()).await?),
            display_name: Some("Administrator".into()),
            phone: None,
            role: Role::Admin.as_str().to_owned(),
            email_verified_at: Some(now),
            created_at: now,
            updated_at: now,
        };
        store::insert_user(self.db(), user.clone())
            .await
            .map_err(|e| match e {
                StoreError::Conflict => email_taken(),
                other => other.into(),
            })?;
        user.try_into()
    }

    /// On a database without any admin, creates one with a random password and returns the
    /// credentials so the caller can show them once.
    pub async fn bootstrap_admin(&self, email: &str) -> ServiceResult<Option<(String, String)>> {
        if store::any_user_with_role(self.db(), Role::Admin.as_str()).await? {
            return Ok(None);
        }
        let password = tokens::new_refresh_token()[..20].to_owned();
        match self.create_admin(email, &password).await {
            Ok(p) => Ok(Some((p.email, password))),
            // Another process bootstrapped at the same moment.
            Err(ServiceError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn email_taken() -> ServiceError {
    ServiceError::conflict(
        "email_taken",
        "an account with this e-mail address already exists",
    )
}

fn code_locked() -> ServiceError {
    ServiceError::TooManyRequests {
        code: "code_attempts_exceeded",
        detail: "too many wrong codes; request a new code".into(),
        retry_after_secs: verification::RESEND_COOLDOWN_SECONDS as u64,
    }
}
