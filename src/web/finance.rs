//! The finance pages: the cases of the finance officer's CPUA with a written cost agreement, and
//! one case's cost details.
//!
//! The cases are the API's list (`app::collaborations::list`, the visibility of `authz::can_see`:
//! a finance officer sees the cases of their own CPUA), and each case's cost agreement is read from
//! the API's view of it (`app::collaborations::get`), where the lifecycle records it
//! (`domain::lifecycle::evidence::apply_cost`). The written cost agreement must be made before any
//! data are released (seed 000, "Ersättning för datauttag för forskning"); the company pays
//! (DOMAIN.md, "Who is involved": the company "pays invoices"). Invoices come with a later issue.
use actix_web::{web, HttpRequest};
use serde::Serialize;
use serde_json::Value;

use super::{PageEnv, PageError, PageResult};
use crate::app::AppError;
use crate::domain::collaboration::{CostAgreement, Feasibility};
use crate::domain::ids::{OrgId, RegisterId};
use crate::domain::lifecycle::CommandKind;
use crate::domain::role::{Actor, Role};

/// The finance officer, or the page refused (403).
fn finance(env: &PageEnv) -> Result<Actor, PageError> {
    let actor = env.actor()?.clone();
    if actor.role == Role::Finance {
        Ok(actor)
    } else {
        Err(env.fail(AppError::Forbidden(crate::msg!(
            "forbidden.role",
            role = actor.role.code(),
            action = CommandKind::RecordCostAgreement.code()
        ))))
    }
}

/// A cost agreement as the pages show it: amounts in öre (the `money` helper formats them).
#[derive(Debug, Clone, Serialize)]
pub struct CostShown {
    pub reference: String,
    pub signed_on: String,
    pub estimate_ore: i64,
    pub hourly_rate_ore: Option<i64>,
}

impl CostShown {
    fn of(c: &CostAgreement) -> CostShown {
        CostShown {
            reference: c.reference.clone(),
            signed_on: c.signed_on.to_string(),
            estimate_ore: c.estimate.ore(),
            hourly_rate_ore: c.hourly_rate.map(|m| m.ore()),
        }
    }
}

/// The cost agreement recorded in a view's collaboration, if any. A value that does not read is
/// an error with its cause, never "no agreement".
pub fn cost_of(collaboration: &Value) -> Result<Option<CostAgreement>, AppError> {
    match collaboration.get("cost_agreement") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("cost agreement in the view: {e}"))),
    }
}

fn text(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[derive(Serialize)]
struct CaseRow {
    id: String,
    reference: String,
    title: String,
    step: String,
    company: String,
    cost: CostShown,
}

#[derive(Serialize)]
struct FinancePage {
    items: Vec<CaseRow>,
    next: Option<String>,
}

/// The company's name, for "who pays".
fn company_name(conn: &mut crate::db::DbConn, id: &str) -> Result<String, AppError> {
    match OrgId::parse(id) {
        Some(o) => Ok(crate::app::reference::get_organisation(conn, &o)?.name),
        None => Ok(id.to_string()),
    }
}

/// What a row of the finance list reads of a kept view. A cost agreement that does not read is an
/// error with its cause, as in [`cost_of`], never "no agreement".
#[derive(serde::Deserialize)]
struct RowView {
    collaboration: RowCollaboration,
}

#[derive(serde::Deserialize)]
struct RowCollaboration {
    #[serde(default)]
    company: String,
    #[serde(default)]
    cost_agreement: Option<CostAgreement>,
}

/// The cases of the CPUA with a cost agreement, a page of the API's list at a time.
pub async fn list(env: PageEnv, req: HttpRequest) -> PageResult {
    let actor = finance(&env)?;
    let pairs = crate::http::extract::query_pairs(&req, &["cursor", "per_page"])
        .map_err(|e| env.fail(e))?;
    let (q, _paging) = crate::http::api::collaboration_list_query(&pairs, &env.state, &actor)
        .map_err(|e| env.fail(e))?;
    let (items, _total, next) =
        crate::http::api::run_collaboration_list(env.state.clone(), actor.clone(), q)
            .await
            .map_err(|e| env.fail(e))?;
    let rows = env
        .blocking(move |s| {
            let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
            // The kept views (no query while current), not a view built per row.
            let mut conn = s.svc.db.pool.get()?;
            let c = &mut conn;
            {
                let mut rows = Vec::new();
                // One organisation read per company on the page, not one per row.
                let mut companies: std::collections::HashMap<String, String> =
                    std::collections::HashMap::new();
                for item in items {
                    let kept = crate::app::collaborations::get_rendered(
                        c,
                        &s.svc.rulebooks,
                        &s.svc.views,
                        &actor,
                        &item.id,
                        now,
                        today,
                    )?;
                    // Only the two fields the row shows, not the whole view (issue 12, speed).
                    let view: RowView = serde_json::from_slice(&kept.body)
                        .map_err(|e| AppError::Internal(anyhow::anyhow!("view: {e}")))?;
                    let Some(cost) = view.collaboration.cost_agreement else {
                        continue;
                    };
                    let org = view.collaboration.company;
                    let company = match companies.get(&org) {
                        Some(name) => name.clone(),
                        None => {
                            let name = company_name(c, &org)?;
                            companies.insert(org, name.clone());
                            name
                        }
                    };
                    rows.push(CaseRow {
                        company,
                        id: item.id,
                        reference: item.reference,
                        title: item.title,
                        step: item.step.code().to_string(),
                        cost: CostShown::of(&cost),
                    });
                }
                Ok(rows)
            }
        })
        .await?;
    let next = next.map(|cursor| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("cursor", &cursor);
        format!("/finance?{}", s.finish())
    });
    env.render(
        "finance",
        "finance.title",
        FinancePage { items: rows, next },
    )
}

