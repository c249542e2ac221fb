//! The commands of the case page: what may happen next, as forms (kommandon som formulär).
//!
//! Every command the view's `next` list allows gets a form with the fields of the API's own input
//! type ([`crate::app::commands::TransitionInput`] / [`crate::app::commands::ActionInput`]); one the
//! server would refuse gets no form, only its reason, what is missing and where. One handler,
//! `POST /collaborations/{id}/commands`, reads `_kind` (`transition` or `action`) and `_command`,
//! builds the same JSON an API client sends and runs the same app-layer command as
//! `POST /api/v1/collaborations/{id}/transitions|actions`, with the form's hidden `version` as the
//! expected version (a stale form is refused, never overwrites).
//!
//! The forms are data: [`SPECS`] names, per command, its family (how the page lays it out), the
//! fields and their texts. A "bör" warning (DOMAIN.md, "How strongly each rule binds") is shown at
//! the form with a reason field: it is passed with a reason, never a block.
use actix_web::http::StatusCode;
use actix_web::web;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use super::form::{anchor, Entered, Form, FormErrors};
use super::{text, PageEnv, PageResult};
use crate::app::commands::{ActionInput, CommandInput, TransitionInput};
use crate::app::AppError;
use crate::domain::lang::Lang;
use crate::domain::role::Actor;

