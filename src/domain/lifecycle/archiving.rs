//! Step 9, archiving and deletion of copies (arkivering och radering av kopior), seed 001, "9. Arkivering
//! och radering av kopior": a private principal under GDPR and its own policies; a public principal also
//! under OSL and the Archives Act. The case closes only once the disposal is confirmed.
use super::{not_in_future, step_is, Context, Refusal, SEED_001};
use crate::domain::collaboration::{Collaboration, DisposalConfirmation};
use crate::domain::step::Step;

pub(super) fn guard(c: &Collaboration) -> Result<(), Refusal> {
    step_is(c, &[Step::Results], crate::msg!("what.archiving"))?;
    if c.open_amendment().is_some() {
        return Err(Refusal::precondition(crate::msg!(
            "amendment_open.still_open"
        )));
    }
    Ok(())
}

pub(super) fn guard_confirm(c: &Collaboration) -> Result<(), Refusal> {
    step_is(c, &[Step::Archiving], crate::msg!("what.confirm_disposal"))
}

pub(super) fn guard_close(c: &Collaboration) -> Result<(), Refusal> {
    step_is(c, &[Step::Archiving], crate::msg!("what.close"))?;
    if c.disposal.is_none() {
        return Err(
            Refusal::precondition(crate::msg!("disposal_confirmation_required"))
                .source(SEED_001, "9. Arkivering och radering av kopior")
                .missing(["disposal"]),
        );
    }
    Ok(())
}

pub(super) fn apply_confirm(
    n: &mut Collaboration,
    d: DisposalConfirmation,
    ctx: &Context,
) -> Result<(), Refusal> {
    not_in_future("confirmed_on", d.confirmed_on, ctx.today)?;
    n.disposal = Some(d);
    Ok(())
}

pub(super) fn apply_close(n: &mut Collaboration, ctx: &Context) {
    n.step = Step::Closed;
    n.closed_at = Some(ctx.now);
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::Command;
    use crate::domain::step::Step;

    #[test]
    fn archiving_follows_the_results_step_with_no_amendment_open() {
        // Seed 001, "9. Arkivering och radering av kopior" follows "8. Resultat"; an open amendment
        // (seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata") still uses the data.
        let k = Kit::new();
        let released = k.walk_to_released(Scenario::public_research());
        let r = k.run(&released, Command::ToArchiving).unwrap_err();
        assert_eq!(r.rule, "wrong_step");
        let r = k
            .run(&released, Command::ConfirmDisposal(k.disposal()))
            .unwrap_err();
        assert_eq!(r.rule, "wrong_step");
        let results = k.run(&released, Command::ToResults).unwrap();
        let r = k
            .run(&results, Command::ConfirmDisposal(k.disposal()))
            .unwrap_err();
        assert_eq!(r.rule, "wrong_step");
        let open = k.run(&results, k.open_amendment()).unwrap();
        let r = k.run(&open, Command::ToArchiving).unwrap_err();
        assert_eq!(r.rule, "amendment_open");
        assert_eq!(
            k.run(&results, Command::ToArchiving).unwrap().step,
            Step::Archiving
        );
    }

    #[test]
    fn the_case_closes_only_after_disposal_is_confirmed() {
        // Seed 001, "9. Arkivering och radering av kopior".
        let k = Kit::new();
        let c = k.walk_to_released(Scenario::public_research());
        let c = k.run(&c, Command::ToResults).unwrap();
        let c = k.run(&c, Command::ToArchiving).unwrap();
        let r = k.run(&c, Command::ToClosed).unwrap_err();
        assert_eq!(r.rule, "disposal_confirmation_required");
        let c = k.run(&c, Command::ConfirmDisposal(k.disposal())).unwrap();
        let closed = k.run(&c, Command::ToClosed).unwrap();
        assert_eq!(closed.step, Step::Closed);
        assert!(closed.closed_at.is_some());
        assert_eq!(
            k.run(&closed, Command::ToArchiving).unwrap_err().rule,
            "terminal_state"
        );
    }
}
