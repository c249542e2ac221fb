//! "Start a collaboration" (Starta ett samverkansprojekt): a guided intake in seven steps and a
//! summary, for the roles that may create one (`authz::may_create`).
//!
//! - Each step is one `POST /intake` carrying the step's fields and, as hidden fields, every
//!   earlier answer. No draft is stored: nothing exists until the person creates the
//!   collaboration, so nothing half-made has to be kept, shown to others or cleaned up, and the
//!   back button, a reload and two tabs cannot disagree with a stored draft.
//! - The fields are named as `NewCollaborationInput` reads them (`title`, `registers[]`,
//!   `intake.company_receives`, …); the last step reads the form into that type and creates the
//!   collaboration with the API's calls (`prepare_create`, then `store_created`).
//! - Beside every step, the classification of the answers so far, from the what-if classifier the
//!   API's `POST /classify` calls: the type, the obligations with their reasons and sources, the
//!   documents to prepare, the facts still to answer, and which answers would change the outcome.
//! - "Nästa" checks the step with the app's own validation (`prepare_create`), keeping the
//!   errors of the steps answered so far; "Tillbaka" and the step links never check.
use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::form::{anchor, Entered, Form, FormErrors};
use super::{PageEnv, PageError, PageResult};
use crate::app::collaborations::{self as collab, NewCollaborationInput};
use crate::app::reference::RegisterView;
use crate::app::{AppError, FieldError};
use crate::domain::classification::{
    AnalysisBy, Classification, FactEnum, FactId, IsResearch, Outcome, Purpose, Receives, Sector,
};
use crate::domain::collaboration::LinkageTarget;
use crate::domain::lang::Lang;
use crate::domain::organisation::{OrgKind, Organisation};
use crate::domain::role::{Actor, Role};

/// The number of question steps; the summary comes after them.
pub const STEPS: u8 = 7;
const SUMMARY: u8 = STEPS + 1;

/// The steps' titles, in order (the summary's last).
const STEP_TITLES: [&str; 8] = [
    "intake.step.purpose",
    "intake.step.principal",
    "intake.step.registers",
    "intake.step.data",
    "intake.step.linkage",
    "intake.step.countries",
    "intake.step.costs",
    "intake.step.summary",
];

/// The step where each input field is answered (by its name without `:kind` and `[]`).
const FIELD_STEPS: &[(&str, u8)] = &[
    ("title", 1),
    ("purpose", 1),
    ("research_question", 1),
    ("intake.purpose", 1),
    ("intake.is_research", 1),
    ("is_research", 1),
    ("intake.sector", 1),
    ("research_principal", 2),
    ("company", 2),
    ("registers", 3),
    ("data_kind", 4),
    ("requested_variables", 4),
    ("intake.company_receives", 4),
    ("intake.principal_receives", 4),
    ("intake.analysis_by", 4),
    ("intake.identity_numbers_requested", 4),
    ("intake.key_retention_months", 4),
    ("linkage", 5),
    ("recipient_countries", 6),
    (COUNTRIES_OTHER, 6),
    ("intake.external_processor", 6),
    ("intake.effort_beyond_routine", 7),
];

/// The free-text field for countries beyond the checkboxes (a page field, split into codes).
const COUNTRIES_OTHER: &str = "_countries_other";

/// Countries offered as checkboxes; any other ISO code goes in the text field.
const COMMON_COUNTRIES: [(&str, &str); 8] = [
    ("SE", "intake.country.SE"),
    ("NO", "intake.country.NO"),
    ("DK", "intake.country.DK"),
    ("FI", "intake.country.FI"),
    ("DE", "intake.country.DE"),
    ("GB", "intake.country.GB"),
    ("CH", "intake.country.CH"),
    ("US", "intake.country.US"),
];

/// A field's name without its `:kind`, list mark or index: `registers[2]` → `registers`.
fn base_name(field: &str) -> &str {
    let f = field.split(':').next().unwrap_or(field);
    f.split('[').next().unwrap_or(f)
}

/// The step where a field is answered; `None` for a field the intake does not know.
pub fn field_step(field: &str) -> Option<u8> {
    let base = base_name(field);
    FIELD_STEPS
        .iter()
        .find(|(f, _)| *f == base)
        .map(|(_, s)| *s)
}

/// The step that asks for a fact, and the text key of its question.
fn fact_question(f: FactId) -> (u8, &'static str) {
    match f {
        FactId::Purpose => (1, "intake.f.intake_purpose"),
        FactId::IsResearch => (1, "intake.f.is_research"),
        FactId::Sector => (1, "intake.f.sector"),
        FactId::ResearchPrincipalKind => (2, "intake.f.research_principal"),
        FactId::Registers => (3, "intake.f.registers"),
        FactId::CompanyReceives => (4, "intake.f.company_receives"),
        FactId::PrincipalReceives => (4, "intake.f.principal_receives"),
        FactId::AnalysisBy => (4, "intake.f.analysis_by"),
        FactId::IdentityNumbersRequested => (4, "intake.f.identity_numbers"),
        FactId::KeyRetentionMonths => (4, "intake.f.key_retention"),
        FactId::LinkageWith => (5, "intake.f.linkage"),
        FactId::RecipientCountries => (6, "intake.f.recipient_countries"),
        FactId::ExternalProcessor => (6, "intake.f.external_processor"),
        FactId::EffortBeyondRoutine => (7, "intake.f.effort"),
    }
}

