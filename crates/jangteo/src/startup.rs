//! Builds the application from configuration, once, for `jangteo serve` and the tests alike.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use jangteo_api::rate_limit::LocalRateLimiter;
use jangteo_api::{AppState, HttpSettings, RateLimits};
use jangteo_services::catalog::CatalogCache;
use jangteo_services::clock::{Clock, SystemClock};
use jangteo_services::files::FileStore;
use jangteo_services::images::ImageSettings;
use jangteo_services::jobs::JobRunner;
use jangteo_services::mail::{FileMailer, Mailer, SmtpMailer};
use jangteo_services::outbox::{Outbox, Subscriber};
use jangteo_services::payments::{FakeGateway, KakaoPay, PortOne, Resilient, Toss};
use jangteo_services::ports::PaymentGateway;
use jangteo_services::ports::{LocalBus, LocalGate, LocalUniqueCounter};
use jangteo_services::tokens::TokenKeys;
use jangteo_services::views::ViewCounter;
use jangteo_services::{Adapters, Services};
use jangteo_store::{DatabaseConnection, DbSettings};
use tokio::net::TcpListener;

use crate::Config;
use crate::config::FilesBackend;
use crate::serve::{Drain, serve};

/// How long connections that are open when shutdown begins may still send requests (each
/// answered with `Connection: close`) before idle ones are closed.
const DRAIN_WINDOW: Duration = Duration::from_secs(1);

/// Replacements for adapters, used by tests (a clock they can move, a mailer they can read,
/// outbox subscribers of their own).
#[derive(Default)]
pub struct Overrides {
    pub clock: Option<Arc<dyn Clock>>,
    pub mailer: Option<Arc<dyn Mailer>>,
    pub subscribers: Vec<Arc<dyn Subscriber>>,
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    /// `/metrics` on an address of its own (`metrics_listen`).
    metrics: Option<(TcpListener, axum::Router)>,
    state: AppState,
    grace: Duration,
    /// Set when this start created the first admin account: shown once, never stored.
    pub admin_credentials: Option<(String, String)>,
}

/// Queues the recurring housekeeping jobs (once per database: dedup keys) before the server
/// serves. It used to run in the background of `run` and only warn on failure: a deadlock
/// with another process's claim (MariaDB, under load) left a server without housekeeping,
/// and tests raced it. A transient failure is retried; a lasting one stops the start.
async fn schedule_housekeeping(services: &Services) -> anyhow::Result<()> {
    let mut attempt = 0u32;
    loop {
        match services.jobs().schedule_recurring(services).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 5 => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "scheduling housekeeping jobs; retrying");
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
            }
            Err(e) => return Err(anyhow::anyhow!("scheduling housekeeping jobs: {e}")),
        }
    }
}

fn db_settings(config: &Config) -> DbSettings {
    DbSettings {
        url: config.database_url(),
        max_connections: config.database_max_connections,
        acquire_timeout: Duration::from_secs(10),
    }
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let settings = db_settings(config);
    let db = jangteo_store::connect(&settings)
        .await
        .with_context(|| format!("connecting to {settings:?}"))?;
    jangteo_store::migrate(&db)
        .await
        .context("applying migrations")?;
    Ok(db)
}

/// Builds the services from configuration (the adapters chosen here), owning the search
/// index: for the server and `jangteo reindex`.
pub fn services(
    config: &Config,
    db: DatabaseConnection,
    overrides: Overrides,
) -> anyhow::Result<Services> {
    let dictionary = config
        .ko_dic_dir
        .clone()
        .or_else(jangteo_search::dictionary::locate);
    let search =
        jangteo_services::search::Search::open(&config.search_dir(), dictionary.as_deref())
            .context("opening search")?;
    build_services(config, db, overrides, search)
}

/// Services for commands that run beside a server (audit, admin, seed): everything but the
/// search index, whose single writer belongs to the server.
pub fn services_without_search(
    config: &Config,
    db: DatabaseConnection,
) -> anyhow::Result<Services> {
    build_services(
        config,
        db,
        Overrides::default(),
        jangteo_services::search::Search::disabled(),
    )
}

