//! Classifying a typical intake with the shipped rulebook.
//! Run: `cargo bench --bench classify -- --quick`
use criterion::{criterion_group, criterion_main, Criterion};
use samverkan::domain::classification::{classify, classify_core, Facts, RegisterInfo};
use std::hint::black_box;
use std::path::Path;

fn typical() -> serde_json::Value {
    serde_json::json!({
        "research_principal_kind": "company",
        "is_research": "yes",
        "purpose": "research",
        "company_receives": "pseudonymised",
        "principal_receives": "pseudonymised",
        "analysis_by": "company",
        "sector": "pharma",
        "registers": ["swedeheart", "riksstroke"],
        "linkage_with": ["socialstyrelsen"],
        "external_processor": false,
        "recipient_countries": ["SE"],
        "identity_numbers_requested": false,
        "effort_beyond_routine": true,
        "key_retention_months": 3
    })
}

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rulebook/2026-07-01.toml");
    let rulebook = match samverkan::rulebook::load_file(&path) {
        Ok(r) => r,
        Err(e) => panic!("shipped rulebook does not load: {e:?}"),
    };
    let json = typical();
    let facts = match Facts::from_json(&json) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let registers = vec![
        RegisterInfo {
            id: "swedeheart".into(),
            cpua_id: "region-uppsala".into(),
            cpua_name: "Region Uppsala".into(),
        },
        RegisterInfo {
            id: "riksstroke".into(),
            cpua_id: "region-vasterbotten".into(),
            cpua_name: "Region Västerbotten".into(),
        },
    ];
    c.bench_function("classify (with sensitivity)", |b| {
        b.iter(|| {
            classify(
                black_box(&rulebook),
                black_box(&facts),
                black_box(&registers),
            )
        })
    });
    c.bench_function("classify_core (no sensitivity)", |b| {
        b.iter(|| {
            classify_core(
                black_box(&rulebook),
                black_box(&facts),
                black_box(&registers),
            )
        })
    });
    c.bench_function("parse facts + classify", |b| {
        b.iter(|| {
            let f = Facts::from_json(black_box(&json)).ok();
            f.map(|f| classify(&rulebook, &f, &registers))
        })
    });
    c.bench_function("check shipped rulebook", |b| {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        b.iter(|| {
            samverkan::domain::classification::Rulebook::parse("x.toml", black_box(&text)).is_ok()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
