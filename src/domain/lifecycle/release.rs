//! Step 7, the release of data by each CPUA (utlämnande av data). Seed 001, "7. Utlämnande av data": by the
//! CPUA's own procedure, after the agreement; seed 000, "Hur och vilka data lämnas ut?": encrypted transfer,
//! the password sent separately, and the key file kept about three months unless the ethics approval covers
//! longer. The obligations gating step 7 (the reservation in the agreement, the cost agreement, the PUB
//! agreement, the linkage decisions, the third-country assessment) are checked by the generic gate.
use chrono::{Months, NaiveDate};

use super::{not_in_future, step_is, Context, Refusal, ReleaseInput, SEED_000};
use crate::domain::collaboration::{Collaboration, Release, ReviewStatus};
use crate::domain::ids::OrgId;
use crate::domain::step::Step;

const HOW: &str = "Hur och vilka data lämnas ut?";

pub(super) fn guard(c: &Collaboration, track: Option<&OrgId>) -> Result<(), Refusal> {
    if matches!(
        c.step,
        Step::DataApplication | Step::ReleaseDecision | Step::Agreement
    ) {
        return Err(Refusal::precondition(crate::msg!("agreement_required"))
            .source(SEED_000, "Forskningssamarbete med industrin")
            .missing(["agreement"]));
    }
    step_is(c, &[Step::DataRelease], crate::msg!("what.data_release"))?;
    let ready =
        |r: &&crate::domain::collaboration::CpuaReview| r.status() == ReviewStatus::Approved;
    match track.map(|o| c.review(o)) {
        Some(Some(r)) if ready(&r) => Ok(()),
        Some(Some(r)) => Err(Refusal::precondition(crate::msg!(
            "not_releasable.review",
            cpua_name = &r.cpua_name,
            status = r.status().code()
        ))),
        Some(None) => Err(Refusal::invalid(
            "cpua",
            crate::msg!("not_a_cpua_of_collaboration.no_application"),
        )),
        None if c.cpua_reviews.iter().any(|r| ready(&r)) => Ok(()),
        None => Err(Refusal::precondition(crate::msg!("not_releasable"))),
    }
}

/// The key file is normally kept about three months (seed 000, "Hur och vilka data lämnas ut?").
pub fn default_key_deletion(released_on: NaiveDate) -> NaiveDate {
    released_on
        .checked_add_months(Months::new(3))
        .unwrap_or(released_on)
}

/// Validates a release after the decision `decided_on`.
pub(super) fn validate(
    r: ReleaseInput,
    decided_on: Option<NaiveDate>,
    c: &Collaboration,
    ctx: &Context,
) -> Result<Release, Refusal> {
    not_in_future("released_on", r.released_on, ctx.today)?;
    if let Some(decided) = decided_on.filter(|d| r.released_on < *d) {
        return Err(Refusal::invalid(
            "released_on",
            crate::msg!("release_before_decision", decided = decided),
        ));
    }
    if !r.password_sent_separately {
        return Err(Refusal::invalid(
            "password_sent_separately",
            crate::msg!("password_separately"),
        )
        .source(SEED_000, HOW));
    }
    let default = default_key_deletion(r.released_on);
    let key_deletion_on = r.key_deletion_on.unwrap_or(default);
    if key_deletion_on < r.released_on {
        return Err(Refusal::invalid(
            "key_deletion_on",
            crate::msg!("key_deletion_before_release"),
        ));
    }
    let extended = key_deletion_on > default;
    if extended {
        // Longer retention must be ethics-approved and stated in the application to the CPUA.
        if r.extended_retention_justification.is_none() {
            return Err(Refusal::invalid(
                "extended_retention_justification",
                crate::msg!("extended_retention_needs_justification", default = default),
            )
            .source(SEED_000, HOW));
        }
        let covered = c
            .ethics
            .as_ref()
            .and_then(|e| e.key_retention_months)
            .and_then(|m| r.released_on.checked_add_months(Months::new(m)))
            .is_some_and(|limit| key_deletion_on <= limit);
        if !covered {
            return Err(Refusal::invalid(
                "key_deletion_on",
                crate::msg!("extended_retention_needs_ethics_approval"),
            )
            .source(SEED_000, HOW));
        }
    }
    Ok(Release {
        released_on: r.released_on,
        transfer_method: r.transfer_method.code().to_string(),
        key_deletion_on,
        extended_retention_justification: if extended {
            r.extended_retention_justification
        } else {
            None
        },
        recorded_by: ctx.actor.account.clone(),
        key_deleted_on: None,
    })
}

