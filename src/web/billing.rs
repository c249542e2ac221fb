//! The billing pages (issue 15): a case's work log with its forms (log hours or an expense, approve a
//! line, draw a draft invoice from the approved lines), and finance's invoices (the list with its
//! status filter, a draft with its Issue button, an issued invoice with its downloads and the credit
//! note form).
//!
//! - Every form calls the API's own command in `app::billing` (`log_work`, `approve_work`,
//!   `create_draft`, `issue`, `credit`) with the API's own input types: no second write path.
//! - A form or button is offered only when the server would take it: the log form to whoever
//!   `authz::may_log_work` lets log on a case with a cost agreement, an Approve button where
//!   `authz::may_approve_work` allows it (never on one's own line), the draft form to finance
//!   (`authz::may_invoice`) when approved lines are left to invoice, Issue on a draft, the credit
//!   note form on an issued invoice.
//! - Work is charged only as the written cost agreement says (seed 000, "Ersättning för datauttag
//!   för forskning"): without one the page says so instead of offering the form; from 80 % of the
//!   ceiling the page warns, and a line past it needs a reason (the API's "bör"
//!   `cost_ceiling_passed`).
//! - Refusals come back as the page with 422, the entered values kept, the summary linked to each
//!   field, in plain words (hours and kronor, not the API's hundredths and öre).
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::Datelike;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::commands::{kronor_to_ore, Field, Opt};
use super::form::{anchor, Entered, FieldMessage, Form, FormErrors};
use super::{PageEnv, PageError, PageResult};
use crate::app::authz;
use crate::app::billing::{self, CreditInput, DraftInput, InvoiceView, WorkLineInput, WorkLogView};
use crate::app::payments::{self, ImportView, PaymentInput, PaymentView};
use crate::app::AppError;
use crate::domain::billing::amount::{Amount, Currency};
use crate::domain::billing::ledger;
use crate::domain::lang::Lang;
use crate::domain::money::Money;
use crate::domain::role::Actor;

// ---------- formatting ----------

/// An amount in öre (negative on a credit note) for people: `12 500,00 kr` / `SEK 12,500.00`.
pub fn amount(ore: i64, currency: &str, lang: Lang) -> String {
    let c = Currency::parse(currency).unwrap_or(Currency::SEK);
    crate::render::invoice_pdf::format_amount(Amount::new(ore, c), lang)
}

/// Hundredths (of an hour, of a unit) for people: `1,50` / `1.50`, whole numbers without decimals.
pub fn hundredths(q: i64, lang: Lang) -> String {
    let a = q.unsigned_abs();
    let sign = if q < 0 { "-" } else { "" };
    let dec = if lang == Lang::Sv { ',' } else { '.' };
    if a % 100 == 0 {
        format!("{sign}{}", a / 100)
    } else {
        format!("{sign}{}{dec}{:02}", a / 100, a % 100)
    }
}

fn t(lang: Lang, key: &str) -> String {
    super::text::t(lang, key)
}

fn t_with(lang: Lang, key: &str, params: &[(&str, &str)]) -> String {
    let owned: Vec<(&str, String)> = params.iter().map(|(k, v)| (*k, v.to_string())).collect();
    super::text::t_with(lang, key, &owned)
}

/// A message fragment as a sentence: a capital first letter and a full stop.
fn sentence(s: &str) -> String {
    let s = s.trim();
    let mut chars = s.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

// ---------- fields ----------

/// A field of these forms, for the `case_field` partial: what was entered and its message.
#[allow(clippy::too_many_arguments)]
fn field(
    lang: Lang,
    name: &str,
    kind: &'static str,
    label: &str,
    hint: Option<&str>,
    value: String,
    errors: &FormErrors,
    required: bool,
) -> Field {
    let id = anchor(name);
    let error = errors.at(name).unwrap_or_default().to_string();
    let hint = hint.map(|h| t(lang, h)).unwrap_or_default();
    let (hint_id, error_id) = (format!("{id}-hint"), format!("{id}-error"));
    let mut described = Vec::new();
    if !hint.is_empty() {
        described.push(hint_id.clone());
    }
    if !error.is_empty() {
        described.push(error_id.clone());
    }
    Field {
        name: name.to_string(),
        id,
        label: t(lang, label),
        hint,
        hint_id,
        kind,
        value,
        shown: String::new(),
        checked: false,
        options: Vec::new(),
        error,
        error_id,
        required,
        describedby: described.join(" "),
        placeholder: String::new(),
    }
}

fn radios(
    lang: Lang,
    name: &str,
    label: &str,
    choices: &[(&str, &str)],
    chosen: &str,
    errors: &FormErrors,
) -> Field {
    let mut f = field(
        lang,
        name,
        "radios",
        label,
        None,
        String::new(),
        errors,
        true,
    );
    f.options = choices
        .iter()
        .map(|(code, key)| Opt {
            value: code.to_string(),
            label: t(lang, key),
            selected: chosen == *code,
            id: format!("{}-{code}", anchor(name)),
        })
        .collect();
    f
}

/// The API's field names as this page's: hours and kronor instead of hundredths and öre, the
/// ceiling's reason in its own field; and the API's technical wording in plain words.
fn page_field(api: &str, credit: bool) -> Option<(&'static str, &'static str)> {
    Some(match api {
        "amount_ore" if credit => ("amount", "billing.error.credit_amount"),
        "hours_hundredths" => ("hours", "billing.error.hours"),
        "amount_ore" => ("amount", "billing.error.amount"),
        "acknowledge" | "acknowledge.cost_ceiling_passed" => {
            ("ceiling_reason", "billing.error.ceiling_reason")
        }
        "cost_agreement" => ("kind", "billing.error.no_cost_agreement"),
        "cost_agreement.hourly_rate" => ("kind", "billing.error.no_hourly_rate"),
        "buyer_reference" => ("buyer_reference", "billing.error.buyer_reference"),
        _ => return None,
    })
}

/// The errors of a refusal with every message at its field, in the page's words where the API's
/// would speak of hundredths, öre or JSON fields; a refusal naming one field is put at that field.
fn errors_of(e: &AppError, lang: Lang, credit: bool) -> Option<FormErrors> {
    let mut errors = FormErrors::of(e, lang)?;
    let p = crate::http::problem::problem_in(e, lang);
    for f in &mut errors.fields {
        if let Some((name, key)) = page_field(&f.field, credit) {
            f.field = name.to_string();
            f.anchor = anchor(name);
            f.message = t(lang, key);
        }
    }
    // The field the refusal names, or a missing item this page has a field for.
    let named = p.field.clone().or_else(|| {
        p.missing
            .iter()
            .find(|m| page_field(m, credit).is_some())
            .cloned()
    });
    if let Some(api) = named {
        let (name, message) = match page_field(&api, credit) {
            Some((n, key)) => (n.to_string(), t(lang, key)),
            None => (api.clone(), sentence(&p.detail)),
        };
        if errors.at(&name).is_none() {
            errors.fields.push(FieldMessage {
                anchor: anchor(&name),
                field: name,
                message,
            });
        }
        errors.summary = t(lang, "common.form.fix_below");
    }
    if !errors.fields.is_empty() {
        errors.summary = t(lang, "common.form.fix_below");
        // The missing items and the "bör" are said at their field.
        errors.details.clear();
    }
    Some(errors)
}

// ---------- the work log ----------

#[derive(Serialize)]
struct LineShown {
    id: String,
    person: String,
    worked_on: String,
    activity: String,
    kind: String,
    hours: String,
    rate: String,
    amount: String,
    status: String,
    ceiling_reason: String,
    /// The Approve button: the reader may approve this line.
    approvable: bool,
    /// The reader logged it: somebody else approves it.
    own: bool,
    approve_label: String,
    invoice_href: String,
}

#[derive(Serialize)]
struct LogForm {
    fields: Vec<Field>,
}

#[derive(Serialize)]
struct DraftForm {
    fields: Vec<Field>,
    count: usize,
    total: String,
}

#[derive(Serialize)]
struct WorkLogPage {
    id: String,
    reference: String,
    title: String,
    agreement: String,
    ceiling: String,
    logged_total: String,
    approved_total: String,
    /// `approached` (80 % of the ceiling or more) or `passed` (over it), or empty.
    ceiling_state: String,
    ceiling_message: String,
    lines: Vec<LineShown>,
    log: Option<LogForm>,
    /// Why no log form: no cost agreement.
    no_agreement: bool,
    draft: Option<DraftForm>,
    is_finance: bool,
    /// The expense lines with their receipts, or the field to attach one.
    receipts: Vec<ReceiptShown>,
    errors: FormErrors,
}

/// Which form a refusal came back to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Posted {
    Log,
    Draft,
    Approve,
    Receipt,
}

struct Loaded {
    log: WorkLogView,
    reference: String,
    title: String,
    may_log: bool,
    may_draft: bool,
}

async fn load_work_log(env: &PageEnv, id: String) -> Result<Loaded, PageError> {
    let actor = env.actor()?.clone();
    env.blocking(move |s| {
        s.svc.read(|c| {
            let log = billing::work_log(c, &s.svc.rulebooks, &actor, &id)?;
            let (collab, scope) =
                crate::app::collaborations::visible_with_scope(c, &s.svc.rulebooks, &actor, &id)?;
            let may_log = authz::may_log_work(&actor, &scope).is_ok();
            let may_draft = authz::may_invoice(&actor).is_ok() && scope.cpuas.contains(&actor.org);
            Ok(Loaded {
                log,
                reference: collab.reference.clone(),
                title: collab.title.clone(),
                may_log,
                may_draft,
            })
        })
    })
    .await
}

