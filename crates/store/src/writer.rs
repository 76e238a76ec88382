//! Write transactions, with group commit on SQLite.
//!
//! SQLite has one writer, so write transactions run one after another anyway; what each
//! of them costs beyond its statements is its commit — the changed pages appended to the
//! WAL (the same table and index pages again and again: every order writes the tail of
//! `orders`, `order_lines`, `outbox`), checkpoints copying them back, and every reader
//! finding the database changed and dropping its page cache. Group commit shares that
//! cost: one `BEGIN` is kept open while transactions that queue for the writer run inside
//! it, each as a savepoint of its own, and the group commits once when nobody is waiting
//! any more (or it has [`MAX_GROUP`] members).
//!
//! What each caller sees is unchanged. A transaction that fails or is dropped rolls back to
//! its savepoint and takes nothing of the others with it. `commit` returns only after the
//! group's `COMMIT` did, with its error if that failed, so nobody answers for a write that
//! is not durable — and no reader sees a member's writes before their writer answers. A
//! member does read what the members before it in its group wrote: they committed, as
//! far as it can tell, before it began. The `COMMIT` runs in a task of its own, so a
//! caller whose future is dropped (a client gone) never leaves its group hanging.
//!
//! PostgreSQL and MySQL run many writers at once and commit each transaction on its own
//! connection: there `begin` is the pool's `BEGIN`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseExecutor, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::StoreResult;

/// Members after which a group commits even with transactions waiting: a bound on how
/// long the first member waits for its answer.
pub const MAX_GROUP: usize = 64;

/// How the group's `COMMIT` ended, for every member: `None` until it ran.
type Outcome = Option<Result<(), Arc<str>>>;

/// Begins write transactions (cheap to clone).
#[derive(Clone)]
pub struct Writer {
    db: DatabaseConnection,
    group: Option<Arc<Group>>,
}

struct Group {
    /// Held by the transaction running on the writer, then by the `COMMIT`.
    turn: Arc<Mutex<Slot>>,
    /// Transactions queued for `turn`: while there are some, the open group waits for them.
    waiting: AtomicUsize,
    /// Groups committed and the transactions they held, for `/metrics` and the benchmark.
    commits: AtomicU64,
    committed: AtomicU64,
    /// Nanoseconds the writer was held (by members, and by the `COMMIT`s): against the
    /// time that passed, how busy the one writer is — at 100% it paces every write.
    held_nanos: AtomicU64,
}

/// What group commit has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupStats {
    /// `COMMIT`s of groups.
    pub commits: u64,
    /// Write transactions those commits held.
    pub transactions: u64,
    /// How long the writer was held in all.
    pub held: std::time::Duration,
}

#[derive(Default)]
struct Slot {
    open: Option<Open>,
}

/// A `BEGIN` whose members have not been committed yet.
struct Open {
    txn: DatabaseTransaction,
    members: usize,
    done: watch::Sender<Outcome>,
}

impl Writer {
    pub fn new(db: DatabaseConnection) -> Self {
        let group = (db.get_database_backend() == DbBackend::Sqlite).then(|| {
            Arc::new(Group {
                turn: Arc::new(Mutex::new(Slot::default())),
                waiting: AtomicUsize::new(0),
                commits: AtomicU64::new(0),
                committed: AtomicU64::new(0),
                held_nanos: AtomicU64::new(0),
            })
        });
        Self { db, group }
    }

