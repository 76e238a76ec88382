use std::path::PathBuf;

use anyhow::Context;
use jangteo_core::mask;

use super::{Mail, Mailer, build_message};

/// Writes each message to `<dir>/<time>-<id>.eml`: the zero-setup default, and what a
/// developer opens to read a verification code.
pub struct FileMailer {
    dir: PathBuf,
    from: String,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: String) -> Self {
        Self { dir, from }
    }
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        let message = build_message(&self.from, mail)?.formatted();
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            uuid::Uuid::now_v7()
        );
        let path = self.dir.join(name);
        // The directory is made when a write finds it missing (the first mail, or after an
        // operator removed it), not before every mail: each is a trip to the blocking pool,
        // and order mails come two per paid order.
        let written = match tokio::fs::write(&path, &message).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tokio::fs::create_dir_all(&self.dir)
                    .await
                    .with_context(|| format!("creating {}", self.dir.display()))?;
                tokio::fs::write(&path, &message).await
            }
            other => other,
        };
        written.with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(to = %mask::personal_data(&mail.to), subject = %mail.subject, path = %path.display(), "mail written");
        Ok(())
    }
}
