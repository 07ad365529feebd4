//! Opening databases: a newer schema is refused untouched, an old one is not silently used,
//! and unreachable servers fail fast with a clear error.

use crate::conformance;
use crate::harness::{Raw, TestDb};
use mamori_store::{DbSettings, OpenOptions, StoreError};
use std::time::{Duration, Instant};

conformance!(newer_schema_is_refused_untouched, outdated_schema_needs_migrate);

async fn newer_schema_is_refused_untouched(db: TestDb) {
    let store = db.open().await;
    let status = store.schema_status().await.unwrap();
    assert!(status.up_to_date());
    drop(store);
    let future = match db.raw {
        Raw::Sqlite(_) => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', 1, X'00', 0)"
        }
        Raw::Postgres(_) => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, '\\x00'::bytea, 0)"
        }
    };
    db.exec(future).await;
    let before = db.scalar("SELECT COUNT(*) FROM audit_events").await;
    for migrate in [true, false] {
        let err = mamori_store::open(&db.settings, OpenOptions { create: true, migrate }).await.unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found: 9999, supported } if supported == status.supported),
            "{err:?}"
        );
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM _sqlx_migrations").await, status.supported + 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM audit_events").await, before);
}

async fn outdated_schema_needs_migrate(db: TestDb) {
    let err = mamori_store::open(&db.settings, OpenOptions { create: true, migrate: false }).await.unwrap_err();
    let StoreError::SchemaOutdated { found: 0, supported } = err else { panic!("{err:?}") };
    let store = db.open().await;
    let status = store.schema_status().await.unwrap();
    assert_eq!((status.current, status.supported), (supported, supported));
    assert!(supported >= 4, "the checklist tables (schema 4) exist");
}

#[tokio::test]
async fn missing_sqlite_file_is_not_created_without_init() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mamori.db");
    let err =
        mamori_store::open(&DbSettings::Sqlite { path: path.clone() }, OpenOptions { create: false, migrate: true })
            .await
            .unwrap_err();
    assert!(matches!(err, StoreError::NotInitialised { .. }), "{err:?}");
    assert!(!path.exists());
}

#[tokio::test]
async fn unreachable_postgres_fails_fast_without_the_password() {
    // Port 1 on loopback: nothing listens there.
    let settings =
        DbSettings::resolve(Some("postgres://mamori:s3cret@127.0.0.1:1/mamori"), std::path::Path::new(".")).unwrap();
    let started = Instant::now();
    let err = mamori_store::open(&settings, OpenOptions { create: false, migrate: true }).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err:?}");
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert!(!format!("{err:?}").contains("s3cret"), "{err:?}");
}

/// `open` must be usable from spawned tasks (a server opens stores off the main task).
#[tokio::test]
async fn open_works_inside_a_spawned_task() {
    let dir = tempfile::tempdir().unwrap();
    let settings = DbSettings::Sqlite { path: dir.path().join("m.db") };
    let store =
        tokio::spawn(async move { mamori_store::open(&settings, OpenOptions { create: true, migrate: true }).await })
            .await
            .unwrap()
            .unwrap();
    assert!(store.schema_status().await.unwrap().up_to_date());
}