fn ceiling_state(log: &WorkLogView, lang: Lang) -> (String, String) {
    let Some(cap) = log.ceiling_ore else {
        return (String::new(), String::new());
    };
    let (Ok(ceiling), Ok(logged)) = (
        Money::from_ore(cap),
        Money::from_ore(log.logged_total_ore.max(0)),
    ) else {
        return (String::new(), String::new());
    };
    let ceiling_s = ceiling.format(lang);
    let logged_s = logged.format(lang);
    let percent = ledger::APPROACH_PERCENT.to_string();
    // The ledger's own rule: nothing more logged, is the total near or past the ceiling?
    match ledger::check_ceiling(ceiling, logged, Money::ZERO, &[]) {
        Err(_) => (
            "passed".into(),
            t_with(
                lang,
                "billing.worklog.ceiling_passed",
                &[
                    ("total", logged_s.as_str()),
                    ("ceiling", ceiling_s.as_str()),
                ],
            ),
        ),
        Ok(o) if !o.warnings.is_empty() => (
            "approached".into(),
            t_with(
                lang,
                "billing.worklog.ceiling_approached",
                &[
                    ("total", logged_s.as_str()),
                    ("ceiling", ceiling_s.as_str()),
                    ("percent", percent.as_str()),
                ],
            ),
        ),
        Ok(_) => (String::new(), String::new()),
    }
}

fn kinds() -> [(&'static str, &'static str); 2] {
    [
        ("hours", "billing.worklog.kind_hours"),
        ("expense", "billing.worklog.kind_expense"),
    ]
}

