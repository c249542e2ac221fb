//! The intake of a collaboration (underlag för klassificering): the full set of facts the classifier reads
//! — the intake facts plus what the collaboration's own fields say — and its classification with the
//! rulebook, keeping legal's earlier overrides. Pure; the application resolves registers and the rulebook.
use chrono::{DateTime, Utc};

use super::classification::{
    classify, CountryCode as FactCountry, Facts, IsResearch, LinkageAuthority, PrincipalKind,
    RegisterInfo, Rulebook,
};
use super::collaboration::{ClassificationRecord, ClassifiedInputs, Collaboration, LinkageTarget};
use super::organisation::OrgKind;

pub fn principal_kind(k: OrgKind) -> PrincipalKind {
    match k {
        OrgKind::University => PrincipalKind::University,
        OrgKind::Region | OrgKind::CpuaAuthority => PrincipalKind::Region,
        OrgKind::Company => PrincipalKind::Company,
        OrgKind::OtherPrivate | OrgKind::RegisterCentre => PrincipalKind::OtherPrivate,
    }
}

/// The full set of facts: the intake, plus what the collaboration's own fields say.
pub fn facts_for(c: &Collaboration, principal: Option<OrgKind>) -> Facts {
    let mut f = c.intake.clone();
    f.registers = Some(c.registers.iter().map(ToString::to_string).collect());
    f.linkage_with = Some(
        c.linkage
            .iter()
            .map(|l| match l {
                LinkageTarget::Socialstyrelsen => LinkageAuthority::Socialstyrelsen,
                LinkageTarget::Scb => LinkageAuthority::Scb,
                LinkageTarget::Forsakringskassan => LinkageAuthority::Forsakringskassan,
                LinkageTarget::OtherRegister => LinkageAuthority::OtherRegister,
            })
            .collect(),
    );
    f.recipient_countries = Some(
        c.recipient_countries
            .iter()
            .filter_map(|cc| FactCountry::parse(cc.as_str()).ok())
            .collect(),
    );
    f.research_principal_kind = match (principal, c.is_research) {
        (Some(k), _) => Some(principal_kind(k)),
        (None, false) => Some(PrincipalKind::None),
        (None, true) => None,
    };
    if f.is_research.is_none() {
        f.is_research = Some(if c.is_research {
            IsResearch::Yes
        } else {
            IsResearch::No
        });
    }
    f
}

/// Classifies a collaboration with `rulebook`, keeping legal's earlier overrides.
pub fn classify_collaboration(
    rulebook: &Rulebook,
    c: &Collaboration,
    principal: Option<OrgKind>,
    registers: &[RegisterInfo],
    now: DateTime<Utc>,
) -> ClassificationRecord {
    let facts = facts_for(c, principal);
    let result = classify(rulebook, &facts, registers);
    let (type_override, obligation_overrides) = match &c.classification {
        Some(old) => (old.type_override.clone(), old.obligation_overrides.clone()),
        None => (None, vec![]),
    };
    ClassificationRecord {
        result,
        classified_at: super::audit::truncate_micros(now),
        type_override,
        obligation_overrides,
        inputs: Some(ClassifiedInputs {
            facts,
            registers: registers.to_vec(),
        }),
    }
}
