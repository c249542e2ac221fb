//! Agreement generation: every template, both languages, every taxonomy type, three formats; template
//! checks; validation; deviations and diffs; and the files read back by LibreOffice and python-docx.
use std::path::{Path, PathBuf};
use std::process::Command;

use samverkan::domain::agreement::data::{AgreementData, Deviation, CLAUSE_CODES};
use samverkan::domain::agreement::diff::{diff, ChangeKind};
use samverkan::domain::agreement::{validate, Block, ClauseKind, Document};
use samverkan::domain::lang::Lang;
use samverkan::domain::money::Money;
use samverkan::render::{self, Format, RenderError};
use samverkan::templates::{self, TemplateSet};

const EXAMPLES: [&str; 6] = [
    "three-party",
    "research-company-principal",
    "regulatory-follow-up",
    "statistics",
    "commissioned-analysis",
    "register-development",
];

fn set() -> TemplateSet {
    TemplateSet::builtin().unwrap_or_else(|e| panic!("built-in templates: {e:#?}"))
}

fn templates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contract-templates")
}

/// The clauses that make sense for a type (the data-release ones need microdata).
fn applicable_clauses(kind: &str) -> Vec<String> {
    CLAUSE_CODES
        .iter()
        .filter(|c| {
            samverkan::domain::agreement::data::releases_microdata(kind)
                || **c != "extended_key_retention"
        })
        .map(|c| c.to_string())
        .collect()
}

/// Fills whatever each clause needs so any combination validates.
fn with_clauses(mut d: AgreementData, mut clauses: Vec<String>) -> AgreementData {
    let all = render::schema_sample();
    // Linkage brings the clause on who links and keeps the key (seed 002, "Utbildningens innehåll").
    if clauses.iter().any(|c| c == "linkage") && !clauses.iter().any(|c| c == "cpua_coordination") {
        clauses.push("cpua_coordination".into());
    }
    d.coordination = Some(samverkan::domain::agreement::data::Coordination {
        linkage_by: "Socialstyrelsen".into(),
        key_custodian: "Socialstyrelsen".into(),
    });
    d.identity_number_justification = all
        .identity_number_justification
        .map(|_| "Nödvändigt för samkörning.".into());
    d.processor = Some(samverkan::domain::agreement::data::Processor {
        name: "Biträde AB".into(),
        org_number: "556000-0001".into(),
        task: "Analys".into(),
    });
    d.third_country = Some(samverkan::domain::agreement::data::ThirdCountry {
        country: "USA".into(),
        safeguard: "Standardavtalsklausuler".into(),
    });
    d.product = Some(samverkan::domain::agreement::data::Product {
        name: "Produkt X".into(),
        authorisation: "EU/1/00/0001".into(),
    });
    if d.linkage.is_empty() {
        d.linkage = vec![samverkan::domain::agreement::data::Linkage {
            authority: "SCB".into(),
            registers: vec!["LISA".into()],
        }];
    }
    if clauses.iter().any(|c| c == "extended_key_retention") {
        if let Some(r) = d.data_release.as_mut() {
            r.key_retention_months = Some(6);
        }
    } else if let Some(r) = d.data_release.as_mut() {
        r.key_retention_months = Some(3);
    }
    if let Some(r) = d.data_release.as_mut() {
        r.pseudonymised = !clauses.iter().any(|c| c == "identity_number_justification");
    }
    if d.collaboration_type == "research-company-principal"
        && !clauses.iter().any(|c| c == "confidentiality_reservation")
    {
        // Seed 000: a company as principal always gets the reservation; keep it.
        let mut c = clauses;
        c.push("confidentiality_reservation".into());
        d.clauses = c;
        return d;
    }
    d.clauses = clauses;
    d
}

fn all_outputs(doc: &Document) -> (String, String, Vec<u8>, Vec<u8>) {
    let html = String::from_utf8(render::render(doc, Format::Html).unwrap()).unwrap();
    let docx = render::render(doc, Format::Docx).unwrap();
    let pdf = render::render(doc, Format::Pdf).unwrap();
    (doc.plain_text(), html, docx, pdf)
}

/// A DOCX is a zip; its content is read back by the LibreOffice and python-docx tests below.
fn assert_zip(docx: &[u8]) {
    assert_eq!(&docx[..2], b"PK", "DOCX must be a zip file");
}

