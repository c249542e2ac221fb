//! Case handling (issue 16, items 2-5): completion requests with their field diff and the decision
//! clock, consultations reminded on the manual clock, the handling lawyer and `assigned=mine`, the
//! CPUA's case number and its search, and the to-do list of each role.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{approval, ok, problem, TestApp};

async fn applied(app: &TestApp) -> (String, String) {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    (id, app.org("Region Uppsala").await)
}

fn track<'a>(view: &'a Value, cpua: &str) -> &'a Value {
    view["collaboration"]["cpua_reviews"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cpua"] == cpua)
        .expect("the track")
}

async fn todo(app: &TestApp, account: &str) -> Vec<Value> {
    let t = app.token(account).await;
    ok(app.get("/api/v1/me/todo", &t).await)
        .await
        .as_array()
        .unwrap()
        .clone()
}

fn reasons(items: &[Value], id: &str) -> Vec<String> {
    items
        .iter()
        .filter(|i| i["collaboration_id"] == id)
        .map(|i| i["reason"].as_str().unwrap().to_string())
        .collect()
}

async fn me(app: &TestApp, account: &str) -> String {
    let t = app.token(account).await;
    ok(app.get("/api/v1/me", &t).await).await["account"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_completion_round_trip_shows_the_field_diff_and_restarts_the_decision_clock() {
    // Seed 001, "5. Beslut om utlämnande": the decision "bör" be given within 30 days of the
    // complete application; after a completion that is the resubmission.
    let app = TestApp::spawn().await;
    let (id, uppsala) = applied(&app).await;
    let legal = app.token("legal").await;
    let company = app.token("company").await;
    let before = app.view(&id, &legal).await;
    assert_eq!(track(&before, &uppsala)["decision_due_on"], "2026-10-01");
    // The legal team is asked to decide by the due day.
    let t = todo(&app, "legal").await;
    let decide: Vec<&Value> = t.iter().filter(|i| i["reason"] == "decide").collect();
    assert_eq!(decide.len(), 1, "{t:?}");
    assert_eq!(decide[0]["due_on"], "2026-10-01");
    assert_eq!(decide[0]["link"], format!("/collaborations/{id}"));

    let path = format!("/api/v1/collaborations/{id}/completion-requests");
    // Only CPUA legal returns an application; an empty list of items is refused at its field.
    problem(
        app.post(
            &path,
            &company,
            &json!({"cpua": uppsala, "items": [{"text": "x"}], "due_on": "2026-09-15"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let p = problem(
        app.post(
            &path,
            &legal,
            &json!({"cpua": uppsala, "items": [], "due_on": "2026-09-15"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p.to_string().contains("items"), "{p}");
    let r = app
        .post(
            &path,
            &legal,
            &json!({"cpua": uppsala, "due_on": "2026-09-15", "items": [
                {"text": "Beskriv syftet närmare", "field": "purpose"},
                {"text": "Bifoga etikbeslutet"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let req: Value = r.json().await.unwrap();
    assert_eq!(req["status"], "open");
    let rid = req["id"].as_str().unwrap().to_string();
    // The clock stops: no decision due while the application is returned, and the decision waits.
    let returned = app.view(&id, &legal).await;
    assert!(track(&returned, &uppsala)["decision_due_on"].is_null());
    assert_eq!(
        track(&returned, &uppsala)["completion"]["due_on"],
        "2026-09-15"
    );
    let p = problem(
        app.transition(&id, &legal, approval(&uppsala)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["rule"], "returned_for_completion", "{p}");
    assert_eq!(p["missing"][0], "completion_answer");
    // The company sees what it is asked for on its to-do list; legal no longer has a decision due.
    let t = todo(&app, "company").await;
    let ask: Vec<&Value> = t
        .iter()
        .filter(|i| i["reason"] == "answer_completion")
        .collect();
    assert_eq!(ask.len(), 1, "{t:?}");
    assert_eq!(ask[0]["due_on"], "2026-09-15");
    assert!(!reasons(&todo(&app, "legal").await, &id).contains(&"decide".to_string()));

    // The company corrects the application through the ordinary update, then answers.
    app.clock.advance(chrono::Duration::days(5));
    // Tokens count on the same clock: sign in again.
    let legal = app.token("legal").await;
    let company = app.token("company").await;
    ok(app
        .patch(
            &format!("/api/v1/collaborations/{id}"),
            &company,
            &json!({"purpose": "Att jämföra femårsöverlevnad mellan två behandlingsstrategier."}),
        )
        .await)
    .await;
    // A document for the parties and one internal to the company: only the first is listed as added.
    for (name, visibility) in [("etikbeslut.pdf", "parties"), ("intern.pdf", "internal")] {
        let r = crate::documents::upload(
            &app,
            &id,
            &company,
            &[("type", "ethics_decision"), ("visibility", visibility)],
            Some((name, &crate::documents::pdf())),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{name}");
    }
    let answer = format!("{path}/{rid}/answer");
    let p = problem(
        app.post(
            &answer,
            &company,
            &json!({"answers": [{"item": 7, "text": "x"}]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p.to_string().contains("answers[0].item"), "{p}");
    let done = ok(app
        .post(
            &answer,
            &company,
            &json!({"answers": [{"item": 0, "text": "Syftet är preciserat"}, {"item": 1, "text": "Bifogat"}]}),
        )
        .await)
    .await;
    assert_eq!(done["status"], "answered");
    let changes = done["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{done}");
    assert_eq!(changes[0]["field"], "purpose");
    let added = done["documents_added"].as_array().unwrap();
    assert_eq!(added.len(), 1, "{done}");
    assert_eq!(added[0]["file_name"], "etikbeslut.pdf");
    assert_eq!(added[0]["doc_type"], "ethics_decision");
    assert_eq!(
        changes[0]["before"],
        "Att jämföra långtidsutfall mellan behandlingsstrategier."
    );
    assert!(done["clock_note"].as_str().unwrap().contains("2026-09-06"));
    // The 30 days now count from the resubmission on 6 September.
    let back = app.view(&id, &legal).await;
    assert_eq!(track(&back, &uppsala)["decision_due_on"], "2026-10-06");
    assert!(track(&back, &uppsala).get("completion").is_none());
    // A second answer to the same request: 409.
    problem(
        app.post(
            &answer,
            &company,
            &json!({"answers": [{"item": 0, "text": "igen"}]}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    // Legal reads the request with its diff; the decision may now be given.
    let list = ok(app.get(&path, &legal).await).await;
    assert_eq!(list[0]["changes"][0]["field"], "purpose");
    ok(app.transition(&id, &legal, approval(&uppsala)).await).await;
    // The audit chain holds both commands.
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &legal)
        .await)
    .await;
    let s = events.to_string();
    assert!(s.contains("return_for_completion") && s.contains("resubmit_application"));
}

#[tokio::test]
async fn a_completion_due_soon_is_a_deadline_reminding_the_parties() {
    let app = TestApp::spawn().await;
    let (id, uppsala) = applied(&app).await;
    let legal = app.token("legal").await;
    ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/completion-requests"),
            &legal,
            &json!({"cpua": uppsala, "due_on": "2026-09-10", "items": [{"text": "Komplettera variabellistan"}]}),
        )
        .await)
    .await;
    let v = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/notifications"),
            &legal,
        )
        .await)
    .await;
    let deadlines = v["deadlines"].as_array().unwrap();
    let d = deadlines
        .iter()
        .find(|d| d["code"] == "completion_answer")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(d["due_on"], "2026-09-10");
    assert!(!deadlines.iter().any(|d| d["code"] == "release_decision"));
}

async fn notices(app: &TestApp, id: &str, event: &str) -> usize {
    let v = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/notifications"),
            &app.token("admin").await,
        )
        .await)
    .await;
    v["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["event"] == event)
        .count()
}

#[tokio::test]
async fn a_consultation_is_reminded_before_its_due_day_and_answered_once() {
    let app = TestApp::spawn().await;
    let (id, uppsala) = applied(&app).await;
    let legal = app.token("legal").await;
    let path = format!("/api/v1/collaborations/{id}/consultations");
    // Only CPUA legal asks; the company may not.
    problem(
        app.post(
            &path,
            &app.token("company").await,
            &json!({"addressee_kind": "dpo", "addressee_email": "dpo@x.se", "question": "q", "due_on": "2026-09-10"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // An addressee is needed.
    problem(
        app.post(
            &path,
            &legal,
            &json!({"addressee_kind": "dpo", "question": "q", "due_on": "2026-09-10"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let to_holder = ok(app
        .post(
            &path,
            &legal,
            &json!({"addressee_kind": "register_holder", "addressee_org": uppsala,
                    "addressee_role": "register_holder",
                    "question": "Kan variabeln behandling lämnas ut på denna nivå?", "due_on": "2026-09-10"}),
        )
        .await)
    .await;
    let to_dpo = ok(app
        .post(
            &path,
            &legal,
            &json!({"addressee_kind": "dpo", "addressee_email": "dso@regionuppsala.se",
                    "addressee_name": "Dataskyddsombudet", "question": "Förbehåll om lagring?",
                    "due_on": "2026-09-20"}),
        )
        .await)
    .await;
    assert_eq!(to_dpo["evidence_for"], "dpo_not_consulted");
    // The register holder has it on the to-do list.
    let t = todo(&app, "register-holder").await;
    assert!(
        reasons(&t, &id).contains(&"answer_consultation".to_string()),
        "{t:?}"
    );

    // The reminder on the manual clock: not yet on 1 September, on 7 September (three days before).
    let settings = crate::helpers::test_settings(&app.database_url);
    let rulebooks = samverkan::startup::load_rulebooks(&settings).expect("rulebooks");
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).expect("database");
    let run =
        || samverkan::app::casework::remind_consultations_on(&db, &rulebooks, app.clock.as_ref());
    assert_eq!(run().unwrap(), 0);
    app.clock.advance(chrono::Duration::days(6));
    assert_eq!(run().unwrap(), 1, "the register holder of Region Uppsala");
    assert_eq!(run().unwrap(), 0, "written once");
    assert_eq!(notices(&app, &id, "consultation_due_soon").await, 1);

    // The holder answers; a second answer is a 409.
    let legal = app.token("legal").await;
    let holder = app.token("register-holder").await;
    let answer = format!("{path}/{}/answer", to_holder["id"].as_str().unwrap());
    let a = ok(app
        .post(&answer, &holder, &json!({"answer": "Ja, på årsnivå."}))
        .await)
    .await;
    assert_eq!(a["status"], "answered");
    assert_eq!(a["answered_on"], "2026-09-07");
    problem(
        app.post(&answer, &holder, &json!({"answer": "igen"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    // The DPO has no account: legal records the answer received, with its day (not in the future).
    let dpo_answer = format!("{path}/{}/answer", to_dpo["id"].as_str().unwrap());
    problem(
        app.post(&dpo_answer, &holder, &json!({"answer": "x"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.post(
            &dpo_answer,
            &legal,
            &json!({"answer": "x", "answered_on": "2026-12-01"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let d = ok(app
        .post(
            &dpo_answer,
            &legal,
            &json!({"answer": "Inga invändningar.", "answered_on": "2026-09-05"}),
        )
        .await)
    .await;
    assert_eq!(d["answered_on"], "2026-09-05");
    // The company does not see the CPUA's consultations.
    let seen = ok(app.get(&path, &app.token("company").await).await).await;
    assert_eq!(seen.as_array().unwrap().len(), 0);
    assert_eq!(
        ok(app.get(&path, &legal).await)
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_case_is_assigned_to_a_lawyer_of_its_cpua_and_listed_as_mine() {
    let app = TestApp::spawn().await;
    let (id, _) = applied(&app).await;
    let legal = app.token("legal").await;
    let other = app
        .add_account("legal-two", "cpua_legal", "Region Uppsala")
        .await;
    let me_legal = me(&app, "legal").await;
    let path = format!("/api/v1/collaborations/{id}/assignee");
    // A person who is no lawyer of the CPUA cannot be assigned; nor may the company assign.
    let company_account = me(&app, "company").await;
    problem(
        app.put(&path, &legal, &json!({"assignee": company_account}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        app.put(
            &path,
            &app.token("company").await,
            &json!({"assignee": me_legal}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let f = ok(app.put(&path, &legal, &json!({"assignee": me_legal})).await).await;
    assert_eq!(f["assignee"], me_legal.as_str());
    let mine = |t: String| {
        let app = &app;
        async move {
            ok(app.get("/api/v1/collaborations?assigned=mine", &t).await).await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(mine(legal.clone()).await, 1);
    let two = app.token("legal-two").await;
    assert_eq!(mine(two.clone()).await, 0);
    // Reassigned: now the other lawyer's.
    ok(app.put(&path, &legal, &json!({"assignee": other})).await).await;
    assert_eq!(mine(legal.clone()).await, 0);
    assert_eq!(mine(two).await, 1);
    problem(
        app.get("/api/v1/collaborations?assigned=someone", &legal)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Audited, and internal to the CPUA.
    let events = ok(app
        .get(&format!("/api/v1/collaborations/{id}/events"), &legal)
        .await)
    .await;
    assert!(events.to_string().contains("case_assigned"));
    let seen = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/events"),
            &app.token("company").await,
        )
        .await)
    .await;
    assert!(!seen.to_string().contains("case_assigned"));
}

#[tokio::test]
async fn the_cpuas_case_number_is_set_searched_and_shown_to_the_parties() {
    let app = TestApp::spawn().await;
    let (id, uppsala) = applied(&app).await;
    let (other, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let legal = app.token("legal").await;
    let path = format!("/api/v1/collaborations/{id}/case-number");
    problem(
        app.put(&path, &legal, &json!({"case_number": "a<script>"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let f = ok(app
        .put(&path, &legal, &json!({"case_number": "RS 2026/0123"}))
        .await)
    .await;
    assert_eq!(f["case_number"], "RS 2026/0123");
    assert_eq!(f["cpua"], uppsala.as_str());
    let found = ok(app
        .get(
            "/api/v1/collaborations?case_number=RS%202026%2F0123",
            &legal,
        )
        .await)
    .await;
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_ne!(items[0]["id"], other.as_str());
    // Exact match only.
    let none = ok(app
        .get("/api/v1/collaborations?case_number=RS%202026", &legal)
        .await)
    .await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    // The parties see the number (it is printed on decisions and agreements), not the lawyer.
    let files = ok(app
        .get(
            &format!("/api/v1/collaborations/{id}/case-files"),
            &app.token("company").await,
        )
        .await)
    .await;
    assert_eq!(files[0]["case_number"], "RS 2026/0123");
    assert!(files[0]["assignee"].is_null());
    // Printed in the agreement beside the CPUA's name (issue 16 item 5).
    let company = app.token("company").await;
    let agreements = format!("/api/v1/collaborations/{id}/agreements");
    ok(app
        .post(
            &agreements,
            &company,
            &json!({"terms": crate::terms::full_terms(&app).await}),
        )
        .await)
    .await;
    let html = app
        .get(&format!("{agreements}/1.html"), &company)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Region Uppsala"), "{html}");
    assert!(html.contains("dnr RS 2026/0123"), "{html}");
}

#[tokio::test]
async fn the_to_do_list_follows_the_process_for_each_role() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    // Step 2: the register holder answers feasibility for the register.
    let t = todo(&app, "register-holder").await;
    let mine: Vec<&Value> = t.iter().filter(|i| i["collaboration_id"] == id).collect();
    assert_eq!(mine.len(), 1, "{t:?}");
    assert_eq!(mine[0]["reason"], "answer_feasibility");
    assert!(mine[0]["subject"].is_string());
    assert!(reasons(&todo(&app, "legal").await, &id).is_empty());
    assert!(reasons(&todo(&app, "company").await, &id).is_empty());
    // After the answer the holder has nothing; once applied, legal decides.
    app.answer_feasibility(&id).await;
    assert!(reasons(&todo(&app, "register-holder").await, &id).is_empty());
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "2026-08-20"}),
        )
        .await)
    .await;
    let uppsala = app.org("Region Uppsala").await;
    ok(app
        .transition(
            &id,
            &company,
            json!({"to": "data_application", "cpua": uppsala, "dossier": crate::helpers::dossier()}),
        )
        .await)
    .await;
    assert_eq!(reasons(&todo(&app, "legal").await, &id), ["decide"]);
    // Another CPUA's lawyer has nothing to do here.
    assert!(reasons(&todo(&app, "legal-vgr").await, &id).is_empty());
}
