//! CPUA legal's decision on the type and the obligations (juridisk överprövning av klassificeringen), with a
//! written reason. An obligation may be waived only where the rulebook marks it waivable: a "ska" of the seeds
//! is never waived (DOMAIN.md, "How strongly each rule binds").
use super::{Context, OverrideInput, Refusal};
use crate::domain::collaboration::{Collaboration, ObligationOverride, TypeOverride};

pub(super) fn guard(c: &Collaboration) -> Result<(), Refusal> {
    if c.classification.is_none() {
        return Err(Refusal::precondition(crate::msg!(
            "not_classified.override"
        )));
    }
    if c.any_released() {
        return Err(Refusal::precondition(crate::msg!("released")));
    }
    Ok(())
}

pub(super) fn apply(n: &mut Collaboration, o: OverrideInput, ctx: &Context) -> Result<(), Refusal> {
    if o.collaboration_type.is_none() && o.add.is_empty() && o.waive.is_empty() {
        return Err(Refusal::invalid("type", crate::msg!("nothing_to_override")));
    }
    if let Some(code) = o.add.iter().find(|c| o.waive.contains(c)) {
        return Err(Refusal::invalid(
            "waive",
            crate::msg!("add_and_waive", code = code.to_string()),
        ));
    }
    if let Some((i, code)) = o
        .waive
        .iter()
        .enumerate()
        .find(|(_, c)| !ctx.obligations.waivable(**c))
    {
        return Err(Refusal::invalid(
            &format!("waive[{i}]"),
            crate::msg!("not_waivable", code = code.to_string()),
        )
        .source("DOMAIN.md", "How strongly each rule binds"));
    }
    let by = ctx.actor.account.clone();
    if let Some(rec) = n.classification.as_mut() {
        if let Some(t) = o.collaboration_type {
            rec.type_override = Some(TypeOverride {
                collaboration_type: t,
                reason: o.reason.clone(),
                by: by.clone(),
                at: ctx.now,
            });
        }
        for (codes, waive) in [(o.add, false), (o.waive, true)] {
            for code in codes {
                rec.obligation_overrides.push(ObligationOverride {
                    code,
                    waive,
                    reason: o.reason.clone(),
                    by: by.clone(),
                    at: ctx.now,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Command, OverrideInput};
    use crate::domain::classification::{CollaborationType, ObligationCode};

    fn waive(code: ObligationCode) -> Command {
        Command::OverrideClassification(OverrideInput {
            collaboration_type: None,
            add: vec![],
            waive: vec![code],
            reason: "R".into(),
        })
    }

    #[test]
    fn a_ska_obligation_cannot_be_waived() {
        // Seed 000, "Etikprövning" ("ska etikprövas") and "Forskningssamarbete med industrin"
        // ("ska … med ett sekretessförbehåll").
        let k = Kit::new();
        let c = k.collab(Scenario::company_principal());
        for code in [
            ObligationCode::EthicsApproval,
            ObligationCode::ConfidentialityReservation,
        ] {
            let r = k.run(&c, waive(code)).unwrap_err();
            assert_eq!(r.rule, "not_waivable", "{code}");
        }
    }

    #[test]
    fn only_what_the_rulebook_marks_waivable_is_waived() {
        let k = Kit::new();
        for code in ObligationCode::ALL {
            let c = k.collab(Scenario::pharma());
            let ok = k.run(&c, waive(*code)).is_ok();
            assert_eq!(ok, k.obligations_of(&c).waivable(*code), "{code}");
        }
        let c = k.collab(Scenario::pharma());
        assert!(k.obligations_of(&c).has(ObligationCode::PharmaAppendix));
        let n = k.run(&c, waive(ObligationCode::PharmaAppendix)).unwrap();
        assert!(!k.obligations_of(&n).has(ObligationCode::PharmaAppendix));
    }

    #[test]
    fn a_stored_waiver_of_a_ska_is_ignored() {
        // Fail closed: a waiver written before waivers were checked does not lift a "ska".
        let k = Kit::new();
        let mut c = k.collab(Scenario::company_principal());
        c.classification
            .as_mut()
            .unwrap()
            .obligation_overrides
            .push(crate::domain::collaboration::ObligationOverride {
                code: ObligationCode::EthicsApproval,
                waive: true,
                reason: "legacy".into(),
                by: k.legal_a.account.clone(),
                at: k.now(),
            });
        assert!(k.obligations_of(&c).has(ObligationCode::EthicsApproval));
    }

    #[test]
    fn deciding_the_type_settles_the_legal_review() {
        let k = Kit::new();
        let c = k.collab(Scenario::grey_zone());
        assert!(k.obligations_of(&c).has(ObligationCode::LegalReview));
        let n = k
            .run(
                &c,
                Command::OverrideClassification(OverrideInput {
                    collaboration_type: Some(CollaborationType::ResearchPublicPrincipal),
                    add: vec![],
                    waive: vec![],
                    reason: "research".into(),
                }),
            )
            .unwrap();
        assert!(!k.obligations_of(&n).has(ObligationCode::LegalReview));
        let r = k.run(
            &c,
            Command::OverrideClassification(OverrideInput {
                collaboration_type: None,
                add: vec![],
                waive: vec![],
                reason: "x".into(),
            }),
        );
        assert_eq!(r.unwrap_err().rule, "nothing_to_override");
    }

    #[test]
    fn the_classification_is_settled_once_data_are_released() {
        let k = Kit::new();
        let released = k.walk_to_released(Scenario::pharma());
        let r = k
            .run(&released, waive(ObligationCode::PharmaAppendix))
            .unwrap_err();
        assert_eq!(r.rule, "released");
        let mut unclassified = k.collab(Scenario::pharma());
        unclassified.classification = None;
        let r = k
            .run(&unclassified, waive(ObligationCode::PharmaAppendix))
            .unwrap_err();
        assert_eq!(r.rule, "not_classified");
    }
}
