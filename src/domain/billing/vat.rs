//! The VAT treatment of an invoice from the buyer's country (momsbehandling), and the VAT of a net
//! amount.
//!
//! Issue 15, item 3: "VAT: 25 % for a Swedish buyer; reverse charge (category AE, the buyer's VAT
//! number and the words "Omvänd betalningsskyldighet") for a company in another EU country;
//! outside the scope (category O) for a buyer outside the EU." The buyers are companies (the
//! industry party of the collaboration), so every EU buyer outside Sweden is a reverse-charge case
//! (mervärdesskattelagen 2023:200, ch. 6 on the place of supply of services to a taxable person,
//! and ch. 16 on the buyer's liability; Council Directive 2006/112/EC art. 44 and 196).
use super::amount::Amount;
use super::document::VatTreatment;

/// The member states of the European Union as ISO 3166-1 alpha-2 codes: the 27 since the United
/// Kingdom left on 31 January 2020. Source: the Treaty on European Union art. 52 and the list
/// "EU countries" on the European Union's portal (european-union.europa.eu, "Country profiles").
/// Greece is `GR` here; its VAT numbers carry the prefix `EL` (see [`vat_prefix`]).
/// This is the one place the list is kept.
pub const EU_MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The standard Swedish VAT rate in percent (mervärdesskattelagen ch. 9 § 1).
pub const SWEDISH_STANDARD_RATE: u32 = 25;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VatError {
    #[error("the buyer's country must be a two-letter ISO 3166 code, found {0:?}")]
    Country(String),
    /// A company in another EU country without its VAT number: reverse charge needs it.
    #[error(
        "the buyer's VAT number (buyer_vat) is required for reverse charge to a company in {0}"
    )]
    BuyerVatMissing(String),
    #[error("the buyer's VAT number (buyer_vat) must start with {expected} and hold 2–12 letters or digits after it, found {found:?}")]
    BuyerVatFormat { expected: String, found: String },
}

/// Whether `country` (ISO 3166-1 alpha-2, upper case) is an EU member state.
pub fn is_eu_member(country: &str) -> bool {
    EU_MEMBER_STATES.contains(&country)
}

/// The prefix of a member state's VAT numbers: the country code, except `EL` for Greece.
pub fn vat_prefix(country: &str) -> &str {
    if country == "GR" {
        "EL"
    } else {
        country
    }
}

