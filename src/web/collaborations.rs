//! The collaborations list and the case page.
//!
//! The list is the API's list (same filters, order, keyset pages and visibility rule); the case
//! page is the API's view of one collaboration (the kept view when it is current), with the nine
//! steps as a timeline, who is holding it up and until when, and what may happen next, from the
//! view's `next` list: an action the server would refuse is shown with its reason, never as a
//! button.
use actix_web::{web, HttpRequest};
use serde::Serialize;
use serde_json::Value;

use super::{PageEnv, PageResult};
use crate::app::AppError;
use crate::domain::lang::Lang;
use crate::domain::step::Step;

#[derive(Serialize)]
struct StepChoice {
    code: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct ListPage {
    items: Vec<crate::app::collaborations::CollaborationSummary>,
    total: i64,
    total_exact: bool,
    next: Option<String>,
    steps: Vec<StepChoice>,
    overdue: bool,
    filtered: bool,
    may_create: bool,
}

/// The collaborations the signed-in person may see, newest first (or overdue first), filtered by
/// step.
pub async fn list(env: PageEnv, req: HttpRequest) -> PageResult {
    let actor = env.actor()?.clone();
    // A filter left empty in the form is no filter.
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, v)| {
            !v.is_empty() && crate::http::api::COLLABORATION_LIST_PARAMS.contains(&k.as_str())
        })
        .collect();
    let (q, _paging) = crate::http::api::collaboration_list_query(&pairs, &env.state, &actor)
        .map_err(|e| env.fail(e))?;
    let step = q.step;
    let overdue = q.overdue;
    let (items, total, next) =
        crate::http::api::run_collaboration_list(env.state.clone(), actor.clone(), q)
            .await
            .map_err(|e| env.fail(e))?;
    let next = next.map(|cursor| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| k != "cursor") {
            s.append_pair(k, v);
        }
        s.append_pair("cursor", &cursor);
        format!("/collaborations?{}", s.finish())
    });
    let steps = Step::ALL
        .iter()
        .map(|s| StepChoice {
            code: s.code(),
            selected: Some(*s) == step,
        })
        .collect();
    env.render(
        "collaborations",
        "common.list.title",
        ListPage {
            total_exact: total <= crate::db::lists::COUNT_CAP,
            total: total.min(crate::db::lists::COUNT_CAP),
            items,
            next,
            steps,
            overdue,
            filtered: step.is_some() || overdue,
            may_create: crate::app::authz::may_create(&actor).is_ok(),
        },
    )
}

/// One step of the timeline.
#[derive(Serialize)]
struct TimelineStep {
    number: u8,
    code: &'static str,
    /// `done`, `current` or `upcoming`.
    state: &'static str,
    state_label: String,
    current: bool,
}

/// What may happen next, as the page shows it.
#[derive(Serialize)]
pub struct NextShown {
    pub command: String,
    pub kind: String,
    pub allowed: bool,
    pub reason: String,
    pub missing: Vec<String>,
    pub obligations: Vec<String>,
    pub warnings: Vec<String>,
}

