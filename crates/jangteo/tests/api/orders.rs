//! Checkout and orders: prices, shipping and VAT computed on the server; stock reserved in
//! the order's transaction and never oversold however many buyers race; a shortage named
//! line by line; unpaid orders cancelled at their deadline with the stock back exactly once;
//! and orders visible only to their buyer, the sellers in them (their part) and admins.

use futures::future::join_all;
use jangteo_store::entities::{inventory_ledger, orders as order_rows};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

/// A seller's mug at 12,000 won: M (+0, 50 units) and L (+2,000, 3 units).
async fn shop(app: &TestApp, seller_email: &str) -> (Session, String, String, String) {
    let seller = app.seller(seller_email).await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("주문 머그", 12_000)
                .variant("ORD-M", 50)
                .variant_json(
                    json!({"sku": "ORD-L", "name": "L", "price_delta": 2000, "stock": 3}),
                ),
        )
        .await;
    let id = product["id"].as_str().unwrap().to_owned();
    (
        seller,
        id,
        variant_id(&product, 0).to_string(),
        variant_id(&product, 1).to_string(),
    )
}

async fn stock(app: &TestApp, variant: &str) -> i64 {
    jangteo_store::inventory::stock_of(app.services.db(), variant.parse::<Uuid>().unwrap().into())
        .await
        .unwrap()
}

async fn order_count(app: &TestApp) -> u64 {
    order_rows::Entity::find()
        .count(app.services.db())
        .await
        .unwrap()
}

