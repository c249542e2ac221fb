//! The file-facing rulebook API the CLI and the server call: load a directory, check a file, diff two versions.
use samverkan::domain::classification::{
    classify, CollaborationType, Facts, ObligationCode, RegisterInfo, Rulebook,
};
use samverkan::rulebook::{check_file, diff, load_dir, load_file, Case};
use std::path::{Path, PathBuf};

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rulebook")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("samverkan-rulebook-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn facts(v: serde_json::Value) -> Facts {
    Facts::from_json(&v).expect("valid facts")
}

#[test]
fn shipped_directory_loads_and_every_file_checks() {
    let set = load_dir(&config_dir()).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!set.is_empty());
    for rb in set.iter() {
        let report = check_file(Path::new(&rb.file)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(report.version, rb.version);
        assert!(report.to_string().contains("is sound"));
    }
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    let rb = set.effective_on(today).expect("a rulebook in force");
    let c = classify(rb, &Facts::default(), &[]);
    assert_eq!(c.rulebook_version, rb.version);
}

#[test]
fn a_broken_file_fails_the_whole_directory_with_file_and_line() {
    let dir = temp_dir("broken");
    let good = std::fs::read_to_string(config_dir().join("2026-07-01.toml")).expect("shipped file");
    std::fs::write(dir.join("2026-07-01.toml"), &good).expect("write");
    let broken = good
        .replace("version = \"2026.1\"", "version = \"2027.1\"")
        .replace("effective_from = 2026-07-01", "effective_from = 2027-01-01")
        .replace(
            "when = \"effort_beyond_routine = true\"",
            "when = \"effort_beyond_routine = maybe\"",
        );
    let path = dir.join("2027-01-01.toml");
    std::fs::write(&path, &broken).expect("write");
    let errors = load_dir(&dir).expect_err("errors");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let line = broken[..broken.find("effort_beyond_routine = maybe").expect("edit")]
        .matches('\n')
        .count()
        + 1;
    let shown = errors[0].to_string();
    assert!(
        shown.starts_with(&format!("{}:{line}: ", path.display())),
        "{shown}"
    );
    assert!(shown.contains("unknown value `maybe`"), "{shown}");
    let errors = check_file(&path).expect_err("errors");
    assert_eq!(errors[0].line, line);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn diff_lists_cases_whose_type_or_obligations_change() {
    let old = load_file(&config_dir().join("2026-07-01.toml")).expect("shipped");
    let text = std::fs::read_to_string(config_dir().join("2026-07-01.toml")).expect("read");
    // A draft: keep key files 6 months before it counts as extended; treat medtech like pharma; and
    // move product development out of the research types (so it becomes unclassified).
    let draft = text
        .replace("version = \"2026.1\"", "version = \"draft\"")
        .replace("key_retention_months > 3", "key_retention_months > 6")
        .replace("when = \"sector = pharma and", "when = \"sector in [pharma, medtech] and")
        .replace("purpose in [research, product_development] and research_principal_kind in [university, region]", "purpose = research and research_principal_kind in [university, region]");
    let new = Rulebook::parse("draft.toml", &draft).unwrap_or_else(|e| panic!("{e:?}"));
    let base = serde_json::json!({
        "research_principal_kind": "university", "is_research": "yes", "purpose": "research",
        "company_receives": "aggregated", "principal_receives": "pseudonymised", "analysis_by": "principal",
        "sector": "biotech", "registers": ["swedeheart"], "linkage_with": [], "external_processor": false,
        "recipient_countries": ["SE"], "identity_numbers_requested": false, "effort_beyond_routine": false,
        "key_retention_months": 3
    });
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[k] = v;
        facts(b)
    };
    let registers = vec![RegisterInfo {
        id: "swedeheart".into(),
        cpua_id: "region-uppsala".into(),
        cpua_name: "Region Uppsala".into(),
    }];
    let cases = vec![
        Case {
            id: "unchanged".into(),
            facts: facts(base.clone()),
            registers: registers.clone(),
        },
        Case {
            id: "key".into(),
            facts: with("key_retention_months", 5.into()),
            registers: registers.clone(),
        },
        Case {
            id: "medtech".into(),
            facts: with("sector", "medtech".into()),
            registers: registers.clone(),
        },
        Case {
            id: "product".into(),
            facts: with("purpose", "product_development".into()),
            registers,
        },
    ];
    let changes = diff(&old, &new, &cases);
    let ids: Vec<&str> = changes.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(ids, ["key", "medtech", "product"]);
    assert_eq!(
        changes[0].obligations_removed,
        [ObligationCode::ExtendedKeyRetention]
    );
    assert!(changes[0].obligations_added.is_empty() && !changes[0].type_changed());
    assert_eq!(
        changes[1].obligations_added,
        [ObligationCode::PharmaAppendix]
    );
    assert_eq!(
        changes[2].type_old,
        Some(CollaborationType::ResearchPublicPrincipal)
    );
    assert_eq!(changes[2].type_new, None);
    assert_eq!(changes[2].obligations_added, [ObligationCode::LegalReview]);
    let json = serde_json::to_value(&changes).expect("serialize");
    assert_eq!(json[2]["type_old"], "research-public-principal");
}
