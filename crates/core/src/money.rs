//! Money as integer minor units plus an ISO-4217 currency. No floats anywhere: KRW has no
//! minor unit, and sums of prices must be exact.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const KRW: Currency = Currency(*b"KRW");

    pub fn parse(code: &str) -> Option<Self> {
        let bytes = code.as_bytes();
        (bytes.len() == 3 && bytes.iter().all(u8::is_ascii_uppercase))
            .then(|| Currency([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

/// An amount in one currency. The fields are private so that every sum goes through the
/// checked operations below: a price or a total can be wrong, but never wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currencies differ")]
    CurrencyMismatch,
    #[error("amount overflow")]
    Overflow,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The amount in minor units (won for KRW, cents for USD).
    pub const fn minor(self) -> i64 {
        self.minor
    }

    pub const fn currency(self) -> Currency {
        self.currency
    }

    pub const fn is_negative(self) -> bool {
        self.minor < 0
    }

    /// This amount plus `delta` minor units of the same currency (a variant's price delta).
    pub fn checked_add_minor(self, delta: i64) -> Result<Money, MoneyError> {
        self.checked_add(Money::new(delta, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// The sum of `amounts`, all in `currency`.
    pub fn checked_sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    pub fn checked_mul(self, qty: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(qty).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_checked() {
        let a = Money::new(15_000, Currency::KRW);
        assert_eq!(a.checked_mul(3).unwrap().minor(), 45_000);
        assert_eq!(a.checked_add(a).unwrap().minor(), 30_000);
        assert_eq!(
            a.checked_sub(a.checked_mul(2).unwrap()).unwrap().minor(),
            -15_000
        );
        assert_eq!(a.checked_add_minor(-500).unwrap().minor(), 14_500);
        assert_eq!(
            Money::checked_sum(Currency::KRW, [a, a, a]).unwrap(),
            a.checked_mul(3).unwrap()
        );
        assert_eq!(
            Money::new(i64::MIN, Currency::KRW).checked_sub(a),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::new(i64::MAX, Currency::KRW).checked_add(a),
            Err(MoneyError::Overflow)
        );
        let usd = Money::new(1, Currency::parse("USD").unwrap());
        assert_eq!(a.checked_add(usd), Err(MoneyError::CurrencyMismatch));
        assert!(Currency::parse("krw").is_none());
    }
}
