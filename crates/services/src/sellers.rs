//! Becoming a seller: a customer applies, an admin approves (the account becomes SELLER and
//! a seller profile is created in the same transaction) or rejects with a reason.

use jangteo_core::ids::ApplicationId;
use jangteo_core::seller::{self, ApplicationStatus, BusinessNumber};
use jangteo_core::{FieldErrors, Role, validation};
pub use jangteo_store::sellers::{Application, Seller};
use jangteo_store::{StoreError, accounts, sellers as store};

use crate::error::NotFoundAs;
use crate::tokens::Principal;
use crate::{ServiceError, ServiceResult, Services};

pub struct Sellers<'a> {
    s: &'a Services,
}

pub enum Decision<'r> {
    Approve,
    Reject { reason: Option<&'r str> },
}

impl<'a> Sellers<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    pub async fn apply(
        &self,
        who: Principal,
        shop_name: Option<&str>,
        business_number: Option<&str>,
    ) -> ServiceResult<Application> {
        let shop_name = seller::shop_name("shop_name", shop_name);
        let number = validation::required("business_number", business_number, |raw| {
            BusinessNumber::parse("business_number", raw)
        });
        let (shop_name, number) = FieldErrors::new().all((shop_name, number))?;
        // Read the role from the database: the token may predate an approval.
        let user = accounts::find_user(&self.s.db, who.user_id)
            .await
            .not_found_as("user")?;
        if user.role.satisfies(Role::Seller) {
            return Err(ServiceError::conflict(
                "already_seller",
                "this account can already sell",
            ));
        }
        let row = Application {
            id: ApplicationId::new(),
            user_id: who.user_id,
            shop_name,
            business_number: number.as_str().to_owned(),
            status: ApplicationStatus::Pending,
            pending_user_id: Some(who.user_id),
            reason: None,
            decided_by: None,
            decided_at: None,
            created_at: self.s.clock.now(),
        };
        store::insert_application(&self.s.db, row.clone())
            .await
            .map_err(|e| match e {
                StoreError::Conflict {
                    index: Some("ux_seller_applications_pending"),
                } => ServiceError::conflict(
                    "application_pending",
                    "an application of this account is already pending",
                ),
                other => other.into(),
            })?;
        Ok(row)
    }

    /// Admins see every application (optionally by status); others only their own.
    pub async fn list(
        &self,
        who: Principal,
        status: Option<ApplicationStatus>,
        after: Option<ApplicationId>,
        limit: u64,
    ) -> ServiceResult<Vec<Application>> {
        let owner = (who.role != Role::Admin).then_some(who.user_id);
        Ok(store::list_applications(&self.s.db, owner, status, after, limit).await?)
    }

    pub async fn get(&self, who: Principal, id: ApplicationId) -> ServiceResult<Application> {
        let app = store::find_application(&self.s.db, id)
            .await
            .not_found_as("application")?;
        // Another user's application is reported as missing, not forbidden: ids leak nothing.
        if who.role != Role::Admin && app.user_id != who.user_id {
            return Err(ServiceError::NotFound("application"));
        }
        Ok(app)
    }

    pub async fn decide(
        &self,
        admin: Principal,
        id: ApplicationId,
        decision: Decision<'_>,
    ) -> ServiceResult<Application> {
        let reason = match &decision {
            Decision::Reject { reason: Some(r) } => {
                Some(validation::bounded_text("reason", r, 1, 500)?)
            }
            _ => None,
        };
        let now = self.s.clock.now();
        let txn = self.s.begin().await?;
        let app = store::find_application(txn.conn(), id)
            .await
            .not_found_as("application")?;
        let status = match decision {
            Decision::Approve => ApplicationStatus::Approved,
            Decision::Reject { .. } => ApplicationStatus::Rejected,
        };
        if !store::decide_application(txn.conn(), id, status, reason, admin.user_id, now).await? {
            return Err(ServiceError::conflict(
                "application_decided",
                "this application was already decided",
            ));
        }
        if status == ApplicationStatus::Approved {
            store::insert_seller(
                txn.conn(),
                Seller {
                    user_id: app.user_id,
                    shop_name: app.shop_name.clone(),
                    business_number: app.business_number.clone(),
                    application_id: app.id,
                    created_at: now,
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict {
                    index: Some("ux_sellers_shop_name"),
                } => {
                    ServiceError::conflict("shop_name_taken", "another seller uses this shop name")
                }
                other => other.into(),
            })?;
            accounts::set_role(txn.conn(), app.user_id, Role::Seller, now).await?;
        }
        let decided = store::find_application(txn.conn(), id).await?;
        txn.commit().await?;
        Ok(decided)
    }

    pub async fn profile(&self, who: Principal) -> ServiceResult<Seller> {
        store::find_seller(&self.s.db, who.user_id)
            .await
            .not_found_as("seller profile")
    }
}