/// The treatment for a buyer in `buyer_country` with the VAT number `buyer_vat` (with its
/// country prefix, spaces ignored).
pub fn treatment(buyer_country: &str, buyer_vat: Option<&str>) -> Result<VatTreatment, VatError> {
    let c = buyer_country.trim();
    if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(VatError::Country(buyer_country.to_string()));
    }
    if c == "SE" {
        return Ok(VatTreatment::Domestic);
    }
    if !is_eu_member(c) {
        return Ok(VatTreatment::OutsideScope);
    }
    let vat: String = buyer_vat
        .unwrap_or("")
        .chars()
        .filter(|ch| !ch.is_whitespace())
        .collect();
    if vat.is_empty() {
        return Err(VatError::BuyerVatMissing(c.to_string()));
    }
    let prefix = vat_prefix(c);
    let rest = vat.strip_prefix(prefix);
    let ok = rest.is_some_and(|r| {
        (2..=12).contains(&r.len())
            && r.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    if !ok {
        return Err(VatError::BuyerVatFormat {
            expected: prefix.to_string(),
            found: vat,
        });
    }
    Ok(VatTreatment::ReverseCharge)
}

/// The rate in percent a treatment charges: 25 domestic, 0 otherwise.
pub fn rate_percent(t: VatTreatment) -> u32 {
    match t {
        VatTreatment::Domestic => SWEDISH_STANDARD_RATE,
        VatTreatment::ReverseCharge | VatTreatment::OutsideScope => 0,
    }
}

/// The VAT on `net` under `t`. Domestic: 25 % of the net amount, rounded half away from zero to
/// whole öre (0,5 öre up, −0,5 öre down), computed once on the document's net total per rate as
/// EN 16931 BR-CO-17 wants (VAT category tax amount = taxable amount × rate, rounded to two
/// decimals), not line by line. Reverse charge and outside scope: zero, in the same currency.
pub fn vat_of(net: Amount, t: VatTreatment) -> Amount {
    match t {
        VatTreatment::Domestic => net
            .times_hundredths(i64::from(SWEDISH_STANDARD_RATE))
            // 25 % of an i64 amount always fits in an i64.
            .unwrap_or_else(|_| Amount::zero(net.currency())),
        VatTreatment::ReverseCharge | VatTreatment::OutsideScope => Amount::zero(net.currency()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swedish_buyer_pays_25_percent() {
        assert_eq!(treatment("SE", None), Ok(VatTreatment::Domestic));
        assert_eq!(
            treatment("SE", Some("SE556677889901")),
            Ok(VatTreatment::Domestic)
        );
        assert_eq!(
            vat_of(Amount::sek(1_000_000), VatTreatment::Domestic),
            Amount::sek(250_000)
        );
        assert_eq!(rate_percent(VatTreatment::Domestic), 25);
    }

    #[test]
    fn a_company_elsewhere_in_the_eu_is_reverse_charged_and_needs_its_vat_number() {
        assert_eq!(
            treatment("DE", Some("DE123456789")),
            Ok(VatTreatment::ReverseCharge)
        );
        assert_eq!(
            treatment("FI", Some("FI 1234 5678")),
            Ok(VatTreatment::ReverseCharge)
        );
        assert_eq!(
            treatment("GR", Some("EL123456789")),
            Ok(VatTreatment::ReverseCharge)
        );
        assert_eq!(
            treatment("DE", None),
            Err(VatError::BuyerVatMissing("DE".into()))
        );
        assert_eq!(
            treatment("DK", Some("  ")),
            Err(VatError::BuyerVatMissing("DK".into()))
        );
        assert!(treatment("DE", None)
            .unwrap_err()
            .to_string()
            .contains("buyer_vat"));
        assert!(matches!(
            treatment("DE", Some("FR123456789")),
            Err(VatError::BuyerVatFormat { .. })
        ));
        assert_eq!(
            vat_of(Amount::sek(123_456), VatTreatment::ReverseCharge),
            Amount::sek(0)
        );
        assert_eq!(rate_percent(VatTreatment::ReverseCharge), 0);
    }

    #[test]
    fn a_buyer_outside_the_eu_is_outside_the_scope() {
        for c in ["US", "NO", "GB", "CH"] {
            assert_eq!(treatment(c, None), Ok(VatTreatment::OutsideScope), "{c}");
        }
        assert_eq!(
            treatment("NO", Some("NO999999999MVA")),
            Ok(VatTreatment::OutsideScope)
        );
        assert_eq!(
            vat_of(Amount::sek(5_000), VatTreatment::OutsideScope),
            Amount::sek(0)
        );
    }

    #[test]
    fn every_member_state_but_sweden_is_reverse_charge() {
        assert_eq!(EU_MEMBER_STATES.len(), 27);
        for c in EU_MEMBER_STATES {
            let vat = format!("{}12345678", vat_prefix(c));
            let want = if c == "SE" {
                VatTreatment::Domestic
            } else {
                VatTreatment::ReverseCharge
            };
            assert_eq!(treatment(c, Some(&vat)), Ok(want), "{c}");
        }
    }

    #[test]
    fn a_bad_country_code_is_refused() {
        assert!(matches!(treatment("se", None), Err(VatError::Country(_))));
        assert!(matches!(treatment("SWE", None), Err(VatError::Country(_))));
    }

    #[test]
    fn domestic_vat_rounds_half_away_from_zero_to_ore() {
        // 25 % of 0,02 kr = 0,005 kr → 0,01 kr; of 0,01 kr = 0,0025 → 0,00.
        assert_eq!(
            vat_of(Amount::sek(2), VatTreatment::Domestic),
            Amount::sek(1)
        );
        assert_eq!(
            vat_of(Amount::sek(1), VatTreatment::Domestic),
            Amount::sek(0)
        );
        assert_eq!(
            vat_of(Amount::sek(-2), VatTreatment::Domestic),
            Amount::sek(-1)
        );
        assert_eq!(
            vat_of(Amount::sek(150_003), VatTreatment::Domestic),
            Amount::sek(37_501)
        );
    }
}
