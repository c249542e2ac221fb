//! The CPUA's work queue (arbetskö) and the register holder's feasibility list (genomförbarhet).
//!
//! - The work queue is the API's collaborations list in due order for the signed-in person's own
//!   authority (`sort=due`, `cpua=<own organisation>`): only collaborations with an undecided, dated
//!   decision of that CPUA, the earliest due date (so the overdue ones) first, in keyset pages. Seed
//!   001, "5. Beslut om utlämnande": the CPUA decides within 30 days of the complete application, so
//!   the due date is that day. It is filtered by step and by register (the registers whose CPUA is the
//!   authority, from the reference data), and by the type in force (`type=`, the classification's
//!   type as the stored state records it, an indexed generated column; see `db::lists`).
//! - The feasibility list shows the cases at register contact (step 2) that wait for the register
//!   holder's answer for one of their authority's registers (seed 001, "2. Etablera tidig kontakt med
//!   registerhållare"); the answer is recorded on the case page.
use actix_web::HttpRequest;
use serde::Serialize;
use serde_json::Value;

use super::{PageEnv, PageResult};
use crate::app::collaborations::CollaborationSummary;
use crate::app::AppError;
use crate::domain::classification::CollaborationType;
use crate::domain::ids::OrgId;
use crate::domain::role::{Actor, Role};
use crate::domain::step::Step;

/// The roles that work from the queue.
const QUEUE_ROLES: &[Role] = &[Role::CpuaLegal, Role::RegisterHolder];

/// One register of the authority, as a filter choice.
#[derive(Serialize, Clone)]
struct RegisterChoice {
    id: String,
    name: String,
    selected: bool,
}

/// A collaboration type, as a filter choice.
#[derive(Serialize)]
struct TypeChoice {
    code: &'static str,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct StepChoice {
    code: &'static str,
    selected: bool,
}

/// One line of the queue: the case and its own authority's due date.
#[derive(Serialize)]
struct QueueLine {
    id: String,
    reference: String,
    title: String,
    step: Step,
    step_number: Option<u8>,
    registers: Vec<String>,
    due_on: Option<chrono::NaiveDate>,
    waiting_for: String,
    overdue: bool,
}

#[derive(Serialize)]
struct QueuePage {
    lines: Vec<QueueLine>,
    total: i64,
    total_exact: bool,
    next: Option<String>,
    steps: Vec<StepChoice>,
    types: Vec<TypeChoice>,
    registers: Vec<RegisterChoice>,
    filtered: bool,
}

/// Refuses a role the page is not for (403).
fn only(env: &PageEnv, actor: &Actor, roles: &[Role]) -> Result<(), super::PageError> {
    if roles.contains(&actor.role) {
        Ok(())
    } else {
        Err(env.fail(AppError::Forbidden(crate::msg!(
            "forbidden.role",
            role = super::role_name(env.lang, actor.role),
            action = env.t("queue.action")
        ))))
    }
}

/// The registers whose CPUA is the authority (reference data), by name.
async fn own_registers(
    env: &PageEnv,
    org: OrgId,
) -> Result<Vec<(String, String)>, super::PageError> {
    env.blocking(move |s| {
        s.svc.read(|c| {
            // An authority has a handful of registers; 500 is far above any.
            let (regs, _) = crate::db::repo::list_registers(c, Some(&org), None, 500)?;
            Ok(regs
                .into_iter()
                .map(|r| (r.id.to_string(), r.name))
                .collect())
        })
    })
    .await
}

/// The query's own pairs (filters left empty in the form are no filters), limited to `allowed`.
fn query_pairs(req: &HttpRequest, allowed: &[&str]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, v)| !v.is_empty() && allowed.contains(&k.as_str()))
        .collect()
}

/// The link to the next page: the same filters and the cursor.
fn next_link(path: &str, pairs: &[(String, String)], cursor: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| k != "cursor") {
        s.append_pair(k, v);
    }
    s.append_pair("cursor", cursor);
    format!("{path}?{}", s.finish())
}

