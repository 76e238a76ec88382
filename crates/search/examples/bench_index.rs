//! Measures indexing and query latency on a synthetic catalog, for docs/search.md.
//! Usage: [JANGTEO_KO_DIC=data/ko-dic] bench_index [DOCS] [WRITER_THREADS]
//! Build with --release for meaningful numbers. Runs the bigram analyzer, and the
//! morphological one too when JANGTEO_KO_DIC is set.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use jangteo_search::{
    Filters, IndexOptions, KoreanAnalyzer, ProductDocument, SearchIndex, SearchRequest, Sort,
    dictionary,
};

#[rustfmt::skip]
const NOUNS: &[&str] = &[
    "한정판", "도서", "무선", "이어폰", "키보드", "노트북", "가방", "운동화", "텀블러", "커피",
    "원두", "소설", "에세이", "만년필", "스피커", "충전기", "케이블", "모니터", "의자", "책상",
    "향수", "립스틱", "선크림", "티셔츠", "청바지", "패딩", "우산", "캠핑", "텐트", "자전거",
    "헤드폰", "마우스", "카메라", "렌즈", "시계", "지갑", "화분", "그릇", "냄비", "프라이팬",
];
#[rustfmt::skip]
const ADJECTIVES: &[&str] = &[
    "프리미엄", "초경량", "대용량", "휴대용", "신상", "기본", "고급", "미니", "접이식", "친환경",
];
#[rustfmt::skip]
const LATIN: &[&str] = &[
    "Pro", "Max", "Ultra", "Edition", "Wireless", "Classic", "Limited", "Mechanical", "Bluetooth",
    "Organic", "Vintage", "Compact", "Deluxe", "Sport", "Travel",
];
#[rustfmt::skip]
const BRANDS: &[&str] = &[
    "삼성전자", "엘지전자", "나이키", "아디다스", "로지텍", "애플", "무인양품", "이케아", "김작가",
    "박시인", "Sony", "Anker", "Lamy", "Moleskine", "Patagonia",
];
#[rustfmt::skip]
const CATEGORIES: &[(&str, &str)] = &[
    ("c-books", "도서"),
    ("c-novel", "소설"),
    ("c-elec", "전자기기"),
    ("c-audio", "음향기기"),
    ("c-fashion", "패션"),
    ("c-shoes", "신발"),
    ("c-kitchen", "주방용품"),
    ("c-outdoor", "아웃도어"),
    ("c-beauty", "뷰티"),
    ("c-office", "문구"),
];
#[rustfmt::skip]
const SELLERS: &[&str] = &[
    "문학동네", "민음사", "한빛미디어", "쿠팡", "무신사", "오늘의집", "Press Co", "Good Store",
];

/// A tiny deterministic generator, so runs are comparable without a rand dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() % items.len()]
    }
}

fn synthetic(n: usize) -> Vec<ProductDocument> {
    let mut rng = Lcg(42);
    (0..n)
        .map(|i| {
            let mut title = vec![rng.pick(ADJECTIVES).to_string()];
            for _ in 0..1 + rng.next() % 3 {
                title.push(rng.pick(NOUNS).to_string());
            }
            if rng.next().is_multiple_of(3) {
                title.push(rng.pick(LATIN).to_string());
            }
            title.push(format!("{}", i % 997));
            let parent = rng.next() % 5 * 2;
            let (pid, pname) = CATEGORIES[parent];
            let (cid, cname) = CATEGORIES[parent + 1];
            ProductDocument {
                id: format!("p{i:08}"),
                title: title.join(" "),
                brands: vec![rng.pick(BRANDS).to_string()],
                categories: vec![pname.into(), cname.into()],
                publishers: vec![rng.pick(SELLERS).to_string()],
                category_ids: vec![pid.into(), cid.into()],
                price: 1_000 + (rng.next() % 500) as u64 * 100,
                in_stock: !rng.next().is_multiple_of(10),
                created_at_ms: 1_700_000_000_000 + i as i64 * 1_000,
                popularity: (rng.next() % 10_000) as u64,
            }
        })
        .collect()
}

