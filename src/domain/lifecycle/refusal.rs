//! Why a command was refused (skäl för vägran).
use serde::Serialize;

use super::advice::Advice;
use super::obligations::UnmetObligation;

/// Why a command was refused: the rule, what is missing, and where the rule comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// A stable code of the rule, e.g. `feasibility_required`.
    pub rule: &'static str,
    /// The input field at fault, when it is one.
    pub field: Option<String>,
    pub message: String,
    /// The seed file and section the rule comes from.
    pub source: Option<String>,
    /// The preconditions still missing.
    pub missing: Vec<String>,
    /// Each obligation not yet met, with its evidence and source.
    pub obligations: Vec<UnmetObligation>,
    /// "Bör" warnings that need a reason to be passed.
    pub warnings: Vec<Advice>,
}

/// Whether the state or the input is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// A precondition of the current state is not met (409).
    Precondition,
    /// The data given with the command break a rule (422).
    Invalid,
}

impl Refusal {
    pub fn precondition(rule: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            kind: RefusalKind::Precondition,
            rule,
            field: None,
            message: message.into(),
            source: None,
            missing: vec![],
            obligations: vec![],
            warnings: vec![],
        }
    }

    pub fn invalid(field: &str, rule: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            field: Some(field.to_string()),
            kind: RefusalKind::Invalid,
            ..Refusal::precondition(rule, message)
        }
    }

    pub fn source(mut self, seed: &str, section: &str) -> Refusal {
        self.source = Some(format!("{seed}, \"{section}\""));
        self
    }

    pub fn missing(mut self, items: impl IntoIterator<Item = impl Into<String>>) -> Refusal {
        self.missing = items.into_iter().map(Into::into).collect();
        self
    }
}

impl Refusal {
    /// The command is possible only in the given steps.
    pub fn wrong_step(
        c: &crate::domain::collaboration::Collaboration,
        allowed: &[crate::domain::step::Step],
        what: &str,
    ) -> Refusal {
        let names: Vec<&str> = allowed.iter().map(|s| s.code()).collect();
        Refusal::precondition(
            "wrong_step",
            format!(
                "{what} is possible only in step {}; the collaboration is in step {}",
                names.join(" or "),
                c.step.code()
            ),
        )
        .missing([format!("step {}", names.join(" or "))])
    }
}

/// Refuses unless the collaboration is in one of `allowed`.
pub fn step_is(
    c: &crate::domain::collaboration::Collaboration,
    allowed: &[crate::domain::step::Step],
    what: &str,
) -> Result<(), Refusal> {
    if allowed.contains(&c.step) {
        Ok(())
    } else {
        Err(Refusal::wrong_step(c, allowed, what))
    }
}

/// Refuses a date after today (Europe/Stockholm).
pub fn not_in_future(
    field: &str,
    d: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Result<chrono::NaiveDate, Refusal> {
    if d > today {
        return Err(Refusal::invalid(
            field,
            "date_in_future",
            format!("{d} lies in the future"),
        ));
    }
    Ok(d)
}
