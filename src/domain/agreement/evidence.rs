//! What the lifecycle knows of a rendered agreement version (avtalsversion) when the agreement step is
//! recorded: the version must exist, carry the digest the actor names, be drawn for the parties that
//! decided, and hold every clause the effective obligations require (issue 8, item 4).
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

use crate::domain::classification::ClauseCode;
use crate::domain::ids::OrgId;

/// The facts of one stored agreement version that the lifecycle checks (underlag för avtalssteget).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementVersionEvidence {
    /// The version number, 1 and up.
    pub number: u32,
    /// SHA-256 over the stored files' hashes (see [`version_digest`]); never re-rendered.
    pub digest: String,
    /// The clauses present in the stored document, after deviations.
    pub clauses: BTreeSet<ClauseCode>,
    /// Clauses whose text an obligation requires and that a deviation removed or changed.
    pub weakened_clauses: BTreeSet<ClauseCode>,
    /// The CPUAs that are parties to this version.
    pub cpua_parties: BTreeSet<OrgId>,
    /// The amendment this version was drawn for, if any.
    pub amendment: Option<u32>,
    /// Whether this is the newest version of its kind (original or that amendment).
    pub is_latest: bool,
}

/// The digest of an agreement version: SHA-256 over the three stored files' SHA-256 values, each on a
/// line of its own as `format:hex`. Signing (a later issue) signs this digest.
pub fn version_digest(docx_sha256: &str, pdf_sha256: &str, html_sha256: &str) -> String {
    let mut h = Sha256::new();
    for (name, sha) in [
        ("docx", docx_sha256),
        ("pdf", pdf_sha256),
        ("html", html_sha256),
    ] {
        h.update(name.as_bytes());
        h.update(b":");
        h.update(sha.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_stable_and_depends_on_every_file() {
        let d = version_digest("a", "b", "c");
        // Golden value: the digest is part of what parties sign, so its form must never drift.
        assert_eq!(d, hex::encode(Sha256::digest(b"docx:a\npdf:b\nhtml:c\n")));
        assert_ne!(d, version_digest("a", "b", "d"));
        assert_ne!(d, version_digest("x", "b", "c"));
        assert_ne!(d, version_digest("a", "x", "c"));
    }
}
