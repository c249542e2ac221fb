//! Quality registers and the CPUA authority responsible for each over time.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{AccountId, OrgId, RegisterId};

/// A national quality register (nationellt kvalitetsregister).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    pub id: RegisterId,
    /// A short code such as `SWEDEHEART`.
    pub code: String,
    pub name: String,
    /// Marked as example reference data, not a real register entry.
    pub is_example: bool,
    /// Whether the information given to patients when their data were reported said the data may be
    /// used for research (patientinformation). Without it, research needs consent obtained
    /// retrospectively (seed 000, "Vilka registerdata går att använda för forskning?").
    pub patient_information_covers_research: bool,
}

/// To whom a CPUA delegated release decisions for a register (delegat).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delegate {
    /// The register holder (registerhållaren): any register-holder account of the CPUA.
    RegisterHolder,
    /// A named person, by account.
    Person { account: AccountId, name: String },
}

/// A written delegation of the release decision for one register (skriftlig delegation), seed 000, "För
/// kvalitetsregister förekommer att CPUA-myndigheten ger skriftlig delegation till registerhållaren eller
/// annan att pröva och fatta beslut om utlämnande av personuppgifter".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    pub id: String,
    pub register: RegisterId,
    pub cpua: OrgId,
    pub delegate: Delegate,
    pub delegated_on: NaiveDate,
    /// The delegation decision's reference (dnr).
    pub reference: String,
    pub revoked_on: Option<NaiveDate>,
}

impl Delegation {
    /// Whether the delegation is in force on `day`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.delegated_on <= day && self.revoked_on.is_none_or(|r| day < r)
    }
}

/// What the lifecycle needs to know of one register now (registeruppgifter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterFacts {
    pub name: String,
    /// The CPUA responsible now, and its name.
    pub cpua: OrgId,
    pub cpua_name: String,
    pub patient_information_covers_research: bool,
    /// Delegations of the release decision for this register (in force or not).
    pub delegations: Vec<Delegation>,
}

/// One period during which a CPUA authority is responsible for a register
/// (CPUA-ansvar). Registers move between CPUAs over time (seed 002, appendix: the consolidation
/// from 13 to 6 CPUA authorities); the history is kept, never overwritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuaAssignment {
    pub register: RegisterId,
    pub cpua: OrgId,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
}

/// A register code: 2 to 32 characters of upper-case letters, digits, `-` or `_`.
pub fn parse_register_code(s: &str) -> Result<String, &'static str> {
    let t = s.trim();
    if t.len() < 2 || t.len() > 32 {
        return Err("must be 2 to 32 characters");
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err("only upper-case letters A-Z, digits, '-' and '_'");
    }
    Ok(t.to_string())
}
