//! Unit tests of every lifecycle guard, each naming the rule and its seed, and a property test over
//! random command sequences.
use super::*;
use crate::domain::ids::{AccountId, CollaborationId};
use crate::domain::role::Role;
use chrono::TimeZone;
use proptest::prelude::*;

struct Fixture {
    actor: Actor,
    cpuas: BTreeMap<RegisterId, (OrgId, String)>,
    a: OrgId,
    b: OrgId,
    registers: [RegisterId; 2],
}

fn fixture() -> Fixture {
    let (a, b) = (OrgId::new(), OrgId::new());
    let (r1, r2) = (RegisterId::new(), RegisterId::new());
    let mut cpuas = BTreeMap::new();
    cpuas.insert(r1.clone(), (a.clone(), "Region A".to_string()));
    cpuas.insert(r2.clone(), (b.clone(), "Region B".to_string()));
    Fixture {
        actor: Actor {
            account: AccountId::new(),
            name: "Test".into(),
            org: OrgId::new(),
            role: Role::CompanyRepresentative,
        },
        cpuas,
        a,
        b,
        registers: [r1, r2],
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap()
}

fn today() -> NaiveDate {
    now().date_naive()
}

fn collab(f: &Fixture, registers: usize) -> Collaboration {
    Collaboration {
        id: CollaborationId::new(),
        reference: "SAM-2026-0001".into(),
        title: "T".into(),
        purpose: "P".into(),
        research_question: Some("Q".into()),
        is_research: true,
        research_principal: Some(OrgId::new()),
        company: OrgId::new(),
        registers: f.registers.iter().take(registers).cloned().collect(),
        requested_variables: vec!["alder".into()],
        data_kind: DataKind::Pseudonymised,
        linkage: vec![],
        recipient_countries: vec![],
        intake: Default::default(),
        classification: None,
        step: Step::Preparation,
        feasibility: None,
        ethics: None,
        cpua_reviews: vec![],
        agreement: None,
        cost_agreement: None,
        publications: vec![],
        report_back: None,
        disposal: None,
        amendments: vec![],
        internal_notes: vec![],
        withdrawal_reason: None,
        created_at: now(),
        created_by: AccountId::new(),
        closed_at: None,
    }
}

fn ctx<'a>(f: &'a Fixture, c: &Collaboration, kind: Option<OrgKind>) -> Context<'a> {
    Context {
        now: now(),
        today: today(),
        actor: &f.actor,
        principal_kind: kind,
        register_cpuas: &f.cpuas,
        obligations: obligations(c, kind),
    }
}

fn run(f: &Fixture, c: &Collaboration, cmd: Command) -> Result<Collaboration, Refusal> {
    execute(c, cmd, &ctx(f, c, Some(OrgKind::University)))
}

fn rule(r: Result<Collaboration, Refusal>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(r) => r.rule,
    }
}

fn full_dossier() -> Dossier {
    Dossier {
        recipient_principal: Some("U".into()),
        project_description: Some("D".into()),
        ethics_documents: Some("E".into()),
        requested_data: Some(vec!["alder".into()]),
        access_and_storage: Some("S".into()),
    }
}

fn feasible(charged: bool) -> Command {
    Command::RecordFeasibility {
        feasible: true,
        estimated_weeks: None,
        estimated_cost: charged.then(|| Money::from_ore(100_000).unwrap()),
        extraction_charged: charged,
        agrees_on_type: None,
        comment: None,
    }
}

fn ethics() -> Command {
    Command::RecordEthicsApproval(ethics_approval("2026-01234-01", today()).unwrap())
}

fn approve(cpua: &OrgId) -> Command {
    Command::ToReleaseDecision {
        cpua: cpua.clone(),
        decision: DecisionInput {
            outcome: DecisionOutcome::Approved,
            reasons: None,
            conditions: None,
            ground: None,
            dpo_consulted_on: None,
            reference: None,
        },
    }
}

fn agreement(reservation: bool) -> Command {
    Command::ToAgreement {
        reference: "A".into(),
        signed_on: today(),
        confidentiality_reservation: reservation,
        data_processing_agreement: false,
    }
}

fn release(cpua: &OrgId) -> Command {
    Command::ToDataRelease {
        cpua: cpua.clone(),
        release: ReleaseInput {
            released_on: today(),
            transfer_method: TransferMethod::Tls,
            password_sent_separately: true,
            key_deletion_on: None,
            extended_retention_justification: None,
        },
    }
}