#[test]
fn every_type_renders_in_both_languages_with_its_content() {
    let set = set();
    for name in EXAMPLES {
        for lang in [Lang::Sv, Lang::En] {
            let data = render::example(name, lang).unwrap();
            let doc = render::build_document(&set, &data)
                .unwrap_or_else(|e| panic!("{name} {lang:?}: {e}"));
            let (text, html, docx, pdf) = all_outputs(&doc);
            for party in &data.parties {
                assert!(text.contains(&party.name), "{name}: party {}", party.name);
                assert!(text.contains(&party.org_number), "{name}: org number");
                assert!(text.contains(&party.signatory.name), "{name}: signatory");
                assert!(html.contains(&party.name), "{name}: party in HTML");
            }
            let costs = data.costs.as_ref().unwrap();
            let estimate = costs.estimate.unwrap().format(lang);
            assert!(
                text.contains(&estimate),
                "{name} {lang:?}: estimate {estimate}"
            );
            assert!(html.contains(&estimate), "{name}: estimate in HTML");
            assert!(
                text.contains(&costs.vat().unwrap().format(lang)),
                "{name}: VAT"
            );
            for code in CLAUSE_CODES {
                assert_eq!(
                    doc.clause(code).is_some(),
                    data.has_clause(code),
                    "{name} {lang:?}: clause {code}"
                );
            }
            // Every agreement covers the list.
            for code in [
                "parties",
                "background",
                "collaboration_type",
                "goals",
                "deliverables",
                "responsibility",
                "data_protection",
                "publication",
                "report_back",
                "costs",
                "term",
                "archiving",
                "disputes",
                "appendix_research_plan",
                "appendix_variables",
                "appendix_costs",
                "appendix_deliverables",
            ] {
                assert!(
                    doc.clause(code).is_some(),
                    "{name} {lang:?}: missing {code}"
                );
            }
            if samverkan::domain::agreement::data::is_three_party(&data.collaboration_type) {
                assert!(doc.clause("data_release").is_some());
                assert!(doc.clause("ethics").is_some());
                assert!(text.contains(&data.ethics.as_ref().unwrap().reference));
            }
            assert!(
                text.contains("2020"),
                "basis in the SKR–industry agreement of 1 July 2020"
            );
            assert!(text.contains("ICMJE"));
            let (law, date) = match lang {
                Lang::Sv => ("Svensk lag", "1 juli 2020"),
                Lang::En => ("Swedish law", "1 July 2020"),
            };
            assert!(text.contains(law) && text.contains(date), "{name} {lang:?}");
            assert!(doc.clauses().any(|c| c.kind == ClauseKind::Appendix));
            assert!(doc.blocks.iter().any(|b| matches!(b, samverkan::domain::agreement::Block::Signatures { signatures } if signatures.len() == data.parties.len())));
            for out in [&text, &html] {
                assert!(
                    !out.contains("{{") && !out.contains("}}"),
                    "{name}: left-over braces"
                );
            }
            assert!(
                !html.contains("src=") && !html.contains("href="),
                "no external resources"
            );
            assert_zip(&docx);
            assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
        }
    }
}

#[test]
fn dates_and_amounts_per_language() {
    let set = set();
    let sv =
        render::build_document(&set, &render::example("three-party", Lang::Sv).unwrap()).unwrap();
    let en =
        render::build_document(&set, &render::example("three-party", Lang::En).unwrap()).unwrap();
    let (sv, en) = (sv.plain_text(), en.plain_text());
    assert!(sv.contains("1 mars 2027"));
    assert!(en.contains("1 March 2027"));
    assert!(sv.contains("139\u{a0}000,00\u{a0}kr"));
    assert!(en.contains("SEK\u{a0}139,000.00"));
    assert!(sv.contains("25\u{a0}%"));
    assert!(en.contains("25%"));
}

#[test]
fn every_clause_combination_renders_for_every_type() {
    let set = set();
    for name in EXAMPLES {
        let base = render::example(name, Lang::Sv).unwrap();
        let kind = base.collaboration_type.clone();
        let mut combos = vec![Vec::new(), applicable_clauses(&kind)];
        for c in applicable_clauses(&kind) {
            combos.push(vec![c]);
        }
        for clauses in combos {
            for lang in [Lang::Sv, Lang::En] {
                let mut d = with_clauses(base.clone(), clauses.clone());
                d.language = lang;
                let doc = render::build_document(&set, &d)
                    .unwrap_or_else(|e| panic!("{name} {clauses:?} {lang:?}: {e}"));
                for code in CLAUSE_CODES {
                    assert_eq!(
                        doc.clause(code).is_some(),
                        d.has_clause(code),
                        "{name} {code} {clauses:?}"
                    );
                }
                if d.has_clause("pharma_appendix") {
                    assert!(doc.clause("appendix_pharma").is_some());
                } else {
                    assert!(doc.clause("appendix_pharma").is_none());
                }
            }
        }
    }
}

#[test]
fn values_are_escaped_for_every_format() {
    let set = set();
    let mut d = render::example("three-party", Lang::Sv).unwrap();
    d.background =
        "<script>alert('x')</script> & \"citat\"\n§ evil: Falsk klausul\n| a | b |\n# Titel".into();
    d.goals
        .push("- {{agreement_number}} @sign X | Y | Z | W".into());
    let doc = render::build_document(&set, &d).unwrap();
    // Data never become structure.
    assert!(doc.clause("evil").is_none());
    let bg = doc.clause("background").unwrap();
    assert!(
        matches!(&bg.blocks[0], samverkan::domain::agreement::Block::Paragraph { text } if text.starts_with("<script>") && text.contains("§ evil"))
    );
    let html = String::from_utf8(render::render(&doc, Format::Html).unwrap()).unwrap();
    assert!(!html.contains("<script>"));
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;citat&quot;")
    );
    // PDF text is set as glyph ids, so no value can become PDF syntax; it reads back as typed.
    let pdf = render::render(&doc, Format::Pdf).unwrap();
    if let Some(text) = pdf_text(&pdf, "escaped") {
        assert!(
            text.contains("<script>alert('x')</script> & \"citat\""),
            "{text}"
        );
    }
    assert!(render::render(&doc, Format::Docx).is_ok());
}

