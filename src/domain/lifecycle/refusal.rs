//! Why a command was refused (skäl för vägran).
use super::advice::Advice;
use super::obligations::UnmetObligation;
use crate::domain::lang::Lang;
use crate::domain::messages::{Arg, Message};
use crate::domain::sources::Source;

/// Why a command was refused: the rule, what is missing, and where the rule comes from. The text is
/// not here: `message` is the catalogue id with its parameters, rendered at the edge in the reader's
/// language ([`Refusal::text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// A stable code of the rule, e.g. `feasibility_required`.
    pub rule: &'static str,
    /// The input field at fault, when it is one.
    pub field: Option<String>,
    /// The catalogue message, keyed by the rule code.
    pub message: Message,
    /// The document, title and section the rule comes from.
    pub source: Option<Source>,
    /// The preconditions still missing.
    pub missing: Vec<String>,
    /// Each obligation not yet met, with its evidence and source.
    pub obligations: Vec<UnmetObligation>,
    /// "Bör" warnings that need a reason to be passed.
    pub warnings: Vec<Advice>,
}

/// Whether the state or the input is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// A precondition of the current state is not met (409).
    Precondition,
    /// The data given with the command break a rule (422).
    Invalid,
}

impl Refusal {
    pub fn precondition(message: Message) -> Refusal {
        Refusal {
            kind: RefusalKind::Precondition,
            rule: message.rule(),
            field: None,
            message,
            source: None,
            missing: vec![],
            obligations: vec![],
            warnings: vec![],
        }
    }

    pub fn invalid(field: &str, message: Message) -> Refusal {
        Refusal {
            field: Some(field.to_string()),
            kind: RefusalKind::Invalid,
            ..Refusal::precondition(message)
        }
    }

    /// Cites the seed file and section heading the rule comes from; the title is the seed index's.
    pub fn source(mut self, seed: &str, section: &str) -> Refusal {
        self.source = Some(Source::new(seed, section));
        self
    }

    pub fn missing(mut self, items: impl IntoIterator<Item = impl Into<String>>) -> Refusal {
        self.missing = items.into_iter().map(Into::into).collect();
        self
    }

    /// The refusal's text in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        self.message.render(lang)
    }
}

impl Refusal {
    /// The command is possible only in the given steps; `what` names the command (a `what.*` message).
    pub fn wrong_step(
        c: &crate::domain::collaboration::Collaboration,
        allowed: &[crate::domain::step::Step],
        what: Message,
    ) -> Refusal {
        let names: Vec<&str> = allowed.iter().map(|s| s.code()).collect();
        Refusal::precondition(crate::msg!(
            "wrong_step",
            what = what,
            allowed = Arg::any_of(allowed.iter().copied()),
            step = c.step
        ))
        .missing([format!("step {}", names.join(" or "))])
    }
}

/// Refuses unless the collaboration is in one of `allowed`.
pub fn step_is(
    c: &crate::domain::collaboration::Collaboration,
    allowed: &[crate::domain::step::Step],
    what: Message,
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
            crate::msg!("date_in_future", date = d),
        ));
    }
    Ok(d)
}
