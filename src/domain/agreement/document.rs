//! The neutral document model of an agreement (avtalsdokument): what DOCX, HTML and PDF render.
//! Content is written once, in the template; the three renderers cannot drift apart.
use serde::{Deserialize, Serialize};

use super::data::Deviation;
use crate::domain::lang::Lang;

/// An agreement document (avtalsdokument).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub meta: DocumentMeta,
    /// The document title (rubrik).
    pub title: String,
    pub blocks: Vec<Block>,
}

/// What every page shows and what a stored version records (dokumentmetadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentMeta {
    pub agreement_number: String,
    pub version: u32,
    pub lang: Lang,
    /// Template identifier, e.g. `sv/three-party`.
    pub template: String,
}

/// A block of content (stycke, lista, tabell …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// An unnumbered heading (rubrik); level 1 is a section, level 2 a sub-heading.
    Heading { level: u8, text: String },
    /// A paragraph (stycke); `\n` inside is a hard line break.
    Paragraph { text: String },
    /// A numbered sub-clause (punkt), e.g. `4.2`.
    SubClause { number: String, text: String },
    /// A bulleted list (punktlista).
    List { items: Vec<String> },
    /// A table (tabell); the first row is the header when `header` is set.
    Table {
        header: bool,
        rows: Vec<Vec<String>>,
    },
    /// Signature blocks (underskrifter), one per signing party.
    Signatures { signatures: Vec<Signature> },
    /// A page break (sidbrytning).
    PageBreak,
    /// A numbered clause or appendix (klausul, bilaga) with its code.
    Clause(Clause),
}

/// A signature block (underskriftsblock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The role label, e.g. `För CPUA-myndigheten`.
    pub role: String,
    pub party: String,
    pub name: String,
    pub title: String,
}

/// Clause or appendix (klausul eller bilaga).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClauseKind {
    Clause,
    Appendix,
}

/// A numbered clause (klausul) carrying its code so it can be diffed and deviated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clause {
    pub kind: ClauseKind,
    /// Stable code, e.g. `parties`, `linkage`, `appendix_variables`.
    pub code: String,
    /// 1-based number among clauses (or among appendices).
    pub number: u32,
    pub heading: String,
    pub blocks: Vec<Block>,
    /// Set when the clause's text was replaced by a negotiated deviation (avvikelse).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviation: Option<AppliedDeviation>,
}

/// A deviation applied to a clause: the reason and the template's original text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedDeviation {
    pub reason: String,
    pub original: Vec<Block>,
}

/// Words the renderers put around the content, per language.
pub struct Labels {
    pub agreement_no: &'static str,
    pub version: &'static str,
    pub page: &'static str,
    pub of: &'static str,
    pub appendix: &'static str,
    pub clause: &'static str,
    pub deviation: &'static str,
    pub reason: &'static str,
    pub deviations_title: &'static str,
    pub deviations_intro: &'static str,
    pub replaced_text: &'static str,
    pub template_text: &'static str,
    pub place_date: &'static str,
    pub signature: &'static str,
    pub name_clarification: &'static str,
}

impl Labels {
    pub fn for_lang(lang: Lang) -> &'static Labels {
        match lang {
            Lang::Sv => &Labels {
                agreement_no: "Avtal nr",
                version: "version",
                page: "Sida",
                of: "av",
                appendix: "Bilaga",
                clause: "Punkt",
                deviation: "Avvikelse från avtalsmallen",
                reason: "Motivering",
                deviations_title: "Avvikelser från avtalsmallen",
                deviations_intro: "Parterna har förhandlat fram följande avvikelser från avtalsmallens standardtext. Den avvikande texten gäller i stället för mallens text.",
                replaced_text: "Avtalad text",
                template_text: "Mallens ursprungliga text",
                place_date: "Ort och datum",
                signature: "Underskrift",
                name_clarification: "Namnförtydligande",
            },
            Lang::En => &Labels {
                agreement_no: "Agreement no.",
                version: "version",
                page: "Page",
                of: "of",
                appendix: "Appendix",
                clause: "Clause",
                deviation: "Deviation from the template",
                reason: "Reason",
                deviations_title: "Deviations from the template",
                deviations_intro: "The parties have negotiated the following deviations from the template's standard text. The deviating text applies instead of the template's text.",
                replaced_text: "Agreed text",
                template_text: "The template's original text",
                place_date: "Place and date",
                signature: "Signature",
                name_clarification: "Name in block letters",
            },
        }
    }
}