pub(super) fn apply(
    n: &mut Collaboration,
    cpua: &OrgId,
    r: ReleaseInput,
    ctx: &Context,
) -> Result<(), Refusal> {
    let decided = n
        .review(cpua)
        .and_then(|rv| rv.decision.as_ref())
        .map(|d| d.decided_at.date_naive());
    let release = validate(r, decided, n, ctx)?;
    if let Some(rev) = n.review_mut(cpua) {
        rev.release = Some(release);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::Command;
    use crate::domain::step::Step;

    #[test]
    fn the_key_is_kept_three_months_unless_the_ethics_approval_covers_longer() {
        // Seed 000, "Hur och vilka data lämnas ut?".
        let k = Kit::new();
        let c = k.walk_to_agreement_recorded(Scenario::public_research());
        let n = k
            .run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: k.release_input(),
                },
            )
            .unwrap();
        let r = n.review(&k.a).unwrap().release.as_ref().unwrap();
        assert_eq!(r.key_deletion_on, super::default_key_deletion(k.today()));
        let mut long = k.release_input();
        long.key_deletion_on = k.today().checked_add_months(chrono::Months::new(6));
        let r = k
            .run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: long.clone(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "extended_retention_needs_justification");
        long.extended_retention_justification = Some("follow-up".into());
        let r = k
            .run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: long.clone(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "extended_retention_needs_ethics_approval");
        let mut covered = c.clone();
        covered.ethics.as_mut().unwrap().key_retention_months = Some(6);
        assert!(k
            .run(
                &covered,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: long.clone()
                }
            )
            .is_ok());
        long.key_deletion_on = k.today().checked_add_months(chrono::Months::new(7));
        assert!(k
            .run(
                &covered,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: long
                }
            )
            .is_err());
        // Exactly three months needs nothing more.
        let mut three = k.release_input();
        three.key_deletion_on = Some(super::default_key_deletion(k.today()));
        assert!(k
            .run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: three
                }
            )
            .is_ok());
    }

    #[test]
    fn the_password_is_sent_separately_and_release_follows_the_decision() {
        let k = Kit::new();
        let c = k.walk_to_agreement_recorded(Scenario::public_research());
        let mut r = k.release_input();
        r.password_sent_separately = false;
        assert_eq!(
            k.run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: r
                }
            )
            .unwrap_err()
            .rule,
            "password_separately"
        );
        let mut r = k.release_input();
        r.released_on = k.today().pred_opt().unwrap();
        assert_eq!(
            k.run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: r
                }
            )
            .unwrap_err()
            .rule,
            "release_before_decision"
        );
        let mut r = k.release_input();
        r.key_deletion_on = k.today().pred_opt();
        assert_eq!(
            k.run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: r
                }
            )
            .unwrap_err()
            .rule,
            "key_deletion_before_release"
        );
    }

    #[test]
    fn no_release_before_the_agreement_and_only_by_an_approving_cpua() {
        let k = Kit::new();
        let c = k.walk_to_decided(Scenario::public_research());
        let r = k
            .run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: k.release_input(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "agreement_required");
        let c = k.walk_to_agreement_recorded(Scenario::public_research());
        let n = k
            .run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: k.release_input(),
                },
            )
            .unwrap();
        let r = k
            .run(
                &n,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: k.release_input(),
                },
            )
            .unwrap_err();
        assert_eq!(r.rule, "not_releasable");
        assert_eq!(n.step, Step::DataRelease);
    }

    #[test]
    fn a_statistics_decision_releases_without_an_agreement() {
        // DOMAIN.md, "Public documents and statistics": a decision, no research agreement.
        let k = Kit::new();
        let c = k.walk_to_decided(Scenario::statistics());
        assert!(k
            .run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: k.release_input()
                }
            )
            .is_ok());
    }

    #[test]
    fn the_release_guard_without_a_named_track_asks_for_any_approved_cpua() {
        let k = Kit::new();
        let kind = super::super::CommandKind::ToDataRelease;
        let c = k.walk_to_agreement_recorded(Scenario::public_research());
        assert!(k.guard(&c, &k.legal_a, kind, None).is_ok());
        let n = k.release(&c, &k.a);
        assert_eq!(
            k.guard(&n, &k.legal_a, kind, None).unwrap_err().rule,
            "not_releasable"
        );
    }

    #[test]
    fn the_key_may_be_deleted_on_the_release_day_but_not_before() {
        let k = Kit::new();
        let c = k.walk_to_agreement_recorded(Scenario::public_research());
        let mut same_day = k.release_input();
        same_day.key_deletion_on = Some(k.today());
        assert!(k
            .run(
                &c,
                Command::ToDataRelease {
                    cpua: k.a.clone(),
                    release: same_day
                }
            )
            .is_ok());
    }
}
