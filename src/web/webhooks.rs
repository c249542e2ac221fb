//! The organisation's webhook subscriptions on the pages (issue 16 item 8): the live subscriptions of
//! the signed-in person's organisation, a form to subscribe a system (the secret is shown once, on
//! the page that answers the form, and never again), deletion, and each subscription's delivery log.
//! Whoever the API lets manage them (`authz::may_manage_webhooks`: CPUA legal, the company's and the
//! research principal's representatives, for their own organisation) sees the page; the commands are
//! `app::webhooks_out`'s, as for the API.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, ResponseError};
use serde::Serialize;

use super::form::{FieldMessage, Form, FormErrors};
use super::{PageEnv, PageResult};
use crate::app::webhooks_out::{self, SubscriptionInput, EVENT_TYPES};
use crate::app::AppError;
use crate::config::AuthMode;
use crate::domain::lang::Lang;

fn t(lang: Lang, key: &str) -> String {
    super::text::t(lang, key)
}

/// An event type in words (the codes are `webhooks_out::EVENT_TYPES`).
fn event_label(lang: Lang, code: &str) -> String {
    let key = match code {
        "feasibility_requested" => "webhooks.event_feasibility_requested",
        "application_completed" => "webhooks.event_application_completed",
        "decision_taken" => "webhooks.event_decision_taken",
        "cost_agreement_recorded" => "webhooks.event_cost_agreement_recorded",
        "data_released" => "webhooks.event_data_released",
        "key_file_deleted" => "webhooks.event_key_file_deleted",
        "disposal_confirmed" => "webhooks.event_disposal_confirmed",
        other => return other.to_string(),
    };
    t(lang, key)
}

fn delivery_status(lang: Lang, code: &str) -> String {
    let key = match code {
        "pending" => "webhooks.status_pending",
        "delivered" => "webhooks.status_delivered",
        "dead" => "webhooks.status_dead",
        "cancelled" => "webhooks.status_cancelled",
        other => return other.to_string(),
    };
    t(lang, key)
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    checked: bool,
    id: String,
}

#[derive(Serialize)]
struct SubShown {
    url: String,
    description: String,
    events: Vec<String>,
    created_at: String,
    log_href: String,
    delete_action: String,
}

#[derive(Serialize)]
struct WebhooksPage {
    subscriptions: Vec<SubShown>,
    errors: FormErrors,
    done: String,
    action: String,
    url: String,
    url_error: String,
    description: String,
    description_error: String,
    events: Vec<Choice>,
    events_error: String,
    /// Set on the page that answers a created subscription: shown this once.
    secret: String,
    created_url: String,
}

/// The form's values and errors as typed.
#[derive(Default)]
struct Typed {
    url: String,
    description: String,
    events: Vec<String>,
    errors: FormErrors,
}

async fn render(
    env: &PageEnv,
    status: StatusCode,
    typed: Typed,
    done: String,
    created: Option<(String, String)>,
) -> PageResult {
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let org = actor.org.clone();
    let subs = env
        .blocking(move |s| s.svc.read(|c| webhooks_out::list(c, &actor, &org)))
        .await?;
    let at = |field: &str| typed.errors.at(field).unwrap_or("").to_string();
    let (secret, created_url) = created.unwrap_or_default();
    let page = WebhooksPage {
        subscriptions: subs
            .into_iter()
            .map(|s| SubShown {
                events: s.event_types.iter().map(|e| event_label(lang, e)).collect(),
                created_at: super::helpers::format_datetime(s.created_at, lang),
                log_href: format!("/webhooks/{}", s.id),
                delete_action: format!("/webhooks/{}/delete", s.id),
                url: s.url,
                description: s.description,
            })
            .collect(),
        done,
        action: "/webhooks".into(),
        url_error: at("url"),
        description_error: at("description"),
        events_error: at("event_types"),
        events: EVENT_TYPES
            .iter()
            .map(|e| Choice {
                value: e.to_string(),
                label: event_label(lang, e),
                checked: typed.events.iter().any(|x| x == e),
                id: format!("f-event_types-{e}"),
            })
            .collect(),
        url: typed.url,
        description: typed.description,
        errors: typed.errors,
        secret,
        created_url,
    };
    env.render_status(status, "webhooks", "webhooks.title", page)
}

/// `GET /webhooks`: the organisation's subscriptions and the form to add one.
pub async fn page(env: PageEnv, req: HttpRequest) -> PageResult {
    let deleted = url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| k == "webhooks" && v == "deleted");
    let done = if deleted {
        t(env.lang, "webhooks.done_deleted")
    } else {
        String::new()
    };
    render(&env, StatusCode::OK, Typed::default(), done, None).await
}

