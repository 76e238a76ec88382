//! Durable jobs: mail and housekeeping run once each, across restarts and across several
//! server processes on one database, and a job whose runner died is taken over once its
//! lease runs out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jangteo::{Application, Overrides};
use jangteo_services::clock::ManualClock;
use jangteo_services::jobs::SendMail;
use jangteo_services::mail::{Mail, Mailer};

use crate::support::*;

/// A mail server that takes `delay` per message and counts, per recipient, how often each
/// arrived and which server process sent it.
struct Inbox {
    delay: Duration,
    sender: &'static str,
    received: Arc<Mutex<Vec<(String, &'static str)>>>,
}

#[async_trait::async_trait]
impl Mailer for Inbox {
    async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        tokio::time::sleep(self.delay).await;
        self.received
            .lock()
            .unwrap()
            .push((mail.to.clone(), self.sender));
        Ok(())
    }
}

fn inbox(
    delay_ms: u64,
    sender: &'static str,
    received: &Arc<Mutex<Vec<(String, &'static str)>>>,
) -> Arc<dyn Mailer> {
    Arc::new(Inbox {
        delay: Duration::from_millis(delay_ms),
        sender,
        received: received.clone(),
    })
}

async fn queue_mails(app: &TestApp, n: usize) {
    let mut tx = app.services.begin().await.unwrap();
    for i in 0..n {
        let mail = SendMail {
            to: format!("reader{i}@example.com"),
            subject: "hello".into(),
            text: format!("mail {i}"),
        };
        tx.enqueue(&mail, None, None).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn wait_for(received: &Arc<Mutex<Vec<(String, &'static str)>>>, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while received.lock().unwrap().len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} mails arrived",
            received.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn per_recipient(received: &[(String, &'static str)]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for (to, _) in received {
        *counts.entry(to.clone()).or_default() += 1;
    }
    counts
}

/// Starts another server on `app`'s database (its own data directory and clock).
async fn second_server(
    app: &TestApp,
    dir: &std::path::Path,
    mailer: Arc<dyn Mailer>,
) -> Application {
    Application::build(
        &app.second_config(dir),
        Overrides {
            clock: Some(Arc::new(ManualClock::default())),
            mailer: Some(mailer),
            ..Overrides::default()
        },
    )
    .await
    .expect("second server starts")
}

// Threads of their own for the two servers, as two processes have: on SQLite a statement
// waiting for the other server's write lock blocks its thread (statements run on the
// caller's thread), and on one thread the server holding the lock could never finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_database_run_each_job_exactly_once() {
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = spawn_app_custom(
        |c| c.jobs.poll_ms = 50,
        Overrides {
            mailer: Some(inbox(10, "first", &received)),
            ..Overrides::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let second = second_server(&app, dir.path(), inbox(10, "second", &received)).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(second.run_until(async {
        let _ = stopped.await;
    }));

    queue_mails(&app, 500).await;
    wait_for(&received, 500).await;
    // Anything sent twice would arrive after the 500th: give it the time to.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 500, "no job ran twice");
    let counts = per_recipient(&got);
    assert_eq!(counts.len(), 500);
    assert!(counts.values().all(|n| *n == 1));
    let by_second = got.iter().filter(|(_, s)| *s == "second").count();
    assert!(
        by_second > 0 && by_second < 500,
        "both servers took part ({by_second} of 500 by the second)"
    );
    assert_eq!(
        app.services.jobs_list(None, 1_000).await.unwrap().len(),
        jangteo_services::jobs::RECURRING.len(),
        "only the recurring housekeeping is left"
    );
    let _ = stop.send(());
    second.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_job_whose_runner_died_is_taken_over_after_its_lease() {
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = spawn_app_custom(
        |_| {},
        Overrides {
            mailer: Some(inbox(0, "first", &received)),
            ..Overrides::default()
        },
    )
    .await;
    // Claim the job the way a runner does, then "die": never complete it.
    let now = app.clock_now();
    let mut tx = app.services.begin().await.unwrap();
    let mail = SendMail {
        to: "orphan@example.com".into(),
        subject: "taken over".into(),
        text: "once".into(),
    };
    // Due a moment from now, so the live runner cannot take it before the dead one does.
    tx.enqueue(&mail, Some(now + chrono::Duration::seconds(1)), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let at = now + chrono::Duration::seconds(1);
    let (_, claimed) = jangteo_store::jobs::claim(
        app.services.db(),
        app.services.db(),
        at,
        at + chrono::Duration::minutes(5),
        10,
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);

    // Inside the lease nobody else runs it.
    app.clock.advance(chrono::Duration::minutes(4));
    // (The housekeeping jobs came due meanwhile; they run, the leased mail does not.)
    while app
        .services
        .jobs()
        .round(&app.services)
        .await
        .unwrap()
        .claimed
        > 0
    {}
    assert!(received.lock().unwrap().is_empty());

    // Past it, a live runner takes it over and runs it, once.
    app.clock.advance(chrono::Duration::minutes(2));
    app.run_jobs().await;
    let got = received.lock().unwrap().clone();
    assert_eq!(got, vec![("orphan@example.com".to_owned(), "first")]);
    // The housekeeping came due too (a minute after start) and ran, and came back for later.
    let left = app.services.jobs_list(None, 100).await.unwrap();
    assert_eq!(
        left.len(),
        jangteo_services::jobs::RECURRING.len(),
        "{left:?}"
    );
    assert!(left.iter().all(|j| j.due_at > app.clock_now()));
}

#[tokio::test]
async fn queued_mail_survives_a_restart_and_arrives_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut config, _) = test_config(dir.path()).await;
    // Four mails at a time, a fifth of a second each: the stop comes mid-queue.
    config.jobs.concurrency = 4;
    let received = Arc::new(Mutex::new(Vec::new()));
    let start = |mailer: Arc<dyn Mailer>| {
        let config = config.clone();
        async move {
            Application::build(
                &config,
                Overrides {
                    clock: Some(Arc::new(ManualClock::default())),
                    mailer: Some(mailer),
                    ..Overrides::default()
                },
            )
            .await
            .expect("server starts")
        }
    };

    let before = start(inbox(200, "before", &received)).await;
    let mut tx = before.services().begin().await.unwrap();
    for i in 0..100 {
        let mail = SendMail {
            to: format!("reader{i}@example.com"),
            subject: "hello".into(),
            text: format!("mail {i}"),
        };
        tx.enqueue(&mail, None, None).await.unwrap();
    }
    tx.commit().await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(before.run_until(async {
        let _ = stopped.await;
    }));
    wait_for(&received, 8).await;
    let _ = stop.send(());
    running.await.unwrap().unwrap();
    let sent_before = received.lock().unwrap().len();
    assert!(
        (8..100).contains(&sent_before),
        "stopped mid-queue ({sent_before} sent)"
    );

    let after = start(inbox(0, "after", &received)).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(after.run_until(async {
        let _ = stopped.await;
    }));
    wait_for(&received, 100).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = received.lock().unwrap().clone();
    let counts = per_recipient(&got);
    assert_eq!(got.len(), 100, "none sent twice");
    assert_eq!(counts.len(), 100, "none lost");
    assert_eq!(
        got.iter().filter(|(_, s)| *s == "before").count(),
        sent_before,
        "the first server sent nothing after it stopped"
    );
    let _ = stop.send(());
    running.await.unwrap().unwrap();
}

/// Deadlocks PostgreSQL broke in this database so far (reported by the victim's backend
/// once it is idle, so polled).
async fn deadlocks(db: &sea_orm::DatabaseConnection) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()";
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Whether a job claim's UPDATE waits for a row lock now.
async fn claim_waits(db: &sea_orm::DatabaseConnection) -> bool {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
               AND wait_event_type = 'Lock' AND query LIKE 'UPDATE \"jobs\" SET \"lease_owner\"%'";
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap() > 0
}

/// A deadlock between a runner's claim and a transaction holding the claimed rows:
/// PostgreSQL fails the statement that waited first — the claim's — and the claim runs
/// again and takes its jobs once the other transaction commits, instead of failing the
/// runner's round (MariaDB in CI failed a round so: `1213 Deadlock found`).
#[tokio::test]
async fn a_claim_chosen_as_a_deadlock_victim_claims_again() {
    use jangteo_store::entities::jobs;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, TransactionTrait};

    let app = spawn_app().await;
    if app.backend != "postgres" {
        // SQLite has one writer, so nothing deadlocks there. On MariaDB the server's own
        // job runner, woken by the enqueue, takes part in the chain of row locks (its claim
        // under REPEATABLE READ locks rows it only scans), so which statement waits for
        // which is not the test's to decide.
        eprintln!("skipped on {}: PostgreSQL only", app.backend);
        return;
    }
    let db = app.services.db().clone();
    let now = app.clock_now();
    // Due in an hour: the server's own runner leaves them alone.
    let mut tx = app.services.begin().await.unwrap();
    for i in 0..2 {
        let mail = SendMail {
            to: format!("deadlock{i}@example.com"),
            subject: "hello".into(),
            text: "mail".into(),
        };
        tx.enqueue(&mail, Some(now + chrono::Duration::hours(1)), None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let queued: Vec<jobs::Model> = jobs::Entity::find()
        .filter(jobs::Column::Kind.eq("send_mail"))
        .order_by_asc(jobs::Column::DueAt)
        .order_by_asc(jobs::Column::Id)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(queued.len(), 2);
    let (first, second) = (queued[0].id, queued[1].id);
    let bump = |id: uuid::Uuid| {
        jobs::Entity::update_many()
            .col_expr(
                jobs::Column::Attempts,
                Expr::col(jobs::Column::Attempts).add(1),
            )
            .filter(jobs::Column::Id.eq(id))
    };
    let before = deadlocks(&db).await;

    // The holder holds the second job; the claim takes the first and waits for the second.
    let holder = db.begin().await.unwrap();
    bump(second).exec(&holder).await.unwrap();
    let claim = tokio::spawn({
        let db = db.clone();
        let at = now + chrono::Duration::hours(2);
        async move {
            // Housekeeping jobs come due by then too, and are claimed with them.
            jangteo_store::jobs::claim(&db, &db, at, at + chrono::Duration::minutes(5), 64).await
        }
    });
    let mut waited = 0;
    while !claim_waits(&db).await {
        assert!(
            !claim.is_finished(),
            "the claim did not wait for the held row"
        );
        waited += 1;
        assert!(waited < 500, "the claim never waited for the held row");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Now the holder wants the first job, which the claim holds: a deadlock, which
    // PostgreSQL breaks after `deadlock_timeout` by failing the claim's statement.
    bump(first).exec(&holder).await.unwrap();
    holder.commit().await.unwrap();
    let (_, claimed) = claim.await.unwrap().expect("the claim ran again");
    let ids: Vec<uuid::Uuid> = claimed.iter().map(|j| j.id).collect();
    assert!(ids.contains(&first) && ids.contains(&second), "{ids:?}");
    // It really was a deadlock (not a claim that simply waited its turn).
    let mut polls = 0;
    while deadlocks(&db).await == before {
        polls += 1;
        assert!(polls < 150, "PostgreSQL reports no deadlock");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
