//! Layered configuration: built-in defaults < `jangteo.toml` < `JANGTEO_*` environment
//! variables < command-line flags. Nested keys use `__` in variables
//! (`JANGTEO_MAIL__SMTP_URL`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: String,
    /// Serve `/metrics` on this address instead of on `listen`, e.g. `127.0.0.1:9090`, so
    /// that only the monitoring network reaches it. Unset: `/metrics` is on `listen`.
    pub metrics_listen: Option<String>,
    /// Where the embedded defaults keep their files (SQLite database, mail, secrets).
    pub data_dir: PathBuf,
    /// `sqlite://…`, `postgres://…` or `mysql://…`; default: SQLite under `data_dir`.
    pub database_url: Option<String>,
    pub database_max_connections: u32,
    /// HMAC key for access tokens, at least 32 bytes. Default: generated once and kept in
    /// `data_dir/jwt-secret`. Set it explicitly when several processes serve one shop.
    pub jwt_secret: Option<String>,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_days: i64,
    /// E-mail of the admin account created on first start.
    pub admin_email: String,
    /// Directory of the Korean dictionary for search (see scripts/ko-dic/build.sh). Default:
    /// `JANGTEO_KO_DIC`, else `./data/ko-dic` if built there, else none (bigram fallback).
    pub ko_dic_dir: Option<PathBuf>,
    /// On the first start of the embedded mode (no `database_url` set), fill the new shop
    /// with a small demo catalog so there is something to browse.
    pub demo_catalog: bool,
    /// `json` (default) or `pretty`.
    pub log_format: String,
    /// A tracing filter, e.g. `info` or `jangteo=debug,info`.
    pub log_level: String,
    pub body_limit_bytes: usize,
    pub trust_forwarded_for: bool,
    /// How long shutdown waits for in-flight requests before giving up.
    pub shutdown_grace_secs: u64,
    pub request_timeout_secs: u64,
    pub mail: MailConfig,
    /// Rate limits and the login-failure throttle (the api crate's settings, as they are).
    pub rate_limits: jangteo_api::RateLimitSettings,
    pub files: FilesConfig,
    /// The outbox relay: batch size, lease, attempts before parking, retention.
    pub outbox: jangteo_services::outbox::OutboxSettings,
    /// The durable job runner: concurrency, lease, polling.
    pub jobs: jangteo_services::jobs::JobSettings,
    /// Checkout: how long a placed order waits for its payment (`payment_minutes`, 15).
    pub orders: jangteo_services::orders::OrderSettings,
    /// Payment gateways: the default provider, the fake gateway's delay and failure rate.
    pub payments: jangteo_services::payments::PaymentSettings,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MailConfig {
    pub from: String,
    /// When set, mail goes over SMTP (`smtp://user:pass@host:587?tls=required`, `smtps://…`);
    /// otherwise each message is written under `data_dir/mail/`.
    pub smtp_url: Option<String>,
}

/// Uploaded files (product images).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FilesConfig {
    pub backend: FilesBackend,
    /// Directory of the `local` backend; default `data_dir/files`.
    pub dir: Option<PathBuf>,
    /// Largest accepted image upload, in bytes.
    pub max_image_bytes: usize,
    /// Prefix of image URLs in API responses: `/files` (default) when jangteo serves the
    /// files itself, or e.g. a CDN in front of the bucket.
    pub public_base_url: String,
    pub s3: jangteo_services::files::S3Settings,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilesBackend {
    /// A directory on this machine (embedded mode; one process).
    Local,
    /// An S3-compatible bucket (several processes share it).
    S3,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            metrics_listen: None,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_max_connections: 20,
            jwt_secret: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            admin_email: "admin@jangteo.local".into(),
            demo_catalog: true,
            ko_dic_dir: None,
            log_format: "json".into(),
            log_level: "info".into(),
            body_limit_bytes: 64 * 1024,
            trust_forwarded_for: false,
            shutdown_grace_secs: 30,
            request_timeout_secs: 30,
            mail: MailConfig::default(),
            rate_limits: Default::default(),
            files: FilesConfig::default(),
            outbox: Default::default(),
            jobs: Default::default(),
            orders: Default::default(),
            payments: Default::default(),
        }
    }
}

impl Default for FilesConfig {
    fn default() -> Self {
        let images = jangteo_services::images::ImageSettings::default();
        Self {
            backend: FilesBackend::Local,
            dir: None,
            max_image_bytes: images.max_bytes,
            public_base_url: images.public_base_url,
            s3: Default::default(),
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            from: "jangteo <no-reply@jangteo.local>".into(),
            smtp_url: None,
        }
    }
}

impl Config {
    /// Reads defaults, then the TOML file (the given one, which must exist, or
    /// `./jangteo.toml` if present), then `JANGTEO_*` variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "config file {} does not exist",
                    path.display()
                );
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("jangteo.toml")),
        }
        figment = figment.merge(
            Env::prefixed("JANGTEO_")
                .split("__")
                .ignore(&["config", "test_database_url"]),
        );
        figment.extract().context("invalid configuration")
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("jangteo.db").display()
            )
        })
    }

    pub fn search_dir(&self) -> PathBuf {
        self.data_dir.join("search")
    }

    pub fn files_dir(&self) -> PathBuf {
        self.files
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("files"))
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }

    /// The configured JWT secret, or the one kept in `data_dir` (created on first use), so
    /// that sessions survive a restart of the embedded server.
    pub fn jwt_secret(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(secret) = &self.jwt_secret {
            anyhow::ensure!(
                secret.len() >= 32,
                "jwt_secret must be at least 32 bytes long"
            );
            return Ok(secret.as_bytes().to_vec());
        }
        let path = self.data_dir.join("jwt-secret");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let existing = existing.trim();
            if existing.len() >= 32 {
                return Ok(existing.as_bytes().to_vec());
            }
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
        Ok(secret.into_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("jangteo.toml");
        std::fs::write(&path, toml)?;
        Config::load(Some(&path))
    }

    #[test]
    fn files_section_selects_and_configures_the_store() {
        let c = load("").unwrap();
        assert_eq!(c.files.backend, FilesBackend::Local);
        assert_eq!(c.files_dir(), PathBuf::from("./data/files"));
        assert_eq!(c.files.s3.region, "us-east-1");

        let c = load(
            "[files]\nbackend = \"s3\"\nmax_image_bytes = 1000\n\
             [files.s3]\nbucket = \"shop\"\nendpoint = \"http://127.0.0.1:9000\"\nallow_http = true\n",
        )
        .unwrap();
        assert_eq!(c.files.backend, FilesBackend::S3);
        assert_eq!(c.files.max_image_bytes, 1000);
        assert_eq!(c.files.s3.bucket, "shop");
        assert_eq!(
            c.files.s3.region, "us-east-1",
            "unset keys keep their defaults"
        );
        assert!(c.files.s3.allow_http);

        let Err(err) = load("[files]\nbackend = \"ftp\"\n") else {
            panic!("an unknown backend was accepted");
        };
        let err = format!("{err:#}");
        assert!(err.contains("ftp"), "{err}");
    }
}
