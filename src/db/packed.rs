//! Compact storage of JSON text (issue 10): a collaboration's stored state (`collaborations.state_z`)
//! and a version-3 audit event's change (`audit_events.change_z`).
//!
//! A packed value is one byte naming the preset dictionary, then raw DEFLATE of the JSON text
//! compressed with that dictionary. A dictionary is the vocabulary of the stored state (its field
//! names and codes, no case's data), so that the first occurrence of each name costs a back
//! reference instead of its letters; each name is a few bytes where it was a dozen. A dictionary,
//! once used, is never changed: a new one takes a new number, and every earlier number stays
//! readable. What is hashed (a state's `state_hash`, an event's canonical form) is always the JSON,
//! never the packed bytes.
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Dictionary 0: none (plain raw DEFLATE).
pub const NO_DICTIONARY: u8 = 0;
/// Dictionary 1: the vocabulary of state version 3 and of JSON patches.
pub const STATE_VOCABULARY_1: u8 = 1;

/// The dictionary the writer uses now.
const CURRENT: u8 = STATE_VOCABULARY_1;

/// Dictionary 1. DEFLATE finds matches up to 32 KB back; the most common names are last (nearest).
const VOCABULARY_1: &str = concat!(
    r#"{"op":"remove","path":"/"},{"op":"replace","path":"/"#,
    r#""amendments":[],"internal_notes":[],"publications":[],"report_back":null,"disposal":null,"#,
    r#""withdrawal_reason":null,"closed_at":null,"cost_agreement":null,"agreement":null,"#,
    r#""linkage_reviews":[],"evidence":[],"passed_warnings":[],"feasibility":null,"ethics":null,"#,
    r#""intake":null,"linkage":null,"research_question":null,"research_principal":null,"#,
    r#""type_override":{"collaboration_type":"statistics","research","quality_register","#,
    r#""history":[],"appeals":[],"completion":null,"recommendation":null,"decided_at":"#,
    r#""refused","withdrawn","closed","archiving","results","data_release","agreement","#,
    r#""release_decision","data_application","ethics_review","register_contact","preparation","#,
    r#""access_and_storage":null,"ethics_documents":null,"project_description":null,"#,
    r#""recipient_principal":null,"requested_data":null},"registers":["","release":null}],"#,
    r#""cpua_reviews":[{"application_complete_at":"","application_submitted_at":"","cpua":"","#,
    r#""cpua_name":"Region ","decision":null,"decision_due_on":"","dossier":{"#,
    r#"{"op":"add","path":"","value":{"classification":{"classified_at":"","facts":{"#,
    r#""is_research":"yes","linkage_with":[],"recipient_countries":[],"registers":[""],"#,
    r#""obligations":["ethics_approval"],"registers":[{"cpua_id":"","cpua_name":"Region ","id":""}],"#,
    r#""rulebook_version":"2026.1","type":null},"company":"","created_at":"T00:00:00.000000Z","#,
    r#""created_by":"","data_kind":"aggregated","individual","id":"","is_research":true,"#,
    r#""purpose":"","reference":"","registers":[""],"requested_variables":[""],"state_version":3,"#,
    r#""step":"preparation","title":""}"#,
);

fn dictionary(id: u8) -> Option<&'static [u8]> {
    match id {
        NO_DICTIONARY => Some(&[]),
        STATE_VOCABULARY_1 => Some(VOCABULARY_1.as_bytes()),
        _ => None,
    }
}

