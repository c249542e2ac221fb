//! Organisations and their Swedish identifiers.
use serde::{Deserialize, Serialize};
use std::fmt;

use super::ids::OrgId;

/// The kind of an organisation (organisationstyp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// A company (företag): pharma, medtech, biotech, lab-tech.
    Company,
    /// A university or other state body (universitet).
    University,
    /// A region as care provider or research principal (region).
    Region,
    /// A central personal-data-controller authority of registers (CPUA-myndighet).
    CpuaAuthority,
    /// A register centre or regional cancer centre (registercentrum, RCC).
    RegisterCentre,
    /// Another private body (övrig privat aktör).
    OtherPrivate,
}

impl OrgKind {
    pub const ALL: [OrgKind; 6] = [
        OrgKind::Company,
        OrgKind::University,
        OrgKind::Region,
        OrgKind::CpuaAuthority,
        OrgKind::RegisterCentre,
        OrgKind::OtherPrivate,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OrgKind::Company => "company",
            OrgKind::University => "university",
            OrgKind::Region => "region",
            OrgKind::CpuaAuthority => "cpua_authority",
            OrgKind::RegisterCentre => "register_centre",
            OrgKind::OtherPrivate => "other_private",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.code() == s)
    }

    /// Whether the Public Access and Secrecy Act (OSL) binds this organisation as a recipient of
    /// register data. Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": OSL applies to a
    /// research principal that is an authority (university/state or region); it does not bind a
    /// company or other private principal.
    pub fn bound_by_osl(self) -> bool {
        matches!(
            self,
            OrgKind::University | OrgKind::Region | OrgKind::CpuaAuthority
        )
    }
}

/// A Swedish organisation number (organisationsnummer), ten digits with a Luhn check digit,
/// shown as `NNNNNN-NNNN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgNumberError {
    #[error("must be ten digits, written NNNNNN-NNNN")]
    Format,
    #[error("the check digit does not match (Luhn)")]
    CheckDigit,
    #[error("the third digit of an organisation number is at least 2")]
    NotAnOrganisation,
}

impl OrgNumberError {
    /// The catalogued text (rule `org_number`).
    pub fn message(&self) -> super::messages::Message {
        match self {
            OrgNumberError::Format => crate::msg!("org_number.format"),
            OrgNumberError::CheckDigit => crate::msg!("org_number.check_digit"),
            OrgNumberError::NotAnOrganisation => crate::msg!("org_number.not_an_organisation"),
        }
    }
}

