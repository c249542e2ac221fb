//! Page texts (sidtexter): every word a page shows comes from the page catalogues, Swedish and
//! English, compiled into the binary. Each area of pages has its own pair of files under
//! `config/pages/` (`<area>.sv.toml`, `<area>.en.toml`) so that the areas can grow apart; the keys
//! are `<area>.<key>`.
//!
//! Templates ask for a text with `{{t "area.key"}}`, or with parameters
//! `{{t "area.key" name=value}}` (each `{name}` in the text is replaced, HTML-escaped by the
//! template). The tests below check that both languages hold the same keys, that every key a
//! template uses exists, and that every key is used somewhere.
use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::domain::lang::Lang;

/// The catalogue files: `(area, Swedish, English)`. An area's pages add their pair here.
pub const FILES: &[(&str, &str, &str)] = &[
    (
        "common",
        include_str!("../../config/pages/common.sv.toml"),
        include_str!("../../config/pages/common.en.toml"),
    ),
    (
        "case",
        include_str!("../../config/pages/case.sv.toml"),
        include_str!("../../config/pages/case.en.toml"),
    ),
    (
        "admin",
        include_str!("../../config/pages/admin.sv.toml"),
        include_str!("../../config/pages/admin.en.toml"),
    ),
    (
        "finance",
        include_str!("../../config/pages/finance.sv.toml"),
        include_str!("../../config/pages/finance.en.toml"),
    ),
    (
        "queue",
        include_str!("../../config/pages/queue.sv.toml"),
        include_str!("../../config/pages/queue.en.toml"),
    ),
    (
        "review",
        include_str!("../../config/pages/review.sv.toml"),
        include_str!("../../config/pages/review.en.toml"),
    ),
    (
        "intake",
        include_str!("../../config/pages/intake.sv.toml"),
        include_str!("../../config/pages/intake.en.toml"),
    ),
    (
        "signing",
        include_str!("../../config/pages/signing.sv.toml"),
        include_str!("../../config/pages/signing.en.toml"),
    ),
    (
        "documents",
        include_str!("../../config/pages/documents.sv.toml"),
        include_str!("../../config/pages/documents.en.toml"),
    ),
    (
        "todo",
        include_str!("../../config/pages/todo.sv.toml"),
        include_str!("../../config/pages/todo.en.toml"),
    ),
    (
        "casework",
        include_str!("../../config/pages/casework.sv.toml"),
        include_str!("../../config/pages/casework.en.toml"),
    ),
    // Issue 15: the work log and the invoices.
    (
        "billing",
        include_str!("../../config/pages/billing.sv.toml"),
        include_str!("../../config/pages/billing.en.toml"),
    ),
    (
        "datausers",
        include_str!("../../config/pages/datausers.sv.toml"),
        include_str!("../../config/pages/datausers.en.toml"),
    ),
    (
        "webhooks",
        include_str!("../../config/pages/webhooks.sv.toml"),
        include_str!("../../config/pages/webhooks.en.toml"),
    ),
];

/// Both languages' texts, keyed `area.key`.
pub struct Texts {
    pub sv: BTreeMap<String, String>,
    pub en: BTreeMap<String, String>,
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn parse_all() -> Result<Texts, String> {
    let mut sv = BTreeMap::new();
    let mut en = BTreeMap::new();
    for (area, s, e) in FILES {
        let s: toml::Value = toml::from_str(s).map_err(|e| format!("{area}.sv.toml: {e}"))?;
        let e: toml::Value = toml::from_str(e).map_err(|e| format!("{area}.en.toml: {e}"))?;
        flatten(area, &s, &mut sv);
        flatten(area, &e, &mut en);
    }
    Ok(Texts { sv, en })
}

/// The catalogues, parsed once. A syntax error leaves them empty (every key then shows as itself)
/// and fails the tests below.
pub fn texts() -> &'static Texts {
    static T: LazyLock<Texts> = LazyLock::new(|| {
        parse_all().unwrap_or_else(|e| {
            tracing::error!(error = %e, "the page catalogues do not parse");
            Texts {
                sv: BTreeMap::new(),
                en: BTreeMap::new(),
            }
        })
    });
    &T
}

/// The text for `key` in `lang`; the key itself when missing (a test keeps that from shipping).
pub fn t(lang: Lang, key: &str) -> String {
    let map = match lang {
        Lang::Sv => &texts().sv,
        Lang::En => &texts().en,
    };
    map.get(key).cloned().unwrap_or_else(|| key.to_string())
}

/// The text for `key` with each `{name}` replaced by its value. With `count` = 1 the singular,
/// `<key>_one`, is used where the catalogue has one ("1 ärende", not "1 ärenden").
pub fn t_with(lang: Lang, key: &str, params: &[(&str, String)]) -> String {
    let one = format!("{key}_one");
    let singular =
        params.iter().any(|(k, v)| *k == "count" && v == "1") && texts().sv.contains_key(&one);
    let mut s = t(lang, if singular { &one } else { key });
    for (k, v) in params {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_hold_the_same_keys_and_no_empty_text() {
        let t = parse_all().expect("the page catalogues parse");
        let sv: Vec<&String> = t.sv.keys().collect();
        let en: Vec<&String> = t.en.keys().collect();
        let only_sv: Vec<_> = sv.iter().filter(|k| !t.en.contains_key(**k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !t.sv.contains_key(**k)).collect();
        assert!(only_sv.is_empty(), "only in Swedish: {only_sv:?}");
        assert!(only_en.is_empty(), "only in English: {only_en:?}");
        for (k, v) in t.sv.iter().chain(t.en.iter()) {
            assert!(!v.trim().is_empty(), "{k} is empty");
        }
    }

    #[test]
    fn a_missing_key_shows_as_itself_and_parameters_are_replaced() {
        assert_eq!(t(Lang::Sv, "no.such.key"), "no.such.key");
        assert_eq!(t(Lang::Sv, "common.nav.home"), "Start");
        assert_eq!(t(Lang::En, "common.nav.home"), "Home");
        assert_eq!(
            t_with(Lang::En, "common.list.count", &[("count", "7".into())]),
            "7 collaborations"
        );
        assert_eq!(
            t_with(Lang::En, "common.list.count", &[("count", "1".into())]),
            "1 collaboration"
        );
        assert_eq!(
            t_with(Lang::Sv, "queue.count", &[("count", "1".into())]),
            "1 ärende"
        );
        assert_eq!(
            t_with(Lang::Sv, "queue.count", &[("count", "0".into())]),
            "0 ärenden"
        );
    }
}
