//! jangteo domain services: the use cases, their transactions, and the ports they need
//! (clock, mailer). Services never see HTTP types; the api crate maps their results.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod addresses;
pub mod cart;
pub mod catalog;
pub mod clock;
mod error;
pub mod files;
pub mod idempotency;
pub mod images;
pub mod inventory;
pub mod jobs;
pub mod mail;
pub mod orders;
pub mod outbox;
pub mod passwords;
pub mod payments;
pub mod ports;
pub mod search;
pub mod sellers;
pub mod tokens;
pub mod tx;
pub mod views;
pub mod wishlist;
mod worker;

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
/// Fields are the crate's own; callers outside use the accessors (and the use-case
/// handles: `accounts()`, `catalog()`, …), so what `Services` holds can change freely.
#[derive(Clone)]
pub struct Services {
    db: DatabaseConnection,
    /// Begins the units of work (group commit on SQLite: `jangteo_store::Writer`).
    writer: jangteo_store::Writer,
    /// Reads outside transactions (`jangteo_store::reader`): SQLite's readers beside its
    /// one writer; the same pool on PostgreSQL and MySQL.
    reader: DatabaseConnection,
    clock: Arc<dyn Clock>,
    mailer: Arc<dyn Mailer>,
    keys: Arc<TokenKeys>,
    catalog_cache: Arc<catalog::CatalogCache>,
    views: Arc<views::ViewCounter>,
    search: Arc<search::Search>,
    files: files::FileStore,
    image_settings: Arc<images::ImageSettings>,
    outbox: Arc<outbox::Outbox>,
    jobs: Arc<jobs::JobRunner>,
    bus: Arc<dyn ports::EventBus>,
    gate: Arc<dyn ports::AdmissionGate>,
    order_settings: Arc<orders::OrderSettings>,
    payment_settings: Arc<payments::PaymentSettings>,
    gateways: Arc<payments::Gateways>,
}

/// The adapters and settings `Services` is built from, chosen at start-up (`startup.rs`).
pub struct Adapters {
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<dyn Mailer>,
    pub keys: TokenKeys,
    pub views: views::ViewCounter,
    pub search: search::Search,
    /// Product details and listing pages (read-cache ports).
    pub catalog_cache: catalog::CatalogCache,
    /// Uploaded files (product images): local directory or S3-compatible bucket.
    pub files: files::FileStore,
    pub image_settings: images::ImageSettings,
    /// The relay of the transactional outbox and its subscribers.
    pub outbox: outbox::Outbox,
    /// The durable job runner.
    pub jobs: jobs::JobRunner,
    /// Fan-out of committed events within (in-process adapter) or across processes.
    pub bus: Arc<dyn ports::EventBus>,
    /// Counters that hold back flash-sale crowds before they reach the stock rows.
    pub gate: Arc<dyn ports::AdmissionGate>,
    pub order_settings: orders::OrderSettings,
    pub payment_settings: payments::PaymentSettings,
    /// The payment gateways this shop takes (the fake one in embedded mode).
    pub gateways: Vec<Arc<dyn ports::PaymentGateway>>,
}

impl Services {
    pub fn new(db: DatabaseConnection, a: Adapters) -> Self {
        Self {
            reader: db.clone(),
            writer: jangteo_store::Writer::new(db.clone()),
            db,
            clock: a.clock,
            mailer: a.mailer,
            keys: Arc::new(a.keys),
            catalog_cache: Arc::new(a.catalog_cache),
            views: Arc::new(a.views),
            search: Arc::new(a.search),
            files: a.files,
            image_settings: Arc::new(a.image_settings),
            outbox: Arc::new(a.outbox),
            jobs: Arc::new(a.jobs),
            bus: a.bus,
            gate: a.gate,
            order_settings: Arc::new(a.order_settings),
            gateways: Arc::new(payments::Gateways::new(
                a.gateways,
                &a.payment_settings.default_provider,
            )),
            payment_settings: Arc::new(a.payment_settings),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Writes outside a unit of work (`Writer::alone`) and units of work go here.
    pub fn writer(&self) -> &jangteo_store::Writer {
        &self.writer
    }

    /// Group commits on SQLite so far (`None` elsewhere): units of work per `COMMIT` is
    /// how much of each commit's cost they shared.
    pub fn group_commits(&self) -> Option<jangteo_store::GroupStats> {
        self.writer.group_stats()
    }

    /// Where to read outside a transaction (never for a read that decides a write: those
    /// belong in the unit of work).
    pub fn reader(&self) -> &DatabaseConnection {
        &self.reader
    }

    /// Sends reads outside transactions to `reader` (see `jangteo_store::reader`).
    #[must_use]
    pub fn with_reader(mut self, reader: DatabaseConnection) -> Self {
        self.reader = reader;
        self
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    pub fn views(&self) -> &views::ViewCounter {
        &self.views
    }

    pub fn search(&self) -> &search::Search {
        &self.search
    }

    pub fn files(&self) -> &files::FileStore {
        &self.files
    }

    pub fn image_settings(&self) -> &images::ImageSettings {
        &self.image_settings
    }

    pub fn outbox(&self) -> &outbox::Outbox {
        &self.outbox
    }

    pub fn jobs(&self) -> &jobs::JobRunner {
        &self.jobs
    }

    pub fn bus(&self) -> &dyn ports::EventBus {
        self.bus.as_ref()
    }

    pub fn gate(&self) -> &dyn ports::AdmissionGate {
        self.gate.as_ref()
    }
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

    pub fn cart(&self) -> cart::Cart<'_> {
        cart::Cart::new(self)
    }

    pub fn wishlist(&self) -> wishlist::Wishlist<'_> {
        wishlist::Wishlist::new(self)
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

    pub fn orders(&self) -> orders::Orders<'_> {
        orders::Orders::new(self)
    }

    pub fn payments(&self) -> payments::Payments<'_> {
        payments::Payments::new(self)
    }
}
