//! Refusal and error texts come from the Swedish and English catalogues: Swedish by default, English on
//! `Accept-Language: en`, with `Content-Language` saying which; the rule and field codes are the same
//! in both. Cited sources carry the document's title, the section and the file name.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{ok, problem, public_research_intake, TestApp};

const SEED_001: &str = "001_2ea1acc3c69dfa36.txt";

/// A collaboration without a research principal, so that leaving step 1 is refused.
async fn unprepared(app: &TestApp) -> String {
    let company = app.token("company").await;
    let register = app.register("EX-HJARTA").await;
    let created = ok(app
        .post(
            "/api/v1/collaborations",
            &company,
            &json!({
                "title": "Långtidsutfall", "purpose": "Jämförelse",
                "research_question": "Skiljer sig överlevnaden?",
                "registers": [register], "data_kind": "pseudonymised",
                "requested_variables": ["alder"], "intake": public_research_intake()
            }),
        )
        .await)
    .await;
    created["collaboration"]["id"].as_str().unwrap().to_string()
}

async fn transition_in(
    app: &TestApp,
    id: &str,
    token: &str,
    lang: Option<&str>,
) -> (Option<String>, Value) {
    let mut req = app
        .client
        .post(format!(
            "{}/api/v1/collaborations/{id}/transitions",
            app.base
        ))
        .bearer_auth(token)
        .json(&json!({"to": "register_contact"}));
    if let Some(l) = lang {
        req = req.header("Accept-Language", l);
    }
    let r = req.send().await.unwrap();
    let cl = content_language(&r);
    (cl, problem(r, StatusCode::CONFLICT).await)
}

fn content_language(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("content-language")
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn a_refused_command_answers_in_swedish_by_default_and_in_english_on_request() {
    let app = TestApp::spawn().await;
    let id = unprepared(&app).await;
    let company = app.token("company").await;

    let (cl, sv) = transition_in(&app, &id, &company, None).await;
    assert_eq!(cl.as_deref(), Some("sv"));
    assert_eq!(sv["rule"], "preparation_incomplete");
    assert_eq!(sv["title"], "Samarbetet är inte redo för detta");
    assert_eq!(
        sv["detail"],
        "förarbetet (steg 1) är inte klart: research_principal måste anges först"
    );

    for header in ["en", "en-GB", "sv-SE;q=0.5, en;q=0.8", "de, en-US;q=0.3"] {
        let (cl, en) = transition_in(&app, &id, &company, Some(header)).await;
        assert_eq!(cl.as_deref(), Some("en"), "{header}");
        assert_eq!(en["rule"], sv["rule"], "{header}");
        assert_eq!(en["title"], "The collaboration is not ready for this");
        assert_eq!(
            en["detail"],
            "preparation (step 1) is not complete: research_principal must be given first"
        );
        assert_eq!(en["missing"], sv["missing"]);
    }
    // Swedish preferred, or no language we speak: Swedish.
    for header in ["sv-SE", "en;q=0.2, sv", "fr-FR", "*"] {
        let (cl, p) = transition_in(&app, &id, &company, Some(header)).await;
        assert_eq!(cl.as_deref(), Some("sv"), "{header}");
        assert_eq!(p["detail"], sv["detail"], "{header}");
    }
}

#[tokio::test]
async fn a_field_error_answers_in_swedish_by_default_and_in_english_on_request() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let url = format!("{}/api/v1/collaborations?colour=red", app.base);

    let r = app
        .client
        .get(&url)
        .bearer_auth(&company)
        .send()
        .await
        .unwrap();
    assert_eq!(content_language(&r).as_deref(), Some("sv"));
    let sv = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(sv["title"], "Ogiltiga uppgifter");
    assert_eq!(sv["field"], "colour");
    assert_eq!(sv["rule"], "unknown_parameter");
    let m = sv["errors"][0]["message"].as_str().unwrap();
    assert!(m.starts_with("okänd frågeparameter; tillåtna: "), "{m}");
    assert!(m.contains(" och "), "{m}");
    assert!(
        sv["detail"].as_str().unwrap().starts_with("colour: okänd"),
        "{sv}"
    );

    let r = app
        .client
        .get(&url)
        .bearer_auth(&company)
        .header("Accept-Language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(content_language(&r).as_deref(), Some("en"));
    let en = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(en["title"], "Invalid input");
    assert_eq!(en["field"], sv["field"]);
    assert_eq!(en["errors"][0]["rule"], sv["errors"][0]["rule"]);
    let m = en["errors"][0]["message"].as_str().unwrap();
    assert!(m.starts_with("unknown query parameter; allowed: "), "{m}");
    assert!(m.contains(" and "), "{m}");
}

#[tokio::test]
async fn a_body_error_and_a_missing_token_answer_in_the_requested_language() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    // The body checks (extractor): a text too long for any field.
    let body = json!({"title": "x".repeat(20_001)});
    for (lang, want) in [
        (None, "får vara högst 20000 tecken"),
        (Some("en"), "must be at most 20000 characters"),
    ] {
        let mut req = app
            .client
            .post(format!("{}/api/v1/collaborations", app.base))
            .bearer_auth(&company)
            .json(&body);
        if let Some(l) = lang {
            req = req.header("Accept-Language", l);
        }
        let p = problem(req.send().await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["rule"], "max_length");
        assert_eq!(p["errors"][0]["message"], want, "{p}");
    }
    // The authentication middleware's refusal.
    let r = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(content_language(&r).as_deref(), Some("en"));
    assert!(r.headers().contains_key("www-authenticate"));
    let p = problem(r, StatusCode::UNAUTHORIZED).await;
    assert_eq!(p["title"], "Authentication required");
    let r = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(content_language(&r).as_deref(), Some("sv"));
    assert_eq!(
        problem(r, StatusCode::UNAUTHORIZED).await["title"],
        "Inloggning krävs"
    );
}