/// How a field is asked for.
#[derive(Clone, Copy)]
pub enum K {
    Text,
    Area,
    Date,
    Int,
    /// An amount in kronor, sent to the API in öre (`<name>:kr` in the form).
    Kr,
    /// One item per line.
    Lines,
    /// A box to tick (`:bool`).
    Check,
    /// Yes or no, as two radio buttons (`:bool`).
    YesNo,
    /// One of a fixed list, as radio buttons: `(value, text key)`.
    Radios(&'static [(&'static str, &'static str)]),
    /// One of a fixed list, as a drop-down (may be left empty when not required).
    Select(&'static [(&'static str, &'static str)]),
    /// Any of a fixed list, as boxes to tick (`name[]`).
    Checks(&'static [(&'static str, &'static str)]),
    /// One of the case's registers (a register holder: only those of their own CPUA).
    Register,
    /// One of the case's CPUAs (CPUA staff: their own).
    Cpua,
    /// Obligations in force that the rulebook lets CPUA legal waive.
    Waivable,
    /// Obligations not in force, that CPUA legal may add.
    Addable,
}

/// One field of a command's form.
pub struct F {
    /// Where the value goes in the input's JSON (`dossier.requested_data`).
    pub name: &'static str,
    pub kind: K,
    pub label: &'static str,
    /// A hint key, or "".
    pub hint: &'static str,
    pub required: bool,
}

const fn f(name: &'static str, kind: K, label: &'static str) -> F {
    F {
        name,
        kind,
        label,
        hint: "",
        required: true,
    }
}

const fn opt(name: &'static str, kind: K, label: &'static str) -> F {
    F {
        name,
        kind,
        label,
        hint: "",
        required: false,
    }
}

const fn hinted(name: &'static str, kind: K, label: &'static str, hint: &'static str) -> F {
    F {
        name,
        kind,
        label,
        hint,
        required: false,
    }
}

/// One command's form.
pub struct Spec {
    pub code: &'static str,
    /// `decision` (grouped as a decision) or `fields` (the fields in order).
    pub family: &'static str,
    pub title: &'static str,
    /// What the form is for, in plain words (a key, or "").
    pub intro: &'static str,
    /// Whether the input takes `acknowledge` (the "bör" warnings passed with a reason).
    pub acks: bool,
    pub fields: &'static [F],
}

const OUTCOMES: &[(&str, &str)] = &[
    ("approved", "case.o.approved"),
    (
        "approved_with_conditions",
        "case.o.approved_with_conditions",
    ),
    ("refused", "case.o.refused"),
];
const GROUNDS: &[(&str, &str)] = &[
    ("harm_to_individual", "case.ground.harm_to_individual"),
    (
        "outside_ethics_approval",
        "case.ground.outside_ethics_approval",
    ),
    (
        "variables_not_motivated",
        "case.ground.variables_not_motivated",
    ),
    (
        "identity_numbers_not_justified",
        "case.ground.identity_numbers_not_justified",
    ),
    (
        "third_country_transfer",
        "case.ground.third_country_transfer",
    ),
    (
        "no_patient_information_or_consent",
        "case.ground.no_patient_information_or_consent",
    ),
    (
        "reservation_not_accepted",
        "case.ground.reservation_not_accepted",
    ),
];
const TRANSFER: &[(&str, &str)] = &[
    ("encrypted_file", "case.o.encrypted_file"),
    ("tls", "case.o.tls"),
    (
        "encrypted_media_registered_mail",
        "case.o.encrypted_media_registered_mail",
    ),
];
const APPEAL: &[(&str, &str)] = &[
    ("upheld", "case.o.upheld"),
    ("overturned", "case.o.overturned"),
];
const BASIS: &[(&str, &str)] = &[
    ("adequacy_decision", "case.o.adequacy_decision"),
    (
        "standard_contractual_clauses",
        "case.o.standard_contractual_clauses",
    ),
    ("binding_corporate_rules", "case.o.binding_corporate_rules"),
    ("derogation", "case.o.derogation"),
];
const AUTHORITY: &[(&str, &str)] = &[
    ("socialstyrelsen", "case.o.socialstyrelsen"),
    ("scb", "case.o.scb"),
    ("forsakringskassan", "case.o.forsakringskassan"),
    ("other_register", "case.o.other_register"),
];
const DISPOSITION: &[(&str, &str)] = &[
    ("archived", "case.o.archived"),
    ("deleted", "case.o.deleted"),
];
const TYPES: &[(&str, &str)] = &[
    ("statistics", "case.type.statistics"),
    ("commissioned-analysis", "case.type.commissioned-analysis"),
    (
        "research-public-principal",
        "case.type.research-public-principal",
    ),
    (
        "research-company-principal",
        "case.type.research-company-principal",
    ),
    ("regulatory-follow-up", "case.type.regulatory-follow-up"),
    ("register-development", "case.type.register-development"),
];
const RECOMMEND: &[(&str, &str)] = OUTCOMES;

/// The decision's fields, as the transition names them (seed 002, "Sammanfattningsvis …": an approval
/// records the findings; seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)":
/// a refusal gives its grounds, and research quality or another project is never one).
macro_rules! decision_fields {
    ($p:literal) => {
        &[
            f("cpua", K::Cpua, "case.f.cpua"),
            f(
                concat!($p, "outcome"),
                K::Radios(OUTCOMES),
                "case.f.outcome",
            ),
            opt(
                concat!($p, "findings.need_for_data"),
                K::Check,
                "case.f.need_for_data",
            ),
            opt(
                concat!($p, "findings.within_ethics_approval"),
                K::Check,
                "case.f.within_ethics_approval",
            ),
            opt(
                concat!($p, "findings.no_risk_of_harm"),
                K::Check,
                "case.f.no_risk_of_harm",
            ),
            opt(
                concat!($p, "findings.identity_numbers_necessary"),
                K::Check,
                "case.f.identity_numbers_necessary",
            ),
            hinted(
                concat!($p, "conditions"),
                K::Area,
                "case.f.conditions",
                "case.hint.conditions",
            ),
            hinted(
                concat!($p, "reasons"),
                K::Area,
                "case.f.reasons",
                "case.hint.reasons",
            ),
            opt(concat!($p, "grounds"), K::Checks(GROUNDS), "case.f.grounds"),
            hinted(
                concat!($p, "dpo_consulted_on"),
                K::Date,
                "case.f.dpo_consulted_on",
                "case.hint.dpo_consulted_on",
            ),
            opt(
                concat!($p, "reference"),
                K::Text,
                "case.f.decision_reference",
            ),
        ]
    };
}

macro_rules! release_fields {
    ($p:literal) => {
        &[
            f("cpua", K::Cpua, "case.f.cpua"),
            f(concat!($p, "released_on"), K::Date, "case.f.released_on"),
            f(
                concat!($p, "transfer_method"),
                K::Radios(TRANSFER),
                "case.f.transfer_method",
            ),
            hinted(
                concat!($p, "password_sent_separately"),
                K::Check,
                "case.f.password_sent_separately",
                "case.hint.password_sent_separately",
            ),
            hinted(
                concat!($p, "key_deletion_on"),
                K::Date,
                "case.f.key_deletion_on",
                "case.hint.key_deletion_on",
            ),
            opt(
                concat!($p, "extended_retention_justification"),
                K::Area,
                "case.f.extended_retention_justification",
            ),
        ]
    };
}

const ETHICS: &[F] = &[
    f("reference", K::Text, "case.f.ethics_reference"),
    f("decided_on", K::Date, "case.f.decided_on"),
    hinted(
        "key_retention_months",
        K::Int,
        "case.f.key_retention_months",
        "case.hint.key_retention_months",
    ),
];

const AGREEMENT: &[F] = &[
    f("version", K::Int, "case.f.agreement_version"),
    hinted("digest", K::Text, "case.f.digest", "case.hint.digest"),
    f("signed_on", K::Date, "case.f.signed_on"),
];

/// Every command the page has a form for, in the API's names.
pub const SPECS: &[Spec] = &[
    Spec {
        code: "register_contact",
        family: "fields",
        title: "case.cmd.register_contact",
        intro: "case.intro.register_contact",
        acks: false,
        fields: &[],
    },
    Spec {
        code: "record_feasibility",
        family: "fields",
        title: "case.cmd.record_feasibility",
        // Seed 001, "2. Kontakt med registerhållare": can the register deliver, roughly when and at
        // what cost.
        intro: "case.intro.record_feasibility",
        acks: false,
        fields: &[
            f("register", K::Register, "case.f.register"),
            f("feasible", K::YesNo, "case.f.feasible"),
            opt("estimated_weeks", K::Int, "case.f.estimated_weeks"),
            hinted(
                "estimated_cost_ore",
                K::Kr,
                "case.f.estimated_cost",
                "case.hint.kronor",
            ),
            hinted(
                "extraction_charged",
                K::Check,
                "case.f.extraction_charged",
                "case.hint.extraction_charged",
            ),
            opt("agrees_on_type", K::YesNo, "case.f.agrees_on_type"),
            opt("comment", K::Area, "case.f.comment"),
        ],
    },
    Spec {
        code: "ethics_review",
        family: "fields",
        title: "case.cmd.ethics_review",
        intro: "case.intro.ethics_review",
        acks: true,
        fields: &[],
    },
    Spec {
        code: "record_ethics_approval",
        family: "fields",
        title: "case.cmd.record_ethics_approval",
        intro: "case.intro.record_ethics_approval",
        acks: false,
        fields: ETHICS,
    },
    Spec {
        code: "data_application",
        family: "fields",
        title: "case.cmd.data_application",
        // Seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)": the five
        // items the confidentiality review needs.
        intro: "case.intro.data_application",
        acks: true,
        fields: &[
            f("cpua", K::Cpua, "case.f.cpua"),
            opt(
                "dossier.recipient_principal",
                K::Text,
                "case.f.recipient_principal",
            ),
            opt(
                "dossier.project_description",
                K::Area,
                "case.f.project_description",
            ),
            opt(
                "dossier.ethics_documents",
                K::Area,
                "case.f.ethics_documents",
            ),
            hinted(
                "dossier.requested_data",
                K::Lines,
                "case.f.requested_data",
                "case.hint.lines",
            ),
            opt(
                "dossier.access_and_storage",
                K::Area,
                "case.f.access_and_storage",
            ),
        ],
    },
    Spec {
        code: "recommend_decision",
        family: "fields",
        title: "case.cmd.recommend_decision",
        intro: "case.intro.recommend_decision",
        acks: false,
        fields: &[
            f("cpua", K::Cpua, "case.f.cpua"),
            f("outcome", K::Radios(RECOMMEND), "case.f.outcome"),
            f("text", K::Area, "case.f.recommendation"),
        ],
    },
    Spec {
        code: "release_decision",
        family: "decision",
        title: "case.cmd.release_decision",
        intro: "case.intro.release_decision",
        acks: true,
        fields: decision_fields!(""),
    },
    Spec {
        code: "reconsider_decision",
        family: "decision",
        title: "case.cmd.reconsider_decision",
        intro: "case.intro.reconsider_decision",
        acks: true,
        fields: decision_fields!("decision."),
    },
    Spec {
        code: "record_appeal_outcome",
        family: "fields",
        title: "case.cmd.record_appeal_outcome",
        intro: "",
        acks: false,
        fields: &[
            f("cpua", K::Cpua, "case.f.cpua"),
            f("court", K::Text, "case.f.court"),
            f("ruled_on", K::Date, "case.f.ruled_on"),
            f("reference", K::Text, "case.f.reference"),
            f("outcome", K::Radios(APPEAL), "case.f.appeal_outcome"),
        ],
    },
    Spec {
        code: "record_cost_agreement",
        family: "fields",
        title: "case.cmd.record_cost_agreement",
        // Seed 000, "Ersättning för datauttag för forskning": agreed in writing before release.
        intro: "case.intro.record_cost_agreement",
        // A total far from the register holder's estimate is a "bör" (domain::billing::cost).
        acks: true,
        fields: &[
            f("reference", K::Text, "case.f.reference"),
            f("signed_on", K::Date, "case.f.signed_on"),
            F {
                hint: "case.hint.kronor",
                ..f("estimate_ore", K::Kr, "case.f.estimate")
            },
            hinted(
                "hourly_rate_ore",
                K::Kr,
                "case.f.hourly_rate",
                "case.hint.kronor",
            ),
            hinted(
                "expenses_ore",
                K::Kr,
                "case.f.cost_expenses",
                "case.hint.kronor",
            ),
            hinted(
                "ceiling_ore",
                K::Kr,
                "case.f.cost_ceiling",
                "case.hint.kronor",
            ),
        ],
    },
    Spec {
        code: "record_data_processing_agreement",
        family: "fields",
        title: "case.cmd.record_data_processing_agreement",
        intro: "",
        acks: false,
        fields: &[
            f("processor", K::Text, "case.f.processor"),
            f("reference", K::Text, "case.f.reference"),
            f("signed_on", K::Date, "case.f.signed_on"),
        ],
    },
    Spec {
        code: "record_third_country_assessment",
        family: "fields",
        title: "case.cmd.record_third_country_assessment",
        intro: "",
        acks: false,
        fields: &[
            f("permitted", K::YesNo, "case.f.permitted"),
            opt("basis", K::Select(BASIS), "case.f.basis"),
            f("reasons", K::Area, "case.f.assessment"),
        ],
    },
    Spec {
        code: "record_identity_number_justification",
        family: "fields",
        title: "case.cmd.record_identity_number_justification",
        intro: "",
        acks: false,
        fields: &[
            f("justification", K::Area, "case.f.justification"),
            opt(
                "stated_in_ethics_application",
                K::Check,
                "case.f.stated_in_ethics_application",
            ),
        ],
    },
    Spec {
        code: "record_coordination",
        family: "fields",
        title: "case.cmd.record_coordination",
        intro: "",
        acks: false,
        fields: &[
            f("key_custodian", K::Cpua, "case.f.key_custodian"),
            hinted(
                "linkage_responsible",
                K::Text,
                "case.f.linkage_responsible",
                "case.hint.linkage_responsible",
            ),
            opt("note", K::Area, "case.f.note"),
        ],
    },
    Spec {
        code: "record_retrospective_consent",
        family: "fields",
        title: "case.cmd.record_retrospective_consent",
        intro: "",
        acks: false,
        fields: &[
            f("register", K::Register, "case.f.register"),
            f("description", K::Area, "case.f.description"),
            f("obtained_on", K::Date, "case.f.obtained_on"),
        ],
    },
    Spec {
        code: "record_linkage_application",
        family: "fields",
        title: "case.cmd.record_linkage_application",
        intro: "",
        acks: false,
        fields: &[
            f("authority", K::Select(AUTHORITY), "case.f.authority"),
            f("applied_on", K::Date, "case.f.applied_on"),
            opt("reference", K::Text, "case.f.reference"),
        ],
    },
    Spec {
        code: "record_linkage_decision",
        family: "fields",
        title: "case.cmd.record_linkage_decision",
        intro: "",
        acks: false,
        fields: &[
            f("authority", K::Select(AUTHORITY), "case.f.authority"),
            f("approved", K::YesNo, "case.f.approved"),
            f("decided_on", K::Date, "case.f.decided_on"),
            f("reference", K::Text, "case.f.reference"),
        ],
    },
    Spec {
        code: "agreement",
        family: "fields",
        title: "case.cmd.agreement",
        intro: "case.intro.agreement",
        acks: false,
        fields: AGREEMENT,
    },
    Spec {
        code: "data_release",
        family: "fields",
        title: "case.cmd.data_release",
        intro: "case.intro.data_release",
        acks: false,
        fields: release_fields!(""),
    },
    Spec {
        code: "record_publication",
        family: "fields",
        title: "case.cmd.record_publication",
        intro: "",
        acks: false,
        fields: &[
            f("title", K::Text, "case.f.publication_title"),
            f("journal", K::Text, "case.f.journal"),
            opt("doi", K::Text, "case.f.doi"),
            f("published_on", K::Date, "case.f.published_on"),
        ],
    },
    Spec {
        code: "record_report_back",
        family: "fields",
        title: "case.cmd.record_report_back",
        intro: "",
        acks: false,
        fields: &[
            f("reported_on", K::Date, "case.f.reported_on"),
            f("summary", K::Area, "case.f.summary"),
        ],
    },
    Spec {
        code: "results",
        family: "fields",
        title: "case.cmd.results",
        intro: "",
        acks: false,
        fields: &[],
    },
    Spec {
        code: "archiving",
        family: "fields",
        title: "case.cmd.archiving",
        intro: "",
        acks: false,
        fields: &[],
    },
    Spec {
        code: "confirm_disposal",
        family: "fields",
        title: "case.cmd.confirm_disposal",
        intro: "",
        acks: false,
        fields: &[
            f("disposition", K::Radios(DISPOSITION), "case.f.disposition"),
            f("confirmed_on", K::Date, "case.f.confirmed_on"),
            f("confirmed_by_name", K::Text, "case.f.confirmed_by_name"),
            f("statement", K::Area, "case.f.statement"),
        ],
    },
    Spec {
        code: "record_key_file_deleted",
        family: "fields",
        title: "case.cmd.record_key_file_deleted",
        intro: "",
        acks: false,
        fields: &[
            f("cpua", K::Cpua, "case.f.cpua"),
            f("deleted_on", K::Date, "case.f.deleted_on"),
        ],
    },
    Spec {
        code: "closed",
        family: "fields",
        title: "case.cmd.closed",
        intro: "",
        acks: false,
        fields: &[],
    },
    Spec {
        code: "withdrawn",
        family: "fields",
        title: "case.cmd.withdrawn",
        intro: "case.intro.withdrawn",
        acks: false,
        fields: &[f("reason", K::Area, "case.f.withdraw_reason")],
    },
    Spec {
        code: "open_amendment",
        family: "fields",
        title: "case.cmd.open_amendment",
        intro: "case.intro.open_amendment",
        acks: false,
        fields: &[
            f("research_question", K::Area, "case.f.research_question"),
            f("reason", K::Area, "case.f.amendment_reason"),
        ],
    },
    Spec {
        code: "record_amendment_ethics",
        family: "fields",
        title: "case.cmd.record_amendment_ethics",
        intro: "",
        acks: false,
        fields: ETHICS,
    },
    Spec {
        code: "submit_amendment_application",
        family: "fields",
        title: "case.cmd.submit_amendment_application",
        intro: "",
        acks: false,
        fields: &[],
    },
    Spec {
        code: "decide_amendment",
        family: "decision",
        title: "case.cmd.decide_amendment",
        intro: "",
        acks: true,
        fields: decision_fields!("decision."),
    },
    Spec {
        code: "record_amendment_agreement",
        family: "fields",
        title: "case.cmd.record_amendment_agreement",
        intro: "",
        acks: false,
        fields: AGREEMENT,
    },
    Spec {
        code: "release_amendment_data",
        family: "fields",
        title: "case.cmd.release_amendment_data",
        intro: "",
        acks: false,
        fields: release_fields!("release."),
    },
    Spec {
        code: "add_internal_note",
        family: "fields",
        title: "case.cmd.add_internal_note",
        intro: "case.intro.add_internal_note",
        acks: false,
        fields: &[f("text", K::Area, "case.f.note_text")],
    },
    Spec {
        code: "override_classification",
        family: "fields",
        title: "case.cmd.override_classification",
        // DOMAIN.md, "How strongly each rule binds": a "ska" is never waivable.
        intro: "case.intro.override_classification",
        acks: false,
        fields: &[
            opt("type", K::Select(TYPES), "case.f.type"),
            opt("add", K::Addable, "case.f.add"),
            opt("waive", K::Waivable, "case.f.waive"),
            f("reason", K::Area, "case.f.override_reason"),
        ],
    },
];

/// The form of a command, if the page has one.
pub fn spec(code: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.code == code)
}

/// What the case's events are called besides the commands of the forms.
const EVENTS: &[(&str, &str)] = &[
    ("collaboration_created", "case.event.collaboration_created"),
    (
        "classification_changed",
        "case.event.classification_changed",
    ),
    (
        "agreement_version_created",
        "case.event.agreement_version_created",
    ),
    (
        "agreement_deviation_added",
        "case.event.agreement_deviation_added",
    ),
    ("update_details", "case.event.update_details"),
];

/// A command's (or an event's) name for people: its form's title, else the code itself.
pub fn command_title(lang: Lang, code: &str) -> String {
    match (spec(code), EVENTS.iter().find(|(c, _)| *c == code)) {
        (Some(s), _) => text::t(lang, s.title),
        (None, Some((_, key))) => text::t(lang, key),
        (None, None) => code.to_string(),
    }
}

/// A missing item of a refusal in words, and where it is supplied: the field and the form it is
/// entered in (`dossier.access_and_storage` → "Who has access … – Apply for data"), or the command
/// that supplies it (`agreement` → "Record the signed agreement"); else as the server names it.
pub fn missing_text(lang: Lang, missing: &str) -> String {
    for s in SPECS {
        if let Some(fd) = s.fields.iter().find(|fd| fd.name == missing) {
            return text::t_with(
                lang,
                "case.missing_in",
                &[
                    ("item", text::t(lang, fd.label)),
                    ("form", text::t(lang, s.title)),
                ],
            );
        }
    }
    if let Some(s) = spec(missing) {
        return text::t(lang, s.title);
    }
    // `step a or b`: the steps the command belongs to.
    if let Some(steps) = missing.strip_prefix("step ") {
        let names: Vec<String> = steps
            .split(" or ")
            .map(|c| text::t(lang, &format!("common.step.{}", c.trim())))
            .collect();
        return text::t_with(
            lang,
            "case.missing_step",
            &[(
                "steps",
                names.join(&format!(" {} ", text::t(lang, "case.or"))),
            )],
        );
    }
    if missing == "ethics" {
        return text::t(lang, "case.cmd.record_ethics_approval");
    }
    // Issue 12: the lifecycle names a CPUA's pending decision in English (`decision by <CPUA>`).
    if let Some(cpua) = missing.strip_prefix("decision by ") {
        return text::t_with(
            lang,
            "casework.missing_decision_by",
            &[("cpua", cpua.to_string())],
        );
    }
    // The evidence items an obligation waits for (src/domain/lifecycle/obligations.rs), in words.
    let key = format!("case.missing_item.{}", missing_key(missing));
    if text::texts().sv.contains_key(&key) {
        return text::t(lang, &key);
    }
    missing.to_string()
}

/// The catalogue key of a missing evidence item: dots as `_`, and a linkage target's decision
/// (`linkage.<target>.decision`) as one key for every target.
fn missing_key(missing: &str) -> String {
    match missing.strip_prefix("linkage.") {
        Some(rest) if rest.ends_with(".decision") => "linkage_decision".into(),
        _ => missing.replace('.', "_"),
    }
}

// ---------- what the page knows to fill the forms ----------

/// A register of the case, with its current CPUA.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRegister {
    pub id: String,
    pub name: String,
    pub cpua: Option<String>,
    pub cpua_name: Option<String>,
}

/// What the forms choose from besides the fixed lists.
pub struct Choices<'a> {
    pub actor: &'a Actor,
    pub registers: &'a [CaseRegister],
    pub view: &'a Value,
    /// The newest agreement version: (number, digest), to fill the agreement form.
    pub latest_agreement: Option<(i32, String)>,
    /// The rulebook's name of each obligation, in the page's language.
    pub obligation_labels: BTreeMap<String, String>,
}