/// A collaboration with one register, walked to the given point.
fn at_decision(f: &Fixture, charged: bool) -> Collaboration {
    let mut c = collab(f, 1);
    for cmd in [
        Command::ToRegisterContact,
        feasible(charged),
        ethics(),
        Command::ToDataApplication {
            cpua: f.a.clone(),
            dossier: full_dossier(),
        },
    ] {
        c = run(f, &c, cmd).unwrap();
    }
    c
}

// Seed 001, "1. Förarbete": the research principal is identified in preparation.
#[test]
fn preparation_needs_the_research_principal() {
    let f = fixture();
    let mut c = collab(&f, 1);
    c.research_principal = None;
    assert_eq!(
        rule(run(&f, &c, Command::ToRegisterContact)),
        "preparation_incomplete"
    );
}

// Seed 001, "2. Etablera tidig kontakt med registerhållare": step 3 follows the holder's answer.
#[test]
fn ethics_step_needs_the_feasibility_answer() {
    let f = fixture();
    let c = run(&f, &collab(&f, 1), Command::ToRegisterContact).unwrap();
    assert_eq!(
        rule(run(&f, &c, Command::ToEthicsReview)),
        "feasibility_required"
    );
    let c = run(&f, &c, feasible(false)).unwrap();
    assert_eq!(rule(run(&f, &c, Command::ToEthicsReview)), "ok");
}

// Seed 001, step 2: if the register cannot deliver, the process does not go on.
#[test]
fn a_register_that_cannot_deliver_stops_the_application() {
    let f = fixture();
    let c = run(&f, &collab(&f, 1), Command::ToRegisterContact).unwrap();
    let no = Command::RecordFeasibility {
        feasible: false,
        estimated_weeks: None,
        estimated_cost: None,
        extraction_charged: false,
        agrees_on_type: None,
        comment: None,
    };
    let c = run(&f, &c, no).unwrap();
    let apply = Command::ToDataApplication {
        cpua: f.a.clone(),
        dossier: full_dossier(),
    };
    assert_eq!(rule(run(&f, &c, apply)), "register_cannot_deliver");
}

// Seed 000, "Etikprövning": research on register data needs ethics approval before the application.
#[test]
fn the_data_application_needs_ethics_approval_for_research() {
    let f = fixture();
    let mut c = collab(&f, 1);
    for cmd in [Command::ToRegisterContact, feasible(false)] {
        c = run(&f, &c, cmd).unwrap();
    }
    let apply = Command::ToDataApplication {
        cpua: f.a.clone(),
        dossier: full_dossier(),
    };
    assert_eq!(rule(run(&f, &c, apply.clone())), "ethics_approval_required");
    // Aggregated statistics that are not research need none.
    let mut stats = c.clone();
    stats.is_research = false;
    stats.data_kind = DataKind::Aggregated;
    assert_eq!(rule(run(&f, &stats, apply)), "ok");
}

