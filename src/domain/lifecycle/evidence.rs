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

/// Records the written cost agreement. Its rates name each role once, and a ceiling is not below the
/// agreed estimate (a ceiling under the agreed cost would refuse the agreed work). An agreed total far
/// from the register holders' estimate raises the "bör" warning
/// [`crate::domain::billing::cost::FAR_FROM_ESTIMATE`] (a product choice, see that module).
pub(super) fn apply_cost(
    n: &mut Collaboration,
    i: CostAgreementInput,
    ctx: &Context,
    raised: &mut Vec<super::Advice>,
) -> Result<(), Refusal> {
    use crate::domain::billing::cost;
    not_in_future("signed_on", i.signed_on, ctx.today)?;
    for (k, r) in i.rates.iter().enumerate() {
        if i.rates[..k].iter().any(|o| o.role == r.role) {
            return Err(Refusal::invalid(
                &format!("rates[{k}].role"),
                crate::msg!("duplicate", value = &r.role),
            ));
        }
    }
    if let Some(ceiling) = i.ceiling {
        if ceiling < i.estimate {
            return Err(Refusal::invalid(
                "ceiling_ore",
                crate::msg!("cost_ceiling_below_estimate"),
            ));
        }
    }
    if let Some(estimate) = cost::feasibility_estimate(n) {
        let both = |m: crate::domain::money::Money| {
            crate::domain::messages::Arg::both(
                m.format(crate::domain::lang::Lang::Sv),
                m.format(crate::domain::lang::Lang::En),
            )
        };
        let message = match cost::deviation(i.estimate, estimate) {
            Some(cost::Deviation::Below) => Some(crate::msg!(
                "cost_far_from_estimate.below",
                agreed = both(i.estimate),
                estimate = both(estimate)
            )),
            Some(cost::Deviation::Above) => Some(crate::msg!(
                "cost_far_from_estimate.above",
                agreed = both(i.estimate),
                estimate = both(estimate)
            )),
            None => None,
        };
        if let Some(m) = message {
            raised.push(super::Advice::bor(
                cost::FAR_FROM_ESTIMATE,
                m.render(crate::domain::lang::Lang::Sv),
                m.render(crate::domain::lang::Lang::En),
                SEED_000,
                "Ersättning för datauttag för forskning",
            ));
        }
    }
    n.cost_agreement = Some(CostAgreement {
        reference: i.reference,
        signed_on: i.signed_on,
        estimate: i.estimate,
        hourly_rate: i.hourly_rate,
        recorded_by: ctx.actor.account.clone(),
        rates: i.rates,
        expenses: i.expenses,
        ceiling: i.ceiling,
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

    /// Case at step 2 whose register holder estimated 10 000 kr for a charged extraction.
    fn estimated(k: &Kit) -> crate::domain::collaboration::Collaboration {
        let c = k.walk_to_register_contact(Scenario::public_research());
        let mut f = k.feasibility_input(0);
        f.extraction_charged = true;
        f.estimated_cost = Some(crate::domain::money::Money::from_kronor(10_000).unwrap());
        k.run(&c, Command::RecordFeasibility(f)).unwrap()
    }

    fn agreement(ore: i64) -> Command {
        let k = Kit::new();
        let Command::RecordCostAgreement(mut i) = k.cost_agreement() else {
            unreachable!("the kit's cost agreement")
        };
        i.estimate = crate::domain::money::Money::from_ore(ore).unwrap();
        Command::RecordCostAgreement(i)
    }

    /// Issue 15: "a cost agreement of 0.01 kr against an estimate of 10 000 kr was accepted". Now it
    /// is a "bör" (product rule: below 50 % or above 200 % of the estimate, `domain::billing::cost`):
    /// refused until confirmed with a reason, then recorded with the reason; never a block.
    #[test]
    fn a_cost_agreement_far_from_the_estimate_needs_a_confirmation_with_a_reason() {
        let k = Kit::new();
        let c = estimated(&k);
        let r = k.run(&c, agreement(1)).unwrap_err();
        assert_eq!(r.rule, "warning_needs_reason");
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].code, "cost_far_from_estimate");
        assert!(
            r.warnings[0].message_sv.contains("10\u{a0}000,00\u{a0}kr"),
            "{}",
            r.warnings[0].message_sv
        );
        assert!(
            r.warnings[0].message_en.contains("below half"),
            "{}",
            r.warnings[0].message_en
        );
        // An empty reason does not pass it.
        let r = k
            .run_ack(&c, agreement(1), &[("cost_far_from_estimate", "  ")])
            .unwrap_err();
        assert_eq!(r.rule, "warning_needs_reason");
        let n = k
            .run_ack(
                &c,
                agreement(1),
                &[("cost_far_from_estimate", "a token fee, agreed")],
            )
            .unwrap();
        assert!(n.cost_agreement.is_some());
        assert_eq!(n.passed_warnings.len(), 1);
        assert_eq!(n.passed_warnings[0].code, "cost_far_from_estimate");
        assert_eq!(n.passed_warnings[0].command, "record_cost_agreement");
        assert_eq!(n.passed_warnings[0].reason, "a token fee, agreed");
        // Far above: more than twice the estimate.
        let r = k.run(&c, agreement(2_000_001)).unwrap_err();
        assert_eq!(r.warnings[0].code, "cost_far_from_estimate");
        assert!(r.warnings[0].message_en.contains("twice"));
    }

    #[test]
    fn a_cost_agreement_near_the_estimate_or_without_one_passes_without_a_warning() {
        let k = Kit::new();
        let c = estimated(&k);
        for ore in [500_000, 1_000_000, 2_000_000] {
            let n = k.run(&c, agreement(ore)).unwrap();
            assert!(n.passed_warnings.is_empty(), "{ore}");
        }
        // No estimate given at step 2: nothing to compare with.
        let c = k.walk_to_register_contact(Scenario::public_research());
        assert!(k.run(&c, agreement(1)).is_ok());
    }

    #[test]
    fn rates_name_each_role_once_and_the_ceiling_is_not_below_the_estimate() {
        use crate::domain::collaboration::RoleRate;
        use crate::domain::money::Money;
        let k = Kit::new();
        let c = estimated(&k);
        let with = |f: &dyn Fn(&mut super::CostAgreementInput)| {
            let Command::RecordCostAgreement(mut i) = agreement(1_000_000) else {
                unreachable!()
            };
            f(&mut i);
            Command::RecordCostAgreement(i)
        };
        let rate = |role: &str, ore| RoleRate {
            role: role.into(),
            hourly_rate: Money::from_ore(ore).unwrap(),
        };
        let r = k
            .run(
                &c,
                with(&|i| i.rates = vec![rate("statistician", 95_000), rate("statistician", 1)]),
            )
            .unwrap_err();
        assert_eq!(
            (r.rule, r.field.as_deref()),
            ("duplicate", Some("rates[1].role"))
        );
        let r = k
            .run(
                &c,
                with(&|i| i.ceiling = Some(Money::from_ore(999_999).unwrap())),
            )
            .unwrap_err();
        assert_eq!(
            (r.rule, r.field.as_deref()),
            ("cost_ceiling_below_estimate", Some("ceiling_ore"))
        );
        let n = k
            .run(
                &c,
                with(&|i| {
                    i.rates = vec![rate("statistician", 95_000), rate("data_manager", 80_000)];
                    i.expenses = Money::from_kronor(500).unwrap();
                    i.ceiling = Some(Money::from_kronor(12_000).unwrap());
                }),
            )
            .unwrap();
        let a = n.cost_agreement.unwrap();
        assert_eq!(
            a.rate_for("data_manager"),
            Some(Money::from_ore(80_000).unwrap())
        );
        assert_eq!(a.expenses, Money::from_kronor(500).unwrap());
        assert_eq!(
            crate::domain::billing::cost::ceiling(&a),
            Money::from_kronor(12_000).unwrap()
        );
    }

    #[test]
    fn the_estimate_is_the_sum_of_the_register_holders_answers() {
        use crate::domain::billing::cost::feasibility_estimate;
        use crate::domain::money::Money;
        let k = Kit::new();
        let c = k.walk_to_register_contact(Scenario::two_cpuas());
        assert_eq!(feasibility_estimate(&c), None);
        let mut c = c;
        for (i, kr) in [(0, 4_000), (1, 6_000)] {
            let mut f = k.feasibility_input(i);
            f.extraction_charged = true;
            f.estimated_cost = Some(Money::from_kronor(kr).unwrap());
            c = k.run(&c, Command::RecordFeasibility(f)).unwrap();
        }
        assert_eq!(
            feasibility_estimate(&c),
            Some(Money::from_kronor(10_000).unwrap())
        );
    }
}
