//! What one statement costs through SeaORM and SQLx on SQLite, by itself and in a
//! transaction, against several statements sent in one call (docs/benchmarks.md, "Where a
//! purchase's time goes"). Upstream SQLx ran each SQLite connection on a thread of its own,
//! so every call was two thread hand-offs; the patched driver in `vendor/` runs it on the
//! caller's thread. Run it as it is and pinned to one CPU: the message between two threads
//! shows what a hand-off costs on this machine, the statements what is left of them.
//!
//! ```sh
//! cargo run --release -p jangteo-store --example round_trips
//! taskset -c 0 cargo run --release -p jangteo-store --example round_trips
//! ```

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait, Value};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const ROUNDS: usize = 2_000;

fn main() -> Result<()> {
    thread_ping_pong()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(measure())
}

fn statement(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

fn report(what: &str, started: Instant) {
    let micros = started.elapsed().as_secs_f64() * 1e6 / ROUNDS as f64;
    println!("{what:<48} {micros:>8.1} µs");
}

async fn measure() -> Result<()> {
    let dir = tempfile_dir()?;
    let db = jangteo_store::connect(&jangteo_store::DbSettings {
        url: format!("sqlite://{}?mode=rwc", dir.join("round-trips.db").display()),
        max_connections: 1,
        acquire_timeout: Duration::from_secs(5),
    })
    .await?;
    db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
        .await?;
    let insert = "INSERT INTO t (v) VALUES (?)";

    let started = Instant::now();
    for i in 0..ROUNDS {
        db.execute_raw(statement(
            &db,
            "SELECT v FROM t WHERE id = ?",
            vec![(i as i64).into()],
        ))
        .await?;
    }
    report("one SELECT by key, autocommit", started);

    let started = Instant::now();
    for _ in 0..ROUNDS {
        db.begin().await?.commit().await?;
    }
    report("an empty transaction (BEGIN, COMMIT)", started);

    let started = Instant::now();
    for i in 0..ROUNDS {
        let tx = db.begin().await?;
        for j in 0..8 {
            tx.execute_raw(statement(&db, insert, vec![((i * 8 + j) as i64).into()]))
                .await?;
        }
        tx.commit().await?;
    }
    report("a transaction of 8 INSERTs, one call each", started);

    let started = Instant::now();
    let eight = [insert; 8].join("; ");
    for i in 0..ROUNDS {
        let tx = db.begin().await?;
        let values = (0..8).map(|j| Value::from((i * 8 + j) as i64)).collect();
        tx.execute_raw(statement(&db, &eight, values)).await?;
        tx.commit().await?;
    }
    report("a transaction of 8 INSERTs in one call", started);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The floor under every call: one message to another thread and one back.
fn thread_ping_pong() -> Result<()> {
    let (to_worker, inbox) = std::sync::mpsc::channel::<usize>();
    let (to_caller, answers) = std::sync::mpsc::channel::<usize>();
    let worker = std::thread::spawn(move || {
        for n in inbox {
            if to_caller.send(n).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    for i in 0..ROUNDS * 10 {
        to_worker.send(i)?;
        answers.recv()?;
    }
    let micros = started.elapsed().as_secs_f64() * 1e6 / (ROUNDS * 10) as f64;
    println!("{:<48} {micros:>8.1} µs", "a message to a thread and back");
    drop(to_worker);
    worker.join().map_err(|_| "ping-pong thread panicked")?;
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("jangteo-round-trips-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
