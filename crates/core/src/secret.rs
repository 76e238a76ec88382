//! A secret from the configuration (a gateway key, a signing secret): read with
//! [`Secret::expose`] where it is used, and nowhere else. `Debug` prints `***`, so a
//! settings struct that derives `Debug` can be logged whole without leaking it.

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the request or signature that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A configured secret: set and not empty (an empty environment variable is unset).
    pub fn configured(secret: &Option<Secret>) -> Option<&str> {
        secret
            .as_ref()
            .map(Secret::expose)
            .filter(|s| !s.is_empty())
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret_and_serde_keeps_it_a_plain_string() {
        let s = Secret::new("test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(
            format!("{:?}", Some(s.clone())),
            "Some(***)",
            "inside a derived Debug too"
        );
        let json = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(json, "\"test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R\"");
        let back: Secret = serde_json::from_str(&json).unwrap_or_else(|_| Secret::new(""));
        assert_eq!(back.expose(), s.expose());
        assert_eq!(Secret::configured(&Some(s.clone())), Some(s.expose()));
        assert_eq!(
            Secret::configured(&Some(Secret::new(""))),
            None,
            "empty is unset"
        );
        assert_eq!(Secret::configured(&None), None);
    }
}
