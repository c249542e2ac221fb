//! The seeds' "bör" and "gärna" (DOMAIN.md, "How strongly each rule binds"). A "bör" is a warning: shown in
//! the case and in `next`, and the actor passes it by giving a reason, which is recorded in the state and the
//! audit trail. A "gärna" is a prompt and never blocks. ("Ska" rules are guards in the command modules.)
use serde::{Deserialize, Serialize};

use super::{CommandKind, Context, Refusal};
use crate::domain::collaboration::{Collaboration, PassedWarning};

/// How strongly a rule binds (regelns styrka).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// "ska / måste / kräver": a guard.
    Ska,
    /// "bör": a warning passed with a recorded reason.
    Bor,
    /// "gärna / kan": a prompt, never a block.
    Garna,
}

/// A warning or a prompt for one command (råd).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Advice {
    /// A stable code; a "bör" is passed by sending this code with a reason.
    pub code: &'static str,
    pub grade: Grade,
    pub message_sv: String,
    pub message_en: String,
    /// The document and section.
    pub source: crate::domain::sources::Source,
}

impl Advice {
    pub fn bor(
        code: &'static str,
        sv: impl Into<String>,
        en: impl Into<String>,
        seed: &str,
        section: &str,
    ) -> Advice {
        Advice {
            code,
            grade: Grade::Bor,
            message_sv: sv.into(),
            message_en: en.into(),
            source: crate::domain::sources::Source::new(seed, section),
        }
    }

    pub fn garna(
        code: &'static str,
        sv: impl Into<String>,
        en: impl Into<String>,
        seed: &str,
        section: &str,
    ) -> Advice {
        Advice {
            grade: Grade::Garna,
            ..Advice::bor(code, sv, en, seed, section)
        }
    }
}

/// A "bör" warning the actor passes, with the reason (motivering).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    pub code: String,
    pub reason: String,
}

/// Every "bör" warning raised by a command must be passed with a reason; each is then recorded in the
/// state. A warning without a reason refuses the command, naming the warnings and how to pass them; an
/// acknowledgement for a warning that was not raised is ignored.
pub fn pass(
    n: &mut Collaboration,
    kind: CommandKind,
    raised: Vec<Advice>,
    ctx: &Context,
) -> Result<(), Refusal> {
    let raised: Vec<Advice> = raised
        .into_iter()
        .filter(|a| a.grade == Grade::Bor)
        .collect();
    let unpassed: Vec<Advice> = raised
        .iter()
        .filter(|a| {
            !ctx.acknowledged
                .iter()
                .any(|k| k.code == a.code && !k.reason.trim().is_empty())
        })
        .cloned()
        .collect();
    if !unpassed.is_empty() {
        let codes: Vec<&str> = unpassed.iter().map(|a| a.code).collect();
        let mut r = Refusal::precondition(crate::msg!(
            "warning_needs_reason",
            codes = crate::domain::messages::Arg::all_of(codes.iter().copied())
        ))
        .missing(codes.iter().map(|c| format!("acknowledge.{c}")));
        r.field = Some("acknowledge".into());
        r.warnings = unpassed;
        return Err(r);
    }
    for a in raised {
        if let Some(k) = ctx.acknowledged.iter().find(|k| k.code == a.code) {
            n.passed_warnings.push(PassedWarning {
                code: a.code.to_string(),
                command: kind.code().to_string(),
                reason: k.reason.trim().to_string(),
                by: ctx.actor.account.clone(),
                at: ctx.now,
            });
        }
    }
    Ok(())
}
