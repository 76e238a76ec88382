//! Shipping addresses in the address book.

use crate::validation::{FieldErrors, bounded_text, required_text};

/// At most this many addresses per account; keeps the list endpoint bounded.
pub const MAX_PER_USER: u64 = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressFields {
    pub label: Option<String>,
    pub recipient: String,
    pub phone: String,
    pub postal_code: String,
    pub line1: String,
    pub line2: Option<String>,
}

/// Raw input for an address; every field optional so that all errors are reported at once.
#[derive(Debug, Default, Clone)]
pub struct AddressInput<'a> {
    pub label: Option<&'a str>,
    pub recipient: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub line1: Option<&'a str>,
    pub line2: Option<&'a str>,
}

impl AddressFields {
    pub fn parse(input: AddressInput<'_>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let label = input
            .label
            .and_then(|l| errors.take(optional_text("label", l, 30)));
        let recipient = errors.take(required_text("recipient", input.recipient, 1, 50));
        let phone = errors.take(phone("phone", input.phone));
        let postal_code = errors.take(postal_code("postal_code", input.postal_code));
        let line1 = errors.take(required_text("line1", input.line1, 1, 200));
        let line2 = input
            .line2
            .and_then(|l| errors.take(optional_text("line2", l, 200)));
        errors.finish(())?;
        Ok(Self {
            label: label.flatten(),
            recipient: recipient.unwrap_or_default(),
            phone: phone.unwrap_or_default(),
            postal_code: postal_code.unwrap_or_default(),
            line1: line1.unwrap_or_default(),
            line2: line2.flatten(),
        })
    }
}

fn optional_text(field: &str, raw: &str, max: usize) -> Result<Option<String>, FieldErrors> {
    let value = bounded_text(field, raw, 0, max)?;
    Ok((!value.is_empty()).then_some(value))
}

/// Phone numbers: digits with optional `+`, spaces and dashes; 8 to 15 digits (E.164 bound).
/// Stored as typed (trimmed) so that the courier label shows what the customer wrote.
pub fn phone(field: &str, raw: Option<&str>) -> Result<String, FieldErrors> {
    let value = required_text(field, raw, 1, 20)?;
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let shape_ok = value
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || c == '-' || c == ' ' || (c == '+' && i == 0));
    if !shape_ok || !(8..=15).contains(&digits) {
        return Err(FieldErrors::single(
            field,
            "invalid_format",
            "phone must be a phone number, e.g. 010-1234-5678",
        ));
    }
    Ok(value)
}

/// Korean postal codes have five digits since 2015; the old six-digit form is refused.
fn postal_code(field: &str, raw: Option<&str>) -> Result<String, FieldErrors> {
    let value = required_text(field, raw, 1, 10)?;
    if value.len() != 5 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldErrors::single(
            field,
            "invalid_format",
            "postal_code must have 5 digits",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_address() {
        let a = AddressFields::parse(AddressInput {
            label: Some("집"),
            recipient: Some("김철수"),
            phone: Some("010-1234-5678"),
            postal_code: Some("06236"),
            line1: Some("서울특별시 강남구 테헤란로 152"),
            line2: Some(""),
        })
        .unwrap();
        assert_eq!(a.label.as_deref(), Some("집"));
        assert_eq!(a.line2, None);
    }

    #[test]
    fn reports_every_bad_field() {
        let err = AddressFields::parse(AddressInput {
            phone: Some("call me"),
            postal_code: Some("123"),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<_> = err.as_slice().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["recipient", "phone", "postal_code", "line1"]);
    }
}
