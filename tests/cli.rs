//! The binary as an operator runs it: `samverkan reproject` rebuilds the list projections from the stored
//! state (reading a version-1 state through its upcast), and the binary serves from an empty folder with
//! its embedded configuration, rulebook and contract templates. Runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set. Two `samverkan serve` processes share one database and take concurrent
//! writes from both.
#[path = "support/server.rs"]
mod server;
#[path = "support/test_db.rs"]
mod test_db;
use chrono::TimeZone;
use diesel::prelude::*;
use samverkan::app::collaborations::{self, NewCollaborationInput};
use samverkan::config::Settings;
use samverkan::db::repo;
use samverkan::db::DbConn;
use server::Server;
use std::process::Command;
use test_db::TestDb;

fn samverkan(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_samverkan"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run samverkan")
}

fn count(conn: &mut DbConn, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<N>(conn)
        .expect("count")
        .n
}

#[test]
fn reproject_rebuilds_projections_from_state_and_reads_version_1_state() {
    let db = TestDb::create();
    let out = samverkan(&db, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let pool = samverkan::db::Db::connect(&db.url, 1).expect("connect");
    let mut conn = pool.pool.get().expect("connection");
    let created = create_statistics_collaboration(&mut conn, "Reprojection");
    let id = created["id"].as_str().expect("id").to_string();

    // Damage the projections and store the state in its version-1 shape (no state_version, one
    // feasibility object instead of a list).
    diesel::sql_query("DELETE FROM collaboration_registers")
        .execute(&mut conn)
        .expect("delete");
    diesel::sql_query("UPDATE collaborations SET step = 'closed'")
        .execute(&mut conn)
        .expect("update step");
    let mut v1 = created.clone();
    let o = v1.as_object_mut().expect("object");
    for k in [
        "state_version",
        "linkage_reviews",
        "evidence",
        "passed_warnings",
    ] {
        o.remove(k);
    }
    o.insert("feasibility".into(), serde_json::Value::Null);
    diesel::sql_query(format!(
        "UPDATE collaborations SET state = '{}' WHERE id = '{id}'",
        serde_json::to_string(&v1)
            .expect("json")
            .replace('\'', "''")
    ))
    .execute(&mut conn)
    .expect("store v1 state");
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM collaboration_registers"
        ),
        0
    );

    let out = samverkan(&db, &["reproject"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 collaborations reprojected"));
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM collaboration_registers"
        ),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM collaborations WHERE step = 'preparation'"
        ),
        1
    );
    // The version-1 state reads through its upcast.
    let cid = samverkan::domain::ids::CollaborationId::parse(&id).expect("id");
    let (c, _) = repo::load_collaboration(
        &mut conn,
        &samverkan::rulebook::load_embedded().expect("rulebooks"),
        &cid,
    )
    .expect("loads")
    .expect("exists");
    assert_eq!(
        c.state_version,
        samverkan::domain::collaboration::STATE_VERSION
    );
    assert!(c.feasibility.is_empty());
}

