//! The Markdown tables the benchmark prints.

use hdrhistogram::Histogram;

use crate::shop::{Audit, CheckoutRun, STEPS};
use crate::{RunResult, Scenario};

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// One row per request scenario.
pub fn requests(backend: &str, connections: usize, rows: &[(Scenario, RunResult)]) {
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "| engine | scenario | connections | requests | req/s | p50 ms | p99 ms | p99.9 ms | max ms | errors |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (scenario, r) in rows {
        println!(
            "| {backend} | {} | {connections} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            scenario.name(),
            r.requests,
            r.requests as f64 / r.elapsed.as_secs_f64(),
            ms(&r.latency, 0.5),
            ms(&r.latency, 0.99),
            ms(&r.latency, 0.999),
            r.latency.max() as f64 / 1000.0,
            r.errors
        );
    }
}

/// Per checkout scenario: paid orders/s and the audit, then a row per step.
pub fn checkouts(backend: &str, customers: usize, runs: &[(Scenario, CheckoutRun, Audit)]) {
    if runs.is_empty() {
        return;
    }
    println!();
    println!(
        "| engine | scenario | customers | paid orders | paid orders/s | statements per paid order | write transactions per commit | writer busy | failed purchases | oversold | charges without an order | mails queued at the end |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (scenario, run, audit) in runs {
        println!(
            "| {backend} | {} | {customers} | {} | {:.0} | {:.1} | {} | {} | {} | {} | {} | {} |",
            scenario.name(),
            run.paid,
            run.paid as f64 / run.elapsed.as_secs_f64(),
            run.statements as f64 / run.paid.max(1) as f64,
            run.group_commits
                .as_ref()
                .map_or("1 (no groups)".to_owned(), |g| format!(
                    "{:.1}",
                    g.transactions as f64 / g.commits.max(1) as f64
                )),
            run.group_commits
                .as_ref()
                .map_or("—".to_owned(), |g| format!(
                    "{:.0}%",
                    g.writer_busy * 100.0
                )),
            run.failed,
            audit.oversold,
            audit.charges_without_order,
            audit.mails_queued
        );
    }
    println!();
    println!("| scenario | step | requests | p50 ms | p99 ms | p99.9 ms | max ms | errors |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (scenario, run, _) in runs {
        for (name, (h, errors)) in STEPS.iter().zip(&run.steps) {
            println!(
                "| {} | {name} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {errors} |",
                scenario.name(),
                h.len(),
                ms(h, 0.5),
                ms(h, 0.99),
                ms(h, 0.999),
                h.max() as f64 / 1000.0,
            );
        }
    }
}

/// The outbox delay the catalog-write scenario measured.
pub fn delays(d: &Histogram<u64>) {
    println!();
    println!("| outbox: commit to subscriber applied | events | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| product_changed (after the search indexer's batch) | {} | {:.2} | {:.2} | {:.2} |",
        d.len(),
        ms(d, 0.5),
        ms(d, 0.99),
        d.max() as f64 / 1000.0
    );
}
