//! The server under test: started in-process on a random port with a manual clock, plus
//! the hooks that let a test wait for its background work (events, jobs) deterministically.

use std::path::PathBuf;
use std::sync::Arc;

use jangteo::{Application, Config, Overrides};
use jangteo_services::Services;
use jangteo_services::clock::ManualClock;

use super::db::test_config;
use super::http::http_client;

pub struct TestApp {
    pub base: String,
    /// `http://…` of the metrics-only listener, when the test configured one.
    pub metrics_base: Option<String>,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub services: Services,
    pub mail_dir: PathBuf,
    /// Where the local file store keeps uploads.
    pub files_dir: PathBuf,
    pub admin_email: String,
    pub admin_password: String,
    pub backend: &'static str,
    /// The configuration this server runs with (for starting another on its database).
    pub config: Config,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server; `tweak` adjusts the test configuration first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_custom(tweak, Overrides::default()).await
}

/// Starts a server with adapters of the test's own (a mailer, outbox subscribers); the
/// clock is a `ManualClock` unless `overrides` brings one.
pub async fn spawn_app_custom(tweak: impl FnOnce(&mut Config), overrides: Overrides) -> TestApp {
    // JANGTEO_TEST_LOG=debug (or any filter) shows the servers' logs, for a failing test.
    if let Ok(level) = std::env::var("JANGTEO_TEST_LOG") {
        jangteo::telemetry::init("pretty", &level);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut config, backend) = test_config(dir.path()).await;
    tweak(&mut config);
    let clock = Arc::new(ManualClock::default());
    let overrides = Overrides {
        clock: Some(overrides.clock.unwrap_or_else(|| clock.clone())),
        ..overrides
    };
    let app = Application::build(&config, overrides)
        .await
        .expect("application starts");
    let (admin_email, admin_password) = app
        .admin_credentials
        .clone()
        .expect("a fresh database bootstraps an admin");
    let base = format!("http://{}", app.local_addr());
    let metrics_base = app.metrics_addr().map(|a| format!("http://{a}"));
    let services = app.services().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        base,
        metrics_base,
        http: http_client(),
        clock,
        services,
        mail_dir: config.mail_dir(),
        files_dir: config.files_dir(),
        admin_email,
        admin_password,
        backend,
        config,
        _dir: dir,
    }
}

impl TestApp {
    /// The configuration of a second server process on this one's database: its own data
    /// directory (search index, files), the same database (for SQLite, the same file).
    pub fn second_config(&self, data_dir: &std::path::Path) -> Config {
        let mut c = self.config.clone();
        c.database_url = Some(self.config.database_url());
        c.data_dir = data_dir.to_path_buf();
        c
    }

    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use jangteo_services::clock::Clock;
        self.clock.now()
    }

    /// Delivers every committed event to the outbox subscribers (search index, counters).
    pub async fn settle(&self) {
        self.services
            .outbox()
            .settle(&self.services, std::time::Duration::from_secs(30))
            .await
            .expect("outbox settles");
    }

    /// Runs every job that is due at the test clock's time (mail, housekeeping).
    pub async fn run_jobs(&self) -> usize {
        self.services
            .jobs()
            .run_due(&self.services, std::time::Duration::from_secs(30))
            .await
            .expect("jobs run")
    }
}
