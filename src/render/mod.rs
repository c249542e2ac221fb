//! The agreement pipeline (avtalsgenerering): template + AgreementData → block markup → document
//! model → DOCX, HTML and PDF. Nothing here touches the disk; callers persist the bytes.
pub mod docx;
pub mod helpers;
pub mod html;
pub mod invoice_pdf;
pub mod pdf;
mod pdf_metrics;
pub mod seal;
pub mod tsa;
pub mod ubl;
pub mod view;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::agreement::data::{
    AgreementData, Coordination, Deviation, Linkage, Processor, Product, ThirdCountry, CLAUSE_CODES,
};
use crate::domain::agreement::document::{DeviationError, Document, DocumentMeta, RequiredText};
use crate::domain::agreement::markup::{self, MarkupError};
use crate::domain::agreement::validate::{validate, MissingItem};
use crate::domain::lang::Lang;
use crate::templates::{TemplateError, TemplateSet};

/// Why an agreement could not be rendered (renderingsfel).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// The data lack items; answer 422 with the list.
    #[error("the agreement lacks {} item(s): {}", .0.len(), .0.iter().map(|m| m.field.as_str()).collect::<Vec<_>>().join(", "))]
    Missing(Vec<MissingItem>),
    /// A template failed while rendering (a value it needs is absent, a helper got a bad value).
    #[error("template {template}, line {line}: {reason}")]
    Template {
        template: String,
        line: usize,
        reason: String,
    },
    /// The template produced malformed markup.
    #[error("template {template} produced bad markup: {source}")]
    Markup {
        template: String,
        source: MarkupError,
    },
    /// A deviation names a clause the agreement does not have.
    #[error("deviation for a clause the agreement does not have: {}", .0.join(", "))]
    UnknownDeviationClause(Vec<String>),
    /// A deviation names a whole clause that has sub-clauses (the clause's number).
    #[error("clause {0} has sub-clauses: a deviation names one of them, e.g. {0}.1")]
    DeviationNeedsSubClause(String),
    /// A deviation would remove a sentence a rule requires.
    #[error("sub-clause {number} ({clause}) must keep the sentence \"{}\"", .required.text)]
    DeviationRemovesRequired {
        number: String,
        clause: String,
        required: RequiredText,
    },
    /// The templates did not load.
    #[error("templates: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Templates(Vec<TemplateError>),
    #[error("unknown example `{0}`; known: {known}", known = EXAMPLES.iter().map(|e| e.0).collect::<Vec<_>>().join(", "))]
    UnknownExample(String),
    #[error("example data: {0}")]
    Example(String),
    #[error("writing DOCX: {0}")]
    Docx(String),
}

/// An output format (filformat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Docx,
    Pdf,
    Html,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Docx, Format::Pdf, Format::Html];

    /// From a file extension or name: `docx`, `pdf`, `html`.
    pub fn parse(s: &str) -> Option<Format> {
        match s.rsplit('.').next()?.to_ascii_lowercase().as_str() {
            "docx" => Some(Format::Docx),
            "pdf" => Some(Format::Pdf),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Pdf => "pdf",
            Format::Html => "html",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Pdf => "application/pdf",
            Format::Html => "text/html; charset=utf-8",
        }
    }
}

/// The template an agreement uses: three-party for the research types and for a commissioned analysis
/// that is research (it has the research principal as a party), else two-party.
pub fn template_name(data: &AgreementData) -> &'static str {
    if data.three_party() {
        "three-party"
    } else {
        "two-party"
    }
}

/// Renders the block markup for an agreement (for template authors and tests).
pub fn render_markup(set: &TemplateSet, data: &AgreementData) -> Result<String, RenderError> {
    let missing = validate(data);
    if !missing.is_empty() {
        return Err(RenderError::Missing(missing));
    }
    let name = template_name(data);
    set.registry(data.language)
        .render(name, &view::view(data))
        .map_err(|e| RenderError::Template {
            template: e
                .template_name
                .clone()
                .unwrap_or_else(|| format!("{}/{name}", data.language.code())),
            line: e.line_no.unwrap_or(0),
            reason: e.reason().to_string(),
        })
}

/// Template + data → document model, with deviations applied and their appendix added.
pub fn build_document(set: &TemplateSet, data: &AgreementData) -> Result<Document, RenderError> {
    let markup_text = render_markup(set, data)?;
    let template = format!("{}/{}", data.language.code(), template_name(data));
    let meta = DocumentMeta {
        agreement_number: data.agreement_number.clone(),
        version: data.version,
        lang: data.language,
        template: template.clone(),
    };
    let mut doc = markup::parse(&markup_text, meta)
        .map_err(|source| RenderError::Markup { template, source })?;
    doc.apply_deviations(&data.deviations)
        .map_err(RenderError::UnknownDeviationClause)?;
    Ok(doc)
}

/// Renders a document in one format.
pub fn render(doc: &Document, format: Format) -> Result<Vec<u8>, RenderError> {
    match format {
        Format::Docx => docx::render(doc),
        Format::Pdf => Ok(pdf::render(doc)),
        Format::Html => Ok(html::render(doc).into_bytes()),
    }
}

/// SHA-256 as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::templates::hex(&Sha256::digest(bytes))
}

/// One rendered file and its checksum (renderad fil).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub format: Format,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Everything an immutable agreement version stores (avtalsversion): the document and its three files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedAgreement {
    pub document: Document,
    /// `TemplateSet::version` of the templates used.
    pub template_version: String,
    pub files: Vec<RenderedFile>,
}

