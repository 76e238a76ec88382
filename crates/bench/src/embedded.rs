//! The server the benchmark starts for itself: seeded, on embedded SQLite in a temporary
//! directory or on a fresh database of its own on a PostgreSQL or MySQL server
//! (`--database-url`), which it drops again at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use jangteo_services::Services;
use sea_orm::{ConnectionTrait, Database};

/// A running embedded server.
pub struct Embedded {
    pub base: String,
    pub credentials: Option<(String, String)>,
    pub services: Services,
    /// The database created for this run (dropped by [`Embedded::drop_database`]).
    created: Option<(String, String)>,
}

impl Embedded {
    /// Starts a seeded server on the current runtime.
    pub async fn start(
        dir: &std::path::Path,
        products: u64,
        database_url: Option<&str>,
        pool: Option<u32>,
        probe: Arc<DelayProbe>,
    ) -> anyhow::Result<Self> {
        let created = match database_url {
            Some(url) => Some(fresh_database(url).await?),
            None => None,
        };
        let config = jangteo::Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.to_path_buf(),
            database_url: created.as_ref().map(|(_, url)| url.clone()),
            demo_catalog: false,
            log_level: "warn".into(),
            database_max_connections: pool
                .unwrap_or(jangteo::Config::default().database_max_connections),
            ..jangteo::Config::default()
        };
        let app = jangteo::Application::build(
            &config,
            jangteo::Overrides {
                subscribers: vec![probe],
                ..jangteo::Overrides::default()
            },
        )
        .await?;
        let started = Instant::now();
        let opts = jangteo::seed::SeedOptions {
            products,
            sellers: (products / 1_000).clamp(1, 1_000),
            seed: 42,
            progress: true,
        };
        jangteo::seed::seed(app.services(), opts)
            .await
            .context("seeding")?;
        eprintln!(
            "seeded {products} products in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        // The seed's events feed the index, as a live catalog's writes would.
        let started = Instant::now();
        let services = app.services().clone();
        services
            .outbox()
            .settle(&services, Duration::from_secs(24 * 3600))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        eprintln!(
            "indexed {} products for search through the outbox in {:.1} s ({})",
            services.search().num_docs(),
            started.elapsed().as_secs_f64(),
            services.search().analyzer_name()
        );
        let base = format!("http://{}", app.local_addr());
        let credentials = app.admin_credentials.clone();
        tokio::spawn(app.run_until(std::future::pending()));
        Ok(Self {
            base,
            credentials,
            services,
            created: created.map(|(name, _)| (name, database_url.unwrap_or_default().to_owned())),
        })
    }

    /// Drops the database this run created, if it created one.
    pub async fn drop_database(&self) -> anyhow::Result<()> {
        let Some((name, server)) = &self.created else {
            return Ok(());
        };
        let admin = Database::connect(server.as_str()).await?;
        // The server of the run still holds its pool: PostgreSQL refuses to drop a database
        // others are connected to unless told to end their sessions (MySQL just drops it).
        let force = if server.starts_with("postgres") {
            " WITH (FORCE)"
        } else {
            ""
        };
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}{force}"))
            .await?;
        Ok(())
    }
}

/// Creates `jtbench_<time>` on the server of `url`; its name and URL.
async fn fresh_database(url: &str) -> anyhow::Result<(String, String)> {
    let admin = Database::connect(url)
        .await
        .with_context(|| format!("cannot reach {}", jangteo_store::redact_url(url)))?;
    let name = format!("jtbench_{}", chrono::Utc::now().timestamp());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let (head, tail) = url.split_once("://").context("a URL with a scheme")?;
    let (authority, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Ok((name.clone(), format!("{head}://{authority}/{name}{query}")))
}

/// An outbox subscriber that records, for every product event, how long after its commit
/// it was applied. It is the last subscriber, so the delay includes the search indexer's
/// work on the same batch.
#[derive(Default)]
pub struct DelayProbe {
    delays: std::sync::Mutex<Option<Histogram<u64>>>,
}

#[async_trait::async_trait]
impl jangteo_services::outbox::Subscriber for DelayProbe {
    fn name(&self) -> &'static str {
        "bench_delay_probe"
    }

    fn wants(&self, event: &jangteo_core::events::DomainEvent) -> bool {
        matches!(
            event,
            jangteo_core::events::DomainEvent::ProductChanged { .. }
        )
    }

    async fn apply(
        &self,
        _services: &jangteo_services::Services,
        _tx: &jangteo_store::DatabaseTransaction,
        events: &[jangteo_services::outbox::Delivery],
    ) -> anyhow::Result<()> {
        let now = chrono::Utc::now();
        let mut guard = self.delays.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = guard.as_mut() {
            for d in events {
                let micros = (now - d.at).num_microseconds().unwrap_or(i64::MAX);
                h.saturating_record(u64::try_from(micros).unwrap_or(0));
            }
        }
        Ok(())
    }
}

impl DelayProbe {
    /// Starts recording (forgetting what came before).
    pub fn start(&self) -> anyhow::Result<()> {
        *self.delays.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Histogram::new_with_bounds(1, 600_000_000, 3)?);
        Ok(())
    }

    pub fn take(&self) -> Option<Histogram<u64>> {
        self.delays.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}
