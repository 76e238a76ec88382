//! Toss Payments (core API v1, `../shared/notes/payments-and-logins.md` §1). The buyer pays
//! in Toss's browser widget with our payment id as `orderId` and the order's total as
//! `amount`; Toss redirects to the shop's success URL with `paymentKey`, which the client
//! sends to our confirm. Server side, three calls: `POST /v1/payments/confirm`,
//! `POST /v1/payments/{paymentKey}/cancel` (both with an `Idempotency-Key`, so a retry is
//! answered with the first result) and `GET /v1/payments/orders/{orderId}`. Auth is HTTP
//! Basic with the secret key as the user and an empty password.

use base64::Engine;
use jangteo_core::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ports::payment::{
    Confirmation, GatewayError, GatewayPayment, GatewayStatus, PaymentGateway, PaymentStart,
    Refund, Started,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TossSettings {
    /// `test_sk_…` or `live_sk_…`; Toss is offered only when this is set.
    pub secret_key: Option<Secret>,
    pub base_url: String,
    /// Whole-call limit of one request to Toss.
    pub timeout_ms: u64,
}

impl Default for TossSettings {
    fn default() -> Self {
        Self {
            secret_key: None,
            base_url: "https://api.tosspayments.com".into(),
            timeout_ms: 10_000,
        }
    }
}

pub struct Toss {
    http: reqwest::Client,
    base: String,
    authorization: String,
}

impl Toss {
    pub fn new(settings: &TossSettings) -> anyhow::Result<Option<Self>> {
        let Some(key) = Secret::configured(&settings.secret_key) else {
            return Ok(None);
        };
        let http = super::http::client(settings.timeout_ms)?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
        Ok(Some(Self {
            http,
            base: settings.base_url.trim_end_matches('/').to_owned(),
            authorization: format!("Basic {token}"),
        }))
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        idempotency_key: Option<&str>,
    ) -> Result<Value, GatewayError> {
        let mut req = req.header("Authorization", &self.authorization);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        let res = req
            .send()
            .await
            .map_err(|e| super::http::unanswered("toss", &e))?;
        let status = res.status();
        let body: Value = res
            .json()
            .await
            .map_err(|e| super::http::unanswered("toss", &e))?;
        if status.is_success() {
            return Ok(body);
        }
        let code = body["code"].as_str().unwrap_or("UNKNOWN").to_owned();
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        Err(classify(status.as_u16(), code, message))
    }
}

/// A Toss error as the port's kind: an outage, the buyer's payment refused, or our request.
fn classify(status: u16, code: String, message: String) -> GatewayError {
    const DECLINES: [&str; 12] = [
        "REJECT_CARD_PAYMENT",
        "REJECT_CARD_COMPANY",
        "REJECT_ACCOUNT_PAYMENT",
        "INVALID_REJECT_CARD",
        "INVALID_CARD_EXPIRATION",
        "INVALID_STOPPED_CARD",
        "INVALID_CARD_NUMBER",
        "INVALID_CARD_LOST_OR_STOLEN",
        "EXCEED_MAX_ONE_DAY_AMOUNT",
        "EXCEED_MAX_AMOUNT",
        "INVALID_PASSWORD",
        "FDS_ERROR",
    ];
    if status >= 500 || code == "PROVIDER_ERROR" || code == "CARD_PROCESSING_ERROR" {
        GatewayError::Unavailable(format!("toss {status} {code}: {message}"))
    } else if DECLINES.contains(&code.as_str()) || code == "BELOW_MINIMUM_AMOUNT" {
        GatewayError::Declined { code, message }
    } else {
        GatewayError::Rejected { code, message }
    }
}

/// A Toss Payment object as the port's report.
fn payment_of(body: &Value) -> Result<GatewayPayment, GatewayError> {
    let key = body["paymentKey"]
        .as_str()
        .ok_or_else(|| GatewayError::Unavailable("toss: payment without paymentKey".into()))?;
    let total = body["totalAmount"].as_i64().unwrap_or(0);
    let balance = body["balanceAmount"].as_i64().unwrap_or(total);
    let status = match body["status"].as_str().unwrap_or_default() {
        "DONE" => GatewayStatus::Paid,
        "CANCELED" => GatewayStatus::Cancelled,
        "PARTIAL_CANCELED" => GatewayStatus::PartiallyCancelled,
        "ABORTED" | "EXPIRED" => GatewayStatus::Failed,
        _ => GatewayStatus::Pending,
    };
    Ok(GatewayPayment {
        gateway_key: key.to_owned(),
        status,
        total,
        cancelled: total - balance,
    })
}

#[async_trait::async_trait]
impl PaymentGateway for Toss {
    fn provider(&self) -> &'static str {
        "toss"
    }

    /// Nothing to do at Toss before the buyer pays in its widget.
    async fn start(&self, _payment: &PaymentStart) -> Result<Started, GatewayError> {
        Ok(Started::default())
    }

    async fn confirm(&self, c: &Confirmation) -> Result<GatewayPayment, GatewayError> {
        let key = c
            .gateway_key
            .as_deref()
            .ok_or_else(|| GatewayError::Rejected {
                code: "INVALID_REQUEST".into(),
                message: "paymentKey is required to confirm a Toss payment".into(),
            })?;
        let req = self
            .http
            .post(format!("{}/v1/payments/confirm", self.base))
            .json(&json!({"paymentKey": key, "orderId": c.reference, "amount": c.amount.minor()}));
        match self
            .send(req, Some(&format!("confirm-{}", c.reference)))
            .await
        {
            Ok(body) => payment_of(&body),
            // Confirmed before (a retry that lost its answer): what Toss holds is the truth.
            Err(GatewayError::Rejected { code, .. }) if code == "ALREADY_PROCESSED_PAYMENT" => {
                self.lookup(&c.reference, Some(key)).await?.ok_or_else(|| {
                    GatewayError::Unavailable("toss: processed payment not found".into())
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn cancel(&self, refund: &Refund) -> Result<GatewayPayment, GatewayError> {
        let req = self
            .http
            .post(format!(
                "{}/v1/payments/{}/cancel",
                self.base, refund.gateway_key
            ))
            .json(&json!({
                "cancelReason": refund.reason.chars().take(200).collect::<String>(),
                "cancelAmount": refund.amount.minor(),
            }));
        let body = self.send(req, Some(&refund.idempotency_key)).await?;
        payment_of(&body)
    }

    async fn lookup(
        &self,
        reference: &str,
        _gateway_key: Option<&str>,
    ) -> Result<Option<GatewayPayment>, GatewayError> {
        let req = self
            .http
            .get(format!("{}/v1/payments/orders/{reference}", self.base));
        match self.send(req, None).await {
            Ok(body) => payment_of(&body).map(Some),
            Err(GatewayError::Rejected { code, .. })
                if code == "NOT_FOUND_PAYMENT" || code == "NOT_FOUND" =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}