impl RenderedAgreement {
    pub fn file(&self, format: Format) -> Option<&RenderedFile> {
        self.files.iter().find(|f| f.format == format)
    }
}

/// Renders all three formats. Either everything succeeds or nothing is returned, so no partial file
/// is ever stored.
pub fn render_agreement(
    set: &TemplateSet,
    data: &AgreementData,
) -> Result<RenderedAgreement, RenderError> {
    let document = build_document(set, data)?;
    let mut files = Vec::with_capacity(3);
    for format in Format::ALL {
        let bytes = render(&document, format)?;
        let sha256 = sha256_hex(&bytes);
        files.push(RenderedFile {
            format,
            bytes,
            sha256,
        });
    }
    Ok(RenderedAgreement {
        document,
        template_version: set.version.clone(),
        files,
    })
}

/// Adds (or replaces) a negotiated deviation for one sub-clause; the caller renders a new version.
/// Fails when the place is not in the document the data produce without deviations, when a clause with
/// sub-clauses is named as a whole, or when the new text drops a sentence a rule requires there.
pub fn apply_deviation(
    set: &TemplateSet,
    data: &AgreementData,
    deviation: Deviation,
) -> Result<AgreementData, RenderError> {
    let mut base = data.clone();
    base.deviations
        .retain(|d| (&d.clause, d.sub_clause) != (&deviation.clause, deviation.sub_clause));
    let doc = build_document(
        set,
        &AgreementData {
            deviations: Vec::new(),
            ..base.clone()
        },
    )?;
    doc.check_deviation(&deviation).map_err(|e| match e {
        DeviationError::Unknown(t) => RenderError::UnknownDeviationClause(vec![t]),
        DeviationError::NeedsSubClause(n) => RenderError::DeviationNeedsSubClause(n),
        DeviationError::RemovesRequired {
            number,
            clause,
            required,
        } => RenderError::DeviationRemovesRequired {
            number,
            clause,
            required,
        },
    })?;
    base.deviations.push(deviation);
    Ok(base)
}

/// A clause-by-clause comparison of two versions as a standalone HTML page.
pub fn diff_html(old: &Document, new: &Document) -> String {
    html::render_diff(
        &crate::domain::agreement::diff::diff(old, new),
        new.meta.lang,
    )
}

/// The shipped example collaborations: name → JSON.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "three-party",
        include_str!("../../contract-templates/examples/three-party.json"),
    ),
    (
        "research-company-principal",
        include_str!("../../contract-templates/examples/research-company-principal.json"),
    ),
    (
        "regulatory-follow-up",
        include_str!("../../contract-templates/examples/regulatory-follow-up.json"),
    ),
    (
        "statistics",
        include_str!("../../contract-templates/examples/statistics.json"),
    ),
    (
        "commissioned-analysis",
        include_str!("../../contract-templates/examples/commissioned-analysis.json"),
    ),
    (
        "register-development",
        include_str!("../../contract-templates/examples/register-development.json"),
    ),
];

/// The example data by name (`three-party` is the research-public-principal standard case; the
/// others are named by their collaboration type), in the given language.
pub fn example(name: &str, lang: Lang) -> Result<AgreementData, RenderError> {
    let name = if name == "research-public-principal" {
        "three-party"
    } else {
        name
    };
    let (_, json) = EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| RenderError::UnknownExample(name.to_string()))?;
    let mut data: AgreementData =
        serde_json::from_str(json).map_err(|e| RenderError::Example(e.to_string()))?;
    data.language = lang;
    Ok(data)
}

/// Renders a shipped example with the built-in templates (`samverkan render --example …`).
pub fn render_example(name: &str, lang: Lang, format: Format) -> Result<Vec<u8>, RenderError> {
    let set = TemplateSet::builtin().map_err(RenderError::Templates)?;
    let data = example(name, lang)?;
    render(&build_document(&set, &data)?, format)
}

/// A fully populated agreement: every optional value present, every clause on. `templates check`
/// uses its view as the list of names the data model provides.
pub fn schema_sample() -> AgreementData {
    let mut d: AgreementData = EXAMPLES
        .first()
        .and_then(|(_, json)| serde_json::from_str(json).ok())
        .unwrap_or_default();
    d.clauses = CLAUSE_CODES.iter().map(|c| c.to_string()).collect();
    d.identity_number_justification
        .get_or_insert_with(|| "x".into());
    d.processor.get_or_insert_with(Processor::default);
    d.third_country.get_or_insert_with(ThirdCountry::default);
    d.product.get_or_insert_with(Product::default);
    d.coordination.get_or_insert_with(Coordination::default);
    if let Some(cpua) = d
        .parties
        .iter_mut()
        .find(|p| p.role == crate::domain::agreement::data::PartyRole::Cpua)
    {
        cpua.decision
            .get_or_insert_with(crate::domain::agreement::data::DecisionCitation::default)
            .reference
            .get_or_insert_with(|| "x".into());
        if let Some(dec) = cpua.decision.as_mut() {
            dec.date.get_or_insert_with(chrono::NaiveDate::default);
        }
        cpua.case_number.get_or_insert_with(|| "x".into());
        if cpua.registers.is_empty() {
            cpua.registers.push("x".into());
        }
    }
    if d.linkage.is_empty() {
        d.linkage.push(Linkage {
            authority: "x".into(),
            registers: vec!["x".into()],
        });
    }
    if d.deviations.is_empty() {
        d.deviations.push(Deviation::default());
    }
    if let Some(c) = d.costs.as_mut() {
        if c.expenses.is_empty() {
            c.expenses.push(Default::default());
        }
    }
    d
}
