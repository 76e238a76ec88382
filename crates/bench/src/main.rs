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

/// mimalloc instead of the C library's allocator: allocation was a sixth of the CPU of a
/// checkout load with glibc's (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod embedded;
mod report;
mod shop;

use embedded::{DelayProbe, Embedded};
use shop::Shop;

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
    /// POST /api/v1/orders ("buy now") of one unit of a random one of 200 plentiful
    /// variants: stock reserved, order written, events queued, nothing paid.
    Place,
    /// The same, every customer after one unit of the same variant: the hot row.
    PlaceHot,
    /// Whole purchases: each connection a customer who adds a unit of a random one of 200
    /// plentiful variants to the cart, orders the cart, starts a fake payment and confirms
    /// it; reports paid orders/s, every step's latency and what the database says after.
    Checkout,
    /// The same loop with every customer buying the same variant: the hot row.
    CheckoutHot,
}

impl Scenario {
    fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }

    /// Scenarios that need the shop prepared (stock, customers): embedded server only.
    fn buys(self) -> bool {
        matches!(
            self,
            Scenario::Place | Scenario::PlaceHot | Scenario::Checkout | Scenario::CheckoutHot
        )
    }
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
    #[arg(long, conflicts_with = "database_url")]
    url: Option<String>,
    /// Run the embedded server on a fresh database of its own on this PostgreSQL or MySQL
    /// server (created for the run, dropped at the end) instead of on SQLite, e.g.
    /// postgres://postgres@127.0.0.1:5432/test.
    #[arg(long)]
    database_url: Option<String>,
    /// Connections of the embedded server's pool on PostgreSQL/MySQL (default: the
    /// server's own default).
    #[arg(long)]
    pool: Option<u32>,
    /// Products to seed into the embedded server.
    #[arg(long, default_value_t = 100_000)]
    products: u64,
    /// Concurrent keep-alive connections (in the checkout scenarios: customers).
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
    /// For the buying scenarios: variants topped up with stock, and the customers.
    shop: Option<Shop>,
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
    let dir = tempfile::tempdir()?;
    let probe = Arc::new(DelayProbe::default());
    let embedded = match &args.url {
        Some(_) => None,
        None => Some(server_rt.block_on(Embedded::start(
            dir.path(),
            args.products,
            args.database_url.as_deref(),
            args.pool,
            probe.clone(),
        ))?),
    };
    let result = measure(&args, embedded.as_ref(), &probe, &server_rt, &client_rt);
    if let Some(e) = &embedded {
        server_rt.block_on(e.drop_database())?;
    }
    result
}

fn measure(
    args: &Args,
    embedded: Option<&Embedded>,
    probe: &DelayProbe,
    server_rt: &tokio::runtime::Runtime,
    client_rt: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    let base = match (&args.url, embedded) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(e)) => e.base.clone(),
        (None, None) => anyhow::bail!("no server to measure"),
    };
    let mut target = client_rt.block_on(discover(&base))?;
    target.token = match (&args.token, embedded.and_then(|e| e.credentials.clone())) {
        (Some(t), _) => Some(t.clone()),
        (None, Some((email, password))) => {
            Some(client_rt.block_on(login(&base, &email, &password))?)
        }
        (None, None) => None,
    };
    anyhow::ensure!(
        target.token.is_some() || !args.scenarios.contains(&Scenario::CatalogWrite),
        "catalog-write against --url needs --token (an admin's or seller's access token)"
    );
    if args.scenarios.iter().any(|s| s.buys()) {
        let e = embedded.context(
            "the buying scenarios run on the embedded server (it writes their customers \
             to the database): leave out --url, add --database-url for PostgreSQL or MySQL",
        )?;
        target.shop = Some(server_rt.block_on(shop::prepare(
            &e.services,
            &base,
            target.token.as_deref().unwrap_or_default(),
            &target.product_ids,
            args.connections,
        ))?);
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
    let mut checkouts = Vec::new();
    let mut delays = None;
    let warmup = Duration::from_secs((args.duration / 5).max(1));
    let measured = Duration::from_secs(args.duration);
    for &scenario in &args.scenarios {
        if matches!(scenario, Scenario::Checkout | Scenario::CheckoutHot) {
            let shop = target.shop.as_ref().context("no shop")?;
            let hot = scenario == Scenario::CheckoutHot;
            client_rt.block_on(shop::run(&target.base, shop, hot, warmup))?;
            let e = embedded.context("no embedded server")?;
            let groups_before = e.services.group_commits();
            let mut run = client_rt.block_on(shop::run(&target.base, shop, hot, measured))?;
            run.group_commits =
                groups_before
                    .zip(e.services.group_commits())
                    .map(|(a, b)| shop::GroupCommits {
                        commits: b.commits - a.commits,
                        transactions: b.transactions - a.transactions,
                        writer_busy: (b.held - a.held).as_secs_f64() / run.elapsed.as_secs_f64(),
                    });
            let audit = server_rt.block_on(shop::audit(&e.services, &run.paid_orders))?;
            checkouts.push((scenario, run, audit));
            continue;
        }
        client_rt.block_on(run(scenario, target.clone(), args.connections, warmup))?;
        if scenario == Scenario::CatalogWrite {
            probe.start()?;
        }
        let result =
            client_rt.block_on(run(scenario, target.clone(), args.connections, measured))?;
        if scenario == Scenario::CatalogWrite {
            // Let the relay catch up with the last writes before reading the delays.
            client_rt.block_on(async { tokio::time::sleep(Duration::from_secs(3)).await });
            delays = probe.take();
        }
        rows.push((scenario, result));
    }
    let backend = match embedded {
        Some(e) => jangteo_store::Backend::of(e.services.db()).name(),
        None => "--url",
    };
    report::requests(backend, args.connections, &rows);
    report::checkouts(backend, args.connections, &checkouts);
    if let Some(d) = delays.filter(|d| !d.is_empty()) {
        report::delays(&d);
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

pub struct RunResult {
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub latency: Histogram<u64>,
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
    for task in 0..connections {
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
                        Scenario::Place | Scenario::PlaceHot => {
                            format!("{}/api/v1/orders", target.base)
                        }
                        Scenario::Checkout | Scenario::CheckoutHot => {
                            anyhow::bail!("{} is run by shop::run", scenario.name())
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
                let request = match (scenario, &target.shop) {
                    (Scenario::Place | Scenario::PlaceHot, Some(shop)) => {
                        let customer = &shop.customers[task % shop.customers.len()];
                        let variant = match scenario {
                            Scenario::PlaceHot => &shop.variants[0],
                            _ => &shop.variants[rand::rng().random_range(0..shop.variants.len())],
                        };
                        http.post(&url).bearer_auth(&customer.token).json(&serde_json::json!({
                            "address_id": customer.address_id,
                            "items": [{"variant_id": variant, "quantity": 1}],
                        }))
                    }
                    (Scenario::CatalogWrite, _) => {
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