#[test]
fn the_binary_serves_from_an_empty_folder_with_its_embedded_defaults() {
    let db = TestDb::create();
    let empty = tempfile::tempdir().expect("temp dir");
    let port = server::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_samverkan"))
        .current_dir(empty.path())
        .env("DATABASE_URL", &db.url)
        .env("SAMVERKAN_ADDR", format!("127.0.0.1:{port}"))
        .env_remove("SAMVERKAN_CONFIG_DIR")
        .env_remove("SAMVERKAN_TEMPLATES_DIR")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start samverkan");
    let mut ready = false;
    for _ in 0..100 {
        if server::answers_ready(port) {
            ready = true;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("samverkan stopped ({status}): {err}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready, "samverkan did not become ready from an empty folder");
    assert_eq!(
        std::fs::read_dir(empty.path()).expect("read").count(),
        0,
        "nothing written to the working folder"
    );
}

fn samverkan_env(db_url: &str, envs: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_samverkan"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "error");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run samverkan")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Seeds the demo accounts and creates, as the demo company, a statistics collaboration on the example
/// heart register through the application layer; the collaboration as its view shows it.
fn create_statistics_collaboration(conn: &mut DbConn, title: &str) -> serde_json::Value {
    let settings = Settings::defaults();
    let rulebooks = samverkan::startup::load_rulebooks(&settings).expect("rulebooks");
    let now = chrono::Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap();
    samverkan::app::seed::seed_demo_accounts(conn, now).expect("demo accounts");
    let actor = samverkan::db::identity::first_actor_by_username(conn, "company")
        .expect("query")
        .expect("demo company account");
    let register = repo::register_by_code(conn, "EX-HJARTA")
        .expect("query")
        .expect("seeded register");
    let input: NewCollaborationInput = serde_json::from_value(serde_json::json!({
        "title": title,
        "purpose": "P",
        "is_research": false,
        "registers": [register.id.to_string()],
        "data_kind": "aggregated",
        "intake": {"purpose": "statistics", "company_receives": "aggregated", "principal_receives": "nothing"}
    }))
    .expect("input");
    let view = collaborations::create(conn, &rulebooks, &actor, input, now, now.date_naive())
        .expect("created");
    view.collaboration
}

/// A collaboration with its events and a signed checkpoint, made through the app as the server would.
fn made_data(db: &TestDb, key_dir: &std::path::Path) -> String {
    let key_env = [(
        "SAMVERKAN__AUDIT__DATA_DIR",
        key_dir.to_str().expect("path"),
    )];
    let out = samverkan_env(&db.url, &key_env, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let pool = samverkan::db::Db::connect(&db.url, 1).expect("connect");
    let mut conn = pool.pool.get().expect("connection");
    let created = create_statistics_collaboration(&mut conn, "Säkerhetskopia");
    let id = created["id"].as_str().expect("id").to_string();
    let out = samverkan_env(&db.url, &key_env, &["audit", "checkpoint"]);
    assert!(out.status.success(), "{}", text(&out));
    id
}

/// The restored copy verifies intact with the original key and serves the data.
fn restored_verifies(url: &str, key_dir: &std::path::Path, id: &str) {
    let key_env = [(
        "SAMVERKAN__AUDIT__DATA_DIR",
        key_dir.to_str().expect("path"),
    )];
    let out = samverkan_env(url, &key_env, &["audit", "verify"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("every chain is intact"), "{t}");
    assert!(!t.contains(" 0 with a signed checkpoint"), "{t}");
    let pool = samverkan::db::Db::connect(url, 1).expect("connect to the copy");
    let mut conn = pool.pool.get().expect("connection");
    let cid = samverkan::domain::ids::CollaborationId::parse(id).expect("id");
    let (c, _) = repo::load_collaboration(
        &mut conn,
        &samverkan::rulebook::load_embedded().expect("rulebooks"),
        &cid,
    )
    .expect("loads")
    .expect("the collaboration is in the copy");
    assert_eq!(c.title, "Säkerhetskopia");
}

#[test]
fn a_backup_restores_into_a_new_database_that_verifies_intact() {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|s| !s.is_empty()) {
        return a_postgres_dump_restores_into_a_new_database_that_verifies_intact();
    }
    let db = TestDb::create();
    let keys = tempfile::tempdir().expect("temp dir");
    let id = made_data(&db, keys.path());
    let backups = tempfile::tempdir().expect("temp dir");
    let copy = backups.path().join("copy.db");
    let out = samverkan_env(&db.url, &[], &["backup", copy.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out));
    // A second backup to the same file is refused, never overwritten.
    let out = samverkan_env(&db.url, &[], &["backup", copy.to_str().expect("path")]);
    assert!(!out.status.success());
    assert!(text(&out).contains("exists already"), "{}", text(&out));
    restored_verifies(&format!("sqlite://{}", copy.display()), keys.path(), &id);
}

/// PostgreSQL: `samverkan backup` names the tools; pg_dump into a file and pg_restore into an empty
/// database give a copy that verifies intact.
fn a_postgres_dump_restores_into_a_new_database_that_verifies_intact() {
    for tool in ["pg_dump", "pg_restore"] {
        let found = Command::new(tool).arg("--version").output().is_ok();
        assert!(
            found,
            "{tool} must be on PATH for the PostgreSQL backup test"
        );
    }
    let db = TestDb::create();
    let keys = tempfile::tempdir().expect("temp dir");
    let id = made_data(&db, keys.path());
    let dump = keys.path().join("samverkan.dump");
    let out = samverkan_env(&db.url, &[], &["backup", dump.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("pg_dump --format=custom"),
        "{}",
        text(&out)
    );
    let out = Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&db.url)
        .output()
        .expect("pg_dump runs");
    assert!(out.status.success(), "{}", text(&out));
    let fresh = TestDb::create();
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &fresh.url])
        .arg(&dump)
        .output()
        .expect("pg_restore runs");
    assert!(out.status.success(), "{}", text(&out));
    restored_verifies(&fresh.url, keys.path(), &id);
}

/// A client of one server: tokens are rows in the shared database, valid on both.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn token(&self, account: &str) -> String {
        let v = self
            .ok(self
                .http
                .post(format!("{}/api/v1/local/token", self.base))
                .json(&serde_json::json!({ "account": account })))
            .await;
        v["token"].as_str().expect("token").to_string()
    }

    /// Sends and returns the status and the JSON body.
    async fn call(&self, req: reqwest::RequestBuilder) -> (reqwest::StatusCode, serde_json::Value) {
        let r = req.send().await.expect("the server answers");
        let status = r.status();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    async fn ok(&self, req: reqwest::RequestBuilder) -> serde_json::Value {
        let (status, v) = self.call(req).await;
        assert!(status.is_success(), "{status}: {v}");
        v
    }

    fn post(&self, path: &str, token: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
    }

    fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    /// The id of the item of a list at `path` whose `key` is `value`.
    async fn id_of(&self, path: &str, key: &str, value: &str) -> String {
        let admin = self.token("admin").await;
        let v = self.ok(self.get(path, &admin)).await;
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|o| o[key] == value)
            .unwrap_or_else(|| panic!("{value} in {path}"))["id"]
            .as_str()
            .expect("id")
            .to_string()
    }
}

