//! jangteo domain services: the use cases, their transactions, and the ports they need
//! (clock, mailer). Services never see HTTP types; the api crate maps their results.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod addresses;
pub mod catalog;
pub mod clock;
mod error;
pub mod files;
pub mod images;
pub mod inventory;
pub mod jobs;
pub mod mail;
pub mod outbox;
pub mod passwords;
pub mod ports;
pub mod search;
pub mod sellers;
pub mod tokens;
pub mod tx;
pub mod views;

use std::sync::Arc;

pub use error::{ServiceError, ServiceResult};
pub use jangteo_store::DatabaseConnection;

use clock::Clock;
use mail::Mailer;
use tokens::TokenKeys;

/// Selects ring as the TLS crypto provider of this process. Every HTTP client in the
/// workspace (the S3 adapter, the benchmark, the tests) is reqwest over rustls, built
/// without a provider of its own so that the tree compiles ring once instead of also
/// building aws-lc from C; a client built before this call would panic. Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Everything a use case may need, built once at start-up and shared by every request.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<dyn Mailer>,
    pub keys: Arc<TokenKeys>,
    pub catalog_cache: Arc<catalog::CatalogCache>,
    pub views: Arc<views::ViewCounter>,
    pub search: Arc<search::Search>,
    /// Uploaded files (product images): local directory or S3-compatible bucket.
    pub files: files::FileStore,
    pub image_settings: Arc<images::ImageSettings>,
    /// The relay of the transactional outbox and its subscribers.
    pub outbox: Arc<outbox::Outbox>,
    /// The durable job runner.
    pub jobs: Arc<jobs::JobRunner>,
    /// Fan-out of committed events within (in-process adapter) or across processes.
    pub bus: Arc<dyn ports::EventBus>,
    /// Counters that hold back flash-sale crowds before they reach the stock rows.
    pub gate: Arc<dyn ports::AdmissionGate>,
}

impl Services {
    pub fn accounts(&self) -> accounts::Accounts<'_> {
        accounts::Accounts::new(self)
    }

    pub fn addresses(&self) -> addresses::AddressBook<'_> {
        addresses::AddressBook::new(self)
    }

    pub fn sellers(&self) -> sellers::Sellers<'_> {
        sellers::Sellers::new(self)
    }

    pub fn catalog(&self) -> catalog::Catalog<'_> {
        catalog::Catalog::new(self)
    }

    pub fn images(&self) -> images::ProductImages<'_> {
        images::ProductImages::new(self)
    }

    pub fn inventory(&self) -> inventory::Inventory<'_> {
        inventory::Inventory::new(self)
    }
}
