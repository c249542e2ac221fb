//! The functional core: plain types and rules, no I/O.
pub mod agreement;
pub mod lang;
pub mod money;