async fn product_status(app: &TestApp, product: &str) -> String {
    app.get_json(&format!("/api/v1/products/{product}"), None)
        .await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn buy_now_prices_on_the_server_and_reserves_the_stock() {
    let app = spawn_app().await;
    let (_seller, _product, m, l) = shop(&app, "ord.seller@example.com").await;
    let kim = app.buyer("ord.kim@example.com").await;

    let res = app.buy_now(&kim, &[(&m, 2), (&l, 1)]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let order: Value = res.json().await.unwrap();
    assert_eq!(order["status"], "PENDING");
    // 2 × 12,000 + 14,000 = 38,000, under the 50,000 threshold: 3,000 shipping.
    assert_eq!(order["items_total"], 38_000);
    assert_eq!(order["shipping_total"], 3_000);
    assert_eq!(order["discount_total"], 0);
    assert_eq!(order["total"], 41_000);
    assert_eq!(order["vat"], 3_727, "41,000 / 11 = 3,727.27");
    assert_eq!(order["currency"], "KRW");
    assert_eq!(order["ship_to"]["line1"], "테헤란로 427");
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);
    assert_eq!(order["lines"][1]["unit_price"], 14_000);
    assert_eq!(order["lines"][1]["sku"], "ORD-L");
    assert_eq!(order["shipments"][0]["status"], "READY");
    assert_eq!(order["shipments"][0]["shipping_fee"], 3_000);
    let deadline: chrono::DateTime<chrono::Utc> =
        order["payment_deadline"].as_str().unwrap().parse().unwrap();
    assert_eq!(deadline, app.clock_now() + chrono::Duration::minutes(15));
    assert_eq!((stock(&app, &m).await, stock(&app, &l).await), (48, 2));

    let id = order["id"].as_str().unwrap();
    let again = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&kim.access))
        .await;
    assert_eq!(again["total"], 41_000);
    let mine = app.get_json("/api/v1/orders", Some(&kim.access)).await;
    assert_eq!(mine["items"][0]["id"], id);

    // The ledger names the order as the reason of both takes.
    let takes = inventory_ledger::Entity::find()
        .filter(inventory_ledger::Column::Reference.eq(id))
        .count(app.services.db())
        .await
        .unwrap();
    assert_eq!(takes, 2);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn checkout_from_the_cart_takes_the_selected_lines_which_then_leave_the_cart() {
    let app = spawn_app().await;
    let (_seller, _product, m, l) = shop(&app, "ord.cart.seller@example.com").await;
    let lee = app.buyer("ord.lee@example.com").await;
    for (v, q) in [(&m, 3), (&l, 1)] {
        let res = app
            .post_auth(
                "/api/v1/cart/items",
                &lee.access,
                json!({"variant_id": v, "quantity": q}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = app
        .put_auth(
            "/api/v1/cart/selection",
            &lee.access,
            json!({"variant_ids": [m]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = app
        .post_auth(
            "/api/v1/orders",
            &lee.access,
            json!({"address_id": lee.address_id}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let order: Value = res.json().await.unwrap();
    assert_eq!(order["lines"].as_array().unwrap().len(), 1);
    assert_eq!(order["lines"][0]["quantity"], 3);
    assert_eq!(order["items_total"], 36_000);
    assert_eq!(stock(&app, &l).await, 3, "the unselected line took nothing");

    app.settle().await;
    let cart = app.get_json("/api/v1/cart", Some(&lee.access)).await;
    let left: Vec<&Value> = cart["items"].as_array().unwrap().iter().collect();
    assert_eq!(left.len(), 1, "{cart}");
    assert_eq!(left[0]["variant_id"], l.as_str());

    // Nothing selected now: nothing to order.
    let res = app
        .put_auth(
            "/api/v1/cart/selection",
            &lee.access,
            json!({"variant_ids": []}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_auth(
            "/api/v1/orders",
            &lee.access,
            json!({"address_id": lee.address_id}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "nothing_selected").await;
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_unit_added_again_right_after_ordering_stays_in_the_cart() {
    let app = spawn_app().await;
    let (_seller, _product, m, _l) = shop(&app, "ord.again.seller@example.com").await;
    let kim = app.buyer("ord.again@example.com").await;
    let add = |q: i64| {
        app.post_auth(
            "/api/v1/cart/items",
            &kim.access,
            json!({"variant_id": m, "quantity": q}),
        )
    };
    assert_eq!(add(1).await.status(), StatusCode::OK);
    let res = app
        .post_auth(
            "/api/v1/orders",
            &kim.access,
            json!({"address_id": kim.address_id}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Before any event of the order is delivered, the buyer wants another one.
    let cart: Value = add(2).await.json().await.unwrap();
    assert_eq!(cart["items"][0]["quantity"], 2, "{cart}");
    app.settle().await;
    let cart = app.get_json("/api/v1/cart", Some(&kim.access)).await;
    let items = cart["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{cart}");
    assert_eq!(
        items[0]["quantity"], 2,
        "the new line is the buyer's, not the order's"
    );
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_shortage_names_each_short_line_and_takes_nothing() {
    let app = spawn_app().await;
    let (_seller, _product, m, l) = shop(&app, "ord.short.seller@example.com").await;
    let park = app.buyer("ord.park@example.com").await;
    let res = app.buy_now(&park, &[(&m, 1), (&l, 5)]).await;
    let problem = assert_problem(res, StatusCode::CONFLICT, "insufficient_stock").await;
    assert_eq!(
        problem["shortages"],
        json!([{"variant_id": l, "requested": 5, "available": 3}])
    );
    assert!(problem["detail"].as_str().unwrap().contains("3 left of 5"));
    assert_eq!((stock(&app, &m).await, stock(&app, &l).await), (50, 3));
    assert_eq!(order_count(&app).await, 0);

    // One variant named twice counts once: 2 + 2 of the 3 left is short too.
    let res = app.buy_now(&park, &[(&l, 2), (&l, 2)]).await;
    let problem = assert_problem(res, StatusCode::CONFLICT, "insufficient_stock").await;
    assert_eq!(problem["shortages"][0]["requested"], 4);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn bad_checkouts_are_refused_with_clear_errors_and_change_nothing() {
    let app = spawn_app().await;
    let (seller, _product, m, _l) = shop(&app, "ord.bad.seller@example.com").await;
    let choi = app.buyer("ord.choi@example.com").await;
    let other = app.buyer("ord.other@example.com").await;
    let post = |body: Value| app.post_auth("/api/v1/orders", &choi.access, body);

    let res = post(json!({"items": [{"variant_id": m, "quantity": 1}]})).await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(fields(&p), vec!["address_id"]);
    let res = post(json!({"address_id": choi.address_id, "items": []})).await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(fields(&p), vec!["items"]);
    // Without items: the cart, which is empty.
    let res = post(json!({"address_id": choi.address_id})).await;
    assert_problem(res, StatusCode::CONFLICT, "nothing_selected").await;
    let res = post(json!({"address_id": choi.address_id, "from_cart": true})).await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field"
    );
    let res = post(json!({"address_id": choi.address_id, "items": [
        {"variant_id": m, "quantity": 0}, {"quantity": 1}]}))
    .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(fields(&p), vec!["items[0].quantity", "items[1].variant_id"]);
    let res = post(json!({"address_id": choi.address_id, "items": [
        {"variant_id": m, "quantity": 999}, {"variant_id": m, "quantity": 1}]}))
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let many: Vec<Value> = (0..101)
        .map(|_| json!({"variant_id": m, "quantity": 1}))
        .collect();
    let res = post(json!({"address_id": choi.address_id, "items": many})).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = post(json!({"address_id": choi.address_id, "items": [{"variant_id": m, "quantity": 1}], "coupon": "X"})).await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields"
    );

    // Someone else's address is as good as none.
    let res =
        post(json!({"address_id": other.address_id, "items": [{"variant_id": m, "quantity": 1}]}))
            .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    // A variant that does not exist, or of a product not on sale.
    let res = app
        .buy_now(&choi, &[(&Uuid::now_v7().to_string(), 1)])
        .await;
    assert_problem(res, StatusCode::CONFLICT, "product_unavailable").await;
    let draft = app
        .product(
            &seller,
            ProductSpec::new("초안", 1_000).variant("ORD-DRAFT", 5),
        )
        .await;
    let res = app
        .buy_now(&choi, &[(&variant_id(&draft, 0).to_string(), 1)])
        .await;
    assert_problem(res, StatusCode::CONFLICT, "product_unavailable").await;
    // Without a token.
    let res = app
        .post(
            "/api/v1/orders",
            json!({"address_id": choi.address_id, "items": [{"variant_id": m, "quantity": 1}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(order_count(&app).await, 0);
    assert_eq!(stock(&app, &m).await, 50);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn shipping_follows_each_sellers_rule() {
    let app = spawn_app().await;
    let (_a, _pa, a_mug, _) = shop(&app, "ord.ship.a@example.com").await;
    let b = app.seller("ord.ship.b@example.com").await;
    let rule = app
        .get_json("/api/v1/sellers/me/shipping", Some(&b.access))
        .await;
    assert_eq!(
        rule,
        json!({"base_fee": 3000, "free_from": 50000, "currency": "KRW"})
    );
    let res = app
        .put_auth(
            "/api/v1/sellers/me/shipping",
            &b.access,
            json!({"base_fee": 2500, "free_from": 20000}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .put_auth(
            "/api/v1/sellers/me/shipping",
            &b.access,
            json!({"base_fee": -1}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let b_product = app
        .product(
            &b,
            ProductSpec::on_sale("책", 25_000).variant("ORD-BOOK", 10),
        )
        .await;
    let book = variant_id(&b_product, 0).to_string();
    let buyer = app.buyer("ord.ship.buyer@example.com").await;
    let res = app
        .put_auth(
            "/api/v1/sellers/me/shipping",
            &buyer.access,
            json!({"base_fee": 0}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let order: Value = app
        .buy_now(&buyer, &[(&a_mug, 1), (&book, 1)])
        .await
        .json()
        .await
        .unwrap();
    // Seller a: 12,000 + 3,000; seller b: 25,000 ≥ 20,000, free.
    assert_eq!(order["items_total"], 37_000);
    assert_eq!(order["shipping_total"], 3_000);
    assert_eq!(order["total"], 40_000);
    let fees: Vec<i64> = order["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["shipping_fee"].as_i64().unwrap())
        .collect();
    assert_eq!(fees.iter().sum::<i64>(), 3_000);
    assert_eq!(fees.len(), 2);

    // Each seller sees only their part; a third party nothing.
    let id = order["id"].as_str().unwrap();
    let b_view = app
        .get_json(&format!("/api/v1/orders/{id}"), Some(&b.access))
        .await;
    assert_eq!(b_view["partial"], true);
    assert_eq!(b_view["lines"].as_array().unwrap().len(), 1);
    assert_eq!(b_view["lines"][0]["sku"], "ORD-BOOK");
    assert_eq!(b_view["total"], 25_000);
    let b_list = app
        .get_json("/api/v1/sellers/me/orders", Some(&b.access))
        .await;
    assert_eq!(b_list["items"][0]["id"], id);
    assert_eq!(b_list["items"][0]["lines"].as_array().unwrap().len(), 1);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn orders_are_visible_only_to_their_buyer_their_sellers_and_admins() {
    let app = spawn_app().await;
    let (seller, _product, m, _l) = shop(&app, "ord.vis.seller@example.com").await;
    let owner = app.buyer("ord.vis.owner@example.com").await;
    let stranger = app.buyer("ord.vis.stranger@example.com").await;
    let other_seller = app.seller("ord.vis.other@example.com").await;
    let order: Value = app.buy_now(&owner, &[(&m, 1)]).await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let path = format!("/api/v1/orders/{id}");

    for token in [&stranger.access, &other_seller.access] {
        let res = app.get_auth(&path, token).await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        let res = app
            .post_auth(&format!("{path}/cancel"), token, json!({}))
            .await;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let list = app.get_json("/api/v1/orders", Some(&stranger.access)).await;
    assert_eq!(list["items"], json!([]));
    let list = app
        .get_json("/api/v1/sellers/me/orders", Some(&other_seller.access))
        .await;
    assert_eq!(list["items"], json!([]));
    // The seller sees it but may not cancel the buyer's order.
    assert_eq!(
        app.get_auth(&path, &seller.access).await.status(),
        StatusCode::OK
    );
    let res = app
        .post_auth(&format!("{path}/cancel"), &seller.access, json!({}))
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.get_auth("/api/v1/admin/orders", &owner.access).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .get_auth("/api/v1/sellers/me/orders", &owner.access)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let admin = app.admin().await;
    let all = app
        .get_json("/api/v1/admin/orders?status=PENDING", Some(&admin.access))
        .await;
    assert_eq!(all["items"][0]["id"], id);
    let none = app
        .get_json("/api/v1/admin/orders?status=CANCELLED", Some(&admin.access))
        .await;
    assert_eq!(none["items"], json!([]));
    let res = app
        .get_auth("/api/v1/admin/orders?status=LOST", &admin.access)
        .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    let whole = app.get_json(&path, Some(&admin.access)).await;
    assert_eq!(whole["partial"], false);

    // An admin may cancel any unpaid order.
    let res = app
        .post_auth(&format!("{path}/cancel"), &admin.access, json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(cancelled["cancel_reason"], "ADMIN");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn history_pages_newest_first() {
    let app = spawn_app().await;
    let (_seller, _product, m, _l) = shop(&app, "ord.page.seller@example.com").await;
    let buyer = app.buyer("ord.page@example.com").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let o: Value = app.buy_now(&buyer, &[(&m, 1)]).await.json().await.unwrap();
        ids.push(o["id"].as_str().unwrap().to_owned());
    }
    ids.reverse();
    let first = app
        .get_json("/api/v1/orders?limit=3", Some(&buyer.access))
        .await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(
            &format!("/api/v1/orders?limit=3&after={cursor}"),
            Some(&buyer.access),
        )
        .await;
    let seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, ids);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn the_last_unit_sells_out_the_product_and_a_cancel_puts_it_back_on_sale() {
    let app = spawn_app().await;
    let seller = app.seller("ord.last.seller@example.com").await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("마지막 한 개", 5_000).variant("ORD-ONE", 1),
        )
        .await;
    let pid = product["id"].as_str().unwrap();
    let v = variant_id(&product, 0).to_string();
    let buyer = app.buyer("ord.last@example.com").await;
    let order: Value = app.buy_now(&buyer, &[(&v, 1)]).await.json().await.unwrap();
    assert_eq!(product_status(&app, pid).await, "SOLD_OUT");
    let res = app.buy_now(&buyer, &[(&v, 1)]).await;
    let p = assert_problem(res, StatusCode::CONFLICT, "insufficient_stock").await;
    assert_eq!(p["shortages"][0]["available"], 0);

    let path = format!("/api/v1/orders/{}/cancel", order["id"].as_str().unwrap());
    let res = app.post_auth(&path, &buyer.access, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["cancel_reason"], "BUYER");
    assert_eq!(stock(&app, &v).await, 1);
    assert_eq!(product_status(&app, pid).await, "ON_SALE");
    let res = app.post_auth(&path, &buyer.access, json!({})).await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    assert_eq!(stock(&app, &v).await, 1, "returned once");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn the_last_units_of_two_variants_bought_at_once_sell_out_the_product() {
    // Each order sees only its own variant run out; the product is SOLD_OUT only when both
    // are gone, which neither transaction alone can see (checked after the commit).
    let app = spawn_app().await;
    let seller = app.seller("ord.two.seller@example.com").await;
    let buyers = app.buyers("ord.two", 2).await;
    for round in 0..20 {
        let product = app
            .product(
                &seller,
                ProductSpec::on_sale("마지막 두 개", 5_000)
                    .variant(&format!("ORD-TWO-A{round}"), 1)
                    .variant(&format!("ORD-TWO-B{round}"), 1),
            )
            .await;
        let pid = product["id"].as_str().unwrap();
        let (a, b) = (
            variant_id(&product, 0).to_string(),
            variant_id(&product, 1).to_string(),
        );
        let (one_a, one_b) = ([(a.as_str(), 1)], [(b.as_str(), 1)]);
        let (x, y) = tokio::join!(
            app.buy_now(&buyers[0], &one_a),
            app.buy_now(&buyers[1], &one_b)
        );
        assert_eq!(
            (x.status(), y.status()),
            (StatusCode::CREATED, StatusCode::CREATED)
        );
        assert_eq!(product_status(&app, pid).await, "SOLD_OUT", "round {round}");
    }
    assert_invariants(&app).await;
}

#[tokio::test]
async fn an_unpaid_order_is_cancelled_at_its_deadline_and_its_stock_returned() {
    let app = spawn_app().await;
    let (_seller, _product, m, l) = shop(&app, "ord.late.seller@example.com").await;
    let buyer = app.buyer("ord.late@example.com").await;
    let order: Value = app
        .buy_now(&buyer, &[(&m, 5), (&l, 3)])
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    app.clock.advance(chrono::Duration::minutes(14));
    app.run_jobs().await;
    assert_eq!(
        app.get_json(&path, Some(&buyer.access)).await["status"],
        "PENDING"
    );
    assert_eq!(stock(&app, &l).await, 0);

    app.clock.advance(chrono::Duration::minutes(2));
    app.run_jobs().await;
    // Access tokens live 15 minutes: a fresh one.
    let token = app.token_for(buyer.user_id.into(), jangteo_core::Role::User);
    let late = app.get_json(&path, Some(&token)).await;
    assert_eq!(late["status"], "CANCELLED");
    assert_eq!(late["cancel_reason"], "PAYMENT_TIMEOUT");
    assert_eq!((stock(&app, &m).await, stock(&app, &l).await), (50, 3));
    assert_invariants(&app).await;
}

#[tokio::test]
async fn concurrent_cancellations_return_the_stock_once() {
    let app = spawn_app().await;
    let (_seller, _product, m, _l) = shop(&app, "ord.cc.seller@example.com").await;
    let buyer = app.buyer("ord.cc@example.com").await;
    let order: Value = app.buy_now(&buyer, &[(&m, 7)]).await.json().await.unwrap();
    let id = order["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/orders/{id}/cancel");
    // The buyer taps cancel ten times while the deadline sweep runs.
    app.clock.advance(chrono::Duration::minutes(16));
    let buyer = Buyer {
        access: app.token_for(buyer.user_id.into(), jangteo_core::Role::User),
        ..buyer
    };
    let taps = join_all((0..10).map(|_| app.post_auth(&path, &buyer.access, json!({}))));
    let (results, _) = tokio::join!(taps, app.run_jobs());
    let ok = results
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    let conflict = results
        .iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
        .count();
    assert!(
        ok <= 1 && ok + conflict == 10,
        "{ok} ok, {conflict} conflicts: {:?}",
        results.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
    assert_eq!(stock(&app, &m).await, 50);
    let returns = inventory_ledger::Entity::find()
        .filter(inventory_ledger::Column::Reference.eq(id.as_str()))
        .filter(inventory_ledger::Column::Reason.eq("CANCEL"))
        .count(app.services.db())
        .await
        .unwrap();
    assert_eq!(returns, 1, "one return for the one line");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn five_hundred_buyers_racing_for_a_hundred_units_get_exactly_a_hundred_orders() {
    let app = spawn_app().await;
    let seller = app.seller("ord.rush.seller@example.com").await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("한정 머그", 30_000).variant("ORD-RUSH", 100),
        )
        .await;
    let v = variant_id(&product, 0).to_string();
    let buyers = app.buyers("ord.rush", 500).await;
    let one = [(v.as_str(), 1)];
    let results = join_all(buyers.iter().map(|b| app.buy_now(b, &one))).await;
    let placed = results
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    let mut refused = 0;
    for r in results {
        if r.status() != StatusCode::CREATED {
            assert_problem(r, StatusCode::CONFLICT, "insufficient_stock").await;
            refused += 1;
        }
    }
    assert_eq!((placed, refused), (100, 400));
    assert_eq!(stock(&app, &v).await, 0);
    assert_eq!(order_count(&app).await, 100);
    assert_eq!(
        product_status(&app, product["id"].as_str().unwrap()).await,
        "SOLD_OUT"
    );
    assert_invariants(&app).await;
}

#[tokio::test]
async fn the_last_unit_is_sold_once_in_every_one_of_200_rounds() {
    let app = spawn_app().await;
    let seller = app.seller("ord.rounds.seller@example.com").await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("라운드", 1_000).variant("ORD-ROUND", 1),
        )
        .await;
    let pid = product["id"].as_str().unwrap();
    let v = variant_id(&product, 0).to_string();
    let restock = format!("/api/v1/products/{pid}/variants/{v}/stock-adjustments");
    let buyers = app.buyers("ord.round", 4).await;
    let mut doubled = Vec::new();
    for round in 0..200 {
        if round > 0 {
            let res = app
                .post_auth(
                    &restock,
                    &seller.access,
                    json!({"delta": 1, "reason": "RESTOCK"}),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        let one = [(v.as_str(), 1)];
        let results = join_all(buyers.iter().map(|b| app.buy_now(b, &one))).await;
        let won = results
            .iter()
            .filter(|r| r.status() == StatusCode::CREATED)
            .count();
        assert!(
            results
                .iter()
                .all(|r| r.status() == StatusCode::CREATED || r.status() == StatusCode::CONFLICT),
            "round {round}: only 201 and 409"
        );
        if won != 1 {
            doubled.push((round, won));
        }
    }
    assert!(
        doubled.is_empty(),
        "rounds without exactly one sale: {doubled:?}"
    );
    assert_eq!(order_count(&app).await, 200);
    assert_eq!(stock(&app, &v).await, 0);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn orders_naming_the_same_variants_in_opposite_orders_never_deadlock() {
    let app = spawn_app().await;
    let (_seller, _product, m, _l) = shop(&app, "ord.dl.seller@example.com").await;
    let seller2 = app.seller("ord.dl.seller2@example.com").await;
    let other = app
        .product(
            &seller2,
            ProductSpec::on_sale("다른 상품", 2_000).variant("ORD-DL", 1000),
        )
        .await;
    let o = variant_id(&other, 0).to_string();
    let buyers = app.buyers("ord.dl", 60).await;
    let app = &app;
    let (m, o) = (&m, &o);
    let results = join_all(buyers.iter().enumerate().map(|(i, b)| {
        let items = if i % 2 == 0 {
            vec![(m.as_str(), 1), (o.as_str(), 1)]
        } else {
            vec![(o.as_str(), 1), (m.as_str(), 1)]
        };
        async move { app.buy_now(b, &items).await }
    }))
    .await;
    let statuses: Vec<StatusCode> = results.iter().map(|r| r.status()).collect();
    let placed = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(placed, 50, "50 units of M: {statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(stock(app, m).await, 0);
    assert_eq!(stock(app, o).await, 950);
    assert_invariants(app).await;
}

#[tokio::test]
async fn one_idempotency_key_places_one_order() {
    let app = spawn_app().await;
    let (_seller, _product, m, _l) = shop(&app, "ord.key.seller@example.com").await;
    let buyer = app.buyer("ord.key@example.com").await;
    let body = json!({"address_id": buyer.address_id, "items": [{"variant_id": m, "quantity": 2}]});
    let send = |body: Value| {
        app.http
            .post(app.url("/api/v1/orders"))
            .bearer_auth(&buyer.access)
            .header("Idempotency-Key", "checkout-1")
            .json(&body)
            .send()
    };
    let results = join_all((0..20).map(|_| send(body.clone()))).await;
    let mut ids = std::collections::HashSet::new();
    for r in results {
        let r = r.unwrap();
        match r.status() {
            StatusCode::CREATED => {
                let o: Value = r.json().await.unwrap();
                ids.insert(o["id"].as_str().unwrap().to_owned());
            }
            StatusCode::CONFLICT => {
                assert_problem(r, StatusCode::CONFLICT, "idempotency_key_in_use").await;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ids.len(), 1, "every success is the one order");
    assert_eq!(order_count(&app).await, 1);
    assert_eq!(stock(&app, &m).await, 48);
    let replay = send(body.clone()).await.unwrap();
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let other =
        json!({"address_id": buyer.address_id, "items": [{"variant_id": m, "quantity": 3}]});
    let res = send(other).await.unwrap();
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(stock(&app, &m).await, 48);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_retried_cart_checkout_answers_the_order_it_placed_though_the_cart_is_empty_now() {
    let app = spawn_app().await;
    let (_seller, _product, m, _l) = shop(&app, "ord.cartkey.seller@example.com").await;
    let buyer = app.buyer("ord.cartkey@example.com").await;
    let res = app
        .post_auth(
            "/api/v1/cart/items",
            &buyer.access,
            json!({"variant_id": m, "quantity": 2}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let send = || {
        app.http
            .post(app.url("/api/v1/orders"))
            .bearer_auth(&buyer.access)
            .header("Idempotency-Key", "cart-checkout-1")
            .json(&json!({"address_id": buyer.address_id}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    // The answer was lost; the client retries. The cart is empty by now.
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(order_count(&app).await, 1);
    assert_eq!(stock(&app, &m).await, 48);
    // Without the key, an empty cart is what it is.
    let res = app
        .post_auth(
            "/api/v1/orders",
            &buyer.access,
            json!({"address_id": buyer.address_id}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "nothing_selected").await;
    assert_invariants(&app).await;
}
