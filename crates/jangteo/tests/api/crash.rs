//! kill -9: what a server acknowledged before it was killed is not lost. Catalog writes
//! reach search through the outbox after the restart, with no rebuild of the index.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::{fresh_database, http_client};

/// The real binary on `dir` (and `database_url`, else SQLite in `dir`), with its stdout
/// lines collected; returns once it is serving.
async fn start(
    dir: &std::path::Path,
    addr: &str,
    database_url: Option<&str>,
) -> (Child, Arc<Mutex<Vec<String>>>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jangteo"));
    cmd.args(["serve", "--listen", addr])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("JANGTEO_DEMO_CATALOG", "false")
        .env("JANGTEO_JWT_SECRET", "crash-test-secret-crash-test-secret")
        // The killed server may hold a claim on some events; the restarted one takes them
        // over when it runs out.
        .env("JANGTEO_OUTBOX__LEASE_SECS", "2")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let Some(url) = database_url {
        cmd.env("JANGTEO_DATABASE_URL", url);
    }
    if let Ok(dic) = std::env::var("JANGTEO_KO_DIC") {
        cmd.env("JANGTEO_KO_DIC", dic);
    }
    let mut child = cmd.spawn().expect("jangteo starts");
    let output = Arc::new(Mutex::new(Vec::<String>::new()));
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    {
        let output = output.clone();
        let stdout = child.stdout.take().unwrap();
        tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let serving = line.contains("jangteo is serving");
                output.lock().unwrap().push(line);
                if serving && let Some(tx) = ready.take() {
                    let _ = tx.send(());
                }
            }
        });
    }
    tokio::time::timeout(Duration::from_secs(60), ready_rx)
        .await
        .expect("server ready in time")
        .unwrap();
    (child, output)
}

/// A fresh database and a server on it, with the admin signed in.
struct Booted {
    dir: tempfile::TempDir,
    database_url: Option<String>,
    addr: String,
    base: String,
    child: Child,
    token: String,
    http: reqwest::Client,
}

async fn boot() -> Booted {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let base = format!("http://{addr}");
    let (child, output) = start(dir.path(), &addr, database_url.as_deref()).await;
    let (email, password) = {
        let out = output.lock().unwrap();
        let field = |name: &str| {
            out.iter()
                .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
                .expect("banner printed")
        };
        (field("email:"), field("password:"))
    };
    let http = http_client();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    Booted {
        dir,
        database_url,
        addr,
        base,
        child,
        token,
        http,
    }
}