fn requests() -> Vec<(&'static str, SearchRequest)> {
    let text = |q: &str| SearchRequest::new(q);
    let filtered = |q: &str| SearchRequest {
        query: q.into(),
        filters: Filters {
            category_id: Some("c-elec".into()),
            price_min: Some(10_000),
            price_max: Some(40_000),
            in_stock_only: true,
        },
        ..SearchRequest::default()
    };
    let sorted = |q: &str, sort| SearchRequest {
        query: q.into(),
        sort,
        ..SearchRequest::default()
    };
    vec![
        ("one word", text("이어폰")),
        ("two words", text("무선 이어폰")),
        ("with particle", text("한정판 도서를")),
        ("compound", text("삼성전자")),
        ("latin", text("wireless")),
        ("latin typo", text("wireles")),
        ("chosung", text("ㅎㅈㅍ")),
        ("filtered", filtered("키보드")),
        ("sorted price", sorted("가방", Sort::PriceAsc)),
        ("browse newest", sorted("", Sort::Newest)),
        ("no match->relaxed", text("한정판 자동차")),
        ("deep page", {
            let mut r = text("프리미엄");
            r.page = 49;
            r.size = 20;
            r
        }),
    ]
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run(
    analyzer: KoreanAnalyzer,
    docs: &[ProductDocument],
    threads: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let tmp = std::env::temp_dir().join(format!(
        "jangteo-bench-{}-{}",
        analyzer.kind().as_str(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let options = IndexOptions {
        writer_threads: threads,
        writer_memory_bytes: 128 * 1024 * 1024,
    };
    println!("\n== analyzer {} ==", analyzer.kind().as_str());
    let started = Instant::now();
    let index = SearchIndex::open_or_create_with(&tmp, analyzer, options)?;
    let indexed = index.rebuild(docs.iter().cloned())?;
    let took = started.elapsed();
    println!(
        "indexed {indexed} docs in {:.1} s ({:.0} docs/s, {threads} writer thread(s)); on disk {:.1} MB",
        took.as_secs_f64(),
        indexed as f64 / took.as_secs_f64(),
        dir_size(&tmp) as f64 / 1e6
    );

    let rounds = 30;
    let mut all = Vec::new();
    println!(
        "{:<18} {:>8} {:>9} {:>9} {:>9}",
        "query", "hits", "p50 ms", "p99 ms", "max ms"
    );
    for (name, request) in requests() {
        let mut times = Vec::with_capacity(rounds);
        let mut total = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            total = index.search(&request)?.total;
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "{name:<18} {total:>8} {:>9.2} {:>9.2} {:>9.2}",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(*times.last().unwrap_or(&Duration::ZERO))
        );
        all.extend(times);
    }
    let mut ac = Vec::new();
    for typed in ["한정", "ㅎㅈ", "wire", "프리미엄 무"] {
        for _ in 0..rounds {
            let t = Instant::now();
            index.autocomplete(typed, 10)?;
            ac.push(t.elapsed());
        }
    }
    all.sort();
    ac.sort();
    println!(
        "all searches: p50 {:.2} ms, p99 {:.2} ms; autocomplete: p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        ms(percentile(&ac, 0.5)),
        ms(percentile(&ac, 0.99))
    );
    drop(index);
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let docs = synthetic(n);
    let mut analyzers = vec![KoreanAnalyzer::bigram()];
    if let Some(dir) = dictionary::dir_from_env() {
        let t = Instant::now();
        match KoreanAnalyzer::with_dictionary(&dir) {
            Ok(a) => {
                println!(
                    "dictionary loaded in {:.0} ms",
                    t.elapsed().as_secs_f64() * 1e3
                );
                analyzers.push(a);
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    for analyzer in analyzers {
        if let Err(e) = run(analyzer, &docs, threads) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
