//! Test databases: a temporary SQLite file, or a fresh database on the PostgreSQL server
//! named by `MAMORI_TEST_PG_URL`. Each test gets its own, so tests run in parallel.

use mamori_domain::institution::{Institution, InstitutionKind};
use mamori_store::{DbSettings, OpenOptions, Scope, Store};
use sqlx::{AssertSqlSafe, Connection};
use std::sync::Arc;

pub enum Raw {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

pub struct TestDb {
    pub settings: DbSettings,
    pub raw: Raw,
    _dir: Option<tempfile::TempDir>,
}

pub fn pg_server_url() -> String {
    std::env::var("MAMORI_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "MAMORI_TEST_PG_URL is not set. The conformance suite runs on a real PostgreSQL server: \
             run scripts/test.sh, or start one with scripts/pg-test.sh start DIR and export the URL it prints"
        )
    })
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mamori.db");
        TestDb { settings: DbSettings::Sqlite { path: path.clone() }, raw: Raw::Sqlite(path), _dir: Some(dir) }
    }

    pub async fn postgres() -> Self {
        let server = pg_server_url();
        let name = format!("mamori_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&server).await.expect("connect to the test PostgreSQL server");
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
        let (base, _) = server.rsplit_once('/').expect("URL has a database part");
        let url = format!("{base}/{name}");
        TestDb { settings: DbSettings::Postgres { url: url.clone() }, raw: Raw::Postgres(url), _dir: None }
    }

    pub async fn open(&self) -> Arc<dyn Store> {
        mamori_store::open(&self.settings, OpenOptions { create: true, migrate: true }).await.expect("open store")
    }

    /// Runs SQL directly against the database, behind the store's back (tampering).
    pub async fn exec(&self, sql: &str) -> u64 {
        match &self.raw {
            Raw::Sqlite(path) => {
                let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
                sqlx::query(AssertSqlSafe(sql.to_owned())).execute(&mut c).await.unwrap().rows_affected()
            }
            Raw::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(AssertSqlSafe(sql.to_owned())).execute(&mut c).await.unwrap().rows_affected()
            }
        }
    }

    /// One integer from a query run directly against the database.
    pub async fn scalar(&self, sql: &str) -> i64 {
        match &self.raw {
            Raw::Sqlite(path) => {
                let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
                sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(&mut c).await.unwrap()
            }
            Raw::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(&mut c).await.unwrap()
            }
        }
    }
}

pub async fn clinic(store: &dyn Store, name: &str) -> Scope {
    let i = Institution::new(name, InstitutionKind::Clinic).unwrap();
    store.create_institution(&i, "test").await.unwrap()
}

/// Declares one test per backend for a conformance function `async fn(TestDb)`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::TestDb::sqlite().await).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::TestDb::postgres().await).await
                }
            )+
        }
    };
}
