//! Sign-in through a REAL OpenID provider (npm `oidc-provider`, tests/support/oidc/provider.mjs), driven
//! with plain HTTP through its login and consent forms into the app's callback. Each test starts its
//! own provider (stopped by PID when the test ends) and its own app and database (SQLite, or
//! PostgreSQL when TEST_DATABASE_URL is set). Needs `npm ci` first (.ci/run does it).
#[path = "support/test_db.rs"]
mod test_db;

use reqwest::{header, StatusCode};
use samverkan::app::clock::{Clock, ManualClock};
use samverkan::config::{AuthMode, OidcProviderSettings, Settings};
use samverkan::db::identity;
use samverkan::startup::Application;
use serde_json::{json, Value};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use test_db::TestDb;

const SECRET_ENV: &str = "SAMVERKAN_TEST_OIDC_SECRET";

/// The provider process; killed by its PID when dropped.
struct Idp {
    child: Child,
    issuer: String,
    /// Held open: the provider may write to its standard output later.
    _out: std::io::BufReader<std::process::ChildStdout>,
}

impl Idp {
    fn start(redirect: &str, accounts: Value, id_token_ttl: Option<u64>) -> Idp {
        let dir = env!("CARGO_MANIFEST_DIR");
        let mut cmd = Command::new("node");
        cmd.arg(format!("{dir}/tests/support/oidc/provider.mjs"))
            .current_dir(dir)
            .env("OIDC_REDIRECT_URI", redirect)
            .env("OIDC_CLIENT_SECRET", "test-secret")
            .env("OIDC_ACCOUNTS", accounts.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(t) = id_token_ttl {
            cmd.env("OIDC_ID_TOKEN_TTL", t.to_string());
        }
        let mut child = cmd.spawn().expect("node runs (npm ci done?)");
        let out = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let mut out = std::io::BufReader::new(out);
        out.read_line(&mut line)
            .expect("the provider prints its issuer");
        let issuer = line.trim().to_string();
        assert!(
            issuer.starts_with("http://127.0.0.1:"),
            "issuer: {issuer:?}"
        );
        Idp {
            child,
            issuer,
            _out: out,
        }
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

struct Harness {
    base: String,
    clock: Arc<ManualClock>,
    db_url: String,
    /// A browser: a cookie jar, redirects taken one by one.
    browser: reqwest::Client,
    idp: Idp,
    /// Declared before the database, so the server stops (and is joined) before the database goes.
    _server: samverkan::startup::RunningServer,
    _db: TestDb,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl Harness {
    async fn start(accounts: Value, id_token_ttl: Option<u64>) -> Harness {
        Harness::start_with(accounts, id_token_ttl, |_| {}).await
    }

    async fn start_with(
        accounts: Value,
        id_token_ttl: Option<u64>,
        configure: impl FnOnce(&mut Settings),
    ) -> Harness {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let redirect = format!("{base}/auth/callback");
        let idp = Idp::start(&redirect, accounts, id_token_ttl);
        std::env::set_var(SECRET_ENV, "test-secret");
        let db = TestDb::create();
        let mut s = Settings::defaults();
        s.addr = format!("127.0.0.1:{port}");
        s.server.workers = 2;
        s.database.pool_size = 4;
        s.database_url = db.url.clone();
        s.auth.mode = AuthMode::Oidc;
        s.server.public_url = base.clone();
        s.auth.bootstrap_admins = vec!["admin@region.example".into()];
        s.auth.oidc.providers = vec![OidcProviderSettings {
            name: "test".into(),
            issuer: idp.issuer.clone(),
            client_id: "samverkan".into(),
            client_secret_env: SECRET_ENV.into(),
            redirect_url: redirect,
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            claims: Default::default(),
        }];
        configure(&mut s);
        // The provider signs with its real clock: the app's clock starts at the real time.
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let app = Application::build(s, clock.clone()).expect("application builds");
        let server = app.serve_in_thread().expect("the server starts");
        Harness {
            base,
            clock,
            db_url: db.url.clone(),
            browser: browser(),
            idp,
            _server: server,
            _db: db,
        }
    }

    fn conn(&self) -> r2d2::PooledConnection<samverkan::db::conn::ConnManager> {
        samverkan::db::Db::connect(&self.db_url, 1)
            .unwrap()
            .pool
            .get()
            .unwrap()
    }

    /// `GET /auth/login`: the provider's authorization URL the app sends the browser to.
    async fn begin(&self, next: &str) -> url::Url {
        let r = self
            .browser
            .get(format!("{}/auth/login", self.base))
            .query(&[("provider", "test"), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
        let loc = r.headers()[header::LOCATION].to_str().unwrap().to_string();
        assert!(loc.starts_with(&self.idp.issuer), "{loc}");
        url::Url::parse(&loc).unwrap()
    }

    /// Follows the provider from `auth_url` through its login and consent forms as `login`, until it
    /// sends the browser to the app's callback: returns that URL (not yet called).
    async fn through_provider(&self, auth_url: &url::Url, login: &str) -> url::Url {
        let mut url = auth_url.clone();
        let mut form: Option<Vec<(String, String)>> = None;
        for _ in 0..20 {
            let r = match form.take() {
                Some(fields) => self.browser.post(url.clone()).form(&fields).send(),
                None => self.browser.get(url.clone()).send(),
            }
            .await
            .unwrap();
            if r.status().is_redirection() {
                let loc = r.headers()[header::LOCATION].to_str().unwrap();
                let next = url.join(loc).unwrap();
                if next
                    .as_str()
                    .starts_with(&format!("{}/auth/callback", self.base))
                {
                    return next;
                }
                url = next;
                continue;
            }
            assert_eq!(r.status(), StatusCode::OK, "at {url}");
            let html = r.text().await.unwrap();
            let action = between(&html, "action=\"", "\"")
                .unwrap_or_else(|| panic!("no form at {url}: {html}"));
            url = url.join(&action.replace("&amp;", "&")).unwrap();
            // Every hidden field as it is (the provider's own auto-submitted forms, e.g. ending its
            // session of another person), plus the login form's name and password.
            let mut fields: Vec<(String, String)> = Vec::new();
            let mut rest = html.as_str();
            while let Some(i) = rest.find("type=\"hidden\" name=\"") {
                rest = &rest[i..];
                let name = between(rest, "name=\"", "\"").unwrap();
                let value = between(rest, "value=\"", "\"").unwrap_or_default();
                fields.push((name, value));
                rest = &rest[1..];
            }
            if fields.iter().any(|(k, v)| k == "prompt" && v == "login") {
                fields.push(("login".into(), login.into()));
                fields.push(("password".into(), "any".into()));
            }
            form = Some(fields);
        }
        panic!("the provider never sent the browser back");
    }

    /// A whole sign-in as `login`, returning the app's answer to the callback.
    async fn sign_in(&self, login: &str, next: &str) -> reqwest::Response {
        let auth = self.begin(next).await;
        let cb = self.through_provider(&auth, login).await;
        self.browser.get(cb).send().await.unwrap()
    }

    async fn me(&self) -> reqwest::Response {
        self.browser
            .get(format!("{}/api/v1/me", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn csrf(&self) -> String {
        let r = self
            .browser
            .get(format!("{}/api/v1/session/csrf", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(s[i..j].to_string())
}

fn query(u: &url::Url, key: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn with_query(u: &url::Url, key: &str, value: Option<&str>) -> url::Url {
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != key)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = u.clone();
    {
        let mut q = out.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        if let Some(v) = value {
            q.append_pair(key, v);
        }
    }
    out
}

async fn assert_page(r: reqwest::Response, status: StatusCode, sv: &str, en: &str) {
    assert_eq!(r.status(), status);
    let ct = r.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(ct.starts_with("text/html"), "{ct}");
    let html = r.text().await.unwrap();
    assert!(html.contains(sv), "Swedish '{sv}' in {html}");
    assert!(html.contains(en), "English '{en}' in {html}");
}

#[tokio::test]
async fn a_full_sign_in_gives_a_cookie_session_that_csrf_guards_and_logout_ends() {
    let h = Harness::start(json!({}), None).await;
    let auth = h.begin("/api/v1/me").await;
    // PKCE S256, state and nonce are sent.
    assert_eq!(
        query(&auth, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(query(&auth, "code_challenge").map(|c| c.len()), Some(43));
    assert!(query(&auth, "state").is_some() && query(&auth, "nonce").is_some());
    let cb = h.through_provider(&auth, "admin@region.example").await;
    let r = h.browser.get(cb).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/api/v1/me");
    let set: Vec<String> = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = set
        .iter()
        .find(|c| c.starts_with("samverkan=svc_"))
        .unwrap_or_else(|| panic!("{set:?}"));
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    assert!(session.contains("Path=/"));
    assert!(
        !session.contains("Secure"),
        "plain http: no Secure, no __Host-"
    );

    let me = h.me().await;
    assert_eq!(me.status(), StatusCode::OK);
    let v: Value = me.json().await.unwrap();
    assert_eq!(v["role"], "administrator", "{v}");

    // CSRF: a POST with the cookie and no token is refused; a wrong Origin too; both right pass.
    let logout = format!("{}/auth/logout", h.base);
    let r = h.browser.post(&logout).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let token = h.csrf().await;
    let r = h
        .browser
        .post(&logout)
        .header("X-CSRF-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no Origin");
    let r = h
        .browser
        .post(&logout)
        .header("X-CSRF-Token", &token)
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "another origin");
    let r = h
        .browser
        .post(&logout)
        .header("X-CSRF-Token", "0".repeat(64))
        .header(header::ORIGIN, &h.base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a wrong token");
    // Keep the cookie to try it after logout.
    let cookie = session.split(';').next().unwrap().to_string();
    let r = h
        .browser
        .post(&logout)
        .header("X-CSRF-Token", &token)
        .header(header::ORIGIN, &h.base)
        .send()
        .await
        .unwrap();
    // RP-initiated logout: on to the provider's end-session endpoint with the ID token as hint.
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()[header::LOCATION].to_str().unwrap();
    assert!(
        loc.starts_with(&format!("{}/session/end", h.idp.issuer)),
        "{loc}"
    );
    assert!(loc.contains("id_token_hint="), "{loc}");
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/me", h.base))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "logout revoked it");
}

#[tokio::test]
async fn bearer_tokens_need_no_csrf_and_a_tampered_cookie_is_401() {
    let h = Harness::start(json!({}), None).await;
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/me", h.base))
        .header(header::COOKIE, format!("samverkan=svc_{}", "ab".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    // In oidc mode the demo accounts' token route does not exist.
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/local/token", h.base))
        .json(&json!({"account": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pkce_is_required_by_the_provider_and_bound_to_the_apps_verifier() {
    let h = Harness::start(json!({}), None).await;
    // Without a challenge the provider refuses the request and says so on the callback.
    let auth = h.begin("/").await;
    let stripped = with_query(&auth, "code_challenge", None);
    let cb = h.through_provider(&stripped, "admin@region.example").await;
    assert!(query(&cb, "error").is_some(), "{cb}");
    assert_page(
        h.browser.get(cb).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "avbröt inloggningen",
        "stopped the sign-in",
    )
    .await;
    // With another challenge the app's verifier does not match: the code exchange fails.
    let auth = h.begin("/").await;
    let other = with_query(
        &auth,
        "code_challenge",
        Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
    );
    let cb = h.through_provider(&other, "admin@region.example").await;
    assert!(query(&cb, "code").is_some(), "{cb}");
    assert_page(
        h.browser.get(cb).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "kunde inte godtas",
        "could not be accepted",
    )
    .await;
    assert_eq!(h.me().await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wrong_state_and_a_replayed_code_are_refused() {
    let h = Harness::start(json!({}), None).await;
    let auth = h.begin("/api/v1/me").await;
    let cb = h.through_provider(&auth, "admin@region.example").await;
    let wrong = with_query(&cb, "state", Some("not-the-state"));
    assert_page(
        h.browser.get(wrong).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "okänt",
        "unknown",
    )
    .await;
    // The wrong state did not use up the real one... but the login cookie is cleared, so a second
    // browser-bound try needs a new attempt: start again and replay the first code under it.
    let auth2 = h.begin("/api/v1/me").await;
    let cb2 = h.through_provider(&auth2, "admin@region.example").await;
    let first = h.browser.get(cb2.clone()).send().await.unwrap();
    assert_eq!(
        first.status(),
        StatusCode::SEE_OTHER,
        "the real callback works"
    );
    // The same callback again: the attempt was single use.
    assert_page(
        h.browser.get(cb2.clone()).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "okänt",
        "unknown",
    )
    .await;
    // The used code under a fresh attempt: the provider refuses to exchange it twice.
    let auth3 = h.begin("/api/v1/me").await;
    let replay = with_query(&cb2, "state", query(&auth3, "state").as_deref());
    assert_page(
        h.browser.get(replay).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "kunde inte godtas",
        "could not be accepted",
    )
    .await;
    // The code of the first round under the third attempt's state is refused too (another
    // attempt's PKCE verifier, or already redeemed).
    let replay1 = with_query(&cb, "state", query(&auth3, "state").as_deref());
    let r = h.browser.get(replay1).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_wrong_nonce_and_an_expired_id_token_are_refused() {
    // ID tokens valid for 30 s, so moving the app's clock five minutes on makes them expired.
    let h = Harness::start(json!({}), Some(30)).await;
    let auth = h.begin("/").await;
    // The provider puts the nonce it is sent into the ID token: send another than the app kept.
    let other = with_query(&auth, "nonce", Some("a-nonce-the-app-never-made"));
    let cb = h.through_provider(&other, "admin@region.example").await;
    assert_page(
        h.browser.get(cb).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "kunde inte godtas",
        "could not be accepted",
    )
    .await;
    let auth = h.begin("/").await;
    let cb = h.through_provider(&auth, "admin@region.example").await;
    h.clock.advance(chrono::Duration::minutes(5));
    assert_page(
        h.browser.get(cb).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "kunde inte godtas",
        "could not be accepted",
    )
    .await;
    assert_eq!(h.me().await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_person_is_told_they_are_not_invited() {
    let h = Harness::start(json!({}), None).await;
    assert_page(
        h.sign_in("stranger@elsewhere.example", "/").await,
        StatusCode::FORBIDDEN,
        "inte inbjuden",
        "not been invited",
    )
    .await;
    assert_eq!(h.me().await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_invitation_binds_to_a_verified_email_and_a_revoked_role_ends_the_session() {
    let mut h = Harness::start(
        json!({
            "unverified@region.example": {"email": "lawyer@region.example", "email_verified": false}
        }),
        None,
    )
    .await;
    let now = h.clock.now();
    let org = {
        let mut c = h.conn();
        let org = samverkan::db::login::oldest_organisation(&mut c)
            .unwrap()
            .unwrap();
        identity::insert_invitation(
            &mut c,
            &identity::InvitationRow {
                id: uuid::Uuid::new_v4().to_string(),
                email: "lawyer@region.example".into(),
                organisation_id: org.to_string(),
                role: "cpua_legal".into(),
                invited_by: "system".into(),
                created_at: samverkan::db::repo::ts(now),
                expires_at: samverkan::db::repo::ts(now + chrono::Duration::days(7)),
                accepted_at: None,
                accepted_by: None,
                revoked_at: None,
            },
        )
        .unwrap();
        org
    };
    // The same address, not verified by the provider: the invitation does not bind.
    assert_page(
        h.sign_in("unverified@region.example", "/").await,
        StatusCode::FORBIDDEN,
        "inte inbjuden",
        "not been invited",
    )
    .await;
    // Another browser: the provider's own session is still the unverified person's.
    h.browser = browser();
    let r = h.sign_in("lawyer@region.example", "/api/v1/me").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v: Value = h.me().await.json().await.unwrap();
    assert_eq!(v["role"], "cpua_legal", "{v}");
    assert_eq!(v["org"], org.to_string());
    // The administrator revokes the role: the session acting in it ends.
    {
        let mut c = h.conn();
        let account = identity::account_by_subject(&mut c, &h.idp.issuer, "lawyer@region.example")
            .unwrap()
            .expect("the person was created");
        let m = identity::live_memberships(&mut c, &account.account_id()).unwrap();
        assert_eq!(m.len(), 1);
        assert!(identity::revoke_membership(
            &mut c,
            &m[0].membership_id(),
            &account.account_id(),
            now
        )
        .unwrap());
        identity::revoke_sessions_of_membership(&mut c, &m[0].membership_id(), now).unwrap();
    }
    assert_eq!(h.me().await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn next_must_stay_on_this_service_and_provider_errors_give_a_page() {
    let h = Harness::start(json!({}), None).await;
    for bad in [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let r = h
            .browser
            .get(format!("{}/auth/login", h.base))
            .query(&[("provider", "test"), ("next", bad)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["errors"][0]["field"], "next", "{v}");
    }
    let r = h
        .browser
        .get(format!("{}/auth/login?provider=nope", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The person cancels at the provider: access_denied comes back with the state.
    let auth = h.begin("/").await;
    let state = query(&auth, "state").unwrap();
    let r = h
        .browser
        .get(format!("{}/auth/callback", h.base))
        .query(&[
            ("error", "access_denied"),
            ("error_description", "End-User aborted interaction"),
            ("state", state.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_page(
        r,
        StatusCode::BAD_REQUEST,
        "access_denied",
        "stopped the sign-in",
    )
    .await;
    // A callback with nothing at all.
    let r = h
        .browser
        .get(format!("{}/auth/callback", h.base))
        .send()
        .await
        .unwrap();
    assert_page(r, StatusCode::BAD_REQUEST, "okänt", "unknown").await;
}

#[tokio::test]
async fn step_up_forces_a_fresh_sign_in_and_records_it_on_the_session() {
    let h = Harness::start(json!({}), None).await;
    let r = h.sign_in("admin@region.example", "/api/v1/me").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let hint_before = {
        let mut c = h.conn();
        let rows = samverkan::db::login::live_cookie_sessions(&mut c).unwrap();
        assert_eq!(rows.len(), 1);
        rows[0].id_token_hint.clone()
    };
    let r = h
        .browser
        .get(format!("{}/auth/step-up?next=/api/v1/me", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let auth = url::Url::parse(r.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(query(&auth, "prompt").as_deref(), Some("login"));
    assert_eq!(query(&auth, "max_age").as_deref(), Some("0"));
    let cb = h.through_provider(&auth, "admin@region.example").await;
    let r = h.browser.get(cb).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/api/v1/me");
    let mut c = h.conn();
    let rows = samverkan::db::login::live_cookie_sessions(&mut c).unwrap();
    assert_eq!(rows.len(), 1, "the same session, renewed");
    assert!(rows[0].auth_time.is_some());
    assert_ne!(
        rows[0].id_token_hint, hint_before,
        "the new ID token is kept"
    );
    // Another person's fresh sign-in does not step up this session.
    let r = h
        .browser
        .get(format!("{}/auth/step-up?next=/", h.base))
        .send()
        .await
        .unwrap();
    let auth = url::Url::parse(r.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    let cb = h
        .through_provider(&auth, "someone-else@region.example")
        .await;
    assert_page(
        h.browser.get(cb).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "inte samma person",
        "not by the same person",
    )
    .await;
}

#[test]
fn a_provider_that_cannot_be_discovered_stops_the_start_naming_it() {
    let db = TestDb::create();
    let port = free_port();
    let mut s = Settings::defaults();
    s.addr = "127.0.0.1:0".into();
    s.database_url = db.url.clone();
    s.auth.mode = AuthMode::Oidc;
    s.server.public_url = "http://127.0.0.1:8080".into();
    s.auth.oidc.providers = vec![OidcProviderSettings {
        name: "region".into(),
        issuer: format!("http://127.0.0.1:{port}"),
        client_id: "samverkan".into(),
        client_secret_env: String::new(),
        redirect_url: "http://127.0.0.1:8080/auth/callback".into(),
        scopes: vec!["openid".into()],
        claims: Default::default(),
    }];
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let e = Application::build(s, clock)
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("\"region\"") && e.contains("discovery"), "{e}");
}
