//! The signing pages (issue 14): CPUA legal sends the envelope, each party signs with its typed name
//! and consent in turn, a party declines; refusals come back at their fields. Seed 001, "6. Avtal
//! upprättas"; seed 000, "Forskningssamarbete med industrin" (CPUA, principal and company sign).
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{approval, ok, TestApp};
use crate::support::{location, Browser};

/// A research case on one register, approved by Region Uppsala, with version 1 drawn. Returns
/// (collaboration id, digest).
async fn drawn(app: &TestApp) -> (String, String) {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    ok(app.transition(&id, &legal, approval(&uppsala)).await).await;
    let company = app.token("company").await;
    let terms = crate::terms::full_terms(app).await;
    let (n, digest) = app
        .draw_agreement(&id, &company, &json!({ "terms": terms }))
        .await;
    assert_eq!(n, 1);
    (id, digest)
}

fn page(id: &str) -> String {
    format!("/collaborations/{id}/agreements/1/signing")
}

async fn envelope(app: &TestApp, id: &str) -> Value {
    ok(app
        .get(&TestApp::envelope_path(id, 1), &app.token("legal").await)
        .await)
    .await
}

/// The value of the hidden field `name` in the page.
fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("field {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Signs through the page's form as a browser does: the hidden digest and consent version, the
/// typed name and the ticked box.
async fn sign(b: &Browser, id: &str, name: &str) -> reqwest::Response {
    let html = b.html(&page(id)).await;
    let digest = hidden(&html, "digest");
    let consent = hidden(&html, "consent_text_version");
    b.post_form(
        &format!("{}/sign", page(id)),
        &[
            ("digest", digest.as_str()),
            ("consent_text_version", consent.as_str()),
            ("typed_name", name),
            ("_consent", "yes"),
        ],
    )
    .await
}

#[tokio::test]
async fn legal_sends_the_parties_sign_in_turn_and_the_envelope_is_completed() {
    let app = TestApp::spawn().await;
    let (id, digest) = drawn(&app).await;
    let legal = Browser::signed_in(&app, "legal").await;
    // No envelope yet: the page says so, shows the digest, and offers legal the form.
    let html = legal.html(&page(&id)).await;
    assert!(
        html.contains("<h1>Underskrift av avtalsversion 1</h1>"),
        "{html}"
    );
    assert!(html.contains("har inte skickats för underskrift"));
    assert!(html.contains(&digest));
    assert!(html.contains("/signing/envelope"));
    // The company is offered no draft form.
    let company = Browser::signed_in(&app, "company").await;
    let html = company.html(&page(&id)).await;
    assert!(!html.contains("/signing/envelope"), "{html}");
    // The case page links to the signing page.
    let case = company.html(&format!("/collaborations/{id}")).await;
    assert!(case.contains(&page(&id)), "{case}");

    // A draft first, in sequence; then sent.
    let r = legal
        .post_form(
            &format!("{}/envelope", page(&id)),
            &[("order", "sequence"), ("send:bool", "false")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), page(&id));
    let env = envelope(&app, &id).await;
    assert_eq!(env["status"], "draft");
    assert_eq!(env["order"], "sequence");
    let html = legal.html(&page(&id)).await;
    assert!(html.contains("utkast, inte skickat"), "{html}");
    let r = legal
        .post_form(
            &format!("{}/envelope", page(&id)),
            &[("order", "default"), ("send:bool", "true")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let env = envelope(&app, &id).await;
    assert_eq!(env["status"], "sent");
    assert_eq!(env["order"], "default");

    // The CPUA signs last: its page offers no sign form and says why.
    let html = legal.html(&page(&id)).await;
    assert!(!html.contains("/signing/sign"), "{html}");
    assert!(html.contains("inte din tur än"), "{html}");
    assert!(html.contains("Exempel Läkemedel AB"));
    assert!(
        !html.contains("/signing/envelope"),
        "no draft form once sent"
    );

    // The company's page: the consent text naming signer, party and digest, and the form.
    let html = company.html(&page(&id)).await;
    assert!(html.contains("/signing/sign"), "{html}");
    for part in ["Karin Företagsson", "Exempel Läkemedel AB", &digest] {
        assert!(html.contains(part), "{part}");
    }
    // A name that is not hers: 422, the message at the field, what she typed kept.
    let r = sign(&company, &id, "Karin Fel").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"f-typed_name-error\""), "{html}");
    assert!(html.contains("inte ditt registrerade namn"), "{html}");
    assert!(html.contains("value=\"Karin Fel\""));
    assert!(html.contains("href=\"#f-typed_name\""));
    // The same in English.
    company.get("/language/en?next=%2F").await;
    let r = sign(&company, &id, "Karin Fel").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("not your name as registered"), "{html}");
    assert!(html.contains("<h1>Signing agreement version 1</h1>"));
    // The box not ticked: 422 at the box, the name kept.
    let html_page = company.html(&page(&id)).await;
    let r = company
        .post_form(
            &format!("{}/sign", page(&id)),
            &[
                ("digest", hidden(&html_page, "digest").as_str()),
                (
                    "consent_text_version",
                    hidden(&html_page, "consent_text_version").as_str(),
                ),
                ("typed_name", "Karin Företagsson"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"f-_consent-error\""), "{html}");
    assert!(html.contains("value=\"Karin Företagsson\""));
    // A digest that is not the envelope's: refused, said at the top.
    let r = company
        .post_form(
            &format!("{}/sign", page(&id)),
            &[
                ("digest", "ab".repeat(32).as_str()),
                (
                    "consent_text_version",
                    hidden(&html_page, "consent_text_version").as_str(),
                ),
                ("typed_name", "Karin Företagsson"),
                ("_consent", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("error-summary"), "{html}");
    assert!(html.contains("sign exactly the stored version"), "{html}");
    assert_eq!(envelope(&app, &id).await["status"], "sent");

    // She signs; then the principal; then the CPUA.
    let r = sign(&company, &id, "Karin Företagsson").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = company.html(&page(&id)).await;
    assert!(!html.contains("/signing/sign"), "signed once");
    assert!(html.contains("signed"));
    let principal = Browser::signed_in(&app, "principal").await;
    let r = sign(&principal, &id, "per forskare").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "names match as typed");
    let r = sign(&legal, &id, "Lars Jurist").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let env = envelope(&app, &id).await;
    assert_eq!(env["status"], "completed");
    let company_signer = env["signers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["organisation_name"] == "Exempel Läkemedel AB")
        .unwrap();
    assert_eq!(company_signer["evidence"]["consent_language"], "en");
    assert_eq!(company_signer["evidence"]["client_ip"], "127.0.0.1");
    let html = legal.html(&page(&id)).await;
    assert!(html.contains("undertecknat av alla"), "{html}");
    assert!(html.contains("/api/v1/collaborations/"));
    assert!(html.contains("/agreements/1/executed.pdf"));
    assert!(!html.contains("/signing/decline"));
    assert!(!html.contains("/signing/envelope"));
}

#[tokio::test]
async fn a_party_declines_with_a_reason_and_another_organisation_gets_404() {
    let app = TestApp::spawn().await;
    let (id, _) = drawn(&app).await;
    app.send_envelope(&id, 1).await;
    let principal = Browser::signed_in(&app, "principal").await;
    let html = principal.html(&page(&id)).await;
    assert!(html.contains("/signing/decline"), "{html}");
    // No reason: 422 at the field.
    let r = principal
        .post_form(&format!("{}/decline", page(&id)), &[("reason", "  ")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"f-reason-error\""), "{html}");
    assert_eq!(envelope(&app, &id).await["status"], "sent");
    let r = principal
        .post_form(
            &format!("{}/decline", page(&id)),
            &[("reason", "Punkt 7.3 behöver förhandlas.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let env = envelope(&app, &id).await;
    assert_eq!(env["status"], "declined");
    assert_eq!(env["decline_reason"], "Punkt 7.3 behöver förhandlas.");
    let html = principal.html(&page(&id)).await;
    assert!(html.contains("Punkt 7.3 behöver förhandlas."));
    assert!(!html.contains("/signing/sign") && !html.contains("/signing/decline"));
    // Legal may send it again.
    let legal = Browser::signed_in(&app, "legal").await;
    assert!(legal.html(&page(&id)).await.contains("/signing/envelope"));

    // Another organisation's case: 404, for the page and for its forms.
    let other = Browser::signed_in(&app, "company-b").await;
    let (s, _) = other.page(&page(&id)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = other
        .post_form(&format!("{}/decline", page(&id)), &[("reason", "x")])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A version that does not exist: 404.
    let (s, _) = principal
        .page(&format!("/collaborations/{id}/agreements/9/signing"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_sign_in_too_old_is_said_plainly_with_the_way_to_sign_in_again() {
    let app = TestApp::spawn().await;
    let (id, _) = drawn(&app).await;
    app.send_envelope(&id, 1).await;
    let company = Browser::signed_in(&app, "company").await;
    app.clock.advance(chrono::Duration::minutes(16));
    let r = sign(&company, &id, "Karin Företagsson").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("färsk inloggning"), "{html}");
    assert!(html.contains("Logga in igen</a>"), "{html}");
    assert!(
        html.contains("href=\"/sign-in?next")
            && html.contains("%2Fagreements%2F1%2Fsigning\">Logga in igen"),
        "local mode: sign in again, back here: {html}"
    );
    assert!(html.contains("value=\"Karin Företagsson\""), "kept");
    assert_eq!(envelope(&app, &id).await["status"], "sent");
    // A new sign-in signs.
    let again = Browser::signed_in(&app, "company").await;
    let r = sign(&again, &id, "Karin Företagsson").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn out_of_turn_and_after_expiry_a_signature_comes_back_refused_in_words() {
    let app = TestApp::spawn().await;
    let (id, digest) = drawn(&app).await;
    app.send_envelope(&id, 1).await;
    // The CPUA posts a signature before its turn (the form is not offered; a crafted post).
    let legal = Browser::signed_in(&app, "legal").await;
    let fields = [
        ("digest", digest.as_str()),
        ("consent_text_version", "2026-12-1"),
        ("typed_name", "Lars Jurist"),
        ("_consent", "yes"),
    ];
    let r = legal
        .post_form(&format!("{}/sign", page(&id)), &fields)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("det är inte din tur att underteckna"),
        "{html}"
    );
    assert!(html.contains("Exempeluniversitetet"), "{html}");
    assert!(!html.contains("/signing/sign\""), "still no sign form");
    // A month later the envelope has run out: the company's signature is refused, saying so.
    app.clock.advance(chrono::Duration::days(31));
    let company = Browser::signed_in(&app, "company").await;
    let fields = [
        ("digest", digest.as_str()),
        ("consent_text_version", "2026-12-1"),
        ("typed_name", "Karin Företagsson"),
        ("_consent", "yes"),
    ];
    let r = company
        .post_form(&format!("{}/sign", page(&id)), &fields)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("kuvertet löpte ut"), "{html}");
    assert_eq!(envelope(&app, &id).await["signers"][0]["status"], "pending");
}

/// The draft form's fields as the browser sends them: every hidden, text and e-mail field of the
/// envelope form (the form's version, the draft's signers with their names and e-mails), then
/// `extra` (typed into a field, or added). Boxes, radios and the "add a signer" choice are left to
/// `extra`.
fn draft_fields(html: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let form = &html[html
        .find("/signing/envelope\"")
        .unwrap_or_else(|| panic!("the draft form in {html}"))..];
    let form = &form[..form.find("</form>").unwrap()];
    let mut out = Vec::new();
    for piece in form.split("<input ").skip(1) {
        let tag = &piece[..piece.find('>').unwrap()];
        let attr = |a: &str| {
            tag.find(&format!(" {a}=\""))
                .or_else(|| tag.starts_with(&format!("{a}=\"")).then_some(0))
                .map(|at| {
                    let v = &tag[at + tag[at..].find('"').unwrap() + 1..];
                    v[..v.find('"').unwrap()].to_string()
                })
        };
        let kind = attr("type").unwrap_or_default();
        if !["hidden", "text", "email"].contains(&kind.as_str()) {
            continue;
        }
        let (Some(name), Some(value)) = (attr("name"), attr("value")) else {
            continue;
        };
        if name != "csrf_token" {
            out.push((name, value));
        }
    }
    // What `extra` fills in replaces the field's value, as typing into it does.
    for (k, v) in extra {
        match out.iter_mut().find(|(n, _)| n == k && !k.ends_with("[]")) {
            Some(f) => f.1 = v.to_string(),
            None => out.push((k.to_string(), v.to_string())),
        }
    }
    out
}

#[tokio::test]
async fn legal_chooses_jointly_or_one_of_several_for_a_party_with_two_signers_on_the_page() {
    // Issue 14, "Signers": "where a party needs two signatories jointly or one of several, say so".
    // The draft lists two company signatories (through the API); the page offers legal the choice
    // for the company only, keeps the draft's signers, and sends `party_rules` through the same
    // command as the API.
    let app = TestApp::spawn().await;
    let (id, _) = drawn(&app).await;
    let company = app.org("Exempel Läkemedel AB").await;
    let principal = app.org("Exempeluniversitetet").await;
    let uppsala = app.org("Region Uppsala").await;
    let token = app.token("legal").await;
    ok(app
        .post(
            &TestApp::envelope_path(&id, 1),
            &token,
            &json!({"signers": [
                {"organisation": principal},
                {"organisation": company},
                {"organisation": company, "capacity": "firmatecknare"},
                {"organisation": uppsala},
            ]}),
        )
        .await)
    .await;
    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html(&page(&id)).await;
    let field = format!("party_rules.{company}");
    assert!(
        html.contains("Hur Exempel Läkemedel AB undertecknar"),
        "{html}"
    );
    assert!(html.contains(&format!("name=\"{field}\" value=\"all\" checked")));
    assert!(html.contains("I förening") && html.contains("Var för sig"));
    // Parties with one signer get no choice.
    assert!(!html.contains(&format!("party_rules.{principal}")));
    assert!(!html.contains(&format!("party_rules.{uppsala}")));
    let kept = draft_fields(&html, &[]);
    assert_eq!(
        kept.iter()
            .filter(|(k, _)| k.ends_with(".organisation") || k.ends_with(".capacity"))
            .count(),
        9,
        "four signers, organisation and capacity, and the add row's capacity: {kept:?}"
    );
    assert_eq!(kept[0].0, "version", "the form's version: {kept:?}");

    // An unknown rule (a crafted post): 422, the message at the choice, the draft unchanged.
    let fields = draft_fields(
        &html,
        &[
            ("order", "default"),
            ("send:bool", "false"),
            (&field, "both"),
        ],
    );
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = legal
        .post_form(&format!("{}/envelope", page(&id)), &pairs)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    let anchor = format!(
        "f-party_rules-{}",
        company.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "-")
    );
    assert!(body.contains(&format!("id=\"{anchor}-error\"")), "{body}");
    assert!(body.contains(&format!("href=\"#{anchor}\"")), "{body}");
    let env = envelope(&app, &id).await;
    assert!(env["signers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["party_rule"] == "all"));

    // One of several, saved as a draft: the company's rule is `any`, the four signers kept.
    let fields = draft_fields(
        &html,
        &[
            ("order", "default"),
            ("send:bool", "false"),
            (&field, "any"),
        ],
    );
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = legal
        .post_form(&format!("{}/envelope", page(&id)), &pairs)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let env = envelope(&app, &id).await;
    assert_eq!(env["status"], "draft");
    let rules: Vec<(String, String, String)> = env["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["organisation"].as_str().unwrap().to_string(),
                s["capacity"].as_str().unwrap().to_string(),
                s["party_rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(rules.len(), 4, "{rules:?}");
    for (org, _, rule) in &rules {
        let want = if *org == company { "any" } else { "all" };
        assert_eq!(rule, want, "{rules:?}");
    }
    assert!(rules
        .iter()
        .any(|(o, c, _)| *o == company && c == "firmatecknare"));
    // The page shows the choice made; in English too.
    let html = legal.html(&page(&id)).await;
    assert!(
        html.contains(&format!("name=\"{field}\" value=\"any\" checked")),
        "{html}"
    );
    legal.get("/language/en?next=%2F").await;
    let html = legal.html(&page(&id)).await;
    assert!(html.contains("How Exempel Läkemedel AB signs"), "{html}");
    assert!(html.contains("One of several"), "{html}");

    // Sent with the choice: the company's signatories share one turn, either one suffices.
    let fields = draft_fields(&html, &[("send:bool", "true"), (&field, "any")]);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = legal
        .post_form(&format!("{}/envelope", page(&id)), &pairs)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let env = envelope(&app, &id).await;
    assert_eq!(env["status"], "sent");
    let groups: Vec<i64> = env["signers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["organisation"] == company.as_str())
        .map(|s| s["group"].as_i64().unwrap())
        .collect();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0], groups[1], "{env}");
    assert!(env["signers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["organisation"] == company.as_str())
        .all(|s| s["party_rule"] == "any"));
}

/// The envelope's signers as (organisation, capacity, e-mail).
fn signers_of(env: &Value) -> Vec<(String, String, Option<String>)> {
    env["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["organisation"].as_str().unwrap().to_string(),
                s["capacity"].as_str().unwrap().to_string(),
                s["email"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// CPUA legal, signed in, saves the first draft of the envelope with the default order.
async fn draft_saved(app: &TestApp, id: &str) -> Browser {
    let legal = Browser::signed_in(app, "legal").await;
    let r = legal
        .post_form(
            &format!("{}/envelope", page(id)),
            &[("order", "default"), ("send:bool", "false")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    legal
}

/// Posts the draft form as the page shows it, with `extra`.
async fn post_draft(b: &Browser, id: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let html = b.html(&page(id)).await;
    let fields = draft_fields(&html, extra);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post_form(&format!("{}/envelope", page(id)), &pairs).await
}

#[tokio::test]
async fn legal_adds_a_named_signer_and_removes_one_on_the_page_and_a_stale_form_says_so() {
    // Issue 14, "Signers": "CPUA legal edits signers while the envelope is a draft". The page's
    // rows and its "add a signer" row go through the same command as the API
    // (`SignerInput {organisation, capacity, name, email}`); a slot is named with both name and
    // e-mail, the e-mail a member of the organisation who may sign.
    let app = TestApp::spawn().await;
    let (id, _) = drawn(&app).await;
    app.add_account("company2", "company_representative", "Exempel Läkemedel AB")
        .await;
    let company = app.org("Exempel Läkemedel AB").await;
    let legal = draft_saved(&app, &id).await;
    let before = signers_of(&envelope(&app, &id).await);
    assert_eq!(before.len(), 3);

    // The draft's rows with name and e-mail, a remove box each, and the add row.
    let html = legal.html(&page(&id)).await;
    for part in [
        "Vem som skriver under",
        "name=\"signers[0].name\"",
        "name=\"signers[2].email\"",
        "name=\"_remove[]\" value=\"1\"",
        "Lägg till en undertecknare",
        "name=\"signers[3].organisation\"",
        &format!("<option value=\"{company}\">"),
    ] {
        assert!(html.contains(part), "{part}: {html}");
    }
    let old_version = hidden(&html, "version");

    // Add a second, named company signatory.
    let r = post_draft(
        &legal,
        &id,
        &[
            ("signers[3].organisation", company.as_str()),
            ("signers[3].capacity", "firmatecknare"),
            ("signers[3].name", "Test company2"),
            ("signers[3].email", "company2@test.samverkan.invalid"),
            ("send:bool", "false"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), page(&id));
    let env = envelope(&app, &id).await;
    assert_eq!(env["status"], "draft");
    let after = signers_of(&env);
    assert_eq!(after.len(), 4, "{env}");
    let named = after
        .iter()
        .position(|(o, c, e)| {
            *o == company
                && c == "firmatecknare"
                && e.as_deref() == Some("company2@test.samverkan.invalid")
        })
        .unwrap_or_else(|| panic!("the named slot in {env}"));
    let html = legal.html(&page(&id)).await;
    assert!(html.contains("value=\"Test company2\""), "{html}");

    // A form made before the change is stale: 409, said at the top, nothing written.
    let mut fields = draft_fields(&html, &[("send:bool", "false")]);
    for f in &mut fields {
        if f.0 == "version" {
            f.1 = old_version.clone();
        }
    }
    fields.push(("_remove[]".into(), "0".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = legal
        .post_form(&format!("{}/envelope", page(&id)), &pairs)
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("error-summary"), "{html}");
    assert!(html.contains("Någon annan har ändrat kuvertet"), "{html}");
    assert_eq!(signers_of(&envelope(&app, &id).await).len(), 4);

    // Remove the named signatory again: the draft is as it was.
    let row = named.to_string();
    let r = post_draft(
        &legal,
        &id,
        &[("_remove[]", row.as_str()), ("send:bool", "false")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let env = envelope(&app, &id).await;
    assert_eq!(signers_of(&env), before, "{env}");
    assert_eq!(env["status"], "draft");
}

#[tokio::test]
async fn a_bad_signer_email_comes_back_at_its_field_with_the_values_kept_in_swedish_and_english() {
    // Issue 14, "Signers": the e-mail must be a member of the organisation who may sign; the page
    // shows the command's refusal at the row it came from, with what was entered.
    let app = TestApp::spawn().await;
    let (id, _) = drawn(&app).await;
    let company = app.org("Exempel Läkemedel AB").await;
    let legal = draft_saved(&app, &id).await;
    let before = envelope(&app, &id).await;

    // Swedish: a malformed e-mail in the add row.
    let r = post_draft(
        &legal,
        &id,
        &[
            ("signers[3].organisation", company.as_str()),
            ("signers[3].name", "Okänd Person"),
            ("signers[3].email", "inte-en-adress"),
            ("send:bool", "false"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("error-summary"), "{html}");
    assert!(html.contains("href=\"#f-signers-3--email\""), "{html}");
    assert!(html.contains("id=\"f-signers-3--email-error\""), "{html}");
    assert!(html.contains("value=\"Okänd Person\""), "{html}");
    assert!(html.contains("value=\"inte-en-adress\""), "{html}");
    assert!(
        html.contains(&format!("<option value=\"{company}\" selected>")),
        "{html}"
    );
    assert!(html.contains("Vem som skriver under"));
    assert_eq!(envelope(&app, &id).await, before, "nothing written");

    // English: the first row removed and a person who is not a member named on the last row; the
    // message is at that row (the form's index, not the index among the signers sent).
    legal.get("/language/en?next=%2F").await;
    let r = post_draft(
        &legal,
        &id,
        &[
            ("_remove[]", "0"),
            ("signers[2].name", "Okänd Person"),
            ("signers[2].email", "okand@exempel.se"),
            ("send:bool", "false"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("Who signs"), "{html}");
    assert!(html.contains("href=\"#f-signers-2--email\""), "{html}");
    assert!(html.contains("id=\"f-signers-2--email-error\""), "{html}");
    assert!(html.contains("okand@exempel.se"), "{html}");
    assert!(
        html.contains("name=\"_remove[]\" value=\"0\" checked"),
        "the removal kept: {html}"
    );
    assert!(html.contains("value=\"Okänd Person\""), "{html}");
    assert_eq!(envelope(&app, &id).await, before, "nothing written");
}

#[tokio::test]
async fn two_posts_of_one_form_version_at_once_one_is_written_and_the_other_is_stale() {
    // Issue 12, "Bad input": "a stale form (someone else changed the case) says so instead of
    // overwriting", also when both posts arrive together: the page compares the form's version
    // under the case's row lock, so the second sees the first's change.
    let app = TestApp::spawn().await;
    let (id, _) = drawn(&app).await;
    let company = app.org("Exempel Läkemedel AB").await;
    let legal = draft_saved(&app, &id).await;
    let html = legal.html(&page(&id)).await;
    let add = draft_fields(
        &html,
        &[
            ("signers[3].organisation", company.as_str()),
            ("signers[3].capacity", "firmatecknare"),
            ("order", "default"),
            ("send:bool", "false"),
        ],
    );
    // The other post changes the order only: valid on its own whichever signer is row 0.
    let reorder = draft_fields(&html, &[("order", "parallel"), ("send:bool", "false")]);
    let a: Vec<(&str, &str)> = add.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let b: Vec<(&str, &str)> = reorder
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let path = format!("{}/envelope", page(&id));
    let (ra, rb) = tokio::join!(legal.post_form(&path, &a), legal.post_form(&path, &b));
    let (sa, sb) = (ra.status(), rb.status());
    let mut statuses = [sa, sb];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::SEE_OTHER, StatusCode::CONFLICT],
        "one post is written, the other is stale"
    );
    let env = envelope(&app, &id).await;
    let n = signers_of(&env).len();
    if sa == StatusCode::SEE_OTHER {
        assert_eq!(
            (n, env["order"].as_str()),
            (4, Some("default")),
            "the added signer alone: {env}"
        );
    } else {
        assert_eq!(
            (n, env["order"].as_str()),
            (3, Some("parallel")),
            "the new order alone: {env}"
        );
    }
}
