//! Production hardening (issue 9): two instances on one database, status codes, headers, abuse.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

use crate::helpers::{
    ok, problem, public_research_intake, test_clock, test_settings, TestApp, TestDb,
};

/// Two `Application`s (two pools, two ports) start at the same moment on one fresh database — a
/// PostgreSQL database when TEST_DATABASE_URL is set, else one SQLite file — and then both take
/// concurrent creates: every create succeeds, the references are unique and gapless, the
/// reference data was seeded once, and every hash chain is intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_started_together_share_one_database_with_unique_gapless_references() {
    let db = TestDb::create();
    let clock = test_clock();
    let build = |url: String, clock| {
        tokio::task::spawn_blocking(move || {
            samverkan::startup::Application::build(test_settings(&url), clock)
        })
    };
    let (a, b) = tokio::join!(
        build(db.url.clone(), clock.clone()),
        build(db.url.clone(), clock.clone())
    );
    let a = TestApp::serve(
        a.unwrap().expect("first instance starts"),
        clock.clone(),
        &db.url,
    );
    let b = TestApp::serve(
        b.unwrap().expect("second instance starts"),
        clock.clone(),
        &db.url,
    );
    assert_ne!(a.base, b.base, "two ports");

    let admin = a.token("admin").await;
    let orgs = ok(a.get("/api/v1/organisations?per_page=200", &admin).await).await;
    let names: Vec<&str> = orgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(
        names.len(),
        unique.len(),
        "reference data seeded once: {names:?}"
    );

    let register = a.register("EX-HJARTA").await;
    let principal = a.org("Exempeluniversitetet").await;
    let body = json!({
        "title": "Långtidsutfall efter hjärtinfarkt",
        "purpose": "Att jämföra långtidsutfall mellan behandlingsstrategier.",
        "research_question": "Skiljer sig femårsöverlevnaden mellan strategierna?",
        "research_principal": principal,
        "registers": [register],
        "requested_variables": ["alder", "kon"],
        "data_kind": "pseudonymised",
        "intake": public_research_intake(),
    });
    let (ta, tb) = (a.token("company").await, b.token("company").await);
    const PER_INSTANCE: usize = 8;
    let mut calls = Vec::new();
    for i in 0..2 * PER_INSTANCE {
        let (app, token) = if i % 2 == 0 { (&a, &ta) } else { (&b, &tb) };
        let req = app
            .client
            .post(format!("{}/api/v1/collaborations", app.base))
            .bearer_auth(token)
            .json(&body);
        calls.push(async move { req.send().await.unwrap() });
    }
    let responses = futures_util::future::join_all(calls).await;
    let mut refs = Vec::new();
    for r in responses {
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{v}");
        refs.push(
            v["collaboration"]["reference"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let numbers: BTreeSet<u32> = refs
        .iter()
        .map(|r| r.rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(numbers.len(), refs.len(), "unique references: {refs:?}");
    assert_eq!(
        numbers,
        (1..=(2 * PER_INSTANCE) as u32).collect::<BTreeSet<_>>(),
        "gapless references: {refs:?}"
    );

    let url = db.url.clone();
    let reports = tokio::task::spawn_blocking(move || {
        let db = samverkan::db::Db::connect(&url, 1).unwrap();
        let mut conn = db.pool.get().unwrap();
        samverkan::app::audit::verify_all(&mut conn, None).unwrap()
    })
    .await
    .unwrap();
    assert!(reports.len() > 2 * PER_INSTANCE);
    assert!(
        reports.iter().all(|r| r.intact),
        "audit verify: {reports:?}"
    );
}

#[tokio::test]
async fn a_wrong_method_on_an_existing_route_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/collaborations", "GET, POST"),
        (Method::POST, "/api/v1/me", "GET"),
        (Method::GET, "/api/v1/local/token", "POST"),
        (
            Method::PUT,
            "/api/v1/collaborations/00000000-0000-4000-8000-000000000000",
            "GET, PATCH",
        ),
    ] {
        let r = app
            .client
            .request(method.clone(), format!("{}{path}", app.base))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
        let p = problem(r, StatusCode::METHOD_NOT_ALLOWED).await;
        assert_eq!(p["type"], "urn:samverkan:problem:method_not_allowed");
    }
    // A path that does not exist stays 404.
    problem(
        app.get("/api/v1/nothing-here", &t).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn assert_security_headers(r: &reqwest::Response, what: &str) {
    assert_eq!(
        header(r, "x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        header(r, "referrer-policy").as_deref(),
        Some("no-referrer"),
        "{what}"
    );
    let csp = header(r, "content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_api_answers_are_not_cached() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    let cases = [
        (
            "live",
            app.client
                .get(format!("{}/health/live", app.base))
                .send()
                .await
                .unwrap(),
        ),
        ("list", app.get("/api/v1/collaborations", &t).await),
        ("404", app.get("/api/v1/collaborations/nope", &t).await),
        (
            "401",
            app.client
                .get(format!("{}/api/v1/me", app.base))
                .send()
                .await
                .unwrap(),
        ),
        (
            "422",
            app.post("/api/v1/collaborations", &t, &json!({})).await,
        ),
        (
            "openapi",
            app.client
                .get(format!("{}/api/openapi.json", app.base))
                .send()
                .await
                .unwrap(),
        ),
    ];
    for (what, r) in &cases {
        assert_security_headers(r, what);
        assert_eq!(
            header(r, "cache-control").as_deref(),
            Some("no-store"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn the_docs_page_runs_without_inline_script_or_style() {
    let app = TestApp::spawn().await;
    let page = app
        .client
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_security_headers(&page, "docs");
    let csp = header(&page, "content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("<style>"),
        "{html}"
    );
    assert!(!html.contains("style=\""), "no inline style attributes");
    // The page's own script and style, named with their content hash.
    let named = |prefix: &str, ext: &str| -> String {
        html.split('"')
            .find(|s| s.starts_with(prefix) && s.ends_with(ext))
            .unwrap_or_else(|| panic!("the page loads {prefix}*{ext}"))
            .to_string()
    };
    for (path, ct) in [
        (named("/api/docs/docs.", ".js"), "text/javascript"),
        (named("/api/docs/docs.", ".css"), "text/css"),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path} is public");
        assert!(
            header(&r, "content-type").unwrap().starts_with(ct),
            "{path}"
        );
        assert_eq!(
            header(&r, "x-content-type-options").as_deref(),
            Some("nosniff")
        );
    }
}

#[tokio::test]
async fn a_401_says_how_to_authenticate() {
    let app = TestApp::spawn().await;
    for r in [
        app.client
            .get(format!("{}/api/v1/me", app.base))
            .send()
            .await
            .unwrap(),
        app.get("/api/v1/me", "sv_not-a-token").await,
    ] {
        let h = header(&r, "www-authenticate").unwrap_or_default();
        assert!(h.starts_with("Bearer"), "{h}");
        problem(r, StatusCode::UNAUTHORIZED).await;
    }
}

#[tokio::test]
async fn cors_is_closed_unless_the_origin_is_configured() {
    let preflight = |app: &TestApp, origin: &str| {
        app.client
            .request(
                Method::OPTIONS,
                format!("{}/api/v1/collaborations", app.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let closed = TestApp::spawn().await;
    let r = preflight(&closed, "https://portal.example.se")
        .await
        .unwrap();
    assert!(header(&r, "access-control-allow-origin").is_none());
    problem(r, StatusCode::FORBIDDEN).await;
    let t = closed.token("company").await;
    let r = closed
        .client
        .get(format!("{}/api/v1/collaborations", closed.base))
        .bearer_auth(&t)
        .header("origin", "https://portal.example.se")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(header(&r, "access-control-allow-origin").is_none());

    let open = TestApp::spawn_with(|s| {
        s.server.cors_origins = vec!["https://portal.example.se".into()];
    })
    .await;
    let r = preflight(&open, "https://portal.example.se").await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("https://portal.example.se")
    );
    assert!(header(&r, "access-control-allow-headers")
        .unwrap()
        .contains("authorization"));
    let r = preflight(&open, "https://evil.example").await.unwrap();
    assert!(header(&r, "access-control-allow-origin").is_none());
    // A refused preflight is an answer like any other: the security headers, the request id.
    assert_security_headers(&r, "refused preflight");
    assert!(header(&r, "x-request-id").is_some());
    problem(r, StatusCode::FORBIDDEN).await;
    // And in the language asked for.
    let r = open
        .client
        .request(
            Method::OPTIONS,
            format!("{}/api/v1/collaborations", open.base),
        )
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "content-language").as_deref(), Some("en"));
    let p = problem(r, StatusCode::FORBIDDEN).await;
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("from this origin are not allowed")),
        "in English: {p}"
    );
    let t = open.token("company").await;
    let r = open
        .client
        .get(format!("{}/api/v1/collaborations", open.base))
        .bearer_auth(&t)
        .header("origin", "https://portal.example.se")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("https://portal.example.se")
    );
}

#[tokio::test]
async fn token_requests_are_rate_limited_per_client_with_retry_after() {
    let app = TestApp::spawn_with(|s| s.auth.token_requests_per_minute = 3).await;
    for _ in 0..3 {
        app.token("company").await;
    }
    let r = app
        .client
        .post(format!("{}/api/v1/local/token", app.base))
        .json(&json!({"account": "company"}))
        .send()
        .await
        .unwrap();
    let retry: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let p = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(p["type"], "urn:samverkan:problem:too_many_requests");
}

async fn token_rows(url: &str) -> i64 {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use samverkan::db::schema::sessions;
        let db = samverkan::db::Db::connect(&url, 1).unwrap();
        let mut conn = db.pool.get().unwrap();
        sessions::table
            .count()
            .get_result::<i64>(&mut *conn)
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn expired_tokens_are_purged_when_new_ones_are_issued() {
    let app = TestApp::spawn().await;
    let old = app.token("company").await;
    app.token("legal").await;
    assert_eq!(token_rows(&app.database_url).await, 2);
    app.clock.advance(chrono::Duration::hours(13));
    problem(app.get("/api/v1/me", &old).await, StatusCode::UNAUTHORIZED).await;
    let fresh = app.token("company").await;
    assert_eq!(
        token_rows(&app.database_url).await,
        1,
        "only the live token is stored"
    );
    ok(app.get("/api/v1/me", &fresh).await).await;
}

/// Commands sent without If-Match asked for the change whatever the version: a lost optimistic race is
/// retried inside the server. Twenty simultaneous internal notes all land (before: 4–8 of 20 on
/// PostgreSQL), and ten simultaneous agreement drafts get the numbers 1..10 (before: 3 of 10).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commands_without_if_match_all_land_and_agreement_numbers_are_unique() {
    let app = TestApp::spawn_with(|s| s.database.pool_size = 8).await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let legal = app.token("legal").await;
    let notes = (0..20).map(|i| {
        let (app, id, legal) = (&app, id.clone(), legal.clone());
        async move {
            app.action(
                &id,
                &legal,
                json!({"action": "add_internal_note", "text": format!("note {i}")}),
            )
            .await
            .status()
        }
    });
    let statuses = futures_util::future::join_all(notes).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "every note lands: {statuses:?}"
    );
    let v = ok(app
        .get(&format!("/api/v1/collaborations/{id}"), &legal)
        .await)
    .await;
    assert_eq!(
        v["collaboration"]["internal_notes"]
            .as_array()
            .unwrap()
            .len(),
        20
    );

    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let company = app.token("company").await;
    let terms = crate::agreements::full_terms(&app).await;
    let path = format!("/api/v1/collaborations/{id}/agreements");
    let drafts = (0..10).map(|_| {
        let (app, path, company, terms) = (&app, path.clone(), company.clone(), terms.clone());
        async move { app.post(&path, &company, &json!({"terms": terms})).await }
    });
    let mut numbers = BTreeSet::new();
    for r in futures_util::future::join_all(drafts).await {
        let v = ok(r).await;
        numbers.insert(v["number"].as_i64().unwrap());
    }
    assert_eq!(numbers, (1..=10).collect::<BTreeSet<i64>>());
}
