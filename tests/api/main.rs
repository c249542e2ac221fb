//! API tests: each starts the real application on a random port with a fresh database — a SQLite
//! file always, or its own PostgreSQL database when TEST_DATABASE_URL is set — and talks HTTP.
mod agreements;
mod audit;
mod billing;
mod billing_drafts;
mod billing_receipts;
mod case16;
mod casework;
mod classification;
mod cost_agreement;
mod data_users;
mod documents;
mod documents_s3;
mod hardening;
mod helpers;
mod identity;
mod input;
mod legal_core;
mod lifecycle;
mod lists;
mod messages;
mod messages_errors;
mod metrics;
mod openapi;
mod payments;
mod reference;
mod security;
mod signing;
mod signing_seal_job;
mod terms;
#[path = "../support/test_db.rs"]
mod test_db;
mod views;
mod webhooks;
mod webhooks_out;
