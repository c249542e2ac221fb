//! Rule tests for the shipped rulebook, the checker and the properties of the classifier. Each table row
//! cites the source of the rule it encodes (seed file and section heading, or DOMAIN.md).
use super::*;
use serde_json::json;

const SHIPPED: &str = include_str!("../../../config/rulebook/2026-07-01.toml");

fn shipped() -> Rulebook {
    match Rulebook::parse("2026-07-01.toml", SHIPPED) {
        Ok(rb) => rb,
        Err(errors) => {
            let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            panic!("shipped rulebook fails check:\n{}", text.join("\n"))
        }
    }
}

fn facts(v: serde_json::Value) -> Facts {
    match Facts::from_json(&v) {
        Ok(f) => f,
        Err(e) => panic!("bad test facts: {e}"),
    }
}

fn regs(list: &[(&str, &str)]) -> Vec<RegisterInfo> {
    list.iter()
        .map(|(id, cpua)| RegisterInfo {
            id: id.to_string(),
            cpua_id: cpua.to_lowercase().replace(' ', "-"),
            cpua_name: cpua.to_string(),
        })
        .collect()
}

/// A typical, complete intake: a public research principal, the company gets aggregated results.
fn typical() -> serde_json::Value {
    json!({
        "research_principal_kind": "university",
        "is_research": "yes",
        "purpose": "research",
        "company_receives": "aggregated",
        "principal_receives": "pseudonymised",
        "analysis_by": "principal",
        "sector": "medtech",
        "registers": ["swedeheart"],
        "linkage_with": [],
        "external_processor": false,
        "recipient_countries": ["SE"],
        "identity_numbers_requested": false,
        "effort_beyond_routine": false,
        "key_retention_months": 3
    })
}