#[tokio::test]
async fn catalog_writes_acknowledged_before_a_kill_are_searchable_after_the_restart() {
    let Booted {
        dir,
        database_url,
        addr,
        base,
        child,
        token,
        http,
    } = boot().await;
    let mut child = child;

    // A burst of writes, all acknowledged, then SIGKILL at once: no graceful anything.
    const N: usize = 40;
    let writes = (0..N).map(|i| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            let res = http
                .post(format!("{base}/api/v1/products"))
                .bearer_auth(&token)
                .json(&json!({
                    "name": format!("crashproof item{i}"),
                    "price": 1000 + i,
                    "status": "ON_SALE",
                    "variants": [{"sku": format!("CRASH-{i}"), "name": "basic", "stock": 5}],
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        }
    });
    futures::future::join_all(writes).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let url = database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rw",
            dir.path().join("data/jangteo.db").display()
        )
    });
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let undelivered =
        jangteo_store::outbox::count(&db, Some(jangteo_store::outbox::EventStatus::Pending))
            .await
            .unwrap();
    db.close().await.unwrap();
    eprintln!("{undelivered} of {N} product events undelivered at the kill");

    let (mut child, output) = start(dir.path(), &addr, database_url.as_deref()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let page: Value = http
            .get(format!("{base}/api/v1/search?q=crashproof&size=100"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["total"].as_u64() == Some(N as u64) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {N} products searchable after the restart",
            page["total"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let logs = output.lock().unwrap().join("\n");
    assert!(
        !logs.contains("search index rebuilt"),
        "found through the event path, not a rebuild:\n{logs}"
    );
    child.start_kill().unwrap();
    let _ = child.wait().await;
}

#[tokio::test]
async fn a_kill_during_a_checkout_rush_loses_no_acknowledged_order_or_payment_and_strands_no_stock()
{
    use std::sync::atomic::{AtomicUsize, Ordering};

    let Booted {
        dir,
        database_url,
        addr,
        base,
        child,
        token,
        http,
    } = boot().await;
    let mut child = child;
    let product: Value = http
        .post(format!("{base}/api/v1/products"))
        .bearer_auth(&token)
        .json(
            &json!({"name": "kill rush", "price": 1000, "status": "ON_SALE",
            "variants": [{"sku": "KILL-RUSH", "name": "basic", "stock": 100}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    let address: Value = http
        .post(format!("{base}/api/v1/me/addresses"))
        .bearer_auth(&token)
        .json(&json!({"recipient": "김철수", "phone": "010-1234-5678", "postal_code": "06236", "line1": "테헤란로 1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let address = address["id"].as_str().unwrap().to_owned();

    // 30 buyers for 100 units, ten purchases each, each order paid at once through the fake
    // gateway; the server is killed once 5 payments are acknowledged, with orders and
    // payments both in flight.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let paid = Arc::new(Mutex::new(Vec::<String>::new()));
    let answered = Arc::new(AtomicUsize::new(0));
    let kill = Arc::new(tokio::sync::Notify::new());
    let rush = (0..30).map(|_| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        let body =
            json!({"address_id": address, "items": [{"variant_id": variant, "quantity": 1}]});
        let (acknowledged, paid, answered, kill) = (
            acknowledged.clone(),
            paid.clone(),
            answered.clone(),
            kill.clone(),
        );
        async move {
            let post = |path: String, body: Value| {
                http.post(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
            };
            for _ in 0..10 {
                let Ok(res) = post("/api/v1/orders".into(), body.clone()).await else {
                    continue;
                };
                if res.status() != reqwest::StatusCode::CREATED {
                    continue;
                }
                let Ok(order) = res.json::<Value>().await else {
                    continue;
                };
                let id = order["id"].as_str().unwrap().to_owned();
                acknowledged.lock().unwrap().push(id.clone());
                let Ok(res) = post(format!("/api/v1/orders/{id}/payments"), json!({})).await else {
                    continue;
                };
                let Ok(payment) = res.json::<Value>().await else {
                    continue;
                };
                let Some(pid) = payment["id"].as_str() else {
                    continue;
                };
                let confirm =
                    json!({"payment_key": payment["payment_key"], "amount": order["total"]});
                let Ok(res) = post(format!("/api/v1/payments/{pid}/confirm"), confirm).await else {
                    continue;
                };
                if res.status() == reqwest::StatusCode::OK {
                    paid.lock().unwrap().push(id);
                    if answered.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
                        kill.notify_one();
                    }
                }
            }
        }
    });
    let rush = tokio::spawn(futures::future::join_all(rush));
    tokio::time::timeout(Duration::from_secs(60), kill.notified())
        .await
        .expect("5 payments acknowledged");
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    rush.await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let paid = paid.lock().unwrap().clone();

    let url = database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rw",
            dir.path().join("data/jangteo.db").display()
        )
    });
    let db = sea_orm::Database::connect(&url).await.unwrap();
    use jangteo_store::entities::{inventory_ledger, orders};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let stored: Vec<String> = orders::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id.to_string())
        .collect();
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged order {id} lost");
    }
    // Every stored order took its unit, and no unit was taken without an order.
    let sales: Vec<String> = inventory_ledger::Entity::find()
        .filter(inventory_ledger::Column::Reason.eq("SALE"))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|l| l.reference)
        .collect();
    // Every payment answered as paid is PAID, and its order ORDERED.
    let statuses: std::collections::HashMap<String, String> = orders::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.id.to_string(), o.status))
        .collect();
    for id in &paid {
        assert_eq!(statuses[id], "ORDERED", "order {id} was answered as paid");
    }
    {
        use jangteo_store::entities::payments;
        let paid_payments: Vec<String> = payments::Entity::find()
            .filter(payments::Column::Status.eq("PAID"))
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.order_id.to_string())
            .collect();
        for id in &paid {
            assert!(paid_payments.contains(id), "a PAID payment of order {id}");
        }
        for id in &paid_payments {
            assert_eq!(statuses[id], "ORDERED", "no PAID payment without its order");
        }
    }
    let mut a = stored.clone();
    let mut b = sales.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "orders and stock takes are the same set");
    let (_, findings) = jangteo_store::inventory::audit(&db).await.unwrap();
    assert!(
        findings.is_empty(),
        "stock matches its ledger: {findings:?}"
    );
    let stock =
        jangteo_store::inventory::stock_of(&db, variant.parse::<uuid::Uuid>().unwrap().into())
            .await
            .unwrap();
    assert_eq!(stock + stored.len() as i64, 100, "sold + left = 100");
    db.close().await.unwrap();
    eprintln!(
        "{} acknowledged, {} paid, {} stored at the kill",
        acknowledged.len(),
        paid.len(),
        stored.len()
    );

    // The restarted server carries on selling what is left.
    let (mut child, _) = start(dir.path(), &addr, database_url.as_deref()).await;
    let res = http
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(&token)
        .json(&json!({"address_id": address, "items": [{"variant_id": variant, "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    let expected = if stock > 0 {
        reqwest::StatusCode::CREATED
    } else {
        reqwest::StatusCode::CONFLICT
    };
    assert_eq!(res.status(), expected);
    // Events the killed server committed but had not delivered are delivered now (its
    // claims run out after the two-second lease): the outbox drains.
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let mut pending = u64::MAX;
    for _ in 0..150 {
        use jangteo_store::entities::outbox_events;
        use sea_orm::PaginatorTrait;
        pending = outbox_events::Entity::find()
            .filter(outbox_events::Column::Status.ne("delivered"))
            .count(&db)
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    db.close().await.unwrap();
    assert_eq!(pending, 0, "the outbox drained after the restart");
    child.start_kill().unwrap();
    let _ = child.wait().await;
}
