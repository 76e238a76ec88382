//! What the story tests share, split by concern so each part stays small; everything is
//! re-exported here, so a test file needs only `use crate::support::*;`.

mod app;
mod db;
mod fixtures;
mod http;
mod invariants;
mod kakaopay_mock;
mod mail;
mod portone_mock;
mod shoppers;
mod toss_mock;

pub use app::*;
pub use db::*;
pub use fixtures::*;
pub use http::*;
pub use invariants::*;
pub use kakaopay_mock::*;
pub use mail::*;
pub use portone_mock::*;
pub use shoppers::*;
pub use toss_mock::*;