fn with(mut base: serde_json::Value, changes: serde_json::Value) -> serde_json::Value {
    if let (Some(b), Some(c)) = (base.as_object_mut(), changes.as_object()) {
        for (k, v) in c {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

#[test]
fn shipped_rulebook_passes_check() {
    let (rb, report) = match Rulebook::parse_with_report("2026-07-01.toml", SHIPPED) {
        Ok(x) => x,
        Err(e) => panic!("{:?}", e),
    };
    assert_eq!(rb.version, "2026.1");
    assert_eq!(
        rb.effective_from,
        NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
    );
    assert!(report.type_rules >= 6 && report.obligation_rules >= 12);
    assert!(report.combinations_checked > 0);
}

// ------------------------------------------------------------------------------------------------
// One row per collaboration type.

#[test]
fn table_of_types() {
    let rb = shipped();
    let swedeheart = regs(&[("swedeheart", "Region Uppsala")]);
    let rows: Vec<(&str, serde_json::Value, Option<CollaborationType>)> = vec![
        // 001_2ea1acc3c69dfa36.txt, "1. Förarbete": decide whether the request is a release of public
        // documents; DOMAIN.md taxonomy: company gets tables, no personal data.
        (
            "statistics",
            json!({"research_principal_kind": "none", "is_research": "no", "purpose": "statistics",
                   "company_receives": "aggregated"}),
            Some(CollaborationType::Statistics),
        ),
        // DOMAIN.md, "Collaboration types: our working taxonomy": the register or RC analyses for the company.
        (
            "commissioned analysis",
            json!({"research_principal_kind": "none", "is_research": "no", "purpose": "market_analysis",
                   "analysis_by": "register_centre", "company_receives": "aggregated"}),
            Some(CollaborationType::CommissionedAnalysis),
        ),
        // 000_8f4d98e28584af27.txt, "Forskningssamarbete med industrin": university or region principal.
        (
            "research, public principal",
            typical(),
            Some(CollaborationType::ResearchPublicPrincipal),
        ),
        // 000_8f4d98e28584af27.txt, "Hantering vid utlämnandet av kvalitetsregisterdata": company principal.
        (
            "research, company principal",
            with(
                typical(),
                json!({"research_principal_kind": "company", "company_receives": "pseudonymised",
                                   "analysis_by": "company"}),
            ),
            Some(CollaborationType::ResearchCompanyPrincipal),
        ),
        // 001_2ea1acc3c69dfa36.txt, "Källor för forskning och innovation": follow-up of products.
        (
            "regulatory follow-up",
            with(typical(), json!({"purpose": "regulatory_follow_up"})),
            Some(CollaborationType::RegulatoryFollowUp),
        ),
        // DOMAIN.md, "Facts about the agreement itself": the company buys services, the register stays independent.
        (
            "register development",
            json!({"research_principal_kind": "none", "is_research": "no", "purpose": "register_development",
                   "company_receives": "nothing"}),
            Some(CollaborationType::RegisterDevelopment),
        ),
        // 002_f476663c34a527d0.txt, "Utbildningens innehåll": algorithm training is a grey zone.
        (
            "algorithm training",
            with(typical(), json!({"purpose": "algorithm_training"})),
            None,
        ),
        // 002_f476663c34a527d0.txt, "Utbildningens innehåll": database building is a grey zone.
        (
            "database building",
            with(typical(), json!({"purpose": "database_building"})),
            None,
        ),
        // 000_8f4d98e28584af27.txt, "Etikprövning": what counts as research decides the path.
        (
            "unclear research",
            with(typical(), json!({"is_research": "unclear"})),
            None,
        ),
        // DOMAIN.md taxonomy has no type for a private non-company principal: legal review decides.
        (
            "other private principal",
            with(
                typical(),
                json!({"research_principal_kind": "other_private"}),
            ),
            None,
        ),
    ];
    for (name, v, expected) in rows {
        let c = classify(&rb, &facts(v), &swedeheart);
        assert_eq!(c.outcome.collaboration_type(), expected, "{name}");
        assert_eq!(c.rulebook_version, "2026.1");
        if expected.is_none() {
            assert!(
                c.has_obligation(ObligationCode::LegalReview),
                "{name}: unclassified goes to legal review"
            );
            assert!(
                matches!(
                    c.outcome,
                    Outcome::Unclassified {
                        incomplete: false,
                        ..
                    }
                ),
                "{name}"
            );
        } else {
            assert!(!c.has_obligation(ObligationCode::LegalReview), "{name}");
        }
    }
}

#[test]
fn grey_zone_names_its_rule_and_source() {
    let rb = shipped();
    let c = classify(
        &rb,
        &facts(with(typical(), json!({"purpose": "algorithm_training"}))),
        &[],
    );
    match &c.outcome {
        Outcome::Unclassified {
            rule_id, source, ..
        } => {
            assert_eq!(
                rule_id.as_deref(),
                Some("grey.algorithm_training_or_database")
            );
            assert_eq!(
                source.as_ref().map(|s| &*s.file),
                Some("002_f476663c34a527d0.txt")
            );
        }
        other => panic!("expected unclassified, got {other:?}"),
    }
}

#[test]
fn no_facts_is_incomplete_not_legal_review() {
    let rb = shipped();
    let c = classify(&rb, &Facts::default(), &[]);
    assert!(matches!(
        c.outcome,
        Outcome::Unclassified {
            incomplete: true,
            ..
        }
    ));
    assert!(!c.has_obligation(ObligationCode::LegalReview));
    assert!(c.missing.contains(&FactId::IsResearch));
    assert!(c.missing.contains(&FactId::Purpose));
}

// ------------------------------------------------------------------------------------------------
// One row per obligation: facts that bring it, and a near neighbour that does not.

#[test]
fn table_of_obligations() {
    let rb = shipped();
    let one = regs(&[("swedeheart", "Region Uppsala")]);
    let two = regs(&[
        ("swedeheart", "Region Uppsala"),
        ("riksstroke", "Region Västerbotten"),
    ]);
    let company = with(
        typical(),
        json!({"research_principal_kind": "company", "company_receives": "pseudonymised", "analysis_by": "company"}),
    );
    let rows: Vec<(
        ObligationCode,
        serde_json::Value,
        serde_json::Value,
        &[RegisterInfo],
    )> = vec![
        // 000_8f4d98e28584af27.txt, "Etikprövning": all register data are sensitive; research is reviewed.
        (
            ObligationCode::EthicsApproval,
            typical(),
            with(
                typical(),
                json!({"is_research": "no", "purpose": "regulatory_follow_up"}),
            ),
            &one,
        ),
        // 000_8f4d98e28584af27.txt, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)".
        (
            ObligationCode::ConfidentialityReview,
            typical(),
            with(
                typical(),
                json!({"principal_receives": "aggregated", "analysis_by": "register"}),
            ),
            &one,
        ),
        // 000_8f4d98e28584af27.txt, "Hantering vid utlämnandet av kvalitetsregisterdata": company principal.
        (
            ObligationCode::ConfidentialityReservation,
            company.clone(),
            typical(),
            &one,
        ),
        // 000_8f4d98e28584af27.txt, "Forskningssamarbete med industrin": other private principal gets data.
        (
            ObligationCode::ConfidentialityReservation,
            with(
                typical(),
                json!({"research_principal_kind": "other_private"}),
            ),
            with(typical(), json!({"research_principal_kind": "region"})),
            &one,
        ),
        // 000_8f4d98e28584af27.txt, "Hantering vid utlämnandet av kvalitetsregisterdata": PUB agreement.
        (
            ObligationCode::DataProcessingAgreement,
            with(typical(), json!({"external_processor": true})),
            typical(),
            &one,
        ),
        // 000_8f4d98e28584af27.txt, "Sambearbetning av registerdata".
        (
            ObligationCode::LinkageApplications,
            with(
                typical(),
                json!({"linkage_with": ["socialstyrelsen", "scb"]}),
            ),
            typical(),
            &one,
        ),
        // 000_8f4d98e28584af27.txt, "Hantering vid utlämnandet av kvalitetsregisterdata": third countries.
        (
            ObligationCode::ThirdCountryAssessment,
            with(typical(), json!({"recipient_countries": ["SE", "US"]})),
            with(
                typical(),
                json!({"recipient_countries": ["SE", "NO", "DE"]}),
            ),
            &one,
        ),
        // 000_8f4d98e28584af27.txt, "Hur och vilka data lämnas ut?": identity numbers only exceptionally.
        (
            ObligationCode::IdentityNumbersJustification,
            with(typical(), json!({"identity_numbers_requested": true})),
            typical(),
            &one,
        ),
        // DOMAIN.md, "Facts about the agreement itself": one appendix applies only in the pharmaceutical field.
        (
            ObligationCode::PharmaAppendix,
            with(typical(), json!({"sector": "pharma"})),
            typical(),
            &one,
        ),
        // 000_8f4d98e28584af27.txt, "Ersättning för datauttag för forskning".
        (
            ObligationCode::WrittenCostAgreement,
            with(typical(), json!({"effort_beyond_routine": true})),
            typical(),
            &one,
        ),
        // 000_8f4d98e28584af27.txt, "Hur och vilka data lämnas ut?": key file kept about 3 months.
        (
            ObligationCode::ExtendedKeyRetention,
            with(typical(), json!({"key_retention_months": 12})),
            typical(),
            &one,
        ),
        // 002_f476663c34a527d0.txt, "Utbildningens innehåll": unclear roles between several CPUAs.
        (
            ObligationCode::MultiCpuaCoordination,
            typical(),
            typical(),
            &two,
        ),
        // 002_f476663c34a527d0.txt, "Utbildningens innehåll": grey zones go to legal review.
        (
            ObligationCode::LegalReview,
            with(typical(), json!({"purpose": "database_building"})),
            typical(),
            &one,
        ),
    ];
    for (code, yes, no, registers) in rows {
        let c = classify(&rb, &facts(yes), registers);
        assert!(
            c.has_obligation(code),
            "{code} expected in {:?}",
            c.obligation_codes()
        );
        let o = c.obligations.iter().find(|o| o.code == code);
        assert!(o.is_some_and(|o| !o.reason_sv.is_empty()
            && !o.reason_en.is_empty()
            && !o.source.file.is_empty()));
        assert!(o.is_some_and(|o| (1..=9).contains(&o.gates_step)));
        if code == ObligationCode::MultiCpuaCoordination {
            let c = classify(&rb, &facts(no), &one);
            assert!(!c.has_obligation(code), "{code} not expected with one CPUA");
        } else {
            let c = classify(&rb, &facts(no), registers);
            assert!(
                !c.has_obligation(code),
                "{code} not expected in {:?}",
                c.obligation_codes()
            );
        }
    }
}

#[test]
fn obligations_carry_details_clauses_and_documents() {
    let rb = shipped();
    let two = regs(&[
        ("swedeheart", "Region Uppsala"),
        ("riksstroke", "Region Västerbotten"),
    ]);
    let v = with(
        typical(),
        json!({"linkage_with": ["socialstyrelsen", "scb"], "recipient_countries": ["SE", "US", "CH"],
               "key_retention_months": 12, "sector": "pharma", "external_processor": true}),
    );
    let c = classify(&rb, &facts(v), &two);
    let detail = |code: ObligationCode, key: &str| -> Vec<String> {
        c.obligations
            .iter()
            .find(|o| o.code == code)
            .and_then(|o| o.details.get(key).cloned())
            .unwrap_or_default()
    };
    assert_eq!(
        detail(ObligationCode::LinkageApplications, "linkage_authorities"),
        ["socialstyrelsen", "scb"]
    );
    assert_eq!(
        detail(ObligationCode::ThirdCountryAssessment, "third_countries"),
        ["US", "CH"]
    );
    assert_eq!(
        detail(ObligationCode::MultiCpuaCoordination, "cpuas"),
        ["Region Uppsala", "Region Västerbotten"]
    );
    assert_eq!(
        detail(ObligationCode::ExtendedKeyRetention, "key_retention_months"),
        ["12"]
    );
    let clauses: Vec<ClauseCode> = c.clauses.iter().map(|c| c.code).collect();
    for needed in [
        ClauseCode::PharmaAppendix,
        ClauseCode::Linkage,
        ClauseCode::ThirdCountryTransfer,
        ClauseCode::DataProcessingAgreement,
        ClauseCode::ExtendedKeyRetention,
        ClauseCode::Publication,
        ClauseCode::Costs,
    ] {
        assert!(clauses.contains(&needed), "{needed} in {clauses:?}");
    }
    let docs: Vec<&str> = c.documents.iter().map(|d| &*d.code).collect();
    for needed in [
        "research_plan",
        "ethics_approval",
        "variable_list",
        "cost_specification",
        "data_processing_agreement",
    ] {
        assert!(docs.contains(&needed), "{needed} in {docs:?}");
    }
    // International sharing is also a grey zone (seed 002), but the type stays decided.
    assert!(c.has_obligation(ObligationCode::LegalReview));
    assert_eq!(
        c.outcome.collaboration_type(),
        Some(CollaborationType::ResearchPublicPrincipal)
    );
}

#[test]
fn parties_follow_the_type() {
    let rb = shipped();
    // 000_8f4d98e28584af27.txt, "Forskningssamarbete med industrin": CPUA, research principal and company.
    let c = classify(&rb, &facts(typical()), &[]);
    assert_eq!(c.parties.instrument, Some(Instrument::Agreement));
    assert_eq!(
        c.parties.signatories,
        [Role::Cpua, Role::Company, Role::ResearchPrincipal]
    );
    assert_eq!(c.parties.company_is_research_principal, Some(false));
    let c = classify(
        &rb,
        &facts(with(
            typical(),
            json!({"research_principal_kind": "company", "analysis_by": "company"}),
        )),
        &[],
    );
    assert_eq!(c.parties.company_is_research_principal, Some(true));
    assert_eq!(
        c.parties.signatories,
        [Role::Cpua, Role::Company, Role::ResearchPrincipal]
    );
    let c = classify(
        &rb,
        &facts(
            json!({"research_principal_kind": "none", "is_research": "no", "purpose": "statistics",
                      "company_receives": "aggregated"}),
        ),
        &[],
    );
    assert_eq!(c.parties.instrument, Some(Instrument::Decision));
    assert_eq!(c.parties.signatories, [Role::Cpua, Role::Company]);
}

#[test]
fn what_if_without_registers_gets_type_and_obligations() {
    let rb = shipped();
    let mut v = typical();
    if let Some(o) = v.as_object_mut() {
        o.remove("registers");
    }
    let c = classify(&rb, &facts(v), &[]);
    assert_eq!(
        c.outcome.collaboration_type(),
        Some(CollaborationType::ResearchPublicPrincipal)
    );
    assert!(c.has_obligation(ObligationCode::EthicsApproval));
    assert!(c.has_obligation(ObligationCode::ConfidentialityReview));
    // Choosing registers under several CPUAs would add an obligation, so registers is missing.
    assert_eq!(c.missing, [FactId::Registers]);
}

#[test]
fn missing_lists_only_facts_that_would_change_the_outcome() {
    let rb = shipped();
    let mut v = typical();
    if let Some(o) = v.as_object_mut() {
        // Sector matters (pharma appendix); with a public principal, analysis_by does not change the type
        // once the principal receives pseudonymised data.
        o.remove("sector");
        o.remove("analysis_by");
    }
    let c = classify(&rb, &facts(v), &regs(&[("swedeheart", "Region Uppsala")]));
    assert_eq!(c.missing, [FactId::Sector]);
    assert_eq!(
        c.outcome.collaboration_type(),
        Some(CollaborationType::ResearchPublicPrincipal)
    );
}

#[test]
fn sensitivity_shows_which_answers_matter() {
    let rb = shipped();
    let c = classify(
        &rb,
        &facts(typical()),
        &regs(&[("swedeheart", "Region Uppsala")]),
    );
    let s = |f: FactId| c.sensitivity.iter().find(|s| s.fact == f).copied();
    let kind = s(FactId::ResearchPrincipalKind).unwrap();
    assert!(kind.changes_type && kind.given);
    let sector = s(FactId::Sector).unwrap();
    assert!(!sector.changes_type && sector.changes_obligations);
    let key = s(FactId::KeyRetentionMonths).unwrap();
    assert!(!key.changes_type && key.changes_obligations);
    assert_eq!(c.sensitivity.len(), FactId::ALL.len());
    // classify_core leaves sensitivity out but otherwise agrees.
    let core = classify_core(
        &rb,
        &facts(typical()),
        &regs(&[("swedeheart", "Region Uppsala")]),
    );
    assert!(core.sensitivity.is_empty());
    assert_eq!(core.obligations, c.obligations);
    assert_eq!(core.outcome, c.outcome);
}

#[test]
fn classification_round_trips_through_json() {
    let rb = shipped();
    let c = classify(
        &rb,
        &facts(typical()),
        &regs(&[("swedeheart", "Region Uppsala")]),
    );
    let text = serde_json::to_string(&c).unwrap();
    assert!(text.contains("\"type\":\"research-public-principal\""));
    assert!(text.contains("\"status\":\"classified\""));
    let back: Classification = serde_json::from_str(&text).unwrap();
    assert_eq!(back, c);
}

#[test]
fn rulebook_set_picks_the_version_in_force() {
    let a = shipped();
    let b = Rulebook::parse(
        "2027-01-01.toml",
        &SHIPPED
            .replace("version = \"2026.1\"", "version = \"2027.1\"")
            .replace("effective_from = 2026-07-01", "effective_from = 2027-01-01"),
    )
    .unwrap();
    let set = RulebookSet::new(vec![b, a.clone()]).unwrap();
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert!(set.effective_on(d(2026, 6, 30)).is_none());
    assert_eq!(set.effective_on(d(2026, 7, 1)).unwrap().version, "2026.1");
    assert_eq!(set.effective_on(d(2027, 3, 1)).unwrap().version, "2027.1");
    assert_eq!(set.by_version("2026.1").unwrap().file, "2026-07-01.toml");
    assert!(RulebookSet::new(vec![a.clone(), a]).is_err());
}

// ------------------------------------------------------------------------------------------------
// The checker: each error names file and line.

const HEADER: &str = r#"version = "test"
effective_from = 2026-01-01

[unclassified]
reason_sv = "Ingen regel"
reason_en = "No rule"
source = { file = "DOMAIN.md", section = "Collaboration types: our working taxonomy" }

[[type]]
code = "statistics"
label_sv = "Statistik"
label_en = "Statistics"
instrument = "decision"
parties = ["cpua", "company"]

[[type]]
code = "commissioned-analysis"
label_sv = "Uppdrag"
label_en = "Commission"
instrument = "agreement"
parties = ["cpua", "company"]
clauses = ["costs"]

[[obligation]]
code = "legal_review"
label_sv = "Juridisk granskning"
label_en = "Legal review"
gates_step = 2

[[obligation]]
code = "ethics_approval"
label_sv = "Etik"
label_en = "Ethics"
gates_step = 4

[[clause]]
code = "costs"
label_sv = "Kostnader"
label_en = "Costs"
"#;

fn rule(id: &str, when: &str, then: &str) -> String {
    format!(
        "\n[[rule]]\nid = \"{id}\"\nwhen = \"{when}\"\nthen = {then}\nreason_sv = \"sv\"\nreason_en = \"en\"\nsource = {{ file = \"000_8f4d98e28584af27.txt\", section = \"Etikprövning\" }}\n"
    )
}

fn line_of(text: &str, needle: &str) -> usize {
    let pos = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"));
    text[..pos].matches('\n').count() + 1
}

fn errors_of(text: &str) -> Vec<RulebookError> {
    match Rulebook::parse("draft.toml", text) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

#[test]
fn a_small_sound_rulebook_passes() {
    let text = format!(
        "{HEADER}{}{}",
        rule(
            "a",
            "is_research = no and purpose = statistics",
            "{ type = \"statistics\" }"
        ),
        rule(
            "b",
            "is_research = yes",
            "{ obligation = \"ethics_approval\" }"
        )
    );
    assert!(Rulebook::parse("draft.toml", &text).is_ok());
}

#[test]
fn checker_reports_unknown_fact_with_line() {
    let text = format!(
        "{HEADER}{}",
        rule("a", "colour = red", "{ type = \"statistics\" }")
    );
    let e = errors_of(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].line, line_of(&text, "when = \"colour"));
    assert!(e[0].message.contains("unknown fact `colour`"));
    assert_eq!(
        e[0].to_string(),
        format!("draft.toml:{}: {}", e[0].line, e[0].message)
    );
}

#[test]
fn checker_reports_unknown_value() {
    let text = format!(
        "{HEADER}{}",
        rule("a", "purpose = fun", "{ type = \"statistics\" }")
    );
    let e = errors_of(&text);
    assert_eq!(e[0].line, line_of(&text, "when = \"purpose"));
    assert!(e[0].message.contains("unknown value `fun`"));
}

#[test]
fn checker_reports_a_rule_that_can_never_fire() {
    let text = format!(
        "{HEADER}{}",
        rule(
            "never",
            "is_research = yes and is_research = no",
            "{ type = \"statistics\" }"
        )
    );
    let e = errors_of(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].line, line_of(&text, "[[rule]]\nid = \"never\""));
    assert!(e[0].message.contains("can never fire"));
    let text = format!(
        "{HEADER}{}",
        rule(
            "never2",
            "key_retention_months > 5 and key_retention_months < 4",
            "{ obligation = \"ethics_approval\" }"
        )
    );
    assert!(errors_of(&text)[0].message.contains("can never fire"));
}

#[test]
fn checker_reports_conflicting_types() {
    let text = format!(
        "{HEADER}{}{}",
        rule("stats", "purpose = statistics", "{ type = \"statistics\" }"),
        rule(
            "analysis",
            "company_receives = aggregated",
            "{ type = \"commissioned-analysis\" }"
        )
    );
    let e = errors_of(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].line, line_of(&text, "[[rule]]\nid = \"analysis\""));
    assert!(
        e[0].message.contains("conflicts with rule `stats`"),
        "{}",
        e[0].message
    );
    assert!(e[0].message.contains("purpose = statistics"));
    // Overlap with the same conclusion is fine; so is an unclassified rule that is disjoint.
    let text = format!(
        "{HEADER}{}{}{}",
        rule("s1", "purpose = statistics", "{ type = \"statistics\" }"),
        rule(
            "s2",
            "company_receives = aggregated and purpose = statistics",
            "{ type = \"statistics\" }"
        ),
        rule(
            "grey",
            "purpose = algorithm_training",
            "{ unclassified = true }"
        )
    );
    assert!(Rulebook::parse("draft.toml", &text).is_ok());
}

#[test]
fn checker_reports_missing_translation() {
    let mut text = format!(
        "{HEADER}{}",
        rule("a", "purpose = statistics", "{ type = \"statistics\" }")
    );
    text = text.replace("reason_en = \"en\"\n", "");
    let e = errors_of(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].line, line_of(&text, "[[rule]]\nid = \"a\""));
    assert!(e[0].message.contains("missing translation"));
    let text = format!(
        "{HEADER}{}",
        rule("a", "purpose = statistics", "{ type = \"statistics\" }")
    )
    .replace("reason_sv = \"sv\"", "reason_sv = \"  \"");
    let e = errors_of(&text);
    assert_eq!(e[0].line, line_of(&text, "reason_sv = \"  \""));
    assert!(e[0].message.contains("missing translation"));
    let text = HEADER.replace("label_en = \"Costs\"\n", "");
    assert!(errors_of(&text)[0].message.contains("missing translation"));
}

