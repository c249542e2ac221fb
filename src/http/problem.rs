//! RFC 9457 problem details: every error leaves as `application/problem+json`, its title and detail
//! rendered from the message catalogues in the request's language (Swedish unless `Accept-Language`
//! prefers English), with `Content-Language` saying which.
use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::app::{AppError, FieldError};
use crate::domain::lang::Lang;
use crate::domain::lifecycle::RefusalKind;
use crate::domain::messages::Message;
use crate::domain::sources::Source;

/// A problem details object (RFC 9457), with the rule and field at fault.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, in the language of `Content-Language`.
    pub detail: String,
    /// The rule that refused, e.g. `ethics_approval_required`: a stable code in every language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every invalid field, when the input was at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Preconditions still missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// The document (file and title) and section the rule comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Each obligation not yet met: its code, labels, evidence, source and what is missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub obligations: Vec<crate::domain::lifecycle::UnmetObligation>,
    /// "Bör" warnings to pass with a reason in `acknowledge`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::domain::lifecycle::Advice>,
}

/// One invalid field as the client sees it: field, rule code and the message in the response's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub rule: String,
    pub message: String,
    /// The lifecycle step (1–9) where a missing item is entered, when that is the fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<u8>,
}

impl FieldProblem {
    fn of(f: &FieldError, lang: Lang) -> FieldProblem {
        FieldProblem {
            field: f.field.clone(),
            rule: f.rule.to_string(),
            message: f.message.render(lang),
            step: f.step,
        }
    }
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, title: String, detail: String) -> Problem {
        Problem {
            type_: format!("urn:samverkan:problem:{code}"),
            title,
            status: status.as_u16(),
            detail,
            rule: None,
            field: None,
            errors: vec![],
            missing: vec![],
            source: None,
            obligations: vec![],
            warnings: vec![],
        }
    }

    /// The response, with `Content-Language` naming `lang`.
    pub fn response(&self, lang: Lang) -> HttpResponse {
        HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST))
            .content_type("application/problem+json")
            .insert_header((header::CONTENT_LANGUAGE, lang.code()))
            .insert_header((header::VARY, "Accept-Language"))
            .json(self)
    }
}

/// The error as a problem in `lang` (pages show its title, detail and field errors).
pub fn problem_in(e: &AppError, lang: Lang) -> Problem {
    problem_of(e, lang)
}

