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
