//! An amount of money with its currency (belopp), in integer minor units. Unlike
//! [`crate::domain::money::Money`] (a non-negative SEK figure in the case) it may be negative, as a
//! credit note's lines and totals are. Deserialisation goes through [`Amount::new`], so an amount
//! cannot be built around its checks.
use serde::{Deserialize, Serialize};

/// An ISO 4217 currency code (valuta): three upper-case letters. Invoices are issued in SEK today;
/// the code travels with every amount so that a sum of two currencies is refused, not added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("a currency is three capital letters (ISO 4217), e.g. SEK")]
    Currency,
    #[error("the amount overflows")]
    Overflow,
    #[error("amounts in {0} and {1} cannot be added")]
    CurrencyMismatch(Currency, Currency),
}

impl Currency {
    pub const SEK: Currency = Currency(*b"SEK");

    pub fn parse(code: &str) -> Result<Currency, AmountError> {
        let b = code.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_uppercase) {
            return Err(AmountError::Currency);
        }
        Ok(Currency([b[0], b[1], b[2]]))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII capitals are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = AmountError;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        Currency::parse(&v)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_string()
    }
}

/// Minor units (öre for SEK) and the currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawAmount", into = "RawAmount")]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

#[derive(Serialize, Deserialize)]
struct RawAmount {
    minor: i64,
    currency: String,
}

impl TryFrom<RawAmount> for Amount {
    type Error = AmountError;
    fn try_from(r: RawAmount) -> Result<Self, Self::Error> {
        Ok(Amount::new(r.minor, Currency::parse(&r.currency)?))
    }
}

impl From<Amount> for RawAmount {
    fn from(a: Amount) -> RawAmount {
        RawAmount {
            minor: a.minor,
            currency: a.currency.as_str().to_string(),
        }
    }
}

impl Amount {
    pub fn new(minor: i64, currency: Currency) -> Amount {
        Amount { minor, currency }
    }

    pub fn sek(ore: i64) -> Amount {
        Amount::new(ore, Currency::SEK)
    }

    pub fn zero(currency: Currency) -> Amount {
        Amount::new(0, currency)
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_negative(self) -> bool {
        self.minor < 0
    }

    pub fn checked_add(self, other: Amount) -> Result<Amount, AmountError> {
        if self.currency != other.currency {
            return Err(AmountError::CurrencyMismatch(self.currency, other.currency));
        }
        self.minor
            .checked_add(other.minor)
            .map(|m| Amount::new(m, self.currency))
            .ok_or(AmountError::Overflow)
    }

    pub fn checked_neg(self) -> Result<Amount, AmountError> {
        self.minor
            .checked_neg()
            .map(|m| Amount::new(m, self.currency))
            .ok_or(AmountError::Overflow)
    }

    /// The amount times a quantity given in hundredths (hours 1.50 = 150), rounded half away from
    /// zero to whole minor units.
    pub fn times_hundredths(self, hundredths: i64) -> Result<Amount, AmountError> {
        let p = (self.minor as i128) * (hundredths as i128);
        let rounded = if p >= 0 {
            (p + 50) / 100
        } else {
            (p - 50) / 100
        };
        i64::try_from(rounded)
            .map(|m| Amount::new(m, self.currency))
            .map_err(|_| AmountError::Overflow)
    }

    /// The value as a decimal with two places and a point (`-1234.50`), as UBL and CSV want it.
    pub fn decimal(self) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserialising_goes_through_the_checks() {
        let ok: Amount = serde_json::from_str(r#"{"minor":-250,"currency":"SEK"}"#).unwrap();
        assert_eq!(ok, Amount::sek(-250));
        assert!(serde_json::from_str::<Amount>(r#"{"minor":1,"currency":"sek"}"#).is_err());
        assert!(serde_json::from_str::<Amount>(r#"{"minor":1,"currency":"SEKK"}"#).is_err());
    }

    #[test]
    fn currencies_do_not_mix_and_overflow_is_refused() {
        let eur = Amount::new(1, Currency::parse("EUR").unwrap());
        assert!(matches!(
            Amount::sek(1).checked_add(eur),
            Err(AmountError::CurrencyMismatch(..))
        ));
        assert_eq!(
            Amount::sek(i64::MAX).checked_add(Amount::sek(1)),
            Err(AmountError::Overflow)
        );
        assert_eq!(
            Amount::sek(2).checked_add(Amount::sek(-5)),
            Ok(Amount::sek(-3))
        );
    }

    #[test]
    fn quantities_in_hundredths_round_half_away_from_zero() {
        // 1.5 h at 1 000,01 kr = 1 500,015 kr → 1 500,02 kr.
        assert_eq!(
            Amount::sek(100_001).times_hundredths(150),
            Ok(Amount::sek(150_002))
        );
        assert_eq!(
            Amount::sek(-100_001).times_hundredths(150),
            Ok(Amount::sek(-150_002))
        );
        assert_eq!(Amount::sek(100).times_hundredths(25), Ok(Amount::sek(25)));
    }

    #[test]
    fn decimals_have_two_places_and_a_sign() {
        assert_eq!(Amount::sek(-123_450).decimal(), "-1234.50");
        assert_eq!(Amount::sek(5).decimal(), "0.05");
        assert_eq!(Amount::sek(0).decimal(), "0.00");
    }
}
