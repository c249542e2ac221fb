//! Extractors at the edge: the acting principal, JSON bodies with field-named errors, paging.
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::future::{ready, Ready};

use crate::app::{AppError, FieldError};
use crate::domain::role::Actor;
use crate::http::AppState;

/// The authenticated principal, put in place by the authentication middleware.
pub struct Authenticated(pub Actor);

impl FromRequest for Authenticated {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Actor>()
                .cloned()
                .map(Authenticated)
                .ok_or_else(|| {
                    AppError::Unauthenticated("send Authorization: Bearer <token>".into())
                }),
        )
    }
}

/// A JSON body, bounded in size, whose errors name the field at fault.
pub struct JsonBody<T>(pub T);

fn serde_error(path: String, e: serde_json::Error) -> AppError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => AppError::BadRequest(format!(
            "the body is not valid JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        )),
        Category::Data => {
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            let base = if path == "." { String::new() } else { path };
            let named = |m: &str| m.split('`').nth(1).map(str::to_string);
            let (field, rule) = if msg.starts_with("missing field") {
                let f = named(&msg).unwrap_or_default();
                (
                    if base.is_empty() {
                        f
                    } else {
                        format!("{base}.{f}")
                    },
                    "required",
                )
            } else if msg.starts_with("unknown field") {
                // The path already ends with the unknown key.
                let f = named(&msg).unwrap_or_default();
                (if base.is_empty() { f } else { base }, "unknown_field")
            } else if msg.starts_with("unknown variant") {
                (base, "one_of")
            } else if msg.starts_with("invalid type") {
                (base, "type")
            } else {
                (base, "invalid")
            };
            let field = if field.is_empty() {
                "body".into()
            } else {
                field
            };
            AppError::Invalid(vec![FieldError::new(field, rule, msg)])
        }
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.server.max_body_bytes)
            .unwrap_or(262_144);
        let json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"));
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let too_large =
                || AppError::PayloadTooLarge(format!("the body must be at most {limit} bytes"));
            if declared.is_some_and(|n| n > limit) {
                return Err(too_large());
            }
            if !json {
                return Err(AppError::UnsupportedMediaType(
                    "send the body as Content-Type: application/json".into(),
                ));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|e| AppError::BadRequest(format!("reading the body: {e}")))?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            let mut de = serde_json::Deserializer::from_slice(&body);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(v) => {
                    de.end().map_err(|e| serde_error(".".into(), e))?;
                    Ok(JsonBody(v))
                }
                Err(e) => {
                    let path = e.path().to_string();
                    Err(serde_error(path, e.into_inner()))
                }
            }
        })
    }
}

/// The query string as key/value pairs, refusing keys not in `allowed`.
pub fn query_pairs(req: &HttpRequest, allowed: &[&str]) -> Result<Vec<(String, String)>, AppError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let unknown: Vec<FieldError> = pairs
        .iter()
        .filter(|(k, _)| !allowed.contains(&k.as_str()))
        .map(|(k, _)| {
            FieldError::new(
                k.clone(),
                "unknown_parameter",
                format!("unknown query parameter; allowed: {}", allowed.join(", ")),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::Invalid(unknown));
    }
    Ok(pairs)
}

/// Page number and size, with the hard cap from the settings.
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// The page of a list, given its items and the total count.
    pub fn page<T>(&self, items: Vec<T>, total: i64) -> Page<T> {
        Page {
            items,
            page: self.page,
            per_page: self.per_page,
            total,
        }
    }

    pub fn parse(pairs: &[(String, String)], state: &AppState) -> Result<Paging, AppError> {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let max = state.settings.api.max_page_size;
        let page = match get("page") {
            None => 1,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .ok_or_else(|| {
                    AppError::invalid("page", "range", "must be a whole number from 1")
                })?,
        };
        let per_page = match get("per_page") {
            None => state.settings.api.default_page_size,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=max).contains(p))
                .ok_or_else(|| {
                    AppError::invalid(
                        "per_page",
                        "max",
                        format!("must be a whole number from 1 to {max}"),
                    )
                })?,
        };
        Ok(Paging { page, per_page })
    }
}

/// A page of a list.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

/// The version a client expects, from `If-Match: "N"`.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, AppError> {
    let Some(v) = req.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim();
    if s == "*" {
        return Ok(None);
    }
    s.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            AppError::invalid(
                "If-Match",
                "etag",
                "must be the ETag of the collaboration, e.g. \"3\"",
            )
        })
}
