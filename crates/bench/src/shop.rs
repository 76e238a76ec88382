//! The checkout scenarios: every connection is a customer of its own who, in a loop, adds a
//! unit to the cart, orders the cart, starts a payment at the fake gateway and confirms it —
//! four requests per paid order, each timed on its own. Afterwards the database is checked:
//! no variant sold beyond its stock or off its ledger, no payment PAID for an order that is
//! not, and every order answered as paid is ORDERED.

use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use jangteo_services::Services;
use rand::Rng;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

/// Variants topped up with stock, and a customer per connection.
pub struct Shop {
    pub variants: Vec<String>,
    pub customers: Vec<Customer>,
}

#[derive(Clone)]
pub struct Customer {
    pub token: String,
    pub address_id: String,
}

/// How many plentiful variants the many-products scenarios spread their buyers over.
pub const VARIANTS: usize = 200;

/// The steps of one purchase, in order.
pub const STEPS: [&str; 4] = ["add to cart", "order", "payment start", "confirm"];

/// Tops up the first variant of `VARIANTS` sampled products with stock (as the admin, who
/// may adjust any product) and writes `customers` shoppers straight to the database
/// (`jangteo::seed::shoppers`).
pub async fn prepare(
    services: &Services,
    base: &str,
    admin_token: &str,
    product_ids: &[String],
    customers: usize,
) -> anyhow::Result<Shop> {
    let http = reqwest::Client::new();
    let mut variants = Vec::new();
    for pid in product_ids.iter().take(VARIANTS) {
        let detail: Value = http
            .get(format!("{base}/api/v1/products/{pid}"))
            .send()
            .await?
            .json()
            .await?;
        let Some(vid) = detail["variants"][0]["id"].as_str() else {
            continue;
        };
        let res = http
            .post(format!(
                "{base}/api/v1/products/{pid}/variants/{vid}/stock-adjustments"
            ))
            .bearer_auth(admin_token)
            .json(&json!({"delta": 100_000_000, "reason": "RESTOCK"}))
            .send()
            .await?;
        anyhow::ensure!(
            res.status().is_success(),
            "restocking {vid}: {}",
            res.text().await?
        );
        variants.push(vid.to_owned());
    }
    anyhow::ensure!(!variants.is_empty(), "no variants to buy");

    let run = uuid::Uuid::new_v4().simple().to_string();
    let customers = jangteo::seed::shoppers(services, &format!("bench-{}-", &run[..8]), customers)
        .await?
        .into_iter()
        .map(|s| Customer {
            token: s.access_token,
            address_id: s.address_id.to_string(),
        })
        .collect();
    Ok(Shop {
        variants,
        customers,
    })
}

/// What the customers did in one run.
pub struct CheckoutRun {
    pub paid: u64,
    pub failed: u64,
    pub elapsed: Duration,
    /// Per step of [`STEPS`]: latencies in µs, and errors.
    pub steps: Vec<(Histogram<u64>, u64)>,
    /// Ids of the orders whose confirmation answered 200.
    pub paid_orders: Vec<String>,
    /// Statements the server sent to its database during the run (background work
    /// included: outbox, mail jobs).
    pub statements: u64,
    /// SQLite's group commits during the run.
    pub group_commits: Option<GroupCommits>,
}

/// What SQLite's one writer did during a run.
pub struct GroupCommits {
    pub commits: u64,
    /// Write transactions the commits held.
    pub transactions: u64,
    /// The share of the run the writer was held: near 1, it paces every purchase.
    pub writer_busy: f64,
}

/// Runs the loop on every customer for `duration`; `hot` sends everyone after one variant.
pub async fn run(
    base: &str,
    shop: &Shop,
    hot: bool,
    duration: Duration,
) -> anyhow::Result<CheckoutRun> {
    let started = Instant::now();
    let statements_before = jangteo_store::statements_executed();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(shop.customers.len());
    for customer in shop.customers.clone() {
        let base = base.to_owned();
        let variants = shop.variants.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?;
            let mut steps = Vec::new();
            for _ in STEPS {
                steps.push((Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?, 0u64));
            }
            let (mut paid, mut failed, mut paid_orders) = (0u64, 0u64, Vec::new());
            while Instant::now() < deadline {
                let variant = if hot {
                    variants[0].clone()
                } else {
                    variants[rand::rng().random_range(0..variants.len())].clone()
                };
                match purchase(&http, &base, &customer, &variant, &mut steps).await {
                    Some(order) => {
                        paid += 1;
                        paid_orders.push(order);
                    }
                    None => failed += 1,
                }
            }
            anyhow::Ok((paid, failed, steps, paid_orders))
        }));
    }
    let mut run = CheckoutRun {
        paid: 0,
        failed: 0,
        elapsed: Duration::ZERO,
        steps: Vec::new(),
        paid_orders: Vec::new(),
        statements: 0,
        group_commits: None,
    };
    for _ in STEPS {
        run.steps
            .push((Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?, 0));
    }
    for t in tasks {
        let (paid, failed, steps, orders) = t.await??;
        run.paid += paid;
        run.failed += failed;
        run.paid_orders.extend(orders);
        for (total, (h, errors)) in run.steps.iter_mut().zip(steps) {
            total.0.add(h)?;
            total.1 += errors;
        }
    }
    run.elapsed = started.elapsed();
    run.statements = jangteo_store::statements_executed() - statements_before;
    Ok(run)
}

