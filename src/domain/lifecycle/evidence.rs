//! Evidence recorded for obligations (underlag för skyldigheter): the written cost agreement, a data
//! processing agreement, CPUA legal's third-country assessment, the identity-number justification, who keeps
//! the key and links, and retrospective consent. Each is what [`super::obligations::evidence`] reads.
use super::CommandKind;
use super::{
    not_in_future, step_is, Context, CostAgreementInput, EvidenceInput, Refusal, SEED_000, SEED_002,
};
use crate::domain::collaboration::*;
use crate::domain::step::Step;

/// Evidence may be recorded from preparation until data are released (a release relies on it).
const OPEN: [Step; 7] = [
    Step::Preparation,
    Step::RegisterContact,
    Step::EthicsReview,
    Step::DataApplication,
    Step::ReleaseDecision,
    Step::Agreement,
    Step::DataRelease,
];

/// The written cost agreement must be made before any data are released (seed 000, "Ersättning för
/// datauttag för forskning": "måste … vara reglerat skriftligt innan data lämnas ut").
pub(super) fn guard_cost(c: &Collaboration) -> Result<(), Refusal> {
    step_is(c, &OPEN[1..], crate::msg!("what.cost_agreement"))?;
    if c.any_released() {
        return Err(
            Refusal::precondition(crate::msg!("cost_agreement_after_release"))
                .source(SEED_000, "Ersättning för datauttag för forskning"),
        );
    }
    Ok(())
}

pub(super) fn apply_cost(
    n: &mut Collaboration,
    i: CostAgreementInput,
    ctx: &Context,
) -> Result<(), Refusal> {
    not_in_future("signed_on", i.signed_on, ctx.today)?;
    n.cost_agreement = Some(CostAgreement {
        reference: i.reference,
        signed_on: i.signed_on,
        estimate: i.estimate,
        hourly_rate: i.hourly_rate,
        recorded_by: ctx.actor.account.clone(),
    });
    Ok(())
}

pub(super) fn guard(c: &Collaboration, kind: CommandKind, _ctx: &Context) -> Result<(), Refusal> {
    step_is(c, &OPEN, crate::msg!("what.evidence"))?;
    if c.any_released() && kind != CommandKind::RecordRetrospectiveConsent {
        return Err(Refusal::precondition(crate::msg!("evidence_after_release")));
    }
    Ok(())
}

