//! Classification in the application: the intake facts of a collaboration, the rulebook in force, and
//! the what-if endpoint. The classifier itself is pure (`domain::classification`).
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::{AppError, FieldError};
use crate::db::{repo, DbConn};
use crate::domain::classification::{
    classify, Classification, Facts, RegisterInfo, Rulebook, RulebookSet,
};
use crate::domain::collaboration::{ClassificationRecord, Collaboration};
use crate::domain::ids::RegisterId;
use crate::domain::intake;
pub use crate::domain::intake::facts_for;
use crate::domain::organisation::OrgKind;

/// Facts a collaboration already states in its own fields; the intake may not repeat them.
pub const DERIVED_FACTS: [(&str, &str); 4] = [
    ("registers", "registers"),
    ("linkage_with", "linkage"),
    ("recipient_countries", "recipient_countries"),
    ("research_principal_kind", "research_principal"),
];

/// Parses the intake facts a client sends with a collaboration.
pub fn parse_intake(v: &Value) -> Result<Facts, AppError> {
    if let Some(obj) = v.as_object() {
        for (fact, field) in DERIVED_FACTS {
            if obj.contains_key(fact) {
                return Err(AppError::invalid(
                    &format!("intake.{fact}"),
                    crate::msg!("derived_fact", field = field),
                ));
            }
        }
    }
    Facts::from_json(v).map_err(|e| fact_error("intake", e))
}

fn fact_error(prefix: &str, e: crate::domain::classification::FactError) -> AppError {
    let field = if e.fact.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}.{}", e.fact)
    };
    AppError::invalid(&field, crate::msg!("fact", reason = e.message))
}

/// Resolves register ids to their current CPUA; unknown ids are refused by position.
pub fn register_infos(
    conn: &mut DbConn,
    field: &str,
    ids: &[String],
) -> Result<Vec<RegisterInfo>, AppError> {
    let parsed: Vec<Option<RegisterId>> = ids.iter().map(|s| RegisterId::parse(s)).collect();
    let known: Vec<RegisterId> = parsed.iter().flatten().cloned().collect();
    let cpuas = repo::current_cpuas(conn, &known)?;
    let mut errs = Vec::new();
    let mut out = Vec::new();
    for (i, (raw, id)) in ids.iter().zip(parsed).enumerate() {
        match id.and_then(|id| cpuas.get(&id).map(|c| (id, c))) {
            Some((id, (cpua, name))) => out.push(RegisterInfo {
                id: id.to_string(),
                cpua_id: cpua.to_string(),
                cpua_name: name.clone(),
            }),
            None => errs.push(FieldError::new(
                format!("{field}[{i}]"),
                crate::msg!("unknown_register", id = raw),
            )),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Invalid(errs))
    }
}

/// The rulebook in force on a date. Before the first version's date, the first version applies.
pub fn rulebook_on(set: &RulebookSet, day: NaiveDate) -> Result<&Rulebook, AppError> {
    set.effective_on(day)
        .or_else(|| set.iter().next())
        .map(|b| b.as_ref())
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no rulebook is loaded")))
}

