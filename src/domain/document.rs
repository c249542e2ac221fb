//! Documents and attachments of a case (issue 16, item 1): the closed list of document types, who
//! sees a document, what a document may say it satisfies, and the content type read from the bytes.
//!
//! Seed 000, "Ansökan för utlämnande av data": the CPUA must be able to document what the release was
//! based on — the written application with the research project, the principal, the data asked for and
//! the approved ethics application; "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)"
//! lists the five items of that dossier. A document is evidence for an item, kept with its SHA-256.
//!
//! Pure: no I/O. The bytes are judged by their first bytes (magic numbers) and, for the Office formats,
//! by the ZIP central directory; the name a client gives a file says nothing.
use std::io::Cursor;

use super::classification::ObligationCode;
use super::messages::Message;

/// The type of a document (dokumenttyp): a closed list, English codes, Swedish and English labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentType {
    /// Forskningsplan / projektbeskrivning.
    ResearchPlan,
    /// Etikansökan (the signed application to the Ethical Review Authority).
    EthicsApplication,
    /// Etikprövningsmyndighetens beslut.
    EthicsDecision,
    /// Variabellista: which data are asked for.
    VariableList,
    /// Personuppgiftsbiträdesavtal (PUB-avtal).
    DataProcessingAgreement,
    /// A linkage authority's decision (Socialstyrelsen, SCB, Försäkringskassan).
    LinkageDecision,
    /// Kvitto, e.g. of a delivery or a payment.
    Receipt,
    Other,
}

impl DocumentType {
    pub const ALL: &'static [DocumentType] = &[
        DocumentType::ResearchPlan,
        DocumentType::EthicsApplication,
        DocumentType::EthicsDecision,
        DocumentType::VariableList,
        DocumentType::DataProcessingAgreement,
        DocumentType::LinkageDecision,
        DocumentType::Receipt,
        DocumentType::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DocumentType::ResearchPlan => "research_plan",
            DocumentType::EthicsApplication => "ethics_application",
            DocumentType::EthicsDecision => "ethics_decision",
            DocumentType::VariableList => "variable_list",
            DocumentType::DataProcessingAgreement => "data_processing_agreement",
            DocumentType::LinkageDecision => "linkage_decision",
            DocumentType::Receipt => "receipt",
            DocumentType::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentType> {
        Self::ALL.iter().copied().find(|t| t.code() == s)
    }

    /// The label in Swedish and English.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            DocumentType::ResearchPlan => ("Forskningsplan", "Research plan"),
            DocumentType::EthicsApplication => ("Etikansökan", "Ethics application"),
            DocumentType::EthicsDecision => ("Etikbeslut", "Ethics decision"),
            DocumentType::VariableList => ("Variabellista", "Variable list"),
            DocumentType::DataProcessingAgreement => {
                ("Personuppgiftsbiträdesavtal", "Data processing agreement")
            }
            DocumentType::LinkageDecision => ("Beslut om samkörning", "Linkage decision"),
            DocumentType::Receipt => ("Kvitto", "Receipt"),
            DocumentType::Other => ("Övrigt", "Other"),
        }
    }
}

/// Who sees a document (synlighet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentVisibility {
    /// Everyone who may see the case.
    Parties,
    /// Only the organisation that uploaded it.
    Internal,
}

impl DocumentVisibility {
    pub fn code(self) -> &'static str {
        match self {
            DocumentVisibility::Parties => "parties",
            DocumentVisibility::Internal => "internal",
        }
    }

    /// Input: exactly `parties` or `internal`.
    pub fn parse(s: &str) -> Option<DocumentVisibility> {
        match s {
            "parties" => Some(DocumentVisibility::Parties),
            "internal" => Some(DocumentVisibility::Internal),
            _ => None,
        }
    }

    /// A stored value: anything but `parties` is internal (fail closed, DESIGN.md "Fail closed").
    pub fn stored(s: &str) -> DocumentVisibility {
        match s {
            "parties" => DocumentVisibility::Parties,
            _ => DocumentVisibility::Internal,
        }
    }
}

