//! A local Toss Payments server for the adapter's tests, following the published core API
//! v1 (`../shared/notes/payments-and-logins.md` §1): Basic auth with the secret key,
//! `POST /v1/payments/confirm`, `POST /v1/payments/{paymentKey}/cancel`,
//! `GET /v1/payments/orders/{orderId}`, `Idempotency-Key` replays, and Toss's error shape
//! `{"code", "message"}`. The buyer's part in Toss's widget is [`TossMock::authorize`]; a
//! test can make the next calls fail with 500s and count every call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};

#[derive(Default)]
struct Payment {
    order_id: String,
    amount: i64,
    balance: i64,
    status: &'static str,
    decline: bool,
    cancels: Vec<Value>,
    /// What Toss reports it charged, when not `amount` (a fault the server must catch).
    charged: Option<i64>,
}

#[derive(Default)]
struct Mock {
    secret: String,
    payments: HashMap<String, Payment>,
    replies: HashMap<String, (StatusCode, Value)>,
    fail_next: usize,
    /// Cancels still to answer 500 (Toss down just when a refund is asked for).
    fail_cancels: usize,
    calls: usize,
    idempotency_keys: Vec<String>,
}

#[derive(Clone)]
pub struct TossMock {
    pub base: String,
    state: Arc<Mutex<Mock>>,
}

type Reply = (StatusCode, Json<Value>);

fn error(status: StatusCode, code: &str, message: &str) -> (StatusCode, Value) {
    (status, json!({"code": code, "message": message}))
}

fn object(key: &str, p: &Payment) -> Value {
    json!({
        "version": "2022-11-16",
        "paymentKey": key,
        "type": "NORMAL",
        "orderId": p.order_id,
        "orderName": "jangteo order",
        "currency": "KRW",
        "method": "카드",
        "totalAmount": p.charged.unwrap_or(p.amount),
        "balanceAmount": p.balance,
        "status": p.status,
        "requestedAt": "2026-12-01T10:00:00+09:00",
        "approvedAt": if p.status == "IN_PROGRESS" { Value::Null } else { json!("2026-12-01T10:00:05+09:00") },
        "cancels": p.cancels,
    })
}

impl TossMock {
    /// Toss will report charging `amount` for `key` instead of the amount confirmed.
    pub fn charges_instead(&self, key: &str, amount: i64) {
        let mut m = self.state.lock().unwrap();
        let p = m.payments.get_mut(key).unwrap();
        p.charged = Some(amount);
        p.balance = amount;
    }

    pub async fn start(secret: &str) -> Self {
        let state = Arc::new(Mutex::new(Mock {
            secret: secret.to_owned(),
            ..Mock::default()
        }));
        let app = Router::new()
            .route("/v1/payments/confirm", post(confirm))
            .route("/v1/payments/{key}/cancel", post(cancel))
            .route("/v1/payments/orders/{order_id}", get(by_order))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, state }
    }

    /// The buyer authenticated in Toss's widget for `order_id` (our payment id): Toss
    /// holds the payment IN_PROGRESS and redirects with this paymentKey.
    pub fn authorize(&self, order_id: &str, amount: i64, decline: bool) -> String {
        let key = format!("tgen_{}", uuid::Uuid::now_v7().simple());
        self.state.lock().unwrap().payments.insert(
            key.clone(),
            Payment {
                order_id: order_id.to_owned(),
                amount,
                balance: amount,
                status: "IN_PROGRESS",
                decline,
                cancels: Vec::new(),
                charged: None,
            },
        );
        key
    }

    /// The next `n` calls answer 500.
    /// The next `n` cancels answer 500.
    pub fn fail_cancels(&self, n: usize) {
        self.state.lock().unwrap().fail_cancels = n;
    }

    pub fn fail_next(&self, n: usize) {
        self.state.lock().unwrap().fail_next = n;
    }

    /// Calls received so far.
    pub fn calls(&self) -> usize {
        self.state.lock().unwrap().calls
    }

    pub fn idempotency_keys(&self) -> Vec<String> {
        self.state.lock().unwrap().idempotency_keys.clone()
    }

    /// What Toss holds for a payment: (status, balance).
    pub fn payment(&self, key: &str) -> Option<(String, i64)> {
        let s = self.state.lock().unwrap();
        s.payments
            .get(key)
            .map(|p| (p.status.to_owned(), p.balance))
    }
}

