use std::path::PathBuf;
use std::sync::Arc;

use jangteo::{Application, Config, Overrides};
use jangteo_services::Services;
use jangteo_services::clock::ManualClock;
use reqwest::{Method, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

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

pub struct Session {
    pub user_id: Uuid,
    pub access: String,
    pub refresh: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The configuration of a test server in `dir`, on a fresh database of the engine under
/// test; returns the engine's name too.
pub async fn test_config(dir: &std::path::Path) -> (Config, &'static str) {
    let (database_url, backend) = match fresh_database().await {
        Some(url) => {
            let backend = if url.starts_with("postgres") {
                "postgres"
            } else {
                "mysql"
            };
            (Some(url), backend)
        }
        None => (None, "sqlite"),
    };
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        database_url,
        database_max_connections: 10,
        jwt_secret: Some(format!("test-secret-{}", Uuid::new_v4().simple())),
        shutdown_grace_secs: 5,
        demo_catalog: false,
        ..Config::default()
    };
    // Everything comes from 127.0.0.1 here; rate-limit tests lower these again.
    config.rate_limits.signup_per_ip = 100_000;
    config.rate_limits.login_per_ip = 100_000;
    config.rate_limits.login_failures_per_client = 100_000;
    config.rate_limits.login_slow_after = 100_000;
    config.rate_limits.code_per_ip = 100_000;
    config.rate_limits.code_per_account = 100_000;
    (config, backend)
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
}

/// An HTTP client that does not follow redirects (and a TLS provider for it, see
/// `jangteo::install_tls_provider`).
pub fn http_client() -> reqwest::Client {
    jangteo::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A new, empty database on the server named by `JANGTEO_TEST_DATABASE_URL`, or `None` for
/// SQLite. Names carry their creation time so that leftovers of old runs can be dropped.
pub async fn fresh_database() -> Option<String> {
    let base = std::env::var("JANGTEO_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let admin = Database::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("cannot reach {base}: {e}"));
    let now = chrono::Utc::now().timestamp();
    let name = format!("jt_{now}_{}", &Uuid::new_v4().simple().to_string()[..12]);
    let is_pg = base.starts_with("postgres");
    drop_stale_databases(&admin, is_pg, now).await;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let (head, tail) = base.split_once("://").expect("URL with scheme");
    let (authority, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Some(format!("{head}://{authority}/{name}{query}"))
}

async fn drop_stale_databases(admin: &sea_orm::DatabaseConnection, is_pg: bool, now: i64) {
    let sql = if is_pg {
        "SELECT datname AS name FROM pg_database WHERE datname LIKE 'jt\\_%'"
    } else {
        "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'jt\\_%'"
    };
    let Ok(rows) = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            sql,
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "name") else {
            continue;
        };
        let created: i64 = name
            .split('_')
            .nth(1)
            .and_then(|t| t.parse().ok())
            .unwrap_or(now);
        if now - created > 3 * 3600 {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await;
        }
    }
}

impl TestApp {
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use jangteo_services::clock::Clock;
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path, None, Some(body)).await
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    /// Sends `body` as a raw upload with the given `Content-Type`.
    pub async fn upload(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut req = self.http.post(self.url(path)).body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.expect("request sent")
    }

    /// An anonymous GET.
    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None, None).await
    }

    pub async fn patch_auth(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn put_auth(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PUT, path, Some(token), Some(body))
            .await
    }

    pub async fn delete_auth(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    /// The text body of a plain GET (no token), whatever its status.
    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("text body")
    }

    /// The JSON body of a GET that must succeed.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        let res = self.request(Method::GET, path, token, None).await;
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.expect("json")
    }

    pub async fn signup(&self, email: &str) -> Response {
        self.post(
            "/api/v1/auth/signup",
            json!({ "email": email, "password": PASSWORD }),
        )
        .await
    }

    /// Delivers every committed event to the outbox subscribers (search index, counters).
    pub async fn settle(&self) {
        self.services
            .outbox
            .settle(&self.services, std::time::Duration::from_secs(30))
            .await
            .expect("outbox settles");
    }

    /// Runs every job that is due at the test clock's time (mail, housekeeping).
    pub async fn run_jobs(&self) -> usize {
        self.services
            .jobs
            .run_due(&self.services, std::time::Duration::from_secs(30))
            .await
            .expect("jobs run")
    }

    /// The code of the newest verification mail written for `email` (mail is a job: due
    /// jobs run first).
    pub async fn latest_code(&self, email: &str) -> String {
        self.run_jobs().await;
        let mut files: Vec<_> = std::fs::read_dir(&self.mail_dir)
            .expect("mail directory exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files
            .iter()
            .rev()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .find(|m| m.contains(&format!("To: {email}")))
            .and_then(|m| extract_code(&m))
            .unwrap_or_else(|| panic!("no verification mail for {email}"))
    }

    pub async fn verify(&self, email: &str, code: &str) -> Response {
        self.post(
            "/api/v1/auth/verify",
            json!({ "email": email, "code": code }),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Signs up, verifies and logs in a new USER.
    pub async fn user(&self, email: &str) -> Session {
        let res = self.signup(email).await;
        assert_eq!(res.status(), StatusCode::CREATED, "signup of {email}");
        let code = self.latest_code(email).await;
        assert_eq!(self.verify(email, &code).await.status(), StatusCode::OK);
        self.session(email, PASSWORD).await
    }

    pub async fn session(&self, email: &str, password: &str) -> Session {
        let res = self.login(email, password).await;
        assert_eq!(res.status(), StatusCode::OK, "login of {email}");
        let body: Value = res.json().await.expect("json");
        Session {
            user_id: body["user_id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("user_id"),
            access: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        }
    }

    /// A new account approved as a seller, with a token that carries the SELLER role.
    pub async fn seller(&self, email: &str) -> Session {
        let s = self.user(email).await;
        let body = json!({"shop_name": format!("shop {email}"), "business_number": "220-81-62517"});
        let res = self
            .post_auth("/api/v1/sellers/applications", &s.access, body)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let admin = self.admin().await;
        let res = self
            .post_auth(
                &format!("/api/v1/sellers/applications/{id}/approve"),
                &admin.access,
                json!({}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = self
            .post("/api/v1/auth/refresh", json!({"refresh_token": s.refresh}))
            .await;
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["role"], "SELLER");
        Session {
            user_id: s.user_id,
            access: body["access_token"].as_str().expect("access").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
        }
    }

    /// Creates a category as admin; returns its id.
    pub async fn category(&self, admin: &Session, name: &str, parent: Option<&str>) -> String {
        let res = self
            .post_auth(
                "/api/v1/categories",
                &admin.access,
                json!({"name": name, "parent_id": parent}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "category {name}");
        res.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Creates a product with one variant; returns the product body.
    pub async fn product(&self, seller: &Session, body: Value) -> Value {
        let res = self
            .post_auth("/api/v1/products", &seller.access, body)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.expect("json")
    }

    pub async fn admin(&self) -> Session {
        self.session(&self.admin_email.clone(), &self.admin_password.clone())
            .await
    }
}

pub fn extract_code(mail: &str) -> Option<String> {
    let at = mail.find("verification code is ")? + "verification code is ".len();
    Some(mail[at..at + 6].to_owned())
}

/// Asserts a problem+json response with `status` and `code`, returning its body.
pub async fn assert_problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.expect("problem body");
    assert_eq!(body["code"], code, "problem {body}");
    assert_eq!(body["status"], status.as_u16());
    body
}

pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
