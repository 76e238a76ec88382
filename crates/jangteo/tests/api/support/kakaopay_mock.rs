//! A local KakaoPay server for the adapter's tests, following the published online
//! payment API (`../shared/notes/payments-and-logins.md` §3): `Authorization: SECRET_KEY
//! {secret}`, `POST /online/v1/payment/{ready,approve,order,cancel}` with JSON bodies, a
//! `tid` per ready, approve only with the `pg_token` the buyer brought back and the same
//! partner order and user ids, and cancels checked against `cancel_available_amount`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Default, Clone)]
struct Payment {
    partner_order_id: String,
    partner_user_id: String,
    total: i64,
    status: &'static str,
    pg_token: Option<String>,
    cancelled: i64,
}

#[derive(Default)]
struct Mock {
    secret: String,
    payments: HashMap<String, Payment>,
}

#[derive(Clone)]
pub struct KakaoPayMock {
    pub base: String,
    state: Arc<Mutex<Mock>>,
}

type Reply = (StatusCode, Json<Value>);

fn error(status: StatusCode, code: i64, message: &str) -> Reply {
    (
        status,
        Json(json!({"error_code": code, "error_message": message, "extras": {}})),
    )
}

fn object(tid: &str, p: &Payment) -> Value {
    json!({
        "tid": tid, "cid": "TC0ONETIME", "status": p.status,
        "partner_order_id": p.partner_order_id, "partner_user_id": p.partner_user_id,
        "payment_method_type": "MONEY",
        "amount": {"total": p.total, "tax_free": 0, "vat": p.total / 11, "point": 0, "discount": 0},
        "canceled_amount": {"total": p.cancelled},
        "cancel_available_amount": {"total": p.total - p.cancelled},
        "item_name": "jangteo order", "quantity": 1,
    })
}

impl KakaoPayMock {
    pub async fn start(secret: &str) -> Self {
        let state = Arc::new(Mutex::new(Mock {
            secret: secret.to_owned(),
            ..Mock::default()
        }));
        let app = Router::new()
            .route("/online/v1/payment/{call}", post(call))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, state }
    }

    /// The buyer pays on KakaoPay's page for `tid`; KakaoPay redirects to the approval URL
    /// with this `pg_token`.
    pub fn buyer_pays(&self, tid: &str) -> String {
        let token = format!("pgt_{}", uuid::Uuid::now_v7().simple());
        let mut m = self.state.lock().unwrap();
        let p = m.payments.get_mut(tid).expect("a ready payment");
        p.pg_token = Some(token.clone());
        p.status = "AUTH_PASSWORD";
        token
    }

    /// KakaoPay will report charging `total` for `tid` instead of the amount readied (a
    /// fault the server must catch).
    pub fn charges_instead(&self, tid: &str, total: i64) {
        self.state
            .lock()
            .unwrap()
            .payments
            .get_mut(tid)
            .unwrap()
            .total = total;
    }

    /// (status, cancelled).
    pub fn state_of(&self, tid: &str) -> Option<(String, i64)> {
        let m = self.state.lock().unwrap();
        m.payments
            .get(tid)
            .map(|p| (p.status.to_owned(), p.cancelled))
    }
}

async fn call(
    State(s): State<Arc<Mutex<Mock>>>,
    Path(call): Path<String>,
    headers: HeaderMap,
    Json(b): Json<Value>,
) -> Reply {
    let mut m = s.lock().unwrap();
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(format!("SECRET_KEY {}", m.secret).as_str())
    {
        return error(StatusCode::UNAUTHORIZED, -401, "invalid secret key");
    }
    let tid = b["tid"].as_str().unwrap_or_default().to_owned();
    match call.as_str() {
        "ready" => {
            let tid = format!("T{}", &uuid::Uuid::now_v7().simple().to_string()[..19]);
            let total = b["total_amount"].as_i64().unwrap_or(0);
            if total <= 0 || b["approval_url"].as_str().is_none() {
                return error(StatusCode::BAD_REQUEST, -2, "invalid parameter");
            }
            m.payments.insert(
                tid.clone(),
                Payment {
                    partner_order_id: b["partner_order_id"].as_str().unwrap_or_default().into(),
                    partner_user_id: b["partner_user_id"].as_str().unwrap_or_default().into(),
                    total,
                    status: "READY",
                    ..Payment::default()
                },
            );
            (
                StatusCode::OK,
                Json(json!({"tid": tid,
                    "next_redirect_pc_url": format!("https://online-pay.kakao.com/mockup/v1/{tid}/info"),
                    "next_redirect_mobile_url": format!("https://online-pay.kakao.com/mockup/v1/{tid}/mInfo"),
                    "created_at": "2026-12-01T10:00:00"})),
            )
        }
        "approve" => {
            let Some(p) = m.payments.get_mut(&tid) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    -780,
                    "approval failure: no such tid",
                );
            };
            if p.status != "AUTH_PASSWORD"
                || p.pg_token.as_deref() != b["pg_token"].as_str()
                || Some(p.partner_order_id.as_str()) != b["partner_order_id"].as_str()
                || Some(p.partner_user_id.as_str()) != b["partner_user_id"].as_str()
            {
                return error(StatusCode::BAD_REQUEST, -780, "approval failure");
            }
            p.status = "SUCCESS_PAYMENT";
            let body = object(&tid, p);
            (StatusCode::OK, Json(body))
        }
        "order" => match m.payments.get(&tid) {
            Some(p) => (StatusCode::OK, Json(object(&tid, p))),
            None => error(StatusCode::BAD_REQUEST, -2, "no such tid"),
        },
        "cancel" => {
            let Some(p) = m.payments.get_mut(&tid) else {
                return error(StatusCode::BAD_REQUEST, -2, "no such tid");
            };
            let available = p.total - p.cancelled;
            let amount = b["cancel_amount"].as_i64().unwrap_or(0);
            if !["SUCCESS_PAYMENT", "PART_CANCEL_PAYMENT"].contains(&p.status)
                || b["cancel_available_amount"]
                    .as_i64()
                    .is_some_and(|a| a != available)
                || amount <= 0
                || amount > available
            {
                return error(StatusCode::BAD_REQUEST, -721, "cancel amount invalid");
            }
            p.cancelled += amount;
            p.status = if p.cancelled == p.total {
                "CANCEL_PAYMENT"
            } else {
                "PART_CANCEL_PAYMENT"
            };
            let body = object(&tid, p);
            (StatusCode::OK, Json(body))
        }
        _ => error(StatusCode::NOT_FOUND, -1, "no such API"),
    }
}
