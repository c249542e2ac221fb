//! The route table: every route of the service, registered once.
//!
//! Each line names a handler and who may call it. The handler's `#[utoipa::path]` annotation says its
//! method, path, parameters, body and answers; from this one table come
//!
//! - the actix routes ([`configure`]), grouped per path into one resource that answers a method it
//!   does not serve with 405 and `Allow`;
//! - the OpenAPI `paths` ([`TablePaths`], merged into [`super::openapi::document`]);
//! - the authentication decision ([`is_public`], used by [`super::authenticate`]).
//!
//! A handler that is not in the table is neither routed nor documented; one that is in the table is
//! both, with the same method and path, because the route is read from its documentation.
//!
//! Why not `utoipa-actix-web`: it registers each handler as its own actix resource (from actix's
//! `#[get]` macros), so a path served by two handlers loses the shared 405 with `Allow`, and it has no
//! place for who may call a route. This table keeps both, with no new dependency.
use actix_web::http::Method;
use actix_web::web;
use std::sync::OnceLock;
use utoipa::openapi::path::HttpMethod;
use utoipa::OpenApi;

use super::billing_api;
use super::billing_receipts_api;
use super::payments_api;
use super::{
    api, auth_routes, casework_api, data_users_api, documents_api, identity_api, mail, metrics,
    openapi, signing_api, webhooks_out_api,
};
use crate::app::AppError;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token (health, the API description and its page, local-mode sign-in).
    Public,
    /// A bearer token is required; the middleware answers 401 before the handler runs.
    Authenticated,
}

/// One line of the table: the handler's operation id (its function name), who may call it, and
/// how to make its actix route for a method.
struct Entry {
    operation_id: &'static str,
    access: Access,
    route: MakeRoute,
}

/// Makes a handler's actix route for a method.
type MakeRoute = fn(Method) -> actix_web::Route;

/// A registered route with the function that makes its actix route.
type Resolved = (RouteInfo, MakeRoute);

/// A registered route, as the router serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    /// The path template, with `{name}` for each path parameter (the same syntax in actix and OpenAPI).
    pub path: String,
    pub operation_id: String,
    pub access: Access,
}

impl RouteInfo {
    /// The names of the path parameters, in order.
    pub fn path_parameters(&self) -> Vec<String> {
        self.path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string()))
            .collect()
    }
}

macro_rules! route_table {
    ($($access:ident $module:ident :: $handler:ident),+ $(,)?) => {
        /// The `paths` of the OpenAPI document, from the same list as the routes.
        #[derive(OpenApi)]
        #[openapi(paths($($module::$handler),+))]
        pub struct TablePaths;

        fn entries() -> Vec<Entry> {
            vec![$(Entry {
                operation_id: stringify!($handler),
                access: Access::$access,
                route: |m| web::method(m).to($module::$handler),
            }),+]
        }
    };
}

