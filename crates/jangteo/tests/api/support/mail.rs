//! Reading the mail the server wrote to its file mailer (verification codes).

use super::app::TestApp;

impl TestApp {
    /// The code of the newest verification mail written for `email` (mail is a job: due
    /// jobs run first).
    pub async fn latest_code(&self, email: &str) -> String {
        self.run_jobs().await;
        let mut files: Vec<_> = std::fs::read_dir(&self.mail_dir)
            .expect("mail directory exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files
            .iter()
            .rev()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .find(|m| m.contains(&format!("To: {email}")))
            .and_then(|m| extract_code(&m))
            .unwrap_or_else(|| panic!("no verification mail for {email}"))
    }
}

/// The six-digit code in a verification mail.
pub fn extract_code(mail: &str) -> Option<String> {
    let at = mail.find("verification code is ")? + "verification code is ".len();
    Some(mail[at..at + 6].to_owned())
}
