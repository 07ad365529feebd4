//! Migrations are embedded in the binary, one list per backend, and applied by sqlx's
//! migrator. Before anything is applied, the versions already in the database are compared
//! with the ones this build knows: a database from a newer mamori is refused untouched.

use crate::StoreError;
use serde::Serialize;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use std::borrow::Cow;

/// `(version, description, sql)`; append only, never edit an applied migration.
pub(crate) type Embedded = &'static [(i64, &'static str, &'static str)];

pub(crate) const SQLITE: Embedded = &[
    (1, "initial", include_str!("../migrations/sqlite/0001_initial.sql")),
    (2, "users", include_str!("../migrations/sqlite/0002_users.sql")),
    (3, "files_settings", include_str!("../migrations/sqlite/0003_files_settings.sql")),
    (4, "checklists", include_str!("../migrations/sqlite/0004_checklists.sql")),
    (5, "finding_keys", include_str!("../migrations/sqlite/0005_finding_keys.sql")),
];
pub(crate) const POSTGRES: Embedded = &[
    (1, "initial", include_str!("../migrations/postgres/0001_initial.sql")),
    (2, "users", include_str!("../migrations/postgres/0002_users.sql")),
    (3, "files_settings", include_str!("../migrations/postgres/0003_files_settings.sql")),
    (4, "checklists", include_str!("../migrations/postgres/0004_checklists.sql")),
    (5, "finding_keys", include_str!("../migrations/postgres/0005_finding_keys.sql")),
];

pub(crate) fn migrator(list: Embedded) -> Migrator {
    let migrations = list
        .iter()
        .map(|(version, desc, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*desc),
                MigrationType::Simple,
                AssertSqlSafe(*sql).into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    /// Highest applied version (0 for an empty database).
    pub current: i64,
    /// Highest version this build knows.
    pub supported: i64,
}

impl SchemaStatus {
    pub fn up_to_date(&self) -> bool {
        self.current == self.supported
    }
}

/// The audit entry for a schema change (also the first entry of a new installation).
pub(crate) fn audit_draft(before: SchemaStatus) -> mamori_domain::audit::AuditDraft {
    mamori_domain::audit::AuditDraft::new("system", "schema.migrate")
        .details(serde_json::json!({"from": before.current, "to": before.supported}))
}

/// Compares applied versions with the known list.
pub(crate) fn check(applied: &[i64], list: Embedded) -> Result<SchemaStatus, StoreError> {
    let supported = list.iter().map(|m| m.0).max().unwrap_or(0);
    let current = applied.iter().copied().max().unwrap_or(0);
    if applied.iter().any(|v| !list.iter().any(|m| m.0 == *v)) || current > supported {
        return Err(StoreError::SchemaTooNew { found: current, supported });
    }
    Ok(SchemaStatus { current, supported })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_or_unknown_versions_are_refused() {
        let latest = SQLITE.last().unwrap().0;
        assert_eq!(POSTGRES.last().unwrap().0, latest, "both backends are at the same version");
        let all: Vec<i64> = (1..=latest).collect();
        assert_eq!(check(&[], SQLITE).unwrap(), SchemaStatus { current: 0, supported: latest });
        assert_eq!(check(&[1], SQLITE).unwrap(), SchemaStatus { current: 1, supported: latest });
        assert!(check(&all, SQLITE).unwrap().up_to_date());
        let newer: Vec<i64> = (1..=latest + 1).collect();
        assert!(
            matches!(check(&newer, SQLITE), Err(StoreError::SchemaTooNew { found, supported }) if found == latest + 1 && supported == latest)
        );
        assert!(matches!(check(&[1, 20260101], SQLITE), Err(StoreError::SchemaTooNew { .. })));
    }

    #[test]
    fn both_backends_know_the_same_versions() {
        let v = |l: Embedded| l.iter().map(|m| m.0).collect::<Vec<_>>();
        assert_eq!(v(SQLITE), v(POSTGRES));
    }
}
