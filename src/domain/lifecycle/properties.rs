//! Properties over random command sequences (proptest): whatever the order, no data are released without
//! every prerequisite, and the collaboration's step always agrees with its tracks.
use proptest::prelude::*;

use super::testkit::*;
use super::{Command, DecisionInput, EvidenceInput};
use crate::domain::classification::ObligationCode;
use crate::domain::collaboration::*;

#[derive(Debug, Clone)]
enum Op {
    Contact,
    Feasible(usize, bool),
    EthicsStep,
    Ethics,
    Apply(bool, bool),
    Approve(bool),
    Refuse(bool),
    Coordinate,
    Dpa,
    Cost,
    Linkage,
    Agreement,
    Release(bool),
    Withdraw,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Contact),
        (0..2usize, any::<bool>()).prop_map(|(i, c)| Op::Feasible(i, c)),
        Just(Op::EthicsStep),
        Just(Op::Ethics),
        (any::<bool>(), any::<bool>()).prop_map(|(a, f)| Op::Apply(a, f)),
        any::<bool>().prop_map(Op::Approve),
        any::<bool>().prop_map(Op::Refuse),
        Just(Op::Coordinate),
        Just(Op::Dpa),
        Just(Op::Cost),
        Just(Op::Linkage),
        Just(Op::Agreement),
        any::<bool>().prop_map(Op::Release),
        Just(Op::Withdraw),
    ]
}

fn scenario(which: u8) -> Scenario {
    let mut s = Scenario::two_cpuas();
    match which {
        0 => {}
        1 => s.facts.external_processor = Some(true),
        2 => s.linkage = vec![LinkageTarget::Scb],
        _ => s.principal = Some(crate::domain::organisation::OrgKind::Company),
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// No sequence of commands releases data without its prerequisites: an ethics approval, a complete
    /// application and an approval by that CPUA, every obligation gating the release met (the reservation in
    /// the recorded agreement, the PUB agreement, the linkage decisions, the cost agreement when charged),
    /// and an agreement recorded for exactly the approving CPUAs.
    #[test]
    fn no_sequence_releases_data_without_its_prerequisites(
        which in 0u8..4,
        ops in proptest::collection::vec(op(), 0..30),
    ) {
        let k = Kit::new();
        let mut c = k.collab(scenario(which));
        for o in ops {
            let cpua = |first: bool| if first { k.a.clone() } else { k.b.clone() };
            let acks: &[(&str, &str)] = &[("feasibility_not_answered", "r"), ("register_cannot_deliver", "r")];
            let result = match o {
                Op::Contact => k.run(&c, Command::ToRegisterContact),
                Op::Feasible(i, charged) => {
                    let mut f = k.feasibility_input(i);
                    f.extraction_charged = charged;
                    // Near the kit's cost agreement (10 000 kr), so it raises no "bör" of its own.
                    f.estimated_cost = charged.then(|| crate::domain::money::Money::from_ore(1_000_000).unwrap());
                    k.run(&c, Command::RecordFeasibility(f))
                }
                Op::EthicsStep => k.run_ack(&c, Command::ToEthicsReview, acks),
                Op::Ethics => k.run(&c, Command::RecordEthicsApproval(k.ethics_approval())),
                Op::Apply(a, full) => {
                    let mut d = full_dossier();
                    if !full {
                        d.access_and_storage = None;
                    }
                    k.run_ack(&c, Command::ToDataApplication { cpua: cpua(a), dossier: d }, acks)
                }
                Op::Approve(a) => k.run(&c, k.decide(&cpua(a), DecisionInput::approval())),
                Op::Refuse(a) => {
                    let mut d = DecisionInput::approval();
                    d.outcome = DecisionOutcome::Refused;
                    d.findings = None;
                    d.reasons = Some("R".into());
                    d.grounds = vec![RefusalGround::HarmToIndividual];
                    k.run(&c, k.decide(&cpua(a), d))
                }
                Op::Coordinate => k.run(&c, Command::RecordEvidence(EvidenceInput::Coordination {
                    key_custodian: k.a.clone(),
                    linkage_responsible: k.a.to_string(),
                    note: None,
                })),
                Op::Dpa => k.run(&c, Command::RecordEvidence(k.evidence_dpa())),
                Op::Cost => k.run(&c, k.cost_agreement()),
                Op::Linkage => k.run(&c, k.linkage_decision(LinkageTarget::Scb, true)),
                Op::Agreement => {
                    let v = k.version_for(&c, 1);
                    k.with_version(v.clone())
                        .run(&c, Command::ToAgreement { version: 1, digest: v.digest, signed_on: k.today() })
                }
                Op::Release(a) => k.run(&c, Command::ToDataRelease { cpua: cpua(a), release: k.release_input() }),
                Op::Withdraw => k.run(&c, Command::ToWithdrawn { reason: "r".into() }),
            };
            if let Ok(n) = result {
                c = n;
            }
            let ob = k.obligations_of(&c);
            for r in c.cpua_reviews.iter().filter(|r| r.release.is_some()) {
                prop_assert!(c.ethics.is_some(), "released without ethics approval");
                prop_assert!(r.application_complete_at.is_some());
                prop_assert!(r.decision.as_ref().is_some_and(|d| d.outcome.releases_data()));
                let a = c.agreement.as_ref();
                prop_assert!(a.is_some(), "released without an agreement");
                prop_assert!(a.is_some_and(|a| a.cpua_parties.contains(&r.cpua)));
                if ob.has(ObligationCode::ConfidentialityReservation) {
                    prop_assert!(a.is_some_and(|a| a.holds(crate::domain::classification::ClauseCode::ConfidentialityReservation)));
                }
                if ob.has(ObligationCode::DataProcessingAgreement) {
                    prop_assert!(c.evidence.data_processing_agreement.is_some());
                }
                if ob.has(ObligationCode::LinkageApplications) {
                    prop_assert!(c.linkage_review(LinkageTarget::Scb).and_then(|l| l.decision.as_ref()).is_some_and(|d| d.approved));
                }
                if c.extraction_charged() {
                    prop_assert!(c.cost_agreement.is_some(), "a charged extraction released without a cost agreement");
                }
                prop_assert!(c.evidence.coordination.is_some(), "two CPUAs released without settling the key");
            }
            if c.cpua_reviews.iter().all(|r| r.status() == ReviewStatus::Refused) && !c.cpua_reviews.is_empty() {
                prop_assert_eq!(c.step, crate::domain::step::Step::Refused);
            }
        }
    }
}