/// Auth, the injected outage, and the idempotency replay, before any route's own work.
fn gate(m: &mut Mock, headers: &HeaderMap) -> Result<Option<String>, (StatusCode, Value)> {
    m.calls += 1;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", m.secret))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED_KEY",
            "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
        ));
    }
    if m.fail_next > 0 {
        m.fail_next -= 1;
        return Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "FAILED_INTERNAL_SYSTEM_PROCESSING",
            "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요.",
        ));
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(k) = &key {
        m.idempotency_keys.push(k.clone());
        if let Some((status, body)) = m.replies.get(k) {
            return Err((*status, body.clone()));
        }
    }
    Ok(key)
}

fn finish(m: &mut Mock, key: Option<String>, reply: (StatusCode, Value)) -> Reply {
    if let Some(k) = key {
        m.replies.insert(k, reply.clone());
    }
    (reply.0, Json(reply.1))
}

async fn confirm(
    State(s): State<Arc<Mutex<Mock>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Reply {
    let mut m = s.lock().unwrap();
    let idem = match gate(&mut m, &headers) {
        Ok(k) => k,
        Err((st, b)) => return (st, Json(b)),
    };
    let key = body["paymentKey"].as_str().unwrap_or_default().to_owned();
    let reply = match m.payments.get_mut(&key) {
        None => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND_PAYMENT",
            "존재하지 않는 결제 입니다.",
        ),
        Some(p)
            if Some(p.order_id.as_str()) != body["orderId"].as_str()
                || Some(p.amount) != body["amount"].as_i64() =>
        {
            error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "잘못된 요청입니다.",
            )
        }
        Some(p) if p.status != "IN_PROGRESS" => error(
            StatusCode::BAD_REQUEST,
            "ALREADY_PROCESSED_PAYMENT",
            "이미 처리된 결제 입니다.",
        ),
        Some(p) if p.decline => {
            p.status = "ABORTED";
            error(
                StatusCode::FORBIDDEN,
                "REJECT_CARD_PAYMENT",
                "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
            )
        }
        Some(p) => {
            p.status = "DONE";
            (StatusCode::OK, object(&key, p))
        }
    };
    finish(&mut m, idem, reply)
}

async fn cancel(
    State(s): State<Arc<Mutex<Mock>>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Reply {
    let mut m = s.lock().unwrap();
    if m.fail_cancels > 0 {
        m.fail_cancels -= 1;
        let (st, b) = error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "FAILED_INTERNAL_SYSTEM_PROCESSING",
            "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요.",
        );
        return (st, Json(b));
    }
    let idem = match gate(&mut m, &headers) {
        Ok(k) => k,
        Err((st, b)) => return (st, Json(b)),
    };
    let reply = match m.payments.get_mut(&key) {
        None => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND_PAYMENT",
            "존재하지 않는 결제 입니다.",
        ),
        Some(p) => {
            let amount = body["cancelAmount"].as_i64().unwrap_or(p.balance);
            if !["DONE", "PARTIAL_CANCELED"].contains(&p.status) {
                error(
                    StatusCode::FORBIDDEN,
                    "NOT_CANCELABLE_PAYMENT",
                    "취소 할 수 없는 결제 입니다.",
                )
            } else if body["cancelReason"].as_str().unwrap_or_default().is_empty() {
                error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "취소 사유는 필수입니다.",
                )
            } else if amount <= 0 || amount > p.balance {
                error(
                    StatusCode::FORBIDDEN,
                    "NOT_CANCELABLE_AMOUNT",
                    "취소 할 수 없는 금액 입니다.",
                )
            } else {
                p.balance -= amount;
                p.status = if p.balance == 0 {
                    "CANCELED"
                } else {
                    "PARTIAL_CANCELED"
                };
                p.cancels
                    .push(json!({"cancelAmount": amount, "cancelReason": body["cancelReason"]}));
                (StatusCode::OK, object(&key, p))
            }
        }
    };
    finish(&mut m, idem, reply)
}

async fn by_order(
    State(s): State<Arc<Mutex<Mock>>>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let mut m = s.lock().unwrap();
    if let Err((st, b)) = gate(&mut m, &headers) {
        return (st, Json(b));
    }
    let found = m.payments.iter().find(|(_, p)| p.order_id == order_id);
    let reply = match found {
        Some((k, p)) => (StatusCode::OK, object(k, p)),
        None => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND_PAYMENT",
            "존재하지 않는 결제 입니다.",
        ),
    };
    (reply.0, Json(reply.1))
}
