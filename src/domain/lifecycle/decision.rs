//! Step 5, the release decision of each CPUA (beslut om utlämnande), its reconsideration and appeal.
//!
//! - Seed 001, "5. Beslut om utlämnande": the CPUA decides; the decision "bör" be given within 30 days (a
//!   warning passed with a reason); a refusal comes with written reasons and can be appealed.
//! - Seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)": a CPUA may delegate the
//!   decision in writing to the register holder or another person; a delegate who intends to refuse or set a
//!   restrictive condition "bör" consult the DPO first; low research quality or a competing project is never
//!   a ground for refusal; the researcher "kan" ask for a formal refusal (a prompt).
//! - Seed 002, "Sammanfattningsvis …": an approval records the need for the data, that they fall within the
//!   ethics approval, and that they can be released without risk of harm.
//! - DOMAIN.md, "Refusals can be reversed": a reconsideration or an overturning court reopens the track.
use super::{
    not_in_future, step_is, Advice, AppealInput, CommandKind, Context, DecisionInput, Refusal,
    SEED_000, SEED_001, SEED_002,
};
use crate::domain::classification::ObligationCode;
use crate::domain::collaboration::*;
use crate::domain::ids::OrgId;
use crate::domain::register::Delegate;
use crate::domain::role::Role;
use crate::domain::step::Step;

const REVIEW: &str = "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)";
const DECISION: &str = "5. Beslut om utlämnande";

fn ready(r: &CpuaReview) -> bool {
    r.decision.is_none() && r.application_complete_at.is_some()
}

