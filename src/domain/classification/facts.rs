//! The intake facts (uppgifter vid förarbetet): the vocabulary the rulebook speaks.
//!
//! Every fact is optional: a missing fact is `None`, and classification never guesses it.
use super::country::CountryCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// A closed set of values with snake_case names, indexed 0.. in declaration order.
pub trait FactEnum: Sized + Copy + 'static {
    const ALL: &'static [Self];
    const NAMES: &'static [&'static str];
    fn index(self) -> u8;
    fn name(self) -> &'static str {
        Self::NAMES[self.index() as usize]
    }
    fn from_name(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Self::ALL[i])
    }
}

macro_rules! fact_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl FactEnum for $name {
            const ALL: &'static [Self] = &[$($name::$v),+];
            const NAMES: &'static [&'static str] = &[$($s),+];
            fn index(self) -> u8 { self as u8 }
        }
    };
}

fact_enum!(
    /// Kind of research principal (forskningshuvudman).
    PrincipalKind {
        /// University or other state body (universitet, stat).
        University = "university",
        /// Region (region, earlier landsting).
        Region = "region",
        /// Company (företag).
        Company = "company",
        /// Other private body (annan privat huvudman).
        OtherPrivate = "other_private",
        /// No research principal.
        None = "none",
    }
);

fact_enum!(
    /// Whether the work is research (forskning) under the Ethical Review Act.
    IsResearch { Yes = "yes", No = "no", Unclear = "unclear" }
);

fact_enum!(
    /// Purpose (ändamål) of the collaboration.
    Purpose {
        Research = "research",
        RegulatoryFollowUp = "regulatory_follow_up",
        ProductDevelopment = "product_development",
        RegisterDevelopment = "register_development",
        Statistics = "statistics",
        MarketAnalysis = "market_analysis",
        AlgorithmTraining = "algorithm_training",
        DatabaseBuilding = "database_building",
    }
);

fact_enum!(
    /// What a party receives (vad parten får ut), ordered from least to most identifying.
    Receives {
        Nothing = "nothing",
        /// Aggregated tables or results (aggregerade data).
        Aggregated = "aggregated",
        /// Pseudonymised microdata with a serial number; the CPUA keeps the key (löpnummer, kodnyckel).
        Pseudonymised = "pseudonymised",
        /// Identifiable personal data (identifierbara personuppgifter).
        Identifiable = "identifiable",
    }
);

fact_enum!(
    /// Who performs the analysis (vem analyserar).
    AnalysisBy {
        Register = "register",
        /// Register centre or regional cancer centre (registercentrum, RCC).
        RegisterCentre = "register_centre",
        Principal = "principal",
        Company = "company",
    }
);

fact_enum!(
    /// Industry sector of the company (bransch).
    Sector {
        Pharma = "pharma",
        Medtech = "medtech",
        Biotech = "biotech",
        Labtech = "labtech",
        Other = "other",
    }
);

fact_enum!(
    /// Authority or register whose data are linked (sambearbetning, samkörning).
    LinkageAuthority {
        Socialstyrelsen = "socialstyrelsen",
        Scb = "scb",
        Forsakringskassan = "forsakringskassan",
        OtherRegister = "other_register",
    }
);

fact_enum!(
    /// Booleans as a fact value set (`false` = 0, `true` = 1).
    BoolValue { False = "false", True = "true" }
);

/// The name of an intake fact. The order fixes bit positions in fact masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactId {
    ResearchPrincipalKind = 0,
    IsResearch = 1,
    Purpose = 2,
    CompanyReceives = 3,
    PrincipalReceives = 4,
    AnalysisBy = 5,
    Sector = 6,
    ExternalProcessor = 7,
    IdentityNumbersRequested = 8,
    EffortBeyondRoutine = 9,
    Registers = 10,
    LinkageWith = 11,
    RecipientCountries = 12,
    KeyRetentionMonths = 13,
}

