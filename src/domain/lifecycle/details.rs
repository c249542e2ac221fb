//! Step 1, preparation (förarbete): editing the details, and leaving preparation for the register holder.
use super::{DetailsPatch, Refusal, SEED_000, SEED_001};
use crate::domain::collaboration::Collaboration;
use crate::domain::step::Step;

/// Details may be edited until the data application; after a release a new research question is an
/// amendment with a new ethics approval and a new application (seed 000, "Hantering vid utlämnandet av
/// kvalitetsregisterdata": "kräver alltså alltid").
pub(super) fn guard(c: &Collaboration) -> Result<(), Refusal> {
    // Issue 16: while an application is returned for completion the parties may correct it.
    if c.step.is_editable() || c.cpua_reviews.iter().any(|r| r.completion.is_some()) {
        return Ok(());
    }
    if c.any_released() {
        return Err(
            Refusal::precondition(crate::msg!("not_editable.released")).source(
                SEED_000,
                "Hantering vid utlämnandet av kvalitetsregisterdata",
            ),
        );
    }
    Err(Refusal::precondition(crate::msg!("not_editable")))
}

pub(super) fn apply(n: &mut Collaboration, p: DetailsPatch) {
    if let Some(v) = p.title {
        n.title = v;
    }
    if let Some(v) = p.purpose {
        n.purpose = v;
    }
    if let Some(v) = p.research_question {
        n.research_question = v;
    }
    if let Some(v) = p.is_research {
        n.is_research = v;
    }
    if let Some(v) = p.research_principal {
        n.research_principal = v;
    }
    if let Some(v) = p.registers {
        n.registers = v;
        // An answer for a register no longer asked for no longer counts.
        let regs = n.registers.clone();
        n.feasibility.retain(|f| regs.contains(&f.register));
    }
    if let Some(v) = p.requested_variables {
        n.requested_variables = v;
    }
    if let Some(v) = p.data_kind {
        n.data_kind = v;
    }
    if let Some(v) = p.linkage {
        n.linkage = v;
    }
    if let Some(v) = p.recipient_countries {
        n.recipient_countries = v;
    }
    if let Some(v) = p.intake {
        n.intake = v;
    }
}

/// Preparation is complete when the registers are chosen and, for research, the principal and the
/// question are named, and the type has been identified (seed 001, "1. Förarbete").
pub(super) fn guard_register_contact(c: &Collaboration) -> Result<(), Refusal> {
    if c.step != Step::Preparation {
        return Err(Refusal::wrong_step(
            c,
            &[Step::Preparation],
            crate::msg!("what.register_contact"),
        ));
    }
    let mut missing = Vec::new();
    if c.registers.is_empty() {
        missing.push("registers");
    }
    if c.is_research {
        if c.research_principal.is_none() {
            missing.push("research_principal");
        }
        if c.research_question.is_none() {
            missing.push("research_question");
        }
    }
    if !missing.is_empty() {
        return Err(Refusal::precondition(crate::msg!(
            "preparation_incomplete",
            missing = crate::domain::messages::Arg::all_of(missing.clone())
        ))
        .source(SEED_001, "1. Förarbete")
        .missing(missing));
    }
    if let Some(rec) = c.classification.as_ref().filter(|r| r.awaits_facts()) {
        return Err(Refusal::precondition(crate::msg!(
            "collaboration_type_undecided.in_preparation"
        ))
        .source(SEED_001, "1. Förarbete")
        .missing(rec.result.missing.iter().map(|f| format!("intake.{f}"))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    #[test]
    fn preparation_names_registers_principal_and_question_before_contact() {
        // Seed 001, "1. Förarbete".
        let k = Kit::new();
        let mut c = k.collab(Scenario::public_research());
        c.research_question = None;
        let r = k
            .run(&c, super::super::Command::ToRegisterContact)
            .unwrap_err();
        assert_eq!(r.rule, "preparation_incomplete");
        assert_eq!(r.missing, vec!["research_question"]);
        c.research_question = Some("Q".into());
        c.registers.clear();
        let r = k
            .run(&c, super::super::Command::ToRegisterContact)
            .unwrap_err();
        assert_eq!(r.missing, vec!["registers"]);
    }

    #[test]
    fn an_undecided_type_keeps_the_case_in_preparation() {
        // Seed 001, "1. Förarbete": identify the type of collaboration.
        let k = Kit::new();
        let mut s = Scenario::public_research();
        s.facts.purpose = None;
        let c = k.collab(s);
        let r = k
            .run(&c, super::super::Command::ToRegisterContact)
            .unwrap_err();
        assert_eq!(r.rule, "collaboration_type_undecided");
        assert!(
            r.missing.iter().any(|m| m == "intake.purpose"),
            "{:?}",
            r.missing
        );
    }

    #[test]
    fn details_are_frozen_after_the_application_and_amended_after_release() {
        let k = Kit::new();
        let c = k.walk_to_decided(Scenario::public_research());
        let r = k
            .run(&c, super::super::Command::UpdateDetails(Default::default()))
            .unwrap_err();
        assert_eq!(r.rule, "not_editable");
        assert!(r.source.is_none());
        let released = k.walk_to_released(Scenario::public_research());
        let r = k
            .run(
                &released,
                super::super::Command::UpdateDetails(Default::default()),
            )
            .unwrap_err();
        assert!(r.source.is_some_and(|s| s.file == SEED_000));
    }

    #[test]
    fn a_changed_register_list_drops_answers_for_registers_no_longer_asked_for() {
        let k = Kit::new();
        let c = k.walk_to_feasibility(Scenario::two_cpuas());
        assert_eq!(c.feasibility.len(), 2);
        let mut n = c.clone();
        n.step = Step::Preparation;
        let patch = DetailsPatch {
            registers: Some(vec![k.registers[0].clone()]),
            ..Default::default()
        };
        apply(&mut n, patch);
        assert_eq!(n.feasibility.len(), 1);
        assert_eq!(n.feasibility[0].register, k.registers[0]);
    }
}
