//! The guided intake "Starta ett samverkansprojekt": seven steps and a summary, each a POST that
//! carries the earlier answers as hidden fields, with the classification of the answers so far
//! beside every step.
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::support::{location, Browser};

/// The hidden fields of a page's form, as a browser sends them back.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#x60;", "`")
            .replace("&#x3D;", "=")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let mut out = Vec::new();
    for piece in html.split("<input type=\"hidden\" name=\"").skip(1) {
        let Some((name, rest)) = piece.split_once('"') else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(" value=\"") else {
            continue;
        };
        let Some((value, _)) = rest.split_once('"') else {
            continue;
        };
        out.push((unescape(name), unescape(value)));
    }
    out
}

/// Answers the step shown in `html` with `answers` and presses the button `go`.
async fn answer(
    b: &Browser,
    html: &str,
    answers: &[(&str, &str)],
    go: &str,
) -> (StatusCode, String) {
    let mut fields = hidden_fields(html);
    fields.extend(answers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    fields.push(("_go".into(), go.into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = b.post_form("/intake", &pairs).await;
    let status = r.status();
    (status, r.text().await.expect("body"))
}

async fn next(b: &Browser, html: &str, answers: &[(&str, &str)]) -> String {
    let (s, body) = answer(b, html, answers, "next").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body
}

/// The classification panel of a page.
fn panel(html: &str) -> &str {
    html.split("id=\"h-panel\"").nth(1).unwrap_or("")
}

#[tokio::test]
async fn a_company_walks_the_steps_sees_the_outcome_change_and_creates_the_collaboration() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "company").await;
    let university = app.org("Exempeluniversitetet").await;
    let heart = app.register("EX-HJARTA").await;

    let html = b.html("/intake").await;
    assert!(
        html.contains("<h1>Starta ett samverkansprojekt</h1>"),
        "{html}"
    );
    assert!(html.contains("Steg 1 av 7: Syfte"));
    assert!(html.contains("aria-current=\"step\""));
    assert!(html.contains("Svara på detta för att bedömningen ska bli säker"));
    assert!(html.contains("name=\"csrf_token\""));
    assert!(!html.contains("value=\"back\""), "no way back from step 1");

    // 1 Purpose: research. Ethics approval follows at once.
    let html = next(
        &b,
        &html,
        &[
            ("title", "Hjärtsvikt & överlevnad"),
            ("purpose", "Att jämföra \"utfall\" mellan behandlingar."),
            ("intake.purpose", "research"),
            ("intake.is_research", "yes"),
            ("intake.sector", "pharma"),
        ],
    )
    .await;
    assert!(html.contains("Steg 2 av 7: Forskningshuvudman"), "{html}");
    assert!(panel(&html).contains("Etikgodkännande från Etikprövningsmyndigheten"));
    // The earlier answers travel along, exactly as written.
    assert!(hidden_fields(&html).contains(&("title".into(), "Hjärtsvikt & överlevnad".into())));

    // 2 Principal, 3 registers.
    let html = next(&b, &html, &[("research_principal", &university)]).await;
    assert!(html.contains("Steg 3 av 7: Register"), "{html}");
    assert!(html.contains("Exempelregistret för hjärtintensivvård"));
    let html = next(&b, &html, &[("registers[]", &heart)]).await;
    assert!(html.contains("Steg 4 av 7: Data"), "{html}");

    // 4 Data: the register analyses and everyone gets tables → commissioned analysis.
    let data = |company: &'static str| {
        vec![
            ("data_kind", "aggregated"),
            ("requested_variables:lines", "alder\nkon"),
            ("intake.company_receives", company),
            ("intake.principal_receives", "aggregated"),
            ("intake.analysis_by", "register"),
            ("intake.identity_numbers_requested:bool", "false"),
        ]
    };
    let html = next(&b, &html, &data("aggregated")).await;
    assert!(html.contains("Steg 5 av 7: Samkörning"), "{html}");
    let p = panel(&html);
    assert!(
        p.contains("Uppdragsanalys av registret eller registercentrum"),
        "{p}"
    );
    assert!(!p.contains("Menprövning av CPUA-myndigheten"), "{p}");
    assert!(p.contains("Källa:"), "{p}");

    // Back to step 4: the answers are still there; the company now receives microdata.
    let (s, html) = answer(&b, &html, &[], "back").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Steg 4 av 7: Data"), "{html}");
    assert!(html.contains("value=\"aggregated\" checked"), "{html}");
    assert!(html.contains(">alder\nkon</textarea>"), "{html}");
    let html = next(&b, &html, &data("pseudonymised")).await;
    let p = panel(&html);
    assert!(
        p.contains("Forskning med universitet eller region som forskningshuvudman"),
        "{p}"
    );
    assert!(p.contains("Menprövning av CPUA-myndigheten"), "{p}");
    assert!(
        !p.contains("Bedömning av överföring till tredje land"),
        "{p}"
    );
    assert!(p.contains("Svar som skulle ändra utfallet"), "{p}");
    assert!(
        p.contains("Vad får företaget ut?: ett annat svar ändrar både typen och kraven."),
        "{p}"
    );
    assert!(
        p.contains("name=\"_go\" value=\"4\" class=\"link\">Gå till steg 4</button>"),
        "{p}"
    );

    // 5 No linkage; 6 a country outside the EU/EEA adds the third-country assessment.
    let html = next(&b, &html, &[]).await;
    assert!(html.contains("Steg 6 av 7: Länder"), "{html}");
    let html = next(
        &b,
        &html,
        &[
            ("recipient_countries[]", "SE"),
            ("_countries_other", "us"),
            ("intake.external_processor:bool", "false"),
        ],
    )
    .await;
    assert!(html.contains("Steg 7 av 7: Kostnader"), "{html}");
    assert!(panel(&html).contains("Bedömning av överföring till tredje land"));

    // 7 Costs, then the summary.
    let html = next(&b, &html, &[("intake.effort_beyond_routine:bool", "false")]).await;
    assert!(html.contains("<h2>Sammanfattning</h2>"), "{html}");
    assert!(html.contains("Hjärtsvikt &amp; överlevnad"));
    assert!(html.contains("Exempeluniversitetet"));
    assert!(html.contains("Sverige, USA"), "{html}");
    assert!(html.contains("Skapa samverkansprojektet"));
    assert!(
        html.contains("<dd>Inget</dd>"),
        "no linkage is an answer: {html}"
    );

    // "Ändra" from the summary opens the step with its answers; back to the summary in one go.
    let (s, step6) = answer(&b, &html, &[], "6").await;
    assert_eq!(s, StatusCode::OK);
    assert!(step6.contains("Steg 6 av 7: Länder"), "{step6}");
    assert!(step6.contains("value=\"SE\" checked"), "{step6}");
    assert!(
        step6.contains("value=\"US\" checked"),
        "typed, then ticked: {step6}"
    );
    assert!(step6.contains("Till sammanfattningen"));
    let (s, html) = answer(
        &b,
        &step6,
        &[
            ("recipient_countries[]", "SE"),
            ("recipient_countries[]", "US"),
            ("intake.external_processor:bool", "false"),
        ],
        "8",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<h2>Sammanfattning</h2>"), "{html}");

    // Create: the case page, and the API shows the answers.
    let mut fields = hidden_fields(&html);
    fields.push(("_go".into(), "create".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = b.post_form("/intake", &pairs).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let to = location(&r);
    let id = to
        .strip_prefix("/collaborations/")
        .expect("to the case page")
        .to_string();
    let case = b.html(&to).await;
    assert!(case.contains("Hjärtsvikt &amp; överlevnad"), "{case}");

    let token = app.token("company").await;
    let v: Value = app
        .get(&format!("/api/v1/collaborations/{id}"), &token)
        .await
        .json()
        .await
        .expect("view");
    let c = &v["collaboration"];
    assert_eq!(c["title"], "Hjärtsvikt & överlevnad", "{v}");
    assert_eq!(c["purpose"], "Att jämföra \"utfall\" mellan behandlingar.");
    assert_eq!(c["research_principal"], university.as_str());
    assert_eq!(c["registers"], serde_json::json!([heart]));
    assert_eq!(
        c["requested_variables"],
        serde_json::json!(["alder", "kon"])
    );
    assert_eq!(c["recipient_countries"], serde_json::json!(["SE", "US"]));
    assert_eq!(c["data_kind"], "aggregated");
    assert_eq!(c["is_research"], true);
    assert_eq!(c["intake"]["company_receives"], "pseudonymised");
    assert_eq!(c["intake"]["effort_beyond_routine"], false);
    let text = v.to_string();
    assert!(text.contains("third_country_assessment"), "{text}");
    assert!(text.contains("confidentiality_review"), "{text}");
}

#[tokio::test]
async fn a_bad_answer_comes_back_with_its_error_at_the_field_and_every_value_kept_in_english() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "company").await;
    let r = b.get("/language/en?next=/intake").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b.html("/intake").await;
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains("Step 1 of 7: Purpose"), "{html}");
    assert!(html.contains("What the collaboration becomes"));

    // No name: 422, the summary links to the field, the other answers stay.
    let (s, html) = answer(
        &b,
        &html,
        &[
            ("purpose", "To compare outcomes."),
            ("intake.purpose", "research"),
            ("intake.is_research", "yes"),
        ],
        "next",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(html.contains("href=\"#f-title\""), "{html}");
    assert!(html.contains("id=\"f-title-error\""), "{html}");
    assert!(
        html.contains("aria-describedby=\"f-title-hint f-title-error\""),
        "{html}"
    );
    assert!(html.contains("Step 1 of 7"));
    assert!(html.contains(">To compare outcomes.</textarea>"), "{html}");
    assert!(html.contains("value=\"research\" checked"), "{html}");

    // Fixed, on to the countries; a code that is no country is refused there, the rest kept.
    let mut html = next(
        &b,
        &html,
        &[
            ("title", "Outcomes"),
            ("purpose", "To compare outcomes."),
            ("intake.purpose", "research"),
            ("intake.is_research", "yes"),
        ],
    )
    .await;
    for step in 2..6 {
        // The kind of data is the one answer the input requires (step 4).
        let answers: &[(&str, &str)] = if step == 4 {
            &[("data_kind", "aggregated")]
        } else {
            &[]
        };
        html = next(&b, &html, answers).await;
    }
    assert!(html.contains("Step 6 of 7: Countries"), "{html}");
    let (s, html) = answer(
        &b,
        &html,
        &[("recipient_countries[]", "NO"), ("_countries_other", "XYZ")],
        "next",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("Step 6 of 7: Countries"), "{html}");
    assert!(html.contains("href=\"#f-_countries_other\""), "{html}");
    assert!(html.contains("id=\"f-_countries_other-error\""), "{html}");
    assert!(html.contains("value=\"XYZ\""), "{html}");
    assert!(html.contains("value=\"NO\" checked"), "{html}");
    assert!(hidden_fields(&html).contains(&("title".into(), "Outcomes".into())));

    // Switching language inside the form keeps the answers, and is remembered.
    let (s, sv) = answer(
        &b,
        &html,
        &[("recipient_countries[]", "NO"), ("_countries_other", "XYZ")],
        "language",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{sv}");
    assert!(sv.contains("<html lang=\"sv\">"), "{sv}");
    assert!(sv.contains("Steg 6 av 7: Länder"), "{sv}");
    assert!(sv.contains("value=\"XYZ\""), "{sv}");
    assert!(sv.contains("value=\"NO\" checked"), "{sv}");
    assert!(sv.contains("lang=\"en\">English</button>"), "{sv}");
    assert!(b.html("/intake").await.contains("Steg 1 av 7: Syfte"));
}

#[tokio::test]
async fn only_those_who_may_create_see_the_intake() {
    let app = TestApp::spawn().await;
    let legal = Browser::signed_in(&app, "legal").await;
    let (s, html) = legal.page("/intake").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("<html lang=\"sv\">"));
    let r = legal
        .post_form("/intake", &[("_go", "create"), ("title", "x")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let list = legal.html("/collaborations").await;
    assert!(
        !list.contains("href=\"/intake\""),
        "no way in for CPUA legal"
    );

    let company = Browser::signed_in(&app, "company").await;
    let list = company.html("/collaborations").await;
    assert!(list.contains("href=\"/intake\""));
    assert!(list.contains("Starta samverkan"), "the navigation names it");
}

#[tokio::test]
async fn a_research_principal_names_the_company_and_may_only_lead_for_its_own_organisation() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "principal").await;
    let company = app.org("Exempel Läkemedel AB").await;
    let other_company = app.org("Prov Medicinteknik AB").await;
    let own = app.org("Exempeluniversitetet").await;

    let html = b.html("/intake").await;
    let html = next(
        &b,
        &html,
        &[
            ("title", "Diabetesuppföljning"),
            ("purpose", "Att följa upp behandlingen."),
            ("intake.purpose", "research"),
            ("intake.is_research", "yes"),
        ],
    )
    .await;
    // A principal's representative chooses the company; the principal must be its own.
    assert!(html.contains("id=\"f-company\""), "{html}");
    let (s, bad) = answer(
        &b,
        &html,
        &[
            ("research_principal", &other_company),
            ("company", &company),
        ],
        "next",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(bad.contains("Steg 2 av 7: Forskningshuvudman"), "{bad}");
    assert!(bad.contains("id=\"f-research_principal-error\""), "{bad}");
    assert!(bad.contains("href=\"#f-research_principal\""), "{bad}");
    assert!(
        bad.contains(&format!("value=\"{company}\" selected")),
        "{bad}"
    );

    let mut html = next(
        &b,
        &bad,
        &[("research_principal", &own), ("company", &company)],
    )
    .await;
    for step in 3..=7 {
        let answers: &[(&str, &str)] = if step == 4 {
            &[("data_kind", "aggregated")]
        } else {
            &[]
        };
        html = next(&b, &html, answers).await;
    }
    assert!(html.contains("<h2>Sammanfattning</h2>"), "{html}");
    assert!(html.contains("Exempel Läkemedel AB (företag)"), "{html}");
    let (s, body) = answer(&b, &html, &[], "create").await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");

    // The company sees it on its list: the page made the same collaboration the API would.
    let token = app.token("company").await;
    let list: Value = app
        .get("/api/v1/collaborations", &token)
        .await
        .json()
        .await
        .expect("list");
    assert!(list.to_string().contains("Diabetesuppföljning"), "{list}");
}
