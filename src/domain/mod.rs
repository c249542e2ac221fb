//! The functional core: plain types and rules, no I/O.
pub mod agreement;
pub mod audit;
pub mod billing;
pub mod classification;
pub mod collaboration;
pub mod deadlines;
pub mod document;
pub mod email;
pub mod events;
pub mod ids;
pub mod intake;
pub mod lang;
pub mod lifecycle;
pub mod messages;
pub mod money;
pub mod organisation;
pub mod register;
pub mod role;
pub mod signing;
pub mod sources;
pub mod state;
pub mod step;
pub mod text;
// issue 16: named data users
pub mod data_users;
