//! Agreement versions: the collaboration's own data plus the negotiated terms, through the contract
//! templates to DOCX, PDF and HTML; each version immutable, with its data snapshot, the template and
//! rulebook versions, and the SHA-256 of every file.
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::audit::collaboration_stream;
use super::authz;
use super::{AppError, FieldError};
use crate::db::repo::{self, ts};
use crate::db::schema::agreement_versions as av;
use crate::db::DbConn;
use crate::domain::agreement::data::{
    AgreementData, Archiving, Coordination, Costs, DataProtection, DataRelease, DecisionCitation,
    Deliverable, Deviation, Disputes, EthicsApproval, Linkage, Party, PartyRole, Person, Processor,
    Product, Publication, RegisterRelease, Term, ThirdCountry, Variable, CLAUSE_CODES,
};
use crate::domain::agreement::document::Document;
use crate::domain::agreement::evidence::{
    document_clauses, required_by, version_digest, AgreementVersionEvidence,
};
use crate::domain::classification::{ClauseCode, CollaborationType, RulebookSet};
use crate::domain::collaboration::{Collaboration, DataKind, ReviewStatus};
use crate::domain::events::EventType;
use crate::domain::ids::{CollaborationId, OrgId, RegisterId};
use crate::domain::lang::Lang;
use crate::domain::lifecycle::Refusal;
use crate::domain::organisation::{OrgKind, Organisation};
use crate::domain::role::{Actor, Role};
use crate::render::{self, Format, RenderError};
use crate::templates::TemplateSet;

/// One party's details for the agreement that the organisation register does not hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyTerms {
    /// The organisation's id.
    pub organisation: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub contact: Person,
    #[serde(default)]
    pub signatory: Person,
}

/// What the parties negotiate for the agreement (avtalsvillkor); everything else comes from the
/// collaboration itself (parties, type, purpose, research question, registers and their CPUAs,
/// variables, pseudonymisation, key retention, ethics approval, activated clauses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgreementTerms {
    pub background: String,
    pub research_plan_summary: String,
    pub goals: Vec<String>,
    pub deliverables: Vec<Deliverable>,
    pub parties: Vec<PartyTerms>,
    /// Descriptions of the requested variables, by variable name.
    pub variable_descriptions: BTreeMap<String, String>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub transfer_method: String,
    pub encryption: String,
    pub password_sent_separately: bool,
    pub data_protection: DataProtection,
    pub publication: Publication,
    pub report_back: String,
    pub costs: Option<Costs>,
    pub term: Option<Term>,
    pub archiving: Archiving,
    pub disputes: Disputes,
    pub linkage: Vec<Linkage>,
    pub identity_number_justification: Option<String>,
    pub processor: Option<Processor>,
    pub third_country: Option<ThirdCountry>,
    pub product: Option<Product>,
    /// Who links the registers and who keeps the identity-number key, with several CPUAs or linkage.
    pub coordination: Option<Coordination>,
    /// Negotiated deviations from the template text, added by CPUA legal.
    pub deviations: Vec<Deviation>,
}

/// A request for a new agreement version.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgreementVersion {
    /// `sv` (default) or `en`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub language: Option<Lang>,
    /// The negotiated terms; when absent, the previous version's terms are used again.
    #[schema(value_type = Option<Object>)]
    pub terms: Option<AgreementTerms>,
}

/// A negotiated deviation from one sub-clause's template text.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviationInput {
    /// The sub-clause by its number in the version it is made on, e.g. `7.3`; a clause without
    /// sub-clauses by its number alone, e.g. `5`. The clause code may stand for the number:
    /// `publication.3`. Stored by clause code and sub-clause index, so later versions keep it on the
    /// same sub-clause even when clauses are renumbered.
    pub clause: String,
    pub text: String,
    pub reason: String,
}

/// One stored file of a version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileInfo {
    pub format: String,
    pub url: String,
    pub sha256: String,
    pub bytes: usize,
}

/// An agreement version as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgreementVersionView {
    pub number: i32,
    pub language: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub template_version: String,
    pub rulebook_version: String,
    pub collaboration_type: String,
    pub deviations: usize,
    pub files: Vec<FileInfo>,
    /// SHA-256 over the three files' hashes
    /// (`crate::domain::agreement::evidence::version_digest`); what the agreement step names.
    pub digest: String,
    /// The amendment this version was drawn for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amendment: Option<u32>,
}

