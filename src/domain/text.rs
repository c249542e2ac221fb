//! Small parsed value types shared by the domain: bounded text, country codes, references.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Trimmed, non-empty text of at most `max` characters.
pub fn parse_text(value: &str, max: usize) -> Result<String, String> {
    let t = value.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_string())
}

/// ISO 3166-1 alpha-2 country codes (landskod).
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// EU member states plus the EEA states Iceland, Liechtenstein and Norway (EU/EES).
const EU_EEA: &str =
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK IS LI NO";

/// A country as an ISO 3166-1 alpha-2 code, upper case (land).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(s: &str) -> Result<CountryCode, String> {
        if s.len() != 2 || !s.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(format!(
                "'{s}' is not an ISO 3166-1 alpha-2 code (two upper-case letters, e.g. SE)"
            ));
        }
        if !ISO_3166_ALPHA2.split(' ').any(|c| c == s) {
            return Err(format!("'{s}' is not an assigned ISO 3166-1 alpha-2 code"));
        }
        Ok(CountryCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Outside the EU/EEA, a transfer needs its own assessment (seed 000, "Hantering vid
    /// utlämnandet av kvalitetsregisterdata": "överföring av personuppgifter till tredje land").
    pub fn is_third_country(&self) -> bool {
        !EU_EEA.split(' ').any(|c| c == self.0)
    }
}

impl TryFrom<String> for CountryCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CountryCode::parse(&value)
    }
}

impl From<CountryCode> for String {
    fn from(value: CountryCode) -> Self {
        value.0
    }
}

/// The reference number of an ethics approval (diarienummer hos Etikprövningsmyndigheten),
/// e.g. `2026-01234-01` (EPM, since 2019) or `Dnr 2017/123-31` (the earlier regional boards, EPN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EthicsReference(String);

impl EthicsReference {
    pub fn parse(s: &str) -> Result<EthicsReference, String> {
        let t = s.trim();
        let body = t.strip_prefix("Dnr ").unwrap_or(t);
        let epm = {
            let parts: Vec<&str> = body.split('-').collect();
            parts.len() == 3
                && parts[0].len() == 4
                && parts[1].len() == 5
                && parts[2].len() == 2
                && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
        };
        let epn = body
            .split_once('/')
            .map(|(year, rest)| {
                year.len() == 4
                    && year.chars().all(|c| c.is_ascii_digit())
                    && !rest.is_empty()
                    && rest.len() <= 16
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '-' || c == '/')
                    && rest.chars().next().is_some_and(|c| c.is_ascii_digit())
            })
            .unwrap_or(false);
        if epm || epn {
            Ok(EthicsReference(t.to_string()))
        } else {
            Err(format!(
                "'{t}' is not an ethics reference number: use the EPM form YYYY-NNNNN-NN (e.g. 2026-01234-01) or the earlier EPN form Dnr YYYY/NNN-NN"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EthicsReference {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        EthicsReference::parse(&value)
    }
}

impl From<EthicsReference> for String {
    fn from(value: EthicsReference) -> Self {
        value.0
    }
}

/// A Digital Object Identifier of a publication, `10.NNNN/suffix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Doi(String);

impl Doi {
    pub fn parse(s: &str) -> Result<Doi, String> {
        let t = s.trim();
        let t = t
            .strip_prefix("https://doi.org/")
            .or_else(|| t.strip_prefix("doi:"))
            .unwrap_or(t);
        let ok = t
            .split_once('/')
            .map(|(prefix, suffix)| {
                prefix.starts_with("10.")
                    && prefix.len() >= 7
                    && prefix[3..].chars().all(|c| c.is_ascii_digit() || c == '.')
                    && !suffix.is_empty()
                    && !suffix.chars().any(char::is_whitespace)
            })
            .unwrap_or(false);
        if ok {
            Ok(Doi(t.to_string()))
        } else {
            Err(format!("'{s}' is not a DOI (10.NNNN/suffix)"))
        }
    }
}

impl TryFrom<String> for Doi {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Doi::parse(&value)
    }
}

impl From<Doi> for String {
    fn from(value: Doi) -> Self {
        value.0
    }
}

/// Parses an ISO 8601 calendar date, `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date in the form YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes() {
        assert!(CountryCode::parse("SE").is_ok());
        assert!(CountryCode::parse("se").is_err());
        assert!(CountryCode::parse("XX").is_err());
        assert!(CountryCode::parse("SWE").is_err());
        assert!(CountryCode::parse("US").unwrap().is_third_country());
        assert!(!CountryCode::parse("NO").unwrap().is_third_country());
        assert!(!CountryCode::parse("DE").unwrap().is_third_country());
        assert!(CountryCode::parse("GB").unwrap().is_third_country());
    }

    #[test]
    fn ethics_references() {
        assert!(EthicsReference::parse("2026-01234-01").is_ok());
        assert!(EthicsReference::parse("Dnr 2017/123-31").is_ok());
        assert!(EthicsReference::parse("approved").is_err());
        assert!(EthicsReference::parse("2026-1234-01").is_err());
    }

    #[test]
    fn dois() {
        assert!(Doi::parse("10.1016/S0140-6736(20)30183-5").is_ok());
        assert!(Doi::parse("https://doi.org/10.1093/eurheartj/ehz123").is_ok());
        assert!(Doi::parse("11.1/x").is_err());
        assert!(Doi::parse("10.1000/").is_err());
    }

    #[test]
    fn text_bounds() {
        assert!(parse_text("  ", 10).is_err());
        assert!(parse_text("abcdefghijk", 10).is_err());
        assert_eq!(parse_text(" ok ", 10).unwrap(), "ok");
    }
}