pub(super) fn apply(n: &mut Collaboration, e: EvidenceInput, ctx: &Context) -> Result<(), Refusal> {
    let by = ctx.actor.account.clone();
    match e {
        EvidenceInput::DataProcessingAgreement {
            processor,
            reference,
            signed_on,
        } => {
            not_in_future("signed_on", signed_on, ctx.today)?;
            n.evidence.data_processing_agreement = Some(DataProcessingAgreementRecord {
                processor,
                reference,
                signed_on,
                recorded_by: by,
            });
        }
        EvidenceInput::ThirdCountryAssessment {
            permitted,
            basis,
            reasons,
        } => {
            let countries: Vec<_> = n
                .recipient_countries
                .iter()
                .filter(|c| c.is_third_country())
                .cloned()
                .collect();
            if countries.is_empty() {
                return Err(Refusal::invalid(
                    "countries",
                    crate::msg!("no_third_country"),
                ));
            }
            if permitted && basis.is_none() {
                return Err(
                    Refusal::invalid("basis", crate::msg!("transfer_basis_required")).source(
                        SEED_000,
                        "Hantering vid utlämnandet av kvalitetsregisterdata",
                    ),
                );
            }
            n.evidence.third_country_assessment = Some(ThirdCountryAssessment {
                countries,
                permitted,
                basis,
                reasons,
                assessed_by: by,
                assessed_on: ctx.today,
            });
        }
        EvidenceInput::IdentityNumberJustification {
            justification,
            stated_in_ethics_application,
        } => {
            n.evidence.identity_number_justification = Some(IdentityNumberJustification {
                justification,
                stated_in_ethics_application,
                recorded_by: by,
            });
        }
        EvidenceInput::Coordination {
            key_custodian,
            linkage_responsible,
            note,
        } => {
            let cpuas: Vec<_> = match n.cpua_reviews.is_empty() {
                false => n.cpua_reviews.iter().map(|r| r.cpua.clone()).collect(),
                true => n
                    .registers
                    .iter()
                    .filter_map(|r| ctx.registers.get(r).map(|f| f.cpua.clone()))
                    .collect(),
            };
            if !cpuas.contains(&key_custodian) {
                return Err(Refusal::invalid(
                    "key_custodian",
                    crate::msg!("not_a_cpua_of_collaboration.key_custodian"),
                ));
            }
            let authority = LinkageTarget::parse(&linkage_responsible)
                .filter(|t| t.authority_name().is_some() && n.linkage.contains(t));
            let is_cpua = cpuas.iter().any(|o| o.as_str() == linkage_responsible);
            if authority.is_none() && !is_cpua {
                return Err(Refusal::invalid(
                    "linkage_responsible",
                    crate::msg!("unknown_linkage_responsible"),
                ));
            }
            // Seed 002, "Utbildningens innehåll": Socialstyrelsen considers itself always responsible when it
            // links its health data with other registers.
            if n.linkage.contains(&LinkageTarget::Socialstyrelsen)
                && authority != Some(LinkageTarget::Socialstyrelsen)
            {
                return Err(Refusal::invalid(
                    "linkage_responsible",
                    crate::msg!("socialstyrelsen_links_its_own_data"),
                )
                .source(SEED_002, "Utbildningens innehåll"));
            }
            n.evidence.coordination = Some(Coordination {
                key_custodian,
                linkage_responsible,
                note,
                recorded_by: by,
            });
        }
        EvidenceInput::RetrospectiveConsent {
            register,
            description,
            obtained_on,
        } => {
            not_in_future("obtained_on", obtained_on, ctx.today)?;
            if !n.registers.contains(&register) {
                return Err(Refusal::invalid(
                    "register",
                    crate::msg!("not_a_register_of_collaboration"),
                ));
            }
            n.evidence
                .retrospective_consents
                .retain(|k| k.register != register);
            n.evidence
                .retrospective_consents
                .push(RetrospectiveConsent {
                    register,
                    description,
                    obtained_on,
                    recorded_by: by,
                });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Command, EvidenceInput};
    use crate::domain::collaboration::{LinkageTarget, TransferBasis};

    #[test]
    fn a_retrospective_consent_is_kept_per_register_and_a_new_one_replaces_that_registers_own() {
        // Seed 000, "Vilka registerdata går att använda för forskning?": where a register's patient information does not cover
        // research, the consent is recorded register by register.
        let k = Kit::new();
        let c = k.walk_to_ethics(Scenario::two_cpuas());
        let c = k.run(&c, k.retrospective_consent(0)).unwrap();
        let c = k.run(&c, k.retrospective_consent(1)).unwrap();
        let again = Command::RecordEvidence(EvidenceInput::RetrospectiveConsent {
            register: k.registers[0].clone(),
            description: "a second mailing".into(),
            obtained_on: k.today(),
        });
        let c = k.run(&c, again).unwrap();
        let consents = &c.evidence.retrospective_consents;
        assert_eq!(consents.len(), 2);
        let first = consents
            .iter()
            .find(|x| x.register == k.registers[0])
            .unwrap();
        assert_eq!(first.description, "a second mailing");
        assert!(consents.iter().any(|x| x.register == k.registers[1]));
    }

    #[test]
    fn a_permitted_third_country_transfer_names_its_basis() {
        let k = Kit::new();
        let c = k.collab(Scenario::third_country());
        let cmd = |basis| {
            Command::RecordEvidence(EvidenceInput::ThirdCountryAssessment {
                permitted: true,
                basis,
                reasons: "SCC signed".into(),
            })
        };
        assert_eq!(
            k.run(&c, cmd(None)).unwrap_err().rule,
            "transfer_basis_required"
        );
        let n = k
            .run(&c, cmd(Some(TransferBasis::StandardContractualClauses)))
            .unwrap();
        let a = n.evidence.third_country_assessment.unwrap();
        assert_eq!(a.countries.len(), 1);
        let local = k.collab(Scenario::public_research());
        assert_eq!(
            k.run(&local, cmd(Some(TransferBasis::AdequacyDecision)))
                .unwrap_err()
                .rule,
            "no_third_country"
        );
    }

    #[test]
    fn socialstyrelsen_is_always_responsible_for_linking_its_data() {
        // Seed 002, "Utbildningens innehåll".
        let k = Kit::new();
        let mut s = Scenario::two_cpuas();
        s.linkage = vec![LinkageTarget::Socialstyrelsen];
        let c = k.collab(s);
        let coord = |resp: &str| {
            Command::RecordEvidence(EvidenceInput::Coordination {
                key_custodian: k.a.clone(),
                linkage_responsible: resp.to_string(),
                note: None,
            })
        };
        let r = k.run(&c, coord(k.a.as_str())).unwrap_err();
        assert_eq!(r.rule, "socialstyrelsen_links_its_own_data");
        assert!(k.run(&c, coord("socialstyrelsen")).is_ok());
        assert_eq!(
            k.run(&c, coord("scb")).unwrap_err().rule,
            "unknown_linkage_responsible"
        );
        let r = k
            .run(
                &c,
                Command::RecordEvidence(EvidenceInput::Coordination {
                    key_custodian: k.company.clone(),
                    linkage_responsible: "socialstyrelsen".into(),
                    note: None,
                }),
            )
            .unwrap_err();
        assert_eq!(r.rule, "not_a_cpua_of_collaboration");
    }

    #[test]
    fn the_cost_agreement_is_made_before_release() {
        // Seed 000, "Ersättning för datauttag för forskning".
        let k = Kit::new();
        let released = k.walk_to_released(Scenario::public_research());
        let r = k.run(&released, k.cost_agreement()).unwrap_err();
        assert_eq!(r.rule, "cost_agreement_after_release");
        let r = k
            .run(&released, Command::RecordEvidence(k.evidence_dpa()))
            .unwrap_err();
        assert_eq!(r.rule, "evidence_after_release");
    }
}
