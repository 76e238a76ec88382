//! Payments through the fake gateway: two calls pay an order; a decline keeps it PENDING
//! for another attempt; the amount is checked before the gateway is asked; an order is
//! never charged twice, even by racing attempts or after its deadline; refunds, whole or by
//! line, return their units once; shipments move a paid order to COMPLETE.

use futures::future::join_all;
use jangteo_store::entities::{inventory_ledger, payments as payment_rows};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

/// A seller's mug at 12,000 won: M (50 units) and L (+2,000, 3 units).
async fn shop(app: &TestApp, email: &str) -> (Session, String, String) {
    let seller = app.seller(email).await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("결제 머그", 12_000)
                .variant("PAY-M", 50)
                .variant_json(
                    json!({"sku": "PAY-L", "name": "L", "price_delta": 2000, "stock": 3}),
                ),
        )
        .await;
    (
        seller,
        variant_id(&product, 0).to_string(),
        variant_id(&product, 1).to_string(),
    )
}

async fn stock(app: &TestApp, variant: &str) -> i64 {
    jangteo_store::inventory::stock_of(app.services.db(), variant.parse::<Uuid>().unwrap().into())
        .await
        .unwrap()
}

async fn place(app: &TestApp, buyer: &Buyer, items: &[(&str, i64)]) -> Value {
    let res = app.buy_now(buyer, items).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn start(app: &TestApp, buyer: &Buyer, order: &Value, body: Value) -> reqwest::Response {
    let id = order["id"].as_str().unwrap();
    app.post_auth(
        &format!("/api/v1/orders/{id}/payments"),
        &buyer.access,
        body,
    )
    .await
}

async fn started(app: &TestApp, buyer: &Buyer, order: &Value, body: Value) -> Value {
    let res = start(app, buyer, order, body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn confirm(app: &TestApp, buyer: &Buyer, payment: &Value, amount: i64) -> reqwest::Response {
    let id = payment["id"].as_str().unwrap();
    app.post_auth(
        &format!("/api/v1/payments/{id}/confirm"),
        &buyer.access,
        json!({"payment_key": payment["payment_key"], "amount": amount}),
    )
    .await
}

/// Places and pays an order; returns it as the buyer sees it after.
async fn paid_order(app: &TestApp, buyer: &Buyer, items: &[(&str, i64)]) -> Value {
    let order = place(app, buyer, items).await;
    let payment = started(app, buyer, &order, json!({})).await;
    let res = confirm(app, buyer, &payment, order["total"].as_i64().unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    order_of(app, buyer, &order).await
}

async fn order_of(app: &TestApp, buyer: &Buyer, order: &Value) -> Value {
    let id = order["id"].as_str().unwrap();
    app.get_json(&format!("/api/v1/orders/{id}"), Some(&buyer.access))
        .await
}

async fn refund(app: &TestApp, who: &str, order: &Value, body: Value) -> reqwest::Response {
    let id = order["id"].as_str().unwrap();
    app.post_auth(&format!("/api/v1/orders/{id}/refunds"), who, body)
        .await
}

#[tokio::test]
async fn two_calls_pay_an_order_and_a_repeated_confirm_charges_nothing_more() {
    let app = spawn_app().await;
    let (_seller, m, _l) = shop(&app, "pay.seller@example.com").await;
    let kim = app.buyer("pay.kim@example.com").await;
    let order = place(&app, &kim, &[(&m, 2)]).await;
    assert_eq!(order["total"], 27_000);

    let payment = started(&app, &kim, &order, json!({"provider": "fake"})).await;
    assert_eq!(payment["status"], "PENDING");
    assert_eq!(payment["amount"], 27_000);
    assert_eq!(payment["provider"], "fake");
    assert!(
        payment["payment_key"]
            .as_str()
            .unwrap()
            .starts_with("fake_")
    );

    let res = confirm(&app, &kim, &payment, 27_000).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("idempotent-replayed").is_none());
    let paid: Value = res.json().await.unwrap();
    assert_eq!(paid["status"], "PAID");
    assert!(paid["paid_at"].is_string());
    let res = confirm(&app, &kim, &payment, 27_000).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["idempotent-replayed"], "true");

    let now = order_of(&app, &kim, &order).await;
    assert_eq!(now["status"], "ORDERED");
    assert!(now["paid_at"].is_string());
    assert_eq!(now["payments"][0]["status"], "PAID");
    // A paid order takes no further attempt.
    let res = start(&app, &kim, &order, json!({})).await;
    assert_problem(res, StatusCode::CONFLICT, "order_already_paid").await;
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_declined_payment_keeps_the_order_pending_for_another_attempt() {
    let app = spawn_app().await;
    let (_seller, m, _l) = shop(&app, "pay.decline.seller@example.com").await;
    let lee = app.buyer("pay.lee@example.com").await;
    let order = place(&app, &lee, &[(&m, 1)]).await;
    let total = order["total"].as_i64().unwrap();

    let declined = started(&app, &lee, &order, json!({"outcome": "DECLINE"})).await;
    let res = confirm(&app, &lee, &declined, total).await;
    let p = assert_problem(res, StatusCode::PAYMENT_REQUIRED, "payment_declined").await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("REJECT_CARD_PAYMENT")
    );
    let now = order_of(&app, &lee, &order).await;
    assert_eq!(now["status"], "PENDING");
    assert_eq!(now["payments"][0]["status"], "FAILED");
    assert_eq!(now["payments"][0]["failure_code"], "REJECT_CARD_PAYMENT");
    let res = confirm(&app, &lee, &declined, total).await;
    assert_problem(res, StatusCode::CONFLICT, "payment_closed").await;

    // A gateway that fails: 503 with Retry-After, the attempt stays open.
    let flaky = started(&app, &lee, &order, json!({"outcome": "FAIL"})).await;
    let res = confirm(&app, &lee, &flaky, total).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(
        res,
        StatusCode::SERVICE_UNAVAILABLE,
        "payment_gateway_unavailable",
    )
    .await;
    assert_eq!(
        order_of(&app, &lee, &order).await["payments"][1]["status"],
        "PENDING"
    );

    // The amount is checked before the gateway hears of it.
    let good = started(&app, &lee, &order, json!({})).await;
    let res = confirm(&app, &lee, &good, total - 1).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "amount_mismatch").await;
    let res = confirm(&app, &lee, &good, total).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(order_of(&app, &lee, &order).await["status"], "ORDERED");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn bad_payment_requests_are_refused() {
    let app = spawn_app().await;
    let (_seller, m, _l) = shop(&app, "pay.bad.seller@example.com").await;
    let park = app.buyer("pay.park@example.com").await;
    let stranger = app.buyer("pay.stranger@example.com").await;
    let order = place(&app, &park, &[(&m, 1)]).await;
    let res = start(&app, &park, &order, json!({"provider": "paypal"})).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "unknown_provider").await;
    let res = start(&app, &park, &order, json!({"outcome": "MAYBE"})).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = start(&app, &stranger, &order, json!({})).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let payment = started(&app, &park, &order, json!({})).await;
    let res = confirm(&app, &stranger, &payment, 15_000).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let id = payment["id"].as_str().unwrap();
    let res = app
        .post_auth(
            &format!("/api/v1/payments/{id}/confirm"),
            &park.access,
            json!({}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = refund(&app, &park.access, &order, json!({})).await;
    assert_problem(res, StatusCode::CONFLICT, "order_not_paid").await;
    assert_eq!(order_of(&app, &park, &order).await["status"], "PENDING");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_payment_after_the_deadline_is_refused_and_the_order_cancelled() {
    let app = spawn_app().await;
    let (_seller, m, _l) = shop(&app, "pay.late.seller@example.com").await;
    let choi = app.buyer("pay.choi@example.com").await;
    let order = place(&app, &choi, &[(&m, 4)]).await;
    let payment = started(&app, &choi, &order, json!({})).await;
    app.clock.advance(chrono::Duration::minutes(16));
    let choi = Buyer {
        access: app.token_for(choi.user_id.into(), jangteo_core::Role::User),
        ..choi
    };
    let res = confirm(&app, &choi, &payment, order["total"].as_i64().unwrap()).await;
    assert_problem(res, StatusCode::CONFLICT, "order_cancelled").await;
    let now = order_of(&app, &choi, &order).await;
    assert_eq!(now["status"], "CANCELLED");
    assert_eq!(now["cancel_reason"], "PAYMENT_TIMEOUT");
    assert_eq!(stock(&app, &m).await, 50);
    let res = start(&app, &choi, &order, json!({})).await;
    assert_problem(res, StatusCode::CONFLICT, "order_cancelled").await;
    assert_invariants(&app).await;
}

#[tokio::test]
async fn racing_attempts_and_repeated_confirms_charge_an_order_once() {
    let app = spawn_app().await;
    let (_seller, m, _l) = shop(&app, "pay.race.seller@example.com").await;
    let buyer = app.buyer("pay.race@example.com").await;
    let order = place(&app, &buyer, &[(&m, 1)]).await;
    let total = order["total"].as_i64().unwrap();
    let a = started(&app, &buyer, &order, json!({})).await;
    let b = started(&app, &buyer, &order, json!({})).await;
    let mut calls = Vec::new();
    for i in 0..20 {
        let p = if i % 2 == 0 { &a } else { &b };
        calls.push(confirm(&app, &buyer, p, total));
    }
    let results = join_all(calls).await;
    for r in &results {
        assert!(
            [StatusCode::OK, StatusCode::CONFLICT].contains(&r.status()),
            "{}",
            r.status()
        );
    }
    let paid = payment_rows::Entity::find()
        .filter(payment_rows::Column::Status.eq("PAID"))
        .count(app.services.db())
        .await
        .unwrap();
    assert_eq!(paid, 1, "one attempt pays the order");
    let now = order_of(&app, &buyer, &order).await;
    assert_eq!(now["status"], "ORDERED");
    let statuses: Vec<&str> = now["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    // The other attempt was either never charged (still PENDING: its confirms lost the
    // race before the gateway) or charged and refunded at once (CANCELLED).
    assert!(
        statuses.contains(&"PAID")
            && statuses
                .iter()
                .all(|s| ["PAID", "PENDING", "CANCELLED"].contains(s)),
        "{statuses:?}"
    );
    for p in now["payments"].as_array().unwrap() {
        if p["status"] == "CANCELLED" {
            assert_eq!(p["refunded"], total, "a losing charge is refunded whole");
        }
    }
    assert_invariants(&app).await;
}

#[tokio::test]
async fn refunds_by_line_return_their_units_once_and_the_last_cancels_the_order() {
    let app = spawn_app().await;
    let (_seller, m, l) = shop(&app, "pay.refund.seller@example.com").await;
    let buyer = app.buyer("pay.refund@example.com").await;
    // 3 × 12,000 + 14,000 = 50,000: free shipping.
    let order = paid_order(&app, &buyer, &[(&m, 3), (&l, 1)]).await;
    assert_eq!(
        (order["total"].as_i64(), order["shipping_total"].as_i64()),
        (Some(50_000), Some(0))
    );
    assert_eq!((stock(&app, &m).await, stock(&app, &l).await), (47, 2));

    let res = refund(
        &app,
        &buyer.access,
        &order,
        json!({"lines": [{"line_no": 1, "quantity": 1}], "reason": "too many"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["amount"], 12_000);
    assert_eq!(first["status"], "DONE");
    assert_eq!(first["lines"], json!([{"line_no": 1, "quantity": 1}]));
    assert_eq!(stock(&app, &m).await, 48);
    let now = order_of(&app, &buyer, &order).await;
    assert_eq!(now["status"], "ORDERED");
    assert_eq!(now["refunded_total"], 12_000);
    assert_eq!(now["lines"][0]["refunded_quantity"], 1);
    assert_eq!(now["payments"][0]["refunded"], 12_000);
    assert_eq!(now["payments"][0]["status"], "PAID");

    // Ten requests race to refund the one L: one wins.
    let body = json!({"lines": [{"line_no": 2, "quantity": 1}]});
    let results =
        join_all((0..10).map(|_| refund(&app, &buyer.access, &order, body.clone()))).await;
    let won = results
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    assert_eq!(won, 1);
    for r in results {
        if r.status() != StatusCode::CREATED {
            assert_problem(r, StatusCode::CONFLICT, "refund_exceeds_quantity").await;
        }
    }
    assert_eq!(stock(&app, &l).await, 3);

    // Asking for more than is left changes nothing.
    let res = refund(
        &app,
        &buyer.access,
        &order,
        json!({"lines": [{"line_no": 1, "quantity": 3}]}),
    )
    .await;
    assert_problem(res, StatusCode::CONFLICT, "refund_exceeds_quantity").await;
    let res = refund(
        &app,
        &buyer.access,
        &order,
        json!({"lines": [{"line_no": 9, "quantity": 1}]}),
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // The rest: everything left, and the order is cancelled.
    let res = refund(&app, &buyer.access, &order, json!({})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let last: Value = res.json().await.unwrap();
    assert_eq!(last["amount"], 50_000 - 12_000 - 14_000);
    assert_eq!(last["lines"], json!([{"line_no": 1, "quantity": 2}]));
    let now = order_of(&app, &buyer, &order).await;
    assert_eq!(now["status"], "CANCELLED");
    assert_eq!(now["refunded_total"], 50_000);
    assert_eq!(now["payments"][0]["status"], "CANCELLED");
    assert_eq!(now["refunds"].as_array().unwrap().len(), 3);
    assert_eq!((stock(&app, &m).await, stock(&app, &l).await), (50, 3));
    let res = refund(&app, &buyer.access, &order, json!({})).await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    assert_invariants(&app).await;
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_it_whole_and_a_keyed_refund_replays() {
    let app = spawn_app().await;
    let (_seller, m, _l) = shop(&app, "pay.cancel.seller@example.com").await;
    let buyer = app.buyer("pay.cancel@example.com").await;
    let order = paid_order(&app, &buyer, &[(&m, 5)]).await;
    let id = order["id"].as_str().unwrap();
    let res = app
        .post_auth(
            &format!("/api/v1/orders/{id}/cancel"),
            &buyer.access,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["refunds"][0]["amount"], order["total"]);
    assert_eq!(cancelled["refunds"][0]["status"], "DONE");
    assert_eq!(cancelled["payments"][0]["status"], "CANCELLED");
    assert_eq!(stock(&app, &m).await, 50);

    // An admin refunds another buyer's order; the same key answers the same refund.
    let other = paid_order(&app, &buyer, &[(&m, 2)]).await;
    let admin = app.admin().await;
    let oid = other["id"].as_str().unwrap();
    let send = || {
        app.http
            .post(app.url(&format!("/api/v1/orders/{oid}/refunds")))
            .bearer_auth(&admin.access)
            .header("Idempotency-Key", "refund-1")
            .json(&json!({"lines": [{"line_no": 1, "quantity": 1}]}))
            .send()
    };
    let a: Value = send().await.unwrap().json().await.unwrap();
    let res = send().await.unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let b: Value = res.json().await.unwrap();
    assert_eq!(a["id"], b["id"]);
    assert_eq!(stock(&app, &m).await, 49, "one unit back, once");
    let returns = inventory_ledger::Entity::find()
        .filter(inventory_ledger::Column::Reason.eq("CANCEL"))
        .count(app.services.db())
        .await
        .unwrap();
    assert_eq!(returns, 2);
    // Strangers and sellers cannot refund.
    let stranger = app.buyer("pay.cancel.stranger@example.com").await;
    let res = refund(&app, &stranger.access, &other, json!({})).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_invariants(&app).await;
}

#[tokio::test]
async fn shipments_move_in_order_and_the_last_delivery_completes_the_order() {
    let app = spawn_app().await;
    let (a, m, _l) = shop(&app, "pay.ship.a@example.com").await;
    let b = app.seller("pay.ship.b@example.com").await;
    let book = app
        .product(
            &b,
            ProductSpec::on_sale("배송 책", 9_000).variant("PAY-BOOK", 5),
        )
        .await;
    let book = variant_id(&book, 0).to_string();
    let buyer = app.buyer("pay.ship@example.com").await;
    let unpaid = place(&app, &buyer, &[(&m, 1)]).await;
    let ship = |who: &Session, order: &Value, body: Value| {
        let id = order["id"].as_str().unwrap().to_owned();
        let token = who.access.clone();
        let app = &app;
        async move {
            app.put_auth(
                &format!("/api/v1/sellers/me/orders/{id}/shipment"),
                &token,
                body,
            )
            .await
        }
    };
    let res = ship(&a, &unpaid, json!({"status": "IN_TRANSIT"})).await;
    assert_problem(res, StatusCode::CONFLICT, "order_not_shippable").await;

    let order = paid_order(&app, &buyer, &[(&m, 1), (&book, 1)]).await;
    let res = ship(&a, &order, json!({"status": "DELIVERED"})).await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    let res = ship(&a, &order, json!({"status": "SHIPPED"})).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = ship(
        &a,
        &order,
        json!({"status": "IN_TRANSIT", "tracking_number": "CJ-1234"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let part: Value = res.json().await.unwrap();
    assert_eq!(part["partial"], true);
    assert_eq!(part["shipments"][0]["status"], "IN_TRANSIT");
    assert_eq!(part["shipments"][0]["tracking_number"], "CJ-1234");
    let res = ship(&a, &order, json!({"status": "DELIVERED"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(order_of(&app, &buyer, &order).await["status"], "ORDERED");
    // The buyer is no seller; another seller has no shipment here.
    let outsider = app.seller("pay.ship.c@example.com").await;
    let res = ship(&outsider, &order, json!({"status": "IN_TRANSIT"})).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;

    for status in ["IN_TRANSIT", "DELIVERED"] {
        let res = ship(&b, &order, json!({"status": status})).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let done = order_of(&app, &buyer, &order).await;
    assert_eq!(done["status"], "COMPLETE");
    let res = refund(&app, &buyer.access, &order, json!({})).await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    assert_invariants(&app).await;
}

/// The mails written to `email`, oldest first.
fn mails_to(app: &TestApp, email: &str) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(&app.mail_dir)
        .expect("mail directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|m| m.contains(&format!("To: {email}")))
        .collect()
}

#[tokio::test]
async fn a_paid_order_mails_the_buyer_and_each_seller_once() {
    let app = spawn_app().await;
    let (_a, m, _l) = shop(&app, "pay.mail.a@example.com").await;
    let b = app.seller("pay.mail.b@example.com").await;
    let book = app
        .product(
            &b,
            ProductSpec::on_sale("메일 책", 9_000).variant("PAY-MAILBOOK", 5),
        )
        .await;
    let book = variant_id(&book, 0).to_string();
    let buyer = app.buyer("pay.mail.buyer@example.com").await;
    let order = paid_order(&app, &buyer, &[(&m, 1), (&book, 2)]).await;
    app.settle().await;
    app.run_jobs().await;
    let id = order["id"].as_str().unwrap();
    let to_buyer = mails_to(&app, "pay.mail.buyer@example.com");
    let confirmations: Vec<&String> = to_buyer.iter().filter(|m| m.contains(id)).collect();
    assert_eq!(confirmations.len(), 1, "one confirmation");
    assert!(confirmations[0].contains("Subject: Your jangteo order"));
    for seller in ["pay.mail.a@example.com", "pay.mail.b@example.com"] {
        let to_seller: Vec<String> = mails_to(&app, seller)
            .into_iter()
            .filter(|m| m.contains(id))
            .collect();
        assert_eq!(to_seller.len(), 1, "one new-order mail to {seller}");
        assert!(to_seller[0].contains("New jangteo order"));
    }
    // Queued in the subscriber's transaction, with its processed record: a redelivered
    // event finds the record and queues nothing again.
    app.settle().await;
    app.run_jobs().await;
    assert_eq!(
        mails_to(&app, "pay.mail.buyer@example.com")
            .iter()
            .filter(|m| m.contains(id))
            .count(),
        1
    );
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_cancel_racing_the_confirmation_ends_in_one_state_with_stock_and_money_moved_once() {
    let app = spawn_app().await;
    let (_seller, m, _l) = shop(&app, "pay.cr.seller@example.com").await;
    let buyer = app.buyer("pay.cr@example.com").await;
    let (mut paid, mut cancelled) = (0, 0);
    for _ in 0..20 {
        let order = place(&app, &buyer, &[(&m, 1)]).await;
        let total = order["total"].as_i64().unwrap();
        let payment = started(&app, &buyer, &order, json!({})).await;
        let oid = order["id"].as_str().unwrap();
        let cancel_path = format!("/api/v1/orders/{oid}/cancel");
        let (c, x) = tokio::join!(
            confirm(&app, &buyer, &payment, total),
            app.post_auth(&cancel_path, &buyer.access, json!({}))
        );
        assert!([StatusCode::OK, StatusCode::CONFLICT].contains(&c.status()));
        assert!([StatusCode::OK, StatusCode::CONFLICT].contains(&x.status()));
        let now = order_of(&app, &buyer, &order).await;
        let p = &now["payments"][0];
        match now["status"].as_str().unwrap() {
            // Paid and kept, or paid and then refunded in full by the cancel.
            "ORDERED" => {
                assert_eq!(p["status"], "PAID");
                paid += 1;
            }
            "CANCELLED" => {
                assert!(
                    p["status"] == "PENDING"
                        || (p["status"] == "CANCELLED" && p["refunded"] == total),
                    "a cancelled order keeps no charge: {p}"
                );
                cancelled += 1;
            }
            other => panic!("unexpected state {other}"),
        }
    }
    // Every unit is accounted for: sold to a kept order or back in stock.
    assert_eq!(stock(&app, &m).await, 50 - paid);
    assert_eq!(paid + cancelled, 20);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_cancel_retried_with_its_idempotency_key_replays_and_moves_nothing_again() {
    let app = spawn_app().await;
    let (_seller, m, _l) = shop(&app, "pay.ck.seller@example.com").await;
    let buyer = app.buyer("pay.ck@example.com").await;
    let send = |oid: String, key: &'static str| {
        let app = &app;
        let token = buyer.access.clone();
        async move {
            app.http
                .post(app.url(&format!("/api/v1/orders/{oid}/cancel")))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .send()
                .await
                .unwrap()
        }
    };
    // Unpaid: the retry answers the cancelled order instead of 409.
    let unpaid = place(&app, &buyer, &[(&m, 3)]).await;
    let oid = unpaid["id"].as_str().unwrap().to_owned();
    let first = send(oid.clone(), "cancel-1").await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = send(oid.clone(), "cancel-1").await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let res = send(oid, "cancel-other").await;
    assert_problem(res, StatusCode::CONFLICT, "illegal_transition").await;
    assert_eq!(stock(&app, &m).await, 50);

    // Paid: refunded once, the retry replays.
    let paid = paid_order(&app, &buyer, &[(&m, 2)]).await;
    let oid = paid["id"].as_str().unwrap().to_owned();
    let first = send(oid.clone(), "cancel-2").await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = send(oid.clone(), "cancel-2").await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["status"], "CANCELLED");
    assert_eq!(body["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(stock(&app, &m).await, 50);
    assert_invariants(&app).await;
}