#[test]
fn validation_lists_every_missing_item_with_its_step() {
    let d = AgreementData {
        collaboration_type: "research-public-principal".into(),
        clauses: vec!["linkage".into(), "pharma_appendix".into()],
        ..AgreementData::default()
    };
    let missing = validate(&d);
    let fields: Vec<&str> = missing.iter().map(|m| m.field.as_str()).collect();
    for (field, step) in [
        ("agreement_number", 6),
        ("version", 6),
        ("parties.cpua", 4),
        ("parties.company", 1),
        ("parties.research_principal", 1),
        ("background", 1),
        ("purpose", 1),
        ("goals", 1),
        ("deliverables", 1),
        ("data_release", 4),
        ("ethics", 3),
        ("data_protection.storage", 4),
        ("publication.acknowledgement", 6),
        ("report_back", 6),
        ("costs", 2),
        ("term", 6),
        ("disputes.venue", 6),
        ("linkage", 1),
        ("product", 1),
        ("archiving.delete_within_days", 9),
    ] {
        let item = missing
            .iter()
            .find(|m| m.field == field)
            .unwrap_or_else(|| panic!("{field} not listed: {fields:?}"));
        assert_eq!(item.step, step, "{field}");
        assert!(!item.message_sv.is_empty() && !item.message_en.is_empty());
    }
    // Rendering refuses with the same full list: a 422, never a partial document.
    match render::build_document(&set(), &d) {
        Err(RenderError::Missing(items)) => assert_eq!(items, missing),
        other => panic!("expected Missing, got {other:?}"),
    }
}

#[test]
fn a_complete_example_has_nothing_missing_and_field_level_gaps_are_named() {
    for name in EXAMPLES {
        assert_eq!(
            validate(&render::example(name, Lang::Sv).unwrap()),
            vec![],
            "{name}"
        );
    }
    let mut d = render::example("three-party", Lang::Sv).unwrap();
    d.parties[2].org_number.clear();
    d.ethics.as_mut().unwrap().date = None;
    d.costs.as_mut().unwrap().estimate = Some(Money::from_kronor(1).unwrap());
    d.data_release.as_mut().unwrap().password_sent_separately = false;
    let fields: Vec<String> = validate(&d).into_iter().map(|m| m.field).collect();
    assert_eq!(
        fields,
        vec![
            "parties.company.org_number",
            "data_release.password_sent_separately",
            "ethics.date",
            "costs.estimate"
        ]
    );
}

#[test]
fn company_as_principal_needs_the_confidentiality_reservation() {
    // Seed 000, "Forskningssamarbete med industrin".
    let mut d = render::example("research-company-principal", Lang::Sv).unwrap();
    d.clauses.retain(|c| c != "confidentiality_reservation");
    assert!(validate(&d)
        .iter()
        .any(|m| m.field == "clauses.confidentiality_reservation"));
}

#[test]
fn a_deviation_replaces_one_sub_clause_keeps_its_siblings_and_shows_the_original() {
    // Issue 8, item 5: a deviation targets one numbered sub-clause; one changed sentence must never
    // remove the others (seed 000, "Publicering, erkännanden och författarskap").
    let set = set();
    let base = render::example("three-party", Lang::Sv).unwrap();
    let plain = render::build_document(&set, &base).unwrap();
    let publication = plain.clause("publication").unwrap();
    let number = publication.number;
    assert_eq!(
        plain.resolve_target(&format!("{number}.2")),
        Some(("publication".to_string(), Some(2)))
    );
    assert_eq!(
        plain.resolve_target("publication.2"),
        Some(("publication".to_string(), Some(2)))
    );
    assert_eq!(plain.resolve_target(&format!("{number}.99")), None);
    assert_eq!(plain.resolve_target("999.1"), None);
    let dev = Deviation {
        clause: "publication".into(),
        sub_clause: Some(2),
        text:
            "Företaget får läsa manus 60 dagar före inlämning.\n\nI övrigt gäller mallens villkor."
                .into(),
        reason: "Förhandlat med företagets juridik 2027-01-10".into(),
    };
    let data = render::apply_deviation(&set, &base, dev.clone()).unwrap();
    let doc = render::build_document(&set, &data).unwrap();
    let clause = doc.clause("publication").unwrap();
    assert!(clause.deviation.is_none(), "the clause as a whole is kept");
    let text = doc.plain_text();
    assert!(text.contains("60 dagar"));
    // The siblings stay, word for word.
    for kept in [
        "enskilda personers identitet inte röjs",
        "ICMJE:s riktlinjer",
        "vilket register uppgifterna hämtats från",
    ] {
        assert!(text.contains(kept), "{kept}");
    }
    let deviated: Vec<&Block> = clause
        .blocks
        .iter()
        .filter(|b| matches!(b, Block::Deviated { .. }))
        .collect();
    assert_eq!(deviated.len(), 1);
    let Block::Deviated {
        number: sub,
        original,
        blocks,
        ..
    } = deviated[0]
    else {
        unreachable!()
    };
    assert_eq!(sub, &format!("{number}.2"));
    assert!(matches!(&blocks[0], Block::SubClause { number: n, .. } if n == sub));
    let mut orig = String::new();
    for b in original {
        samverkan::domain::agreement::document::block_text(b, &mut orig);
    }
    assert!(orig.contains("30 dagar före inlämning"), "{orig}");
    let appendix = doc.clause("appendix_deviations").unwrap();
    assert_eq!(appendix.kind, ClauseKind::Appendix);
    let mut listing = String::new();
    for b in &appendix.blocks {
        samverkan::domain::agreement::document::block_text(b, &mut listing);
    }
    assert!(listing.contains(&dev.reason));
    assert!(listing.contains("60 dagar") && listing.contains("30 dagar före inlämning"));
    assert!(listing.contains("Mallens ursprungliga text"));
    let (_, html, docx, pdf) = all_outputs(&doc);
    assert!(html.contains("class=\"deviation\""));
    assert!(html.contains("Förhandlat med företagets juridik"));
    assert!(html.contains("Mallens ursprungliga text"));
    assert!(
        html.contains("30 dagar före inlämning"),
        "original beside it"
    );
    if let Some(text) = pdf_text(&pdf, "deviation") {
        assert!(text.contains("Mallens ursprungliga text"), "{text}");
    }
    assert_zip(&docx);
    // Without deviations there is no deviation appendix.
    assert!(plain.clause("appendix_deviations").is_none());
    // A sub-clause that does not exist, a clause the agreement does not have, or a clause with
    // sub-clauses named as a whole, is refused.
    for (clause, sub) in [
        ("publication", Some(99)),
        ("pharma_appendix", Some(1)),
        ("no_such_clause", None),
    ] {
        let bad = Deviation {
            clause: clause.into(),
            sub_clause: sub,
            ..dev.clone()
        };
        assert!(
            matches!(
                render::apply_deviation(&set, &base, bad),
                Err(RenderError::UnknownDeviationClause(_))
            ),
            "{clause} {sub:?}"
        );
    }
    let whole = Deviation {
        sub_clause: None,
        ..dev.clone()
    };
    assert!(matches!(
        render::apply_deviation(&set, &base, whole),
        Err(RenderError::DeviationNeedsSubClause(_))
    ));
    // A clause without sub-clauses may be deviated as a whole.
    let background = Deviation {
        clause: "background".into(),
        sub_clause: None,
        ..dev
    };
    assert!(render::apply_deviation(&set, &base, background).is_ok());
}

