//! The functional core: plain types and rules, no I/O.
pub mod agreement;
pub mod audit;
pub mod classification;
pub mod collaboration;
pub mod events;
pub mod ids;
pub mod intake;
pub mod lang;
pub mod lifecycle;
pub mod money;
pub mod organisation;
pub mod register;
pub mod role;
pub mod state;
pub mod step;
pub mod text;