#[tokio::test]
async fn a_cited_source_carries_the_seed_title_section_and_file() {
    let app = TestApp::spawn().await;
    let id = unprepared(&app).await;
    let company = app.token("company").await;
    let (_, p) = transition_in(&app, &id, &company, Some("en")).await;
    assert_eq!(
        p["source"],
        json!({
            "file": SEED_001,
            "title": "Guide: Vägledning för att underlätta det praktiska arbetet vid användning av kvalitetsregister inom ramen för överenskommelsen om samverkan mellan SKR och industrins företrädare",
            "section": "1. Förarbete",
        })
    );
    // The same source, and the reason in both languages, in what the case says may happen next.
    let v = ok(app
        .get(&format!("/api/v1/collaborations/{id}"), &company)
        .await)
    .await;
    let next = v["next"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["command"] == "register_contact")
        .unwrap_or_else(|| panic!("{}", v["next"]));
    assert_eq!(next["allowed"], false);
    assert_eq!(next["rule"], "preparation_incomplete");
    assert_eq!(next["source"], p["source"]);
    assert_eq!(next["reason"]["en"], p["detail"]);
    assert!(next["reason"]["sv"]
        .as_str()
        .unwrap()
        .starts_with("förarbetet (steg 1)"));
}

#[tokio::test]
async fn an_obligation_s_source_carries_the_title_of_the_seed_it_cites() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let v = app.view(&id, &company).await;
    let obligations = v["obligations"].as_array().unwrap();
    assert!(!obligations.is_empty(), "{v}");
    for o in obligations {
        let s = &o["source"];
        let file = s["file"].as_str().unwrap_or_else(|| panic!("{o}"));
        assert!(!s["section"].as_str().unwrap().is_empty(), "{o}");
        let title = s["title"].as_str().unwrap();
        assert!(!title.is_empty() && title != file, "{o}");
    }
}

/// Issue 12, "every text from the sv/en catalogues": what serde reports about a body (a value not in
/// the list, a wrong type, an unknown field) and a domain type's own refusal inside a body come
/// back in the request's language, not in serde's English.
#[tokio::test]
async fn a_body_read_error_answers_in_the_requested_language_not_in_serde_s_english() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let register = app.register("EX-HJARTA").await;
    let good = json!({
        "title": "Långtidsutfall", "purpose": "Jämförelse", "registers": [register],
        "data_kind": "aggregated", "intake": public_research_intake()
    });
    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        b
    };
    let cases = [
        (
            with("data_kind", json!("rådata")),
            "data_kind",
            "one_of",
            "okänt värde ”rådata”; tillåtna värden är ",
            "unknown value “rådata”; the allowed values are ",
        ),
        (
            with("title", json!(5)),
            "title",
            "type",
            "värdet ska vara en text",
            "the value must be a text",
        ),
        (
            with("colour", json!("red")),
            "colour",
            "unknown_field",
            "okänt fält ”colour”; kända fält är ",
            "unknown field “colour”; the known fields are ",
        ),
        (
            with("recipient_countries", json!(["XX"])),
            "recipient_countries[0]",
            "country",
            "",
            "",
        ),
    ];
    for (body, field, rule, sv_start, en_start) in cases {
        let mut texts = Vec::new();
        for lang in ["sv", "en"] {
            let r = app
                .client
                .post(format!("{}/api/v1/collaborations", app.base))
                .bearer_auth(&company)
                .header("Accept-Language", lang)
                .json(&body)
                .send()
                .await
                .unwrap();
            let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(p["field"], field, "{p}");
            assert_eq!(p["errors"][0]["rule"], rule, "{p}");
            let m = p["errors"][0]["message"].as_str().unwrap().to_string();
            if lang == "sv" {
                for english in [
                    "expected",
                    "invalid type",
                    "unknown variant",
                    "unknown field",
                    "is not",
                ] {
                    assert!(!m.contains(english), "serde's English in Swedish: {m}");
                }
            }
            texts.push(m);
        }
        assert!(texts[0].starts_with(sv_start), "{}", texts[0]);
        assert!(texts[1].starts_with(en_start), "{}", texts[1]);
        assert_ne!(texts[0], texts[1], "each language its own text: {texts:?}");
    }
}
