//! Step 4, the application for data to each CPUA (ansökan om datauttag), with the confidentiality-review
//! dossier of seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)". Each CPUA of the
//! collaboration's registers gets a track of its own (seed 000, "Sambearbetning av registerdata").
use std::collections::BTreeMap;

use super::{step_is, Advice, Context, Refusal, SEED_000, SEED_001};
use crate::domain::classification::ObligationCode;
use crate::domain::collaboration::{Collaboration, CpuaReview, Dossier};
use crate::domain::ids::{OrgId, RegisterId};
use crate::domain::step::Step;

const PATIENT_INFO: &str = "Vilka registerdata går att använda för forskning?";

pub(super) fn guard(
    c: &Collaboration,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Refusal> {
    step_is(
        c,
        &[
            Step::RegisterContact,
            Step::EthicsReview,
            Step::DataApplication,
            Step::ReleaseDecision,
        ],
        crate::msg!("what.data_application"),
    )?;
    if let Some(rec) = &c.classification {
        if rec.effective_type().is_none() && !ctx.obligations.has(ObligationCode::LegalReview) {
            return Err(
                Refusal::precondition(crate::msg!("collaboration_type_undecided"))
                    .source(SEED_001, "1. Förarbete")
                    .missing(rec.result.missing.iter().map(|f| format!("intake.{f}"))),
            );
        }
    }
    match track {
        Some(cpua) => match c.review(cpua) {
            Some(r) if r.application_complete_at.is_some() => {
                return Err(Refusal::precondition(crate::msg!(
                    "application_already_complete",
                    cpua_name = &r.cpua_name
                )))
            }
            Some(_) => {}
            None if c.cpua_reviews.is_empty()
                && c.registers
                    .iter()
                    .any(|r| ctx.cpua_of(r).is_some_and(|(o, _)| o == cpua)) => {}
            None => {
                return Err(Refusal::invalid(
                    "cpua",
                    crate::msg!("not_a_cpua_of_collaboration.no_register"),
                ))
            }
        },
        None => {
            if !c.cpua_reviews.is_empty()
                && c.cpua_reviews
                    .iter()
                    .all(|r| r.application_complete_at.is_some())
            {
                return Err(Refusal::precondition(crate::msg!("applications_complete")));
            }
        }
    }
    patient_information(c, track, ctx)
}

/// The registers a track covers: its review's, or before any application those whose CPUA it is now.
fn track_registers(c: &Collaboration, track: Option<&OrgId>, ctx: &Context) -> Vec<RegisterId> {
    match track {
        None => c.registers.clone(),
        Some(o) => match c.review(o) {
            Some(r) => r.registers.clone(),
            None => c
                .registers
                .iter()
                .filter(|r| ctx.cpua_of(r).is_some_and(|(x, _)| x == o))
                .cloned()
                .collect(),
        },
    }
}

/// Seed 000, "Vilka registerdata går att använda för forskning?": register data can be used for research
/// only if the patients were told so when their data were reported; otherwise only with consent obtained
/// retrospectively ("kan data … inte användas för forskningssyfte om inte samtycke inhämtas retrospektivt").
fn patient_information(
    c: &Collaboration,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Refusal> {
    if !c.is_research {
        return Ok(());
    }
    let missing: Vec<String> = track_registers(c, track, ctx)
        .into_iter()
        .filter(|r| {
            ctx.registers
                .get(r)
                .is_some_and(|f| !f.patient_information_covers_research)
                && !c
                    .evidence
                    .retrospective_consents
                    .iter()
                    .any(|k| &k.register == r)
        })
        .map(|r| format!("evidence.retrospective_consent.{r}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(
        Refusal::precondition(crate::msg!("patient_information_does_not_cover_research"))
            .source(SEED_000, PATIENT_INFO)
            .missing(missing),
    )
}

pub(super) fn apply(
    n: &mut Collaboration,
    cpua: &OrgId,
    dossier: Dossier,
    ctx: &Context,
) -> Result<(), Refusal> {
    if n.cpua_reviews.is_empty() {
        n.cpua_reviews = open_reviews(n, ctx)?;
    }
    let ethics = ctx.obligations.has(ObligationCode::EthicsApproval);
    let review_needed = ctx.obligations.has(ObligationCode::ConfidentialityReview);
    let review = n.review_mut(cpua).ok_or_else(|| {
        Refusal::invalid(
            "cpua",
            crate::msg!("not_a_cpua_of_collaboration.no_register"),
        )
    })?;
    review.application_submitted_at.get_or_insert(ctx.now);
    review.dossier.merge(dossier);
    if review
        .dossier
        .missing(ethics, review_needed, ctx.data_users_named)
        .is_empty()
    {
        review.application_complete_at = Some(ctx.now);
        // Seed 001, "5. Beslut om utlämnande": a decision should be given within 30 days, counted from
        // the complete application.
        review.decision_due_on = ctx.today.checked_add_days(chrono::Days::new(30));
    }
    Ok(())
}

fn open_reviews(c: &Collaboration, ctx: &Context) -> Result<Vec<CpuaReview>, Refusal> {
    let mut by_cpua: BTreeMap<OrgId, (String, Vec<RegisterId>)> = BTreeMap::new();
    for reg in &c.registers {
        let (cpua, name) = ctx.cpua_of(reg).ok_or_else(|| {
            Refusal::precondition(crate::msg!("register_without_cpua", reg = reg.to_string()))
        })?;
        by_cpua
            .entry(cpua.clone())
            .or_insert_with(|| (name.to_string(), vec![]))
            .1
            .push(reg.clone());
    }
    Ok(by_cpua
        .into_iter()
        .map(|(cpua, (cpua_name, registers))| CpuaReview {
            cpua,
            cpua_name,
            registers,
            application_submitted_at: None,
            dossier: Dossier::default(),
            application_complete_at: None,
            decision_due_on: None,
            completion: None,
            decision: None,
            release: None,
            recommendation: None,
            history: vec![],
            appeals: vec![],
        })
        .collect())
}

/// The "bör" of early contact, for the registers of this track.
pub(super) fn warnings(c: &Collaboration, track: Option<&OrgId>, ctx: &Context) -> Vec<Advice> {
    let regs = track_registers(c, track, ctx);
    super::feasibility::warnings(c, Some(&regs))
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::Command;
    use crate::domain::collaboration::ReviewStatus;

    #[test]
    fn each_cpua_gets_its_own_track_and_its_own_30_days() {
        // Seed 000, "Sambearbetning av registerdata"; seed 001, "5. Beslut om utlämnande".
        let k = Kit::new();
        let c = k.walk_to_ethics(Scenario::two_cpuas());
        let c = k.run(&c, k.application(&k.a)).unwrap();
        assert_eq!(c.cpua_reviews.len(), 2);
        let a = c.review(&k.a).unwrap();
        assert_eq!(a.status(), ReviewStatus::UnderReview);
        assert_eq!(
            a.decision_due_on,
            k.today().checked_add_days(chrono::Days::new(30))
        );
        assert_eq!(c.review(&k.b).unwrap().status(), ReviewStatus::NotApplied);
        assert_eq!(c.step, crate::domain::step::Step::DataApplication);
        let r = k.run(&c, k.application(&k.a)).unwrap_err();
        assert_eq!(r.rule, "application_already_complete");
    }

    #[test]
    fn an_incomplete_dossier_leaves_the_application_incomplete() {
        // Seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)": five items.
        let k = Kit::new();
        let c = k.walk_to_ethics(Scenario::public_research());
        let mut d = full_dossier();
        d.access_and_storage = None;
        let c = k
            .run(
                &c,
                Command::ToDataApplication {
                    cpua: k.a.clone(),
                    dossier: d,
                },
            )
            .unwrap();
        let r = c.review(&k.a).unwrap();
        assert_eq!(r.status(), ReviewStatus::ApplicationIncomplete);
        assert!(r.decision_due_on.is_none());
    }

    #[test]
    fn an_active_named_data_user_gives_the_fifth_dossier_item() {
        // Seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)": "Uppgift om
        // vilka som har tillgång till personuppgifterna i forskningsprojektet" (issue 16 item 6).
        let mut d = full_dossier();
        d.access_and_storage = None;
        assert_eq!(d.missing(true, true, false), vec!["access_and_storage"]);
        assert!(d.missing(true, true, true).is_empty());
        // The named users give only that item: the others are still asked for.
        d.project_description = None;
        assert_eq!(d.missing(true, true, true), vec!["project_description"]);
    }

    #[test]
    fn statistics_need_only_which_data() {
        // DOMAIN.md, "Public documents and statistics": a decision, no confidentiality review of microdata.
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::statistics());
        let c = k.answer_feasibility(&c);
        let d = crate::domain::collaboration::Dossier {
            requested_data: Some(vec!["antal".into()]),
            ..Default::default()
        };
        let c = k
            .run(
                &c,
                Command::ToDataApplication {
                    cpua: k.a.clone(),
                    dossier: d,
                },
            )
            .unwrap();
        assert_eq!(c.review(&k.a).unwrap().status(), ReviewStatus::UnderReview);
    }

    #[test]
    fn research_on_a_register_without_patient_information_needs_retrospective_consent() {
        // Seed 000, "Vilka registerdata går att använda för forskning?".
        let k = Kit::new();
        let mut s = Scenario::public_research();
        s.registers = vec![2];
        let c = k.walk_to_ethics(s);
        let r = k.run(&c, k.application(&k.a)).unwrap_err();
        assert_eq!(r.rule, "patient_information_does_not_cover_research");
        assert!(r
            .source
            .as_ref()
            .is_some_and(|s| s.section == super::PATIENT_INFO));
        let c = k.run(&c, k.retrospective_consent(2)).unwrap();
        assert!(k.run(&c, k.application(&k.a)).is_ok());
    }

    #[test]
    fn a_register_with_patient_information_or_no_research_needs_no_consent() {
        let k = Kit::new();
        let c = k.walk_to_ethics(Scenario::public_research());
        assert!(k.run(&c, k.application(&k.a)).is_ok());
        let mut s = Scenario::statistics();
        s.registers = vec![2];
        let c = k.answer_feasibility(&k.walk_to_register_contact(s));
        assert!(k.run(&c, k.application(&k.a)).is_ok());
    }

    #[test]
    fn applying_without_the_register_holders_answer_is_a_warning_per_track() {
        // DOMAIN.md grades early contact with the register holder "bör"; seed 001, step 2.
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::two_cpuas());
        // Only Region A's holder answers.
        let c = k.run(&c, k.feasibility(0)).unwrap();
        let c = k
            .run_ack(
                &c,
                Command::ToEthicsReview,
                &[("feasibility_not_answered", "B answers later")],
            )
            .unwrap();
        let c = k.satisfy_up_to(&c, 4, None);
        assert!(
            k.run(&c, k.application(&k.a)).is_ok(),
            "A's register is answered"
        );
        let r = k.run(&c, k.application(&k.b)).unwrap_err();
        assert_eq!(r.rule, "warning_needs_reason");
        assert_eq!(r.warnings[0].code, "feasibility_not_answered");
        let n = k
            .run_ack(
                &c,
                k.application(&k.b),
                &[("feasibility_not_answered", "by phone")],
            )
            .unwrap();
        assert_eq!(
            n.passed_warnings.last().unwrap().command,
            "data_application"
        );
    }

    #[test]
    fn an_authority_that_is_no_cpua_of_the_case_is_refused() {
        let k = Kit::new();
        let c = k.walk_to_ethics(Scenario::public_research());
        let r = k.run(&c, k.application(&k.b)).unwrap_err();
        assert_eq!(r.rule, "not_a_cpua_of_collaboration");
    }

    #[test]
    fn the_guard_knows_which_authorities_may_still_receive_an_application() {
        let k = Kit::new();
        let kind = super::super::CommandKind::ToDataApplication;
        let c = k.walk_to_ethics(Scenario::public_research());
        // Before any application: Region A is the register's CPUA, Region B is not.
        assert!(k.guard(&c, &k.company_rep, kind, Some(&k.a)).is_ok());
        assert_eq!(
            k.guard(&c, &k.company_rep, kind, Some(&k.b))
                .unwrap_err()
                .rule,
            "not_a_cpua_of_collaboration"
        );
        assert!(k.guard(&c, &k.company_rep, kind, None).is_ok());
        // Once the tracks are open, only their CPUAs count, and a complete set is complete.
        let c = k.run(&c, k.application(&k.a)).unwrap();
        assert_eq!(
            k.guard(&c, &k.company_rep, kind, Some(&k.b))
                .unwrap_err()
                .rule,
            "not_a_cpua_of_collaboration"
        );
        assert_eq!(
            k.guard(&c, &k.company_rep, kind, None).unwrap_err().rule,
            "applications_complete"
        );
        let two = k.walk_to_ethics(Scenario::two_cpuas());
        let two = k.satisfy_up_to(&two, 4, None);
        let two = k.run(&two, k.application(&k.a)).unwrap();
        assert!(
            k.guard(&two, &k.company_rep, kind, None).is_ok(),
            "Region B still to apply to"
        );
        assert!(k.guard(&two, &k.company_rep, kind, Some(&k.b)).is_ok());
    }
}