/// A decision needs a complete application without a decision on that track.
pub(super) fn guard(
    c: &Collaboration,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Refusal> {
    step_is(
        c,
        &[Step::DataApplication, Step::ReleaseDecision],
        crate::msg!("what.release_decision"),
    )?;
    let review_needed = ctx.obligations.has(ObligationCode::ConfidentialityReview);
    let ethics = ctx.obligations.has(ObligationCode::EthicsApproval);
    match track.map(|o| c.review(o)) {
        // The decision-maker is the CPUA or a delegate for every register of the track.
        // Issue 16: a returned application waits for its completion.
        Some(Some(r)) if r.completion.is_some() => super::completion::guard_decision(r),
        Some(Some(r)) if ready(r) => decided_as(r, ctx).map(|_| ()),
        Some(Some(r)) if r.decision.is_some() => Err(Refusal::precondition(crate::msg!(
            "already_decided",
            cpua_name = &r.cpua_name
        ))),
        Some(Some(r)) => Err(Refusal::precondition(crate::msg!(
            "dossier_incomplete",
            cpua_name = &r.cpua_name
        ))
        .source(SEED_000, REVIEW)
        .missing(
            r.dossier
                .missing(ethics, review_needed, ctx.data_users_named)
                .into_iter()
                .map(|m| format!("dossier.{m}")),
        )),
        Some(None) => Err(Refusal::invalid(
            "cpua",
            crate::msg!("not_a_cpua_of_collaboration.no_application"),
        )),
        None if c.cpua_reviews.iter().any(ready) => Ok(()),
        None => Err(
            Refusal::precondition(crate::msg!("dossier_incomplete.none")).source(SEED_000, REVIEW),
        ),
    }
}

/// The decision should be given within 30 days of the complete application: after that, deciding is a
/// "bör" passed with a reason (the reason for the delay is recorded).
pub(super) fn warnings(c: &Collaboration, track: Option<&OrgId>, ctx: &Context) -> Vec<Advice> {
    let overdue = match track.and_then(|o| c.review(o)) {
        Some(r) => r.is_overdue(ctx.today),
        None => false,
    };
    if !overdue {
        return vec![];
    }
    vec![Advice::bor(
        "decision_overdue",
        "Beslut om utlämnande bör ges inom 30 dagar från komplett ansökan; ange skälet till dröjsmålet.",
        "A release decision should be given within 30 days of the complete application; give the reason for the delay.",
        SEED_001,
        DECISION,
    )]
}

/// The researcher may ask for a formal refusal decision, which can be appealed: give it whenever asked.
pub(super) fn prompts() -> Vec<Advice> {
    vec![Advice::garna(
        "formal_refusal_on_request",
        "Vid avslag eller inskränkande förbehåll kan forskaren begära ett formellt avslagsbeslut som kan överklagas till kammarrätten; lämna det när det begärs.",
        "On a refusal or a restrictive condition the researcher can ask for a formal refusal decision that can be appealed to the administrative court of appeal; give it whenever asked.",
        SEED_000,
        REVIEW,
    )]
}

/// In which capacity the actor decides for this track (pub(super) for the amendment decision): CPUA legal as the CPUA; a register holder (or named
/// person) only under a written delegation in force for every register of the track.
pub(super) fn decided_as(r: &CpuaReview, ctx: &Context) -> Result<DecidedAs, Refusal> {
    if ctx.actor.role == Role::CpuaLegal {
        return Ok(DecidedAs::Cpua);
    }
    let mut found = None;
    for reg in &r.registers {
        let d = ctx.registers.get(reg).and_then(|f| {
            f.delegations.iter().find(|d| {
                d.cpua == r.cpua
                    && d.in_force(ctx.today)
                    && match &d.delegate {
                        Delegate::RegisterHolder => ctx.actor.role == Role::RegisterHolder,
                        Delegate::Person { account, .. } => account == &ctx.actor.account,
                    }
            })
        });
        match d {
            Some(d) => found = Some(d),
            None => {
                return Err(Refusal::precondition(crate::msg!("no_delegation"))
                    .source(SEED_000, REVIEW)
                    .missing([format!("delegation.{reg}")]))
            }
        }
    }
    let d = found.ok_or_else(|| Refusal::precondition(crate::msg!("no_delegation.no_register")))?;
    Ok(DecidedAs::Delegate {
        delegation_reference: d.reference.clone(),
        delegated_on: d.delegated_on,
    })
}

/// Validates a decision for one track: who decides, reasons and grounds of a refusal, conditions, the three
/// findings of an approval, and the obligations an approval is gated on.
fn validate(
    c: &Collaboration,
    cpua: &OrgId,
    d: DecisionInput,
    ctx: &Context,
    raised: &mut Vec<Advice>,
    kind: CommandKind,
) -> Result<Decision, Refusal> {
    let r = c.review(cpua).ok_or_else(|| {
        Refusal::invalid(
            "cpua",
            crate::msg!("not_a_cpua_of_collaboration.no_application"),
        )
    })?;
    let decided_as = decided_as(r, ctx)?;
    let restrictive = d.outcome != DecisionOutcome::Approved;
    if let Some(day) = d.dpo_consulted_on {
        not_in_future("dpo_consulted_on", day, ctx.today)?;
    }
    if restrictive {
        if d.reasons.is_none() {
            return Err(
                Refusal::invalid("reasons", crate::msg!("written_reasons_required"))
                    .source(SEED_001, DECISION),
            );
        }
        if matches!(decided_as, DecidedAs::Delegate { .. }) && d.dpo_consulted_on.is_none() {
            raised.push(Advice::bor(
                "dpo_not_consulted",
                "En registerhållare med delegation som avser att avslå eller ställa upp förbehåll bör alltid kontakta CPUA-myndighetens dataskyddsombud först.",
                "A register holder with delegation who intends to refuse or set a restrictive condition should always consult the CPUA's data protection officer first.",
                SEED_000,
                REVIEW,
            ));
        }
    }
    // The usage period: only an approval releases data to use, and the period ends after today.
    if let Some(end) = d.use_until {
        if !d.outcome.releases_data() {
            return Err(Refusal::invalid(
                "use_until",
                crate::msg!("use_until_without_approval"),
            ));
        }
        if end <= ctx.today {
            return Err(Refusal::invalid(
                "use_until",
                crate::msg!("use_until_not_after_today", date = end),
            ));
        }
    }
    match d.outcome {
        DecisionOutcome::Refused => {
            if d.grounds.is_empty() {
                return Err(
                    Refusal::invalid("grounds", crate::msg!("refusal_ground_required"))
                        .source(SEED_000, REVIEW),
                );
            }
            if d.grounds.contains(&RefusalGround::Other) {
                return Err(
                    Refusal::invalid("grounds", crate::msg!("ground_not_accepted"))
                        .source(SEED_000, REVIEW),
                );
            }
        }
        DecisionOutcome::ApprovedWithConditions if d.conditions.is_none() => {
            return Err(Refusal::invalid(
                "conditions",
                crate::msg!("conditions_required"),
            ))
        }
        _ => {}
    }
    if d.outcome.releases_data() {
        let ethics = ctx.obligations.has(ObligationCode::EthicsApproval);
        let f = d.findings.as_ref();
        let established = f.is_some_and(|f| {
            f.need_for_data && f.no_risk_of_harm && (!ethics || f.within_ethics_approval)
        });
        if !established {
            return Err(
                Refusal::invalid("findings", crate::msg!("findings_required"))
                    .source(SEED_002, "Sammanfattningsvis"),
            );
        }
        if ctx
            .obligations
            .has(ObligationCode::IdentityNumbersJustification)
            && !f.is_some_and(|f| f.identity_numbers_necessary)
        {
            return Err(Refusal::invalid(
                "findings.identity_numbers_necessary",
                crate::msg!("identity_numbers_not_accepted"),
            )
            .source(SEED_000, "Hur och vilka data lämnas ut?"));
        }
        super::obligations::gate(c, kind, Some(cpua), ctx)?;
    }
    Ok(Decision {
        outcome: d.outcome,
        decided_at: ctx.now,
        decided_by: ctx.actor.account.clone(),
        decided_by_name: ctx.actor.name.clone(),
        decided_as,
        reference: d.reference,
        reasons: d.reasons,
        conditions: d.conditions,
        grounds: d.grounds,
        findings: d.findings,
        dpo_consulted_on: d.dpo_consulted_on,
        appeal: restrictive.then(|| AppealInfo::standard(&r.cpua_name)),
        use_until: d.use_until,
    })
}

/// Validates a decision on an amendment like any decision (reasons, grounds, findings, the appeal route).
pub(super) fn validate_for_amendment(
    c: &Collaboration,
    cpua: &OrgId,
    d: DecisionInput,
    ctx: &Context,
    raised: &mut Vec<Advice>,
) -> Result<Decision, Refusal> {
    validate(c, cpua, d, ctx, raised, CommandKind::DecideAmendment)
}

pub(super) fn apply(
    n: &mut Collaboration,
    cpua: &OrgId,
    d: DecisionInput,
    ctx: &Context,
    raised: &mut Vec<Advice>,
) -> Result<(), Refusal> {
    let decision = validate(n, cpua, d, ctx, raised, CommandKind::ToReleaseDecision)?;
    if let Some(r) = n.review_mut(cpua) {
        r.decision = Some(decision);
    }
    Ok(())
}

pub(super) fn guard_recommend(c: &Collaboration, track: Option<&OrgId>) -> Result<(), Refusal> {
    match track {
        Some(o) => match c.review(o) {
            Some(r) if ready(r) => Ok(()),
            _ => Err(Refusal::precondition(crate::msg!("nothing_to_recommend"))),
        },
        None if c.cpua_reviews.iter().any(ready) => Ok(()),
        None => Err(Refusal::precondition(crate::msg!("nothing_to_recommend"))),
    }
}

pub(super) fn apply_recommend(
    n: &mut Collaboration,
    cpua: &OrgId,
    outcome: DecisionOutcome,
    text: String,
    ctx: &Context,
) {
    if let Some(r) = n.review_mut(cpua) {
        r.recommendation = Some(Recommendation {
            outcome,
            text,
            by: ctx.actor.account.clone(),
            by_name: ctx.actor.name.clone(),
            at: ctx.now,
        });
    }
}

fn restrictive_track<'a>(c: &'a Collaboration, track: Option<&OrgId>) -> Option<&'a CpuaReview> {
    let fits = |r: &&CpuaReview| {
        r.release.is_none()
            && r.decision
                .as_ref()
                .is_some_and(|d| d.outcome != DecisionOutcome::Approved)
    };
    match track {
        Some(o) => c.review(o).filter(fits),
        None => c.cpua_reviews.iter().find(fits),
    }
}

