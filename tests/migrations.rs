//! Upgrades of a database an earlier release left, on the database the suite runs on (a SQLite file,
//! or PostgreSQL when TEST_DATABASE_URL is set): rows written in the old shape survive the migration,
//! with the foreign keys that point at them.
#[path = "support/test_db.rs"]
mod test_db;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use samverkan::db::conn::{run_migrations, run_migrations_before};
use samverkan::db::Db;
use test_db::TestDb;

#[derive(QueryableByName, Debug, PartialEq)]
struct Row {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
    #[diesel(sql_type = Text)]
    c: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Migration 2026-12-03-000001_identity: an account's one role and organisation become its first
/// membership; its bearer tokens end (people sign in again); a release delegation naming the account
/// still refers to it.
#[test]
fn accounts_become_people_with_one_membership_each_and_their_delegations_stay() {
    let test_db = TestDb::create();
    let db = Db::connect(&test_db.url, 1).expect("database");
    let mut conn = db.pool.get().expect("connection");
    let before = run_migrations_before(&mut conn, "2026-12-03-000001").expect("old migrations");
    assert!(before >= 5, "{before}");
    conn.batch_execute(
        "INSERT INTO organisations (id, name, kind, org_number, created_at)
             VALUES ('o1', 'Region Test', 'cpua_authority', '232100-0016', '2026-01-01 00:00:00');
         INSERT INTO accounts (id, username, display_name, email, role, organisation_id, is_demo, created_at)
             VALUES ('a1', 'lawyer', 'Lena Lag', 'lena@example.se', 'cpua_legal', 'o1', FALSE, '2026-01-01 00:00:00'),
                    ('a2', 'holder', 'Hans Reg', 'hans@example.se', 'register_holder', 'o1', TRUE, '2026-01-02 00:00:00');
         INSERT INTO api_tokens (token_hash, account_id, created_at, expires_at)
             VALUES ('h1', 'a1', '2026-01-01 00:00:00', '2027-01-01 00:00:00');
         INSERT INTO registers (id, code, name, is_example, created_at)
             VALUES ('r1', 'R1', 'Registret', FALSE, '2026-01-01 00:00:00');
         INSERT INTO release_delegations (id, register_id, cpua_id, delegate_kind, delegate_account_id,
                 delegate_name, delegated_on, reference, created_by, created_at)
             VALUES ('d1', 'r1', 'o1', 'person', 'a1', 'Lena Lag', '2026-01-01', 'Beslut 1', 'a1',
                     '2026-01-01 00:00:00');",
    )
    .expect("rows in the old shape");
    let applied = run_migrations(&mut conn).expect("the upgrade");
    assert!(applied >= 1);

    let memberships: Vec<Row> = diesel::sql_query(
        "SELECT account_id AS a, organisation_id AS b, role AS c FROM memberships ORDER BY account_id",
    )
    .load(&mut conn)
    .expect("memberships");
    assert_eq!(
        memberships,
        vec![
            Row {
                a: "a1".into(),
                b: "o1".into(),
                c: "cpua_legal".into()
            },
            Row {
                a: "a2".into(),
                b: "o1".into(),
                c: "register_holder".into()
            },
        ]
    );
    let people: Vec<Row> = diesel::sql_query(
        "SELECT id AS a, display_name AS b, email AS c FROM accounts ORDER BY id",
    )
    .load(&mut conn)
    .expect("accounts");
    assert_eq!(people.len(), 2);
    assert_eq!(people[0].b, "Lena Lag");
    let sessions: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM sessions")
        .get_result(&mut conn)
        .expect("sessions");
    assert_eq!(sessions.n, 0, "old bearer tokens end with the upgrade");
    let delegation: Row = diesel::sql_query(
        "SELECT d.id AS a, a.id AS b, a.display_name AS c FROM release_delegations d
         JOIN accounts a ON a.id = d.delegate_account_id",
    )
    .get_result(&mut conn)
    .expect("the delegation still finds its account");
    assert_eq!(delegation.b, "a1");
    // The foreign key is still enforced against the rebuilt table.
    let orphan = conn.batch_execute(
        "INSERT INTO memberships (id, account_id, organisation_id, role, source, granted_at)
         VALUES ('m9', 'no-such-account', 'o1', 'finance', 'admin', '2026-01-03 00:00:00')",
    );
    assert!(orphan.is_err(), "a membership of no account is refused");
}
