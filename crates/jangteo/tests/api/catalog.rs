//! Catalog: categories, products with variants, ownership, validation, listings, cache
//! invalidation and popularity.

use jangteo_store::entities::products;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::support::*;

/// The catalog's stock product: an ON_SALE book with one variant.
fn book(name: &str, price: i64, sku: &str, stock: i64) -> ProductSpec {
    ProductSpec::on_sale(name, price)
        .description("초판 한정")
        .brand("김작가")
        .publisher("장터출판")
        .variant(sku, stock)
}

async fn product_count(app: &TestApp) -> u64 {
    products::Entity::find()
        .count(app.services.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn sellers_manage_their_own_products_only() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let books = app.category(&admin, "도서", None).await;
    let a = app.seller("seller.a@example.com").await;
    let b = app.seller("seller.b@example.com").await;
    let user = app.user("shopper@example.com").await;

    let created = app
        .product(
            &a,
            json!({
                "name": "한정판 도서", "price": 15000, "category_ids": [books],
                "variants": [
                    {"sku": "book-hard", "name": "양장본", "options": {"binding": "hard"}, "price_delta": 5000, "stock": 10},
                    {"sku": "book-soft", "name": "무선본", "stock": 0}
                ]
            }),
        )
        .await;
    assert_eq!(created["status"], "DRAFT", "new products start as drafts");
    assert_eq!(created["variants"][0]["sku"], "BOOK-HARD");
    assert_eq!(created["variants"][0]["price"], 20000);
    assert_eq!(created["variants"][1]["in_stock"], false);
    assert_eq!(created["total_stock"], 10);
    assert_eq!(created["categories"][0]["name"], "도서");
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/products/{id}");

    // A draft is invisible to everyone but its seller and admins.
    assert_problem(app.get(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_problem(
        app.get_auth(&path, &b.access).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        app.get_auth(&path, &a.access).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_auth(&path, &admin.access).await.status(),
        StatusCode::OK
    );
    // …and cannot be changed by another seller (who cannot even see it).
    let res = app.patch_auth(&path, &b.access, json!({"price": 1})).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;

    let res = app
        .patch_auth(&path, &a.access, json!({"status": "ON_SALE"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let public: Value = app.get_json(&path, None).await;
    assert_eq!(public["status"], "ON_SALE");
    assert_eq!(public["stock_status"], "IN_STOCK");

    // On sale, others can see it but not touch it.
    for who in [&b, &user] {
        let res = app
            .patch_auth(&path, &who.access, json!({"price": 1}))
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "not_product_owner").await;
        let res = app.delete_auth(&path, &who.access).await;
        assert_problem(res, StatusCode::FORBIDDEN, "not_product_owner").await;
        let variant = public["variants"][0]["id"].as_str().unwrap();
        let res = app
            .post_auth(
                &format!("{path}/variants/{variant}/stock-adjustments"),
                &who.access,
                json!({"delta": -10, "reason": "DAMAGE"}),
            )
            .await;
        assert_problem(res, StatusCode::FORBIDDEN, "not_product_owner").await;
    }
    let unchanged: Value = app.get_json(&path, None).await;
    assert_eq!(unchanged["price"], 15000);
    assert_eq!(unchanged["total_stock"], 10);

    // A plain user cannot create products at all.
    let res = app
        .post_auth(
            "/api/v1/products",
            &user.access,
            book("x", 1, "X-1", 1).json(),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    // Admins manage everything.
    let res = app
        .patch_auth(&path, &admin.access, json!({"status": "HIDDEN"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(app.get(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    // Back to draft is refused once offered.
    let res = app
        .patch_auth(&path, &a.access, json!({"status": "DRAFT"}))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_status_transition").await;

    // Soft delete by the owner.
    assert_eq!(
        app.delete_auth(&path, &a.access).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        app.get_auth(&path, &a.access).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        product_count(&app).await,
        1,
        "soft delete keeps the row for orders and audits"
    );
}

#[tokio::test]
async fn invalid_products_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let s = app.seller("strict@example.com").await;
    let cases = [
        (
            json!({"name": "", "price": -1, "variants": [{"sku": "A", "name": "a"}]}),
            vec!["name", "price"],
        ),
        (json!({"name": "ok", "price": 100}), vec!["variants"]),
        (
            json!({"name": "ok", "price": 100, "status": "FOR_FREE", "variants": [{"sku": "A", "name": "a"}]}),
            vec!["status"],
        ),
        (
            json!({"name": "ok", "price": 100, "variants": [{"sku": "bad sku", "name": "a", "stock": -3, "price_delta": -200}]}),
            vec![
                "variants[0].sku",
                "variants[0].price_delta",
                "variants[0].stock",
            ],
        ),
    ];
    for (body, expected) in cases {
        let res = app
            .post_auth("/api/v1/products", &s.access, body.clone())
            .await;
        let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(fields(&p), expected, "for {body}");
    }
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"sku": format!("V-{i}"), "name": "v"}))
        .collect();
    let res = app
        .post_auth(
            "/api/v1/products",
            &s.access,
            json!({"name": "ok", "price": 100, "variants": many}),
        )
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "too_many");
    let res = app
        .post_auth(
            "/api/v1/products",
            &s.access,
            json!({"name": "ok", "price": "100", "variants": []}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    // A well-formed body that names a missing category, or repeats a SKU, is not a
    // malformed one: 404 and 409.
    let res = app
        .post_auth(
            "/api/v1/products",
            &s.access,
            json!({"name": "ok", "price": 100, "category_ids": [uuid::Uuid::now_v7()], "variants": [{"sku": "A", "name": "a"}]}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post_auth(
            "/api/v1/products",
            &s.access,
            json!({"name": "ok", "price": 100, "variants": [{"sku": "A", "name": "a"}, {"sku": "a", "name": "b"}]}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "sku_taken").await;
    assert_eq!(product_count(&app).await, 0, "nothing written");

    // A SKU is unique across the shop.
    app.product(&s, book("first", 100, "UNIQUE-1", 1)).await;
    let res = app
        .post_auth(
            "/api/v1/products",
            &s.access,
            book("second", 100, "unique-1", 1).json(),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "sku_taken").await;
    assert_eq!(
        product_count(&app).await,
        1,
        "the failed product was rolled back with its variant"
    );
}

#[tokio::test]
async fn reads_see_every_write_immediately() {
    let app = spawn_app().await;
    let s = app.seller("cache@example.com").await;
    let p = app
        .product(&s, book("캐시 테스트", 10000, "CACHE-1", 5))
        .await;
    let path = format!("/api/v1/products/{}", p["id"].as_str().unwrap());
    let variant = p["variants"][0]["id"].as_str().unwrap().to_owned();
    // Warm the caches.
    let _ = app.get(&path).await;
    let list: Value = app.get_json("/api/v1/products", None).await;
    assert_eq!(list["items"][0]["price"], 10000);

    app.patch_auth(&path, &s.access, json!({"name": "새 이름", "price": 12000}))
        .await;
    let fresh: Value = app.get_json(&path, None).await;
    assert_eq!(fresh["name"], "새 이름");
    assert_eq!(fresh["price"], 12000);
    let list: Value = app.get_json("/api/v1/products", None).await;
    assert_eq!(list["items"][0]["price"], 12000);

    let res = app
        .post_auth(
            &format!("{path}/variants/{variant}/stock-adjustments"),
            &s.access,
            json!({"delta": -5, "reason": "CORRECTION"}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["stock"], 0);
    let fresh: Value = app.get_json(&path, None).await;
    assert_eq!(fresh["stock_status"], "OUT_OF_STOCK");
    let list: Value = app.get_json("/api/v1/products", None).await;
    assert_eq!(list["items"][0]["in_stock"], false);

    app.delete_auth(&path, &s.access).await;
    assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND);
    let list: Value = app.get_json("/api/v1/products", None).await;
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn listings_filter_sort_and_page_by_keyset() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let books = app.category(&admin, "Books", None).await;
    let novels = app.category(&admin, "Novels", Some(&books)).await;
    let music = app.category(&admin, "Music", None).await;
    let a = app.seller("list.a@example.com").await;
    let b = app.seller("list.b@example.com").await;
    let mut expected_prices = Vec::new();
    for i in 0..12i64 {
        let (seller, cat) = if i % 3 == 0 {
            (&b, &music)
        } else {
            (&a, if i % 2 == 0 { &books } else { &novels })
        };
        let price = 1000 + (i * 7919) % 5000;
        let body = book(&format!("item {i}"), price, &format!("L-{i}"), i).category(cat);
        app.product(seller, body).await;
        expected_prices.push(price);
    }
    // A draft never shows up publicly.
    app.product(&a, book("draft", 1, "L-DRAFT", 1).status("DRAFT"))
        .await;

    // Walk all pages by price ascending, 5 at a time.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = "/api/v1/products?sort=price_asc&limit=5".to_owned();
        if let Some(c) = &after {
            url.push_str(&format!("&after={c}"));
        }
        let page: Value = app.get_json(&url, None).await;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["price"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    expected_prices.sort_unstable();
    assert_eq!(seen, expected_prices, "every product once, in price order");

    let desc: Value = app
        .get_json("/api/v1/products?sort=price_desc&limit=100", None)
        .await;
    let prices: Vec<i64> = desc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["price"].as_i64().unwrap())
        .collect();
    assert!(prices.windows(2).all(|w| w[0] >= w[1]));

    // Category filter includes sub-categories.
    let in_books: Value = app
        .get_json(
            &format!("/api/v1/products?category={books}&limit=100"),
            None,
        )
        .await;
    assert_eq!(in_books["items"].as_array().unwrap().len(), 8);
    let in_novels: Value = app
        .get_json(
            &format!("/api/v1/products?category={novels}&limit=100"),
            None,
        )
        .await;
    assert_eq!(in_novels["items"].as_array().unwrap().len(), 4);

    // Seller and price range.
    let by_b: Value = app
        .get_json(
            &format!("/api/v1/products?seller={}&limit=100", b.user_id),
            None,
        )
        .await;
    assert_eq!(by_b["items"].as_array().unwrap().len(), 4);
    let ranged: Value = app
        .get_json(
            "/api/v1/products?min_price=2000&max_price=4000&limit=100",
            None,
        )
        .await;
    let n = expected_prices
        .iter()
        .filter(|p| (2000..=4000).contains(*p))
        .count();
    assert_eq!(ranged["items"].as_array().unwrap().len(), n);

    // The seller's own listing shows drafts too; the public may not ask for them.
    let mine: Value = app
        .get_json("/api/v1/sellers/me/products?limit=100", Some(&a.access))
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 9);
    let res = app.get("/api/v1/products?status=DRAFT").await;
    assert_problem(res, StatusCode::FORBIDDEN, "status_not_public").await;
    // One rule for every bad query parameter, whichever layer notices it.
    for bad in [
        "sort=cheapest",
        "limit=0",
        "after=garbage",
        "after=",
        "after=1~zz",
        "min_price=abc",
        "status=ON_SALE,GONE",
    ] {
        let res = app.get(&format!("/api/v1/products?{bad}")).await;
        assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
    // An unknown category is a missing resource, here and in the bestsellers; an empty
    // price range is simply empty.
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/api/v1/products?category={unknown}"),
        format!("/api/v1/products/popular?category={unknown}"),
        format!("/api/v1/search?category={unknown}"),
    ] {
        assert_problem(app.get(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let empty: Value = app
        .get_json("/api/v1/products?min_price=20000&max_price=10000", None)
        .await;
    assert_eq!(empty["items"], serde_json::json!([]));

    let tree: Value = app.get_json("/api/v1/categories", None).await;
    let roots: Vec<&str> = tree["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(roots.len(), 2);
    let books_node = tree["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Books")
        .unwrap();
    assert_eq!(books_node["children"][0]["name"], "Novels");
}

#[tokio::test]
async fn popular_products_by_units_sold_in_a_window() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let cat = app.category(&admin, "Goods", None).await;
    let s = app.seller("popular@example.com").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut body = book(&format!("goods {i}"), 1000, &format!("POP-{i}"), 100);
        if i < 2 {
            body = body.category(&cat);
        }
        ids.push(
            app.product(&s, body).await["id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap(),
        );
    }
    let catalog = app.services.catalog();
    let now = app.clock_now();
    catalog.record_sale(ids[0].into(), 3, now).await.unwrap();
    catalog.record_sale(ids[1].into(), 5, now).await.unwrap();
    catalog
        .record_sale(ids[1].into(), 1, now - chrono::Duration::days(1))
        .await
        .unwrap();
    catalog
        .record_sale(ids[2].into(), 50, now - chrono::Duration::days(30))
        .await
        .unwrap();
    catalog.record_sale(ids[2].into(), 2, now).await.unwrap();

    let top: Value = app.get_json("/api/v1/products/popular?days=7", None).await;
    let order: Vec<(String, i64)> = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["product"]["name"].as_str().unwrap().to_owned(),
                i["units_sold"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("goods 1".to_owned(), 6),
            ("goods 0".to_owned(), 3),
            ("goods 2".to_owned(), 2)
        ]
    );

    let month: Value = app.get_json("/api/v1/products/popular?days=31", None).await;
    assert_eq!(month["items"][0]["product"]["name"], "goods 2");
    let in_cat: Value = app
        .get_json(
            &format!("/api/v1/products/popular?days=7&category={cat}"),
            None,
        )
        .await;
    assert_eq!(
        in_cat["items"].as_array().unwrap().len(),
        2,
        "bestsellers of the category only"
    );
    // Lifetime sales drive the popularity sort of listings.
    let list: Value = app.get_json("/api/v1/products?sort=popularity", None).await;
    assert_eq!(list["items"][0]["name"], "goods 2");
    assert_eq!(list["items"][0]["sales_count"], 52);
}

#[tokio::test]
async fn seeded_catalog_is_browsable_and_balanced() {
    let app = spawn_app().await;
    let opts = jangteo::seed::SeedOptions {
        products: 300,
        sellers: 3,
        seed: 7,
        progress: false,
    };
    let report = jangteo::seed::seed(&app.services, opts).await.unwrap();
    assert_eq!(report.products, 300);
    assert_eq!(product_count(&app).await, 300);
    let (checked, findings) = app.services.inventory().audit().await.unwrap();
    assert_eq!(checked, report.variants);
    assert!(findings.is_empty());

    let tree: Value = app.get_json("/api/v1/categories", None).await;
    assert_eq!(tree["items"].as_array().unwrap().len(), 6);
    let books = tree["items"][0]["id"].as_str().unwrap();
    let page: Value = app
        .get_json(
            &format!("/api/v1/products?category={books}&sort=price_asc&limit=50"),
            None,
        )
        .await;
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty(), "books were seeded");
    assert!(
        items
            .iter()
            .all(|i| i["status"] == "ON_SALE" || i["status"] == "SOLD_OUT")
    );
    let detail: Value = app
        .get_json(
            &format!("/api/v1/products/{}", items[0]["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert!(!detail["variants"].as_array().unwrap().is_empty());

    // Seeding again adds to the catalog without clashing (new sellers, new SKUs).
    jangteo::seed::seed(&app.services, opts).await.unwrap();
    assert_eq!(product_count(&app).await, 600);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn view_counts_are_unique_visitors_per_day() {
    let app = spawn_app_with(|c| c.trust_forwarded_for = true).await;
    let s = app.seller("views@example.com").await;
    let p = app.product(&s, book("조회수", 1000, "VIEWS-1", 1)).await;
    let path = format!("/api/v1/products/{}", p["id"].as_str().unwrap());
    let fan = app.user("fan@example.com").await;
    let view = |ip: String, token: Option<String>| {
        let mut req = app.http.get(app.url(&path)).header("x-forwarded-for", ip);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    // 10 guests from different addresses, each looking 3 times, and two signed-in users
    // (the seller and a fan) looking from one shared address.
    for _ in 0..3 {
        for i in 0..10 {
            assert_eq!(
                view(format!("10.0.0.{i}"), None).await.unwrap().status(),
                StatusCode::OK
            );
        }
        view("10.0.0.99".into(), Some(s.access.clone()))
            .await
            .unwrap();
        view("10.0.0.99".into(), Some(fan.access.clone()))
            .await
            .unwrap();
    }
    app.services.views().flush(&app.services).await.unwrap();
    // Read from the database: another GET would itself be a (13th) visitor.
    assert_eq!(
        view_count(&app, &p).await,
        12,
        "unique visitors, not page loads"
    );

    // The next day the same visitors count again.
    app.clock.advance(chrono::Duration::days(1));
    for i in 0..4 {
        view(format!("10.0.0.{i}"), None).await.unwrap();
    }
    app.services.views().flush(&app.services).await.unwrap();
    assert_eq!(view_count(&app, &p).await, 16);
    // The product detail shows the stored count.
    let detail: Value = app.get_json(&path, None).await;
    assert_eq!(detail["view_count"], 16);
}

async fn view_count(app: &TestApp, product: &Value) -> i64 {
    let id: uuid::Uuid = product["id"].as_str().unwrap().parse().unwrap();
    products::Entity::find_by_id(id)
        .one(app.services.db())
        .await
        .unwrap()
        .unwrap()
        .view_count
}

/// Public listings read ON_SALE and SOLD_OUT on separate index ranges and merge them: every
/// sort must still yield each public product exactly once, in order, across keyset pages,
/// including ties on the sort key (broken by id).
#[tokio::test]
async fn mixed_status_listings_merge_into_one_ordered_keyset() {
    let app = spawn_app().await;
    let s = app.seller("merge@example.com").await;
    let mut public: Vec<(i64, String)> = Vec::new();
    for i in 0..11i64 {
        let body = book(
            &format!("merge {i}"),
            1000 + (i % 4) * 100,
            &format!("MERGE-{i}"),
            1,
        )
        .status(match i % 3 {
            0 => "SOLD_OUT",
            1 => "ON_SALE",
            _ if i == 5 => "HIDDEN",
            _ => "ON_SALE",
        });
        let p = app.product(&s, body).await;
        if i != 5 {
            public.push((
                p["price"].as_i64().unwrap(),
                p["id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    let walk = |sort: &'static str, limit: usize| {
        let app = &app;
        async move {
            let mut seen = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let mut url = format!("/api/v1/products?sort={sort}&limit={limit}");
                if let Some(c) = &after {
                    url.push_str(&format!("&after={c}"));
                }
                let page: Value = app.get_json(&url, None).await;
                for item in page["items"].as_array().unwrap() {
                    seen.push(item["id"].as_str().unwrap().to_owned());
                }
                match page["next_cursor"].as_str() {
                    Some(c) => after = Some(c.to_owned()),
                    None => break,
                }
            }
            seen
        }
    };
    let mut asc = public.clone();
    asc.sort();
    let ids = |v: &[(i64, String)]| v.iter().map(|p| p.1.clone()).collect::<Vec<_>>();
    assert_eq!(walk("price_asc", 2).await, ids(&asc));
    let mut desc = public.clone();
    desc.sort_by(|a, b| b.cmp(a));
    assert_eq!(walk("price_desc", 3).await, ids(&desc));
    let mut newest: Vec<String> = ids(&public);
    newest.sort_by(|a, b| b.cmp(a));
    assert_eq!(walk("newest", 4).await, newest);
    // All sales counts are 0: popularity falls back to the id, newest first.
    assert_eq!(walk("popularity", 2).await, newest);
}

#[tokio::test]
async fn variants_are_added_and_changed_by_the_owner() {
    let app = spawn_app().await;
    let s = app.seller("variants@example.com").await;
    let other = app.seller("variants.other@example.com").await;
    let p = app.product(&s, book("옷", 20_000, "TEE-M", 3)).await;
    let id = p["id"].as_str().unwrap();
    let variants = format!("/api/v1/products/{id}/variants");

    // The answer is the new variant (its own id, not the product's).
    let res = app
        .post_auth(
            &variants,
            &s.access,
            json!({"sku": "tee-l", "name": "L", "price_delta": 2000, "stock": 7, "options": {"size": "L"}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        (&v["sku"], &v["price"], &v["stock"], &v["options"]["size"]),
        (&json!("TEE-L"), &json!(22_000), &json!(7), &json!("L"))
    );
    assert_ne!(v["id"], p["id"]);
    let detail: Value = app
        .get_json(&format!("/api/v1/products/{id}"), Some(&s.access))
        .await;
    assert_eq!(detail["variants"].as_array().unwrap().len(), 2);

    // Changing it by that id works; a price below zero conflicts with the product's price.
    let path = format!("{variants}/{}", v["id"].as_str().unwrap());
    let res = app
        .patch_auth(
            &path,
            &s.access,
            json!({"name": "Large", "price_delta": -5000}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .patch_auth(&path, &s.access, json!({"price_delta": -20_001}))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "variant_price_out_of_range").await;
    let res = app
        .post_auth(
            &variants,
            &s.access,
            json!({"sku": "TEE-XS", "name": "XS", "price_delta": -20_001}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "variant_price_out_of_range").await;
    let res = app
        .post_auth(
            &variants,
            &s.access,
            json!({"sku": "TEE-M", "name": "again"}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "sku_taken").await;
    // Nobody else may add to it.
    let res = app
        .post_auth(&variants, &other.access, json!({"sku": "X-1", "name": "x"}))
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "not_product_owner").await;
    let detail: Value = app
        .get_json(&format!("/api/v1/products/{id}"), Some(&s.access))
        .await;
    let names: Vec<&str> = detail["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Large"));
}
