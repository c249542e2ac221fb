//! The nine-step process of seed 001 as an explicit state machine.
//!
//! Every change to a collaboration is a [`Command`]. [`execute`] checks the command's guard against the
//! current state, validates its data and returns the new state, or a [`Refusal`] that names the rule, what is
//! missing and its source in the seeds. Each command lives in a module of its own holding its guard, its
//! validation, its effect and its tests; this file only dispatches. Steps 4, 5 and 7 are tracked per CPUA;
//! the collaboration's step is derived from those tracks ([`derive_step`]).
//!
//! The seeds grade their rules (DOMAIN.md, "How strongly each rule binds"): a "ska" is a guard that no
//! override waives; a "bör" is a warning ([`advice`]) the actor passes with a recorded reason; a "gärna" is
//! a prompt that never blocks. The obligations the classification derives gate the steps the rulebook names,
//! each satisfied by its evidence ([`obligations`]).
// A refusal is the cold path and carries everything a lawyer reads years later (rule, field, source,
// what is missing, the unmet obligations and the warnings); boxing it on every return buys nothing.
#![allow(clippy::result_large_err)]
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use super::agreement::evidence::AgreementVersionEvidence;
use super::collaboration::*;
use super::ids::{OrgId, RegisterId};
use super::organisation::OrgKind;
use super::register::RegisterFacts;
use super::role::Actor;

pub mod advice;
mod agreement;
mod amendment;
mod application;
mod archiving;
mod command;
mod completion;
mod decision;
mod details;
mod ethics;
mod evidence;
mod feasibility;
mod key_file;
mod linkage;
mod notes;
pub mod obligations;
mod overrides;
mod refusal;
mod release;
mod results;
pub mod usage;
mod withdrawal;

#[cfg(test)]
mod properties;
#[cfg(test)]
pub(crate) mod testkit;

pub use super::step::Step;
pub use advice::{Acknowledgement, Advice, Grade};
pub use agreement::agreement_draft;
pub use command::*;
pub use obligations::{EffectiveObligation, Obligations, UnmetObligation};
use refusal::{not_in_future, step_is};
pub use refusal::{Refusal, RefusalKind};
pub use release::default_key_deletion;

pub const SEED_000: &str = "000_8f4d98e28584af27.txt";
pub const SEED_001: &str = "001_2ea1acc3c69dfa36.txt";
pub const SEED_002: &str = "002_f476663c34a527d0.txt";

/// What the domain needs to know besides the collaboration itself.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    /// Today in Europe/Stockholm.
    pub today: NaiveDate,
    pub actor: &'a Actor,
    pub principal_kind: Option<OrgKind>,
    /// Each register of the collaboration now: its CPUA, patient information and delegations.
    pub registers: &'a BTreeMap<RegisterId, RegisterFacts>,
    /// The obligations in force and the rulebook's declarations.
    pub obligations: &'a Obligations,
    /// The agreement version a command names (recording the agreement), as stored.
    pub agreement_version: Option<&'a AgreementVersionEvidence>,
    /// The "bör" warnings the actor passes with this command, each with a reason.
    pub acknowledged: &'a [Acknowledgement],
    /// Whether the case has a named data user who is active (named before release, or approved
    /// after): seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)", the
    /// dossier's fifth item ("Uppgift om vilka som har tillgång till personuppgifterna i
    /// forskningsprojektet") is then given by the named users (`domain::data_users`).
    pub data_users_named: bool,
}

impl Context<'_> {
    /// The CPUA responsible now for each register, for opening the review tracks.
    fn cpua_of(&self, register: &RegisterId) -> Option<(&OrgId, &str)> {
        self.registers
            .get(register)
            .map(|f| (&f.cpua, f.cpua_name.as_str()))
    }
}

