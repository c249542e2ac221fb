//! Named data users on the pages (issue 16 item 6; seed 000, "Menprövning av centralt
//! personuppgiftsansvarig myndighet (CPUA)", the dossier's fifth item): the case page's section
//! "Dataanvändare / Data users" (the list with each person's status; a party names one; CPUA legal
//! approves or refuses an addition after release; removal keeps the record) and the page "Mina
//! sekretessförbindelser / My undertakings", where the signed-in person reads the versioned text and
//! confirms it (seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata").
//!
//! Every form posts through the same `app::data_users` command as the API; the forms shown are the
//! ones the query says the reader may send (`may_add`, `may_decide`, `may_remove`). A refused form
//! comes back (422 or 409) with each message at its field, in the summary, and what was entered kept.
use actix_web::http::StatusCode;
use actix_web::{web, ResponseError};
use serde::Serialize;

use super::form::{anchor, Entered, Form, FormErrors};
use super::{PageEnv, PageError, PageResult};
use crate::app::data_users::{
    self, DataUserDecisionInput, DataUserInput, DataUserRemoveInput, DataUserView, UndertakingInput,
};
use crate::app::AppError;
use crate::domain::lang::Lang;

/// What the section (or the undertakings page) was sent and answered.
#[derive(Debug, Clone, Default)]
pub struct Posted {
    pub errors: FormErrors,
    /// The form refused: `add`, `decide-<user>`, `remove-<user>`, `confirm-<user>`.
    pub form: String,
    pub entered: Entered,
    /// After a redirect (`?data_users=<done>`).
    pub done: Option<&'static str>,
}

const DONE: &[&str] = &["added", "approved", "refused", "removed", "confirmed"];

impl Posted {
    /// `?data_users=<done>` after a redirect.
    pub fn from_query(q: &str) -> Posted {
        let done = url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "data_users")
            .and_then(|(_, v)| DONE.iter().copied().find(|d| *d == v.as_ref()));
        Posted {
            done,
            ..Posted::default()
        }
    }

    fn error(&self, form: &str, field: &str) -> String {
        if self.form == form {
            self.errors
                .at(&format!("{form}.{field}"))
                .unwrap_or("")
                .to_string()
        } else {
            String::new()
        }
    }
}

/// One input: its element id, name, the value to show and the message at it.
#[derive(Serialize, Default)]
struct Input {
    id: String,
    name: String,
    value: String,
    error: String,
}

fn input(p: &Posted, form: &str, field: &str) -> Input {
    Input {
        id: anchor(&format!("{form}.{field}")),
        name: field.to_string(),
        value: if p.form == form {
            p.entered.value(field)
        } else {
            String::new()
        },
        error: p.error(form, field),
    }
}

fn t(lang: Lang, key: &str) -> String {
    super::text::t(lang, key)
}

fn status_label(lang: Lang, status: &str) -> String {
    t(
        lang,
        match status {
            "active" => "datausers.status_active",
            "pending_approval" => "datausers.status_pending",
            "refused" => "datausers.status_refused",
            _ => "datausers.status_removed",
        },
    )
}

#[derive(Serialize)]
struct Shown {
    name: String,
    email: String,
    project_role: String,
    status: String,
    status_code: String,
    /// Who named the person, and when.
    added: String,
    /// The decision (approved/refused by whom, when, why), the removal, the undertaking.
    decided: String,
    refusal_reason: String,
    removed: String,
    removal_reason: String,
    undertaking: String,
    may_access: bool,
    may_decide: bool,
    decide_action: String,
    decide_heading: String,
    reason: Input,
    may_remove: bool,
    remove_action: String,
    remove_reason: Input,
}

/// The section as `case_data_users.hbs` reads it.
#[derive(Serialize, Default)]
pub struct Section {
    items: Vec<Shown>,
    dossier_item_satisfied: bool,
    undertakings_pending: usize,
    may_add: bool,
    add_action: String,
    name: Input,
    email: Input,
    project_role: Input,
    done: String,
}

fn by(lang: Lang, key: &str, name: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    super::text::t_with(
        lang,
        key,
        &[
            ("name", name.to_string()),
            ("date", super::helpers::format_datetime(at, lang)),
        ],
    )
}