impl OrgNumber {
    pub fn parse(input: &str) -> Result<OrgNumber, OrgNumberError> {
        let trimmed = input.trim();
        let digits: String = trimmed.chars().filter(|c| *c != '-').collect();
        let hyphens = trimmed.chars().filter(|c| *c == '-').count();
        let hyphen_ok = hyphens == 0 || (hyphens == 1 && trimmed.find('-') == Some(6));
        if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) || !hyphen_ok {
            return Err(OrgNumberError::Format);
        }
        let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
        // Organisation numbers have a "month" of 20 or more, so they never clash with a
        // personal identity number.
        if d[2] < 2 {
            return Err(OrgNumberError::NotAnOrganisation);
        }
        if luhn_check_digit(&d[..9]) != d[9] {
            return Err(OrgNumberError::CheckDigit);
        }
        Ok(OrgNumber(format!("{}-{}", &digits[..6], &digits[6..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ten digits without the hyphen.
    pub fn digits(&self) -> String {
        self.0.replace('-', "")
    }
}

/// The Luhn check digit over the given digits (the algorithm Bolagsverket uses).
pub fn luhn_check_digit(digits: &[u32]) -> u32 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let v = if i % 2 == 0 { d * 2 } else { d };
            if v > 9 {
                v - 9
            } else {
                v
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

impl TryFrom<String> for OrgNumber {
    type Error = OrgNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        OrgNumber::parse(&value)
    }
}

impl From<OrgNumber> for String {
    fn from(value: OrgNumber) -> Self {
        value.0
    }
}

impl fmt::Display for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Swedish VAT registration number (momsregistreringsnummer): `SE`, the ten digits of the
/// organisation number, and `01`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VatNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VatNumberError {
    #[error("must be SE, the ten digits of the organisation number, and 01 (SE NNNNNNNNNN 01)")]
    Format,
    #[error("the organisation number inside it is invalid: {0}")]
    OrgNumber(OrgNumberError),
    #[error("does not belong to organisation number {0}")]
    Mismatch(String),
}

impl VatNumberError {
    /// The catalogued text (rule `vat_number`).
    pub fn message(&self) -> super::messages::Message {
        match self {
            VatNumberError::Format => crate::msg!("vat_number.format"),
            VatNumberError::OrgNumber(e) => {
                crate::msg!("vat_number.org_number", reason = e.message())
            }
            VatNumberError::Mismatch(n) => crate::msg!("vat_number.mismatch", number = n),
        }
    }
}

impl VatNumber {
    pub fn parse(input: &str) -> Result<VatNumber, VatNumberError> {
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        let upper = compact.to_ascii_uppercase();
        if upper.len() != 14 || !upper.starts_with("SE") || !upper.ends_with("01") {
            return Err(VatNumberError::Format);
        }
        let digits = &upper[2..12];
        OrgNumber::parse(digits).map_err(VatNumberError::OrgNumber)?;
        Ok(VatNumber(upper))
    }

    /// Parses and checks that the VAT number is the one of the given organisation number.
    pub fn parse_for(input: &str, org: &OrgNumber) -> Result<VatNumber, VatNumberError> {
        let vat = VatNumber::parse(input)?;
        if vat.0[2..12] != org.digits() {
            return Err(VatNumberError::Mismatch(org.to_string()));
        }
        Ok(vat)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VatNumber {
    type Error = VatNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        VatNumber::parse(&value)
    }
}

impl From<VatNumber> for String {
    fn from(value: VatNumber) -> Self {
        value.0
    }
}

/// A postal address (postadress), checked when it is read: street and city are single lines of
/// bounded length, the country an assigned ISO 3166-1 alpha-2 code (SE by default), and a Swedish
/// postal code (postnummer) five digits, stored as `NNN NN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(try_from = "RawAddress")]
pub struct Address {
    /// Street and number, or a box address (gatuadress, box); at most 200 characters.
    pub street: String,
    /// For Sweden five digits, `NNN NN` or `NNNNN`; elsewhere at most 12 letters, digits, spaces
    /// or hyphens.
    pub postal_code: String,
    /// The postal town (postort); at most 100 characters.
    pub city: String,
    /// ISO 3166-1 alpha-2, e.g. SE.
    pub country: String,
}

/// An address as sent, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAddress {
    #[serde(deserialize_with = "street")]
    street: String,
    postal_code: String,
    #[serde(deserialize_with = "city")]
    city: String,
    #[serde(default = "default_country", deserialize_with = "country")]
    country: String,
}

// Each part checked where it is read, so that an error names `address.street`, not `address`.
fn street<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    super::text::parse_line(&s, STREET_MAX).map_err(serde::de::Error::custom)
}

fn city<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    super::text::parse_line(&s, CITY_MAX).map_err(serde::de::Error::custom)
}

fn country<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    super::classification::CountryCode::parse(s.trim())
        .map(|c| c.as_str().to_string())
        .map_err(serde::de::Error::custom)
}

fn default_country() -> String {
    "SE".to_string()
}

pub const STREET_MAX: usize = 200;
pub const CITY_MAX: usize = 100;

