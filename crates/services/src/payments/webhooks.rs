//! Gateway webhooks. Toss Payments signs none of its payment webhooks: a
//! `PAYMENT_STATUS_CHANGED` event only names the payment (`data.orderId`, our attempt id),
//! and the attempt is settled by asking Toss (`GET /v1/payments/{paymentKey}`), so a forged
//! event can at most make us look. PortOne V2 signs its webhooks with Standard Webhooks (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`: HMAC-SHA256 over `id.timestamp.body` with the
//! console's secret, five minutes of tolerance); a webhook that fails the check is refused
//! and changes nothing. A verified one is only a hint: the attempt it names is settled by
//! asking PortOne (`GET /payments/{id}`), exactly as reconciliation does, so a replayed or
//! reordered webhook cannot pay an order PortOne did not charge.

use jangteo_core::ids::PaymentId;
use standardwebhooks::Webhook;

use super::Payments;
use crate::{ServiceError, ServiceResult};

impl Payments<'_> {
    /// Handles one PortOne webhook; `Ok` once it is verified (unknown payments and event
    /// types included, so PortOne stops retrying them).
    pub async fn portone_webhook(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> ServiceResult<()> {
        let secret = jangteo_core::secret::Secret::configured(
            &self.s.payment_settings.portone.webhook_secret,
        )
        .ok_or(ServiceError::NotFound("webhook"))?;
        let hook = Webhook::new(secret).map_err(|e| {
            ServiceError::Internal(anyhow::anyhow!("payments.portone.webhook_secret: {e}"))
        })?;
        hook.verify(body, headers).map_err(|e| {
            tracing::warn!(error = %e, "PortOne webhook refused");
            ServiceError::unauthorized("invalid_signature", format!("webhook refused: {e}"))
        })?;
        let event: serde_json::Value =
            serde_json::from_slice(body).map_err(|_| ServiceError::Unprocessable {
                code: "invalid_webhook",
                detail: "the webhook body is not JSON".into(),
            })?;
        let kind = event["type"].as_str().unwrap_or_default();
        let Some(id) = event["data"]["paymentId"]
            .as_str()
            .and_then(|s| s.parse::<PaymentId>().ok())
        else {
            return Ok(());
        };
        if kind.starts_with("Transaction.") && self.s.gateways.get("portone").is_some() {
            // A confirm in progress holds the claim and will settle it; otherwise settle now.
            if let Ok(true) = self.reconcile_one(id, self.stale_claims()).await {
                tracing::info!(payment_id = %id, %kind, "payment settled from a webhook");
            }
        }
        Ok(())
    }

    /// Handles one Toss Payments webhook: `Ok` for any well-formed event (unknown payments
    /// and event types included, so Toss stops retrying them).
    pub async fn toss_webhook(&self, body: &[u8]) -> ServiceResult<()> {
        if self.s.gateways.get("toss").is_none() {
            return Err(ServiceError::NotFound("webhook"));
        }
        let event: serde_json::Value =
            serde_json::from_slice(body).map_err(|_| ServiceError::Unprocessable {
                code: "invalid_webhook",
                detail: "the webhook body is not JSON".into(),
            })?;
        if event["eventType"].as_str() != Some("PAYMENT_STATUS_CHANGED") {
            return Ok(());
        }
        let Some(id) = event["data"]["orderId"]
            .as_str()
            .and_then(|s| s.parse::<PaymentId>().ok())
        else {
            return Ok(());
        };
        // The attempt is read back from its own gateway (whatever the body claims), and one
        // a live confirm is settling is left to it.
        if let Ok(true) = self.reconcile_one(id, self.stale_claims()).await {
            tracing::info!(payment_id = %id, "payment settled from a Toss webhook");
        }
        Ok(())
    }
}