/// The preconditions of a command kind in the current state, regardless of its data. For per-CPUA kinds,
/// `track` names the CPUA (when `None`, any track that would allow it counts).
pub fn guard(
    c: &Collaboration,
    kind: CommandKind,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Refusal> {
    guard_state(c, kind, track, ctx)?;
    gate(c, kind, track, ctx)
}

/// The obligations that gate this step, each by its evidence. An approval is gated in its effect, since
/// a refusal is always possible.
fn gate(
    c: &Collaboration,
    kind: CommandKind,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Refusal> {
    if kind == CommandKind::ToReleaseDecision {
        return Ok(());
    }
    obligations::gate(c, kind, track, ctx)
}

/// The command's own preconditions in the current state, before the obligations gating its step.
fn guard_state(
    c: &Collaboration,
    kind: CommandKind,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Result<(), Refusal> {
    if c.step.is_terminal() && !kind.allowed_when_terminal(c.step) {
        return Err(Refusal::precondition(crate::msg!(
            "terminal_state",
            step = c.step
        )));
    }
    use CommandKind as K;
    match kind {
        K::UpdateDetails => details::guard(c),
        K::ToRegisterContact => details::guard_register_contact(c),
        K::RecordFeasibility => feasibility::guard(c, track, ctx),
        K::ToEthicsReview => ethics::guard_review(c),
        K::RecordEthicsApproval => ethics::guard_record(c),
        K::ToDataApplication => application::guard(c, track, ctx),
        K::RecommendDecision => decision::guard_recommend(c, track),
        K::ToReleaseDecision => decision::guard(c, track, ctx),
        K::ReconsiderDecision => decision::guard_reconsider(c, track),
        K::RecordAppealOutcome => decision::guard_appeal(c, track),
        K::RecordCostAgreement => evidence::guard_cost(c),
        K::RecordDataProcessingAgreement
        | K::RecordThirdCountryAssessment
        | K::RecordIdentityNumberJustification
        | K::RecordCoordination
        | K::RecordRetrospectiveConsent => evidence::guard(c, kind, ctx),
        K::RecordLinkageApplication | K::RecordLinkageDecision => linkage::guard(c, kind),
        K::ToAgreement => agreement::guard(c, ctx),
        K::ToDataRelease => release::guard(c, track)
            .and_then(|()| crate::domain::signing::release_guard(c, ctx.agreement_version)),
        K::RecordPublication | K::RecordReportBack => results::guard_record(c),
        K::ToResults => results::guard(c),
        K::ToArchiving => archiving::guard(c),
        K::ConfirmDisposal => archiving::guard_confirm(c),
        K::RecordKeyFileDeleted => key_file::guard(c, track),
        K::ToClosed => archiving::guard_close(c),
        K::ToWithdrawn => withdrawal::guard(c),
        K::OpenAmendment => amendment::guard_open(c),
        K::RecordAmendmentEthics | K::SubmitAmendmentApplication => {
            amendment::guard_application(c, kind)
        }
        K::DecideAmendment => amendment::guard_decide(c, track, ctx),
        K::RecordAmendmentAgreement => amendment::guard_agreement(c),
        K::ReleaseAmendmentData => amendment::guard_release(c, track),
        K::AddInternalNote => Ok(()),
        K::OverrideClassification => overrides::guard(c),
        K::ReturnForCompletion => completion::guard_return(c, track),
        K::ResubmitApplication => completion::guard_resubmit(c, track),
        K::EndUsagePeriod => usage::guard(c, ctx.today),
    }
}

/// The "bör" warnings that apply to a command now, before its data are known (for `next`).
pub fn warnings(
    c: &Collaboration,
    kind: CommandKind,
    track: Option<&OrgId>,
    ctx: &Context,
) -> Vec<Advice> {
    match kind {
        CommandKind::ToEthicsReview => feasibility::warnings(c, None),
        CommandKind::ToDataApplication => application::warnings(c, track, ctx),
        CommandKind::ToReleaseDecision => decision::warnings(c, track, ctx),
        _ => vec![],
    }
}

/// The "gärna" prompts for a command: never a block.
pub fn prompts(c: &Collaboration, kind: CommandKind) -> Vec<Advice> {
    match kind {
        CommandKind::ToArchiving => results::prompts(c),
        CommandKind::ToReleaseDecision => decision::prompts(),
        _ => vec![],
    }
}

/// What a command produced: the new state and the domain events it caused (DESIGN.md, "Commands
/// return events").
#[derive(Debug, Clone)]
pub struct Executed {
    pub state: Collaboration,
    pub events: Vec<DomainEvent>,
}

/// Runs a command: guard, validate, apply, then the "bör" warnings it raised must each be passed with a
/// reason. Returns the new state and its events; the caller persists the state together with the audit
/// event and the outbox rows of the events, in one transaction.
pub fn execute(c: &Collaboration, cmd: Command, ctx: &Context) -> Result<Executed, Refusal> {
    let kind = cmd.kind();
    guard_state(c, kind, cmd.cpua(), ctx)?;
    // A command naming an agreement version hears first whether that version exists as named.
    if let Command::ToAgreement {
        version, digest, ..
    }
    | Command::RecordAmendmentAgreement {
        version, digest, ..
    } = &cmd
    {
        agreement::check_named(*version, digest, ctx)?;
    }
    gate(c, kind, cmd.cpua(), ctx)?;
    let mut raised = warnings(c, kind, cmd.cpua(), ctx);
    let mut n = c.clone();
    match cmd {
        Command::UpdateDetails(p) => details::apply(&mut n, p),
        Command::ToRegisterContact => n.step = Step::RegisterContact,
        Command::RecordFeasibility(input) => feasibility::apply(&mut n, input, ctx)?,
        Command::ToEthicsReview => n.step = Step::EthicsReview,
        Command::RecordEthicsApproval(e) => ethics::apply_record(&mut n, e, ctx)?,
        Command::ToDataApplication { cpua, dossier } => {
            application::apply(&mut n, &cpua, dossier, ctx)?
        }
        Command::RecommendDecision {
            cpua,
            outcome,
            text,
        } => decision::apply_recommend(&mut n, &cpua, outcome, text, ctx),
        Command::ToReleaseDecision { cpua, decision } => {
            decision::apply(&mut n, &cpua, decision, ctx, &mut raised)?
        }
        Command::ReconsiderDecision { cpua, decision } => {
            decision::apply_reconsider(&mut n, &cpua, decision, ctx, &mut raised)?
        }
        Command::RecordAppealOutcome { cpua, ruling } => {
            decision::apply_appeal(&mut n, &cpua, ruling, ctx)?
        }
        Command::RecordCostAgreement(input) => {
            evidence::apply_cost(&mut n, input, ctx, &mut raised)?
        }
        Command::RecordEvidence(input) => evidence::apply(&mut n, input, ctx)?,
        Command::RecordLinkage(input) => linkage::apply(&mut n, input, ctx)?,
        Command::ToAgreement {
            version,
            digest,
            signed_on,
        } => agreement::apply(&mut n, version, &digest, signed_on, ctx)?,
        Command::ToDataRelease { cpua, release } => release::apply(&mut n, &cpua, release, ctx)?,
        Command::RecordPublication(p) => results::apply_publication(&mut n, p, ctx)?,
        Command::RecordReportBack(r) => results::apply_report_back(&mut n, r, ctx)?,
        Command::ToResults => n.step = Step::Results,
        Command::ToArchiving => n.step = Step::Archiving,
        Command::ConfirmDisposal(d) => archiving::apply_confirm(&mut n, d, ctx)?,
        Command::RecordKeyFileDeleted { cpua, deleted_on } => {
            key_file::apply(&mut n, &cpua, deleted_on, ctx)?
        }
        Command::ToClosed => archiving::apply_close(&mut n, ctx),
        Command::ToWithdrawn { reason } => withdrawal::apply(&mut n, reason, ctx),
        Command::OpenAmendment {
            research_question,
            reason,
        } => amendment::apply_open(&mut n, research_question, reason, ctx)?,
        Command::RecordAmendmentEthics(e) => amendment::apply_ethics(&mut n, e, ctx)?,
        Command::SubmitAmendmentApplication => amendment::apply_submit(&mut n, ctx),
        Command::DecideAmendment { cpua, decision } => {
            amendment::apply_decide(&mut n, &cpua, decision, ctx, &mut raised)?
        }
        Command::RecordAmendmentAgreement {
            version,
            digest,
            signed_on,
        } => amendment::apply_agreement(&mut n, version, &digest, signed_on, ctx)?,
        Command::ReleaseAmendmentData { cpua, release } => {
            amendment::apply_release(&mut n, &cpua, release, ctx)?
        }
        Command::AddInternalNote { text } => notes::apply(&mut n, text, ctx),
        Command::OverrideClassification(o) => overrides::apply(&mut n, o, ctx)?,
        Command::ReturnForCompletion {
            cpua,
            request_id,
            due_on,
        } => completion::apply_return(&mut n, &cpua, request_id, due_on, ctx)?,
        Command::ResubmitApplication { cpua } => completion::apply_resubmit(&mut n, &cpua, ctx)?,
        Command::EndUsagePeriod => usage::apply(&mut n),
    }
    advice::pass(&mut n, kind, raised, ctx)?;
    n.step = derive_step(&n, ctx.obligations);
    let events = events_between(c, &n);
    Ok(Executed { state: n, events })
}

/// The collaboration's step follows from its CPUA tracks while they are open: the slowest active CPUA sets
/// the pace; a refusal by one CPUA does not erase another's approval; when every CPUA has refused, the
/// collaboration is refused (and a reopened track brings it back). Where the instrument is a decision
/// (statistics, public documents: DOMAIN.md), no agreement step is needed.
pub fn derive_step(c: &Collaboration, ob: &Obligations) -> Step {
    let tracked = matches!(
        c.step,
        Step::RegisterContact
            | Step::EthicsReview
            | Step::DataApplication
            | Step::ReleaseDecision
            | Step::Agreement
            | Step::DataRelease
            | Step::Refused
    );
    if !tracked || c.cpua_reviews.is_empty() {
        return c.step;
    }
    let active: Vec<&CpuaReview> = c
        .cpua_reviews
        .iter()
        .filter(|r| r.status() != ReviewStatus::Refused)
        .collect();
    if active.is_empty() {
        return Step::Refused;
    }
    if active.iter().any(|r| r.application_complete_at.is_none()) {
        return Step::DataApplication;
    }
    if active.iter().any(|r| r.decision.is_none()) {
        return Step::ReleaseDecision;
    }
    if c.agreement.is_none() && ob.agreement_required() {
        return Step::Agreement;
    }
    Step::DataRelease
}

/// What a review track is waiting for (väntar på).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HoldUp {
    /// The CPUA's id, or a linkage authority's code.
    pub cpua: String,
    pub cpua_name: String,
    pub waiting_for: String,
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
}

/// Which CPUAs and linkage authorities are holding the collaboration up, and for what.
pub fn holding_up(c: &Collaboration, today: NaiveDate) -> Vec<HoldUp> {
    if c.step.is_terminal() {
        return vec![];
    }
    let mut out: Vec<HoldUp> = c
        .cpua_reviews
        .iter()
        .filter_map(|r| {
            let waiting_for = match r.status() {
                ReviewStatus::NotApplied => "application",
                ReviewStatus::ApplicationIncomplete => "complete_dossier",
                ReviewStatus::UnderReview => "decision",
                ReviewStatus::Approved if c.step == Step::DataRelease => "release",
                _ => return None,
            };
            Some(HoldUp {
                cpua: r.cpua.to_string(),
                cpua_name: r.cpua_name.clone(),
                waiting_for: waiting_for.to_string(),
                due_on: r.decision_due_on.filter(|_| r.decision.is_none()),
                overdue: r.is_overdue(today),
            })
        })
        .collect();
    out.extend(linkage::holding_up(c));
    out
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;

    #[test]
    fn the_slowest_cpua_holds_the_case_up_and_says_until_when() {
        // Seed 001, "5. Beslut om utlämnande": the decision within 30 days of the complete application.
        let k = Kit::new();
        let c = k.walk_to_ethics(Scenario::two_cpuas());
        let c = k.run(&c, k.application(&k.a)).unwrap();
        let h = holding_up(&c, k.today());
        let a = h.iter().find(|x| x.cpua == k.a.to_string()).unwrap();
        let b = h.iter().find(|x| x.cpua == k.b.to_string()).unwrap();
        assert_eq!(a.waiting_for, "decision");
        assert_eq!(a.due_on, k.today().checked_add_days(chrono::Days::new(30)));
        assert!(!a.overdue);
        assert_eq!(b.waiting_for, "application");
        let late = k.today().checked_add_days(chrono::Days::new(31)).unwrap();
        assert!(holding_up(&c, late).iter().any(|x| x.overdue));
        let on_time = k.today().checked_add_days(chrono::Days::new(30)).unwrap();
        assert!(!holding_up(&c, on_time).iter().any(|x| x.overdue));
        // A closed case holds nobody up.
        let mut closed = c.clone();
        closed.step = Step::Withdrawn;
        assert!(holding_up(&closed, k.today()).is_empty());
    }

    #[test]
    fn a_track_says_what_it_waits_for_at_each_stage() {
        // Seed 001, "4. Ansökan om utlämnande": an application not yet complete waits for the dossier;
        // an approved track holds the case up only while its data are still to be released.
        let k = Kit::new();
        let applied = k.walk_to_applied(Scenario::public_research());
        let mut incomplete = applied.clone();
        for r in &mut incomplete.cpua_reviews {
            r.application_complete_at = None;
        }
        let waits: Vec<String> = holding_up(&incomplete, k.today())
            .into_iter()
            .map(|h| h.waiting_for)
            .collect();
        assert_eq!(waits, vec!["complete_dossier".to_string()]);
        let decided = k.walk_to_decided(Scenario::public_research());
        assert_ne!(decided.step, Step::DataRelease);
        assert!(holding_up(&decided, k.today()).is_empty());
        let agreed = k.walk_to_agreement_recorded(Scenario::public_research());
        assert_eq!(agreed.step, Step::DataRelease);
        let waits: Vec<String> = holding_up(&agreed, k.today())
            .into_iter()
            .map(|h| h.waiting_for)
            .collect();
        assert_eq!(waits, vec!["release".to_string()]);
    }

    #[test]
    fn a_decision_prompts_for_the_formal_refusal_on_request() {
        // Seed 000, "Menprövning …": the researcher "kan be om" a formal refusal decision.
        let k = Kit::new();
        let c = k.walk_to_applied(Scenario::public_research());
        let p = prompts(&c, CommandKind::ToReleaseDecision);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].code, "formal_refusal_on_request");
        assert_eq!(p[0].grade, Grade::Garna);
        assert!(prompts(&c, CommandKind::ToDataRelease).is_empty());
    }

    #[test]
    fn warnings_for_next_name_the_commands_they_concern() {
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::public_research());
        let ob = k.obligations_of(&c);
        let ctx = Context {
            now: k.now(),
            today: k.today(),
            actor: &k.company_rep,
            principal_kind: None,
            registers: &k.facts,
            obligations: &ob,
            agreement_version: None,
            acknowledged: &[],
            data_users_named: false,
        };
        let codes = |kind| -> Vec<&str> {
            warnings(&c, kind, None, &ctx)
                .iter()
                .map(|w| w.code)
                .collect()
        };
        assert_eq!(
            codes(CommandKind::ToEthicsReview),
            vec!["feasibility_not_answered"]
        );
        assert_eq!(
            codes(CommandKind::ToDataApplication),
            vec!["feasibility_not_answered"]
        );
        assert!(codes(CommandKind::ToRegisterContact).is_empty());
    }
}
