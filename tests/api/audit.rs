//! The audit trail: append-only in the database, hash-chained, and tampering is found.
use diesel::{Connection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ok, TestApp};

fn raw_sql(app: &TestApp, statements: &[&str]) -> Result<(), String> {
    let url = &app.database_url;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let mut c = diesel::SqliteConnection::establish(path).map_err(|e| e.to_string())?;
        for s in statements {
            diesel::sql_query(*s)
                .execute(&mut c)
                .map_err(|e| e.to_string())?;
        }
    } else {
        let mut c = diesel::PgConnection::establish(url).map_err(|e| e.to_string())?;
        for s in statements {
            diesel::sql_query(*s)
                .execute(&mut c)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_database_refuses_to_change_or_delete_an_event() {
    let app = TestApp::spawn().await;
    app.research_collaboration(&["EX-HJARTA"]).await;
    let e = raw_sql(&app, &["UPDATE audit_events SET actor_name = 'Mallory'"]).unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    let e = raw_sql(&app, &["DELETE FROM audit_events"]).unwrap_err();
    assert!(e.contains("append-only"), "{e}");
}

#[tokio::test]
async fn a_hand_edited_event_is_reported_by_the_api_and_by_audit_verify() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    ok(app
        .patch(
            &format!("/api/v1/collaborations/{id}"),
            &company,
            &json!({"title": "Ny titel"}),
        )
        .await)
    .await;
    let audit = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &company)
        .await)
    .await;
    assert_eq!(audit["verification"]["intact"], true);
    assert_eq!(audit["events"].as_array().unwrap().len(), 3);

    let bin = env!("CARGO_BIN_EXE_samverkan");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config");
    let verify = || {
        std::process::Command::new(bin)
            .args(["--config", config, "audit", "verify"])
            .env("DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "error")
            .output()
            .expect("samverkan runs")
    };
    let out = verify();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("every chain is intact"));

    // Someone with database access disables the guard and rewrites the second event.
    let stream = format!("collaboration:{id}");
    let drop_guard: &[&str] = if app.is_postgres() {
        &["ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"]
    } else {
        &["DROP TRIGGER audit_events_no_update"]
    };
    raw_sql(&app, drop_guard).unwrap();
    let forge = format!(
        "UPDATE audit_events SET actor_name = 'Someone Else' WHERE stream = '{stream}' AND seq = 2"
    );
    raw_sql(&app, &[forge.as_str()]).unwrap();

    let audit = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &company)
        .await)
    .await;
    assert_eq!(audit["verification"]["intact"], false);
    assert_eq!(audit["verification"]["first_broken_link"]["seq"], 2);
    let out = verify();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("BROKEN  {stream}  event 2")),
        "{stdout}"
    );
}

#[tokio::test]
async fn events_name_actor_organisation_time_command_and_what_changed() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .patch(
            &format!("/api/v1/collaborations/{id}"),
            &company,
            &json!({"title": "Ändrad"}),
        )
        .await)
    .await;
    let r = app
        .get(&format!("/api/v1/collaborations/{id}/events"), &company)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let events: serde_json::Value = r.json().await.unwrap();
    let e = &events[1];
    assert_eq!(e["command"], "update_details");
    assert_eq!(e["actor_name"], "Karin Företagsson");
    assert_eq!(e["actor_role"], "company_representative");
    assert_eq!(e["actor_org"], app.org("Exempel Läkemedel AB").await);
    // What the event changed, as a JSON patch: the title, and nothing else the caller set.
    let change = e["change"].as_array().unwrap();
    assert!(
        change.contains(&json!({"op": "replace", "path": "/title", "value": "Ändrad"})),
        "{change:?}"
    );
    assert_eq!(e["schema_version"], 3);
    assert_eq!(events[0]["change"][0]["op"], "add");
    assert_eq!(events[0]["change"][0]["path"], "");
    assert_eq!(
        events[0]["change"][0]["value"]["title"],
        "Långtidsutfall efter hjärtinfarkt"
    );
    assert!(e["state_hash"].as_str().is_some_and(|h| h.len() == 64));
    assert_eq!(e["prev_hash"], events[0]["hash"]);
    assert_eq!(e["occurred_at"], "2026-09-01T09:00:00Z");
}