// ---------- the form as the intake reads it ----------

/// The form with the page's conveniences turned into input fields: the countries typed in the
/// text field become `recipient_countries[]` codes (upper case, once each), and the research
/// answer (yes / no / unclear) also sets the collaboration's `is_research` (only "no" is not
/// research, as the input's default says).
pub fn normalise(form: &Form) -> Form {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut countries: Vec<String> = Vec::new();
    let mut research: Option<String> = None;
    for (k, v) in &form.0 {
        match k.as_str() {
            "recipient_countries[]" => countries.push(v.trim().to_uppercase()),
            COUNTRIES_OTHER => countries.extend(
                v.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(str::to_uppercase),
            ),
            "is_research:bool" | "is_research" => {}
            "intake.is_research" => {
                research = Some(v.clone());
                out.push((k.clone(), v.clone()));
            }
            _ => out.push((k.clone(), v.clone())),
        }
    }
    let mut seen: Vec<String> = Vec::new();
    for c in countries.into_iter().filter(|c| !c.is_empty()) {
        if !seen.contains(&c) {
            seen.push(c.clone());
            out.push(("recipient_countries[]".into(), c));
        }
    }
    if let Some(r) = research.filter(|r| !r.trim().is_empty()) {
        let yes = if r.trim() == "no" { "false" } else { "true" };
        out.push(("is_research:bool".into(), yes.into()));
    }
    Form(out)
}

/// The facts of the answers so far, as the what-if classification takes them. A fact of a step
/// not yet answered is left out (not given), so the classification lists it as missing instead of
/// reading an empty answer as "none".
pub fn facts_of(input: &Value, done: u8, principal: Option<OrgKind>) -> Value {
    let mut facts = Map::new();
    if let Some(intake) = input.get("intake").and_then(Value::as_object) {
        for (k, v) in intake {
            if field_step(&format!("intake.{k}")).is_some_and(|s| s <= done) {
                facts.insert(k.clone(), v.clone());
            }
        }
    }
    let list = |name: &str| input.get(name).cloned().unwrap_or(Value::Array(vec![]));
    if done >= 3 {
        facts.insert("registers".into(), list("registers"));
    }
    if done >= 5 {
        facts.insert("linkage_with".into(), list("linkage"));
    }
    if done >= 6 {
        facts.insert("recipient_countries".into(), list("recipient_countries"));
    }
    if done >= 2 {
        let research = input.get("is_research").and_then(Value::as_bool) != Some(false);
        let kind = match (principal, research) {
            (Some(k), _) => Some(crate::domain::intake::principal_kind(k).name()),
            (None, false) => Some("none"),
            (None, true) => None,
        };
        if let Some(k) = kind {
            facts.insert("research_principal_kind".into(), Value::from(k));
        }
    }
    Value::Object(facts)
}

/// The reference data the steps choose from.
struct Choices {
    principals: Vec<Organisation>,
    companies: Vec<Organisation>,
    registers: Vec<RegisterView>,
}

/// How many organisations and registers the choice lists hold at most.
const CHOICES_MAX: i64 = 500;

fn choices(conn: &mut crate::db::DbConn) -> Result<Choices, AppError> {
    use crate::db::repo;
    let (orgs, _) = repo::list_organisations(conn, None, None, CHOICES_MAX)?;
    let (regs, _) = repo::list_registers(conn, None, None, CHOICES_MAX)?;
    let registers = regs
        .into_iter()
        .map(|r| crate::app::reference::register_view(conn, r))
        .collect::<Result<Vec<_>, AppError>>()?;
    let (companies, rest): (Vec<Organisation>, Vec<Organisation>) =
        orgs.into_iter().partition(|o| o.kind == OrgKind::Company);
    // A CPUA authority or register centre cannot be the research principal (app layer refuses it).
    let mut principals: Vec<Organisation> = rest
        .into_iter()
        .filter(|o| !matches!(o.kind, OrgKind::CpuaAuthority | OrgKind::RegisterCentre))
        .collect();
    principals.extend(companies.iter().cloned());
    Ok(Choices {
        principals,
        companies,
        registers,
    })
}