#[test]
fn a_deviation_that_drops_a_required_sentence_is_refused_and_keeping_it_is_allowed() {
    // Issue 8, item 5: text an obligation requires cannot be negotiated away.
    let set = set();
    let cases = [
        // Seed 000, "Publicering, erkännanden och författarskap": identities are never revealed.
        ("three-party", "publication", 1, "publication"),
        // Seed 000, "Hantering vid utlämnandet av kvalitetsregisterdata": purpose limitation.
        ("three-party", "data_protection", 1, "purpose_limitation"),
        // Seed 002, "Utbildningens innehåll": who keeps the key.
        ("three-party", "cpua_coordination", 2, "cpua_coordination"),
        // Seed 001, "9. Arkivering och radering av kopior".
        ("three-party", "archiving", 1, "archiving_and_deletion"),
        // Seed 000, "Forskningssamarbete med industrin": the reservation binds the company, OSL 10:14.
        (
            "research-company-principal",
            "confidentiality_reservation",
            1,
            "confidentiality_reservation",
        ),
        (
            "research-company-principal",
            "confidentiality_reservation",
            2,
            "confidentiality_reservation",
        ),
    ];
    for lang in [Lang::Sv, Lang::En] {
        for (example, clause, sub, code) in cases {
            let base = render::example(example, lang).unwrap();
            let weakened = Deviation {
                clause: clause.into(),
                sub_clause: Some(sub),
                text: "Parterna är överens om annat.".into(),
                reason: "Förhandlat".into(),
            };
            match render::apply_deviation(&set, &base, weakened) {
                Err(RenderError::DeviationRemovesRequired {
                    clause: c,
                    required,
                    ..
                }) => {
                    assert_eq!(c, clause);
                    assert_eq!(required.clause, code);
                }
                other => panic!("{example} {clause}.{sub} {lang:?}: {other:?}"),
            }
            // The same sub-clause with every required sentence kept and something added is allowed.
            let doc = render::build_document(&set, &base).unwrap();
            let c = doc.clause(clause).unwrap();
            let kept: Vec<String> = c
                .blocks
                .iter()
                .filter_map(|b| match b {
                    Block::SubClause { required, .. } => Some(required.clone()),
                    _ => None,
                })
                .nth(sub as usize - 1)
                .unwrap()
                .into_iter()
                .map(|r| r.text)
                .collect();
            assert!(!kept.is_empty(), "{clause}.{sub} has a required sentence");
            let keeps = Deviation {
                clause: clause.into(),
                sub_clause: Some(sub),
                text: format!("{} Därutöver gäller en tilläggstext.", kept.join(" ")),
                reason: "Förhandlat".into(),
            };
            assert!(
                render::apply_deviation(&set, &base, keeps).is_ok(),
                "{example} {clause}.{sub} {lang:?}"
            );
        }
    }
}

#[test]
fn clause_diff_between_versions_as_html() {
    let set = set();
    let v1 = render::example("three-party", Lang::Sv).unwrap();
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.clauses.retain(|c| c != "data_processing_agreement");
    v2.clauses.push("extended_key_retention".into());
    v2.data_release.as_mut().unwrap().key_retention_months = Some(6);
    v2.costs.as_mut().unwrap().hours = Some(130);
    v2.costs.as_mut().unwrap().estimate = Some(Money::from_ore(14_850_000).unwrap());
    let (d1, d2) = (
        render::build_document(&set, &v1).unwrap(),
        render::build_document(&set, &v2).unwrap(),
    );
    let changes = diff(&d1, &d2);
    let kind = |code: &str| {
        changes
            .changes
            .iter()
            .find(|c| c.code == code)
            .map(|c| c.change)
    };
    assert_eq!(kind("data_processing_agreement"), Some(ChangeKind::Removed));
    assert_eq!(kind("extended_key_retention"), Some(ChangeKind::Added));
    assert_eq!(kind("costs"), Some(ChangeKind::Changed));
    assert_eq!(kind("goals"), Some(ChangeKind::Unchanged));
    let html = render::diff_html(&d1, &d2);
    assert!(html.contains("data-change=\"removed\"") && html.contains("data-change=\"added\""));
    assert!(html.contains("148\u{a0}500,00\u{a0}kr"));
}