/// A collaboration taken through a few steps with one agreement version, on an app whose signing key
/// lives in `dir` (set for PostgreSQL too, which has no default folder for it).
async fn walked(dir: &std::path::Path) -> (TestApp, String) {
    let data_dir = dir.display().to_string();
    let app = TestApp::spawn_with(move |s| s.audit.data_dir = data_dir).await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    ok(app
        .transition(&id, &company, json!({"to": "register_contact"}))
        .await)
    .await;
    ok(app
        .patch(
            &format!("/api/v1/collaborations/{id}"),
            &company,
            &json!({"title": "Ny titel"}),
        )
        .await)
    .await;
    ok(app
        .action(
            &id,
            &company,
            json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "2026-08-20"}),
        )
        .await)
    .await;
    let terms = crate::agreements::full_terms(&app).await;
    ok(app
        .post(
            &format!("/api/v1/collaborations/{id}/agreements"),
            &company,
            &json!({ "terms": terms }),
        )
        .await)
    .await;
    (app, id)
}

/// Runs the binary as an operator would, on the test's database and signing key.
fn cli(app: &TestApp, dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_samverkan"))
        .args(["--config", concat!(env!("CARGO_MANIFEST_DIR"), "/config")])
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("SAMVERKAN__AUDIT__DATA_DIR", dir)
        .env("RUST_LOG", "error")
        .output()
        .expect("samverkan runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Lifts the database's append-only guards, as someone with database access can.
fn lift_guards(app: &TestApp) {
    let sql: &[&str] = if app.is_postgres() {
        &[
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
            "ALTER TABLE agreement_versions DISABLE TRIGGER agreement_versions_no_update",
            "ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_no_update",
        ]
    } else {
        &[
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
            "DROP TRIGGER agreement_versions_no_update",
            "DROP TRIGGER audit_checkpoints_no_delete",
        ]
    };
    raw_sql(app, sql).unwrap();
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Edits event `seq` of `stream` and recomputes its hash and every later one, so the chain holds
/// together again: what only a checkpoint taken before can reveal.
fn rewrite_chain(app: &TestApp, stream: &str, seq: i64) {
    let db = samverkan::db::Db::connect(&app.database_url, 1).unwrap();
    let mut conn = db.pool.get().unwrap();
    let mut events = samverkan::db::repo::stream_events(&mut conn, stream).unwrap();
    let mut updates = Vec::new();
    let mut prev: Option<String> = None;
    for e in events.iter_mut() {
        if let Some(p) = &prev {
            e.prev_hash = p.clone();
        }
        if e.seq == seq {
            e.actor_name = "Someone Else".into();
        }
        if e.seq >= seq {
            e.hash = e.compute_hash();
            updates.push(format!(
                "UPDATE audit_events SET actor_name = {}, prev_hash = {}, hash = {} WHERE stream = {} AND seq = {}",
                quote(&e.actor_name),
                quote(&e.prev_hash),
                quote(&e.hash),
                quote(stream),
                e.seq
            ));
        }
        prev = Some(e.hash.clone());
    }
    assert!(samverkan::domain::audit::verify_chain(&events).is_ok());
    let refs: Vec<&str> = updates.iter().map(String::as_str).collect();
    raw_sql(app, &refs).unwrap();
}

/// The packed change (`audit_events.change_z`) of event `seq` of `stream`.
fn packed_change(app: &TestApp, stream: &str, seq: i64) -> Vec<u8> {
    use diesel::prelude::*;
    use samverkan::db::schema::audit_events as ae;
    let db = samverkan::db::Db::connect(&app.database_url, 1).unwrap();
    let mut conn = db.pool.get().unwrap();
    ae::table
        .filter(ae::stream.eq(stream))
        .filter(ae::seq.eq(seq))
        .select(ae::change_z)
        .first::<Option<Vec<u8>>>(&mut conn)
        .unwrap()
        .expect("a version-3 event stores its change packed")
}

/// The statement that stores `bytes` as the packed change of event `seq` of `stream`.
fn set_packed_change(app: &TestApp, stream: &str, seq: i64, bytes: &[u8]) -> String {
    let hex = hex::encode(bytes);
    let literal = if app.is_postgres() {
        format!("'\\x{hex}'::bytea")
    } else {
        format!("X'{hex}'")
    };
    format!(
        "UPDATE audit_events SET change_z = {literal} WHERE stream = {} AND seq = {seq}",
        quote(stream)
    )
}

fn event_count(app: &TestApp, stream: &str) -> i64 {
    let db = samverkan::db::Db::connect(&app.database_url, 1).unwrap();
    let mut conn = db.pool.get().unwrap();
    samverkan::db::repo::stream_events(&mut conn, stream)
        .unwrap()
        .len() as i64
}

/// The five kinds of tampering of issue 9, each after a checkpoint: `audit verify` names each one
/// with its stream, event and check; before any tampering everything verifies.
#[tokio::test]
async fn every_kind_of_tampering_is_found_by_audit_verify_given_a_checkpoint_taken_before() {
    let dir = tempfile::tempdir().unwrap();
    let (app, id) = walked(dir.path()).await;
    let stream = format!("collaboration:{id}");
    let n = event_count(&app, &stream);
    assert!(n >= 5, "created, transition, edit, ethics, agreement: {n}");
    let (ok_, text) = cli(&app, dir.path(), &["audit", "checkpoint"]);
    assert!(ok_, "{text}");
    let (ok_, text) = cli(&app, dir.path(), &["audit", "verify"]);
    assert!(ok_, "the clean case verifies: {text}");
    assert!(text.contains("every chain is intact"), "{text}");
    lift_guards(&app);

    // (1) An edited event: its stored (packed) change says something else.
    let packed = packed_change(&app, &stream, 2);
    let text = samverkan::db::packed::unpack(&packed).unwrap();
    assert!(text.contains("register_contact"), "{text}");
    let forged = samverkan::db::packed::pack(&text.replace("register_contact", "agreement"));
    raw_sql(
        &app,
        &[set_packed_change(&app, &stream, 2, &forged).as_str()],
    )
    .unwrap();
    let (ok_, text) = cli(&app, dir.path(), &["audit", "verify"]);
    eprintln!("{text}");
    assert!(!ok_);
    assert!(
        text.contains(&format!("BROKEN  {stream}  event 2  [chain]")),
        "{text}"
    );
    // Put it back for the next case.
    raw_sql(
        &app,
        &[set_packed_change(&app, &stream, 2, &packed).as_str()],
    )
    .unwrap();
    assert!(cli(&app, dir.path(), &["audit", "verify"]).0, "restored");

    // (4) An edited state row: the forged state would be served.
    let state: String = {
        let db = samverkan::db::Db::connect(&app.database_url, 1).unwrap();
        let mut conn = db.pool.get().unwrap();
        samverkan::db::repo::collaboration_state(&mut conn, &id)
            .unwrap()
            .unwrap()
    };
    raw_sql(
        &app,
        &[format!(
            "UPDATE collaborations SET state = {} WHERE id = {}",
            quote(&state.replace("Ny titel", "Förfalskad")),
            quote(&id)
        )
        .as_str()],
    )
    .unwrap();
    let (ok_, text) = cli(&app, dir.path(), &["audit", "verify"]);
    eprintln!("{text}");
    assert!(!ok_);
    assert!(
        text.contains(&format!("BROKEN  {stream}  event {n}  [state]")),
        "{text}"
    );
    // The API says so too.
    let company = app.token("company").await;
    let audit = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &company)
        .await)
    .await;
    assert_eq!(audit["verification"]["intact"], false);
    assert_eq!(audit["verification"]["first_broken_link"]["check"], "state");
    raw_sql(
        &app,
        &[format!(
            "UPDATE collaborations SET state = {} WHERE id = {}",
            quote(&state),
            quote(&id)
        )
        .as_str()],
    )
    .unwrap();
    assert!(cli(&app, dir.path(), &["audit", "verify"]).0, "restored");

    // (5) A swapped agreement file together with its hash column.
    let forged = b"%PDF-1.7 forged";
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(forged));
    let bytes = if app.is_postgres() {
        format!("decode('{}', 'hex')", hex::encode(forged))
    } else {
        format!("X'{}'", hex::encode(forged))
    };
    raw_sql(
        &app,
        &[format!(
            "UPDATE agreement_versions SET pdf = {bytes}, pdf_sha256 = {} WHERE collaboration_id = {} AND number = 1",
            quote(&sha),
            quote(&id)
        )
        .as_str()],
    )
    .unwrap();
    let (ok_, text) = cli(&app, dir.path(), &["audit", "verify"]);
    eprintln!("{text}");
    assert!(!ok_);
    assert!(
        text.contains(&format!("BROKEN  {stream}  event {n}  [file]"))
            && text.contains("pdf file of agreement version 1"),
        "{text}"
    );

    // (2) An edited event with every later hash recomputed: the chain holds together, the checkpoint
    // does not.
    rewrite_chain(&app, &stream, 2);
    let (ok_, text) = cli(&app, dir.path(), &["audit", "verify"]);
    eprintln!("{text}");
    assert!(!ok_);
    assert!(
        text.contains(&format!("BROKEN  {stream}  event {n}  [checkpoint]"))
            && text.contains("rewritten"),
        "{text}"
    );
    assert!(!text.contains("[chain]"), "the chain itself holds: {text}");

    // (3) The last events deleted.
    raw_sql(
        &app,
        &[format!(
            "DELETE FROM audit_events WHERE stream = {} AND seq >= {}",
            quote(&stream),
            n - 1
        )
        .as_str()],
    )
    .unwrap();
    let (ok_, text) = cli(&app, dir.path(), &["audit", "verify"]);
    eprintln!("{text}");
    assert!(!ok_);
    assert!(
        text.contains(&format!("BROKEN  {stream}  event {n}  [checkpoint]"))
            && text.contains("deleted from its end"),
        "{text}"
    );
}

