//! A local PortOne V2 server for the adapter's tests, following the published API
//! (`../shared/notes/payments-and-logins.md` §2): `Authorization: PortOne {secret}`,
//! `GET /payments/{paymentId}` (a Payment discriminated by `status`, with `amount {total,
//! paid, cancelled}`), `POST /payments/{paymentId}/cancel` with `currentCancellableAmount`
//! checked, and errors `{"type", "message"}`. The buyer's part in PortOne's SDK is
//! [`PortOneMock::pay`]; a test can make a cancel go through but lose its answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Default)]
struct Payment {
    status: &'static str,
    total: i64,
    cancelled: i64,
}

#[derive(Default)]
struct Mock {
    secret: String,
    payments: HashMap<String, Payment>,
    lose_next_cancel_answer: bool,
    cancels: usize,
    /// Every payment read waits this long (a slow PortOne).
    read_delay_ms: u64,
}

#[derive(Clone)]
pub struct PortOneMock {
    pub base: String,
    state: Arc<Mutex<Mock>>,
}

type Reply = (StatusCode, Json<Value>);

fn error(status: StatusCode, kind: &str, message: &str) -> Reply {
    (status, Json(json!({"type": kind, "message": message})))
}

fn object(id: &str, p: &Payment) -> Value {
    json!({
        "status": p.status,
        "id": id,
        "transactionId": format!("tx-{id}"),
        "merchantId": "merchant-test",
        "storeId": "store-test",
        "version": "V2",
        "orderName": "jangteo order",
        "currency": "KRW",
        "amount": {"total": p.total, "taxFree": 0, "discount": 0, "paid": p.total, "cancelled": p.cancelled, "cancelledTaxFree": 0},
        "failure": if p.status == "FAILED" { json!({"reason": "잔액 부족", "pgCode": "LIMIT", "pgMessage": "한도 초과"}) } else { Value::Null },
    })
}

impl PortOneMock {
    pub async fn start(secret: &str) -> Self {
        let state = Arc::new(Mutex::new(Mock {
            secret: secret.to_owned(),
            ..Mock::default()
        }));
        let app = Router::new()
            .route("/payments/{id}", get(get_payment))
            .route("/payments/{id}/cancel", post(cancel))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, state }
    }

    /// The buyer paid `amount` for `payment_id` in PortOne's SDK.
    pub fn pay(&self, payment_id: &str, amount: i64) {
        self.state.lock().unwrap().payments.insert(
            payment_id.to_owned(),
            Payment {
                status: "PAID",
                total: amount,
                cancelled: 0,
            },
        );
    }

    /// The payment failed at the PG.
    pub fn fail(&self, payment_id: &str, amount: i64) {
        self.state.lock().unwrap().payments.insert(
            payment_id.to_owned(),
            Payment {
                status: "FAILED",
                total: amount,
                cancelled: 0,
            },
        );
    }

    /// The next cancel is carried out, but answered 502 as if the answer were lost.
    pub fn lose_next_cancel_answer(&self) {
        self.state.lock().unwrap().lose_next_cancel_answer = true;
    }

    /// From now on every payment read takes `ms` milliseconds.
    pub fn slow_reads(&self, ms: u64) {
        self.state.lock().unwrap().read_delay_ms = ms;
    }

    /// (status, cancelled amount, cancel calls carried out).
    pub fn state_of(&self, payment_id: &str) -> Option<(String, i64, usize)> {
        let s = self.state.lock().unwrap();
        s.payments
            .get(payment_id)
            .map(|p| (p.status.to_owned(), p.cancelled, s.cancels))
    }
}

fn authorized(m: &Mock, headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(format!("PortOne {}", m.secret).as_str())
}

async fn get_payment(
    State(s): State<Arc<Mutex<Mock>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let delay = s.lock().unwrap().read_delay_ms;
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let m = s.lock().unwrap();
    if !authorized(&m, &headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "인증 정보가 올바르지 않습니다.",
        );
    }
    match m.payments.get(&id) {
        Some(p) => (StatusCode::OK, Json(object(&id, p))),
        None => error(
            StatusCode::NOT_FOUND,
            "PAYMENT_NOT_FOUND",
            "결제 건이 존재하지 않습니다.",
        ),
    }
}

async fn cancel(
    State(s): State<Arc<Mutex<Mock>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Reply {
    let mut m = s.lock().unwrap();
    if !authorized(&m, &headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "인증 정보가 올바르지 않습니다.",
        );
    }
    let lose = std::mem::take(&mut m.lose_next_cancel_answer);
    let Some(p) = m.payments.get_mut(&id) else {
        return error(
            StatusCode::NOT_FOUND,
            "PAYMENT_NOT_FOUND",
            "결제 건이 존재하지 않습니다.",
        );
    };
    if p.status == "CANCELLED" {
        return error(
            StatusCode::CONFLICT,
            "PAYMENT_ALREADY_CANCELLED",
            "이미 취소된 결제입니다.",
        );
    }
    if !["PAID", "PARTIAL_CANCELLED"].contains(&p.status) {
        return error(
            StatusCode::CONFLICT,
            "PAYMENT_NOT_PAID",
            "결제가 완료되지 않았습니다.",
        );
    }
    let cancellable = p.total - p.cancelled;
    if let Some(expected) = body["currentCancellableAmount"].as_i64()
        && expected != cancellable
    {
        return error(
            StatusCode::CONFLICT,
            "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN",
            "취소 가능 잔액 검증에 실패했습니다.",
        );
    }
    let amount = body["amount"].as_i64().unwrap_or(cancellable);
    if amount <= 0 || amount > cancellable {
        return error(
            StatusCode::CONFLICT,
            "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT",
            "결제 취소 금액이 취소 가능 금액을 초과합니다.",
        );
    }
    p.cancelled += amount;
    p.status = if p.cancelled == p.total {
        "CANCELLED"
    } else {
        "PARTIAL_CANCELLED"
    };
    m.cancels += 1;
    if lose {
        return error(
            StatusCode::BAD_GATEWAY,
            "PG_PROVIDER",
            "PG사에서 오류가 발생했습니다.",
        );
    }
    (
        StatusCode::OK,
        Json(
            json!({"cancellation": {"status": "SUCCEEDED", "id": format!("cancel-{}", m.cancels),
            "totalAmount": amount, "taxFreeAmount": 0, "vatAmount": 0, "reason": body["reason"],
            "requestedAt": "2026-12-01T01:00:00Z", "cancelledAt": "2026-12-01T01:00:01Z"}}),
        ),
    )
}
