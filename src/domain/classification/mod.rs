//! Collaboration classification (klassificering av samverkan): a versioned, explainable rulebook that types
//! each collaboration and derives its obligations. Pure: no file or network I/O (files: [`crate::rulebook`]).
//!
//! * [`Facts`]: the intake facts; every one optional. Parse request bodies with [`Facts::from_json`], whose
//!   [`FactError`] names the fact (for a 4xx problem+json).
//! * [`Rulebook::parse`]: TOML text to a compiled, checked rulebook; errors are [`RulebookError`]s shown as
//!   `file:line: reason`. [`RulebookSet`] holds the versions and picks the one in force on a date.
//! * [`classify`]: facts + resolved registers to a [`Classification`] that records the rulebook version.
//!   Semantics:
//!   - a rule fires only when the given facts make its condition true (three-valued logic: a missing fact is
//!     unknown, never guessed);
//!   - `outcome` is the type of the one type rule that fires; a grey-zone rule or no matching rule gives
//!     `unclassified` (and the `legal_review` obligation); if type rules are undecided only because facts are
//!     missing, the outcome is `unclassified` with `incomplete = true` and no legal review;
//!   - `missing` lists the facts not given that would change the type or the obligations;
//!   - `sensitivity` says for every fact whether another answer would change the type / the obligations.
//!     [`classify_core`] is the same without sensitivity (cheaper; for recomputation and `diff`).
//! * The registers passed to `classify` must be resolved by the caller (register id to current CPUA); with
//!   register ids in the facts but no [`RegisterInfo`], the number of CPUAs counts as unknown.
mod classify;
mod codes;
mod condition;
mod country;
mod facts;
mod rulebook;

pub use classify::{
    classify, classify_core, Classification, ClauseItem, DocumentItem, FactSensitivity, Obligation,
    Outcome, Parties,
};
pub use codes::{ClauseCode, CollaborationType, DetailKind, Instrument, ObligationCode, Role};
pub use country::CountryCode;
pub use facts::{
    AnalysisBy, FactEnum, FactError, FactId, Facts, IsResearch, LinkageAuthority, PrincipalKind,
    Purpose, Receives, RegisterInfo, Sector,
};
pub use rulebook::{CheckReport, ObligationInfo, Rulebook, RulebookError, Source, TypeInfo};

use chrono::NaiveDate;
use std::sync::Arc;

/// Several rulebook versions; picks the one in force on a date.
#[derive(Debug, Clone, Default)]
pub struct RulebookSet {
    /// Sorted by `effective_from`, oldest first.
    books: Vec<Arc<Rulebook>>,
}

impl RulebookSet {
    /// Builds a set; two versions with the same name or the same effective date are an error.
    pub fn new(books: Vec<Rulebook>) -> Result<RulebookSet, Vec<RulebookError>> {
        let mut books: Vec<Arc<Rulebook>> = books.into_iter().map(Arc::new).collect();
        books.sort_by_key(|b| b.effective_from);
        let mut errors = Vec::new();
        for (i, b) in books.iter().enumerate() {
            for a in &books[..i] {
                if a.version == b.version {
                    errors.push(RulebookError {
                        file: b.file.clone(),
                        line: 1,
                        message: format!("version `{}` is also defined in {}", b.version, a.file),
                    });
                }
                if a.effective_from == b.effective_from {
                    errors.push(RulebookError {
                        file: b.file.clone(),
                        line: 1,
                        message: format!(
                            "effective date {} is also used by {}",
                            b.effective_from, a.file
                        ),
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(RulebookSet { books })
        } else {
            Err(errors)
        }
    }

    /// The rulebook in force on `date`: the latest whose `effective_from` is on or before it.
    pub fn effective_on(&self, date: NaiveDate) -> Option<&Arc<Rulebook>> {
        self.books.iter().rev().find(|b| b.effective_from <= date)
    }

    /// A rulebook by its version string (to recompute or explain a stored classification).
    pub fn by_version(&self, version: &str) -> Option<&Arc<Rulebook>> {
        self.books.iter().find(|b| b.version == version)
    }

    /// The newest rulebook.
    pub fn latest(&self) -> Option<&Arc<Rulebook>> {
        self.books.last()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Rulebook>> {
        self.books.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.books.is_empty()
    }

    pub fn len(&self) -> usize {
        self.books.len()
    }
}

#[cfg(test)]
mod tests;
