//! Step 6, the agreement (avtal upprättas). Seed 001, "6. Avtal upprättas": the agreement states goals,
//! deliverables, publication, costs and who is responsible; seed 000, "Forskningssamarbete med industrin":
//! with industry it is an agreement between the CPUA, the research principal and the company. Recording the
//! agreement names a rendered version by number and digest; it must be the newest, drawn for exactly the
//! CPUAs that approved, and hold every clause the obligations in force require.
use chrono::NaiveDate;
use std::collections::BTreeSet;

use super::{not_in_future, step_is, Context, Refusal, SEED_000, SEED_001};
use crate::domain::agreement::evidence::AgreementVersionEvidence;
use crate::domain::collaboration::{AgreementRecord, Collaboration};
use crate::domain::step::Step;

/// Whether a new agreement version may be drawn, and for which amendment: until the agreement is recorded,
/// an original version; after it, only an amendment version for an approved amendment whose agreement is
/// not yet recorded.
pub fn agreement_draft(c: &Collaboration) -> Result<Option<u32>, Refusal> {
    let closed = || Refusal::precondition(crate::msg!("agreement_closed"));
    if c.step.is_terminal() {
        return Err(closed());
    }
    if c.agreement.is_none() {
        return Ok(None);
    }
    c.amendments
        .last()
        .filter(|a| {
            a.status == crate::domain::collaboration::AmendmentStatus::Approved
                && a.agreement.is_none()
        })
        .map(|a| Some(a.number))
        .ok_or_else(closed)
}

pub(super) fn guard(c: &Collaboration, ctx: &Context) -> Result<(), Refusal> {
    if !ctx.obligations.agreement_required() {
        return Err(Refusal::precondition(crate::msg!(
            "no_agreement_for_a_decision"
        )));
    }
    step_is(c, &[Step::Agreement], crate::msg!("what.agreement")).map_err(|r| {
        if matches!(c.step, Step::DataApplication | Step::ReleaseDecision) {
            Refusal::precondition(crate::msg!("decisions_pending"))
                .source(SEED_001, "6. Avtal upprättas")
                .missing(
                    c.cpua_reviews
                        .iter()
                        .filter(|r| r.decision.is_none())
                        .map(|r| format!("decision by {}", r.cpua_name)),
                )
        } else {
            r
        }
    })
}

/// The named version exists and carries the named digest.
pub(super) fn check_named<'a>(
    number: u32,
    digest: &str,
    ctx: &'a Context,
) -> Result<&'a AgreementVersionEvidence, Refusal> {
    let v = ctx
        .agreement_version
        .filter(|v| v.number == number)
        .ok_or_else(|| {
            Refusal::precondition(crate::msg!("agreement_version_unknown", number = number))
                .missing(["agreement_version"])
        })?;
    if v.digest != digest {
        return Err(Refusal::precondition(crate::msg!(
            "agreement_digest_mismatch",
            number = number
        )));
    }
    Ok(v)
}