    /// Runs `write` (a statement or a few that need no transaction of their own) where it
    /// costs least: on SQLite as a member of a group, sharing its commit, instead of
    /// waiting for the one connection while a group holds it and then committing alone;
    /// on PostgreSQL and MySQL on the pool in autocommit, without a `BEGIN` and a `COMMIT`
    /// round trip.
    pub async fn alone<T>(
        &self,
        write: impl AsyncFnOnce(&DatabaseExecutor<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        if self.group.is_none() {
            return write(&DatabaseExecutor::Connection(&self.db)).await;
        }
        let txn = self.begin().await?;
        let value = write(&DatabaseExecutor::Transaction(txn.conn())).await?;
        txn.commit().await?;
        Ok(value)
    }

    /// `None` where transactions commit one by one (PostgreSQL, MySQL).
    pub fn group_stats(&self) -> Option<GroupStats> {
        self.group.as_ref().map(|g| GroupStats {
            commits: g.commits.load(Ordering::Relaxed),
            transactions: g.committed.load(Ordering::Relaxed),
            held: std::time::Duration::from_nanos(g.held_nanos.load(Ordering::Relaxed)),
        })
    }

    /// Begins a write transaction: on SQLite a savepoint in the open group (which it joins
    /// once it commits), elsewhere a transaction of its own.
    pub async fn begin(&self) -> StoreResult<WriteTxn> {
        let Some(group) = &self.group else {
            return Ok(WriteTxn {
                txn: self.db.begin().await?,
                turn: None,
            });
        };
        let slot = Queued::new(group).served().await;
        // The turn is held as a `Turn` from here on, so that a caller dropped during the
        // `BEGIN` or its savepoint still leaves through `Turn::drop`.
        let mut turn = Turn {
            slot: Some(slot),
            group: group.clone(),
        };
        match self.savepoint(&mut turn).await {
            Ok(txn) => Ok(WriteTxn {
                txn,
                turn: Some(turn),
            }),
            // `turn` is dropped here: the group commits what its members did.
            Err(e) => Err(e.into()),
        }
    }

    /// Opens the group if none is open and begins a member's savepoint in it.
    async fn savepoint(&self, turn: &mut Turn) -> Result<DatabaseTransaction, DbErr> {
        let Some(slot) = turn.slot.as_mut() else {
            return unreachable_open();
        };
        if slot.open.is_none() {
            // IMMEDIATE: the group takes SQLite's write lock before its first member reads.
            // A deferred group that read first would hold a snapshot from then on, and once
            // another process (a second server, `jangteo audit`) committed, every write of
            // every later member would fail at once with SQLITE_BUSY — a busy timeout does
            // not cover a snapshot gone stale. Taking the lock up front waits for the other
            // process (up to the busy timeout) instead; in one process it costs nothing.
            let txn = self
                .db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                })
                .await?;
            txn.execute_unprepared(SENTINEL_OPEN).await?;
            slot.open = Some(Open {
                txn,
                members: 0,
                done: watch::channel(None).0,
            });
        }
        match &slot.open {
            Some(open) => open.txn.begin().await,
            None => unreachable_open(),
        }
    }
}

/// A savepoint that marks the group's transaction: SQLite rolls a whole transaction back
/// by itself after some errors (a full disk, an I/O error), and then has no such savepoint
/// to release — so members committed before that hear that their group failed, instead of
/// a `COMMIT` with nothing to commit answering for them. (The patched sqlx-sqlite refuses
/// a member's savepoint outside a transaction, which would otherwise commit on its own.)
const SENTINEL_OPEN: &str = "SAVEPOINT jangteo_group";
const SENTINEL_RELEASE: &str = "RELEASE SAVEPOINT jangteo_group";

fn unreachable_open() -> Result<DatabaseTransaction, DbErr> {
    Err(DbErr::Custom("the open group is gone".into()))
}

/// One write transaction. Dropping it rolls it back.
pub struct WriteTxn {
    // Declared before `turn`: a dropped transaction rolls back to its savepoint while it
    // still holds the writer.
    txn: DatabaseTransaction,
    turn: Option<Turn>,
}

