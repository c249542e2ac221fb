//! The end of the usage period (användningsperiodens slut, issue 16 item 7): when every approval that
//! released data set a last day of use and the last of those days has come, the case moves to step 9
//! by itself. Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": "data får endast
//! användas så länge det behövs för detta ändamål"; seed 001, "9. Arkivering och radering av kopior"
//! is the step that follows the use.
//!
//! The command is the system's own: no person may issue it (the API does not parse it and no role is
//! given it), the scheduler runs it on the day. Product choices, where the seeds are silent:
//! - With several CPUAs the case moves when the **last** usage period has ended, and only when every
//!   approval that released data set one: data from one register still in use keeps the case in use.
//! - An approved track that has not released yet, or an open amendment (a new use under review), keeps
//!   the case where it is; the CPUA's legal team has the "usage period ended" reminder of that day.
use chrono::NaiveDate;

use super::{step_is, Refusal, SEED_000};
use crate::domain::collaboration::Collaboration;
use crate::domain::step::Step;

/// The last day of use of the case's data: the latest `use_until` of the approvals, when every
/// approval that released data set one; `None` when any approval has none, or nothing was released.
pub fn last_day_of_use(c: &Collaboration) -> Option<NaiveDate> {
    let approved: Vec<_> = c
        .cpua_reviews
        .iter()
        .filter_map(|r| r.decision.as_ref().map(|d| (r, d)))
        .filter(|(_, d)| d.outcome.releases_data())
        .collect();
    if approved.is_empty() || approved.iter().any(|(r, _)| r.release.is_none()) {
        return None;
    }
    approved
        .iter()
        .map(|(_, d)| d.use_until)
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .max()
}

/// Whether the case's usage period is over on `today` and it may move to step 9 now.
pub fn is_over(c: &Collaboration, today: NaiveDate) -> bool {
    guard(c, today).is_ok()
}

pub(super) fn guard(c: &Collaboration, today: NaiveDate) -> Result<(), Refusal> {
    let src = |r: Refusal| {
        r.source(
            SEED_000,
            "Hantering vid utlämnandet av kvalitetsregisterdata",
        )
    };
    step_is(
        c,
        &[Step::DataRelease, Step::Results],
        crate::msg!("what.usage_period_end"),
    )?;
    if c.open_amendment().is_some() {
        return Err(Refusal::precondition(crate::msg!(
            "amendment_open.still_open"
        )));
    }
    let Some(last) = last_day_of_use(c) else {
        return Err(src(Refusal::precondition(crate::msg!(
            "usage_period_not_set"
        ))
        .missing(["use_until"])));
    };
    if today < last {
        return Err(src(Refusal::precondition(crate::msg!(
            "usage_period_not_over",
            date = last
        ))));
    }
    Ok(())
}

pub(super) fn apply(n: &mut Collaboration) {
    n.step = Step::Archiving;
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::Command;
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Released by every approving CPUA, each approval's last day of use set as given (in order).
    fn released_until(k: &Kit, s: Scenario, ends: &[Option<NaiveDate>]) -> Collaboration {
        let mut c = k.walk_to_released(s);
        for (r, end) in c.cpua_reviews.iter_mut().zip(ends) {
            r.decision.as_mut().expect("decided").use_until = *end;
        }
        c
    }

    #[test]
    fn on_the_last_day_of_use_the_case_moves_to_archiving_and_not_a_day_before() {
        let k = Kit::new();
        let end = k.today() + chrono::Days::new(10);
        let c = released_until(&k, Scenario::public_research(), &[Some(end)]);
        assert_eq!(c.step, Step::DataRelease);
        assert_eq!(last_day_of_use(&c), Some(end));
        let before = k.later(9);
        assert!(!is_over(&c, before.today()));
        let r = before.run(&c, Command::EndUsagePeriod).unwrap_err();
        assert_eq!(r.rule, "usage_period_not_over");
        let on = k.later(10);
        assert!(is_over(&c, on.today()));
        assert_eq!(
            on.run(&c, Command::EndUsagePeriod).unwrap().step,
            Step::Archiving
        );
        // From step 8 as well.
        let results = k.run(&c, Command::ToResults).unwrap();
        assert_eq!(
            on.run(&results, Command::EndUsagePeriod).unwrap().step,
            Step::Archiving
        );
    }

    #[test]
    fn with_two_cpuas_the_last_usage_period_decides_and_every_approval_must_set_one() {
        let k = Kit::new();
        let (early, late) = (day(2026, 10, 1), day(2026, 12, 1));
        let c = released_until(&k, Scenario::two_cpuas(), &[Some(early), Some(late)]);
        assert_eq!(c.cpua_reviews.len(), 2);
        assert_eq!(last_day_of_use(&c), Some(late));
        assert!(!is_over(&c, day(2026, 11, 30)));
        assert!(is_over(&c, late));
        // One approval without a last day of use: the data may be used on, nothing moves by itself.
        let open = released_until(&k, Scenario::two_cpuas(), &[Some(early), None]);
        assert_eq!(last_day_of_use(&open), None);
        let r = k
            .later(365)
            .run(&open, Command::EndUsagePeriod)
            .unwrap_err();
        assert_eq!(r.rule, "usage_period_not_set");
        assert_eq!(r.missing, vec!["use_until".to_string()]);
    }

    #[test]
    fn an_approved_track_not_yet_released_or_an_open_amendment_keeps_the_case_in_use() {
        let k = Kit::new();
        let end = day(2026, 10, 1);
        let mut c = released_until(&k, Scenario::two_cpuas(), &[Some(end), Some(end)]);
        let mut unreleased = c.clone();
        unreleased.cpua_reviews[1].release = None;
        assert_eq!(last_day_of_use(&unreleased), None);
        assert!(!is_over(&unreleased, day(2027, 1, 1)));
        c = k.run(&c, k.open_amendment()).unwrap();
        let r = k.later(60).run(&c, Command::EndUsagePeriod).unwrap_err();
        assert_eq!(r.rule, "amendment_open");
    }

    #[test]
    fn only_a_released_case_in_use_can_reach_the_end_of_its_usage_period() {
        let k = Kit::new();
        let decided = k.walk_to_decided(Scenario::public_research());
        let r = k
            .later(400)
            .run(&decided, Command::EndUsagePeriod)
            .unwrap_err();
        assert_eq!(r.rule, "wrong_step");
        let c = released_until(&k, Scenario::public_research(), &[Some(k.today())]);
        let archived = k.run(&c, Command::EndUsagePeriod).unwrap();
        let r = k.run(&archived, Command::EndUsagePeriod).unwrap_err();
        assert_eq!(r.rule, "wrong_step");
    }
}
