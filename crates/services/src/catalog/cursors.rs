//! Keyset cursors of listings: `<sort key>~<id>`, opaque to clients.

use jangteo_core::FieldErrors;
use jangteo_core::ids::ProductId;
use jangteo_store::catalog::ListCursor;
use uuid::Uuid;

use super::*;

pub(super) fn encode_cursor(key: i64, id: ProductId) -> String {
    format!("{key}~{}", id.uuid().simple())
}

pub(super) fn decode_cursor(raw: &str) -> Result<ListCursor, FieldErrors> {
    let bad = || {
        FieldErrors::single(
            "after",
            "invalid_cursor",
            "after must be a next_cursor returned by a previous page",
        )
    };
    let (key, id) = raw.split_once('~').ok_or_else(bad)?;
    Ok(ListCursor {
        key: key.parse().map_err(|_| bad())?,
        id: Uuid::parse_str(id).map_err(|_| bad())?.into(),
    })
}

pub(super) fn page_with_cursor(
    items: Vec<ProductSummary>,
    limit: u64,
) -> (Vec<ProductSummary>, Option<String>) {
    let next = (items.len() as u64 == limit)
        .then(|| items.last().map(|i| i.cursor.clone()))
        .flatten();
    (items, next)
}
