//! E-mail addresses, normalised once at the edge so that uniqueness is decided on one form.

use crate::validation::FieldErrors;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses and normalises (trim, lowercase). Deliberately stricter than RFC 5322: quoted
    /// local parts and IP-literal domains are refused because no real shopper uses them and
    /// they complicate every downstream system (SMTP relays, CRM exports).
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldErrors> {
        let value = raw.trim().to_lowercase();
        let invalid = |msg: &str| Err(FieldErrors::single(field, "invalid_format", msg));
        if value.is_empty() {
            return Err(FieldErrors::single(
                field,
                "required",
                "e-mail address is required",
            ));
        }
        if value.len() > 254 {
            return invalid("e-mail address must be at most 254 characters");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return invalid("e-mail address must contain @");
        };
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return invalid("e-mail address has an invalid local part");
        }
        let local_ok = local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok {
            return invalid("e-mail address has an invalid local part");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !domain_ok {
            return invalid("e-mail address has an invalid domain");
        }
        Ok(Self(value))
    }

    /// Rebuilds an address already validated and stored by us.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(
            Email::parse("e", "  Kim@Example.COM ").unwrap().as_str(),
            "kim@example.com"
        );
        assert!(Email::parse("e", "김철수@예시.한국").is_ok());
    }

    #[test]
    fn refuses_bad_forms() {
        for bad in [
            "",
            "plain",
            "@x.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@-b.com",
            "a..b@c.com",
            ".a@c.com",
            "a@b..com",
        ] {
            assert!(Email::parse("e", bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse("e", &long).is_err());
    }
}
