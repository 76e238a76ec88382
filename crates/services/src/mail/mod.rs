//! The Mailer port. The embedded default writes each message as an `.eml` file (and logs
//! it); SMTP is used when configured. Recipients are masked in every log line.

mod file;
mod smtp;

pub use file::FileMailer;
pub use smtp::SmtpMailer;

use lettre::Message;
use lettre::message::header::ContentType;

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> anyhow::Result<()>;
}

/// Builds the RFC 5322 message once, the same way for every adapter.
pub(crate) fn build_message(from: &str, mail: &Mail) -> anyhow::Result<Message> {
    Ok(Message::builder()
        .from(from.parse()?)
        .to(mail.to.parse()?)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())?)
}

pub fn verification_code(to: &str, code: &str, ttl_minutes: i64) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Your jangteo verification code".into(),
        text: format!(
            "Your jangteo verification code is {code}.\r\n\r\n\
             It expires in {ttl_minutes} minutes. If you did not sign up, ignore this message.\r\n"
        ),
    }
}

/// One line of an order as a mail lists it.
pub struct MailLine<'a> {
    pub product: &'a str,
    pub variant: &'a str,
    pub quantity: i64,
    pub total: i64,
}

fn listed(lines: &[MailLine<'_>]) -> String {
    lines
        .iter()
        .map(|l| {
            format!(
                "  - {} ({}) x {}: {} won\r\n",
                l.product, l.variant, l.quantity, l.total
            )
        })
        .collect()
}

/// To the buyer, once the order is paid.
pub fn order_paid(to: &str, order_id: &str, total: i64, lines: &[MailLine<'_>]) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("Your jangteo order {order_id} is confirmed"),
        text: format!(
            "Thank you for your order. We received your payment of {total} won.\r\n\r\n\
             Order {order_id}:\r\n{}\r\nYou can follow it at /api/v1/orders/{order_id}.\r\n",
            listed(lines)
        ),
    }
}

/// To a seller, once an order with their products is paid: what to ship.
pub fn new_order(to: &str, order_id: &str, lines: &[MailLine<'_>]) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("New jangteo order {order_id} to ship"),
        text: format!(
            "A paid order holds your products:\r\n{}\r\n\
             Ship it and record it at /api/v1/sellers/me/orders/{order_id}/shipment.\r\n",
            listed(lines)
        ),
    }
}
