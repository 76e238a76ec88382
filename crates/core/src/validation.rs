//! Field-level validation errors, collected so that a client learns about every bad field
//! in one response instead of fixing them one round-trip at a time.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `email` or `address.postal_code`.
    pub field: String,
    /// Stable machine-readable reason, e.g. `required`, `too_short`, `invalid_format`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: &str, code: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, code, message);
        errors
    }

    pub fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[FieldError] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok(value)` when no error was recorded, so a parser can finish with `errors.finish(v)`.
    pub fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Records the error of a field parser and keeps going, returning the value if it parsed.
    pub fn take<T>(&mut self, result: Result<T, FieldErrors>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.extend(e.0);
                None
            }
        }
    }

    /// Every parsed value, when every field parser succeeded and nothing else was recorded;
    /// otherwise all the errors at once: the fields' in order, then those recorded in
    /// `self` (checks of the rest of the body). This is how a parser builds its valid value
    /// from its fields without an "impossible" branch: `errors.all((name, price))?` yields
    /// `(Name, Price)`, never `(Option, Option)`.
    pub fn all<F: Fields>(self, fields: F) -> Result<F::Values, FieldErrors> {
        let mut errors = FieldErrors::new();
        let values = fields.collect(&mut errors);
        errors.0.extend(self.0);
        match values {
            Some(values) if errors.is_empty() => Ok(values),
            _ => Err(errors),
        }
    }
}

/// A tuple of field parse results (`(Result<A, FieldErrors>, Result<B, FieldErrors>, …)`).
pub trait Fields {
    type Values;
    /// The values if all parsed; every error is recorded into `errors` either way.
    fn collect(self, errors: &mut FieldErrors) -> Option<Self::Values>;
}

macro_rules! fields_tuple {
    ($($name:ident),+) => {
        impl<$($name),+> Fields for ($(Result<$name, FieldErrors>,)+) {
            type Values = ($($name,)+);
            #[allow(non_snake_case)]
            fn collect(self, errors: &mut FieldErrors) -> Option<Self::Values> {
                let ($($name,)+) = self;
                $(let $name = errors.take($name);)+
                Some(($($name?,)+))
            }
        }
    };
}

fields_tuple!(A);
fields_tuple!(A, B);
fields_tuple!(A, B, C);
fields_tuple!(A, B, C, D);
fields_tuple!(A, B, C, D, E);
fields_tuple!(A, B, C, D, E, F);
fields_tuple!(A, B, C, D, E, F, G);
fields_tuple!(A, B, C, D, E, F, G, H);

/// A field that must be present: its parser's result, or `required`.
pub fn required<'a, T>(
    field: &str,
    raw: Option<&'a str>,
    parse: impl FnOnce(&'a str) -> Result<T, FieldErrors>,
) -> Result<T, FieldErrors> {
    match raw {
        Some(r) => parse(r),
        None => Err(FieldErrors::single(
            field,
            "required",
            format!("{field} is required"),
        )),
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<&str> = self.0.iter().map(|e| e.field.as_str()).collect();
        write!(f, "invalid fields: {}", fields.join(", "))
    }
}

impl std::error::Error for FieldErrors {}

/// A required, trimmed, bounded text field.
pub fn required_text(
    field: &str,
    value: Option<&str>,
    min_chars: usize,
    max_chars: usize,
) -> Result<String, FieldErrors> {
    let Some(raw) = value else {
        return Err(FieldErrors::single(
            field,
            "required",
            format!("{field} is required"),
        ));
    };
    bounded_text(field, raw, min_chars, max_chars)
}

/// Characters that render as nothing or rearrange the text around them: controls (Cc),
/// format characters (Cf: zero-width spaces and joiners, bidirectional overrides, BOM) and
/// line/paragraph separators. In a name they hide or disguise what a reader sees
/// (`admin\u{200B}`, a right-to-left override turning `gpj.exe` around).
///
/// Format characters beyond the Basic Multilingual Plane are allowed: they are emoji tag
/// sequences (the flag of Scotland) and notation for scripts no one spoofs a name with,
/// and the OpenAPI document's patterns can only name characters of the BMP.
pub fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    match c.general_category() {
        GeneralCategory::Control
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator => true,
        GeneralCategory::Format => u32::from(c) <= 0xFFFF,
        _ => false,
    }
}

/// Text in its composed form (NFC), so that `가` typed as one syllable or as three jamo is
/// stored, compared and counted the same.
pub fn nfc(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    raw.nfc().collect()
}

/// A text field: at most `max_chars` characters as sent, no invisible characters (see
/// [`is_invisible`]) anywhere, then NFC-normalised and trimmed, and at least `min_chars`
/// characters after that. The limits apply to the text as sent so that they mean what
/// the OpenAPI document's `maxLength` says.
pub fn bounded_text(
    field: &str,
    raw: &str,
    min_chars: usize,
    max_chars: usize,
) -> Result<String, FieldErrors> {
    if raw.chars().count() > max_chars {
        return Err(FieldErrors::single(
            field,
            "too_long",
            format!("{field} must be at most {max_chars} characters"),
        ));
    }
    if raw.chars().any(is_invisible) {
        return Err(FieldErrors::single(
            field,
            "invalid_characters",
            format!("{field} must not contain control or invisible formatting characters"),
        ));
    }
    let normalized = nfc(raw);
    let value = normalized.trim();
    let len = value.chars().count();
    // Composition rarely lengthens text (a few precomposed letters decompose), but the
    // stored value must fit its column as well.
    if len > max_chars {
        return Err(FieldErrors::single(
            field,
            "too_long",
            format!("{field} must be at most {max_chars} characters"),
        ));
    }
    if len == 0 && min_chars > 0 {
        return Err(FieldErrors::single(
            field,
            "required",
            format!("{field} must not be empty"),
        ));
    }
    if len < min_chars {
        return Err(FieldErrors::single(
            field,
            "too_short",
            format!("{field} must be at least {min_chars} characters"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_error() {
        let mut errors = FieldErrors::new();
        assert!(errors.take(required_text("name", None, 1, 10)).is_none());
        assert!(
            errors
                .take(required_text("city", Some("   "), 1, 10))
                .is_none()
        );
        assert_eq!(
            errors.take(required_text("ok", Some(" 서울 "), 1, 10)),
            Some("서울".into())
        );
        let fields: Vec<_> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "city"]);
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(required_text("n", Some("가나다"), 1, 3).is_ok());
        assert!(required_text("n", Some("가나다라"), 1, 3).is_err());
        assert!(required_text("n", Some("a\u{0}b"), 1, 3).is_err());
    }

    #[test]
    fn refuses_invisible_characters_and_composes() {
        for bad in [
            "admin\u{200B}",       // zero-width space
            "shop\u{202E}gpj.exe", // right-to-left override
            "a\u{2066}b",          // isolate
            "\u{FEFF}name",        // byte-order mark
            "a\u{2028}b",          // line separator
            "a\u{200D}b",          // zero-width joiner
            "a\u{7}b",             // bell
        ] {
            assert_eq!(
                bounded_text("n", bad, 1, 50).unwrap_err().as_slice()[0].code,
                "invalid_characters",
                "{bad:?}"
            );
        }
        // Decomposed jamo (ᄀ + ᅡ) become the syllable 가.
        assert_eq!(bounded_text("n", "\u{1100}\u{1161}", 1, 2).unwrap(), "가");
        // Limits count the text as sent.
        assert!(bounded_text("n", "\u{1100}\u{1161}", 1, 1).is_err());
        assert_eq!(
            bounded_text("n", "김 철수 🛒", 1, 50).unwrap(),
            "김 철수 🛒"
        );
    }

    #[test]
    fn all_yields_the_values_or_every_error() {
        let ok: Result<i32, FieldErrors> = Ok(1);
        let bad =
            || -> Result<i32, FieldErrors> { Err(FieldErrors::single("b", "bad", "b is bad")) };
        assert_eq!(
            FieldErrors::new().all((ok.clone(), Ok::<_, FieldErrors>("x"))),
            Ok((1, "x"))
        );
        let e = FieldErrors::new()
            .all((ok.clone(), bad(), bad()))
            .unwrap_err();
        assert_eq!(e.as_slice().len(), 2, "each failing field reported");
        let mut earlier = FieldErrors::new();
        earlier.add("c", "conflict", "checked before");
        let e = earlier.all((ok, bad())).unwrap_err();
        let order: Vec<&str> = e.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            order,
            ["b", "c"],
            "the fields' errors, then those recorded before"
        );
    }
}
