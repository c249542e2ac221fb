//! The OpenAPI 3.1 document, generated from the handlers, and a page that shows it with nothing
//! loaded from the internet.
use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::api;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "samverkan",
        description = "Collaborations between industry and Swedish national quality registries: the nine steps of the SKR–industry agreement, from the first request to the deletion of the last data copy. Errors are RFC 9457 problem+json naming the field and the rule."
    ),
    paths(
        api::live, api::ready, api::local_accounts, api::local_token, api::me,
        api::list_organisations, api::create_organisation, api::get_organisation,
        api::list_registers, api::create_register, api::get_register, api::move_register,
        api::add_delegation, api::revoke_delegation, api::set_patient_information,
        api::list_collaborations, api::create_collaboration, api::get_collaboration,
        api::patch_collaboration, api::transition, api::action, api::events, api::audit,
        api::classify, api::create_agreement, api::list_agreements, api::agreement_file,
        api::agreement_diff, api::agreement_deviation,
    ),
    components(schemas(super::problem::Problem, super::problem::FieldProblem)),
    modifiers(&BearerAuth),
    tags(
        (name = "collaborations", description = "The nine-step lifecycle"),
        (name = "audit", description = "The hash-chained audit trail"),
        (name = "agreements", description = "Three-party agreements rendered from contract templates, versioned"),
        (name = "classification", description = "The versioned rulebook that types each collaboration"),
        (name = "reference data", description = "Organisations, registers and their CPUA"),
        (name = "local mode", description = "Demo accounts on a loopback address"),
    )
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn spec() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// The docs page. Its script and style are files of their own (below), so the page runs under a
/// Content-Security-Policy without `unsafe-inline` (set for every HTML answer in
/// [`super::headers::security_headers`]).
pub async fn docs_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(include_str!("assets/docs.html"))
}

pub async fn docs_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(include_str!("assets/docs.js"))
}

pub async fn docs_style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(include_str!("assets/docs.css"))
}
