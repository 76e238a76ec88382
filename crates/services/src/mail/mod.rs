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
