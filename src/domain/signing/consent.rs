//! The consent text a signer agrees to (samtyckestext), versioned, in Swedish and English (issue 14,
//! "Signing"): it names the signer, the capacity, the party, the agreement, the version and the digest.
//! A new wording gets a new version id; a signature names the version it was given under, and the
//! evidence keeps the SHA-256 of the exact text shown.
use sha2::{Digest, Sha256};

use crate::domain::lang::Lang;

/// The version of the consent text in force.
pub const CURRENT: &str = "2026-12-1";

/// What the text names.
#[derive(Debug, Clone)]
pub struct ConsentFacts<'a> {
    pub signer: &'a str,
    pub capacity: &'a str,
    pub party: &'a str,
    /// The agreement's reference and title.
    pub agreement: &'a str,
    pub version: u32,
    pub digest: &'a str,
}

/// The consent text of the current version, in `lang`.
pub fn text(lang: Lang, f: &ConsentFacts) -> String {
    match lang {
        Lang::Sv => format!(
            "Jag, {signer}, undertecknar i egenskap av {capacity} för {party} avtalet {agreement}, \
             version {version}, med kontrollsumman (SHA-256) {digest}. Jag har tagit del av just den \
             versionen och godkänner att min elektroniska underskrift binder {party} till avtalet.",
            signer = f.signer,
            capacity = f.capacity,
            party = f.party,
            agreement = f.agreement,
            version = f.version,
            digest = f.digest,
        ),
        Lang::En => format!(
            "I, {signer}, sign as {capacity} for {party} the agreement {agreement}, version \
             {version}, whose digest (SHA-256) is {digest}. I have read exactly that version and agree \
             that my electronic signature binds {party} to the agreement.",
            signer = f.signer,
            capacity = f.capacity,
            party = f.party,
            agreement = f.agreement,
            version = f.version,
            digest = f.digest,
        ),
    }
}

/// The SHA-256 (hex) of a consent text, as the evidence records it.
pub fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_text_names_signer_capacity_party_agreement_version_and_digest() {
        let f = ConsentFacts {
            signer: "Łukasz Nowak",
            capacity: "firmatecknare",
            party: "Exempel Läkemedel AB",
            agreement: "SAM-2026-0001",
            version: 3,
            digest: "ab12",
        };
        for lang in [Lang::Sv, Lang::En] {
            let t = text(lang, &f);
            for part in [
                "Łukasz Nowak",
                "firmatecknare",
                "Exempel Läkemedel AB",
                "SAM-2026-0001",
                "3",
                "ab12",
            ] {
                assert!(t.contains(part), "{lang:?}: {part} in {t}");
            }
        }
        assert_ne!(sha256(&text(Lang::Sv, &f)), sha256(&text(Lang::En, &f)));
    }
}