#[derive(Queryable)]
struct VersionRow {
    collaboration_id: String,
    number: i32,
    language: String,
    created_at: NaiveDateTime,
    created_by: String,
    template_version: String,
    rulebook_version: String,
    terms: String,
    data: String,
    document: String,
    docx: Vec<u8>,
    pdf: Vec<u8>,
    html: Vec<u8>,
    docx_sha256: String,
    pdf_sha256: String,
    html_sha256: String,
}

impl VersionRow {
    fn view(&self) -> AgreementVersionView {
        let data: AgreementData = serde_json::from_str(&self.data).unwrap_or_default();
        let base = format!(
            "/api/v1/collaborations/{}/agreements/{}",
            self.collaboration_id, self.number
        );
        let file = |ext: &str, sha: &str, len: usize| FileInfo {
            format: ext.to_string(),
            url: format!("{base}.{ext}"),
            sha256: sha.to_string(),
            bytes: len,
        };
        AgreementVersionView {
            number: self.number,
            language: self.language.clone(),
            created_at: self.created_at.and_utc(),
            created_by: self.created_by.clone(),
            template_version: self.template_version.clone(),
            rulebook_version: self.rulebook_version.clone(),
            collaboration_type: data.collaboration_type.clone(),
            deviations: data.deviations.len(),
            files: vec![
                file("docx", &self.docx_sha256, self.docx.len()),
                file("pdf", &self.pdf_sha256, self.pdf.len()),
                file("html", &self.html_sha256, self.html.len()),
            ],
            digest: version_digest(&self.docx_sha256, &self.pdf_sha256, &self.html_sha256),
            amendment: data.amendment,
        }
    }

    fn document(&self) -> Result<Document, AppError> {
        serde_json::from_str(&self.document)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored agreement document: {e}")))
    }
}

fn missing_to_error(items: Vec<crate::domain::agreement::validate::MissingItem>) -> AppError {
    AppError::Invalid(
        items
            .into_iter()
            .map(|m| {
                let mut f = FieldError::new(
                    m.field,
                    crate::msg!(
                        "missing",
                        item = crate::domain::messages::Arg::both(m.message_sv, m.message_en),
                        step = m.step
                    ),
                );
                f.step = Some(m.step);
                f
            })
            .collect(),
    )
}

fn render_error(e: RenderError) -> AppError {
    match e {
        RenderError::Missing(items) => missing_to_error(items),
        RenderError::UnknownDeviationClause(c) => AppError::invalid(
            "clause",
            crate::msg!(
                "unknown_clause",
                clauses = crate::domain::messages::Arg::all_of(c)
            ),
        ),
        RenderError::DeviationNeedsSubClause(n) => {
            AppError::invalid("clause", crate::msg!("sub_clause_required", n = n))
        }
        RenderError::DeviationRemovesRequired {
            number,
            clause,
            required,
        } => {
            let why = ClauseCode::parse(&required.clause).map(required_by);
            let obligation = why
                .map(|w| w.obligation)
                .unwrap_or(required.clause.as_str())
                .to_string();
            let mut r = Refusal::precondition(crate::msg!(
                "required_text",
                number = number,
                clause = clause,
                obligation = &obligation,
                text = required.text
            ));
            r.field = Some("clause".into());
            r.missing = vec![obligation];
            if let Some(w) = why {
                r = r.source(w.source.0, w.source.1);
            }
            AppError::Refused(Box::new(r))
        }
        other => AppError::Internal(anyhow::anyhow!("rendering the agreement: {other}")),
    }
}

fn party_role(c: &Collaboration, org: &Organisation) -> PartyRole {
    if org.id == c.company {
        PartyRole::Company
    } else if org.kind == OrgKind::CpuaAuthority {
        PartyRole::Cpua
    } else {
        PartyRole::ResearchPrincipal
    }
}

/// One CPUA that is a party to the agreement: its registers and, once taken, its release decision.
struct CpuaParty {
    org: OrgId,
    registers: Vec<RegisterId>,
    decision: Option<DecisionCitation>,
}