async fn render_work_log(
    env: &PageEnv,
    status: StatusCode,
    id: String,
    posted: Option<(Posted, Entered)>,
    errors: FormErrors,
) -> PageResult {
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let l = load_work_log(env, id.clone()).await?;
    let sek = |ore: i64| amount(ore, "SEK", lang);
    let (form, entered) = match posted {
        Some((p, e)) => (Some(p), e),
        None => (None, Entered::default()),
    };
    let value = |p: Posted, name: &str| {
        if form == Some(p) {
            entered.value(name)
        } else {
            String::new()
        }
    };
    let lines: Vec<LineShown> = l
        .log
        .lines
        .iter()
        .map(|w| {
            let approvable = w.status == "logged"
                && authz::may_approve_work(&actor, &w.cpua, &w.logged_by).is_ok();
            let status = match (&w.invoice_id, w.status.as_str()) {
                (Some(_), _) => "billing.worklog.status_invoiced",
                (None, "approved") => "billing.worklog.status_approved",
                _ => "billing.worklog.status_logged",
            };
            let worked_on = super::helpers::format_date(w.worked_on, lang);
            LineShown {
                approve_label: t_with(
                    lang,
                    "billing.worklog.approve_label",
                    &[
                        ("person", w.person_name.as_str()),
                        ("date", worked_on.as_str()),
                    ],
                ),
                id: w.id.clone(),
                person: w.person_name.clone(),
                worked_on,
                activity: w.activity.clone(),
                kind: t(
                    lang,
                    if w.kind == "expense" {
                        "billing.worklog.kind_expense"
                    } else {
                        "billing.worklog.kind_hours"
                    },
                ),
                hours: if w.kind == "expense" {
                    String::new()
                } else {
                    hundredths(w.hours_hundredths, lang)
                },
                rate: w.rate_ore.map(sek).unwrap_or_default(),
                amount: sek(w.amount_ore),
                status: t(lang, status),
                ceiling_reason: w.ceiling_reason.clone().unwrap_or_default(),
                approvable,
                own: w.status == "logged" && w.logged_by == actor.account.as_str(),
                invoice_href: w
                    .invoice_id
                    .as_ref()
                    .filter(|_| l.may_draft)
                    .map(|i| format!("/invoices/{i}"))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let no_agreement = l.log.ceiling_ore.is_none();
    let log = (l.may_log && !no_agreement).then(|| {
        let kind = match value(Posted::Log, "kind") {
            k if k.is_empty() => "hours".to_string(),
            k => k,
        };
        LogForm {
            fields: vec![
                field(
                    lang,
                    "person_name",
                    "text",
                    "billing.worklog.person",
                    Some("billing.worklog.person_hint"),
                    value(Posted::Log, "person_name"),
                    &errors,
                    true,
                ),
                field(
                    lang,
                    "worked_on",
                    "date",
                    "billing.worklog.date",
                    None,
                    value(Posted::Log, "worked_on"),
                    &errors,
                    true,
                ),
                field(
                    lang,
                    "activity",
                    "text",
                    "billing.worklog.activity",
                    None,
                    value(Posted::Log, "activity"),
                    &errors,
                    true,
                ),
                radios(
                    lang,
                    "kind",
                    "billing.worklog.kind",
                    &kinds(),
                    &kind,
                    &errors,
                ),
                field(
                    lang,
                    "hours",
                    "text",
                    "billing.worklog.hours",
                    Some("billing.worklog.hours_hint"),
                    value(Posted::Log, "hours"),
                    &errors,
                    false,
                ),
                field(
                    lang,
                    "amount",
                    "text",
                    "billing.worklog.amount",
                    Some("billing.worklog.amount_hint"),
                    value(Posted::Log, "amount"),
                    &errors,
                    false,
                ),
                field(
                    lang,
                    "ceiling_reason",
                    "textarea",
                    "billing.worklog.ceiling_reason",
                    Some("billing.worklog.ceiling_reason_hint"),
                    value(Posted::Log, "ceiling_reason"),
                    &errors,
                    false,
                ),
            ],
        }
    });
    let open: Vec<&billing::WorkLineView> = l
        .log
        .lines
        .iter()
        .filter(|w| {
            w.status == "approved" && w.invoice_id.is_none() && w.cpua == actor.org.as_str()
        })
        .collect();
    let draft = (l.may_draft && (!open.is_empty() || form == Some(Posted::Draft))).then(|| {
        let v = |n: &str| value(Posted::Draft, n);
        let text = |n: &str, label: &str, hint: Option<&str>| {
            field(lang, n, "text", label, hint, v(n), &errors, false)
        };
        DraftForm {
            count: open.len(),
            total: sek(open.iter().map(|w| w.amount_ore).sum()),
            fields: vec![
                text(
                    "buyer_reference",
                    "billing.draft.buyer_reference",
                    Some("billing.draft.reference_hint"),
                ),
                text("order_number", "billing.draft.order_number", None),
                {
                    let mut f = field(
                        lang,
                        "payment_terms_days",
                        "number",
                        "billing.draft.terms",
                        Some("billing.draft.terms_hint"),
                        v("payment_terms_days"),
                        &errors,
                        false,
                    );
                    // Read as a number, as the API takes it (a text was refused as not a number).
                    f.name = "payment_terms_days:int".into();
                    f
                },
                text(
                    "buyer_street",
                    "billing.draft.buyer_street",
                    Some("billing.draft.register_hint"),
                ),
                text("buyer_postal_code", "billing.draft.buyer_postal_code", None),
                text("buyer_city", "billing.draft.buyer_city", None),
                text(
                    "buyer_country",
                    "billing.draft.buyer_country",
                    Some("billing.draft.country_hint"),
                ),
                text(
                    "buyer_vat",
                    "billing.draft.buyer_vat",
                    Some("billing.draft.vat_hint"),
                ),
                text(
                    "seller_street",
                    "billing.draft.seller_street",
                    Some("billing.draft.register_hint"),
                ),
                text(
                    "seller_postal_code",
                    "billing.draft.seller_postal_code",
                    None,
                ),
                text("seller_city", "billing.draft.seller_city", None),
                text(
                    "bankgiro",
                    "billing.draft.bankgiro",
                    Some("billing.draft.bankgiro_hint"),
                ),
                field(
                    lang,
                    "note",
                    "textarea",
                    "billing.draft.note",
                    None,
                    v("note"),
                    &errors,
                    false,
                ),
            ],
        }
    });
    let (ceiling_state, ceiling_message) = ceiling_state(&l.log, lang);
    let receipts = receipts_shown(&actor, &l.log, lang, &errors);
    env.render_status(
        status,
        "billing_work_log",
        "billing.worklog.title",
        WorkLogPage {
            id,
            reference: l.reference,
            title: l.title,
            agreement: l.log.cost_agreement_reference.clone().unwrap_or_default(),
            ceiling: l.log.ceiling_ore.map(sek).unwrap_or_default(),
            logged_total: sek(l.log.logged_total_ore),
            approved_total: sek(l.log.approved_total_ore),
            ceiling_state,
            ceiling_message,
            lines,
            log,
            no_agreement,
            draft,
            is_finance: l.may_draft,
            receipts,
            errors,
        },
    )
}

pub fn work_log_href(id: &str) -> String {
    format!("/collaborations/{id}/work-log")
}

/// The work log of a case.
pub async fn work_log(env: PageEnv, path: web::Path<String>) -> PageResult {
    render_work_log(
        &env,
        StatusCode::OK,
        path.into_inner(),
        None,
        FormErrors::default(),
    )
    .await
}

/// The log form as the API's [`WorkLineInput`]: hours and kronor as hundredths and öre (what does
/// not read as a number goes on as written, so the API names the field), the ceiling's reason as
/// the acknowledgement of `cost_ceiling_passed` when one is given.
fn work_line_json(form: &Form) -> Value {
    let mut m = Map::new();
    for k in ["person_name", "worked_on", "activity", "kind"] {
        if let Some(v) = form.get(k).map(str::trim).filter(|v| !v.is_empty()) {
            m.insert(k.into(), Value::from(v));
        }
    }
    let number = |raw: &str| match kronor_to_ore(raw) {
        Some(n) => Value::from(n),
        None => Value::from(raw.trim()),
    };
    let kind = form.get("kind").unwrap_or("hours");
    let (name, api) = if kind == "expense" {
        ("amount", "amount_ore")
    } else {
        ("hours", "hours_hundredths")
    };
    if let Some(v) = form.get(name).filter(|v| !v.trim().is_empty()) {
        m.insert(api.into(), number(v));
    }
    if let Some(r) = form
        .get("ceiling_reason")
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        m.insert(
            "acknowledge".into(),
            json!([{"code": ledger::CEILING_PASSED, "reason": r}]),
        );
    }
    Value::Object(m)
}

/// Logs hours or an expense: the API's `log_work`.
pub async fn log(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let actor = env.actor()?.clone();
    let outcome = match crate::http::extract::parse_value::<WorkLineInput>(work_line_json(&form)) {
        Err(e) => Err(e),
        Ok(input) => {
            let (state, cid) = (env.state.clone(), id.clone());
            crate::http::blocking(move || {
                let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
                state.svc.write(|c| {
                    billing::log_work(c, &state.svc.rulebooks, &actor, &cid, input, now, today)
                })
            })
            .await
            .map(|_| ())
        }
    };
    match outcome {
        Ok(()) => Ok(env.see_other(&work_log_href(&id))),
        Err(e) => answer_work_log(&env, id, e, Posted::Log, &form).await,
    }
}

async fn answer_work_log(
    env: &PageEnv,
    id: String,
    e: AppError,
    posted: Posted,
    form: &Form,
) -> PageResult {
    match errors_of(&e, env.lang, false) {
        Some(errors) => {
            render_work_log(
                env,
                StatusCode::UNPROCESSABLE_ENTITY,
                id,
                Some((posted, form.entered())),
                errors,
            )
            .await
        }
        None => Err(env.fail(e)),
    }
}

/// Approves a line: the API's `approve_work`.
pub async fn approve(env: PageEnv, path: web::Path<(String, String)>, form: Form) -> PageResult {
    let (id, line) = path.into_inner();
    let actor = env.actor()?.clone();
    let (state, cid) = (env.state.clone(), id.clone());
    let outcome = crate::http::blocking(move || {
        let now = state.svc.clock.now();
        state
            .svc
            .write(|c| billing::approve_work(c, &state.svc.rulebooks, &actor, &cid, &line, now))
    })
    .await;
    match outcome {
        Ok(_) => Ok(env.see_other(&work_log_href(&id))),
        Err(e) => answer_work_log(&env, id, e, Posted::Approve, &form).await,
    }
}

/// Draws a draft invoice from the case's approved lines: the API's `create_draft`.
pub async fn create_draft(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let actor = env.actor()?.clone();
    let mut v = form.to_json();
    if let Some(o) = v.as_object_mut() {
        o.insert("collaboration".into(), Value::from(id.clone()));
        if let Some(Value::String(c)) = o.get("buyer_country").cloned() {
            o.insert(
                "buyer_country".into(),
                Value::from(c.trim().to_ascii_uppercase()),
            );
        }
    }
    let outcome = match crate::http::extract::parse_value::<DraftInput>(v) {
        Err(e) => Err(e),
        Ok(input) => {
            let state = env.state.clone();
            crate::http::blocking(move || {
                let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
                state.svc.write(|c| {
                    billing::create_draft(c, &state.svc.rulebooks, &actor, input, now, today)
                })
            })
            .await
        }
    };
    match outcome {
        Ok(inv) => Ok(env.see_other(&invoice_href(&inv.id))),
        Err(e) => answer_work_log(&env, id, e, Posted::Draft, &form).await,
    }
}

// ---------- invoices ----------

fn invoice_href(id: &str) -> String {
    format!("/invoices/{id}")
}

/// Finance only (the API's `authz::may_invoice`), or the page is refused.
fn finance(env: &PageEnv) -> Result<Actor, PageError> {
    let actor = env.actor()?.clone();
    authz::may_invoice(&actor).map_err(|e| env.fail(e))?;
    Ok(actor)
}

#[derive(Serialize)]
struct InvoiceRow {
    href: String,
    kind: String,
    number: String,
    status: String,
    buyer: String,
    issue_date: String,
    due_date: String,
    gross: String,
    /// What is left to pay (issued invoices only), negative when overpaid.
    balance: String,
    overdue: bool,
}

#[derive(Serialize)]
struct FilterChoice {
    code: &'static str,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct InvoicesPage {
    rows: Vec<InvoiceRow>,
    /// The next page's path and query, when there is one (keyset pages, as the API's).
    next: Option<String>,
    filters: Vec<FilterChoice>,
    status: String,
    export: Vec<Field>,
    /// The export's headings follow the page's language.
    lang: &'static str,
}

fn kind_name(lang: Lang, v: &InvoiceView) -> String {
    t(
        lang,
        if v.kind == "credit_note" {
            "billing.invoice.kind_credit_note"
        } else {
            "billing.invoice.kind_invoice"
        },
    )
}

fn status_name(lang: Lang, v: &InvoiceView) -> String {
    t(
        lang,
        match (v.status.as_str(), v.overdue) {
            ("draft", _) => "billing.invoice.status_draft",
            (_, true) => "billing.invoice.status_overdue",
            _ => "billing.invoice.status_issued",
        },
    )
}

fn date_or_empty(d: Option<chrono::NaiveDate>, lang: Lang) -> String {
    d.map(|d| super::helpers::format_date(d, lang))
        .unwrap_or_default()
}

/// The invoices and credit notes of finance's CPUA, with the API's status filter.
pub async fn invoices(env: PageEnv, req: HttpRequest) -> PageResult {
    let actor = finance(&env)?;
    let lang = env.lang;
    let status =
        crate::http::extract::query_pairs(&req, crate::http::billing_api::INVOICE_LIST_PARAMS)
            .map_err(|e| env.fail(e))?
            .into_iter()
            .find(|(k, _)| k == "status")
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty());
    let list = crate::http::billing_api::invoice_page(env.state.clone(), &req, actor)
        .await
        .map_err(|e| env.fail(e))?;
    let next = list.next.clone();
    let list = list.items;
    let chosen = status.unwrap_or_default();
    let filters = [
        "",
        "draft",
        "issued",
        "unpaid",
        "partially_paid",
        "paid",
        "overpaid",
        "credited",
        "overdue",
    ]
    .into_iter()
    .map(|code| FilterChoice {
        code,
        label: t(
            lang,
            match code {
                "draft" => "billing.invoice.status_draft",
                "issued" => "billing.invoice.status_issued",
                "overdue" => "billing.invoice.status_overdue",
                "unpaid" => "billing.payment.filter_unpaid",
                "partially_paid" => "billing.payment.filter_partially_paid",
                "paid" => "billing.payment.filter_paid",
                "overpaid" => "billing.payment.filter_overpaid",
                "credited" => "billing.payment.filter_credited",
                _ => "billing.invoices.all",
            },
        ),
        selected: chosen == code,
    })
    .collect();
    let rows = list
        .iter()
        .map(|v| InvoiceRow {
            href: invoice_href(&v.id),
            kind: kind_name(lang, v),
            number: v
                .number
                .clone()
                .unwrap_or_else(|| t(lang, "billing.invoice.no_number")),
            status: status_name(lang, v),
            buyer: v.buyer_name.clone(),
            issue_date: date_or_empty(v.issue_date, lang),
            due_date: date_or_empty(v.due_date, lang),
            gross: amount(v.gross_ore, &v.currency, lang),
            balance: if v.kind == "invoice" && v.status == "issued" {
                amount(v.balance_ore, &v.currency, lang)
            } else {
                String::new()
            },
            overdue: v.overdue,
        })
        .collect();
    let no_errors = FormErrors::default();
    // The export's period, this month so far unless changed.
    let today = env.state.svc.clock.today();
    let first = today.with_day(1).unwrap_or(today);
    let export = vec![
        field(
            lang,
            "from",
            "date",
            "billing.export.from",
            None,
            first.to_string(),
            &no_errors,
            true,
        ),
        field(
            lang,
            "to",
            "date",
            "billing.export.to",
            Some("billing.export.to_hint"),
            today.to_string(),
            &no_errors,
            true,
        ),
    ];
    env.render(
        "billing_invoices",
        "billing.invoices.title",
        InvoicesPage {
            rows,
            next,
            filters,
            status: chosen,
            export,
            lang: if lang == Lang::En { "en" } else { "sv" },
        },
    )
}

#[derive(Serialize)]
struct InvoiceLineShown {
    number: i32,
    description: String,
    quantity: String,
    unit: String,
    unit_price: String,
    net: String,
}

#[derive(Serialize)]
struct Download {
    href: String,
    label: String,
}

#[derive(Serialize)]
struct CreditForm {
    fields: Vec<Field>,
    left: String,
}

#[derive(Serialize)]
struct CreditShown {
    href: String,
    number: String,
    gross: String,
}

#[derive(Serialize)]
struct InvoicePage {
    id: String,
    heading: String,
    kind: String,
    status: String,
    is_draft: bool,
    is_credit_note: bool,
    number: String,
    ocr: String,
    bankgiro: String,
    issue_date: String,
    due_date: String,
    terms: String,
    buyer_name: String,
    buyer_org_number: String,
    buyer_vat: String,
    buyer_address: String,
    buyer_reference: String,
    order_number: String,
    vat_category: String,
    vat_text: String,
    reverse_charge: bool,
    lines: Vec<InvoiceLineShown>,
    net: String,
    vat: String,
    gross: String,
    case_href: String,
    credits_href: String,
    credit_notes: Vec<CreditShown>,
    downloads: Vec<Download>,
    overdue: bool,
    credit: Option<CreditForm>,
    standing: Option<StandingShown>,
    /// The edit form of a draft.
    edit: Option<EditForm>,
    errors: FormErrors,
}

#[derive(Serialize)]
struct PaymentShown {
    value_date: String,
    amount: String,
    bank_reference: String,
    payer_name: String,
    source: String,
}

#[derive(Serialize)]
struct PayForm {
    fields: Vec<Field>,
}

/// An issued invoice's payments: its status in words, what was paid and credited, the balance.
#[derive(Serialize)]
struct StandingShown {
    status: String,
    paid: String,
    credited: String,
    balance: String,
    overpaid: bool,
    overpaid_by: String,
    payments: Vec<PaymentShown>,
    reminders: Vec<String>,
    pay: Option<PayForm>,
}

/// The invoice's payment status in words (`domain::billing::balance`'s codes).
fn payment_status_name(lang: Lang, code: &str) -> String {
    t(
        lang,
        match code {
            "draft" => "billing.invoice.status_draft",
            "partially_paid" => "billing.payment.status_partially_paid",
            "paid" => "billing.payment.status_paid",
            "overpaid" => "billing.payment.status_overpaid",
            "credited" => "billing.payment.status_credited",
            _ => "billing.payment.status_unpaid",
        },
    )
}

/// The VAT category (EN 16931 UNCL5305 code) and its words, from the invoice's VAT treatment.
fn vat_words(v: &InvoiceView, lang: Lang) -> (String, String) {
    match v.vat_treatment.as_deref() {
        Some("domestic") => ("S".into(), t(lang, "billing.invoice.vat_domestic")),
        Some("reverse_charge") => ("AE".into(), t(lang, "billing.invoice.vat_reverse_charge")),
        Some("outside_scope") => ("O".into(), t(lang, "billing.invoice.vat_outside_scope")),
        // A draft: the treatment is settled at the issue.
        _ => (String::new(), t(lang, "billing.invoice.vat_at_issue")),
    }
}

fn unit_name(code: &str, lang: Lang) -> String {
    match code {
        "HUR" => t(lang, "billing.invoice.unit_hour"),
        "C62" => t(lang, "billing.invoice.unit_piece"),
        other => other.to_string(),
    }
}

async fn render_invoice(
    env: &PageEnv,
    status: StatusCode,
    id: String,
    entered: Option<Entered>,
    errors: FormErrors,
) -> PageResult {
    let actor = finance(env)?;
    let lang = env.lang;
    type Paid = (Vec<PaymentView>, Vec<(i32, chrono::NaiveDate)>);
    type Loaded = (
        InvoiceView,
        Vec<InvoiceView>,
        Option<Paid>,
        Vec<billing::WorkLineView>,
    );
    let (v, credits, paid, draftable): Loaded = env
        .blocking(move |s| {
            let today = s.svc.clock.today();
            s.svc.read(|c| {
                let v = billing::get(c, &actor, &id, today)?;
                let draftable = if v.status == "draft" && v.kind == "invoice" {
                    billing::draftable(c, &actor, &v.id)?
                } else {
                    Vec::new()
                };
                let paid = if v.kind == "invoice" && v.status == "issued" {
                    Some((
                        payments::of_invoice(c, &actor, &v.id)?,
                        payments::reminders(c, &actor, &v.id)?,
                    ))
                } else {
                    None
                };
                let credits: Vec<InvoiceView> = if v.kind == "invoice" && v.status == "issued" {
                    billing::credit_notes(c, &actor, &v.id, today)?
                } else {
                    Vec::new()
                };
                Ok((v, credits, paid, draftable))
            })
        })
        .await?;
    let money = |ore: i64| amount(ore, &v.currency, lang);
    let (vat_category, vat_text) = vat_words(&v, lang);
    let issued = v.status == "issued";
    let credited: i64 = credits.iter().map(|c| -c.net_ore).sum();
    let left = v.net_ore - credited;
    let credit = (issued && v.kind == "invoice" && left > 0).then(|| {
        let e = entered.clone().unwrap_or_default();
        let scope = match e.value("scope") {
            s if s.is_empty() => "full".to_string(),
            s => s,
        };
        CreditForm {
            left: money(left),
            fields: vec![
                field(
                    lang,
                    "reason",
                    "textarea",
                    "billing.credit.reason",
                    Some("billing.credit.reason_hint"),
                    e.value("reason"),
                    &errors,
                    true,
                ),
                radios(
                    lang,
                    "scope",
                    "billing.credit.scope",
                    &[
                        ("full", "billing.credit.scope_full"),
                        ("lines", "billing.credit.scope_lines"),
                        ("amount", "billing.credit.scope_amount"),
                    ],
                    &scope,
                    &errors,
                ),
                field(
                    lang,
                    "amount",
                    "text",
                    "billing.credit.amount",
                    Some("billing.credit.amount_hint"),
                    e.value("amount"),
                    &errors,
                    false,
                ),
            ]
            .into_iter()
            .chain(credit_line_fields(&v, lang, &e, &errors))
            .collect(),
        }
    });
    let standing = paid.map(|(list, reminders)| {
        let e = entered.clone().unwrap_or_default();
        StandingShown {
            status: payment_status_name(lang, &v.payment_status),
            paid: money(v.paid_ore),
            credited: money(v.credited_ore),
            balance: money(v.balance_ore),
            overpaid: v.balance_ore < 0,
            overpaid_by: money(-v.balance_ore),
            payments: list
                .iter()
                .map(|p| PaymentShown {
                    value_date: super::helpers::format_date(p.value_date, lang),
                    amount: amount(p.amount_ore, &p.currency, lang),
                    bank_reference: p.bank_reference.clone(),
                    payer_name: p.payer_name.clone().unwrap_or_default(),
                    source: t(
                        lang,
                        if p.allocation_id.is_some() {
                            "billing.payment.source_placed"
                        } else if p.source == "camt054" {
                            "billing.payment.source_camt054"
                        } else {
                            "billing.payment.source_manual"
                        },
                    ),
                })
                .collect(),
            reminders: reminders
                .iter()
                .map(|(round, on)| {
                    t_with(
                        lang,
                        "billing.payment.reminder_sent",
                        &[
                            ("round", round.to_string().as_str()),
                            ("date", super::helpers::format_date(*on, lang).as_str()),
                        ],
                    )
                })
                .collect(),
            pay: Some(PayForm {
                fields: vec![
                    field(
                        lang,
                        "pay_amount",
                        "text",
                        "billing.payment.amount",
                        Some("billing.payment.amount_hint"),
                        e.value("pay_amount"),
                        &errors,
                        true,
                    ),
                    field(
                        lang,
                        "value_date",
                        "date",
                        "billing.payment.value_date",
                        None,
                        e.value("value_date"),
                        &errors,
                        true,
                    ),
                    field(
                        lang,
                        "bank_reference",
                        "text",
                        "billing.payment.bank_reference",
                        Some("billing.payment.bank_reference_hint"),
                        e.value("bank_reference"),
                        &errors,
                        true,
                    ),
                    field(
                        lang,
                        "payer_name",
                        "text",
                        "billing.payment.payer_name",
                        Some("billing.payment.payer_name_hint"),
                        e.value("payer_name"),
                        &errors,
                        false,
                    ),
                ],
            }),
        }
    });
    let api = format!("/api/v1/invoices/{}", v.id);
    let downloads = if issued {
        vec![
            Download {
                href: format!("{api}.pdf?lang=sv"),
                label: t(lang, "billing.invoice.pdf_sv"),
            },
            Download {
                href: format!("{api}.pdf?lang=en"),
                label: t(lang, "billing.invoice.pdf_en"),
            },
            Download {
                href: format!("{api}.xml"),
                label: t(lang, "billing.invoice.ubl"),
            },
        ]
    } else {
        Vec::new()
    };
    let number = v.number.clone().unwrap_or_default();
    let heading = match (&v.number, v.kind.as_str()) {
        (None, _) => t(lang, "billing.invoice.heading_draft"),
        (Some(n), "credit_note") => t_with(
            lang,
            "billing.invoice.heading_credit_note",
            &[("number", n.as_str())],
        ),
        (Some(n), _) => t_with(lang, "billing.invoice.heading", &[("number", n.as_str())]),
    };
    let page = InvoicePage {
        heading,
        kind: kind_name(lang, &v),
        status: status_name(lang, &v),
        is_draft: v.status == "draft",
        is_credit_note: v.kind == "credit_note",
        number,
        ocr: v.ocr.clone().unwrap_or_default(),
        bankgiro: v.bankgiro.clone().unwrap_or_default(),
        issue_date: date_or_empty(v.issue_date, lang),
        due_date: date_or_empty(v.due_date, lang),
        terms: t_with(
            lang,
            "billing.invoice.terms_days",
            &[("days", v.payment_terms_days.to_string().as_str())],
        ),
        buyer_name: v.buyer_name.clone(),
        buyer_org_number: v.buyer_org_number.clone(),
        buyer_vat: v.buyer_vat_number.clone().unwrap_or_default(),
        buyer_address: format!(
            "{}, {} {}, {}",
            v.buyer_street, v.buyer_postal_code, v.buyer_city, v.buyer_country
        ),
        buyer_reference: v.buyer_reference.clone().unwrap_or_default(),
        order_number: v.order_number.clone().unwrap_or_default(),
        reverse_charge: vat_category == "AE",
        vat_category,
        vat_text,
        lines: v
            .lines
            .iter()
            .map(|l| InvoiceLineShown {
                number: l.number,
                description: l.description.clone(),
                quantity: hundredths(l.quantity_hundredths, lang),
                unit: unit_name(&l.unit_code, lang),
                unit_price: money(l.unit_price_ore),
                net: money(l.net_ore),
            })
            .collect(),
        net: money(v.net_ore),
        vat: money(v.vat_ore),
        gross: money(v.gross_ore),
        case_href: work_log_href(&v.collaboration_id),
        credits_href: v
            .credits_invoice_id
            .as_deref()
            .map(invoice_href)
            .unwrap_or_default(),
        credit_notes: credits
            .iter()
            .map(|c| CreditShown {
                href: invoice_href(&c.id),
                number: c.number.clone().unwrap_or_default(),
                gross: money(c.gross_ore),
            })
            .collect(),
        downloads,
        overdue: v.overdue,
        credit,
        standing,
        edit: edit_form(&v, &draftable, lang, entered.as_ref(), &errors),
        errors,
        id: v.id.clone(),
    };
    env.render_status(status, "billing_invoice", "billing.invoice.title", page)
}

/// One invoice, draft or issued, or a credit note.
pub async fn invoice(env: PageEnv, path: web::Path<String>) -> PageResult {
    render_invoice(
        &env,
        StatusCode::OK,
        path.into_inner(),
        None,
        FormErrors::default(),
    )
    .await
}

async fn answer_invoice(env: &PageEnv, id: String, e: AppError, form: &Form) -> PageResult {
    match errors_of(&e, env.lang, true) {
        Some(errors) => {
            render_invoice(
                env,
                StatusCode::UNPROCESSABLE_ENTITY,
                id,
                Some(form.entered()),
                errors,
            )
            .await
        }
        None => Err(env.fail(e)),
    }
}

/// Issues a draft: the API's `issue` (retried like the API on a lost race for the number).
pub async fn issue(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let actor = finance(&env)?;
    let (state, iid) = (env.state.clone(), id.clone());
    let outcome = crate::http::blocking(move || {
        state.svc.write_retrying(3, |c| {
            let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
            billing::issue(c, &state.svc.rulebooks, &actor, &iid, now, today)
        })
    })
    .await;
    match outcome {
        Ok(v) => Ok(env.see_other(&invoice_href(&v.id))),
        Err(e) => answer_invoice(&env, id, e, &form).await,
    }
}

/// The credit form as the API's [`CreditInput`]: in full, or of an amount in kronor.
fn credit_json(form: &Form) -> Value {
    let mut m = Map::new();
    if let Some(r) = form.get("reason").map(str::trim).filter(|r| !r.is_empty()) {
        m.insert("reason".into(), Value::from(r));
    }
    if form.get("scope") == Some("lines") {
        credit_lines_json(form, &mut m);
    }
    if form.get("scope") == Some("amount") {
        let raw = form.get("amount").unwrap_or_default().trim();
        m.insert(
            "amount_ore".into(),
            match kronor_to_ore(raw) {
                Some(n) => Value::from(n),
                None => Value::from(raw),
            },
        );
    }
    Value::Object(m)
}

/// A credit note, in full or in part: the API's `credit`.
pub async fn credit(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let actor = finance(&env)?;
    let outcome = match crate::http::extract::parse_value::<CreditInput>(credit_json(&form)) {
        Err(e) => Err(e),
        Ok(input) => {
            let (state, iid) = (env.state.clone(), id.clone());
            crate::http::blocking(move || {
                state.svc.write_retrying(3, |c| {
                    let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
                    billing::credit(
                        c,
                        &state.svc.rulebooks,
                        &actor,
                        &iid,
                        input.clone(),
                        now,
                        today,
                    )
                })
            })
            .await
        }
    };
    match outcome {
        Ok(v) => Ok(env.see_other(&invoice_href(&v.id))),
        Err(e) => answer_credit(&env, id, e, &form).await,
    }
}

// ---------- payments ----------

/// The payment form as the API's [`PaymentInput`]: this invoice, the amount in kronor.
fn payment_json(id: &str, form: &Form) -> Value {
    let mut m = Map::new();
    m.insert("invoice".into(), Value::from(id));
    let raw = form.get("pay_amount").unwrap_or_default().trim();
    m.insert(
        "amount_ore".into(),
        match kronor_to_ore(raw) {
            Some(n) => Value::from(n),
            None => Value::from(raw),
        },
    );
    for name in ["value_date", "bank_reference", "payer_name"] {
        if let Some(v) = form.get(name).map(str::trim).filter(|v| !v.is_empty()) {
            m.insert(name.into(), Value::from(v));
        }
    }
    Value::Object(m)
}

/// The errors of a refused payment at the form's fields: the amount in kronor at `pay_amount`.
fn payment_errors(e: &AppError, lang: Lang) -> Option<FormErrors> {
    let mut errors = errors_of(e, lang, false)?;
    for f in &mut errors.fields {
        if f.field == "amount" || f.field == "amount_ore" {
            f.field = "pay_amount".into();
            f.anchor = anchor("pay_amount");
            f.message = t(lang, "billing.payment.error_amount");
        }
    }
    Some(errors)
}

/// Finance records a payment of an issued invoice by hand: the API's `payments::record`.
pub async fn record_payment(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let actor = finance(&env)?;
    let outcome = match crate::http::extract::parse_value::<PaymentInput>(payment_json(&id, &form))
    {
        Err(e) => Err(e),
        Ok(input) => {
            let state = env.state.clone();
            crate::http::blocking(move || {
                let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
                state
                    .svc
                    .write(|c| payments::record(c, &actor, input.clone(), now, today))
            })
            .await
        }
    };
    match outcome {
        Ok(_) => Ok(env.see_other(&invoice_href(&id))),
        Err(e) => match payment_errors(&e, env.lang) {
            Some(errors) => {
                render_invoice(
                    &env,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    id,
                    Some(form.entered()),
                    errors,
                )
                .await
            }
            None => Err(env.fail(e)),
        },
    }
}

#[derive(Serialize)]
struct ImportRow {
    line: String,
    bank_reference: String,
    payer_name: String,
    amount: String,
    value_date: String,
    invoice: String,
    invoice_href: String,
    outcome: String,
}

#[derive(Serialize)]
struct ImportResult {
    entries: usize,
    message_id: String,
    sha256: String,
    matched: Vec<ImportRow>,
    unmatched: Vec<ImportRow>,
    already_recorded: Vec<String>,
    skipped: Vec<ImportRow>,
}

#[derive(Serialize)]
struct ImportPage {
    fields: Vec<Field>,
    result: Option<ImportResult>,
    errors: FormErrors,
    place: PlaceSection,
}

/// A payment that matched no invoice, in the list of those to place.
#[derive(Serialize)]
struct UnplacedShown {
    value_date: String,
    amount: String,
    remaining: String,
    bank_reference: String,
    payer_name: String,
    reference: String,
    reason: String,
}

/// The payments that matched no invoice, and the form that places one on an invoice.
#[derive(Serialize)]
struct PlaceSection {
    payments: Vec<UnplacedShown>,
    fields: Vec<Field>,
    errors: FormErrors,
}

fn unmatched_reason_key(code: &str) -> &'static str {
    match code {
        "no_reference" => "billing.import.reason_no_reference",
        "invalid_ocr" => "billing.import.reason_invalid_ocr",
        "unknown_ocr" => "billing.import.reason_unknown_ocr",
        "currency" => "billing.import.reason_currency",
        _ => "billing.import.reason_no_single_invoice",
    }
}