/// Checks that a stored version may be recorded as the signed agreement (or amendment agreement): the
/// newest of its kind, drawn for the approving CPUAs, holding every required clause, and fully executed
/// through its signing envelope.
pub(super) fn check_version<'a>(
    c: &Collaboration,
    number: u32,
    digest: &str,
    amendment: Option<u32>,
    ctx: &'a Context,
) -> Result<&'a AgreementVersionEvidence, Refusal> {
    let v = check_named(number, digest, ctx)?;
    if v.amendment != amendment {
        return Err(Refusal::precondition(match amendment {
            Some(a) => crate::msg!("agreement_version_kind", number = number, amendment = a),
            None => crate::msg!("agreement_version_kind.amendment_version", number = number),
        }));
    }
    if !v.is_latest {
        return Err(Refusal::precondition(crate::msg!(
            "agreement_version_superseded",
            number = number
        )));
    }
    let approving = c.approving_cpuas();
    if v.cpua_parties != approving {
        let extra: BTreeSet<_> = v.cpua_parties.difference(&approving).collect();
        let missing: BTreeSet<_> = approving.difference(&v.cpua_parties).collect();
        return Err(
            Refusal::precondition(crate::msg!("agreement_parties_outdated"))
                .source(SEED_000, "Forskningssamarbete med industrin")
                .missing(
                    missing
                        .iter()
                        .map(|o| format!("party.{o}"))
                        .chain(extra.iter().map(|o| format!("not_a_party.{o}"))),
                ),
        );
    }
    let mut lacking = vec![];
    let mut obligations = vec![];
    for (clause, obligation) in ctx.obligations.required_clauses() {
        if !v.clauses.contains(&clause) || v.weakened_clauses.contains(&clause) {
            lacking.push(format!("clause.{clause}"));
            obligations.push(obligation.to_string());
        }
    }
    if !lacking.is_empty() {
        let mut r = Refusal::precondition(crate::msg!(
            "agreement_clause_missing",
            number = number,
            clauses = crate::domain::messages::Arg::all_of(lacking.clone()),
            obligations = crate::domain::messages::Arg::all_of(obligations.clone())
        ))
        .missing(lacking.clone());
        r.obligations = obligations
            .iter()
            .zip(&lacking)
            .filter_map(|(code, clause)| {
                let o = ctx
                    .obligations
                    .in_force
                    .iter()
                    .find(|o| o.code.as_str() == code)?;
                Some(super::UnmetObligation {
                    code: code.clone(),
                    label_sv: o.label_sv.clone(),
                    label_en: o.label_en.clone(),
                    evidence_sv: o.evidence_sv.clone(),
                    evidence_en: o.evidence_en.clone(),
                    source: o.source.clone(),
                    missing: vec![clause.clone()],
                })
            })
            .collect();
        return Err(r);
    }
    // Signed means executed: the version's envelope completed and every party's signature carrying
    // its digest (issue 14), never a typed-in reference.
    crate::domain::signing::executed(v)?;
    Ok(v)
}

pub(super) fn record(
    v: &AgreementVersionEvidence,
    signed_on: NaiveDate,
    ctx: &Context,
) -> Result<AgreementRecord, Refusal> {
    not_in_future("signed_on", signed_on, ctx.today)?;
    Ok(AgreementRecord {
        version: v.number,
        digest: v.digest.clone(),
        signed_on,
        clauses: v.clauses.clone(),
        cpua_parties: v.cpua_parties.clone(),
        legacy_reference: None,
        recorded_by: ctx.actor.account.clone(),
        term_end: v.term_end,
        delete_within_days: v.delete_within_days,
    })
}

