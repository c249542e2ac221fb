//! Lists (issue 10): keyset pages with an opaque cursor and a `next` link, cursors bound to their
//! list, a total counted up to a cap, visibility that follows a register to its new CPUA, the token
//! cache's lifetime, and gzip on request.
use diesel::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{ok, problem, public_research_intake, TestApp};

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// Creates a collaboration on the given register as the demo company; returns its id.
async fn create(app: &TestApp, company: &str, register: &str, title: &str) -> String {
    let v = ok(app
        .post(
            "/api/v1/collaborations",
            company,
            &json!({
                "title": title,
                "purpose": "Att jämföra utfall.",
                "registers": [register],
                "data_kind": "aggregated",
                "intake": public_research_intake(),
            }),
        )
        .await)
    .await;
    v["collaboration"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn following_next_walks_the_whole_list_once_newest_first() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let reg = app.register("EX-HJARTA").await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create(&app, &company, &reg, &format!("Studie {i}")).await);
        // Two of them share a moment: the id breaks the tie, so none is lost or repeated.
        if i != 2 {
            app.clock.advance(chrono::Duration::minutes(1));
        }
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/collaborations?per_page=2".to_string();
    let mut pages = 0;
    loop {
        let v = ok(app.get(&path, &company).await).await;
        pages += 1;
        assert_eq!(v["total"], 5);
        assert_eq!(v["total_exact"], true);
        assert!(v["items"].as_array().unwrap().len() <= 2);
        seen.extend(ids(&v));
        match v["next"].as_str() {
            Some(next) => {
                assert!(next.starts_with("/api/v1/collaborations?"));
                assert!(
                    next.contains("per_page=2"),
                    "the next link keeps the query: {next}"
                );
                assert_eq!(
                    v["next_cursor"].as_str().map(|c| next.contains(c)),
                    Some(true)
                );
                path = next.to_string();
            }
            None => {
                assert!(v["next_cursor"].is_null());
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    // Newest first; the two created at the same moment come in descending id order.
    let mut expected = created.clone();
    expected.reverse();
    let (a, b) = (expected[1].clone(), expected[2].clone());
    if a < b {
        expected.swap(1, 2);
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_cursor_that_was_changed_or_belongs_to_another_list_is_refused_naming_cursor() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let reg = app.register("EX-HJARTA").await;
    for i in 0..3 {
        create(&app, &company, &reg, &format!("Studie {i}")).await;
    }
    let v = ok(app
        .get(
            "/api/v1/collaborations?per_page=1&step=preparation",
            &company,
        )
        .await)
    .await;
    let cursor = v["next_cursor"].as_str().unwrap().to_string();
    // Its own list takes it.
    ok(app
        .get(
            &format!("/api/v1/collaborations?per_page=1&step=preparation&cursor={cursor}"),
            &company,
        )
        .await)
    .await;
    // Another filter, another sort, another caller, a changed or a made-up cursor: 400 naming cursor.
    let legal = app.token("legal").await;
    let mut changed = cursor.clone().into_bytes();
    let at = changed.len() / 2;
    changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).unwrap();
    for (path, token) in [
        (format!("/api/v1/collaborations?cursor={cursor}"), &company),
        (
            format!("/api/v1/collaborations?step=preparation&sort=due&cursor={cursor}"),
            &company,
        ),
        (
            format!("/api/v1/collaborations?step=preparation&cursor={cursor}"),
            &legal,
        ),
        (
            format!("/api/v1/collaborations?step=preparation&cursor={changed}"),
            &company,
        ),
        (
            "/api/v1/collaborations?cursor=not-a-cursor".to_string(),
            &company,
        ),
    ] {
        let p = problem(app.get(&path, token).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["field"], "cursor", "{path}");
        assert_eq!(p["errors"][0]["field"], "cursor");
    }
    // The organisation list binds its cursors too.
    let admin = app.token("admin").await;
    let orgs = ok(app.get("/api/v1/organisations?per_page=1", &admin).await).await;
    let oc = orgs["next_cursor"].as_str().unwrap();
    let p = problem(
        app.get(
            &format!("/api/v1/organisations?kind=company&cursor={oc}"),
            &admin,
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["field"], "cursor");
}

#[tokio::test]
async fn an_unknown_sort_is_refused_and_overdue_lists_are_in_due_order() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let p = problem(
        app.get("/api/v1/collaborations?sort=title", &company).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "sort");
    assert_eq!(p["rule"], "one_of");
    let p = problem(
        app.get("/api/v1/collaborations?overdue=true&sort=newest", &company)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "sort");
    // The old page number is gone: it names itself.
    let p = problem(
        app.get("/api/v1/collaborations?page=2", &company).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "page");
}

#[tokio::test]
async fn the_legal_queue_in_due_order_lists_only_undecided_reviews_earliest_first() {
    let app = TestApp::spawn().await;
    let uppsala = app.org("Region Uppsala").await;
    let (first, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&first, &["Region Uppsala"]).await;
    app.clock.advance(chrono::Duration::days(2));
    let (second, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&second, &["Region Uppsala"]).await;
    // A third without an application has no due date, so it is not in the queue.
    app.clock.advance(chrono::Duration::minutes(1));
    app.research_collaboration(&["EX-HJARTA"]).await;
    let legal = app.token("legal").await;
    let v = ok(app
        .get(
            &format!("/api/v1/collaborations?cpua={uppsala}&sort=due"),
            &legal,
        )
        .await)
    .await;
    assert_eq!(ids(&v), vec![first.clone(), second.clone()]);
    // Newest first by default, all three.
    let v = ok(app
        .get(&format!("/api/v1/collaborations?cpua={uppsala}"), &legal)
        .await)
    .await;
    assert_eq!(v["total"], 3);
    assert_eq!(ids(&v)[1..], [second.clone(), first.clone()]);
    // Page by page in due order.
    let v = ok(app
        .get(
            &format!("/api/v1/collaborations?cpua={uppsala}&sort=due&per_page=1"),
            &legal,
        )
        .await)
    .await;
    assert_eq!(ids(&v), vec![first]);
    let v = ok(app.get(v["next"].as_str().unwrap(), &legal).await).await;
    assert_eq!(ids(&v), vec![second]);
    assert!(v["next"].is_null());
}

#[tokio::test]
async fn a_register_moved_to_another_cpua_moves_its_collaborations_to_that_cpuas_list() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let reg = app.register("EX-HJARTA").await;
    let id = create(&app, &company, &reg, "Studie").await;
    let legal = app.token("legal").await;
    let vgr = app.token("legal-vgr").await;
    assert_eq!(
        ids(&ok(app.get("/api/v1/collaborations", &legal).await).await),
        vec![id.clone()]
    );
    assert!(ids(&ok(app.get("/api/v1/collaborations", &vgr).await).await).is_empty());
    let admin = app.token("admin").await;
    let target = app.org("Västra Götalandsregionen").await;
    ok(app
        .put(
            &format!("/api/v1/registers/{reg}/cpua"),
            &admin,
            &json!({"cpua": target}),
        )
        .await)
    .await;
    assert_eq!(
        ids(&ok(app.get("/api/v1/collaborations", &vgr).await).await),
        vec![id.clone()]
    );
    assert_eq!(
        ids(&ok(app
            .get(&format!("/api/v1/collaborations?cpua={target}"), &admin)
            .await)
        .await),
        vec![id.clone()]
    );
    assert!(ids(&ok(app.get("/api/v1/collaborations", &legal).await).await).is_empty());
    // The single read agrees with the list.
    problem(
        app.get(&format!("/api/v1/collaborations/{id}"), &legal)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    ok(app.get(&format!("/api/v1/collaborations/{id}"), &vgr).await).await;
}

#[tokio::test]
async fn a_deleted_token_is_refused_within_thirty_seconds() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    ok(app.get("/api/v1/me", &t).await).await;
    // Revoke every token in the database.
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).unwrap();
    let mut conn = db.pool.get().unwrap();
    diesel::delete(samverkan::db::schema::sessions::table)
        .execute(&mut *conn)
        .unwrap();
    // Within the cache's lifetime the token is still taken …
    app.clock.advance(chrono::Duration::seconds(29));
    ok(app.get("/api/v1/me", &t).await).await;
    // … and refused once it has passed.
    app.clock.advance(chrono::Duration::seconds(1));
    problem(app.get("/api/v1/me", &t).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn responses_are_gzipped_when_the_client_asks() {
    let app = TestApp::spawn().await;
    let t = app.token("admin").await;
    let r = app
        .client
        .get(format!("{}/api/v1/organisations?per_page=200", app.base))
        .bearer_auth(&t)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let plain = app.get("/api/v1/organisations?per_page=200", &t).await;
    assert!(plain.headers().get("content-encoding").is_none());
}

/// Issue 12, "Their collaborations (search, filter by step)": `q` finds the caller's own
/// collaborations whose title or reference contains the text, by Unicode's case rules, with `%` and
/// `_` taken literally, and never another company's.
#[tokio::test]
async fn a_search_finds_own_collaborations_by_title_or_reference_in_any_case() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let reg = app.register("EX-HJARTA").await;
    let angst = create(&app, &company, &reg, "Ångest hos unga vuxna").await;
    let diabetes = create(&app, &company, &reg, "Diabetes typ 1").await;
    let rebate = create(&app, &company, &reg, "Studie med 50% dos").await;
    let other = app.token("company-b").await;
    let theirs = create(&app, &other, &reg, "Ångest i arbetslivet").await;
    let search = |q: &str| format!("/api/v1/collaborations?q={}", urlencode(q));

    let v = ok(app.get(&search("ÅNGEST"), &company).await).await;
    assert_eq!(ids(&v), vec![angst.clone()], "own only, folded by Unicode");
    assert_eq!(v["total"], 1);
    let v = ok(app.get(&search("ångest"), &other).await).await;
    assert_eq!(ids(&v), vec![theirs]);
    // `%` is a character, not a wildcard: only the title with "0%" in it.
    let v = ok(app.get(&search("0%"), &company).await).await;
    assert_eq!(ids(&v), vec![rebate.clone()]);
    // `_` likewise: "s_u" is in no title, though the wildcard would match "stu".
    let v = ok(app.get(&search("s_u"), &company).await).await;
    assert!(ids(&v).is_empty(), "{v}");
    // The reference, in lower case.
    let reference = app.view(&diabetes, &company).await["collaboration"]["reference"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let v = ok(app.get(&search(&reference), &company).await).await;
    assert_eq!(ids(&v), vec![diabetes.clone()]);
    // Search and step together; an empty box is no search.
    let v = ok(app
        .get(
            &format!("/api/v1/collaborations?q=studie&step={}", "preparation"),
            &company,
        )
        .await)
    .await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(ids(&v).len()));
    let v = ok(app.get("/api/v1/collaborations?q=", &company).await).await;
    assert_eq!(v["total"], 3);
    // One letter is too little to search for: refused naming `q`.
    let p = problem(
        app.get(&search("å"), &company).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "q");
    assert_eq!(p["rule"], "min_length");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The step filter of a party's list reads the step kept on its access rows (migration
/// `2026-12-10-000040_access_step`): a case that moves on leaves its old step's list and total and
/// joins the new one's, for the company and for the CPUA that reviews it.
#[tokio::test]
async fn a_case_that_moves_on_leaves_its_old_steps_list_and_total() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let id = app.case_at_register_contact(false).await;
    let (stayed, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let listed = |step: &'static str| {
        let app = &app;
        let company = &company;
        async move {
            ok(app
                .get(&format!("/api/v1/collaborations?step={step}"), company)
                .await)
            .await
        }
    };
    let prep = listed("preparation").await;
    assert_eq!(ids(&prep), vec![stayed.clone()]);
    assert_eq!(prep["total"], 1);
    let contact = listed("register_contact").await;
    assert_eq!(ids(&contact), vec![id.clone()]);
    assert_eq!(contact["total"], 1);
    // Back to preparation is not a transition; a withdrawal moves it to a terminal step.
    ok(app
        .transition(
            &id,
            &company,
            json!({"to": "withdrawn", "reason": "Studien avbryts."}),
        )
        .await)
    .await;
    assert!(ids(&listed("register_contact").await).is_empty());
    assert_eq!(listed("register_contact").await["total"], 0);
    assert_eq!(ids(&listed("withdrawn").await), vec![id]);
}