impl Document {
    /// The running header: `Avtal nr SV-2027-0042, version 2`.
    pub fn header_text(&self) -> String {
        let l = Labels::for_lang(self.meta.lang);
        format!(
            "{} {}, {} {}",
            l.agreement_no, self.meta.agreement_number, l.version, self.meta.version
        )
    }

    /// All clauses and appendices, in order.
    pub fn clauses(&self) -> impl Iterator<Item = &Clause> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Clause(c) => Some(c),
            _ => None,
        })
    }

    /// The clause with this code.
    pub fn clause(&self, code: &str) -> Option<&Clause> {
        self.clauses().find(|c| c.code == code)
    }

    /// All text of the document, one block a line (for tests and search).
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&self.title);
        out.push('\n');
        for b in &self.blocks {
            block_text(b, &mut out);
        }
        out
    }

    /// Replaces the text of each deviated clause and appends the deviation appendix.
    /// Fails with the codes of deviations whose clause the document does not have.
    pub fn apply_deviations(&mut self, deviations: &[Deviation]) -> Result<(), Vec<String>> {
        let unknown: Vec<String> = deviations
            .iter()
            .filter(|d| self.clause(&d.clause).is_none())
            .map(|d| d.clause.clone())
            .collect();
        if !unknown.is_empty() {
            return Err(unknown);
        }
        if deviations.is_empty() {
            return Ok(());
        }
        let l = Labels::for_lang(self.meta.lang);
        let mut listing = Vec::new();
        for dev in deviations {
            for block in &mut self.blocks {
                if let Block::Clause(c) = block {
                    if c.code == dev.clause {
                        let original = std::mem::replace(&mut c.blocks, text_blocks(&dev.text));
                        c.deviation = Some(AppliedDeviation {
                            reason: dev.reason.clone(),
                            original,
                        });
                        let kind = match c.kind {
                            ClauseKind::Clause => l.clause,
                            ClauseKind::Appendix => l.appendix,
                        };
                        listing.push(Block::Heading {
                            level: 2,
                            text: format!("{kind} {} {}", c.number, c.heading),
                        });
                        listing.push(Block::Paragraph {
                            text: format!("{}: {}", l.reason, dev.reason),
                        });
                        listing.push(Block::Paragraph {
                            text: format!("{}:", l.replaced_text),
                        });
                        listing.extend(text_blocks(&dev.text));
                    }
                }
            }
        }
        let number = self
            .clauses()
            .filter(|c| c.kind == ClauseKind::Appendix)
            .count() as u32
            + 1;
        let mut blocks = vec![Block::Paragraph {
            text: l.deviations_intro.to_string(),
        }];
        blocks.extend(listing);
        self.blocks.push(Block::Clause(Clause {
            kind: ClauseKind::Appendix,
            code: "appendix_deviations".to_string(),
            number,
            heading: l.deviations_title.to_string(),
            blocks,
            deviation: None,
        }));
        Ok(())
    }
}

/// Plain text (from data, not markup) to paragraphs: blank lines separate paragraphs.
pub fn text_blocks(text: &str) -> Vec<Block> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| Block::Paragraph {
            text: p.to_string(),
        })
        .collect()
}

/// The plain text of a block, one line per paragraph.
pub fn block_text(b: &Block, out: &mut String) {
    match b {
        Block::Heading { text, .. } | Block::Paragraph { text } => {
            out.push_str(text);
            out.push('\n');
        }
        Block::SubClause { number, text } => {
            out.push_str(number);
            out.push(' ');
            out.push_str(text);
            out.push('\n');
        }
        Block::List { items } => {
            for i in items {
                out.push_str("• ");
                out.push_str(i);
                out.push('\n');
            }
        }
        Block::Table { rows, .. } => {
            for r in rows {
                out.push_str(&r.join(" | "));
                out.push('\n');
            }
        }
        Block::Signatures { signatures } => {
            for s in signatures {
                out.push_str(&format!("{} {} {} {}\n", s.role, s.party, s.name, s.title));
            }
        }
        Block::PageBreak => {}
        Block::Clause(c) => {
            out.push_str(&format!("{} {}\n", c.number, c.heading));
            for b in &c.blocks {
                block_text(b, out);
            }
        }
    }
}