/// The CPUAs that are parties (DOMAIN.md, "Several CPUAs in one agreement"; issue 8, item 3): once
/// applications exist, every CPUA whose review has not ended in a refusal (approved, released, or still
/// undecided while the agreement is drafted before the decisions), each with the registers it reviewed;
/// a refusing CPUA and its registers are left out. Before any application, the registers' current CPUAs.
fn cpua_parties(
    c: &Collaboration,
    register_cpuas: &BTreeMap<RegisterId, (OrgId, String)>,
) -> Vec<CpuaParty> {
    if !c.cpua_reviews.is_empty() {
        return c
            .cpua_reviews
            .iter()
            .filter(|r| r.status() != ReviewStatus::Refused)
            .map(|r| CpuaParty {
                org: r.cpua.clone(),
                registers: r.registers.clone(),
                decision: r
                    .decision
                    .as_ref()
                    .filter(|d| d.outcome.releases_data())
                    .map(|d| DecisionCitation {
                        // Dates people read are Swedish dates (one clock, Europe/Stockholm).
                        date: Some(
                            d.decided_at
                                .with_timezone(&chrono_tz::Europe::Stockholm)
                                .date_naive(),
                        ),
                        reference: d
                            .reference
                            .as_ref()
                            .map(|r| r.trim().to_string())
                            .filter(|r| !r.is_empty()),
                    }),
            })
            .collect();
    }
    let mut out: Vec<CpuaParty> = Vec::new();
    for r in &c.registers {
        let Some((org, _)) = register_cpuas.get(r) else {
            continue;
        };
        match out.iter_mut().find(|p| &p.org == org) {
            Some(p) => p.registers.push(r.clone()),
            None => out.push(CpuaParty {
                org: org.clone(),
                registers: vec![r.clone()],
                decision: None,
            }),
        }
    }
    out
}