/// The five dossier items of the confidentiality review (seed 000, "Menprövning av centralt
/// personuppgiftsansvarig myndighet (CPUA)"), as the `satisfies` codes name them.
pub const DOSSIER_ITEMS: &[&str] = &[
    "dossier.recipient_principal",
    "dossier.project_description",
    "dossier.ethics_documents",
    "dossier.requested_data",
    "dossier.access_and_storage",
];

/// What a document says it satisfies: a dossier item (`dossier.ethics_documents`, or the item's
/// bare name) or an obligation code (`ethics_approval`). Returns the stored form (`dossier.<item>`, or
/// the obligation's code).
pub fn parse_satisfies(s: &str) -> Option<String> {
    let s = s.trim();
    if DOSSIER_ITEMS.contains(&s) {
        return Some(s.to_string());
    }
    let prefixed = format!("dossier.{s}");
    if DOSSIER_ITEMS.contains(&prefixed.as_str()) {
        return Some(prefixed);
    }
    ObligationCode::parse(s).map(|c| c.as_str().to_string())
}

/// Every code `satisfies` accepts, for the refusal's list.
pub fn satisfies_codes() -> Vec<String> {
    DOSSIER_ITEMS
        .iter()
        .map(|s| s.to_string())
        .chain(ObligationCode::ALL.iter().map(|c| c.as_str().to_string()))
        .collect()
}

/// A content type samverkan accepts, as read from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Pdf,
    Docx,
    Xlsx,
    Png,
    Jpeg,
}

impl ContentKind {
    pub fn mime(self) -> &'static str {
        match self {
            ContentKind::Pdf => "application/pdf",
            ContentKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            ContentKind::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ContentKind::Png => "image/png",
            ContentKind::Jpeg => "image/jpeg",
        }
    }

    /// The names the refusal lists.
    pub const ACCEPTED: &'static str = "PDF, DOCX, XLSX, PNG, JPEG";
}

const PDF_MAGIC: &[u8] = b"%PDF-";
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = b"\xFF\xD8\xFF";
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// The content type of `bytes`, read from the bytes alone: PDF (`%PDF-`), PNG, JPEG, or a ZIP whose
/// central directory holds `[Content_Types].xml` and a `word/` (DOCX) or `xl/` (XLSX) entry. `None`
/// for anything else (HTML, an executable, a ZIP of something else, a ZIP that does not open).
pub fn sniff(bytes: &[u8]) -> Option<ContentKind> {
    if bytes.starts_with(PDF_MAGIC) {
        return Some(ContentKind::Pdf);
    }
    if bytes.starts_with(PNG_MAGIC) {
        return Some(ContentKind::Png);
    }
    if bytes.starts_with(JPEG_MAGIC) {
        return Some(ContentKind::Jpeg);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        return office_kind(bytes);
    }
    None
}

/// DOCX or XLSX, from the archive's central directory (not the local headers, which a crafted file
/// can make say anything the directory does not).
fn office_kind(bytes: &[u8]) -> Option<ContentKind> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let names: Vec<&str> = archive.file_names().collect();
    if !names.contains(&"[Content_Types].xml") {
        return None;
    }
    let word = names.iter().any(|n| n.starts_with("word/"));
    let xl = names.iter().any(|n| n.starts_with("xl/"));
    match (word, xl) {
        (true, false) => Some(ContentKind::Docx),
        (false, true) => Some(ContentKind::Xlsx),
        _ => None,
    }
}

/// The file name as kept and offered on download: the last path component of what the client sent
/// (browsers on Windows send `C:\…\name`), without control characters, trimmed, at most 255
/// characters. Refused when nothing is left.
pub fn clean_file_name(raw: &str) -> Result<String, Message> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(255)
        .collect();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err(crate::msg!("document_file_name"));
    }
    Ok(cleaned)
}

