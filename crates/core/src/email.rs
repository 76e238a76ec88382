//! E-mail addresses, normalised once at the edge so that uniqueness is decided on one form.

use crate::validation::FieldErrors;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses and normalises (trim, NFC, lowercase). Deliberately stricter than RFC 5322:
    /// quoted local parts and IP-literal domains are refused because no real shopper uses
    /// them and they complicate every downstream system (SMTP relays, CRM exports).
    ///
    /// The address must be ASCII: internationalised local parts need SMTPUTF8 on every
    /// relay, and both they and internationalised domains admit look-alikes (`аdmin`,
    /// `exаmple.com` with a Cyrillic а) that a person cannot tell from the real address.
    /// An internationalised domain is written in its ASCII form (`xn--...`).
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldErrors> {
        let invalid = |msg: &str| Err(FieldErrors::single(field, "invalid_format", msg));
        // Limits and characters are checked on the address as sent (see bounded_text).
        if raw.chars().count() > 254 {
            return invalid("e-mail address must be at most 254 characters");
        }
        if raw.chars().any(crate::validation::is_invisible) {
            return invalid("e-mail address has invisible characters");
        }
        let value = crate::validation::nfc(raw.trim()).to_lowercase();
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
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
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
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
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
        assert!(Email::parse("e", "kim@xn--o39an51b.xn--3e0b707e").is_ok());
    }

    #[test]
    fn refuses_look_alikes() {
        for bad in [
            "김철수@example.com",       // non-ASCII local part
            "\u{0430}dmin@example.com", // Cyrillic а
            "kim@ex\u{0430}mple.com",   // Cyrillic а inside a Latin domain label
            "kim\u{200B}@example.com",  // zero-width space
            "kim@exam\u{200B}ple.com",
            "k\u{0131}m@example.com", // dotless ı
            "kim@예시.한국",          // an internationalised domain, not in its ASCII form
            "kim@пример.рф",
        ] {
            assert!(Email::parse("e", bad).is_err(), "{bad:?} should be refused");
        }
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
