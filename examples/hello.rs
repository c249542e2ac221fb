//! The anchor of the load benchmark (`scripts/load.sh`): a bare actix-web "hello", built with the
//! same actix-web and profile as the service, so each figure of the service can be read beside what
//! the framework alone serves on the same machine in the same run.
use actix_web::{web, App, HttpResponse, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("HELLO_ADDR").unwrap_or_else(|_| "127.0.0.1:18090".into());
    HttpServer::new(|| {
        App::new().route(
            "/",
            web::get().to(|| async { HttpResponse::Ok().body("hello") }),
        )
    })
    .bind(addr)?
    .run()
    .await
}