impl FactId {
    pub const ALL: [FactId; 14] = [
        FactId::ResearchPrincipalKind,
        FactId::IsResearch,
        FactId::Purpose,
        FactId::CompanyReceives,
        FactId::PrincipalReceives,
        FactId::AnalysisBy,
        FactId::Sector,
        FactId::ExternalProcessor,
        FactId::IdentityNumbersRequested,
        FactId::EffortBeyondRoutine,
        FactId::Registers,
        FactId::LinkageWith,
        FactId::RecipientCountries,
        FactId::KeyRetentionMonths,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FactId::ResearchPrincipalKind => "research_principal_kind",
            FactId::IsResearch => "is_research",
            FactId::Purpose => "purpose",
            FactId::CompanyReceives => "company_receives",
            FactId::PrincipalReceives => "principal_receives",
            FactId::AnalysisBy => "analysis_by",
            FactId::Sector => "sector",
            FactId::ExternalProcessor => "external_processor",
            FactId::IdentityNumbersRequested => "identity_numbers_requested",
            FactId::EffortBeyondRoutine => "effort_beyond_routine",
            FactId::Registers => "registers",
            FactId::LinkageWith => "linkage_with",
            FactId::RecipientCountries => "recipient_countries",
            FactId::KeyRetentionMonths => "key_retention_months",
        }
    }

    pub fn from_name(s: &str) -> Option<FactId> {
        FactId::ALL.iter().copied().find(|f| f.name() == s)
    }

    pub(crate) fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// The value names of a scalar fact (closed set or boolean); `None` for list and number facts.
    pub fn value_names(self) -> Option<&'static [&'static str]> {
        Some(match self {
            FactId::ResearchPrincipalKind => PrincipalKind::NAMES,
            FactId::IsResearch => IsResearch::NAMES,
            FactId::Purpose => Purpose::NAMES,
            FactId::CompanyReceives | FactId::PrincipalReceives => Receives::NAMES,
            FactId::AnalysisBy => AnalysisBy::NAMES,
            FactId::Sector => Sector::NAMES,
            FactId::ExternalProcessor
            | FactId::IdentityNumbersRequested
            | FactId::EffortBeyondRoutine => BoolValue::NAMES,
            _ => return None,
        })
    }
}

impl fmt::Display for FactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The intake facts of one collaboration (uppgifter om samverkan). `None` = not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub research_principal_kind: Option<PrincipalKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_research: Option<IsResearch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_receives: Option<Receives>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_receives: Option<Receives>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_by: Option<AnalysisBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<Sector>,
    /// Register ids (kvalitetsregister); their CPUAs follow from reference data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkage_with: Option<Vec<LinkageAuthority>>,
    /// The research principal uses an outside processor (personuppgiftsbiträde).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_processor: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_countries: Option<Vec<CountryCode>>,
    /// Personal identity numbers (personnummer) are requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_numbers_requested: Option<bool>,
    /// Extraction work beyond routine (utöver rutinbetonade arbetsinsatser).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort_beyond_routine: Option<bool>,
    /// How long the CPUA keeps the key file (nyckelfil), in months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_retention_months: Option<u32>,
}

/// A fact that could not be read: names the fact so the edge can answer 4xx problem+json.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fact `{fact}`: {message}")]
pub struct FactError {
    pub fact: String,
    pub message: String,
}

fn err(fact: &str, message: impl Into<String>) -> FactError {
    FactError {
        fact: fact.to_string(),
        message: message.into(),
    }
}

fn parse_enum<E: FactEnum>(fact: &str, v: &Value) -> Result<E, FactError> {
    let s = v.as_str().ok_or_else(|| {
        err(
            fact,
            format!("expected a string, one of: {}", E::NAMES.join(", ")),
        )
    })?;
    E::from_name(s).ok_or_else(|| {
        err(
            fact,
            format!(
                "unknown value `{s}`; expected one of: {}",
                E::NAMES.join(", ")
            ),
        )
    })
}

fn parse_bool(fact: &str, v: &Value) -> Result<bool, FactError> {
    v.as_bool()
        .ok_or_else(|| err(fact, "expected true or false"))
}

fn parse_array<'a>(fact: &str, v: &'a Value) -> Result<&'a Vec<Value>, FactError> {
    v.as_array().ok_or_else(|| err(fact, "expected an array"))
}

