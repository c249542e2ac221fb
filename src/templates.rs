//! Contract templates (avtalsmallar): loading `contract-templates/` and checking it.
//!
//! Layout: `<lang>/<name>.hbs` are the agreements (`three-party`, `two-party`), `<lang>/partials/<name>.hbs`
//! the clauses and shared sections, referenced as `{{> name}}`. Loading checks every template first and
//! fails with file, line and reason for a syntax error, an unknown helper, partial or variable, or raw
//! (unescaped) output; start-up and `samverkan templates check` both go through [`check_sources`].
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use handlebars::template::{Parameter, Template, TemplateElement};
use handlebars::{Handlebars, Path as HbPath};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::lang::Lang;
use crate::render::helpers::{register_helpers, CUSTOM_HELPERS};

/// Helpers a template may call: the safe built-ins and ours.
const BUILTIN_HELPERS: &[&str] = &[
    "if", "unless", "each", "with", "lookup", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or",
    "not", "len",
];

/// The agreement templates every language must provide.
pub const DOCUMENT_TEMPLATES: [&str; 2] = ["three-party", "two-party"];

/// A problem in one template file (mallfel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct TemplateError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// One variable a template uses (mallvariabel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableUse {
    /// Path from the root of the view, arrays written `[]`, e.g. `deliverables.[].what`.
    pub path: String,
    pub line: usize,
    /// Whether the data model provides it.
    pub provided: bool,
}

/// What one template file uses (mallrapport).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateReport {
    pub file: String,
    pub variables: Vec<VariableUse>,
    pub helpers: BTreeSet<String>,
    pub partials: BTreeSet<String>,
}

/// The result of a successful check (kontrollrapport).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// SHA-256 over all template files, recorded on every agreement version.
    pub version: String,
    pub templates: Vec<TemplateReport>,
}

impl Report {
    /// A plain-text listing for the CLI.
    pub fn to_text(&self) -> String {
        let mut out = format!("templates version {}\n", self.version);
        for t in &self.templates {
            out.push_str(&format!("{}\n", t.file));
            for v in &t.variables {
                let mark = if v.provided { "ok" } else { "UNKNOWN" };
                out.push_str(&format!("  line {:>4}  {:<50} {mark}\n", v.line, v.path));
            }
            if !t.partials.is_empty() {
                let list: Vec<&str> = t.partials.iter().map(String::as_str).collect();
                out.push_str(&format!("  partials: {}\n", list.join(", ")));
            }
        }
        out
    }
}

/// A loaded, checked set of templates (mallsamling).
pub struct TemplateSet {
    sv: Handlebars<'static>,
    en: Handlebars<'static>,
    /// SHA-256 over all template sources.
    pub version: String,
}

impl std::fmt::Debug for TemplateSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateSet")
            .field("version", &self.version)
            .finish()
    }
}

macro_rules! builtin {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../contract-templates/", $path)))),*]
    };
}

/// The templates compiled into the binary (the shipped `contract-templates/`).
pub const BUILTIN_SOURCES: &[(&str, &str)] = builtin![
    "sv/three-party.hbs",
    "sv/two-party.hbs",
    "sv/partials/parties.hbs",
    "sv/partials/publication.hbs",
    "sv/partials/costs.hbs",
    "sv/partials/term_and_archiving.hbs",
    "sv/partials/disputes.hbs",
    "sv/partials/signatures.hbs",
    "sv/partials/appendices.hbs",
    "sv/partials/confidentiality_reservation.hbs",
    "sv/partials/data_processing_agreement.hbs",
    "sv/partials/third_country_transfer.hbs",
    "sv/partials/pharma_appendix.hbs",
    "sv/partials/linkage.hbs",
    "sv/partials/identity_number_justification.hbs",
    "sv/partials/extended_key_retention.hbs",
    "sv/partials/cpua_coordination.hbs",
    "en/three-party.hbs",
    "en/two-party.hbs",
    "en/partials/parties.hbs",
    "en/partials/publication.hbs",
    "en/partials/costs.hbs",
    "en/partials/term_and_archiving.hbs",
    "en/partials/disputes.hbs",
    "en/partials/signatures.hbs",
    "en/partials/appendices.hbs",
    "en/partials/confidentiality_reservation.hbs",
    "en/partials/data_processing_agreement.hbs",
    "en/partials/third_country_transfer.hbs",
    "en/partials/pharma_appendix.hbs",
    "en/partials/linkage.hbs",
    "en/partials/identity_number_justification.hbs",
    "en/partials/extended_key_retention.hbs",
    "en/partials/cpua_coordination.hbs",
];

