//! Masking of personal data (e-mail addresses, phone numbers) before text reaches a log.

/// Masks every e-mail address and phone-number-like digit run in `text`.
/// `kim.cs@example.com` → `k***@example.com`; `010-1234-5678` → `010-****-****`.
pub fn personal_data(text: &str) -> String {
    mask_phones(&mask_emails(text))
}

fn mask_emails(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for token in text.split_inclusive(is_separator) {
        let (word, sep) = match token.char_indices().last() {
            Some((idx, c)) if is_separator(c) => (&token[..idx], &token[idx..]),
            _ => (token, ""),
        };
        match word.split_once('@') {
            Some((local, domain)) if !local.is_empty() && domain.contains('.') => {
                let first: String = local.chars().take(1).collect();
                out.push_str(&first);
                out.push_str("***@");
                out.push_str(domain);
            }
            _ => out.push_str(word),
        }
        out.push_str(sep);
    }
    out
}

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '&' | '=' | '?' | '/' | ',' | ';' | '"' | '\'' | '<' | '>'
        )
}

/// A run of 8+ digits (allowing `-`, space or `.` between) is treated as a phone number;
/// the first group is kept so that operators can still tell mobile from landline.
fn mask_phones(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit()
            || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            let mut end = i;
            let mut digits = 0;
            while end < chars.len()
                && (chars[end].is_ascii_digit()
                    || (end == start && chars[end] == '+')
                    || (matches!(chars[end], '-' | ' ' | '.')
                        && chars.get(end + 1).is_some_and(char::is_ascii_digit)))
            {
                if chars[end].is_ascii_digit() {
                    digits += 1;
                }
                end += 1;
            }
            let run: String = chars[start..end].iter().collect();
            // A digit run glued to letters is part of an identifier (UUID, hash), not a phone.
            let glued = start > 0 && chars[start - 1].is_alphanumeric()
                || chars.get(end).is_some_and(|c| c.is_alphanumeric());
            if (8..=15).contains(&digits) && !run.contains('.') && !glued {
                let first_sep = run.find(['-', ' ']).unwrap_or(3.min(run.len()));
                out.push_str(&run[..first_sep]);
                out.extend(
                    run[first_sep..]
                        .chars()
                        .map(|c| if c.is_ascii_digit() { '*' } else { c }),
                );
            } else {
                out.push_str(&run);
            }
            i = end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_emails() {
        assert_eq!(
            personal_data("user kim.cs@example.com signed up"),
            "user k***@example.com signed up"
        );
        assert_eq!(
            personal_data("/api?email=lee@corp.kr&x=1"),
            "/api?email=l***@corp.kr&x=1"
        );
    }

    #[test]
    fn masks_phones() {
        assert_eq!(personal_data("phone 010-1234-5678"), "phone 010-****-****");
        assert_eq!(personal_data("+821012345678"), "+82**********");
    }

    #[test]
    fn leaves_ids_and_small_numbers() {
        assert_eq!(
            personal_data("/api/v1/me/addresses/42"),
            "/api/v1/me/addresses/42"
        );
        assert_eq!(personal_data("latency 1.234567 ms"), "latency 1.234567 ms");
        let uuid = "0190f1c2-7a3b-7c3d-8e4f-0123456789ab";
        assert_eq!(personal_data(uuid), uuid);
    }
}
