//! Issue 15, "Tests": two `samverkan serve` processes on one database issue invoices of the same
//! CPUA series at once, each with a rollback injected after it has taken its number (every k-th
//! issue fails: `SAMVERKAN_TEST_FAIL_EVERY_KTH_ISSUE`). The numbers are exactly 1..N: the series is a
//! row-locked counter in the issuing transaction (PostgreSQL `SELECT … FOR UPDATE`, SQLite's single
//! writer), so a rollback gives its number back and two issuers never share one.
#[path = "support/server.rs"]
mod server;
#[path = "support/test_db.rs"]
mod test_db;

use reqwest::StatusCode;
use samverkan::app::billing::FAULT_ENV;
use serde_json::{json, Value};
use server::Server;
use test_db::TestDb;

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.expect("the request is answered");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Value {
        let (s, v) = self.send(method, path, token, body).await;
        assert!(s.is_success(), "{path}: {s} {v}");
        v
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Value {
        self.ok(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        self.ok(reqwest::Method::GET, path, Some(token), None).await
    }

    async fn token(&self, account: &str) -> String {
        let v = self
            .ok(
                reqwest::Method::POST,
                "/api/v1/local/token",
                None,
                Some(&json!({"account": account})),
            )
            .await;
        v["token"].as_str().expect("a token").to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_issuing_at_once_with_rollbacks_number_exactly_one_to_n() {
    const N: usize = 12;
    let db = TestDb::create();
    let dir = tempfile::tempdir().expect("temp dir");
    // The first migrates and seeds; the second starts on the prepared database.
    let mut a = Server::start(&db.url, dir.path(), "a", &[(FAULT_ENV, "3")]);
    a.wait_ready();
    let mut b = Server::start(&db.url, dir.path(), "b", &[(FAULT_ENV, "4")]);
    b.wait_ready();
    let http = reqwest::Client::new();
    let api_a = Api {
        http: http.clone(),
        base: a.base.clone(),
    };
    let api_b = Api {
        http,
        base: b.base.clone(),
    };

    // A case with a cost agreement, N approved lines and N drafts, one line each.
    let company = api_a.token("company").await;
    let holder = api_a.token("register-holder").await;
    let finance = api_a.token("finance").await;
    let admin = api_a.token("admin").await;
    let regs = api_a.get("/api/v1/registers?per_page=200", &admin).await;
    let reg = regs["items"]
        .as_array()
        .expect("registers")
        .iter()
        .find(|r| r["code"] == "EX-HJARTA")
        .expect("EX-HJARTA")["id"]
        .clone();
    let orgs = api_a
        .get("/api/v1/organisations?per_page=200", &admin)
        .await;
    let principal = orgs["items"]
        .as_array()
        .expect("organisations")
        .iter()
        .find(|o| o["name"] == "Exempeluniversitetet")
        .expect("the university")["id"]
        .clone();
    let created = api_a
        .post(
            "/api/v1/collaborations",
            &company,
            &json!({
                "title": "Långtidsutfall efter hjärtinfarkt",
                "purpose": "Att jämföra långtidsutfall mellan behandlingsstrategier.",
                "research_question": "Skiljer sig femårsöverlevnaden mellan strategierna?",
                "research_principal": principal,
                "registers": [reg],
                "requested_variables": ["alder", "kon", "diagnosdatum", "behandling"],
                "data_kind": "pseudonymised",
                "intake": {
                    "purpose": "research", "company_receives": "aggregated", "principal_receives": "pseudonymised",
                    "analysis_by": "principal", "sector": "pharma", "external_processor": false,
                    "identity_numbers_requested": false, "effort_beyond_routine": false, "key_retention_months": 3
                },
            }),
        )
        .await;
    let id = created["collaboration"]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    api_a
        .post(
            &format!("/api/v1/collaborations/{id}/transitions"),
            &company,
            &json!({"to": "register_contact"}),
        )
        .await;
    api_a
        .post(
            &format!("/api/v1/collaborations/{id}/actions"),
            &finance,
            &json!({"action": "record_cost_agreement", "reference": "KOST-9", "signed_on": "2026-09-01",
                    "estimate_ore": 100_000_000, "hourly_rate_ore": 95_000}),
        )
        .await;
    let mut drafts = Vec::new();
    for i in 0..N {
        let l = api_a
            .post(
                &format!("/api/v1/collaborations/{id}/work-log"),
                &holder,
                &json!({"person_name": "Eva Lind", "worked_on": "2026-09-01",
                        "activity": format!("Uttag {i}"), "kind": "hours", "hours_hundredths": 100}),
            )
            .await;
        let line = l["line"]["id"].as_str().expect("a line").to_string();
        api_a
            .post(
                &format!("/api/v1/collaborations/{id}/work-log/{line}/approve"),
                &finance,
                &json!({}),
            )
            .await;
        let d = api_a
            .post(
                "/api/v1/invoices",
                &finance,
                &json!({"collaboration": id, "buyer_reference": "Åsa Öberg",
                        "buyer_street": "Industrigatan 4", "buyer_postal_code": "112 46", "buyer_city": "Stockholm",
                        "seller_street": "Dag Hammarskjölds väg 38", "seller_postal_code": "751 85",
                        "seller_city": "Uppsala", "bankgiro": "5050-1055"}),
            )
            .await;
        drafts.push(d["id"].as_str().expect("a draft").to_string());
    }

    // Every draft issued through both servers at once; an injected failure (503) is retried.
    let mut tasks = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        let api = if i % 2 == 0 {
            api_a.clone()
        } else {
            api_b.clone()
        };
        let other = if i % 2 == 0 {
            api_b.clone()
        } else {
            api_a.clone()
        };
        let (d, finance) = (d.clone(), finance.clone());
        tasks.push(tokio::spawn(async move {
            let mut failures = 0;
            for attempt in 0..40 {
                let via = if attempt % 2 == 0 { &api } else { &other };
                let (s, v) = via
                    .send(
                        reqwest::Method::POST,
                        &format!("/api/v1/invoices/{d}/issue"),
                        Some(&finance),
                        Some(&json!({})),
                    )
                    .await;
                match s {
                    StatusCode::OK => {
                        return (
                            v["number"].as_str().expect("a number").to_string(),
                            failures,
                        )
                    }
                    StatusCode::SERVICE_UNAVAILABLE | StatusCode::CONFLICT => failures += 1,
                    other => panic!("issue {d}: {other} {v}"),
                }
                let (_, now) = via
                    .send(
                        reqwest::Method::GET,
                        &format!("/api/v1/invoices/{d}"),
                        Some(&finance),
                        None,
                    )
                    .await;
                if now["status"] == "issued" {
                    return (
                        now["number"].as_str().expect("a number").to_string(),
                        failures,
                    );
                }
            }
            panic!("{d} was never issued");
        }));
    }
    let mut numbers = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (n, f) = t.await.expect("the task ran");
        numbers.push(n);
        failures += f;
    }
    eprintln!(
        "{N} invoices through two servers, {failures} injected or lost attempts: {numbers:?}"
    );
    assert!(failures >= 2, "rollbacks were injected: {failures}");
    let mut seq: Vec<u64> = numbers
        .iter()
        .map(|n| {
            n.rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .expect("NNNN-NNNNNN")
        })
        .collect();
    seq.sort();
    assert_eq!(seq, (1..=N as u64).collect::<Vec<_>>(), "{numbers:?}");
    // And the database holds exactly those N issued invoices, each with its three files.
    let listed = api_b.get("/api/v1/invoices?status=issued", &finance).await;
    let listed = listed["items"].as_array().expect("a page");
    assert_eq!(listed.len(), N);
    assert!(listed
        .iter()
        .all(|i| i["files"].as_array().map(Vec::len) == Some(3)));
    drop(a);
    drop(b);
}
