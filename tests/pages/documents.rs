//! The documents section of the case page (issue 16): upload through the multipart form (its CSRF
//! token in the form's first field), see it listed with its download link, a wrong file refused at
//! its field, and a redaction through the form with its reason. Seed 000, "Ansökan för utlämnande
//! av data".
use reqwest::{header, StatusCode};

use crate::helpers::TestApp;
use crate::support::{location, Browser};

const BOUNDARY: &str = "----browser-boundary-d0cs";

fn multipart(fields: &[(&str, &str)], file: (&str, &[u8])) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/pdf\r\n\r\n",
            file.0
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts the upload form as a browser does: the fields in the form's order, the CSRF token first.
async fn post_upload(
    b: &Browser,
    id: &str,
    csrf: &str,
    kind: &str,
    file: (&str, &[u8]),
) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = if csrf.is_empty() {
        vec![("type", kind), ("visibility", "parties"), ("satisfies", "")]
    } else {
        vec![
            ("csrf_token", csrf),
            ("type", kind),
            ("visibility", "parties"),
            ("satisfies", ""),
        ]
    };
    b.client
        .post(format!("{}/collaborations/{id}/documents", b.base))
        .header(header::ORIGIN, b.base.as_str())
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&fields, file))
        .send()
        .await
        .expect("POST")
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

#[tokio::test]
async fn a_document_uploaded_through_the_form_is_listed_and_redacted_through_the_form() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let b = Browser::signed_in(&app, "company").await;
    let case = format!("/collaborations/{id}");
    let html = b.html(&case).await;
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    assert!(html.contains("Ladda upp ett dokument"));
    assert!(html.contains("Inga dokument har laddats upp"));

    // Without the CSRF token the form is refused before anything is read.
    let r = post_upload(&b, &id, "", "ethics_decision", ("beslut.pdf", PDF)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = post_upload(&b, &id, &b.csrf, "ethics_decision", ("etikbeslut.pdf", PDF)).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let to = location(&r);
    assert_eq!(
        to,
        format!("/collaborations/{id}?documents=uploaded#documents")
    );
    let html = b.html(&to).await;
    assert!(html.contains("Dokumentet har laddats upp."), "{html}");
    assert!(html.contains("etikbeslut.pdf"));
    assert!(html.contains("Etikbeslut"));
    let v = crate::helpers::ok(
        app.get(
            &format!("/api/v1/collaborations/{id}/documents"),
            &app.token("company").await,
        )
        .await,
    )
    .await;
    let doc = v["items"][0]["id"].as_str().unwrap().to_string();
    let href = format!("/api/v1/collaborations/{id}/documents/{doc}");
    assert!(html.contains(&format!("href=\"{href}\"")), "{html}");
    // The link downloads the very bytes with the browser's session.
    let r = b.get(&href).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

    // An HTML page named .pdf comes back at the file field, in the summary and beside the field.
    let r = post_upload(
        &b,
        &id,
        &b.csrf,
        "research_plan",
        ("plan.pdf", b"<html><body>x</body></html>"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#f-document-file\""), "{html}");
    assert!(html.contains("id=\"f-document-file-error\""), "{html}");
    assert!(html.contains("typen läses ur filens innehåll"), "{html}");
    // What was chosen is chosen again.
    assert!(html.contains("value=\"research_plan\" selected"), "{html}");

    // Redaction: a reason is required, at its field; with one, the tombstone is shown.
    let action = format!("/collaborations/{id}/documents/{doc}/redact");
    let r = b.post_form(&action, &[("reason", "")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("href=\"#f-redact-{doc}-reason\"")),
        "{html}"
    );
    let r = b
        .post_form(&action, &[("reason", "Fel fil uppladdad.")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b.html(&location(&r)).await;
    assert!(html.contains("Dokumentet har rensats."));
    assert!(html.contains("Skäl: Fel fil uppladdad."), "{html}");
    assert!(!html.contains(&format!("href=\"{href}\"")));
    assert_eq!(b.get(&href).await.status(), StatusCode::GONE);
}