#[test]
fn rendering_all_formats_gives_checksums() {
    let set = set();
    let data = render::example("three-party", Lang::En).unwrap();
    let r = render::render_agreement(&set, &data).unwrap();
    assert_eq!(r.files.len(), 3);
    for f in &r.files {
        assert_eq!(f.sha256, render::sha256_hex(&f.bytes));
        assert_eq!(f.sha256.len(), 64);
    }
    assert_eq!(r.template_version, set.version);
    // The document is stored with the version (JSON) so later diffs need no re-rendering.
    let json = serde_json::to_string(&r.document).unwrap();
    let back: Document = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r.document);
    // Rendering is deterministic: the same data give the same bytes.
    let again = render::render_agreement(&set, &data).unwrap();
    assert_eq!(
        r.file(Format::Html).unwrap().sha256,
        again.file(Format::Html).unwrap().sha256
    );
    assert_eq!(
        r.file(Format::Pdf).unwrap().sha256,
        again.file(Format::Pdf).unwrap().sha256
    );
}

#[test]
fn shipped_templates_pass_the_check_and_match_the_built_in_copy() {
    let report = templates::check(&templates_dir()).unwrap_or_else(|e| panic!("{e:#?}"));
    let three = report
        .templates
        .iter()
        .find(|t| t.file == "sv/three-party.hbs")
        .unwrap();
    assert!(three
        .variables
        .iter()
        .any(|v| v.path == "deliverables.[].what" && v.provided));
    assert!(three.partials.contains("linkage"));
    assert!(report.to_text().contains("costs.estimate"));
    let on_disk = templates::read_dir_sources(&templates_dir()).unwrap();
    let mut built_in: Vec<(String, String)> = templates::BUILTIN_SOURCES
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect();
    built_in.sort();
    assert_eq!(
        on_disk, built_in,
        "BUILTIN_SOURCES must list every template file"
    );
    assert_eq!(
        TemplateSet::load(&templates_dir()).unwrap().version,
        report.version
    );
}

fn broken_dir(tag: &str, file: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("samverkan-broken-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, src) in templates::BUILTIN_SOURCES {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, src).unwrap();
    }
    std::fs::write(dir.join(file), text).unwrap();
    dir
}

