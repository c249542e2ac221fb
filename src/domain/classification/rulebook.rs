//! The rulebook (regelbok): versioned data that CPUA lawyers own. Parsed from TOML text, compiled once,
//! and checked: unknown facts or values, unknown codes, rules that can never fire, two rules that conclude
//! different types for the same facts, missing translations and missing sources are errors with file and line.
use super::codes::{ClauseCode, CollaborationType, DetailKind, Instrument, ObligationCode, Role};
use super::condition::{self, Cond, Env, Tri, EMPTY_ENV};
use super::facts::FactId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use toml::Spanned;

/// Where a rule comes from (källa): a seed file and section heading, or a public fact in DOMAIN.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub file: Arc<str>,
    pub section: Arc<str>,
}

/// A rulebook error, displayed as `file:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulebookError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RulebookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for RulebookError {}

/// What a rule concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conclusion {
    Type(CollaborationType),
    /// A named grey zone: no type, legal review decides.
    Unclassified,
    Obligation(ObligationCode),
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub id: Arc<str>,
    pub cond: Cond,
    pub mask: u16,
    pub conclusion: Conclusion,
    pub details: Vec<DetailKind>,
    pub reason_sv: Arc<str>,
    pub reason_en: Arc<str>,
    pub source: Source,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct TypeDef {
    pub label_sv: Arc<str>,
    pub label_en: Arc<str>,
    pub instrument: Instrument,
    pub parties: Vec<Role>,
    pub parties_if_research: Vec<Role>,
    pub documents: u64,
    pub clauses: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct ObligationDef {
    pub label_sv: Arc<str>,
    pub label_en: Arc<str>,
    pub gates_step: u8,
    pub waivable: bool,
    pub documents: u64,
    pub clauses: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Labelled {
    pub code: Arc<str>,
    pub label_sv: Arc<str>,
    pub label_en: Arc<str>,
}

/// The default explanation when no type rule matches.
#[derive(Debug, Clone)]
pub(crate) struct Explanation {
    pub reason_sv: Arc<str>,
    pub reason_en: Arc<str>,
    pub source: Source,
}

/// A compiled, checked rulebook (regelbok) of one version.
#[derive(Debug, Clone)]
pub struct Rulebook {
    pub version: String,
    pub effective_from: NaiveDate,
    pub file: String,
    pub(crate) unclassified: Explanation,
    pub(crate) types: Vec<Option<TypeDef>>,
    pub(crate) obligations: Vec<Option<ObligationDef>>,
    pub(crate) documents: Vec<Labelled>,
    pub(crate) clauses: Vec<Option<Labelled>>,
    /// Rules concluding a type or `unclassified`, in file order.
    pub(crate) type_rules: Vec<Rule>,
    /// Rules concluding an obligation, in file order.
    pub(crate) obligation_rules: Vec<Rule>,
    /// Representative values per fact (for sensitivity and checks).
    pub(crate) domains: Vec<Vec<u32>>,
    /// Per fact (indexed by `FactId`): the type rules and the obligation rules that read it.
    pub(crate) type_deps: Vec<Vec<usize>>,
    pub(crate) obligation_deps: Vec<Vec<usize>>,
}

/// What `check` found in a sound rulebook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub file: String,
    pub version: String,
    pub effective_from: NaiveDate,
    pub type_rules: usize,
    pub obligation_rules: usize,
    /// Fact combinations enumerated to prove that rules can fire and type rules never conflict.
    pub combinations_checked: u64,
}

/// What the rulebook says about a collaboration type (for pages and for a type set by legal override).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeInfo {
    pub code: CollaborationType,
    pub label_sv: Arc<str>,
    pub label_en: Arc<str>,
    pub instrument: Instrument,
    pub parties: Vec<Role>,
    /// Roles that also sign when the collaboration is research.
    pub parties_if_research: Vec<Role>,
    pub documents: Vec<Arc<str>>,
    pub clauses: Vec<ClauseCode>,
}

/// What the rulebook says about an obligation (for pages and for an obligation added by legal override).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObligationInfo {
    pub code: ObligationCode,
    pub label_sv: Arc<str>,
    pub label_en: Arc<str>,
    pub gates_step: u8,
    /// CPUA legal may waive it with a written reason. Never true for a "ska" rule of the seeds.
    pub waivable: bool,
    pub documents: Vec<Arc<str>>,
    pub clauses: Vec<ClauseCode>,
}

