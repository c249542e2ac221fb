//! Linkage authorities' own reviews (samkörning). Seed 000, "Sambearbetning av registerdata": linkage with
//! Socialstyrelsen's, SCB's or Försäkringskassan's registers is stated in every application, and each
//! register-keeping authority reviews on its own. The parties record each authority's application and
//! decision; the `linkage_applications` obligation gates the release on every one approving.
use super::{not_in_future, CommandKind, Context, HoldUp, LinkageInput, Refusal, SEED_000};
use crate::domain::collaboration::{Collaboration, LinkageDecision, LinkageReview, LinkageTarget};

pub(super) fn guard(c: &Collaboration, _kind: CommandKind) -> Result<(), Refusal> {
    if super::obligations::linkage_authorities(c).is_empty() {
        return Err(Refusal::precondition(crate::msg!("no_linkage")));
    }
    if c.any_released() {
        return Err(Refusal::precondition(crate::msg!("linkage_after_release")));
    }
    Ok(())
}

fn review(n: &mut Collaboration, authority: LinkageTarget) -> Result<&mut LinkageReview, Refusal> {
    if authority.authority_name().is_none() || !n.linkage.contains(&authority) {
        return Err(Refusal::invalid(
            "authority",
            crate::msg!("not_a_linkage_authority_of_collaboration"),
        )
        .source(SEED_000, "Sambearbetning av registerdata"));
    }
    if n.linkage_review(authority).is_none() {
        n.linkage_reviews.push(LinkageReview {
            authority,
            applied_on: None,
            application_reference: None,
            decision: None,
        });
    }
    n.linkage_reviews
        .iter_mut()
        .find(|r| r.authority == authority)
        .ok_or_else(|| Refusal::precondition(crate::msg!("no_linkage.no_review")))
}

pub(super) fn apply(
    n: &mut Collaboration,
    input: LinkageInput,
    ctx: &Context,
) -> Result<(), Refusal> {
    match input {
        LinkageInput::Application {
            authority,
            applied_on,
            reference,
        } => {
            not_in_future("applied_on", applied_on, ctx.today)?;
            let r = review(n, authority)?;
            r.applied_on = Some(applied_on);
            r.application_reference = reference;
        }
        LinkageInput::Decision {
            authority,
            approved,
            decided_on,
            reference,
        } => {
            not_in_future("decided_on", decided_on, ctx.today)?;
            let by = ctx.actor.account.clone();
            let r = review(n, authority)?;
            if r.applied_on.is_some_and(|a| decided_on < a) {
                return Err(Refusal::invalid(
                    "decided_on",
                    crate::msg!("decision_before_application"),
                ));
            }
            r.decision = Some(LinkageDecision {
                approved,
                decided_on,
                reference,
                recorded_by: by,
            });
        }
    }
    Ok(())
}

/// Linkage authorities still to decide.
pub(super) fn holding_up(c: &Collaboration) -> Vec<HoldUp> {
    super::obligations::linkage_authorities(c)
        .into_iter()
        .filter(|t| {
            c.linkage_review(*t)
                .and_then(|r| r.decision.as_ref())
                .is_none()
        })
        .map(|t| HoldUp {
            cpua: t.code().to_string(),
            cpua_name: t.authority_name().unwrap_or_default().to_string(),
            waiting_for: if c.linkage_review(t).is_some_and(|r| r.applied_on.is_some()) {
                "linkage_decision".into()
            } else {
                "linkage_application".into()
            },
            due_on: None,
            overdue: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Command, LinkageInput};
    use crate::domain::collaboration::LinkageTarget;

    #[test]
    fn each_linkage_authority_has_a_track_of_its_own() {
        // Seed 000, "Sambearbetning av registerdata".
        let k = Kit::new();
        let mut s = Scenario::public_research();
        s.linkage = vec![LinkageTarget::Scb, LinkageTarget::Socialstyrelsen];
        let c = k.collab(s);
        assert_eq!(super::holding_up(&c).len(), 2);
        let applied = k
            .run(
                &c,
                Command::RecordLinkage(LinkageInput::Application {
                    authority: LinkageTarget::Scb,
                    applied_on: k.today(),
                    reference: None,
                }),
            )
            .unwrap();
        let h = super::holding_up(&applied);
        assert_eq!(
            h.iter().find(|h| h.cpua == "scb").unwrap().waiting_for,
            "linkage_decision"
        );
        let decided = k
            .run(&applied, k.linkage_decision(LinkageTarget::Scb, true))
            .unwrap();
        assert_eq!(super::holding_up(&decided).len(), 1);
        let r = k
            .run(
                &c,
                k.linkage_decision(LinkageTarget::Forsakringskassan, true),
            )
            .unwrap_err();
        assert_eq!(r.rule, "not_a_linkage_authority_of_collaboration");
    }

    #[test]
    fn a_linkage_decision_is_not_dated_before_its_application() {
        // Seed 000, "Sambearbetning av registerdata": the authority decides on the application made to it.
        let k = Kit::new();
        let mut s = Scenario::public_research();
        s.linkage = vec![LinkageTarget::Scb];
        let c = k.collab(s);
        let applied = k
            .run(
                &c,
                Command::RecordLinkage(LinkageInput::Application {
                    authority: LinkageTarget::Scb,
                    applied_on: k.today(),
                    reference: None,
                }),
            )
            .unwrap();
        let decide_on = |d| {
            Command::RecordLinkage(LinkageInput::Decision {
                authority: LinkageTarget::Scb,
                approved: true,
                decided_on: d,
                reference: "SCB-1".into(),
            })
        };
        let later = k.later(1);
        let before = k.today().pred_opt().unwrap();
        let r = later.run(&applied, decide_on(before)).unwrap_err();
        assert_eq!(r.rule, "decision_before_application");
        assert_eq!(r.field.as_deref(), Some("decided_on"));
        let decided = later.run(&applied, decide_on(later.today())).unwrap();
        let review = decided.linkage_review(LinkageTarget::Scb).unwrap();
        assert_eq!(
            review.decision.as_ref().map(|d| d.decided_on),
            Some(later.today())
        );
    }

    #[test]
    fn without_linkage_there_is_nothing_to_record() {
        let k = Kit::new();
        let c = k.collab(Scenario::public_research());
        let r = k
            .run(&c, k.linkage_decision(LinkageTarget::Scb, true))
            .unwrap_err();
        assert_eq!(r.rule, "no_linkage");
    }
}
