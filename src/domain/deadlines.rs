//! Deadlines (frister) as rules: which deadlines a case has open, when each is due, and its reminders
//! (when and to whom). No I/O: `app::deadlines` writes the reminders to the outbox, and
//! `db::repo` keeps the deadline projection from [`projection`] in the transaction of the command that
//! opens or closes a deadline. Every deadline here is a reminder, never a block: none of them is a
//! "ska" that a command could be refused for.
//!
//! - **Release decision** (`release_decision`): due 30 days after the complete application (seed 001,
//!   "5. Beslut om utlämnande": "Beslut om utlämnande av data bör ges inom 30 dagar"). A "bör": to the
//!   CPUA's legal team a week before, and on the day it becomes overdue.
//! - **Key file** (`key_file_deletion`): the key is kept about three months after the release (seed 000,
//!   "Hur och vilka data lämnas ut?": check your data, "efter att nyckelfilen raderats så går det inte
//!   att göra några ändringar eller tillägg"). To the parties two weeks before the deletion, to the
//!   CPUA's legal team on the day; open until the CPUA records the key file deleted.
//! - **Usage period end** (`usage_period_end`): when the release decision sets the day the data may be
//!   used until (`use_until`). Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": "data får
//!   endast användas så länge det behövs för detta ändamål". To the recipient parties 30 days before
//!   the end and to the CPUA's legal team on the day; closes when the case moves to archiving (step 9).
//! - **Disposal confirmation** (`disposal_confirmation`): seed 001, "9. Arkivering och radering av
//!   kopior" names the step but sets no time, and neither does any other seed. The time is the signed
//!   agreement's: copies are deleted within `archiving.delete_within_days` days after the end of its
//!   term (`term.end`), and the party named there confirms in writing to the CPUA. To the parties two
//!   weeks before and when overdue, to the CPUA's legal team when overdue; closes when the disposal is
//!   confirmed (`confirm_disposal`). Without both dates in the signed agreement there is no such
//!   deadline.
use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::collaboration::Collaboration;
use super::ids::OrgId;
use super::lifecycle::{SEED_000, SEED_001};
use super::role::Role;
use super::step::Step;

pub const RELEASE_DECISION: &str = "release_decision";
pub const KEY_FILE_DELETION: &str = "key_file_deletion";
pub const USAGE_PERIOD_END: &str = "usage_period_end";
pub const DISPOSAL_CONFIRMATION: &str = "disposal_confirmation";
/// Issue 16: the parties' answer to a completion request (komplettering), due on the request's day.
pub const COMPLETION_ANSWER: &str = "completion_answer";
/// Days before a completion answer is due the parties are reminded (a product choice; the seeds set
/// no time for a completion).
pub const COMPLETION_NOTICE_DAYS: u64 = 3;

/// Days before the end of the usage period the recipients are reminded (a product choice: the seeds
/// set no lead time; a month leaves room to archive or delete the copies).
pub const USAGE_END_NOTICE_DAYS: u64 = 30;
/// Days before the disposal confirmation is due the parties are reminded (as for the key file).
pub const DISPOSAL_NOTICE_DAYS: u64 = 14;

/// A deadline still ahead or overdue in a case (frist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PendingDeadline {
    /// `release_decision`, `key_file_deletion`, `usage_period_end` or `disposal_confirmation`.
    pub code: &'static str,
    /// The event it counts from: `application_completed`, `data_released`, `release_decided` (the
    /// decision that set the usage period) or `agreement_term_ended`.
    pub counts_from: &'static str,
    /// The CPUA whose track it is.
    pub cpua: String,
    pub cpua_name: String,
    pub due_on: NaiveDate,
    pub overdue: bool,
    /// The seed file and section of the rule.
    pub source_file: &'static str,
    pub source_section: &'static str,
}

/// One reminder of a deadline: when it is due and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// The mail template and the event code in the log.
    pub template: &'static str,
    pub on: NaiveDate,
    /// Until when it is still worth sending (inclusive); `None`: while the deadline is open.
    pub until: Option<NaiveDate>,
    pub to: Vec<(OrgId, Role)>,
}

