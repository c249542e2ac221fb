//! Withdrawal (återkallelse). DOMAIN.md, "Withdrawal after release": withdrawing before any release ends the
//! case at once; after a release the released data must still be archived or deleted, so the case goes to
//! step 9 (seed 001, "9. Arkivering och radering av kopior") and closes only on the disposal confirmation.
use super::{Context, Refusal};
use crate::domain::collaboration::Collaboration;
use crate::domain::step::Step;

pub(super) fn guard(c: &Collaboration) -> Result<(), Refusal> {
    if c.step == Step::Archiving {
        return Err(Refusal::precondition(crate::msg!("already_archiving")));
    }
    Ok(())
}

pub(super) fn apply(n: &mut Collaboration, reason: String, ctx: &Context) {
    n.withdrawal_reason = Some(reason);
    if n.any_released() {
        n.step = Step::Archiving;
    } else {
        n.step = Step::Withdrawn;
        n.closed_at = Some(ctx.now);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::Command;
    use crate::domain::step::Step;

    #[test]
    fn withdrawal_before_release_ends_the_case() {
        let k = Kit::new();
        let c = k.walk_to_decided(Scenario::public_research());
        let n = k
            .run(
                &c,
                Command::ToWithdrawn {
                    reason: "no budget".into(),
                },
            )
            .unwrap();
        assert_eq!(n.step, Step::Withdrawn);
        assert!(n.closed_at.is_some());
    }

    #[test]
    fn withdrawal_after_release_leads_to_archiving_and_deletion() {
        // DOMAIN.md, "Withdrawal after release"; seed 001, step 9.
        let k = Kit::new();
        let c = k.walk_to_released(Scenario::public_research());
        let n = k
            .run(
                &c,
                Command::ToWithdrawn {
                    reason: "stopped".into(),
                },
            )
            .unwrap();
        assert_eq!(n.step, Step::Archiving);
        assert!(n.closed_at.is_none());
        assert_eq!(
            k.run(&n, Command::ToClosed).unwrap_err().rule,
            "disposal_confirmation_required"
        );
        assert_eq!(
            k.run(
                &n,
                Command::ToWithdrawn {
                    reason: "again".into()
                }
            )
            .unwrap_err()
            .rule,
            "already_archiving"
        );
        let n = k.run(&n, Command::ConfirmDisposal(k.disposal())).unwrap();
        assert_eq!(k.run(&n, Command::ToClosed).unwrap().step, Step::Closed);
    }
}