#[test]
fn checker_reports_unknown_codes_and_missing_source() {
    let text = format!(
        "{HEADER}{}",
        rule(
            "a",
            "purpose = statistics",
            "{ obligation = \"free_lunch\" }"
        )
    );
    let e = errors_of(&text);
    assert_eq!(
        e[0].line,
        line_of(&text, "then = { obligation = \"free_lunch\"")
    );
    assert!(e[0]
        .message
        .contains("unknown obligation code `free_lunch`"));

    let text = HEADER.replace(
        "clauses = [\"costs\"]",
        "clauses = [\"costs\", \"golden_parachute\"]",
    );
    let e = errors_of(&text);
    assert_eq!(e[0].line, line_of(&text, "clauses = [\"costs\", \"golden"));
    assert!(e[0]
        .message
        .contains("unknown clause code `golden_parachute`"));

    let text = format!(
        "{HEADER}{}",
        rule("a", "purpose = statistics", "{ type = \"statistics\" }")
    )
    .replace(
        "source = { file = \"000_8f4d98e28584af27.txt\", section = \"Etikprövning\" }\n",
        "",
    );
    let e = errors_of(&text);
    assert_eq!(e[0].line, line_of(&text, "[[rule]]\nid = \"a\""));
    assert!(e[0].message.contains("missing source"));

    let text = format!(
        "{HEADER}{}",
        rule("a", "purpose = statistics", "{ type = \"statistics\" }")
    )
    .replace("section = \"Etikprövning\"", "section = \"\"");
    assert!(errors_of(&text)[0].message.contains("missing source"));

    let text = format!(
        "{HEADER}{}",
        rule("a", "purpose = statistics", "{ type = \"lottery\" }")
    );
    assert!(errors_of(&text)[0]
        .message
        .contains("unknown collaboration type `lottery`"));
}