impl Rulebook {
    fn document_codes(&self, mask: u64) -> Vec<Arc<str>> {
        self.documents
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1u64 << i) != 0)
            .map(|(_, d)| d.code.clone())
            .collect()
    }

    fn clause_codes(mask: u32) -> Vec<ClauseCode> {
        ClauseCode::ALL
            .iter()
            .copied()
            .filter(|c| mask & c.bit() != 0)
            .collect()
    }

    /// The declaration of a collaboration type, if this rulebook declares it.
    pub fn type_info(&self, code: CollaborationType) -> Option<TypeInfo> {
        let d = self.types.get(code as usize)?.as_ref()?;
        Some(TypeInfo {
            code,
            label_sv: d.label_sv.clone(),
            label_en: d.label_en.clone(),
            instrument: d.instrument,
            parties: d.parties.clone(),
            parties_if_research: d.parties_if_research.clone(),
            documents: self.document_codes(d.documents),
            clauses: Self::clause_codes(d.clauses),
        })
    }

    /// The declaration of an obligation, if this rulebook declares it.
    pub fn obligation_info(&self, code: ObligationCode) -> Option<ObligationInfo> {
        let d = self.obligations.get(code as usize)?.as_ref()?;
        Some(ObligationInfo {
            code,
            label_sv: d.label_sv.clone(),
            label_en: d.label_en.clone(),
            gates_step: d.gates_step,
            waivable: d.waivable,
            documents: self.document_codes(d.documents),
            clauses: Self::clause_codes(d.clauses),
        })
    }

    /// A document's Swedish and English labels.
    pub fn document_label(&self, code: &str) -> Option<(Arc<str>, Arc<str>)> {
        self.documents
            .iter()
            .find(|d| &*d.code == code)
            .map(|d| (d.label_sv.clone(), d.label_en.clone()))
    }

    /// A clause's Swedish and English labels.
    pub fn clause_label(&self, code: ClauseCode) -> Option<(Arc<str>, Arc<str>)> {
        self.clauses
            .get(code as usize)?
            .as_ref()
            .map(|c| (c.label_sv.clone(), c.label_en.clone()))
    }
}