/// The obligations' names in the rulebook the case was classified by (else the newest).
pub fn obligation_labels(
    rulebooks: &crate::domain::classification::RulebookSet,
    view: &Value,
    lang: Lang,
) -> BTreeMap<String, String> {
    let version = view
        .pointer("/collaboration/classification/result/rulebook_version")
        .and_then(Value::as_str);
    let book = version
        .and_then(|v| rulebooks.by_version(v))
        .or_else(|| rulebooks.latest());
    let Some(book) = book else {
        return BTreeMap::new();
    };
    crate::domain::classification::ObligationCode::ALL
        .iter()
        .filter_map(|c| book.obligation_info(*c))
        .map(|i| {
            let label = match lang {
                Lang::Sv => i.label_sv,
                Lang::En => i.label_en,
            };
            (i.code.as_str().to_string(), label.to_string())
        })
        .collect()
}

// ---------- the forms as the page shows them ----------

#[derive(Debug, Clone, Serialize)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
    pub id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// The form field's name (`estimated_cost_ore:kr`, `grounds[]`).
    pub name: String,
    pub id: String,
    pub label: String,
    pub hint: String,
    pub hint_id: String,
    /// `text`, `textarea`, `date`, `number`, `checkbox`, `radios`, `select`, `checkboxes`, `fixed`
    /// (a value the page fills: shown, sent hidden), `none` (a list with nothing to choose).
    pub kind: &'static str,
    pub value: String,
    /// What a `fixed` field shows.
    pub shown: String,
    pub checked: bool,
    pub options: Vec<Opt>,
    pub error: String,
    pub error_id: String,
    pub required: bool,
    /// `aria-describedby`: the hint and the message.
    pub describedby: String,
    /// The first choice of a drop-down, when none is chosen.
    pub placeholder: String,
}