/// The placing section: the unmatched payments of the CPUA with what is left of each, and a form
/// naming the payment, the invoice (its issued invoices) and the amount in kronor.
async fn place_section(
    env: &PageEnv,
    entered: Option<Entered>,
    errors: FormErrors,
) -> Result<PlaceSection, PageError> {
    let actor = finance(env)?;
    let lang = env.lang;
    let (unplaced, invoices) = env
        .blocking(move |s| {
            let today = s.svc.clock.today();
            s.svc.read(|c| {
                Ok((
                    payments::unmatched(c, &actor)?,
                    // The newest issued invoices, a page's worth (as many as the list shows
                    // at most): a payment is placed on a recent invoice; an older one is found
                    // by its OCR reference on the payments page.
                    billing::list(
                        c,
                        &actor,
                        Some("issued"),
                        today,
                        None,
                        s.settings.api.max_page_size,
                        0,
                    )?
                    .items,
                ))
            })
        })
        .await?;
    let e = entered.unwrap_or_default();
    let mut payment = field(
        lang,
        "payment",
        "select",
        "billing.place.payment",
        None,
        String::new(),
        &errors,
        true,
    );
    payment.placeholder = t(lang, "billing.place.choose_payment");
    let chosen = e.value("payment");
    payment.options = unplaced
        .iter()
        .map(|u| Opt {
            value: u.payment.id.clone(),
            label: t_with(
                lang,
                "billing.place.payment_option",
                &[
                    (
                        "date",
                        super::helpers::format_date(u.payment.value_date, lang).as_str(),
                    ),
                    ("reference", u.payment.bank_reference.as_str()),
                    ("payer", u.payment.payer_name.as_deref().unwrap_or("–")),
                    (
                        "remaining",
                        amount(u.remaining_ore, &u.payment.currency, lang).as_str(),
                    ),
                ],
            ),
            selected: chosen == u.payment.id,
            id: String::new(),
        })
        .collect();
    let mut invoice = field(
        lang,
        "invoice_id",
        "select",
        "billing.place.invoice",
        None,
        String::new(),
        &errors,
        true,
    );
    invoice.placeholder = t(lang, "billing.place.choose_invoice");
    let chosen = e.value("invoice_id");
    invoice.options = invoices
        .iter()
        .filter(|v| v.kind == "invoice")
        .map(|v| Opt {
            value: v.id.clone(),
            label: t_with(
                lang,
                "billing.place.invoice_option",
                &[
                    ("number", v.number.as_deref().unwrap_or_default()),
                    ("buyer", v.buyer_name.as_str()),
                    ("balance", amount(v.balance_ore, &v.currency, lang).as_str()),
                ],
            ),
            selected: chosen == v.id,
            id: String::new(),
        })
        .collect();
    let fields = vec![
        payment,
        invoice,
        field(
            lang,
            "place_amount",
            "text",
            "billing.place.amount",
            Some("billing.place.amount_hint"),
            e.value("place_amount"),
            &errors,
            true,
        ),
    ];
    Ok(PlaceSection {
        payments: unplaced
            .iter()
            .map(|u| UnplacedShown {
                value_date: super::helpers::format_date(u.payment.value_date, lang),
                amount: amount(u.payment.amount_ore, &u.payment.currency, lang),
                remaining: amount(u.remaining_ore, &u.payment.currency, lang),
                bank_reference: u.payment.bank_reference.clone(),
                payer_name: u.payment.payer_name.clone().unwrap_or_default(),
                reference: u.payment.ocr_reference.clone().unwrap_or_default(),
                reason: t(
                    lang,
                    unmatched_reason_key(u.payment.unmatched_reason.as_deref().unwrap_or("")),
                ),
            })
            .collect(),
        fields,
        errors,
    })
}

