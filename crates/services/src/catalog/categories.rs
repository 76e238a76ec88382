//! The category tree: create, rename (its products' pages and search documents follow
//! through a `CategoryChanged` event), read.

use jangteo_core::catalog::{self as rules};
use jangteo_core::events::DomainEvent;
use jangteo_core::ids::CategoryId;
use jangteo_core::{FieldErrors, validation};
use jangteo_store::StoreError;
use jangteo_store::catalog::{self as store, Category};

use super::*;
use crate::error::NotFoundAs;
use crate::{ServiceError, ServiceResult};

impl Catalog<'_> {
    pub async fn create_category(
        &self,
        name: Option<&str>,
        slug: Option<&str>,
        parent_id: Option<CategoryId>,
        position: Option<i32>,
    ) -> ServiceResult<CategoryRef> {
        let name = validation::required_text("name", name, 1, 60);
        let id = CategoryId::new();
        let slug = match (slug, &name) {
            (Some(s), _) => rules::slug("slug", s),
            // A name of only punctuation has no slug of its own: one from the id, then.
            (None, Ok(n)) => match rules::slugify(n) {
                derived if derived.is_empty() => {
                    Ok(format!("c-{}", &id.uuid().simple().to_string()[..12]))
                }
                derived => rules::slug("slug", &derived),
            },
            // No name, so no slug to derive: the name's error says what is wrong.
            (None, Err(_)) => Err(FieldErrors::new()),
        };
        let position = rules::position("position", position);
        let (name, slug, position) = FieldErrors::new().all((name, slug, position))?;
        let parent = match parent_id {
            None => None,
            Some(pid) => Some(
                store::find_category(&self.s.db, pid)
                    .await
                    .not_found_as("parent category")?,
            ),
        };
        let depth = parent.as_ref().map_or(0, |p| p.depth + 1);
        if depth >= MAX_CATEGORY_DEPTH {
            return Err(ServiceError::conflict(
                "category_too_deep",
                "categories nest at most 5 levels; this parent is already at the deepest",
            ));
        }
        let path = format!(
            "{}{}/",
            parent.as_ref().map_or("/", |p| p.path.as_str()),
            id.uuid().simple()
        );
        let row = Category {
            id,
            parent_id,
            name: name.clone(),
            slug: slug.clone(),
            path,
            depth,
            position,
            created_at: self.now(),
        };
        let tx = self.s.begin().await?;
        store::insert_category(tx.conn(), row)
            .await
            .map_err(|e| match e {
                StoreError::Conflict {
                    index: Some("ux_categories_slug"),
                } => ServiceError::conflict("slug_taken", "another category uses this slug"),
                other => other.into(),
            })?;
        tx.commit().await?;
        Ok(CategoryRef { id, name, slug })
    }

    /// `NotFound` unless a category with this id exists (for filters naming one).
    pub async fn require_category(&self, id: CategoryId) -> ServiceResult<()> {
        store::find_category(&self.s.db, id)
            .await
            .not_found_as("category")
            .map(drop)
    }

    pub async fn rename_category(
        &self,
        id: CategoryId,
        name: Option<&str>,
    ) -> ServiceResult<CategoryRef> {
        let name = validation::required_text("name", name, 1, 60)?;
        let mut tx = self.s.begin().await?;
        let c = store::rename_category(tx.conn(), id, &name)
            .await
            .not_found_as("category")?;
        // Listings, pages and search documents of its products show the name.
        tx.record(DomainEvent::CategoryChanged { category_id: id });
        tx.commit().await?;
        Ok(CategoryRef {
            id: c.id,
            name: c.name,
            slug: c.slug,
        })
    }

    pub async fn category_tree(&self) -> ServiceResult<Vec<CategoryNode>> {
        let all = store::list_categories(&self.s.db).await?;
        Ok(build_tree(&all, None))
    }
}

pub(super) fn build_tree(all: &[Category], parent: Option<CategoryId>) -> Vec<CategoryNode> {
    all.iter()
        .filter(|c| c.parent_id == parent)
        .map(|c| CategoryNode {
            id: c.id,
            name: c.name.clone(),
            slug: c.slug.clone(),
            children: build_tree(all, Some(c.id)),
        })
        .collect()
}