/// A refusal or a restrictive condition can be reconsidered by the CPUA before any release.
pub(super) fn guard_reconsider(c: &Collaboration, track: Option<&OrgId>) -> Result<(), Refusal> {
    restrictive_track(c, track)
        .map(|_| ())
        .ok_or_else(|| Refusal::precondition(crate::msg!("nothing_to_reconsider")))
}

pub(super) fn apply_reconsider(
    n: &mut Collaboration,
    cpua: &OrgId,
    d: DecisionInput,
    ctx: &Context,
    raised: &mut Vec<Advice>,
) -> Result<(), Refusal> {
    let decision = validate(n, cpua, d, ctx, raised, CommandKind::ToReleaseDecision)?;
    if let Some(r) = n.review_mut(cpua) {
        if let Some(old) = r.decision.take() {
            r.history.push(SupersededDecision {
                decision: old,
                superseded_by: SupersededBy::Reconsideration {
                    at: ctx.now,
                    by: ctx.actor.account.clone(),
                },
            });
        }
        r.decision = Some(decision);
    }
    Ok(())
}

/// An appeal ruling is recorded on a track with a refusal or a restrictive condition.
pub(super) fn guard_appeal(c: &Collaboration, track: Option<&OrgId>) -> Result<(), Refusal> {
    restrictive_track(c, track)
        .map(|_| ())
        .ok_or_else(|| Refusal::precondition(crate::msg!("nothing_appealed")))
}

