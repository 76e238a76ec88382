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
}

struct Target {
    base: String,
    product_ids: Vec<String>,
    category_ids: Vec<String>,
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
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let dir = tempfile::tempdir()?;
            let base = server_rt.block_on(start_embedded(dir.path(), args.products))?;
            _dir = dir;
            base
        }
    };
    let target = client_rt.block_on(discover(&base))?;
    eprintln!(
        "target {base}: {} sample products, {} categories; {} connections, {} s per scenario",
        target.product_ids.len(),
        target.category_ids.len(),
        args.connections,
        args.duration
    );
    let target = Arc::new(target);
    let mut rows = Vec::new();
    for scenario in &args.scenarios {
        let warmup = Duration::from_secs((args.duration / 5).max(1));
        client_rt.block_on(run(*scenario, target.clone(), args.connections, warmup))?;
        let result = client_rt.block_on(run(
            *scenario,
            target.clone(),
            args.connections,
            Duration::from_secs(args.duration),
        ))?;
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
    Ok(())
}

async fn start_embedded(dir: &std::path::Path, products: u64) -> anyhow::Result<String> {
    let config = jangteo::Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        demo_catalog: false,
        log_level: "warn".into(),
        ..jangteo::Config::default()
    };
    let app = jangteo::Application::build(&config, jangteo::Overrides::default()).await?;
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
    let started = Instant::now();
    let indexed = app
        .services()
        .reindex(|_| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "indexed {indexed} products for search in {:.1} s ({})",
        started.elapsed().as_secs_f64(),
        app.services().search.analyzer_name()
    );
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    Ok(base)
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
    })
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
                let t = Instant::now();
                let ok = match http.get(&url).send().await {
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