pub(super) fn apply(
    n: &mut Collaboration,
    version: u32,
    digest: &str,
    signed_on: NaiveDate,
    ctx: &Context,
) -> Result<(), Refusal> {
    let v = check_version(n, version, digest, None, ctx)?;
    n.agreement = Some(record(v, signed_on, ctx)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::Command;
    use crate::domain::classification::ClauseCode;
    use crate::domain::step::Step;

    #[test]
    fn the_agreement_names_a_rendered_version_by_number_and_digest() {
        let k = Kit::new();
        let c = k.walk_to_decided(Scenario::company_principal());
        let v = k.version_for(&c, 1);
        let none = k.run(
            &c,
            Command::ToAgreement {
                version: 1,
                digest: v.digest.clone(),
                signed_on: k.today(),
            },
        );
        assert_eq!(none.unwrap_err().rule, "agreement_version_unknown");
        let with = k.with_version(v.clone());
        let r = with
            .run(
                &c,
                Command::ToAgreement {
                    version: 1,
                    digest: "00".into(),
                    signed_on: k.today(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "agreement_digest_mismatch");
        let n = with
            .run(
                &c,
                Command::ToAgreement {
                    version: 1,
                    digest: v.digest.clone(),
                    signed_on: k.today(),
                },
            )
            .unwrap();
        let a = n.agreement.unwrap();
        assert_eq!((a.version, a.digest), (1, v.digest));
        assert_eq!(n.step, Step::DataRelease);
    }

    #[test]
    fn a_version_without_a_required_clause_is_refused_naming_it() {
        // Seed 000, "Forskningssamarbete med industrin": the reservation is formalised in the agreement.
        let k = Kit::new();
        let c = k.walk_to_decided(Scenario::company_principal());
        let mut v = k.version_for(&c, 1);
        v.clauses.remove(&ClauseCode::ConfidentialityReservation);
        let r = k
            .with_version(v.clone())
            .run(
                &c,
                Command::ToAgreement {
                    version: 1,
                    digest: v.digest.clone(),
                    signed_on: k.today(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "agreement_clause_missing");
        assert!(r
            .text(crate::domain::lang::Lang::En)
            .contains("confidentiality_reservation"));
        assert_eq!(r.missing, vec!["clause.confidentiality_reservation"]);
        assert_eq!(r.obligations[0].code, "confidentiality_reservation");
        assert!(
            r.obligations[0]
                .label_en
                .starts_with("Confidentiality reservation"),
            "{}",
            r.obligations[0].label_en
        );
        let mut w = k.version_for(&c, 1);
        w.weakened_clauses
            .insert(ClauseCode::ConfidentialityReservation);
        let r = k
            .with_version(w.clone())
            .run(
                &c,
                Command::ToAgreement {
                    version: 1,
                    digest: w.digest.clone(),
                    signed_on: k.today(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "agreement_clause_missing");
    }

    #[test]
    fn a_version_for_other_cpuas_or_superseded_is_refused() {
        let k = Kit::new();
        let c = k.walk_to_decided(Scenario::public_research());
        let mut v = k.version_for(&c, 2);
        v.cpua_parties.insert(k.b.clone());
        let r = k
            .with_version(v.clone())
            .run(
                &c,
                Command::ToAgreement {
                    version: 2,
                    digest: v.digest.clone(),
                    signed_on: k.today(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "agreement_parties_outdated");
        let mut old = k.version_for(&c, 2);
        old.is_latest = false;
        let r = k
            .with_version(old.clone())
            .run(
                &c,
                Command::ToAgreement {
                    version: 2,
                    digest: old.digest.clone(),
                    signed_on: k.today(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "agreement_version_superseded");
        let mut am = k.version_for(&c, 2);
        am.amendment = Some(1);
        let r = k
            .with_version(am.clone())
            .run(
                &c,
                Command::ToAgreement {
                    version: 2,
                    digest: am.digest.clone(),
                    signed_on: k.today(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "agreement_version_kind");
    }

    #[test]
    fn the_agreement_follows_every_decision_and_a_decision_instrument_needs_none() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::two_cpuas());
        let v = k.version_for(&c, 1);
        let r = k
            .with_version(v.clone())
            .run(
                &c,
                Command::ToAgreement {
                    version: 1,
                    digest: v.digest,
                    signed_on: k.today(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "decisions_pending");
        assert_eq!(r.missing.len(), 2);
        let stats = k.walk_to_decided(Scenario::statistics());
        assert_eq!(stats.step, Step::DataRelease);
        let v = k.version_for(&stats, 1);
        let r = k
            .with_version(v.clone())
            .run(
                &stats,
                Command::ToAgreement {
                    version: 1,
                    digest: v.digest,
                    signed_on: k.today(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "no_agreement_for_a_decision");
    }

    #[test]
    fn versions_are_drawn_until_the_agreement_is_signed_then_only_for_an_approved_amendment() {
        use super::agreement_draft;
        let k = Kit::new();
        let c = k.walk_to_decided(Scenario::public_research());
        assert_eq!(agreement_draft(&c), Ok(None));
        let signed = k.walk_to_released(Scenario::public_research());
        assert_eq!(
            agreement_draft(&signed).unwrap_err().rule,
            "agreement_closed"
        );
        let c = k.walk_to_amendment_submitted(Scenario::public_research());
        assert_eq!(
            agreement_draft(&c).unwrap_err().rule,
            "agreement_closed",
            "not yet approved"
        );
        let approved = k
            .run(
                &c,
                k.decide_amendment(&k.a, super::super::DecisionInput::approval()),
            )
            .unwrap();
        assert_eq!(agreement_draft(&approved), Ok(Some(1)));
        let v = k.amendment_version_for(&approved, 3, 1);
        let recorded = k
            .with_version(v.clone())
            .run(
                &approved,
                Command::RecordAmendmentAgreement {
                    version: 3,
                    digest: v.digest,
                    signed_on: k.today(),
                },
            )
            .unwrap();
        assert_eq!(
            agreement_draft(&recorded).unwrap_err().rule,
            "agreement_closed"
        );
        let mut ended = c.clone();
        ended.step = Step::Closed;
        ended.agreement = None;
        assert_eq!(
            agreement_draft(&ended).unwrap_err().rule,
            "agreement_closed"
        );
    }
}