fn person(name: &str, title: &str) -> serde_json::Value {
    serde_json::json!({"name": name, "title": title,
        "email": format!("{}@example.se", name.split(' ').next().unwrap_or(name).to_lowercase())})
}

/// Complete agreement terms for the three parties (as `tests/api/agreements.rs::full_terms`), with
/// dates from today, since the servers run on the real clock.
fn agreement_terms(
    uppsala: &str,
    university: &str,
    company: &str,
    today: chrono::NaiveDate,
) -> serde_json::Value {
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    serde_json::json!({
        "background": "Hjärtinfarkt är en vanlig dödsorsak; långtidsutfallen efter olika strategier är ofullständigt kända.",
        "research_plan_summary": "Registerbaserad kohortstudie 2015–2025 med propensity score-matchning.",
        "goals": ["Jämföra femårsöverlevnad mellan strategierna.", "Publicera i en referentgranskad tidskrift."],
        "deliverables": [
            {"what": "Pseudonymiserat datauttag", "due": day(60), "by": "Uppsala Clinical Research Center"},
            {"what": "Slutrapport till registret", "due": day(365), "by": "Exempeluniversitetet"}
        ],
        "parties": [
            {"organisation": uppsala, "address": "Box 602, 751 25 Uppsala",
             "contact": person("Lars Jurist", "Registerjurist"), "signatory": person("Maria Direktör", "Hälso- och sjukvårdsdirektör")},
            {"organisation": university, "address": "Box 256, 751 05 Uppsala",
             "contact": person("Per Forskare", "Projektledare"), "signatory": person("Eva Prefekt", "Prefekt")},
            {"organisation": company, "address": "Vasagatan 10, 111 20 Stockholm",
             "contact": person("Karin Företagsson", "Medical Affairs"), "signatory": person("Olof Vd", "VD")}
        ],
        "variable_descriptions": {"alder": "Ålder, år", "kon": "Kön", "diagnosdatum": "Datum för diagnos", "behandling": "Behandlingsstrategi"},
        "period_from": "2015-01-01",
        "period_to": "2025-12-31",
        "transfer_method": "Krypterad filöverföring",
        "encryption": "AES-256",
        "password_sent_separately": true,
        "data_protection": {"storage": "Universitetets säkra server för känsliga personuppgifter.", "access": ["Per Forskare", "En biostatistiker"]},
        "publication": {"acknowledgement": "Författarna tackar Exempelregistret för hjärtintensivvård.", "review_days": 30},
        "report_back": "Resultaten återrapporteras till registrets styrgrupp.",
        "costs": {"estimate": 11_400_000, "hourly_rate": 95_000, "hours": 120, "expenses": [],
                  "invoicing_schedule": "Vid leverans av datauttaget.", "vat_rate_bp": 2500, "payment_terms_days": 30, "payer": "company"},
        "term": {"start": day(14), "end": day(400), "notice_days": 90},
        "archiving": {"delete_within_days": 30, "confirmed_by": "Forskningshuvudmannens projektledare"},
        "disputes": {"venue": "Uppsala tingsrätt"},
        "product": {"name": "Exempelmab", "authorisation": "EU/1/26/0001"}
    })
}

