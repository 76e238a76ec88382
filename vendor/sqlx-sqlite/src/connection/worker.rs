use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures_intrusive::sync::{Mutex, MutexGuard};
use sqlx_core::sql_str::SqlStr;

use sqlx_core::error::Error;
use sqlx_core::transaction::{
    begin_ansi_transaction_sql, commit_ansi_transaction_sql, rollback_ansi_transaction_sql,
};
use sqlx_core::Either;

use crate::connection::establish::EstablishParams;
use crate::connection::execute;
use crate::connection::ConnectionState;
use crate::{SqliteArguments, SqliteQueryResult, SqliteRow, SqliteStatement};

#[cfg(feature = "deserialize")]
use crate::connection::deserialize::{deserialize, serialize, SchemaName, SqliteOwnedBuf};

// jangteo patch: the statements of a connection run on the thread of the task that holds
// the connection, not on a thread of the connection's own. Upstream sends every command to a
// dedicated thread and waits for its answer; on a machine whose idle CPUs halt, each of those
// two hand-offs costs ~25 µs, five to twenty times what the statement itself costs. Holding a
// connection is already exclusive (`&mut self`), so running the command in place needs no
// further locking, and a command either runs to its end or (when its future is dropped
// before the first poll) not at all.

pub(crate) struct ConnectionWorker {
    /// Mutex for locking access to the database.
    pub(crate) shared: Arc<WorkerSharedState>,
}

pub(crate) struct WorkerSharedState {
    transaction_depth: AtomicUsize,
    cached_statements_size: AtomicUsize,
    pub(crate) conn: Mutex<ConnectionState>,
}

impl WorkerSharedState {
    pub(crate) fn get_transaction_depth(&self) -> usize {
        self.transaction_depth.load(Ordering::Acquire)
    }

    pub(crate) fn get_cached_statements_size(&self) -> usize {
        self.cached_statements_size.load(Ordering::Acquire)
    }
}

impl ConnectionWorker {
    pub(crate) async fn establish(params: EstablishParams) -> Result<Self, Error> {
        let conn = params.establish()?;
        Ok(Self {
            shared: Arc::new(WorkerSharedState {
                transaction_depth: AtomicUsize::new(0),
                cached_statements_size: AtomicUsize::new(0),
                conn: Mutex::new(conn, true),
            }),
        })
    }