/// A "bör" warning at a form, with the field its reason goes in.
#[derive(Debug, Clone, Serialize)]
pub struct AckField {
    pub code: String,
    pub message: String,
    pub source: String,
    pub code_name: String,
    pub reason: Field,
}

/// A command the actor may give now, as a form.
#[derive(Debug, Clone, Serialize)]
pub struct CommandForm {
    pub command: String,
    pub kind: String,
    pub family: &'static str,
    pub title: String,
    pub intro: String,
    pub id: String,
    /// The fields in order, and by their last name (for a family that groups them).
    pub list: Vec<Field>,
    pub fields: BTreeMap<String, Field>,
    pub warnings: Vec<AckField>,
    pub prompts: Vec<String>,
    pub posted: bool,
    pub errors: FormErrors,
}

/// A command the server would refuse now: why, what is missing, where to supply it.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub command: String,
    pub title: String,
    pub reason: String,
    pub missing: Vec<String>,
    pub obligations: Vec<String>,
    pub source: String,
}

/// The form posted and refused: what was entered and the errors.
pub struct Posted {
    pub command: String,
    pub entered: Entered,
    pub errors: FormErrors,
    /// "Bör" warnings the refusal named: (code, message, source).
    pub warnings: Vec<(String, String, String)>,
}