#[test]
fn checker_reports_toml_errors_with_line() {
    let text = format!("{HEADER}\n[[rule]]\nid = \"a\"\nwhen = \n");
    let e = errors_of(&text);
    assert_eq!(e.len(), 1);
    assert!(e[0].line >= line_of(&text, "id = \"a\""), "{e:?}");
    let text = format!("{HEADER}\nsurprise = 1\n");
    let e = errors_of(&text);
    assert!(e[0].message.contains("surprise"), "{e:?}");
}

#[test]
fn checker_reports_duplicate_rule_ids() {
    let text = format!(
        "{HEADER}{}{}",
        rule("a", "purpose = statistics", "{ type = \"statistics\" }"),
        rule(
            "a",
            "is_research = yes",
            "{ obligation = \"ethics_approval\" }"
        )
    );
    assert!(errors_of(&text)[0].message.contains("used twice"));
}

// ------------------------------------------------------------------------------------------------
// Properties over all fact combinations.

mod properties {
    use super::*;
    use crate::domain::classification::condition::Tri;
    use crate::domain::classification::rulebook::Conclusion;
    use proptest::prelude::*;
    use proptest::sample::select;
    use std::sync::OnceLock;

    fn rb() -> &'static Rulebook {
        static RB: OnceLock<Rulebook> = OnceLock::new();
        RB.get_or_init(shipped)
    }

    fn opt<T: Clone + std::fmt::Debug + 'static>(
        values: &'static [T],
    ) -> impl Strategy<Value = Option<T>> {
        prop::option::weighted(0.85, select(values))
    }

    const REGISTERS: &[(&str, &str)] = &[
        ("swedeheart", "Region Uppsala"),
        ("riksstroke", "Region Västerbotten"),
        ("senior-alert", "Region Östergötland"),
        ("rikshoft", "Region Uppsala"),
    ];
    const COUNTRIES: &[&str] = &["SE", "NO", "DE", "US", "CH", "CN"];

    prop_compose! {
        fn any_case()(
            kind in opt(PrincipalKind::ALL),
            research in opt(IsResearch::ALL),
            purpose in opt(Purpose::ALL),
            company in opt(Receives::ALL),
            principal in opt(Receives::ALL),
            analysis in opt(AnalysisBy::ALL),
            sector in opt(Sector::ALL),
            processor in prop::option::of(any::<bool>()),
            ids in prop::option::of(prop::bool::weighted(0.5).prop_flat_map(|_| prop::collection::vec(0usize..REGISTERS.len(), 0..3))),
            linkage in prop::option::of(prop::collection::vec(select(LinkageAuthority::ALL), 0..3)),
            countries in prop::option::of(prop::collection::vec(select(COUNTRIES), 0..3)),
            idn in prop::option::of(any::<bool>()),
            effort in prop::option::of(any::<bool>()),
            key in prop::option::of(0u32..24),
        ) -> (Facts, Vec<RegisterInfo>) {
            let mut registers: Vec<RegisterInfo> = Vec::new();
            let ids = ids.map(|ids| {
                let mut out: Vec<String> = Vec::new();
                for i in ids {
                    let (id, cpua) = REGISTERS[i];
                    if !out.iter().any(|x| x == id) {
                        out.push(id.to_string());
                        registers.extend(regs(&[(id, cpua)]));
                    }
                }
                out
            });
            let mut linkage_list = linkage;
            if let Some(l) = linkage_list.as_mut() { l.sort(); l.dedup(); }
            let countries = countries.map(|cs| {
                let mut out: Vec<CountryCode> = cs.iter().filter_map(|c| CountryCode::parse(c).ok()).collect();
                out.sort(); out.dedup(); out
            });
            (Facts {
                research_principal_kind: kind,
                is_research: research,
                purpose,
                company_receives: company,
                principal_receives: principal,
                analysis_by: analysis,
                sector,
                registers: ids,
                linkage_with: linkage_list,
                external_processor: processor,
                recipient_countries: countries,
                identity_numbers_requested: idn,
                effort_beyond_routine: effort,
                key_retention_months: key,
            }, registers)
        }
    }

    fn obligations(c: &Classification) -> Vec<ObligationCode> {
        c.obligation_codes()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Exactly one outcome: never two type rules with different conclusions, and a complete set of
        /// type facts is never "incomplete".
        #[test]
        fn exactly_one_outcome((f, r) in any_case()) {
            let rb = rb();
            let env = crate::domain::classification::classify::env_of(&f, &r);
            let mut conclusions: Vec<Conclusion> = rb.type_rules.iter()
                .filter(|rule| rule.cond.eval(&env).0 == Tri::True)
                .map(|rule| rule.conclusion)
                .collect();
            conclusions.dedup();
            prop_assert!(conclusions.len() <= 1, "{conclusions:?}");
            let c = classify(rb, &f, &r);
            let type_facts_given = FactId::ALL.iter().all(|&id| rb.type_rules.iter().fold(0u16, |m, r| m | r.mask) & id.bit() == 0 || f.is_given(id));
            if type_facts_given {
                let incomplete = matches!(c.outcome, Outcome::Unclassified { incomplete: true, .. });
                prop_assert!(!incomplete);
            }
            // Unclassified (not merely incomplete) always goes to legal review.
            if matches!(c.outcome, Outcome::Unclassified { incomplete: false, .. }) {
                prop_assert!(c.has_obligation(ObligationCode::LegalReview));
            }
            // Missing facts are never given facts.
            for m in &c.missing { prop_assert!(!f.is_given(*m)); }
        }

        #[test]
        fn deterministic((f, r) in any_case()) {
            let rb = rb();
            let a = classify(rb, &f, &r);
            let b = classify(rb, &f, &r);
            prop_assert_eq!(&a, &b);
            let text = serde_json::to_string(&a).unwrap();
            let back: Classification = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, a);
        }

        /// Adding identifiable data to what a party receives never removes an obligation.
        #[test]
        fn more_identifiable_data_never_removes_an_obligation((f, r) in any_case(), company in any::<bool>()) {
            let rb = rb();
            let before = obligations(&classify(rb, &f, &r));
            let mut g = f.clone();
            if company { g.company_receives = Some(Receives::Identifiable); } else { g.principal_receives = Some(Receives::Identifiable); }
            let after = obligations(&classify(rb, &g, &r));
            for o in &before {
                prop_assert!(after.contains(o), "{o} lost: {before:?} -> {after:?}");
            }
        }

        /// A company research principal always brings a confidentiality reservation.
        #[test]
        fn company_principal_always_has_reservation((f, r) in any_case()) {
            let mut g = f;
            g.research_principal_kind = Some(PrincipalKind::Company);
            let c = classify(rb(), &g, &r);
            prop_assert!(c.has_obligation(ObligationCode::ConfidentialityReservation));
        }

        /// The fast sensitivity agrees with brute force over every alternative value of the closed facts.
        #[test]
        fn sensitivity_agrees_with_brute_force((f, r) in any_case()) {
            let rb = rb();
            let c = classify(rb, &f, &r);
            let key = |c: &Classification| (c.outcome.collaboration_type(), matches!(c.outcome, Outcome::Unclassified { incomplete: true, .. }), matches!(c.outcome, Outcome::Unclassified { rule_id: Some(_), .. }));
            for s in &c.sensitivity {
                let alternatives: Vec<Facts> = match s.fact {
                    FactId::ResearchPrincipalKind => PrincipalKind::ALL.iter().map(|v| Facts { research_principal_kind: Some(*v), ..f.clone() }).collect(),
                    FactId::IsResearch => IsResearch::ALL.iter().map(|v| Facts { is_research: Some(*v), ..f.clone() }).collect(),
                    FactId::Purpose => Purpose::ALL.iter().map(|v| Facts { purpose: Some(*v), ..f.clone() }).collect(),
                    FactId::CompanyReceives => Receives::ALL.iter().map(|v| Facts { company_receives: Some(*v), ..f.clone() }).collect(),
                    FactId::PrincipalReceives => Receives::ALL.iter().map(|v| Facts { principal_receives: Some(*v), ..f.clone() }).collect(),
                    FactId::AnalysisBy => AnalysisBy::ALL.iter().map(|v| Facts { analysis_by: Some(*v), ..f.clone() }).collect(),
                    FactId::Sector => Sector::ALL.iter().map(|v| Facts { sector: Some(*v), ..f.clone() }).collect(),
                    FactId::EffortBeyondRoutine => [false, true].iter().map(|v| Facts { effort_beyond_routine: Some(*v), ..f.clone() }).collect(),
                    _ => continue,
                };
                let mut type_changes = false;
                let mut obligation_changes = false;
                for g in alternatives {
                    let d = classify_core(rb, &g, &r);
                    type_changes |= key(&d) != key(&c);
                    obligation_changes |= d.obligation_codes() != c.obligation_codes();
                }
                prop_assert_eq!(s.changes_type, type_changes, "type sensitivity of {}", s.fact);
                prop_assert_eq!(s.changes_obligations, obligation_changes, "obligation sensitivity of {}", s.fact);
            }
        }
    }
}

