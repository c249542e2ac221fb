//! A new research question after release (ändring av forskningsfråga). Seed 000, "Hantering vid utlämnandet
//! av kvalitetsregisterdata": released data may be used only for the approved purpose; a new research
//! question "kräver alltså alltid" a new ethics approval and a new application. Every CPUA that released
//! decides, with reasons, grounds and the appeal route like any decision; an approved amendment gets an
//! amendment version of the agreement, and data under the new question are released only once it is recorded.
use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::{
    not_in_future, step_is, Advice, CommandKind, Context, DecisionInput, Refusal, ReleaseInput,
    SEED_000,
};
use crate::domain::collaboration::*;
use crate::domain::ids::OrgId;
use crate::domain::step::Step;

const SECTION: &str = "Hantering vid utlämnandet av kvalitetsregisterdata";

pub(super) fn guard_open(c: &Collaboration) -> Result<(), Refusal> {
    step_is(
        c,
        &[Step::DataRelease, Step::Results],
        crate::msg!("what.amendment"),
    )?;
    if !c.any_released() {
        return Err(Refusal::precondition(crate::msg!(
            "nothing_released.amendment"
        )));
    }
    if c.open_amendment().is_some() {
        return Err(Refusal::precondition(crate::msg!("amendment_open")));
    }
    Ok(())
}

pub(super) fn apply_open(
    n: &mut Collaboration,
    research_question: String,
    reason: String,
    ctx: &Context,
) -> Result<(), Refusal> {
    if n.research_question.as_deref() == Some(research_question.as_str()) {
        return Err(Refusal::invalid(
            "research_question",
            crate::msg!("unchanged.research_question"),
        ));
    }
    let number = u32::try_from(n.amendments.len()).unwrap_or(u32::MAX) + 1;
    n.amendments.push(Amendment {
        number,
        previous_research_question: n.research_question.clone().unwrap_or_default(),
        proposed_research_question: research_question,
        reason,
        opened_at: ctx.now,
        ethics: None,
        application_submitted_at: None,
        decisions: BTreeMap::new(),
        decision_records: BTreeMap::new(),
        status: AmendmentStatus::Open,
        agreement: None,
        releases: BTreeMap::new(),
    });
    Ok(())
}

pub(super) fn guard_application(c: &Collaboration, kind: CommandKind) -> Result<(), Refusal> {
    let Some(a) = c.open_amendment() else {
        return Err(Refusal::precondition(crate::msg!("no_open_amendment")));
    };
    if kind == CommandKind::SubmitAmendmentApplication {
        if a.ethics.is_none() {
            return Err(
                Refusal::precondition(crate::msg!("new_ethics_approval_required"))
                    .source(SEED_000, SECTION)
                    .missing(["amendment.ethics"]),
            );
        }
        if a.application_submitted_at.is_some() {
            return Err(Refusal::precondition(crate::msg!("already_submitted")));
        }
    }
    Ok(())
}

fn open_mut(n: &mut Collaboration) -> Option<&mut Amendment> {
    n.amendments
        .iter_mut()
        .find(|a| a.status == AmendmentStatus::Open)
}

pub(super) fn apply_ethics(
    n: &mut Collaboration,
    e: EthicsApproval,
    ctx: &Context,
) -> Result<(), Refusal> {
    not_in_future("decided_on", e.decided_on, ctx.today)?;
    if n.ethics
        .as_ref()
        .is_some_and(|old| old.reference == e.reference)
    {
        return Err(Refusal::invalid(
            "reference",
            crate::msg!("new_ethics_approval_required.not_the_existing"),
        )
        .source(SEED_000, SECTION));
    }
    if let Some(a) = open_mut(n) {
        a.ethics = Some(e);
    }
    Ok(())
}

pub(super) fn apply_submit(n: &mut Collaboration, ctx: &Context) {
    if let Some(a) = open_mut(n) {
        a.application_submitted_at = Some(ctx.now);
    }
}

