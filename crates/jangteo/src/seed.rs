//! Demo data: `jangteo seed --products N` writes a realistic catalog — a category tree,
//! sellers, products with Korean and English names, variants with stock — in bulk batches,
//! fast enough for a million products. Deterministic for a given seed so benchmark runs
//! are comparable.

use std::time::Instant;

use anyhow::Context;
use chrono::{Duration, Utc};
use jangteo_core::catalog::ProductStatus;
use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{ApplicationId, CategoryId, ProductId, UserId, VariantId};
use jangteo_core::money::{Currency, Money};
use jangteo_core::{Email, Role};
use jangteo_services::Services;
use jangteo_store::accounts::User;
use jangteo_store::catalog::{Product, Variant};
use jangteo_store::sellers::Seller;
use jangteo_store::{TransactionTrait, accounts, catalog, sellers};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// Products written per transaction: 1,000 products with ~2,000 variants stays well under
/// every engine's bind-parameter limit.
const BATCH: usize = 1_000;
const YEAR_MS: i64 = 365 * 86_400_000;

/// (name, slug) of a category.
type Named = (&'static str, &'static str);

const CATEGORY_TREE: &[(&str, &str, &[Named])] = &[
    (
        "도서",
        "books",
        &[
            ("소설", "novels"),
            ("만화", "comics"),
            ("에세이", "essays"),
            ("IT 도서", "it-books"),
        ],
    ),
    (
        "패션",
        "fashion",
        &[("티셔츠", "t-shirts"), ("신발", "shoes"), ("가방", "bags")],
    ),
    (
        "전자기기",
        "electronics",
        &[
            ("이어폰", "earphones"),
            ("노트북", "laptops"),
            ("스마트워치", "smartwatches"),
        ],
    ),
    (
        "굿즈",
        "goods",
        &[
            ("포토카드", "photo-cards"),
            ("피규어", "figures"),
            ("앨범", "albums"),
        ],
    ),
    ("식품", "food", &[("커피", "coffee"), ("간식", "snacks")]),
    (
        "Sports",
        "sports",
        &[("Running", "running"), ("Camping", "camping")],
    ),
];

const KO_ADJECTIVES: &[&str] = &[
    "한정판",
    "무선",
    "오버핏",
    "프리미엄",
    "초판",
    "친환경",
    "빈티지",
    "미니",
    "대용량",
    "휴대용",
    "고급",
    "신상",
];
const EN_ADJECTIVES: &[&str] = &[
    "Limited",
    "Wireless",
    "Classic",
    "Premium",
    "Vintage",
    "Compact",
    "Organic",
    "Signature",
    "Ultra",
    "Deluxe",
];
const NOUNS: &[(&str, &str, usize)] = &[
    // (Korean, English, root category index)
    ("도서", "Book", 0),
    ("소설", "Novel", 0),
    ("만화책", "Comic", 0),
    ("티셔츠", "T-Shirt", 1),
    ("운동화", "Sneakers", 1),
    ("백팩", "Backpack", 1),
    ("이어폰", "Earphones", 2),
    ("노트북", "Laptop", 2),
    ("스마트워치", "Smartwatch", 2),
    ("포토카드", "Photo Card", 3),
    ("피규어", "Figure", 3),
    ("앨범", "Album", 3),
    ("원두", "Coffee Beans", 4),
    ("쿠키", "Cookies", 4),
    ("러닝화", "Running Shoes", 5),
    ("텐트", "Tent", 5),
];
const BRANDS: &[&str] = &[
    "장터",
    "한빛",
    "삼성전자",
    "무신사",
    "Acme",
    "Northwind",
    "김작가",
    "이작가",
    "Studio Ghibli",
    "모나미",
];
const PUBLISHERS: &[&str] = &[
    "장터출판",
    "한빛미디어",
    "민음사",
    "창비",
    "Penguin",
    "O'Reilly",
];
const SIZES: &[&str] = &["S", "M", "L", "XL"];
const COLORS: &[(&str, &str)] = &[
    ("검정", "black"),
    ("흰색", "white"),
    ("빨강", "red"),
    ("파랑", "blue"),
];

#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub products: u64,
    pub sellers: u64,
    pub seed: u64,
    pub progress: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct SeedReport {
    pub products: u64,
    pub variants: u64,
    pub sellers: u64,
    pub elapsed: std::time::Duration,
}

/// Creates the category tree if missing and returns leaf categories (with their root index).
async fn ensure_categories(services: &Services) -> anyhow::Result<Vec<(usize, CategoryId)>> {
    let catalog = services.catalog();
    let existing = jangteo_store::catalog::list_categories(services.db()).await?;
    let mut leaves = Vec::new();
    for (root_index, (name, slug, children)) in CATEGORY_TREE.iter().enumerate() {
        let root = match existing.iter().find(|c| c.slug == *slug) {
            Some(c) => c.id,
            None => {
                catalog
                    .create_category(Some(name), Some(slug), None, Some(root_index as i32))
                    .await?
                    .id
            }
        };
        for (i, (cname, cslug)) in children.iter().enumerate() {
            let id = match existing.iter().find(|c| c.slug == *cslug) {
                Some(c) => c.id,
                None => {
                    catalog
                        .create_category(Some(cname), Some(cslug), Some(root), Some(i as i32))
                        .await?
                        .id
                }
            };
            leaves.push((root_index, id));
        }
    }
    Ok(leaves)
}