impl WriteTxn {
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Commits; on SQLite, returns once the group holding this transaction committed.
    pub async fn commit(self) -> StoreResult<()> {
        let Self { txn, turn } = self;
        let Some(mut turn) = turn else {
            return Ok(txn.commit().await?);
        };
        // RELEASE: the savepoint's writes become the group's.
        txn.commit().await?;
        let mut done = match turn.slot.as_mut().and_then(|s| s.open.as_mut()) {
            Some(open) => {
                open.members += 1;
                open.done.subscribe()
            }
            None => return Err(DbErr::Custom("the open group is gone".into()).into()),
        };
        // Leaving the writer: the next transaction runs in this group, or the group
        // commits (see `Turn::drop`).
        drop(turn);
        let outcome = done
            .wait_for(Option::is_some)
            .await
            .map(|o| o.clone())
            .unwrap_or(None);
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(DbErr::Custom(format!("group commit failed: {e}")).into()),
            None => Err(DbErr::Custom("group commit abandoned".into()).into()),
        }
    }

    pub async fn rollback(self) -> StoreResult<()> {
        let Self { txn, turn } = self;
        txn.rollback().await?;
        drop(turn);
        Ok(())
    }
}

/// The writer, held by one transaction of the group at a time.
struct Turn {
    slot: Option<Held>,
    group: Arc<Group>,
}

/// The writer's lock, timed while held.
struct Held {
    guard: OwnedMutexGuard<Slot>,
    since: std::time::Instant,
    group: Arc<Group>,
}

impl std::ops::Deref for Held {
    type Target = Slot;
    fn deref(&self) -> &Slot {
        &self.guard
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut Slot {
        &mut self.guard
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let nanos = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.group.held_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let Some(mut slot) = self.slot.take() else {
            return;
        };
        let due = slot.open.as_ref().is_some_and(|open| {
            open.members >= MAX_GROUP || self.group.waiting.load(Ordering::Acquire) == 0
        });
        if !due {
            // The next transaction in the queue runs in the open group.
            return;
        }
        let Some(open) = slot.open.take() else {
            return;
        };
        // The writer goes with the COMMIT into a task of its own, so that it runs whatever
        // becomes of the caller; whoever queues meanwhile gets the writer (and a new group)
        // after it. Without a runtime (shutting down) the group rolls back, and its
        // members hear that it was abandoned.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let group = self.group.clone();
            runtime.spawn(async move {
                let Open { txn, done, members } = open;
                let outcome = match txn.execute_unprepared(SENTINEL_RELEASE).await {
                    Ok(_) => txn.commit().await,
                    Err(e) => Err(e),
                }
                .map_err(|e| Arc::from(e.to_string()));
                match &outcome {
                    Ok(()) => {
                        group.commits.fetch_add(1, Ordering::Relaxed);
                        group.committed.fetch_add(members as u64, Ordering::Relaxed);
                    }
                    Err(e) => tracing::error!(error = %e, members, "group commit failed"),
                }
                drop(slot);
                done.send_replace(Some(outcome));
            });
        }
    }
}

/// Counts a transaction queued for the writer until it gets it (or gives up).
struct Queued {
    group: Arc<Group>,
    served: bool,
    /// A stand-in for one that gave up (below): it has none of its own (a runtime shutting
    /// down drops a task as it is spawned, which would spawn the next one, and so on).
    stand_in: bool,
}

impl Queued {
    fn new(group: &Arc<Group>) -> Self {
        group.waiting.fetch_add(1, Ordering::AcqRel);
        Self {
            group: group.clone(),
            served: false,
            stand_in: false,
        }
    }

