//! PostgreSQL, for installations where several mamori processes share one database.
//!
//! Columns use native types (uuid, timestamptz, date, boolean, text[], jsonb), except
//! `audit_events.at`, which keeps the canonical text that was hashed. Every value goes in
//! and comes out at the precision SQLite keeps (whole microseconds, UTC), so both stores
//! answer identically.
//!
//! Several processes may write at once, so every transaction that appends to an audit
//! chain first locks that chain's head row (`SELECT … FOR UPDATE`, creating a `seq = 0`
//! placeholder for a chain without entries) and holds it until commit: writers of one chain
//! run one after another, like SQLite's single writer, while other chains proceed. Locks are
//! always taken in one order (job rows, then the system chain, then institution chains) so
//! writers cannot deadlock.

use crate::chain::{ChainWriter, INSERT_EVENT, SELECT_EVENTS, UPSERT_HEAD};
use crate::error::{classify_connect, classify_write};
use crate::migrate::{self, SchemaStatus};
use crate::{
    ApiToken, Attachment, Backend, ChecklistAssignment, ChecklistKey, DbSettings, FindingQuery, JobQuery, JobScope,
    OpenOptions, Progress, RecordQuery, Result, Scope, Store, StoreError, StoredAnswer, StoredEdition, WriteSummary,
    sql,
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
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{Arguments, AssertSqlSafe, Connection, Postgres, Row as _};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// How long connecting (and waiting for a pooled connection) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The hash of the placeholder head of a chain without entries (the genesis hash).
const NO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

type Tx<'a> = sqlx::Transaction<'a, sqlx::Postgres>;

pub(crate) struct PgStore {
    pool: PgPool,
}

// Written by hand so that nothing about the connection (the URL holds a password) is ever
// printed, whatever sqlx's own `Debug` shows.
impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("connections", &self.pool.size())
            .field("idle", &self.pool.num_idle())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects, refuses a schema newer than this build, and migrates when asked.
    /// `options.create` has no meaning here: the database must exist.
    pub(crate) async fn open(settings: &DbSettings, options: OpenOptions) -> Result<Arc<dyn Store>> {
        let DbSettings::Postgres { url } = settings else {
            return Err(StoreError::Invalid("not a PostgreSQL database setting".into()));
        };
        let connect: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| StoreError::BadUrl {
            problem: "syntax",
            detail: scrub(&e.to_string(), settings),
        })?;
        let unreachable = |reason: String| StoreError::Unreachable { target: settings.redacted(), reason };

        // A connection of our own first: it reports why connecting fails (the pool retries a
        // refused connection until its timeout and then says only that it timed out), and
        // it holds the migration lock below. Closing it releases the lock whatever happens.
        let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&connect)).await {
            Err(_) => return Err(unreachable("timeout".into())),
            Ok(Err(e)) => return Err(unreachable(connect_reason(&e, settings))),
            Ok(Ok(conn)) => conn,
        };
        let migrated = prepare_schema(&mut conn, options, settings).await;
        let _ = conn.close().await;
        let migrated = migrated?;

        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(connect)
            .await
            .map_err(|e| unreachable(connect_reason(&e, settings)))?;
        let store = PgStore { pool };
        if let Some(before) = migrated {
            store.append_audit(Chain::System, &migrate::audit_draft(before)).await?;
        }
        Ok(Arc::new(store))
    }
}

/// Advisory-lock key held while checking and migrating, so that of several processes
/// starting together exactly one migrates (and audits it). ("mamori" + 1)
const MIGRATION_LOCK: i64 = 0x6d61_6d6f_7269_0001;

/// Refuses a newer schema untouched, and an outdated one unless `options.migrate`; then
/// migrates. Returns the status before migrating when this call migrated.
async fn prepare_schema(
    conn: &mut PgConnection,
    options: OpenOptions,
    settings: &DbSettings,
) -> Result<Option<SchemaStatus>> {
    // Nothing is written (not even sqlx's bookkeeping table) before these checks pass.
    let status = schema_status(conn).await?;
    if status.up_to_date() {
        return Ok(None);
    }
    if !options.migrate {
        return Err(StoreError::SchemaOutdated { found: status.current, supported: status.supported });
    }
    sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await?;
    // Another process may have migrated (or a newer mamori may have) while we waited.
    let status = schema_status(conn).await?;
    let result = if status.up_to_date() {
        Ok(None)
    } else {
        run_migrations(conn)
            .await
            .map(|()| Some(status))
            .map_err(|e| StoreError::Migration(scrub(&e.to_string(), settings)))
    };
    // Closing the connection releases the lock too, should this fail.
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await;
    result
}

/// `Migrator::run` does exactly this after acquiring a connection, but its generic
/// `Acquire<'a>` bound makes the compiler unable to prove `open`'s future `Send` for every
/// lifetime ("implementation of `Acquire` is not general enough"), so the store could not be
/// opened inside `tokio::spawn`. `run_direct` is the entry point sqlx keeps public for this.
async fn run_migrations(conn: &mut PgConnection) -> Result<(), sqlx::migrate::MigrateError> {
    migrate::migrator(migrate::POSTGRES).run_direct(None, conn, false).await
}

async fn schema_status(conn: &mut PgConnection) -> Result<SchemaStatus> {
    let table: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text").fetch_one(&mut *conn).await?;
    let applied: Vec<i64> = if table.is_some() {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&mut *conn).await?
    } else {
        Vec::new()
    };
    migrate::check(&applied, migrate::POSTGRES)
}

/// Why connecting failed: a `problem-…` code where there is one (as the SQLite store
/// reports), otherwise the driver's text, without anything secret.
fn connect_reason(e: &sqlx::Error, settings: &DbSettings) -> String {
    scrub(&classify_connect(e), settings)
}

/// Removes the URL and its password from a message, should a driver ever include them.
fn scrub(msg: &str, settings: &DbSettings) -> String {
    let DbSettings::Postgres { url } = settings else {
        return msg.to_owned();
    };
    let mut out = msg.replace(url.as_str(), &settings.redacted());
    for secret in passwords(url) {
        out = out.replace(secret, "***");
    }
    out
}

fn passwords(url: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    if let Some((userinfo, _)) = rest.rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
    {
        out.push(password);
    }
    if let Some(i) = url.find("password=") {
        let value = &url[i + "password=".len()..];
        out.push(value.split('&').next().unwrap_or_default());
    }
    out.retain(|p| !p.is_empty());
    out
}

// ---- value encoding -------------------------------------------------------------------------

/// The instant as stored: whole microseconds, UTC (what SQLite's text form keeps).
fn ts(t: OffsetDateTime) -> OffsetDateTime {
    time_fmt::canonical(t)
}

