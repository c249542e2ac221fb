//! Quality registers and the CPUA authority responsible for each over time.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{OrgId, RegisterId};

/// A national quality register (nationellt kvalitetsregister).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    pub id: RegisterId,
    /// A short code such as `SWEDEHEART`.
    pub code: String,
    pub name: String,
    /// Marked as example reference data, not a real register entry.
    pub is_example: bool,
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
