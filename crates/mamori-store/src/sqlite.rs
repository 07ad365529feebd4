//! The embedded default: one SQLite file in WAL mode with `synchronous = FULL`.
//!
//! Writes go through a pool of exactly one connection, so transactions never contend for
//! the write lock and an audit-chain head is never read by two writers at once; reads use
//! a separate read-only pool and run concurrently with writes (WAL).

use crate::chain::{ChainWriter, INSERT_EVENT, SELECT_EVENTS, UPSERT_HEAD};
use crate::error::{classify_connect, classify_write, write_error};
use crate::migrate::{self, SchemaStatus};
use crate::{
    ApiToken, Attachment, Backend, ChecklistAssignment, ChecklistKey, FindingQuery, JobQuery, JobScope, OpenOptions,
    Progress, RecordQuery, Result, Scope, Store, StoreError, StoredAnswer, StoredEdition, WriteSummary, sql,
};
use async_trait::async_trait;
use mamori_domain::audit::{AuditDraft, AuditEvent, Chain, ChainHead};
use mamori_domain::auth::{Membership, Role, Session, User};
use mamori_domain::evidence::Evidence;
use mamori_domain::finding::{Finding, FindingStatus, ObjectRef, Severity, StatusChange};
use mamori_domain::institution::{Institution, InstitutionKind};
use mamori_domain::job::{Job, JobStatus};
use mamori_domain::record::{FieldType, RecordKind, Row, Value};
use mamori_domain::{ApiTokenId, EvidenceId, FindingId, InstitutionId, JobId, RecordId, UserId, time_fmt};
use serde_json::json;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Arguments, AssertSqlSafe, Row as _};
use std::path::Path;
use std::time::Duration;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

type Tx<'a> = sqlx::Transaction<'a, sqlx::Sqlite>;

#[derive(Debug)]
pub(crate) struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

fn connect_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30))
}

impl SqliteStore {
    pub(crate) async fn open(path: &Path, options: OpenOptions) -> Result<Self> {
        if !path.exists() && !options.create {
            return Err(StoreError::NotInitialised { path: path.to_owned() });
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(connect_options(path).create_if_missing(options.create))
            .await
            .map_err(|e| StoreError::Unreachable {
                target: path.display().to_string(),
                reason: classify_connect(&e),
            })?;
        let status = schema_status(&writer).await?;
        let migrated = !status.up_to_date();
        if migrated {
            if !options.migrate {
                return Err(StoreError::SchemaOutdated { found: status.current, supported: status.supported });
            }
            // On one acquired connection: `run(&pool)` makes `open` unusable inside
            // `tokio::spawn` (its future is not `Send` for every lifetime).
            let mut conn = writer.acquire().await?;
            migrate::migrator(migrate::SQLITE)
                .run_direct(None, &mut *conn, false)
                .await
                .map_err(|e| StoreError::Migration(e.to_string()))?;
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(connect_options(path).read_only(true))
            .await
            .map_err(|e| StoreError::Unreachable {
                target: path.display().to_string(),
                reason: classify_connect(&e),
            })?;
        let store = Self { writer, reader };
        if migrated {
            store.append_audit(Chain::System, &crate::migrate::audit_draft(status)).await?;
        }
        Ok(store)
    }
}

async fn schema_status(pool: &SqlitePool) -> Result<SchemaStatus> {
    let has_table: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_optional(pool)
            .await?;
    let applied: Vec<i64> = if has_table.is_some() {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(pool).await?
    } else {
        Vec::new()
    };
    migrate::check(&applied, migrate::SQLITE)
}

// ---- value encoding -------------------------------------------------------------------------

fn ts(t: OffsetDateTime) -> String {
    time_fmt::format(t)
}

fn parse_ts(s: &str) -> Result<OffsetDateTime> {
    time_fmt::parse(s).map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

fn parse_date(s: &str) -> Result<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| StoreError::Corrupt(format!("date {s:?}: {e}")))
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("id {s:?}: {e}")))
}

fn add<T>(args: &mut SqliteArguments, v: T) -> Result<()>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    args.add(v).map_err(|e| StoreError::Invalid(e.to_string()))
}

fn add_value(args: &mut SqliteArguments, v: &Value) -> Result<()> {
    match v {
        Value::Null => add(args, Option::<String>::None),
        Value::Text(s) => add(args, s.clone()),
        Value::Int(i) => add(args, *i),
        Value::Bool(b) => add(args, i64::from(*b)),
        Value::Date(d) => add(args, d.to_string()),
        Value::Timestamp(t) => add(args, ts(*t)),
        Value::Ref(u) => add(args, u.hyphenated().to_string()),
        Value::TextList(l) if l.is_empty() => add(args, Option::<String>::None),
        Value::TextList(l) => add(args, serde_json::to_string(l).expect("strings serialise")),
    }
}

fn decode_value(r: &SqliteRow, name: &str, ty: FieldType) -> Result<Value> {
    let v = match ty {
        FieldType::Int => r.try_get::<Option<i64>, _>(name)?.map(Value::Int),
        FieldType::Bool => r.try_get::<Option<i64>, _>(name)?.map(|i| Value::Bool(i != 0)),
        _ => match r.try_get::<Option<String>, _>(name)? {
            None => None,
            Some(s) => Some(match ty {
                FieldType::Text => Value::Text(s),
                FieldType::Date => Value::Date(parse_date(&s)?),
                FieldType::Timestamp => Value::Timestamp(parse_ts(&s)?),
                FieldType::Ref => Value::Ref(parse_uuid(&s)?),
                FieldType::TextList => {
                    let l: Vec<String> =
                        serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))?;
                    if l.is_empty() { Value::Null } else { Value::TextList(l) }
                }
                FieldType::Int | FieldType::Bool => unreachable!("handled above"),
            }),
        },
    };
    Ok(v.unwrap_or(Value::Null))
}

fn decode_row(kind: RecordKind, r: &SqliteRow) -> Result<Row> {
    let id: String = r.try_get("id")?;
    let mut row = Row::new(kind, RecordId(parse_uuid(&id)?));
    for f in kind.fields() {
        let v = decode_value(r, f.name, f.ty)?;
        if !v.is_null() {
            row.values.insert(f.name.to_owned(), v);
        }
    }
    Ok(row)
}

fn id_str(u: impl std::fmt::Display) -> String {
    u.to_string()
}

// ---- audit helpers ----------------------------------------------------------------------------

async fn load_chain(conn: &mut SqliteConnection, chain: Chain) -> Result<ChainWriter> {
    let head: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE chain = $1")
        .bind(chain.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    ChainWriter::from_head(chain, head)
}

async fn append(conn: &mut SqliteConnection, w: &mut ChainWriter, draft: &AuditDraft) -> Result<AuditEvent> {
    let e = w.seal(draft);
    sqlx::query(INSERT_EVENT)
        .bind(id_str(e.id))
        .bind(e.chain.to_string())
        .bind(e.chain.institution().map(id_str))
        .bind(e.seq as i64)
        .bind(ts(e.at))
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.object_kind)
        .bind(&e.object_id)
        .bind(&e.details)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .execute(&mut *conn)
        .await?;
    Ok(e)
}