fn parse_ts(s: &str) -> Result<OffsetDateTime> {
    time_fmt::parse(s).map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

fn add<'t, T>(args: &mut PgArguments, v: T) -> Result<()>
where
    T: sqlx::Encode<'t, Postgres> + sqlx::Type<Postgres>,
{
    args.add(v).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Binds `v`; a `Null` is bound with the column's own type (PostgreSQL does not cast a
/// text NULL to uuid, date, …).
fn add_value(args: &mut PgArguments, v: &Value, ty: FieldType) -> Result<()> {
    match v {
        Value::Null => match ty {
            FieldType::Text => add(args, Option::<String>::None),
            FieldType::Int => add(args, Option::<i64>::None),
            FieldType::Bool => add(args, Option::<bool>::None),
            FieldType::Date => add(args, Option::<Date>::None),
            FieldType::Timestamp => add(args, Option::<OffsetDateTime>::None),
            FieldType::Ref => add(args, Option::<Uuid>::None),
            FieldType::TextList => add(args, Option::<Vec<String>>::None),
        },
        Value::Text(s) => add(args, s.as_str()),
        Value::Int(i) => add(args, *i),
        Value::Bool(b) => add(args, *b),
        Value::Date(d) => add(args, *d),
        Value::Timestamp(t) => add(args, ts(*t)),
        Value::Ref(u) => add(args, *u),
        // An empty list is stored as NULL, as in SQLite.
        Value::TextList(l) if l.is_empty() => add(args, Option::<Vec<String>>::None),
        Value::TextList(l) => add(args, l.clone()),
    }
}

fn decode_value(r: &PgRow, name: &str, ty: FieldType) -> Result<Value> {
    let v = match ty {
        FieldType::Text => r.try_get::<Option<String>, _>(name)?.map(Value::Text),
        FieldType::Int => r.try_get::<Option<i64>, _>(name)?.map(Value::Int),
        FieldType::Bool => r.try_get::<Option<bool>, _>(name)?.map(Value::Bool),
        FieldType::Date => r.try_get::<Option<Date>, _>(name)?.map(Value::Date),
        FieldType::Timestamp => r.try_get::<Option<OffsetDateTime>, _>(name)?.map(|t| Value::Timestamp(ts(t))),
        FieldType::Ref => r.try_get::<Option<Uuid>, _>(name)?.map(Value::Ref),
        FieldType::TextList => {
            r.try_get::<Option<Vec<String>>, _>(name)?.filter(|l| !l.is_empty()).map(Value::TextList)
        }
    };
    Ok(v.unwrap_or(Value::Null))
}

fn decode_row(kind: RecordKind, r: &PgRow) -> Result<Row> {
    let mut row = Row::new(kind, RecordId(r.try_get("id")?));
    for f in kind.fields() {
        let v = decode_value(r, f.name, f.ty)?;
        if !v.is_null() {
            row.values.insert(f.name.to_owned(), v);
        }
    }
    Ok(row)
}

fn list_sql(kind: RecordKind, q: &RecordQuery) -> Result<sql::ListSql> {
    sql::list(kind, q, sql::Dialect::Postgres)
}

// ---- errors ---------------------------------------------------------------------------------

/// Text SQLite stores but PostgreSQL refuses: a NUL character in text, or `\u0000` in JSON.
fn unstorable(e: &sqlx::Error) -> Option<StoreError> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    match db.code().as_deref() {
        Some("22021" | "22P05") => {
            Some(StoreError::Invalid(format!("the database cannot store this text: {}", db.message())))
        }
        _ => None,
    }
}

fn classify(e: sqlx::Error, what: &'static str, id: String) -> StoreError {
    match unstorable(&e) {
        Some(err) => err,
        None => classify_write(e, what, id),
    }
}

fn db(e: sqlx::Error) -> StoreError {
    unstorable(&e).unwrap_or(StoreError::Database(e))
}

/// A record write that broke a constraint, or text PostgreSQL cannot store.
fn write_error(e: sqlx::Error, row: &Row) -> StoreError {
    match unstorable(&e) {
        Some(err) => err,
        None => crate::error::write_error(e, row),
    }
}

// ---- audit helpers ----------------------------------------------------------------------------

/// Locks the head of `chain` until the transaction ends and returns a writer positioned
/// after it. A chain without entries gets a placeholder head (seq 0, genesis hash) so there
/// is a row to lock; `audit_heads()` does not report it.
async fn load_chain(conn: &mut PgConnection, chain: Chain) -> Result<ChainWriter> {
    let key = chain.to_string();
    sqlx::query("INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING")
        .bind(&key)
        .bind(NO_HASH)
        .execute(&mut *conn)
        .await?;
    let head: (i64, String) = sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE chain = $1 FOR UPDATE")
        .bind(&key)
        .fetch_one(&mut *conn)
        .await?;
    ChainWriter::from_head(chain, Some(head))
}

async fn append(conn: &mut PgConnection, w: &mut ChainWriter, draft: &AuditDraft) -> Result<AuditEvent> {
    let e = w.seal(draft);
    sqlx::query(INSERT_EVENT)
        .bind(e.id.0)
        .bind(e.chain.to_string())
        .bind(e.chain.institution().map(|i| i.0))
        .bind(e.seq as i64)
        .bind(time_fmt::format(e.at))
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.object_kind)
        .bind(&e.object_id)
        .bind(&e.details)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(e)
}