/// The errors of a refused form; one that names no field is said at the URL.
fn page_errors(e: &AppError, lang: Lang) -> Option<FormErrors> {
    let mut f = FormErrors::of(e, lang)?;
    if f.fields.is_empty() {
        f.fields.push(FieldMessage {
            field: "url".into(),
            anchor: "f-url".into(),
            message: crate::http::problem::problem_in(e, lang).detail,
        });
    }
    for m in &mut f.fields {
        // The checkboxes' group is where the event types' message sits.
        if m.field.starts_with("event_types") {
            m.field = "event_types".into();
            m.anchor = "f-event_types".into();
        }
    }
    Some(f)
}

/// `POST /webhooks`: subscribe a system. The answer is the page with the secret, shown this once.
pub async fn create(env: PageEnv, form: Form) -> PageResult {
    let actor = env.actor()?.clone();
    let events: Vec<String> = form
        .0
        .iter()
        .filter(|(k, _)| k == "event_types")
        .map(|(_, v)| v.clone())
        .collect();
    let input = SubscriptionInput {
        url: form.get("url").unwrap_or("").trim().to_string(),
        event_types: events.clone(),
        description: form.get("description").unwrap_or("").to_string(),
    };
    let state = env.state.clone();
    let result = crate::http::blocking(move || {
        let org = actor.org.clone();
        crate::app::authz::may_manage_webhooks(&actor, &org)?;
        let guard = state.settings.auth.mode != AuthMode::Local;
        let url = webhooks_out::check_url(&input.url, guard)?;
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| webhooks_out::create(c, &actor, &org, input, url, now))
    })
    .await;
    match result {
        Ok(created) => {
            let done = t(env.lang, "webhooks.done_created");
            let shown = (created.secret, created.subscription.url);
            render(
                &env,
                StatusCode::CREATED,
                Typed::default(),
                done,
                Some(shown),
            )
            .await
        }
        Err(e) => match page_errors(&e, env.lang) {
            Some(errors) => {
                let status = match e.status_code() {
                    s if s.is_client_error() => s,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let typed = Typed {
                    url: form.get("url").unwrap_or("").to_string(),
                    description: form.get("description").unwrap_or("").to_string(),
                    events,
                    errors,
                };
                render(&env, status, typed, String::new(), None).await
            }
            None => Err(env.fail(e)),
        },
    }
}

/// `POST /webhooks/{subscription}/delete`: nothing more is sent to it.
pub async fn delete(env: PageEnv, path: web::Path<String>, _form: Form) -> PageResult {
    let actor = env.actor()?.clone();
    let sub = path.into_inner();
    env.blocking(move |s| {
        let now = s.svc.clock.now();
        let org = actor.org.clone();
        s.svc
            .write(|c| webhooks_out::delete(c, &actor, &org, &sub, now))
    })
    .await?;
    Ok(env.see_other("/webhooks?webhooks=deleted"))
}

#[derive(Serialize)]
struct DeliveryShown {
    event_type: String,
    status: String,
    status_code: String,
    attempts: i32,
    last_status: String,
    last_error: String,
    created_at: String,
    next_attempt_at: String,
    delivered_at: String,
    id: String,
}

#[derive(Serialize)]
struct LogPage {
    url: String,
    description: String,
    deliveries: Vec<DeliveryShown>,
}

/// `GET /webhooks/{subscription}`: a subscription's delivery log, newest first.
pub async fn log(env: PageEnv, path: web::Path<String>) -> PageResult {
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let sub = path.into_inner();
    let (view, deliveries) = env
        .blocking(move |s| {
            s.svc.read(|c| {
                let org = actor.org.clone();
                let deliveries = webhooks_out::deliveries(c, &actor, &org, &sub)?;
                let view = webhooks_out::list(c, &actor, &org)?
                    .into_iter()
                    .find(|v| v.id == sub)
                    .ok_or_else(|| AppError::NotFound(crate::msg!("thing.webhook_subscription")))?;
                Ok((view, deliveries))
            })
        })
        .await?;
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| super::helpers::format_datetime(t, lang))
            .unwrap_or_default()
    };
    let page = LogPage {
        url: view.url,
        description: view.description,
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryShown {
                event_type: event_label(lang, &d.event_type),
                status: delivery_status(lang, &d.status),
                status_code: d.status,
                attempts: d.attempts,
                last_status: d.last_status.map(|s| s.to_string()).unwrap_or_default(),
                last_error: d.last_error.unwrap_or_default(),
                created_at: when(Some(d.created_at)),
                next_attempt_at: when(d.next_attempt_at),
                delivered_at: when(d.delivered_at),
                id: d.id,
            })
            .collect(),
    };
    env.render("webhooks_log", "webhooks.log_title", page)
}