/// Classifies a collaboration, keeping legal's earlier overrides.
pub fn classify_collaboration(
    conn: &mut DbConn,
    set: &RulebookSet,
    c: &Collaboration,
    principal: Option<OrgKind>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ClassificationRecord, AppError> {
    let ids: Vec<String> = c.registers.iter().map(ToString::to_string).collect();
    let infos = register_infos(conn, "registers", &ids)?;
    Ok(intake::classify_collaboration(
        rulebook_on(set, today)?,
        c,
        principal,
        &infos,
        now,
    ))
}

/// Whether two classifications differ in what matters: version, type or obligations.
pub fn materially_differs(a: &ClassificationRecord, b: &ClassificationRecord) -> bool {
    a.result.rulebook_version != b.result.rulebook_version
        || a.result.outcome.collaboration_type() != b.result.outcome.collaboration_type()
        || a.effective_obligations() != b.effective_obligations()
        || a.result.missing != b.result.missing
}

/// What-if: facts in, classification out, nothing stored.
pub fn what_if(
    conn: &mut DbConn,
    set: &RulebookSet,
    facts: &Value,
    today: NaiveDate,
) -> Result<Classification, AppError> {
    let f = Facts::from_json(facts).map_err(|e| fact_error("facts", e))?;
    let infos = match &f.registers {
        Some(ids) => register_infos(conn, "facts.registers", ids)?,
        None => vec![],
    };
    Ok(classify(rulebook_on(set, today)?, &f, &infos))
}

/// Every stored collaboration as a case for `rulebook diff`: its full facts and resolved registers.
pub fn stored_cases(conn: &mut DbConn) -> Result<Vec<crate::rulebook::Case>, AppError> {
    let mut out = Vec::new();
    let mut after: Option<repo::ListKey> = None;
    loop {
        let page = repo::list_collaborations(
            conn,
            &repo::Visible::All,
            &repo::CollabFilter::default(),
            repo::CollabSort::Newest,
            after.as_ref(),
            500,
        )?;
        let Some((_, _, last)) = page.last() else {
            break;
        };
        after = Some(last.clone());
        for (c, _, _) in page {
            let kind = match &c.research_principal {
                Some(p) => repo::find_organisation(conn, p)?.map(|o| o.kind),
                None => None,
            };
            let ids: Vec<String> = c.registers.iter().map(ToString::to_string).collect();
            let registers = register_infos(conn, "registers", &ids).unwrap_or_default();
            out.push(crate::rulebook::Case {
                id: c.reference.clone(),
                facts: facts_for(&c, kind),
                registers,
            });
        }
    }
    Ok(out)
}

/// The schema of the intake facts a collaboration carries in its `intake` field: every fact except
/// those it states in its own fields ([`DERIVED_FACTS`]). Built from [`FactId`] and its value names,
/// so the documentation cannot drift from the parser ([`Facts::from_json`]).
///
/// [`FactId`]: crate::domain::classification::FactId
pub struct IntakeFacts;

/// The schema of the facts the what-if classification takes: every fact.
pub struct WhatIfFacts;

fn facts_schema(description: &str, derived_excluded: bool) -> utoipa::openapi::Schema {
    use crate::domain::classification::{FactEnum, FactId};
    use crate::domain::text::MAX_LIST_ITEMS;
    use utoipa::openapi::schema::{
        AdditionalProperties, ArrayBuilder, ObjectBuilder, SchemaType, Type,
    };
    let nullable = |t: Type| SchemaType::from_iter([t, Type::Null]);
    let one_of = |names: &[&str]| {
        let mut values: Vec<Value> = names.iter().map(|n| Value::from(*n)).collect();
        values.push(Value::Null);
        ObjectBuilder::new()
            .schema_type(nullable(Type::String))
            .enum_values(Some(values))
    };
    let list = |items: ObjectBuilder| {
        ArrayBuilder::new()
            .schema_type(nullable(Type::Array))
            .items(items.build())
            .unique_items(true)
            .max_items(Some(MAX_LIST_ITEMS))
    };
    let mut o = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(format!(
            "{description} Every fact is optional; `null` or an absent fact means \"not given\", and the classification never guesses it."
        )))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for fact in FactId::ALL {
        if derived_excluded && DERIVED_FACTS.iter().any(|(f, _)| *f == fact.name()) {
            continue;
        }
        // No wildcard: a new fact does not compile until it has a schema here.
        let schema: utoipa::openapi::RefOr<utoipa::openapi::Schema> = match fact {
            FactId::ResearchPrincipalKind
            | FactId::IsResearch
            | FactId::Purpose
            | FactId::CompanyReceives
            | FactId::PrincipalReceives
            | FactId::AnalysisBy
            | FactId::Sector => one_of(fact.value_names().unwrap_or_default()).into(),
            FactId::ExternalProcessor
            | FactId::IdentityNumbersRequested
            | FactId::EffortBeyondRoutine => ObjectBuilder::new()
                .schema_type(nullable(Type::Boolean))
                .into(),
            FactId::KeyRetentionMonths => ObjectBuilder::new()
                .schema_type(nullable(Type::Integer))
                .minimum(Some(0))
                .maximum(Some(u32::MAX))
                .description(Some("months the CPUA keeps the key file"))
                .into(),
            FactId::Registers => list(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"\S")),
            )
            .description(Some("register ids"))
            .into(),
            FactId::LinkageWith => list(one_of(
                crate::domain::classification::LinkageAuthority::NAMES,
            ))
            .into(),
            FactId::RecipientCountries => list(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[A-Z]{2}$")),
            )
            .description(Some("ISO 3166-1 alpha-2 codes"))
            .into(),
        };
        o = o.property(fact.name(), schema);
    }
    o.examples([serde_json::json!({
        "purpose": "research", "company_receives": "aggregated",
        "principal_receives": "pseudonymised", "analysis_by": "principal", "sector": "pharma",
        "external_processor": false, "identity_numbers_requested": false,
        "effort_beyond_routine": false, "key_retention_months": 3
    })])
    .into()
}

impl utoipa::PartialSchema for IntakeFacts {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        facts_schema(
            "The intake facts of a collaboration's classification. The register, linkage, recipient-country and principal facts follow from the collaboration's own fields and may not be given here.",
            true,
        )
        .into()
    }
}

impl utoipa::ToSchema for IntakeFacts {}

impl utoipa::PartialSchema for WhatIfFacts {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        facts_schema("Intake facts for a what-if classification.", false).into()
    }
}

impl utoipa::ToSchema for WhatIfFacts {}
