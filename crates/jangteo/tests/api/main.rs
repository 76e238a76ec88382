//! The HTTP story suite: every test starts the real server on a random port with its own
//! fresh database and talks to it over HTTP. The engine comes from
//! `JANGTEO_TEST_DATABASE_URL` (a PostgreSQL or MySQL server URL; each test creates its own
//! database there); without it, each test uses SQLite in a temporary directory.
//! All tests compile into this one binary so the suite builds and links once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failed test

mod support;

mod accounts;
mod addresses;
mod authorization;
mod binary;
mod bounds;
mod cart;
mod catalog;
mod concurrency;
mod conventions;
mod crash;
mod docs;
mod idempotency;
mod images;
mod inventory;
mod jobs;
mod kakaopay;
mod mail_smtp;
mod ops;
mod orders;
mod outbox;
mod payments;
mod portone;
mod search;
mod sellers;

mod tokens;
mod toss;
mod wishlist;
