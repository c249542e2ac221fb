use chrono::TimeZone;
use reqwest::{Response, StatusCode};
use samverkan::app::clock::ManualClock;
use samverkan::config::Settings;
use samverkan::startup::Application;
use serde_json::{json, Value};
use std::sync::Arc;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub database_url: String,
    /// Stopped (and joined) when the test app is dropped, before its database goes.
    server: Option<samverkan::startup::RunningServer>,
    _db: Option<TestDb>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }
}

pub use crate::test_db::TestDb;

/// The settings every test application starts with, on the given database.
pub fn test_settings(database_url: &str) -> Settings {
    let mut settings = Settings::defaults();
    settings.addr = "127.0.0.1:0".into();
    settings.server.workers = 2;
    settings.database.pool_size = 4;
    // The helpers ask for a token per call; the rate limit has its own test (hardening.rs).
    settings.auth.token_requests_per_minute = 100_000;
    settings.database_url = database_url.to_string();
    settings
}

/// The test clock: 1 September 2026, 09:00 UTC.
pub fn test_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap(),
    ))
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Like [`TestApp::spawn`], with settings changed by `configure` first.
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::create();
        let mut settings = test_settings(&db.url);
        configure(&mut settings);
        let clock = test_clock();
        let app = Application::build(settings, clock.clone()).expect("application builds");
        let mut t = TestApp::serve(app, clock, &db.url);
        t._db = Some(db);
        t
    }

    /// Serves an application already built on `database_url` (which the caller owns).
    pub fn serve(app: Application, clock: Arc<ManualClock>, database_url: &str) -> TestApp {
        let base = format!("http://127.0.0.1:{}", app.port());
        let server = app.serve_in_thread().expect("the test server starts");
        TestApp {
            base,
            client: reqwest::Client::new(),
            clock,
            database_url: database_url.to_string(),
            server: Some(server),
            _db: None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    pub async fn token(&self, account: &str) -> String {
        let r = self
            .client
            .post(format!("{}/api/v1/local/token", self.base))
            .json(&json!({ "account": account }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "token for {account}");
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Sends a JSON body with the given method and bearer token.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> Response {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send(reqwest::Method::POST, path, token, body).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send(reqwest::Method::PATCH, path, token, body).await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send(reqwest::Method::PUT, path, token, body).await
    }

    /// The id of a seeded register by its code.
    pub async fn register(&self, code: &str) -> String {
        let t = self.token("admin").await;
        let v: Value = self
            .get("/api/v1/registers?per_page=200", &t)
            .await
            .json()
            .await
            .unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == code)
            .unwrap_or_else(|| panic!("register {code}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The id of an organisation by name.
    pub async fn org(&self, name: &str) -> String {
        let t = self.token("admin").await;
        let v: Value = self
            .get("/api/v1/organisations?per_page=200", &t)
            .await
            .json()
            .await
            .unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap_or_else(|| panic!("organisation {name}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn transition(&self, id: &str, token: &str, body: Value) -> Response {
        self.post(
            &format!("/api/v1/collaborations/{id}/transitions"),
            token,
            &body,
        )
        .await
    }

    pub async fn action(&self, id: &str, token: &str, body: Value) -> Response {
        self.post(
            &format!("/api/v1/collaborations/{id}/actions"),
            token,
            &body,
        )
        .await
    }

    /// Creates a research collaboration with the university as principal on the given registers.
    pub async fn research_collaboration(&self, registers: &[&str]) -> (String, Value) {
        let company = self.token("company").await;
        let mut regs = Vec::new();
        for r in registers {
            regs.push(self.register(r).await);
        }
        let principal = self.org("Exempeluniversitetet").await;
        let r = self
            .post(
                "/api/v1/collaborations",
                &company,
                &json!({
                    "title": "Långtidsutfall efter hjärtinfarkt",
                    "purpose": "Att jämföra långtidsutfall mellan behandlingsstrategier.",
                    "research_question": "Skiljer sig femårsöverlevnaden mellan strategierna?",
                    "research_principal": principal,
                    "registers": regs,
                    "requested_variables": ["alder", "kon", "diagnosdatum", "behandling"],
                    "data_kind": "pseudonymised",
                    "intake": public_research_intake(),
                }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        (v["collaboration"]["id"].as_str().unwrap().to_string(), v)
    }
}

impl TestApp {
    /// Adds a demo account (so `token(username)` works) with the role code (`register_holder`,
    /// `finance`, `cpua_legal`, …) in the named organisation. The seeded demo accounts have one register
    /// holder and one finance officer, both at Region Uppsala; tests needing those roles at another CPUA
    /// add them here. Returns the account id.
    pub async fn add_account(&self, username: &str, role: &str, org_name: &str) -> String {
        let org = self.org(org_name).await;
        use samverkan::db::identity;
        let db = samverkan::db::conn::Db::connect(&self.database_url, 1).expect("database");
        let mut conn = db.pool.get().expect("connection");
        let now = self.clock_now();
        let row = identity::AccountRow::new(
            username,
            &format!("Test {username}"),
            &format!("{username}@test.samverkan.invalid"),
            true,
            now,
        );
        identity::insert_account(&mut conn, &row).expect("insert account");
        let role = samverkan::domain::role::Role::parse(role).expect("role code");
        let org = samverkan::domain::ids::OrgId::from_db(org);
        let m = identity::MembershipRow::new(&row.account_id(), &org, role, "seed", None, now);
        identity::insert_membership(&mut conn, &m).expect("insert membership");
        row.id
    }

    /// Grants an existing account (by username) an extra membership with the role code in the named
    /// organisation, straight in the database as `add_account` does, granted a second after the
    /// clock's now so that the account's first membership stays the one a local token acts in.
    /// Returns the membership id.
    pub async fn grant_membership(&self, username: &str, role: &str, org_name: &str) -> String {
        let org = self.org(org_name).await;
        use samverkan::db::identity;
        let db = samverkan::db::conn::Db::connect(&self.database_url, 1).expect("database");
        let mut conn = db.pool.get().expect("connection");
        let account = identity::account_by_username(&mut conn, username)
            .expect("read account")
            .unwrap_or_else(|| panic!("account {username}"));
        let role = samverkan::domain::role::Role::parse(role).expect("role code");
        let org = samverkan::domain::ids::OrgId::from_db(org);
        let now = self.clock_now() + chrono::Duration::seconds(1);
        let m = identity::MembershipRow::new(&account.account_id(), &org, role, "seed", None, now);
        identity::insert_membership(&mut conn, &m).expect("insert membership");
        m.id
    }

    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        samverkan::app::clock::Clock::now(self.clock.as_ref())
    }

    /// A token of a register holder at the named CPUA: the seeded one at Region Uppsala, an added
    /// account elsewhere (created on first use).
    pub async fn holder_of(&self, cpua_name: &str) -> String {
        if cpua_name == "Region Uppsala" {
            return self.token("register-holder").await;
        }
        let username = format!("holder-{}", slug(cpua_name));
        if !self.has_account(&username).await {
            self.add_account(&username, "register_holder", cpua_name)
                .await;
        }
        self.token(&username).await
    }

    async fn has_account(&self, username: &str) -> bool {
        let v: Value = self
            .client
            .get(format!("{}/api/v1/local/accounts", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.to_string().contains(&format!("\"{username}\""))
    }

    /// The seeded registers: (id, code, CPUA name).
    pub async fn registers(&self) -> Vec<(String, String, String)> {
        let t = self.token("admin").await;
        let v: Value = self
            .get("/api/v1/registers?per_page=200", &t)
            .await
            .json()
            .await
            .unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_string(),
                    r["code"].as_str().unwrap().to_string(),
                    r["cpua_name"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Each register of the collaboration gets a feasible answer from the holder of its own CPUA
    /// (seed 001, "2. Kontakt med registerhållare").
    pub async fn answer_feasibility(&self, id: &str) {
        let admin = self.token("admin").await;
        let c = ok(self
            .get(&format!("/api/v1/collaborations/{id}"), &admin)
            .await)
        .await;
        let all = self.registers().await;
        for reg in c["collaboration"]["registers"].as_array().unwrap() {
            let (rid, _, cpua) = all
                .iter()
                .find(|(r, _, _)| r == reg.as_str().unwrap())
                .expect("a seeded register");
            let holder = self.holder_of(cpua).await;
            ok(self
                .action(
                    id,
                    &holder,
                    json!({"action": "record_feasibility", "register": rid, "feasible": true}),
                )
                .await)
            .await;
        }
    }

    /// Walks a research collaboration through steps 2–4: register contact, each register holder's
    /// feasibility answer for their own register, the ethics approval, and a complete application to
    /// each named CPUA. Returns the view.
    pub async fn walk_to_application(&self, id: &str, cpuas: &[&str]) -> Value {
        let company = self.token("company").await;
        ok(self
            .transition(id, &company, json!({"to": "register_contact"}))
            .await)
        .await;
        self.answer_feasibility(id).await;
        ok(self
            .action(
                id,
                &company,
                json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "2026-08-20"}),
            )
            .await)
        .await;
        let mut last = Value::Null;
        for name in cpuas {
            let cpua = self.org(name).await;
            last = ok(self
                .transition(
                    id,
                    &company,
                    json!({"to": "data_application", "cpua": cpua, "dossier": dossier()}),
                )
                .await)
            .await;
        }
        last
    }

    /// The newest agreement version: (number, digest).
    pub async fn latest_agreement(&self, id: &str, token: &str) -> (u64, String) {
        let v = ok(self
            .get(&format!("/api/v1/collaborations/{id}/agreements"), token)
            .await)
        .await;
        let items = v
            .get("items")
            .and_then(Value::as_array)
            .or_else(|| v.as_array())
            .cloned()
            .unwrap_or_default();
        let newest = items
            .iter()
            .max_by_key(|i| i["number"].as_u64().unwrap_or(0))
            .expect("an agreement version");
        (
            newest["number"].as_u64().unwrap(),
            newest["digest"].as_str().unwrap().to_string(),
        )
    }

    /// Draws an agreement version (with `terms` the first time, `{}` after) and returns (number, digest).
    pub async fn draw_agreement(&self, id: &str, token: &str, body: &Value) -> (u64, String) {
        let v = ok(self
            .post(
                &format!("/api/v1/collaborations/{id}/agreements"),
                token,
                body,
            )
            .await)
        .await;
        (
            v["number"].as_u64().unwrap(),
            v["digest"].as_str().unwrap().to_string(),
        )
    }

    /// The collaboration as the caller sees it.
    pub async fn view(&self, id: &str, token: &str) -> Value {
        ok(self
            .get(&format!("/api/v1/collaborations/{id}"), token)
            .await)
        .await
    }
}

/// An approval with seed 002's three findings ("Sammanfattningsvis …": the need for the data, within
/// the ethics approval, no risk of harm).
pub fn approval(cpua: &str) -> Value {
    json!({"to": "release_decision", "cpua": cpua, "outcome": "approved", "findings": findings()})
}

/// Seed 002's three findings of an approval.
pub fn findings() -> Value {
    json!({"need_for_data": true, "within_ethics_approval": true, "no_risk_of_harm": true})
}

/// A lawful refusal: written reasons (seed 001, "5. Beslut om utlämnande") and a structured ground
/// (seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)").
pub fn refusal(cpua: &str) -> Value {
    json!({"to": "release_decision", "cpua": cpua, "outcome": "refused",
           "reasons": "Uppgifterna kan inte lämnas ut utan men för enskilda.",
           "grounds": ["harm_to_individual"]})
}

fn slug(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

/// A complete confidentiality-review dossier (seed 000, the five items).
pub fn dossier() -> Value {
    json!({
        "recipient_principal": "Exempeluniversitetet",
        "project_description": "Kohortstudie av långtidsutfall, se forskningsplan v2.",
        "ethics_documents": "Ansökan och beslut 2026-01234-01",
        "requested_data": ["alder", "kon", "diagnosdatum", "behandling"],
        "access_and_storage": "Två namngivna forskare; krypterad server hos huvudmannen."
    })
}

/// Intake facts of a research collaboration led by a public principal where the company gets results.
pub fn public_research_intake() -> Value {
    json!({
        "purpose": "research", "company_receives": "aggregated", "principal_receives": "pseudonymised",
        "analysis_by": "principal", "sector": "pharma", "external_processor": false,
        "identity_numbers_requested": false, "effort_beyond_routine": false, "key_retention_months": 3
    })
}

/// Asserts the status and that the body is problem+json; returns the problem.
pub async fn problem(r: Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(ct, "application/problem+json", "content type");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], status.as_u16());
    v
}

pub async fn ok(r: Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(
        status.is_success(),
        "expected success, got {status}: {body}"
    );
    body
}

/// The obligation with this code in a view's `obligations` list, if in force.
pub fn obligation<'a>(view: &'a Value, code: &str) -> Option<&'a Value> {
    view["obligations"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["code"] == code))
}

/// The codes of the unmet obligations a 409 `obligations_unmet` names.
pub fn unmet_codes(problem: &Value) -> Vec<String> {
    assert_eq!(problem["rule"], "obligations_unmet", "{problem}");
    problem["obligations"]
        .as_array()
        .unwrap_or_else(|| panic!("obligations in {problem}"))
        .iter()
        .map(|o| o["code"].as_str().unwrap().to_string())
        .collect()
}

impl TestApp {
    /// Draws an agreement version after the decisions (with the full terms of `agreements.rs` the first
    /// time), has every party sign it through its envelope ([`TestApp::execute_agreement`]), and records
    /// it by naming its number and digest (seed 001, "6. Avtal upprättas"). Returns the view after the
    /// agreement step.
    pub async fn sign_agreement(&self, id: &str) -> Value {
        let company = self.token("company").await;
        let legal = self.token("legal").await;
        let path = format!("/api/v1/collaborations/{id}/agreements");
        let listed = ok(self.get(&path, &company).await).await;
        let body = if listed.as_array().is_some_and(|a| a.is_empty()) {
            json!({"terms": crate::agreements::full_terms(self).await})
        } else {
            json!({})
        };
        let (version, digest) = self.draw_agreement(id, &company, &body).await;
        self.execute_agreement(id, version).await;
        ok(self
            .transition(
                id,
                &legal,
                json!({"to": "agreement", "version": version, "digest": digest, "signed_on": "2026-09-01"}),
            )
            .await)
        .await
    }
}

/// The seeded demo account that signs for each seeded organisation, with the person's name.
pub fn signatory_of(organisation_name: &str) -> (&'static str, &'static str) {
    match organisation_name {
        "Exempel Läkemedel AB" => ("company", "Karin Företagsson"),
        "Prov Medicinteknik AB" => ("company-b", "Bo Bolagsson"),
        "Exempeluniversitetet" => ("principal", "Per Forskare"),
        "Region Uppsala" => ("legal", "Lars Jurist"),
        "Västra Götalandsregionen" => ("legal-vgr", "Vera Jurist"),
        other => panic!("no demo signatory for {other}"),
    }
}

impl TestApp {
    /// The path of a version's envelope.
    pub fn envelope_path(id: &str, n: u64) -> String {
        format!("/api/v1/collaborations/{id}/agreements/{n}/envelope")
    }

    /// CPUA legal (of the first CPUA party that accepts) drafts and sends the version's envelope in
    /// the default order. Returns the envelope.
    pub async fn send_envelope(&self, id: &str, n: u64) -> Value {
        let path = TestApp::envelope_path(id, n);
        for legal in ["legal", "legal-vgr"] {
            let r = self
                .post(&path, &self.token(legal).await, &json!({"send": true}))
                .await;
            if r.status() == StatusCode::FORBIDDEN {
                continue;
            }
            return ok(r).await;
        }
        panic!("no CPUA legal may prepare the envelope of {id} version {n}");
    }

    /// One signature by the demo account of the organisation, with a fresh token: the digest and the
    /// consent version the envelope shows it.
    pub async fn sign_as(&self, id: &str, n: u64, organisation_name: &str) -> Response {
        let (account, name) = signatory_of(organisation_name);
        let token = self.token(account).await;
        let path = TestApp::envelope_path(id, n);
        let env = ok(self.get(&path, &token).await).await;
        let consent = env["consent"]["version"]
            .as_str()
            .unwrap_or("2026-12-1")
            .to_string();
        self.post(
            &format!("{path}/signatures"),
            &token,
            &json!({"digest": env["digest"], "consent_text_version": consent, "typed_name": name}),
        )
        .await
    }

    /// Every party signs version `n` through its envelope (drafted and sent by CPUA legal), each with
    /// its demo account, turn by turn (issue 14). Returns the completed envelope.
    pub async fn execute_agreement(&self, id: &str, n: u64) -> Value {
        let mut env = self.send_envelope(id, n).await;
        for _ in 0..10 {
            if env["status"] == "completed" {
                return env;
            }
            let turn: Vec<String> = env["turn"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect();
            assert!(!turn.is_empty(), "nobody's turn: {env}");
            let names: Vec<String> = env["signers"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| turn.contains(&s["id"].as_str().unwrap().to_string()))
                .map(|s| s["organisation_name"].as_str().unwrap().to_string())
                .collect();
            for name in names {
                env = ok(self.sign_as(id, n, &name).await).await;
            }
        }
        panic!("the envelope did not complete: {env}");
    }
}

impl TestApp {
    /// Runs `samverkan audit verify` as an operator would, on the test's database.
    pub fn audit_verify(&self) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_samverkan"))
            .args([
                "--config",
                concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
                "audit",
                "verify",
            ])
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "error")
            .output()
            .expect("samverkan runs")
    }
}

impl TestApp {
    /// A research case on EX-HJARTA (CPUA Region Uppsala) that the company has moved to register
    /// contact. With `estimated`, its register holder has found the extraction feasible and estimated
    /// it at 10 000 kr, charged (seed 000, "Ersättning för datauttag för forskning"). Returns its id.
    pub async fn case_at_register_contact(&self, estimated: bool) -> String {
        let (id, _) = self.research_collaboration(&["EX-HJARTA"]).await;
        let company = self.token("company").await;
        ok(self
            .transition(&id, &company, json!({"to": "register_contact"}))
            .await)
        .await;
        if estimated {
            let register = self.register("EX-HJARTA").await;
            let holder = self.token("register-holder").await;
            ok(self
                .action(
                    &id,
                    &holder,
                    json!({"action": "record_feasibility", "register": register, "feasible": true,
                           "estimated_cost_ore": 1_000_000, "extraction_charged": true}),
                )
                .await)
            .await;
        }
        id
    }

    /// [`TestApp::case_at_register_contact`] with a written cost agreement recorded by Region
    /// Uppsala's finance officer: `reference`, signed on `signed_on`, 10 000 kr estimated at 950 kr
    /// an hour (seed 000, "Ersättning för datauttag för forskning"). Returns the case's id.
    pub async fn case_with_cost_agreement(
        &self,
        estimated: bool,
        reference: &str,
        signed_on: &str,
    ) -> String {
        let id = self.case_at_register_contact(estimated).await;
        let finance = self.token("finance").await;
        ok(self
            .action(
                &id,
                &finance,
                json!({"action": "record_cost_agreement", "reference": reference,
                       "signed_on": signed_on, "estimate_ore": 1_000_000,
                       "hourly_rate_ore": 95_000}),
            )
            .await)
        .await;
        id
    }
}