/// One purchase; the paid order's id, or `None` at the first step that failed.
async fn purchase(
    http: &reqwest::Client,
    base: &str,
    customer: &Customer,
    variant: &str,
    steps: &mut [(Histogram<u64>, u64)],
) -> Option<String> {
    let token = customer.token.as_str();
    step(
        &mut steps[0],
        http.post(format!("{base}/api/v1/cart/items"))
            .bearer_auth(token)
            .json(&json!({"variant_id": variant, "quantity": 1})),
    )
    .await?;
    let order = step(
        &mut steps[1],
        http.post(format!("{base}/api/v1/orders"))
            .bearer_auth(token)
            .json(&json!({"address_id": customer.address_id})),
    )
    .await?;
    let id = order["id"].as_str()?.to_owned();
    let payment = step(
        &mut steps[2],
        http.post(format!("{base}/api/v1/orders/{id}/payments"))
            .bearer_auth(token)
            .json(&json!({})),
    )
    .await?;
    let pid = payment["id"].as_str()?;
    step(
        &mut steps[3],
        http.post(format!("{base}/api/v1/payments/{pid}/confirm"))
            .bearer_auth(token)
            .json(&json!({"payment_key": payment["payment_key"], "amount": order["total"]})),
    )
    .await?;
    Some(id)
}

/// Sends one request, timing it into `slot`; its JSON body when it succeeded.
async fn step(slot: &mut (Histogram<u64>, u64), request: reqwest::RequestBuilder) -> Option<Value> {
    let t = Instant::now();
    let body = match request.send().await {
        Ok(res) if res.status().is_success() => res.json::<Value>().await.ok(),
        _ => None,
    };
    slot.0.saturating_record(t.elapsed().as_micros() as u64);
    if body.is_none() {
        slot.1 += 1;
    }
    body
}

/// What the database says after a run.
pub struct Audit {
    /// Variants whose stock is negative or differs from their ledger.
    pub oversold: usize,
    /// PAID payments whose order is not paid, plus orders answered as paid that are not.
    pub charges_without_order: u64,
    /// Order mails still queued as jobs when the run ended: a mail runner falling behind
    /// shows here as a count that grows with the run.
    pub mails_queued: u64,
}

pub async fn audit(services: &Services, paid_orders: &[String]) -> anyhow::Result<Audit> {
    let (_, findings) = services
        .inventory()
        .audit()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = services.db();
    let count = |sql: String| async move {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?
            .context("a COUNT without a row")?;
        anyhow::Ok(u64::try_from(row.try_get_by_index::<i64>(0)?)?)
    };
    let mut without = count(
        "SELECT COUNT(*) FROM payments p JOIN orders o ON o.id = p.order_id \
         WHERE p.status = 'PAID' AND o.status NOT IN ('ORDERED', 'COMPLETE')"
            .into(),
    )
    .await?;
    // Orders answered as paid, looked up in chunks.
    let mut ordered = 0;
    for chunk in paid_orders.chunks(500) {
        let ids: Vec<uuid::Uuid> = chunk
            .iter()
            .filter_map(|id| uuid::Uuid::parse_str(id).ok())
            .collect();
        let query = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(Alias::new("orders"))
            .and_where(Expr::col(Alias::new("status")).is_in(["ORDERED", "COMPLETE"]))
            .and_where(Expr::col(Alias::new("id")).is_in(ids))
            .to_owned();
        let row = db
            .query_one(&query)
            .await?
            .context("a COUNT without a row")?;
        ordered += u64::try_from(row.try_get_by_index::<i64>(0)?)?;
    }
    without += paid_orders.len() as u64 - ordered;
    let mails_queued =
        count("SELECT COUNT(*) FROM jobs WHERE kind = 'send_mail' AND status = 'pending'".into())
            .await?;
    Ok(Audit {
        oversold: findings.len(),
        charges_without_order: without,
        mails_queued,
    })
}
