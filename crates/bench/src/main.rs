//! `jangteo-bench <scenario>`: measures jangteo's hot paths under concurrent load.
//!
//! Without `--url` it starts its own server (embedded SQLite in a temporary directory,
//! seeded with `--products` products) on a separate runtime, then drives it over loopback.
//! With `--url` it targets a running server whose catalog is already filled.
//! It prints a Markdown table: requests/s, latency percentiles and errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use rand::Rng;
use serde_json::Value;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Scenario {
    /// GET /api/v1/products/{id} of random products.
    ProductDetail,
    /// GET /api/v1/products first pages with random category and sort.
    Listing,
    /// GET /api/v1/search with random Korean and English words, 초성 and typos (popular
    /// queries: after the first of each, answered from the result cache).
    Search,
    /// The same queries, each with a random price ceiling so that (almost) every request
    /// misses the result cache: the cost of a query nobody asked before.
    SearchUncached,
    /// GET /healthz: the floor of the HTTP stack.
    Health,
    /// POST /api/v1/products (on sale, one variant) as the admin, with the outbox relay
    /// indexing every write; also reports the delay from commit to a subscriber's apply.
    CatalogWrite,
    /// POST /api/v1/orders buying one unit of a random one of 200 plentiful variants: stock
    /// reserved, order written, events queued — buyers of different products, who should
    /// never wait for each other.
    Checkout,
    /// POST /api/v1/orders, every buyer after one unit of the same variant: the hot row.
    CheckoutHot,
    /// A whole purchase through the fake gateway: place, start a payment, confirm (three
    /// requests per purchase; the table counts purchases).
    Purchase,
}

#[derive(Parser, Debug)]
#[command(
    name = "jangteo-bench",
    about = "Load-test jangteo's hot paths and print a latency table"
)]
struct Args {
    /// What to measure (several allowed).
    #[arg(value_enum, required = true, num_args = 1..)]
    scenarios: Vec<Scenario>,
    /// Target a running server instead of starting one, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: Option<String>,
    /// Products to seed into the embedded server.
    #[arg(long, default_value_t = 100_000)]
    products: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds per scenario (after a warm-up of a fifth of it).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Worker threads of the embedded server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Bearer token of a seller or admin, for catalog-write against `--url`.
    #[arg(long, env = "JANGTEO_BENCH_TOKEN")]
    token: Option<String>,
}

struct Target {
    base: String,
    product_ids: Vec<String>,
    category_ids: Vec<String>,
    /// A bearer token that may create products (catalog-write).
    token: Option<String>,
    /// For the checkout scenarios: variants topped up with stock, and the buyer's address.
    shop: Option<Shop>,
}

struct Shop {
    variants: Vec<String>,
    address_id: String,
}

const CHECKOUT_VARIANTS: usize = 200;

/// An outbox subscriber that records, for every product event, how long after its commit
/// it was applied. It is the last subscriber, so the delay includes the search indexer's
/// work on the same batch.
#[derive(Default)]
struct DelayProbe {
    delays: std::sync::Mutex<Option<Histogram<u64>>>,
}

#[async_trait::async_trait]
impl jangteo_services::outbox::Subscriber for DelayProbe {
    fn name(&self) -> &'static str {
        "bench_delay_probe"
    }

    fn wants(&self, event: &jangteo_core::events::DomainEvent) -> bool {
        matches!(
            event,
            jangteo_core::events::DomainEvent::ProductChanged { .. }
        )
    }

    async fn apply(
        &self,
        _services: &jangteo_services::Services,
        _tx: &jangteo_store::DatabaseTransaction,
        events: &[jangteo_services::outbox::Delivery],
    ) -> anyhow::Result<()> {
        let now = chrono::Utc::now();
        let mut guard = self.delays.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = guard.as_mut() {
            for d in events {
                let micros = (now - d.at).num_microseconds().unwrap_or(i64::MAX);
                h.saturating_record(u64::try_from(micros).unwrap_or(0));
            }
        }
        Ok(())
    }
}

