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
    /// A numbered sub-clause (punkt), e.g. `4.2`. `required` lists the sentences in it that a rule
    /// requires (obligatorisk text), marked in the template as `[[clause_code: sentence]]`.
    SubClause {
        number: String,
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        required: Vec<RequiredText>,
    },
    /// A sub-clause whose text a negotiated deviation (avvikelse) replaced: the agreed text, with the
    /// template's original kept beside it.
    Deviated {
        /// The sub-clause's number, e.g. `7.3`.
        number: String,
        reason: String,
        /// The agreed text; the first block is the numbered sub-clause.
        blocks: Vec<Block>,
        /// The template's text it replaced (the sub-clause and the lists or tables that belong to it).
        original: Vec<Block>,
    },
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

/// A sentence a rule requires in a sub-clause (obligatorisk text); a deviation may not remove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredText {
    /// The rulebook clause code the sentence fulfils, e.g. `confidentiality_reservation`.
    pub clause: String,
    /// The sentence as rendered.
    pub text: String,
}

/// Why a deviation cannot be applied (avvikelsefel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviationError {
    /// The clause or sub-clause does not exist in this document; the target as given.
    Unknown(String),
    /// The clause has sub-clauses: a deviation names one of them (the clause's number given).
    NeedsSubClause(String),
    /// The new text leaves out a sentence a rule requires.
    RemovesRequired {
        /// The sub-clause's number, e.g. `9.1`.
        number: String,
        /// The document clause's code.
        clause: String,
        required: RequiredText,
    },
}