    /// The connection's state. `&mut self` proves no other command is running; only a
    /// `LockedSqliteHandle` (which borrows the connection mutably too) could hold it.
    fn conn(&self) -> Result<MutexGuard<'_, ConnectionState>, Error> {
        self.shared.conn.try_lock().ok_or(Error::WorkerCrashed)
    }

    pub(crate) async fn prepare(&mut self, query: SqlStr) -> Result<SqliteStatement, Error> {
        let mut conn = self.conn()?;
        let result = prepare(&mut conn, query);
        update_cached_statements_size(&conn, &self.shared.cached_statements_size);
        result
    }

    #[cfg(feature = "offline")]
    pub(crate) async fn describe(
        &mut self,
        query: SqlStr,
    ) -> Result<sqlx_core::describe::Describe<crate::Sqlite>, Error> {
        let mut conn = self.conn()?;
        crate::connection::describe::describe(&mut conn, query)
    }

    /// Runs the statement to its end (or to `limit` rows) and hands back its results.
    pub(crate) async fn execute(
        &mut self,
        query: SqlStr,
        args: Option<SqliteArguments>,
        _chan_size: usize,
        persistent: bool,
        limit: Option<usize>,
    ) -> Result<flume::Receiver<Result<Either<SqliteQueryResult, SqliteRow>, Error>>, Error> {
        let (tx, rx) = flume::unbounded();
        let mut conn = self.conn()?;
        match execute::iter(&mut conn, query, args, persistent) {
            Err(e) => {
                tx.send(Err(e)).ok();
            }
            Ok(iter) => {
                let mut rows_returned = 0;
                for res in iter {
                    let has_error = res.is_err();
                    let is_row = matches!(&res, Ok(Either::Right(_)));
                    tx.send(res).ok();
                    if has_error {
                        break;
                    }
                    if is_row {
                        rows_returned += 1;
                        if limit.is_some_and(|limit| rows_returned >= limit) {
                            break;
                        }
                    }
                }
            }
        }
        update_cached_statements_size(&conn, &self.shared.cached_statements_size);
        Ok(rx)
    }

    pub(crate) async fn begin(&mut self, statement: Option<SqlStr>) -> Result<(), Error> {
        let mut conn = self.conn()?;
        let depth = self.shared.transaction_depth.load(Ordering::Acquire);
        let is_custom_statement = statement.is_some();
        let statement = match statement {
            // custom `BEGIN` statements are not allowed if we're already in a transaction
            // (we need to issue a `SAVEPOINT` instead)
            Some(_) if depth > 0 => return Err(Error::InvalidSavePointStatement),
            Some(statement) => statement,
            None => begin_ansi_transaction_sql(depth),
        };
        // jangteo: SQLite rolls a whole transaction back by itself after some errors (a
        // full disk, an I/O error). A SAVEPOINT then would open a transaction of its own,
        // which its RELEASE would commit alone, outside the transaction the caller thinks
        // it is in. (The caller's `Drop` takes the level it failed to add off again, as
        // SeaORM does for any failed begin: see `rollback_now`.)
        if depth > 0 && !conn.handle.in_transaction() {
            return Err(Error::BeginFailed);
        }
        conn.handle.exec(statement.as_str())?;
        if is_custom_statement && !conn.handle.in_transaction() {
            return Err(Error::BeginFailed);
        }
        self.shared.transaction_depth.fetch_add(1, Ordering::Release);
        Ok(())
    }

    pub(crate) async fn commit(&mut self) -> Result<(), Error> {
        let mut conn = self.conn()?;
        let depth = self.shared.transaction_depth.load(Ordering::Acquire);
        if depth > 0 {
            conn.handle
                .exec(commit_ansi_transaction_sql(depth).as_str())?;
            self.shared.transaction_depth.fetch_sub(1, Ordering::Release);
        }
        Ok(())
    }

    pub(crate) async fn rollback(&mut self) -> Result<(), Error> {
        self.rollback_now()
    }

    pub(crate) fn start_rollback(&mut self) -> Result<(), Error> {
        self.rollback_now()
    }

    fn rollback_now(&mut self) -> Result<(), Error> {
        let mut conn = self.conn()?;
        let depth = self.shared.transaction_depth.load(Ordering::Acquire);
        if depth > 0 {
            // jangteo: where SQLite already rolled everything back (see `begin`), each
            // level's rollback only takes the level off; a count left behind would fail
            // every later transaction of the connection.
            if conn.handle.in_transaction() {
                conn.handle
                    .exec(rollback_ansi_transaction_sql(depth).as_str())?;
            }
            self.shared.transaction_depth.fetch_sub(1, Ordering::Release);
        }
        Ok(())
    }

    pub(crate) async fn ping(&mut self) -> Result<(), Error> {
        self.conn().map(drop)
    }

    #[cfg(feature = "deserialize")]
    pub(crate) async fn deserialize(
        &mut self,
        schema: Option<SchemaName>,
        data: SqliteOwnedBuf,
        read_only: bool,
    ) -> Result<(), Error> {
        let mut conn = self.conn()?;
        deserialize(&mut conn, schema, data, read_only)
    }

    #[cfg(feature = "deserialize")]
    pub(crate) async fn serialize(
        &mut self,
        schema: Option<SchemaName>,
    ) -> Result<SqliteOwnedBuf, Error> {
        let mut conn = self.conn()?;
        serialize(&mut conn, schema)
    }

    pub(crate) async fn clear_cache(&mut self) -> Result<(), Error> {
        let mut conn = self.conn()?;
        conn.statements.clear();
        update_cached_statements_size(&conn, &self.shared.cached_statements_size);
        Ok(())
    }

    pub(crate) async fn unlock_db(&mut self) -> Result<MutexGuard<'_, ConnectionState>, Error> {
        Ok(self.shared.conn.lock().await)
    }

    /// Nothing runs in the background: the connection closes when the last reference to its
    /// state goes.
    pub(crate) fn shutdown(&mut self) -> impl Future<Output = Result<(), Error>> {
        std::future::ready(Ok(()))
    }
}

fn prepare(conn: &mut ConnectionState, query: SqlStr) -> Result<SqliteStatement, Error> {
    // prepare statement object (or checkout from cache)
    let statement = conn.statements.get(query.as_str(), true)?;

    let mut parameters = 0;
    let mut columns = None;
    let mut column_names = None;

    while let Some(statement) = statement.prepare_next(&mut conn.handle)? {
        parameters += statement.handle.bind_parameter_count();

        // the first non-empty statement is chosen as the statement we pull columns from
        if !statement.columns.is_empty() && columns.is_none() {
            columns = Some(Arc::clone(statement.columns));
            column_names = Some(Arc::clone(statement.column_names));
        }
    }

    Ok(SqliteStatement {
        sql: query,
        columns: columns.unwrap_or_default(),
        column_names: column_names.unwrap_or_default(),
        parameters,
    })
}

fn update_cached_statements_size(conn: &ConnectionState, size: &AtomicUsize) {
    size.store(conn.statements.len(), Ordering::Release);
}
