//! Response headers every answer carries (säkerhetshuvuden), and CORS, closed unless configured.
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

use super::AppState;
use crate::app::AppError;

/// The policy of every response that is not HTML: nothing may load, nothing may frame it.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The policy of HTML (the API docs page, agreement pages, the diff page): scripts and styles only
/// from samverkan's own files, plus the one inline style sheet of the agreement renderer, allowed
/// by its hash. No `unsafe-inline`.
pub fn html_csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let style = base64(&Sha256::digest(crate::render::html::STYLE.as_bytes()));
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self' 'sha256-{style}'; \
             img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'"
        )
    })
}

/// Sets on every response: `X-Content-Type-Options: nosniff`, a Content-Security-Policy with
/// `frame-ancestors 'none'` (the HTML one for HTML), `X-Frame-Options: DENY` for older browsers,
/// `Referrer-Policy: no-referrer`, and `Cache-Control: no-store` unless the handler chose a cache
/// policy (API answers and agreement files hold personal data and must not be kept by caches).
/// `page`: the request's path is one of the pages ([`crate::web::is_page`]).
pub fn set_security_headers(h: &mut header::HeaderMap, page: bool) {
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Pages send their origin with their own forms (the CSRF check reads it: under `no-referrer`
    // a browser sends `Origin: null`); nothing goes to other sites.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(if page { "same-origin" } else { "no-referrer" }),
    );
    let csp = match (html, page) {
        (true, true) => HeaderValue::from_static(crate::web::PAGE_CSP),
        (true, false) => HeaderValue::from_static(html_csp()),
        _ => HeaderValue::from_static(API_CSP),
    };
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, OPTIONS";
const ALLOW_HEADERS: &str = "authorization, content-type, if-match, accept-language";
const EXPOSE_HEADERS: &str = "etag, x-request-id, retry-after, x-content-sha256, www-authenticate";

/// What CORS makes of a request: closed unless `server.cors_origins` lists the caller's origin.
/// Bearer tokens, not cookies: no credentials mode.
pub struct Cors {
    /// The request's `Origin`, when `server.cors_origins` lists it.
    allowed: Option<String>,
    /// An `OPTIONS` with `Access-Control-Request-Method`: answered before authentication.
    pub preflight: bool,
}

impl Cors {
    pub fn of(req: &ServiceRequest, state: Option<&web::Data<AppState>>) -> Cors {
        let allowed = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .filter(|o| {
                state.is_some_and(|s| s.settings.server.cors_origins.iter().any(|a| a == o))
            })
            .map(str::to_string);
        let preflight = req.method() == Method::OPTIONS
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        Cors { allowed, preflight }
    }

    /// The answer to a preflight: 204 with the allowed methods and headers for a listed origin,
    /// 403 (problem+json in `lang`) for any other.
    pub fn preflight_response(&self, lang: crate::domain::lang::Lang) -> HttpResponse {
        let Some(o) = &self.allowed else {
            let e = AppError::Forbidden(crate::msg!("forbidden.cors"));
            return super::problem::response_in(&e, lang);
        };
        let mut r = HttpResponse::NoContent().finish();
        let h = r.headers_mut();
        if let Ok(v) = HeaderValue::from_str(o) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        h.insert(header::VARY, HeaderValue::from_static("origin"));
        r
    }

    /// On the answer to any other request from a listed origin: `Access-Control-Allow-Origin` with
    /// that origin. Others get no CORS header, so a browser keeps the answer from the page.
    pub fn set_headers(&self, h: &mut header::HeaderMap) {
        let Some(o) = &self.allowed else { return };
        if let Ok(v) = HeaderValue::from_str(o) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn the_html_policy_has_no_unsafe_inline_and_forbids_framing() {
        let p = html_csp();
        assert!(!p.contains("unsafe-inline"), "{p}");
        assert!(p.contains("frame-ancestors 'none'"));
        assert!(p.contains("'sha256-"));
    }
}