route_table! {
    Public api::live,
    Public api::ready,
    Public openapi::spec,
    Public openapi::docs_page,
    Public openapi::docs_asset,
    Public api::local_accounts,
    Public api::local_token,
    Public auth_routes::login,
    Public auth_routes::callback,
    Authenticated auth_routes::logout,
    Authenticated auth_routes::step_up,
    Authenticated auth_routes::csrf,
    Authenticated identity_api::me,
    Authenticated identity_api::set_active_membership,
    Authenticated api::classify,
    Authenticated api::list_organisations,
    Authenticated api::create_organisation,
    Authenticated api::get_organisation,
    Authenticated identity_api::create_invitation,
    Authenticated identity_api::list_invitations,
    Authenticated identity_api::revoke_invitation,
    Authenticated identity_api::list_people,
    Authenticated identity_api::grant_membership,
    Authenticated identity_api::revoke_membership,
    Authenticated identity_api::create_company,
    Authenticated identity_api::create_api_key,
    Authenticated identity_api::list_api_keys,
    Authenticated identity_api::revoke_api_key,
    Authenticated api::list_registers,
    Authenticated api::create_register,
    Authenticated api::get_register,
    Authenticated api::move_register,
    Authenticated api::add_delegation,
    Authenticated api::revoke_delegation,
    Authenticated api::set_patient_information,
    Authenticated api::list_collaborations,
    Authenticated api::create_collaboration,
    Authenticated api::get_collaboration,
    Authenticated api::patch_collaboration,
    Authenticated api::transition,
    Authenticated api::action,
    Authenticated api::events,
    Authenticated api::audit,
    Authenticated api::create_agreement,
    Authenticated api::list_agreements,
    // Before `{file}`, which would also match `diff`.
    Authenticated api::agreement_diff,
    Authenticated api::agreement_file,
    Authenticated api::agreement_deviation,
    Authenticated signing_api::prepare_envelope,
    Authenticated signing_api::get_envelope,
    Authenticated signing_api::sign_envelope,
    Authenticated signing_api::decline_envelope,
    Authenticated signing_api::executed_pdf,
    Public signing_api::provider_events,
    Authenticated metrics::metrics,
    Authenticated mail::notifications,
    Authenticated mail::set_notifications,
    Authenticated mail::admin_outbox,
    // Documents and attachments (issue 16).
    Authenticated documents_api::upload_document,
    Authenticated documents_api::list_documents,
    Authenticated documents_api::get_document,
    Authenticated documents_api::redact_document,
    Authenticated documents_api::link_document,
    // Issue 16: case handling (completion requests, consultations, case files, to-do).
    Authenticated casework_api::request_completion,
    Authenticated casework_api::list_completions,
    Authenticated casework_api::answer_completion,
    Authenticated casework_api::request_consultation,
    Authenticated casework_api::list_consultations,
    Authenticated casework_api::answer_consultation,
    Authenticated casework_api::list_case_files,
    Authenticated casework_api::assign,
    Authenticated casework_api::set_case_number,
    Authenticated casework_api::todo,
    // Issue 16 item 6: named data users and their undertakings.
    Authenticated data_users_api::add_data_user,
    Authenticated data_users_api::list_data_users,
    Authenticated data_users_api::decide_data_user,
    Authenticated data_users_api::remove_data_user,
    Authenticated data_users_api::my_undertakings,
    Authenticated data_users_api::confirm_undertaking,
    // Issue 16, item 8: outbound events (webhook subscriptions and their delivery log).
    Authenticated webhooks_out_api::create_webhook_subscription,
    Authenticated webhooks_out_api::list_webhook_subscriptions,
    Authenticated webhooks_out_api::delete_webhook_subscription,
    Authenticated webhooks_out_api::list_webhook_deliveries,
    // Issue 15: billing (work log, invoices, credit notes). The `.pdf` and `.xml` routes come before
    // `{id}`, which would also match them.
    Authenticated billing_api::log_work,
    Authenticated billing_api::work_log,
    Authenticated billing_api::approve_work,
    Authenticated billing_api::create_invoice,
    Authenticated billing_api::list_invoices,
    Authenticated billing_api::issue_invoice,
    Authenticated billing_api::credit_invoice,
    Authenticated billing_api::invoice_pdf,
    Authenticated billing_api::invoice_xml,
    Authenticated billing_api::get_invoice,
    // Issue 14: an organisation's signing policy (envelope expiry per CPUA).
    Authenticated signing_api::get_signing_policy,
    Authenticated signing_api::set_signing_policy,
    // Issue 15, items 5, 6 and 8: payments (by hand, camt.054 import) and the finance export.
    Authenticated payments_api::record_payment,
    Authenticated payments_api::import_payments,
    Authenticated payments_api::invoice_payments,
    Authenticated payments_api::allocate_payment,
    Authenticated payments_api::unmatched_payments,
    Authenticated payments_api::export_invoices_csv,
    // Issue 15, items 2 and 3: receipts of expense lines, edits of a draft invoice.
    Authenticated billing_receipts_api::attach_receipt,
    Authenticated billing_receipts_api::get_receipt,
    Authenticated billing_receipts_api::edit_invoice,
}