    /// Waits for the writer.
    async fn served(mut self) -> Held {
        let guard = self.group.turn.clone().lock_owned().await;
        self.served = true;
        Held {
            guard,
            since: std::time::Instant::now(),
            group: self.group.clone(),
        }
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        // A transaction that gives up waiting (its caller gone) may be the one the open
        // group was kept open for: the member before it left the writer without committing
        // because it was queued. Its place goes to a task that takes the writer in its
        // stead and leaves at once, committing the group if nobody else waits by then —
        // otherwise the group's members would wait for a commit until the next write came.
        // The task is queued before this one leaves, so the count never drops to none
        // between the two.
        if !self.served
            && !self.stand_in
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let mut stand_in = Queued::new(&self.group);
            stand_in.stand_in = true;
            runtime.spawn(async move {
                let group = stand_in.group.clone();
                let slot = stand_in.served().await;
                drop(Turn {
                    slot: Some(slot),
                    group,
                });
            });
        }
        self.group.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, Statement};

    use super::*;
    use crate::{DbSettings, StoreError, connect};

    async fn sqlite(dir: &std::path::Path) -> StoreResult<(DatabaseConnection, Writer)> {
        let db = connect(&DbSettings {
            url: format!("sqlite://{}?mode=rwc", dir.join("w.db").display()),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(5),
        })
        .await?;
        db.execute_unprepared(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE t (id INTEGER PRIMARY KEY, parent INTEGER \
               REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .await?;
        Ok((db.clone(), Writer::new(db)))
    }

    fn insert(id: i64) -> Statement {
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (id) VALUES (?)",
            [id.into()],
        )
    }

    async fn ids(db: &DatabaseConnection) -> StoreResult<Vec<i64>> {
        ids_in(db).await
    }

    fn tempdir() -> StoreResult<tempfile::TempDir> {
        tempfile::tempdir().map_err(|e| DbErr::Custom(e.to_string()).into())
    }

    /// 200 transactions racing: every one that commits is there, the ones rolled back,
    /// failed or dropped are not, and they shared far fewer COMMITs than there were of them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_transactions_commit_in_groups_and_fail_alone() -> StoreResult<()> {
        let dir = tempdir()?;
        let (db, writer) = sqlite(dir.path()).await?;
        // The writer is held until all 200 queue for it, so that they race for it for sure:
        // spawned freely, the first ones may each finish (and commit alone) before the next
        // is even polled.
        let gate = writer.begin().await?;
        let mut tasks = Vec::new();
        for id in 0..200i64 {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                let txn = writer.begin().await?;
                txn.conn().execute_raw(insert(id)).await?;
                match id % 4 {
                    // Rolled back.
                    1 => txn.rollback().await.map(|()| false),
                    // A statement fails (a duplicate key): the transaction is dropped.
                    2 => {
                        let dup = txn.conn().execute_raw(insert(id)).await;
                        assert!(dup.is_err(), "the duplicate is refused");
                        Ok(false)
                    }
                    // Dropped without a word (a caller that went away).
                    3 => Ok(false),
                    _ => txn.commit().await.map(|()| true),
                }
            }));
        }
        let group = writer.group.clone().expect("SQLite groups its commits");
        while group.waiting.load(Ordering::Acquire) < 200 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        gate.rollback().await?;
        let mut expected = Vec::new();
        for (id, task) in (0..).zip(tasks) {
            let committed = task
                .await
                .map_err(|e| StoreError::Db(DbErr::Custom(e.to_string())))??;
            if committed {
                expected.push(id);
            }
        }
        assert_eq!(ids(&db).await?, expected);
        let stats = writer.group_stats().unwrap_or_default();
        assert_eq!(stats.transactions, 50, "{stats:?}");
        // 200 queued members make groups of at most MAX_GROUP, each committed once.
        assert!(
            stats.commits <= 200 / MAX_GROUP as u64 + 1,
            "racing transactions share commits: {stats:?}"
        );
        Ok(())
    }

    /// A group whose COMMIT fails (a deferred foreign key is checked only there) fails every
    /// member, and none of their writes is kept; the writer goes on with a new group.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_group_commit_fails_every_member() -> StoreResult<()> {
        let dir = tempdir()?;
        let (db, writer) = sqlite(dir.path()).await?;
        // Held open so that both members join one group.
        let first = writer.begin().await?;
        first.conn().execute_raw(insert(1)).await?;
        let second = {
            let writer = writer.clone();
            tokio::spawn(async move {
                let txn = writer.begin().await?;
                txn.conn()
                    .execute_unprepared("INSERT INTO t (id, parent) VALUES (2, 99)")
                    .await?;
                txn.commit().await
            })
        };
        // The second is queued for the writer: the group waits for it.
        while writer
            .group
            .as_ref()
            .is_some_and(|g| g.waiting.load(Ordering::Acquire) == 0)
        {
            tokio::task::yield_now().await;
        }
        let first = first.commit().await;
        let second = second
            .await
            .map_err(|e| StoreError::Db(DbErr::Custom(e.to_string())))?;
        assert!(first.is_err(), "{first:?}");
        assert!(second.is_err(), "{second:?}");
        assert_eq!(ids(&db).await?, Vec::<i64>::new());
        let next = writer.begin().await?;
        next.conn().execute_raw(insert(3)).await?;
        next.commit().await?;
        assert_eq!(ids(&db).await?, [3]);
        Ok(())
    }

    /// SQLite rolls a whole transaction back by itself after some errors (a full disk):
    /// simulated with a `ROLLBACK` in a member. That member and the next one in its group
    /// fail instead of committing on their own, nothing of the group is kept, and the
    /// writer works again afterwards.
    #[tokio::test(flavor = "current_thread")]
    async fn a_group_sqlite_rolled_back_fails_and_the_writer_recovers() -> StoreResult<()> {
        let dir = tempdir()?;
        let (db, writer) = sqlite(dir.path()).await?;
        let first = writer.begin().await?;
        first.conn().execute_raw(insert(1)).await?;
        let next = writer.clone();
        let second = tokio::spawn(async move {
            let txn = next.begin().await?;
            txn.conn().execute_raw(insert(2)).await?;
            txn.commit().await
        });
        tokio::task::yield_now().await;
        first.conn().execute_unprepared("ROLLBACK").await?;
        first.conn().execute_raw(insert(3)).await?;
        assert!(first.commit().await.is_err(), "the first is told");
        let second = second
            .await
            .map_err(|e| StoreError::Db(DbErr::Custom(e.to_string())))?;
        assert!(second.is_err(), "the second never ran: {second:?}");
        // Id 3 was written outside any transaction (as a statement after SQLite's own
        // rollback would be): what stays is only what the test itself put there.
        assert_eq!(ids(&db).await?, [3]);
        for id in [4, 5] {
            let txn = writer.begin().await?;
            txn.conn().execute_raw(insert(id)).await?;
            txn.commit().await?;
        }
        assert_eq!(ids(&db).await?, [3, 4, 5]);
        Ok(())
    }

    /// A member that committed into its group before SQLite rolled the group back (a later
    /// member's full disk, simulated with a `ROLLBACK`) hears that it failed — also when
    /// the member after that failed to begin (SeaORM then takes a level off the count of
    /// open transactions that it never added, and the group's `COMMIT` would find nothing
    /// to do).
    #[tokio::test(flavor = "current_thread")]
    async fn members_before_sqlites_own_rollback_are_told() -> StoreResult<()> {
        let dir = tempdir()?;
        let (db, writer) = sqlite(dir.path()).await?;
        let held = writer.begin().await?;
        let next = writer.clone();
        let first = tokio::spawn(async move {
            let txn = next.begin().await?;
            txn.conn().execute_raw(insert(1)).await?;
            txn.commit().await
        });
        let next = writer.clone();
        let second = tokio::spawn(async move {
            let txn = next.begin().await?;
            txn.conn().execute_unprepared("ROLLBACK").await?;
            drop(txn);
            StoreResult::Ok(())
        });
        // A third queued behind them finds no transaction to add a savepoint to.
        let next = writer.clone();
        let third = tokio::spawn(async move { next.begin().await.map(drop) });
        tokio::task::yield_now().await;
        held.rollback().await?;
        let join = |e: tokio::task::JoinError| StoreError::Db(DbErr::Custom(e.to_string()));
        second.await.map_err(join)??;
        assert!(third.await.map_err(join)?.is_err());
        let first = first.await.map_err(join)?;
        assert!(first.is_err(), "its write is gone: {first:?}");
        assert_eq!(ids(&db).await?, Vec::<i64>::new());
        Ok(())
    }

    /// A member reads what the members before it in its group wrote.
    #[tokio::test(flavor = "current_thread")]
    async fn a_member_reads_its_group() -> StoreResult<()> {
        let dir = tempdir()?;
        let (_db, writer) = sqlite(dir.path()).await?;
        let first = writer.begin().await?;
        first.conn().execute_raw(insert(7)).await?;
        let reader = writer.clone();
        let second = tokio::spawn(async move {
            let txn = reader.begin().await?;
            let seen = txn
                .conn()
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT id FROM t",
                ))
                .await?
                .len();
            txn.commit().await?;
            StoreResult::Ok(seen)
        });
        tokio::task::yield_now().await;
        first.commit().await?;
        let seen = second
            .await
            .map_err(|e| StoreError::Db(DbErr::Custom(e.to_string())))??;
        assert_eq!(seen, 1);
        Ok(())
    }

    /// The member before a queued transaction leaves the group open for it; the queued
    /// one's caller then goes away before it got the writer. The group still commits.
    #[tokio::test(flavor = "current_thread")]
    async fn a_group_left_open_for_a_caller_who_gave_up_commits() -> StoreResult<()> {
        let dir = tempdir()?;
        let (db, writer) = sqlite(dir.path()).await?;
        let first = writer.begin().await?;
        first.conn().execute_raw(insert(1)).await?;
        let queued = writer.clone();
        let gave_up = tokio::spawn(async move { queued.begin().await.map(drop) });
        // The second transaction queues for the writer.
        tokio::task::yield_now().await;
        let mut commit = std::pin::pin!(first.commit());
        // One poll: the savepoint is released and the first member leaves the writer to
        // the one queued, keeping the group open for it; then that one is gone before it
        // ever ran.
        tokio::select! {
            biased;
            _ = &mut commit => panic!("the group committed with a transaction queued"),
            () = std::future::ready(()) => {}
        }
        gave_up.abort();
        tokio::time::timeout(Duration::from_secs(5), commit)
            .await
            .map_err(|_| StoreError::Db(DbErr::Custom("the group never committed".into())))??;
        assert_eq!(ids(&db).await?, [1]);
        Ok(())
    }

    /// Two processes on one file: while a group of the first has read and not yet written,
    /// the second commits. The group's write still goes in (its `BEGIN IMMEDIATE` made the
    /// second wait), where a deferred group would have failed with SQLITE_BUSY at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_writes_after_another_process_committed() -> StoreResult<()> {
        let dir = tempdir()?;
        let (db, first) = sqlite(dir.path()).await?;
        let other = connect(&DbSettings {
            url: format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display()),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(5),
        })
        .await?;
        let second = Writer::new(other);
        let txn = first.begin().await?;
        assert_eq!(ids_in(txn.conn()).await?, Vec::<i64>::new());
        // On a thread of its own: waiting for the lock blocks the thread it runs on.
        let theirs = tokio::spawn(async move {
            let txn = second.begin().await?;
            txn.conn().execute_raw(insert(2)).await?;
            txn.commit().await
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        txn.conn().execute_raw(insert(1)).await?;
        txn.commit().await?;
        theirs
            .await
            .map_err(|e| StoreError::Db(DbErr::Custom(e.to_string())))??;
        assert_eq!(ids(&db).await?, [1, 2]);
        Ok(())
    }

    async fn ids_in(c: &impl ConnectionTrait) -> StoreResult<Vec<i64>> {
        let rows = c
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT id FROM t ORDER BY id",
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get_by_index::<i64>(0))
            .collect::<Result<_, _>>()?)
    }
}