// Seed 000, "Menprövning …": the decision needs the five-item dossier; seed 001 step 5: 30 days.
#[test]
fn the_decision_needs_the_complete_dossier_and_is_due_in_thirty_days() {
    let f = fixture();
    let mut c = collab(&f, 1);
    for cmd in [Command::ToRegisterContact, feasible(false), ethics()] {
        c = run(&f, &c, cmd).unwrap();
    }
    let mut partial = full_dossier();
    partial.access_and_storage = None;
    let c = run(
        &f,
        &c,
        Command::ToDataApplication {
            cpua: f.a.clone(),
            dossier: partial,
        },
    )
    .unwrap();
    let r = run(&f, &c, approve(&f.a)).unwrap_err();
    assert_eq!(r.rule, "dossier_incomplete");
    assert_eq!(r.missing, vec!["dossier.access_and_storage"]);
    let c = run(
        &f,
        &c,
        Command::ToDataApplication {
            cpua: f.a.clone(),
            dossier: Dossier {
                access_and_storage: Some("S".into()),
                ..Default::default()
            },
        },
    )
    .unwrap();
    assert_eq!(
        c.cpua_reviews[0].decision_due_on,
        NaiveDate::from_ymd_opt(2026, 10, 1)
    );
    assert!(!c.cpua_reviews[0].is_overdue(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
    assert!(c.cpua_reviews[0].is_overdue(NaiveDate::from_ymd_opt(2026, 10, 2).unwrap()));
}

// Seed 001, "5. Beslut om utlämnande" and seed 000, "Menprövning …": written reasons, the DPO
// consulted first, a lawful ground, and how to appeal.
#[test]
fn a_refusal_needs_reasons_dpo_ground_and_records_the_appeal() {
    let f = fixture();
    let c = at_decision(&f, false);
    let refuse = |reasons: Option<&str>, dpo: bool, ground: Option<RefusalGround>| {
        Command::ToReleaseDecision {
            cpua: f.a.clone(),
            decision: DecisionInput {
                outcome: DecisionOutcome::Refused,
                reasons: reasons.map(str::to_string),
                conditions: None,
                ground,
                dpo_consulted_on: dpo.then(today),
                reference: None,
            },
        }
    };
    assert_eq!(
        rule(run(&f, &c, refuse(None, true, Some(RefusalGround::Other)))),
        "written_reasons_required"
    );
    assert_eq!(
        rule(run(
            &f,
            &c,
            refuse(Some("r"), false, Some(RefusalGround::Other))
        )),
        "dpo_consultation_required"
    );
    assert_eq!(
        rule(run(&f, &c, refuse(Some("r"), true, None))),
        "refusal_ground_required"
    );
    let n = run(
        &f,
        &c,
        refuse(Some("r"), true, Some(RefusalGround::HarmToIndividual)),
    )
    .unwrap();
    assert_eq!(n.step, Step::Refused);
    let appeal = n.cpua_reviews[0]
        .decision
        .as_ref()
        .unwrap()
        .appeal
        .clone()
        .unwrap();
    assert_eq!(appeal.court, "kammarrätten");
}

// Seed 000, "Menprövning …": low quality or a competing project is never a ground.
#[test]
fn research_quality_is_not_among_the_refusal_grounds() {
    for (code, _) in FORBIDDEN_GROUNDS {
        assert!(RefusalGround::parse(code).is_none(), "{code}");
    }
}

// Seed 001, "6. Avtal upprättas": the agreement follows every CPUA's decision.
#[test]
fn the_agreement_waits_for_every_decision() {
    let f = fixture();
    let c = at_decision(&f, false);
    assert_eq!(rule(run(&f, &c, agreement(false))), "decisions_pending");
}

// Seed 000, "Forskningssamarbete med industrin": release only after the agreement; and the
// confidentiality reservation in it when the principal is not bound by OSL.
#[test]
fn release_needs_the_agreement_and_the_reservation_for_a_company_principal() {
    let f = fixture();
    let c = run(&f, &at_decision(&f, false), approve(&f.a)).unwrap();
    assert_eq!(c.step, Step::Agreement);
    assert_eq!(rule(run(&f, &c, release(&f.a))), "agreement_required");
    let company = ctx(&f, &c, Some(OrgKind::Company));
    assert!(company.obligations.confidentiality_reservation);
    assert_eq!(
        execute(&c, agreement(false), &company).unwrap_err().rule,
        "confidentiality_reservation_required"
    );
    let c = run(&f, &c, agreement(false)).unwrap();
    assert_eq!(
        execute(&c, release(&f.a), &ctx(&f, &c, Some(OrgKind::Company)))
            .unwrap_err()
            .rule,
        "confidentiality_reservation_required"
    );
    assert_eq!(rule(run(&f, &c, release(&f.a))), "ok");
}

// Seed 000, "Ersättning för datauttag för forskning": charged extraction agreed in writing first.
#[test]
fn charged_extraction_needs_the_written_cost_agreement_before_release() {
    let f = fixture();
    let c = run(&f, &at_decision(&f, true), approve(&f.a)).unwrap();
    let c = run(&f, &c, agreement(false)).unwrap();
    assert_eq!(rule(run(&f, &c, release(&f.a))), "cost_agreement_required");
    let c = run(
        &f,
        &c,
        Command::RecordCostAgreement {
            reference: "K".into(),
            signed_on: today(),
            estimate: Money::from_ore(100_000).unwrap(),
            hourly_rate: None,
        },
    )
    .unwrap();
    let c = run(&f, &c, release(&f.a)).unwrap();
    // …and never afterwards.
    let late = Command::RecordCostAgreement {
        reference: "K2".into(),
        signed_on: today(),
        estimate: Money::from_ore(1).unwrap(),
        hourly_rate: None,
    };
    assert_eq!(rule(run(&f, &c, late)), "cost_agreement_after_release");
}

// Seed 000, "Hur och vilka data lämnas ut?": the key file about 3 months; longer only ethics-approved;
// the password separately.
#[test]
fn key_file_retention_defaults_to_three_months_and_longer_needs_justification() {
    let f = fixture();
    let c = run(&f, &at_decision(&f, false), approve(&f.a)).unwrap();
    let c = run(&f, &c, agreement(false)).unwrap();
    let with = |key: Option<NaiveDate>, why: Option<&str>, pw: bool| Command::ToDataRelease {
        cpua: f.a.clone(),
        release: ReleaseInput {
            released_on: today(),
            transfer_method: TransferMethod::EncryptedFile,
            password_sent_separately: pw,
            key_deletion_on: key,
            extended_retention_justification: why.map(str::to_string),
        },
    };
    assert_eq!(
        rule(run(&f, &c, with(None, None, false))),
        "password_separately"
    );
    let year = NaiveDate::from_ymd_opt(2027, 9, 1);
    assert_eq!(
        rule(run(&f, &c, with(year, None, true))),
        "extended_retention_needs_justification"
    );
    let mut no_ethics = c.clone();
    no_ethics.ethics = None;
    assert_eq!(
        rule(run(&f, &no_ethics, with(year, Some("Uppföljning"), true))),
        "extended_retention_needs_ethics_approval"
    );
    let n = run(&f, &c, with(None, None, true)).unwrap();
    assert_eq!(
        n.cpua_reviews[0].release.as_ref().unwrap().key_deletion_on,
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    );
    let n = run(&f, &c, with(year, Some("Uppföljning"), true)).unwrap();
    assert_eq!(
        n.cpua_reviews[0].release.as_ref().unwrap().key_deletion_on,
        year.unwrap()
    );
}

// Seed 000, "Hantering vid utlämnandet …": a new research question needs a new ethics approval and a
// new application, never an in-place edit.
#[test]
fn a_released_research_question_changes_only_through_an_amendment() {
    let f = fixture();
    let c = run(&f, &at_decision(&f, false), approve(&f.a)).unwrap();
    let c = run(&f, &run(&f, &c, agreement(false)).unwrap(), release(&f.a)).unwrap();
    let edit = Command::UpdateDetails(DetailsPatch {
        research_question: Some(Some("Ny".into())),
        ..Default::default()
    });
    assert_eq!(rule(run(&f, &c, edit)), "not_editable");
    let c = run(
        &f,
        &c,
        Command::OpenAmendment {
            research_question: "Ny".into(),
            reason: "R".into(),
        },
    )
    .unwrap();
    assert_eq!(
        rule(run(&f, &c, Command::SubmitAmendmentApplication)),
        "new_ethics_approval_required"
    );
    assert_eq!(
        rule(run(
            &f,
            &c,
            Command::RecordAmendmentEthics(ethics_approval("2026-01234-01", today()).unwrap())
        )),
        "new_ethics_approval_required",
        "the old approval does not count"
    );
    assert_eq!(
        rule(run(
            &f,
            &c,
            Command::DecideAmendment {
                cpua: f.a.clone(),
                approve: true
            }
        )),
        "new_application_required"
    );
}

// Seed 001, steps 8 and 9: report back before archiving; the disposal confirmed before closing.
#[test]
fn archiving_needs_the_report_back_and_closing_the_disposal_confirmation() {
    let f = fixture();
    let c = run(&f, &at_decision(&f, false), approve(&f.a)).unwrap();
    let c = run(&f, &run(&f, &c, agreement(false)).unwrap(), release(&f.a)).unwrap();
    let c = run(&f, &c, Command::ToResults).unwrap();
    assert_eq!(
        rule(run(&f, &c, Command::ToArchiving)),
        "report_back_required"
    );
    let c = run(
        &f,
        &c,
        Command::RecordReportBack(ReportBack {
            reported_on: today(),
            summary: "S".into(),
        }),
    )
    .unwrap();
    let c = run(&f, &c, Command::ToArchiving).unwrap();
    assert_eq!(
        rule(run(&f, &c, Command::ToClosed)),
        "disposal_confirmation_required"
    );
    let c = run(
        &f,
        &c,
        Command::ConfirmDisposal(DisposalConfirmation {
            disposition: Disposition::Deleted,
            confirmed_on: today(),
            confirmed_by_name: "N".into(),
            statement: "S".into(),
        }),
    )
    .unwrap();
    let c = run(&f, &c, Command::ToClosed).unwrap();
    assert_eq!(c.step, Step::Closed);
    assert_eq!(rule(run(&f, &c, Command::ToResults)), "terminal_state");
}

// Seed 000, "Sambearbetning av registerdata" and seed 002: each CPUA decides on its own; one
// refusal does not erase another's approval.
#[test]
fn each_cpua_decides_on_its_own() {
    let f = fixture();
    let mut c = collab(&f, 2);
    for cmd in [Command::ToRegisterContact, feasible(false), ethics()] {
        c = run(&f, &c, cmd).unwrap();
    }
    for cpua in [&f.a, &f.b] {
        c = run(
            &f,
            &c,
            Command::ToDataApplication {
                cpua: cpua.clone(),
                dossier: full_dossier(),
            },
        )
        .unwrap();
    }
    assert_eq!(c.cpua_reviews.len(), 2);
    let c = run(&f, &c, approve(&f.a)).unwrap();
    assert_eq!(c.step, Step::ReleaseDecision, "B still holds it up");
    assert_eq!(holding_up(&c, today())[0].cpua_name, "Region B");
    let refuse_b = Command::ToReleaseDecision {
        cpua: f.b.clone(),
        decision: DecisionInput {
            outcome: DecisionOutcome::Refused,
            reasons: Some("r".into()),
            conditions: None,
            ground: Some(RefusalGround::HarmToIndividual),
            dpo_consulted_on: Some(today()),
            reference: None,
        },
    };
    let c = run(&f, &c, refuse_b).unwrap();
    assert_eq!(c.step, Step::Agreement);
    assert_eq!(c.review(&f.a).unwrap().status(), ReviewStatus::Approved);
}

#[derive(Debug, Clone)]
enum Op {
    Contact,
    Feasible(bool),
    EthicsStep,
    Ethics,
    Apply(bool, bool),
    Approve(bool),
    Agreement,
    Cost,
    Release(bool),
    Results,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Contact),
        any::<bool>().prop_map(Op::Feasible),
        Just(Op::EthicsStep),
        Just(Op::Ethics),
        (any::<bool>(), any::<bool>()).prop_map(|(a, full)| Op::Apply(a, full)),
        any::<bool>().prop_map(Op::Approve),
        Just(Op::Agreement),
        Just(Op::Cost),
        any::<bool>().prop_map(Op::Release),
        Just(Op::Results),
    ]
}

