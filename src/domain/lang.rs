//! The product speaks Swedish first and English second.
use serde::{Deserialize, Serialize};

/// A language the product speaks (språk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Swedish, the default.
    #[default]
    Sv,
    /// English.
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "sv" | "sv-SE" => Some(Lang::Sv),
            "en" | "en-GB" | "en-US" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }
}

impl Lang {
    /// The language to answer in, from an `Accept-Language` header (RFC 9110, 12.5.4): the range
    /// with the highest q-value that names Swedish or English wins (`sv`, `sv-SE`, `en`, `en-GB`, …;
    /// a tie goes to the earlier range); `*` stands for Swedish; `q=0` refuses a language. Swedish
    /// when nothing matches.
    pub fn negotiate(header: &str) -> Lang {
        let mut best: Option<(u16, Lang)> = None;
        for range in header.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let mut q: u16 = 1000;
            for p in parts {
                let p = p.trim();
                if let Some(v) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                    q = parse_q(v).unwrap_or(0);
                }
            }
            let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
            let lang = match primary.as_str() {
                "sv" => Lang::Sv,
                "en" => Lang::En,
                "*" => Lang::Sv,
                _ => continue,
            };
            if q == 0 {
                continue;
            }
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

/// A q-value (`0`, `0.8`, `1.000`) in thousandths; `None` when it is not one.
fn parse_q(v: &str) -> Option<u16> {
    let v = v.trim();
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut f: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        f += u16::from(b - b'0') * [100, 10, 1][i];
    }
    if whole == 1000 && f > 0 {
        return None;
    }
    Some(whole + f)
}

/// A text in both languages (tvåspråkig text), for data read by clients that choose the language
/// themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bilingual {
    pub sv: String,
    pub en: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_is_the_default_when_the_header_names_neither_language() {
        assert_eq!(Lang::negotiate(""), Lang::Sv);
        assert_eq!(Lang::negotiate("de-DE, fr;q=0.9"), Lang::Sv);
        assert_eq!(Lang::negotiate("*"), Lang::Sv);
        assert_eq!(Lang::negotiate("garbage;;;q=x"), Lang::Sv);
    }

    #[test]
    fn english_and_its_regional_variants_choose_english() {
        assert_eq!(Lang::negotiate("en"), Lang::En);
        assert_eq!(Lang::negotiate("en-GB"), Lang::En);
        assert_eq!(Lang::negotiate("EN-us"), Lang::En);
        assert_eq!(Lang::negotiate("de, en;q=0.5"), Lang::En);
    }

    #[test]
    fn the_highest_q_value_wins_and_a_tie_goes_to_the_first() {
        assert_eq!(Lang::negotiate("sv-SE;q=0.4, en;q=0.8"), Lang::En);
        assert_eq!(Lang::negotiate("en;q=0.4, sv-SE;q=0.8"), Lang::Sv);
        assert_eq!(Lang::negotiate("en-GB, sv"), Lang::En);
        assert_eq!(Lang::negotiate("sv, en"), Lang::Sv);
        assert_eq!(Lang::negotiate("en;q=0.9, *;q=0.1"), Lang::En);
        assert_eq!(Lang::negotiate("*;q=1, en;q=0.5"), Lang::Sv);
    }

    #[test]
    fn q_zero_refuses_a_language_and_a_bad_q_counts_as_zero() {
        assert_eq!(Lang::negotiate("en;q=0, sv;q=0.1"), Lang::Sv);
        assert_eq!(Lang::negotiate("sv;q=0, en;q=0.1"), Lang::En);
        assert_eq!(Lang::negotiate("en;q=2"), Lang::Sv);
        assert_eq!(Lang::negotiate("en;q=0.0001"), Lang::Sv);
        assert_eq!(Lang::negotiate("en; q=0.500"), Lang::En);
    }
}
