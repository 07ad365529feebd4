use mamori_domain::finding::FindingError;
use mamori_domain::record::RecordError;
use std::path::PathBuf;

/// Everything the store can fail with. Each variant has a stable [`code`](Self::code) that
/// the CLI and the API map to a message in the user's language; `Database` carries the
/// driver's error for the log, never for the user.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `problem` is a code: `no-scheme`, `unsupported-scheme`, `no-host`, `no-path`, `syntax`.
    #[error("malformed database URL ({problem}): {detail}")]
    BadUrl { problem: &'static str, detail: String },
    #[error("cannot reach the database at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("data directory {path} is not writable: {reason}")]
    DataDirUnwritable { path: PathBuf, reason: String },
    #[error("data directory {path} is in use by another mamori process (pid {pid})")]
    DataDirLocked { path: PathBuf, pid: String },
    #[error("the installation key {path} is missing; restore it from the backup")]
    KeyMissing { path: PathBuf },
    #[error("no mamori database at {path}; run `mamori init` first")]
    NotInitialised { path: PathBuf },
    #[error("the database schema (version {found}) is newer than this mamori supports (version {supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("the database schema (version {found}) needs migrating to version {supported}; run `mamori migrate`")]
    SchemaOutdated { found: i64, supported: i64 },
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{what} {id} is still referenced by other records")]
    Referenced { what: &'static str, id: String },
    #[error("{kind} {id} refers to a record that does not exist in this institution")]
    MissingReference { kind: mamori_domain::record::RecordKind, id: String },
    #[error("row {index}: {source}")]
    InRow { index: usize, source: Box<StoreError> },
    #[error("job {id} has already finished")]
    JobFinished { id: String },
    #[error("{what} {id} already exists")]
    Conflict { what: &'static str, id: String },
    #[error("invalid record: {0}")]
    Record(#[from] RecordError),
    #[error("invalid finding: {0}")]
    Finding(#[from] FindingError),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    /// A stable code for messages and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUrl { .. } => "db-bad-url",
            Self::Unreachable { .. } => "db-unreachable",
            Self::DataDirUnwritable { .. } => "data-dir-unwritable",
            Self::DataDirLocked { .. } => "data-dir-locked",
            Self::NotInitialised { .. } => "not-initialised",
            Self::KeyMissing { .. } => "key-missing",
            Self::SchemaTooNew { .. } => "schema-too-new",
            Self::SchemaOutdated { .. } => "schema-outdated",
            Self::NotFound { .. } => "not-found",
            Self::Referenced { .. } => "referenced",
            Self::Conflict { .. } => "conflict",
            Self::JobFinished { .. } => "job-finished",
            Self::MissingReference { .. } => "missing-reference",
            Self::InRow { source, .. } => source.code(),
            Self::Record(_) => "invalid-record",
            Self::Finding(_) => "invalid-finding",
            Self::Invalid(_) => "invalid-request",
            Self::Corrupt(_) => "corrupt",
            Self::Migration(_) => "migration-failed",
            Self::Database(_) => "database",
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

impl From<mamori_domain::institution::InstitutionError> for StoreError {
    fn from(e: mamori_domain::institution::InstitutionError) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

/// A short, stable classification of why a connection or file operation failed, for a
/// message in the user's language (`problem-<code>`); unknown causes keep their text.
pub fn classify_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "not-found",
        K::PermissionDenied => "permission-denied",
        K::NotADirectory => "not-a-directory",
        K::ReadOnlyFilesystem => "read-only",
        K::StorageFull => "storage-full",
        K::ConnectionRefused => "connection-refused",
        K::ConnectionReset | K::ConnectionAborted => "connection-reset",
        K::TimedOut => "timeout",
        K::HostUnreachable | K::NetworkUnreachable => "unreachable",
        K::AddrInUse => "addr-in-use",
        K::AddrNotAvailable => "addr-not-available",
        _ => return e.to_string(),
    }
    .to_owned()
}

/// Why connecting to a database failed, as a code (see [`classify_io`]).
pub fn classify_connect(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => classify_io(io),
        sqlx::Error::PoolTimedOut => "timeout".into(),
        sqlx::Error::Tls(_) => "tls".into(),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01" | "28000") => "auth-failed".into(),
            Some("3D000") => "database-missing".into(),
            Some("14") => "cannot-open".into(), // SQLITE_CANTOPEN
            _ => db.message().to_owned(),
        },
        other => other.to_string(),
    }
}

/// A record write that broke a constraint: a reference to a row that does not exist (in
/// this institution), or an id that is taken.
pub(crate) fn write_error(e: sqlx::Error, row: &mamori_domain::record::Row) -> StoreError {
    match classify_write(e, "record", row.id.to_string()) {
        StoreError::Referenced { .. } => StoreError::MissingReference { kind: row.kind, id: row.id.to_string() },
        other => other,
    }
}

/// Maps a constraint violation on write to the domain error it means.
pub(crate) fn classify_write(e: sqlx::Error, what: &'static str, id: String) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.kind() {
            sqlx::error::ErrorKind::ForeignKeyViolation => return StoreError::Referenced { what, id },
            sqlx::error::ErrorKind::UniqueViolation => return StoreError::Conflict { what, id },
            _ => {}
        }
    }
    StoreError::Database(e)
}