/// Runs the API's list with the page's own pairs plus the fixed ones (order, own authority).
async fn run_list(
    env: &PageEnv,
    actor: &Actor,
    pairs: &[(String, String)],
    fixed: &[(&str, &str)],
) -> Result<(Vec<CollaborationSummary>, i64, Option<String>), super::PageError> {
    let mut all = pairs.to_vec();
    all.extend(fixed.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let (q, _paging) = crate::http::api::collaboration_list_query(&all, &env.state, actor)
        .map_err(|e| env.fail(e))?;
    crate::http::api::run_collaboration_list(env.state.clone(), actor.clone(), q)
        .await
        .map_err(|e| env.fail(e))
}

/// The work queue: the authority's cases by due date, overdue first.
pub async fn queue(env: PageEnv, req: HttpRequest) -> PageResult {
    let actor = env.actor()?.clone();
    only(&env, &actor, QUEUE_ROLES)?;
    let pairs = query_pairs(&req, &["step", "register", "type", "per_page", "cursor"]);
    let org = actor.org.to_string();
    let (items, total, next) = run_list(
        &env,
        &actor,
        &pairs,
        &[("sort", "due"), ("cpua", org.as_str())],
    )
    .await?;
    let chosen = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let registers = own_registers(&env, actor.org.clone())
        .await?
        .into_iter()
        .map(|(id, name)| RegisterChoice {
            selected: chosen("register") == Some(id.as_str()),
            id,
            name,
        })
        .collect::<Vec<_>>();
    let steps = Step::ALL
        .iter()
        .filter(|s| s.number().is_some())
        .map(|s| StepChoice {
            code: s.code(),
            selected: chosen("step") == Some(s.code()),
        })
        .collect();
    let types = CollaborationType::ALL
        .iter()
        .map(|t| TypeChoice {
            code: t.as_str(),
            label: env.t(type_key(*t)),
            selected: chosen("type") == Some(t.as_str()),
        })
        .collect();
    let lines = items
        .into_iter()
        .map(|c| {
            // The own authority's track: what it waits for and until when.
            let own = c.holding_up.iter().find(|h| h.cpua == org);
            QueueLine {
                registers: register_names(&c.registers, &registers),
                due_on: own.and_then(|h| h.due_on),
                waiting_for: own
                    .map(|h| env.t(waiting_key(&h.waiting_for)))
                    .unwrap_or_default(),
                overdue: own.is_some_and(|h| h.overdue),
                id: c.id,
                reference: c.reference,
                title: c.title,
                step: c.step,
                step_number: c.step_number,
            }
        })
        .collect();
    env.render(
        "queue",
        "queue.title",
        QueuePage {
            lines,
            total_exact: total <= crate::db::lists::COUNT_CAP,
            total: total.min(crate::db::lists::COUNT_CAP),
            next: next.map(|c| next_link("/queue", &pairs, &c)),
            steps,
            types,
            registers,
            filtered: ["step", "register", "type"]
                .iter()
                .any(|k| chosen(k).is_some()),
        },
    )
}

/// The catalogue key of a collaboration type's name.
fn type_key(t: CollaborationType) -> &'static str {
    match t {
        CollaborationType::Statistics => "queue.type.statistics",
        CollaborationType::CommissionedAnalysis => "queue.type.commissioned-analysis",
        CollaborationType::ResearchPublicPrincipal => "queue.type.research-public-principal",
        CollaborationType::ResearchCompanyPrincipal => "queue.type.research-company-principal",
        CollaborationType::RegulatoryFollowUp => "queue.type.regulatory-follow-up",
        CollaborationType::RegisterDevelopment => "queue.type.register-development",
    }
}