fn problem_of(e: &AppError, lang: Lang) -> Problem {
    let p = |status: StatusCode, code: &str, title: Message, detail: String| {
        Problem::new(status, code, title.render(lang), detail)
    };
    match e {
        AppError::Unauthenticated(m) => p(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            crate::msg!("problem.unauthenticated"),
            m.render(lang),
        ),
        AppError::Forbidden(m) => p(
            StatusCode::FORBIDDEN,
            "forbidden",
            crate::msg!("problem.forbidden"),
            m.render(lang),
        ),
        AppError::NotFound(what) => p(
            StatusCode::NOT_FOUND,
            "not_found",
            crate::msg!("problem.not_found"),
            crate::msg!("problem.not_found.detail", what = what.clone()).render(lang),
        ),
        AppError::Invalid(errors) => {
            let errors: Vec<FieldProblem> =
                errors.iter().map(|f| FieldProblem::of(f, lang)).collect();
            let detail = errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ");
            let mut pr = p(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                crate::msg!("problem.invalid_input"),
                detail,
            );
            if let Some(first) = errors.first() {
                pr.field = Some(first.field.clone());
                pr.rule = Some(first.rule.clone());
            }
            pr.errors = errors;
            pr
        }
        AppError::Refused(r) => {
            let (status, code, title) = match r.kind {
                RefusalKind::Precondition => (
                    StatusCode::CONFLICT,
                    "precondition_not_met",
                    crate::msg!("problem.precondition_not_met"),
                ),
                RefusalKind::Invalid => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "rule_broken",
                    crate::msg!("problem.rule_broken"),
                ),
            };
            let text = r.text(lang);
            let mut pr = p(status, code, title, text.clone());
            pr.rule = Some(r.rule.to_string());
            pr.field = r.field.clone();
            if let Some(f) = &r.field {
                pr.errors = vec![FieldProblem {
                    field: f.clone(),
                    rule: r.rule.to_string(),
                    message: text,
                    step: None,
                }];
            }
            pr.missing = r.missing.clone();
            pr.source = r.source.clone();
            pr.obligations = r.obligations.clone();
            pr.warnings = r.warnings.clone();
            pr
        }
        AppError::Conflict(m) | AppError::RaceLost(m) => p(
            StatusCode::CONFLICT,
            "conflict",
            crate::msg!("problem.conflict"),
            m.render(lang),
        ),
        AppError::MethodNotAllowed(m) => p(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            crate::msg!("problem.method_not_allowed"),
            m.render(lang),
        ),
        AppError::PreconditionFailed(m) => p(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            crate::msg!("problem.precondition_failed"),
            m.render(lang),
        ),
        AppError::TooManyRequests { message, .. } => p(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            crate::msg!("problem.too_many_requests"),
            message.render(lang),
        ),
        AppError::PayloadTooLarge(m) => p(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            crate::msg!("problem.payload_too_large"),
            m.render(lang),
        ),
        AppError::UnsupportedMediaType(m) => p(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            crate::msg!("problem.unsupported_media_type"),
            m.render(lang),
        ),
        AppError::BadRequest(m) => p(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            crate::msg!("problem.malformed_request"),
            m.render(lang),
        ),
        AppError::BadParameter(f) => {
            let fp = FieldProblem::of(f, lang);
            let mut pr = p(
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                crate::msg!("problem.invalid_cursor"),
                format!("{}: {}", fp.field, fp.message),
            );
            pr.field = Some(fp.field.clone());
            pr.rule = Some(fp.rule.clone());
            pr.errors = vec![fp];
            pr
        }
        AppError::ListsBusy { max } => p(
            StatusCode::SERVICE_UNAVAILABLE,
            "lists_busy",
            crate::msg!("problem.lists_busy"),
            crate::msg!("lists_busy", max = max.to_string()).render(lang),
        ),
        AppError::Unavailable(m) => p(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            crate::msg!("problem.unavailable"),
            m.render(lang),
        ),
        AppError::Internal(_) => p(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            crate::msg!("problem.internal"),
            crate::msg!("problem.internal.detail").render(lang),
        ),
        AppError::Gone(m) => {
            let mut pr = p(
                StatusCode::GONE,
                "gone",
                crate::msg!("problem.gone"),
                m.render(lang),
            );
            pr.rule = Some(m.rule().to_string());
            pr
        }
        AppError::Upstream(m) => {
            let mut pr = p(
                StatusCode::BAD_GATEWAY,
                "bad_gateway",
                crate::msg!("problem.bad_gateway"),
                m.render(lang),
            );
            pr.rule = Some(m.rule().to_string());
            pr
        }
    }
}

/// The error as a problem+json response in `lang`, with the headers its kind needs.
pub fn response_in(e: &AppError, lang: Lang) -> HttpResponse {
    let mut res = problem_of(e, lang).response(lang);
    let headers = res.headers_mut();
    match e {
        AppError::Unauthenticated(_) => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"samverkan\""),
            );
        }
        AppError::TooManyRequests {
            retry_after_secs, ..
        } => {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.max(&1).to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        AppError::ListsBusy { .. } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        _ => {}
    }
    res
}

/// The request's language, from its `Accept-Language` (Swedish when it names neither).
pub fn request_lang(req: &actix_web::HttpRequest) -> Lang {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::negotiate)
        .unwrap_or_default()
}

/// Renders an error response in the request's language. An error leaves its handler (or an
/// extractor, or the authentication) rendered in Swedish; when the client prefers English this
/// renders it again from the same error, keeping the headers set on the way (run for every response
/// by [`super::edge::edge`]).
pub fn localized<B>(res: ServiceResponse<B>, lang: Lang) -> ServiceResponse<EitherBody<B>> {
    let again = match (lang, res.response().error()) {
        (Lang::Sv, _) | (_, None) => None,
        (_, Some(e)) => e.as_error::<AppError>().map(|e| response_in(e, lang)),
    };
    let Some(fresh) = again else {
        return res.map_into_left_body();
    };
    // Keep the response itself (its error, for the log, and the headers set on the way); swap the
    // body and the headers that describe it.
    let (head, body) = fresh.into_parts();
    let res = res.map_body(|_, _| body);
    let (req, mut out) = res.into_parts();
    for (k, v) in head.headers() {
        out.headers_mut().insert(k.clone(), v.clone());
    }
    ServiceResponse::new(req, out).map_into_right_body()
}

