//! The signed-in user's own profile.

use jangteo_core::{FieldErrors, validation};
use jangteo_store::accounts as store;

use super::*;
use crate::ServiceResult;
use crate::error::NotFoundAs;

impl Accounts<'_> {
    pub async fn profile(&self, user_id: UserId) -> ServiceResult<Profile> {
        store::find_user(self.db(), user_id)
            .await
            .not_found_as("user")
            .map(Profile::from)
    }

    pub async fn update_profile(
        &self,
        user_id: UserId,
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
            .not_found_as("user")
            .map(Profile::from)
    }
}
