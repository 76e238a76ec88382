use std::str::FromStr;
use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};

use crate::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub fn of(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            DbBackend::MySql => Backend::MySql,
            _ => Backend::Sqlite,
        }
    }

    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split(':').next()?;
        match scheme {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }
}

/// Connection settings. `Debug` redacts the password in the URL so that settings can be
/// logged without leaking credentials.
#[derive(Clone)]
pub struct DbSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for DbSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `postgres://app:secret@db/shop` → `postgres://app:***@db/shop`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

pub async fn connect(settings: &DbSettings) -> StoreResult<DatabaseConnection> {
    let backend = Backend::from_url(&settings.url).ok_or_else(|| {
        sea_orm::DbErr::Custom(format!(
            "unsupported database URL {}: use sqlite://, postgres:// or mysql://",
            redact_url(&settings.url)
        ))
    })?;
    let mut opts = ConnectOptions::new(settings.url.clone());
    opts.acquire_timeout(settings.acquire_timeout)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    match backend {
        Backend::Sqlite => {
            // One writer at a time is SQLite's model. A single pooled connection avoids
            // SQLITE_BUSY on read→write lock upgrades inside transactions, which a busy
            // timeout cannot resolve; WAL keeps the file readable by `jangteo audit` etc.
            // while the server runs.
            // No ping before handing the connection out: an in-process SQLite connection
            // cannot have been dropped by a server (SQLx's advice for a one-connection pool).
            // Statements run on the caller's thread (the patched driver in vendor/).
            opts.max_connections(1)
                .min_connections(1)
                .test_before_acquire(false)
                .map_sqlx_sqlite_opts(|o| {
                    o.create_if_missing(true)
                        .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                        .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(10))
                        // SQLite's default page cache is 2 MiB; with a million products the
                        // indexes outgrow it and every insert reads from the OS. 8 MiB plus
                        // a memory map of the file: a larger cache made commits slower
                        // (SQLite scans the cache's whole hash table at the end of some).
                        .pragma("cache_size", "-8192")
                        .pragma("mmap_size", "268435456")
                        .pragma("temp_store", "memory")
                });
        }
        Backend::Postgres | Backend::MySql => {
            // A ping on every checkout is a network round trip (and server work) per
            // transaction; only a connection idle long enough for a proxy or firewall to
            // have dropped it is tested.
            opts.max_connections(settings.max_connections)
                .min_connections(1)
                .test_before_acquire_if_idle_for(Duration::from_secs(30));
        }
    }
    if backend == Backend::MySql {
        // Store and read DATETIME values as UTC regardless of the server's time zone.
        opts.map_sqlx_mysql_opts(|o| o.timezone(Some("+00:00".to_owned())));
    }
    if backend != Backend::Sqlite {
        return Ok(counted(Database::connect(opts).await?));
    }
    // Processes opening a new SQLite file at the same moment race to switch it to WAL,
    // which needs an exclusive lock that SQLite's busy handler does not wait for: the
    // loser sees SQLITE_BUSY at once (about one start in three of
    // `concurrent_starts_migrate_once`). Such a start is simply retried.
    let mut attempt = 0u32;
    loop {
        match Database::connect(opts.clone()).await {
            Err(e) if attempt < 20 && e.to_string().contains("database is locked") => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(25 * u64::from(attempt))).await;
            }
            result => return Ok(counted(result?)),
        }
    }
}

/// Statements executed by every connection this process opened (writer and readers).
static STATEMENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many statements this process has sent to its database: `/metrics` exports it, and
/// the benchmark divides it by the orders paid (the cost that decides throughput on every
/// engine).
pub fn statements_executed() -> u64 {
    STATEMENTS.load(std::sync::atomic::Ordering::Relaxed)
}

