//! What must hold after any story, however it raced: one set of checks against the
//! database, so every test that writes stock or events proves the same things. A later
//! feature (orders, coupons) adds its own `assert_…` here and calls it from
//! `assert_invariants`.

use jangteo_store::outbox::EventStatus;

use super::app::TestApp;

/// Every invariant: stock agrees with its ledger, no job is left under a lease, every
/// event reached its subscribers. Runs the due jobs and settles the outbox first, so call
/// it at the end of a test, once nothing is meant to be left pending or parked.
pub async fn assert_invariants(app: &TestApp) {
    assert_stock_matches_ledger(app).await;
    assert_no_job_leased(app).await;
    assert_every_event_delivered(app).await;
}

/// Every variant's stock is `initial_stock + sum(ledger)` and not negative; returns how
/// many variants were checked.
pub async fn assert_stock_matches_ledger(app: &TestApp) -> u64 {
    let (checked, findings) = app
        .services
        .inventory()
        .audit()
        .await
        .expect("inventory audit runs");
    let broken: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{} ({}): stock {} but initial {} + ledger {} = {}{}",
                f.sku,
                f.variant_id,
                f.stock,
                f.initial_stock,
                f.ledger_sum,
                f.expected(),
                if f.is_negative() { ", negative" } else { "" }
            )
        })
        .collect();
    assert!(
        broken.is_empty(),
        "stock does not match its ledger for {} of {checked} variants:\n  {}",
        broken.len(),
        broken.join("\n  ")
    );
    checked
}

/// After the outbox settles, no event is still pending or parked as failed.
pub async fn assert_every_event_delivered(app: &TestApp) {
    app.settle().await;
    let db = app.services.db();
    let mut undelivered = Vec::new();
    for status in [EventStatus::Pending, EventStatus::Failed] {
        let n = jangteo_store::outbox::count(db, Some(status))
            .await
            .expect("count events");
        if n > 0 {
            let some = jangteo_store::outbox::list(db, Some(status), None, 5)
                .await
                .expect("list events");
            let shown: Vec<String> = some
                .iter()
                .map(|e| {
                    format!(
                        "{} {} after {} attempts: {}",
                        e.kind,
                        e.id,
                        e.attempts,
                        e.last_error.as_deref().unwrap_or("-")
                    )
                })
                .collect();
            undelivered.push(format!("{n} {}: {}", status.as_str(), shown.join("; ")));
        }
    }
    let total = jangteo_store::outbox::count(db, None)
        .await
        .expect("count events");
    assert!(
        undelivered.is_empty(),
        "events not delivered (of {total} in the outbox): {}",
        undelivered.join(" | ")
    );
}

/// After the due jobs ran, no job still holds a lease at the test clock's time (a runner
/// that never gave its job back).
pub async fn assert_no_job_leased(app: &TestApp) {
    app.run_jobs().await;
    let now = app.clock_now();
    let leased = jangteo_store::jobs::count_leased(app.services.db(), now)
        .await
        .expect("count leased jobs");
    assert_eq!(
        leased, 0,
        "{leased} job(s) still under a lease at {now} after every due job ran"
    );
}
