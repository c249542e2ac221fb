//! Pages (webbsidor): the service's front door for people, server-rendered HTML in Swedish and
//! English that works without JavaScript.
//!
//! - Templates are handlebars files under `src/web/templates/`, compiled into the binary, in strict
//!   mode (a template that names a missing field fails to render, and a test renders each one).
//! - Every word comes from the page catalogues ([`text`]); dates, times and amounts are formatted
//!   per language, times in Europe/Stockholm ([`helpers`]).
//! - Pages call the same commands and queries as the API (the `app` layer): there is no second
//!   write path. Forms are read into the API's own input types ([`form`]).
//! - Who may open a page is decided by the one authentication middleware
//!   ([`crate::http::authenticate`]), from the page table here ([`is_public_page`]); a page
//!   reached without a session is answered with a redirect to the sign-in page.
//! - A CSP without `unsafe-inline`: styles and scripts only from `/assets/` ([`PAGE_CSP`]).
pub mod admin;
pub mod assets;
pub mod billing;
pub mod casework;
pub mod collaborations;
pub mod commands;
pub mod data_users;
pub mod documents;
pub mod finance;
pub mod form;
pub mod helpers;
pub mod intake;
pub mod queue;
pub mod review;
pub mod session;
pub mod signing;
pub mod text;
pub mod todo;
pub mod webhooks;

use actix_web::dev::Payload;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use std::sync::{LazyLock, OnceLock};

use crate::app::AppError;
use crate::domain::lang::Lang;
use crate::domain::role::{Actor, Role};
use crate::http::AppState;

/// The policy of every page: nothing inline, everything from samverkan's own `/assets/`, forms
/// only to samverkan itself.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The cookie that remembers the language chosen with the switch.
pub const LANG_COOKIE: &str = "samverkan-lang";

/// The templates, each `(name, source)`. An area's pages add theirs here.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("templates/layout.hbs")),
    ("error", include_str!("templates/error.hbs")),
    ("sign_in", include_str!("templates/sign_in.hbs")),
    (
        "collaborations",
        include_str!("templates/collaborations.hbs"),
    ),
    ("case", include_str!("templates/case.hbs")),
    ("case_form", include_str!("templates/case_form.hbs")),
    ("case_field", include_str!("templates/case_field.hbs")),
    ("case_decision", include_str!("templates/case_decision.hbs")),
    ("form_errors", include_str!("templates/form_errors.hbs")),
    ("role", include_str!("templates/role.hbs")),
    ("admin", include_str!("templates/admin.hbs")),
    ("admin_field", include_str!("templates/admin_field.hbs")),
    (
        "admin_organisations",
        include_str!("templates/admin_organisations.hbs"),
    ),
    (
        "admin_registers",
        include_str!("templates/admin_registers.hbs"),
    ),
    (
        "admin_register",
        include_str!("templates/admin_register.hbs"),
    ),
    ("admin_people", include_str!("templates/admin_people.hbs")),
    ("finance", include_str!("templates/finance.hbs")),
    ("finance_case", include_str!("templates/finance_case.hbs")),
    ("queue", include_str!("templates/queue.hbs")),
    (
        "queue_feasibility",
        include_str!("templates/queue_feasibility.hbs"),
    ),
    ("review", include_str!("templates/review.hbs")),
    ("intake", include_str!("templates/intake.hbs")),
    ("signing", include_str!("templates/signing.hbs")),
    (
        "signing_signer_field",
        include_str!("templates/signing_signer_field.hbs"),
    ),
    (
        "case_documents",
        include_str!("templates/case_documents.hbs"),
    ),
    ("todo", include_str!("templates/todo.hbs")),
    ("case_casework", include_str!("templates/case_casework.hbs")),
    // Issue 15: the work log and the invoices.
    (
        "billing_work_log",
        include_str!("templates/billing_work_log.hbs"),
    ),
    (
        "billing_invoices",
        include_str!("templates/billing_invoices.hbs"),
    ),
    (
        "billing_invoice",
        include_str!("templates/billing_invoice.hbs"),
    ),
    (
        "case_data_users",
        include_str!("templates/case_data_users.hbs"),
    ),
    ("undertakings", include_str!("templates/undertakings.hbs")),
    ("webhooks", include_str!("templates/webhooks.hbs")),
    ("webhooks_log", include_str!("templates/webhooks_log.hbs")),
    // Issue 15: the payments import page.
    (
        "billing_payments_import",
        include_str!("templates/billing_payments_import.hbs"),
    ),
    // Issue 15, item 8: the export's period, its errors at the fields.
    (
        "billing_export",
        include_str!("templates/billing_export.hbs"),
    ),
];