impl Facts {
    /// Parses intake facts from a JSON object; `null` or an absent key means "not given".
    pub fn from_json(v: &Value) -> Result<Facts, FactError> {
        let obj = v
            .as_object()
            .ok_or_else(|| err("", "expected a JSON object of facts"))?;
        let mut f = Facts::default();
        for (key, value) in obj {
            let Some(id) = FactId::from_name(key) else {
                return Err(err(key, "unknown fact"));
            };
            if value.is_null() {
                continue;
            }
            let k = key.as_str();
            match id {
                FactId::ResearchPrincipalKind => {
                    f.research_principal_kind = Some(parse_enum(k, value)?)
                }
                FactId::IsResearch => f.is_research = Some(parse_enum(k, value)?),
                FactId::Purpose => f.purpose = Some(parse_enum(k, value)?),
                FactId::CompanyReceives => f.company_receives = Some(parse_enum(k, value)?),
                FactId::PrincipalReceives => f.principal_receives = Some(parse_enum(k, value)?),
                FactId::AnalysisBy => f.analysis_by = Some(parse_enum(k, value)?),
                FactId::Sector => f.sector = Some(parse_enum(k, value)?),
                FactId::ExternalProcessor => f.external_processor = Some(parse_bool(k, value)?),
                FactId::IdentityNumbersRequested => {
                    f.identity_numbers_requested = Some(parse_bool(k, value)?)
                }
                FactId::EffortBeyondRoutine => {
                    f.effort_beyond_routine = Some(parse_bool(k, value)?)
                }
                FactId::Registers => {
                    let mut ids = Vec::new();
                    for item in parse_array(k, value)? {
                        let s = item
                            .as_str()
                            .filter(|s| !s.trim().is_empty())
                            .ok_or_else(|| err(k, "expected register ids as non-empty strings"))?;
                        if !ids.iter().any(|x: &String| x == s) {
                            ids.push(s.to_string());
                        }
                    }
                    f.registers = Some(ids);
                }
                FactId::LinkageWith => {
                    let mut list = Vec::new();
                    for item in parse_array(k, value)? {
                        let a: LinkageAuthority = parse_enum(k, item)?;
                        if !list.contains(&a) {
                            list.push(a);
                        }
                    }
                    f.linkage_with = Some(list);
                }
                FactId::RecipientCountries => {
                    let mut list = Vec::new();
                    for item in parse_array(k, value)? {
                        let s = item.as_str().ok_or_else(|| {
                            err(k, "expected ISO 3166-1 alpha-2 codes as strings")
                        })?;
                        let c = CountryCode::parse(s).map_err(|m| err(k, m.to_string()))?;
                        if !list.contains(&c) {
                            list.push(c);
                        }
                    }
                    f.recipient_countries = Some(list);
                }
                FactId::KeyRetentionMonths => {
                    let n = value
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| err(k, "expected a whole number of months (0 or more)"))?;
                    f.key_retention_months = Some(n);
                }
            }
        }
        Ok(f)
    }

    /// The facts in the same JSON shape that [`Facts::from_json`] reads.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Whether the fact has been given.
    pub fn is_given(&self, fact: FactId) -> bool {
        match fact {
            FactId::ResearchPrincipalKind => self.research_principal_kind.is_some(),
            FactId::IsResearch => self.is_research.is_some(),
            FactId::Purpose => self.purpose.is_some(),
            FactId::CompanyReceives => self.company_receives.is_some(),
            FactId::PrincipalReceives => self.principal_receives.is_some(),
            FactId::AnalysisBy => self.analysis_by.is_some(),
            FactId::Sector => self.sector.is_some(),
            FactId::ExternalProcessor => self.external_processor.is_some(),
            FactId::IdentityNumbersRequested => self.identity_numbers_requested.is_some(),
            FactId::EffortBeyondRoutine => self.effort_beyond_routine.is_some(),
            FactId::Registers => self.registers.is_some(),
            FactId::LinkageWith => self.linkage_with.is_some(),
            FactId::RecipientCountries => self.recipient_countries.is_some(),
            FactId::KeyRetentionMonths => self.key_retention_months.is_some(),
        }
    }
}

/// A register chosen for the collaboration with its current CPUA (centralt personuppgiftsansvarig myndighet),
/// resolved by the application from reference data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterInfo {
    pub id: String,
    pub cpua_id: String,
    pub cpua_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_serializes_back_to_the_same_shape() {
        let v = json!({
            "research_principal_kind": "company",
            "is_research": "yes",
            "purpose": "research",
            "company_receives": "pseudonymised",
            "principal_receives": "pseudonymised",
            "analysis_by": "company",
            "sector": "pharma",
            "registers": ["swedeheart"],
            "linkage_with": ["socialstyrelsen", "scb"],
            "external_processor": false,
            "recipient_countries": ["SE", "US"],
            "identity_numbers_requested": false,
            "effort_beyond_routine": true,
            "key_retention_months": 3
        });
        let f = Facts::from_json(&v).expect("valid facts");
        assert_eq!(f.to_json(), v);
        assert_eq!(Facts::from_json(&json!({})), Ok(Facts::default()));
        let back: Facts = serde_json::from_value(v).expect("serde shape");
        assert_eq!(back, f);
    }

    #[test]
    fn errors_name_the_fact() {
        let e = Facts::from_json(&json!({"colour": "red"})).unwrap_err();
        assert_eq!(e.fact, "colour");
        let e = Facts::from_json(&json!({"purpose": "fun"})).unwrap_err();
        assert_eq!(e.fact, "purpose");
        assert!(e.message.contains("unknown value"));
        let e = Facts::from_json(&json!({"external_processor": "yes"})).unwrap_err();
        assert_eq!(e.fact, "external_processor");
        let e = Facts::from_json(&json!({"recipient_countries": ["SE", "XX"]})).unwrap_err();
        assert_eq!(e.fact, "recipient_countries");
        let e = Facts::from_json(&json!({"recipient_countries": ["se"]})).unwrap_err();
        assert_eq!(e.fact, "recipient_countries");
        let e = Facts::from_json(&json!({"key_retention_months": -1})).unwrap_err();
        assert_eq!(e.fact, "key_retention_months");
        let e = Facts::from_json(&json!({"linkage_with": ["nsa"]})).unwrap_err();
        assert_eq!(e.fact, "linkage_with");
    }

    #[test]
    fn receives_is_ordered() {
        assert!(Receives::Nothing < Receives::Aggregated);
        assert!(Receives::Pseudonymised < Receives::Identifiable);
    }
}