/// Text compared for "is the required sentence still there": whitespace runs folded to one space.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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

    /// Resolves what a deviation request names, in this document's numbering, to the clause code and
    /// sub-clause index it is stored by: `7.3` (clause 7, sub-clause 3), `7` (a clause without
    /// sub-clauses), or by code, `publication.3` / `ethics`. `None` when there is no such place.
    pub fn resolve_target(&self, target: &str) -> Option<(String, Option<u32>)> {
        let target = target.trim();
        let (head, sub) = match target.split_once('.') {
            Some((h, s)) => (h, Some(s.parse::<u32>().ok().filter(|n| *n > 0)?)),
            None => (target, None),
        };
        let clause = match head.parse::<u32>() {
            Ok(n) => self
                .clauses()
                .find(|c| c.kind == ClauseKind::Clause && c.number == n)?,
            Err(_) => self.clause(head)?,
        };
        if let Some(i) = sub {
            if i as usize > sub_clause_starts(&clause.blocks).len() {
                return None;
            }
        }
        Some((clause.code.clone(), sub))
    }

    /// Checks a new deviation against this document as the template renders it (without deviations):
    /// the place exists, a clause with sub-clauses is deviated one sub-clause at a time, and the new
    /// text keeps every sentence a rule requires there (verbatim, whitespace aside).
    pub fn check_deviation(&self, dev: &Deviation) -> Result<(), DeviationError> {
        let target = || match dev.sub_clause {
            Some(i) => format!("{}.{i}", dev.clause),
            None => dev.clause.clone(),
        };
        let clause = self
            .clause(&dev.clause)
            .ok_or_else(|| DeviationError::Unknown(target()))?;
        let starts = sub_clause_starts(&clause.blocks);
        let range = match dev.sub_clause {
            None if starts.is_empty() => 0..clause.blocks.len(),
            None => return Err(DeviationError::NeedsSubClause(clause.number.to_string())),
            Some(i) => sub_clause_range(&clause.blocks, i)
                .ok_or_else(|| DeviationError::Unknown(target()))?,
        };
        let new_text = normalise(&dev.text);
        for b in &clause.blocks[range] {
            if let Block::SubClause {
                number, required, ..
            } = b
            {
                if let Some(r) = required
                    .iter()
                    .find(|r| !new_text.contains(&normalise(&r.text)))
                {
                    return Err(DeviationError::RemovesRequired {
                        number: number.clone(),
                        clause: clause.code.clone(),
                        required: r.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Replaces the text of each deviated sub-clause (or whole clause without sub-clauses, or a whole
    /// clause by a deviation stored before sub-clauses could be named), keeps the original beside it,
    /// and appends the deviation appendix. Fails with the targets the document does not have.
    pub fn apply_deviations(&mut self, deviations: &[Deviation]) -> Result<(), Vec<String>> {
        let unknown: Vec<String> = deviations
            .iter()
            .filter(|d| match self.clause(&d.clause) {
                None => true,
                Some(c) => d
                    .sub_clause
                    .is_some_and(|i| sub_clause_range(&c.blocks, i).is_none()),
            })
            .map(|d| match d.sub_clause {
                Some(i) => format!("{}.{i}", d.clause),
                None => d.clause.clone(),
            })
            .collect();
        if !unknown.is_empty() {
            return Err(unknown);
        }
        if deviations.is_empty() {
            return Ok(());
        }
        let l = Labels::for_lang(self.meta.lang);
        // Sub-clauses are replaced from the last to the first within a clause, so earlier indices
        // stay valid while later ones are replaced.
        let mut order: Vec<&Deviation> = deviations.iter().collect();
        order.sort_by_key(|d| std::cmp::Reverse(d.sub_clause));
        let mut listed: Vec<(u32, u32, Vec<Block>)> = Vec::new();
        for dev in order {
            for block in &mut self.blocks {
                let Block::Clause(c) = block else { continue };
                if c.code != dev.clause {
                    continue;
                }
                let kind = match c.kind {
                    ClauseKind::Clause => l.clause,
                    ClauseKind::Appendix => l.appendix,
                };
                let mut listing = Vec::new();
                let original = match dev.sub_clause.and_then(|i| sub_clause_range(&c.blocks, i)) {
                    Some(range) => {
                        let number = match &c.blocks[range.start] {
                            Block::SubClause { number, .. } => number.clone(),
                            _ => format!("{}.{}", c.number, dev.sub_clause.unwrap_or(1)),
                        };
                        let original: Vec<Block> = c.blocks[range.clone()].to_vec();
                        let mut agreed = text_blocks(&dev.text);
                        if let Some(Block::Paragraph { text }) = agreed.first().cloned() {
                            agreed[0] = Block::SubClause {
                                number: number.clone(),
                                text,
                                required: Vec::new(),
                            };
                        }
                        listing.push(Block::Heading {
                            level: 2,
                            text: format!("{kind} {number} ({} {})", c.number, c.heading),
                        });
                        c.blocks.splice(
                            range,
                            [Block::Deviated {
                                number,
                                reason: dev.reason.clone(),
                                blocks: agreed,
                                original: original.clone(),
                            }],
                        );
                        original
                    }
                    None => {
                        let original = std::mem::replace(&mut c.blocks, text_blocks(&dev.text));
                        c.deviation = Some(AppliedDeviation {
                            reason: dev.reason.clone(),
                            original: original.clone(),
                        });
                        listing.push(Block::Heading {
                            level: 2,
                            text: format!("{kind} {} {}", c.number, c.heading),
                        });
                        original
                    }
                };
                listing.push(Block::Paragraph {
                    text: format!("{}: {}", l.reason, dev.reason),
                });
                listing.push(Block::Paragraph {
                    text: format!("{}:", l.replaced_text),
                });
                listing.extend(text_blocks(&dev.text));
                listing.push(Block::Paragraph {
                    text: format!("{}:", l.template_text),
                });
                listing.extend(original.iter().map(as_plain));
                listed.push((c.number, dev.sub_clause.unwrap_or(0), listing));
            }
        }
        // The appendix lists deviations in document order.
        listed.sort_by_key(|(n, s, _)| (*n, *s));
        let listing: Vec<Block> = listed.into_iter().flat_map(|(_, _, b)| b).collect();
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

/// Where each sub-clause starts among a clause's blocks (a replaced sub-clause counts as one).
fn sub_clause_starts(blocks: &[Block]) -> Vec<usize> {
    blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, Block::SubClause { .. } | Block::Deviated { .. }))
        .map(|(i, _)| i)
        .collect()
}

/// The blocks of sub-clause `index` (1-based): the sub-clause and the lists or tables that follow it
/// up to the next sub-clause. `None` when there is none, or it was already replaced.
fn sub_clause_range(blocks: &[Block], index: u32) -> Option<std::ops::Range<usize>> {
    let starts = sub_clause_starts(blocks);
    let i = (index as usize).checked_sub(1)?;
    let start = *starts.get(i)?;
    if !matches!(blocks[start], Block::SubClause { .. }) {
        return None;
    }
    let end = starts.get(i + 1).copied().unwrap_or(blocks.len());
    Some(start..end)
}

/// A block as it reads outside the numbering (the deviation appendix, the original beside a deviation):
/// a sub-clause keeps its number as text.
pub fn as_plain(b: &Block) -> Block {
    match b {
        Block::SubClause { number, text, .. } => Block::Paragraph {
            text: format!("{number} {text}"),
        },
        other => other.clone(),
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
        Block::SubClause { number, text, .. } => {
            out.push_str(number);
            out.push(' ');
            out.push_str(text);
            out.push('\n');
        }
        Block::Deviated { blocks, .. } => {
            for b in blocks {
                block_text(b, out);
            }
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