async fn create_sellers(services: &Services, count: u64) -> anyhow::Result<Vec<UserId>> {
    // One hash for every demo seller: argon2 is deliberately slow and these accounts exist
    // to own products, not to log in.
    let hash = jangteo_services::passwords::hash("seed seller password".into()).await?;
    let now = Utc::now();
    // Unique per run (not from the seeded RNG), so seeding twice adds sellers instead of
    // colliding with the first run's e-mails and shop names.
    let run =
        u32::from_str_radix(&Uuid::new_v4().simple().to_string()[..8], 16).unwrap_or_default();
    let mut ids = Vec::new();
    let txn = services.db().begin().await?;
    let mut user_rows = Vec::new();
    let mut seller_rows = Vec::new();
    for i in 0..count {
        let user = User {
            email_verified_at: Some(now),
            ..User::new(
                Email::from_trusted(format!("seller{i}.{run:08x}@seed.jangteo.local")),
                Some(hash.clone()),
                Some(format!("판매자 {i}")),
                Role::Seller,
                now,
            )
        };
        ids.push(user.id);
        seller_rows.push(Seller {
            user_id: user.id,
            shop_name: format!("{} 상점 {i}-{run:08x}", BRANDS[i as usize % BRANDS.len()]),
            business_number: "2208162517".into(),
            application_id: ApplicationId::new(),
            created_at: now,
        });
        user_rows.push(user);
        if user_rows.len() == BATCH {
            accounts::insert_users(&txn, std::mem::take(&mut user_rows)).await?;
            sellers::insert_sellers(&txn, std::mem::take(&mut seller_rows)).await?;
        }
    }
    accounts::insert_users(&txn, user_rows).await?;
    sellers::insert_sellers(&txn, seller_rows).await?;
    txn.commit().await?;
    Ok(ids)
}

