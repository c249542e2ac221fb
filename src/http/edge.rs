//! The edge of every request: what each answer gets on its way out, in one middleware (one boxed
//! future a request, where five layers of `from_fn` each boxed their own: issue 10).
//!
//! In order, from the answer outwards: an error is rendered again in the request's language
//! ([`super::problem::localized`]); a CORS preflight is answered here, before authentication, and
//! other answers to a listed origin get their CORS headers ([`super::headers::Cors`]); every answer
//! gets the security headers ([`super::headers::set_security_headers`]) and its `x-request-id`; and
//! every request is counted by its route in the metrics ([`super::metrics`]).
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use super::headers::{set_security_headers, Cors};
use super::AppState;

/// The one middleware around authentication and the routes (see the module's text).
pub async fn edge(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let started = Instant::now();
    // Named once by the request log's span (or here, when it did not run).
    let matched = req
        .extensions()
        .get::<super::routes::MatchedRoute>()
        .copied();
    let route = matched
        .map_or_else(|| super::routes::route_pattern(req.path()), |m| m.0)
        .unwrap_or("unmatched");
    let method = super::metrics::method_label(req.method());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // The request id (from the tracing middleware), returned on every answer, errors included, so
    // a user can quote it and staff can find the log line.
    let request_id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .and_then(|r| HeaderValue::from_str(&r.to_string()).ok());
    let page = crate::web::is_page(req.path());
    let lang = super::problem::request_lang(req.request());
    let cors = Cors::of(&req, state.as_ref());
    let res = if cors.preflight {
        let answer = cors.preflight_response(lang);
        Ok(req.into_response(answer).map_into_right_body())
    } else {
        next.call(req).await.map(|res| {
            let mut res = super::problem::localized(res, lang);
            cors.set_headers(res.headers_mut());
            res
        })
    };
    let res = res.map(|mut res| {
        let h = res.headers_mut();
        set_security_headers(h, page);
        if let Some(v) = request_id {
            h.insert(HeaderName::from_static("x-request-id"), v);
        }
        res
    });
    if let Some(s) = state {
        let status = match &res {
            Ok(r) => r.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        s.metrics
            .record(route, method, status, started.elapsed().as_secs_f64());
    }
    res
}
