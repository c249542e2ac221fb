//! A fresh database for one test, shared by every test binary (`#[path]`-included): a SQLite file in a
//! temporary folder, or its own PostgreSQL database when TEST_DATABASE_URL is set, dropped with the value.
#![allow(dead_code)]

use diesel::{Connection, RunQueryDsl};

/// The PostgreSQL server the tests run against, when TEST_DATABASE_URL names one.
pub fn pg_base() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

fn with_database(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

/// A fresh database for one test (dropped with this value).
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn create() -> TestDb {
        match pg_base() {
            Some(base) => {
                let name = format!("samverkan_t_{}", uuid::Uuid::new_v4().simple());
                let mut c = diesel::PgConnection::establish(&base).expect("PostgreSQL reachable");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut c)
                    .expect("create test database");
                TestDb {
                    url: with_database(&base, &name),
                    _dir: None,
                    pg: Some((base, name)),
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                TestDb {
                    url: format!("sqlite://{}/test.db", dir.path().display()),
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
