//! Admin accounts and the user list: the first admin at start, more from the CLI.

use jangteo_core::{Email, FieldErrors, Role, password};

use super::*;
use crate::tokens::{self};
use crate::{ServiceError, ServiceResult, passwords};

impl Accounts<'_> {
    /// Keyset page of accounts for admins.
    pub async fn list_users(
        &self,
        role: Option<Role>,
        after: Option<UserId>,
        limit: u64,
    ) -> ServiceResult<Vec<Profile>> {
        let rows = store::list_users(self.db(), role, after, limit).await?;
        Ok(rows.into_iter().map(Profile::from).collect())
    }

    /// Creates a verified ADMIN account. Used by `jangteo admin create` and the first start.
    pub async fn create_admin(&self, email_raw: &str, password: &str) -> ServiceResult<Profile> {
        let email = Email::parse("email", email_raw);
        let strong =
            password::check_new("password", password, email.as_ref().ok().map(Email::as_str));
        let (email, ()) = FieldErrors::new().all((email, strong))?;
        let now = self.now();
        let hash = passwords::hash(password.to_owned()).await?;
        let user = User {
            email_verified_at: Some(now),
            ..User::new(
                email,
                Some(hash),
                Some("Administrator".into()),
                Role::Admin,
                now,
            )
        };
        insert_new_user(self.db(), user.clone()).await?;
        Ok(user.into())
    }

    /// On a database without any admin, creates one with a random password and returns the
    /// credentials so the caller can show them once.
    pub async fn bootstrap_admin(&self, email: &str) -> ServiceResult<Option<(String, String)>> {
        if store::any_user_with_role(self.db(), Role::Admin).await? {
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