fn text_of(v: &Value, lang: Lang) -> String {
    v.get(lang.code())
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The view's `next` list in the page's language.
pub fn next_shown(view: &Value, lang: Lang) -> Vec<NextShown> {
    let (label, evidence, message) = match lang {
        Lang::Sv => ("label_sv", "evidence_sv", "message_sv"),
        Lang::En => ("label_en", "evidence_en", "message_en"),
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    view.get("next")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|n| NextShown {
                    command: s(n, "command"),
                    kind: s(n, "kind"),
                    allowed: n.get("allowed").and_then(Value::as_bool).unwrap_or(false),
                    reason: n
                        .get("reason")
                        .map(|r| text_of(r, lang))
                        .unwrap_or_default(),
                    missing: n
                        .get("missing")
                        .and_then(Value::as_array)
                        .map(|m| {
                            m.iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                    obligations: n
                        .get("obligations")
                        .and_then(Value::as_array)
                        .map(|o| {
                            o.iter()
                                .map(|o| format!("{}: {}", s(o, label), s(o, evidence)))
                                .collect()
                        })
                        .unwrap_or_default(),
                    warnings: n
                        .get("warnings")
                        .and_then(Value::as_array)
                        .map(|w| w.iter().map(|w| s(w, message)).collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn timeline(step: Option<u8>, lang: Lang) -> Vec<TimelineStep> {
    Step::ALL
        .iter()
        .filter_map(|s| s.number().map(|n| (n, s.code())))
        .map(|(number, code)| {
            let state = match step {
                Some(cur) if number < cur => "done",
                Some(cur) if number == cur => "current",
                // A closed case has passed every step; a refused or withdrawn one shows none current.
                None => "upcoming",
                _ => "upcoming",
            };
            let key = match state {
                "done" => "case.state.done",
                "current" => "case.state.current",
                _ => "case.state.upcoming",
            };
            TimelineStep {
                number,
                code,
                state,
                state_label: super::text::t(lang, key),
                current: state == "current",
            }
        })
        .collect()
}

#[derive(Serialize)]
struct CasePage {
    id: String,
    view: Value,
    timeline: Vec<TimelineStep>,
    next: Vec<NextShown>,
}

/// Reads the caller's view of a collaboration (the kept one when current).
pub async fn load_view(env: &PageEnv, id: String) -> Result<Value, super::PageError> {
    let actor = env.actor()?.clone();
    let rendered = env
        .blocking(move |s| {
            let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
            let mut conn = s.svc.db.pool.get()?;
            crate::app::collaborations::get_rendered(
                &mut conn,
                &s.svc.rulebooks,
                &s.svc.views,
                &actor,
                &id,
                now,
                today,
            )
        })
        .await?;
    serde_json::from_slice(&rendered.body)
        .map_err(|e| env.fail(AppError::Internal(anyhow::anyhow!("view: {e}"))))
}

/// The case page.
pub async fn case(env: PageEnv, path: web::Path<String>) -> PageResult {
    let id = path.into_inner();
    let view = load_view(&env, id.clone()).await?;
    let step = view
        .get("step_number")
        .and_then(Value::as_u64)
        .and_then(|n| u8::try_from(n).ok());
    let next = next_shown(&view, env.lang);
    env.render(
        "case",
        "case.title",
        CasePage {
            id,
            timeline: timeline(step, env.lang),
            next,
            view,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_timeline_marks_done_current_and_upcoming() {
        let t = timeline(Some(3), Lang::En);
        assert_eq!(t.len(), 9);
        assert_eq!(t[0].state, "done");
        assert_eq!(t[1].state, "done");
        assert_eq!(t[2].state, "current");
        assert!(t[2].current);
        assert_eq!(t[3].state, "upcoming");
        assert_eq!(t[2].state_label, "current step");
        assert!(timeline(None, Lang::Sv)
            .iter()
            .all(|s| s.state == "upcoming"));
    }

    #[test]
    fn next_commands_are_shown_in_the_language_with_their_reasons() {
        let v = json!({"next": [{
            "command": "decide", "kind": "action", "allowed": false,
            "reason": {"sv": "väntar", "en": "waiting"},
            "missing": ["ethics"],
            "obligations": [{"label_sv": "Etik", "label_en": "Ethics",
                             "evidence_sv": "beslut", "evidence_en": "decision"}],
            "warnings": [{"message_sv": "bör", "message_en": "should"}],
        }]});
        let en = next_shown(&v, Lang::En);
        assert_eq!(en.len(), 1);
        assert!(!en[0].allowed);
        assert_eq!(en[0].reason, "waiting");
        assert_eq!(en[0].obligations, ["Ethics: decision"]);
        assert_eq!(en[0].warnings, ["should"]);
        let sv = next_shown(&v, Lang::Sv);
        assert_eq!(sv[0].reason, "väntar");
        assert_eq!(sv[0].missing, ["ethics"]);
    }
}