fn import_result(v: &ImportView, lang: Lang) -> ImportResult {
    let sek = |ore: i64, c: &str| amount(ore, c, lang);
    let date = |d: chrono::NaiveDate| super::helpers::format_date(d, lang);
    ImportResult {
        entries: v.entries,
        message_id: v.message_id.clone().unwrap_or_default(),
        sha256: v.sha256.clone(),
        matched: v
            .matched
            .iter()
            .map(|m| ImportRow {
                line: m.line.to_string(),
                bank_reference: m.bank_reference.clone(),
                payer_name: m.payer_name.clone().unwrap_or_default(),
                amount: sek(m.amount_ore, "SEK"),
                value_date: date(m.value_date),
                invoice: m.invoice_number.clone().unwrap_or_default(),
                invoice_href: invoice_href(&m.invoice_id),
                outcome: t(
                    lang,
                    match m.outcome.as_str() {
                        "paid" => "billing.payment.status_paid",
                        "overpaid" => "billing.payment.status_overpaid",
                        _ => "billing.payment.status_partially_paid",
                    },
                ),
            })
            .collect(),
        unmatched: v
            .unmatched
            .iter()
            .map(|u| ImportRow {
                line: u.line.to_string(),
                bank_reference: u.bank_reference.clone(),
                payer_name: u.payer_name.clone().unwrap_or_default(),
                amount: sek(u.amount_ore, &u.currency),
                value_date: date(u.value_date),
                invoice: u.reference.clone().unwrap_or_default(),
                invoice_href: String::new(),
                outcome: t(lang, unmatched_reason_key(&u.reason)),
            })
            .collect(),
        already_recorded: v.already_recorded.clone(),
        skipped: v
            .skipped
            .iter()
            .map(|k| ImportRow {
                line: String::new(),
                bank_reference: k.bank_reference.clone(),
                payer_name: String::new(),
                amount: String::new(),
                value_date: String::new(),
                invoice: String::new(),
                invoice_href: String::new(),
                outcome: t(
                    lang,
                    if k.reason == "debit" {
                        "billing.import.reason_debit"
                    } else {
                        "billing.import.reason_not_booked"
                    },
                ),
            })
            .collect(),
    }
}

