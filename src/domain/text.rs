//! Small parsed value types shared by the domain: bounded text, country codes, references.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::messages::Message;
use crate::msg;

/// The longest text any field takes (a clause text, a project description), in characters. The
/// JSON extractor refuses longer strings anywhere in a body before any field is parsed.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// The most items any list in a request takes (requested variables); the JSON extractor refuses
/// longer lists anywhere in a body.
pub const MAX_LIST_ITEMS: usize = 2_000;

/// The earliest and latest year of a date the service takes (ethics decisions, signatures,
/// releases, publications, agreement periods): a date outside 1990–2100 is a typing error, never
/// a fact of a collaboration under the 2020 agreement or its 2012 predecessor.
pub const MIN_YEAR: i32 = 1990;
pub const MAX_YEAR: i32 = 2100;

/// Why a text is refused by [`check_characters`].
pub fn control_character_message(multi_line: bool) -> Message {
    if multi_line {
        msg!("control_characters.multi_line")
    } else {
        msg!("control_characters.single_line")
    }
}

/// Whether a text holds only printable characters: no NUL, no other C0 or C1 control character and
/// no DEL; a multi-line text may hold line breaks (`\n`, `\r`) and tabs.
pub fn check_characters(value: &str, multi_line: bool) -> Result<(), Message> {
    let allowed = |c: char| multi_line && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        Err(control_character_message(multi_line))
    } else {
        Ok(())
    }
}

/// Trimmed, non-empty text of at most `max` characters; line breaks and tabs are allowed, other
/// control characters (NUL included) are refused.
pub fn parse_text(value: &str, max: usize) -> Result<String, Message> {
    bounded(value, max, true)
}

/// A single-line text (a name, a title, a street): trimmed, non-empty, at most `max` characters,
/// with no control character at all (no line break, no tab, no NUL).
pub fn parse_line(value: &str, max: usize) -> Result<String, Message> {
    bounded(value, max, false)
}

fn bounded(value: &str, max: usize, multi_line: bool) -> Result<String, Message> {
    let t = value.trim();
    if t.is_empty() {
        return Err(msg!("text.empty"));
    }
    if t.chars().count() > max {
        return Err(msg!("max_length", max = max));
    }
    check_characters(t, multi_line)?;
    Ok(t.to_string())
}

/// Whether a date lies in the plausible range, [`MIN_YEAR`]–[`MAX_YEAR`].
pub fn check_date_range(d: NaiveDate) -> Result<NaiveDate, Message> {
    use chrono::Datelike;
    if (MIN_YEAR..=MAX_YEAR).contains(&d.year()) {
        Ok(d)
    } else {
        Err(msg!(
            "date_range.outside",
            date = d,
            min = format!("{MIN_YEAR}-01-01"),
            max = format!("{MAX_YEAR}-12-31")
        ))
    }
}

/// A country (land): one type for the whole service, defined with the classification's country lists.
pub use super::classification::CountryCode;

/// The reference number of an ethics approval (diarienummer hos Etikprövningsmyndigheten),
/// e.g. `2026-01234-01` (EPM, since 2019) or `Dnr 2017/123-31` (the earlier regional boards, EPN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EthicsReference(String);

impl EthicsReference {
    pub fn parse(s: &str) -> Result<EthicsReference, Message> {
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
            Err(msg!("ethics_reference_format.form", value = t))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EthicsReference {
    type Error = Message;
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
    pub fn parse(s: &str) -> Result<Doi, Message> {
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
            Err(msg!("doi.form", value = s))
        }
    }
}

impl TryFrom<String> for Doi {
    type Error = Message;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Doi::parse(&value)
    }
}

impl From<Doi> for String {
    fn from(value: Doi) -> Self {
        value.0
    }
}

/// Parses an ISO 8601 calendar date, `YYYY-MM-DD`, in the plausible range (1990–2100).
pub fn parse_date(s: &str) -> Result<NaiveDate, Message> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| msg!("date.form", value = s))?;
    check_date_range(d)
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

    #[test]
    fn nul_and_control_characters_are_refused_line_breaks_only_in_multi_line_text() {
        for bad in [
            "com\u{0}pany",
            "a\u{7}b",
            "a\u{1b}[31mb",
            "a\u{7f}b",
            "a\u{85}b",
        ] {
            assert!(parse_text(bad, 100).is_err(), "{bad:?}");
            assert!(parse_line(bad, 100).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_text("rad ett\nrad två\tflik", 100).unwrap(),
            "rad ett\nrad två\tflik"
        );
        assert!(parse_line("rad ett\nrad två", 100).is_err());
        assert!(parse_line("namn\tflik", 100).is_err());
        assert_eq!(parse_line(" Storgatan 1 ", 100).unwrap(), "Storgatan 1");
    }

    #[test]
    fn dates_outside_1990_to_2100_are_refused() {
        assert!(parse_date("0000-01-01").is_err());
        assert!(parse_date("1989-12-31").is_err());
        assert!(parse_date("1990-01-01").is_ok());
        assert!(parse_date("2100-12-31").is_ok());
        assert!(parse_date("2101-01-01").is_err());
    }
}