#[test]
fn every_obligation_is_declared_and_concluded_by_some_rule() {
    let rb = shipped();
    for &code in ObligationCode::ALL {
        let info = rb
            .obligation_info(code)
            .unwrap_or_else(|| panic!("{code} not declared"));
        assert!((1..=9).contains(&info.gates_step));
        let concluded = rb
            .obligation_rules
            .iter()
            .any(|r| r.conclusion == rulebook::Conclusion::Obligation(code));
        assert!(concluded, "no rule concludes {code}");
    }
    for &t in CollaborationType::ALL {
        let info = rb
            .type_info(t)
            .unwrap_or_else(|| panic!("{t} not declared"));
        assert!(
            info.parties.contains(&Role::Cpua),
            "{t}: the CPUA is always a party"
        );
        let concluded = rb
            .type_rules
            .iter()
            .any(|r| r.conclusion == rulebook::Conclusion::Type(t));
        assert!(concluded, "no rule concludes {t}");
    }
    for &c in ClauseCode::ALL {
        assert!(rb.clause_label(c).is_some(), "clause {c} has no labels");
    }
    assert!(rb.document_label("research_plan").is_some());
}

#[test]
fn checker_counts_lines_inside_multi_line_conditions() {
    let text = format!(
        "{HEADER}\n[[rule]]\nid = \"multi\"\nwhen = \"\"\"\nis_research = yes and\n  colour = red\"\"\"\nthen = {{ type = \"statistics\" }}\nreason_sv = \"sv\"\nreason_en = \"en\"\nsource = {{ file = \"f\", section = \"s\" }}\n"
    );
    let e = errors_of(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].line, line_of(&text, "  colour = red"));
}