fn actix_method(m: &HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// Each table entry with the method and path its documentation gives, in table order.
fn resolved() -> &'static [Resolved] {
    static ROUTES: OnceLock<Vec<Resolved>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let doc = TablePaths::openapi();
        let mut out = Vec::new();
        for e in entries() {
            let mut found = 0;
            for (path, item) in &doc.paths.paths {
                let ops = [
                    (HttpMethod::Get, &item.get),
                    (HttpMethod::Post, &item.post),
                    (HttpMethod::Put, &item.put),
                    (HttpMethod::Patch, &item.patch),
                    (HttpMethod::Delete, &item.delete),
                    (HttpMethod::Head, &item.head),
                    (HttpMethod::Options, &item.options),
                    (HttpMethod::Trace, &item.trace),
                ];
                for (m, op) in ops {
                    if op.as_ref().and_then(|o| o.operation_id.as_deref()) == Some(e.operation_id) {
                        found += 1;
                        out.push((
                            RouteInfo {
                                method: actix_method(&m),
                                path: path.clone(),
                                operation_id: e.operation_id.to_string(),
                                access: e.access,
                            },
                            e.route,
                        ));
                    }
                }
            }
            // A programming error that every test run catches at the first request: the table names
            // a handler whose annotation lost its operation, or two handlers share a name.
            assert_eq!(
                found, 1,
                "route table: operation `{}` is documented {found} times",
                e.operation_id
            );
        }
        out
    })
}

/// Every route the router serves, in registration order.
pub fn route_table() -> Vec<RouteInfo> {
    resolved().iter().map(|(r, _)| r.clone()).collect()
}

/// Who may call the operation with this id, if it is in the table.
pub fn access_of(operation_id: &str) -> Option<Access> {
    resolved()
        .iter()
        .find(|(r, _)| r.operation_id == operation_id)
        .map(|(r, _)| r.access)
}

/// A route's path pattern, matched as the router matches it, but first by its literal start: every
/// path a pattern matches begins with the pattern's text before its first `{`, and comparing that is
/// a string compare where the pattern's own match runs a regular expression. Each request is checked
/// against the public routes and the pages (authentication, security headers), so without it every
/// request ran some 200 regular expressions: 69 % of the instructions of `GET /health/live`
/// (callgrind, issue 10).
pub struct PathPattern {
    prefix: String,
    def: actix_web::dev::ResourceDef,
}

impl PathPattern {
    pub fn new(pattern: &str) -> PathPattern {
        let prefix = pattern.split('{').next().unwrap_or("").to_string();
        PathPattern {
            prefix,
            def: actix_web::dev::ResourceDef::new(pattern),
        }
    }

    pub fn is_match(&self, path: &str) -> bool {
        path.starts_with(self.prefix.as_str()) && self.def.is_match(path)
    }
}

/// A path's first segment: the text between its first `/` and the next one.
fn first_segment(path: &str) -> &str {
    let rest = path.strip_prefix('/').unwrap_or(path);
    rest.split('/').next().unwrap_or("")
}

/// Path patterns, each with a value, grouped by their first segment when it is literal, so that a
/// path is tried only against the patterns that can match it: those whose first segment is the
/// path's own, and those whose first segment has a parameter. Every request asks whether its path
/// is a page and whether it is public; before, that was a scan of some 150 patterns a request
/// (a tenth of `GET /api/v1/me`'s instructions, callgrind, issue 10). Which patterns match a path is
/// exactly what a scan of all of them finds (`a_pattern_set_finds_what_a_scan_finds`).
pub struct PatternSet<T> {
    /// By literal first segment, in the order of the patterns' first appearance.
    literal: Vec<(String, Vec<(PathPattern, T)>)>,
    /// The patterns whose first segment has a parameter: tried for every path.
    other: Vec<(PathPattern, T)>,
}