impl DelayProbe {
    /// Starts recording (forgetting what came before).
    fn start(&self) -> anyhow::Result<()> {
        *self.delays.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Histogram::new_with_bounds(1, 600_000_000, 3)?);
        Ok(())
    }

    fn take(&self) -> Option<Histogram<u64>> {
        self.delays.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

fn main() -> anyhow::Result<()> {
    jangteo::install_tls_provider();
    let args = Args::parse();
    // The embedded server gets its own runtime so that client and server tasks do not share
    // a scheduler queue; on a small machine they still share the cores, which the report says.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.server_threads)
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let _dir;
    let probe = Arc::new(DelayProbe::default());
    let (base, credentials) = match &args.url {
        Some(url) => (url.trim_end_matches('/').to_owned(), None),
        None => {
            let dir = tempfile::tempdir()?;
            let (base, credentials) =
                server_rt.block_on(start_embedded(dir.path(), args.products, probe.clone()))?;
            _dir = dir;
            (base, credentials)
        }
    };
    let mut target = client_rt.block_on(discover(&base))?;
    target.token = match (&args.token, credentials) {
        (Some(t), _) => Some(t.clone()),
        (None, Some((email, password))) => {
            Some(client_rt.block_on(login(&base, &email, &password))?)
        }
        (None, None) => None,
    };
    let writes = [
        Scenario::CatalogWrite,
        Scenario::Checkout,
        Scenario::CheckoutHot,
        Scenario::Purchase,
    ];
    anyhow::ensure!(
        target.token.is_some() || !args.scenarios.iter().any(|s| writes.contains(s)),
        "catalog-write and the checkout scenarios against --url need --token (an admin's access token)"
    );
    if args.scenarios.iter().any(|s| writes[1..].contains(s)) {
        target.shop = Some(client_rt.block_on(prepare_shop(&target))?);
    }
    eprintln!(
        "target {base}: {} sample products, {} categories; {} connections, {} s per scenario",
        target.product_ids.len(),
        target.category_ids.len(),
        args.connections,
        args.duration
    );
    let target = Arc::new(target);
    let mut rows = Vec::new();
    let mut delays = None;
    for scenario in &args.scenarios {
        let warmup = Duration::from_secs((args.duration / 5).max(1));
        client_rt.block_on(run(*scenario, target.clone(), args.connections, warmup))?;
        if *scenario == Scenario::CatalogWrite {
            probe.start()?;
        }
        let result = client_rt.block_on(run(
            *scenario,
            target.clone(),
            args.connections,
            Duration::from_secs(args.duration),
        ))?;
        if *scenario == Scenario::CatalogWrite {
            // Let the relay catch up with the last writes before reading the delays.
            client_rt.block_on(async { tokio::time::sleep(Duration::from_secs(3)).await });
            delays = probe.take();
        }
        rows.push((*scenario, result));
    }
    println!();
    println!(
        "| scenario | connections | requests | req/s | p50 ms | p99 ms | p99.9 ms | max ms | errors |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (scenario, r) in rows {
        let ms = |q: f64| r.latency.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            scenario
                .to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default(),
            args.connections,
            r.requests,
            r.requests as f64 / r.elapsed.as_secs_f64(),
            ms(0.5),
            ms(0.99),
            ms(0.999),
            r.latency.max() as f64 / 1000.0,
            r.errors
        );
    }
    if let Some(d) = delays.filter(|d| !d.is_empty()) {
        let ms = |q: f64| d.value_at_quantile(q) as f64 / 1000.0;
        println!();
        println!("| outbox: commit to subscriber applied | events | p50 ms | p99 ms | max ms |");
        println!("|---|---:|---:|---:|---:|");
        println!(
            "| product_changed (after the search indexer's batch) | {} | {:.2} | {:.2} | {:.2} |",
            d.len(),
            ms(0.5),
            ms(0.99),
            d.max() as f64 / 1000.0
        );
    }
    Ok(())
}

async fn login(base: &str, email: &str, password: &str) -> anyhow::Result<String> {
    let body: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("login answered without an access token")
}

/// Starts a seeded server; returns its base URL and the admin's credentials.
async fn start_embedded(
    dir: &std::path::Path,
    products: u64,
    probe: Arc<DelayProbe>,
) -> anyhow::Result<(String, Option<(String, String)>)> {
    let config = jangteo::Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        demo_catalog: false,
        log_level: "warn".into(),
        ..jangteo::Config::default()
    };
    let app = jangteo::Application::build(
        &config,
        jangteo::Overrides {
            subscribers: vec![probe],
            ..jangteo::Overrides::default()
        },
    )
    .await?;
    let started = Instant::now();
    let opts = jangteo::seed::SeedOptions {
        products,
        sellers: (products / 1_000).clamp(1, 1_000),
        seed: 42,
        progress: true,
    };
    jangteo::seed::seed(app.services(), opts)
        .await
        .context("seeding")?;
    eprintln!(
        "seeded {products} products in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The seed's events feed the index, as a live catalog's writes would.
    let started = Instant::now();
    let services = app.services();
    services
        .outbox()
        .settle(services, Duration::from_secs(24 * 3600))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "indexed {} products for search through the outbox in {:.1} s ({})",
        services.search().num_docs(),
        started.elapsed().as_secs_f64(),
        services.search().analyzer_name()
    );
    let base = format!("http://{}", app.local_addr());
    let credentials = app.admin_credentials.clone();
    tokio::spawn(app.run_until(std::future::pending()));
    Ok((base, credentials))
}