/// The CPUAs that released data decide on the amendment.
fn deciders(c: &Collaboration) -> BTreeSet<OrgId> {
    c.cpua_reviews
        .iter()
        .filter(|r| r.status() == ReviewStatus::Released)
        .map(|r| r.cpua.clone())
        .collect()
}

pub(super) fn guard_decide(
    c: &Collaboration,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Refusal> {
    let Some(a) = c.open_amendment() else {
        return Err(Refusal::precondition(crate::msg!("no_open_amendment")));
    };
    if a.application_submitted_at.is_none() {
        return Err(
            Refusal::precondition(crate::msg!("new_application_required"))
                .source(SEED_000, SECTION)
                .missing(["amendment.application"]),
        );
    }
    if let Some(o) = track {
        if a.decisions.contains_key(o) {
            return Err(Refusal::precondition(crate::msg!(
                "already_decided.amendment"
            )));
        }
        if !deciders(c).contains(o) {
            return Err(Refusal::invalid(
                "cpua",
                crate::msg!("not_a_cpua_of_collaboration.nothing_released"),
            ));
        }
        if let Some(r) = c.review(o) {
            super::decision::decided_as(r, ctx)?;
        }
    }
    Ok(())
}

pub(super) fn apply_decide(
    n: &mut Collaboration,
    cpua: &OrgId,
    d: DecisionInput,
    ctx: &Context,
    raised: &mut Vec<Advice>,
) -> Result<(), Refusal> {
    let decision = super::decision::validate_for_amendment(n, cpua, d, ctx, raised)?;
    let deciders = deciders(n);
    let mut replace = None;
    if let Some(a) = open_mut(n) {
        let outcome = decision.outcome;
        a.decisions.insert(cpua.clone(), outcome);
        a.decision_records.insert(cpua.clone(), decision);
        if !outcome.releases_data() {
            a.status = AmendmentStatus::Refused;
        } else if deciders.iter().all(|o| a.decisions.contains_key(o)) {
            a.status = AmendmentStatus::Approved;
            replace = Some((a.proposed_research_question.clone(), a.ethics.clone()));
        }
    }
    if let Some((q, e)) = replace {
        n.research_question = Some(q);
        if e.is_some() {
            n.ethics = e;
        }
    }
    Ok(())
}

/// The latest amendment, when it is approved.
fn approved(c: &Collaboration) -> Option<&Amendment> {
    c.amendments
        .last()
        .filter(|a| a.status == AmendmentStatus::Approved)
}

pub(super) fn guard_agreement(c: &Collaboration) -> Result<(), Refusal> {
    match approved(c) {
        Some(a) if a.agreement.is_none() => Ok(()),
        Some(_) => Err(Refusal::precondition(crate::msg!(
            "amendment_agreement_recorded"
        ))),
        None => Err(Refusal::precondition(crate::msg!("no_approved_amendment"))),
    }
}

pub(super) fn apply_agreement(
    n: &mut Collaboration,
    version: u32,
    digest: &str,
    signed_on: NaiveDate,
    ctx: &Context,
) -> Result<(), Refusal> {
    let number = approved(n).map(|a| a.number);
    let v = super::agreement::check_version(n, version, digest, number, ctx)?;
    let record = super::agreement::record(v, signed_on, ctx)?;
    if let Some(a) = n.amendments.last_mut() {
        a.agreement = Some(record);
    }
    Ok(())
}

pub(super) fn guard_release(c: &Collaboration, track: Option<&OrgId>) -> Result<(), Refusal> {
    let Some(a) = approved(c) else {
        return Err(
            Refusal::precondition(crate::msg!("no_approved_amendment.release"))
                .source(SEED_000, SECTION),
        );
    };
    if a.agreement.is_none() {
        return Err(
            Refusal::precondition(crate::msg!("amendment_agreement_required"))
                .missing(["amendment.agreement"]),
        );
    }
    if let Some(o) = track {
        if !a.decisions.contains_key(o) {
            return Err(Refusal::invalid(
                "cpua",
                crate::msg!("not_a_cpua_of_collaboration.amendment_decision"),
            ));
        }
        if a.releases.contains_key(o) {
            return Err(Refusal::precondition(crate::msg!("already_released")));
        }
    }
    Ok(())
}

pub(super) fn apply_release(
    n: &mut Collaboration,
    cpua: &OrgId,
    r: ReleaseInput,
    ctx: &Context,
) -> Result<(), Refusal> {
    let decided = approved(n)
        .and_then(|a| a.decision_records.get(cpua))
        .map(|d| d.decided_at.date_naive());
    let release = super::release::validate(r, decided, n, ctx)?;
    if let Some(a) = n.amendments.last_mut() {
        a.releases.insert(cpua.clone(), release);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Command, DecisionInput};
    use crate::domain::collaboration::*;

    #[test]
    fn a_new_question_needs_a_new_ethics_approval_and_application() {
        // Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": "kräver alltså alltid".
        let k = Kit::new();
        let c = k.walk_to_released(Scenario::public_research());
        let c = k.run(&c, k.open_amendment()).unwrap();
        let r = k.run(&c, Command::SubmitAmendmentApplication).unwrap_err();
        assert_eq!(r.rule, "new_ethics_approval_required");
        let same = Command::RecordAmendmentEthics(c.ethics.clone().unwrap());
        assert_eq!(
            k.run(&c, same).unwrap_err().rule,
            "new_ethics_approval_required"
        );
        let c = k
            .run(&c, Command::RecordAmendmentEthics(k.new_ethics()))
            .unwrap();
        let r = k
            .run(&c, k.decide_amendment(&k.a, DecisionInput::approval()))
            .unwrap_err();
        assert_eq!(r.rule, "new_application_required");
        let c = k.run(&c, Command::SubmitAmendmentApplication).unwrap();
        let c = k
            .run(&c, k.decide_amendment(&k.a, DecisionInput::approval()))
            .unwrap();
        assert_eq!(c.amendments[0].status, AmendmentStatus::Approved);
        assert_eq!(c.research_question.as_deref(), Some("A new question"));
    }

    #[test]
    fn an_amendment_is_opened_only_after_release_and_one_at_a_time() {
        // Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": the amendment concerns released
        // data; before release the details themselves are edited.
        let k = Kit::new();
        let agreed = k.walk_to_agreement_recorded(Scenario::public_research());
        let agreed = k.satisfy_up_to(&agreed, 7, None);
        assert!(!agreed.any_released());
        let r = k.run(&agreed, k.open_amendment()).unwrap_err();
        assert_eq!(r.rule, "nothing_released");
        let released = k.walk_to_released(Scenario::public_research());
        let open = k.run(&released, k.open_amendment()).unwrap();
        let r = k.run(&open, k.open_amendment()).unwrap_err();
        assert_eq!(r.rule, "amendment_open");
    }

    #[test]
    fn an_amendment_refusal_carries_reasons_grounds_and_appeal() {
        let k = Kit::new();
        let c = k.walk_to_amendment_submitted(Scenario::public_research());
        let mut d = DecisionInput::approval();
        d.outcome = DecisionOutcome::Refused;
        d.findings = None;
        let r = k.run(&c, k.decide_amendment(&k.a, d.clone())).unwrap_err();
        assert_eq!(r.rule, "written_reasons_required");
        d.reasons = Some("outside the ethics approval".into());
        assert_eq!(
            k.run(&c, k.decide_amendment(&k.a, d.clone()))
                .unwrap_err()
                .rule,
            "refusal_ground_required"
        );
        d.grounds = vec![RefusalGround::OutsideEthicsApproval];
        let n = k.run(&c, k.decide_amendment(&k.a, d)).unwrap();
        let a = &n.amendments[0];
        assert_eq!(a.status, AmendmentStatus::Refused);
        assert!(a.decision_records[&k.a].appeal.is_some());
        assert_ne!(n.research_question.as_deref(), Some("A new question"));
    }

    #[test]
    fn the_amendment_agreement_is_recorded_once_and_only_for_an_approved_amendment() {
        // Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": an approved amendment gets its
        // own agreement version; nothing to record before approval, and no second record after.
        let k = Kit::new();
        let c = k.walk_to_amendment_submitted(Scenario::public_research());
        let v = k.amendment_version_for(&c, 3, 1);
        let with = k.with_version(v.clone());
        let record = || Command::RecordAmendmentAgreement {
            version: 3,
            digest: v.digest.clone(),
            signed_on: k.today(),
        };
        assert_eq!(
            with.run(&c, record()).unwrap_err().rule,
            "no_approved_amendment"
        );
        let c = k
            .run(&c, k.decide_amendment(&k.a, DecisionInput::approval()))
            .unwrap();
        let n = with.run(&c, record()).unwrap();
        assert_eq!(
            with.run(&n, record()).unwrap_err().rule,
            "amendment_agreement_recorded"
        );
    }

    #[test]
    fn data_under_the_new_question_wait_for_the_amendment_agreement() {
        let k = Kit::new();
        let c = k.walk_to_amendment_submitted(Scenario::public_research());
        let c = k
            .run(&c, k.decide_amendment(&k.a, DecisionInput::approval()))
            .unwrap();
        let r = k.run(&c, k.amendment_release(&k.a)).unwrap_err();
        assert_eq!(r.rule, "amendment_agreement_required");
        let v = k.amendment_version_for(&c, 3, 1);
        let with = k.with_version(v.clone());
        let n = with
            .run(
                &c,
                Command::RecordAmendmentAgreement {
                    version: 3,
                    digest: v.digest.clone(),
                    signed_on: k.today(),
                },
            )
            .unwrap();
        let released = k.run(&n, k.amendment_release(&k.a)).unwrap();
        assert!(released.amendments[0].releases.contains_key(&k.a));
        let r = k.run(&released, k.amendment_release(&k.a)).unwrap_err();
        assert_eq!(r.rule, "already_released");
        // An original (non-amendment) version is not an amendment agreement.
        let orig = k.version_for(&c, 3);
        let r = k
            .with_version(orig.clone())
            .run(
                &c,
                Command::RecordAmendmentAgreement {
                    version: 3,
                    digest: orig.digest,
                    signed_on: k.today(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "agreement_version_kind");
    }

    #[test]
    fn a_release_under_the_new_question_is_gated_like_any_release() {
        // Seed 000, "Forskningssamarbete med industrin": the reservation formalised in the agreement
        // before any data are released, the amendment's release included.
        let k = Kit::new();
        let c = k.walk_to_amendment_submitted(Scenario::company_principal());
        let c = k
            .run(&c, k.decide_amendment(&k.a, DecisionInput::approval()))
            .unwrap();
        let v = k.amendment_version_for(&c, 3, 1);
        let mut c = k
            .with_version(v.clone())
            .run(
                &c,
                Command::RecordAmendmentAgreement {
                    version: 3,
                    digest: v.digest,
                    signed_on: k.today(),
                },
            )
            .unwrap();
        // The amendment agreement, not the original one, is what this release relies on.
        c.amendments[0]
            .agreement
            .as_mut()
            .unwrap()
            .clauses
            .remove(&crate::domain::classification::ClauseCode::ConfidentialityReservation);
        let r = k.run(&c, k.amendment_release(&k.a)).unwrap_err();
        assert_eq!(r.rule, "obligations_unmet");
        assert_eq!(r.obligations[0].code, "confidentiality_reservation");
        assert!(c
            .agreement
            .as_ref()
            .unwrap()
            .holds(crate::domain::classification::ClauseCode::ConfidentialityReservation));
    }
}