proptest! {
    /// No sequence of commands reaches a data release without its prerequisites: the feasibility
    /// answer, ethics approval (research), a complete dossier and an approval by that CPUA, the
    /// agreement, and the cost agreement when the extraction is charged.
    #[test]
    fn no_sequence_releases_data_without_its_prerequisites(ops in proptest::collection::vec(op(), 0..25)) {
        let f = fixture();
        let mut c = collab(&f, 2);
        for o in ops {
            let cpua = |first: bool| if first { f.a.clone() } else { f.b.clone() };
            let cmd = match o {
                Op::Contact => Command::ToRegisterContact,
                Op::Feasible(charged) => feasible(charged),
                Op::EthicsStep => Command::ToEthicsReview,
                Op::Ethics => ethics(),
                Op::Apply(a, full) => Command::ToDataApplication {
                    cpua: cpua(a),
                    dossier: if full { full_dossier() } else { Dossier { recipient_principal: Some("U".into()), ..Default::default() } },
                },
                Op::Approve(a) => approve(&cpua(a)),
                Op::Agreement => agreement(false),
                Op::Cost => Command::RecordCostAgreement {
                    reference: "K".into(),
                    signed_on: today(),
                    estimate: Money::from_ore(1).unwrap(),
                    hourly_rate: None,
                },
                Op::Release(a) => release(&cpua(a)),
                Op::Results => Command::ToResults,
            };
            if let Ok(n) = run(&f, &c, cmd) {
                c = n;
            }
            for r in c.cpua_reviews.iter().filter(|r| r.release.is_some()) {
                prop_assert!(c.feasibility.as_ref().is_some_and(|f| f.feasible));
                prop_assert!(c.ethics.is_some());
                prop_assert!(r.application_complete_at.is_some());
                prop_assert!(r.decision.as_ref().is_some_and(|d| d.outcome.releases_data()));
                prop_assert!(c.agreement.is_some());
                if c.feasibility.as_ref().is_some_and(|f| f.extraction_charged) {
                    prop_assert!(c.cost_agreement.is_some());
                }
            }
            if c.step == Step::Results {
                prop_assert!(c.cpua_reviews.iter().all(|r| r.status() != ReviewStatus::Approved));
            }
        }
    }
}