/// Issue 9, item 1: two `samverkan serve` processes started together on one database (PostgreSQL when
/// `TEST_DATABASE_URL` is set, else one SQLite file). From both at once: collaborations created,
/// internal notes without If-Match on one collaboration, agreement versions drawn on one collaboration.
/// Every request succeeds, references and version numbers are unique and gapless, and
/// `samverkan audit verify` finds every chain intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_on_one_database_take_concurrent_writes_from_both() {
    use std::collections::BTreeSet;
    let db = TestDb::create();
    let data = tempfile::tempdir().expect("temp dir");
    // Both start at the same moment: migrations and seeding must not collide.
    let mut a = Server::start(&db.url, data.path(), "a", &[]);
    let mut b = Server::start(&db.url, data.path(), "b", &[]);
    tokio::task::block_in_place(|| {
        a.wait_ready();
        b.wait_ready();
    });
    let http = reqwest::Client::new();
    let (api_a, api_b) = (
        Api {
            http: http.clone(),
            base: a.base.clone(),
        },
        Api {
            http,
            base: b.base.clone(),
        },
    );
    let both = [&api_a, &api_b];
    let today = chrono::Utc::now().date_naive();

    let register = api_a
        .id_of("/api/v1/registers?per_page=200", "code", "EX-HJARTA")
        .await;
    let orgs = "/api/v1/organisations?per_page=200";
    let principal = api_a.id_of(orgs, "name", "Exempeluniversitetet").await;
    let uppsala = api_b.id_of(orgs, "name", "Region Uppsala").await;
    let company_org = api_b.id_of(orgs, "name", "Exempel Läkemedel AB").await;
    let company = api_a.token("company").await;
    let legal = api_b.token("legal").await;
    let holder = api_a.token("register-holder").await;

    // Creates from both servers at once.
    const CREATES: usize = 12;
    let body = serde_json::json!({
        "title": "Långtidsutfall efter hjärtinfarkt",
        "purpose": "Att jämföra långtidsutfall mellan behandlingsstrategier.",
        "research_question": "Skiljer sig femårsöverlevnaden mellan strategierna?",
        "research_principal": principal,
        "registers": [register],
        "requested_variables": ["alder", "kon", "diagnosdatum", "behandling"],
        "data_kind": "pseudonymised",
        "intake": {
            "purpose": "research", "company_receives": "aggregated", "principal_receives": "pseudonymised",
            "analysis_by": "principal", "sector": "pharma", "external_processor": false,
            "identity_numbers_requested": false, "effort_beyond_routine": false, "key_retention_months": 3
        },
    });
    let creates = (0..CREATES).map(|i| {
        let api = both[i % 2];
        api.call(api.post("/api/v1/collaborations", &company, &body))
    });
    let mut refs = Vec::new();
    let mut ids = Vec::new();
    for (status, v) in futures_util::future::join_all(creates).await {
        assert_eq!(status, reqwest::StatusCode::CREATED, "{v}");
        refs.push(
            v["collaboration"]["reference"]
                .as_str()
                .expect("reference")
                .to_string(),
        );
        ids.push(v["collaboration"]["id"].as_str().expect("id").to_string());
    }
    let numbers: BTreeSet<u32> = refs
        .iter()
        .map(|r| {
            r.rsplit('-')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("a numbered reference: {r}"))
        })
        .collect();
    assert_eq!(numbers.len(), CREATES, "unique references: {refs:?}");
    assert_eq!(
        numbers,
        (1..=CREATES as u32).collect::<BTreeSet<_>>(),
        "gapless references: {refs:?}"
    );

    // Internal notes on one collaboration, without If-Match, from both servers at once.
    const NOTES: usize = 20;
    let id = ids[0].clone();
    let actions = format!("/api/v1/collaborations/{id}/actions");
    let notes = (0..NOTES).map(|i| {
        let api = both[i % 2];
        let body =
            serde_json::json!({"action": "add_internal_note", "text": format!("anteckning {i}")});
        api.call(api.post(&actions, &legal, &body))
    });
    for (status, v) in futures_util::future::join_all(notes).await {
        assert_eq!(status, reqwest::StatusCode::OK, "every note lands: {v}");
    }
    let v = api_a
        .ok(api_a.get(&format!("/api/v1/collaborations/{id}"), &legal))
        .await;
    let texts: BTreeSet<String> = v["collaboration"]["internal_notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        texts,
        (0..NOTES).map(|i| format!("anteckning {i}")).collect(),
        "each note stored once"
    );

    // Bring the collaboration to the agreement step: register contact, feasibility, ethics approval,
    // a complete application to Region Uppsala.
    let transitions = format!("/api/v1/collaborations/{id}/transitions");
    api_a
        .ok(api_a.post(
            &transitions,
            &company,
            &serde_json::json!({"to": "register_contact"}),
        ))
        .await;
    api_b
        .ok(api_b.post(
            &actions,
            &holder,
            &serde_json::json!({"action": "record_feasibility", "register": register, "feasible": true}),
        ))
        .await;
    api_a
        .ok(api_a.post(
            &actions,
            &company,
            &serde_json::json!({"action": "record_ethics_approval", "reference": "2026-01234-01",
                                "decided_on": (today - chrono::Duration::days(10)).to_string()}),
        ))
        .await;
    api_b
        .ok(api_b.post(
            &transitions,
            &company,
            &serde_json::json!({"to": "data_application", "cpua": uppsala, "dossier": {
                "recipient_principal": "Exempeluniversitetet",
                "project_description": "Kohortstudie av långtidsutfall, se forskningsplan v2.",
                "ethics_documents": "Ansökan och beslut 2026-01234-01",
                "requested_data": ["alder", "kon", "diagnosdatum", "behandling"],
                "access_and_storage": "Två namngivna forskare; krypterad server hos huvudmannen."
            }}),
        ))
        .await;

    // Agreement versions drawn from both servers at once.
    const VERSIONS: usize = 10;
    let terms = serde_json::json!({
        "terms": agreement_terms(&uppsala, &principal, &company_org, today)
    });
    let agreements = format!("/api/v1/collaborations/{id}/agreements");
    let drafts = (0..VERSIONS).map(|i| {
        let api = both[i % 2];
        api.call(api.post(&agreements, &company, &terms))
    });
    let mut versions = BTreeSet::new();
    for (status, v) in futures_util::future::join_all(drafts).await {
        assert!(status.is_success(), "every version is drawn: {status} {v}");
        versions.insert(v["number"].as_i64().expect("a version number"));
    }
    assert_eq!(
        versions,
        (1..=VERSIONS as i64).collect::<BTreeSet<_>>(),
        "unique, gapless version numbers"
    );

    // Both servers still serve; then the trail verifies with the CLI.
    for api in both {
        api.ok(api.get(&format!("/api/v1/collaborations/{id}"), &company))
            .await;
    }
    let dir = data.path().to_str().expect("path").to_string();
    let out = tokio::task::block_in_place(|| {
        samverkan_env(
            &db.url,
            &[("SAMVERKAN__AUDIT__DATA_DIR", dir.as_str())],
            &["audit", "verify"],
        )
    });
    let t = text(&out);
    assert!(out.status.success(), "{t}\n{}\n{}", a.log(), b.log());
    assert!(t.contains("every chain is intact"), "{t}");
    drop(a);
    drop(b);
}