async fn render_import(
    env: &PageEnv,
    status: StatusCode,
    file: String,
    result: Option<ImportResult>,
    errors: FormErrors,
    place: PlaceSection,
) -> PageResult {
    let fields = vec![field(
        env.lang,
        "file",
        "textarea",
        "billing.import.file",
        Some("billing.import.file_hint"),
        file,
        &errors,
        true,
    )];
    env.render_status(
        status,
        "billing_payments_import",
        "billing.import.title",
        ImportPage {
            fields,
            result,
            errors,
            place,
        },
    )
}

/// The payments import page (finance only).
pub async fn import_page(env: PageEnv) -> PageResult {
    finance(&env)?;
    let place = place_section(&env, None, FormErrors::default()).await?;
    render_import(
        &env,
        StatusCode::OK,
        String::new(),
        None,
        FormErrors::default(),
        place,
    )
    .await
}

/// The camt.054 file a post of the import page carries: the uploaded file (`multipart/form-data`,
/// read by the API's upload reader, at most [`payments::MAX_CAMT_BYTES`]) or the pasted text.
async fn posted_camt(req: &HttpRequest, payload: web::Payload) -> Result<Vec<u8>, AppError> {
    let multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    if multipart {
        let up =
            crate::http::documents_api::read_upload(req, payload, payments::MAX_CAMT_BYTES).await?;
        // No file chosen is an empty file: the command refuses it at `file`.
        return Ok(up.bytes.unwrap_or_default());
    }
    use actix_web::FromRequest;
    let form = Form::from_request(req, &mut payload.into_inner()).await?;
    Ok(form.get("file").unwrap_or_default().as_bytes().to_vec())
}

/// Imports a camt.054 file uploaded or pasted into the form: the API's `payments::import`, all or
/// nothing. A refused file comes back in the text box (when it is text), its errors at it.
pub async fn import(env: PageEnv, req: HttpRequest, payload: web::Payload) -> PageResult {
    let actor = finance(&env)?;
    let bytes = match posted_camt(&req, payload).await {
        Ok(b) => b,
        Err(e) => {
            let place = place_section(&env, None, FormErrors::default()).await?;
            return match errors_of(&e, env.lang, false) {
                Some(errors) => {
                    render_import(
                        &env,
                        actix_web::ResponseError::status_code(&e),
                        String::new(),
                        None,
                        errors,
                        place,
                    )
                    .await
                }
                None => Err(env.fail(e)),
            };
        }
    };
    let file = String::from_utf8(bytes.clone()).unwrap_or_default();
    let state = env.state.clone();
    let outcome = crate::http::blocking(move || {
        let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
        state
            .svc
            .write(|c| payments::import(c, &actor, &bytes, now, today))
    })
    .await;
    let place = place_section(&env, None, FormErrors::default()).await?;
    match outcome {
        // The file is not shown again once imported: the answer is the page.
        Ok(v) => {
            render_import(
                &env,
                StatusCode::OK,
                String::new(),
                Some(import_result(&v, env.lang)),
                FormErrors::default(),
                place,
            )
            .await
        }
        Err(e) => match errors_of(&e, env.lang, false) {
            Some(errors) => {
                render_import(
                    &env,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    file,
                    None,
                    errors,
                    place,
                )
                .await
            }
            None => Err(env.fail(e)),
        },
    }
}

/// Finance places (part of) a payment that matched no invoice on an invoice: the API's
/// `payments::allocate`. Placed, the invoice's page shows it; refused, the form says at its field.
pub async fn place_payment(env: PageEnv, form: Form) -> PageResult {
    let actor = finance(&env)?;
    let lang = env.lang;
    let payment = form.get("payment").unwrap_or_default().trim().to_string();
    let invoice = form
        .get("invoice_id")
        .unwrap_or_default()
        .trim()
        .to_string();
    let raw = form
        .get("place_amount")
        .unwrap_or_default()
        .trim()
        .to_string();
    let mut errors = FormErrors::default();
    let mut refuse = |name: &str, key: &str| {
        errors.fields.push(FieldMessage {
            anchor: anchor(name),
            field: name.to_string(),
            message: t(lang, key),
        });
    };
    if payment.is_empty() {
        refuse("payment", "billing.place.error_payment");
    }
    if invoice.is_empty() {
        refuse("invoice_id", "billing.place.error_invoice");
    }
    let ore = kronor_to_ore(&raw);
    if ore.is_none() {
        refuse("place_amount", "billing.place.error_amount");
    }
    let outcome = match ore {
        Some(amount_ore) if errors.fields.is_empty() => {
            let input = payments::AllocationInput {
                invoice_id: invoice.clone(),
                amount_ore,
            };
            let state = env.state.clone();
            let id = payment.clone();
            Some(
                crate::http::blocking(move || {
                    let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
                    state
                        .svc
                        .write(|c| payments::allocate(c, &actor, &id, input, now, today))
                })
                .await,
            )
        }
        _ => None,
    };
    let errors = match outcome {
        Some(Ok(v)) => return Ok(env.see_other(&invoice_href(&v.invoice_id))),
        // The command's own words (what is left of the payment), at this form's field names.
        Some(Err(e)) => match FormErrors::of(&e, lang) {
            Some(mut errors) => {
                for f in &mut errors.fields {
                    if f.field == "amount_ore" {
                        f.field = "place_amount".into();
                        f.anchor = anchor("place_amount");
                    }
                    f.message = sentence(&f.message);
                }
                if !errors.fields.is_empty() {
                    errors.summary = t(lang, "common.form.fix_below");
                }
                errors
            }
            None => return Err(env.fail(e)),
        },
        None => {
            errors.summary = t(lang, "common.form.fix_below");
            errors.any = true;
            errors
        }
    };
    let place = place_section(&env, Some(form.entered()), errors).await?;
    render_import(
        &env,
        StatusCode::UNPROCESSABLE_ENTITY,
        String::new(),
        None,
        FormErrors::default(),
        place,
    )
    .await
}

// ---------- receipts of expense lines (issue 15, item 2) ----------

/// An expense line on the work-log page: its receipt's link, or the field to attach one.
#[derive(Serialize)]
struct ReceiptShown {
    id: String,
    label: String,
    amount: String,
    status: String,
    href: String,
    file_name: String,
    sha256: String,
    /// The upload field, for the register holder or finance of the line's CPUA.
    field: Option<Field>,
}

