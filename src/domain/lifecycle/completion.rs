//! Completion requests (komplettering, issue 16 item 2): CPUA legal returns a track's application to
//! the parties asking for named items, and the parties resubmit it.
//!
//! - Seed 001, "5. Beslut om utlämnande": the decision "bör" be given within 30 days. The clock counts
//!   from the *complete* application (DESIGN.md, "One clock": "the 30-day decision counts from the
//!   complete application"), so a returned application stops the clock and the resubmission starts it
//!   again: `application_complete_at` becomes the resubmission time and `decision_due_on` its day + 30.
//! - Seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)": the review needs a
//!   complete application (what it holds is listed there). The seeds are silent on deciding while the
//!   application is returned; a decision on an application the authority itself asked to have completed
//!   is what no user expects, so the decision is refused with "the application is returned for
//!   completion" until the parties resubmit (or legal decides after the resubmission). This refusal is
//!   a product rule, not a "ska" from the seeds; it ends as soon as the parties answer.
//!
//! The items asked for, the answers and the snapshot of the application at the request live beside the
//! case (`app::casework`); the state keeps only the hold, so every read of the case says that the
//! application is returned and until when.
use chrono::NaiveDate;

use super::{Context, Refusal, SEED_001};
use crate::domain::collaboration::{Collaboration, CompletionHold, CpuaReview};
use crate::domain::ids::OrgId;
use crate::domain::step::Step;

const DECISION: &str = "5. Beslut om utlämnande";

fn returnable(r: &CpuaReview) -> bool {
    r.decision.is_none() && r.application_complete_at.is_some() && r.completion.is_none()
}

fn track<'a>(
    c: &'a Collaboration,
    track: Option<&OrgId>,
) -> Result<Option<&'a CpuaReview>, Refusal> {
    match track.map(|o| c.review(o)) {
        Some(Some(r)) => Ok(Some(r)),
        Some(None) => Err(Refusal::invalid(
            "cpua",
            crate::msg!("not_a_cpua_of_collaboration.no_application"),
        )),
        None => Ok(None),
    }
}

/// Legal returns an application that is complete and not yet decided.
pub(super) fn guard_return(c: &Collaboration, t: Option<&OrgId>) -> Result<(), Refusal> {
    if !matches!(c.step, Step::DataApplication | Step::ReleaseDecision) {
        return Err(Refusal::precondition(crate::msg!(
            "completion.not_under_review"
        )));
    }
    match track(c, t)? {
        Some(r) if r.completion.is_some() => Err(Refusal::precondition(crate::msg!(
            "completion.already_open",
            cpua_name = &r.cpua_name
        ))),
        Some(r) if returnable(r) => Ok(()),
        Some(_) => Err(Refusal::precondition(crate::msg!(
            "completion.not_under_review"
        ))),
        None if c.cpua_reviews.iter().any(returnable) => Ok(()),
        None => Err(Refusal::precondition(crate::msg!(
            "completion.not_under_review"
        ))),
    }
}

/// The parties resubmit only an application that is returned.
pub(super) fn guard_resubmit(c: &Collaboration, t: Option<&OrgId>) -> Result<(), Refusal> {
    match track(c, t)? {
        Some(r) if r.completion.is_some() => Ok(()),
        None if c.cpua_reviews.iter().any(|r| r.completion.is_some()) => Ok(()),
        _ => Err(Refusal::precondition(crate::msg!("completion.none_open"))),
    }
}

/// The decision waits while the application is returned (see the module comment for the grade).
pub(super) fn guard_decision(r: &CpuaReview) -> Result<(), Refusal> {
    match &r.completion {
        Some(h) => Err(Refusal::precondition(crate::msg!(
            "returned_for_completion",
            cpua_name = &r.cpua_name,
            due_on = h.due_on
        ))
        .source(SEED_001, DECISION)
        .missing(["completion_answer"])),
        None => Ok(()),
    }
}

pub(super) fn apply_return(
    n: &mut Collaboration,
    cpua: &OrgId,
    request_id: String,
    due_on: NaiveDate,
    ctx: &Context,
) -> Result<(), Refusal> {
    if due_on <= ctx.today {
        return Err(Refusal::invalid(
            "due_on",
            crate::msg!("completion.due_not_ahead"),
        ));
    }
    let Some(r) = n.review_mut(cpua) else {
        return Err(Refusal::invalid(
            "cpua",
            crate::msg!("not_a_cpua_of_collaboration.no_application"),
        ));
    };
    // The clock stops: the application is no longer complete.
    r.application_complete_at = None;
    r.decision_due_on = None;
    r.completion = Some(CompletionHold {
        request_id,
        requested_at: ctx.now,
        due_on,
    });
    Ok(())
}

pub(super) fn apply_resubmit(
    n: &mut Collaboration,
    cpua: &OrgId,
    ctx: &Context,
) -> Result<(), Refusal> {
    let Some(r) = n.review_mut(cpua).filter(|r| r.completion.is_some()) else {
        return Err(Refusal::precondition(crate::msg!("completion.none_open")));
    };
    // The 30 days count from the complete application: the resubmission (seed 001, "5. Beslut …").
    r.completion = None;
    r.application_complete_at = Some(ctx.now);
    r.decision_due_on = ctx.today.checked_add_days(chrono::Days::new(30));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Command, CommandKind, DecisionInput};
    use super::*;

    fn returned(k: &Kit, c: &Collaboration) -> Collaboration {
        let due = k.today().checked_add_days(chrono::Days::new(14)).unwrap();
        k.run(
            c,
            Command::ReturnForCompletion {
                cpua: k.a.clone(),
                request_id: "cr-1".into(),
                due_on: due,
            },
        )
        .unwrap()
    }

    #[test]
    fn a_returned_application_stops_the_30_day_clock_and_refuses_the_decision() {
        // Seed 001, "5. Beslut om utlämnande": 30 days from the complete application.
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let c = k.satisfy_up_to(&c, 5, None);
        let r = returned(&k, &c);
        let track = r.review(&k.a).unwrap();
        assert!(track.application_complete_at.is_none());
        assert!(track.decision_due_on.is_none());
        assert!(track.completion.is_some());
        let refused = k
            .run(&r, k.decide(&k.a, DecisionInput::approval()))
            .unwrap_err();
        assert_eq!(refused.rule, "returned_for_completion");
        // A second request while one is open is refused.
        let again = k.run(
            &r,
            Command::ReturnForCompletion {
                cpua: k.a.clone(),
                request_id: "cr-2".into(),
                due_on: k.today().checked_add_days(chrono::Days::new(3)).unwrap(),
            },
        );
        assert!(again.is_err());
    }

    #[test]
    fn the_resubmission_restarts_the_clock_from_its_own_day() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let c = k.satisfy_up_to(&c, 5, None);
        let r = returned(&k, &c);
        let back = k
            .run(&r, Command::ResubmitApplication { cpua: k.a.clone() })
            .unwrap();
        let t = back.review(&k.a).unwrap();
        assert!(t.completion.is_none());
        assert_eq!(
            t.decision_due_on,
            k.today().checked_add_days(chrono::Days::new(30))
        );
        assert!(k
            .run(&back, Command::ResubmitApplication { cpua: k.a.clone() })
            .is_err());
        assert!(k
            .run(&back, k.decide(&k.a, DecisionInput::approval()))
            .is_ok());
        let _ = CommandKind::ReturnForCompletion;
    }
}
