//! Search over HTTP: the index follows catalog writes through events; Korean, 초성, typos,
//! filters, autocomplete, popular terms, and a rebuild that matches the live index.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn search(app: &TestApp, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/search?{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json().await.unwrap()
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_follows_the_catalog() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let books = app.category(&admin, "도서", None).await;
    let novels = app.category(&admin, "소설", Some(&books)).await;
    let audio = app.category(&admin, "음향기기", None).await;
    let s = app.seller("search.seller@example.com").await;
    let product = |name: &str, brand: &str, publisher: &str, price: i64, cat: &str| {
        ProductSpec::on_sale(name, price)
            .brand(brand)
            .publisher(publisher)
            .category(cat)
    };
    let limited = app
        .product(
            &s,
            product("한정판 도서", "김작가", "장터출판", 15000, &novels).variant("S-1", 3),
        )
        .await;
    app.product(
        &s,
        product("무선 이어폰", "삼성전자", "전자상사", 99000, &audio).variant("S-2", 0),
    )
    .await;
    app.product(
        &s,
        product("Wireless Headphones", "Acme", "Acme Press", 150000, &audio).variant("S-3", 5),
    )
    .await;
    // The title match must outrank a match on the publisher only.
    app.product(
        &s,
        product("요리 책", "박작가", "한정판 출판사", 12000, &books).variant("S-4", 5),
    )
    .await;
    let draft = product("한정판 비공개", "김작가", "x", 1000, &books)
        .variant("S-5", 1)
        .status("DRAFT");
    app.product(&s, draft).await;
    app.settle().await;

    let page = search(&app, "q=한정판").await;
    let found = names(&page);
    assert_eq!(
        found.first().map(String::as_str),
        Some("한정판 도서"),
        "title (weight 5) before publisher (1): {found:?}"
    );
    assert!(found.contains(&"요리 책".to_owned()));
    assert!(
        !found.contains(&"한정판 비공개".to_owned()),
        "drafts are not searchable"
    );

    assert_eq!(
        names(&search(&app, "q=한정판 도서를").await)[0],
        "한정판 도서",
        "particle in the query"
    );
    assert_eq!(
        names(&search(&app, "q=ㅎㅈㅍ").await)[0],
        "한정판 도서",
        "초성"
    );
    assert_eq!(
        names(&search(&app, "q=wireles%20headphnes").await),
        ["Wireless Headphones"],
        "typos"
    );
    // 작가 also occurs in 박작가: the exact author ranks first.
    assert_eq!(
        names(&search(&app, "q=김작가").await)[0],
        "한정판 도서",
        "author"
    );

    // Filters and sorts combine with relevance.
    let in_stock = names(&search(&app, &format!("q=&category={audio}&in_stock=true")).await);
    assert_eq!(in_stock, ["Wireless Headphones"]);
    let in_books = names(&search(&app, &format!("category={books}&sort=price_asc")).await);
    assert_eq!(
        in_books,
        ["요리 책", "한정판 도서"],
        "parent category includes the sub-category"
    );
    let cheap = search(&app, "min_price=10000&max_price=20000&sort=price_desc").await;
    assert_eq!(names(&cheap), ["한정판 도서", "요리 책"]);
    assert_eq!(cheap["total"], 2);

    // Writes reach the index: rename, then hide.
    let path = format!("/api/v1/products/{}", limited["id"].as_str().unwrap());
    app.patch_auth(&path, &s.access, json!({"name": "초판 특별판"}))
        .await;
    app.settle().await;
    assert_eq!(names(&search(&app, "q=특별판").await)[0], "초판 특별판");
    // That page is now cached; a price change shows in the very next search, without
    // waiting for the index (the cache keys on the catalog's generation too).
    app.patch_auth(&path, &s.access, json!({"price": 17000}))
        .await;
    assert_eq!(search(&app, "q=특별판").await["items"][0]["price"], 17000);
    app.settle().await;
    app.patch_auth(&path, &s.access, json!({"status": "HIDDEN"}))
        .await;
    app.settle().await;
    assert!(!names(&search(&app, "q=특별판").await).contains(&"초판 특별판".to_owned()));

    // Autocomplete and popular terms.
    let suggestions: Value = app
        .get_json("/api/v1/search/autocomplete?q=wire", None)
        .await;
    assert_eq!(suggestions["items"][0]["title"], "Wireless Headphones");
    // Popular terms count searchers, not searches: three searches by this guest count
    // once, a signed-in shopper once more.
    for _ in 0..3 {
        search(&app, "q=이어폰").await;
    }
    let res = app.get_auth("/api/v1/search?q=이어폰", &s.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let terms: Value = app.get_json("/api/v1/search/popular-terms", None).await;
    assert_eq!(terms["items"][0]["term"], "이어폰");
    assert_eq!(terms["items"][0]["count"], 2);

    for bad in ["sort=best", "size=0", "size=101"] {
        let res = app.get(&format!("/api/v1/search?{bad}")).await;
        assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
}

#[tokio::test]
async fn a_rebuilt_index_answers_like_the_live_one() {
    let app = spawn_app().await;
    let opts = jangteo::seed::SeedOptions {
        products: 150,
        sellers: 2,
        seed: 11,
        progress: false,
    };
    jangteo::seed::seed(&app.services, opts).await.unwrap();
    // The live index is fed only by events: the seed's, then edits over HTTP.
    app.settle().await;
    assert_eq!(
        app.services.search_catch_up().await.unwrap(),
        None,
        "events indexed the seed; no rebuild needed"
    );
    let public = 150 - draft_count(&app).await;
    assert_eq!(app.services.search().num_docs(), public);
    let admin = app.admin().await;
    let all: Value = app.get_json("/api/v1/products?limit=100", None).await;
    let items = all["items"].as_array().unwrap();
    let (first, second) = (
        items[0]["id"].as_str().unwrap(),
        items[1]["id"].as_str().unwrap(),
    );
    let res = app
        .patch_auth(
            &format!("/api/v1/products/{first}"),
            &admin.access,
            json!({"name": "한정판 무선 이어폰 특가", "price": 12_000}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .delete_auth(&format!("/api/v1/products/{second}"), &admin.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let tree: Value = app.get_json("/api/v1/categories", None).await;
    let top = tree["items"][0]["id"].as_str().unwrap();
    let res = app
        .patch_auth(
            &format!("/api/v1/categories/{top}"),
            &admin.access,
            json!({"name": "새이름분류"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.settle().await;
    let queries = [
        "q=한정판",
        "q=wireless",
        "q=이어폰&sort=price_asc",
        "sort=newest&size=50",
        "q=ㅁㅅ",
        "q=새이름분류",
        "q=특가",
    ];
    let mut live = Vec::new();
    for q in queries {
        live.push(search(&app, q).await);
    }
    assert!(
        live[5]["total"].as_u64().unwrap() > 0,
        "the renamed category is searchable by its new name"
    );
    assert_eq!(live[6]["items"][0]["id"], first, "the edit is indexed");
    let n = app.services.reindex(|_| {}).await.unwrap();
    assert_eq!(n, public - 1, "the deleted product is not rebuilt");
    for (q, expected) in queries.iter().zip(live) {
        assert_eq!(search(&app, q).await, expected, "{q}");
    }
    assert_invariants(&app).await;
}

async fn draft_count(app: &TestApp) -> u64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    jangteo_store::entities::products::Entity::find()
        .filter(jangteo_store::entities::products::Column::Status.eq("DRAFT"))
        .count(app.services.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn popular_terms_cannot_be_poisoned() {
    let app = spawn_app_with(|c| c.trust_forwarded_for = true).await;
    let s = app.seller("terms.seller@example.com").await;
    app.post_auth(
        "/api/v1/products",
        &s.access,
        ProductSpec::on_sale("Wireless Headphones", 99000)
            .variant_named("WH-1", "black", 5)
            .json(),
    )
    .await;
    app.settle().await;
    let search_from = |ip: String, q: &'static str| {
        let url = reqwest::Url::parse_with_params(&app.url("/api/v1/search"), &[("q", q)]).unwrap();
        let req = app.http.get(url).header("x-forwarded-for", ip);
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{q}");
        }
    };
    // One address repeating markup (that even finds the product) and a plain word.
    for _ in 0..25 {
        search_from(
            "203.0.113.9".into(),
            "<img src=x onerror=alert(1)> headphones",
        )
        .await;
        search_from("203.0.113.9".into(), "headphones").await;
    }
    // Many addresses searching for something that finds nothing.
    for i in 0..30 {
        search_from(format!("198.51.100.{i}"), "zzqqxxvv").await;
    }
    // Three real shoppers.
    for i in 1..=3 {
        search_from(format!("192.0.2.{i}"), "wireless").await;
    }
    let terms: Value = app.get_json("/api/v1/search/popular-terms", None).await;
    let items: Vec<(String, u64)> = terms["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["term"].as_str().unwrap().to_owned(),
                t["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [("wireless".to_owned(), 3), ("headphones".to_owned(), 1)],
        "no markup, no repeats, no empty searches"
    );
}
