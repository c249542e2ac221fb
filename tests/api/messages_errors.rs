//! The answers of the HTTP edge — 400, 401, 403, 405, 409, 412, 413, 415, 429 — come from the message
//! catalogues like every refusal: Swedish by default, English on `Accept-Language: en`, with
//! `Content-Language` saying which. Each case compares the `detail` with the catalogue's text in that
//! language, so a sentence formatted in the code (English only) fails here.
use reqwest::{RequestBuilder, StatusCode};
use samverkan::domain::lang::Lang;
use samverkan::domain::messages::Message;
use samverkan::msg;
use serde_json::{json, Value};

use crate::helpers::{ok, problem, TestApp};

/// English words that must not appear in a Swedish text (whole words, lower case).
const ENGLISH: &[&str] = &[
    "the",
    "must",
    "may",
    "not",
    "only",
    "send",
    "body",
    "try",
    "again",
    "is",
    "this",
    "resource",
    "answers",
    "reload",
    "too",
    "many",
    "requests",
    "valid",
    "line",
    "column",
    "already",
    "revoked",
    "changed",
    "you",
    "sent",
    "bytes",
    "at",
    "most",
    "role",
    "collaborations",
    "are",
    "started",
];

fn english_words(text: &str) -> Vec<&'static str> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .map(str::to_lowercase)
        .collect();
    ENGLISH
        .iter()
        .copied()
        .filter(|w| words.iter().any(|x| x == w))
        .collect()
}

/// Sends the request built by `build` twice, without `Accept-Language` and with `en`, and checks that
/// each answer has the status, is problem+json in the language `Content-Language` names, and carries
/// the catalogue's text of `expected` in that language. Returns both problems (Swedish, English).
async fn in_both_languages(
    build: impl Fn() -> RequestBuilder,
    status: StatusCode,
    expected: &Message,
) -> (Value, Value) {
    let mut out = Vec::new();
    for (accept, lang) in [(None, Lang::Sv), (Some("en"), Lang::En)] {
        let mut req = build();
        if let Some(a) = accept {
            req = req.header("Accept-Language", a);
        }
        let r = req.send().await.unwrap();
        let cl = r
            .headers()
            .get("content-language")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(cl.as_deref(), Some(lang.code()), "Content-Language");
        let p = problem(r, status).await;
        assert_eq!(
            p["detail"].as_str().unwrap(),
            expected.render(lang),
            "{p} in {lang:?}"
        );
        out.push(p);
    }
    let en = out.pop().unwrap();
    let sv = out.pop().unwrap();
    assert_ne!(sv["detail"], en["detail"], "the detail differs by language");
    assert_ne!(sv["title"], en["title"], "the title differs by language");
    assert_eq!(sv["type"], en["type"], "the problem type is the same code");
    let sv_detail = sv["detail"].as_str().unwrap();
    assert!(
        english_words(sv_detail).is_empty(),
        "English words {:?} in the Swedish {sv_detail:?}",
        english_words(sv_detail)
    );
    (sv, en)
}

#[tokio::test]
async fn a_401_without_a_token_and_with_an_unknown_one_answers_in_the_request_s_language() {
    let app = TestApp::spawn().await;
    let url = format!("{}/api/v1/me", app.base);
    in_both_languages(
        || app.client.get(&url),
        StatusCode::UNAUTHORIZED,
        &msg!("unauthenticated.no_token"),
    )
    .await;
    in_both_languages(
        || app.client.get(&url).bearer_auth("no-such-token"),
        StatusCode::UNAUTHORIZED,
        &msg!("unauthenticated.unknown_token"),
    )
    .await;
    in_both_languages(
        || app.client.get(&url).header("Authorization", "Basic abc"),
        StatusCode::UNAUTHORIZED,
        &msg!("unauthenticated.not_bearer"),
    )
    .await;
}

#[tokio::test]
async fn a_403_for_a_role_that_may_not_start_a_collaboration_answers_in_the_request_s_language() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let url = format!("{}/api/v1/collaborations", app.base);
    in_both_languages(
        || {
            app.client
                .post(&url)
                .bearer_auth(&admin)
                .json(&json!({"title": "t", "purpose": "p", "data_kind": "aggregated"}))
        },
        StatusCode::FORBIDDEN,
        &msg!("forbidden.create"),
    )
    .await;
    // A refusal by role names the role and the command by their codes, in a catalogued sentence.
    let company = app.token("company").await;
    let reg = app.register("EX-HJARTA").await;
    let url = format!("{}/api/v1/registers/{reg}/delegations", app.base);
    in_both_languages(
        || {
            app.client.post(&url).bearer_auth(&company).json(&json!({
                "delegate": "register_holder", "delegated_on": "2026-08-01",
                "reference": "RU 2026/0042"
            }))
        },
        StatusCode::FORBIDDEN,
        &msg!("forbidden.delegate"),
    )
    .await;
}