fn shown(lang: Lang, id: &str, u: &DataUserView, may: (bool, bool), p: &Posted) -> Shown {
    let (may_decide, may_remove) = may;
    let decide_form = format!("decide-{}", u.id);
    let remove_form = format!("remove-{}", u.id);
    Shown {
        name: u.name.clone(),
        email: u.email.clone(),
        project_role: u.project_role.clone(),
        status: status_label(lang, &u.status),
        status_code: u.status.clone(),
        added: by(lang, "datausers.added_by", &u.added_by.name, u.added_by.at),
        decided: u
            .decided_by
            .as_ref()
            .map(|d| {
                let key = if u.refusal_reason.is_some() {
                    "datausers.refused_by"
                } else {
                    "datausers.approved_by"
                };
                by(lang, key, &d.name, d.at)
            })
            .unwrap_or_default(),
        refusal_reason: u.refusal_reason.clone().unwrap_or_default(),
        removed: u
            .removed_by
            .as_ref()
            .map(|d| by(lang, "datausers.removed_by", &d.name, d.at))
            .unwrap_or_default(),
        removal_reason: u.removal_reason.clone().unwrap_or_default(),
        undertaking: match &u.undertaking {
            Some(r) => super::text::t_with(
                lang,
                "datausers.undertaking_confirmed",
                &[
                    ("date", super::helpers::format_datetime(r.at, lang)),
                    ("version", r.version.clone()),
                ],
            ),
            None => t(lang, "datausers.undertaking_missing"),
        },
        may_access: u.may_access,
        may_decide: may_decide && u.status == "pending_approval",
        decide_action: format!("/collaborations/{id}/data-users/{}/decision", u.id),
        decide_heading: anchor(&format!("h-{decide_form}")),
        reason: input(p, &decide_form, "reason"),
        may_remove: may_remove && u.status != "removed" && u.status != "refused",
        remove_action: format!("/collaborations/{id}/data-users/{}/remove", u.id),
        remove_reason: input(p, &remove_form, "reason"),
    }
}

/// The data users section of the case `id` for the signed-in person.
pub async fn section(env: &PageEnv, id: &str, posted: &Posted) -> Result<Section, PageError> {
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let i = id.to_string();
    let v = env
        .blocking(move |s| {
            s.svc
                .read(|c| data_users::list(c, &s.svc.rulebooks, &actor, &i))
        })
        .await?;
    let done = match posted.done {
        Some("added") => t(lang, "datausers.done_added"),
        Some("approved") => t(lang, "datausers.done_approved"),
        Some("refused") => t(lang, "datausers.done_refused"),
        Some("removed") => t(lang, "datausers.done_removed"),
        _ => String::new(),
    };
    Ok(Section {
        items: v
            .items
            .iter()
            .map(|u| shown(lang, id, u, (v.may_decide, v.may_remove), posted))
            .collect(),
        dossier_item_satisfied: v.dossier_item_satisfied,
        undertakings_pending: v.undertakings_pending,
        may_add: v.may_add,
        add_action: format!("/collaborations/{id}/data-users"),
        name: input(posted, "add", "name"),
        email: input(posted, "add", "email"),
        project_role: input(posted, "add", "project_role"),
        done,
    })
}