/// Someone who holds the signing key can rewrite the chain and sign new checkpoints: the database
/// then verifies, and only heads exported before and kept outside reveal it.
#[tokio::test]
async fn exported_heads_catch_a_rewrite_that_was_signed_again_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (app, id) = walked(dir.path()).await;
    let stream = format!("collaboration:{id}");
    assert!(cli(&app, dir.path(), &["audit", "checkpoint"]).0);
    let heads = dir.path().join("heads.jsonl");
    let (ok_, text) = cli(
        &app,
        dir.path(),
        &["audit", "export-heads", "--out", heads.to_str().unwrap()],
    );
    assert!(ok_, "{text}");
    let exported = std::fs::read_to_string(&heads).unwrap();
    let line: serde_json::Value = serde_json::from_str(
        exported
            .lines()
            .find(|l| l.contains(&stream))
            .expect("the collaboration's head"),
    )
    .unwrap();
    assert_eq!(line["seq"], event_count(&app, &stream));
    for k in ["hash", "signed_at", "key_id", "public_key", "signature"] {
        assert!(
            line[k].as_str().is_some_and(|v| !v.is_empty()),
            "{k}: {line}"
        );
    }
    let (ok_, text) = cli(
        &app,
        dir.path(),
        &["audit", "verify", "--heads", heads.to_str().unwrap()],
    );
    assert!(ok_, "{text}");

    lift_guards(&app);
    rewrite_chain(&app, &stream, 2);
    raw_sql(
        &app,
        &[format!(
            "DELETE FROM audit_checkpoints WHERE stream = {}",
            quote(&stream)
        )
        .as_str()],
    )
    .unwrap();
    assert!(cli(&app, dir.path(), &["audit", "checkpoint"]).0);
    let (ok_, text) = cli(&app, dir.path(), &["audit", "verify"]);
    assert!(
        ok_,
        "with the key the rewrite passes inside the database: {text}"
    );
    let (ok_, text) = cli(
        &app,
        dir.path(),
        &["audit", "verify", "--heads", heads.to_str().unwrap()],
    );
    assert!(!ok_);
    assert!(
        text.contains("[heads]") && text.contains("rewritten"),
        "{text}"
    );

    // A tampered exported file does not verify either.
    std::fs::write(&heads, exported.replace("\"seq\":", "\"seq\":1")).unwrap();
    let (ok_, text) = cli(
        &app,
        dir.path(),
        &["audit", "verify", "--heads", heads.to_str().unwrap()],
    );
    assert!(!ok_);
    assert!(text.contains("signature does not verify"), "{text}");
}