/// Builds the agreement data from the collaboration, its organisations and registers, and the terms.
pub fn agreement_data(
    conn: &mut DbConn,
    c: &Collaboration,
    terms: &AgreementTerms,
    number: i32,
    lang: Lang,
) -> Result<AgreementData, AppError> {
    let rec = c.classification.as_ref();
    let collaboration_type = rec
        .and_then(|r| r.effective_type())
        .map(CollaborationType::as_str)
        .unwrap_or_default()
        .to_string();
    let register_cpuas = repo::current_cpuas(conn, &c.registers)?;
    let cpuas = cpua_parties(c, &register_cpuas);
    let mut register_names: BTreeMap<RegisterId, String> = BTreeMap::new();
    for p in &cpuas {
        for r in &p.registers {
            if let Some(reg) = repo::find_register(conn, r)? {
                register_names.insert(r.clone(), reg.name);
            }
        }
    }
    let mut orgs: Vec<OrgId> = cpuas.iter().map(|p| p.org.clone()).collect();
    if let Some(p) = &c.research_principal {
        if p != &c.company {
            orgs.push(p.clone());
        }
    }
    orgs.push(c.company.clone());
    // Each CPUA's own case number (diarienummer), printed beside its name (issue 16 item 5).
    let case_numbers: BTreeMap<String, String> =
        super::casework::case_numbers(conn, c.id.as_str())?
            .into_iter()
            .collect();
    let mut parties = Vec::new();
    for id in &orgs {
        let Some(org) = repo::find_organisation(conn, id)? else {
            continue;
        };
        let t = terms
            .parties
            .iter()
            .find(|p| p.organisation == org.id.as_str())
            .cloned()
            .unwrap_or_default();
        let address = if t.address.trim().is_empty() {
            org.address
                .as_ref()
                .map(|a| format!("{}, {} {}", a.street, a.postal_code, a.city))
                .unwrap_or_default()
        } else {
            t.address
        };
        let as_cpua = cpuas.iter().find(|p| p.org == org.id);
        parties.push(Party {
            role: party_role(c, &org),
            organisation: org.id.as_str().to_string(),
            also_principal: org.id == c.company && c.research_principal.as_ref() == Some(&org.id),
            public_body: org.kind.bound_by_osl(),
            name: org.name.clone(),
            org_number: org.org_number.to_string(),
            address,
            contact: t.contact,
            signatory: t.signatory,
            registers: as_cpua
                .map(|p| {
                    p.registers
                        .iter()
                        .filter_map(|r| register_names.get(r).cloned())
                        .collect()
                })
                .unwrap_or_default(),
            decision: as_cpua.and_then(|p| p.decision.clone()),
            case_number: as_cpua.and_then(|p| case_numbers.get(p.org.as_str()).cloned()),
        });
    }
    // Only the registers of the CPUAs that are parties are released, each under the CPUA that
    // decided on it (decisions taken stay with the authority that took them, DOMAIN.md).
    let mut registers = Vec::new();
    for p in &cpuas {
        let cpua_name = parties
            .iter()
            .find(|x| x.organisation == p.org.as_str())
            .map(|x| x.name.clone())
            .unwrap_or_default();
        for r in &p.registers {
            let Some(name) = register_names.get(r) else {
                continue;
            };
            registers.push(RegisterRelease {
                name: name.clone(),
                cpua: cpua_name.clone(),
                variables: c
                    .requested_variables
                    .iter()
                    .map(|v| Variable {
                        name: v.clone(),
                        description: terms
                            .variable_descriptions
                            .get(v)
                            .cloned()
                            .unwrap_or_default(),
                    })
                    .collect(),
            });
        }
    }
    let data_release = (collaboration_type != "register-development").then(|| DataRelease {
        registers,
        period_from: terms.period_from,
        period_to: terms.period_to,
        pseudonymised: c.data_kind == DataKind::Pseudonymised,
        key_retention_months: Some(c.intake.key_retention_months.unwrap_or(3)),
        transfer_method: terms.transfer_method.clone(),
        encryption: terms.encryption.clone(),
        password_sent_separately: terms.password_sent_separately,
    });
    // Every clause the classification activates and the templates have a partial for; and the
    // key-custody clause whenever two CPUAs are parties or linkage takes part (seed 002,
    // "Utbildningens innehåll"; seed 000, "Sambearbetning av registerdata").
    let mut clauses: Vec<String> = rec
        .map(|r| {
            r.result
                .clauses
                .iter()
                .map(|cl| cl.code.as_str().to_string())
                .filter(|code| CLAUSE_CODES.contains(&code.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let coordination = ClauseCode::CpuaCoordination.as_str();
    if (cpuas.len() > 1 || !c.linkage.is_empty()) && !clauses.iter().any(|x| x == coordination) {
        clauses.push(coordination.to_string());
    }
    Ok(AgreementData {
        agreement_number: c.reference.clone(),
        version: u32::try_from(number).unwrap_or(1),
        language: lang,
        collaboration_type,
        parties,
        background: terms.background.clone(),
        purpose: c.purpose.clone(),
        research_question: c.research_question.clone().unwrap_or_default(),
        research_plan_summary: terms.research_plan_summary.clone(),
        goals: terms.goals.clone(),
        deliverables: terms.deliverables.clone(),
        data_release,
        ethics: c.ethics.as_ref().map(|e| EthicsApproval {
            reference: e.reference.as_str().to_string(),
            date: Some(e.decided_on),
        }),
        data_protection: terms.data_protection.clone(),
        publication: terms.publication.clone(),
        report_back: terms.report_back.clone(),
        costs: terms.costs.clone(),
        term: terms.term.clone(),
        archiving: terms.archiving.clone(),
        disputes: terms.disputes.clone(),
        clauses,
        deviations: terms.deviations.clone(),
        linkage: terms.linkage.clone(),
        identity_number_justification: terms.identity_number_justification.clone(),
        processor: terms.processor.clone(),
        third_country: terms.third_country.clone(),
        product: terms.product.clone(),
        coordination: terms.coordination.clone(),
        amendment: crate::domain::lifecycle::agreement_draft(c).ok().flatten(),
    })
}

fn load(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<Collaboration, AppError> {
    let not_found = || AppError::NotFound(crate::msg!("thing.collaboration"));
    let cid = CollaborationId::parse(id).ok_or_else(not_found)?;
    let (c, _) = repo::load_collaboration(conn, rulebooks, &cid)?.ok_or_else(not_found)?;
    let cpuas = repo::current_cpuas(conn, &c.registers)?;
    let scope = authz::Scope::of(&c, cpuas.values().map(|(o, _)| o.clone()));
    if !authz::can_see(actor, &scope) {
        return Err(not_found());
    }
    Ok(c)
}

fn rows(conn: &mut DbConn, id: &str) -> Result<Vec<VersionRow>, AppError> {
    Ok(av::table
        .filter(av::collaboration_id.eq(id))
        .order(av::number.asc())
        .load(conn)?)
}

/// What sealing a version needs, exactly as stored: its PDF, its language, and each file's
/// SHA-256 (`docx`, `pdf`, `html`).
pub struct StoredForSeal {
    pub pdf: Vec<u8>,
    pub lang: crate::domain::lang::Lang,
    pub file_hashes: Vec<(String, String)>,
}

pub fn stored_for_seal(
    conn: &mut DbConn,
    collaboration: &str,
    number: i32,
) -> Result<StoredForSeal, AppError> {
    let r = row(conn, collaboration, number)?;
    Ok(StoredForSeal {
        lang: crate::domain::lang::Lang::parse(&r.language).unwrap_or_default(),
        file_hashes: vec![
            ("docx".into(), r.docx_sha256),
            ("pdf".into(), r.pdf_sha256),
            ("html".into(), r.html_sha256),
        ],
        pdf: r.pdf,
    })
}

fn row(conn: &mut DbConn, id: &str, number: i32) -> Result<VersionRow, AppError> {
    av::table
        .filter(av::collaboration_id.eq(id))
        .filter(av::number.eq(number))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.agreement_version")))
}

#[allow(clippy::too_many_arguments)]
fn store(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
    templates: &TemplateSet,
    terms: &AgreementTerms,
    lang: Lang,
    event: EventType,
    now: DateTime<Utc>,
) -> Result<AgreementVersionView, AppError> {
    let id = c.id.as_str();
    let last: Option<i32> = av::table
        .filter(av::collaboration_id.eq(id))
        .select(diesel::dsl::max(av::number))
        .first(conn)?;
    let number = last.unwrap_or(0) + 1;
    // A new version supersedes the open envelope of an older one, in this same transaction; its
    // evidence stays as history (issue 14).
    super::signing::void_open(conn, actor, c, super::signing::END_SUPERSEDED, now)?;
    let data = agreement_data(conn, c, terms, number, lang)?;
    let rendered = render::render_agreement(templates, &data).map_err(render_error)?;
    let file = |f: Format| {
        rendered
            .file(f)
            .map(|x| (x.bytes.clone(), x.sha256.clone()))
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no {f:?} rendered")))
    };
    let (docx, docx_sha) = file(Format::Docx)?;
    let (pdf, pdf_sha) = file(Format::Pdf)?;
    let (html, html_sha) = file(Format::Html)?;
    let rulebook_version = c
        .classification
        .as_ref()
        .map(|r| r.result.rulebook_version.clone())
        .unwrap_or_default();
    let json = |v: &dyn erased::Json| v.json();
    diesel::insert_into(av::table)
        .values((
            av::collaboration_id.eq(id),
            av::number.eq(number),
            av::language.eq(lang.code()),
            av::created_at.eq(ts(now)),
            av::created_by.eq(actor.account.as_str()),
            av::template_version.eq(&rendered.template_version),
            av::rulebook_version.eq(&rulebook_version),
            av::terms.eq(json(terms)?),
            av::data.eq(json(&data)?),
            av::document.eq(json(&rendered.document)?),
            av::docx.eq(&docx),
            av::pdf.eq(&pdf),
            av::html.eq(&html),
            av::docx_sha256.eq(&docx_sha),
            av::pdf_sha256.eq(&pdf_sha),
            av::html_sha256.eq(&html_sha),
        ))
        .execute(conn)?;
    let stored = row(conn, id, number)?;
    let view = stored.view();
    let files = [("docx", &docx_sha), ("pdf", &pdf_sha), ("html", &html_sha)]
        .into_iter()
        .map(|(f, h)| (super::audit::agreement_file_name(number, f), h.clone()))
        .collect();
    let state = super::audit::stored_state(conn, id)?;
    super::audit::record_payload(
        conn,
        &collaboration_stream(id),
        actor,
        event,
        crate::domain::audit::Payload {
            before: None,
            after: Some(serde_json::json!({
            "agreement_version": view.number,
            "language": view.language,
            "template_version": view.template_version,
            "rulebook_version": view.rulebook_version,
            "sha256": {"docx": docx_sha, "pdf": pdf_sha, "html": html_sha},
            "deviations": terms.deviations,
            })),
            state,
            files,
        },
        now,
    )?;
    Ok(view)
}

mod erased {
    /// Serialises any value to JSON text for storage.
    pub trait Json {
        fn json(&self) -> Result<String, super::AppError>;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> Result<String, super::AppError> {
            serde_json::to_string(self).map_err(|e| super::AppError::Internal(e.into()))
        }
    }
}

fn may_draft(actor: &Actor) -> Result<(), AppError> {
    match actor.role {
        Role::CompanyRepresentative | Role::ResearchPrincipalRepresentative | Role::CpuaLegal => {
            Ok(())
        }
        _ => Err(AppError::Forbidden(crate::msg!("forbidden.draft"))),
    }
}

fn draftable(c: &Collaboration) -> Result<(), AppError> {
    crate::domain::lifecycle::agreement_draft(c)
        .map(|_| ())
        .map_err(AppError::from)
}

/// The highest version number of a collaboration's agreement, if any version exists.
pub fn latest_number(conn: &mut DbConn, c: &Collaboration) -> Result<Option<i32>, AppError> {
    Ok(av::table
        .filter(av::collaboration_id.eq(c.id.as_str()))
        .select(diesel::dsl::max(av::number))
        .first(conn)?)
}

/// Creates the next immutable version.
pub fn create_version(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    templates: &TemplateSet,
    actor: &Actor,
    id: &str,
    req: NewAgreementVersion,
    now: DateTime<Utc>,
) -> Result<AgreementVersionView, AppError> {
    // Drafts of one collaboration queue on its row, so each takes the next number.
    if let Some(cid) = CollaborationId::parse(id) {
        repo::lock_collaboration(conn, &cid)?;
    }
    let c = load(conn, rulebooks, actor, id)?;
    may_draft(actor)?;
    draftable(&c)?;
    let previous = rows(conn, c.id.as_str())?.pop();
    let terms = match (req.terms, &previous) {
        (Some(mut t), prev) => {
            // Deviations are legal's: a new draft keeps those already agreed.
            t.deviations = prev
                .as_ref()
                .and_then(|p| serde_json::from_str::<AgreementTerms>(&p.terms).ok())
                .map(|p| p.deviations)
                .unwrap_or_default();
            t
        }
        (None, Some(p)) => serde_json::from_str(&p.terms)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored agreement terms: {e}")))?,
        (None, None) => return Err(AppError::invalid("terms", crate::msg!("required.terms"))),
    };
    let lang = req
        .language
        .or_else(|| previous.as_ref().and_then(|p| Lang::parse(&p.language)))
        .unwrap_or_default();
    store(
        conn,
        actor,
        &c,
        templates,
        &terms,
        lang,
        EventType::AgreementVersionCreated,
        now,
    )
}

/// CPUA legal replaces one clause's text for this agreement; a new version records it.
#[allow(clippy::too_many_arguments)]
pub fn add_deviation(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    templates: &TemplateSet,
    actor: &Actor,
    id: &str,
    number: i32,
    input: DeviationInput,
    now: DateTime<Utc>,
) -> Result<AgreementVersionView, AppError> {
    let c = load(conn, rulebooks, actor, id)?;
    if actor.role != Role::CpuaLegal {
        return Err(AppError::Forbidden(crate::msg!("forbidden.deviation")));
    }
    draftable(&c)?;
    let mut errs = Vec::new();
    let text = crate::domain::text::parse_text(&input.text, 20_000)
        .map_err(|m| errs.push(FieldError::new("text", crate::msg!("text", reason = m))))
        .ok();
    let reason = crate::domain::text::parse_text(&input.reason, 5_000)
        .map_err(|m| errs.push(FieldError::new("reason", crate::msg!("text", reason = m))))
        .ok();
    let (Some(text), Some(reason)) = (text, reason) else {
        return Err(AppError::Invalid(errs));
    };
    let base = row(conn, c.id.as_str(), number)?;
    let mut terms: AgreementTerms = serde_json::from_str(&base.terms)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored agreement terms: {e}")))?;
    let data: AgreementData = serde_json::from_str(&base.data)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored agreement data: {e}")))?;
    // The place is named in the numbering of the version the deviation is made on.
    let (clause, sub_clause) = base
        .document()?
        .resolve_target(&input.clause)
        .ok_or_else(|| {
            AppError::invalid(
                "clause",
                crate::msg!(
                    "unknown_clause.in_version",
                    number = number,
                    clause = input.clause.trim()
                ),
            )
        })?;
    let deviation = Deviation {
        clause,
        sub_clause,
        text,
        reason,
    };
    // Checks the place against the template's own text and refuses dropping required sentences.
    render::apply_deviation(templates, &data, deviation.clone()).map_err(render_error)?;
    terms
        .deviations
        .retain(|d| (&d.clause, d.sub_clause) != (&deviation.clause, deviation.sub_clause));
    terms.deviations.push(deviation);
    let lang = Lang::parse(&base.language).unwrap_or_default();
    store(
        conn,
        actor,
        &c,
        templates,
        &terms,
        lang,
        EventType::AgreementDeviationAdded,
        now,
    )
}

pub fn list(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<Vec<AgreementVersionView>, AppError> {
    let c = load(conn, rulebooks, actor, id)?;
    Ok(rows(conn, c.id.as_str())?
        .iter()
        .map(VersionRow::view)
        .collect())
}

/// One rendered file of one version, exactly as stored.
pub fn file(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    number: i32,
    format: Format,
) -> Result<(Vec<u8>, String), AppError> {
    let c = load(conn, rulebooks, actor, id)?;
    let r = row(conn, c.id.as_str(), number)?;
    Ok(match format {
        Format::Docx => (r.docx, r.docx_sha256),
        Format::Pdf => (r.pdf, r.pdf_sha256),
        Format::Html => (r.html, r.html_sha256),
    })
}

/// A clause-by-clause comparison of two versions, as an HTML page.
pub fn diff(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    from: i32,
    to: i32,
) -> Result<String, AppError> {
    let c = load(conn, rulebooks, actor, id)?;
    let a = row(conn, c.id.as_str(), from)?.document()?;
    let b = row(conn, c.id.as_str(), to)?.document()?;
    Ok(render::diff_html(&a, &b))
}

/// A clause-by-clause comparison of two versions, as data: what the review page shows (the same
/// comparison [`diff`] renders as a standalone HTML page).
pub fn compare(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    from: i32,
    to: i32,
) -> Result<crate::domain::agreement::diff::DocumentDiff, AppError> {
    let c = load(conn, rulebooks, actor, id)?;
    let a = row(conn, c.id.as_str(), from)?.document()?;
    let b = row(conn, c.id.as_str(), to)?.document()?;
    Ok(crate::domain::agreement::diff::diff(&a, &b))
}

/// A negotiated deviation as the review page lists it: where (the clause's number and heading in the
/// version), the replacement text and the reason.
#[derive(Debug, Clone, Serialize)]
pub struct DeviationView {
    /// `7.3` for a sub-clause, `5` for a whole clause.
    pub place: String,
    pub heading: String,
    pub text: String,
    pub reason: String,
}

/// The review of a collaboration's agreement: every version, the deviations of the newest one, and
/// whether the actor may record another deviation now (CPUA legal, while the agreement may still be
/// drawn).
#[derive(Debug, Clone, Serialize)]
pub struct AgreementReview {
    pub reference: String,
    pub title: String,
    pub versions: Vec<AgreementVersionView>,
    pub deviations: Vec<DeviationView>,
    pub may_add_deviation: bool,
}

pub fn review(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
) -> Result<AgreementReview, AppError> {
    let c = load(conn, rulebooks, actor, id)?;
    let all = rows(conn, c.id.as_str())?;
    let deviations = match all.last() {
        None => Vec::new(),
        Some(latest) => {
            let terms: AgreementTerms = serde_json::from_str(&latest.terms)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored agreement terms: {e}")))?;
            let doc = latest.document()?;
            terms
                .deviations
                .iter()
                .map(|d| {
                    let clause = doc.clauses().find(|x| x.code == d.clause);
                    let number = clause.map(|x| x.number.to_string()).unwrap_or_default();
                    DeviationView {
                        place: match d.sub_clause {
                            Some(i) => format!("{number}.{i}"),
                            None => number,
                        },
                        heading: clause.map(|x| x.heading.clone()).unwrap_or_default(),
                        text: d.text.clone(),
                        reason: d.reason.clone(),
                    }
                })
                .collect()
        }
    };
    Ok(AgreementReview {
        reference: c.reference.clone(),
        title: c.title.clone(),
        versions: all.iter().map(VersionRow::view).collect(),
        deviations,
        may_add_deviation: actor.role == Role::CpuaLegal
            && !all.is_empty()
            && draftable(&c).is_ok(),
    })
}

/// What the lifecycle checks of one stored version when the agreement step names it (issue 8, item
/// 4): its digest, the rulebook clauses its stored document holds after deviations, those a deviation
/// weakened, the CPUAs that are parties, the amendment it was drawn for, and whether it is the newest
/// version (the highest number of the collaboration). Reads that one version's data and document and
/// the highest number, never any version's files. `None` when there is no such version.
pub fn version_evidence(
    conn: &mut DbConn,
    c: &Collaboration,
    number: i32,
) -> Result<Option<AgreementVersionEvidence>, AppError> {
    let id = c.id.as_str();
    let found: Option<(String, String, String, String, String)> = av::table
        .filter(av::collaboration_id.eq(id))
        .filter(av::number.eq(number))
        .select((
            av::data,
            av::document,
            av::docx_sha256,
            av::pdf_sha256,
            av::html_sha256,
        ))
        .first(conn)
        .optional()?;
    let Some((data, document, docx_sha, pdf_sha, html_sha)) = found else {
        return Ok(None);
    };
    let last: Option<i32> = av::table
        .filter(av::collaboration_id.eq(id))
        .select(diesel::dsl::max(av::number))
        .first(conn)?;
    let data: AgreementData = serde_json::from_str(&data)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored agreement data: {e}")))?;
    let document: Document = serde_json::from_str(&document)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored agreement document: {e}")))?;
    let (clauses, weakened_clauses) = document_clauses(&document);
    let cpua_parties = data
        .cpuas()
        .filter(|p| !p.organisation.is_empty())
        .map(|p| OrgId::from_db(p.organisation.clone()))
        .collect();
    let parties = data
        .parties
        .iter()
        .filter(|p| !p.organisation.is_empty())
        .map(|p| OrgId::from_db(p.organisation.clone()))
        .collect();
    Ok(Some(AgreementVersionEvidence {
        number: u32::try_from(number)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("negative version number")))?,
        digest: version_digest(&docx_sha, &pdf_sha, &html_sha),
        clauses,
        weakened_clauses,
        cpua_parties,
        amendment: data.amendment,
        is_latest: last == Some(number),
        term_end: data.term.as_ref().and_then(|t| t.end),
        delete_within_days: data.archiving.delete_within_days,
        parties,
        execution: super::signing::execution(conn, id, number)?,
    }))
}

/// What signing needs of one stored version: its digest (from the stored file hashes, never
/// re-rendered), its parties with their signatories, the amendment it was drawn for, and whether it
/// is the newest version. `None` when there is no such version.
pub struct SigningVersion {
    pub number: i32,
    pub digest: String,
    pub parties: Vec<Party>,
    pub amendment: Option<u32>,
    pub is_latest: bool,
}

pub fn signing_version(
    conn: &mut DbConn,
    c: &Collaboration,
    number: i32,
) -> Result<Option<SigningVersion>, AppError> {
    let id = c.id.as_str();
    let found: Option<(String, String, String, String)> = av::table
        .filter(av::collaboration_id.eq(id))
        .filter(av::number.eq(number))
        .select((av::data, av::docx_sha256, av::pdf_sha256, av::html_sha256))
        .first(conn)
        .optional()?;
    let Some((data, docx_sha, pdf_sha, html_sha)) = found else {
        return Ok(None);
    };
    let data: AgreementData = serde_json::from_str(&data)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored agreement data: {e}")))?;
    let last = latest_number(conn, c)?;
    Ok(Some(SigningVersion {
        number,
        digest: version_digest(&docx_sha, &pdf_sha, &html_sha),
        parties: data.parties,
        amendment: data.amendment,
        is_latest: last == Some(number),
    }))
}
