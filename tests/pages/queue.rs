//! The CPUA's work queue and the register holder's feasibility list.
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ok, TestApp};
use crate::support::Browser;

/// The reference of a collaboration as its creation answered.
fn reference(v: &serde_json::Value) -> String {
    v["collaboration"]["reference"]
        .as_str()
        .expect("reference")
        .to_string()
}

#[tokio::test]
async fn legal_sees_their_own_authoritys_cases_overdue_first_and_the_filters_narrow_the_queue() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let uppsala = app.org("Region Uppsala").await;
    ok(app
        .post(
            "/api/v1/registers",
            &admin,
            &json!({"code": "EX-NYTT", "name": "Ett nytt exempelregister", "cpua": uppsala, "is_example": true,
                     "patient_information_covers_research": true}),
        )
        .await)
    .await;
    // A: applied to Region Uppsala first, so its decision falls due first and is overdue after 31 days.
    let (a, va) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&a, &["Region Uppsala"]).await;
    // C: another authority's case (Västra Götalandsregionen).
    let (c, vc) = app.research_collaboration(&["EX-HOFT"]).await;
    app.walk_to_application(&c, &["Västra Götalandsregionen"])
        .await;
    app.clock.advance(chrono::Duration::days(31));
    // B: applied a month later, on the authority's other register.
    let (b, vb) = app.research_collaboration(&["EX-NYTT"]).await;
    let applied = app.walk_to_application(&b, &["Region Uppsala"]).await;
    let step = applied["collaboration"]["step"]
        .as_str()
        .expect("the step")
        .to_string();
    let (ra, rb, rc) = (reference(&va), reference(&vb), reference(&vc));

    let legal = Browser::signed_in(&app, "legal").await;
    let html = legal.html("/queue").await;
    assert!(html.contains("<h1>Arbetskö</h1>"), "{html}");
    assert!(
        html.contains("href=\"/queue\" aria-current=\"page\""),
        "in the navigation"
    );
    let (pa, pb) = (
        html.find(&ra).expect("A is listed"),
        html.find(&rb).expect("B is listed"),
    );
    assert!(pa < pb, "the overdue case comes first");
    assert!(
        !html.contains(&rc),
        "another authority's case is not listed"
    );
    assert!(!html.contains(&c), "nor linked");
    assert_eq!(
        html.matches("<strong class=\"late\">Försenat</strong>")
            .count(),
        1
    );
    assert!(html.contains("ert beslut"));
    assert!(html.contains("Exempelregistret för hjärtintensivvård"));
    assert!(html.contains("Ett nytt exempelregister"));
    assert!(html.contains("2 ärenden"));
    // The filters: by register and by step.
    let hjarta = app.register("EX-HJARTA").await;
    let html = legal.html(&format!("/queue?register={hjarta}&step=")).await;
    assert!(html.contains(&ra) && !html.contains(&rb), "{html}");
    assert!(html.contains(&format!("<option value=\"{hjarta}\" selected>")));
    let html = legal.html(&format!("/queue?step={step}")).await;
    assert!(html.contains(&ra) && html.contains(&rb), "{html}");
    let html = legal.html("/queue?step=archiving").await;
    assert!(!html.contains(&ra) && !html.contains(&rb));
    assert!(html.contains("Inga ärenden matchar filtret."));
    // By the type in force: both are research with a public principal, neither is statistics.
    let html = legal.html("/queue?type=research-public-principal").await;
    assert!(html.contains(&ra) && html.contains(&rb), "{html}");
    assert!(html.contains("<option value=\"research-public-principal\" selected>"));
    let html = legal.html("/queue?type=statistics").await;
    assert!(!html.contains(&ra) && !html.contains(&rb));
    let (s, _) = legal.page("/queue?type=nonsense").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A bad filter is the form's fault, not a server error.
    let (s, _) = legal.page("/queue?step=nonsense").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Keyset pages: one line a page, "Nästa sida" leads on.
    let html = legal.html("/queue?per_page=1").await;
    assert!(html.contains(&ra) && !html.contains(&rb), "{html}");
    let next = html
        .split("<a href=\"")
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&amp;", "&").replace("&#x3D;", "="))
        .find(|h| h.starts_with("/queue?per_page=1&cursor="))
        .expect("a link to the next page");
    assert!(html.contains("Nästa sida"));
    let html = legal.html(&next).await;
    assert!(html.contains(&rb) && !html.contains(&ra), "{html}");

    // In English.
    let r = legal.get("/language/en?next=/queue").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = legal.html("/queue").await;
    assert!(html.contains("<h1>Work queue</h1>") && html.contains("Overdue"));
    assert!(html.contains("your decision"));

    // The other authority's legal team sees only theirs.
    let vgr = Browser::signed_in(&app, "legal-vgr").await;
    let html = vgr.html("/queue").await;
    assert!(html.contains(&rc) && !html.contains(&ra) && !html.contains(&rb));
    // The register holder works from the same queue.
    let holder = Browser::signed_in(&app, "register-holder").await;
    let html = holder.html("/queue").await;
    assert!(html.contains(&ra) && html.contains(&rb) && !html.contains(&rc));
}

#[tokio::test]
async fn a_company_may_not_open_the_queue_or_the_feasibility_list() {
    let app = TestApp::spawn().await;
    let company = Browser::signed_in(&app, "company").await;
    let (s, html) = company.page("/queue").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("arbetskön"), "{html}");
    let html2 = company.html("/collaborations").await;
    assert!(!html2.contains("href=\"/queue\""), "not in the navigation");
    let (s, _) = company.page("/feasibility").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let legal = Browser::signed_in(&app, "legal").await;
    let (s, _) = legal.page("/feasibility").await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the feasibility list is the register holder's"
    );
}

#[tokio::test]
async fn the_feasibility_list_shows_a_case_awaiting_the_holder_and_not_one_already_answered() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let (waiting, vw) = app.research_collaboration(&["EX-HJARTA"]).await;
    ok(app
        .transition(&waiting, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    let (answered, va) = app.research_collaboration(&["EX-HJARTA"]).await;
    ok(app
        .transition(&answered, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    app.answer_feasibility(&answered).await;
    // Still in preparation: nobody has asked the register yet.
    let (early, ve) = app.research_collaboration(&["EX-HJARTA"]).await;
    let _ = early;

    let holder = Browser::signed_in(&app, "register-holder").await;
    let html = holder.html("/feasibility").await;
    assert!(html.contains("<h1>Frågor om genomförbarhet</h1>"), "{html}");
    assert!(html.contains("href=\"/feasibility\" aria-current=\"page\""));
    assert!(html.contains(&reference(&vw)), "{html}");
    assert!(html.contains(&format!("href=\"/collaborations/{waiting}\"")));
    assert!(html.contains("Exempelregistret för hjärtintensivvård"));
    assert!(!html.contains(&reference(&va)), "already answered");
    assert!(
        !html.contains(&reference(&ve)),
        "not yet at register contact"
    );
    // Once answered, it leaves the list.
    app.answer_feasibility(&waiting).await;
    let html = holder.html("/feasibility").await;
    assert!(!html.contains(&reference(&vw)));
    assert!(html.contains("Inga ärenden väntar på ditt svar."));
    let (s, _) = Browser::new(&app).page("/feasibility").await;
    assert_eq!(s, StatusCode::SEE_OTHER, "signed out: to the sign-in page");
}