impl TryFrom<RawAddress> for Address {
    type Error = String;
    fn try_from(r: RawAddress) -> Result<Self, Self::Error> {
        Address::parse(&r.street, &r.postal_code, &r.city, &r.country).map_err(|errs| {
            errs.into_iter()
                .map(|(field, why)| format!("{field}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

impl Address {
    /// Parses every part, returning each fault as (part, reason).
    pub fn parse(
        street: &str,
        postal_code: &str,
        city: &str,
        country: &str,
    ) -> Result<Address, Vec<(&'static str, String)>> {
        use super::classification::CountryCode;
        use super::text::parse_line;
        let mut errs = Vec::new();
        // An address fault reaches the client inside serde's error text, so it stays a string here.
        let street = parse_line(street, STREET_MAX)
            .map_err(|m| errs.push(("street", m.to_string())))
            .unwrap_or_default();
        let city = parse_line(city, CITY_MAX)
            .map_err(|m| errs.push(("city", m.to_string())))
            .unwrap_or_default();
        let country = CountryCode::parse(country.trim())
            .map_err(|m| errs.push(("country", m.to_string())))
            .ok();
        let postal_code = match country.map(|c| c.as_str() == "SE") {
            Some(true) => parse_swedish_postal_code(postal_code)
                .map_err(|m| errs.push(("postal_code", m)))
                .unwrap_or_default(),
            _ => {
                let t = postal_code.trim();
                let ok = !t.is_empty()
                    && t.chars().count() <= 12
                    && t.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
                if !ok {
                    errs.push((
                        "postal_code",
                        "must be at most 12 letters, digits, spaces or hyphens".to_string(),
                    ));
                }
                t.to_string()
            }
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Address {
            street,
            postal_code,
            city,
            country: country.map(|c| c.as_str().to_string()).unwrap_or_default(),
        })
    }
}

/// A Swedish postal code (postnummer): five digits, the first not 0, written `NNN NN` (PostNord's
/// form) or `NNNNN`; returned as `NNN NN`.
pub fn parse_swedish_postal_code(s: &str) -> Result<String, String> {
    let t = s.trim();
    let digits: String = t.chars().filter(|c| *c != ' ').collect();
    let spaces = t.chars().filter(|c| *c == ' ').count();
    let spacing_ok = spaces == 0 || (spaces == 1 && t.find(' ') == Some(3));
    if digits.len() != 5
        || !digits.chars().all(|c| c.is_ascii_digit())
        || digits.starts_with('0')
        || !spacing_ok
    {
        return Err(format!(
            "'{}' is not a Swedish postal code: five digits, e.g. 111 22",
            t.chars().take(20).collect::<String>().escape_debug()
        ));
    }
    Ok(format!("{} {}", &digits[..3], &digits[3..]))
}

/// An organisation taking part in collaborations (organisation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Organisation {
    #[schema(value_type = String)]
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    /// `NNNNNN-NNNN`.
    #[schema(value_type = String)]
    pub org_number: OrgNumber,
    #[schema(value_type = Option<String>)]
    pub vat_number: Option<VatNumber>,
    pub address: Option<Address>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_organisation_numbers() {
        // Region Stockholm, Västra Götalandsregionen, Region Skåne: real public numbers.
        for n in ["232100-0016", "232100-0131", "2321000255"] {
            assert!(OrgNumber::parse(n).is_ok(), "{n}");
        }
        assert_eq!(
            OrgNumber::parse("2321000016").unwrap().as_str(),
            "232100-0016"
        );
    }

    #[test]
    fn refuses_a_wrong_check_digit() {
        assert_eq!(
            OrgNumber::parse("232100-0017"),
            Err(OrgNumberError::CheckDigit)
        );
    }

    #[test]
    fn refuses_malformed_numbers() {
        for n in ["", "12345", "23210-00016", "232100-001a", "232100-00166"] {
            assert_eq!(OrgNumber::parse(n), Err(OrgNumberError::Format), "{n}");
        }
    }

    #[test]
    fn refuses_personal_identity_numbers() {
        // 811218-9876 is a personal identity number shape (month 12): never an organisation.
        assert_eq!(
            OrgNumber::parse("811218-9876"),
            Err(OrgNumberError::NotAnOrganisation)
        );
    }

    #[test]
    fn addresses_are_checked_part_by_part() {
        let a = Address::parse("Storgatan 1", "11122", "Stockholm", "SE").unwrap();
        assert_eq!(a.postal_code, "111 22");
        assert!(Address::parse("Storgatan 1", "111 22", "Stockholm", "SE").is_ok());
        for bad in ["1112", "111222", "011 22", "11 122", "abcde"] {
            let e = Address::parse("Storgatan 1", bad, "Stockholm", "SE").unwrap_err();
            assert_eq!(e[0].0, "postal_code", "{bad}");
        }
        let e = Address::parse("Storgatan 1", "111 22", "Stockholm", "ZZZ").unwrap_err();
        assert_eq!(e[0].0, "country");
        assert!(Address::parse("Storgatan 1", "111 22", "Stockholm", "XX").is_err());
        let long = "x".repeat(STREET_MAX + 1);
        assert_eq!(
            Address::parse(&long, "111 22", "Stockholm", "SE").unwrap_err()[0].0,
            "street"
        );
        assert!(Address::parse("Storgatan\n1", "111 22", "Stockholm", "SE").is_err());
        assert!(Address::parse("1 Main St", "SW1A 1AA", "London", "GB").is_ok());
        let json = r#"{"street":"Storgatan 1","postal_code":"11122","city":"Stockholm"}"#;
        let a: Address = serde_json::from_str(json).unwrap();
        assert_eq!(
            (a.country.as_str(), a.postal_code.as_str()),
            ("SE", "111 22")
        );
        assert!(serde_json::from_str::<Address>(
            r#"{"street":"Storgatan 1","postal_code":"1","city":"Stockholm"}"#
        )
        .is_err());
    }

    #[test]
    fn vat_number_wraps_the_organisation_number() {
        let org = OrgNumber::parse("232100-0016").unwrap();
        assert!(VatNumber::parse_for("SE232100001601", &org).is_ok());
        assert!(matches!(
            VatNumber::parse_for("SE232100013101", &org),
            Err(VatNumberError::Mismatch(_))
        ));
        assert_eq!(
            VatNumber::parse("SE2321000016"),
            Err(VatNumberError::Format)
        );
    }
}