fn s<'v>(v: &'v Value, k: &str) -> &'v str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn source_text(v: Option<&Value>) -> String {
    match v {
        Some(src) if src.is_object() => {
            format!("{}, {}", s(src, "title"), s(src, "section"))
        }
        _ => String::new(),
    }
}

fn bilingual(v: Option<&Value>, lang: Lang) -> String {
    v.map(|r| s(r, lang.code()).to_string()).unwrap_or_default()
}

fn by_lang<'v>(v: &'v Value, sv: &str, en: &str, lang: Lang) -> &'v str {
    s(
        v,
        match lang {
            Lang::Sv => sv,
            Lang::En => en,
        },
    )
}

/// The field's key: where its value and its errors are found (the name without a kind).
fn key_of(f: &F) -> &'static str {
    f.name
}

/// The short name a family reaches a field by (`findings.need_for_data` → `need_for_data`).
fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Whether an error of the API names this field (`grounds[0]` names `grounds`; the decision's own
/// checks name `reasons` where the input says `decision.reasons`).
fn names_field(error_field: &str, key: &str) -> bool {
    let plain = ["decision.", "release."]
        .iter()
        .find_map(|p| key.strip_prefix(p))
        .unwrap_or(key);
    [key, plain].iter().any(|k| {
        error_field == *k
            || error_field
                .strip_prefix(k)
                .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.') && !k.is_empty())
    })
}

fn options(lang: Lang, list: &[(&str, &str)], chosen: &dyn Fn(&str) -> bool, id: &str) -> Vec<Opt> {
    list.iter()
        .map(|(v, k)| Opt {
            value: v.to_string(),
            label: text::t(lang, k),
            selected: chosen(v),
            id: format!("{id}-{v}"),
        })
        .collect()
}

/// The CPUAs the case's registers belong to, each once.
fn case_cpuas(registers: &[CaseRegister]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in registers {
        if let (Some(id), Some(name)) = (&r.cpua, &r.cpua_name) {
            if !out.iter().any(|(o, _)| o == id) {
                out.push((id.clone(), name.clone()));
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn build_field(
    lang: Lang,
    spec: &Spec,
    fd: &F,
    ch: &Choices,
    entered: Option<&Entered>,
    errors: &mut FormErrors,
    posted: bool,
) -> Field {
    let key = key_of(fd);
    let id = if posted {
        anchor(key)
    } else {
        format!("{}-{}", spec.code, anchor(key))
    };
    let (kind, name) = match fd.kind {
        K::Text => ("text", key.to_string()),
        K::Area | K::Lines => ("textarea", key.to_string()),
        K::Date => ("date", key.to_string()),
        K::Int => ("number", key.to_string()),
        // Kronor as people write them ("12 500"), so not a number field.
        K::Kr => ("text", key.to_string()),
        K::Check => ("checkbox", format!("{key}:bool")),
        K::YesNo | K::Radios(_) => ("radios", key.to_string()),
        K::Select(_) | K::Register | K::Cpua => ("select", key.to_string()),
        K::Checks(_) | K::Waivable | K::Addable => ("checkboxes", format!("{key}[]")),
    };
    let name = match fd.kind {
        K::Int => format!("{key}:int"),
        K::Kr => format!("{key}:kr"),
        K::Lines => format!("{key}:lines"),
        K::YesNo => format!("{key}:bool"),
        _ => name,
    };
    // What was entered is kept by the name without `:kind` and `[]` (`:kr` is the page's own).
    let entered_key = match fd.kind {
        K::Kr => format!("{key}:kr"),
        _ => key.to_string(),
    };
    let mut value = entered.map(|e| e.value(&entered_key)).unwrap_or_default();
    let has = |v: &str| entered.is_some_and(|e| e.has(&entered_key, v));
    let mut kind = kind;
    let mut shown = String::new();
    let mut opts: Vec<Opt> = Vec::new();
    match fd.kind {
        K::YesNo => {
            opts = options(
                lang,
                &[("true", "case.o.yes"), ("false", "case.o.no")],
                &has,
                &id,
            );
        }
        K::Radios(list) | K::Select(list) | K::Checks(list) => {
            opts = options(lang, list, &has, &id);
        }
        K::Register => {
            let mine: Vec<&CaseRegister> = ch
                .registers
                .iter()
                .filter(|r| {
                    !ch.actor.role.is_cpua_staff()
                        || r.cpua.as_deref() == Some(ch.actor.org.as_str())
                })
                .collect();
            opts = mine
                .iter()
                .map(|r| Opt {
                    value: r.id.clone(),
                    label: r.name.clone(),
                    selected: has(&r.id),
                    id: format!("{id}-{}", r.id),
                })
                .collect();
        }
        K::Cpua => {
            let all = case_cpuas(ch.registers);
            let own = ch.actor.org.as_str();
            if ch.actor.role.is_cpua_staff() && key == "cpua" {
                // CPUA staff act on their own track.
                kind = "fixed";
                value = own.to_string();
                shown = all
                    .iter()
                    .find(|(o, _)| o == own)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_else(|| own.to_string());
            } else {
                opts = all
                    .iter()
                    .map(|(o, n)| Opt {
                        value: o.clone(),
                        label: n.clone(),
                        selected: has(o),
                        id: format!("{id}-{o}"),
                    })
                    .collect();
            }
        }
        K::Waivable | K::Addable => {
            let in_force: Vec<&Value> = ch
                .view
                .get("obligations")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let list: Vec<(String, String)> = match fd.kind {
                K::Waivable => in_force
                    .iter()
                    .filter(|o| o.get("waivable").and_then(Value::as_bool) == Some(true))
                    .map(|o| {
                        (
                            s(o, "code").to_string(),
                            by_lang(o, "label_sv", "label_en", lang).to_string(),
                        )
                    })
                    .collect(),
                _ => crate::domain::classification::ObligationCode::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .filter(|c| !in_force.iter().any(|o| s(o, "code") == *c))
                    .filter_map(|c| {
                        // Only what the rulebook declares may be added.
                        ch.obligation_labels
                            .get(c)
                            .map(|l| (c.to_string(), l.clone()))
                    })
                    .collect(),
            };
            opts = list
                .into_iter()
                .map(|(v, label)| Opt {
                    selected: has(&v),
                    id: format!("{id}-{v}"),
                    value: v,
                    label,
                })
                .collect();
            if opts.is_empty() {
                kind = "none";
            }
        }
        _ => {}
    }
    if matches!(spec.code, "agreement" | "record_amendment_agreement") && entered.is_none() {
        if let Some((n, digest)) = &ch.latest_agreement {
            match key {
                "version" => value = n.to_string(),
                "digest" => value = digest.clone(),
                _ => {}
            }
        }
    }
    let checked = matches!(fd.kind, K::Check) && entered.is_some_and(|e| !e.value(key).is_empty());
    let mut error = String::new();
    let error_id = format!("{id}-error");
    for m in errors.fields.iter_mut() {
        if names_field(&m.field, key) {
            if error.is_empty() {
                error = m.message.clone();
            } else if !error.contains(&m.message) {
                error = format!("{error} {}", m.message);
            }
            // The summary's link leads to this field.
            m.anchor = id.clone();
        }
    }
    let hint = if fd.hint.is_empty() {
        String::new()
    } else {
        text::t(lang, fd.hint)
    };
    let hint_id = format!("{id}-hint");
    let describedby = [
        (!hint.is_empty()).then(|| hint_id.clone()),
        (!error.is_empty()).then(|| error_id.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    Field {
        name,
        id,
        label: text::t(lang, fd.label),
        hint,
        hint_id,
        kind,
        value,
        shown,
        checked,
        options: opts,
        error,
        error_id,
        required: fd.required,
        describedby,
        placeholder: text::t(lang, "case.choose"),
    }
}

/// The view's `next` list: a form for each command allowed now, the reason for each refused one.
pub fn forms(
    lang: Lang,
    ch: &Choices,
    posted: Option<&Posted>,
) -> (Vec<CommandForm>, Vec<Refused>) {
    let mut allowed = Vec::new();
    let mut refused = Vec::new();
    let next = ch
        .view
        .get("next")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for n in &next {
        let code = s(n, "command");
        let Some(spec) = spec(code) else {
            // Details are changed on the intake pages (a PATCH, not a command of this page).
            continue;
        };
        if n.get("allowed").and_then(Value::as_bool) != Some(true) {
            let (label, evidence) = match lang {
                Lang::Sv => ("label_sv", "evidence_sv"),
                Lang::En => ("label_en", "evidence_en"),
            };
            refused.push(Refused {
                command: code.to_string(),
                title: text::t(lang, spec.title),
                reason: bilingual(n.get("reason"), lang),
                missing: strings(n.get("missing"))
                    .iter()
                    .map(|m| missing_text(lang, m))
                    .collect(),
                obligations: n
                    .get("obligations")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|o| format!("{}: {}", s(o, label), s(o, evidence)))
                            .collect()
                    })
                    .unwrap_or_default(),
                source: source_text(n.get("source")),
            });
            continue;
        }
        let this = posted.filter(|p| p.command == code);
        let mut errors = this.map(|p| p.errors.clone()).unwrap_or_default();
        let entered = this.map(|p| &p.entered);
        let list: Vec<Field> = spec
            .fields
            .iter()
            .map(|fd| build_field(lang, spec, fd, ch, entered, &mut errors, this.is_some()))
            .collect();
        // The "bör" warnings of `next`, and those the refusal of the posted form named.
        let mut warns: Vec<(String, String, String)> = n
            .get("warnings")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|w| {
                        (
                            s(w, "code").to_string(),
                            by_lang(w, "message_sv", "message_en", lang).to_string(),
                            source_text(w.get("source")),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if let Some(p) = this {
            for w in &p.warnings {
                if !warns.iter().any(|(c, _, _)| c == &w.0) {
                    warns.push(w.clone());
                }
            }
        }
        let id = format!("cmd-{code}");
        let warnings = if spec.acks {
            warns
                .into_iter()
                .enumerate()
                .map(|(i, (wcode, message, source))| {
                    let key = format!("acknowledge[{i}].reason");
                    let fid = if this.is_some() {
                        anchor(&key)
                    } else {
                        format!("{code}-{}", anchor(&key))
                    };
                    let mut error = String::new();
                    for m in errors.fields.iter_mut() {
                        if m.field == key || m.field == format!("acknowledge[{i}]") {
                            error = m.message.clone();
                            m.anchor = fid.clone();
                        }
                    }
                    // A warning the refusal names is not passed yet: say so at its field.
                    if error.is_empty()
                        && this.is_some_and(|p| p.warnings.iter().any(|w| w.0 == wcode))
                    {
                        error = text::t(lang, "case.ack_needed");
                    }
                    let value = entered.map(|e| e.value(&key)).unwrap_or_default();
                    let error_id = format!("{fid}-error");
                    let hint_id = format!("{fid}-hint");
                    AckField {
                        code_name: format!("acknowledge[{i}].code"),
                        code: wcode,
                        message,
                        source,
                        reason: Field {
                            name: key,
                            label: text::t(lang, "case.ack_reason"),
                            // The warning itself, shown above the field, describes it.
                            hint: String::new(),
                            describedby: if error.is_empty() {
                                hint_id.clone()
                            } else {
                                format!("{hint_id} {error_id}")
                            },
                            hint_id,
                            id: fid,
                            kind: "textarea",
                            value,
                            shown: String::new(),
                            checked: false,
                            options: vec![],
                            error,
                            error_id,
                            required: true,
                            placeholder: String::new(),
                        },
                    }
                })
                .collect()
        } else {
            vec![]
        };
        let prompts = n
            .get("prompts")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|w| by_lang(w, "message_sv", "message_en", lang).to_string())
                    .collect()
            })
            .unwrap_or_default();
        allowed.push(CommandForm {
            command: code.to_string(),
            kind: s(n, "kind").to_string(),
            family: spec.family,
            title: text::t(lang, spec.title),
            intro: if spec.intro.is_empty() {
                String::new()
            } else {
                text::t(lang, spec.intro)
            },
            id,
            fields: list
                .iter()
                .map(|fl| (short(&fl.name_key()).to_string(), fl.clone()))
                .collect(),
            list,
            warnings,
            prompts,
            posted: this.is_some(),
            errors,
        });
    }
    (allowed, refused)
}

impl Field {
    /// The field's name without the form's kind marks.
    fn name_key(&self) -> String {
        let n = self.name.trim_end_matches("[]");
        n.split(':').next().unwrap_or(n).to_string()
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

// ---------- the POST ----------

/// Kronor as people write them (`12 500`, `12500,50`, `12 500 kr`) in öre; `None` when it is not an
/// amount.
pub fn kronor_to_ore(s: &str) -> Option<i64> {
    let t: String = s
        .trim()
        .trim_end_matches("kr")
        .trim_start_matches("SEK")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect();
    if t.is_empty() {
        return None;
    }
    let t = t.replace(',', ".");
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t.as_str(), ""),
    };
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let kr: i64 = whole.parse().ok()?;
    let ore: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    kr.checked_mul(100)?.checked_add(ore)
}

/// The form's fields as the API's input: amounts in kronor as öre, an acknowledgement left without
/// a reason left out (the command then names the warning it still waits for).
pub fn input_pairs(form: &Form) -> Vec<(String, String)> {
    let empty_acks: Vec<String> = form
        .0
        .iter()
        .filter(|(k, v)| {
            k.starts_with("acknowledge[") && k.ends_with("].reason") && v.trim().is_empty()
        })
        .map(|(k, _)| k.trim_end_matches(".reason").to_string())
        .collect();
    form.0
        .iter()
        .filter(|(k, _)| !empty_acks.iter().any(|a| k.starts_with(a.as_str())))
        .map(|(k, v)| match k.strip_suffix(":kr") {
            Some(base) => (
                format!("{base}:int"),
                kronor_to_ore(v)
                    .map(|o| o.to_string())
                    .unwrap_or_else(|| v.clone()),
            ),
            None => (k.clone(), v.clone()),
        })
        .collect()
}

/// The command a form sends, read with the API's own input types.
pub fn command_of(form: &Form) -> Result<CommandInput, AppError> {
    let command = form.get("_command").unwrap_or_default().to_string();
    let mut json = super::form::to_json(&input_pairs(form));
    let Some(obj) = json.as_object_mut() else {
        return Err(AppError::BadRequest(crate::msg!("read_body")));
    };
    match form.get("_kind") {
        Some("transition") => {
            obj.insert("to".into(), Value::from(command));
            crate::http::extract::parse_value::<TransitionInput>(json)?.into_command()
        }
        Some("action") => {
            obj.insert("action".into(), Value::from(command));
            crate::http::extract::parse_value::<ActionInput>(json)?.into_command()
        }
        _ => Err(AppError::invalid("_kind", crate::msg!("not_a_transition"))),
    }
}

/// `POST /collaborations/{id}/commands`: one command of the case, from its form.
pub async fn post(env: PageEnv, path: web::Path<String>, form: Form) -> PageResult {
    let id = path.into_inner();
    let actor = env.actor()?.clone();
    let command = form.get("_command").unwrap_or_default().to_string();
    let expected = form.version();
    let result = match command_of(&form) {
        Ok(cmd) => {
            let id = id.clone();
            let state = env.state.clone();
            crate::http::blocking(move || {
                let (now, today) = (state.svc.clock.now(), state.svc.clock.today());
                // With the form's version a lost race is not retried: the form is stale.
                let attempts = if expected.is_some() { 1 } else { 8 };
                state.svc.write_retrying(attempts, |c| {
                    crate::app::collaborations::execute(
                        c,
                        &state.svc.rulebooks,
                        &actor,
                        &id,
                        cmd.clone(),
                        expected,
                        now,
                        today,
                    )
                })
            })
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("done", &command);
            Ok(env.see_other(&format!("/collaborations/{id}?{}#status", q.finish())))
        }
        Err(e) => {
            let Some(errors) = FormErrors::of(&e, env.lang) else {
                return Err(env.fail(e));
            };
            let warnings = crate::http::problem::problem_in(&e, env.lang)
                .warnings
                .iter()
                .map(|w| {
                    (
                        w.code.to_string(),
                        match env.lang {
                            Lang::Sv => w.message_sv.clone(),
                            Lang::En => w.message_en.clone(),
                        },
                        format!("{}, {}", w.source.title, w.source.section),
                    )
                })
                .collect();
            let posted = Posted {
                command,
                entered: form.entered(),
                errors,
                warnings,
            };
            super::collaborations::render_case(
                &env,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(posted),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kronor_are_read_as_people_write_them() {
        assert_eq!(kronor_to_ore("12 500"), Some(1_250_000));
        assert_eq!(kronor_to_ore("12500,5"), Some(1_250_050));
        assert_eq!(kronor_to_ore("12 500,25 kr"), Some(1_250_025));
        assert_eq!(kronor_to_ore(""), None);
        assert_eq!(kronor_to_ore("tolv"), None);
        assert_eq!(kronor_to_ore("1,234"), None);
    }

    #[test]
    fn a_form_becomes_the_api_input_with_amounts_in_ore_and_empty_acknowledgements_left_out() {
        let form = Form(
            [
                ("_kind", "action"),
                ("_command", "record_cost_agreement"),
                ("version", "4"),
                ("reference", "K-1"),
                ("signed_on", "2026-09-01"),
                ("estimate_ore:kr", "12 000"),
                ("acknowledge[0].code", "x"),
                ("acknowledge[0].reason", " "),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        let pairs = input_pairs(&form);
        assert!(pairs.contains(&("estimate_ore:int".into(), "1200000".into())));
        assert!(!pairs.iter().any(|(k, _)| k.starts_with("acknowledge")));
        assert!(command_of(&form).is_ok());
    }

    #[test]
    fn every_item_an_obligation_waits_for_has_words_in_both_languages() {
        // The items src/domain/lifecycle/obligations.rs names as missing.
        for code in [
            "ethics_approval",
            "ethics_approval.key_retention_months",
            "dossier",
            "cost_agreement",
            "registers",
            "registers.linked_register",
            "research_principal",
            "research_question",
            "linkage.scb.decision",
            "third_country_assessment",
            "third_country_assessment.permitted",
            "evidence.data_processing_agreement",
            "evidence.identity_number_justification",
            "evidence.coordination",
            "agreement.clauses.pharma_appendix",
            "agreement.clauses.confidentiality_reservation",
            "classification.type_override",
        ] {
            for lang in [Lang::Sv, Lang::En] {
                let words = missing_text(lang, code);
                assert_ne!(words, code, "{code} has no words in {lang:?}");
                assert!(!words.contains('_'), "{code}: {words}");
            }
        }
    }

    #[test]
    fn a_missing_item_says_what_and_where_in_words() {
        assert_eq!(
            missing_text(Lang::En, "dossier.access_and_storage"),
            "Who has access and how the data are stored – in: Apply for data"
        );
        assert_eq!(
            missing_text(Lang::Sv, "agreement"),
            "Registrera undertecknat avtal"
        );
        assert_eq!(
            missing_text(Lang::En, "step preparation or register_contact"),
            "the case at the step Preparation or Contact with the register"
        );
        assert_eq!(
            command_title(Lang::En, "collaboration_created"),
            "Case created"
        );
    }

    #[test]
    fn errors_find_their_fields() {
        assert!(names_field("grounds[0]", "grounds"));
        assert!(names_field("reasons", "decision.reasons"));
        assert!(names_field(
            "dossier.requested_data[2]",
            "dossier.requested_data"
        ));
        assert!(!names_field("reference", "dossier.recipient_principal"));
        assert!(!names_field("registers", "register"));
    }

    #[test]
    fn every_form_has_its_texts_and_a_known_command() {
        for s in SPECS {
            let kind = crate::domain::lifecycle::CommandKind::ALL
                .iter()
                .find(|k| k.code() == s.code);
            assert!(kind.is_some(), "{} is a command", s.code);
            assert_ne!(text::t(Lang::Sv, s.title), s.title, "{}", s.title);
            for fd in s.fields {
                assert_ne!(text::t(Lang::En, fd.label), fd.label, "{}", fd.label);
            }
        }
    }
}