/// Samples product and category ids to request, walking listing pages by keyset.
async fn discover(base: &str) -> anyhow::Result<Target> {
    let http = reqwest::Client::new();
    let tree: Value = http
        .get(format!("{base}/api/v1/categories"))
        .send()
        .await?
        .json()
        .await?;
    let mut category_ids = Vec::new();
    for root in tree["items"].as_array().into_iter().flatten() {
        category_ids.extend(root["id"].as_str().map(str::to_owned));
        for child in root["children"].as_array().into_iter().flatten() {
            category_ids.extend(child["id"].as_str().map(str::to_owned));
        }
    }
    let mut product_ids = Vec::new();
    let mut after: Option<String> = None;
    while product_ids.len() < 2_000 {
        let mut url = format!("{base}/api/v1/products?limit=100");
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let page: Value = http.get(url).send().await?.json().await?;
        for item in page["items"].as_array().into_iter().flatten() {
            product_ids.extend(item["id"].as_str().map(str::to_owned));
        }
        match page["next_cursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    anyhow::ensure!(
        !product_ids.is_empty(),
        "the target has no products on sale: seed it first"
    );
    Ok(Target {
        base: base.to_owned(),
        product_ids,
        category_ids,
        token: None,
        shop: None,
    })
}

/// Tops up the first variant of 200 sampled products with stock (the admin may adjust any
/// product), and gives the buyer (the admin: any account can buy) an address.
async fn prepare_shop(target: &Target) -> anyhow::Result<Shop> {
    let http = reqwest::Client::new();
    let token = target.token.as_deref().unwrap_or_default();
    let base = &target.base;
    let mut variants = Vec::new();
    for pid in target.product_ids.iter().take(CHECKOUT_VARIANTS) {
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
            .bearer_auth(token)
            .json(&serde_json::json!({"delta": 100_000_000, "reason": "RESTOCK"}))
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
    let address: Value = http
        .post(format!("{base}/api/v1/me/addresses"))
        .bearer_auth(token)
        .json(
            &serde_json::json!({"recipient": "벤치 구매자", "phone": "010-0000-0000",
            "postal_code": "06236", "line1": "테헤란로 427"}),
        )
        .send()
        .await?
        .json()
        .await?;
    Ok(Shop {
        variants,
        address_id: address["id"]
            .as_str()
            .context("address without an id")?
            .to_owned(),
    })
}

/// One purchase: place the order, start a payment, confirm it.
async fn purchase(http: &reqwest::Client, target: &Target, variant: &str) -> anyhow::Result<()> {
    let shop = target.shop.as_ref().context("no shop")?;
    let token = target.token.as_deref().unwrap_or_default();
    let base = &target.base;
    let order: Value = ok_json(
        http.post(format!("{base}/api/v1/orders"))
            .bearer_auth(token)
            .json(&serde_json::json!({"address_id": shop.address_id,
                "items": [{"variant_id": variant, "quantity": 1}]}))
            .send()
            .await?,
    )
    .await?;
    let id = order["id"].as_str().context("order id")?;
    let payment: Value = ok_json(
        http.post(format!("{base}/api/v1/orders/{id}/payments"))
            .bearer_auth(token)
            .json(&serde_json::json!({}))
            .send()
            .await?,
    )
    .await?;
    let pid = payment["id"].as_str().context("payment id")?;
    ok_json(
        http.post(format!("{base}/api/v1/payments/{pid}/confirm"))
            .bearer_auth(token)
            .json(&serde_json::json!({"payment_key": payment["payment_key"], "amount": order["total"]}))
            .send()
            .await?,
    )
    .await?;
    Ok(())
}

async fn ok_json(res: reqwest::Response) -> anyhow::Result<Value> {
    anyhow::ensure!(res.status().is_success(), "HTTP {}", res.status());
    Ok(res.json().await?)
}

struct RunResult {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

const SORTS: [&str; 5] = ["newest", "price_asc", "price_desc", "popularity", "rating"];
const QUERIES: [&str; 12] = [
    "한정판",
    "무선 이어폰",
    "노트북",
    "오버핏 티셔츠를",
    "ㅍㅇㅋㄷ",
    "피규어",
    "원두",
    "wireless",
    "premium laptop",
    "sneakres",
    "도서",
    "Vintage",
];

async fn run(
    scenario: Scenario,
    target: Arc<Target>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<RunResult> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            // One client per task: one keep-alive connection each, like a real client.
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?;
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let (mut requests, mut errors) = (0u64, 0u64);
            while Instant::now() < deadline {
                let url = {
                    let mut rng = rand::rng();
                    match scenario {
                        Scenario::Health => format!("{}/healthz", target.base),
                        Scenario::CatalogWrite => format!("{}/api/v1/products", target.base),
                        Scenario::Checkout | Scenario::CheckoutHot | Scenario::Purchase => {
                            format!("{}/api/v1/orders", target.base)
                        }
                        Scenario::ProductDetail => {
                            let id =
                                &target.product_ids[rng.random_range(0..target.product_ids.len())];
                            format!("{}/api/v1/products/{id}", target.base)
                        }
                        Scenario::Search => {
                            let q = QUERIES[rng.random_range(0..QUERIES.len())];
                            format!("{}/api/v1/search?q={q}&size=20", target.base)
                        }
                        Scenario::SearchUncached => {
                            let q = QUERIES[rng.random_range(0..QUERIES.len())];
                            let ceiling: u64 = rng.random_range(100_000_000..1_000_000_000);
                            format!(
                                "{}/api/v1/search?q={q}&size=20&max_price={ceiling}",
                                target.base
                            )
                        }
                        Scenario::Listing => {
                            let sort = SORTS[rng.random_range(0..SORTS.len())];
                            match target.category_ids.is_empty() || rng.random_bool(0.3) {
                                true => {
                                    format!("{}/api/v1/products?sort={sort}&limit=20", target.base)
                                }
                                false => {
                                    let c = &target.category_ids
                                        [rng.random_range(0..target.category_ids.len())];
                                    format!(
                                        "{}/api/v1/products?category={c}&sort={sort}&limit=20",
                                        target.base
                                    )
                                }
                            }
                        }
                    }
                };
                let variant = target.shop.as_ref().map(|shop| match scenario {
                    Scenario::CheckoutHot => shop.variants[0].clone(),
                    _ => shop.variants[rand::rng().random_range(0..shop.variants.len())].clone(),
                });
                if scenario == Scenario::Purchase {
                    let t = Instant::now();
                    let ok = purchase(&http, &target, variant.as_deref().unwrap_or_default())
                        .await
                        .is_ok();
                    hist.saturating_record(t.elapsed().as_micros() as u64);
                    requests += 1;
                    errors += u64::from(!ok);
                    continue;
                }
                let request = match scenario {
                    Scenario::Checkout | Scenario::CheckoutHot => http
                        .post(&url)
                        .bearer_auth(target.token.as_deref().unwrap_or_default())
                        .json(&serde_json::json!({
                            "address_id": target.shop.as_ref().map(|s| s.address_id.as_str()),
                            "items": [{"variant_id": variant, "quantity": 1}],
                        })),
                    Scenario::CatalogWrite => {
                        let n: u64 = rand::rng().random();
                        http.post(&url)
                            .bearer_auth(target.token.as_deref().unwrap_or_default())
                            .json(&serde_json::json!({
                                "name": format!("벤치 상품 {n}"),
                                "price": 1000 + n % 100_000,
                                "status": "ON_SALE",
                                "variants": [{"sku": format!("BENCH-{n:x}"), "name": "기본", "stock": 10}],
                            }))
                    }
                    _ => http.get(&url),
                };
                let t = Instant::now();
                let ok = match request.send().await {
                    Ok(res) => {
                        let ok = res.status().is_success();
                        ok && res.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                hist.saturating_record(t.elapsed().as_micros() as u64);
                requests += 1;
                if !ok {
                    errors += 1;
                }
            }
            anyhow::Ok((requests, errors, hist))
        }));
    }
    let mut total = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut requests, mut errors) = (0, 0);
    for t in tasks {
        let (r, e, h) = t.await??;
        requests += r;
        errors += e;
        total.add(h)?;
    }
    Ok(RunResult {
        requests,
        errors,
        elapsed: started.elapsed(),
        latency: total,
    })
}
