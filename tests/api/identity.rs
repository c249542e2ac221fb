//! Identity (issue 11, parts 3–5): who am I and which role I act in, invitations, people and roles,
//! companies, and API keys for company systems.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{ok, problem, TestApp};

async fn me(app: &TestApp, token: &str) -> Value {
    ok(app.get("/api/v1/me", token).await).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.send(Method::DELETE, path, token, &json!({})).await
}

fn fields(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors in {p}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

/// The commands and changes of an audit stream, as one text, read from the database.
fn stream_text(app: &TestApp, stream: &str) -> String {
    let db = samverkan::db::conn::Db::connect(&app.database_url, 1).expect("database");
    let mut conn = db.pool.get().expect("connection");
    let events = samverkan::db::repo::stream_events(&mut conn, stream).expect("events");
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e.command,
                e.actor_account,
                e.change.clone().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------- /me and the active role ----------

#[tokio::test]
async fn me_shows_the_person_the_active_role_every_role_and_the_credential() {
    let app = TestApp::spawn().await;
    let company_org = app.org("Exempel Läkemedel AB").await;
    let t = app.token("company").await;
    let v = me(&app, &t).await;
    // The earlier shape is kept.
    assert_eq!(v["name"], "Karin Företagsson");
    assert_eq!(v["org"], company_org.as_str());
    assert_eq!(v["role"], "company_representative");
    assert_eq!(v["person"]["id"], v["account"]);
    assert_eq!(v["person"]["email"], "company@demo.samverkan.invalid");
    let active = &v["active_membership"];
    assert_eq!(active["organisation_id"], company_org.as_str());
    assert_eq!(active["organisation_name"], "Exempel Läkemedel AB");
    assert_eq!(active["role"], "company_representative");
    assert_eq!(v["memberships"].as_array().unwrap().len(), 1);
    assert_eq!(v["memberships"][0]["id"], active["id"]);
    assert_eq!(
        v["credential"],
        json!({"kind": "token", "key": null, "scope": null})
    );
}

#[tokio::test]
async fn a_person_switches_roles_and_every_decision_uses_the_active_one_at_once() {
    let app = TestApp::spawn().await;
    // A lawyer at Region Uppsala who is also an administrator at Region Stockholm.
    let extra = app
        .grant_membership("legal", "administrator", "Region Stockholm")
        .await;
    let t = app.token("legal").await;
    let v = me(&app, &t).await;
    assert_eq!(v["role"], "cpua_legal");
    let roles: Vec<&str> = v["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["cpua_legal", "administrator"]);
    let first = v["active_membership"]["id"].as_str().unwrap().to_string();
    // As a lawyer: no metrics (cached now for 30 seconds).
    problem(app.get("/metrics", &t).await, StatusCode::FORBIDDEN).await;

    let r = app
        .put(
            "/api/v1/me/active-membership",
            &t,
            &json!({"membership": extra}),
        )
        .await;
    let v = ok(r).await;
    assert_eq!(v["role"], "administrator");
    assert_eq!(v["active_membership"]["id"], extra.as_str());
    assert_eq!(
        v["active_membership"]["organisation_name"],
        "Region Stockholm"
    );
    // The same token, at once: the cached lawyer is not served again.
    assert_eq!(app.get("/metrics", &t).await.status(), StatusCode::OK);
    assert_eq!(me(&app, &t).await["role"], "administrator");

    // Back again.
    ok(app
        .put(
            "/api/v1/me/active-membership",
            &t,
            &json!({"membership": first}),
        )
        .await)
    .await;
    problem(app.get("/metrics", &t).await, StatusCode::FORBIDDEN).await;

    // Someone else's membership, a revoked one and a malformed id are not yours.
    let other = me(&app, &app.token("company").await).await["active_membership"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in [
        other.as_str(),
        "00000000-0000-4000-8000-000000000000",
        "nej",
    ] {
        let p = problem(
            app.put(
                "/api/v1/me/active-membership",
                &t,
                &json!({"membership": bad}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["field"], "membership", "{p}");
        assert_eq!(p["rule"], "not_your_membership", "{p}");
    }
    // The switch is audited on the person's stream.
    let text = stream_text(&app, &format!("account:{}", v["account"].as_str().unwrap()));
    assert!(text.contains("active_membership_changed"), "{text}");
}

// ---------- invitations ----------

#[tokio::test]
async fn invitations_are_created_listed_and_revoked_with_their_limits() {
    let app = TestApp::spawn().await;
    let company = app.org("Exempel Läkemedel AB").await;
    let company_b = app.org("Prov Medicinteknik AB").await;
    let admin = app.token("admin").await;
    let rep = app.token("company").await;
    let path = format!("/api/v1/organisations/{company}/invitations");

    let first = ok(app
        .post(
            &path,
            &admin,
            &json!({"email": " Ny.Person@Exempel.SE ", "role": "company_representative"}),
        )
        .await)
    .await;
    assert_eq!(first["email"], "ny.person@exempel.se");
    assert_eq!(first["status"], "open");
    assert_eq!(first["organisation_id"], company.as_str());
    // 14 days by default.
    let created =
        chrono::DateTime::parse_from_rfc3339(first["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(first["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, chrono::Duration::days(14));

    // The same address, organisation and role again, however written: 409.
    problem(
        app.post(
            &path,
            &rep,
            &json!({"email": "ny.person@exempel.se", "role": "company_representative"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    // Someone who holds the role already: 409.
    problem(
        app.post(
            &path,
            &admin,
            &json!({"email": "company@demo.samverkan.invalid", "role": "company_representative"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    // A company representative invites company representatives of their own company only.
    let second = ok(app
        .post(&path, &rep, &json!({"email": "kollega@exempel.se", "role": "company_representative", "expires_in_days": 3}))
        .await)
    .await;
    problem(
        app.post(
            &path,
            &rep,
            &json!({"email": "chef@exempel.se", "role": "research_principal_representative"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let other = format!("/api/v1/organisations/{company_b}/invitations");
    problem(
        app.post(
            &other,
            &rep,
            &json!({"email": "x@prov.se", "role": "company_representative"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(app.get(&other, &rep).await, StatusCode::NOT_FOUND).await;
    // A lawyer manages nobody's people, not even their own authority's.
    let uppsala = app.org("Region Uppsala").await;
    problem(
        app.get(
            &format!("/api/v1/organisations/{uppsala}/invitations"),
            &app.token("legal").await,
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Bad input names each field; a role that does not belong in a company is refused.
    let p = problem(
        app.post(
            &path,
            &admin,
            &json!({"email": "inte en adress", "role": "boss", "expires_in_days": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&p), ["email", "role", "expires_in_days"]);
    let p = problem(
        app.post(
            &path,
            &admin,
            &json!({"email": "jurist@exempel.se", "role": "cpua_legal"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "role");
    assert_eq!(p["rule"], "role_for_organisation_kind");

    // Revoke the first: it is listed after the open one.
    let inv = first["id"].as_str().unwrap();
    let revoked = ok(delete(&app, &format!("{path}/{inv}"), &rep).await).await;
    assert_eq!(revoked["status"], "revoked");
    problem(
        delete(&app, &format!("{path}/{inv}"), &rep).await,
        StatusCode::CONFLICT,
    )
    .await;
    // Another company's representative does not find it.
    problem(
        delete(
            &app,
            &format!("{other}/{inv}"),
            &app.token("company-b").await,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let list = ok(app.get(&path, &rep).await).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], second["id"]);
    assert_eq!(list[0]["status"], "open");
    assert_eq!(list[1]["id"], first["id"]);
    assert_eq!(list[1]["status"], "revoked");

    // A revoked invitation no longer blocks a new one; an expired one is shown as such.
    ok(app
        .post(
            &path,
            &admin,
            &json!({"email": "ny.person@exempel.se", "role": "company_representative"}),
        )
        .await)
    .await;
    app.clock.advance(chrono::Duration::days(4));
    let list = ok(app.get(&path, &app.token("admin").await).await).await;
    let second_now = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == second["id"])
        .unwrap()
        .clone();
    assert_eq!(second_now["status"], "expired");
    assert_eq!(list[0]["status"], "open");

    // Each change is in the organisation's audit stream.
    let events = stream_text(&app, &format!("organisation:{company}"));
    assert!(
        events.contains("invitation_created") && events.contains("invitation_revoked"),
        "{events}"
    );
}

// ---------- people and roles ----------

#[tokio::test]
async fn people_and_their_roles_are_listed_granted_and_revoked_within_the_limits() {
    let app = TestApp::spawn().await;
    let company = app.org("Exempel Läkemedel AB").await;
    let uppsala = app.org("Region Uppsala").await;
    let admin = app.token("admin").await;
    let rep = app.token("company").await;

    let people = ok(app
        .get(&format!("/api/v1/organisations/{company}/people"), &rep)
        .await)
    .await;
    let people = people.as_array().unwrap();
    assert_eq!(people.len(), 1, "{people:?}");
    assert_eq!(people[0]["name"], "Karin Företagsson");
    assert_eq!(
        people[0]["memberships"][0]["role"],
        "company_representative"
    );
    // Another company's people do not exist for a company representative.
    problem(
        app.get(
            &format!("/api/v1/organisations/{company}/people"),
            &app.token("company-b").await,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // An administrator grants the lawyer a second role at their authority.
    let legal = me(&app, &app.token("legal").await).await;
    let account = legal["account"].as_str().unwrap();
    let grants = format!("/api/v1/organisations/{uppsala}/memberships");
    let granted = app
        .post(
            &grants,
            &admin,
            &json!({"account": account, "role": "finance"}),
        )
        .await;
    assert_eq!(granted.status(), StatusCode::CREATED);
    let granted: Value = granted.json().await.unwrap();
    assert_eq!(granted["role"], "finance");
    problem(
        app.post(
            &grants,
            &admin,
            &json!({"account": account, "role": "finance"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let p = problem(
        app.post(
            &grants,
            &admin,
            &json!({"account": "00000000-0000-4000-8000-000000000000", "role": "finance"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "account");
    let p = problem(
        app.post(
            &grants,
            &admin,
            &json!({"account": account, "role": "company_representative"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "role");
    // A company representative does not grant roles to existing people, even in their company.
    problem(
        app.post(
            &format!("/api/v1/organisations/{company}/memberships"),
            &rep,
            &json!({"account": account, "role": "company_representative"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let people = ok(app
        .get(&format!("/api/v1/organisations/{uppsala}/people"), &admin)
        .await)
    .await;
    let lars = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["account"] == account)
        .unwrap()
        .clone();
    assert_eq!(lars["memberships"].as_array().unwrap().len(), 2);

    // The company representative may not revoke a lawyer's role (another organisation: 404).
    let m = granted["id"].as_str().unwrap();
    problem(
        delete(&app, &format!("/api/v1/memberships/{m}"), &rep).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let revoked = ok(delete(&app, &format!("/api/v1/memberships/{m}"), &admin).await).await;
    assert_eq!(revoked["id"], m);
    problem(
        delete(&app, &format!("/api/v1/memberships/{m}"), &admin).await,
        StatusCode::CONFLICT,
    )
    .await;
    let events = stream_text(&app, &format!("account:{account}"));
    assert!(
        events.contains("membership_granted") && events.contains("membership_revoked"),
        "{events}"
    );
}

#[tokio::test]
async fn revoking_a_role_ends_its_sessions_at_once() {
    let app = TestApp::spawn().await;
    let t = app.token("company-b").await;
    // Used once, so the token cache holds it.
    let m = me(&app, &t).await["active_membership"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = app.token("admin").await;
    ok(delete(&app, &format!("/api/v1/memberships/{m}"), &admin).await).await;
    // The clock stands still: only dropping the cache entry can make this 401.
    problem(app.get("/api/v1/me", &t).await, StatusCode::UNAUTHORIZED).await;
    problem(
        app.get("/api/v1/collaborations", &t).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // The account has no role left: no new token either.
    let r = app
        .client
        .post(format!("{}/api/v1/local/token", app.base))
        .json(&json!({"account": "company-b"}))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn the_last_administrator_cannot_be_removed() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let mine = me(&app, &admin).await["active_membership"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = problem(
        delete(&app, &format!("/api/v1/memberships/{mine}"), &admin).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("sista administratören"),
        "{p}"
    );
    // With a second administrator, the first may go; then the second is the last.
    app.add_account("admin2", "administrator", "Region Skåne")
        .await;
    let admin2 = app.token("admin2").await;
    ok(delete(&app, &format!("/api/v1/memberships/{mine}"), &admin2).await).await;
    problem(
        app.get("/api/v1/me", &admin).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let theirs = me(&app, &admin2).await["active_membership"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    problem(
        delete(&app, &format!("/api/v1/memberships/{theirs}"), &admin2).await,
        StatusCode::CONFLICT,
    )
    .await;
}

// ---------- companies ----------

#[tokio::test]
async fn an_administrator_registers_a_company_with_its_first_representatives_invitation() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let body = json!({
        "name": "Nytt Bolag AB", "org_number": "556016-0680", "vat_number": "SE556016068001",
        "address": {"street": "Storgatan 1", "postal_code": "11122", "city": "Stockholm"},
        "representative_email": "VD@NyttBolag.se"
    });
    let r = app.post("/api/v1/companies", &admin, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["organisation"]["kind"], "company");
    assert_eq!(v["organisation"]["org_number"], "556016-0680");
    assert_eq!(v["invitation"]["email"], "vd@nyttbolag.se");
    assert_eq!(v["invitation"]["role"], "company_representative");
    assert_eq!(v["invitation"]["organisation_id"], v["organisation"]["id"]);
    let org = v["organisation"]["id"].as_str().unwrap();
    let list = ok(app
        .get(&format!("/api/v1/organisations/{org}/invitations"), &admin)
        .await)
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The same number again: 422, and no second invitation was written.
    let p = problem(
        app.post("/api/v1/companies", &admin, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["field"], "org_number");
    // Every bad field at once.
    let p = problem(
        app.post(
            "/api/v1/companies",
            &admin,
            &json!({"name": "X AB", "org_number": "556016-0681", "representative_email": "nej"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&p), ["org_number", "representative_email"]);
    // Only an administrator.
    problem(
        app.post("/api/v1/companies", &app.token("company").await, &body)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn two_companies_do_not_see_each_others_collaborations() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let b = app.token("company-b").await;
    problem(
        app.get(&format!("/api/v1/collaborations/{id}"), &b).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let list = ok(app.get("/api/v1/collaborations", &b).await).await;
    assert_eq!(list["items"], json!([]), "{list}");
    let a = ok(app
        .get("/api/v1/collaborations", &app.token("company").await)
        .await)
    .await;
    assert_eq!(a["items"].as_array().unwrap().len(), 1);
}

// ---------- API keys ----------

async fn create_key(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/api/v1/api-keys", token, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

#[tokio::test]
async fn an_api_key_is_shown_once_used_as_a_bearer_token_and_limited_to_its_scope() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let rep = app.token("company").await;
    let read = create_key(
        &app,
        &rep,
        json!({"name": "Rapportsystem", "scope": "read"}),
    )
    .await;
    let key = read["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("svk_") && key.len() == 68, "{key}");
    assert!(key[4..].chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(read["scope"], "read");
    let created =
        chrono::DateTime::parse_from_rfc3339(read["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(read["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, chrono::Duration::days(90));

    // Read: the company's own collaborations.
    let v = ok(app.get(&format!("/api/v1/collaborations/{id}"), &key).await).await;
    assert_eq!(v["collaboration"]["id"], id.as_str());
    let m = me(&app, &key).await;
    assert_eq!(m["credential"]["kind"], "api_key");
    assert_eq!(m["credential"]["scope"], "read");
    assert_eq!(m["credential"]["key"], read["id"]);
    assert_eq!(m["role"], "company_representative");
    assert!(m["active_membership"].is_null());
    // Write: refused for a read key, on every unsafe method.
    let p = problem(
        app.post("/api/v1/collaborations", &key, &json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("read_write"), "{p}");
    problem(
        app.patch(&format!("/api/v1/collaborations/{id}"), &key, &json!({}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // A key manages neither keys nor people, nor switches roles.
    problem(
        app.get("/api/v1/api-keys", &key).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let company = app.org("Exempel Läkemedel AB").await;
    problem(
        app.get(&format!("/api/v1/organisations/{company}/people"), &key)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // A read_write key creates a collaboration; it cannot manage keys either.
    let rw = create_key(
        &app,
        &rep,
        json!({"name": "Studiesystem", "scope": "read_write", "expires_in_days": 30}),
    )
    .await;
    let rw_key = rw["key"].as_str().unwrap().to_string();
    let principal = app.org("Exempeluniversitetet").await;
    let register = app.register("EX-STROKE").await;
    let r = app
        .post(
            "/api/v1/collaborations",
            &rw_key,
            &json!({
                "title": "Strokeuppföljning", "purpose": "Att följa upp behandlingsresultat.",
                "research_question": "Förbättras funktionen efter ett år?",
                "research_principal": principal, "registers": [register],
                "requested_variables": ["alder", "kon"], "data_kind": "pseudonymised",
                "intake": crate::helpers::public_research_intake(),
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    problem(
        app.post(
            "/api/v1/api-keys",
            &rw_key,
            &json!({"name": "x", "scope": "read"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.put(
            "/api/v1/me/active-membership",
            &rw_key,
            &json!({"membership": "x"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // The list: never the key, with the last use recorded.
    let list = ok(app.get("/api/v1/api-keys", &rep).await).await;
    let text = list.to_string();
    assert!(!text.contains(&key) && !text.contains(&rw_key), "{text}");
    assert!(!text.contains("\"key\""), "{text}");
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 2);
    let listed_read = items.iter().find(|k| k["id"] == read["id"]).unwrap();
    assert!(listed_read["last_used_at"].is_string(), "{listed_read}");
    assert_eq!(listed_read["revoked"], false);
    // Another company sees none of them.
    let b = app.token("company-b").await;
    assert_eq!(ok(app.get("/api/v1/api-keys", &b).await).await, json!([]));

    // Only a company representative creates keys; bad input names the field.
    problem(
        app.post(
            "/api/v1/api-keys",
            &app.token("legal").await,
            &json!({"name": "x", "scope": "read"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let p = problem(
        app.post(
            "/api/v1/api-keys",
            &rep,
            &json!({"name": "x", "scope": "all", "expires_in_days": 366}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&p), ["scope", "expires_in_days"]);

    // Revoked: refused from the next request on, although the key was just used (cached).
    let kid = read["id"].as_str().unwrap();
    problem(
        delete(&app, &format!("/api/v1/api-keys/{kid}"), &b).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let revoked = ok(delete(&app, &format!("/api/v1/api-keys/{kid}"), &rep).await).await;
    assert_eq!(revoked["revoked"], true);
    problem(app.get("/api/v1/me", &key).await, StatusCode::UNAUTHORIZED).await;
    problem(
        delete(&app, &format!("/api/v1/api-keys/{kid}"), &rep).await,
        StatusCode::CONFLICT,
    )
    .await;
    // The read_write key still works.
    ok(app.get("/api/v1/me", &rw_key).await).await;
    let events = stream_text(&app, &format!("organisation:{company}"));
    assert!(
        events.contains("api_key_created") && events.contains("api_key_revoked"),
        "{events}"
    );
    assert!(
        !events.contains(&key[4..]),
        "the key is never in the audit trail"
    );
}

#[tokio::test]
async fn an_expired_api_key_is_refused() {
    let app = TestApp::spawn().await;
    let rep = app.token("company").await;
    let k = create_key(
        &app,
        &rep,
        json!({"name": "Kortlivad", "scope": "read", "expires_in_days": 1}),
    )
    .await;
    let key = k["key"].as_str().unwrap();
    ok(app.get("/api/v1/collaborations", key).await).await;
    app.clock.advance(chrono::Duration::hours(23));
    ok(app.get("/api/v1/collaborations", key).await).await;
    app.clock.advance(chrono::Duration::hours(1));
    problem(
        app.get("/api/v1/collaborations", key).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Listed as expired by its date, not revoked.
    let list = ok(app
        .get("/api/v1/api-keys", &app.token("company").await)
        .await)
    .await;
    assert_eq!(list[0]["revoked"], false);
}

/// A key acts on its creator's behalf: when the creator no longer holds the company representative
/// role at the key's company, the key stops (within the 30-second authentication cache).
#[tokio::test]
async fn an_api_key_stops_when_its_creator_loses_the_role() {
    let app = TestApp::spawn().await;
    app.add_account("company2", "company_representative", "Exempel Läkemedel AB")
        .await;
    let creator = app.token("company2").await;
    let membership = me(&app, &creator).await["active_membership"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let k = create_key(
        &app,
        &creator,
        json!({"name": "Integration", "scope": "read"}),
    )
    .await;
    let key = k["key"].as_str().unwrap();
    ok(app.get("/api/v1/collaborations", key).await).await;
    let admin = app.token("admin").await;
    ok(delete(&app, &format!("/api/v1/memberships/{membership}"), &admin).await).await;
    app.clock.advance(chrono::Duration::seconds(30));
    problem(
        app.get("/api/v1/collaborations", key).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn two_administrators_revoking_each_other_at_once_leave_one() {
    let app = TestApp::spawn().await;
    app.add_account("admin2", "administrator", "Region Skåne")
        .await;
    let (a, b) = (app.token("admin").await, app.token("admin2").await);
    let ma = me(&app, &a).await["active_membership"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mb = me(&app, &b).await["active_membership"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Two different changes raced: each revokes the other.
    let (pa, pb) = (
        format!("/api/v1/memberships/{mb}"),
        format!("/api/v1/memberships/{ma}"),
    );
    let (ra, rb) = tokio::join!(delete(&app, &pa, &a), delete(&app, &pb, &b));
    let statuses = [ra.status(), rb.status()];
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    // Exactly one administrator is left, and it still works.
    let left = [
        app.get("/api/v1/me", &a).await.status(),
        app.get("/api/v1/me", &b).await.status(),
    ];
    assert_eq!(
        left.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{left:?}"
    );
}

/// Logging out with a bearer token ends it at once, though the token was in the authentication cache.
#[tokio::test]
async fn a_bearer_logout_ends_the_token_at_once() {
    let app = TestApp::spawn().await;
    let t = app.token("company").await;
    ok(app.get("/api/v1/me", &t).await).await;
    let r = app.send(Method::POST, "/auth/logout", &t, &json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(app.get("/api/v1/me", &t).await, StatusCode::UNAUTHORIZED).await;
}
