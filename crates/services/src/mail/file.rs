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
        let message = build_message(&self.from, mail)?;
        tokio::fs::create_dir_all(&self.dir)
            .await
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            uuid::Uuid::now_v7()
        );
        let path = self.dir.join(name);
        tokio::fs::write(&path, message.formatted())
            .await
            .with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(to = %mask::personal_data(&mail.to), subject = %mail.subject, path = %path.display(), "mail written");
        Ok(())
    }
}
