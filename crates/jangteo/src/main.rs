//! `jangteo`: serve the shop, migrate the database, manage admins.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use jangteo::{Application, Config, Overrides, startup, telemetry};

#[derive(Parser)]
#[command(
    name = "jangteo",
    version,
    about = "A headless commerce engine. With no command, serves the shop."
)]
struct Cli {
    /// Configuration file (default: ./jangteo.toml if it exists).
    #[arg(long, global = true, env = "JANGTEO_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

/// mimalloc instead of the C library's allocator: allocation was a sixth of the CPU of a
/// checkout load with glibc's (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080 (overrides JANGTEO_LISTEN).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Generate a demo catalog (categories, sellers, products with variants and stock).
    Seed {
        /// How many products to create.
        #[arg(long, default_value_t = 1_000)]
        products: u64,
        /// How many sellers own them (default: one per 1,000 products, at least 1).
        #[arg(long)]
        sellers: Option<u64>,
        /// Random seed; the same seed gives the same catalog.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Rebuild the search index from the database (stop the server first: the index has
    /// one writer).
    Reindex,
    /// Check that every variant's stock equals its initial stock plus its ledger; exits 1
    /// with a report if not.
    Audit,
    /// Manage admin accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Inspect the outbox and retry events parked after failed deliveries.
    Events {
        #[command(subcommand)]
        command: QueueCommand,
    },
    /// Inspect durable jobs and retry parked ones.
    Jobs {
        #[command(subcommand)]
        command: QueueCommand,
    },
}

#[derive(Subcommand)]
enum QueueCommand {
    /// List entries, newest events / earliest jobs first (default: the failed ones).
    List {
        /// pending, failed (and, for events, delivered).
        #[arg(long, default_value = "failed")]
        status: String,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Put failed (parked) entries back in the queue: all of them, or the one named. A
    /// running server picks them up within its poll interval.
    Retry {
        #[arg(long)]
        id: Option<uuid::Uuid>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a verified admin account. Without --password a random one is printed.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, env = "JANGTEO_ADMIN_PASSWORD")]
        password: Option<String>,
    },
}

