//! A signed-in browser for page tests: a cookie jar, redirects not followed (each one is checked),
//! the session's CSRF token for forms, and the `Origin` a browser sends with a form.
use reqwest::{header, Response, StatusCode};

use crate::helpers::TestApp;

pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    /// The CSRF token of the session (empty before sign-in).
    pub csrf: String,
}

impl Browser {
    /// A browser with no session yet, in Swedish unless told otherwise.
    pub fn new(app: &TestApp) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Browser {
            base: app.base.clone(),
            client,
            csrf: String::new(),
        }
    }

    /// Signs in as a demo account on the sign-in page and reads the session's CSRF token.
    pub async fn signed_in(app: &TestApp, account: &str) -> Browser {
        let mut b = Browser::new(app);
        let r = b
            .post_form(
                "/sign-in",
                &[("account", account), ("next", "/collaborations")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in as {account}");
        let r = b.get("/api/v1/session/csrf").await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: serde_json::Value = r.json().await.expect("csrf json");
        b.csrf = v["csrf_token"].as_str().expect("csrf token").to_string();
        b
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    /// A page's status and HTML.
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let s = r.status();
        (s, r.text().await.expect("body"))
    }

    /// A page that must answer 200, as HTML.
    pub async fn html(&self, path: &str) -> String {
        let (s, body) = self.page(path).await;
        assert_eq!(s, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Posts a form as a browser does: urlencoded, with the session's CSRF token and our Origin.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if !self.csrf.is_empty() && !fields.iter().any(|(k, _)| *k == "csrf_token") {
            all.push(("csrf_token", self.csrf.as_str()));
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(all)
            .finish();
        self.client
            .post(format!("{}{path}", self.base))
            .header(header::ORIGIN, self.base.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST")
    }

    /// Posts an upload form (`multipart/form-data`) as a browser does: the CSRF token first (as the
    /// pages' forms put it), then the part `file` with its name, content type and bytes.
    pub async fn post_file(
        &self,
        path: &str,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Response {
        const BOUNDARY: &str = "----browser-boundary-f1le";
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n",
            self.csrf
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        self.client
            .post(format!("{}{path}", self.base))
            .header(header::ORIGIN, self.base.as_str())
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .expect("POST")
    }
}

/// Where a redirect leads.
pub fn location(r: &Response) -> String {
    r.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