/// The error key of a line's receipt field (`receipt.<line>`).
fn receipt_key(line: &str) -> String {
    format!("receipt.{line}")
}

/// Every expense line the reader sees, with its receipt or, for who may attach one, the field.
fn receipts_shown(
    actor: &Actor,
    log: &WorkLogView,
    lang: Lang,
    errors: &FormErrors,
) -> Vec<ReceiptShown> {
    log.lines
        .iter()
        .filter(|w| w.kind == "expense")
        .map(|w| {
            let date = super::helpers::format_date(w.worked_on, lang);
            let label = format!("{}, {}, {}", w.activity, w.person_name, date);
            let field = (w.receipt.is_none() && authz::may_attach_receipt(actor, &w.cpua).is_ok())
                .then(|| {
                    let mut f = field(
                        lang,
                        &receipt_key(&w.id),
                        "file",
                        "billing.receipt.file",
                        Some("billing.receipt.file_hint"),
                        String::new(),
                        errors,
                        true,
                    );
                    f.name = "file".into();
                    f.label = t_with(lang, "billing.receipt.file", &[("line", label.as_str())]);
                    f
                });
            ReceiptShown {
                id: w.id.clone(),
                amount: amount(w.amount_ore, "SEK", lang),
                status: t(
                    lang,
                    match (&w.receipt, w.status.as_str()) {
                        (Some(_), _) => "billing.receipt.attached",
                        (None, "approved") => "billing.receipt.approved_without",
                        (None, _) => "billing.receipt.missing",
                    },
                ),
                href: w
                    .receipt
                    .as_ref()
                    .map(|r| r.href.clone())
                    .unwrap_or_default(),
                file_name: w
                    .receipt
                    .as_ref()
                    .map(|r| r.file_name.clone())
                    .unwrap_or_default(),
                sha256: w
                    .receipt
                    .as_ref()
                    .map(|r| r.sha256.clone())
                    .unwrap_or_default(),
                label,
                field,
            }
        })
        .collect()
}

/// A refused receipt, said at the line's field: a field the API names, or the refusal as a whole
/// (too large, already attached, not multipart).
fn receipt_errors(e: &AppError, lang: Lang, line: &str) -> Option<FormErrors> {
    let key = receipt_key(line);
    let whole = |m: &crate::domain::messages::Message| FormErrors {
        summary: t(lang, "common.form.fix_below"),
        fields: vec![FieldMessage {
            anchor: anchor(&key),
            field: key.clone(),
            message: sentence(&m.render(lang)),
        }],
        details: vec![],
        any: true,
    };
    match e {
        AppError::PayloadTooLarge(m)
        | AppError::UnsupportedMediaType(m)
        | AppError::Conflict(m)
        | AppError::BadRequest(m) => Some(whole(m)),
        _ => {
            let mut f = FormErrors::of(e, lang)?;
            if f.fields.is_empty() {
                let p = crate::http::problem::problem_in(e, lang);
                f.fields.push(FieldMessage {
                    anchor: anchor(&key),
                    field: key.clone(),
                    message: sentence(&p.detail),
                });
            }
            for m in &mut f.fields {
                m.field = key.clone();
                m.anchor = anchor(&key);
                m.message = sentence(&m.message);
            }
            f.summary = t(lang, "common.form.fix_below");
            Some(f)
        }
    }
}

