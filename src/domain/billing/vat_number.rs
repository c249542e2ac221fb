//! An EU VAT identification number (momsregistreringsnummer), checked for its country's shape. It
//! is read only through [`VatNumber::parse`], also when deserialised, so a stored or sent number
//! cannot skip the check (as `Money` and `Amount`, issue 15 item 9).
//!
//! Shapes (the country prefix, then):
//! - `SE`: the 10 digits of the organisation or personal identity number, whose last is its
//!   modulus-10 check digit, then `01` (Skatteverket, "Momsregistreringsnummer": "SE + organisations-
//!   nummer + 01"), e.g. `SE556677889901`.
//! - A few well-known shapes from the European Commission's VIES help ("VAT number format"):
//!   `AT` `U` + 8 digits; `BE` 10 digits; `DE` 9 digits; `DK` 8 digits; `FI` 8 digits;
//!   `NL` 9 digits + `B` + 2 digits.
//! - Every other member state (Greece with its prefix `EL`): 2 to 12 letters or digits.
//!
//! Spaces, dots and hyphens are ignored and letters read as capitals, so `se 556677-8899 01` is
//! `SE556677889901`. Whether the number is registered is VIES's question, not this type's.
use serde::{Deserialize, Serialize};

use super::ocr;
use super::vat::{vat_prefix, EU_MEMBER_STATES};

/// A VAT number of an EU member state, normalised (`SE556677889901`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VatNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VatNumberError {
    #[error("a VAT number starts with the two-letter prefix of an EU member state, found {0:?}")]
    Prefix(String),
    #[error("a {country} VAT number is {shape}, found {found:?}")]
    Shape {
        country: String,
        shape: &'static str,
        found: String,
    },
    #[error("the organisation number in a Swedish VAT number fails its check digit, found {0:?}")]
    CheckDigit(String),
}

impl VatNumber {
    pub fn parse(raw: &str) -> Result<VatNumber, VatNumberError> {
        let v: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let (prefix, rest) = match (v.get(..2), v.get(2..)) {
            (Some(p), Some(r)) => (p, r),
            _ => return Err(VatNumberError::Prefix(raw.to_string())),
        };
        let country = if prefix == "EL" { "GR" } else { prefix };
        if !EU_MEMBER_STATES.contains(&country) || vat_prefix(country) != prefix {
            return Err(VatNumberError::Prefix(raw.to_string()));
        }
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let (ok, shape) = match prefix {
            "SE" => (
                digits(rest, 12) && rest.ends_with("01"),
                "SE, 10 digits and 01",
            ),
            "AT" => (
                rest.strip_prefix('U').is_some_and(|r| digits(r, 8)),
                "ATU and 8 digits",
            ),
            "BE" => (digits(rest, 10), "BE and 10 digits"),
            "DE" => (digits(rest, 9), "DE and 9 digits"),
            "DK" => (digits(rest, 8), "DK and 8 digits"),
            "FI" => (digits(rest, 8), "FI and 8 digits"),
            "NL" => (
                rest.len() == 12
                    && digits(&rest[..9], 9)
                    && &rest[9..10] == "B"
                    && digits(&rest[10..], 2),
                "NL, 9 digits, B and 2 digits",
            ),
            _ => (
                (2..=12).contains(&rest.len())
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
                "its prefix and 2 to 12 letters or digits",
            ),
        };
        if !ok {
            return Err(VatNumberError::Shape {
                country: prefix.to_string(),
                shape,
                found: raw.to_string(),
            });
        }
        if prefix == "SE" && !ocr::check(&rest[..10]) {
            return Err(VatNumberError::CheckDigit(raw.to_string()));
        }
        Ok(VatNumber(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix: the country code, `EL` for Greece.
    pub fn prefix(&self) -> &str {
        &self.0[..2]
    }

    /// The member state as ISO 3166-1 alpha-2 (`GR` for the prefix `EL`).
    pub fn country(&self) -> &str {
        match self.prefix() {
            "EL" => "GR",
            p => p,
        }
    }
}

impl std::fmt::Display for VatNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for VatNumber {
    type Error = VatNumberError;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        VatNumber::parse(&v)
    }
}

impl From<VatNumber> for String {
    fn from(v: VatNumber) -> String {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swedish_number_is_se_ten_digits_with_their_check_digit_and_01() {
        let v = VatNumber::parse("SE556677889901").unwrap();
        assert_eq!(v.as_str(), "SE556677889901");
        assert_eq!((v.prefix(), v.country()), ("SE", "SE"));
        assert_eq!(
            VatNumber::parse("se 556677-8899 01").unwrap(),
            v,
            "spaces, hyphens and case are ignored"
        );
        assert!(VatNumber::parse("SE232100001601").is_ok());
        for bad in [
            "SE5566778899",
            "SE556677889902",
            "SE55667788990101",
            "SE55667788AB01",
        ] {
            assert!(
                matches!(VatNumber::parse(bad), Err(VatNumberError::Shape { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            VatNumber::parse("SE556677889801"),
            Err(VatNumberError::CheckDigit("SE556677889801".into()))
        );
    }

    #[test]
    fn known_shapes_of_other_member_states() {
        for ok in [
            "DE123456789",
            "ATU12345678",
            "BE0123456789",
            "DK12345678",
            "FI12345678",
            "NL123456789B01",
            "EL123456789",
            "FRXX123456789",
            "IE1234567WA",
            "CY12345678X",
        ] {
            assert!(VatNumber::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "DE12345678",
            "AT12345678",
            "NL123456789C01",
            "DK1234567X",
            "FR1",
            "IE1234567890123",
        ] {
            assert!(
                matches!(VatNumber::parse(bad), Err(VatNumberError::Shape { .. })),
                "{bad}"
            );
        }
        assert_eq!(VatNumber::parse("EL123456789").unwrap().country(), "GR");
    }

    #[test]
    fn a_prefix_outside_the_eu_or_greece_as_gr_is_refused() {
        for bad in [
            "GB123456789",
            "NO999999999MVA",
            "GR123456789",
            "XX12",
            "S",
            "",
            "12345678",
        ] {
            assert!(
                matches!(VatNumber::parse(bad), Err(VatNumberError::Prefix(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn deserialising_goes_through_the_parser() {
        let v: VatNumber = serde_json::from_str("\"de 123 456 789\"").unwrap();
        assert_eq!(v.as_str(), "DE123456789");
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"DE123456789\"");
        let e = serde_json::from_str::<VatNumber>("\"SE556677889902\"").unwrap_err();
        assert!(e.to_string().contains("SE, 10 digits and 01"), "{e}");
        assert!(serde_json::from_str::<VatNumber>("\"GB123\"").is_err());
    }

    #[test]
    fn every_member_state_has_a_shape() {
        for c in EU_MEMBER_STATES {
            let p = vat_prefix(c);
            let sample = match p {
                "SE" => "SE556677889901".to_string(),
                "AT" => "ATU12345678".to_string(),
                "BE" => "BE0123456789".to_string(),
                "NL" => "NL123456789B01".to_string(),
                "DE" => "DE123456789".to_string(),
                _ => format!("{p}12345678"),
            };
            let v = VatNumber::parse(&sample).unwrap_or_else(|e| panic!("{c}: {e}"));
            assert_eq!(v.country(), c);
        }
    }
}
