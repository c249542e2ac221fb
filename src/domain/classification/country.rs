//! Country codes (landskoder): ISO 3166-1 alpha-2, and EU/EEA membership for third-country checks.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Officially assigned ISO 3166-1 alpha-2 codes, sorted (binary search).
const ISO_3166_1_ALPHA_2: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Members of the European Union (27) and the other EEA states (Iceland, Liechtenstein, Norway), sorted.
const EU_EEA: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// A country (land), as an ISO 3166-1 alpha-2 code in upper case. Only real, assigned codes parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses an upper-case ISO 3166-1 alpha-2 code such as `SE` or `US`.
    pub fn parse(s: &str) -> Result<CountryCode, crate::domain::messages::Message> {
        let b = s.as_bytes();
        if b.len() != 2 || !b.iter().all(u8::is_ascii_uppercase) {
            return Err(crate::msg!("country.not_a_code", value = s));
        }
        if ISO_3166_1_ALPHA_2.binary_search(&s).is_err() {
            return Err(crate::msg!("country.unassigned", value = s));
        }
        Ok(CountryCode([b[0], b[1]]))
    }

    pub fn as_str(&self) -> &str {
        // The two bytes are ASCII upper-case letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// Whether the country is in the EU or the EEA (EU/EES); any other country is a third country (tredje land).
    pub fn is_eu_eea(&self) -> bool {
        EU_EEA.binary_search(&self.as_str()).is_ok()
    }

    /// Outside the EU/EEA, a transfer needs its own assessment (seed 000, "Hantering vid
    /// utlämnandet av kvalitetsregisterdata": "överföring av personuppgifter till tredje land").
    pub fn is_third_country(&self) -> bool {
        !self.is_eu_eea()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CountryCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_for_binary_search() {
        assert!(ISO_3166_1_ALPHA_2.windows(2).all(|w| w[0] < w[1]));
        assert!(EU_EEA.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(EU_EEA.len(), 30);
        assert!(EU_EEA
            .iter()
            .all(|c| ISO_3166_1_ALPHA_2.binary_search(c).is_ok()));
    }

    #[test]
    fn parses_real_codes_only() {
        assert!(CountryCode::parse("SE").is_ok());
        assert!(CountryCode::parse("se").is_err());
        assert!(CountryCode::parse("XX").is_err());
        assert!(CountryCode::parse("SWE").is_err());
        assert!(CountryCode::parse("SE")
            .map(|c| c.is_eu_eea())
            .unwrap_or(false));
        assert!(CountryCode::parse("NO")
            .map(|c| c.is_eu_eea())
            .unwrap_or(false));
        assert!(!CountryCode::parse("US")
            .map(|c| c.is_eu_eea())
            .unwrap_or(true));
        assert!(!CountryCode::parse("GB")
            .map(|c| c.is_eu_eea())
            .unwrap_or(true));
    }
}
