//! The shipping address book: at most [`address::MAX_PER_USER`] addresses, exactly one default
//! once any exists. Every operation is scoped to the owner.

use jangteo_core::address::{self, AddressFields, AddressInput};
use jangteo_core::ids::{AddressId, UserId};
use jangteo_store::addresses::{self as store, Address};

use crate::error::NotFoundAs;
use crate::{ServiceError, ServiceResult, Services};

pub struct AddressBook<'a> {
    s: &'a Services,
}

/// A partial update: only `Some` fields change; `line2`/`label` may be cleared with "".
#[derive(Debug, Default)]
pub struct AddressPatch<'a> {
    pub fields: AddressInput<'a>,
    pub is_default: Option<bool>,
}

impl<'a> AddressBook<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    pub async fn list(&self, user_id: UserId) -> ServiceResult<Vec<Address>> {
        Ok(store::list(&self.s.db, user_id).await?)
    }

    pub async fn get(&self, user_id: UserId, id: AddressId) -> ServiceResult<Address> {
        store::find_owned(&self.s.db, user_id, id)
            .await
            .not_found_as("address")
    }

    pub async fn create(
        &self,
        user_id: UserId,
        input: AddressInput<'_>,
        is_default: bool,
    ) -> ServiceResult<Address> {
        let fields = AddressFields::parse(input)?;
        let now = self.s.clock.now();
        let txn = self.s.begin().await?;
        let existing = store::count(txn.conn(), user_id).await?;
        if existing >= address::MAX_PER_USER {
            return Err(ServiceError::conflict(
                "address_limit_reached",
                format!(
                    "an account can keep at most {} addresses",
                    address::MAX_PER_USER
                ),
            ));
        }
        let row = Address {
            id: AddressId::new(),
            user_id,
            label: fields.label,
            recipient: fields.recipient,
            phone: fields.phone,
            postal_code: fields.postal_code,
            line1: fields.line1,
            line2: fields.line2,
            // The first address is the default whatever the client asked.
            is_default: is_default || existing == 0,
            created_at: now,
            updated_at: now,
        };
        store::insert(txn.conn(), row.clone()).await?;
        if row.is_default {
            store::clear_default(txn.conn(), user_id, row.id, now).await?;
        }
        txn.commit().await?;
        Ok(row)
    }

    pub async fn update(
        &self,
        user_id: UserId,
        id: AddressId,
        patch: AddressPatch<'_>,
    ) -> ServiceResult<Address> {
        let txn = self.s.begin().await?;
        let current = store::find_owned(txn.conn(), user_id, id)
            .await
            .not_found_as("address")?;
        let p = patch.fields;
        let merged = AddressFields::parse(AddressInput {
            label: p.label.or(current.label.as_deref()),
            recipient: p.recipient.or(Some(&current.recipient)),
            phone: p.phone.or(Some(&current.phone)),
            postal_code: p.postal_code.or(Some(&current.postal_code)),
            line1: p.line1.or(Some(&current.line1)),
            line2: p.line2.or(current.line2.as_deref()),
        })?;
        if patch.is_default == Some(false) && current.is_default {
            return Err(ServiceError::conflict(
                "default_address_required",
                "make another address the default instead of unsetting this one",
            ));
        }
        let now = self.s.clock.now();
        let updated = store::update(
            txn.conn(),
            Address {
                label: merged.label,
                recipient: merged.recipient,
                phone: merged.phone,
                postal_code: merged.postal_code,
                line1: merged.line1,
                line2: merged.line2,
                is_default: patch.is_default.unwrap_or(current.is_default),
                updated_at: now,
                ..current
            },
        )
        .await?;
        if updated.is_default {
            store::clear_default(txn.conn(), user_id, updated.id, now).await?;
        }
        txn.commit().await?;
        Ok(updated)
    }

    pub async fn delete(&self, user_id: UserId, id: AddressId) -> ServiceResult<()> {
        let txn = self.s.begin().await?;
        store::delete_owned(txn.conn(), user_id, id)
            .await
            .not_found_as("address")?;
        store::ensure_default(txn.conn(), user_id, self.s.clock.now()).await?;
        txn.commit().await?;
        Ok(())
    }
}
