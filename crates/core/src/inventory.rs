//! Why stock moved: the reason every ledger row carries. Stored as its `as_str()`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StockReason {
    Restock,
    Correction,
    Damage,
    Return,
    /// Written by the order flow only: counted as units sold.
    Sale,
    /// Written by the order flow only: a sale taken back.
    Cancel,
}

impl StockReason {
    pub const ALL: [StockReason; 6] = [
        Self::Restock,
        Self::Correction,
        Self::Damage,
        Self::Return,
        Self::Sale,
        Self::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Restock => "RESTOCK",
            Self::Correction => "CORRECTION",
            Self::Damage => "DAMAGE",
            Self::Return => "RETURN",
            Self::Sale => "SALE",
            Self::Cancel => "CANCEL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Reasons a seller or admin may give for a manual adjustment.
    pub fn is_manual(self) -> bool {
        !matches!(self, Self::Sale | Self::Cancel)
    }

    /// Moves the sales counters (a sale counts, a cancellation takes it back).
    pub fn counts_as_sale(self) -> bool {
        matches!(self, Self::Sale | Self::Cancel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_people_s_reasons_are_manual() {
        for r in StockReason::ALL {
            assert_eq!(StockReason::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        assert_eq!(StockReason::parse("sale"), None);
        let manual: Vec<_> = StockReason::ALL
            .into_iter()
            .filter(|r| r.is_manual())
            .collect();
        assert_eq!(manual.len(), 4);
        assert!(!StockReason::Sale.is_manual() && StockReason::Sale.counts_as_sale());
    }
}