/// The request log's root span (tracing-actix-web's default) with one event per failed request, at the
/// level the failure deserves: a 503 the service chose (lists busy, a dependency unavailable) and a
/// client error are WARN; any other server error is ERROR.
pub struct RequestLog;

impl tracing_actix_web::RootSpanBuilder for RequestLog {
    /// The request's span, with the fields of tracing-actix-web's default one that a log reader uses
    /// (method, route, target, client, user agent, request id; status and error filled in at the
    /// end) and the actor (filled in by authentication). The route is named once
    /// ([`super::routes::route_pattern`]) and kept in the request for the metrics. The fields are
    /// worked out only when the span is enabled (log level `info` or finer).
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let route = super::routes::route_pattern(request.path());
        request
            .extensions_mut()
            .insert(super::routes::MatchedRoute(route));
        let empty = tracing::field::Empty;
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = route.unwrap_or("default"),
            http.target = %request.uri().path_and_query().map(|p| p.as_str()).unwrap_or(""),
            http.client_ip = %request.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
            http.user_agent = request
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|h| h.to_str().ok())
                .unwrap_or(""),
            http.status_code = empty,
            otel.status_code = empty,
            request_id = %request
                .extensions()
                .get::<tracing_actix_web::RequestId>()
                .map(ToString::to_string)
                .unwrap_or_default(),
            actor = empty,
            exception.message = empty,
            exception.details = empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
        let (status, error) = match outcome {
            Ok(res) => match res.response().error() {
                Some(e) => (res.status(), e),
                None => return,
            },
            Err(e) => (e.as_response_error().status_code(), e),
        };
        let message = "error encountered while processing the incoming HTTP request";
        match log_level(status, error.as_error::<AppError>()) {
            tracing::Level::ERROR => {
                tracing::error!(status = status.as_u16(), "{message}: {error:?}")
            }
            _ => tracing::warn!(status = status.as_u16(), "{message}: {error:?}"),
        }
    }
}

/// The level a failed request is logged at ([`RequestLog`]).
pub fn log_level(status: StatusCode, error: Option<&AppError>) -> tracing::Level {
    let chosen = matches!(
        error,
        Some(AppError::ListsBusy { .. } | AppError::Unavailable(_))
    );
    if status.is_client_error() || (status == StatusCode::SERVICE_UNAVAILABLE && chosen) {
        tracing::Level::WARN
    } else {
        tracing::Level::ERROR
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(problem_of(self, Lang::Sv).status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            AppError::Unavailable(m) => tracing::warn!(reason = %m, "unavailable"),
            AppError::Upstream(m) => tracing::error!(reason = %m, "upstream failed"),
            _ => {}
        }
        // Swedish first; `edge` renders it again when the request prefers English.
        response_in(self, Lang::Sv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_list_is_a_warning_and_an_internal_error_an_error() {
        let busy = AppError::ListsBusy { max: 6 };
        assert_eq!(
            log_level(StatusCode::SERVICE_UNAVAILABLE, Some(&busy)),
            tracing::Level::WARN
        );
        let unavailable = AppError::Unavailable(crate::msg!("problem.unavailable"));
        assert_eq!(
            log_level(StatusCode::SERVICE_UNAVAILABLE, Some(&unavailable)),
            tracing::Level::WARN
        );
        let internal = AppError::Internal(anyhow::anyhow!("broken"));
        assert_eq!(
            log_level(StatusCode::INTERNAL_SERVER_ERROR, Some(&internal)),
            tracing::Level::ERROR
        );
        // A 503 that is not the service's own choice (e.g. from actix itself) stays an error.
        assert_eq!(
            log_level(StatusCode::SERVICE_UNAVAILABLE, None),
            tracing::Level::ERROR
        );
        assert_eq!(log_level(StatusCode::NOT_FOUND, None), tracing::Level::WARN);
    }
}