fn status_of(e: &AppError) -> StatusCode {
    match e.status_code() {
        s if s.is_client_error() => s,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn text(form: &Form, name: &str) -> String {
    form.get(name).unwrap_or("").to_string()
}

fn optional(form: &Form, name: &str) -> Option<String> {
    form.get(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// Runs a case-page form's command in one write transaction: a 303 back to the section, or the case
/// page with the errors at their fields.
async fn submit(
    env: PageEnv,
    id: String,
    form: Form,
    which: String,
    default_field: &'static str,
    done: &'static str,
    work: impl FnOnce(
            &mut crate::db::DbConn,
            &crate::http::AppState,
            &crate::domain::role::Actor,
        ) -> Result<DataUserView, AppError>
        + Send
        + 'static,
) -> PageResult {
    let actor = env.actor()?.clone();
    let state = env.state.clone();
    let result = crate::http::blocking(move || state.svc.write(|c| work(c, &state, &actor))).await;
    match result {
        Ok(_) => Ok(env.see_other(&format!(
            "/collaborations/{id}?data_users={done}#data-users"
        ))),
        Err(e) => match FormErrors::of_form(&e, env.lang, &which, default_field) {
            Some(errors) => {
                let posted = Posted {
                    errors,
                    form: which,
                    entered: form.entered(),
                    done: None,
                };
                super::collaborations::render_case_full(
                    &env,
                    id,
                    status_of(&e),
                    super::documents::Posted::default(),
                    super::casework::Posted::default(),
                    posted,
                )
                .await
            }
            None => Err(env.fail(e)),
        },
    }
}

/// `POST /collaborations/{id}/data-users`: a party names a person.
pub async fn add(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let input = DataUserInput {
        name: text(&form, "name"),
        email: text(&form, "email"),
        project_role: text(&form, "project_role"),
    };
    let i = id.clone();
    submit(
        env,
        id,
        form,
        "add".into(),
        "name",
        "added",
        move |c, s, a| data_users::add(c, &s.svc.rulebooks, a, &i, input, s.svc.clock.now()),
    )
    .await
}

/// `POST /collaborations/{id}/data-users/{user}/decision`: CPUA legal approves (`approve=yes`) or
/// refuses (`approve=no`, with a reason) an addition made after release.
pub async fn decide(env: PageEnv, path: web::Path<(String, String)>, form: Form) -> PageResult {
    let (id, user) = path.into_inner();
    let approve = form.get("approve") == Some("yes");
    let input = DataUserDecisionInput {
        approve,
        reason: optional(&form, "reason"),
    };
    let (i, u) = (id.clone(), user.clone());
    let done = if approve { "approved" } else { "refused" };
    submit(
        env,
        id,
        form,
        format!("decide-{user}"),
        "reason",
        done,
        move |c, s, a| data_users::decide(c, &s.svc.rulebooks, a, &i, &u, input, s.svc.clock.now()),
    )
    .await
}

/// `POST /collaborations/{id}/data-users/{user}/remove`: a party or CPUA legal removes a person; the
/// record stays.
pub async fn remove(env: PageEnv, path: web::Path<(String, String)>, form: Form) -> PageResult {
    let (id, user) = path.into_inner();
    let input = DataUserRemoveInput {
        reason: optional(&form, "reason"),
    };
    let (i, u) = (id.clone(), user.clone());
    submit(
        env,
        id,
        form,
        format!("remove-{user}"),
        "reason",
        "removed",
        move |c, s, a| data_users::remove(c, &s.svc.rulebooks, a, &i, &u, input, s.svc.clock.now()),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// My undertakings

#[derive(Serialize)]
struct UndertakingShown {
    reference: String,
    title: String,
    project_role: String,
    added: String,
    version: String,
    /// The text in the page's language first, the other language below it.
    text: String,
    other_text: String,
    other_lang: String,
    action: String,
    heading_id: String,
    accept_id: String,
    accept_error: String,
    version_id: String,
    version_error: String,
}

#[derive(Serialize)]
struct UndertakingsPage {
    items: Vec<UndertakingShown>,
    done: String,
    errors: FormErrors,
}

async fn render_undertakings(env: &PageEnv, status: StatusCode, posted: Posted) -> PageResult {
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let pending = env
        .blocking(move |s| s.svc.read(|c| data_users::pending_for_me(c, &actor)))
        .await?;
    let items = pending
        .into_iter()
        .map(|p| {
            let form = format!("confirm-{}", p.data_user.id);
            let (text, other_text, other_lang) = match lang {
                Lang::Sv => (p.text_sv, p.text_en, "en"),
                Lang::En => (p.text_en, p.text_sv, "sv"),
            };
            UndertakingShown {
                reference: p.reference,
                title: p.title,
                project_role: p.data_user.project_role.clone(),
                added: by(
                    lang,
                    "datausers.added_by",
                    &p.data_user.added_by.name,
                    p.data_user.added_by.at,
                ),
                version: p.version,
                text,
                other_text,
                other_lang: other_lang.into(),
                action: format!("/undertakings/{}", p.data_user.id),
                heading_id: anchor(&format!("h-{form}")),
                accept_id: anchor(&format!("{form}.accept")),
                accept_error: posted.error(&form, "accept"),
                version_id: anchor(&format!("{form}.version")),
                version_error: posted.error(&form, "version"),
            }
        })
        .collect();
    let done = match posted.done {
        Some("confirmed") => t(lang, "datausers.done_confirmed"),
        _ => String::new(),
    };
    env.render_status(
        status,
        "undertakings",
        "datausers.undertakings_title",
        UndertakingsPage {
            items,
            done,
            errors: posted.errors,
        },
    )
}

/// `GET /undertakings`: the confidentiality undertakings waiting for the signed-in person.
pub async fn undertakings(env: PageEnv, req: actix_web::HttpRequest) -> PageResult {
    let posted = Posted::from_query(req.query_string());
    render_undertakings(&env, StatusCode::OK, posted).await
}

/// `POST /undertakings/{user}`: the person confirms their own undertaking on the version they read.
pub async fn confirm(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let user = path.into_inner();
    let actor = env.actor()?.clone();
    let input = UndertakingInput {
        accept: form.get("accept") == Some("yes"),
        version: text(&form, "version"),
    };
    let state = env.state.clone();
    let u = user.clone();
    let result = crate::http::blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| data_users::confirm_undertaking(c, &actor, &u, input, now))
    })
    .await;
    match result {
        Ok(_) => Ok(env.see_other("/undertakings?data_users=confirmed")),
        Err(e) => {
            let which = format!("confirm-{user}");
            match FormErrors::of_form(&e, env.lang, &which, "accept") {
                Some(errors) => {
                    let posted = Posted {
                        errors,
                        form: which,
                        entered: form.entered(),
                        done: None,
                    };
                    render_undertakings(&env, status_of(&e), posted).await
                }
                None => Err(env.fail(e)),
            }
        }
    }
}
