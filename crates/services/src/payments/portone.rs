//! PortOne V2 (`../shared/notes/payments-and-logins.md` §2). The buyer pays through
//! PortOne's browser SDK with our payment id as `paymentId` (PortOne lets the merchant
//! choose it, which makes it the natural idempotency key); then our confirm reads
//! `GET /payments/{paymentId}` and takes it only if PortOne says PAID for the order's total.
//! Refunds are `POST /payments/{paymentId}/cancel`; PortOne takes no idempotency key, so each
//! cancel names `currentCancellableAmount` (what was paid less the refunds decided before
//! this one): a retry of a cancel that went through is refused as inconsistent, and the
//! adapter then finds its refund already made (or, for the cancel that emptied the payment,
//! is told `PAYMENT_ALREADY_CANCELLED`). Webhooks (Standard Webhooks signatures) are
//! verified in `webhooks.rs`. Auth: `Authorization: PortOne {API_SECRET}`.

use jangteo_core::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ports::payment::{
    Confirmation, GatewayError, GatewayPayment, GatewayStatus, PaymentGateway, PaymentStart,
    Refund, Started,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortOneSettings {
    /// The V2 API secret; PortOne is offered only when this is set.
    pub api_secret: Option<Secret>,
    /// The webhook secret (`whsec_…`) of the console's webhook settings.
    pub webhook_secret: Option<Secret>,
    pub base_url: String,
    pub timeout_ms: u64,
}

impl Default for PortOneSettings {
    fn default() -> Self {
        Self {
            api_secret: None,
            webhook_secret: None,
            base_url: "https://api.portone.io".into(),
            timeout_ms: 10_000,
        }
    }
}

pub struct PortOne {
    http: reqwest::Client,
    base: String,
    authorization: String,
}

impl PortOne {
    pub fn new(settings: &PortOneSettings) -> anyhow::Result<Option<Self>> {
        let Some(secret) = Secret::configured(&settings.api_secret) else {
            return Ok(None);
        };
        let http = super::http::client(settings.timeout_ms)?;
        Ok(Some(Self {
            http,
            base: settings.base_url.trim_end_matches('/').to_owned(),
            authorization: format!("PortOne {secret}"),
        }))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, GatewayError> {
        let res = req
            .header("Authorization", &self.authorization)
            .send()
            .await
            .map_err(|e| super::http::unanswered("portone", &e))?;
        let status = res.status();
        let body: Value = res
            .json()
            .await
            .map_err(|e| super::http::unanswered("portone", &e))?;
        if status.is_success() {
            return Ok(body);
        }
        let code = body["type"].as_str().unwrap_or("UNKNOWN").to_owned();
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        Err(if status.is_server_error() || code == "PG_PROVIDER" {
            GatewayError::Unavailable(format!("portone {status} {code}: {message}"))
        } else {
            GatewayError::Rejected { code, message }
        })
    }

    async fn get(&self, payment_id: &str) -> Result<Option<Value>, GatewayError> {
        let req = self
            .http
            .get(format!("{}/payments/{payment_id}", self.base));
        match self.send(req).await {
            Ok(body) => Ok(Some(body)),
            Err(GatewayError::Rejected { code, .. }) if code == "PAYMENT_NOT_FOUND" => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A PortOne Payment as the port's report.
fn payment_of(id: &str, body: &Value) -> GatewayPayment {
    let amount = &body["amount"];
    let total = amount["total"].as_i64().unwrap_or(0);
    let status = match body["status"].as_str().unwrap_or_default() {
        "PAID" => GatewayStatus::Paid,
        "PARTIAL_CANCELLED" => GatewayStatus::PartiallyCancelled,
        "CANCELLED" => GatewayStatus::Cancelled,
        "FAILED" => GatewayStatus::Failed,
        _ => GatewayStatus::Pending,
    };
    GatewayPayment {
        gateway_key: id.to_owned(),
        status,
        total,
        cancelled: amount["cancelled"].as_i64().unwrap_or(0),
    }
}

#[async_trait::async_trait]
impl PaymentGateway for PortOne {
    fn provider(&self) -> &'static str {
        "portone"
    }

    /// The buyer's client pays through PortOne's SDK with our payment id; nothing here.
    async fn start(&self, _payment: &PaymentStart) -> Result<Started, GatewayError> {
        Ok(Started::default())
    }

    async fn confirm(&self, c: &Confirmation) -> Result<GatewayPayment, GatewayError> {
        let Some(body) = self.get(&c.reference).await? else {
            return Ok(GatewayPayment {
                gateway_key: c.reference.clone(),
                status: GatewayStatus::Pending,
                total: 0,
                cancelled: 0,
            });
        };
        let payment = payment_of(&c.reference, &body);
        if payment.status == GatewayStatus::Failed {
            let failure = &body["failure"];
            return Err(GatewayError::Declined {
                code: failure["pgCode"].as_str().unwrap_or("FAILED").to_owned(),
                message: failure["reason"]
                    .as_str()
                    .or(failure["pgMessage"].as_str())
                    .unwrap_or("the payment failed")
                    .to_owned(),
            });
        }
        Ok(payment)
    }

    async fn cancel(&self, refund: &Refund) -> Result<GatewayPayment, GatewayError> {
        let id = &refund.reference;
        let Some(before) = self.get(id).await? else {
            return Err(GatewayError::Rejected {
                code: "PAYMENT_NOT_FOUND".into(),
                message: "no such payment".into(),
            });
        };
        let total = before["amount"]["total"].as_i64().unwrap_or(0);
        let req = self
            .http
            .post(format!("{}/payments/{id}/cancel", self.base))
            .json(&json!({
                "reason": refund.reason.chars().take(200).collect::<String>(),
                "amount": refund.amount.minor(),
                "currentCancellableAmount": total - refund.cancelled_before,
            }));
        match self.send(req).await {
            Ok(_) => {}
            Err(GatewayError::Rejected { code, message })
                if code == "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN" =>
            {
                // The amount still cancellable is not what this refund expects: either this
                // very refund went through on an earlier try (done), or an earlier refund has
                // not yet (wait for it).
                let cancelled = before["amount"]["cancelled"].as_i64().unwrap_or(0);
                if cancelled < refund.cancelled_before + refund.amount.minor() {
                    return Err(GatewayError::Unavailable(format!(
                        "portone: an earlier refund is not done yet ({message})"
                    )));
                }
            }
            // Fully cancelled already, so this refund (within what was paid) is in it: a
            // retry of the cancel that emptied the payment.
            Err(GatewayError::Rejected { code, .. }) if code == "PAYMENT_ALREADY_CANCELLED" => {}
            Err(e) => return Err(e),
        }
        let after = self.get(id).await?.unwrap_or(before);
        Ok(payment_of(id, &after))
    }

    async fn lookup(
        &self,
        reference: &str,
        _gateway_key: Option<&str>,
    ) -> Result<Option<GatewayPayment>, GatewayError> {
        Ok(self
            .get(reference)
            .await?
            .map(|body| payment_of(reference, &body)))
    }
}
