//! The OpenAPI 3.1 document, generated from the route table and the handlers' annotations, and the
//! API docs page: Swagger UI, vendored into the binary, with nothing loaded from elsewhere.
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::problem::Problem;
use super::routes::{self, Access};
use crate::app::AppError;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from POST /api/v1/local/token (local mode) or the identity provider",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "samverkan",
        description = "Collaborations between industry and Swedish national quality registries: the nine steps of the SKR–industry agreement, from the first request to the deletion of the last data copy.\n\nErrors are RFC 9457 `application/problem+json` naming the field and the rule.\n\nIn local mode, take an account from `GET /api/v1/local/accounts`, a token from `POST /api/v1/local/token`, and paste it under **Authorize**."
    ),
    components(schemas(Problem, super::problem::FieldProblem)),
    modifiers(&BearerAuth),
    tags(
        (name = "collaborations", description = "The nine-step lifecycle"),
        (name = "audit", description = "The hash-chained audit trail"),
        (name = "agreements", description = "Three-party agreements rendered from contract templates, versioned"),
        (name = "signing", description = "Each party signs the exact agreement version; the executed agreement"),
        (name = "classification", description = "The versioned rulebook that types each collaboration"),
        (name = "reference data", description = "Organisations, registers and their CPUA"),
        (name = "accounts", description = "The caller"),
        (name = "local mode", description = "Demo accounts on a loopback address"),
        (name = "health", description = "Liveness and readiness"),
        (name = "documentation", description = "This description and its page"),
        (name = "operations", description = "Prometheus metrics for operators"),
        (name = "mail", description = "Notices, deadline reminders and the mail outbox"),
        (name = "documents", description = "Documents and attachments of a case: upload, read, link, redact"),
        (name = "casework", description = "Case handling: completion requests, consultations, the handling lawyer, the CPUA's case number and the to-do list"),
        (name = "webhooks", description = "Outbound events: an organisation's Standard Webhooks subscriptions and their delivery log"),
        (name = "billing", description = "The work log against the cost agreement, invoices with gapless numbers, OCR, VAT and Peppol UBL, and credit notes"),
    )
)]
struct ApiDoc;

/// The standard answers every operation of a kind can give, added here once rather than on each
/// handler: they come from the layers in front of the handler (authentication, the JSON body
/// extractor, path matching), which treat every route alike.
const BODY_ERRORS: [(&str, &str); 4] = [
    ("400", "The body is not valid JSON"),
    (
        "413",
        "The body is larger than `server.max_body_bytes` (256 KiB by default)",
    ),
    (
        "415",
        "The body is not sent as `Content-Type: application/json`",
    ),
    (
        "422",
        "A field breaks a rule; `errors` names each field and rule",
    ),
];

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
                .build(),
        )
        .build()
}

/// Completes one operation from what the table and the edge decide for it.
fn complete(op: &mut Operation, access: Access, path: &str) {
    let responses = &mut op.responses.responses;
    let mut add = |code: &str, description: &str| {
        responses
            .entry(code.to_string())
            .or_insert_with(|| RefOr::T(problem_response(description)));
    };
    if access == Access::Authenticated {
        add(
            "401",
            "No bearer token, or one that is unknown or has expired (`WWW-Authenticate: Bearer`)",
        );
    }
    if op.request_body.is_some() {
        for (code, description) in BODY_ERRORS {
            add(code, description);
        }
    }
    let has_query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    if has_query {
        add(
            "422",
            "A query parameter is unknown or has a value out of its range",
        );
    }
    if path.contains('{') {
        add(
            "404",
            "No such record, or one the caller's organisation may not see",
        );
    }
    // Every error leaves as problem+json (`problem.rs`): an error answer declared on a handler
    // without a body gets the Problem schema here.
    for (code, r) in op.responses.responses.iter_mut() {
        let error = code.starts_with('4') || code.starts_with('5');
        if let (true, RefOr::T(resp)) = (error, r) {
            if resp.content.is_empty() {
                *resp = problem_response(&resp.description);
            }
        }
    }
    op.security = match access {
        Access::Authenticated => Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]),
        Access::Public => None,
    };
}

/// The internally tagged request bodies whose Rust enum has `#[serde(deny_unknown_fields)]`: serde
/// refuses an unknown property in every variant, which utoipa does not carry to the variants.
const CLOSED_TAGGED_BODIES: [&str; 2] = ["TransitionInput", "ActionInput"];

