//! Application-generated identifiers: UUIDv7, so primary keys are time-ordered (good index
//! locality on every engine, usable as keyset cursors) and can be made before the insert.

use uuid::Uuid;

pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
