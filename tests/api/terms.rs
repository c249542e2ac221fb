//! The complete agreement terms the API tests draw agreements with, shared by the API tests and the mail
//! tests (`#[path]`-included).
use serde_json::{json, Value};

use crate::helpers::TestApp;

pub fn person(name: &str, title: &str) -> Value {
    json!({"name": name, "title": title, "email": format!("{}@example.se", name.split(' ').next().unwrap().to_lowercase())})
}

pub async fn full_terms(app: &TestApp) -> Value {
    let uppsala = app.org("Region Uppsala").await;
    let university = app.org("Exempeluniversitetet").await;
    let company = app.org("Exempel Läkemedel AB").await;
    json!({
        "background": "Hjärtinfarkt är en vanlig dödsorsak; långtidsutfallen efter olika strategier är ofullständigt kända.",
        "research_plan_summary": "Registerbaserad kohortstudie 2015–2025 med propensity score-matchning.",
        "goals": ["Jämföra femårsöverlevnad mellan strategierna.", "Publicera i en referentgranskad tidskrift."],
        "deliverables": [
            {"what": "Pseudonymiserat datauttag", "due": "2026-11-01", "by": "Uppsala Clinical Research Center"},
            {"what": "Slutrapport till registret", "due": "2027-09-01", "by": "Exempeluniversitetet"}
        ],
        "parties": [
            {"organisation": uppsala, "address": "Box 602, 751 25 Uppsala",
             "contact": person("Lars Jurist", "Registerjurist"), "signatory": person("Maria Direktör", "Hälso- och sjukvårdsdirektör")},
            {"organisation": university, "address": "Box 256, 751 05 Uppsala",
             "contact": person("Per Forskare", "Projektledare"), "signatory": person("Eva Prefekt", "Prefekt")},
            {"organisation": company, "address": "Vasagatan 10, 111 20 Stockholm",
             "contact": person("Karin Företagsson", "Medical Affairs"), "signatory": person("Olof Vd", "VD")}
        ],
        "variable_descriptions": {"alder": "Ålder, år", "kon": "Kön", "diagnosdatum": "Datum för diagnos", "behandling": "Behandlingsstrategi"},
        "period_from": "2015-01-01",
        "period_to": "2025-12-31",
        "transfer_method": "Krypterad filöverföring",
        "encryption": "AES-256",
        "password_sent_separately": true,
        "data_protection": {"storage": "Universitetets säkra server för känsliga personuppgifter.", "access": ["Per Forskare", "En biostatistiker"]},
        "publication": {"acknowledgement": "Författarna tackar Exempelregistret för hjärtintensivvård.", "review_days": 30},
        "report_back": "Resultaten återrapporteras till registrets styrgrupp.",
        "costs": {"estimate": 11_400_000, "hourly_rate": 95_000, "hours": 120, "expenses": [],
                  "invoicing_schedule": "Vid leverans av datauttaget.", "vat_rate_bp": 2500, "payment_terms_days": 30, "payer": "company"},
        "term": {"start": "2026-09-15", "end": "2027-12-31", "notice_days": 90},
        "archiving": {"delete_within_days": 30, "confirmed_by": "Forskningshuvudmannens projektledare"},
        "disputes": {"venue": "Uppsala tingsrätt"},
        "product": {"name": "Exempelmab", "authorisation": "EU/1/26/0001"}
    })
}