/// Reads every `*.hbs` under `dir` (relative paths with `/`), sorted.
pub fn read_dir_sources(dir: &Path) -> Result<Vec<(String, String)>, Vec<TemplateError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for lang in ["sv", "en"] {
        for sub in ["", "partials"] {
            let d = dir.join(lang).join(sub);
            let entries = match std::fs::read_dir(&d) {
                Ok(e) => e,
                Err(e) => {
                    errors.push(TemplateError {
                        file: d.display().to_string(),
                        line: 0,
                        reason: format!("cannot read directory: {e}"),
                    });
                    continue;
                }
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("hbs") {
                    continue;
                }
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                let rel = if sub.is_empty() {
                    format!("{lang}/{name}")
                } else {
                    format!("{lang}/{sub}/{name}")
                };
                match std::fs::read_to_string(&path) {
                    Ok(s) => out.push((rel, s)),
                    Err(e) => errors.push(TemplateError {
                        file: rel,
                        line: 0,
                        reason: format!("cannot read: {e}"),
                    }),
                }
            }
        }
    }
    if errors.is_empty() {
        out.sort();
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks the templates in `dir`: per template every variable and whether the data model provides it.
pub fn check(dir: &Path) -> Result<Report, Vec<TemplateError>> {
    let sources = read_dir_sources(dir)?;
    check_sources(&sources)
}

fn stem(rel: &str) -> &str {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.strip_suffix(".hbs").unwrap_or(name)
}

/// Every path the view of a fully populated agreement provides.
fn known_paths() -> BTreeSet<String> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut BTreeSet<String>) {
        if !prefix.is_empty() {
            out.insert(prefix.to_string());
        }
        let join = |k: &str| {
            if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    walk(&join(k), v, out);
                }
            }
            serde_json::Value::Array(a) => {
                for v in a {
                    walk(&join("[]"), v, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(
        "",
        &crate::render::view::view(&crate::render::schema_sample()),
        &mut out,
    );
    out
}

struct Walker<'a> {
    file: &'a str,
    known: &'a BTreeSet<String>,
    partials: &'a BTreeSet<String>,
    report: TemplateReport,
    errors: Vec<TemplateError>,
}

impl Walker<'_> {
    fn err(&mut self, line: usize, reason: String) {
        self.errors.push(TemplateError {
            file: self.file.to_string(),
            line,
            reason,
        });
    }

    /// Resolves a path against the context stack; `None` for locals like `@index`.
    fn resolve(stack: &[String], raw: &str) -> Option<String> {
        let mut raw = raw.trim();
        if raw.starts_with('@') && !raw.starts_with("@root") {
            return None;
        }
        let mut depth = stack.len();
        let mut base: Option<&str> = None;
        if let Some(rest) = raw.strip_prefix("@root") {
            base = Some("");
            raw = rest.trim_start_matches(['.', '/']);
        }
        while let Some(rest) = raw.strip_prefix("../") {
            depth = depth.saturating_sub(1);
            raw = rest;
        }
        if raw.contains("@index")
            || raw.contains("@key")
            || raw.contains("@first")
            || raw.contains("@last")
        {
            return None;
        }
        for p in ["this.", "this/", "./"] {
            if let Some(rest) = raw.strip_prefix(p) {
                raw = rest;
            }
        }
        if raw == "this" || raw == "." {
            raw = "";
        }
        let prefix = match base {
            Some(b) => b.to_string(),
            None => depth
                .checked_sub(1)
                .and_then(|i| stack.get(i))
                .cloned()
                .unwrap_or_default(),
        };
        let tail = raw.replace('/', ".");
        Some(match (prefix.is_empty(), tail.is_empty()) {
            (true, _) => tail,
            (false, true) => prefix,
            (false, false) => format!("{prefix}.{tail}"),
        })
    }

    fn variable(&mut self, stack: &[String], raw: &str, line: usize) -> Option<String> {
        let path = Self::resolve(stack, raw)?;
        if path.is_empty() {
            return Some(path);
        }
        let provided = self.known.contains(&path);
        if !provided {
            self.err(line, format!("unknown variable `{raw}` (resolved as `{path}`): the data model does not provide it"));
        }
        self.report.variables.push(VariableUse {
            path: path.clone(),
            line,
            provided,
        });
        Some(path)
    }

    fn param(&mut self, stack: &[String], p: &Parameter, line: usize) -> Option<String> {
        match p {
            Parameter::Path(path) => self.variable(stack, &raw_path(path), line),
            Parameter::Subexpression(sub) => {
                self.element(stack, sub.as_element(), line);
                None
            }
            Parameter::Name(n) => self.variable(stack, n, line),
            _ => None,
        }
    }

    fn helper(&mut self, name: &str, line: usize) {
        if BUILTIN_HELPERS.contains(&name) || CUSTOM_HELPERS.contains(&name) {
            self.report.helpers.insert(name.to_string());
        } else {
            self.err(line, format!("unknown helper `{name}`"));
        }
    }

    fn template(&mut self, stack: &[String], t: &Template) {
        for (i, el) in t.elements.iter().enumerate() {
            let line = t.mapping.get(i).map(|m| m.0).unwrap_or(0);
            self.element(stack, el, line);
        }
    }

    fn element(&mut self, stack: &[String], el: &TemplateElement, line: usize) {
        let stack = stack.to_vec();
        match el {
            TemplateElement::RawString(_) | TemplateElement::Comment(_) => {}
            TemplateElement::HtmlExpression(_) => {
                self.err(
                    line,
                    "raw output `{{{…}}}` is not allowed: every value must be escaped".into(),
                );
            }
            TemplateElement::Expression(ht) | TemplateElement::HelperBlock(ht) => {
                let block = matches!(el, TemplateElement::HelperBlock(_));
                let name = match &ht.name {
                    Parameter::Name(n) => Some(n.clone()),
                    Parameter::Path(p) => Some(raw_path(p)),
                    _ => None,
                };
                let is_helper = block
                    || !ht.params.is_empty()
                    || !ht.hash.is_empty()
                    || name.as_deref().is_some_and(|n| {
                        BUILTIN_HELPERS.contains(&n) || CUSTOM_HELPERS.contains(&n)
                    });
                if !is_helper {
                    if let Some(n) = name {
                        self.variable(&stack, &n, line);
                    }
                    return;
                }
                let name = name.unwrap_or_default();
                self.helper(&name, line);
                let mut first = None;
                for (k, p) in ht.params.iter().enumerate() {
                    let r = self.param(&stack, p, line);
                    if k == 0 {
                        first = r;
                    }
                }
                for p in ht.hash.values() {
                    self.param(&stack, p, line);
                }
                if let Some(t) = &ht.template {
                    let mut inner = stack.clone();
                    match name.as_str() {
                        "each" => inner.push(format!("{}.[]", first.clone().unwrap_or_default())),
                        "with" => inner.push(first.clone().unwrap_or_default()),
                        _ => {}
                    }
                    self.template(&inner, t);
                }
                if let Some(t) = &ht.inverse {
                    self.template(&stack, t);
                }
            }
            TemplateElement::PartialExpression(d) | TemplateElement::PartialBlock(d) => {
                let name = match &d.name {
                    Parameter::Name(n) => n.clone(),
                    Parameter::Path(p) => raw_path(p),
                    _ => String::new(),
                };
                if self.partials.contains(&name) {
                    self.report.partials.insert(name);
                } else {
                    self.err(line, format!("unknown partial `{name}`"));
                }
                for p in &d.params {
                    self.param(&stack, p, line);
                }
            }
            TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => {
                self.err(
                    line,
                    "decorators are not supported in contract templates".into(),
                );
            }
            _ => self.err(line, "unsupported template element".into()),
        }
    }
}