/// A ruling that overturns the refusal reopens the track: the old decision goes to the history and the CPUA
/// decides again, within 30 days of the ruling being recorded.
pub(super) fn apply_appeal(
    n: &mut Collaboration,
    cpua: &OrgId,
    a: AppealInput,
    ctx: &Context,
) -> Result<(), Refusal> {
    not_in_future("ruled_on", a.ruled_on, ctx.today)?;
    let decided = n
        .review(cpua)
        .and_then(|r| r.decision.as_ref())
        .map(|d| d.decided_at.date_naive());
    if decided.is_some_and(|d| a.ruled_on < d) {
        return Err(Refusal::invalid(
            "ruled_on",
            crate::msg!("ruling_before_decision"),
        ));
    }
    if let Some(r) = n.review_mut(cpua) {
        r.appeals.push(AppealRuling {
            court: a.court.clone(),
            ruled_on: a.ruled_on,
            reference: a.reference.clone(),
            outcome: a.outcome,
            recorded_by: ctx.actor.account.clone(),
        });
        if a.outcome == AppealOutcome::Overturned {
            if let Some(old) = r.decision.take() {
                r.history.push(SupersededDecision {
                    decision: old,
                    superseded_by: SupersededBy::Appeal {
                        court: a.court,
                        ruled_on: a.ruled_on,
                        reference: a.reference,
                    },
                });
            }
            r.decision_due_on = ctx.today.checked_add_days(chrono::Days::new(30));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Command, DecisionInput};
    use crate::domain::collaboration::*;
    use crate::domain::step::Step;

    fn refusal() -> DecisionInput {
        DecisionInput {
            outcome: DecisionOutcome::Refused,
            reasons: Some("men för den enskilde".into()),
            conditions: None,
            grounds: vec![RefusalGround::HarmToIndividual],
            findings: None,
            dpo_consulted_on: None,
            use_until: None,
            reference: Some("RS 2026/12".into()),
        }
    }

    #[test]
    fn an_approval_records_the_three_findings_of_the_review() {
        // Seed 002, "Sammanfattningsvis …".
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        for missing in 0..3 {
            let mut d = DecisionInput::approval();
            let f = d.findings.as_mut().unwrap();
            match missing {
                0 => f.need_for_data = false,
                1 => f.within_ethics_approval = false,
                _ => f.no_risk_of_harm = false,
            }
            let r = k.run(&c, k.decide(&k.a, d)).unwrap_err();
            assert_eq!(r.rule, "findings_required", "finding {missing}");
        }
        let mut d = DecisionInput::approval();
        d.findings = None;
        assert_eq!(
            k.run(&c, k.decide(&k.a, d)).unwrap_err().rule,
            "findings_required"
        );
        let n = k
            .run(&c, k.decide(&k.a, DecisionInput::approval()))
            .unwrap();
        let d = n.review(&k.a).unwrap().decision.as_ref().unwrap();
        assert_eq!(d.decided_as, DecidedAs::Cpua);
        assert_eq!(d.decided_by_name, k.legal_a.name);
        assert!(d.appeal.is_none());
    }

    #[test]
    fn within_ethics_approval_is_not_asked_where_no_ethics_approval_is_needed() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::statistics());
        let mut d = DecisionInput::approval();
        d.findings.as_mut().unwrap().within_ethics_approval = false;
        assert!(k.run(&c, k.decide(&k.a, d)).is_ok());
    }

    #[test]
    fn a_refusal_names_structured_grounds_and_written_reasons() {
        // Seed 000, "Menprövning …": quality or a competing project is never a ground.
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let mut d = refusal();
        d.grounds.clear();
        assert_eq!(
            k.run(&c, k.decide(&k.a, d)).unwrap_err().rule,
            "refusal_ground_required"
        );
        let mut d = refusal();
        d.grounds = vec![RefusalGround::Other];
        assert_eq!(
            k.run(&c, k.decide(&k.a, d)).unwrap_err().rule,
            "ground_not_accepted"
        );
        let mut d = refusal();
        d.reasons = None;
        assert_eq!(
            k.run(&c, k.decide(&k.a, d)).unwrap_err().rule,
            "written_reasons_required"
        );
        let n = k.run(&c, k.decide(&k.a, refusal())).unwrap();
        let d = n.review(&k.a).unwrap().decision.as_ref().unwrap();
        assert!(d.appeal.as_ref().is_some_and(|a| a.court == "kammarrätten"));
        assert_eq!(n.step, Step::Refused);
    }

    #[test]
    fn conditions_are_stated_and_make_the_decision_restrictive() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let mut d = DecisionInput::approval();
        d.outcome = DecisionOutcome::ApprovedWithConditions;
        d.reasons = Some("R".into());
        assert_eq!(
            k.run(&c, k.decide(&k.a, d.clone())).unwrap_err().rule,
            "conditions_required"
        );
        d.conditions = Some("only aggregated output".into());
        let n = k.run(&c, k.decide(&k.a, d)).unwrap();
        assert!(n
            .review(&k.a)
            .unwrap()
            .decision
            .as_ref()
            .unwrap()
            .appeal
            .is_some());
    }

    #[test]
    fn the_dpo_is_no_block_for_cpua_legal_and_a_warning_for_a_delegate() {
        // Seed 000, "Menprövning …": a register holder with delegation "bör" consult the DPO first.
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        assert!(k.run(&c, k.decide(&k.a, refusal())).is_ok());
        let delegated = k.with_delegation(0);
        let r = delegated
            .run_as(
                &c,
                &delegated.holder_a,
                delegated.decide(&delegated.a, refusal()),
            )
            .unwrap_err();
        assert_eq!(r.rule, "warning_needs_reason");
        assert_eq!(r.warnings[0].code, "dpo_not_consulted");
        let n = delegated
            .run_as_ack(
                &c,
                &delegated.holder_a,
                delegated.decide(&delegated.a, refusal()),
                &[("dpo_not_consulted", "the DPO is on leave; urgent")],
            )
            .unwrap();
        let d = n.review(&k.a).unwrap().decision.as_ref().unwrap();
        assert!(
            matches!(&d.decided_as, DecidedAs::Delegate { delegation_reference, .. } if delegation_reference == "DEL-1")
        );
        assert_eq!(n.passed_warnings[0].code, "dpo_not_consulted");
        let mut d = refusal();
        d.dpo_consulted_on = Some(k.today());
        assert!(delegated
            .run_as(&c, &delegated.holder_a, delegated.decide(&delegated.a, d))
            .is_ok());
    }

    #[test]
    fn a_register_holder_decides_only_under_a_delegation_in_force() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let r = k
            .run_as(&c, &k.holder_a, k.decide(&k.a, DecisionInput::approval()))
            .unwrap_err();
        assert_eq!(r.rule, "no_delegation");
        let revoked = k.with_revoked_delegation(0);
        let r = revoked
            .run_as(
                &c,
                &revoked.holder_a,
                revoked.decide(&revoked.a, DecisionInput::approval()),
            )
            .unwrap_err();
        assert_eq!(r.rule, "no_delegation");
        let delegated = k.with_delegation(0);
        assert!(delegated
            .run_as(
                &c,
                &delegated.holder_a,
                delegated.decide(&delegated.a, DecisionInput::approval())
            )
            .is_ok());
    }

    #[test]
    fn a_late_decision_gives_the_reason_for_the_delay() {
        // Seed 001, "5. Beslut om utlämnande": "bör ges inom 30 dagar".
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let late = k.later(31);
        let r = late
            .run(&c, late.decide(&late.a, DecisionInput::approval()))
            .unwrap_err();
        assert_eq!(r.warnings[0].code, "decision_overdue");
        let on_time = k.later(30);
        assert!(on_time
            .run(&c, on_time.decide(&on_time.a, DecisionInput::approval()))
            .is_ok());
        assert!(late
            .run_ack(
                &c,
                late.decide(&late.a, DecisionInput::approval()),
                &[("decision_overdue", "waited for SCB")]
            )
            .is_ok());
    }

    #[test]
    fn a_reconsideration_replaces_a_refusal_and_reopens_a_refused_case() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let refused = k.run(&c, k.decide(&k.a, refusal())).unwrap();
        assert_eq!(refused.step, Step::Refused);
        let n = k
            .run(
                &refused,
                Command::ReconsiderDecision {
                    cpua: k.a.clone(),
                    decision: DecisionInput::approval(),
                },
            )
            .unwrap();
        let r = n.review(&k.a).unwrap();
        assert_eq!(r.status(), ReviewStatus::Approved);
        assert_eq!(r.history.len(), 1);
        assert!(matches!(
            r.history[0].superseded_by,
            SupersededBy::Reconsideration { .. }
        ));
        assert_eq!(n.step, Step::Agreement);
        // An approval cannot be "reconsidered" here.
        let r = k
            .run(
                &n,
                Command::ReconsiderDecision {
                    cpua: k.a.clone(),
                    decision: refusal(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "nothing_to_reconsider");
    }

    #[test]
    fn an_overturned_refusal_reopens_the_track_and_an_upheld_one_stands() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let refused = k.run(&c, k.decide(&k.a, refusal())).unwrap();
        let ruling = |outcome| Command::RecordAppealOutcome {
            cpua: k.a.clone(),
            ruling: super::super::AppealInput {
                court: "Kammarrätten i Stockholm".into(),
                ruled_on: k.today(),
                reference: "Mål 1234-26".into(),
                outcome,
            },
        };
        // An approval is not appealed here, and a ruling cannot precede the decision.
        let approved = k
            .run(&c, k.decide(&k.a, DecisionInput::approval()))
            .unwrap();
        assert_eq!(
            k.run(&approved, ruling(AppealOutcome::Overturned))
                .unwrap_err()
                .rule,
            "nothing_appealed"
        );
        let early = Command::RecordAppealOutcome {
            cpua: k.a.clone(),
            ruling: super::super::AppealInput {
                court: "Kammarrätten i Stockholm".into(),
                ruled_on: k.today().pred_opt().unwrap(),
                reference: "Mål 1-26".into(),
                outcome: AppealOutcome::Overturned,
            },
        };
        assert_eq!(
            k.run(&refused, early).unwrap_err().rule,
            "ruling_before_decision"
        );
        let upheld = k.run(&refused, ruling(AppealOutcome::Upheld)).unwrap();
        assert_eq!(upheld.step, Step::Refused);
        assert_eq!(upheld.review(&k.a).unwrap().appeals.len(), 1);
        let n = k.run(&refused, ruling(AppealOutcome::Overturned)).unwrap();
        let r = n.review(&k.a).unwrap();
        assert_eq!(r.status(), ReviewStatus::UnderReview);
        assert_eq!(
            r.decision_due_on,
            k.today().checked_add_days(chrono::Days::new(30))
        );
        assert_eq!(n.step, Step::ReleaseDecision);
        assert!(k.run(&n, k.decide(&k.a, DecisionInput::approval())).is_ok());
    }

    #[test]
    fn one_cpua_refusing_leaves_another_approval_standing() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::two_cpuas());
        // Seed 002: with two CPUAs, who keeps the key is settled before an approval.
        let r = k
            .run(&c, k.decide(&k.a, DecisionInput::approval()))
            .unwrap_err();
        assert_eq!(r.obligations[0].code, "multi_cpua_coordination");
        let c = k.satisfy_up_to(&c, 5, None);
        let c = k
            .run(&c, k.decide(&k.a, DecisionInput::approval()))
            .unwrap();
        assert_eq!(c.step, Step::ReleaseDecision);
        let c = k.run_as(&c, &k.legal_b, k.decide(&k.b, refusal())).unwrap();
        assert_eq!(c.review(&k.a).unwrap().status(), ReviewStatus::Approved);
        assert_eq!(c.review(&k.b).unwrap().status(), ReviewStatus::Refused);
        assert_eq!(c.step, Step::Agreement);
        assert_eq!(
            c.approving_cpuas().into_iter().collect::<Vec<_>>(),
            vec![k.a.clone()]
        );
    }

    #[test]
    fn a_lawyer_recommends_and_the_decision_is_the_cpuas() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let n = k
            .run(
                &c,
                Command::RecommendDecision {
                    cpua: k.a.clone(),
                    outcome: DecisionOutcome::Approved,
                    text: "bifall".into(),
                },
            )
            .unwrap();
        assert!(n.review(&k.a).unwrap().recommendation.is_some());
        // Without a named track, the guard asks whether any application awaits its decision.
        let kind = super::super::CommandKind::RecommendDecision;
        assert!(k.guard(&n, &k.legal_a, kind, None).is_ok());
        let decided = k
            .run(&n, k.decide(&k.a, DecisionInput::approval()))
            .unwrap();
        assert_eq!(
            k.guard(&decided, &k.legal_a, kind, None).unwrap_err().rule,
            "nothing_to_recommend"
        );
        let r = k
            .run(
                &decided,
                Command::RecommendDecision {
                    cpua: k.a.clone(),
                    outcome: DecisionOutcome::Approved,
                    text: "x".into(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "nothing_to_recommend");
    }

    #[test]
    fn a_named_delegate_decides_and_no_one_else_under_that_delegation() {
        // Seed 000: "skriftlig delegation till registerhållaren eller annan".
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let mut named = k.holder_a.clone();
        named.account = crate::domain::ids::AccountId::new();
        named.name = "Named Delegate".into();
        let kit = k.with_person_delegation(0, &named);
        let n = kit
            .run_as(&c, &named, kit.decide(&kit.a, DecisionInput::approval()))
            .unwrap();
        let d = n.review(&k.a).unwrap().decision.as_ref().unwrap();
        assert!(
            matches!(&d.decided_as, DecidedAs::Delegate { delegation_reference, .. } if delegation_reference == "DEL-2")
        );
        assert_eq!(d.decided_by_name, "Named Delegate");
        let r = kit
            .run_as(
                &c,
                &kit.holder_a,
                kit.decide(&kit.a, DecisionInput::approval()),
            )
            .unwrap_err();
        assert_eq!(r.rule, "no_delegation");
    }

    #[test]
    fn a_track_decides_once() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::two_cpuas());
        let c = k.satisfy_up_to(&c, 5, None);
        let c = k
            .run(&c, k.decide(&k.a, DecisionInput::approval()))
            .unwrap();
        let r = k
            .run(&c, k.decide(&k.a, DecisionInput::approval()))
            .unwrap_err();
        assert_eq!(r.rule, "already_decided");
        // Without a named track, the guard asks whether any application awaits its decision.
        let kind = super::super::CommandKind::ToReleaseDecision;
        assert!(k.guard(&c, &k.legal_b, kind, None).is_ok());
        let c = k
            .run_as(&c, &k.legal_b, k.decide(&k.b, DecisionInput::approval()))
            .unwrap();
        assert_eq!(
            k.guard(&c, &k.legal_b, kind, None).unwrap_err().rule,
            "wrong_step"
        );
        let applied = k.walk_to_ethics(Scenario::public_research());
        let mut d = full_dossier();
        d.access_and_storage = None;
        let incomplete = k
            .run(
                &applied,
                Command::ToDataApplication {
                    cpua: k.a.clone(),
                    dossier: d,
                },
            )
            .unwrap();
        assert_eq!(
            k.guard(&incomplete, &k.legal_a, kind, None)
                .unwrap_err()
                .rule,
            "dossier_incomplete"
        );
    }
}