fn build_services(
    config: &Config,
    db: DatabaseConnection,
    overrides: Overrides,
    search: jangteo_services::search::Search,
) -> anyhow::Result<Services> {
    let mailer: Arc<dyn Mailer> = match (overrides.mailer, &config.mail.smtp_url) {
        (Some(m), _) => m,
        (None, Some(url)) => Arc::new(SmtpMailer::new(url, config.mail.from.clone())?),
        (None, None) => Arc::new(FileMailer::new(config.mail_dir(), config.mail.from.clone())),
    };
    let keys = TokenKeys::new(
        &config.jwt_secret()?,
        chrono::Duration::seconds(config.access_token_ttl_secs),
        chrono::Duration::days(config.refresh_token_ttl_days),
    );
    let files = match config.files.backend {
        FilesBackend::Local => FileStore::local(&config.files_dir())?,
        FilesBackend::S3 => FileStore::s3(&config.files.s3)?,
    };
    anyhow::ensure!(
        (0.0..=1.0).contains(&config.payments.fake.failure_rate),
        "payments.fake.failure_rate must be between 0 and 1"
    );
    let clock = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
    let gateways = payment_gateways(config, &clock)?;
    anyhow::ensure!(
        gateways
            .iter()
            .any(|g| g.provider() == config.payments.default_provider),
        "payments.default_provider {:?} is not configured (configured: {})",
        config.payments.default_provider,
        gateways
            .iter()
            .map(|g| g.provider())
            .collect::<Vec<_>>()
            .join(", ")
    );
    anyhow::ensure!(
        (1..=24 * 60).contains(&config.orders.payment_minutes),
        "orders.payment_minutes must be between 1 and 1440"
    );
    anyhow::ensure!(
        config.files.max_image_bytes > 0,
        "files.max_image_bytes must be positive"
    );
    let reader = jangteo_store::reader(&db, &db_settings(config)).context("read connections")?;
    Ok(Services::new(
        db,
        Adapters {
            clock,
            mailer,
            keys,
            views: ViewCounter::new(Arc::new(LocalUniqueCounter::default())),
            search,
            catalog_cache: CatalogCache::default(),
            files,
            image_settings: ImageSettings {
                max_bytes: config.files.max_image_bytes,
                public_base_url: config.files.public_base_url.clone(),
            },
            outbox: Outbox::new(config.outbox.clone(), overrides.subscribers),
            jobs: JobRunner::new(config.jobs.clone()),
            // In-process adapters: one server process. Cluster adapters (Redis, NATS) would
            // be chosen here from configuration.
            bus: Arc::new(LocalBus::default()),
            gate: Arc::new(LocalGate::default()),
            order_settings: config.orders.clone(),
            gateways,
            payment_settings: config.payments.clone(),
        },
    )
    .with_reader(reader))
}

