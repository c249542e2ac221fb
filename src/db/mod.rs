//! Persistence: diesel over SQLite or PostgreSQL.
pub mod billing;
pub mod casework;
pub mod conn;
pub mod documents;
pub mod identity;
pub mod lists;
pub mod login;
pub mod outbox;
pub mod packed;
pub mod queue;
pub mod repo;
pub mod schema;
pub mod signing;
pub mod webhooks;
pub mod webhooks_out;

pub use conn::{Db, DbConn};
pub mod data_users;
pub mod payments;