#[tokio::test]
async fn a_405_names_the_allowed_methods_in_the_request_s_language() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    let url = format!("{}/api/v1/collaborations", app.base);
    let r = app.client.put(&url).bearer_auth(&t).send().await.unwrap();
    let allow = r
        .headers()
        .get("allow")
        .expect("a 405 says what is allowed")
        .to_str()
        .unwrap()
        .to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let (sv, _) = in_both_languages(
        || app.client.put(&url).bearer_auth(&t),
        StatusCode::METHOD_NOT_ALLOWED,
        &msg!("method_not_allowed", allow = allow.as_str()),
    )
    .await;
    assert_eq!(sv["type"], "urn:samverkan:problem:method_not_allowed");
}

#[tokio::test]
async fn a_409_for_a_delegation_revoked_twice_answers_in_the_request_s_language() {
    let app = TestApp::spawn().await;
    let legal = app.token("legal").await;
    let reg = app.register("EX-HJARTA").await;
    let v = ok(app
        .post(
            &format!("/api/v1/registers/{reg}/delegations"),
            &legal,
            &json!({"delegate": "register_holder", "delegated_on": "2026-08-01",
                    "reference": "RU 2026/0042"}),
        )
        .await)
    .await;
    let delegation = v["delegations"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a delegation id in {v}"))
        .to_string();
    let url = format!(
        "{}/api/v1/registers/{reg}/delegations/{delegation}/revoke",
        app.base
    );
    ok(app
        .client
        .post(&url)
        .bearer_auth(&legal)
        .send()
        .await
        .unwrap())
    .await;
    let (sv, _) = in_both_languages(
        || app.client.post(&url).bearer_auth(&legal),
        StatusCode::CONFLICT,
        &msg!("conflict.delegation_revoked"),
    )
    .await;
    assert_eq!(sv["type"], "urn:samverkan:problem:conflict");
}

#[tokio::test]
async fn a_412_for_a_stale_if_match_answers_in_the_request_s_language() {
    let app = TestApp::spawn().await;
    let (id, created) = app.research_collaboration(&["EX-HJARTA"]).await;
    let version = created["version"].as_i64().unwrap();
    let t = app.token("company").await;
    let url = format!("{}/api/v1/collaborations/{id}/transitions", app.base);
    let stale = version + 5;
    in_both_languages(
        || {
            app.client
                .post(&url)
                .bearer_auth(&t)
                .header("If-Match", format!("\"{stale}\""))
                .json(&json!({"to": "register_contact"}))
        },
        StatusCode::PRECONDITION_FAILED,
        &msg!(
            "precondition_failed.version",
            version = version,
            sent = stale
        ),
    )
    .await;
}

#[tokio::test]
async fn a_413_415_and_400_for_a_bad_body_answer_in_the_request_s_language() {
    let app = TestApp::spawn_with(|s| s.server.max_body_bytes = 4096).await;
    let t = app.token("company").await;
    let url = format!("{}/api/v1/collaborations", app.base);
    let huge = json!({"title": "t", "purpose": "x".repeat(10_000), "data_kind": "aggregated"});
    in_both_languages(
        || app.client.post(&url).bearer_auth(&t).json(&huge),
        StatusCode::PAYLOAD_TOO_LARGE,
        &msg!("payload_too_large", limit = 4096_usize),
    )
    .await;
    in_both_languages(
        || {
            app.client
                .post(&url)
                .bearer_auth(&t)
                .header("content-type", "text/plain")
                .body("{}")
        },
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &msg!("unsupported_media_type"),
    )
    .await;
    // A syntax error says where, without serde's English sentence.
    let (sv, _) = in_both_languages(
        || {
            app.client
                .post(&url)
                .bearer_auth(&t)
                .header("content-type", "application/json")
                .body("{\"title\": ]")
        },
        StatusCode::BAD_REQUEST,
        &msg!("malformed_json", line = 1_usize, column = 11_usize),
    )
    .await;
    assert_eq!(sv["type"], "urn:samverkan:problem:malformed_request");
    in_both_languages(
        || {
            app.client
                .post(&url)
                .bearer_auth(&t)
                .header("content-type", "application/json")
                .body("{\"title\": ")
        },
        StatusCode::BAD_REQUEST,
        &msg!("malformed_json.incomplete"),
    )
    .await;
}

#[tokio::test]
async fn a_429_for_too_many_token_requests_answers_in_the_request_s_language() {
    let app = TestApp::spawn_with(|s| s.auth.token_requests_per_minute = 1).await;
    app.token("company").await;
    let url = format!("{}/api/v1/local/token", app.base);
    let send = |lang: Option<&str>| {
        let mut r = app.client.post(&url).json(&json!({"account": "company"}));
        if let Some(l) = lang {
            r = r.header("Accept-Language", l);
        }
        r.send()
    };
    // The wait in seconds is part of the sentence; read it from Retry-After of each answer.
    for (accept, lang) in [(None, Lang::Sv), (Some("en"), Lang::En)] {
        let r = send(accept).await.unwrap();
        let secs: u64 = r
            .headers()
            .get("retry-after")
            .expect("Retry-After")
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            r.headers()
                .get("content-language")
                .and_then(|v| v.to_str().ok()),
            Some(lang.code())
        );
        let p = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
        let detail = p["detail"].as_str().unwrap();
        // Retry-After is at least 1 while the message gives the exact remaining seconds (0 or more).
        let candidates: Vec<String> = (secs.saturating_sub(1)..=secs)
            .map(|s| msg!("too_many_requests.token", max = 1_u32, secs = s).render(lang))
            .collect();
        assert!(
            candidates.iter().any(|c| c == detail),
            "{detail} in {lang:?}"
        );
        if lang == Lang::Sv {
            assert!(english_words(detail).is_empty(), "{detail}");
            assert!(detail.contains("per minut"), "{detail}");
        } else {
            assert!(detail.contains("a minute"), "{detail}");
        }
    }
}

