//! The administrator's pages: organisations, registers (CPUA history, moves, patient information,
//! delegations) and people (invite, grant, revoke), each form checked through the API.
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ok, TestApp};
use crate::support::{location, Browser};

async fn api(app: &TestApp, path: &str) -> Value {
    let t = app.token("admin").await;
    ok(app.get(path, &t).await).await
}

#[tokio::test]
async fn an_administrator_adds_an_organisation_through_the_form_and_the_api_lists_it() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "admin").await;
    let html = b.html("/admin").await;
    assert!(html.contains("<h1>Administration</h1>"), "{html}");
    assert!(html.contains("href=\"/admin/organisations\""));
    assert!(
        html.contains("href=\"/admin\" aria-current=\"page\""),
        "{html}"
    );
    let html = b.html("/admin/organisations").await;
    assert!(html.contains("Region Uppsala"), "{html}");
    assert!(html.contains("CPUA-myndighet"));
    assert!(html.contains("Lägg till en organisation"));

    let r = b
        .post_form(
            "/admin/organisations",
            &[
                ("name", "Nytt Bolag AB"),
                ("kind", "company"),
                ("org_number", "556016-0680"),
                ("vat_number", "SE556016068001"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("/admin/organisations?created="), "{to}");
    let html = b.html(&to).await;
    assert!(html.contains("Nytt Bolag AB är tillagd."), "{html}");

    let orgs = api(&app, "/api/v1/organisations?per_page=200").await;
    let created = orgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Nytt Bolag AB")
        .expect("the API lists the new organisation");
    assert_eq!(created["kind"], "company");
    assert_eq!(created["org_number"], "556016-0680");

    // The API's keyset pages: the next page follows on.
    let first = b.html("/admin/organisations?per_page=3").await;
    let next = first
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .and_then(|s| s.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&")
        .replace("&#x3D;", "=");
    assert!(next.starts_with("/admin/organisations?"), "{next}");
    let second = b.html(&next).await;
    let names = |h: &str| -> Vec<String> {
        h.split("<tr>\n      <td>")
            .skip(1)
            .filter_map(|r| r.split("</td>").next().map(String::from))
            .collect()
    };
    let (a, z) = (names(&first), names(&second));
    assert_eq!(a.len(), 3, "{first}");
    assert_eq!(z.len(), 3, "{second}");
    assert!(a.iter().all(|n| !z.contains(n)), "{a:?} {z:?}");

    // In English too.
    b.get("/language/en?next=%2Fadmin").await;
    let html = b.html("/admin/organisations").await;
    assert!(html.contains("Add an organisation"), "{html}");
    assert!(html.contains("Nytt Bolag AB"));
}

#[tokio::test]
async fn a_bad_organisation_number_comes_back_422_with_values_kept_and_the_message_at_the_field() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "admin").await;
    let fields = [
        ("name", "Fel Nummer AB"),
        ("kind", "university"),
        ("org_number", "556016-0681"),
    ];
    let r = b.post_form("/admin/organisations", &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(html.contains("href=\"#f-org_number\""), "{html}");
    assert!(html.contains("value=\"Fel Nummer AB\""), "{html}");
    assert!(html.contains("value=\"556016-0681\""), "{html}");
    assert!(
        html.contains("<option value=\"university\" selected>"),
        "{html}"
    );
    assert!(
        html.contains("id=\"f-org_number\" name=\"org_number\" value=\"556016-0681\" aria-invalid=\"true\" aria-describedby=\"f-org_number-error\""),
        "{html}"
    );
    let msg = html
        .split("id=\"f-org_number-error\">")
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap_or_default();
    assert!(!msg.trim().is_empty(), "a message at the field: {html}");
    // Nothing was written.
    let orgs = api(&app, "/api/v1/organisations?per_page=200").await;
    assert!(!orgs.to_string().contains("Fel Nummer AB"));

    // Half an address: the message at the field left empty.
    let r = b
        .post_form(
            "/admin/organisations",
            &[
                ("name", "Halv Adress AB"),
                ("kind", "company"),
                ("org_number", "556016-0680"),
                ("address.street", "Storgatan 1"),
                ("address.city", "Uppsala"),
                ("address.country", "SE"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"f-address-postal_code-error\""),
        "{html}"
    );
    assert!(html.contains("value=\"Storgatan 1\""));

    // English: the same, with the message in English.
    b.get("/language/en?next=%2Fadmin").await;
    let r = b.post_form("/admin/organisations", &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let en = r.text().await.unwrap();
    assert!(en.contains("Something needs correcting"), "{en}");
    let msg_en = en
        .split("id=\"f-org_number-error\">")
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap_or_default();
    assert!(!msg_en.trim().is_empty());
    assert_ne!(msg, msg_en, "the message follows the language");
}

#[tokio::test]
async fn the_register_page_shows_its_cpua_history_and_a_move_through_the_form() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "admin").await;
    let reg = app.register("EX-HJARTA").await;
    let skane = app.org("Region Skåne").await;
    let list = b.html("/admin/registers").await;
    assert!(
        list.contains(&format!("href=\"/admin/registers/{reg}\"")),
        "{list}"
    );
    let html = b.html(&format!("/admin/registers/{reg}")).await;
    assert!(html.contains("Region Uppsala"), "{html}");
    assert!(html.contains("ansvarar nu"));
    assert!(html.contains(&format!("<option value=\"{skane}\"")));
    // The administrator does not record delegations: the reason, not the form.
    assert!(!html.contains(&format!("action=\"/admin/registers/{reg}/delegations\"")));
    assert!(
        html.contains("Endast registrets CPUA, genom sina jurister, delegerar"),
        "{html}"
    );

    // Moving to the CPUA it has already is refused at the field.
    let uppsala = app.org("Region Uppsala").await;
    let r = b
        .post_form(
            &format!("/admin/registers/{reg}/cpua"),
            &[("cpua", uppsala.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"f-cpua-error\""), "{html}");

    let r = b
        .post_form(
            &format!("/admin/registers/{reg}/cpua"),
            &[("cpua", skane.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/admin/registers/{reg}"));
    let v = api(&app, &format!("/api/v1/registers/{reg}")).await;
    assert_eq!(v["cpua_name"], "Region Skåne");
    let history = v["cpua_history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert!(history[0]["valid_to"].is_string());
    assert!(history[1]["valid_to"].is_null());

    let html = b.html(&format!("/admin/registers/{reg}")).await;
    let table = html
        .split("id=\"history\"")
        .nth(1)
        .and_then(|s| s.split("</table>").next())
        .unwrap_or_default();
    // Newest first: Skåne now, Uppsala before it, until the move.
    let (sk, up) = (
        table.find("Region Skåne").expect("Skåne in the history"),
        table
            .find("Region Uppsala")
            .expect("Uppsala in the history"),
    );
    assert!(sk < up, "{table}");
    assert!(table.contains("1 september 2026 11:00"), "{table}");

    // Patient information through its form.
    let r = b
        .post_form(
            &format!("/admin/registers/{reg}/patient-information"),
            &[("covers_research:bool", "false")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = api(&app, &format!("/api/v1/registers/{reg}")).await;
    assert_eq!(v["patient_information_covers_research"], false);
}

#[tokio::test]
async fn the_legal_team_of_the_registers_cpua_records_and_revokes_a_delegation_through_the_forms() {
    let app = TestApp::spawn().await;
    let reg = app.register("EX-HJARTA").await;
    let legal = Browser::signed_in(&app, "legal").await;
    // The registers of the legal team's own CPUA (Region Uppsala), from its navigation.
    let list = legal.html("/admin/registers").await;
    assert!(
        list.contains("href=\"/admin/registers\" aria-current=\"page\""),
        "{list}"
    );
    assert!(list.contains("EX-HJARTA"), "{list}");
    assert!(
        !list.contains("EX-STROKE"),
        "another CPUA's register: {list}"
    );
    let page = format!("/admin/registers/{reg}");
    let html = legal.html(&page).await;
    assert!(html.contains(&format!("action=\"/admin/registers/{reg}/delegations\"")));
    // Not the administrator's forms.
    assert!(!html.contains(&format!("action=\"/admin/registers/{reg}/cpua\"")));

    // A named person needs their account.
    let r = legal
        .post_form(
            &format!("/admin/registers/{reg}/delegations"),
            &[
                ("delegate", "person"),
                ("delegated_on", "2026-08-15"),
                ("reference", "RS 2026/76"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"f-account-error\""), "{html}");
    assert!(
        html.contains("id=\"delegate-person\" name=\"delegate\" value=\"person\" checked"),
        "{html}"
    );

    // A date in the future is refused at its field, with the values kept.
    let r = legal
        .post_form(
            &format!("/admin/registers/{reg}/delegations"),
            &[
                ("delegate", "register_holder"),
                ("delegated_on", "2027-01-01"),
                ("reference", "RS 2026/77"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"f-delegated_on-error\""), "{html}");
    assert!(html.contains("value=\"RS 2026/77\""));

    let r = legal
        .post_form(
            &format!("/admin/registers/{reg}/delegations"),
            &[
                ("delegate", "register_holder"),
                ("delegated_on", "2026-08-15"),
                ("reference", "RS 2026/77"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = api(&app, &format!("/api/v1/registers/{reg}")).await;
    let d = &v["delegations"][0];
    assert_eq!(d["reference"], "RS 2026/77");
    let did = d["id"].as_str().unwrap().to_string();
    let html = legal.html(&page).await;
    assert!(
        html.contains("RS 2026/77") && html.contains("gäller"),
        "{html}"
    );

    let r = legal
        .post_form(
            &format!("/admin/registers/{reg}/delegations/{did}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v = api(&app, &format!("/api/v1/registers/{reg}")).await;
    assert_eq!(v["delegations"][0]["revoked_on"], "2026-09-01");
    let html = legal.html(&page).await;
    assert!(html.contains("återkallad 1 september 2026"), "{html}");

    // The legal team of another CPUA is refused.
    let vgr = Browser::signed_in(&app, "legal-vgr").await;
    let r = vgr
        .post_form(
            &format!("/admin/registers/{reg}/delegations"),
            &[
                ("delegate", "register_holder"),
                ("delegated_on", "2026-08-15"),
                ("reference", "VGR 1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn people_are_invited_granted_and_revoked_through_the_forms() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "admin").await;
    let company = app.org("Exempel Läkemedel AB").await;
    let page = format!("/admin/people?org={company}");
    let html = b.html(&page).await;
    assert!(html.contains("Karin Företagsson"), "{html}");
    assert!(html.contains("Företagsrepresentant"));
    // Only the roles that fit a company are offered.
    assert!(html.contains("<option value=\"company_representative\""));
    assert!(!html.contains("<option value=\"finance\""), "{html}");

    // Invite.
    let r = b
        .post_form(
            "/admin/people/invite",
            &[
                ("_org", company.as_str()),
                ("email", "ny.person@exempel.se"),
                ("role", "company_representative"),
                ("expires_in_days:int", "30"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), page);
    let inv = api(
        &app,
        &format!("/api/v1/organisations/{company}/invitations"),
    )
    .await;
    assert!(inv.to_string().contains("ny.person@exempel.se"), "{inv}");
    let html = b.html(&page).await;
    assert!(html.contains("ny.person@exempel.se") && html.contains("väntar på svar"));
    // Withdraw it again.
    let invitation = inv
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "ny.person@exempel.se")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(html.contains(&format!("name=\"_invitation\" value=\"{invitation}\"")));
    let r = b
        .post_form(
            "/admin/people/invitations/revoke",
            &[
                ("_org", company.as_str()),
                ("_invitation", invitation.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let inv = api(
        &app,
        &format!("/api/v1/organisations/{company}/invitations"),
    )
    .await;
    assert_eq!(inv[0]["status"], "revoked", "{inv}");
    let html = b.html(&page).await;
    assert!(html.contains("återkallad"));
    assert!(
        !html.contains(&format!("value=\"{invitation}\"")),
        "no withdraw button any more"
    );

    // A bad e-mail is refused at its field, values kept.
    let r = b
        .post_form(
            "/admin/people/invite",
            &[
                ("_org", company.as_str()),
                ("email", "inte-en-adress"),
                ("role", "company_representative"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"f-email-error\""), "{html}");
    assert!(html.contains("value=\"inte-en-adress\""));

    // Grant a role to a person with an account.
    let account = app
        .add_account("extra", "company_representative", "Prov Medicinteknik AB")
        .await;
    // A role that does not fit a company: the message at the role field.
    let r = b
        .post_form(
            "/admin/people/grant",
            &[
                ("_org", company.as_str()),
                ("account", account.as_str()),
                ("role", "finance"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"f-role-error\""), "{html}");
    assert!(html.contains(&format!("value=\"{account}\"")));
    assert!(
        html.contains("id=\"f-invite-role\""),
        "the other form's select has its own id"
    );

    let r = b
        .post_form(
            "/admin/people/grant",
            &[
                ("_org", company.as_str()),
                ("account", account.as_str()),
                ("role", "company_representative"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let people = api(&app, &format!("/api/v1/organisations/{company}/people")).await;
    let person = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["account"] == account.as_str())
        .expect("the granted person is listed");
    let membership = person["memberships"][0]["id"].as_str().unwrap().to_string();
    assert!(b.html(&page).await.contains("Test extra"));

    // Revoke it.
    let r = b
        .post_form(
            "/admin/people/revoke",
            &[
                ("_org", company.as_str()),
                ("_membership", membership.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let people = api(&app, &format!("/api/v1/organisations/{company}/people")).await;
    assert!(!people.to_string().contains(&account), "{people}");
    assert!(!b.html(&page).await.contains("Test extra"));
}

#[tokio::test]
async fn the_last_administrator_is_kept_and_said_so_in_plain_language() {
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "admin").await;
    let stockholm = app.org("Region Stockholm").await;
    let people = api(&app, &format!("/api/v1/organisations/{stockholm}/people")).await;
    let admin = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Adam Administratör")
        .expect("the administrator");
    let membership = admin["memberships"][0]["id"].as_str().unwrap().to_string();
    let r = b
        .post_form(
            "/admin/people/revoke",
            &[
                ("_org", stockholm.as_str()),
                ("_membership", membership.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(html.contains("Adam Administratör"));
    // Still an administrator.
    assert_eq!(b.page("/admin").await.0, StatusCode::OK);
}

#[tokio::test]
async fn others_are_refused_the_administrators_pages_and_a_company_manages_only_its_own_people() {
    let app = TestApp::spawn().await;
    let company = Browser::signed_in(&app, "company").await;
    for path in ["/admin", "/admin/organisations", "/admin/registers"] {
        let (s, html) = company.page(path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("<html lang=\"sv\">"), "an error page: {html}");
    }
    let reg = app.register("EX-HJARTA").await;
    let (s, _) = company.page(&format!("/admin/registers/{reg}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let r = company
        .post_form(
            "/admin/organisations",
            &[
                ("name", "X AB"),
                ("kind", "company"),
                ("org_number", "556016-0680"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // No administration in the company's navigation; its own people are there.
    let nav = company.html("/collaborations").await;
    assert!(!nav.contains("href=\"/admin\""));
    assert!(nav.contains("href=\"/admin/people\""), "{nav}");

    // A company representative manages their own company's representatives, nothing else.
    let html = company.html("/admin/people").await;
    assert!(html.contains("Karin Företagsson"), "{html}");
    assert!(
        !html.contains("href=\"/admin\""),
        "no way to the administrator's pages"
    );
    assert!(html.contains("<option value=\"company_representative\""));
    assert!(
        !html.contains("action=\"/admin/people/grant\""),
        "granting is the administrator's"
    );
    let other = app.org("Prov Medicinteknik AB").await;
    let (s, _) = company.page(&format!("/admin/people?org={other}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = company
        .post_form(
            "/admin/people/invite",
            &[
                ("_org", other.as_str()),
                ("email", "x@exempel.se"),
                ("role", "company_representative"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Finance staff do not manage people.
    let finance = Browser::signed_in(&app, "finance").await;
    let (s, _) = finance.page("/admin/people").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_administrator_sets_the_organisations_envelope_expiry_through_the_form() {
    // Issue 14, "Model": the envelope expiry is "default 30 days, configurable per CPUA".
    let app = TestApp::spawn().await;
    let b = Browser::signed_in(&app, "admin").await;
    let html = b.html("/admin").await;
    assert!(html.contains("name=\"expiry_days:int\""), "{html}");
    assert!(html.contains("value=\"30\""), "the default: {html}");
    let r = b
        .post_form("/admin/signing-policy", &[("expiry_days:int", "0")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("från 1 till 365"), "{html}");
    let r = b
        .post_form("/admin/signing-policy", &[("expiry_days:int", "12")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin");
    let html = b.html("/admin").await;
    assert!(html.contains("value=\"12\""), "{html}");
    let me = api(&app, "/api/v1/me").await;
    let org = me["org"]
        .as_str()
        .unwrap_or_else(|| panic!("the admin's organisation in {me}"));
    let v = api(&app, &format!("/api/v1/organisations/{org}/signing-policy")).await;
    assert_eq!(v["expiry_days"], 12, "{v}");
}