/// The validation of the answers through `upto`: the app's own checks (`prepare_create`), with
/// the errors of later steps left for when those are answered. An input type needs its data
/// kind, so until step 4 a stand-in is given that the result never keeps.
fn check_through(
    conn: &mut crate::db::DbConn,
    state: &crate::http::AppState,
    actor: &Actor,
    mut input: Value,
    upto: u8,
) -> Result<(), AppError> {
    if upto < 4 {
        if let Some(o) = input.as_object_mut() {
            o.entry("data_kind").or_insert(Value::from("aggregated"));
        }
    }
    let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
    let result = crate::http::extract::parse_value::<NewCollaborationInput>(input).and_then(|i| {
        collab::prepare_create(conn, &state.svc.rulebooks, actor, i, now, today).map(|_| ())
    });
    match result {
        Err(AppError::Invalid(errs)) => {
            let kept: Vec<FieldError> = errs
                .into_iter()
                .filter(|e| field_step(&e.field).is_none_or(|s| s <= upto))
                .collect();
            if kept.is_empty() {
                Ok(())
            } else {
                Err(AppError::Invalid(kept))
            }
        }
        other => other,
    }
}

// ---------- what the page shows ----------

#[derive(Serialize)]
struct Opt {
    value: String,
    label: String,
    id: String,
    checked: bool,
}

/// One question of a step.
#[derive(Serialize)]
struct Field {
    /// The name the form sends (with `:kind` or `[]`).
    name: String,
    anchor: String,
    label: String,
    hint: String,
    error: String,
    /// The ids of the hint and the message, for `aria-describedby`.
    describedby: String,
    value: String,
    optional: bool,
    text: bool,
    textarea: bool,
    number: bool,
    select: bool,
    radios: bool,
    checks: bool,
    options: Vec<Opt>,
}

impl Field {
    fn new(name: &str, label_key: &str, env: &PageEnv) -> Field {
        let base = base_name(name);
        Field {
            name: name.to_string(),
            anchor: anchor(base),
            label: env.t(label_key),
            hint: String::new(),
            error: String::new(),
            describedby: String::new(),
            value: String::new(),
            optional: false,
            text: false,
            textarea: false,
            number: false,
            select: false,
            radios: false,
            checks: false,
            options: Vec::new(),
        }
    }

    fn hint(mut self, env: &PageEnv, key: &str) -> Field {
        self.hint = env.t(key);
        self
    }

    fn optional(mut self) -> Field {
        self.optional = true;
        self
    }

    fn options(mut self, entered: &Entered, opts: Vec<(String, String)>) -> Field {
        let base = base_name(&self.name).to_string();
        self.options = opts
            .into_iter()
            .enumerate()
            .map(|(i, (value, label))| Opt {
                checked: entered.has(&base, &value),
                id: format!("{}-{i}", self.anchor),
                value,
                label,
            })
            .collect();
        self
    }

