//! The transactional outbox: events written with the business change reach every
//! subscriber at least once and are applied at most once; failures back off, park, and are
//! retried by an admin.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use jangteo::Overrides;
use jangteo_core::events::DomainEvent;
use jangteo_services::Services;
use jangteo_services::outbox::{Delivery, Subscriber};
use jangteo_store::DatabaseTransaction;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

/// A subscriber of product events that fails its first `fail_first` calls (or every call
/// while `broken`), and remembers each event id it applied.
#[derive(Default)]
struct Flaky {
    fail_first: AtomicU32,
    broken: AtomicBool,
    calls: AtomicU32,
    applied: Mutex<Vec<Uuid>>,
}

#[async_trait::async_trait]
impl Subscriber for Flaky {
    fn name(&self) -> &'static str {
        "test_flaky"
    }

    fn wants(&self, event: &DomainEvent) -> bool {
        matches!(event, DomainEvent::ProductChanged { .. })
    }

    async fn apply(
        &self,
        _services: &Services,
        _tx: &DatabaseTransaction,
        events: &[Delivery],
    ) -> anyhow::Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.broken.load(Ordering::SeqCst) {
            anyhow::bail!("the downstream is down");
        }
        if self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            anyhow::bail!("a passing hiccup");
        }
        self.applied
            .lock()
            .unwrap()
            .extend(events.iter().map(|d| d.id));
        Ok(())
    }
}

async fn app_with(flaky: Arc<Flaky>, max_attempts: u32) -> TestApp {
    spawn_app_custom(
        |c| c.outbox.max_attempts = max_attempts,
        Overrides {
            subscribers: vec![flaky],
            ..Overrides::default()
        },
    )
    .await
}

async fn events(app: &TestApp, admin: &Session, status: &str) -> Vec<Value> {
    let page: Value = app
        .get_json(
            &format!("/api/v1/admin/events?status={status}&limit=100"),
            Some(&admin.access),
        )
        .await;
    page["items"].as_array().unwrap().clone()
}

async fn product_event_of(app: &TestApp, admin: &Session, product: &str) -> Value {
    for status in ["pending", "delivered", "failed"] {
        if let Some(e) = events(app, admin, status)
            .await
            .into_iter()
            .find(|e| e["kind"] == "product_changed" && e["payload"]["product_id"] == product)
        {
            return e;
        }
    }
    panic!("no event for product {product}");
}