fn registry() -> Result<handlebars::Handlebars<'static>, String> {
    let mut hb = handlebars::Handlebars::new();
    hb.set_strict_mode(true);
    helpers::register(&mut hb);
    for (name, src) in TEMPLATES {
        hb.register_template_string(name, *src)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    Ok(hb)
}

/// The compiled templates. A template that does not compile leaves the registry empty, so every
/// page answers with the plain error text (and the tests fail).
fn pages() -> &'static handlebars::Handlebars<'static> {
    static HB: LazyLock<handlebars::Handlebars<'static>> = LazyLock::new(|| {
        registry().unwrap_or_else(|e| {
            tracing::error!(error = %e, "the page templates do not compile");
            handlebars::Handlebars::new()
        })
    });
    &HB
}

// ---------- the request as a page sees it ----------

/// What every page knows about its request: the language, who is signed in (if anyone), the
/// session's CSRF token for forms, and the path (for the language switch to come back to).
#[derive(Clone)]
pub struct PageEnv {
    pub lang: Lang,
    pub actor: Option<Actor>,
    pub csrf: Option<String>,
    pub path: String,
    pub state: web::Data<AppState>,
}

/// The language of a page request: the language cookie, else `Accept-Language`, else Swedish.
pub fn page_lang(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .unwrap_or_else(|| crate::http::problem::request_lang(req))
}

impl FromRequest for PageEnv {
    type Error = AppError;
    type Future = std::future::Ready<Result<PageEnv, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let csrf = req
            .extensions()
            .get::<crate::http::auth_routes::CurrentSession>()
            .filter(|s| s.cookie)
            .map(|s| crate::app::login::csrf_token_for(&s.token));
        std::future::ready(match state {
            Some(state) => Ok(PageEnv {
                lang: page_lang(req),
                actor: req.extensions().get::<Actor>().cloned(),
                csrf,
                path: match req.query_string() {
                    "" => req.path().to_string(),
                    q => format!("{}?{q}", req.path()),
                },
                state,
            }),
            None => Err(AppError::Internal(anyhow::anyhow!("no application state"))),
        })
    }
}

/// A page's failure: the error, rendered as an HTML page in the request's language.
#[derive(Debug)]
pub struct PageError {
    pub lang: Lang,
    pub error: AppError,
    /// Who asked, so the error page keeps the signed-in frame (name, role, sign-out).
    pub who: Box<Who>,
}

/// Who a page is for: the language, the signed-in actor and session CSRF token (if any), and the
/// address asked for.
#[derive(Debug, Clone, Default)]
pub struct Who {
    pub lang: Lang,
    pub actor: Option<Actor>,
    pub csrf: Option<String>,
    pub path: String,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.error.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        error_page(&self.who, &self.error, None)
    }
}

/// What a page handler answers.
pub type PageResult = Result<HttpResponse, PageError>;

impl PageEnv {
    /// The signed-in actor (every page but the public ones has one: the middleware saw to it).
    pub fn actor(&self) -> Result<&Actor, PageError> {
        self.actor.as_ref().ok_or_else(|| {
            self.fail(AppError::Unauthenticated(crate::msg!(
                "unauthenticated.unknown_session"
            )))
        })
    }

    /// The error as this page's failure.
    pub fn fail(&self, error: AppError) -> PageError {
        PageError {
            lang: self.lang,
            error,
            who: Box::new(self.who()),
        }
    }