#[derive(Serialize)]
struct EstimateRow {
    register: String,
    feasible: bool,
    charged: bool,
    estimated_cost_ore: Option<i64>,
    estimated_weeks: Option<u32>,
}

#[derive(Serialize)]
struct CasePage {
    id: String,
    reference: String,
    title: String,
    step: String,
    company: String,
    cost: Option<CostShown>,
    estimates: Vec<EstimateRow>,
}

/// One case's costs: the cost agreement, and the register holders' estimates from step 2 (seed
/// 001, "2. Etablera tidig kontakt med registerhållare": roughly when and at what cost).
pub async fn case(env: PageEnv, path: web::Path<String>) -> PageResult {
    let actor = finance(&env)?;
    let id = path.into_inner();
    let page = env
        .blocking(move |s| {
            let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
            s.svc.read(|c| {
                let view =
                    crate::app::collaborations::get(c, &s.svc.rulebooks, &actor, &id, now, today)?;
                let v = &view.collaboration;
                let feasibility: Vec<Feasibility> = match v.get("feasibility") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(f) => serde_json::from_value(f.clone()).map_err(|e| {
                        AppError::Internal(anyhow::anyhow!("feasibility in the view: {e}"))
                    })?,
                };
                let mut estimates = Vec::new();
                for f in feasibility {
                    estimates.push(EstimateRow {
                        register: register_name(c, &f.register)?,
                        feasible: f.feasible,
                        charged: f.extraction_charged,
                        estimated_cost_ore: f.estimated_cost.map(|m| m.ore()),
                        estimated_weeks: f.estimated_weeks,
                    });
                }
                Ok(CasePage {
                    id: text(v, "id"),
                    reference: text(v, "reference"),
                    title: text(v, "title"),
                    step: text(v, "step"),
                    company: company_name(c, &text(v, "company"))?,
                    cost: cost_of(v)?.as_ref().map(CostShown::of),
                    estimates,
                })
            })
        })
        .await?;
    env.render("finance_case", "finance.case.title", page)
}

fn register_name(conn: &mut crate::db::DbConn, id: &RegisterId) -> Result<String, AppError> {
    let r = crate::app::reference::get_register(conn, id)?;
    Ok(format!("{} ({})", r.name, r.code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_cost_agreement_is_read_from_the_view_and_a_corrupt_one_is_an_error() {
        assert!(cost_of(&json!({"cost_agreement": null})).unwrap().is_none());
        assert!(cost_of(&json!({})).unwrap().is_none());
        let c = cost_of(&json!({"cost_agreement": {
            "reference": "KOST-1", "signed_on": "2026-09-01", "estimate": 1_250_000,
            "hourly_rate": null, "recorded_by": "00000000-0000-4000-8000-000000000000"}}))
        .unwrap()
        .expect("an agreement");
        let shown = CostShown::of(&c);
        assert_eq!(shown.estimate_ore, 1_250_000);
        assert_eq!(shown.hourly_rate_ore, None);
        assert_eq!(shown.signed_on, "2026-09-01");
        assert!(cost_of(&json!({"cost_agreement": {"reference": 7}})).is_err());
    }
}