/// The catalogue key of what a track waits for; an unknown one is shown as "other".
fn waiting_key(code: &str) -> &'static str {
    match code {
        "application" => "queue.waiting.application",
        "complete_dossier" => "queue.waiting.complete_dossier",
        "decision" => "queue.waiting.decision",
        "release" => "queue.waiting.release",
        _ => "queue.waiting.other",
    }
}

/// The names of those of a case's registers that are the authority's own (the others are another
/// CPUA's, whose names the page does not need).
fn register_names(ids: &[String], own: &[RegisterChoice]) -> Vec<String> {
    ids.iter()
        .filter_map(|id| own.iter().find(|r| &r.id == id).map(|r| r.name.clone()))
        .collect()
}

/// One case waiting for the register holder's feasibility answer.
#[derive(Serialize)]
struct FeasibilityLine {
    id: String,
    reference: String,
    title: String,
    /// The authority's registers of the case that have no answer yet.
    awaiting: Vec<String>,
}

#[derive(Serialize)]
struct FeasibilityPage {
    lines: Vec<FeasibilityLine>,
    next: Option<String>,
}

/// The registers of the case with no feasibility answer yet, among the authority's own.
fn unanswered(view: &Value, case_registers: &[String], own: &[(String, String)]) -> Vec<String> {
    let answered: Vec<&str> = view
        .pointer("/collaboration/feasibility")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.get("register").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    own.iter()
        .filter(|(id, _)| case_registers.contains(id) && !answered.contains(&id.as_str()))
        .map(|(_, name)| name.clone())
        .collect()
}

/// The register holder's feasibility list: cases at register contact that wait for their answer.
pub async fn feasibility(env: PageEnv, req: HttpRequest) -> PageResult {
    let actor = env.actor()?.clone();
    only(&env, &actor, &[Role::RegisterHolder])?;
    let pairs = query_pairs(&req, &["per_page", "cursor"]);
    let org = actor.org.to_string();
    let (items, _total, next) = run_list(
        &env,
        &actor,
        &pairs,
        &[
            ("sort", "newest"),
            ("step", Step::RegisterContact.code()),
            ("cpua", org.as_str()),
        ],
    )
    .await?;
    let own = own_registers(&env, actor.org.clone()).await?;
    let mut lines = Vec::new();
    // One page of cases (at most the page size): each case's view says which registers have answered.
    for c in items {
        let view = super::collaborations::load_view(&env, c.id.clone()).await?;
        let awaiting = unanswered(&view, &c.registers, &own);
        if !awaiting.is_empty() {
            lines.push(FeasibilityLine {
                id: c.id,
                reference: c.reference,
                title: c.title,
                awaiting,
            });
        }
    }
    env.render(
        "queue_feasibility",
        "queue.feasibility.title",
        FeasibilityPage {
            lines,
            next: next.map(|c| next_link("/feasibility", &pairs, &c)),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_own_registers_without_an_answer_are_awaited() {
        let own = vec![
            ("r1".to_string(), "Ett".to_string()),
            ("r2".to_string(), "Två".to_string()),
            ("r3".to_string(), "Tre".to_string()),
        ];
        let case = vec!["r1".to_string(), "r2".to_string(), "other".to_string()];
        let view =
            json!({"collaboration": {"feasibility": [{"register": "r1", "feasible": true}]}});
        assert_eq!(unanswered(&view, &case, &own), vec!["Två".to_string()]);
        let none = json!({"collaboration": {}});
        assert_eq!(unanswered(&none, &case, &own).len(), 2);
    }

    #[test]
    fn the_next_link_keeps_the_filters_and_replaces_the_cursor() {
        let pairs = vec![
            ("step".to_string(), "agreement".to_string()),
            ("cursor".to_string(), "old".to_string()),
        ];
        assert_eq!(
            next_link("/queue", &pairs, "new"),
            "/queue?step=agreement&cursor=new"
        );
        assert_eq!(waiting_key("decision"), "queue.waiting.decision");
        assert_eq!(waiting_key("linkage_review"), "queue.waiting.other");
    }
}
