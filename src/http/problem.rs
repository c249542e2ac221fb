//! RFC 9457 problem details: every error leaves as `application/problem+json`.
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::app::{AppError, FieldError};
use crate::domain::lifecycle::RefusalKind;

/// A problem details object (RFC 9457), with the rule and field at fault.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The rule that refused, e.g. `ethics_approval_required`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every invalid field, when the input was at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Preconditions still missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// The seed file and section the rule comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Each obligation not yet met: its code, labels, evidence, source and what is missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub obligations: Vec<crate::domain::lifecycle::UnmetObligation>,
    /// "Bör" warnings to pass with a reason in `acknowledge`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::domain::lifecycle::Advice>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, title: &str, detail: String) -> Problem {
        Problem {
            type_: format!("urn:samverkan:problem:{code}"),
            title: title.to_string(),
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

    pub fn response(&self) -> HttpResponse {
        HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST))
            .content_type("application/problem+json")
            .json(self)
    }
}

fn problem_of(e: &AppError) -> Problem {
    match e {
        AppError::Unauthenticated(m) => Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            m.clone(),
        ),
        AppError::Forbidden(m) => {
            Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", m.clone())
        }
        AppError::NotFound(what) => Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
            format!("no such {what}"),
        ),
        AppError::Invalid(errors) => {
            let detail = errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ");
            let mut p = Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                "Invalid input",
                detail,
            );
            if let Some(first) = errors.first() {
                p.field = Some(first.field.clone());
                p.rule = Some(first.rule.clone());
            }
            p.errors = errors.clone();
            p
        }
        AppError::Refused(r) => {
            let (status, code, title) = match r.kind {
                RefusalKind::Precondition => (
                    StatusCode::CONFLICT,
                    "precondition_not_met",
                    "The collaboration is not ready for this",
                ),
                RefusalKind::Invalid => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "rule_broken",
                    "A rule refuses this",
                ),
            };
            let mut p = Problem::new(status, code, title, r.message.clone());
            p.rule = Some(r.rule.to_string());
            p.field = r.field.clone();
            if let Some(f) = &r.field {
                p.errors = vec![FieldError::new(f.clone(), r.rule, r.message.clone())];
            }
            p.missing = r.missing.clone();
            p.source = r.source.clone();
            p.obligations = r.obligations.clone();
            p.warnings = r.warnings.clone();
            p
        }
        AppError::Conflict(m) | AppError::RaceLost(m) => {
            Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", m.clone())
        }
        AppError::MethodNotAllowed(m) => Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
            m.clone(),
        ),
        AppError::PreconditionFailed(m) => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "The collaboration has changed",
            m.clone(),
        ),
        AppError::TooManyRequests { message, .. } => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many requests",
            message.clone(),
        ),
        AppError::PayloadTooLarge(m) => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Request body too large",
            m.clone(),
        ),
        AppError::UnsupportedMediaType(m) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            m.clone(),
        ),
        AppError::BadRequest(m) => Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "Malformed request",
            m.clone(),
        ),
        AppError::Unavailable(m) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            m.clone(),
        ),
        AppError::Internal(_) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "something went wrong on our side; it has been logged".into(),
        ),
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(problem_of(self).status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            AppError::Unavailable(m) => tracing::warn!(reason = %m, "unavailable"),
            _ => {}
        }
        let mut res = problem_of(self).response();
        let headers = res.headers_mut();
        match self {
            AppError::Unauthenticated(_) => {
                headers.insert(
                    actix_web::http::header::WWW_AUTHENTICATE,
                    actix_web::http::header::HeaderValue::from_static("Bearer realm=\"samverkan\""),
                );
            }
            AppError::TooManyRequests {
                retry_after_secs, ..
            } => {
                if let Ok(v) = actix_web::http::header::HeaderValue::from_str(
                    &retry_after_secs.max(&1).to_string(),
                ) {
                    headers.insert(actix_web::http::header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        res
    }
}