/// One row of the deadline projection: an open deadline and the day its first reminder falls on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectedDeadline {
    pub code: &'static str,
    /// The CPUA whose track it is.
    pub track: String,
    pub due_on: NaiveDate,
    pub first_reminder_on: NaiveDate,
}

pub fn add(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(d)
}

pub fn sub(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(n)).unwrap_or(d)
}

/// The open deadlines of a case on `today`.
pub fn pending(c: &Collaboration, today: NaiveDate) -> Vec<PendingDeadline> {
    if c.step.is_terminal() {
        return vec![];
    }
    let disposal_due = c
        .agreement
        .as_ref()
        .and_then(|a| a.disposal_due_on())
        .filter(|_| c.disposal.is_none());
    let mut out = Vec::new();
    for r in &c.cpua_reviews {
        let mut push = |code, counts_from, due_on: NaiveDate, file, section| {
            out.push(PendingDeadline {
                code,
                counts_from,
                cpua: r.cpua.to_string(),
                cpua_name: r.cpua_name.clone(),
                due_on,
                overdue: today > due_on,
                source_file: file,
                source_section: section,
            })
        };
        if let (Some(due), None, Some(_)) =
            (r.decision_due_on, &r.decision, r.application_complete_at)
        {
            push(
                RELEASE_DECISION,
                "application_completed",
                due,
                SEED_001,
                "5. Beslut om utlämnande",
            );
        }
        // Issue 16: open while the application is returned for completion.
        if let Some(h) = &r.completion {
            push(
                COMPLETION_ANSWER,
                "completion_requested",
                h.due_on,
                SEED_001,
                "5. Beslut om utlämnande",
            );
        }
        // Open until the CPUA records the key file deleted.
        if let Some(rel) = r.release.as_ref().filter(|x| x.key_deleted_on.is_none()) {
            push(
                KEY_FILE_DELETION,
                "data_released",
                rel.key_deletion_on,
                SEED_000,
                "Hur och vilka data lämnas ut?",
            );
        }
        // Open from an approval that sets the period until the case reaches archiving.
        if let Some(end) = r
            .decision
            .as_ref()
            .filter(|d| d.outcome.releases_data())
            .and_then(|d| d.use_until)
            .filter(|_| c.step != Step::Archiving)
        {
            push(
                USAGE_PERIOD_END,
                "release_decided",
                end,
                SEED_000,
                "Hantering vid utlämnandet av kvalitetsregisterdata",
            );
        }
        // For each CPUA that released: the recipient confirms the disposal to it.
        if let Some(due) = disposal_due.filter(|_| r.release.is_some()) {
            push(
                DISPOSAL_CONFIRMATION,
                "agreement_term_ended",
                due,
                SEED_001,
                "9. Arkivering och radering av kopior",
            );
        }
    }
    out
}

/// The parties that receive the data and confirm their disposal: the company and the principal.
fn parties(c: &Collaboration) -> Vec<(OrgId, Role)> {
    let mut parties = vec![(c.company.clone(), Role::CompanyRepresentative)];
    if let Some(p) = &c.research_principal {
        parties.push((p.clone(), Role::ResearchPrincipalRepresentative));
    }
    parties
}

