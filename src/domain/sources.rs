//! The documents rules are cited from (källor): the seed index, file name → the document's own title.
use serde::Serialize;

/// One document a rule can cite (källdokument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceDocument {
    /// The file name, as in `/work/shared/seeds/` (or `DOMAIN.md` for the working summary).
    pub file: &'static str,
    /// The document's own title, in its own language (the seeds are Swedish).
    pub title: &'static str,
}

/// Every document the code and the rulebook cite. The titles are read from each document's first
/// page: seed 000's running header, seed 001's title page and seed 002's heading.
pub const DOCUMENTS: &[SourceDocument] = &[
    SourceDocument {
        file: "000_8f4d98e28584af27.txt",
        title: "Vägledning och information kring utlämnande av kvalitetsregisteruppgifter för forskning",
    },
    SourceDocument {
        file: "001_2ea1acc3c69dfa36.txt",
        title: "Guide: Vägledning för att underlätta det praktiska arbetet vid användning av kvalitetsregister inom ramen för överenskommelsen om samverkan mellan SKR och industrins företrädare",
    },
    SourceDocument {
        file: "002_f476663c34a527d0.txt",
        title: "Socialstyrelsens stöd till nationella kvalitetsregister i frågor om registerjuridik",
    },
    SourceDocument {
        file: "DOMAIN.md",
        title: "The domain: industry collaborations on Swedish quality-registry data",
    },
];

/// The title of a cited file, if the index knows it.
pub fn title_of(file: &str) -> Option<&'static str> {
    DOCUMENTS.iter().find(|d| d.file == file).map(|d| d.title)
}

/// Where a rule comes from (källa): the document's file and title and the section heading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Source {
    /// The file name, e.g. `000_8f4d98e28584af27.txt`.
    pub file: String,
    /// The document's own title, from the seed index (the file name when the index lacks it).
    pub title: String,
    /// The section heading, as written in the document.
    pub section: String,
}

impl Source {
    pub fn new(file: &str, section: &str) -> Source {
        Source {
            file: file.to_string(),
            title: title_of(file).unwrap_or(file).to_string(),
            section: section.to_string(),
        }
    }
}

impl std::fmt::Display for Source {
    /// `Title (file), "Section"`: the human form, for logs and the command line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}), \"{}\"", self.title, self.file, self.section)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::{SEED_000, SEED_001, SEED_002};

    #[test]
    fn every_seed_the_code_cites_has_a_title_in_the_index() {
        for f in [SEED_000, SEED_001, SEED_002] {
            let t = title_of(f).unwrap_or_else(|| panic!("{f} has no title"));
            assert!(!t.is_empty() && t != f, "{f}");
        }
        let s = Source::new(SEED_002, "Sammanfattningsvis");
        assert_eq!(
            s.title,
            "Socialstyrelsens stöd till nationella kvalitetsregister i frågor om registerjuridik"
        );
        assert_eq!(
            s.to_string(),
            format!("{} ({SEED_002}), \"Sammanfattningsvis\"", s.title)
        );
    }

    #[test]
    fn every_source_file_of_the_shipped_rulebook_is_in_the_index() {
        let text = include_str!("../../config/rulebook/2026-07-01.toml");
        let files: std::collections::BTreeSet<&str> = text
            .split("file = \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(files.len() >= 3, "{files:?}");
        for f in files {
            assert!(
                title_of(f).is_some(),
                "the rulebook cites {f}, which the index lacks"
            );
        }
    }

    #[test]
    fn an_unknown_file_keeps_its_name_as_title_so_nothing_is_lost() {
        let s = Source::new("999_unknown.txt", "X");
        assert_eq!(s.title, "999_unknown.txt");
    }
}
