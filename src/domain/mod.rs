//! The functional core: plain types and rules, no I/O.
pub mod classification;
pub mod lang;
pub mod money;
