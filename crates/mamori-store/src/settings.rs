//! Where the data lives: an embedded SQLite file (default) or a PostgreSQL server.

use crate::StoreError;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum DbSettings {
    Sqlite {
        path: PathBuf,
    },
    /// The URL may hold a password: never print it; `Debug` and `Display` redact it.
    Postgres {
        url: String,
    },
}

pub const SQLITE_FILE: &str = "mamori.db";

impl DbSettings {
    /// `--db` given → that PostgreSQL database; otherwise SQLite inside the data directory
    /// (always there, so the data directory's serve lock guards it).
    pub fn resolve(db: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        let Some(db) = db.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(DbSettings::Sqlite { path: data_dir.join(SQLITE_FILE) });
        };
        let (scheme, rest) =
            db.split_once("://").ok_or_else(|| StoreError::BadUrl { problem: "no-scheme", detail: redact_url(db) })?;
        match scheme {
            "postgres" | "postgresql" => {
                // Parse now so a typo is reported before anything connects or writes.
                let opts: Result<sqlx::postgres::PgConnectOptions, _> = db.parse();
                opts.map_err(|e| StoreError::BadUrl { problem: "syntax", detail: redact_message(&e.to_string(), db) })?;
                let host_part = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                if host_part.is_empty() || host_part.starts_with('/') && !rest.contains("host=") {
                    return Err(StoreError::BadUrl { problem: "no-host", detail: redact_url(db) });
                }
                Ok(DbSettings::Postgres { url: db.to_owned() })
            }
            other => Err(StoreError::BadUrl { problem: "unsupported-scheme", detail: other.to_owned() }),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbSettings::Sqlite { .. } => Backend::Sqlite,
            DbSettings::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The URL or path with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            DbSettings::Sqlite { path } => path.display().to_string(),
            DbSettings::Postgres { url } => redact_url(url),
        }
    }
}

fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "***".into() };
    let mut out = match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://{userinfo}@{host}"),
        },
        None => url.to_owned(),
    };
    // password=… in the query string
    if let Some(i) = out.find("password=") {
        let end = out[i..].find('&').map_or(out.len(), |j| i + j);
        out.replace_range(i + "password=".len()..end, "***");
    }
    out
}

fn redact_message(msg: &str, url: &str) -> String {
    let redacted = redact_url(url);
    msg.replace(url, &redacted)
}

impl fmt::Debug for DbSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbSettings::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            DbSettings::Postgres { url } => f.debug_struct("Postgres").field("url", &redact_url(url)).finish(),
        }
    }
}

impl fmt::Display for DbSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_sqlite_in_data_dir() {
        let s = DbSettings::resolve(None, Path::new("d")).unwrap();
        assert_eq!(s, DbSettings::Sqlite { path: PathBuf::from("d/mamori.db") });
    }

    #[test]
    fn password_never_shows() {
        let s = DbSettings::resolve(Some("postgres://mamori:s3cret@db.local:5432/mamori"), Path::new("d")).unwrap();
        assert_eq!(s.backend(), Backend::Postgres);
        for shown in [format!("{s:?}"), s.to_string()] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("mamori:***@db.local"), "{shown}");
        }
        assert!(!redact_url("postgres://h/db?password=s3cret&x=1").contains("s3cret"));
    }

    #[test]
    fn malformed_urls_are_rejected() {
        for bad in ["postgres//x", "mysql://h/db", "postgres://", "sqlite://", "postgres://h:notaport/db"] {
            assert!(matches!(DbSettings::resolve(Some(bad), Path::new("d")), Err(StoreError::BadUrl { .. })), "{bad}");
        }
    }
}
