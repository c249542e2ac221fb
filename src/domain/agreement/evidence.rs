//! What the lifecycle knows of a rendered agreement version (avtalsversion) when the agreement step is
//! recorded: the version must exist, carry the digest the actor names, be drawn for the parties that
//! decided, and hold every clause the effective obligations require (issue 8, item 4).
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

use super::document::{normalise, Block, Document};
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
    /// The end of the version's term (`term.end`).
    pub term_end: Option<chrono::NaiveDate>,
    /// The days after the term within which copies are deleted (`archiving.delete_within_days`).
    pub delete_within_days: Option<u32>,
    /// Every organisation that is a party to this version (principal, company, CPUAs).
    #[serde(default)]
    pub parties: BTreeSet<OrgId>,
    /// The version's newest signing envelope and its evidence, if one was drawn (issue 14).
    #[serde(default)]
    pub execution: Option<crate::domain::signing::Execution>,
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

/// Sections every template has under its own code that fulfil a rulebook clause of another name.
const SECTION_CLAUSES: [(&str, ClauseCode); 3] = [
    ("goals", ClauseCode::GoalsAndDeliverables),
    ("deliverables", ClauseCode::GoalsAndDeliverables),
    ("report_back", ClauseCode::ResultsReporting),
];

/// The rule that requires a clause's marked sentences (obligatorisk text): the obligation code of the
/// rulebook whose `clauses` list it, or for a type's base clause the clause itself, and the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub obligation: &'static str,
    pub source: (&'static str, &'static str),
}

/// Why a clause's marked sentences may not be removed by a deviation.
pub fn required_by(code: ClauseCode) -> Requirement {
    use ClauseCode as C;
    let (obligation, source) = match code {
        C::ConfidentialityReservation => (
            "confidentiality_reservation",
            (
                "000_8f4d98e28584af27.txt",
                "Forskningssamarbete med industrin",
            ),
        ),
        C::PurposeLimitation => (
            "ethics_approval",
            (
                "000_8f4d98e28584af27.txt",
                "Hantering vid utlämnandet av kvalitetsregisterdata",
            ),
        ),
        C::Publication => (
            "publication",
            (
                "000_8f4d98e28584af27.txt",
                "Publicering, erkännanden och författarskap",
            ),
        ),
        C::ArchivingAndDeletion => (
            "archiving_and_deletion",
            (
                "001_2ea1acc3c69dfa36.txt",
                "9. Arkivering och radering av kopior",
            ),
        ),
        C::CpuaCoordination => (
            "multi_cpua_coordination",
            ("002_f476663c34a527d0.txt", "Utbildningens innehåll"),
        ),
        C::Linkage => (
            "linkage_applications",
            ("000_8f4d98e28584af27.txt", "Sambearbetning av registerdata"),
        ),
        C::ResearchPrincipalResponsibility => (
            "research_principal_responsibility",
            ("001_2ea1acc3c69dfa36.txt", "6. Avtal upprättas"),
        ),
        C::RegisterIndependence => (
            "register_independence",
            ("DOMAIN.md", "Collaboration types: our working taxonomy"),
        ),
        other => (
            other.as_str(),
            ("001_2ea1acc3c69dfa36.txt", "6. Avtal upprättas"),
        ),
    };
    Requirement { obligation, source }
}

/// The rulebook clauses a stored document holds after its deviations, and those a deviation weakened.
///
/// A clause code is present when a clause carries it as its code (or is a section that fulfils it), or
/// a sub-clause carries a sentence marked with it. It is weakened when a deviation replaced text that
/// held a sentence marked with it and the agreed text no longer contains that sentence; a weakened
/// clause is not present.
pub fn document_clauses(doc: &Document) -> (BTreeSet<ClauseCode>, BTreeSet<ClauseCode>) {
    fn marks(blocks: &[Block], out: &mut Vec<(String, String)>) {
        for b in blocks {
            match b {
                Block::SubClause { required, .. } => {
                    out.extend(required.iter().map(|r| (r.clause.clone(), r.text.clone())))
                }
                Block::Deviated { blocks, .. } => marks(blocks, out),
                Block::Clause(c) => marks(&c.blocks, out),
                _ => {}
            }
        }
    }
    fn text_of(blocks: &[Block]) -> String {
        let mut s = String::new();
        for b in blocks {
            super::document::block_text(b, &mut s);
        }
        normalise(&s)
    }
    fn weakened_in(original: &[Block], agreed: &[Block], out: &mut BTreeSet<ClauseCode>) {
        let mut held = Vec::new();
        marks(original, &mut held);
        let agreed = text_of(agreed);
        for (code, text) in held {
            if !agreed.contains(&normalise(&text)) {
                out.extend(ClauseCode::parse(&code));
            }
        }
    }
    let mut present = BTreeSet::new();
    let mut weakened = BTreeSet::new();
    for c in doc.clauses() {
        present.extend(ClauseCode::parse(&c.code));
        present.extend(
            SECTION_CLAUSES
                .iter()
                .filter(|(code, _)| *code == c.code)
                .map(|(_, cl)| *cl),
        );
        let mut held = Vec::new();
        marks(&c.blocks, &mut held);
        present.extend(held.iter().filter_map(|(code, _)| ClauseCode::parse(code)));
        if let Some(d) = &c.deviation {
            weakened_in(&d.original, &c.blocks, &mut weakened);
        }
        for b in &c.blocks {
            if let Block::Deviated {
                blocks, original, ..
            } = b
            {
                weakened_in(original, blocks, &mut weakened);
            }
        }
    }
    let present = present.difference(&weakened).copied().collect();
    (present, weakened)
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