impl Rulebook {
    /// The ids of all rules, type rules first.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.type_rules
            .iter()
            .chain(self.obligation_rules.iter())
            .map(|r| &*r.id)
    }

    /// Parses, compiles and checks a rulebook from its file name and text.
    pub fn parse(file_name: &str, text: &str) -> Result<Rulebook, Vec<RulebookError>> {
        Self::parse_with_report(file_name, text).map(|(rb, _)| rb)
    }

    /// As [`Rulebook::parse`], also returning what the checker enumerated.
    pub fn parse_with_report(
        file_name: &str,
        text: &str,
    ) -> Result<(Rulebook, CheckReport), Vec<RulebookError>> {
        let mut cx = Cx {
            file: file_name,
            text,
            errors: Vec::new(),
        };
        let raw: RawRulebook = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let line = e.span().map(|s| cx.line(s.start)).unwrap_or(1);
                return Err(vec![cx.err_at(line, e.message().trim().to_string())]);
            }
        };
        let rb = cx.compile(raw);
        let mut combos = 0u64;
        if let Some(rb) = &rb {
            combos = cx.check(rb);
        }
        match rb {
            Some(rb) if cx.errors.is_empty() => {
                let report = CheckReport {
                    file: file_name.to_string(),
                    version: rb.version.clone(),
                    effective_from: rb.effective_from,
                    type_rules: rb.type_rules.len(),
                    obligation_rules: rb.obligation_rules.len(),
                    combinations_checked: combos,
                };
                Ok((rb, report))
            }
            _ => {
                cx.errors.sort_by_key(|e| e.line);
                Err(cx.errors)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The TOML shape.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRulebook {
    version: Spanned<String>,
    effective_from: Spanned<toml::value::Datetime>,
    unclassified: Spanned<RawExplanation>,
    #[serde(default, rename = "type")]
    types: Vec<Spanned<RawType>>,
    #[serde(default, rename = "obligation")]
    obligations: Vec<Spanned<RawObligation>>,
    #[serde(default, rename = "document")]
    documents: Vec<Spanned<RawLabelled>>,
    #[serde(default, rename = "clause")]
    clauses: Vec<Spanned<RawLabelled>>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExplanation {
    reason_sv: Option<Spanned<String>>,
    reason_en: Option<Spanned<String>>,
    source: Option<Spanned<RawSource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    #[serde(default)]
    file: String,
    #[serde(default)]
    section: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabelled {
    code: Spanned<String>,
    label_sv: Option<Spanned<String>>,
    label_en: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    code: Spanned<String>,
    label_sv: Option<Spanned<String>>,
    label_en: Option<Spanned<String>>,
    instrument: Spanned<String>,
    #[serde(default)]
    parties: Vec<Spanned<String>>,
    #[serde(default)]
    parties_if_research: Vec<Spanned<String>>,
    #[serde(default)]
    documents: Vec<Spanned<String>>,
    #[serde(default)]
    clauses: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObligation {
    code: Spanned<String>,
    label_sv: Option<Spanned<String>>,
    label_en: Option<Spanned<String>>,
    gates_step: Spanned<i64>,
    /// Whether CPUA legal may waive the obligation; absent means no.
    #[serde(default)]
    waivable: bool,
    #[serde(default)]
    documents: Vec<Spanned<String>>,
    #[serde(default)]
    clauses: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    when: Spanned<String>,
    then: Spanned<RawThen>,
    reason_sv: Option<Spanned<String>>,
    reason_en: Option<Spanned<String>>,
    source: Option<Spanned<RawSource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThen {
    #[serde(rename = "type")]
    ty: Option<Spanned<String>>,
    obligation: Option<Spanned<String>>,
    #[serde(default)]
    unclassified: bool,
    #[serde(default)]
    details: Vec<Spanned<String>>,
}

// ---------------------------------------------------------------------------------------------
// Compilation.

struct Cx<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<RulebookError>,
}

/// Limit on enumerated combinations per check, to keep `check` fast.
const ENUMERATION_LIMIT: u64 = 1 << 22;

impl Cx<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }
    fn err_at(&self, line: usize, message: impl Into<String>) -> RulebookError {
        RulebookError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        }
    }
    fn error(&mut self, offset: usize, message: impl Into<String>) {
        let e = self.err_at(self.line(offset), message);
        self.errors.push(e);
    }

    /// A required, non-empty translation.
    fn text(
        &mut self,
        v: &Option<Spanned<String>>,
        field: &str,
        owner: &str,
        at: usize,
    ) -> Arc<str> {
        match v {
            Some(s) if !s.get_ref().trim().is_empty() => Arc::from(s.get_ref().trim()),
            Some(s) => {
                self.error(
                    s.span().start,
                    format!("missing translation: `{field}` of {owner} is empty"),
                );
                Arc::from("")
            }
            None => {
                self.error(at, format!("missing translation: {owner} has no `{field}`"));
                Arc::from("")
            }
        }
    }

    fn source(&mut self, v: &Option<Spanned<RawSource>>, owner: &str, at: usize) -> Source {
        match v {
            Some(s) => {
                let r = s.get_ref();
                if r.file.trim().is_empty() || r.section.trim().is_empty() {
                    self.error(
                        s.span().start,
                        format!("missing source: {owner} needs both `file` and `section`"),
                    );
                }
                Source {
                    file: Arc::from(r.file.trim()),
                    section: Arc::from(r.section.trim()),
                }
            }
            None => {
                self.error(
                    at,
                    format!(
                        "missing source: {owner} has no `source` (seed file and section heading)"
                    ),
                );
                Source {
                    file: Arc::from(""),
                    section: Arc::from(""),
                }
            }
        }
    }

    fn clause_mask(&mut self, list: &[Spanned<String>]) -> u32 {
        let mut m = 0;
        for c in list {
            match ClauseCode::parse(c.get_ref()) {
                Some(code) => m |= code.bit(),
                None => self.error(
                    c.span().start,
                    format!(
                        "unknown clause code `{}`; known: {}",
                        c.get_ref(),
                        ClauseCode::ALL
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
        }
        m
    }

    fn document_mask(&mut self, list: &[Spanned<String>], docs: &[Labelled]) -> u64 {
        let mut m = 0;
        for d in list {
            match docs.iter().position(|x| &*x.code == d.get_ref().as_str()) {
                Some(i) => m |= 1u64 << i,
                None => self.error(
                    d.span().start,
                    format!(
                        "unknown document code `{}`: declare it in a [[document]] table",
                        d.get_ref()
                    ),
                ),
            }
        }
        m
    }

    fn roles(&mut self, list: &[Spanned<String>]) -> Vec<Role> {
        let mut out = Vec::new();
        for r in list {
            match Role::parse(r.get_ref()) {
                Some(role) if !out.contains(&role) => out.push(role),
                Some(_) => {}
                None => self.error(
                    r.span().start,
                    format!(
                        "unknown role `{}`; known: cpua, company, research_principal",
                        r.get_ref()
                    ),
                ),
            }
        }
        out
    }

    fn compile(&mut self, raw: RawRulebook) -> Option<Rulebook> {
        let version = raw.version.get_ref().trim().to_string();
        if version.is_empty() {
            self.error(raw.version.span().start, "`version` is empty");
        }
        let effective_from = {
            let d = raw.effective_from.get_ref();
            match (d.date, d.time) {
                (Some(date), None) => {
                    NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
                }
                _ => None,
            }
        };
        let Some(effective_from) = effective_from else {
            self.error(
                raw.effective_from.span().start,
                "`effective_from` must be a date such as 2026-07-01",
            );
            return None;
        };

        let un_at = raw.unclassified.span().start;
        let un = raw.unclassified.get_ref();
        let unclassified = Explanation {
            reason_sv: self.text(&un.reason_sv, "reason_sv", "[unclassified]", un_at),
            reason_en: self.text(&un.reason_en, "reason_en", "[unclassified]", un_at),
            source: self.source(&un.source, "[unclassified]", un_at),
        };

        // Documents first: the other sections refer to them.
        let mut documents: Vec<Labelled> = Vec::new();
        for d in &raw.documents {
            let at = d.span().start;
            let r = d.get_ref();
            let code = r.code.get_ref().trim().to_string();
            let owner = format!("document `{code}`");
            if code.is_empty() {
                self.error(r.code.span().start, "document code is empty");
            }
            if documents.iter().any(|x| *x.code == *code) {
                self.error(
                    r.code.span().start,
                    format!("document `{code}` is declared twice"),
                );
            }
            if documents.len() == 64 {
                self.error(at, "more than 64 documents are not supported");
                continue;
            }
            let label_sv = self.text(&r.label_sv, "label_sv", &owner, at);
            let label_en = self.text(&r.label_en, "label_en", &owner, at);
            documents.push(Labelled {
                code: Arc::from(code),
                label_sv,
                label_en,
            });
        }

        let mut clauses: Vec<Option<Labelled>> = vec![None; ClauseCode::ALL.len()];
        for c in &raw.clauses {
            let at = c.span().start;
            let r = c.get_ref();
            let Some(code) = ClauseCode::parse(r.code.get_ref()) else {
                self.clause_mask(std::slice::from_ref(&r.code));
                continue;
            };
            if clauses[code as usize].is_some() {
                self.error(
                    r.code.span().start,
                    format!("clause `{code}` is declared twice"),
                );
            }
            let owner = format!("clause `{code}`");
            clauses[code as usize] = Some(Labelled {
                code: Arc::from(code.as_str()),
                label_sv: self.text(&r.label_sv, "label_sv", &owner, at),
                label_en: self.text(&r.label_en, "label_en", &owner, at),
            });
        }

        let mut types: Vec<Option<TypeDef>> = vec![None; CollaborationType::ALL.len()];
        for t in &raw.types {
            let at = t.span().start;
            let r = t.get_ref();
            let Some(code) = CollaborationType::parse(r.code.get_ref()) else {
                self.error(
                    r.code.span().start,
                    format!("unknown collaboration type `{}`", r.code.get_ref()),
                );
                continue;
            };
            if types[code as usize].is_some() {
                self.error(
                    r.code.span().start,
                    format!("type `{code}` is declared twice"),
                );
            }
            let owner = format!("type `{code}`");
            let instrument = Instrument::parse(r.instrument.get_ref()).unwrap_or_else(|| {
                self.error(
                    r.instrument.span().start,
                    format!(
                        "unknown instrument `{}`; expected agreement or decision",
                        r.instrument.get_ref()
                    ),
                );
                Instrument::Agreement
            });
            types[code as usize] = Some(TypeDef {
                label_sv: self.text(&r.label_sv, "label_sv", &owner, at),
                label_en: self.text(&r.label_en, "label_en", &owner, at),
                instrument,
                parties: self.roles(&r.parties),
                parties_if_research: self.roles(&r.parties_if_research),
                documents: self.document_mask(&r.documents, &documents),
                clauses: self.clause_mask(&r.clauses),
            });
        }

        let mut obligations: Vec<Option<ObligationDef>> = vec![None; ObligationCode::ALL.len()];
        for o in &raw.obligations {
            let at = o.span().start;
            let r = o.get_ref();
            let Some(code) = ObligationCode::parse(r.code.get_ref()) else {
                self.error(
                    r.code.span().start,
                    format!("unknown obligation code `{}`", r.code.get_ref()),
                );
                continue;
            };
            if obligations[code as usize].is_some() {
                self.error(
                    r.code.span().start,
                    format!("obligation `{code}` is declared twice"),
                );
            }
            let step = *r.gates_step.get_ref();
            if !(1..=9).contains(&step) {
                self.error(
                    r.gates_step.span().start,
                    format!("`gates_step` of obligation `{code}` must be a lifecycle step 1–9"),
                );
            }
            let owner = format!("obligation `{code}`");
            obligations[code as usize] = Some(ObligationDef {
                label_sv: self.text(&r.label_sv, "label_sv", &owner, at),
                label_en: self.text(&r.label_en, "label_en", &owner, at),
                gates_step: step.clamp(1, 9) as u8,
                waivable: r.waivable,
                documents: self.document_mask(&r.documents, &documents),
                clauses: self.clause_mask(&r.clauses),
            });
        }
        if obligations[ObligationCode::LegalReview as usize].is_none() {
            self.error(
                un_at,
                "the rulebook must declare obligation `legal_review`: unclassified cases go to legal review",
            );
        }

        let mut type_rules = Vec::new();
        let mut obligation_rules = Vec::new();
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for rr in &raw.rules {
            let at = rr.span().start;
            let r = rr.get_ref();
            let id = r.id.get_ref().trim().to_string();
            if id.is_empty() {
                self.error(r.id.span().start, "rule id is empty");
            } else if !ids.insert(id.clone()) {
                self.error(r.id.span().start, format!("rule id `{id}` is used twice"));
            }
            let owner = format!("rule `{id}`");
            let when_at = r.when.span().start;
            let cond = match condition::parse(r.when.get_ref()) {
                Ok(c) => Some(c),
                Err(e) => {
                    // The string's opening quote(s) precede the text; count lines inside the text too.
                    let inner = r.when.get_ref();
                    let extra = inner.as_bytes()[..e.pos.min(inner.len())]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count();
                    // A multi-line string drops the newline right after its opening delimiter.
                    let raw = self.text.get(when_at..).unwrap_or("");
                    let trimmed_newline = (raw.starts_with("\"\"\"") || raw.starts_with("'''"))
                        && raw[3..].starts_with(['\n', '\r']);
                    let line = self.line(when_at) + extra + usize::from(trimmed_newline);
                    let err = self.err_at(line, format!("{owner}: {}", e.message));
                    self.errors.push(err);
                    None
                }
            };
            let then = r.then.get_ref();
            let then_at = r.then.span().start;
            let chosen =
                then.ty.is_some() as u8 + then.obligation.is_some() as u8 + then.unclassified as u8;
            let conclusion = if chosen != 1 {
                self.error(
                    then_at,
                    format!("{owner}: `then` must name exactly one of `type`, `obligation` or `unclassified = true`"),
                );
                None
            } else if let Some(t) = &then.ty {
                match CollaborationType::parse(t.get_ref()) {
                    Some(code) => {
                        if types[code as usize].is_none() {
                            self.error(
                                t.span().start,
                                format!("{owner}: type `{code}` has no [[type]] declaration"),
                            );
                        }
                        Some(Conclusion::Type(code))
                    }
                    None => {
                        self.error(
                            t.span().start,
                            format!(
                                "{owner}: unknown collaboration type `{}`; known: {}",
                                t.get_ref(),
                                CollaborationType::ALL
                                    .iter()
                                    .map(|c| c.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                        None
                    }
                }
            } else if let Some(o) = &then.obligation {
                match ObligationCode::parse(o.get_ref()) {
                    Some(code) => {
                        if obligations[code as usize].is_none() {
                            self.error(
                                o.span().start,
                                format!(
                                    "{owner}: obligation `{code}` has no [[obligation]] declaration"
                                ),
                            );
                        }
                        Some(Conclusion::Obligation(code))
                    }
                    None => {
                        self.error(
                            o.span().start,
                            format!(
                                "{owner}: unknown obligation code `{}`; known: {}",
                                o.get_ref(),
                                ObligationCode::ALL
                                    .iter()
                                    .map(|c| c.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                        None
                    }
                }
            } else {
                Some(Conclusion::Unclassified)
            };
            let mut details = Vec::new();
            for d in &then.details {
                match DetailKind::parse(d.get_ref()) {
                    Some(k) => details.push(k),
                    None => self.error(
                        d.span().start,
                        format!("{owner}: unknown detail `{}`", d.get_ref()),
                    ),
                }
            }
            if !details.is_empty() && !matches!(conclusion, Some(Conclusion::Obligation(_))) {
                self.error(then_at, format!("{owner}: only obligations carry details"));
            }
            let reason_sv = self.text(&r.reason_sv, "reason_sv", &owner, at);
            let reason_en = self.text(&r.reason_en, "reason_en", &owner, at);
            let source = self.source(&r.source, &owner, at);
            if let (Some(cond), Some(conclusion)) = (cond, conclusion) {
                let rule = Rule {
                    id: Arc::from(id.as_str()),
                    mask: cond.fact_mask(),
                    cond,
                    conclusion,
                    details,
                    reason_sv,
                    reason_en,
                    source,
                    line: self.line(at),
                };
                match conclusion {
                    Conclusion::Obligation(_) => obligation_rules.push(rule),
                    _ => type_rules.push(rule),
                }
            }
        }

        let mut constants = Vec::new();
        for r in type_rules.iter().chain(obligation_rules.iter()) {
            r.cond.constants(&mut constants);
        }
        let domains = condition::domains(&constants);
        let deps = |rules: &[Rule]| -> Vec<Vec<usize>> {
            FactId::ALL
                .iter()
                .map(|f| {
                    (0..rules.len())
                        .filter(|&i| rules[i].mask & f.bit() != 0)
                        .collect()
                })
                .collect()
        };
        let type_deps = deps(&type_rules);
        let obligation_deps = deps(&obligation_rules);
        Some(Rulebook {
            version,
            effective_from,
            file: self.file.to_string(),
            unclassified,
            types,
            obligations,
            documents,
            clauses,
            type_rules,
            obligation_rules,
            domains,
            type_deps,
            obligation_deps,
        })
    }

    /// Semantic checks by enumeration over the representative fact values. Returns the combinations tried.
    fn check(&mut self, rb: &Rulebook) -> u64 {
        let mut combos = 0u64;
        // A rule that can never fire.
        for r in rb.type_rules.iter().chain(rb.obligation_rules.iter()) {
            let mut fired = false;
            let n = enumerate(&rb.domains, r.mask, |env| {
                if r.cond.eval(env).0 == Tri::True {
                    fired = true;
                    false
                } else {
                    true
                }
            });
            combos += n.unwrap_or(0);
            match n {
                None => self.errors.push(self.err_at(
                    r.line,
                    format!(
                        "rule `{}` reads too many facts to check exhaustively (more than {ENUMERATION_LIMIT} combinations)",
                        r.id
                    ),
                )),
                Some(_) if !fired => self.errors.push(self.err_at(
                    r.line,
                    format!(
                        "rule `{}` can never fire: its condition is contradictory",
                        r.id
                    ),
                )),
                _ => {}
            }
        }
        // Two rules that conclude different outcomes for the same facts.
        for (i, a) in rb.type_rules.iter().enumerate() {
            for b in &rb.type_rules[i + 1..] {
                if a.conclusion == b.conclusion {
                    continue;
                }
                let mut witness: Option<Env> = None;
                let n = enumerate(&rb.domains, a.mask | b.mask, |env| {
                    if a.cond.eval(env).0 == Tri::True && b.cond.eval(env).0 == Tri::True {
                        witness = Some(*env);
                        false
                    } else {
                        true
                    }
                });
                combos += n.unwrap_or(0);
                if n.is_none() {
                    self.errors.push(self.err_at(
                        b.line,
                        format!(
                            "rules `{}` and `{}` read too many facts together to check for conflicts",
                            a.id, b.id
                        ),
                    ));
                } else if let Some(env) = witness {
                    self.errors.push(self.err_at(
                        b.line,
                        format!(
                            "rule `{}` ({}) conflicts with rule `{}` ({}, line {}): both fire for {}",
                            b.id,
                            conclusion_name(b.conclusion),
                            a.id,
                            conclusion_name(a.conclusion),
                            a.line,
                            describe_env(&env, a.mask | b.mask)
                        ),
                    ));
                }
            }
        }
        combos
    }
}

fn conclusion_name(c: Conclusion) -> String {
    match c {
        Conclusion::Type(t) => format!("type {t}"),
        Conclusion::Unclassified => "unclassified".to_string(),
        Conclusion::Obligation(o) => format!("obligation {o}"),
    }
}

/// A readable fact assignment, e.g. `is_research = yes, purpose = research`.
pub(crate) fn describe_env(env: &Env, mask: u16) -> String {
    let mut parts = Vec::new();
    for f in FactId::ALL {
        if mask & f.bit() == 0 {
            continue;
        }
        let v = env[f as usize];
        let text = if let Some(names) = f.value_names() {
            names.get(v as usize).copied().unwrap_or("?").to_string()
        } else {
            match f {
                FactId::LinkageWith => {
                    let names: Vec<&str> =
                        <super::facts::LinkageAuthority as super::facts::FactEnum>::NAMES
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| v & (1 << i) != 0)
                            .map(|(_, n)| *n)
                            .collect();
                    format!("[{}]", names.join(", "))
                }
                FactId::RecipientCountries => match v {
                    condition::COUNTRIES_NONE => "[]".to_string(),
                    condition::COUNTRIES_EU_EEA => "[EU/EEA only]".to_string(),
                    _ => "[outside EU/EEA]".to_string(),
                },
                FactId::Registers => format!("{v} distinct CPUAs"),
                _ => v.to_string(),
            }
        };
        parts.push(format!("{} = {}", f.name(), text));
    }
    parts.join(", ")
}

/// Calls `visit` for every combination of the representative values of the facts in `mask` (other facts
/// missing) until it returns false. Returns the number visited, or `None` above the limit.
pub(crate) fn enumerate(
    domains: &[Vec<u32>],
    mask: u16,
    mut visit: impl FnMut(&Env) -> bool,
) -> Option<u64> {
    let facts: Vec<usize> = (0..14).filter(|i| mask & (1 << i) != 0).collect();
    let total = facts
        .iter()
        .try_fold(1u64, |acc, &f| acc.checked_mul(domains[f].len() as u64))?;
    if total > ENUMERATION_LIMIT {
        return None;
    }
    let mut env = EMPTY_ENV;
    let mut idx = vec![0usize; facts.len()];
    for &f in &facts {
        env[f] = domains[f][0];
    }
    let mut n = 0u64;
    loop {
        n += 1;
        if !visit(&env) {
            return Some(n);
        }
        // Odometer step.
        let mut k = 0;
        loop {
            if k == facts.len() {
                return Some(n);
            }
            let f = facts[k];
            idx[k] += 1;
            if idx[k] < domains[f].len() {
                env[f] = domains[f][idx[k]];
                break;
            }
            idx[k] = 0;
            env[f] = domains[f][0];
            k += 1;
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: rulebook {} (effective from {}) is sound: {} type rules, {} obligation rules, {} fact combinations checked",
            self.file,
            self.version,
            self.effective_from,
            self.type_rules,
            self.obligation_rules,
            self.combinations_checked
        )
    }
}