#[test]
fn broken_templates_fail_check_and_loading_with_file_line_and_reason() {
    let cases = [
        (
            "helper",
            "sv/partials/disputes.hbs",
            "§ disputes: Tvister\n\n{{shout disputes.venue}}\n",
            3,
            "unknown helper `shout`",
        ),
        (
            "partial",
            "en/partials/disputes.hbs",
            "§ disputes: Disputes\n{{> arbitration}}\n",
            2,
            "unknown partial `arbitration`",
        ),
        (
            "variable",
            "sv/partials/costs.hbs",
            "§ costs: Kostnader\n{{costs.estimat}}\n",
            2,
            "unknown variable `costs.estimat`",
        ),
        (
            "raw",
            "sv/partials/costs.hbs",
            "§ costs: Kostnader\n{{{background}}}\n",
            2,
            "raw output",
        ),
        (
            "syntax",
            "en/partials/costs.hbs",
            "§ costs: Costs\n\n\n{{#if costs}}\nno end\n",
            0,
            "syntax error",
        ),
        (
            "each",
            "sv/partials/costs.hbs",
            "§ costs: Kostnader\n{{#each costs.expenses}}\n| {{descripton}} |\n{{/each}}\n",
            3,
            "costs.expenses.[].descripton",
        ),
    ];
    for (tag, file, text, line, reason) in cases {
        let dir = broken_dir(tag, file, text);
        let errors = templates::check(&dir).expect_err(tag);
        let e = errors
            .iter()
            .find(|e| e.file == file)
            .unwrap_or_else(|| panic!("{tag}: {errors:?}"));
        assert!(e.reason.contains(reason), "{tag}: {e}");
        if line > 0 {
            assert_eq!(e.line, line, "{tag}: {e}");
        } else {
            assert!(e.line > 0, "{tag}: a syntax error names its line: {e}");
        }
        let load = TemplateSet::load(&dir).expect_err(tag);
        assert_eq!(load, errors, "{tag}: start-up fails the same way");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn render_example_for_the_cli() {
    for name in EXAMPLES {
        for format in Format::ALL {
            let bytes = render::render_example(name, Lang::Sv, format).unwrap();
            assert!(!bytes.is_empty());
        }
    }
    assert!(matches!(
        render::render_example("nope", Lang::Sv, Format::Html),
        Err(RenderError::UnknownExample(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Read back by real programs. Under CI (env CI set) a missing program fails the test.

fn tool_missing(what: &str, install: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is required under CI: {install}");
    }
    eprintln!("SKIPPED: {what} not found ({install})");
}

/// The text `pdftotext` reads from a PDF, lines joined by spaces; `None` (skipped) without
/// poppler-utils outside CI.
fn pdf_text(pdf: &[u8], tag: &str) -> Option<String> {
    if Command::new("pdftotext").arg("-v").output().is_err() {
        tool_missing(
            "pdftotext (poppler-utils)",
            "apt-get install -y poppler-utils",
        );
        return None;
    }
    let dir = out_dir(&format!("pdftext-{tag}"));
    let path = dir.join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("run pdftotext");
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Some(String::from_utf8(out.stdout).unwrap().replace('\n', " "))
}

fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("samverkan-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every generated document type in both languages: (file stem, data).
fn all_documents(dir: &Path, format: Format) -> Vec<(PathBuf, AgreementData)> {
    let set = set();
    let mut out = Vec::new();
    for name in EXAMPLES {
        for lang in [Lang::Sv, Lang::En] {
            let mut data = render::example(name, lang).unwrap();
            if name == "three-party" {
                data.deviations.push(Deviation {
                    clause: "costs".into(),
                    sub_clause: Some(4),
                    text: "Avvikande kostnadstext.".into(),
                    reason: "Förhandlat".into(),
                });
            }
            let doc = render::build_document(&set, &data).unwrap();
            let path = dir.join(format!("{name}-{}.{}", lang.code(), format.extension()));
            std::fs::write(&path, render::render(&doc, format).unwrap()).unwrap();
            out.push((path, data));
        }
    }
    out
}

fn expected_texts(data: &AgreementData) -> Vec<String> {
    let mut v: Vec<String> = data.parties.iter().map(|p| p.name.clone()).collect();
    v.push(data.agreement_number.clone());
    v.push(match data.language {
        Lang::Sv => "Publicering och erkännande".into(),
        Lang::En => "Publication and acknowledgement".into(),
    });
    v.push(data.deliverables[0].what.clone());
    v
}

#[test]
fn libreoffice_reads_every_generated_docx() {
    if Command::new("soffice").arg("--version").output().is_err() {
        return tool_missing(
            "soffice (LibreOffice)",
            "apt-get install -y libreoffice-writer",
        );
    }
    let dir = out_dir("soffice");
    let docs = all_documents(&dir, Format::Docx);
    let profile = dir.join("profile");
    let status = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "txt:Text", "--outdir"])
        .arg(&dir)
        .args(docs.iter().map(|(p, _)| p))
        .output()
        .expect("run soffice");
    assert!(
        status.status.success(),
        "soffice failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    for (path, data) in &docs {
        let txt = std::fs::read_to_string(path.with_extension("txt"))
            .unwrap_or_else(|e| panic!("{}: no text read back: {e}", path.display()));
        for want in expected_texts(data) {
            if want == data.agreement_number {
                continue; // it is in the running header, which the text export leaves out
            }
            assert!(
                txt.contains(&want),
                "{}: `{want}` not read back",
                path.display()
            );
        }
        let amount = data
            .costs
            .as_ref()
            .unwrap()
            .estimate
            .unwrap()
            .format(data.language);
        assert!(txt.contains(&amount), "{}: amount {amount}", path.display());
        // Word numbering came through: clause 1 and sub-clause 1.1.
        assert!(txt.contains("1.1"), "{}: numbering", path.display());
        assert!(!txt.contains("{{"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn python_docx_reads_every_generated_docx() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/read_docx.py");
    let probe = Command::new("python3").args(["-c", "import docx"]).output();
    if !probe.map(|o| o.status.success()).unwrap_or(false) {
        return tool_missing("python3 with python-docx", "pip install python-docx");
    }
    let dir = out_dir("pydocx");
    let docs = all_documents(&dir, Format::Docx);
    let out = Command::new("python3")
        .arg(&script)
        .args(docs.iter().map(|(p, _)| p))
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "read_docx.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed.len(), docs.len());
    for ((path, data), file) in docs.iter().zip(&parsed) {
        let paragraphs = file["paragraphs"].as_array().unwrap();
        let all: String = paragraphs
            .iter()
            .map(|p| p[1].as_str().unwrap_or_default().to_string())
            .chain(file["tables"].as_array().unwrap().iter().flat_map(|t| {
                t.as_array().unwrap().iter().flat_map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_str().unwrap_or_default().to_string())
                })
            }))
            .collect::<Vec<_>>()
            .join("\n");
        for want in expected_texts(data) {
            assert!(all.contains(&want), "{}: `{want}`", path.display());
        }
        let styles: Vec<&str> = paragraphs.iter().filter_map(|p| p[0].as_str()).collect();
        assert!(styles.contains(&"Title"), "{}", path.display());
        assert!(
            styles.iter().filter(|s| **s == "Heading 1").count() >= 15,
            "{}: Word heading styles",
            path.display()
        );
        let header = file["header"].as_str().unwrap();
        assert!(
            header.contains(&data.agreement_number),
            "{}: header {header}",
            path.display()
        );
        assert!(header.contains(&format!("{}", data.version)));
        let fields: Vec<&str> = file["footer_fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f.as_str())
            .collect();
        assert!(
            fields.contains(&"PAGE") && fields.contains(&"NUMPAGES"),
            "{}: page numbers",
            path.display()
        );
        let tables = file["tables"].as_array().unwrap();
        assert!(
            tables.len() >= 3,
            "{}: deliverables, costs and schedule tables",
            path.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pdftotext_reads_every_generated_pdf() {
    if Command::new("pdftotext").arg("-v").output().is_err() {
        return tool_missing(
            "pdftotext (poppler-utils)",
            "apt-get install -y poppler-utils",
        );
    }
    let dir = out_dir("pdf");
    for (path, data) in all_documents(&dir, Format::Pdf) {
        let out = Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .expect("run pdftotext");
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
        for want in [
            data.parties[0].name.as_str(),
            data.agreement_number.as_str(),
        ] {
            assert!(text.contains(want), "{}: `{want}`", path.display());
        }
        let page = match data.language {
            Lang::Sv => "Sida 1 av",
            Lang::En => "Page 1 of",
        };
        assert!(text.contains(page), "{}: page numbers", path.display());
        assert!(
            text.contains("å") || data.language == Lang::En || text.contains("ä"),
            "Swedish letters"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn names_in_any_script_print_in_the_pdf_and_read_back() {
    // Issue 14, "Fonts": names must print right in every PDF samverkan writes.
    let names = [
        "Łukasz Øyvind Ümit Nguyễn",
        "Žofie Dvořáková",
        "Ærøskøbing Kommun",
        "Şule Ağaoğlu",
    ];
    let mut d = render::example("three-party", Lang::Sv).unwrap();
    d.parties[0].name = names[2].into();
    d.parties[1].signatory.name = names[0].into();
    d.parties[2].signatory.name = names[1].into();
    d.background = format!("Bakgrund: {}.", names[3]);
    let doc = render::build_document(&set(), &d).unwrap();
    let pdf = render::render(&doc, Format::Pdf).unwrap();
    // Deterministic: the same document gives the same bytes.
    assert_eq!(pdf, render::render(&doc, Format::Pdf).unwrap());
    let Some(text) = pdf_text(&pdf, "unicode") else {
        return;
    };
    for name in names {
        assert!(text.contains(name), "`{name}` not read back");
    }
    assert!(text.contains("Sida 1 av"), "page numbers");
    // The fonts are embedded subsets with a Unicode map: DejaVu Sans, CID TrueType, Identity-H.
    let dir = out_dir("pdffonts");
    let path = dir.join("doc.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = Command::new("pdffonts")
        .arg(&path)
        .output()
        .expect("run pdffonts");
    let fonts = String::from_utf8_lossy(&out.stdout).to_string();
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(rows.len() >= 2, "{fonts}");
    for row in rows {
        assert!(row.contains("DejaVuSans"), "{fonts}");
        assert!(row.contains("CID TrueType"), "{fonts}");
        assert!(row.contains("Identity-H"), "{fonts}");
        assert!(
            row.split_whitespace().filter(|w| *w == "yes").count() >= 3,
            "embedded, subset, with a Unicode map: {fonts}"
        );
    }
}

#[test]
fn a_value_a_template_needs_but_the_data_lack_is_an_error_naming_it() {
    // A template that uses ethics without `{{#if ethics}}`: strict mode refuses instead of a hole.
    let mut sources: Vec<(String, String)> = templates::BUILTIN_SOURCES
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect();
    for (path, text) in sources.iter_mut() {
        if path == "sv/partials/disputes.hbs" {
            text.push_str("\nEtik: {{ethics.reference}} {{date ethics.date}}\n");
        }
    }
    let set = TemplateSet::from_sources(&sources).unwrap();
    let data = render::example("statistics", Lang::Sv).unwrap();
    match render::build_document(&set, &data) {
        Err(RenderError::Template {
            template,
            line,
            reason,
        }) => {
            assert_eq!(template, "disputes");
            assert!(line > 0);
            assert!(reason.contains("ethics"), "{reason}");
        }
        other => panic!("expected a template error, got {other:?}"),
    }
}

#[test]
fn every_clause_code_the_classification_activates_has_a_partial_in_both_languages() {
    // Issue 8, item 2: a clause the classification activates is never left out silently. Every
    // clause code of the shipped rulebook is either a partial switched on by `clause.<code>` or a
    // section every agreement of its types holds (checked on the rendered examples below).
    let sources: Vec<&str> = templates::BUILTIN_SOURCES.iter().map(|(p, _)| *p).collect();
    for code in CLAUSE_CODES {
        for lang in ["sv", "en"] {
            let partial = format!("{lang}/partials/{code}.hbs");
            assert!(sources.contains(&partial.as_str()), "{partial}");
            let dir = templates_dir().join(&partial);
            assert!(dir.exists(), "{}", dir.display());
        }
    }
    let rulebook = samverkan::rulebook::load_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rulebook"),
    )
    .unwrap();
    let rb = rulebook.latest().unwrap();
    use samverkan::domain::classification::{ClauseCode, CollaborationType, ObligationCode};
    for o in ObligationCode::ALL {
        if let Some(info) = rb.obligation_info(*o) {
            for c in info.clauses {
                let is_partial = CLAUSE_CODES.contains(&c.as_str());
                let always = matches!(c, ClauseCode::PurposeLimitation | ClauseCode::Costs);
                assert!(
                    is_partial || always,
                    "{o} activates {c}, which no template renders"
                );
            }
        }
    }
    // Each example holds every base clause its type's rulebook entry lists, after rendering.
    for name in EXAMPLES {
        for lang in [Lang::Sv, Lang::En] {
            let data = render::example(name, lang).unwrap();
            let doc = render::build_document(&set(), &data).unwrap();
            let (present, weakened) =
                samverkan::domain::agreement::evidence::document_clauses(&doc);
            assert!(weakened.is_empty());
            let t = CollaborationType::parse(&data.collaboration_type).unwrap();
            for c in rb.type_info(t).unwrap().clauses {
                assert!(
                    present.contains(&c),
                    "{name} {lang:?} lacks {c}: {present:?}"
                );
            }
            for c in &data.clauses {
                assert!(
                    present.contains(&ClauseCode::parse(c).unwrap()),
                    "{name} {c}"
                );
            }
        }
    }
}

#[test]
fn evidence_marks_a_clause_weakened_when_a_stored_whole_clause_deviation_dropped_its_text() {
    // A deviation stored before sub-clauses could be named replaced a whole clause; such a version
    // still renders, and its evidence names the clause whose required text is gone.
    let set = set();
    let mut data = render::example("three-party", Lang::Sv).unwrap();
    data.deviations.push(Deviation {
        clause: "publication".into(),
        sub_clause: None,
        text: "Forskningshuvudmannen har rätt att publicera resultaten.".into(),
        reason: "Äldre avvikelse".into(),
    });
    let doc = render::build_document(&set, &data).unwrap();
    let (present, weakened) = samverkan::domain::agreement::evidence::document_clauses(&doc);
    use samverkan::domain::classification::ClauseCode;
    assert!(weakened.contains(&ClauseCode::Publication));
    assert!(!present.contains(&ClauseCode::Publication));
    assert!(present.contains(&ClauseCode::PurposeLimitation));
}

fn with_second_cpua(mut d: AgreementData) -> AgreementData {
    let mut second = d
        .party(samverkan::domain::agreement::PartyRole::Cpua)
        .unwrap()
        .clone();
    second.name = "Region Uppsala".into();
    second.org_number = "232100-0024".into();
    second.registers = vec!["Exempelregistret för hjärtintensivvård".into()];
    second.signatory.name = "Maria Direktör".into();
    second.decision = Some(samverkan::domain::agreement::data::DecisionCitation {
        date: chrono::NaiveDate::from_ymd_opt(2027, 3, 3),
        reference: None,
    });
    d.parties.insert(1, second);
    d
}

#[test]
fn several_cpuas_are_each_a_party_with_registers_decision_and_signature() {
    // DOMAIN.md, "Several CPUAs in one agreement".
    let set = set();
    for lang in [Lang::Sv, Lang::En] {
        let d = with_second_cpua(render::example("three-party", lang).unwrap());
        let text = render::build_document(&set, &d).unwrap().plain_text();
        let sign = match lang {
            Lang::Sv => "För CPUA-myndigheten, genom behörig företrädare",
            Lang::En => "For the CPUA, by its authorised representative",
        };
        assert_eq!(text.matches(sign).count(), 2, "{lang:?}");
        assert!(text.contains("Maria Direktör") && text.contains("Per Holm"));
        let (first, second) = match lang {
            Lang::Sv => (
                "I enlighet med CPUA-myndighetens beslut den 20 november 2026, dnr RHS 2026-01234, lämnar Västra Götalandsregionen ut",
                "I enlighet med CPUA-myndighetens beslut den 3 mars 2027, lämnar Region Uppsala ut",
            ),
            Lang::En => (
                "In accordance with the CPUA's decision of 20 November 2026, ref. RHS 2026-01234, Västra Götalandsregionen releases",
                "In accordance with the CPUA's decision of 3 March 2027, Region Uppsala releases",
            ),
        };
        assert!(text.contains(first), "{lang:?}\n{text}");
        assert!(text.contains(second), "{lang:?}");
        if lang == Lang::Sv {
            assert!(text.contains("gemensamt CPUA-myndigheterna"));
            assert!(text.contains("i fråga om Exempelregistret för hjärtintensivvård"));
        }
    }
    // Two CPUAs without the key-custody clause do not validate.
    let mut d = with_second_cpua(render::example("three-party", Lang::Sv).unwrap());
    d.clauses.retain(|c| c != "cpua_coordination");
    d.clauses.retain(|c| c != "linkage");
    let missing = validate(&d);
    assert!(
        missing
            .iter()
            .any(|m| m.field == "clauses.cpua_coordination"),
        "{missing:?}"
    );
    d.clauses.push("cpua_coordination".into());
    d.coordination = None;
    let missing = validate(&d);
    assert!(
        missing.iter().any(|m| m.field == "coordination.linkage_by"),
        "{missing:?}"
    );
}

#[test]
fn statistics_and_public_documents_print_no_private_principal_sentence() {
    // DOMAIN.md, "Public documents and statistics"; seed 001, "1. Förarbete": no research principal,
    // so no sentence about one.
    let set = set();
    for name in [
        "statistics",
        "register-development",
        "commissioned-analysis",
    ] {
        for lang in [Lang::Sv, Lang::En] {
            let d = render::example(name, lang).unwrap();
            let text = render::build_document(&set, &d).unwrap().plain_text();
            for needle in [
                "privat aktör",
                "private body",
                "Forskningshuvudmannen är",
                "The Research Principal is",
            ] {
                assert!(!text.contains(needle), "{name} {lang:?}: {needle}");
            }
        }
    }
    let d = render::example("research-company-principal", Lang::Sv).unwrap();
    let text = render::build_document(&set, &d).unwrap().plain_text();
    assert!(text.contains("Forskningshuvudmannen är en privat aktör"));
}

#[test]
fn a_commissioned_analysis_that_is_research_has_the_principal_as_a_party() {
    // Seed 000, "Forskningssamarbete med industrin"; the rulebook's parties_if_research.
    let set = set();
    let base = render::example("three-party", Lang::Sv).unwrap();
    let principal = base
        .party(samverkan::domain::agreement::PartyRole::ResearchPrincipal)
        .unwrap()
        .clone();
    let mut d = render::example("commissioned-analysis", Lang::Sv).unwrap();
    assert_eq!(render::template_name(&d), "two-party");
    d.parties.insert(1, principal);
    assert_eq!(render::template_name(&d), "three-party");
    assert!(validate(&d).is_empty(), "{:?}", validate(&d));
    let text = render::build_document(&set, &d).unwrap().plain_text();
    assert!(text.contains("För Forskningshuvudmannen, genom behörig företrädare"));
    assert!(text.contains("Göteborgs universitet"));
    assert!(text.contains("inom ramen för forskning"));
    assert!(
        !text.contains("pseudonymiserade med löpnummer"),
        "no microdata are released"
    );
    // Without its signatory the principal is named as missing.
    d.parties[1].signatory.name.clear();
    assert!(validate(&d)
        .iter()
        .any(|m| m.field == "parties.research_principal.signatory.name"));
}
