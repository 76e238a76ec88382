//! Serialises migrations across processes. Several jangteo processes may start at once
//! during a rolling deploy; without a lock two of them could both see a migration as
//! pending and both apply it (the second failing on "table already exists").
//! PostgreSQL: session advisory lock; MySQL/MariaDB: `GET_LOCK`; SQLite: an exclusive lock
//! on a file beside the database.

use sea_orm::sqlx::{self, pool::PoolConnection};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

use crate::{Backend, StoreResult};

/// Arbitrary but fixed: "jangteo" in ASCII, as the advisory lock key.
const PG_LOCK_KEY: i64 = 0x006a_616e_6774_656f;
const MYSQL_LOCK_NAME: &str = "jangteo_migrate";
const LOCK_WAIT_SECS: i64 = 300;

pub enum MigrationLock {
    Postgres(PoolConnection<sqlx::Postgres>),
    MySql(PoolConnection<sqlx::MySql>),
    File(std::fs::File),
    None,
}

fn db_err(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("migration lock: {e}"))
}

impl MigrationLock {
    pub async fn acquire(db: &DatabaseConnection) -> StoreResult<Self> {
        match Backend::of(db) {
            Backend::Postgres => {
                let mut conn = db
                    .get_postgres_connection_pool()
                    .acquire()
                    .await
                    .map_err(db_err)?;
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(PG_LOCK_KEY)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                Ok(Self::Postgres(conn))
            }
            Backend::MySql => {
                let mut conn = db
                    .get_mysql_connection_pool()
                    .acquire()
                    .await
                    .map_err(db_err)?;
                let got: (Option<i64>,) = sqlx::query_as("SELECT GET_LOCK(?, ?)")
                    .bind(MYSQL_LOCK_NAME)
                    .bind(LOCK_WAIT_SECS)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_err)?;
                if got.0 != Some(1) {
                    return Err(db_err("timed out waiting for another process's migrations").into());
                }
                Ok(Self::MySql(conn))
            }
            Backend::Sqlite => {
                let row = db
                    .query_one_raw(Statement::from_string(
                        db.get_database_backend(),
                        "SELECT file FROM pragma_database_list WHERE name = 'main'",
                    ))
                    .await?;
                let file: String = row
                    .and_then(|r| r.try_get::<String>("", "file").ok())
                    .unwrap_or_default();
                if file.is_empty() {
                    return Ok(Self::None); // in-memory database: private to this process
                }
                let path = format!("{file}.migrate-lock");
                let lock =
                    tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
                        let f = std::fs::OpenOptions::new()
                            .create(true)
                            .truncate(false)
                            .write(true)
                            .open(&path)?;
                        f.lock()?;
                        Ok(f)
                    })
                    .await
                    .map_err(db_err)?
                    .map_err(db_err)?;
                Ok(Self::File(lock))
            }
        }
    }

    pub async fn release(self) -> StoreResult<()> {
        match self {
            Self::Postgres(mut conn) => {
                sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(PG_LOCK_KEY)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
            Self::MySql(mut conn) => {
                sqlx::query("SELECT RELEASE_LOCK(?)")
                    .bind(MYSQL_LOCK_NAME)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
            Self::File(f) => f.unlock().map_err(db_err)?,
            Self::None => {}
        }
        Ok(())
    }
}
