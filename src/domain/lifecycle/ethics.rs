//! Step 3, ethics approval (etikgodkännande). Seed 000, "Etikprövning": all research on register data needs
//! an ethics approval; whether one is needed is the `ethics_approval` obligation, and the data application is
//! gated on it (the rulebook's `gates_step = 4`).
use super::{not_in_future, step_is, Context, Refusal};
use crate::domain::collaboration::{Collaboration, EthicsApproval};
use crate::domain::step::Step;

/// Applying for ethics approval follows the contact with the register holder (seed 001, step 3).
pub(super) fn guard_review(c: &Collaboration) -> Result<(), Refusal> {
    step_is(
        c,
        &[Step::RegisterContact],
        crate::msg!("what.ethics_application"),
    )
}

pub(super) fn guard_record(c: &Collaboration) -> Result<(), Refusal> {
    step_is(
        c,
        &[Step::Preparation, Step::RegisterContact, Step::EthicsReview],
        crate::msg!("what.ethics_approval"),
    )
}

pub(super) fn apply_record(
    n: &mut Collaboration,
    e: EthicsApproval,
    ctx: &Context,
) -> Result<(), Refusal> {
    not_in_future("decided_on", e.decided_on, ctx.today)?;
    n.ethics = Some(e);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::Command;

    #[test]
    fn an_ethics_decision_cannot_lie_in_the_future() {
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::public_research());
        let mut e = k.ethics_approval();
        e.decided_on = k.today().succ_opt().unwrap();
        let r = k.run(&c, Command::RecordEthicsApproval(e)).unwrap_err();
        assert_eq!(r.rule, "date_in_future");
        assert_eq!(r.field.as_deref(), Some("decided_on"));
        let mut e = k.ethics_approval();
        e.decided_on = k.today();
        assert!(k.run(&c, Command::RecordEthicsApproval(e)).is_ok());
    }

    #[test]
    fn ethics_review_follows_the_register_contact() {
        let k = Kit::new();
        let c = k.collab(Scenario::public_research());
        let r = k.run(&c, Command::ToEthicsReview).unwrap_err();
        assert_eq!(r.rule, "wrong_step");
        let released = k.walk_to_released(Scenario::public_research());
        let r = k
            .run(
                &released,
                Command::RecordEthicsApproval(k.ethics_approval()),
            )
            .unwrap_err();
        assert_eq!(r.rule, "wrong_step");
    }
}