/// The name the stored bytes are kept under: named by their SHA-256 (content-addressed, so an operator
/// can check a file against its name) and the document's id, so that redacting one document never
/// removes the bytes another document holds.
pub fn storage_key(sha256: &str, document_id: &str) -> String {
    format!("{sha256}-{document_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for n in names {
            w.start_file(*n, opts).unwrap();
            w.write_all(b"<x/>").unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn the_content_type_is_read_from_the_magic_numbers() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(ContentKind::Pdf));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ContentKind::Png)
        );
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"),
            Some(ContentKind::Jpeg)
        );
        // An HTML page and a Windows executable named .pdf are refused, whatever they are called.
        assert_eq!(sniff(b"<!DOCTYPE html><html></html>"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(sniff(b" %PDF-1.7"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn office_files_are_told_apart_by_their_central_directory() {
        let docx = zip_with(&["[Content_Types].xml", "word/document.xml"]);
        assert_eq!(sniff(&docx), Some(ContentKind::Docx));
        let xlsx = zip_with(&["[Content_Types].xml", "xl/workbook.xml"]);
        assert_eq!(sniff(&xlsx), Some(ContentKind::Xlsx));
        // A plain ZIP, an Office-looking ZIP without its content types, and a broken ZIP are not.
        assert_eq!(sniff(&zip_with(&["a.txt"])), None);
        assert_eq!(sniff(&zip_with(&["word/document.xml"])), None);
        assert_eq!(
            sniff(&zip_with(&["[Content_Types].xml", "word/a", "xl/b"])),
            None
        );
        let mut truncated = docx.clone();
        truncated.truncate(docx.len() - 10);
        assert_eq!(sniff(&truncated), None);
    }

    #[test]
    fn satisfies_names_a_dossier_item_or_an_obligation() {
        assert_eq!(
            parse_satisfies("dossier.ethics_documents").as_deref(),
            Some("dossier.ethics_documents")
        );
        assert_eq!(
            parse_satisfies("requested_data").as_deref(),
            Some("dossier.requested_data")
        );
        assert_eq!(
            parse_satisfies("ethics_approval").as_deref(),
            Some("ethics_approval")
        );
        assert_eq!(parse_satisfies("dossier.nothing"), None);
        assert_eq!(parse_satisfies("bribe"), None);
        assert!(satisfies_codes().len() > DOSSIER_ITEMS.len());
    }

    #[test]
    fn file_names_keep_their_last_component_without_control_characters() {
        assert_eq!(
            clean_file_name("C:\\Users\\k\\etikbeslut.pdf").unwrap(),
            "etikbeslut.pdf"
        );
        assert_eq!(clean_file_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_file_name("a\u{0}b\r\n.pdf").unwrap(), "ab.pdf");
        assert!(clean_file_name("  ").is_err());
        assert!(clean_file_name("dir/").is_err());
        assert!(clean_file_name("..").is_err());
        assert_eq!(clean_file_name(&"x".repeat(300)).unwrap().len(), 255);
    }

    #[test]
    fn an_unknown_stored_visibility_is_internal() {
        assert_eq!(
            DocumentVisibility::stored("parties"),
            DocumentVisibility::Parties
        );
        assert_eq!(
            DocumentVisibility::stored("party"),
            DocumentVisibility::Internal
        );
        assert_eq!(DocumentVisibility::stored(""), DocumentVisibility::Internal);
        assert_eq!(DocumentVisibility::parse("everyone"), None);
    }

    #[test]
    fn every_type_has_a_unique_code_and_both_labels() {
        let mut codes = std::collections::BTreeSet::new();
        for t in DocumentType::ALL {
            assert!(codes.insert(t.code()));
            assert_eq!(DocumentType::parse(t.code()), Some(*t));
            let (sv, en) = t.label();
            assert!(!sv.is_empty() && !en.is_empty());
        }
        assert_eq!(DocumentType::parse("invoice"), None);
    }
}
