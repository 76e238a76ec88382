use std::time::Duration;

use jangteo_core::mask;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Mail, Mailer, build_message};

/// SMTP through lettre. The URL follows lettre's form: `smtp://user:pass@host:587?tls=required`
/// (STARTTLS), `smtps://host:465` (implicit TLS) or `smtp://host:25` (plain, for local relays).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: String,
}

impl SmtpMailer {
    pub fn new(url: &str, from: String) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("invalid SMTP URL: {e}"))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(Self { transport, from })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        let message = build_message(&self.from, mail)?;
        self.transport
            .send(message)
            .await
            .map_err(|e| anyhow::anyhow!("SMTP send failed: {e}"))?;
        tracing::info!(to = %mask::personal_data(&mail.to), subject = %mail.subject, "mail sent over SMTP");
        Ok(())
    }
}