fn broken(what: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

/// Packs JSON text with the current dictionary.
pub fn pack(text: &str) -> Vec<u8> {
    pack_with(CURRENT, text).unwrap_or_else(|_| {
        // Without a dictionary, as a last resort (compressing into memory does not fail).
        pack_with(NO_DICTIONARY, text).unwrap_or_default()
    })
}

fn pack_with(id: u8, text: &str) -> std::io::Result<Vec<u8>> {
    let dict = dictionary(id).ok_or_else(|| broken("unknown dictionary"))?;
    let mut c = Compress::new(Compression::best(), false);
    if !dict.is_empty() {
        c.set_dictionary(dict).map_err(broken)?;
    }
    let mut out = Vec::with_capacity(text.len() / 2 + 64);
    out.push(id);
    loop {
        let before_in = c.total_in();
        let status = c
            .compress_vec(
                &text.as_bytes()[usize::try_from(before_in)
                    .unwrap_or(usize::MAX)
                    .min(text.len())..],
                &mut out,
                FlushCompress::Finish,
            )
            .map_err(broken)?;
        if status == Status::StreamEnd {
            return Ok(out);
        }
        out.reserve(out.capacity().max(64));
    }
}

/// The JSON text of a packed value.
pub fn unpack(packed: &[u8]) -> std::io::Result<String> {
    let (&id, z) = packed
        .split_first()
        .ok_or_else(|| broken("an empty packed value"))?;
    let dict = dictionary(id).ok_or_else(|| broken(format!("unknown dictionary {id}")))?;
    let mut d = Decompress::new(false);
    if !dict.is_empty() {
        d.set_dictionary(dict).map_err(broken)?;
    }
    let mut out = Vec::with_capacity(z.len() * 4 + 64);
    loop {
        let used = usize::try_from(d.total_in())
            .unwrap_or(usize::MAX)
            .min(z.len());
        let before_out = d.total_out();
        let status = d
            .decompress_vec(&z[used..], &mut out, FlushDecompress::Finish)
            .map_err(broken)?;
        match status {
            Status::StreamEnd => break,
            _ if d.total_out() == before_out && out.len() < out.capacity() => {
                return Err(broken("a truncated packed value"));
            }
            _ => out.reserve(out.capacity().max(256)),
        }
    }
    String::from_utf8(out).map_err(broken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_text_unpacks_to_the_same_text_with_either_dictionary() {
        let text = r#"{"classification":{"facts":{"is_research":"yes"}},"title":"Långtidsutfall","step":"preparation"}"#;
        for id in [NO_DICTIONARY, STATE_VOCABULARY_1] {
            let p = pack_with(id, text).unwrap();
            assert_eq!(p[0], id);
            assert_eq!(unpack(&p).unwrap(), text);
        }
        assert_eq!(unpack(&pack(text)).unwrap(), text);
        // Longer than any first buffer.
        let long = "x".repeat(100_000) + &"åäö".repeat(5000);
        assert_eq!(unpack(&pack(&long)).unwrap(), long);
    }

    #[test]
    fn the_vocabulary_makes_a_state_smaller_than_plain_deflate() {
        let text = concat!(
            r#"{"classification":{"classified_at":"2026-12-02T14:32:44.808517Z","facts":{"is_research":"yes","linkage_with":[],"#,
            r#""recipient_countries":[],"registers":["e3790f7b-2a2a-4eae-8871-689b95ea3ef6"]},"obligations":[],"#,
            r#""rulebook_version":"2026.1","type":null},"step":"data_application","title":"En studie"}"#
        );
        let plain = pack_with(NO_DICTIONARY, text).unwrap().len();
        let vocab = pack_with(STATE_VOCABULARY_1, text).unwrap().len();
        assert!(vocab < plain, "{vocab} against {plain}");
    }

    #[test]
    fn an_unknown_dictionary_or_broken_bytes_are_an_error_not_a_guess() {
        let mut p = pack("{}");
        p[0] = 200;
        assert!(unpack(&p).is_err());
        assert!(unpack(&[]).is_err());
        let mut p = pack(r#"{"title":"a title long enough to compress"}"#);
        p.truncate(p.len() / 2);
        assert!(unpack(&p).is_err());
    }

    /// A dictionary once used is never changed: stored values would no longer unpack.
    #[test]
    fn dictionary_1_is_unchanged() {
        use sha2::{Digest, Sha256};
        assert_eq!(
            hex::encode(Sha256::digest(VOCABULARY_1.as_bytes())),
            "9ea1a1ddf47e445c508ac556a889a72011b725283a6d3846a50361df5331093c"
        );
    }
}
