//! The binary as an operator runs it: `samverkan reproject` rebuilds the list projections from the stored
//! state (reading a version-1 state through its upcast), and the binary serves from an empty folder with
//! its embedded configuration, rulebook and contract templates. Runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.
use chrono::TimeZone;
use diesel::prelude::*;
use samverkan::app::collaborations::{self, NewCollaborationInput};
use samverkan::config::Settings;
use samverkan::db::repo;
use samverkan::db::DbConn;
use std::process::Command;

struct TestDb {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    fn new() -> TestDb {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|s| !s.is_empty())
        {
            Some(base) => {
                let name = format!("samverkan_rp_{}", uuid::Uuid::new_v4().simple());
                let mut c = diesel::PgConnection::establish(&base).expect("PostgreSQL reachable");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut c)
                    .expect("create database");
                let mut u = url::Url::parse(&base).expect("URL");
                u.set_path(&format!("/{name}"));
                TestDb {
                    url: u.to_string(),
                    _dir: None,
                    pg: Some((base, name)),
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                TestDb {
                    url: format!("sqlite://{}/rp.db", dir.path().display()),
                    _dir: Some(dir),
                    pg: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.pg {
            if let Ok(mut c) = diesel::PgConnection::establish(base) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c);
            }
        }
    }
}

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
    let db = TestDb::new();
    let out = samverkan(&db, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let settings = Settings::defaults();
    let rulebooks = samverkan::startup::load_rulebooks(&settings).expect("rulebooks");
    let pool = samverkan::db::Db::connect(&db.url, 1).expect("connect");
    let mut conn = pool.pool.get().expect("connection");
    let now = chrono::Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap();
    samverkan::app::seed::seed_demo_accounts(&mut conn, now).expect("demo accounts");
    let actor = repo::account_by_username(&mut conn, "company")
        .expect("query")
        .expect("demo company account")
        .actor()
        .expect("actor");
    let register = repo::register_by_code(&mut conn, "EX-HJARTA")
        .expect("query")
        .expect("seeded register");
    let input: NewCollaborationInput = serde_json::from_value(serde_json::json!({
        "title": "Reprojection",
        "purpose": "P",
        "is_research": false,
        "registers": [register.id.to_string()],
        "data_kind": "aggregated",
        "intake": {"purpose": "statistics", "company_receives": "aggregated", "principal_receives": "nothing"}
    }))
    .expect("input");
    let view = collaborations::create(&mut conn, &rulebooks, &actor, input, now, now.date_naive())
        .expect("created");
    let id = view.collaboration["id"].as_str().expect("id").to_string();

    // Damage the projections and store the state in its version-1 shape (no state_version, one
    // feasibility object instead of a list).
    diesel::sql_query("DELETE FROM collaboration_registers")
        .execute(&mut conn)
        .expect("delete");
    diesel::sql_query("UPDATE collaborations SET step = 'closed'")
        .execute(&mut conn)
        .expect("update step");
    let mut v1 = view.collaboration.clone();
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
    let (c, _) = repo::load_collaboration(&mut conn, &cid)
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
    let db = TestDb::new();
    let empty = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
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
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ =
                s.write_all(b"GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                ready = true;
                break;
            }
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

/// A collaboration with its events and a signed checkpoint, made through the app as the server would.
fn made_data(db: &TestDb, key_dir: &std::path::Path) -> String {
    let key_env = [(
        "SAMVERKAN__AUDIT__DATA_DIR",
        key_dir.to_str().expect("path"),
    )];
    let out = samverkan_env(&db.url, &key_env, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let settings = Settings::defaults();
    let rulebooks = samverkan::startup::load_rulebooks(&settings).expect("rulebooks");
    let pool = samverkan::db::Db::connect(&db.url, 1).expect("connect");
    let mut conn = pool.pool.get().expect("connection");
    let now = chrono::Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap();
    samverkan::app::seed::seed_demo_accounts(&mut conn, now).expect("demo accounts");
    let actor = repo::account_by_username(&mut conn, "company")
        .expect("query")
        .expect("demo company account")
        .actor()
        .expect("actor");
    let register = repo::register_by_code(&mut conn, "EX-HJARTA")
        .expect("query")
        .expect("seeded register");
    let input: NewCollaborationInput = serde_json::from_value(serde_json::json!({
        "title": "Säkerhetskopia",
        "purpose": "P",
        "is_research": false,
        "registers": [register.id.to_string()],
        "data_kind": "aggregated",
        "intake": {"purpose": "statistics", "company_receives": "aggregated", "principal_receives": "nothing"}
    }))
    .expect("input");
    let view = collaborations::create(&mut conn, &rulebooks, &actor, input, now, now.date_naive())
        .expect("created");
    let out = samverkan_env(&db.url, &key_env, &["audit", "checkpoint"]);
    assert!(out.status.success(), "{}", text(&out));
    view.collaboration["id"].as_str().expect("id").to_string()
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
    let (c, _) = repo::load_collaboration(&mut conn, &cid)
        .expect("loads")
        .expect("the collaboration is in the copy");
    assert_eq!(c.title, "Säkerhetskopia");
}

#[test]
fn a_backup_restores_into_a_new_database_that_verifies_intact() {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|s| !s.is_empty()) {
        return a_postgres_dump_restores_into_a_new_database_that_verifies_intact();
    }
    let db = TestDb::new();
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
    let db = TestDb::new();
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
    let fresh = TestDb::new();
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &fresh.url])
        .arg(&dump)
        .output()
        .expect("pg_restore runs");
    assert!(out.status.success(), "{}", text(&out));
    restored_verifies(&fresh.url, keys.path(), &id);
}