/// Exhaustive over every combination of the closed facts that decide the type (7,680 combinations, each
/// also with all of its other facts missing): exactly one outcome, unclassified goes to legal review, a
/// company principal brings a confidentiality reservation, and raising what either party receives to
/// identifiable never removes an obligation.
#[test]
fn exhaustive_over_type_deciding_facts() {
    let rb = shipped();
    let mut count = 0;
    for &kind in PrincipalKind::ALL {
        for &research in IsResearch::ALL {
            for &purpose in Purpose::ALL {
                for &company in Receives::ALL {
                    for &principal in Receives::ALL {
                        for &analysis in AnalysisBy::ALL {
                            count += 1;
                            let f = Facts {
                                research_principal_kind: Some(kind),
                                is_research: Some(research),
                                purpose: Some(purpose),
                                company_receives: Some(company),
                                principal_receives: Some(principal),
                                analysis_by: Some(analysis),
                                ..Facts::default()
                            };
                            let c = classify_core(&rb, &f, &[]);
                            let incomplete = matches!(
                                c.outcome,
                                Outcome::Unclassified {
                                    incomplete: true,
                                    ..
                                }
                            );
                            assert!(!incomplete, "{f:?}");
                            if c.outcome.collaboration_type().is_none() {
                                assert!(c.has_obligation(ObligationCode::LegalReview), "{f:?}");
                            }
                            if kind == PrincipalKind::Company {
                                assert!(
                                    c.has_obligation(ObligationCode::ConfidentialityReservation),
                                    "{f:?}"
                                );
                            }
                            let before = c.obligation_codes();
                            for raised in [
                                Facts {
                                    company_receives: Some(Receives::Identifiable),
                                    ..f.clone()
                                },
                                Facts {
                                    principal_receives: Some(Receives::Identifiable),
                                    ..f.clone()
                                },
                            ] {
                                let after = classify_core(&rb, &raised, &[]).obligation_codes();
                                assert!(
                                    before.iter().all(|o| after.contains(o)),
                                    "{f:?}: {before:?} -> {after:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(count, 7680);
}
