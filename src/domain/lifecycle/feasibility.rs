//! Step 2, early contact with the register holder (etablera tidig kontakt med registerhållare), seed 001,
//! "2. Etablera tidig kontakt med registerhållare": can the register deliver, roughly when and at what cost.
//! Each register holder answers for their own register. DOMAIN.md grades the early contact "bör": going on
//! without an answer, or against a "cannot deliver", is a warning passed with a reason.
use super::{Advice, Context, FeasibilityInput, Refusal, SEED_001};
use crate::domain::collaboration::{Collaboration, Feasibility};
use crate::domain::ids::OrgId;
use crate::domain::step::Step;

const SECTION: &str = "2. Etablera tidig kontakt med registerhållare";

/// A register holder answers in step 2, for a register of their own CPUA.
pub(super) fn guard(
    c: &Collaboration,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Refusal> {
    if c.step != Step::RegisterContact {
        return Err(Refusal::wrong_step(
            c,
            &[Step::RegisterContact],
            crate::msg!("what.feasibility"),
        ));
    }
    if let Some(org) = track {
        let own = c
            .registers
            .iter()
            .any(|r| ctx.registers.get(r).is_some_and(|f| &f.cpua == org));
        if !own {
            return Err(Refusal::precondition(crate::msg!("no_register_of_yours"))
                .source(SEED_001, SECTION));
        }
    }
    Ok(())
}

pub(super) fn apply(
    n: &mut Collaboration,
    f: FeasibilityInput,
    ctx: &Context,
) -> Result<(), Refusal> {
    if !n.registers.contains(&f.register) {
        return Err(Refusal::invalid(
            "register",
            crate::msg!("not_a_register_of_collaboration"),
        ));
    }
    let own = ctx
        .registers
        .get(&f.register)
        .is_some_and(|facts| facts.cpua == ctx.actor.org);
    if !own {
        return Err(
            Refusal::invalid("register", crate::msg!("not_your_register"))
                .source(SEED_001, SECTION),
        );
    }
    if f.extraction_charged && f.estimated_cost.is_none() {
        return Err(
            Refusal::invalid("estimated_cost", crate::msg!("cost_estimate_required"))
                .source(SEED_001, SECTION),
        );
    }
    n.feasibility.retain(|x| x.register != f.register);
    n.feasibility.push(Feasibility {
        register: f.register,
        feasible: f.feasible,
        estimated_weeks: f.estimated_weeks,
        estimated_cost: f.estimated_cost,
        extraction_charged: f.extraction_charged,
        agrees_on_type: f.agrees_on_type,
        comment: f.comment,
        recorded_at: ctx.now,
        recorded_by: ctx.actor.account.clone(),
    });
    Ok(())
}

/// The "bör" of early contact, for the registers of one CPUA (or all): a register without an answer, or
/// one whose holder said it cannot deliver.
pub(super) fn warnings(
    c: &Collaboration,
    of: Option<&[crate::domain::ids::RegisterId]>,
) -> Vec<Advice> {
    let regs: Vec<_> = match of {
        Some(r) => r.to_vec(),
        None => c.registers.clone(),
    };
    let mut out = vec![];
    if regs.iter().any(|r| c.feasibility_for(r).is_none()) {
        out.push(Advice::bor(
            "feasibility_not_answered",
            "Registerhållaren bör ha svarat på om registret kan leverera, ungefärlig tid och kostnad innan ni går vidare.",
            "The register holder should have answered whether the register can deliver, roughly when and at what cost, before you go on.",
            SEED_001,
            SECTION,
        ));
    }
    if regs
        .iter()
        .any(|r| c.feasibility_for(r).is_some_and(|f| !f.feasible))
    {
        out.push(Advice::bor(
            "register_cannot_deliver",
            "Registerhållaren har svarat att registret inte kan leverera det som efterfrågas; fråga var informationen finns i stället.",
            "The register holder answered that the register cannot deliver what is asked for; ask where the information can be found instead.",
            SEED_001,
            SECTION,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::Command;

    #[test]
    fn each_register_holder_answers_only_for_their_own_register() {
        // Seed 001, "2. Etablera tidig kontakt med registerhållare".
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::two_cpuas());
        // Region A's holder answers for Region B's register: refused.
        let wrong = k.feasibility(1);
        let r = k.run_as(&c, &k.holder_a, wrong).unwrap_err();
        assert_eq!(r.rule, "not_your_register");
        let ok = k.run_as(&c, &k.holder_a, k.feasibility(0)).unwrap();
        assert_eq!(ok.feasibility.len(), 1);
        assert_eq!(ok.feasibility[0].register, k.registers[0]);
        // Region B's holder then answers for theirs; the first answer stays.
        let both = k.run_as(&ok, &k.holder_b, k.feasibility(1)).unwrap();
        assert_eq!(both.feasibility.len(), 2);
    }

    #[test]
    fn a_holder_with_no_register_in_the_case_is_refused_by_the_guard() {
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::public_research());
        let kind = super::super::CommandKind::RecordFeasibility;
        let r = k.guard(&c, &k.holder_b, kind, Some(&k.b)).unwrap_err();
        assert_eq!(r.rule, "no_register_of_yours");
        assert!(k.guard(&c, &k.holder_a, kind, Some(&k.a)).is_ok());
    }

    #[test]
    fn a_charged_extraction_needs_a_cost_estimate() {
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::public_research());
        let mut f = k.feasibility_input(0);
        f.extraction_charged = true;
        f.estimated_cost = None;
        let r = k
            .run_as(&c, &k.holder_a, Command::RecordFeasibility(f))
            .unwrap_err();
        assert_eq!(r.rule, "cost_estimate_required");
    }

    #[test]
    fn going_on_without_an_answer_is_a_warning_passed_with_a_reason() {
        // DOMAIN.md grades early contact with the register holder "bör".
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::public_research());
        let r = k.run(&c, Command::ToEthicsReview).unwrap_err();
        assert_eq!(r.rule, "warning_needs_reason");
        assert_eq!(r.warnings[0].code, "feasibility_not_answered");
        let n = k
            .run_ack(
                &c,
                Command::ToEthicsReview,
                &[("feasibility_not_answered", "asked by phone")],
            )
            .unwrap();
        assert_eq!(n.passed_warnings.len(), 1);
        assert_eq!(n.passed_warnings[0].reason, "asked by phone");
        assert_eq!(n.passed_warnings[0].command, "ethics_review");
        // An empty reason does not pass it.
        let r = k
            .run_ack(
                &c,
                Command::ToEthicsReview,
                &[("feasibility_not_answered", "  ")],
            )
            .unwrap_err();
        assert_eq!(r.rule, "warning_needs_reason");
    }

    #[test]
    fn cannot_deliver_is_a_warning_too() {
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::public_research());
        let mut f = k.feasibility_input(0);
        f.feasible = false;
        let c = k
            .run_as(&c, &k.holder_a, Command::RecordFeasibility(f))
            .unwrap();
        let r = k.run(&c, Command::ToEthicsReview).unwrap_err();
        let codes: Vec<&str> = r.warnings.iter().map(|w| w.code).collect();
        assert_eq!(codes, vec!["register_cannot_deliver"]);
    }
}
