//! A database per test, so tests run in parallel without seeing each other's rows.

use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

use jangteo::Config;

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

/// Drops test databases older than three hours (runs that were killed never drop theirs).
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