fn close_variants(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in CLOSED_TAGGED_BODIES {
        if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(name) {
            for variant in one_of.items.iter_mut() {
                if let RefOr::T(Schema::Object(o)) = variant {
                    o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}

fn build() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(routes::TablePaths::openapi());
    close_variants(&mut doc);
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let access = op
                .operation_id
                .as_deref()
                .and_then(routes::access_of)
                .unwrap_or(Access::Authenticated);
            complete(op, access, path);
        }
    }
    doc
}

/// The OpenAPI document the service serves.
pub fn document() -> utoipa::openapi::OpenApi {
    build()
}

fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| serde_json::to_string(&build()).unwrap_or_else(|_| "{}".into()))
}

/// The OpenAPI 3.1 description of this API.
#[utoipa::path(get, path = "/api/openapi.json", tag = "documentation",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json",
               body = Object)))]
pub async fn spec() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document_json())
}

/// The Swagger UI release vendored in `assets/swagger-ui/` (npm `swagger-ui-dist`).
pub const SWAGGER_UI_VERSION: &str = "5.35.0";

/// A file the docs page loads, served under a name with its content hash so it can be cached for
/// a year and a new build is never mixed with an old cached file.
struct Asset {
    /// The name before the hash, e.g. `swagger-ui-bundle` + `.js`.
    stem: &'static str,
    ext: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 5] = [
    Asset {
        stem: "swagger-ui-bundle",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/swagger-ui/swagger-ui-bundle.js"),
    },
    Asset {
        stem: "swagger-ui",
        ext: "css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/swagger-ui/swagger-ui.css"),
    },
    Asset {
        stem: "docs",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/docs.js"),
    },
    Asset {
        stem: "docs",
        ext: "css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/docs.css"),
    },
    Asset {
        stem: "swagger-ui-license",
        ext: "txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("assets/swagger-ui/LICENSE"),
    },
];

/// Each asset's served name, `stem.<first 12 hex digits of its SHA-256>.ext`.
fn asset_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let hash = hex::encode(Sha256::digest(a.bytes));
                format!("{}.{}.{}", a.stem, &hash[..12], a.ext)
            })
            .collect()
    })
}

fn asset_url(stem: &str, ext: &str) -> String {
    ASSETS
        .iter()
        .zip(asset_names())
        .find(|(a, _)| a.stem == stem && a.ext == ext)
        .map(|(_, n)| format!("/api/docs/{n}"))
        .unwrap_or_default()
}

fn docs_html() -> &'static str {
    static HTML: OnceLock<String> = OnceLock::new();
    HTML.get_or_init(|| {
        include_str!("assets/docs.html")
            .replace("{{swagger_ui_css}}", &asset_url("swagger-ui", "css"))
            .replace("{{docs_css}}", &asset_url("docs", "css"))
            .replace(
                "{{swagger_ui_bundle_js}}",
                &asset_url("swagger-ui-bundle", "js"),
            )
            .replace("{{docs_js}}", &asset_url("docs", "js"))
            .replace("{{license}}", &asset_url("swagger-ui-license", "txt"))
            .replace("{{swagger_ui_version}}", SWAGGER_UI_VERSION)
    })
}

/// The API docs page (Swagger UI): parameters, request and response schemas, examples, and try-it
/// with a bearer token. Its script and style are files of their own, so the page runs under a
/// Content-Security-Policy without `unsafe-inline` (set for every HTML answer in
/// [`super::headers::set_security_headers`]).
#[utoipa::path(get, path = "/api/docs", tag = "documentation",
    responses((status = 200, description = "The docs page", body = String, content_type = "text/html")))]
pub async fn docs_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // The page names the current asset hashes: revalidate it, keep the assets.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(docs_html())
}

/// A script, style sheet or license of the docs page, by its hashed name (as the page names it);
/// cached for a year.
#[utoipa::path(get, path = "/api/docs/{asset}", tag = "documentation",
    params(("asset" = String, Path, description = "e.g. swagger-ui-bundle.0123456789ab.js, as the docs page names it")),
    responses((status = 200, description = "The file", content(
        (String = "text/javascript"), (String = "text/css"), (String = "text/plain")))))]
pub async fn docs_asset(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    let (asset, _) = ASSETS
        .iter()
        .zip(asset_names())
        .find(|(_, n)| **n == name)
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.docs_asset")))?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(asset.bytes))
}

/// The URLs the docs page loads, for tests.
pub fn docs_asset_urls() -> Vec<String> {
    asset_names()
        .iter()
        .map(|n| format!("/api/docs/{n}"))
        .collect()
}