fn main() -> ExitCode {
    jangteo_services::install_tls_provider();
    let cli = Cli::parse();
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("jangteo: {e:#}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log_format, &config.log_level);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("jangteo: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve { listen: None }) {
            Command::Serve { listen } => {
                if let Some(listen) = listen {
                    config.listen = listen;
                }
                serve(config).await.map(|()| ExitCode::SUCCESS)
            }
            Command::Migrate => migrate(config).await.map(|()| ExitCode::SUCCESS),
            Command::Audit => audit(config).await,
            Command::Reindex => reindex(config).await,
            Command::Seed {
                products,
                sellers,
                seed,
            } => seed_catalog(config, products, sellers, seed).await,
            Command::Events { command } => events(config, command).await,
            Command::Jobs { command } => jobs(config, command).await,
            Command::Admin {
                command: AdminCommand::Create { email, password },
            } => admin_create(config, email, password)
                .await
                .map(|()| ExitCode::SUCCESS),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "jangteo failed");
            eprintln!("jangteo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(&config, Overrides::default()).await?;
    if let Some((email, password)) = &app.admin_credentials {
        println!(
            "\n  jangteo created the first admin account. Save these credentials; they are not shown again.\n\
             \n    email:    {email}\n    password: {password}\n"
        );
    }
    if app.admin_credentials.is_some() && config.demo_catalog && config.database_url.is_none() {
        let opts = jangteo::seed::SeedOptions {
            products: 200,
            sellers: 3,
            seed: 42,
            progress: false,
        };
        let report = jangteo::seed::seed(app.services(), opts).await?;
        println!(
            "  A demo catalog of {} products was added (set demo_catalog = false to skip).\n",
            report.products
        );
    }
    match app.services().search_catch_up().await {
        Ok(Some(n)) => tracing::info!(
            documents = n,
            analyzer = app.services().search().analyzer_name(),
            "search index rebuilt"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "search index not rebuilt; run `jangteo reindex`"),
    }
    let addr = app.local_addr();
    tracing::info!(
        listen = %addr,
        database = jangteo_store::Backend::from_url(&config.database_url()).map_or("?", |b| b.name()),
        docs = format!("http://{addr}/docs"),
        "jangteo is serving"
    );
    app.run_until(startup::shutdown_signal()).await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = startup::open_database(&config).await?;
    for name in jangteo_store::applied_migrations(&db).await? {
        println!("applied {name}");
    }
    Ok(())
}

async fn admin_create(
    config: Config,
    email: String,
    password: Option<String>,
) -> anyhow::Result<()> {
    let db = startup::open_database(&config).await?;
    let services = startup::services_without_search(&config, db)?;
    let generated = password.is_none();
    let password =
        password.unwrap_or_else(|| jangteo_services::tokens::new_refresh_token()[..20].to_owned());
    let admin = services
        .accounts()
        .create_admin(&email, &password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("created admin {} ({})", admin.email, admin.id);
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

async fn events(config: Config, command: QueueCommand) -> anyhow::Result<ExitCode> {
    use jangteo_store::outbox::EventStatus;
    let db = startup::open_database(&config).await?;
    let services = startup::services_without_search(&config, db)?;
    match command {
        QueueCommand::List { status, limit } => {
            let status = EventStatus::parse(&status)
                .ok_or_else(|| anyhow::anyhow!("--status must be pending, delivered or failed"))?;
            let events = services
                .outbox_events(Some(status), None, limit)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for e in &events {
                println!(
                    "{}  {}  {:<16}  attempts {}  {}",
                    e.id,
                    e.created_at.format("%Y-%m-%d %H:%M:%S"),
                    e.kind,
                    e.attempts,
                    e.last_error.as_deref().unwrap_or("")
                );
            }
            println!("{} {} event(s)", events.len(), status.as_str());
        }
        QueueCommand::Retry { id } => {
            let n = services
                .retry_events(id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{n} failed event(s) back to pending");
            if id.is_some() && n == 0 {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn jobs(config: Config, command: QueueCommand) -> anyhow::Result<ExitCode> {
    use jangteo_store::jobs::JobStatus;
    let db = startup::open_database(&config).await?;
    let services = startup::services_without_search(&config, db)?;
    match command {
        QueueCommand::List { status, limit } => {
            let status = JobStatus::parse(&status)
                .ok_or_else(|| anyhow::anyhow!("--status must be pending or failed"))?;
            let jobs = services
                .jobs_list(Some(status), limit)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for j in &jobs {
                println!(
                    "{}  due {}  {:<20}  attempts {}/{}  {}",
                    j.id,
                    j.due_at.format("%Y-%m-%d %H:%M:%S"),
                    j.kind,
                    j.attempts,
                    j.max_attempts,
                    j.last_error.as_deref().unwrap_or("")
                );
            }
            println!("{} {} job(s)", jobs.len(), status.as_str());
        }
        QueueCommand::Retry { id } => {
            let n = services
                .retry_jobs(id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{n} failed job(s) back in the queue");
            if id.is_some() && n == 0 {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn audit(config: Config) -> anyhow::Result<ExitCode> {
    let db = startup::open_database(&config).await?;
    let services = startup::services_without_search(&config, db)?;
    let (checked, findings) = services
        .inventory()
        .audit()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if findings.is_empty() {
        println!("inventory audit: {checked} variants checked, every stock matches its ledger");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "inventory audit: {} of {checked} variants do not match their ledger or are negative",
        findings.len()
    );
    for f in &findings {
        let (sku, id, stock) = (&f.sku, f.variant_id, f.stock);
        let (initial, ledger, expected) = (f.initial_stock, f.ledger_sum, f.expected());
        if i128::from(stock) == expected {
            println!(
                "  {sku} ({id}): stock {stock} is negative (initial {initial} + ledger {ledger})"
            );
        } else {
            let negative = if f.is_negative() { " (negative)" } else { "" };
            println!(
                "  {sku} ({id}): stock {stock}{negative} but initial {initial} + ledger {ledger} = {expected}"
            );
        }
    }
    Ok(ExitCode::from(1))
}

async fn seed_catalog(
    config: Config,
    products: u64,
    sellers: Option<u64>,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    let db = startup::open_database(&config).await?;
    let services = startup::services_without_search(&config, db)?;
    let opts = jangteo::seed::SeedOptions {
        products,
        sellers: sellers.unwrap_or((products / 1_000).clamp(1, 1_000)),
        seed,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let report = jangteo::seed::seed(&services, opts).await?;
    println!(
        "seeded {} products ({} variants, {} sellers) in {:.1} s",
        report.products,
        report.variants,
        report.sellers,
        report.elapsed.as_secs_f64()
    );
    println!(
        "a running server indexes them within its poll interval (one that is stopped, when it starts)"
    );
    Ok(ExitCode::SUCCESS)
}

async fn reindex(config: Config) -> anyhow::Result<ExitCode> {
    let db = startup::open_database(&config).await?;
    let services = startup::services(&config, db, Overrides::default())?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} indexed {pos} products ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = std::time::Instant::now();
    let n = services
        .reindex(|done| bar.set_position(done))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    println!(
        "reindexed {n} products in {:.1} s (analyzer: {})",
        started.elapsed().as_secs_f64(),
        services.search().analyzer_name()
    );
    Ok(ExitCode::SUCCESS)
}