    /// Who the page is for.
    pub fn who(&self) -> Who {
        Who {
            lang: self.lang,
            actor: self.actor.clone(),
            csrf: self.csrf.clone(),
            path: self.path.clone(),
        }
    }

    /// Runs database work off the async workers; an error becomes this page's failure.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&web::Data<AppState>) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, PageError> {
        let state = self.state.clone();
        crate::http::blocking(move || f(&state))
            .await
            .map_err(|e| self.fail(e))
    }

    /// The text for `key` in the page's language.
    pub fn t(&self, key: &str) -> String {
        text::t(self.lang, key)
    }

    /// Renders `template` inside the layout with the page's title (a catalogue key) and data
    /// (reached in the template as `page`).
    pub fn render(&self, template: &str, title_key: &str, page: impl Serialize) -> PageResult {
        self.render_status(StatusCode::OK, template, title_key, page)
    }

    /// As [`render`](Self::render), with another status (a form with errors answers 422).
    pub fn render_status(
        &self,
        status: StatusCode,
        template: &str,
        title_key: &str,
        page: impl Serialize,
    ) -> PageResult {
        let chrome = Chrome::of(&self.who(), &self.t(title_key));
        let data = Root {
            lang: self.lang.code(),
            chrome: &chrome,
            page,
        };
        match pages().render(template, &data) {
            Ok(html) => Ok(html_response(status, html)),
            Err(e) => Err(self.fail(AppError::Internal(anyhow::anyhow!(
                "page {template} did not render: {e}"
            )))),
        }
    }

    /// A redirect after a successful form (303 See Other, so a reload does not post again).
    pub fn see_other(&self, to: &str) -> HttpResponse {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, to.to_string()))
            .finish()
    }
}

fn html_response(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html)
}

#[derive(Serialize)]
struct Root<'a, T: Serialize> {
    lang: &'static str,
    chrome: &'a Chrome,
    page: T,
}

/// One link of the navigation.
#[derive(Serialize)]
pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

/// What the layout shows around every page.
#[derive(Serialize)]
pub struct Chrome {
    pub title: String,
    pub service: String,
    /// The language switch: the other language's code, its name in itself, and where to come back.
    pub other_lang: &'static str,
    pub other_lang_name: String,
    /// The switch's link, coming back to this very address (query and all).
    pub lang_href: String,
    pub csrf: String,
    pub signed_in: bool,
    pub user_name: String,
    pub role_name: String,
    pub nav: Vec<NavItem>,
}

impl Chrome {
    fn of(who: &Who, title: &str) -> Chrome {
        let lang = who.lang;
        let other = match lang {
            Lang::Sv => Lang::En,
            Lang::En => Lang::Sv,
        };
        let (signed_in, user_name, role_name, nav) = match &who.actor {
            Some(a) => (
                true,
                a.name.clone(),
                role_name(lang, a.role),
                nav_for(lang, &who.path, a.role),
            ),
            None => (false, String::new(), String::new(), Vec::new()),
        };
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        next.append_pair("next", if who.path.is_empty() { "/" } else { &who.path });
        Chrome {
            title: title.to_string(),
            service: text::t(lang, "common.service"),
            other_lang: other.code(),
            other_lang_name: text::t(other, "common.lang.self"),
            lang_href: format!("/language/{}?{}", other.code(), next.finish()),
            csrf: who.csrf.clone().unwrap_or_default(),
            signed_in,
            user_name,
            role_name,
            nav,
        }
    }
}

/// A role's name in the language.
pub fn role_name(lang: Lang, role: Role) -> String {
    text::t(lang, &format!("common.role.{}", role.code()))
}

/// The pages a role works from, in the order its navigation shows them.
fn nav_for(lang: Lang, here: &str, role: Role) -> Vec<NavItem> {
    let mut items: Vec<(&'static str, &'static str)> =
        vec![("/collaborations", "common.nav.collaborations")];
    for (href, key, roles) in NAV {
        if roles.contains(&role) {
            items.push((href, key));
        }
    }
    let path = here.split('?').next().unwrap_or("");
    items
        .into_iter()
        .map(|(href, key)| NavItem {
            href,
            label: text::t(lang, key),
            current: path == href,
        })
        .collect()
}

