//! Money in integer minor units (öre). Never floats.
use serde::{Deserialize, Serialize};
use std::fmt;

use super::lang::Lang;

/// An amount in Swedish kronor held as whole öre (belopp). Deserialisation goes through
/// [`Money::from_ore`], so a negative amount cannot be read in around its check (issue 15, item 9);
/// it serialises as the bare number of öre, as before.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Money {
    ore: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount must not be negative")]
    Negative,
    #[error("amount overflows")]
    Overflow,
}

impl MoneyError {
    /// The catalogued text (rule `money`).
    pub fn message(&self) -> super::messages::Message {
        match self {
            MoneyError::Negative => crate::msg!("money.negative"),
            MoneyError::Overflow => crate::msg!("money.overflow"),
        }
    }
}

impl Money {
    pub const ZERO: Money = Money { ore: 0 };

    /// An amount from whole öre; negative amounts are refused.
    pub fn from_ore(ore: i64) -> Result<Money, MoneyError> {
        if ore < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Money { ore })
    }

    pub fn from_kronor(kr: i64) -> Result<Money, MoneyError> {
        kr.checked_mul(100)
            .ok_or(MoneyError::Overflow)
            .and_then(Money::from_ore)
    }

    pub fn ore(self) -> i64 {
        self.ore
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.ore
            .checked_add(other.ore)
            .map(|ore| Money { ore })
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        if factor < 0 {
            return Err(MoneyError::Negative);
        }
        self.ore
            .checked_mul(factor)
            .map(|ore| Money { ore })
            .ok_or(MoneyError::Overflow)
    }

    /// Formatted for people: `12 500,00 kr` in Swedish, `SEK 12,500.00` in English.
    pub fn format(self, lang: Lang) -> String {
        let kronor = self.ore / 100;
        let ore = self.ore % 100;
        let digits = kronor.to_string();
        let (sep, dec) = match lang {
            Lang::Sv => ('\u{a0}', ','),
            Lang::En => (',', '.'),
        };
        let mut grouped = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(sep);
            }
            grouped.push(ch);
        }
        match lang {
            Lang::Sv => format!("{grouped}{dec}{ore:02}\u{a0}kr"),
            Lang::En => format!("SEK\u{a0}{grouped}{dec}{ore:02}"),
        }
    }
}

impl TryFrom<i64> for Money {
    type Error = MoneyError;
    fn try_from(ore: i64) -> Result<Money, MoneyError> {
        Money::from_ore(ore)
    }
}

impl From<Money> for i64 {
    fn from(m: Money) -> i64 {
        m.ore
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(Lang::Sv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_swedish_and_english() {
        let m = Money::from_ore(1_250_000).unwrap();
        assert_eq!(m.format(Lang::Sv), "12\u{a0}500,00\u{a0}kr");
        assert_eq!(m.format(Lang::En), "SEK\u{a0}12,500.00");
        assert_eq!(
            Money::from_ore(5).unwrap().format(Lang::En),
            "SEK\u{a0}0.05"
        );
    }

    #[test]
    fn deserialising_goes_through_the_constructor() {
        let m: Money = serde_json::from_str("1250").unwrap();
        assert_eq!(m, Money::from_ore(1250).unwrap());
        assert_eq!(serde_json::to_string(&m).unwrap(), "1250");
        let err = serde_json::from_str::<Money>("-1").unwrap_err();
        assert!(err.to_string().contains("negative"), "{err}");
    }

    #[test]
    fn refuses_negative_amounts() {
        assert_eq!(Money::from_ore(-1), Err(MoneyError::Negative));
    }
}