pub async fn seed(services: &Services, opts: SeedOptions) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let leaves = ensure_categories(services)
        .await
        .context("creating categories")?;
    let seller_ids = create_sellers(services, opts.sellers.max(1))
        .await
        .context("creating sellers")?;
    let bar = if opts.progress {
        indicatif::ProgressBar::new(opts.products)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} seeding [{bar:40}] {pos}/{len} products ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let now = Utc::now();
    let mut variants_written = 0u64;
    let mut done = 0u64;
    while done < opts.products {
        let n = (opts.products - done).min(BATCH as u64);
        let mut product_rows = Vec::with_capacity(n as usize);
        let mut variant_rows = Vec::with_capacity(2 * n as usize);
        let mut link_rows = Vec::with_capacity(2 * n as usize);
        for i in 0..n {
            // Spread creation evenly over the last year, oldest first, with jitter inside
            // each product's slot. v7 ids carry that time (so "newest" sorts match
            // created_at) and therefore increase: every index on the id appends instead of
            // inserting at random places in a tree that outgrows the cache.
            let slot = YEAR_MS / opts.products.max(1) as i64;
            let offset = (done + i) as i64 * YEAR_MS / opts.products.max(1) as i64
                + rng.random_range(0..slot.max(1));
            let created = now - Duration::milliseconds(YEAR_MS - offset);
            let ts = uuid::Timestamp::from_unix(
                uuid::NoContext,
                created.timestamp() as u64,
                created.timestamp_subsec_nanos(),
            );
            let id = ProductId::from_uuid(Uuid::new_v7(ts));
            let (ko, en, root) = NOUNS[rng.random_range(0..NOUNS.len())];
            let korean = rng.random_bool(0.7);
            let name = if korean {
                format!(
                    "{} {} {}",
                    KO_ADJECTIVES[rng.random_range(0..KO_ADJECTIVES.len())],
                    ko,
                    rng.random_range(1..100)
                )
            } else {
                format!(
                    "{} {} {}",
                    EN_ADJECTIVES[rng.random_range(0..EN_ADJECTIVES.len())],
                    en,
                    rng.random_range(1..100)
                )
            };
            let price = rng.random_range(10..3_000) * 100;
            let status = match rng.random_range(0..100) {
                0..90 => ProductStatus::OnSale,
                90..95 => ProductStatus::SoldOut,
                _ => ProductStatus::Draft,
            };
            let rating_count: i64 = rng.random_range(0..500);
            let rating_avg_x100: i32 = if rating_count == 0 {
                0
            } else {
                rng.random_range(250..=500)
            };
            let seller_id = seller_ids[rng.random_range(0..seller_ids.len())];
            let description = format!("{name} — jangteo demo product.");
            let brand = Some(BRANDS[rng.random_range(0..BRANDS.len())].to_owned());
            let publisher =
                (root == 0).then(|| PUBLISHERS[rng.random_range(0..PUBLISHERS.len())].to_owned());
            product_rows.push(Product {
                sales_count: rng.random_range(0..10_000),
                rating_count,
                rating_sum: rating_count * i64::from(rating_avg_x100) / 100,
                rating_avg_x100,
                ..Product::new(
                    id,
                    seller_id,
                    name,
                    description,
                    brand,
                    publisher,
                    Money::new(price, Currency::KRW),
                    status,
                    created,
                )
            });
            let in_root: Vec<CategoryId> = leaves
                .iter()
                .filter(|(r, _)| *r == root)
                .map(|(_, c)| *c)
                .collect();
            if !in_root.is_empty() {
                let category_id = in_root[rng.random_range(0..in_root.len())];
                link_rows.push((id, category_id));
            }
            let variant_count = rng.random_range(1..=3);
            for v in 0..variant_count {
                let (label, options) = if variant_count == 1 {
                    ("기본".to_owned(), "{}".to_owned())
                } else if root == 1 {
                    let (cko, cen) = COLORS[v % COLORS.len()];
                    let size = SIZES[rng.random_range(0..SIZES.len())];
                    (
                        format!("{cko} / {size}"),
                        format!("{{\"color\":\"{cen}\",\"size\":\"{size}\"}}"),
                    )
                } else {
                    (
                        format!("옵션 {}", v + 1),
                        format!("{{\"option\":\"{}\"}}", v + 1),
                    )
                };
                let stock = if status == ProductStatus::SoldOut {
                    0
                } else {
                    rng.random_range(0..200)
                };
                variant_rows.push(Variant {
                    id: VariantId::new(),
                    product_id: id,
                    sku: format!("SEED-{}-{v}", id.uuid().simple()),
                    name: label,
                    options,
                    price_delta: if v == 0 {
                        0
                    } else {
                        rng.random_range(0..50) * 100
                    },
                    stock,
                    initial_stock: stock,
                    deleted_at: None,
                    created_at: created,
                    updated_at: created,
                });
            }
        }
        variants_written += variant_rows.len() as u64;
        // One unit of work per batch: the rows and one event per product commit together,
        // and the server's relay indexes them (also when this runs beside it, as the CLI).
        let mut tx = services.begin().await?;
        for p in &product_rows {
            tx.record(DomainEvent::ProductChanged { product_id: p.id });
        }
        catalog::insert_products(tx.conn(), product_rows).await?;
        catalog::insert_category_links(tx.conn(), &link_rows).await?;
        for chunk in chunked(variant_rows, BATCH) {
            catalog::insert_variants(tx.conn(), chunk).await?;
        }
        tx.commit().await?;
        done += n;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    Ok(SeedReport {
        products: opts.products,
        variants: variants_written,
        sellers: seller_ids.len() as u64,
        elapsed: started.elapsed(),
    })
}

fn chunked<T>(mut v: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    while v.len() > size {
        let rest = v.split_off(size);
        out.push(v);
        v = rest;
    }
    out.push(v);
    out
}

/// A verified shopper with an address in their book and a minted access token.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub user_id: UserId,
    pub access_token: String,
    pub address_id: jangteo_core::ids::AddressId,
}

/// `n` shoppers `{prefix}{i}@example.com`, written in bulk with tokens minted by the
/// server's keys: a load test or a race of hundreds of buyers should measure the checkout,
/// not hundreds of password hashes.
pub async fn shoppers(services: &Services, prefix: &str, n: usize) -> anyhow::Result<Vec<Shopper>> {
    use jangteo_store::addresses::{self, Address};
    let now = services.clock().now();
    let mut users = Vec::with_capacity(n);
    let mut book = Vec::with_capacity(n);
    for i in 0..n {
        let email = Email::parse("email", &format!("{prefix}{i}@example.com"))
            .map_err(|e| anyhow::anyhow!("shopper e-mail: {e:?}"))?;
        let mut u = User::new(email, None, None, Role::User, now);
        u.email_verified_at = Some(now);
        book.push(Address {
            id: jangteo_core::ids::AddressId::new(),
            user_id: u.id,
            label: None,
            recipient: format!("구매자 {i}"),
            phone: "010-0000-0000".into(),
            postal_code: "06236".into(),
            line1: "테헤란로 427".into(),
            line2: None,
            is_default: true,
            created_at: now,
            updated_at: now,
        });
        users.push(u);
    }
    let db = services.db();
    for chunk in users.chunks(200) {
        accounts::insert_users(db, chunk.to_vec()).await?;
    }
    for a in &book {
        addresses::insert(db, a.clone()).await?;
    }
    users
        .iter()
        .zip(&book)
        .map(|(u, a)| {
            let principal = jangteo_services::tokens::Principal {
                user_id: u.id,
                role: Role::User,
            };
            Ok(Shopper {
                user_id: u.id,
                access_token: services.keys().issue_access(principal, now)?,
                address_id: a.id,
            })
        })
        .collect()
}