async fn save_chain(conn: &mut SqliteConnection, w: &ChainWriter) -> Result<()> {
    if w.dirty {
        sqlx::query(UPSERT_HEAD)
            .bind(w.chain.to_string())
            .bind(w.seq as i64)
            .bind(mamori_domain::audit::to_hex(&w.hash))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// An evidence row as the store reads it.
fn decode_evidence(r: &SqliteRow) -> Result<Evidence> {
    let data: String = r.try_get("data")?;
    Ok(Evidence {
        id: EvidenceId(parse_uuid(&r.try_get::<String, _>("id")?)?),
        kind: r.try_get("kind")?,
        summary: r.try_get("summary")?,
        data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(format!("evidence data: {e}")))?,
        source: r.try_get("source")?,
        job_id: r.try_get::<Option<String>, _>("job_id")?.map(|s| parse_uuid(&s)).transpose()?.map(JobId),
        content_hash: r.try_get("content_hash")?,
        observed_at: parse_ts(&r.try_get::<String, _>("observed_at")?)?,
    })
}

fn decode_event(r: &SqliteRow) -> Result<AuditEvent> {
    let chain: String = r.try_get("chain")?;
    let id: String = r.try_get("id")?;
    let seq: i64 = r.try_get("seq")?;
    Ok(AuditEvent {
        id: parse_uuid(&id)?.into(),
        chain: Chain::parse(&chain).ok_or_else(|| StoreError::Corrupt(format!("audit chain {chain:?}")))?,
        seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("audit seq {seq}")))?,
        at: parse_ts(&r.try_get::<String, _>("at")?)?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        object_kind: r.try_get("object_kind")?,
        object_id: r.try_get("object_id")?,
        details: r.try_get("details")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

// ---- findings, jobs, institutions ------------------------------------------------------------

fn decode_institution(r: &SqliteRow) -> Result<Institution> {
    let kind: String = r.try_get("kind")?;
    Ok(Institution {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?.into(),
        name: r.try_get("name")?,
        kind: InstitutionKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("institution kind {kind:?}")))?,
        medical_code: r.try_get("medical_code")?,
        demo: r.try_get::<i64, _>("demo")? != 0,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
    })
}

fn decode_job(r: &SqliteRow) -> Result<Job> {
    let status: String = r.try_get("status")?;
    let opt_ts = |name: &str| -> Result<Option<OffsetDateTime>> {
        r.try_get::<Option<String>, _>(name)?.map(|s| parse_ts(&s)).transpose()
    };
    let json = |name: &str| -> Result<Option<serde_json::Value>> {
        r.try_get::<Option<String>, _>(name)?
            .map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("job {name}: {e}"))))
            .transpose()
    };
    Ok(Job {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?.into(),
        institution_id: r
            .try_get::<Option<String>, _>("institution_id")?
            .map(|s| parse_uuid(&s))
            .transpose()?
            .map(Into::into),
        kind: r.try_get("kind")?,
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("job status {status:?}")))?,
        progress_done: r.try_get::<i64, _>("progress_done")?.max(0) as u64,
        progress_total: r.try_get::<Option<i64>, _>("progress_total")?.map(|t| t.max(0) as u64),
        message: r.try_get("message")?,
        params: json("params")?.unwrap_or(serde_json::Value::Null),
        result: json("result")?,
        error: r.try_get("error")?,
        cancel_requested: r.try_get::<i64, _>("cancel_requested")? != 0,
        runner: r.try_get("runner")?,
        created_by: r.try_get("created_by")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        started_at: opt_ts("started_at")?,
        heartbeat_at: opt_ts("heartbeat_at")?,
        finished_at: opt_ts("finished_at")?,
    })
}

const JOB_COLUMNS: &str = "id, institution_id, kind, status, progress_done, progress_total, message, params, result, \
    error, cancel_requested, runner, created_by, created_at, started_at, heartbeat_at, finished_at";

const TOKEN_COLUMNS: &str =
    "id, name, token_hash, user_id, institution_id, role, created_by, created_at, last_used_at, revoked_at";

fn decode_token(r: &SqliteRow) -> Result<ApiToken> {
    let opt_ts = |name: &str| -> Result<Option<OffsetDateTime>> {
        r.try_get::<Option<String>, _>(name)?.map(|s| parse_ts(&s)).transpose()
    };
    Ok(ApiToken {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?.into(),
        name: r.try_get("name")?,
        token_hash: r.try_get("token_hash")?,
        user_id: opt_uuid(r, "user_id")?.map(UserId),
        institution_id: opt_uuid(r, "institution_id")?.map(InstitutionId),
        role: r.try_get::<Option<String>, _>("role")?.map(|s| parse_role(&s)).transpose()?,
        created_by: r.try_get("created_by")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        last_used_at: opt_ts("last_used_at")?,
        revoked_at: opt_ts("revoked_at")?,
    })
}

// ---- users, memberships, sessions -------------------------------------------------------------

fn opt_uuid(r: &SqliteRow, name: &str) -> Result<Option<Uuid>> {
    r.try_get::<Option<String>, _>(name)?.map(|s| parse_uuid(&s)).transpose()
}

fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("role {s:?}")))
}

