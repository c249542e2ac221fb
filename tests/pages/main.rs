//! Page tests over HTTP: each starts the real application on a random port with a fresh database
//! (SQLite, or PostgreSQL with TEST_DATABASE_URL), signs in on the sign-in page with a cookie session
//! like a browser, and reads the HTML. The journeys in a real Chromium are in `tests/browser.rs`.
#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "../support/test_db.rs"]
mod test_db;

/// The agreement terms `helpers.rs` signs with, from the API tests.
#[path = "../api/terms.rs"]
#[allow(dead_code)]
mod terms;
mod agreements {
    pub use crate::terms::full_terms;
}

mod admin;
mod case;
mod case_handling;
mod casework;
mod data_users;
mod documents;
mod finance;
mod finance_drafts;
mod finance_invoices;
mod frame;
mod intake;
mod payments;
mod queue;
mod review;
mod signing;
mod support;