/// Navigation entries beyond the collaborations list: `(href, text key, roles that see it)`. An
/// area's pages add theirs here.
const NAV: &[(&str, &str, &[Role])] = &[
    ("/intake", "intake.nav", &[Role::CompanyRepresentative]),
    (
        "/queue",
        "queue.nav",
        &[Role::CpuaLegal, Role::RegisterHolder],
    ),
    (
        "/feasibility",
        "queue.feasibility.nav",
        &[Role::RegisterHolder],
    ),
    ("/finance", "finance.nav", &[Role::Finance]),
    ("/admin", "admin.nav", &[Role::Administrator]),
    (
        "/admin/people",
        "admin.people.nav",
        &[Role::CompanyRepresentative],
    ),
    (
        "/admin/registers",
        "admin.registers.nav",
        &[Role::CpuaLegal],
    ),
    // Issue 16: every role has a to-do list.
    (
        "/todo",
        "todo.nav",
        &[
            Role::CompanyRepresentative,
            Role::ResearchPrincipalRepresentative,
            Role::RegisterHolder,
            Role::CpuaLegal,
            Role::Finance,
            Role::Administrator,
        ],
    ),
    // Issue 15: finance's invoices.
    ("/invoices", "billing.nav", &[Role::Finance]),
    // Issue 16 item 6: the person's own confidentiality undertakings, whatever the role.
    (
        "/undertakings",
        "datausers.nav",
        &[
            Role::CompanyRepresentative,
            Role::ResearchPrincipalRepresentative,
            Role::RegisterHolder,
            Role::CpuaLegal,
            Role::Finance,
            Role::Administrator,
        ],
    ),
    // Issue 16 item 8: who manages the organisation's webhook subscriptions.
    (
        "/webhooks",
        "webhooks.nav",
        &[
            Role::CpuaLegal,
            Role::CompanyRepresentative,
            Role::ResearchPrincipalRepresentative,
        ],
    ),
];

/// An error as a page: its title and text in the language, and the request id to quote, in the
/// frame of whoever asked (signed in or not).
pub fn error_page(who: &Who, e: &AppError, request_id: Option<String>) -> HttpResponse {
    let lang = who.lang;
    let status = e.status_code();
    if status.is_server_error() {
        tracing::error!(error = %e, "page failed");
    }
    let problem = crate::http::problem::problem_in(e, lang);
    #[derive(Serialize)]
    struct ErrorPage {
        status: u16,
        heading: String,
        detail: String,
        request_id: String,
        home: String,
    }
    let page = ErrorPage {
        status: status.as_u16(),
        heading: problem.title.clone(),
        detail: problem.detail.clone(),
        request_id: request_id.unwrap_or_default(),
        home: text::t(lang, "common.error.home"),
    };
    let chrome = Chrome::of(who, &page.heading);
    let body = pages().render(
        "error",
        &Root {
            lang: lang.code(),
            chrome: &chrome,
            page: &page,
        },
    );
    match body {
        Ok(html) => html_response(status, html),
        Err(err) => {
            tracing::error!(error = %err, "the error page did not render");
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(format!("{}\n{}", page.heading, page.detail))
        }
    }
}

/// The middleware's answer when a page request may not go on: to the sign-in page (coming back
/// here afterwards) when nobody is signed in, otherwise the error as a page.
pub fn refused(req: &HttpRequest, e: &AppError) -> HttpResponse {
    if matches!(e, AppError::Unauthenticated(_)) && req.method() == Method::GET {
        let here = match req.query_string() {
            "" => req.path().to_string(),
            q => format!("{}?{q}", req.path()),
        };
        let mut to = url::form_urlencoded::Serializer::new(String::new());
        to.append_pair("next", &here);
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/sign-in?{}", to.finish())))
            .finish();
    }
    let id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|r| r.to_string());
    let who = Who {
        lang: page_lang(req),
        actor: req.extensions().get::<Actor>().cloned(),
        csrf: req
            .extensions()
            .get::<crate::http::auth_routes::CurrentSession>()
            .filter(|s| s.cookie)
            .map(|s| crate::app::login::csrf_token_for(&s.token)),
        path: req.path().to_string(),
    };
    error_page(&who, e, id)
}