async fn save_chain(conn: &mut PgConnection, w: &ChainWriter) -> Result<()> {
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
fn decode_evidence(r: &PgRow) -> Result<Evidence> {
    Ok(Evidence {
        id: EvidenceId(r.try_get("id")?),
        kind: r.try_get("kind")?,
        summary: r.try_get("summary")?,
        data: r.try_get::<Json<serde_json::Value>, _>("data")?.0,
        source: r.try_get("source")?,
        job_id: r.try_get::<Option<Uuid>, _>("job_id")?.map(JobId),
        content_hash: r.try_get("content_hash")?,
        observed_at: ts(r.try_get("observed_at")?),
    })
}

fn decode_event(r: &PgRow) -> Result<AuditEvent> {
    let chain: String = r.try_get("chain")?;
    let seq: i64 = r.try_get("seq")?;
    Ok(AuditEvent {
        id: r.try_get::<Uuid, _>("id")?.into(),
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

fn job_chain(institution: Option<Uuid>) -> Chain {
    institution.map_or(Chain::System, |u| Chain::Institution(u.into()))
}

// ---- findings, jobs, institutions ------------------------------------------------------------

fn decode_institution(r: &PgRow) -> Result<Institution> {
    let kind: String = r.try_get("kind")?;
    Ok(Institution {
        id: r.try_get::<Uuid, _>("id")?.into(),
        name: r.try_get("name")?,
        kind: InstitutionKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("institution kind {kind:?}")))?,
        medical_code: r.try_get("medical_code")?,
        demo: r.try_get("demo")?,
        created_at: ts(r.try_get("created_at")?),
    })
}

fn opt_ts(r: &PgRow, name: &str) -> Result<Option<OffsetDateTime>> {
    Ok(r.try_get::<Option<OffsetDateTime>, _>(name)?.map(ts))
}

fn decode_job(r: &PgRow) -> Result<Job> {
    let status: String = r.try_get("status")?;
    Ok(Job {
        id: r.try_get::<Uuid, _>("id")?.into(),
        institution_id: r.try_get::<Option<Uuid>, _>("institution_id")?.map(Into::into),
        kind: r.try_get("kind")?,
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("job status {status:?}")))?,
        progress_done: r.try_get::<i64, _>("progress_done")?.max(0) as u64,
        progress_total: r.try_get::<Option<i64>, _>("progress_total")?.map(|t| t.max(0) as u64),
        message: r.try_get("message")?,
        params: r.try_get::<Json<serde_json::Value>, _>("params")?.0,
        result: r.try_get::<Option<Json<serde_json::Value>>, _>("result")?.map(|j| j.0),
        error: r.try_get("error")?,
        cancel_requested: r.try_get("cancel_requested")?,
        runner: r.try_get("runner")?,
        created_by: r.try_get("created_by")?,
        created_at: ts(r.try_get("created_at")?),
        started_at: opt_ts(r, "started_at")?,
        heartbeat_at: opt_ts(r, "heartbeat_at")?,
        finished_at: opt_ts(r, "finished_at")?,
    })
}

const JOB_COLUMNS: &str = "id, institution_id, kind, status, progress_done, progress_total, message, params, result, \
    error, cancel_requested, runner, created_by, created_at, started_at, heartbeat_at, finished_at";

const TOKEN_COLUMNS: &str =
    "id, name, token_hash, user_id, institution_id, role, created_by, created_at, last_used_at, revoked_at";

fn decode_token(r: &PgRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.try_get::<Uuid, _>("id")?.into(),
        name: r.try_get("name")?,
        token_hash: r.try_get("token_hash")?,
        user_id: r.try_get::<Option<Uuid>, _>("user_id")?.map(UserId),
        institution_id: r.try_get::<Option<Uuid>, _>("institution_id")?.map(InstitutionId),
        role: r.try_get::<Option<String>, _>("role")?.map(|s| parse_role(&s)).transpose()?,
        created_by: r.try_get("created_by")?,
        created_at: ts(r.try_get("created_at")?),
        last_used_at: opt_ts(r, "last_used_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
    })
}

// ---- users, memberships, sessions -------------------------------------------------------------

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

fn decode_user(r: &PgRow) -> Result<User> {
    let failed: i32 = r.try_get("failed_logins")?;
    Ok(User {
        id: UserId(r.try_get("id")?),
        login: r.try_get("login")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        totp_secret: r.try_get("totp_secret")?,
        totp_last_step: r.try_get("totp_last_step")?,
        installation_admin: r.try_get("installation_admin")?,
        disabled: r.try_get("disabled")?,
        failed_logins: u32::try_from(failed).map_err(|_| StoreError::Corrupt(format!("failed_logins {failed}")))?,
        locked_until: opt_ts(r, "locked_until")?,
        password_changed_at: ts(r.try_get("password_changed_at")?),
        last_login_at: opt_ts(r, "last_login_at")?,
        created_at: ts(r.try_get("created_at")?),
    })
}

const SESSION_COLUMNS: &str =
    "id_hash, user_id, csrf_token, mfa_pending, created_at, last_seen_at, expires_at, ip, user_agent";