impl<T> PatternSet<T> {
    pub fn new<'a>(items: impl IntoIterator<Item = (&'a str, T)>) -> PatternSet<T> {
        let mut set = PatternSet {
            literal: Vec::new(),
            other: Vec::new(),
        };
        for (pattern, value) in items {
            let entry = (PathPattern::new(pattern), value);
            let segment = first_segment(pattern);
            if segment.contains('{') || !pattern.starts_with('/') {
                set.other.push(entry);
            } else if let Some((_, group)) = set.literal.iter_mut().find(|(s, _)| s == segment) {
                group.push(entry);
            } else {
                set.literal.push((segment.to_string(), vec![entry]));
            }
        }
        set
    }

    /// The values of the patterns that match `path` (those of a literal first segment first).
    pub fn matching<'s>(&'s self, path: &'s str) -> impl Iterator<Item = &'s T> + 's {
        let segment = first_segment(path);
        let group = self
            .literal
            .iter()
            .find(|(s, _)| s == segment)
            .map(|(_, g)| g.as_slice())
            .unwrap_or(&[]);
        group
            .iter()
            .chain(self.other.iter())
            .filter(move |(p, _)| p.is_match(path))
            .map(|(_, v)| v)
    }

    /// Whether any pattern matches `path`.
    pub fn any(&self, path: &str) -> bool {
        self.matching(path).next().is_some()
    }
}

/// Whether a request path is served by a public route. Everything else needs a token: this is the
/// one place where authentication is decided, read from the table.
pub fn is_public(path: &str) -> bool {
    if crate::web::is_page(path) {
        return crate::web::is_public_page(path);
    }
    static PUBLIC: OnceLock<PatternSet<()>> = OnceLock::new();
    PUBLIC
        .get_or_init(|| {
            PatternSet::new(
                resolved()
                    .iter()
                    .filter(|(r, _)| r.access == Access::Public)
                    .map(|(r, _)| (r.path.as_str(), ())),
            )
        })
        .any(path)
}

/// The path patterns of every resource, in the order [`configure`] registers them (the API's, then
/// the pages'), to name the pattern that serves a path ([`route_pattern`]).
struct RouteIndex {
    patterns: Vec<(PathPattern, &'static str)>,
    /// The patterns without a parameter, by their text (such a pattern matches only that path).
    fixed: std::collections::HashMap<&'static str, usize>,
    /// The places of the patterns with parameters, in order.
    variable: Vec<usize>,
}

/// Each path once, in the order of its first appearance.
pub fn distinct_paths<'a>(all: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut paths: Vec<&'a str> = Vec::new();
    for p in all {
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    paths
}

/// The table's paths, each once, in the order of their first route: the order [`configure`]
/// registers their resources in.
fn api_paths() -> Vec<&'static str> {
    distinct_paths(resolved().iter().map(|(r, _)| r.path.as_str()))
}

fn route_index() -> &'static RouteIndex {
    static INDEX: OnceLock<RouteIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut all = api_paths();
        all.extend(crate::web::page_paths());
        RouteIndex::new(all)
    })
}

impl RouteIndex {
    fn new(all: Vec<&'static str>) -> RouteIndex {
        let mut fixed = std::collections::HashMap::new();
        let mut variable = Vec::new();
        for (i, p) in all.iter().enumerate() {
            if p.contains('{') {
                variable.push(i);
            } else {
                // The first registration of a path is the one the router serves.
                fixed.entry(*p).or_insert(i);
            }
        }
        RouteIndex {
            patterns: all.iter().map(|p| (PathPattern::new(p), *p)).collect(),
            fixed,
            variable,
        }
    }