/// Whether a request for an address nothing serves comes from a person's browser: not under
/// `/api/`, `/auth/` or `/health/`, and asking for HTML.
pub fn wants_page(req: &HttpRequest) -> bool {
    let p = req.path();
    let machine = ["/api/", "/auth/", "/health/", "/metrics"]
        .iter()
        .any(|m| p.starts_with(m));
    !machine
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

// ---------- the page table ----------

/// Who may open a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAccess {
    /// Anyone (sign-in, language switch, style sheets).
    Public,
    /// A signed-in person.
    SignedIn,
}

struct PageRoute {
    method: Method,
    path: &'static str,
    access: PageAccess,
    route: fn(Method) -> actix_web::Route,
}

macro_rules! page_table {
    ($($access:ident $method:ident $path:literal => $module:ident :: $handler:ident),+ $(,)?) => {
        fn entries() -> &'static [PageRoute] {
            static E: OnceLock<Vec<PageRoute>> = OnceLock::new();
            E.get_or_init(|| vec![$(PageRoute {
                method: Method::$method,
                path: $path,
                access: PageAccess::$access,
                route: |m| web::method(m).to($module::$handler),
            }),+])
        }
    };
}

// Every page of the service, registered once. An area's pages add their lines here.
page_table! {
    Public GET "/" => session::home,
    Public GET "/sign-in" => session::sign_in_page,
    Public POST "/sign-in" => session::sign_in,
    Public GET "/language/{code}" => session::language,
    Public GET "/assets/{name}" => assets::asset,
    SignedIn POST "/sign-out" => session::sign_out,
    SignedIn GET "/role" => session::role_page,
    SignedIn POST "/role" => session::switch_role,
    SignedIn GET "/collaborations" => collaborations::list,
    SignedIn GET "/collaborations/{id}" => collaborations::case,
    SignedIn GET "/admin" => admin::overview,
    SignedIn GET "/admin/organisations" => admin::organisations,
    SignedIn POST "/admin/organisations" => admin::create_organisation,
    SignedIn GET "/admin/registers" => admin::registers,
    SignedIn GET "/admin/registers/{id}" => admin::register,
    SignedIn POST "/admin/registers/{id}/cpua" => admin::move_register,
    SignedIn POST "/admin/registers/{id}/patient-information" => admin::set_patient_information,
    SignedIn POST "/admin/registers/{id}/delegations" => admin::add_delegation,
    SignedIn POST "/admin/registers/{id}/delegations/{delegation}/revoke" => admin::revoke_delegation,
    SignedIn GET "/admin/people" => admin::people,
    SignedIn POST "/admin/people/invite" => admin::invite,
    SignedIn POST "/admin/people/grant" => admin::grant,
    SignedIn POST "/admin/people/revoke" => admin::revoke,
    SignedIn POST "/admin/people/invitations/revoke" => admin::revoke_invitation,
    SignedIn GET "/finance" => finance::list,
    SignedIn GET "/finance/{id}" => finance::case,
    SignedIn GET "/queue" => queue::queue,
    SignedIn GET "/feasibility" => queue::feasibility,
    SignedIn GET "/collaborations/{id}/agreements" => review::agreements,
    SignedIn POST "/collaborations/{id}/agreements/{number}/deviations" => review::add_deviation,
    SignedIn POST "/collaborations/{id}/commands" => commands::post,
    SignedIn GET "/intake" => intake::start,
    SignedIn POST "/intake" => intake::step,
    SignedIn GET "/collaborations/{id}/agreements/{number}/signing" => signing::page,
    SignedIn POST "/collaborations/{id}/agreements/{number}/signing/envelope" => signing::prepare,
    SignedIn POST "/collaborations/{id}/agreements/{number}/signing/sign" => signing::sign,
    SignedIn POST "/collaborations/{id}/agreements/{number}/signing/decline" => signing::decline,
    // Documents and attachments (issue 16).
    SignedIn POST "/collaborations/{id}/documents" => documents::upload,
    SignedIn POST "/collaborations/{id}/documents/{doc}/redact" => documents::redact,
    // Issue 16: the to-do list.
    SignedIn GET "/todo" => todo::page,
    // Issue 16: case handling on the case page.
    SignedIn POST "/collaborations/{id}/completion-requests" => casework::request_completion,
    SignedIn POST "/collaborations/{id}/completion-requests/{request}/answer" => casework::answer_completion,
    SignedIn POST "/collaborations/{id}/consultations" => casework::request_consultation,
    SignedIn POST "/collaborations/{id}/consultations/{consultation}/answer" => casework::answer_consultation,
    SignedIn POST "/collaborations/{id}/assignee" => casework::assign,
    SignedIn POST "/collaborations/{id}/case-number" => casework::set_case_number,
    // Issue 15: the work log and the invoices.
    SignedIn GET "/collaborations/{id}/work-log" => billing::work_log,
    SignedIn POST "/collaborations/{id}/work-log" => billing::log,
    SignedIn POST "/collaborations/{id}/work-log/{line}/approve" => billing::approve,
    SignedIn POST "/collaborations/{id}/invoices" => billing::create_draft,
    SignedIn GET "/invoices" => billing::invoices,
    SignedIn GET "/invoices/{id}" => billing::invoice,
    SignedIn POST "/invoices/{id}/issue" => billing::issue,
    SignedIn POST "/invoices/{id}/credit-notes" => billing::credit,
    // Issue 16 item 6: named data users on the case page, and the person's own undertakings.
    SignedIn POST "/collaborations/{id}/data-users" => data_users::add,
    SignedIn POST "/collaborations/{id}/data-users/{user}/decision" => data_users::decide,
    SignedIn POST "/collaborations/{id}/data-users/{user}/remove" => data_users::remove,
    SignedIn GET "/undertakings" => data_users::undertakings,
    SignedIn POST "/undertakings/{user}" => data_users::confirm,
    // Issue 16 item 8: the organisation's webhook subscriptions.
    SignedIn GET "/webhooks" => webhooks::page,
    SignedIn POST "/webhooks" => webhooks::create,
    SignedIn GET "/webhooks/{subscription}" => webhooks::log,
    SignedIn POST "/webhooks/{subscription}/delete" => webhooks::delete,
    // Issue 14: the organisation's signing policy (envelope expiry per CPUA).
    SignedIn POST "/admin/signing-policy" => admin::set_signing_policy,
    // Issue 15: payments on the invoice page, and the camt.054 import.
    SignedIn POST "/invoices/{id}/payments" => billing::record_payment,
    SignedIn GET "/payments/import" => billing::import_page,
    SignedIn POST "/payments/import" => billing::import,
    SignedIn POST "/payments/place" => billing::place_payment,
    // Issue 15, items 2-4: receipts of expense lines, editing a draft.
    SignedIn POST "/collaborations/{id}/work-log/{line}/receipt" => billing::attach_receipt,
    SignedIn POST "/invoices/{id}/edit" => billing::edit_draft,
    SignedIn GET "/exports/invoices" => billing::export,
}