/// The fake gateway always (development, tests, benchmarks); each real gateway whose keys
/// are configured, behind its circuit breaker and retries (timed by the shop's clock, so
/// tests move the breaker on without sleeping).
fn payment_gateways(
    config: &Config,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<Vec<Arc<dyn PaymentGateway>>> {
    let mut all: Vec<Arc<dyn PaymentGateway>> =
        vec![Arc::new(FakeGateway::new(config.payments.fake.clone()))];
    if let Some(toss) = Toss::new(&config.payments.toss)? {
        all.push(Arc::new(Resilient::new(
            Arc::new(toss),
            jangteo_core::breaker::BreakerSettings::S2,
            clock.clone(),
        )));
    }
    if let Some(kakaopay) = KakaoPay::new(&config.payments.kakaopay)? {
        all.push(Arc::new(Resilient::new(
            Arc::new(kakaopay),
            jangteo_core::breaker::BreakerSettings::S2,
            clock.clone(),
        )));
    }
    if let Some(portone) = PortOne::new(&config.payments.portone)? {
        all.push(Arc::new(Resilient::new(
            Arc::new(portone),
            jangteo_core::breaker::BreakerSettings::S2,
            clock.clone(),
        )));
    }
    Ok(all)
}

impl Application {
    pub async fn build(config: &Config, overrides: Overrides) -> anyhow::Result<Self> {
        let db = open_database(config).await?;
        let services = services(config, db, overrides)?;
        services.files().check().await?;
        schedule_housekeeping(&services).await?;
        let admin_credentials = services
            .accounts()
            .bootstrap_admin(&config.admin_email)
            .await?;
        let limits = Arc::new(RateLimits::with_limiters(
            &config.rate_limits,
            |_, per_minute| Arc::new(LocalRateLimiter::per_minute(per_minute)),
        ));
        let state = AppState {
            services,
            limits,
            metrics: jangteo_api::install_metrics_recorder(),
            http: Arc::new(HttpSettings {
                body_limit_bytes: config.body_limit_bytes,
                trust_forwarded_for: config.trust_forwarded_for,
                request_timeout: Duration::from_secs(config.request_timeout_secs),
                metrics_on_main: config.metrics_listen.is_none(),
            }),
        };
        let router = jangteo_api::router(state.clone());
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let metrics = match &config.metrics_listen {
            None => None,
            Some(addr) => Some((
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding metrics_listen {addr}"))?,
                jangteo_api::metrics_router(state.clone()),
            )),
        };
        Ok(Self {
            listener,
            router,
            metrics,
            state,
            grace: Duration::from_secs(config.shutdown_grace_secs),
            admin_credentials,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Where `/metrics` is served when it has a listener of its own.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    pub fn services(&self) -> &Services {
        &self.state.services
    }

    /// Serves until `shutdown` resolves, then stops accepting connections and lets in-flight
    /// requests finish (for at most the configured grace period).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let housekeeping = tokio::spawn(housekeeping(self.state.clone()));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        };
        // The relay and the runner outlive the HTTP drain: requests finishing during it may
        // still commit events and jobs.
        let (work_tx, work_rx) = tokio::sync::watch::channel(false);
        let work_stopped = move || {
            let mut rx = work_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        };
        let services = self.state.services.clone();
        // The relay runs only where the search index is owned (its first subscriber);
        // the job runner runs in every server process, sharing the queue by lease.
        let relay = services.search().is_enabled().then(|| {
            let s = services.clone();
            let stop = work_stopped();
            tokio::spawn(async move { s.outbox().run(&s, stop).await })
        });
        let runner = {
            let s = services.clone();
            let stop = work_stopped();
            tokio::spawn(async move { s.jobs().run(&s, stop).await })
        };
        let drain = Drain {
            window: DRAIN_WINDOW,
            grace: self.grace,
        };
        let metrics = self
            .metrics
            .map(|(listener, router)| tokio::spawn(serve(listener, router, stopped(), drain)));
        if !serve(self.listener, self.router, stopped(), drain).await {
            tracing::warn!(
                grace_secs = drain.grace.as_secs(),
                "grace period over; closing remaining connections"
            );
        }
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        housekeeping.abort();
        let _ = work_tx.send(true);
        // Requests are done: the relay and the runner finish the round in hand (no job is
        // left half-done by a clean stop) and exit. Whatever is still queued stays in the
        // database for the next start.
        if let Some(relay) = relay
            && tokio::time::timeout(self.grace, relay).await.is_err()
        {
            tracing::warn!("outbox relay still busy at the end of the grace period");
        }
        if tokio::time::timeout(self.grace, runner).await.is_err() {
            tracing::warn!(
                "jobs still running at the end of the grace period; their leases will expire"
            );
        }
        // Keep the views counted since the last periodic flush.
        if let Err(e) = self
            .state
            .services
            .views()
            .flush(&self.state.services)
            .await
        {
            tracing::warn!(error = %e, "view counts not flushed at shutdown");
        }
        self.state.services.db().clone().close().await.ok();
        tracing::info!("stopped");
        Ok(())
    }
}

/// Upkeep of this process's own memory: forget idle rate-limit keys and write the unique
/// visitors its sketches counted. Work on shared data (token purge, image sweep, outbox
/// pruning) is durable jobs instead, run once per interval by whichever process claims it.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        state.limits.shrink();
        if let Err(e) = state.services.views().flush(&state.services).await {
            tracing::warn!(error = %e, "view counts not flushed");
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
