//! Keyset pagination: `?after=<cursor>&limit=N`. The cursor is the id of the last item of
//! the previous page (ids are time-ordered UUIDv7), so pages never use OFFSET.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::ApiError;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Cursor from the previous page's `next_cursor`.
    pub after: Option<Uuid>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid_query(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            ))),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

impl<T: ToSchema> Page<T> {
    /// `id_of` names the cursor of an item. A full page may have a successor.
    pub fn new(items: Vec<T>, limit: u64, id_of: impl Fn(&T) -> Uuid) -> Self {
        let next_cursor = (items.len() as u64 == limit)
            .then(|| items.last().map(&id_of))
            .flatten();
        Self { items, next_cursor }
    }
}