    /// The first registered pattern that matches `path`.
    fn find(&self, path: &str) -> Option<&'static str> {
        let fixed = self.fixed.get(path).copied();
        for &i in &self.variable {
            if fixed.is_some_and(|f| f < i) {
                break;
            }
            let (pattern, text) = &self.patterns[i];
            if pattern.is_match(path) {
                return Some(text);
            }
        }
        fixed.map(|i| self.patterns[i].1)
    }
}

/// The pattern of the route that serves a request ([`route_pattern`]), named once by the request
/// log's span and kept in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct MatchedRoute(pub Option<&'static str>);

/// The pattern of the route that serves a path, as actix's `match_pattern` answers it (the first
/// registered resource that matches), for the request log and the metrics' `route` label; `None`
/// when no route serves it. actix's own answer walks the resources again with a regular expression
/// for each pattern with a parameter (two walks a request, 10 % of `GET /api/v1/me`, callgrind,
/// issue 10); here a fixed path is one hash lookup and a pattern with a parameter is tried only when
/// the path begins with its literal start and it comes before the fixed one.
pub fn route_pattern(path: &str) -> Option<&'static str> {
    route_index().find(path)
}

/// The 405, rendered in the request's language (it is an answer, not an error, so the
/// `edge` middleware does not see it).
fn method_not_allowed(req: &actix_web::HttpRequest, allow: &str) -> actix_web::HttpResponse {
    let e = AppError::MethodNotAllowed(crate::msg!("method_not_allowed", allow = allow));
    let mut res = super::problem::response_in(&e, super::problem::request_lang(req));
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(allow) {
        res.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    res
}

/// The scope an API path is registered under: `/api/v1/` and its next segment (`/api/v1/collaborations`),
/// when that segment is literal; `None` for other paths (health, documentation, sign-in, pages).
fn scope_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/")?;
    let segment = rest.split('/').next().unwrap_or("");
    (!segment.is_empty() && !segment.contains('{'))
        .then(|| &path[.."/api/v1/".len() + segment.len()])
}