/// The server checkpoints on its own at the configured interval; the key it generated is readable by
/// its owner only.
#[tokio::test]
async fn the_server_signs_the_heads_with_a_key_it_generated_beside_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().display().to_string();
    let app = TestApp::spawn_with(move |s| s.audit.data_dir = data_dir).await;
    let key = dir.path().join("audit-signing-key.pem");
    let meta = std::fs::metadata(&key).expect("the key was generated on start");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let audit = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &company)
        .await)
    .await;
    assert_eq!(
        audit["verification"]["checkpoint_seq"],
        serde_json::Value::Null
    );
    assert!(cli(&app, dir.path(), &["audit", "checkpoint"]).0);
    let audit = ok(app
        .get(&format!("/api/v1/collaborations/{id}/audit"), &company)
        .await)
    .await;
    assert_eq!(audit["verification"]["checkpoint_seq"], 1);
    assert_eq!(audit["verification"]["intact"], true);
}

/// The server's background checkpointer signs every moved head each interval and stops when dropped.
#[tokio::test]
async fn the_background_checkpointer_signs_moved_heads_until_it_is_stopped() {
    let app = TestApp::spawn().await;
    app.research_collaboration(&["EX-HJARTA"]).await;
    let url = app.database_url.clone();
    let (before, after, later) = tokio::task::spawn_blocking(move || {
        let settings = samverkan::config::Settings::defaults();
        let svc = samverkan::app::Services {
            db: samverkan::db::Db::connect(&url, 2).unwrap(),
            clock: std::sync::Arc::new(samverkan::app::clock::SystemClock),
            rulebooks: std::sync::Arc::new(samverkan::startup::load_rulebooks(&settings).unwrap()),
            templates: std::sync::Arc::new(samverkan::templates::TemplateSet::builtin().unwrap()),
            audit_key: None,
            views: Default::default(),
        };
        let count = |svc: &samverkan::app::Services| {
            let mut conn = svc.db.pool.get().unwrap();
            samverkan::db::repo::latest_checkpoints(&mut conn)
                .unwrap()
                .len()
        };
        let before = count(&svc);
        let key =
            std::sync::Arc::new(samverkan::app::checkpoint::SigningKeyPair::generate().unwrap());
        let running = samverkan::app::checkpoint::Checkpointer::start(
            svc.clone(),
            key,
            std::time::Duration::from_millis(50),
        );
        let mut after = 0;
        for _ in 0..100 {
            after = count(&svc);
            if after > 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        drop(running);
        // Stopped: a new event is not signed any more.
        let mut conn = svc.db.pool.get().unwrap();
        let seal = samverkan::domain::audit::AuditEvent::seal(
            "test:stopped".into(),
            None,
            chrono::Utc::now(),
            ("a", "A", None, "administrator"),
            "x",
            samverkan::domain::audit::Visibility::Internal,
            Default::default(),
        );
        samverkan::db::repo::insert_event(&mut conn, &seal).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        (before, after, count(&svc))
    })
    .await
    .unwrap();
    assert_eq!(before, 0);
    assert!(after > 0, "the checkpointer signed the heads");
    assert_eq!(later, after, "nothing signed after it stopped");
}

/// Events stored before version 3 (the change as JSON text, the previous hash stored) read and
/// verify as before, next to version-3 events in the same stream, which store the change packed and
/// no previous hash; a version-3 event read back carries the previous event's hash.
#[tokio::test]
async fn stored_version_2_events_read_and_verify_beside_version_3_events() {
    use diesel::prelude::*;
    use samverkan::db::schema::audit_events as ae;
    use samverkan::domain::audit::{verify_chain, AuditEvent, Payload, Visibility};
    let app = TestApp::spawn().await;
    let db = samverkan::db::Db::connect(&app.database_url, 1).unwrap();
    let mut conn = db.pool.get().unwrap();
    let stream = "test:versions".to_string();
    let at = chrono::Utc::now();
    let actor = ("a", "A", Some("o"), "administrator");
    let payload = |title: &str| Payload {
        before: Some(json!({"title": "before"})),
        after: Some(json!({"title": title})),
        state: Some(json!({"title": title})),
        files: Default::default(),
    };
    let v2 = AuditEvent::seal_v2(
        stream.clone(),
        None,
        at,
        actor,
        "x",
        Visibility::Party,
        payload("one"),
    );
    let v3a = AuditEvent::seal(
        stream.clone(),
        Some((v2.seq, v2.hash.clone())),
        at,
        actor,
        "x",
        Visibility::Party,
        payload("two"),
    );
    let v3b = AuditEvent::seal(
        stream.clone(),
        Some((v3a.seq, v3a.hash.clone())),
        at,
        actor,
        "x",
        Visibility::Party,
        payload("three"),
    );
    for e in [&v2, &v3a, &v3b] {
        samverkan::db::repo::insert_event(&mut conn, e).unwrap();
    }
    // As stored: version 2 with its JSON change and previous hash, version 3 packed and without.
    type Stored = (i32, Option<String>, Option<Vec<u8>>, String);
    let rows: Vec<Stored> = ae::table
        .filter(ae::stream.eq(&stream))
        .order(ae::seq.asc())
        .select((
            ae::schema_version,
            ae::change_patch,
            ae::change_z,
            ae::prev_hash,
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(rows[0].0, 2);
    assert!(rows[0].1.as_deref().is_some_and(|c| c.contains("\"one\"")));
    assert!(rows[0].2.is_none());
    assert_eq!(rows[0].3, samverkan::domain::audit::GENESIS);
    for r in &rows[1..] {
        assert_eq!((r.0, r.1.as_deref(), r.3.as_str()), (3, None, ""));
        assert!(r.2.is_some());
    }
    // Read back: the same events, previous hashes filled in, and the chain holds.
    let read = samverkan::db::repo::stream_events(&mut conn, &stream).unwrap();
    assert_eq!(read, vec![v2, v3a, v3b]);
    assert_eq!(verify_chain(&read), Ok(3));
    assert_eq!(
        read[2].change_ops(),
        json!([{"op": "replace", "path": "/title", "value": "three"}])
    );
}

async fn view_of(app: &TestApp, id: &str, token: &str) -> serde_json::Value {
    let r = app
        .get(&format!("/api/v1/collaborations/{id}"), token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// A collaboration whose state was stored as JSON text (every row written before states were
/// packed) reads as before, its audit trail verifies, and its next write stores it packed.
#[tokio::test]
async fn a_state_stored_as_text_before_packing_reads_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    let packed = view_of(&app, &id, &company).await;
    let text = {
        let db = samverkan::db::Db::connect(&app.database_url, 1).unwrap();
        let mut conn = db.pool.get().unwrap();
        samverkan::db::repo::collaboration_state(&mut conn, &id)
            .unwrap()
            .unwrap()
    };
    raw_sql(
        &app,
        &[format!(
            "UPDATE collaborations SET state = {}, state_z = NULL WHERE id = {}",
            quote(&text),
            quote(&id)
        )
        .as_str()],
    )
    .unwrap();
    // Past the kept view's lifetime, so the row itself is read.
    app.clock.advance(chrono::Duration::seconds(5));
    let again = app;
    let company2 = company;
    let read = view_of(&again, &id, &company2).await;
    assert_eq!(read["collaboration"], packed["collaboration"]);
    let (ok_, out) = cli(&again, dir.path(), &["audit", "verify"]);
    assert!(ok_, "{out}");
    ok(again
        .patch(
            &format!("/api/v1/collaborations/{id}"),
            &company2,
            &json!({"title": "Ändrad"}),
        )
        .await)
    .await;
    let db = samverkan::db::Db::connect(&again.database_url, 1).unwrap();
    let mut conn = db.pool.get().unwrap();
    use diesel::prelude::*;
    use samverkan::db::schema::collaborations as c;
    let (state, z): (String, Option<Vec<u8>>) = c::table
        .find(&id)
        .select((c::state, c::state_z))
        .first(&mut conn)
        .unwrap();
    assert_eq!(state, "");
    assert!(samverkan::db::packed::unpack(&z.unwrap())
        .unwrap()
        .contains("Ändrad"));
}
