//! Seller applications: a customer applies with a shop name and a Korean business
//! registration number (사업자등록번호); an admin approves or rejects once.

use crate::validation::{FieldErrors, bounded_text};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Rejected,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "PENDING" => Some(Self::Pending),
            "APPROVED" => Some(Self::Approved),
            "REJECTED" => Some(Self::Rejected),
            _ => None,
        }
    }

    /// Only a pending application can be decided; a decision is final.
    pub fn can_decide(self) -> bool {
        self == Self::Pending
    }
}

/// A business registration number, stored as its ten digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessNumber(String);

impl BusinessNumber {
    /// Accepts `123-45-67890` or `1234567890` and checks the National Tax Service check
    /// digit, so typos are caught before an admin ever sees the application.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldErrors> {
        let digits: String = raw.chars().filter(|c| *c != '-' && *c != ' ').collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldErrors::single(
                field,
                "invalid_format",
                "business number must have 10 digits (e.g. 123-45-67890)",
            ));
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        const WEIGHTS: [u32; 9] = [1, 3, 7, 1, 3, 7, 1, 3, 5];
        let mut sum: u32 = d.iter().zip(WEIGHTS).map(|(x, w)| x * w).sum();
        sum += (d[8] * 5) / 10;
        let check = (10 - sum % 10) % 10;
        if check != d[9] {
            return Err(FieldErrors::single(
                field,
                "invalid_checksum",
                "business number check digit does not match",
            ));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn shop_name(field: &str, raw: Option<&str>) -> Result<String, FieldErrors> {
    match raw {
        None => Err(FieldErrors::single(
            field,
            "required",
            "shop_name is required",
        )),
        Some(raw) => bounded_text(field, raw, 2, 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_number_checksum() {
        // A published sample number that passes the NTS check.
        assert_eq!(
            BusinessNumber::parse("b", "220-81-62517").unwrap().as_str(),
            "2208162517"
        );
        assert!(BusinessNumber::parse("b", "2208162518").is_err());
        assert!(BusinessNumber::parse("b", "22081625").is_err());
        assert!(BusinessNumber::parse("b", "22o8162517").is_err());
    }

    #[test]
    fn decisions_are_final() {
        assert!(ApplicationStatus::Pending.can_decide());
        assert!(!ApplicationStatus::Approved.can_decide());
        assert!(!ApplicationStatus::Rejected.can_decide());
    }
}