fn decode_session(r: &PgRow) -> Result<Session> {
    Ok(Session {
        id_hash: r.try_get("id_hash")?,
        user_id: UserId(r.try_get("user_id")?),
        csrf_token: r.try_get("csrf_token")?,
        mfa_pending: r.try_get("mfa_pending")?,
        created_at: ts(r.try_get("created_at")?),
        last_seen_at: ts(r.try_get("last_seen_at")?),
        expires_at: ts(r.try_get("expires_at")?),
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
fn not_found(e: StoreError, what: &'static str, id: impl fmt::Display) -> StoreError {
    match e {
        StoreError::Referenced { .. } => StoreError::NotFound { what, id: id.to_string() },
        other => other,
    }
}

impl PgStore {
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
        let inst = scope.institution().0;
        let now = time_fmt::now();
        let mut chain = load_chain(tx, scope.chain()).await?;
        sqlx::query(
            "INSERT INTO findings (id, institution_id, rule, severity, status, title, detail, remediation, first_seen, last_seen, updated_at, dedup_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(f.id.0)
        .bind(inst)
        .bind(&f.rule)
        .bind(f.severity.as_str())
        .bind(f.status.as_str())
        .bind(&f.title)
        .bind(&f.detail)
        .bind(&f.remediation)
        .bind(ts(f.first_seen))
        .bind(ts(f.last_seen))
        .bind(now)
        .bind(key)
        .execute(&mut **tx)
        .await
        .map_err(|e| classify(e, "finding", f.id.to_string()))?;
        sqlx::query("INSERT INTO finding_history (institution_id, finding_id, position, status, actor, reason, at) VALUES ($1, $2, 0, $3, $4, NULL, $5)")
            .bind(inst)
            .bind(f.id.0)
            .bind(f.status.as_str())
            .bind(actor)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        for ev in &f.evidence {
            sqlx::query("INSERT INTO finding_evidence (institution_id, finding_id, evidence_id) VALUES ($1, $2, $3)")
                .bind(inst)
                .bind(f.id.0)
                .bind(ev.0)
                .execute(&mut **tx)
                .await
                .map_err(|e| match classify_write(e, "evidence", ev.to_string()) {
                    StoreError::Referenced { what, id } => StoreError::NotFound { what, id },
                    other => other,
                })?;
        }
        for o in &f.objects {
            sqlx::query("INSERT INTO finding_objects (institution_id, finding_id, object_kind, object_id) VALUES ($1, $2, $3, $4)")
                .bind(inst)
                .bind(f.id.0)
                .bind(o.kind.as_str())
                .bind(o.id.0)
                .execute(&mut **tx)
                .await?;
        }
        let draft = AuditDraft::new(actor, "finding.create").object("finding", f.id).details(json!({
            "rule": f.rule, "severity": f.severity.as_str(), "title": f.title,
            "evidence": f.evidence, "objects": f.objects,
        }));
        append(tx, &mut chain, &draft).await?;
        save_chain(tx, &chain).await?;
        Ok(())
    }

    async fn load_finding(&self, scope: &Scope, id: FindingId) -> Result<Option<Finding>> {
        let inst = scope.institution().0;
        let Some(r) = sqlx::query(
            "SELECT id, rule, severity, status, title, detail, remediation, first_seen, last_seen \
             FROM findings WHERE institution_id = $1 AND id = $2",
        )
        .bind(inst)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let severity: String = r.try_get("severity")?;
        let status: String = r.try_get("status")?;
        let history = sqlx::query(
            "SELECT status, actor, reason, at FROM finding_history WHERE institution_id = $1 AND finding_id = $2 ORDER BY position",
        )
        .bind(inst)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|h| {
            let s: String = h.try_get("status")?;
            Ok(StatusChange {
                status: FindingStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("finding status {s:?}")))?,
                actor: h.try_get("actor")?,
                reason: h.try_get("reason")?,
                at: ts(h.try_get("at")?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let evidence = sqlx::query_scalar::<_, Uuid>(
            "SELECT evidence_id FROM finding_evidence WHERE institution_id = $1 AND finding_id = $2 ORDER BY evidence_id",
        )
        .bind(inst)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(EvidenceId)
        .collect();
        let objects = sqlx::query_as::<_, (String, Uuid)>(
            "SELECT object_kind, object_id FROM finding_objects WHERE institution_id = $1 AND finding_id = $2 \
             ORDER BY object_kind COLLATE \"C\", object_id",
        )
        .bind(inst)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(k, i)| {
            Ok(ObjectRef {
                kind: RecordKind::parse(&k).ok_or_else(|| StoreError::Corrupt(format!("object kind {k:?}")))?,
                id: RecordId(i),
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
            first_seen: ts(r.try_get("first_seen")?),
            last_seen: ts(r.try_get("last_seen")?),
        }))
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn schema_status(&self) -> Result<SchemaStatus> {
        schema_status(&mut *self.pool.acquire().await?).await
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM system_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn set_setting(&self, key: &str, value: &str, audit: &AuditDraft) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let mut w = load_chain(&mut tx, Chain::System).await?;
        sqlx::query(
            "INSERT INTO system_settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(time_fmt::now())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        append(&mut tx, &mut w, audit).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_institution(&self, i: &Institution, actor: &str) -> Result<Scope> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO institutions (id, name, kind, medical_code, demo, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(i.id.0)
        .bind(&i.name)
        .bind(i.kind.as_str())
        .bind(&i.medical_code)
        .bind(i.demo)
        .bind(ts(i.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, "institution", i.id.to_string()))?;
        let details = json!({"name": i.name, "kind": i.kind.as_str(), "demo": i.demo});
        // The system chain before the institution's: the global lock order.
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
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode_institution)
            .collect()
    }

    async fn scope(&self, id: InstitutionId) -> Result<Scope> {
        let found: Option<Uuid> = sqlx::query_scalar("SELECT id FROM institutions WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        match found {
            Some(_) => Ok(Scope { institution: id }),
            None => Err(StoreError::NotFound { what: "institution", id: id.to_string() }),
        }
    }

    async fn institution(&self, scope: &Scope) -> Result<Institution> {
        let r = sqlx::query("SELECT id, name, kind, medical_code, demo, created_at FROM institutions WHERE id = $1")
            .bind(scope.institution().0)
            .fetch_one(&self.pool)
            .await?;
        decode_institution(&r)
    }

    async fn put_rows(&self, scope: &Scope, rows: &[Row], actor: &str, progress: Progress<'_>) -> Result<WriteSummary> {
        // Validate everything before the first write.
        for (index, row) in rows.iter().enumerate() {
            mamori_domain::ledger::check_row(row)
                .map_err(|e| StoreError::InRow { index, source: Box::new(e.into()) })?;
        }
        let inst = scope.institution().0;
        let now = time_fmt::now();
        let mut summary = WriteSummary::default();
        let mut tx = self.pool.begin().await?;
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        for (index, row) in rows.iter().enumerate() {
            let in_row = |e: StoreError| StoreError::InRow { index, source: Box::new(e) };
            let existing = sqlx::query(AssertSqlSafe(sql::select_one(row.kind)))
                .bind(inst)
                .bind(row.id.0)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| decode_row(row.kind, &r))
                .transpose()?;
            let draft = match existing {
                None => {
                    let mut args = PgArguments::default();
                    add(&mut args, row.id.0)?;
                    add(&mut args, inst)?;
                    for f in row.kind.fields() {
                        add_value(&mut args, row.get(f.name), f.ty)?;
                    }
                    add(&mut args, now)?;
                    add(&mut args, now)?;
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
                    let mut args = PgArguments::default();
                    for f in row.kind.fields() {
                        add_value(&mut args, row.get(f.name), f.ty)?;
                    }
                    add(&mut args, now)?;
                    add(&mut args, inst)?;
                    add(&mut args, row.id.0)?;
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
            .bind(scope.institution().0)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| decode_row(kind, &r))
            .transpose()
    }

    async fn list_rows(&self, scope: &Scope, kind: RecordKind, query: &RecordQuery) -> Result<Vec<Row>> {
        let l = list_sql(kind, query)?;
        let mut args = PgArguments::default();
        add(&mut args, scope.institution().0)?;
        for v in &l.binds {
            // Filter values are never Null (those become `IS NULL`), so the type is unused.
            add_value(&mut args, v, FieldType::Text)?;
        }
        add(&mut args, l.limit)?;
        add(&mut args, l.offset)?;
        sqlx::query_with(AssertSqlSafe(l.sql), args)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| decode_row(kind, r))
            .collect()
    }

    async fn count_rows(&self, scope: &Scope, kind: RecordKind) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql::count(kind)))
            .bind(scope.institution().0)
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    async fn ledger_updated_at(&self, scope: &Scope, kind: RecordKind) -> Result<Option<OffsetDateTime>> {
        Ok(sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT MAX(updated_at) FROM {} WHERE institution_id = $1",
            kind.table()
        )))
        .bind(scope.institution().0)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn count_matching(&self, scope: &Scope, kind: RecordKind, query: &RecordQuery) -> Result<u64> {
        let (sql, binds) = sql::count_matching(kind, query, sql::Dialect::Postgres)?;
        let mut args = PgArguments::default();
        add(&mut args, scope.institution().0)?;
        for v in &binds {
            add_value(&mut args, v, FieldType::Text)?;
        }
        let n: i64 = sqlx::query_scalar_with(AssertSqlSafe(sql), args).fetch_one(&self.pool).await?;
        Ok(n as u64)
    }

    async fn delete_row(&self, scope: &Scope, kind: RecordKind, id: RecordId, actor: &str) -> Result<bool> {
        let inst = scope.institution().0;
        let mut tx = self.pool.begin().await?;
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        let Some(old) = sqlx::query(AssertSqlSafe(sql::select_one(kind)))
            .bind(inst)
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| decode_row(kind, &r))
            .transpose()?
        else {
            return Ok(false);
        };
        sqlx::query(AssertSqlSafe(sql::delete(kind)))
            .bind(inst)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify_write(e, kind.as_str(), id.to_string()))?;
        let draft =
            AuditDraft::new(actor, "record.delete").object(kind.as_str(), id).details(json!({"fields": old.to_json()}));
        append(&mut tx, &mut chain, &draft).await?;
        save_chain(&mut tx, &chain).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn put_evidence(&self, scope: &Scope, e: &Evidence, file: Option<&Attachment>, actor: &str) -> Result<()> {
        crate::check_attachment(e, file)?;
        let mut tx = self.pool.begin().await?;
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        sqlx::query(
            "INSERT INTO evidence (id, institution_id, kind, summary, data, source, job_id, content_hash, observed_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id.0)
        .bind(scope.institution().0)
        .bind(&e.kind)
        .bind(&e.summary)
        .bind(Json(&e.data))
        .bind(&e.source)
        .bind(e.job_id.map(|j| j.0))
        .bind(&e.content_hash)
        .bind(ts(e.observed_at))
        .bind(time_fmt::now())
        .execute(&mut *tx)
        .await
        .map_err(|err| classify(err, "evidence", e.id.to_string()))?;
        if let Some(f) = file {
            sqlx::query(
                "INSERT INTO attachments (institution_id, evidence_id, name, media_type, size, content, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(scope.institution().0)
            .bind(e.id.0)
            .bind(&f.name)
            .bind(&f.media_type)
            .bind(f.bytes.len() as i64)
            .bind(&f.bytes)
            .bind(time_fmt::now())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
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
        .bind(scope.institution().0)
        .bind(id.0)
        .fetch_optional(&self.pool)
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
        .bind(scope.institution().0)
        .bind(kind)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
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
        .bind(scope.institution().0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(decode_evidence)
        .transpose()
    }

    async fn create_finding(&self, scope: &Scope, f: &Finding, actor: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        self.insert_finding(&mut tx, scope, f, None, actor).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn observe_finding(&self, scope: &Scope, f: &Finding, key: &str, actor: &str) -> Result<(FindingId, bool)> {
        f.check()?;
        let mut tx = self.pool.begin().await?;
        // Take the institution's chain lock first: two scans observing the same problem at
        // once must not both find no finding and both insert one.
        load_chain(&mut tx, scope.chain()).await?;
        let existing: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM findings WHERE institution_id = $1 AND dedup_key = $2 AND status <> 'resolved' \
             ORDER BY first_seen DESC LIMIT 1",
        )
        .bind(scope.institution().0)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = existing else {
            self.insert_finding(&mut tx, scope, f, Some(key), actor).await?;
            tx.commit().await?;
            return Ok((f.id, true));
        };
        let id = FindingId(id);
        sqlx::query("UPDATE findings SET last_seen = $1, updated_at = $2 WHERE institution_id = $3 AND id = $4")
            .bind(f.last_seen)
            .bind(time_fmt::now())
            .bind(scope.institution().0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        for ev in &f.evidence {
            sqlx::query(
                "INSERT INTO finding_evidence (institution_id, finding_id, evidence_id) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(scope.institution().0)
            .bind(id.0)
            .bind(ev.0)
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
            .bind(scope.institution().0)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|(sev, st, n)| crate::finding_count(sev, st, *n))
            .collect()
    }

    async fn list_findings(&self, scope: &Scope, q: &FindingQuery) -> Result<Vec<Finding>> {
        let min = q.min_severity.unwrap_or(Severity::Info);
        let severities: Vec<String> =
            Severity::ALL.into_iter().filter(|s| *s >= min).map(|s| s.as_str().to_owned()).collect();
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM findings WHERE institution_id = $1 AND ($2::text IS NULL OR status = $2) \
             AND severity = ANY($3) \
             ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END, \
             first_seen, id LIMIT $4",
        )
        .bind(scope.institution().0)
        .bind(q.status.map(FindingStatus::as_str))
        .bind(severities)
        .bind(q.limit.map_or(i64::MAX, i64::from))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(f) = self.load_finding(scope, FindingId(id)).await? {
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
        let inst = scope.institution().0;
        let mut tx = self.pool.begin().await?;
        // The chain lock also serialises changes to the finding (status, history position).
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT status FROM findings WHERE institution_id = $1 AND id = $2 FOR UPDATE")
                .bind(inst)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(current) = current else {
            return Err(StoreError::NotFound { what: "finding", id: id.to_string() });
        };
        let from = FindingStatus::parse(&current).ok_or_else(|| StoreError::Corrupt(format!("status {current:?}")))?;
        let change = mamori_domain::finding::status_change(from, to, actor, reason)?;
        let position: i32 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM finding_history WHERE institution_id = $1 AND finding_id = $2",
        )
        .bind(inst)
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE findings SET status = $1, updated_at = $2 WHERE institution_id = $3 AND id = $4")
            .bind(to.as_str())
            .bind(ts(change.at))
            .bind(inst)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO finding_history (institution_id, finding_id, position, status, actor, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(inst)
            .bind(id.0)
            .bind(position)
            .bind(to.as_str())
            .bind(actor)
            .bind(&change.reason)
            .bind(ts(change.at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let draft = AuditDraft::new(actor, "finding.status").object("finding", id).details(json!({
            "from": current, "to": to.as_str(), "reason": change.reason,
        }));
        append(&mut tx, &mut chain, &draft).await?;
        save_chain(&mut tx, &chain).await?;
        tx.commit().await?;
        self.load_finding(scope, id).await?.ok_or_else(|| StoreError::NotFound { what: "finding", id: id.to_string() })
    }

    async fn insert_job(&self, job: &Job) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO jobs ({JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        )))
        .bind(job.id.0)
        .bind(job.institution_id.map(|i| i.0))
        .bind(&job.kind)
        .bind(job.status.as_str())
        .bind(job.progress_done as i64)
        .bind(job.progress_total.map(|t| t as i64))
        .bind(&job.message)
        .bind(Json(&job.params))
        .bind(job.result.as_ref().map(Json))
        .bind(&job.error)
        .bind(job.cancel_requested)
        .bind(&job.runner)
        .bind(&job.created_by)
        .bind(ts(job.created_at))
        .bind(job.started_at.map(ts))
        .bind(job.heartbeat_at.map(ts))
        .bind(job.finished_at.map(ts))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, "job", job.id.to_string()))?;
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
        let done = sqlx::query(
            "UPDATE jobs SET status = 'running', runner = $1, started_at = $2, heartbeat_at = $2 WHERE id = $3 AND status = 'queued'",
        )
        .bind(runner)
        .bind(time_fmt::now())
        .bind(id.0)
        .execute(&self.pool)
        .await
        .map_err(db)?;
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
        let cancel: Option<bool> = sqlx::query_scalar(
            "UPDATE jobs SET progress_done = $1, progress_total = COALESCE($2, progress_total), \
             message = COALESCE($3, message), heartbeat_at = $4 WHERE id = $5 RETURNING cancel_requested",
        )
        .bind(done as i64)
        .bind(total.map(|t| t as i64))
        .bind(message)
        .bind(time_fmt::now())
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        cancel.ok_or_else(|| StoreError::NotFound { what: "job", id: id.to_string() })
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
        let mut tx = self.pool.begin().await?;
        let inst: Option<Option<Uuid>> = sqlx::query_scalar(
            "UPDATE jobs SET status = $1, result = $2, error = $3, finished_at = $4 WHERE id = $5 AND status IN ('queued', 'running') RETURNING institution_id",
        )
        .bind(status.as_str())
        .bind(result.map(Json))
        .bind(error)
        .bind(time_fmt::now())
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(inst) = inst else {
            return Err(StoreError::JobFinished { id: id.to_string() });
        };
        let mut w = load_chain(&mut tx, job_chain(inst)).await?;
        let draft = AuditDraft::new("system", "job.finish")
            .object("job", id)
            .details(json!({"status": status.as_str(), "error": error}));
        append(&mut tx, &mut w, &draft).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn request_job_cancel(&self, id: JobId, actor: &str) -> Result<Job> {
        let mut tx = self.pool.begin().await?;
        let Some(r) = sqlx::query(AssertSqlSafe(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 FOR UPDATE")))
            .bind(id.0)
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
            sqlx::query(
                "UPDATE jobs SET status = 'cancelled', cancel_requested = TRUE, finished_at = $1 WHERE id = $2",
            )
            .bind(time_fmt::now())
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("UPDATE jobs SET cancel_requested = TRUE WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
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
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| decode_job(&r))
            .transpose()
    }

    async fn list_jobs(&self, q: &JobQuery) -> Result<Vec<Job>> {
        let inst = match q.scope {
            JobScope::All => None,
            JobScope::Institution(i) => Some(i.0),
        };
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1::uuid IS NULL OR institution_id = $1) \
             AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC, id DESC LIMIT $3"
        )))
        .bind(inst)
        .bind(q.status.map(JobStatus::as_str))
        .bind(i64::from(q.limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode_job)
        .collect()
    }

    async fn mark_jobs_interrupted(&self, ids: &[JobId]) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        // Job rows are locked in id order and chains in `Chain` order (system first), so two
        // processes interrupting overlapping sets of jobs cannot deadlock.
        let mut sorted = ids.to_vec();
        sorted.sort();
        sorted.dedup();
        let mut interrupted: HashMap<JobId, Chain> = HashMap::new();
        for id in sorted {
            let inst: Option<Option<Uuid>> = sqlx::query_scalar(
                "UPDATE jobs SET status = 'interrupted', finished_at = $1, error = 'process ended while the job ran' \
                 WHERE id = $2 AND status = 'running' RETURNING institution_id",
            )
            .bind(time_fmt::now())
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(inst) = inst {
                interrupted.insert(id, job_chain(inst));
            }
        }
        let chains: BTreeSet<Chain> = interrupted.values().copied().collect();
        let mut writers = BTreeMap::new();
        for chain in chains {
            writers.insert(chain, load_chain(&mut tx, chain).await?);
        }
        // Entries in the order the ids were given, as in SQLite (each chain's own order is
        // all that is observable).
        let mut n = 0;
        for id in ids {
            if let Some(chain) = interrupted.remove(id) {
                n += 1;
                let w = writers.get_mut(&chain).expect("every chain with an interrupted job is locked above");
                append(&mut tx, w, &AuditDraft::new("system", "job.interrupted").object("job", id)).await?;
            }
        }
        for w in writers.values() {
            save_chain(&mut tx, w).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn append_audit(&self, chain: Chain, draft: &AuditDraft) -> Result<AuditEvent> {
        let mut tx = self.pool.begin().await?;
        let mut w = load_chain(&mut tx, chain).await?;
        let e = append(&mut tx, &mut w, draft).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(e)
    }

    async fn audit_heads(&self) -> Result<Vec<ChainHead>> {
        // seq 0 is the placeholder of a chain without entries: SQLite has no row for it.
        sqlx::query_as::<_, (String, i64, String)>(
            "SELECT chain, seq, hash FROM audit_heads WHERE seq > 0 ORDER BY chain COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
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
            .fetch_all(&self.pool)
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
            .fetch_all(&self.pool)
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
        let inst = scope.institution().0;
        let now = time_fmt::now();
        let mut tx = self.pool.begin().await?;
        let mut chain = load_chain(&mut tx, scope.chain()).await?;
        let mut changed = 0;
        for (item, class, answer) in answers {
            let old: Option<Json<serde_json::Value>> = sqlx::query_scalar(
                "SELECT answer FROM checklist_answers WHERE institution_id = $1 AND fiscal_year = $2 AND form = $3 \
                 AND vendor_key = $4 AND item_id = $5 AND device_class = $6",
            )
            .bind(inst)
            .bind(key.fiscal_year)
            .bind(&key.form)
            .bind(key.vendor_key())
            .bind(item)
            .bind(class.as_deref().unwrap_or(""))
            .fetch_optional(&mut *tx)
            .await?;
            if old.as_ref().map(|o| &o.0) == Some(answer) {
                continue;
            }
            sqlx::query(
                "INSERT INTO checklist_answers (institution_id, fiscal_year, form, vendor_key, item_id, device_class, \
                 answer, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (institution_id, fiscal_year, form, vendor_key, item_id, device_class) \
                 DO UPDATE SET answer = excluded.answer, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(inst)
            .bind(key.fiscal_year)
            .bind(&key.form)
            .bind(key.vendor_key())
            .bind(item)
            .bind(class.as_deref().unwrap_or(""))
            .bind(Json(answer))
            .bind(now)
            .bind(actor)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
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
        .bind(scope.institution().0)
        .bind(key.fiscal_year)
        .bind(&key.form)
        .bind(key.vendor_key())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let class: String = r.try_get("device_class")?;
            Ok(StoredAnswer {
                item_id: r.try_get("item_id")?,
                device_class: (!class.is_empty()).then_some(class),
                answer: r.try_get::<Json<serde_json::Value>, _>("answer")?.0,
                updated_at: r.try_get("updated_at")?,
                updated_by: r.try_get("updated_by")?,
            })
        })
        .collect()
    }

    async fn put_checklist_edition(&self, e: &StoredEdition) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO checklist_editions (id, fiscal_year, definition, source, source_hash, imported_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&e.id)
        .bind(e.fiscal_year)
        .bind(Json(serde_json::from_str::<serde_json::Value>(&e.definition).map_err(|err| StoreError::Invalid(err.to_string()))?))
        .bind(&e.source)
        .bind(&e.source_hash)
        .bind(&e.imported_by)
        .bind(e.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|err| classify(err, "checklist edition", e.id.clone()))?;
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
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredEdition {
                id: r.try_get("id")?,
                fiscal_year: r.try_get("fiscal_year")?,
                definition: r.try_get::<Json<serde_json::Value>, _>("definition")?.0.to_string(),
                source: r.try_get("source")?,
                source_hash: r.try_get("source_hash")?,
                imported_by: r.try_get("imported_by")?,
                created_at: r.try_get("created_at")?,
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
        let inst = scope.institution().0;
        let mut tx = self.pool.begin().await?;
        if assigned {
            sqlx::query(
                "INSERT INTO checklist_assignments (institution_id, fiscal_year, form, vendor_id, user_id, assigned_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (institution_id, fiscal_year, form, vendor_id) \
                 DO UPDATE SET user_id = excluded.user_id, assigned_by = excluded.assigned_by",
            )
            .bind(inst)
            .bind(a.fiscal_year)
            .bind(&a.form)
            .bind(a.vendor.0)
            .bind(a.user.map(|u| u.0))
            .bind(actor)
            .bind(time_fmt::now())
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "vendor", a.vendor.to_string()))?;
        } else {
            sqlx::query(
                "DELETE FROM checklist_assignments WHERE institution_id = $1 AND fiscal_year = $2 AND form = $3 AND vendor_id = $4",
            )
            .bind(inst)
            .bind(a.fiscal_year)
            .bind(&a.form)
            .bind(a.vendor.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
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
        .bind(scope.institution().0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let user: Option<uuid::Uuid> = r.try_get("user_id")?;
            Ok(ChecklistAssignment {
                fiscal_year: r.try_get("fiscal_year")?,
                form: r.try_get("form")?,
                vendor: RecordId(r.try_get("vendor_id")?),
                user: user.map(UserId),
            })
        })
        .collect()
    }

    async fn get_institution_setting(&self, scope: &Scope, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM institution_settings WHERE institution_id = $1 AND key = $2")
            .bind(scope.institution().0)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn set_institution_setting(&self, scope: &Scope, key: &str, value: &str, actor: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let mut w = load_chain(&mut tx, scope.chain()).await?;
        sqlx::query(
            "INSERT INTO institution_settings (institution_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (institution_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(scope.institution().0)
        .bind(key)
        .bind(value)
        .bind(time_fmt::now())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        append(&mut tx, &mut w, &AuditDraft::new(actor, "setting.set").details(json!({"key": key}))).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_user(&self, user: &User, memberships: &[Membership], actor: &str) -> Result<()> {
        check_memberships(user, memberships)?;
        let mut tx = self.pool.begin().await?;
        // The system chain, then the institutions' chains in `Chain` order: the global lock order.
        let mut sys = load_chain(&mut tx, Chain::System).await?;
        let chains: BTreeSet<Chain> = memberships.iter().map(|m| Chain::Institution(m.institution_id)).collect();
        let mut writers = BTreeMap::new();
        for chain in chains {
            writers.insert(chain, load_chain(&mut tx, chain).await?);
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO users ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            USER_COLUMNS.replace("u.", "")
        )))
        .bind(user.id.0)
        .bind(&user.login)
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(&user.totp_secret)
        .bind(user.totp_last_step)
        .bind(user.installation_admin)
        .bind(user.disabled)
        .bind(failed_logins(user.failed_logins))
        .bind(user.locked_until.map(ts))
        .bind(ts(user.password_changed_at))
        .bind(user.last_login_at.map(ts))
        .bind(ts(user.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, "user", user.login.clone()))?;
        let draft = AuditDraft::new(actor, "user.create").object("user", user.id).details(json!({
            "login": user.login, "display_name": user.display_name, "installation_admin": user.installation_admin,
        }));
        append(&mut tx, &mut sys, &draft).await?;
        let now = time_fmt::now();
        for m in memberships {
            sqlx::query("INSERT INTO memberships (user_id, institution_id, role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(user.id.0)
                .bind(m.institution_id.0)
                .bind(m.role.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    not_found(classify(e, "institution", m.institution_id.to_string()), "institution", m.institution_id)
                })?;
            let w = writers
                .get_mut(&Chain::Institution(m.institution_id))
                .expect("every membership's chain is locked above");
            append(&mut tx, w, &membership_draft(actor, user.id, &user.login, None, Some(m.role))).await?;
        }
        save_chain(&mut tx, &sys).await?;
        for w in writers.values() {
            save_chain(&mut tx, w).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1")))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| decode_user(&r))
            .transpose()
    }

    async fn find_user_by_login(&self, login: &str) -> Result<Option<User>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.login = $1")))
            .bind(login)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|r| decode_user(&r))
            .transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.login COLLATE \"C\", u.id")))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode_user)
            .collect()
    }

    async fn update_user(&self, user: &User, audit: &AuditDraft) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let mut w = load_chain(&mut tx, Chain::System).await?;
        let done = sqlx::query(
            "UPDATE users SET display_name = $1, password_hash = $2, totp_secret = $3, totp_last_step = $4, \
             installation_admin = $5, disabled = $6, failed_logins = $7, locked_until = $8, password_changed_at = $9, \
             last_login_at = $10 WHERE id = $11",
        )
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(&user.totp_secret)
        .bind(user.totp_last_step)
        .bind(user.installation_admin)
        .bind(user.disabled)
        .bind(failed_logins(user.failed_logins))
        .bind(user.locked_until.map(ts))
        .bind(ts(user.password_changed_at))
        .bind(user.last_login_at.map(ts))
        .bind(user.id.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "user", id: user.id.to_string() });
        }
        append(&mut tx, &mut w, audit).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> Result<bool> {
        // One statement: a concurrent request with the same step waits for the row lock and
        // then re-checks the condition against the committed value, so it changes nothing.
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn memberships(&self, user: UserId) -> Result<Vec<Membership>> {
        sqlx::query_as::<_, (Uuid, String)>(
            "SELECT m.institution_id, m.role FROM memberships m JOIN institutions i ON i.id = m.institution_id \
             WHERE m.user_id = $1 ORDER BY i.created_at, i.id",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(inst, role)| {
            Ok(Membership { user_id: user, institution_id: InstitutionId(inst), role: parse_role(&role)? })
        })
        .collect()
    }

    async fn institution_users(&self, scope: &Scope) -> Result<Vec<(User, Role)>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, m.role AS membership_role FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.institution_id = $1 ORDER BY u.login COLLATE \"C\", u.id"
        )))
        .bind(scope.institution().0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((decode_user(r)?, parse_role(&r.try_get::<String, _>("membership_role")?)?)))
        .collect()
    }

    async fn set_membership(&self, scope: &Scope, user: UserId, role: Option<Role>, actor: &str) -> Result<()> {
        let inst = scope.institution().0;
        let mut tx = self.pool.begin().await?;
        // The institution's chain lock also serialises changes to its memberships, so the
        // old role read below is the one being replaced.
        let mut w = load_chain(&mut tx, scope.chain()).await?;
        let login: Option<String> =
            sqlx::query_scalar("SELECT login FROM users WHERE id = $1").bind(user.0).fetch_optional(&mut *tx).await?;
        let Some(login) = login else {
            return Err(StoreError::NotFound { what: "user", id: user.to_string() });
        };
        let from: Option<String> =
            sqlx::query_scalar("SELECT role FROM memberships WHERE user_id = $1 AND institution_id = $2")
                .bind(user.0)
                .bind(inst)
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
                .bind(user.0)
                .bind(inst)
                .bind(r.as_str())
                .bind(time_fmt::now())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND institution_id = $2")
                    .bind(user.0)
                    .bind(inst)
                    .execute(&mut *tx)
                    .await?;
            }
        }
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
        .bind(s.user_id.0)
        .bind(&s.csrf_token)
        .bind(s.mfa_pending)
        .bind(ts(s.created_at))
        .bind(ts(s.last_seen_at))
        .bind(ts(s.expires_at))
        .bind(&s.ip)
        .bind(&s.user_agent)
        .execute(&self.pool)
        .await
        .map_err(|e| not_found(classify(e, "session", s.id_hash.clone()), "user", s.user_id))?;
        Ok(())
    }

    async fn get_session(&self, id_hash: &str) -> Result<Option<Session>> {
        sqlx::query(AssertSqlSafe(format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1")))
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|r| decode_session(&r))
            .transpose()
    }

    async fn touch_session(&self, id_hash: &str, at: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(ts(at))
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_sessions(&self, user: Option<UserId>) -> Result<Vec<Session>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE ($1::uuid IS NULL OR user_id = $1) \
             ORDER BY created_at DESC, id_hash COLLATE \"C\""
        )))
        .bind(user.map(|u| u.0))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode_session)
        .collect()
    }

    async fn revoke_sessions(&self, user: UserId, actor: &str) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut w = load_chain(&mut tx, Chain::System).await?;
        let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let draft = AuditDraft::new(actor, "session.revoke_all")
            .object("user", user)
            .details(json!({"user": user, "count": n}));
        append(&mut tx, &mut w, &draft).await?;
        save_chain(&mut tx, &w).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(ts(now)).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn insert_api_token(&self, t: &ApiToken) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let mut w = load_chain(&mut tx, Chain::System).await?;
        if let Some(user) = t.user_id {
            let found: Option<Uuid> =
                sqlx::query_scalar("SELECT id FROM users WHERE id = $1").bind(user.0).fetch_optional(&mut *tx).await?;
            if found.is_none() {
                return Err(StoreError::NotFound { what: "user", id: user.to_string() });
            }
        }
        if let Some(inst) = t.institution_id {
            let found: Option<Uuid> = sqlx::query_scalar("SELECT id FROM institutions WHERE id = $1")
                .bind(inst.0)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound { what: "institution", id: inst.to_string() });
            }
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )))
        .bind(t.id.0)
        .bind(&t.name)
        .bind(&t.token_hash)
        .bind(t.user_id.map(|u| u.0))
        .bind(t.institution_id.map(|i| i.0))
        .bind(t.role.map(Role::as_str))
        .bind(&t.created_by)
        .bind(ts(t.created_at))
        .bind(t.last_used_at.map(ts))
        .bind(t.revoked_at.map(ts))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, "api token", t.name.clone()))?;
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
             AND (user_id IS NULL OR EXISTS (SELECT 1 FROM users WHERE users.id = api_tokens.user_id AND NOT users.disabled)) \
             RETURNING {TOKEN_COLUMNS}"
        )))
        .bind(time_fmt::now())
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        r.map(|r| decode_token(&r)).transpose()
    }

    async fn list_api_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE ($1::uuid IS NULL OR user_id = $1) ORDER BY created_at, id"
        )))
        .bind(user.map(|u| u.0))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode_token)
        .collect()
    }

    async fn revoke_api_token(&self, id: ApiTokenId, actor: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(time_fmt::now())
            .bind(id.0)
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
    use mamori_domain::audit::{GENESIS, to_hex};

    #[test]
    fn placeholder_head_is_genesis() {
        assert_eq!(NO_HASH, to_hex(&GENESIS));
        let w = ChainWriter::from_head(Chain::System, Some((0, NO_HASH.to_owned()))).unwrap();
        assert_eq!((w.seq, w.hash, w.dirty), (0, GENESIS, false));
    }

    #[test]
    fn passwords_are_scrubbed() {
        let s = DbSettings::Postgres { url: "postgres://mamori:s3cret@db.local:5432/mamori?password=other".into() };
        let msg = scrub("failed for postgres://mamori:s3cret@db.local:5432/mamori?password=other: s3cret other", &s);
        assert!(!msg.contains("s3cret") && !msg.contains("other"), "{msg}");
        let s = DbSettings::Postgres { url: "postgres://mamori@db.local/mamori".into() };
        assert_eq!(scrub("refused", &s), "refused");
    }

    #[test]
    fn listing_sorts_like_sqlite() {
        let q = RecordQuery {
            filters: vec![("name".into(), Value::Text("本院".into()))],
            order_by: Some("name".into()),
            descending: true,
            ..Default::default()
        };
        let l = list_sql(RecordKind::Sites, &q).unwrap();
        assert!(
            l.sql.ends_with(
                "WHERE institution_id = $1 AND name = $2 ORDER BY name COLLATE \"C\" DESC NULLS LAST, id DESC LIMIT $3 OFFSET $4"
            ),
            "{}",
            l.sql
        );
        let l = list_sql(RecordKind::Assets, &RecordQuery { order_by: Some("fragile".into()), ..Default::default() })
            .unwrap();
        assert!(l.sql.ends_with("ORDER BY fragile ASC NULLS FIRST, id ASC LIMIT $2 OFFSET $3"), "{}", l.sql);
        let l = list_sql(RecordKind::Assets, &RecordQuery::default()).unwrap();
        assert!(l.sql.ends_with("ORDER BY created_at ASC NULLS FIRST, id ASC LIMIT $2 OFFSET $3"), "{}", l.sql);
        assert!(
            list_sql(RecordKind::Assets, &RecordQuery { order_by: Some("x; --".into()), ..Default::default() })
                .is_err()
        );
    }
}
