//! KakaoPay online single payment (`../shared/notes/payments-and-logins.md` §3): `ready`
//! when the payment starts (KakaoPay answers a `tid` and the page to send the buyer to),
//! `approve` with the `pg_token` KakaoPay appends to the shop's approval URL, `cancel`, and
//! `order` to read a payment. Auth: `Authorization: SECRET_KEY {secret}`. KakaoPay takes no
//! idempotency key: a repeated approve is answered by reading the payment, and a cancel
//! names `cancel_available_amount` (paid − the refunds decided before it) so a retry of one
//! that went through is refused and found done.

use jangteo_core::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ports::payment::{
    Confirmation, GatewayError, GatewayPayment, GatewayStatus, PaymentGateway, PaymentStart,
    Refund, Started,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KakaoPaySettings {
    /// The secret key (`SECRET_KEY …`); KakaoPay is offered only when this is set.
    pub secret_key: Option<Secret>,
    /// The merchant's CID (`TC0ONETIME` is KakaoPay's test CID).
    pub cid: String,
    pub base_url: String,
    /// Where KakaoPay sends the buyer back: after paying (with `?pg_token=`), after
    /// cancelling, after a failure. The shop's own pages.
    pub approval_url: String,
    pub cancel_url: String,
    pub fail_url: String,
    pub timeout_ms: u64,
}

impl Default for KakaoPaySettings {
    fn default() -> Self {
        Self {
            secret_key: None,
            cid: "TC0ONETIME".into(),
            base_url: "https://open-api.kakaopay.com".into(),
            approval_url: "http://localhost:3000/payments/kakaopay/approve".into(),
            cancel_url: "http://localhost:3000/payments/kakaopay/cancel".into(),
            fail_url: "http://localhost:3000/payments/kakaopay/fail".into(),
            timeout_ms: 10_000,
        }
    }
}

pub struct KakaoPay {
    http: reqwest::Client,
    settings: KakaoPaySettings,
    authorization: String,
}

impl KakaoPay {
    pub fn new(settings: &KakaoPaySettings) -> anyhow::Result<Option<Self>> {
        let Some(secret) = Secret::configured(&settings.secret_key) else {
            return Ok(None);
        };
        let http = super::http::client(settings.timeout_ms)?;
        Ok(Some(Self {
            http,
            settings: KakaoPaySettings {
                base_url: settings.base_url.trim_end_matches('/').to_owned(),
                ..settings.clone()
            },
            authorization: format!("SECRET_KEY {secret}"),
        }))
    }

    async fn call(&self, path: &str, body: Value) -> Result<Value, GatewayError> {
        let res = self
            .http
            .post(format!(
                "{}/online/v1/payment/{path}",
                self.settings.base_url
            ))
            .header("Authorization", &self.authorization)
            .json(&body)
            .send()
            .await
            .map_err(|e| super::http::unanswered("kakaopay", &e))?;
        let status = res.status();
        let body: Value = res
            .json()
            .await
            .map_err(|e| super::http::unanswered("kakaopay", &e))?;
        if status.is_success() {
            return Ok(body);
        }
        let code = body["error_code"]
            .as_i64()
            .map(|c| c.to_string())
            .or_else(|| body["error_code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "UNKNOWN".into());
        let message = body["error_message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Err(if status.is_server_error() {
            GatewayError::Unavailable(format!("kakaopay {status} {code}: {message}"))
        } else {
            GatewayError::Rejected { code, message }
        })
    }

    async fn order(&self, tid: &str) -> Result<Option<GatewayPayment>, GatewayError> {
        match self
            .call("order", json!({"cid": self.settings.cid, "tid": tid}))
            .await
        {
            Ok(body) => Ok(Some(payment_of(tid, &body))),
            Err(GatewayError::Rejected { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn payment_of(tid: &str, body: &Value) -> GatewayPayment {
    let total = body["amount"]["total"].as_i64().unwrap_or(0);
    let status = match body["status"].as_str().unwrap_or("SUCCESS_PAYMENT") {
        "SUCCESS_PAYMENT" => GatewayStatus::Paid,
        "PART_CANCEL_PAYMENT" => GatewayStatus::PartiallyCancelled,
        "CANCEL_PAYMENT" => GatewayStatus::Cancelled,
        "FAIL_AUTH_PASSWORD" | "QUIT_PAYMENT" | "FAIL_PAYMENT" => GatewayStatus::Failed,
        _ => GatewayStatus::Pending,
    };
    GatewayPayment {
        gateway_key: tid.to_owned(),
        status,
        total,
        cancelled: body["canceled_amount"]["total"]
            .as_i64()
            .or(body["canceled_amount"].as_i64())
            .unwrap_or(0),
    }
}

#[async_trait::async_trait]
impl PaymentGateway for KakaoPay {
    fn provider(&self) -> &'static str {
        "kakaopay"
    }

    async fn start(&self, p: &PaymentStart) -> Result<Started, GatewayError> {
        let total = p.amount.minor();
        let body = self
            .call(
                "ready",
                json!({
                    "cid": self.settings.cid,
                    "partner_order_id": p.reference,
                    "partner_user_id": p.buyer_reference,
                    "item_name": p.order_name.chars().take(100).collect::<String>(),
                    "quantity": 1,
                    "total_amount": total,
                    "tax_free_amount": 0,
                    "vat_amount": p.vat.minor(),
                    "approval_url": self.settings.approval_url,
                    "cancel_url": self.settings.cancel_url,
                    "fail_url": self.settings.fail_url,
                }),
            )
            .await?;
        let tid = body["tid"]
            .as_str()
            .ok_or_else(|| GatewayError::Unavailable("kakaopay: ready without a tid".into()))?;
        Ok(Started {
            gateway_key: Some(tid.to_owned()),
            redirect_url: body["next_redirect_pc_url"].as_str().map(str::to_owned),
        })
    }

    async fn confirm(&self, c: &Confirmation) -> Result<GatewayPayment, GatewayError> {
        let tid = c.gateway_key.as_deref().unwrap_or_default();
        let Some(token) = c.token.as_deref() else {
            // No token yet: the buyer has not come back from KakaoPay.
            return Ok(self.order(tid).await?.unwrap_or(GatewayPayment {
                gateway_key: tid.to_owned(),
                status: GatewayStatus::Pending,
                total: 0,
                cancelled: 0,
            }));
        };
        let approved = self
            .call(
                "approve",
                json!({
                    "cid": self.settings.cid,
                    "tid": tid,
                    "partner_order_id": c.reference,
                    "partner_user_id": c.buyer_reference,
                    "pg_token": token,
                }),
            )
            .await;
        match approved {
            Ok(body) => Ok(GatewayPayment {
                status: GatewayStatus::Paid,
                ..payment_of(tid, &body)
            }),
            // Approved before (a retry that lost its answer), or refused: KakaoPay's
            // record decides.
            Err(GatewayError::Rejected { code, message }) => match self.order(tid).await? {
                Some(p) if p.status == GatewayStatus::Paid => Ok(p),
                _ => Err(GatewayError::Declined { code, message }),
            },
            Err(e) => Err(e),
        }
    }

    async fn cancel(&self, refund: &Refund) -> Result<GatewayPayment, GatewayError> {
        let tid = &refund.gateway_key;
        let before = self
            .order(tid)
            .await?
            .ok_or_else(|| GatewayError::Rejected {
                code: "NOT_FOUND".into(),
                message: "no such payment".into(),
            })?;
        let result = self
            .call(
                "cancel",
                json!({
                    "cid": self.settings.cid,
                    "tid": tid,
                    "cancel_amount": refund.amount.minor(),
                    "cancel_tax_free_amount": 0,
                    "cancel_available_amount": before.total - refund.cancelled_before,
                }),
            )
            .await;
        match result {
            Ok(body) => Ok(payment_of(tid, &body)),
            Err(GatewayError::Rejected { code, message }) => {
                if before.cancelled >= refund.cancelled_before + refund.amount.minor() {
                    Ok(before)
                } else {
                    Err(GatewayError::Rejected { code, message })
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn lookup(
        &self,
        _reference: &str,
        gateway_key: Option<&str>,
    ) -> Result<Option<GatewayPayment>, GatewayError> {
        match gateway_key {
            Some(tid) => self.order(tid).await,
            None => Ok(None),
        }
    }
}
