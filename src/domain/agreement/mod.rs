//! Agreement generation, the pure part (avtal): the data an agreement is drawn from, what it still
//! lacks, the neutral document model, the block markup that templates emit, deviations and the
//! clause-by-clause diff. No I/O here; `crate::render` turns documents into DOCX, HTML and PDF.
pub mod data;
pub mod diff;
pub mod document;
pub mod evidence;
pub mod markup;
pub mod validate;

pub use data::{AgreementData, Deviation, PartyRole, CLAUSE_CODES, COLLABORATION_TYPES};
pub use document::{Block, Clause, ClauseKind, Document, DocumentMeta};
pub use validate::{validate, MissingItem};