/// `POST /collaborations/{id}/work-log/{line}/receipt`: the receipt upload of an expense line,
/// through the API's reader and command (`app::billing_receipts`).
pub async fn attach_receipt(
    env: PageEnv,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> PageResult {
    let actor = env.actor()?.clone();
    let (id, line) = path.into_inner();
    let state = env.state.clone();
    let result: Result<(), AppError> = async {
        let (s, a, i, l) = (state.clone(), actor.clone(), id.clone(), line.clone());
        crate::http::blocking(move || crate::app::billing_receipts::may_attach(&s.svc, &a, &i, &l))
            .await?;
        let limit = crate::app::billing_receipts::limit(state.settings.documents.max_bytes);
        let up = crate::http::documents_api::read_upload(&req, payload, limit).await?;
        let checked = crate::app::billing_receipts::check(up)?;
        let (s, a, i, l) = (state.clone(), actor.clone(), id.clone(), line.clone());
        crate::http::blocking(move || {
            let now = s.svc.clock.now();
            crate::app::billing_receipts::attach(
                &s.svc,
                s.documents.as_ref(),
                &a,
                &i,
                &l,
                checked,
                now,
            )
        })
        .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(env.see_other(&format!("{}#h-receipts", work_log_href(&id)))),
        Err(e) => match receipt_errors(&e, env.lang, &line) {
            Some(errors) => {
                let status = match e {
                    AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                    AppError::Conflict(_) => StatusCode::CONFLICT,
                    AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                render_work_log(
                    &env,
                    status,
                    id,
                    Some((Posted::Receipt, Entered::default())),
                    errors,
                )
                .await
            }
            None => Err(env.fail(e)),
        },
    }
}

// ---------- editing a draft (issue 15, item 3) ----------

/// The edit form of a draft: its references, terms and the lines it holds.
#[derive(Serialize)]
struct EditForm {
    revision: i32,
    fields: Vec<Field>,
}

/// The edit form, filled with what was entered when the edit came back refused, else the draft.
fn edit_form(
    v: &InvoiceView,
    draftable: &[billing::WorkLineView],
    lang: Lang,
    entered: Option<&Entered>,
    errors: &FormErrors,
) -> Option<EditForm> {
    if v.status != "draft" || v.kind != "invoice" {
        return None;
    }
    let posted = entered.filter(|e| e.value("_form") == "edit");
    let value = |name: &str, current: String| match posted {
        Some(e) => e.value(name),
        None => current,
    };
    let text = |name: &str, label: &str, hint: Option<&str>, current: String| {
        field(
            lang,
            name,
            "text",
            label,
            hint,
            value(name, current),
            errors,
            false,
        )
    };
    let mut lines = field(
        lang,
        "lines",
        "checkboxes",
        "billing.edit.lines",
        Some("billing.edit.lines_hint"),
        String::new(),
        errors,
        true,
    );
    lines.name = "lines[]".into();
    lines.options = draftable
        .iter()
        .map(|w| {
            let on_draft = w.invoice_id.as_deref() == Some(v.id.as_str());
            Opt {
                value: w.id.clone(),
                label: format!(
                    "{}, {}, {}: {}",
                    w.activity,
                    w.person_name,
                    super::helpers::format_date(w.worked_on, lang),
                    amount(w.amount_ore, "SEK", lang)
                ),
                selected: match posted {
                    Some(e) => e.has("lines", &w.id),
                    None => on_draft,
                },
                id: format!("f-lines-{}", w.id),
            }
        })
        .collect();
    Some(EditForm {
        revision: v.revision,
        fields: vec![
            text(
                "buyer_reference",
                "billing.draft.buyer_reference",
                Some("billing.draft.reference_hint"),
                v.buyer_reference.clone().unwrap_or_default(),
            ),
            text(
                "order_number",
                "billing.draft.order_number",
                None,
                v.order_number.clone().unwrap_or_default(),
            ),
            {
                let mut f = field(
                    lang,
                    "payment_terms_days",
                    "number",
                    "billing.draft.terms",
                    Some("billing.draft.terms_hint"),
                    value("payment_terms_days", v.payment_terms_days.to_string()),
                    errors,
                    false,
                );
                // Read as a number, as the API takes it.
                f.name = "payment_terms_days:int".into();
                f
            },
            lines,
        ],
    })
}

/// The edit form as the API's [`billing::DraftEditInput`]: no line ticked is an empty list, so the
/// API says that one is needed.
fn edit_json(form: &Form) -> Value {
    let mut v = form.to_json();
    if let Some(o) = v.as_object_mut() {
        o.entry("lines").or_insert_with(|| json!([]));
        o.remove("_form");
    }
    v
}

/// `POST /invoices/{id}/edit`: the API's `edit_draft`. A stale form (the draft changed since it was
/// opened) comes back 409 with the draft as it is now; other refusals 422 at their fields.
pub async fn edit_draft(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let actor = finance(&env)?;
    let outcome =
        match crate::http::extract::parse_value::<billing::DraftEditInput>(edit_json(&form)) {
            Err(e) => Err(e),
            Ok(input) => {
                let (state, iid) = (env.state.clone(), id.clone());
                crate::http::blocking(move || {
                    let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
                    state
                        .svc
                        .write(|c| billing::edit_draft(c, &actor, &iid, input, now, today))
                })
                .await
            }
        };
    match outcome {
        Ok(v) => Ok(env.see_other(&format!("{}#h-edit", invoice_href(&v.id)))),
        Err(e) => {
            let Some(mut errors) = errors_of(&e, env.lang, true) else {
                return Err(env.fail(e));
            };
            if let AppError::Conflict(_) = e {
                // Stale or issued meanwhile: the page shows the draft as it is now.
                errors.summary = t(env.lang, "billing.edit.stale");
                errors.fields.clear();
                return render_invoice(&env, StatusCode::CONFLICT, id, None, errors).await;
            }
            render_invoice(
                &env,
                StatusCode::UNPROCESSABLE_ENTITY,
                id,
                Some(form.entered()),
                errors,
            )
            .await
        }
    }
}

// ---------- crediting chosen lines (issue 15, item 4) ----------

/// The credit form's lines to tick and, for each, the quantity to credit when not the whole line.
fn credit_line_fields(v: &InvoiceView, lang: Lang, e: &Entered, errors: &FormErrors) -> Vec<Field> {
    let mut lines = field(
        lang,
        "credit_lines",
        "checkboxes",
        "billing.credit.lines",
        Some("billing.credit.lines_hint"),
        String::new(),
        errors,
        false,
    );
    lines.name = "credit_lines[]".into();
    lines.options = v
        .lines
        .iter()
        .map(|l| Opt {
            value: l.number.to_string(),
            label: t_with(
                lang,
                "billing.credit.line_label",
                &[
                    ("number", l.number.to_string().as_str()),
                    ("description", l.description.as_str()),
                    ("net", amount(l.net_ore, &v.currency, lang).as_str()),
                ],
            ),
            selected: e.has("credit_lines", &l.number.to_string()),
            id: format!("f-credit_lines-{}", l.number),
        })
        .collect();
    let mut out = vec![lines];
    for l in &v.lines {
        let name = format!("quantity_{}", l.number);
        let mut f = field(
            lang,
            &name,
            "text",
            "billing.credit.quantity",
            None,
            e.value(&name),
            errors,
            false,
        );
        f.label = t_with(
            lang,
            "billing.credit.quantity",
            &[("number", l.number.to_string().as_str())],
        );
        f.hint = t_with(
            lang,
            "billing.credit.quantity_hint",
            &[
                ("quantity", hundredths(l.quantity_hundredths, lang).as_str()),
                ("unit", unit_name(&l.unit_code, lang).as_str()),
            ],
        );
        f.describedby = if f.error.is_empty() {
            f.hint_id.clone()
        } else {
            format!("{} {}", f.hint_id, f.error_id)
        };
        out.push(f);
    }
    out
}

/// The ticked lines as `lines` and any quantity given for one of them as `quantities` (people
/// write `1,25`; what does not read as a quantity is sent as 0, which the API refuses at the line).
fn credit_lines_json(form: &Form, m: &mut Map<String, Value>) {
    let mut lines = Vec::new();
    let mut quantities = Vec::new();
    for (k, raw) in &form.0 {
        if k != "credit_lines[]" && k != "credit_lines" {
            continue;
        }
        let Ok(n) = raw.trim().parse::<u32>() else {
            lines.push(Value::from(raw.trim()));
            continue;
        };
        match form
            .get(&format!("quantity_{n}"))
            .map(str::trim)
            .filter(|q| !q.is_empty())
        {
            Some(q) => quantities.push(json!({
                "line": n,
                "quantity_hundredths": kronor_to_ore(q).unwrap_or(0),
            })),
            None => lines.push(Value::from(n)),
        }
    }
    if lines.is_empty() && quantities.is_empty() {
        // Nothing ticked: the API's own refusal, said at the lines.
        m.insert("lines".into(), json!([]));
    }
    if !lines.is_empty() {
        m.insert("lines".into(), Value::Array(lines));
    }
    if !quantities.is_empty() {
        m.insert("quantities".into(), Value::Array(quantities));
    }
}

/// A refused credit note: at the page's fields (the lines, a line's quantity, the amount), 422; a
/// credit note refused as a whole (the invoice is not issued) 409.
async fn answer_credit(env: &PageEnv, id: String, e: AppError, form: &Form) -> PageResult {
    let Some(mut errors) = errors_of(&e, env.lang, true) else {
        return Err(env.fail(e));
    };
    for f in &mut errors.fields {
        if f.field == "lines" {
            f.field = "credit_lines".into();
            f.message = t(env.lang, "billing.credit.error_lines");
        } else if let Some(n) = f.field.strip_prefix("quantities.") {
            f.field = format!("quantity_{n}");
            f.message = t(env.lang, "billing.credit.error_quantity");
        } else {
            continue;
        }
        f.anchor = anchor(&f.field);
    }
    let status = match e {
        AppError::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    render_invoice(env, status, id, Some(form.entered()), errors).await
}

// ---------- the export's period (issue 15, item 8) ----------

#[derive(Serialize)]
struct ExportPage {
    fields: Vec<Field>,
    lang: &'static str,
    errors: FormErrors,
}

/// The errors of an export period, at `from` and `to` in the page's words: a day missing, not a
/// date, the last day before the first, or a period longer than the export allows (the API's own
/// rule, `payments::period`).
fn export_errors(from: &str, to: &str, e: &AppError, lang: Lang) -> FormErrors {
    let mut fields = Vec::new();
    let mut at = |field: &str, message: String| {
        fields.push(FieldMessage {
            anchor: anchor(field),
            field: field.to_string(),
            message,
        })
    };
    if from.is_empty() {
        at("from", t(lang, "billing.export.error_from_missing"));
    }
    if to.is_empty() {
        at("to", t(lang, "billing.export.error_to_missing"));
    }
    if !from.is_empty() && !to.is_empty() {
        let p = crate::http::problem::problem_in(e, lang);
        let field = p
            .errors
            .first()
            .map(|f| f.field.clone())
            .unwrap_or_else(|| "to".into());
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let message = match (day(from), day(to)) {
            (Some(f), Some(t2)) if t2 < f => t(lang, "billing.export.error_order"),
            (Some(_), Some(_)) => t_with(
                lang,
                "billing.export.error_long",
                &[("max", payments::MAX_EXPORT_DAYS.to_string().as_str())],
            ),
            _ => t(lang, "billing.export.error_date"),
        };
        at(&field, message);
    }
    FormErrors {
        summary: t(lang, "common.form.fix_below"),
        fields,
        details: vec![],
        any: true,
    }
}

/// `GET /exports/invoices?from=&to=`: a valid period goes on to the API's CSV
/// (`/api/v1/exports/invoices.csv`); a refused one comes back as the form, 422, with each message
/// at its field and what was entered kept.
pub async fn export(env: PageEnv, req: HttpRequest) -> PageResult {
    finance(&env)?;
    let lang = env.lang;
    let pairs = crate::http::extract::query_pairs(&req, &["from", "to", "lang"])
        .map_err(|e| env.fail(e))?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let (from, to) = (get("from"), get("to"));
    let csv_lang = if get("lang") == "en" || (get("lang").is_empty() && lang == Lang::En) {
        "en"
    } else {
        "sv"
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match payments::period(opt(&from).as_deref(), opt(&to).as_deref()) {
        Ok(p) => {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("from", &p.from.to_string());
            q.append_pair("to", &p.to.to_string());
            q.append_pair("lang", csv_lang);
            Ok(env.see_other(&format!("/api/v1/exports/invoices.csv?{}", q.finish())))
        }
        Err(e) => {
            let errors = export_errors(&from, &to, &e, lang);
            let fields = vec![
                field(
                    lang,
                    "from",
                    "date",
                    "billing.export.from",
                    None,
                    from.clone(),
                    &errors,
                    true,
                ),
                field(
                    lang,
                    "to",
                    "date",
                    "billing.export.to",
                    Some("billing.export.to_hint"),
                    to.clone(),
                    &errors,
                    true,
                ),
            ];
            env.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "billing_export",
                "billing.export.title",
                ExportPage {
                    fields,
                    lang: csv_lang,
                    errors,
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(p: &[(&str, &str)]) -> Form {
        Form(
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn amounts_and_hours_follow_the_language_and_carry_their_sign() {
        assert_eq!(amount(1_250_000, "SEK", Lang::Sv), "12\u{a0}500,00\u{a0}kr");
        assert_eq!(amount(1_250_000, "SEK", Lang::En), "SEK\u{a0}12,500.00");
        assert_eq!(amount(-237_500, "SEK", Lang::Sv), "-2\u{a0}375,00\u{a0}kr");
        assert_eq!(hundredths(150, Lang::Sv), "1,50");
        assert_eq!(hundredths(150, Lang::En), "1.50");
        assert_eq!(hundredths(-200, Lang::Sv), "-2");
    }

    #[test]
    fn the_log_form_reads_hours_and_kronor_and_the_reason_as_the_acknowledgement() {
        let v = work_line_json(&form(&[
            ("person_name", "Eva Lind"),
            ("worked_on", "2026-09-01"),
            ("activity", "Uttag"),
            ("kind", "hours"),
            ("hours", "1,5"),
            ("amount", "99"),
            ("ceiling_reason", " Utökat uttag "),
        ]));
        assert_eq!(v["hours_hundredths"], 150);
        assert!(v.get("amount_ore").is_none(), "{v}");
        assert_eq!(v["acknowledge"][0]["code"], ledger::CEILING_PASSED);
        assert_eq!(v["acknowledge"][0]["reason"], "Utökat uttag");
        let v = work_line_json(&form(&[("kind", "expense"), ("amount", "1 845,50")]));
        assert_eq!(v["amount_ore"], 184_550);
        assert!(v.get("acknowledge").is_none());
        // Not a number: sent as written, so the API names the field.
        let v = work_line_json(&form(&[("kind", "hours"), ("hours", "två")]));
        assert_eq!(v["hours_hundredths"], "två");
    }

    #[test]
    fn a_refusal_at_the_apis_fields_is_put_at_the_pages_fields_in_plain_words() {
        let e = AppError::invalid("hours_hundredths", crate::msg!("worklog.hours"));
        let errors = errors_of(&e, Lang::Sv, false).expect("a form error");
        assert_eq!(errors.fields[0].field, "hours");
        assert_eq!(errors.fields[0].anchor, "f-hours");
        assert!(
            !errors.fields[0].message.contains("hundradel"),
            "{errors:?}"
        );
        let c = credit_json(&form(&[
            ("reason", "Fel"),
            ("scope", "amount"),
            ("amount", "2 375"),
        ]));
        assert_eq!(c["amount_ore"], 237_500);
        let c = credit_json(&form(&[
            ("reason", "Fel"),
            ("scope", "full"),
            ("amount", "2"),
        ]));
        assert!(c.get("amount_ore").is_none());
    }
}