fn counted(mut db: DatabaseConnection) -> DatabaseConnection {
    db.set_metric_callback(|_| {
        STATEMENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    db
}

/// Read-only SQLite connections beside the single writer.
const SQLITE_READERS: u32 = 4;

/// Where reads outside a transaction go. On SQLite, a pool of read-only connections beside
/// the single writer: in WAL mode readers run while a write transaction is open, so the
/// requests that only read (an order's page, a cart, a payment's state) no longer queue for
/// the one connection a checkout holds, and the writer serves writes alone. A read there
/// sees every transaction committed before it began, so a request reads its own committed
/// writes. PostgreSQL and MySQL pools serve both: the writer is returned as it is.
pub fn reader(
    writer: &DatabaseConnection,
    settings: &DbSettings,
) -> StoreResult<DatabaseConnection> {
    if Backend::of(writer) != Backend::Sqlite {
        return Ok(writer.clone());
    }
    let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(&settings.url)
        .map_err(|e| sea_orm::DbErr::Custom(format!("{}: {e}", redact_url(&settings.url))))?
        .read_only(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("cache_size", "-16384")
        // No memory map on the readers: a reader that finds the database changed since its
        // last read (every commit of the writer) unmaps the whole file, and each munmap in
        // a multi-threaded process is a TLB shootdown on every core — 16% of the CPU under
        // the checkout load, 12% more paid orders/s without it, reads unchanged
        // (docs/benchmarks.md). The writer never sees its own commits as a change.
        .pragma("mmap_size", "0")
        .pragma("temp_store", "memory");
    let pool = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(SQLITE_READERS)
        .min_connections(0)
        .test_before_acquire(false)
        .acquire_timeout(settings.acquire_timeout)
        .connect_lazy_with(options);
    Ok(counted(
        sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool),
    ))
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Current pool state, exported as metrics.
pub fn pool_stats(db: &DatabaseConnection) -> PoolStats {
    fn from<DB: sea_orm::sqlx::Database>(p: &sea_orm::sqlx::Pool<DB>) -> PoolStats {
        PoolStats {
            size: p.size(),
            idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
            max: p.options().get_max_connections(),
        }
    }
    match Backend::of(db) {
        Backend::Sqlite => from(db.get_sqlite_connection_pool()),
        Backend::Postgres => from(db.get_postgres_connection_pool()),
        Backend::MySql => from(db.get_mysql_connection_pool()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn other(e: impl std::fmt::Display) -> sea_orm::DbErr {
        sea_orm::DbErr::Custom(e.to_string())
    }

    fn sqlite_settings(dir: &std::path::Path) -> DbSettings {
        DbSettings {
            url: format!("sqlite://{}?mode=rwc", dir.join("t.db").display()),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(5),
        }
    }

    /// The patched sqlx-sqlite (vendor/) runs statements on the caller's thread: no
    /// connection starts a thread of its own. Upstream names them `sqlx-sqlite-worker-N`.
    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn sqlite_connections_start_no_thread() -> StoreResult<()> {
        let dir = tempfile::tempdir().map_err(other)?;
        let settings = sqlite_settings(dir.path());
        let writer = connect(&settings).await?;
        let readers = reader(&writer, &settings)?;
        crate::ping(&writer).await?;
        crate::ping(&readers).await?;
        let threads: Vec<String> = std::fs::read_dir("/proc/self/task")
            .map_err(other)?
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .collect();
        assert!(
            !threads.iter().any(|t| t.starts_with("sqlx-sqlite")),
            "threads: {threads:?}"
        );
        Ok(())
    }

    /// Readers map no memory (every commit of the writer would make them unmap it); the
    /// writer keeps its map.
    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_readers_read_without_a_memory_map() -> StoreResult<()> {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = tempfile::tempdir().map_err(other)?;
        let settings = sqlite_settings(dir.path());
        let writer = connect(&settings).await?;
        let readers = reader(&writer, &settings)?;
        let mmap_size = |db: DatabaseConnection| async move {
            let row = db
                .query_one_raw(Statement::from_string(
                    sea_orm::DbBackend::Sqlite,
                    "PRAGMA mmap_size",
                ))
                .await?
                .ok_or_else(|| other("no row"))?;
            row.try_get_by_index::<i64>(0)
        };
        assert_eq!(mmap_size(readers).await?, 0);
        assert!(mmap_size(writer).await? > 0);
        Ok(())
    }

    /// SQLite is built with the query planner stability guarantee (.cargo/config.toml):
    /// without it every `LIMIT ?` statement is parsed and planned again at each execution.
    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_keeps_prepared_statements_across_bindings() -> StoreResult<()> {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = tempfile::tempdir().map_err(other)?;
        let writer = connect(&sqlite_settings(dir.path())).await?;
        let options: Vec<String> = writer
            .query_all_raw(Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA compile_options",
            ))
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<String>(0))
            .collect::<Result<_, _>>()?;
        assert!(
            options.iter().any(|o| o == "ENABLE_QPSG"),
            "SQLite built without SQLITE_ENABLE_QPSG: {options:?}"
        );
        Ok(())
    }

    /// The patched sqlx-core (vendor/) puts a dropped connection back in its pool before
    /// `drop` returns when that needs no I/O; upstream left it to a spawned task, so the
    /// next caller found SQLite's one writer gone until that task's turn came.
    #[tokio::test(flavor = "current_thread")]
    async fn a_dropped_sqlite_connection_is_back_in_its_pool_at_once() -> StoreResult<()> {
        let dir = tempfile::tempdir().map_err(other)?;
        let writer = connect(&sqlite_settings(dir.path())).await?;
        let pool = writer.get_sqlite_connection_pool();
        for _ in 0..3 {
            let conn = pool.acquire().await.map_err(other)?;
            assert!(
                pool.try_acquire().is_none(),
                "one connection, and it is taken"
            );
            drop(conn);
            // No await in between: a spawned return would not have run yet.
            assert!(pool.try_acquire().is_some(), "the writer is back");
        }
        Ok(())
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/shop"),
            "postgres://app:***@db:5432/shop"
        );
        assert_eq!(
            redact_url("sqlite://./data/jangteo.db"),
            "sqlite://./data/jangteo.db"
        );
        assert_eq!(
            redact_url("mysql://root@localhost/test"),
            "mysql://root@localhost/test"
        );
    }
}