/// The reminders of a deadline.
pub fn reminders(c: &Collaboration, d: &PendingDeadline) -> Vec<Reminder> {
    let legal = vec![(OrgId::from_db(d.cpua.clone()), Role::CpuaLegal)];
    match d.code {
        RELEASE_DECISION => vec![
            Reminder {
                template: "decision_due_soon",
                on: sub(d.due_on, 7),
                until: Some(d.due_on),
                to: legal.clone(),
            },
            Reminder {
                template: "decision_overdue",
                on: add(d.due_on, 1),
                until: None,
                to: legal,
            },
        ],
        KEY_FILE_DELETION => vec![
            Reminder {
                template: "key_file_deletion_soon",
                on: sub(d.due_on, 14),
                until: Some(sub(d.due_on, 1)),
                to: parties(c),
            },
            Reminder {
                template: "key_file_deletion_due",
                on: d.due_on,
                until: None,
                to: legal,
            },
        ],
        USAGE_PERIOD_END => vec![
            Reminder {
                template: "usage_period_end_soon",
                on: sub(d.due_on, USAGE_END_NOTICE_DAYS),
                until: Some(sub(d.due_on, 1)),
                to: parties(c),
            },
            Reminder {
                template: "usage_period_end_due",
                on: d.due_on,
                until: None,
                to: legal,
            },
        ],
        COMPLETION_ANSWER => vec![Reminder {
            template: "completion_due_soon",
            on: sub(d.due_on, COMPLETION_NOTICE_DAYS),
            until: Some(d.due_on),
            to: parties(c),
        }],
        DISPOSAL_CONFIRMATION => {
            let mut overdue = parties(c);
            overdue.extend(legal);
            vec![
                Reminder {
                    template: "disposal_due_soon",
                    on: sub(d.due_on, DISPOSAL_NOTICE_DAYS),
                    until: Some(d.due_on),
                    to: parties(c),
                },
                Reminder {
                    template: "disposal_overdue",
                    on: add(d.due_on, 1),
                    until: None,
                    to: overdue,
                },
            ]
        }
        _ => vec![],
    }
}

