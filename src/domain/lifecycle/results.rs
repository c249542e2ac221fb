//! Step 8, results and publication (resultat och redovisning/publicering). Seed 001, "8. Resultat och
//! redovisning/publicering": publish as the agreement says, acknowledge the register; "Återkoppla gärna"
//! results to the register — a prompt, never a block.
use super::{not_in_future, step_is, Advice, Context, Refusal, SEED_001};
use crate::domain::collaboration::{Collaboration, Publication, ReportBack, ReviewStatus};
use crate::domain::step::Step;

const RESULTS: &str = "8. Resultat och redovisning/publicering";

pub(super) fn guard_record(c: &Collaboration) -> Result<(), Refusal> {
    step_is(
        c,
        &[Step::DataRelease, Step::Results],
        crate::msg!("what.results"),
    )?;
    if !c.any_released() {
        return Err(Refusal::precondition(crate::msg!("nothing_released")));
    }
    Ok(())
}

/// Results follow once every approving CPUA has released.
pub(super) fn guard(c: &Collaboration) -> Result<(), Refusal> {
    step_is(c, &[Step::DataRelease], crate::msg!("what.to_results"))?;
    let waiting: Vec<String> = c
        .cpua_reviews
        .iter()
        .filter(|r| r.status() == ReviewStatus::Approved)
        .map(|r| format!("release by {}", r.cpua_name))
        .collect();
    if !waiting.is_empty() {
        return Err(Refusal::precondition(crate::msg!("releases_pending")).missing(waiting));
    }
    Ok(())
}

pub(super) fn apply_publication(
    n: &mut Collaboration,
    p: Publication,
    ctx: &Context,
) -> Result<(), Refusal> {
    not_in_future("published_on", p.published_on, ctx.today)?;
    n.publications.push(p);
    Ok(())
}

pub(super) fn apply_report_back(
    n: &mut Collaboration,
    r: ReportBack,
    ctx: &Context,
) -> Result<(), Refusal> {
    not_in_future("reported_on", r.reported_on, ctx.today)?;
    n.report_back = Some(r);
    Ok(())
}

/// "Återkoppla gärna resultat av studien till registret": a prompt before archiving when nothing was
/// reported back.
pub(super) fn prompts(c: &Collaboration) -> Vec<Advice> {
    if c.report_back.is_some() {
        return vec![];
    }
    vec![Advice::garna(
        "report_back_welcome",
        "Återkoppla gärna resultaten av studien till registret, till exempel för att visa patientnytta.",
        "Reporting the study's results back to the register is welcome, for example to show the benefit to patients.",
        SEED_001,
        RESULTS,
    )]
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{prompts, Command, CommandKind};
    use crate::domain::collaboration::{Publication, ReportBack};
    use crate::domain::step::Step;

    #[test]
    fn a_publication_is_recorded_with_a_date_that_has_come() {
        // Seed 001, "8. Resultat": the publication of the results is recorded on the case.
        let k = Kit::new();
        let c = k.walk_to_released(Scenario::public_research());
        let c = k.run(&c, Command::ToResults).unwrap();
        let publication = |d| {
            Command::RecordPublication(Publication {
                title: "Långtidsutfall".into(),
                journal: "Läkartidningen".into(),
                doi: None,
                published_on: d,
            })
        };
        let tomorrow = k.today().succ_opt().unwrap();
        let r = k.run(&c, publication(tomorrow)).unwrap_err();
        assert_eq!(r.rule, "date_in_future");
        assert_eq!(r.field.as_deref(), Some("published_on"));
        let c = k.run(&c, publication(k.today())).unwrap();
        assert_eq!(c.publications.len(), 1);
        assert_eq!(c.publications[0].published_on, k.today());
    }

    #[test]
    fn reporting_back_is_welcome_but_never_blocks_archiving() {
        // Seed 001, "8. Resultat …": "Återkoppla gärna".
        let k = Kit::new();
        let c = k.walk_to_released(Scenario::public_research());
        let c = k.run(&c, Command::ToResults).unwrap();
        assert_eq!(
            prompts(&c, CommandKind::ToArchiving)[0].code,
            "report_back_welcome"
        );
        let archived = k.run(&c, Command::ToArchiving).unwrap();
        assert_eq!(archived.step, Step::Archiving);
        let reported = k
            .run(
                &c,
                Command::RecordReportBack(ReportBack {
                    reported_on: k.today(),
                    summary: "S".into(),
                }),
            )
            .unwrap();
        assert!(prompts(&reported, CommandKind::ToArchiving).is_empty());
    }

    #[test]
    fn results_wait_for_every_approving_cpua_to_release() {
        let k = Kit::new();
        let c = k.walk_to_agreement_recorded(Scenario::two_cpuas());
        let c = k.release(&c, &k.a);
        let r = k.run(&c, Command::ToResults).unwrap_err();
        assert_eq!(r.rule, "releases_pending");
        assert_eq!(r.missing.len(), 1);
        let c = k.release(&c, &k.b);
        assert!(k.run(&c, Command::ToResults).is_ok());
    }

    #[test]
    fn results_are_recorded_only_after_a_release() {
        let k = Kit::new();
        let c = k.walk_to_agreement_recorded(Scenario::public_research());
        let r = k
            .run(
                &c,
                Command::RecordReportBack(ReportBack {
                    reported_on: k.today(),
                    summary: "S".into(),
                }),
            )
            .unwrap_err();
        assert_eq!(r.rule, "nothing_released");
    }
}