fn defs() -> &'static crate::http::routes::PatternSet<PageAccess> {
    static D: OnceLock<crate::http::routes::PatternSet<PageAccess>> = OnceLock::new();
    D.get_or_init(|| {
        crate::http::routes::PatternSet::new(entries().iter().map(|e| (e.path, e.access)))
    })
}

/// The pages' path patterns, each once, in the order [`configure`] registers them.
pub fn page_paths() -> Vec<&'static str> {
    crate::http::routes::distinct_paths(entries().iter().map(|e| e.path))
}

/// Whether a path is one of the pages.
pub fn is_page(path: &str) -> bool {
    defs().any(path)
}

/// Whether a path is a page anyone may open.
pub fn is_public_page(path: &str) -> bool {
    // A path served by a public page and by no signed-in one.
    let mut public = false;
    for access in defs().matching(path) {
        if *access == PageAccess::SignedIn {
            return false;
        }
        public = true;
    }
    public
}

/// Registers every page: one resource per path, 405 with `Allow` for another method.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for path in page_paths() {
        let here: Vec<&PageRoute> = entries().iter().filter(|e| e.path == path).collect();
        let allow = here
            .iter()
            .map(|e| e.method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut resource = web::resource(path);
        for e in &here {
            resource = resource.route((e.route)(e.method.clone()));
        }
        cfg.service(resource.default_service(web::to(move |req: HttpRequest| {
            let allow = allow.clone();
            async move {
                let e = AppError::MethodNotAllowed(crate::msg!(
                    "method_not_allowed",
                    allow = allow.as_str()
                ));
                let who = Who {
                    lang: page_lang(&req),
                    ..Who::default()
                };
                let mut res = error_page(&who, &e, None);
                if let Ok(v) = header::HeaderValue::from_str(&allow) {
                    res.headers_mut().insert(header::ALLOW, v);
                }
                res
            }
        })));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_in_strict_mode() {
        registry().expect("every page template compiles");
    }

    #[test]
    fn pages_are_told_apart_from_the_api_and_the_public_ones_are_few() {
        assert!(is_page("/"));
        assert!(is_page("/collaborations"));
        assert!(is_page("/collaborations/abc"));
        assert!(!is_page("/api/v1/collaborations"));
        assert!(is_public_page("/sign-in"));
        assert!(is_public_page("/assets/app.css"));
        assert!(is_public_page("/language/en"));
        assert!(!is_public_page("/collaborations"));
        assert!(!is_public_page("/sign-out"));
        assert!(!is_public_page("/api/v1/me"));
    }

    #[test]
    fn every_text_key_a_template_uses_is_in_the_catalogue_and_every_key_is_used() {
        let t = text::texts();
        let mut used = std::collections::BTreeSet::new();
        let sources: Vec<String> = TEMPLATES
            .iter()
            .map(|(_, s)| s.to_string())
            .chain(rust_sources())
            .collect();
        for key in t.sv.keys() {
            let quoted = format!("\"{key}\"");
            if sources.iter().any(|s| s.contains(&quoted)) {
                used.insert(key.clone());
            }
        }
        for (name, src) in TEMPLATES {
            for piece in src.split("{{t \"").skip(1) {
                let key = piece.split('"').next().unwrap_or("");
                assert!(
                    t.sv.contains_key(key),
                    "template {name} uses {key}, which the catalogue lacks"
                );
            }
        }
        // Keys built at run time from a prefix (roles, steps) count as used through the prefix.
        let dynamic = [
            "common.role.",
            "common.step.",
            "common.lang.self",
            "case.missing_item.",
            "case.deadline.",
            "case.notice.",
            "case.notice_status.",
            // Issue 16: the to-do page's reasons, by the reason code.
            "todo.reason.",
        ];
        let unused: Vec<&String> =
            t.sv.keys()
                .filter(|k| !used.contains(*k) && !dynamic.iter().any(|d| k.starts_with(d)))
                // A singular (`<key>_one`) is used wherever its key is.
                .filter(|k| {
                    k.strip_suffix("_one")
                        .is_none_or(|base| !used.contains(base))
                })
                .collect();
        assert!(unused.is_empty(), "catalogue keys nothing uses: {unused:?}");
    }

    /// The Rust sources of the pages, which name keys too (titles, computed texts).
    fn rust_sources() -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/web");
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.path().extension().is_some_and(|x| x == "rs") {
                    if let Ok(s) = std::fs::read_to_string(e.path()) {
                        out.push(s);
                    }
                }
            }
        }
        out
    }
}