    /// What the summary shows: the chosen options' labels, or the text.
    fn shown(&self) -> String {
        if self.options.is_empty() {
            self.value.clone()
        } else {
            self.options
                .iter()
                .filter(|o| o.checked && !o.value.is_empty())
                .map(|o| o.label.clone())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

fn opts<E: FactEnum>(env: &PageEnv, keys: &[&str]) -> Vec<(String, String)> {
    E::NAMES
        .iter()
        .zip(keys)
        .map(|(n, k)| (n.to_string(), env.t(k)))
        .collect()
}

fn yes_no(env: &PageEnv) -> Vec<(String, String)> {
    vec![
        ("true".into(), env.t("intake.o.yes")),
        ("false".into(), env.t("intake.o.no")),
    ]
}

const RECEIVES: [&str; 4] = [
    "intake.o.receives.nothing",
    "intake.o.receives.aggregated",
    "intake.o.receives.pseudonymised",
    "intake.o.receives.identifiable",
];

fn kind_key(k: OrgKind) -> &'static str {
    match k {
        OrgKind::University => "intake.kind.university",
        OrgKind::Region => "intake.kind.region",
        OrgKind::Company => "intake.kind.company",
        _ => "intake.kind.other",
    }
}

/// The questions of a step, filled with what was entered.
///
/// Two hints restate rules so that nobody is surprised later: identity numbers only in the most
/// exceptional cases (seed `000_8f4d98e28584af27.txt`, "Hur och vilka data lämnas ut?"), and work
/// beyond a routine extraction charged only after a written agreement (same seed, "Ersättning för
/// datauttag för forskning"). They inform; the rulebook decides the obligations.
fn step_fields(step: u8, env: &PageEnv, entered: &Entered, ch: &Choices) -> Vec<Field> {
    let text = |name: &str, key: &str| {
        let mut f = Field::new(name, key, env);
        f.text = true;
        f.value = entered.value(base_name(name));
        f
    };
    let area = |name: &str, key: &str| {
        let mut f = Field::new(name, key, env);
        f.textarea = true;
        f.value = entered.value(base_name(name));
        f
    };
    let radios = |name: &str, key: &str, o: Vec<(String, String)>| {
        let mut f = Field::new(name, key, env).options(entered, o);
        f.radios = true;
        f
    };
    let checks = |name: &str, key: &str, o: Vec<(String, String)>| {
        let mut f = Field::new(name, key, env).options(entered, o);
        f.checks = true;
        f
    };
    let select = |name: &str, key: &str, o: Vec<(String, String)>| {
        let mut f = Field::new(name, key, env).options(entered, o);
        f.select = true;
        f
    };
    let orgs = |list: &[Organisation], none_key: &str| {
        let mut o = vec![(String::new(), env.t(none_key))];
        o.extend(list.iter().map(|org| {
            (
                org.id.to_string(),
                format!("{} ({})", org.name, env.t(kind_key(org.kind))),
            )
        }));
        o
    };
    match step {
        1 => vec![
            text("title", "intake.f.title").hint(env, "intake.h.title"),
            area("purpose", "intake.f.purpose").hint(env, "intake.h.purpose"),
            area("research_question", "intake.f.research_question").optional(),
            radios(
                "intake.purpose",
                "intake.f.intake_purpose",
                opts::<Purpose>(
                    env,
                    &[
                        "intake.o.purpose.research",
                        "intake.o.purpose.regulatory_follow_up",
                        "intake.o.purpose.product_development",
                        "intake.o.purpose.register_development",
                        "intake.o.purpose.statistics",
                        "intake.o.purpose.market_analysis",
                        "intake.o.purpose.algorithm_training",
                        "intake.o.purpose.database_building",
                    ],
                ),
            ),
            radios(
                "intake.is_research",
                "intake.f.is_research",
                opts::<IsResearch>(
                    env,
                    &[
                        "intake.o.research.yes",
                        "intake.o.research.no",
                        "intake.o.research.unclear",
                    ],
                ),
            )
            .hint(env, "intake.h.is_research"),
            radios(
                "intake.sector",
                "intake.f.sector",
                opts::<Sector>(
                    env,
                    &[
                        "intake.o.sector.pharma",
                        "intake.o.sector.medtech",
                        "intake.o.sector.biotech",
                        "intake.o.sector.labtech",
                        "intake.o.sector.other",
                    ],
                ),
            ),
        ],
        2 => {
            let mut v = vec![select(
                "research_principal",
                "intake.f.research_principal",
                orgs(&ch.principals, "intake.o.no_principal"),
            )
            .hint(env, "intake.h.research_principal")];
            // A company representative's own company is the company; others name it.
            if env.actor.as_ref().map(|a| a.role) != Some(Role::CompanyRepresentative) {
                v.push(select(
                    "company",
                    "intake.f.company",
                    orgs(&ch.companies, "intake.o.choose"),
                ));
            }
            v
        }
        3 => vec![checks(
            "registers[]",
            "intake.f.registers",
            ch.registers
                .iter()
                .map(|r| {
                    let cpua = r.cpua_name.clone().unwrap_or_default();
                    (r.id.clone(), format!("{} ({}) – {cpua}", r.name, r.code))
                })
                .collect(),
        )
        .hint(env, "intake.h.registers")],
        4 => vec![
            radios(
                "data_kind",
                "intake.f.data_kind",
                vec![
                    ("aggregated".into(), env.t("intake.o.receives.aggregated")),
                    (
                        "pseudonymised".into(),
                        env.t("intake.o.receives.pseudonymised"),
                    ),
                    (
                        "identifiable".into(),
                        env.t("intake.o.receives.identifiable"),
                    ),
                ],
            )
            .hint(env, "intake.h.data_kind"),
            area("requested_variables:lines", "intake.f.variables")
                .hint(env, "intake.h.variables")
                .optional(),
            radios(
                "intake.company_receives",
                "intake.f.company_receives",
                opts::<Receives>(env, &RECEIVES),
            ),
            radios(
                "intake.principal_receives",
                "intake.f.principal_receives",
                opts::<Receives>(env, &RECEIVES),
            ),
            radios(
                "intake.analysis_by",
                "intake.f.analysis_by",
                opts::<AnalysisBy>(
                    env,
                    &[
                        "intake.o.analysis.register",
                        "intake.o.analysis.register_centre",
                        "intake.o.analysis.principal",
                        "intake.o.analysis.company",
                    ],
                ),
            ),
            radios(
                "intake.identity_numbers_requested:bool",
                "intake.f.identity_numbers",
                yes_no(env),
            )
            .hint(env, "intake.h.identity_numbers"),
            {
                let mut f = Field::new(
                    "intake.key_retention_months:int",
                    "intake.f.key_retention",
                    env,
                )
                .hint(env, "intake.h.key_retention")
                .optional();
                f.number = true;
                f.value = entered.value("intake.key_retention_months");
                f
            },
        ],
        5 => vec![checks(
            "linkage[]",
            "intake.f.linkage",
            LinkageTarget::ALL
                .iter()
                .map(|l| {
                    let key = match l {
                        LinkageTarget::Socialstyrelsen => "intake.o.linkage.socialstyrelsen",
                        LinkageTarget::Scb => "intake.o.linkage.scb",
                        LinkageTarget::Forsakringskassan => "intake.o.linkage.forsakringskassan",
                        LinkageTarget::OtherRegister => "intake.o.linkage.other_register",
                    };
                    (l.code().to_string(), env.t(key))
                })
                .collect(),
        )
        .hint(env, "intake.h.linkage")],
        6 => {
            let entered_codes: Vec<String> = entered
                .0
                .get("recipient_countries")
                .cloned()
                .unwrap_or_default();
            let mut other = Field::new(COUNTRIES_OTHER, "intake.f.countries_other", env)
                .hint(env, "intake.h.countries_other")
                .optional();
            other.text = true;
            other.value = entered_codes
                .iter()
                .filter(|c| !COMMON_COUNTRIES.iter().any(|(cc, _)| cc == c))
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                checks(
                    "recipient_countries[]",
                    "intake.f.recipient_countries",
                    COMMON_COUNTRIES
                        .iter()
                        .map(|(c, k)| (c.to_string(), env.t(k)))
                        .collect(),
                )
                .hint(env, "intake.h.recipient_countries"),
                other,
                radios(
                    "intake.external_processor:bool",
                    "intake.f.external_processor",
                    yes_no(env),
                )
                .hint(env, "intake.h.external_processor"),
            ]
        }
        7 => vec![radios(
            "intake.effort_beyond_routine:bool",
            "intake.f.effort",
            yes_no(env),
        )
        .hint(env, "intake.h.effort")],
        _ => vec![],
    }
}

/// The step indicator's items.
#[derive(Serialize)]
struct StepItem {
    number: u8,
    label: String,
    current: bool,
    done: bool,
}

/// An obligation as the panel shows it.
#[derive(Serialize)]
struct ObligationShown {
    label: String,
    reason: String,
    source: String,
}

/// A fact as the panel names it, and the step that asks it.
#[derive(Serialize)]
struct Question {
    label: String,
    step: u8,
    what: String,
    /// Asked on the step shown, or on one not reached yet: named, without a button to go there.
    plain: bool,
}

/// The classification of the answers so far.
#[derive(Serialize, Default)]
struct Panel {
    classified: bool,
    type_label: String,
    reason: String,
    source: String,
    obligations: Vec<ObligationShown>,
    documents: Vec<String>,
    missing: Vec<Question>,
    sensitive: Vec<Question>,
    /// Why the answers cannot be classified yet (an answer the classifier refuses).
    problem: String,
}

fn source_text(file: &str, section: &str) -> String {
    let title = crate::domain::sources::title_of(file).unwrap_or(file);
    format!("{title} ({file}), \"{section}\"")
}

fn panel_of(c: &Classification, env: &PageEnv, shown: u8, done: u8) -> Panel {
    let plain = |step: u8| step == shown || step > done.saturating_add(1);
    let lang = env.lang;
    let pick = |sv: &str, en: &str| match lang {
        Lang::Sv => sv.to_string(),
        Lang::En => en.to_string(),
    };
    let mut p = Panel::default();
    match &c.outcome {
        Outcome::Classified {
            label_sv,
            label_en,
            reason_sv,
            reason_en,
            source,
            ..
        } => {
            p.classified = true;
            p.type_label = pick(label_sv, label_en);
            p.reason = pick(reason_sv, reason_en);
            p.source = source_text(&source.file, &source.section);
        }
        Outcome::Unclassified {
            reason_sv,
            reason_en,
            source,
            incomplete,
            ..
        } => {
            p.type_label = env.t(if *incomplete {
                "intake.panel.incomplete"
            } else {
                "intake.panel.unclassified"
            });
            // The classifier names the missing facts by code; the panel lists them as questions
            // below, so the reason says only that.
            p.reason = if *incomplete {
                env.t("intake.panel.incomplete_reason")
            } else {
                pick(reason_sv, reason_en)
            };
            p.source = source
                .as_ref()
                .map(|s| source_text(&s.file, &s.section))
                .unwrap_or_default();
        }
    }
    p.obligations = c
        .obligations
        .iter()
        .map(|o| ObligationShown {
            label: pick(&o.label_sv, &o.label_en),
            reason: pick(&o.reason_sv, &o.reason_en),
            source: source_text(&o.source.file, &o.source.section),
        })
        .collect();
    p.documents = c
        .documents
        .iter()
        .map(|d| pick(&d.label_sv, &d.label_en))
        .collect();
    p.missing = c
        .missing
        .iter()
        .map(|f| {
            let (step, key) = fact_question(*f);
            Question {
                label: env.t(key),
                step,
                what: String::new(),
                plain: plain(step),
            }
        })
        .collect();
    p.missing.sort_by_key(|q| q.step);
    p.sensitive = c
        .sensitivity
        .iter()
        .filter(|s| s.given && (s.changes_type || s.changes_obligations))
        .map(|s| {
            let (step, key) = fact_question(s.fact);
            let what = match (s.changes_type, s.changes_obligations) {
                (true, true) => "intake.panel.changes_both",
                (true, false) => "intake.panel.changes_type",
                _ => "intake.panel.changes_obligations",
            };
            Question {
                label: env.t(key),
                step,
                what: env.t(what),
                plain: plain(step),
            }
        })
        .collect();
    p.sensitive.sort_by_key(|q| q.step);
    p
}

/// The summary's answers of one step.
#[derive(Serialize)]
struct SummaryStep {
    number: u8,
    title: String,
    answers: Vec<Answer>,
}

#[derive(Serialize)]
struct Answer {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct Hidden {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct IntakePage {
    step: u8,
    steps_total: u8,
    summary: bool,
    first: bool,
    /// Every step answered: the summary may be reached from any step.
    all_done: bool,
    /// The other language's name in itself, for the switch that keeps the answers.
    other_lang_name: String,
    other_lang: &'static str,
    step_title: String,
    done: u8,
    indicator: Vec<StepItem>,
    fields: Vec<Field>,
    hidden: Vec<Hidden>,
    panel: Panel,
    answers: Vec<SummaryStep>,
    errors: FormErrors,
}

/// Where an error's message is shown: the countries' codes at the text field, a list item at its
/// list.
fn error_anchor(field: &str) -> String {
    match base_name(field) {
        "recipient_countries" => anchor(COUNTRIES_OTHER),
        "is_research" => anchor("intake.is_research"),
        b => anchor(b),
    }
}

fn error_target(field: &str) -> &str {
    match base_name(field) {
        "recipient_countries" => COUNTRIES_OTHER,
        "is_research" => "intake.is_research",
        b => b,
    }
}

/// Renders a step (or the summary) with the answers in `form`.
async fn show(
    env: &PageEnv,
    form: Form,
    step: u8,
    done: u8,
    errors: Option<FormErrors>,
) -> PageResult {
    let input = form.to_json();
    let principal_id = input
        .get("research_principal")
        .and_then(Value::as_str)
        .map(String::from);
    let (ch, classification) = env
        .blocking(move |s| {
            s.svc.read(|c| {
                let ch = choices(c)?;
                let kind = principal_id.as_ref().and_then(|id| {
                    ch.principals
                        .iter()
                        .find(|o| o.id.as_str() == id)
                        .map(|o| o.kind)
                });
                let facts = facts_of(&input, done, kind);
                let today = s.svc.clock.today();
                // An answer the classifier refuses is shown in the panel; any other failure (the
                // database, no rulebook) fails the page rather than hiding behind "not yet".
                match crate::app::classification::what_if(c, &s.svc.rulebooks, &facts, today) {
                    Ok(r) => Ok((ch, Ok(r))),
                    Err(e @ AppError::Invalid(_)) => Ok((ch, Err(e))),
                    Err(e) => Err(e),
                }
            })
        })
        .await?;
    let entered = form.entered();
    let mut errors = errors.unwrap_or_default();
    if !errors.fields.is_empty() {
        // Each message is linked and shown at its field; the summary says so in plain words.
        errors.summary = env.t("intake.fix_below");
    }
    let mut at: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &mut errors.fields {
        f.anchor = error_anchor(&f.field);
        at.entry(error_target(&f.field).to_string())
            .or_default()
            .push(f.message.clone());
    }
    let with_errors = |mut fields: Vec<Field>| {
        for f in &mut fields {
            if let Some(m) = at.get(base_name(&f.name)) {
                f.error = m.join(" ");
            }
            let mut ids = Vec::new();
            if !f.hint.is_empty() {
                ids.push(format!("{}-hint", f.anchor));
            }
            if !f.error.is_empty() {
                ids.push(format!("{}-error", f.anchor));
            }
            f.describedby = ids.join(" ");
        }
        fields
    };
    let summary = step == SUMMARY;
    let fields = if summary {
        vec![]
    } else {
        with_errors(step_fields(step, env, &entered, &ch))
    };
    let answers = if summary {
        (1..=STEPS)
            .map(|n| SummaryStep {
                number: n,
                title: env.t(STEP_TITLES[usize::from(n - 1)]),
                answers: step_fields(n, env, &entered, &ch)
                    .iter()
                    .filter(|f| f.name != COUNTRIES_OTHER)
                    .map(|f| Answer {
                        label: f.label.clone(),
                        value: match f.shown() {
                            // Nothing ticked in a step answered is an answer: none.
                            v if v.is_empty() && f.checks && n <= done => {
                                env.t("intake.summary.none")
                            }
                            v if v.is_empty() => env.t("intake.summary.not_answered"),
                            v => v,
                        },
                    })
                    .collect(),
            })
            .collect()
    } else {
        vec![]
    };
    let hidden = form
        .0
        .iter()
        .filter(|(k, _)| k != "csrf_token" && k != "version" && !k.starts_with('_'))
        .filter(|(k, _)| summary || field_step(k) != Some(step))
        .map(|(k, v)| Hidden {
            name: k.clone(),
            value: v.clone(),
        })
        .collect();
    let panel = match &classification {
        Ok(c) => panel_of(c, env, step, done),
        Err(e) => Panel {
            problem: FormErrors::of(e, env.lang)
                .map(|f| {
                    let mut parts = vec![env.t("intake.panel.problem")];
                    parts.extend(f.fields.into_iter().map(|m| m.message));
                    parts.join(" ")
                })
                .unwrap_or_else(|| env.t("intake.panel.problem")),
            ..Panel::default()
        },
    };
    let indicator = (1..=SUMMARY)
        .map(|n| StepItem {
            number: n,
            label: env.t(STEP_TITLES[usize::from(n - 1)]),
            current: n == step,
            done: n <= done,
        })
        .collect();
    let status = if errors.any {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    env.render_status(
        status,
        "intake",
        "intake.title",
        IntakePage {
            step,
            steps_total: STEPS,
            summary,
            first: step == 1,
            all_done: done >= STEPS,
            other_lang_name: super::text::t(other(env.lang), "common.lang.self"),
            other_lang: other(env.lang).code(),
            step_title: env.t(STEP_TITLES[usize::from(step - 1)]),
            done,
            indicator,
            fields,
            hidden,
            panel,
            answers,
            errors,
        },
    )
}

fn may_create(env: &PageEnv) -> Result<(), PageError> {
    crate::app::authz::may_create(env.actor()?).map_err(|e| env.fail(e))
}

/// `GET /intake`: the first step, nothing answered.
pub async fn start(env: PageEnv) -> PageResult {
    may_create(&env)?;
    show(&env, Form::default(), 1, 0, None).await
}

/// Where a button leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Go {
    Back,
    Next,
    To(u8),
    Create,
    /// The same step in the other language, answers kept (the header's switch is a link and
    /// cannot carry them).
    Language,
}

impl Go {
    /// The `_go` field; a form sent with Enter carries none and means "Nästa".
    pub fn parse(v: Option<&str>) -> Go {
        match v.map(str::trim) {
            Some("back") => Go::Back,
            Some("create") => Go::Create,
            Some("language") => Go::Language,
            Some(n) => match n.parse::<u8>() {
                Ok(n) if (1..=SUMMARY).contains(&n) => Go::To(n),
                _ => Go::Next,
            },
            None => Go::Next,
        }
    }
}

fn number(form: &Form, name: &str, max: u8) -> Option<u8> {
    form.get(name)
        .and_then(|v| v.trim().parse::<u8>().ok())
        .filter(|n| *n <= max)
}

/// The step of a refusal: the earliest step among its fields (else the one shown).
fn step_of_error(e: &AppError, fallback: u8) -> u8 {
    match e {
        AppError::Invalid(errs) => errs
            .iter()
            .filter_map(|f| field_step(&f.field))
            .min()
            .unwrap_or(fallback),
        _ => fallback,
    }
}

/// `POST /intake`: one step answered; on to the next, back, or (from the summary) create.
pub async fn step(env: PageEnv, form: Form) -> PageResult {
    may_create(&env)?;
    let form = normalise(&form);
    let shown = number(&form, "_step", SUMMARY)
        .filter(|n| *n >= 1)
        .unwrap_or(1);
    let done = number(&form, "_done", STEPS).unwrap_or(0);
    let go = Go::parse(form.get("_go"));
    let target = match go {
        Go::Back => Some(shown.saturating_sub(1).max(1)),
        Go::To(n) if n <= shown => Some(n),
        _ => None,
    };
    if let Some(t) = target {
        return show(&env, form, t, done, None).await;
    }
    if go == Go::Language {
        return other_language(env, form, shown, done).await;
    }
    if go == Go::Create {
        return create(env, form, done).await;
    }
    if shown == SUMMARY {
        return show(&env, form, SUMMARY, done, None).await;
    }
    // "Nästa" (or a later step): check this step's answers and those before it.
    let actor = env.actor()?.clone();
    let input = form.to_json();
    let checked = env
        .blocking(move |s| {
            s.svc
                .read(|c| Ok(check_through(c, s, &actor, input, shown)))
        })
        .await?;
    if let Err(e) = checked {
        let back_to = step_of_error(&e, shown).min(shown);
        return match FormErrors::of(&e, env.lang) {
            Some(errs) => show(&env, form, back_to, done, Some(errs)).await,
            None => Err(env.fail(e)),
        };
    }
    let done = done.max(shown);
    let wanted = match go {
        Go::To(n) => n,
        _ => shown + 1,
    };
    let next = wanted.min(done + 1).min(SUMMARY);
    show(&env, form, next, done, None).await
}

/// The step again in the other language, remembered as the language switch does.
async fn other_language(env: PageEnv, form: Form, step: u8, done: u8) -> PageResult {
    use actix_web::cookie::{time, Cookie, SameSite};
    let mut env = env;
    env.lang = other(env.lang);
    let mut res = show(&env, form, step, done, None).await?;
    let c = Cookie::build(super::LANG_COOKIE, env.lang.code().to_string())
        .path("/")
        .same_site(SameSite::Lax)
        .secure(env.state.settings.is_https())
        .max_age(time::Duration::days(365))
        .finish();
    res.add_cookie(&c)
        .map_err(|e| env.fail(AppError::Internal(anyhow::anyhow!("cookie: {e}"))))?;
    Ok(res)
}

fn other(lang: Lang) -> Lang {
    match lang {
        Lang::Sv => Lang::En,
        Lang::En => Lang::Sv,
    }
}

/// The summary's "Skapa samverkansprojektet": the API's create, then the case page.
async fn create(env: PageEnv, form: Form, done: u8) -> PageResult {
    let actor = env.actor()?.clone();
    let input = form.read::<NewCollaborationInput>();
    let created = match input {
        Ok(input) => {
            env.blocking(move |s| {
                let (now, today) = (s.svc.clock.now(), s.svc.clock.today());
                let svc = &s.svc;
                let r = svc
                    .read(|c| collab::prepare_create(c, &svc.rulebooks, &actor, input, now, today))
                    .and_then(|c| {
                        svc.write(|conn| collab::store_created(conn, &actor, c, today, now))
                    });
                Ok(r)
            })
            .await?
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(c) => Ok(env.see_other(&format!("/collaborations/{}", c.id.as_str()))),
        Err(e) => match FormErrors::of(&e, env.lang) {
            Some(errs) => {
                let step = step_of_error(&e, SUMMARY);
                show(&env, form, step, done, Some(errs)).await
            }
            None => Err(env.fail(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(p: &[(&str, &str)]) -> Form {
        Form(
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn typed_countries_become_codes_once_each_and_research_sets_the_flag() {
        let f = normalise(&form(&[
            ("recipient_countries[]", "SE"),
            (COUNTRIES_OTHER, "us, se;ch  "),
            ("intake.is_research", "no"),
            ("is_research:bool", "true"),
        ]));
        let v = f.to_json();
        assert_eq!(v["recipient_countries"], json!(["SE", "US", "CH"]));
        assert_eq!(v["is_research"], json!(false));
        assert_eq!(v["intake"]["is_research"], json!("no"));
        let f = normalise(&form(&[("intake.is_research", "unclear")]));
        assert_eq!(f.to_json()["is_research"], json!(true));
    }

    #[test]
    fn facts_of_steps_not_answered_are_left_out() {
        let input = json!({
            "intake": {"purpose": "research", "company_receives": "aggregated"},
            "is_research": true,
            "registers": ["r1"],
        });
        let early = facts_of(&input, 1, None);
        assert_eq!(early, json!({"purpose": "research"}));
        let later = facts_of(&input, 6, Some(OrgKind::University));
        assert_eq!(later["company_receives"], json!("aggregated"));
        assert_eq!(later["registers"], json!(["r1"]));
        assert_eq!(later["linkage_with"], json!([]));
        assert_eq!(later["recipient_countries"], json!([]));
        assert_eq!(later["research_principal_kind"], json!("university"));
        let not_research = facts_of(&json!({"is_research": false}), 2, None);
        assert_eq!(not_research["research_principal_kind"], json!("none"));
    }

    #[test]
    fn every_field_and_fact_belongs_to_a_step() {
        assert_eq!(field_step("registers[2]"), Some(3));
        assert_eq!(field_step("intake.key_retention_months:int"), Some(4));
        assert_eq!(field_step("recipient_countries[0]"), Some(6));
        assert_eq!(field_step("nonsense"), None);
        for f in FactId::ALL {
            let (step, _) = fact_question(f);
            assert!((1..=STEPS).contains(&step));
        }
    }

    #[test]
    fn errors_are_shown_at_the_field_that_was_answered_and_lead_to_its_step() {
        assert_eq!(error_anchor("recipient_countries[1]"), "f-_countries_other");
        assert_eq!(error_anchor("registers[0]"), "f-registers");
        assert_eq!(
            error_anchor("intake.company_receives"),
            "f-intake-company_receives"
        );
        assert_eq!(error_target("is_research"), "intake.is_research");
        let e = AppError::Invalid(vec![
            FieldError::new(
                "recipient_countries[0]",
                crate::msg!("unknown_register", id = "x"),
            ),
            FieldError::new("registers[0]", crate::msg!("unknown_register", id = "x")),
        ]);
        assert_eq!(step_of_error(&e, 8), 3);
        assert_eq!(step_of_error(&AppError::Invalid(vec![]), 5), 5);
    }

    #[test]
    fn buttons_are_read_and_enter_means_next() {
        assert_eq!(Go::parse(Some("back")), Go::Back);
        assert_eq!(Go::parse(Some("create")), Go::Create);
        assert_eq!(Go::parse(Some("language")), Go::Language);
        assert_eq!(Go::parse(Some("3")), Go::To(3));
        assert_eq!(Go::parse(Some("99")), Go::Next);
        assert_eq!(Go::parse(None), Go::Next);
    }
}