/// One resource with the methods the table gives its path, and a 405 with `Allow` for any other.
fn resource_of(path: &str, relative: &str) -> actix_web::Resource {
    let here: Vec<&Resolved> = resolved().iter().filter(|(r, _)| r.path == path).collect();
    let allow = here
        .iter()
        .map(|(r, _)| r.method.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut resource = web::resource(relative);
    for (r, route) in &here {
        resource = resource.route(route(r.method.clone()));
    }
    resource.default_service(web::to(move |req: actix_web::HttpRequest| {
        let allow = allow.clone();
        async move { method_not_allowed(&req, &allow) }
    }))
}

/// Registers every route of the table: one resource per path, with the methods the table gives it,
/// and a 405 with `Allow` for any other method.
///
/// The API's resources are grouped in one scope per first segment after `/api/v1/` (each scope at
/// the place of its first resource, its resources in table order). The router tries resources in
/// order and runs a regular expression for each pattern with a parameter; a scope is one string
/// compare, so a request tries only the patterns of its own scope, where before
/// `GET /api/v1/collaborations/{id}` tried every pattern above it in the table (a fifth of its
/// instructions, callgrind, issue 10). A path in a scope is matched by no resource outside it (every
/// API pattern's first segment after `/api/v1/` is literal), so what serves a path is unchanged;
/// `the_route_pattern_is_the_one_the_router_names` checks it against [`route_pattern`], which reads
/// the table in its own order.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let paths = api_paths();
    let mut scopes: Vec<&str> = Vec::new();
    for path in &paths {
        match scope_of(path) {
            None => {
                cfg.service(resource_of(path, path));
            }
            Some(scope) if scopes.contains(&scope) => {}
            Some(scope) => {
                scopes.push(scope);
                let mut s = web::scope(scope);
                for p in paths.iter().filter(|p| scope_of(p) == Some(scope)) {
                    s = s.service(resource_of(p, &p[scope.len()..]));
                }
                cfg.service(s.default_service(web::to(api::not_found)));
            }
        }
    }
    crate::web::configure(cfg);
    cfg.default_service(web::to(api::not_found));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_pattern_matches_as_the_router_does() {
        for (pattern, path) in [
            ("/health/live", "/health/live"),
            ("/health/live", "/health/live/x"),
            ("/health/live", "/health"),
            ("/collaborations/{id}", "/collaborations/abc"),
            ("/collaborations/{id}", "/collaborations/"),
            ("/collaborations/{id}", "/collaborations/abc/documents"),
            ("/collaborations/{id}", "/api/v1/collaborations/abc"),
            (
                "/collaborations/{id}/work-log/{line}/approve",
                "/collaborations/a/work-log/b/approve",
            ),
            (
                "/collaborations/{id}/work-log/{line}/approve",
                "/collaborations/a/work-log/b",
            ),
            ("/api/v1/invoices/{id}.pdf", "/api/v1/invoices/x.pdf"),
            ("/api/v1/invoices/{id}.pdf", "/api/v1/invoices/x.xml"),
            ("/language/{code}", "/language/en"),
        ] {
            assert_eq!(
                PathPattern::new(pattern).is_match(path),
                actix_web::dev::ResourceDef::new(pattern).is_match(path),
                "{pattern} ~ {path}"
            );
        }
        assert!(PathPattern::new("/collaborations/{id}").is_match("/collaborations/abc"));
        assert!(!PathPattern::new("/collaborations/{id}").is_match("/api/v1/collaborations/abc"));
    }

    #[test]
    fn a_pattern_set_finds_what_a_scan_finds() {
        let patterns = [
            "/",
            "/collaborations",
            "/collaborations/{id}",
            "/collaborations/{id}/work-log",
            "/{lang}/help",
            "/x{y}",
            "/invoices/{id}.pdf",
            "/api/v1/me",
            "/api/v1/collaborations/{id}",
            "/docs/{tail:.*}",
        ];
        let set = PatternSet::new(patterns.iter().map(|p| (*p, *p)));
        let paths = [
            "/",
            "",
            "/collaborations",
            "/collaborations/",
            "/collaborations/a",
            "/collaborations/a/work-log",
            "/sv/help",
            "/collaborations/help",
            "/xz",
            "/x",
            "/invoices/1.pdf",
            "/api/v1/me",
            "/api/v1/collaborations/a",
            "/api/v1/collaborations/a/b",
            "/docs/a/b/c",
            "/docs",
            "//collaborations",
        ];
        for path in paths {
            let mut found: Vec<&str> = set.matching(path).copied().collect();
            found.sort_unstable();
            let mut scanned: Vec<&str> = patterns
                .iter()
                .copied()
                .filter(|p| actix_web::dev::ResourceDef::new(*p).is_match(path))
                .collect();
            scanned.sort_unstable();
            assert_eq!(found, scanned, "{path}");
            assert_eq!(set.any(path), !scanned.is_empty(), "{path}");
        }
        assert!(set.any("/sv/help") && set.any("/collaborations/a"));
    }

    #[actix_web::test]
    async fn the_route_pattern_is_the_one_the_router_names() {
        use actix_web::{test, App, HttpResponse};
        let app = test::init_service(
            App::new()
                .wrap_fn(|req, _| {
                    let p = req.match_pattern().unwrap_or_default();
                    std::future::ready(Ok(req.into_response(HttpResponse::Ok().body(p))))
                })
                .configure(configure),
        )
        .await;
        let index = route_index();
        let mut paths: Vec<String> = index
            .patterns
            .iter()
            .flat_map(|(_, p)| {
                // Each parameter as a plain value, and as one that looks like a later literal part.
                let plain = p.replace(['{', '}'], "").replace("..", ".");
                let mut ps = vec![plain.clone(), format!("{plain}/x"), format!("{plain}/")];
                if p.contains('{') {
                    let mut v = String::new();
                    let mut rest = *p;
                    while let Some((before, after)) = rest.split_once('{') {
                        v.push_str(before);
                        v.push_str("diff");
                        rest = after.split_once('}').map(|(_, a)| a).unwrap_or("");
                    }
                    v.push_str(rest);
                    ps.push(v);
                }
                ps
            })
            .collect();
        paths.extend(
            [
                "/",
                "/nope",
                "/api/v1/invoices/x.pdf",
                "/api/v1/invoices/x.xml",
                "/api/v1/invoices/x",
                "/api/v1/collaborations/abc/agreements/1/diff",
                "/api/v1/collaborations/abc/agreements/1/x.pdf",
            ]
            .map(String::from),
        );
        assert!(paths.len() > 300, "{}", paths.len());
        for path in paths {
            let req = test::TestRequest::get().uri(&path).to_request();
            let body = test::call_and_read_body(&app, req).await;
            assert_eq!(
                std::str::from_utf8(&body).unwrap(),
                route_pattern(&path).unwrap_or(""),
                "{path}"
            );
        }
    }

    #[test]
    fn every_api_path_has_a_literal_scope() {
        assert_eq!(
            scope_of("/api/v1/collaborations/{id}"),
            Some("/api/v1/collaborations")
        );
        assert_eq!(scope_of("/api/v1/me"), Some("/api/v1/me"));
        assert_eq!(scope_of("/api/v1/{x}/y"), None);
        assert_eq!(scope_of("/health/live"), None);
        for (r, _) in resolved() {
            if r.path.starts_with("/api/v1/") {
                assert!(scope_of(&r.path).is_some(), "{}", r.path);
            }
        }
    }

    #[test]
    fn the_first_registered_pattern_wins_whether_fixed_or_not() {
        let index = RouteIndex::new(vec![
            "/a/{x}",
            "/a/b",
            "/c",
            "/c/{y}",
            "/d/{z}.pdf",
            "/d/{z}",
        ]);
        assert_eq!(index.find("/a/b"), Some("/a/{x}"));
        assert_eq!(index.find("/a/q"), Some("/a/{x}"));
        assert_eq!(index.find("/c"), Some("/c"));
        assert_eq!(index.find("/c/1"), Some("/c/{y}"));
        assert_eq!(index.find("/d/1.pdf"), Some("/d/{z}.pdf"));
        assert_eq!(index.find("/d/1"), Some("/d/{z}"));
        assert_eq!(index.find("/e"), None);
        let index = RouteIndex::new(vec!["/a/b", "/a/{x}"]);
        assert_eq!(index.find("/a/b"), Some("/a/b"));
    }

    #[test]
    fn every_table_entry_resolves_to_one_documented_operation() {
        let table = route_table();
        assert_eq!(table.len(), entries().len());
        let mut seen = std::collections::HashSet::new();
        for r in &table {
            assert!(
                seen.insert((r.method.clone(), r.path.clone())),
                "{} {} is registered twice",
                r.method,
                r.path
            );
        }
    }

    #[test]
    fn public_routes_come_from_the_table() {
        assert!(is_public("/health/live"));
        assert!(is_public("/api/v1/local/token"));
        assert!(is_public("/api/docs"));
        assert!(is_public("/api/openapi.json"));
        assert!(!is_public("/api/v1/collaborations"));
        assert!(!is_public("/api/v1/me"));
        assert!(!is_public("/api/v1/no/such/route"));
        for r in route_table() {
            assert_eq!(is_public(&r.path), r.access == Access::Public, "{}", r.path);
        }
    }

    #[test]
    fn path_parameters_are_read_from_the_template() {
        let r = RouteInfo {
            method: Method::POST,
            path: "/api/v1/registers/{id}/delegations/{delegation}/revoke".into(),
            operation_id: "x".into(),
            access: Access::Authenticated,
        };
        assert_eq!(r.path_parameters(), ["id", "delegation"]);
    }
}