#[test]
fn the_english_word_check_finds_english_and_passes_swedish() {
    assert_eq!(
        english_words("the body must be at most 5 bytes"),
        ["the", "must", "body", "bytes", "at", "most"]
    );
    assert!(english_words(&msg!("payload_too_large", limit = 5_u32).render(Lang::Sv)).is_empty());
}

#[tokio::test]
async fn a_parser_s_reason_inside_a_field_error_is_catalogued_in_both_languages() {
    // The organisation number's check digit: the parser returns an error code, rendered here.
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let url = format!("{}/api/v1/organisations", app.base);
    let body = json!({"name": "Fel AB", "kind": "company", "org_number": "556012-3457"});
    let expected = msg!("org_number", reason = msg!("org_number.check_digit"));
    let mut messages = Vec::new();
    for (accept, lang) in [("sv", Lang::Sv), ("en", Lang::En)] {
        let r = app
            .client
            .post(&url)
            .bearer_auth(&admin)
            .header("Accept-Language", accept)
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["errors"][0]["field"], "org_number");
        assert_eq!(p["errors"][0]["rule"], "org_number");
        let m = p["errors"][0]["message"].as_str().unwrap().to_string();
        assert_eq!(m, expected.render(lang), "{p}");
        messages.push(m);
    }
    assert_ne!(messages[0], messages[1]);
    assert!(english_words(&messages[0]).is_empty(), "{}", messages[0]);
}

#[tokio::test]
async fn a_404_names_what_was_not_found_in_the_request_s_language() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    let url = format!(
        "{}/api/v1/collaborations/00000000-0000-4000-8000-000000000000",
        app.base
    );
    let (sv, _) = in_both_languages(
        || app.client.get(&url).bearer_auth(&t),
        StatusCode::NOT_FOUND,
        &msg!(
            "problem.not_found.detail",
            what = msg!("thing.collaboration")
        ),
    )
    .await;
    assert_eq!(sv["detail"], "samarbetet finns inte");
    let url = format!("{}/api/v1/no-such-route", app.base);
    in_both_languages(
        || app.client.get(&url).bearer_auth(&t),
        StatusCode::NOT_FOUND,
        &msg!(
            "problem.not_found.detail",
            what = msg!(
                "thing.route",
                method = "GET",
                path = "/api/v1/no-such-route"
            )
        ),
    )
    .await;
}
