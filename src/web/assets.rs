//! The pages' own files (style sheet, scripts), compiled into the binary and served from
//! `/assets/`: nothing is loaded from anywhere else.
use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// The files: `(name, content type, content)`. An area's pages add theirs here.
const FILES: &[(&str, &str, &[u8])] = &[(
    "app.css",
    "text/css; charset=utf-8",
    include_bytes!("assets/app.css"),
)];

/// One file; 404 for any other name.
pub async fn asset(name: web::Path<String>) -> HttpResponse {
    match FILES.iter().find(|(n, _, _)| *n == name.as_str()) {
        Some((_, ct, body)) => HttpResponse::Ok()
            .content_type(*ct)
            // An hour: the files change only with a new release.
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(*body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found"),
    }
}