fn raw_path(p: &HbPath) -> String {
    match p {
        HbPath::Relative((_, raw)) => raw.clone(),
        HbPath::Local((_, _, raw)) => raw.clone(),
    }
}

/// Checks template sources (relative path, text) and returns the report or every error.
pub fn check_sources(sources: &[(String, String)]) -> Result<Report, Vec<TemplateError>> {
    let known = known_paths();
    let mut errors = Vec::new();
    let mut reports = Vec::new();
    let mut hasher = Sha256::new();
    for lang in ["sv", "en"] {
        let partials: BTreeSet<String> = sources
            .iter()
            .filter(|(p, _)| p.starts_with(&format!("{lang}/partials/")))
            .map(|(p, _)| stem(p).to_string())
            .collect();
        for doc in DOCUMENT_TEMPLATES {
            let want = format!("{lang}/{doc}.hbs");
            if !sources.iter().any(|(p, _)| *p == want) {
                errors.push(TemplateError {
                    file: want,
                    line: 0,
                    reason: "missing: every language needs this agreement template".into(),
                });
            }
        }
        for (file, text) in sources
            .iter()
            .filter(|(p, _)| p.starts_with(&format!("{lang}/")))
        {
            hasher.update(file.as_bytes());
            hasher.update([0]);
            hasher.update(text.as_bytes());
            hasher.update([0]);
            let tpl = match Template::compile_with_name(text, file.clone()) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(TemplateError {
                        file: file.clone(),
                        line: e.pos().map(|p| p.0).unwrap_or(0),
                        reason: format!("syntax error: {}", e.reason()),
                    });
                    continue;
                }
            };
            let mut w = Walker {
                file,
                known: &known,
                partials: &partials,
                report: TemplateReport {
                    file: file.clone(),
                    variables: Vec::new(),
                    helpers: BTreeSet::new(),
                    partials: BTreeSet::new(),
                },
                errors: Vec::new(),
            };
            w.template(&[], &tpl);
            errors.extend(w.errors);
            reports.push(w.report);
        }
    }
    for (file, _) in sources {
        if !(file.starts_with("sv/") || file.starts_with("en/")) {
            errors.push(TemplateError {
                file: file.clone(),
                line: 0,
                reason: "templates live under sv/ or en/".into(),
            });
        }
    }
    if errors.is_empty() {
        Ok(Report {
            version: hex(&hasher.finalize()),
            templates: reports,
        })
    } else {
        Err(errors)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TemplateSet {
    /// Loads and checks the templates in `dir` (start-up).
    pub fn load(dir: &Path) -> Result<TemplateSet, Vec<TemplateError>> {
        let sources = read_dir_sources(dir)?;
        Self::from_sources(&sources)
    }

    /// The templates compiled into the binary.
    pub fn builtin() -> Result<TemplateSet, Vec<TemplateError>> {
        let sources: Vec<(String, String)> = BUILTIN_SOURCES
            .iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect();
        Self::from_sources(&sources)
    }

    /// Checks, then registers, template sources.
    pub fn from_sources(sources: &[(String, String)]) -> Result<TemplateSet, Vec<TemplateError>> {
        let report = check_sources(sources)?;
        let mut by_lang: BTreeMap<&str, Handlebars<'static>> = BTreeMap::new();
        let mut errors = Vec::new();
        for (lang, code) in [(Lang::Sv, "sv"), (Lang::En, "en")] {
            let mut hb = Handlebars::new();
            hb.set_strict_mode(true);
            hb.register_escape_fn(crate::domain::agreement::markup::escape);
            register_helpers(&mut hb, lang);
            for (file, text) in sources
                .iter()
                .filter(|(p, _)| p.starts_with(&format!("{code}/")))
            {
                let res = if file.starts_with(&format!("{code}/partials/")) {
                    hb.register_partial(stem(file), text.as_str())
                } else {
                    hb.register_template_string(stem(file), text.as_str())
                };
                if let Err(e) = res {
                    errors.push(TemplateError {
                        file: file.clone(),
                        line: e.pos().map(|p| p.0).unwrap_or(0),
                        reason: e.reason().to_string(),
                    });
                }
            }
            by_lang.insert(code, hb);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (Some(sv), Some(en)) = (by_lang.remove("sv"), by_lang.remove("en")) else {
            return Err(vec![TemplateError {
                file: String::new(),
                line: 0,
                reason: "languages missing".into(),
            }]);
        };
        Ok(TemplateSet {
            sv,
            en,
            version: report.version,
        })
    }

    pub(crate) fn registry(&self, lang: Lang) -> &Handlebars<'static> {
        match lang {
            Lang::Sv => &self.sv,
            Lang::En => &self.en,
        }
    }
}