/// How many product events `consumer` recorded as applied.
async fn processed_count(app: &TestApp, consumer: &str) -> i64 {
    let db = app.services.db();
    let sql = format!(
        "SELECT COUNT(*) AS n FROM outbox_processed WHERE consumer = '{consumer}' AND event_id IN \
         (SELECT id FROM outbox_events WHERE kind = 'product_changed')"
    );
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn a_subscriber_that_fails_twice_applies_the_event_exactly_once() {
    let flaky = Arc::new(Flaky::default());
    flaky.fail_first.store(2, Ordering::SeqCst);
    let app = app_with(flaky.clone(), 8).await;
    let admin = app.admin().await;
    let seller = app.seller("outbox.seller@example.com").await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("재시도 상품", 1000).variant("RETRY-1", 3),
        )
        .await;
    let id = product["id"].as_str().unwrap().to_owned();

    // First attempt fails; the retry waits for the backoff (the clock does not move).
    app.settle().await;
    let e = product_event_of(&app, &admin, &id).await;
    assert_eq!(e["status"], "pending");
    assert_eq!(e["attempts"], 1);
    assert!(
        e["last_error"].as_str().unwrap().contains("test_flaky"),
        "{e}"
    );
    // The other subscriber applied it at once: the product is searchable already.
    let found: Value = app.get_json("/api/v1/search?q=재시도", None).await;
    assert_eq!(found["items"][0]["id"], id.as_str());

    app.clock.advance(chrono::Duration::seconds(2));
    app.settle().await;
    assert_eq!(product_event_of(&app, &admin, &id).await["attempts"], 2);
    app.clock.advance(chrono::Duration::seconds(4));
    app.settle().await;
    let e = product_event_of(&app, &admin, &id).await;
    assert_eq!(e["status"], "delivered", "{e}");
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
    let event_id: Uuid = e["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        flaky
            .applied
            .lock()
            .unwrap()
            .iter()
            .filter(|i| **i == event_id)
            .count(),
        1
    );
    // The search subscriber was not handed it again on the retries.
    assert_eq!(processed_count(&app, "search_index").await, 1);

    // A relay that died after applying but before marking delivers the batch again: the
    // processed record keeps the subscriber from applying it twice.
    let db = app.services.db();
    db.execute_unprepared("UPDATE outbox_events SET status = 'pending', delivered_at = NULL")
        .await
        .unwrap();
    app.settle().await;
    assert_eq!(
        flaky.calls.load(Ordering::SeqCst),
        3,
        "not handed over again"
    );
    assert_eq!(flaky.applied.lock().unwrap().len(), 1);
    assert_eq!(processed_count(&app, "test_flaky").await, 1);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn an_event_that_always_fails_is_parked_and_retry_delivers_it() {
    let flaky = Arc::new(Flaky::default());
    flaky.broken.store(true, Ordering::SeqCst);
    let app = app_with(flaky.clone(), 3).await;
    let admin = app.admin().await;
    let seller = app.seller("parked.seller@example.com").await;
    let product = app
        .product(
            &seller,
            ProductSpec::new("막힌 상품", 1000).variant("PARK-1", 1),
        )
        .await;
    let id = product["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        app.settle().await;
        app.clock.advance(chrono::Duration::seconds(10));
    }
    app.settle().await;
    let failed = events(&app, &admin, "failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    let e = &failed[0];
    assert_eq!(e["payload"]["product_id"], id.as_str());
    assert_eq!(e["attempts"], 3);
    assert!(
        e["last_error"]
            .as_str()
            .unwrap()
            .contains("the downstream is down")
    );
    assert_eq!(
        flaky.calls.load(Ordering::SeqCst),
        3,
        "parked: not tried again"
    );

    // Only admins see or retry the outbox; only parked events are retried.
    let user = app.user("nosy@example.com").await;
    let res = app.get_auth("/api/v1/admin/events", &user.access).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let event = e["id"].as_str().unwrap();
    let res = app
        .post_auth(
            &format!("/api/v1/admin/events/{event}/retry"),
            &user.access,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post_auth(
            &format!("/api/v1/admin/events/{}/retry", Uuid::now_v7()),
            &admin.access,
            json!({}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .get_auth("/api/v1/admin/events?status=lost", &admin.access)
        .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;

    flaky.broken.store(false, Ordering::SeqCst);
    let res = app
        .post_auth(
            &format!("/api/v1/admin/events/{event}/retry"),
            &admin.access,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.settle().await;
    let e = product_event_of(&app, &admin, &id).await;
    assert_eq!(e["status"], "delivered");
    assert_eq!(flaky.applied.lock().unwrap().len(), 1);
    let res = app
        .post_auth(
            &format!("/api/v1/admin/events/{event}/retry"),
            &admin.access,
            json!({}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "event_not_failed").await;
    // Retried and delivered: nothing is parked any more.
    assert_invariants(&app).await;
}

#[tokio::test]
async fn sales_are_counted_once_from_stock_events() {
    let app = spawn_app().await;
    let seller = app.seller("sales.seller@example.com").await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("판매 집계", 1000).variant("SALES-1", 10),
        )
        .await;
    let variant = variant_id(&product, 0);
    let inventory = app.services.inventory();
    inventory
        .take(
            variant.into(),
            2,
            jangteo_core::inventory::StockReason::Sale,
            None,
        )
        .await
        .unwrap();
    inventory
        .take(
            variant.into(),
            1,
            jangteo_core::inventory::StockReason::Sale,
            None,
        )
        .await
        .unwrap();
    app.settle().await;
    // A redelivery of every event changes nothing.
    app.services
        .db()
        .execute_unprepared("UPDATE outbox_events SET status = 'pending', delivered_at = NULL")
        .await
        .unwrap();
    app.settle().await;
    let id = product["id"].as_str().unwrap();
    let detail: Value = app.get_json(&format!("/api/v1/products/{id}"), None).await;
    assert_eq!(detail["sales_count"], 3);
    assert_invariants(&app).await;
}

/// Rows of `outbox_processed` for one event and consumer.
async fn processed_rows(app: &TestApp, consumer: &str, event: &str) -> u64 {
    use jangteo_store::entities::outbox_processed as processed;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    processed::Entity::find()
        .filter(processed::Column::Consumer.eq(consumer))
        .filter(processed::Column::EventId.eq(Uuid::parse_str(event).unwrap()))
        .count(app.services.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn delivered_events_are_pruned_after_the_retention_period_and_parked_ones_kept() {
    let flaky = Arc::new(Flaky::default());
    flaky.broken.store(true, Ordering::SeqCst);
    let app = app_with(flaky.clone(), 1).await;
    let seller = app.seller("prune.seller@example.com").await;
    let parked = app
        .product(
            &seller,
            ProductSpec::on_sale("남는 사건", 1000).variant("PRUNE-1", 1),
        )
        .await;
    app.settle().await;
    flaky.broken.store(false, Ordering::SeqCst);
    let delivered = app
        .product(
            &seller,
            ProductSpec::on_sale("지울 사건", 1000).variant("PRUNE-2", 1),
        )
        .await;
    app.settle().await;
    let admin = app.admin().await;
    let kept = product_event_of(&app, &admin, parked["id"].as_str().unwrap()).await;
    let gone = product_event_of(&app, &admin, delivered["id"].as_str().unwrap()).await;
    assert_eq!(kept["status"], "failed");
    assert_eq!(gone["status"], "delivered");
    let (kept_id, gone_id) = (kept["id"].as_str().unwrap(), gone["id"].as_str().unwrap());
    assert_eq!(processed_rows(&app, "search_index", kept_id).await, 1);
    assert_eq!(processed_rows(&app, "search_index", gone_id).await, 1);

    // Past the retention (7 days) the hourly prune job runs.
    app.clock.advance(chrono::Duration::days(8));
    assert!(app.run_jobs().await > 0);
    let admin = app.admin().await;
    assert!(events(&app, &admin, "delivered").await.is_empty());
    assert_eq!(processed_rows(&app, "search_index", gone_id).await, 0);
    // The parked event and what its consumers recorded stay: retried, it reaches only the
    // consumer that never applied it.
    assert_eq!(events(&app, &admin, "failed").await.len(), 1);
    assert_eq!(processed_rows(&app, "search_index", kept_id).await, 1);
    let res = app
        .post_auth(
            &format!("/api/v1/admin/events/{kept_id}/retry"),
            &admin.access,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.settle().await;
    assert_eq!(processed_rows(&app, "search_index", kept_id).await, 1);
    assert_eq!(processed_rows(&app, "test_flaky", kept_id).await, 1);
    assert_eq!(flaky.applied.lock().unwrap().len(), 2);
    assert_invariants(&app).await;
}