/// The failure counter as stored (an `INTEGER` column in both backends): it saturates.
fn failed_logins(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Every column of `users`, qualified so that the same list serves joins (`users u`).
const USER_COLUMNS: &str = "u.id, u.login, u.display_name, u.password_hash, u.totp_secret, u.totp_last_step, \
    u.installation_admin, u.disabled, u.failed_logins, u.locked_until, u.password_changed_at, u.last_login_at, \
    u.created_at";

fn decode_user(r: &SqliteRow) -> Result<User> {
    let opt_ts = |name: &str| -> Result<Option<OffsetDateTime>> {
        r.try_get::<Option<String>, _>(name)?.map(|s| parse_ts(&s)).transpose()
    };
    let failed: i64 = r.try_get("failed_logins")?;
    Ok(User {
        id: UserId(parse_uuid(&r.try_get::<String, _>("id")?)?),
        login: r.try_get("login")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        totp_secret: r.try_get("totp_secret")?,
        totp_last_step: r.try_get("totp_last_step")?,
        installation_admin: r.try_get::<i64, _>("installation_admin")? != 0,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        failed_logins: u32::try_from(failed).map_err(|_| StoreError::Corrupt(format!("failed_logins {failed}")))?,
        locked_until: opt_ts("locked_until")?,
        password_changed_at: parse_ts(&r.try_get::<String, _>("password_changed_at")?)?,
        last_login_at: opt_ts("last_login_at")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
    })
}

const SESSION_COLUMNS: &str =
    "id_hash, user_id, csrf_token, mfa_pending, created_at, last_seen_at, expires_at, ip, user_agent";

fn decode_session(r: &SqliteRow) -> Result<Session> {
    Ok(Session {
        id_hash: r.try_get("id_hash")?,
        user_id: UserId(parse_uuid(&r.try_get::<String, _>("user_id")?)?),
        csrf_token: r.try_get("csrf_token")?,
        mfa_pending: r.try_get::<i64, _>("mfa_pending")? != 0,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        last_seen_at: parse_ts(&r.try_get::<String, _>("last_seen_at")?)?,
        expires_at: parse_ts(&r.try_get::<String, _>("expires_at")?)?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
    })
}

/// Memberships given with a new user must be that user's, one per institution.
fn check_memberships(user: &User, memberships: &[Membership]) -> Result<()> {
    for (i, m) in memberships.iter().enumerate() {
        if m.user_id != user.id {
            return Err(StoreError::Invalid(format!("membership {i} is not for user {}", user.id)));
        }
        if memberships[..i].iter().any(|o| o.institution_id == m.institution_id) {
            return Err(StoreError::Invalid(format!("institution {} is given twice", m.institution_id)));
        }
    }
    Ok(())
}

/// The audit entry for a membership that was set (`to: Some`) or removed (`to: None`).
fn membership_draft(actor: &str, user: UserId, login: &str, from: Option<Role>, to: Option<Role>) -> AuditDraft {
    let from = from.map(Role::as_str);
    match to {
        Some(to) => AuditDraft::new(actor, "membership.set")
            .object("user", user)
            .details(json!({"user": user, "login": login, "from": from, "to": to.as_str()})),
        None => AuditDraft::new(actor, "membership.remove")
            .object("user", user)
            .details(json!({"user": user, "login": login, "from": from})),
    }
}

/// A foreign key broken by a write means the row it names does not exist.
fn not_found(e: StoreError, what: &'static str, id: impl std::fmt::Display) -> StoreError {
    match e {
        StoreError::Referenced { .. } => StoreError::NotFound { what, id: id.to_string() },
        other => other,
    }
}

impl SqliteStore {
    /// `BEGIN IMMEDIATE`: take the write lock up front, so a transaction that reads before
    /// it writes (every audited write does) waits for another process's writer instead of
    /// failing when it upgrades its lock.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Inserts a finding (and its history, evidence, objects and audit entry) in `tx`.
    async fn insert_finding(
        &self,
        tx: &mut Tx<'_>,
        scope: &Scope,
        f: &Finding,
        key: Option<&str>,
        actor: &str,
    ) -> Result<()> {
        f.check()?;
        let inst = id_str(scope.institution());
        let now = time_fmt::now();
        sqlx::query(
            "INSERT INTO findings (id, institution_id, rule, severity, status, title, detail, remediation, first_seen, last_seen, updated_at, dedup_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id_str(f.id))
        .bind(&inst)
        .bind(&f.rule)
        .bind(f.severity.as_str())
        .bind(f.status.as_str())
        .bind(&f.title)
        .bind(&f.detail)
        .bind(&f.remediation)
        .bind(ts(f.first_seen))
        .bind(ts(f.last_seen))
        .bind(ts(now))
        .bind(key)
        .execute(&mut **tx)
        .await
        .map_err(|e| classify_write(e, "finding", f.id.to_string()))?;
        sqlx::query("INSERT INTO finding_history (institution_id, finding_id, position, status, actor, reason, at) VALUES ($1, $2, 0, $3, $4, NULL, $5)")
            .bind(&inst)
            .bind(id_str(f.id))
            .bind(f.status.as_str())
            .bind(actor)
            .bind(ts(now))
            .execute(&mut **tx)
            .await?;
        for ev in &f.evidence {
            sqlx::query("INSERT INTO finding_evidence (institution_id, finding_id, evidence_id) VALUES ($1, $2, $3)")
                .bind(&inst)
                .bind(id_str(f.id))
                .bind(id_str(ev))
                .execute(&mut **tx)
                .await
                .map_err(|e| match classify_write(e, "evidence", ev.to_string()) {
                    StoreError::Referenced { what, id } => StoreError::NotFound { what, id },
                    other => other,
                })?;
        }
        for o in &f.objects {
            sqlx::query("INSERT INTO finding_objects (institution_id, finding_id, object_kind, object_id) VALUES ($1, $2, $3, $4)")
                .bind(&inst)
                .bind(id_str(f.id))
                .bind(o.kind.as_str())
                .bind(id_str(o.id))
                .execute(&mut **tx)
                .await?;
        }
        let mut chain = load_chain(tx, scope.chain()).await?;
        let draft = AuditDraft::new(actor, "finding.create").object("finding", f.id).details(json!({
            "rule": f.rule, "severity": f.severity.as_str(), "title": f.title,
            "evidence": f.evidence, "objects": f.objects,
        }));
        append(tx, &mut chain, &draft).await?;
        save_chain(tx, &chain).await?;
        Ok(())
    }

    async fn load_finding(&self, scope: &Scope, id: FindingId) -> Result<Option<Finding>> {
        let inst = id_str(scope.institution());
        let Some(r) = sqlx::query(
            "SELECT id, rule, severity, status, title, detail, remediation, first_seen, last_seen \
             FROM findings WHERE institution_id = $1 AND id = $2",
        )
        .bind(&inst)
        .bind(id_str(id))
        .fetch_optional(&self.reader)
        .await?
        else {
            return Ok(None);
        };
        let severity: String = r.try_get("severity")?;
        let status: String = r.try_get("status")?;
        let history = sqlx::query(
            "SELECT status, actor, reason, at FROM finding_history WHERE institution_id = $1 AND finding_id = $2 ORDER BY position",
        )
        .bind(&inst)
        .bind(id_str(id))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|h| {
            let s: String = h.try_get("status")?;
            Ok(StatusChange {
                status: FindingStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("finding status {s:?}")))?,
                actor: h.try_get("actor")?,
                reason: h.try_get("reason")?,
                at: parse_ts(&h.try_get::<String, _>("at")?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let evidence = sqlx::query_scalar::<_, String>(
            "SELECT evidence_id FROM finding_evidence WHERE institution_id = $1 AND finding_id = $2 ORDER BY evidence_id",
        )
        .bind(&inst)
        .bind(id_str(id))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|s| parse_uuid(s).map(EvidenceId))
        .collect::<Result<Vec<_>>>()?;
        let objects = sqlx::query_as::<_, (String, String)>(
            "SELECT object_kind, object_id FROM finding_objects WHERE institution_id = $1 AND finding_id = $2 ORDER BY object_kind, object_id",
        )
        .bind(&inst)
        .bind(id_str(id))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|(k, i)| {
            Ok(ObjectRef {
                kind: RecordKind::parse(k).ok_or_else(|| StoreError::Corrupt(format!("object kind {k:?}")))?,
                id: RecordId(parse_uuid(i)?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(Some(Finding {
            id,
            rule: r.try_get("rule")?,
            severity: Severity::parse(&severity)
                .ok_or_else(|| StoreError::Corrupt(format!("severity {severity:?}")))?,
            status: FindingStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
            title: r.try_get("title")?,
            detail: r.try_get("detail")?,
            remediation: r.try_get("remediation")?,
            objects,
            evidence,
            history,
            first_seen: parse_ts(&r.try_get::<String, _>("first_seen")?)?,
            last_seen: parse_ts(&r.try_get::<String, _>("last_seen")?)?,
        }))
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn schema_status(&self) -> Result<SchemaStatus> {
        schema_status(&self.reader).await
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM system_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn set_setting(&self, key: &str, value: &str, audit: &AuditDraft) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO system_settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(ts(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        let mut w = load_chain(&mut tx, Chain::System).await?;
        append(&mut tx, &mut w, audit).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_institution(&self, i: &Institution, actor: &str) -> Result<Scope> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO institutions (id, name, kind, medical_code, demo, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id_str(i.id))
        .bind(&i.name)
        .bind(i.kind.as_str())
        .bind(&i.medical_code)
        .bind(i64::from(i.demo))
        .bind(ts(i.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify_write(e, "institution", i.id.to_string()))?;
        let details = json!({"name": i.name, "kind": i.kind.as_str(), "demo": i.demo});
        let mut sys = load_chain(&mut tx, Chain::System).await?;
        append(
            &mut tx,
            &mut sys,
            &AuditDraft::new(actor, "institution.create").object("institution", i.id).details(details.clone()),
        )
        .await?;
        save_chain(&mut tx, &sys).await?;
        let mut own = load_chain(&mut tx, Chain::Institution(i.id)).await?;
        append(
            &mut tx,
            &mut own,
            &AuditDraft::new(actor, "institution.create").object("institution", i.id).details(details),
        )
        .await?;
        save_chain(&mut tx, &own).await?;
        tx.commit().await?;
        Ok(Scope { institution: i.id })
    }

    async fn list_institutions(&self) -> Result<Vec<Institution>> {
        sqlx::query("SELECT id, name, kind, medical_code, demo, created_at FROM institutions ORDER BY created_at, id")
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(decode_institution)
            .collect()
    }

    async fn scope(&self, id: InstitutionId) -> Result<Scope> {
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM institutions WHERE id = $1")
            .bind(id_str(id))
            .fetch_optional(&self.reader)
            .await?;
        match found {
            Some(_) => Ok(Scope { institution: id }),
            None => Err(StoreError::NotFound { what: "institution", id: id.to_string() }),
        }
    }

    async fn institution(&self, scope: &Scope) -> Result<Institution> {
        let r = sqlx::query("SELECT id, name, kind, medical_code, demo, created_at FROM institutions WHERE id = $1")
            .bind(id_str(scope.institution()))
            .fetch_one(&self.reader)
            .await?;
        decode_institution(&r)
    }

    async fn put_rows(&self, scope: &Scope, rows: &[Row], actor: &str, progress: Progress<'_>) -> Result<WriteSummary> {
        // Validate everything before the first write.
        for (index, row) in rows.iter().enumerate() {
            mamori_domain::ledger::check_row(row)
                .map_err(|e| StoreError::InRow { index, source: Box::new(e.into()) })?;
        }
        let inst = id_str(scope.institution());
        let now = time_fmt::now();
        let mut summary = WriteSummary::default();
        let mut tx = self.begin_write().await?;
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        for (index, row) in rows.iter().enumerate() {
            let in_row = |e: StoreError| StoreError::InRow { index, source: Box::new(e) };
            let existing = sqlx::query(AssertSqlSafe(sql::select_one(row.kind)))
                .bind(&inst)
                .bind(id_str(row.id))
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| decode_row(row.kind, &r))
                .transpose()?;
            let draft = match existing {
                None => {
                    let mut args = SqliteArguments::default();
                    add(&mut args, id_str(row.id))?;
                    add(&mut args, inst.clone())?;
                    for f in row.kind.fields() {
                        add_value(&mut args, row.get(f.name))?;
                    }
                    add(&mut args, ts(now))?;
                    add(&mut args, ts(now))?;
                    sqlx::query_with(AssertSqlSafe(sql::insert(row.kind)), args)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| in_row(write_error(e, row)))?;
                    summary.created += 1;
                    AuditDraft::new(actor, "record.create")
                        .object(row.kind.as_str(), row.id)
                        .details(json!({"fields": row.to_json()}))
                }
                Some(old) => {
                    let changed = row.diff(&old);
                    if changed.is_empty() {
                        summary.unchanged += 1;
                        progress(index as u64 + 1);
                        continue;
                    }
                    let mut args = SqliteArguments::default();
                    for f in row.kind.fields() {
                        add_value(&mut args, row.get(f.name))?;
                    }
                    add(&mut args, ts(now))?;
                    add(&mut args, inst.clone())?;
                    add(&mut args, id_str(row.id))?;
                    sqlx::query_with(AssertSqlSafe(sql::update(row.kind)), args)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| in_row(write_error(e, row)))?;
                    summary.updated += 1;
                    AuditDraft::new(actor, "record.update")
                        .object(row.kind.as_str(), row.id)
                        .details(json!({"changed": changed}))
                }
            };
            append(&mut tx, &mut chain, &draft).await?;
            progress(index as u64 + 1);
        }
        save_chain(&mut tx, &chain).await?;
        tx.commit().await?;
        Ok(summary)
    }

    async fn get_row(&self, scope: &Scope, kind: RecordKind, id: RecordId) -> Result<Option<Row>> {
        sqlx::query(AssertSqlSafe(sql::select_one(kind)))
            .bind(id_str(scope.institution()))
            .bind(id_str(id))
            .fetch_optional(&self.reader)
            .await?
            .map(|r| decode_row(kind, &r))
            .transpose()
    }

    async fn list_rows(&self, scope: &Scope, kind: RecordKind, query: &RecordQuery) -> Result<Vec<Row>> {
        let l = sql::list(kind, query, sql::Dialect::Sqlite)?;
        let mut args = SqliteArguments::default();
        add(&mut args, id_str(scope.institution()))?;
        for v in &l.binds {
            add_value(&mut args, v)?;
        }
        add(&mut args, l.limit)?;
        add(&mut args, l.offset)?;
        sqlx::query_with(AssertSqlSafe(l.sql), args)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|r| decode_row(kind, r))
            .collect()
    }

    async fn count_rows(&self, scope: &Scope, kind: RecordKind) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql::count(kind)))
            .bind(id_str(scope.institution()))
            .fetch_one(&self.reader)
            .await?;
        Ok(n as u64)
    }

    async fn ledger_updated_at(&self, scope: &Scope, kind: RecordKind) -> Result<Option<OffsetDateTime>> {
        let newest: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT MAX(updated_at) FROM {} WHERE institution_id = $1",
            kind.table()
        )))
        .bind(id_str(scope.institution()))
        .fetch_one(&self.reader)
        .await?;
        newest.as_deref().map(parse_ts).transpose()
    }

    async fn count_matching(&self, scope: &Scope, kind: RecordKind, query: &RecordQuery) -> Result<u64> {
        let (sql, binds) = sql::count_matching(kind, query, sql::Dialect::Sqlite)?;
        let mut args = SqliteArguments::default();
        add(&mut args, id_str(scope.institution()))?;
        for v in &binds {
            add_value(&mut args, v)?;
        }
        let n: i64 = sqlx::query_scalar_with(AssertSqlSafe(sql), args).fetch_one(&self.reader).await?;
        Ok(n as u64)
    }

    async fn delete_row(&self, scope: &Scope, kind: RecordKind, id: RecordId, actor: &str) -> Result<bool> {
        let inst = id_str(scope.institution());
        let mut tx = self.begin_write().await?;
        let Some(old) = sqlx::query(AssertSqlSafe(sql::select_one(kind)))
            .bind(&inst)
            .bind(id_str(id))
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| decode_row(kind, &r))
            .transpose()?
        else {
            return Ok(false);
        };
        sqlx::query(AssertSqlSafe(sql::delete(kind)))
            .bind(&inst)
            .bind(id_str(id))
            .execute(&mut *tx)
            .await
            .map_err(|e| classify_write(e, kind.as_str(), id.to_string()))?;
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        let draft =
            AuditDraft::new(actor, "record.delete").object(kind.as_str(), id).details(json!({"fields": old.to_json()}));
        append(&mut tx, &mut chain, &draft).await?;
        save_chain(&mut tx, &chain).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn put_evidence(&self, scope: &Scope, e: &Evidence, file: Option<&Attachment>, actor: &str) -> Result<()> {
        crate::check_attachment(e, file)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO evidence (id, institution_id, kind, summary, data, source, job_id, content_hash, observed_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id_str(e.id))
        .bind(id_str(scope.institution()))
        .bind(&e.kind)
        .bind(&e.summary)
        .bind(e.data.to_string())
        .bind(&e.source)
        .bind(e.job_id.map(id_str))
        .bind(&e.content_hash)
        .bind(ts(e.observed_at))
        .bind(ts(time_fmt::now()))
        .execute(&mut *tx)
        .await
        .map_err(|err| classify_write(err, "evidence", e.id.to_string()))?;
        if let Some(f) = file {
            sqlx::query(
                "INSERT INTO attachments (institution_id, evidence_id, name, media_type, size, content, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id_str(scope.institution()))
            .bind(id_str(e.id))
            .bind(&f.name)
            .bind(&f.media_type)
            .bind(f.bytes.len() as i64)
            .bind(&f.bytes)
            .bind(ts(time_fmt::now()))
            .execute(&mut *tx)
            .await?;
        }
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        let draft = crate::evidence_audit(actor, e, file);
        append(&mut tx, &mut chain, &draft).await?;
        save_chain(&mut tx, &chain).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_attachment(&self, scope: &Scope, id: EvidenceId) -> Result<Option<Attachment>> {
        let Some(r) = sqlx::query(
            "SELECT name, media_type, content FROM attachments WHERE institution_id = $1 AND evidence_id = $2",
        )
        .bind(id_str(scope.institution()))
        .bind(id_str(id))
        .fetch_optional(&self.reader)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(Attachment {
            name: r.try_get("name")?,
            media_type: r.try_get("media_type")?,
            bytes: r.try_get("content")?,
        }))
    }

    async fn list_evidence(&self, scope: &Scope, kind: &str, limit: u32) -> Result<Vec<Evidence>> {
        sqlx::query(
            "SELECT id, kind, summary, data, source, job_id, content_hash, observed_at FROM evidence \
             WHERE institution_id = $1 AND kind = $2 ORDER BY observed_at DESC, id DESC LIMIT $3",
        )
        .bind(id_str(scope.institution()))
        .bind(kind)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(decode_evidence)
        .collect()
    }

    async fn get_evidence(&self, scope: &Scope, id: EvidenceId) -> Result<Option<Evidence>> {
        sqlx::query(
            "SELECT id, kind, summary, data, source, job_id, content_hash, observed_at FROM evidence \
             WHERE institution_id = $1 AND id = $2",
        )
        .bind(id_str(scope.institution()))
        .bind(id_str(id))
        .fetch_optional(&self.reader)
        .await?
        .as_ref()
        .map(decode_evidence)
        .transpose()
    }

    async fn create_finding(&self, scope: &Scope, f: &Finding, actor: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.insert_finding(&mut tx, scope, f, None, actor).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn observe_finding(&self, scope: &Scope, f: &Finding, key: &str, actor: &str) -> Result<(FindingId, bool)> {
        f.check()?;
        let mut tx = self.begin_write().await?;
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM findings WHERE institution_id = $1 AND dedup_key = $2 AND status <> 'resolved' \
             ORDER BY first_seen DESC LIMIT 1",
        )
        .bind(id_str(scope.institution()))
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = existing else {
            self.insert_finding(&mut tx, scope, f, Some(key), actor).await?;
            tx.commit().await?;
            return Ok((f.id, true));
        };
        let id = FindingId(parse_uuid(&id)?);
        sqlx::query("UPDATE findings SET last_seen = $1, updated_at = $2 WHERE institution_id = $3 AND id = $4")
            .bind(ts(f.last_seen))
            .bind(ts(time_fmt::now()))
            .bind(id_str(scope.institution()))
            .bind(id_str(id))
            .execute(&mut *tx)
            .await?;
        for ev in &f.evidence {
            sqlx::query(
                "INSERT INTO finding_evidence (institution_id, finding_id, evidence_id) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id_str(scope.institution()))
            .bind(id_str(id))
            .bind(id_str(*ev))
            .execute(&mut *tx)
            .await?;
        }
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        let draft = AuditDraft::new(actor, "finding.seen")
            .object("finding", id)
            .details(json!({"rule": f.rule, "evidence": f.evidence}));
        append(&mut tx, &mut chain, &draft).await?;
        save_chain(&mut tx, &chain).await?;
        tx.commit().await?;
        Ok((id, false))
    }

    async fn get_finding(&self, scope: &Scope, id: FindingId) -> Result<Option<Finding>> {
        self.load_finding(scope, id).await
    }

    async fn finding_counts(&self, scope: &Scope) -> Result<Vec<crate::FindingCount>> {
        sqlx::query_as::<_, (String, String, i64)>(crate::FINDING_COUNTS)
            .bind(id_str(scope.institution()))
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|(sev, st, n)| crate::finding_count(sev, st, *n))
            .collect()
    }

    async fn list_findings(&self, scope: &Scope, q: &FindingQuery) -> Result<Vec<Finding>> {
        let min = q.min_severity.unwrap_or(Severity::Info);
        let severities: Vec<&str> = Severity::ALL.into_iter().filter(|s| *s >= min).map(Severity::as_str).collect();
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM findings WHERE institution_id = $1 AND ($2 IS NULL OR status = $2) \
             AND severity IN (SELECT value FROM json_each($3)) \
             ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END, \
             first_seen, id LIMIT $4",
        )
        .bind(id_str(scope.institution()))
        .bind(q.status.map(FindingStatus::as_str))
        .bind(serde_json::to_string(&severities).expect("strings serialise"))
        .bind(q.limit.map_or(i64::MAX, i64::from))
        .fetch_all(&self.reader)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(f) = self.load_finding(scope, FindingId(parse_uuid(&id)?)).await? {
                out.push(f);
            }
        }
        Ok(out)
    }

    async fn set_finding_status(
        &self,
        scope: &Scope,
        id: FindingId,
        to: FindingStatus,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Finding> {
        let inst = id_str(scope.institution());
        let mut tx = self.begin_write().await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT status FROM findings WHERE institution_id = $1 AND id = $2")
                .bind(&inst)
                .bind(id_str(id))
                .fetch_optional(&mut *tx)
                .await?;
        let Some(current) = current else {
            return Err(StoreError::NotFound { what: "finding", id: id.to_string() });
        };
        let mut probe = Finding::new("x", Severity::Info, "x", vec![]);
        probe.status =
            FindingStatus::parse(&current).ok_or_else(|| StoreError::Corrupt(format!("status {current:?}")))?;
        let change = probe.change_status(to, actor, reason)?;
        let position: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM finding_history WHERE institution_id = $1 AND finding_id = $2",
        )
        .bind(&inst)
        .bind(id_str(id))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE findings SET status = $1, updated_at = $2 WHERE institution_id = $3 AND id = $4")
            .bind(to.as_str())
            .bind(ts(change.at))
            .bind(&inst)
            .bind(id_str(id))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO finding_history (institution_id, finding_id, position, status, actor, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&inst)
            .bind(id_str(id))
            .bind(position)
            .bind(to.as_str())
            .bind(actor)
            .bind(&change.reason)
            .bind(ts(change.at))
            .execute(&mut *tx)
            .await?;
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        let draft = AuditDraft::new(actor, "finding.status").object("finding", id).details(json!({
            "from": current, "to": to.as_str(), "reason": change.reason,
        }));
        append(&mut tx, &mut chain, &draft).await?;
        save_chain(&mut tx, &chain).await?;
        tx.commit().await?;
        self.load_finding(scope, id).await?.ok_or_else(|| StoreError::NotFound { what: "finding", id: id.to_string() })
    }

    async fn insert_job(&self, job: &Job) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO jobs ({JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        )))
        .bind(id_str(job.id))
        .bind(job.institution_id.map(id_str))
        .bind(&job.kind)
        .bind(job.status.as_str())
        .bind(job.progress_done as i64)
        .bind(job.progress_total.map(|t| t as i64))
        .bind(&job.message)
        .bind(job.params.to_string())
        .bind(job.result.as_ref().map(|r| r.to_string()))
        .bind(&job.error)
        .bind(i64::from(job.cancel_requested))
        .bind(&job.runner)
        .bind(&job.created_by)
        .bind(ts(job.created_at))
        .bind(job.started_at.map(ts))
        .bind(job.heartbeat_at.map(ts))
        .bind(job.finished_at.map(ts))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify_write(e, "job", job.id.to_string()))?;
        let chain = job.institution_id.map_or(Chain::System, Chain::Institution);
        let mut w = load_chain(&mut tx, chain).await?;
        let draft =
            AuditDraft::new(&job.created_by, "job.create").object("job", job.id).details(json!({"kind": job.kind}));
        append(&mut tx, &mut w, &draft).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn start_job(&self, id: JobId, runner: &str) -> Result<()> {
        let now = ts(time_fmt::now());
        let done = sqlx::query(
            "UPDATE jobs SET status = 'running', runner = $1, started_at = $2, heartbeat_at = $2 WHERE id = $3 AND status = 'queued'",
        )
        .bind(runner)
        .bind(&now)
        .bind(id_str(id))
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Invalid(format!("job {id} is not queued")));
        }
        Ok(())
    }

    async fn update_job_progress(
        &self,
        id: JobId,
        done: u64,
        total: Option<u64>,
        message: Option<&str>,
    ) -> Result<bool> {
        let cancel: Option<i64> = sqlx::query_scalar(
            "UPDATE jobs SET progress_done = $1, progress_total = COALESCE($2, progress_total), \
             message = COALESCE($3, message), heartbeat_at = $4 WHERE id = $5 RETURNING cancel_requested",
        )
        .bind(done as i64)
        .bind(total.map(|t| t as i64))
        .bind(message)
        .bind(ts(time_fmt::now()))
        .bind(id_str(id))
        .fetch_optional(&self.writer)
        .await?;
        cancel.map(|c| c != 0).ok_or_else(|| StoreError::NotFound { what: "job", id: id.to_string() })
    }

    async fn finish_job(
        &self,
        id: JobId,
        status: JobStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()> {
        if !status.is_finished() {
            return Err(StoreError::Invalid(format!("{status:?} is not a final job status")));
        }
        let mut tx = self.begin_write().await?;
        let inst: Option<Option<String>> = sqlx::query_scalar(
            "UPDATE jobs SET status = $1, result = $2, error = $3, finished_at = $4 WHERE id = $5 AND status IN ('queued', 'running') RETURNING institution_id",
        )
        .bind(status.as_str())
        .bind(result.map(|r| r.to_string()))
        .bind(error)
        .bind(ts(time_fmt::now()))
        .bind(id_str(id))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(inst) = inst else {
            return Err(StoreError::JobFinished { id: id.to_string() });
        };
        let chain = match inst {
            Some(s) => Chain::Institution(parse_uuid(&s)?.into()),
            None => Chain::System,
        };
        let mut w = load_chain(&mut tx, chain).await?;
        let draft = AuditDraft::new("system", "job.finish")
            .object("job", id)
            .details(json!({"status": status.as_str(), "error": error}));
        append(&mut tx, &mut w, &draft).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn request_job_cancel(&self, id: JobId, actor: &str) -> Result<Job> {
        let mut tx = self.begin_write().await?;
        let Some(r) = sqlx::query(AssertSqlSafe(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1")))
            .bind(id_str(id))
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Err(StoreError::NotFound { what: "job", id: id.to_string() });
        };
        let job = decode_job(&r)?;
        if job.status.is_finished() {
            return Err(StoreError::JobFinished { id: id.to_string() });
        }
        if job.status == JobStatus::Queued {
            sqlx::query("UPDATE jobs SET status = 'cancelled', cancel_requested = 1, finished_at = $1 WHERE id = $2")
                .bind(ts(time_fmt::now()))
                .bind(id_str(id))
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE id = $1")
                .bind(id_str(id))
                .execute(&mut *tx)
                .await?;
        }
        let chain = job.institution_id.map_or(Chain::System, Chain::Institution);
        let mut w = load_chain(&mut tx, chain).await?;
        append(
            &mut tx,
            &mut w,
            &AuditDraft::new(actor, "job.cancel").object("job", id).details(json!({"kind": job.kind})),
        )
        .await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        self.get_job(id).await?.ok_or_else(|| StoreError::NotFound { what: "job", id: id.to_string() })
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1")))
            .bind(id_str(id))
            .fetch_optional(&self.reader)
            .await?
            .map(|r| decode_job(&r))
            .transpose()
    }

    async fn list_jobs(&self, q: &JobQuery) -> Result<Vec<Job>> {
        let inst = match q.scope {
            JobScope::All => None,
            JobScope::Institution(i) => Some(id_str(i)),
        };
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 IS NULL OR institution_id = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        )))
        .bind(inst)
        .bind(q.status.map(JobStatus::as_str))
        .bind(i64::from(q.limit))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(decode_job)
        .collect()
    }

    async fn mark_jobs_interrupted(&self, ids: &[JobId]) -> Result<u64> {
        let mut n = 0;
        let mut tx = self.begin_write().await?;
        for id in ids {
            let inst: Option<Option<String>> = sqlx::query_scalar(
                "UPDATE jobs SET status = 'interrupted', finished_at = $1, error = 'process ended while the job ran' \
                 WHERE id = $2 AND status = 'running' RETURNING institution_id",
            )
            .bind(ts(time_fmt::now()))
            .bind(id_str(id))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(inst) = inst {
                n += 1;
                let chain = match inst {
                    Some(s) => Chain::Institution(parse_uuid(&s)?.into()),
                    None => Chain::System,
                };
                let mut w = load_chain(&mut tx, chain).await?;
                append(&mut tx, &mut w, &AuditDraft::new("system", "job.interrupted").object("job", id)).await?;
                save_chain(&mut tx, &w).await?;
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn append_audit(&self, chain: Chain, draft: &AuditDraft) -> Result<AuditEvent> {
        let mut tx = self.begin_write().await?;
        let mut w = load_chain(&mut tx, chain).await?;
        let e = append(&mut tx, &mut w, draft).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(e)
    }

    async fn audit_heads(&self) -> Result<Vec<ChainHead>> {
        sqlx::query_as::<_, (String, i64, String)>("SELECT chain, seq, hash FROM audit_heads ORDER BY chain")
            .fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(|(c, seq, hash)| {
                Ok(ChainHead {
                    chain: Chain::parse(&c).ok_or_else(|| StoreError::Corrupt(format!("audit chain {c:?}")))?,
                    seq: seq.max(0) as u64,
                    hash,
                })
            })
            .collect()
    }

    async fn audit_events(&self, chain: Chain, after_seq: u64, limit: u32) -> Result<Vec<AuditEvent>> {
        sqlx::query(SELECT_EVENTS)
            .bind(chain.to_string())
            .bind(after_seq as i64)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(decode_event)
            .collect()
    }

    async fn object_history(&self, scope: &Scope, kind: &str, id: &str, limit: u32) -> Result<Vec<AuditEvent>> {
        sqlx::query(crate::chain::SELECT_OBJECT_EVENTS)
            .bind(scope.chain().to_string())
            .bind(kind)
            .bind(id)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(decode_event)
            .collect()
    }

    async fn put_checklist_answers(
        &self,
        scope: &Scope,
        key: &ChecklistKey,
        answers: &[(String, Option<String>, serde_json::Value)],
        actor: &str,
    ) -> Result<u64> {
        let inst = id_str(scope.institution());
        let now = time_fmt::now();
        let mut tx = self.begin_write().await?;
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        let mut changed = 0;
        for (item, class, answer) in answers {
            let old: Option<String> = sqlx::query_scalar(
                "SELECT answer FROM checklist_answers WHERE institution_id = $1 AND fiscal_year = $2 AND form = $3 \
                 AND vendor_key = $4 AND item_id = $5 AND device_class = $6",
            )
            .bind(&inst)
            .bind(key.fiscal_year)
            .bind(&key.form)
            .bind(key.vendor_key())
            .bind(item)
            .bind(class.as_deref().unwrap_or(""))
            .fetch_optional(&mut *tx)
            .await?;
            if old.as_deref().and_then(|o| serde_json::from_str::<serde_json::Value>(o).ok()).as_ref() == Some(answer) {
                continue;
            }
            sqlx::query(
                "INSERT INTO checklist_answers (institution_id, fiscal_year, form, vendor_key, item_id, device_class, \
                 answer, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (institution_id, fiscal_year, form, vendor_key, item_id, device_class) \
                 DO UPDATE SET answer = excluded.answer, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(&inst)
            .bind(key.fiscal_year)
            .bind(&key.form)
            .bind(key.vendor_key())
            .bind(item)
            .bind(class.as_deref().unwrap_or(""))
            .bind(answer.to_string())
            .bind(ts(now))
            .bind(actor)
            .execute(&mut *tx)
            .await?;
            let draft = AuditDraft::new(actor, "checklist.answer")
                .object("checklist", key.object_id(item, class.as_deref()))
                .details(json!({"answer": answer}));
            append(&mut tx, &mut chain, &draft).await?;
            changed += 1;
        }
        save_chain(&mut tx, &chain).await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn checklist_answers(&self, scope: &Scope, key: &ChecklistKey) -> Result<Vec<StoredAnswer>> {
        sqlx::query(
            "SELECT item_id, device_class, answer, updated_at, updated_by FROM checklist_answers \
             WHERE institution_id = $1 AND fiscal_year = $2 AND form = $3 AND vendor_key = $4 ORDER BY item_id, device_class",
        )
        .bind(id_str(scope.institution()))
        .bind(key.fiscal_year)
        .bind(&key.form)
        .bind(key.vendor_key())
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|r| {
            let class: String = r.try_get("device_class")?;
            Ok(StoredAnswer {
                item_id: r.try_get("item_id")?,
                device_class: (!class.is_empty()).then_some(class),
                answer: serde_json::from_str(&r.try_get::<String, _>("answer")?)
                    .map_err(|e| StoreError::Corrupt(format!("checklist answer: {e}")))?,
                updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?)?,
                updated_by: r.try_get("updated_by")?,
            })
        })
        .collect()
    }

    async fn put_checklist_edition(&self, e: &StoredEdition) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO checklist_editions (id, fiscal_year, definition, source, source_hash, imported_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&e.id)
        .bind(e.fiscal_year)
        .bind(&e.definition)
        .bind(&e.source)
        .bind(&e.source_hash)
        .bind(&e.imported_by)
        .bind(ts(e.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|err| classify_write(err, "checklist edition", e.id.clone()))?;
        let mut w = load_chain(&mut tx, Chain::System).await?;
        append(&mut tx, &mut w, &crate::edition_audit(e)).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn checklist_editions(&self) -> Result<Vec<StoredEdition>> {
        sqlx::query(
            "SELECT id, fiscal_year, definition, source, source_hash, imported_by, created_at FROM checklist_editions \
             ORDER BY fiscal_year, created_at",
        )
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredEdition {
                id: r.try_get("id")?,
                fiscal_year: r.try_get("fiscal_year")?,
                definition: r.try_get("definition")?,
                source: r.try_get("source")?,
                source_hash: r.try_get("source_hash")?,
                imported_by: r.try_get("imported_by")?,
                created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
            })
        })
        .collect()
    }

    async fn set_checklist_assignment(
        &self,
        scope: &Scope,
        a: &ChecklistAssignment,
        assigned: bool,
        actor: &str,
    ) -> Result<()> {
        let inst = id_str(scope.institution());
        let mut tx = self.begin_write().await?;
        if assigned {
            sqlx::query(
                "INSERT INTO checklist_assignments (institution_id, fiscal_year, form, vendor_id, user_id, assigned_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (institution_id, fiscal_year, form, vendor_id) \
                 DO UPDATE SET user_id = excluded.user_id, assigned_by = excluded.assigned_by",
            )
            .bind(&inst)
            .bind(a.fiscal_year)
            .bind(&a.form)
            .bind(id_str(a.vendor))
            .bind(a.user.map(id_str))
            .bind(actor)
            .bind(ts(time_fmt::now()))
            .execute(&mut *tx)
            .await
            .map_err(|e| classify_write(e, "vendor", a.vendor.to_string()))?;
        } else {
            sqlx::query(
                "DELETE FROM checklist_assignments WHERE institution_id = $1 AND fiscal_year = $2 AND form = $3 AND vendor_id = $4",
            )
            .bind(&inst)
            .bind(a.fiscal_year)
            .bind(&a.form)
            .bind(id_str(a.vendor))
            .execute(&mut *tx)
            .await?;
        }
        let mut w = load_chain(&mut tx, scope.chain()).await?;
        append(&mut tx, &mut w, &crate::assignment_audit(a, assigned, actor)).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn checklist_assignments(&self, scope: &Scope) -> Result<Vec<ChecklistAssignment>> {
        sqlx::query(
            "SELECT fiscal_year, form, vendor_id, user_id FROM checklist_assignments WHERE institution_id = $1 \
             ORDER BY fiscal_year, form, vendor_id",
        )
        .bind(id_str(scope.institution()))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|r| {
            let user: Option<String> = r.try_get("user_id")?;
            Ok(ChecklistAssignment {
                fiscal_year: r.try_get("fiscal_year")?,
                form: r.try_get("form")?,
                vendor: RecordId(parse_uuid(&r.try_get::<String, _>("vendor_id")?)?),
                user: user.map(|u| parse_uuid(&u).map(UserId)).transpose()?,
            })
        })
        .collect()
    }

    async fn get_institution_setting(&self, scope: &Scope, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM institution_settings WHERE institution_id = $1 AND key = $2")
            .bind(id_str(scope.institution()))
            .bind(key)
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn set_institution_setting(&self, scope: &Scope, key: &str, value: &str, actor: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO institution_settings (institution_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (institution_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(id_str(scope.institution()))
        .bind(key)
        .bind(value)
        .bind(ts(time_fmt::now()))
        .execute(&mut *tx)
        .await?;
        let mut w = load_chain(&mut tx, scope.chain()).await?;
        append(&mut tx, &mut w, &AuditDraft::new(actor, "setting.set").details(json!({"key": key}))).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_user(&self, user: &User, memberships: &[Membership], actor: &str) -> Result<()> {
        check_memberships(user, memberships)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO users ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            USER_COLUMNS.replace("u.", "")
        )))
        .bind(id_str(user.id))
        .bind(&user.login)
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(&user.totp_secret)
        .bind(user.totp_last_step)
        .bind(i64::from(user.installation_admin))
        .bind(i64::from(user.disabled))
        .bind(failed_logins(user.failed_logins))
        .bind(user.locked_until.map(ts))
        .bind(ts(user.password_changed_at))
        .bind(user.last_login_at.map(ts))
        .bind(ts(user.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify_write(e, "user", user.login.clone()))?;
        let mut sys = load_chain(&mut tx, Chain::System).await?;
        let draft = AuditDraft::new(actor, "user.create").object("user", user.id).details(json!({
            "login": user.login, "display_name": user.display_name, "installation_admin": user.installation_admin,
        }));
        append(&mut tx, &mut sys, &draft).await?;
        save_chain(&mut tx, &sys).await?;
        let now = ts(time_fmt::now());
        for m in memberships {
            sqlx::query("INSERT INTO memberships (user_id, institution_id, role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(id_str(user.id))
                .bind(id_str(m.institution_id))
                .bind(m.role.as_str())
                .bind(&now)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    not_found(
                        classify_write(e, "institution", m.institution_id.to_string()),
                        "institution",
                        m.institution_id,
                    )
                })?;
            let mut w = load_chain(&mut tx, Chain::Institution(m.institution_id)).await?;
            append(&mut tx, &mut w, &membership_draft(actor, user.id, &user.login, None, Some(m.role))).await?;
            save_chain(&mut tx, &w).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1")))
            .bind(id_str(id))
            .fetch_optional(&self.reader)
            .await?
            .map(|r| decode_user(&r))
            .transpose()
    }

    async fn find_user_by_login(&self, login: &str) -> Result<Option<User>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.login = $1")))
            .bind(login)
            .fetch_optional(&self.reader)
            .await?
            .map(|r| decode_user(&r))
            .transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.login, u.id")))
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(decode_user)
            .collect()
    }

    async fn update_user(&self, user: &User, audit: &AuditDraft) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET display_name = $1, password_hash = $2, totp_secret = $3, totp_last_step = $4, \
             installation_admin = $5, disabled = $6, failed_logins = $7, locked_until = $8, password_changed_at = $9, \
             last_login_at = $10 WHERE id = $11",
        )
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(&user.totp_secret)
        .bind(user.totp_last_step)
        .bind(i64::from(user.installation_admin))
        .bind(i64::from(user.disabled))
        .bind(failed_logins(user.failed_logins))
        .bind(user.locked_until.map(ts))
        .bind(ts(user.password_changed_at))
        .bind(user.last_login_at.map(ts))
        .bind(id_str(user.id))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "user", id: user.id.to_string() });
        }
        let mut w = load_chain(&mut tx, Chain::System).await?;
        append(&mut tx, &mut w, audit).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> Result<bool> {
        // One statement: the check and the write cannot be separated by another request.
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(id_str(user))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn memberships(&self, user: UserId) -> Result<Vec<Membership>> {
        sqlx::query_as::<_, (String, String)>(
            "SELECT m.institution_id, m.role FROM memberships m JOIN institutions i ON i.id = m.institution_id \
             WHERE m.user_id = $1 ORDER BY i.created_at, i.id",
        )
        .bind(id_str(user))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|(inst, role)| {
            Ok(Membership { user_id: user, institution_id: InstitutionId(parse_uuid(inst)?), role: parse_role(role)? })
        })
        .collect()
    }

    async fn institution_users(&self, scope: &Scope) -> Result<Vec<(User, Role)>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, m.role AS membership_role FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.institution_id = $1 ORDER BY u.login, u.id"
        )))
        .bind(id_str(scope.institution()))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|r| Ok((decode_user(r)?, parse_role(&r.try_get::<String, _>("membership_role")?)?)))
        .collect()
    }

    async fn set_membership(&self, scope: &Scope, user: UserId, role: Option<Role>, actor: &str) -> Result<()> {
        let inst = id_str(scope.institution());
        let mut tx = self.begin_write().await?;
        let login: Option<String> = sqlx::query_scalar("SELECT login FROM users WHERE id = $1")
            .bind(id_str(user))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(login) = login else {
            return Err(StoreError::NotFound { what: "user", id: user.to_string() });
        };
        let from: Option<String> =
            sqlx::query_scalar("SELECT role FROM memberships WHERE user_id = $1 AND institution_id = $2")
                .bind(id_str(user))
                .bind(&inst)
                .fetch_optional(&mut *tx)
                .await?;
        let from = from.map(|r| parse_role(&r)).transpose()?;
        if from == role {
            // Nothing changes, so nothing is audited (as for an unchanged record).
            return Ok(());
        }
        match role {
            Some(r) => {
                sqlx::query(
                    "INSERT INTO memberships (user_id, institution_id, role, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id, institution_id) DO UPDATE SET role = excluded.role",
                )
                .bind(id_str(user))
                .bind(&inst)
                .bind(r.as_str())
                .bind(ts(time_fmt::now()))
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND institution_id = $2")
                    .bind(id_str(user))
                    .bind(&inst)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let mut w = load_chain(&mut tx, scope.chain()).await?;
        append(&mut tx, &mut w, &membership_draft(actor, user, &login, from, role)).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_session(&self, s: &Session) -> Result<()> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )))
        .bind(&s.id_hash)
        .bind(id_str(s.user_id))
        .bind(&s.csrf_token)
        .bind(i64::from(s.mfa_pending))
        .bind(ts(s.created_at))
        .bind(ts(s.last_seen_at))
        .bind(ts(s.expires_at))
        .bind(&s.ip)
        .bind(&s.user_agent)
        .execute(&self.writer)
        .await
        .map_err(|e| not_found(classify_write(e, "session", s.id_hash.clone()), "user", s.user_id))?;
        Ok(())
    }

    async fn get_session(&self, id_hash: &str) -> Result<Option<Session>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1")))
            .bind(id_hash)
            .fetch_optional(&self.reader)
            .await?
            .map(|r| decode_session(&r))
            .transpose()
    }

    async fn touch_session(&self, id_hash: &str, at: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(ts(at))
            .bind(id_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.writer).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_sessions(&self, user: Option<UserId>) -> Result<Vec<Session>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE ($1 IS NULL OR user_id = $1) ORDER BY created_at DESC, id_hash"
        )))
        .bind(user.map(id_str))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(decode_session)
        .collect()
    }

    async fn revoke_sessions(&self, user: UserId, actor: &str) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id_str(user))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut w = load_chain(&mut tx, Chain::System).await?;
        let draft = AuditDraft::new(actor, "session.revoke_all")
            .object("user", user)
            .details(json!({"user": user, "count": n}));
        append(&mut tx, &mut w, &draft).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(ts(now)).execute(&self.writer).await?;
        Ok(done.rows_affected())
    }

    async fn insert_api_token(&self, t: &ApiToken) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if let Some(user) = t.user_id {
            let found: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
                .bind(id_str(user))
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound { what: "user", id: user.to_string() });
            }
        }
        if let Some(inst) = t.institution_id {
            let found: Option<String> = sqlx::query_scalar("SELECT id FROM institutions WHERE id = $1")
                .bind(id_str(inst))
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound { what: "institution", id: inst.to_string() });
            }
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )))
        .bind(id_str(t.id))
        .bind(&t.name)
        .bind(&t.token_hash)
        .bind(t.user_id.map(id_str))
        .bind(t.institution_id.map(id_str))
        .bind(t.role.map(Role::as_str))
        .bind(&t.created_by)
        .bind(ts(t.created_at))
        .bind(t.last_used_at.map(ts))
        .bind(t.revoked_at.map(ts))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify_write(e, "api token", t.name.clone()))?;
        let mut w = load_chain(&mut tx, Chain::System).await?;
        append(
            &mut tx,
            &mut w,
            &AuditDraft::new(&t.created_by, "api_token.create").object("api_token", t.id).details(json!({
                "name": t.name, "user": t.user_id, "institution": t.institution_id, "role": t.role.map(Role::as_str),
            })),
        )
        .await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        // A token acts for its user, so a disabled user's tokens stop working with them.
        let r = sqlx::query(AssertSqlSafe(format!(
            "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL \
             AND (user_id IS NULL OR EXISTS (SELECT 1 FROM users WHERE users.id = api_tokens.user_id AND users.disabled = 0)) \
             RETURNING {TOKEN_COLUMNS}"
        )))
        .bind(ts(time_fmt::now()))
        .bind(token_hash)
        .fetch_optional(&self.writer)
        .await?;
        r.map(|r| decode_token(&r)).transpose()
    }

    async fn list_api_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE ($1 IS NULL OR user_id = $1) ORDER BY created_at, id"
        )))
        .bind(user.map(id_str))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(decode_token)
        .collect()
    }

    async fn revoke_api_token(&self, id: ApiTokenId, actor: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(ts(time_fmt::now()))
            .bind(id_str(id))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let mut w = load_chain(&mut tx, Chain::System).await?;
        append(&mut tx, &mut w, &AuditDraft::new(actor, "api_token.revoke").object("api_token", id)).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database written by a build that knew only schema 1 upgrades, and its console
    /// tokens keep working (no user, no narrowing).
    #[tokio::test]
    async fn schema_1_upgrades_with_its_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mamori.db");
        let id = ApiTokenId::new();
        {
            let pool =
                SqlitePoolOptions::new().connect_with(connect_options(&path).create_if_missing(true)).await.unwrap();
            let mut conn = pool.acquire().await.unwrap();
            migrate::migrator(&migrate::SQLITE[..1]).run_direct(None, &mut *conn, false).await.unwrap();
            sqlx::query(
                "INSERT INTO api_tokens (id, name, token_hash, created_by, created_at) VALUES ($1, 'old', 'h', 'cli:root', $2)",
            )
            .bind(id_str(id))
            .bind(ts(time_fmt::now()))
            .execute(&mut *conn)
            .await
            .unwrap();
            drop(conn);
            pool.close().await;
        }
        let err = SqliteStore::open(&path, OpenOptions { create: false, migrate: false }).await.unwrap_err();
        assert!(matches!(err, StoreError::SchemaOutdated { found: 1, supported } if supported >= 2), "{err:?}");
        let store = SqliteStore::open(&path, OpenOptions { create: false, migrate: true }).await.unwrap();
        assert!(store.schema_status().await.unwrap().up_to_date());
        let t = store.use_api_token("h").await.unwrap().expect("the old token still works");
        assert_eq!((t.id, t.user_id, t.institution_id, t.role), (id, None, None, None));
        let migrated = store.audit_events(Chain::System, 0, 10).await.unwrap();
        let to = store.schema_status().await.unwrap().supported;
        assert_eq!(migrated.last().map(|e| e.details.clone()), Some(format!(r#"{{"from":1,"to":{to}}}"#)));
    }
}