/// The rows of the deadline projection: every open deadline with the day its first reminder falls on.
pub fn projection(c: &Collaboration) -> Vec<ProjectedDeadline> {
    pending(c, NaiveDate::MIN)
        .into_iter()
        .map(|d| ProjectedDeadline {
            first_reminder_on: reminders(c, &d)
                .iter()
                .map(|r| r.on)
                .min()
                .unwrap_or(d.due_on),
            code: d.code,
            track: d.cpua,
            due_on: d.due_on,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::collaboration::DecisionOutcome;
    use crate::domain::lifecycle::testkit::{Kit, Scenario};
    use crate::domain::lifecycle::{Command, DecisionInput};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn find<'a>(c: &'a [PendingDeadline], code: &str) -> Option<&'a PendingDeadline> {
        c.iter().find(|d| d.code == code)
    }

    /// Applied to Region A, approved with a usage period ending on `end`.
    fn approved_until(k: &Kit, end: NaiveDate) -> Collaboration {
        let c = k.walk_to_applied(Scenario::public_research());
        let c = k.satisfy_up_to(&c, 5, None);
        let d = DecisionInput {
            use_until: Some(end),
            ..DecisionInput::approval()
        };
        k.run(&c, k.decide(&k.a, d)).unwrap()
    }

    /// Released by Region A under an agreement whose term ends on `end` with copies deleted within
    /// `days` days.
    fn released_under(k: &Kit, end: Option<NaiveDate>, days: Option<u32>) -> Collaboration {
        let c = k.walk_to_decided(Scenario::public_research());
        let c = k.satisfy_up_to(&c, 6, None);
        let mut v = k.version_for(&c, 1);
        v.term_end = end;
        v.delete_within_days = days;
        let kv = k.with_version(v.clone());
        let c = kv
            .run(
                &c,
                Command::ToAgreement {
                    version: 1,
                    digest: v.digest,
                    signed_on: k.today(),
                },
            )
            .unwrap();
        let c = k.satisfy_up_to(&c, 7, None);
        k.release(&c, &k.a)
    }

    #[test]
    fn the_release_decision_is_due_in_30_days_and_its_first_reminder_is_a_week_before() {
        // Seed 001, "5. Beslut om utlämnande": "bör ges inom 30 dagar".
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let p = projection(&c);
        let d = p.iter().find(|d| d.code == RELEASE_DECISION).unwrap();
        assert_eq!(d.due_on, day(2026, 10, 1));
        assert_eq!(d.first_reminder_on, day(2026, 9, 24));
        assert_eq!(d.track, k.a.to_string());
    }

    #[test]
    fn the_usage_period_end_reminds_the_recipients_a_month_before_and_the_cpua_on_the_day() {
        // Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": data may be used only as long
        // as needed; the decision sets the last day.
        let k = Kit::new();
        let end = day(2027, 9, 1);
        let c = approved_until(&k, end);
        let pend = pending(&c, k.today());
        let d = find(&pend, USAGE_PERIOD_END).expect("usage end open");
        assert_eq!(d.due_on, end);
        assert_eq!(d.counts_from, "release_decided");
        assert_eq!(d.cpua, k.a.to_string());
        assert_eq!(
            (d.source_file, d.source_section),
            (
                SEED_000,
                "Hantering vid utlämnandet av kvalitetsregisterdata"
            )
        );
        assert!(!d.overdue);
        let r = reminders(&c, d);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].template, "usage_period_end_soon");
        assert_eq!(r[0].on, day(2027, 8, 2));
        assert_eq!(r[0].until, Some(day(2027, 8, 31)));
        let principal = c.research_principal.clone().unwrap();
        assert_eq!(
            r[0].to,
            vec![
                (k.company.clone(), Role::CompanyRepresentative),
                (principal, Role::ResearchPrincipalRepresentative)
            ]
        );
        assert_eq!(r[1].template, "usage_period_end_due");
        assert_eq!((r[1].on, r[1].until), (end, None));
        assert_eq!(r[1].to, vec![(k.a.clone(), Role::CpuaLegal)]);
        let p = projection(&c);
        let row = p.iter().find(|d| d.code == USAGE_PERIOD_END).unwrap();
        assert_eq!(row.first_reminder_on, day(2027, 8, 2));
    }

    #[test]
    fn the_usage_period_end_closes_when_the_case_moves_to_archiving() {
        let k = Kit::new();
        let c = approved_until(&k, day(2027, 9, 1));
        let c = k.satisfy_up_to(&c, 6, None);
        let v = k.version_for(&c, 1);
        let c = k
            .with_version(v.clone())
            .run(
                &c,
                Command::ToAgreement {
                    version: 1,
                    digest: v.digest,
                    signed_on: k.today(),
                },
            )
            .unwrap();
        let c = k.satisfy_up_to(&c, 7, None);
        let c = k.release(&c, &k.a);
        let c = k.run(&c, Command::ToResults).unwrap();
        assert!(find(&pending(&c, k.today()), USAGE_PERIOD_END).is_some());
        let c = k.run(&c, Command::ToArchiving).unwrap();
        assert!(find(&pending(&c, k.today()), USAGE_PERIOD_END).is_none());
        assert!(!projection(&c).iter().any(|d| d.code == USAGE_PERIOD_END));
    }

    #[test]
    fn only_an_approval_sets_a_usage_period_and_it_ends_after_today() {
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let c = k.satisfy_up_to(&c, 5, None);
        let refusal = DecisionInput {
            outcome: DecisionOutcome::Refused,
            reasons: Some("Men för enskilda.".into()),
            grounds: vec![crate::domain::collaboration::RefusalGround::HarmToIndividual],
            findings: None,
            use_until: Some(day(2027, 9, 1)),
            ..DecisionInput::approval()
        };
        let r = k.run(&c, k.decide(&k.a, refusal)).unwrap_err();
        assert_eq!(r.rule, "use_until_without_approval");
        let today = DecisionInput {
            use_until: Some(k.today()),
            ..DecisionInput::approval()
        };
        let r = k.run(&c, k.decide(&k.a, today)).unwrap_err();
        assert_eq!(r.rule, "use_until_not_after_today");
        // Without one there is no usage-end deadline.
        let c = k
            .run(&c, k.decide(&k.a, DecisionInput::approval()))
            .unwrap();
        assert!(find(&pending(&c, k.today()), USAGE_PERIOD_END).is_none());
    }

    #[test]
    fn the_disposal_is_due_the_agreed_days_after_the_term_and_reminds_parties_then_the_cpua() {
        // Seed 001, "9. Arkivering och radering av kopior" sets no time; the agreement's archiving
        // clause does: within 30 days after the term's end.
        let k = Kit::new();
        let c = released_under(&k, Some(day(2027, 12, 31)), Some(30));
        let pend = pending(&c, day(2028, 1, 31));
        let d = find(&pend, DISPOSAL_CONFIRMATION).expect("disposal open");
        assert_eq!(d.due_on, day(2028, 1, 30));
        assert!(d.overdue);
        assert_eq!(d.counts_from, "agreement_term_ended");
        assert_eq!(
            (d.source_file, d.source_section),
            (SEED_001, "9. Arkivering och radering av kopior")
        );
        let r = reminders(&c, d);
        let principal = c.research_principal.clone().unwrap();
        let parties = vec![
            (k.company.clone(), Role::CompanyRepresentative),
            (principal, Role::ResearchPrincipalRepresentative),
        ];
        assert_eq!(r[0].template, "disposal_due_soon");
        assert_eq!(
            (r[0].on, r[0].until),
            (day(2028, 1, 16), Some(day(2028, 1, 30)))
        );
        assert_eq!(r[0].to, parties);
        assert_eq!(r[1].template, "disposal_overdue");
        assert_eq!((r[1].on, r[1].until), (day(2028, 1, 31), None));
        let mut overdue = parties.clone();
        overdue.push((k.a.clone(), Role::CpuaLegal));
        assert_eq!(r[1].to, overdue);
        let row = projection(&c)
            .into_iter()
            .find(|d| d.code == DISPOSAL_CONFIRMATION)
            .unwrap();
        assert_eq!(row.first_reminder_on, day(2028, 1, 16));
    }

    #[test]
    fn the_disposal_deadline_closes_when_the_disposal_is_confirmed() {
        let k = Kit::new();
        let c = released_under(&k, Some(day(2027, 12, 31)), Some(30));
        let c = k.run(&c, Command::ToResults).unwrap();
        let c = k.run(&c, Command::ToArchiving).unwrap();
        assert!(find(&pending(&c, k.today()), DISPOSAL_CONFIRMATION).is_some());
        let c = k.run(&c, Command::ConfirmDisposal(k.disposal())).unwrap();
        assert!(find(&pending(&c, k.today()), DISPOSAL_CONFIRMATION).is_none());
        assert!(!projection(&c)
            .iter()
            .any(|d| d.code == DISPOSAL_CONFIRMATION));
    }

    #[test]
    fn without_both_dates_in_the_agreement_there_is_no_disposal_deadline() {
        let k = Kit::new();
        for (end, days) in [(None, Some(30)), (Some(day(2027, 12, 31)), None)] {
            let c = released_under(&k, end, days);
            assert!(find(&pending(&c, k.today()), DISPOSAL_CONFIRMATION).is_none());
        }
    }

    #[test]
    fn the_key_file_deadline_leaves_the_projection_when_the_deletion_is_recorded_and_a_closed_case_has_none(
    ) {
        // Seed 000, "Hur och vilka data lämnas ut?".
        let k = Kit::new();
        let c = released_under(&k, None, None);
        let key = projection(&c)
            .into_iter()
            .find(|d| d.code == KEY_FILE_DELETION)
            .expect("key file open");
        assert_eq!(key.first_reminder_on, sub(key.due_on, 14));
        let mut deleted = c.clone();
        deleted.cpua_reviews[0]
            .release
            .as_mut()
            .unwrap()
            .key_deleted_on = Some(key.due_on);
        assert!(!projection(&deleted)
            .iter()
            .any(|d| d.code == KEY_FILE_DELETION));
        let mut closed = c;
        closed.step = Step::Closed;
        assert!(projection(&closed).is_empty());
    }
}
