//! Persistence for mamori: one [`Store`] interface with two real implementations,
//! SQLite (embedded default, WAL) and PostgreSQL, each with its own migrations.
//!
//! Tenant isolation is structural: every method that reads or writes institution data takes
//! a [`Scope`], which only [`Store::scope`] can create after checking the institution
//! exists. The implementations bind the scope's id into every query; no query over tenant
//! tables is written without it. Every change is appended to the hash-chained audit log in
//! the same transaction as the change itself.
#![forbid(unsafe_code)]

mod chain;
mod datadir;
mod error;
mod migrate;
mod postgres;
mod settings;
mod sql;
mod sqlite;
mod verify;

pub use datadir::{DataDir, ServeLock};
pub use error::{StoreError, classify_connect, classify_io};
pub use migrate::SchemaStatus;
pub use settings::{Backend, DbSettings};
pub use verify::{ChainReport, verify_audit, verify_chain};

use async_trait::async_trait;
use mamori_domain::audit::{AuditDraft, AuditEvent, Chain, ChainHead};
use mamori_domain::auth::{Membership, Role, Session, User};
use mamori_domain::evidence::Evidence;
use mamori_domain::finding::{Finding, FindingStatus, Severity};
use mamori_domain::institution::Institution;
use mamori_domain::job::{Job, JobStatus};
use mamori_domain::record::{Record, RecordKind, Row};
use mamori_domain::{ApiTokenId, EvidenceId, FindingId, InstitutionId, JobId, RecordId, UserId};
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;

/// The largest file the store keeps as an attachment.
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;

pub(crate) fn check_attachment(e: &Evidence, file: Option<&Attachment>) -> Result<()> {
    if let Some(f) = file {
        if f.bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(StoreError::Invalid(format!(
                "attachment {:?} is larger than {MAX_ATTACHMENT_BYTES} bytes",
                f.name
            )));
        }
        if e.content_hash.as_deref() != Some(f.content_hash().as_str()) {
            return Err(StoreError::Invalid("evidence content_hash does not match the attached file".into()));
        }
    }
    Ok(())
}

/// `evidence.create`: what was recorded and, for a file, its name, size and hash (never its bytes).
pub(crate) fn evidence_audit(actor: &str, e: &Evidence, file: Option<&Attachment>) -> AuditDraft {
    let mut details = serde_json::json!({"kind": e.kind, "summary": e.summary, "content_hash": e.content_hash});
    if let Some(f) = file {
        details["file"] = serde_json::json!({"name": f.name, "media_type": f.media_type, "size": f.bytes.len()});
    }
    AuditDraft::new(actor, "evidence.create").object("evidence", e.id).details(details)
}

pub(crate) fn edition_audit(e: &StoredEdition) -> AuditDraft {
    AuditDraft::new(&e.imported_by, "checklist.edition_import")
        .object("checklist-edition", &e.id)
        .details(serde_json::json!({"fiscal_year": e.fiscal_year, "source": e.source, "blake3": e.source_hash}))
}

pub(crate) fn assignment_audit(a: &ChecklistAssignment, assigned: bool, actor: &str) -> AuditDraft {
    AuditDraft::new(actor, if assigned { "checklist.assign" } else { "checklist.unassign" })
        .object("vendors", a.vendor)
        .details(
            serde_json::json!({"fiscal_year": a.fiscal_year, "form": a.form, "user": a.user.map(|u| u.to_string())}),
        )
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Proof that an institution exists, and the tenant every scoped query is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    institution: InstitutionId,
}

impl Scope {
    pub fn institution(&self) -> InstitutionId {
        self.institution
    }
    pub fn chain(&self) -> Chain {
        Chain::Institution(self.institution)
    }
}

/// Query over one ledger. `order_by` must name a field of the kind (or `created_at`/`updated_at`).
#[derive(Debug, Clone, Default)]
pub struct RecordQuery {
    /// Equality filters on fields.
    pub filters: Vec<(String, mamori_domain::record::Value)>,
    pub order_by: Option<String>,
    pub descending: bool,
    pub limit: Option<u32>,
    pub offset: u32,
    /// Rows whose text fields contain this (case-insensitive for ASCII; `%`/`_` literal).
    pub search: Option<String>,
}

/// One filled checklist form: the institution's own (no vendor) or the 事業者確認用 a vendor
/// answers for the institution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ChecklistKey {
    pub fiscal_year: i32,
    /// The form's id in its edition (`clinic`, `pharmacy`, `vendor`, …).
    pub form: String,
    pub vendor: Option<RecordId>,
}

impl ChecklistKey {
    pub(crate) fn vendor_key(&self) -> String {
        self.vendor.map(|v| v.to_string()).unwrap_or_default()
    }

    /// The audit object id of one answer: `2025/clinic/1-①`, `2025/vendor/<vendor>/2-③#server`.
    pub fn object_id(&self, item_id: &str, device_class: Option<&str>) -> String {
        let mut id = format!("{}/{}", self.fiscal_year, self.form);
        if let Some(v) = self.vendor {
            id.push_str(&format!("/{v}"));
        }
        id.push_str(&format!("/{item_id}"));
        if let Some(c) = device_class {
            id.push_str(&format!("#{c}"));
        }
        id
    }
}

/// One stored answer; `answer` is the checklist crate's `Answer` as JSON (the store does not
/// interpret it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAnswer {
    pub item_id: String,
    pub device_class: Option<String>,
    pub answer: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub updated_by: String,
}

/// A checklist edition an administrator imported from MHLW's workbook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEdition {
    pub id: String,
    pub fiscal_year: i32,
    /// The edition as JSON (the checklist crate's `Edition`).
    pub definition: String,
    pub source: String,
    pub source_hash: String,
    pub imported_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A 事業者確認用 form sent to a vendor of the institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistAssignment {
    pub fiscal_year: i32,
    pub form: String,
    pub vendor: RecordId,
    /// The 事業者 user who answers it.
    pub user: Option<UserId>,
}

/// A file attached to evidence (an MDS/SDS document, a BCP, a checklist evidence file).
/// Stored in the database with its evidence, so both live and go together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name as uploaded (shown, and offered on download).
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl Attachment {
    /// The BLAKE3 hash evidence records for this file, hex.
    pub fn content_hash(&self) -> String {
        blake3::hash(&self.bytes).to_hex().to_string()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WriteSummary {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FindingCount {
    pub severity: Severity,
    pub status: FindingStatus,
    pub count: u64,
}

pub(crate) fn finding_count(severity: &str, status: &str, count: i64) -> Result<FindingCount> {
    Ok(FindingCount {
        severity: Severity::parse(severity).ok_or_else(|| StoreError::Corrupt(format!("severity {severity:?}")))?,
        status: FindingStatus::parse(status).ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
        count: count.max(0) as u64,
    })
}

pub(crate) const FINDING_COUNTS: &str = "SELECT severity, status, COUNT(*) FROM findings WHERE institution_id = $1 GROUP BY severity, status ORDER BY severity, status";

#[derive(Debug, Clone, Default)]
pub struct FindingQuery {
    pub status: Option<FindingStatus>,
    pub min_severity: Option<Severity>,
    pub limit: Option<u32>,
}

/// Which jobs a listing covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobScope {
    /// Every job of the installation (the operator at the server's console).
    All,
    /// One institution's jobs only.
    Institution(InstitutionId),
}

#[derive(Debug, Clone)]
pub struct JobQuery {
    pub scope: JobScope,
    pub status: Option<JobStatus>,
    pub limit: u32,
}

impl Default for JobQuery {
    fn default() -> Self {
        Self { scope: JobScope::All, status: None, limit: 100 }
    }
}

/// An API token as stored: only the hash of the secret is kept. A token belongs to a user
/// and acts with at most that user's rights, optionally narrowed to one institution and a
/// lesser role; a token without a user was minted at the server's console (`mamori token
/// create`) and acts as the installation administrator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub user_id: Option<UserId>,
    pub institution_id: Option<InstitutionId>,
    pub role: Option<Role>,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// Reports rows written so far inside a batch (for job progress). Called from the task
/// doing the writing; must be cheap.
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

/// Called between pages while a long read runs; return `false` to stop.
pub type KeepGoing<'a> = &'a (dyn Fn(u64) -> bool + Send + Sync);

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    fn backend(&self) -> Backend;

    /// The database answers.
    async fn ping(&self) -> Result<()>;

    async fn schema_status(&self) -> Result<SchemaStatus>;

    // ---- installation-wide -------------------------------------------------------------

    async fn get_setting(&self, key: &str) -> Result<Option<String>>;
    /// Sets a setting and audits `audit` (which must not contain the value if it is secret).
    async fn set_setting(&self, key: &str, value: &str, audit: &AuditDraft) -> Result<()>;

    async fn create_institution(&self, institution: &Institution, actor: &str) -> Result<Scope>;
    async fn list_institutions(&self) -> Result<Vec<Institution>>;
    /// The only way to obtain a [`Scope`]: fails with `NotFound` for an unknown id.
    async fn scope(&self, id: InstitutionId) -> Result<Scope>;
    async fn institution(&self, scope: &Scope) -> Result<Institution>;

    // ---- ledgers ------------------------------------------------------------------------

    /// Creates or updates `rows` (by id) in one transaction: all are written or none.
    /// Each created or changed row gets an audit entry with the fields that changed.
    async fn put_rows(&self, scope: &Scope, rows: &[Row], actor: &str, progress: Progress<'_>) -> Result<WriteSummary>;
    async fn get_row(&self, scope: &Scope, kind: RecordKind, id: RecordId) -> Result<Option<Row>>;
    async fn list_rows(&self, scope: &Scope, kind: RecordKind, query: &RecordQuery) -> Result<Vec<Row>>;
    async fn count_rows(&self, scope: &Scope, kind: RecordKind) -> Result<u64>;
    /// How many rows `list_rows` would return for `query` without its limit and offset.
    async fn count_matching(&self, scope: &Scope, kind: RecordKind, query: &RecordQuery) -> Result<u64>;
    /// When the ledger last changed (its newest `updated_at`), `None` when it is empty.
    async fn ledger_updated_at(&self, scope: &Scope, kind: RecordKind) -> Result<Option<OffsetDateTime>>;
    /// Fails with `Referenced` while another record points at it.
    async fn delete_row(&self, scope: &Scope, kind: RecordKind, id: RecordId, actor: &str) -> Result<bool>;

    // ---- evidence and findings -------------------------------------------------------------

    /// Stores evidence, with the file it is about when there is one. The file's BLAKE3 must
    /// be the evidence's `content_hash` (`Invalid` otherwise); both are written together.
    async fn put_evidence(
        &self,
        scope: &Scope,
        evidence: &Evidence,
        file: Option<&Attachment>,
        actor: &str,
    ) -> Result<()>;
    async fn get_evidence(&self, scope: &Scope, id: EvidenceId) -> Result<Option<Evidence>>;
    /// The institution's evidence of one kind (e.g. `document`), newest first.
    async fn list_evidence(&self, scope: &Scope, kind: &str, limit: u32) -> Result<Vec<Evidence>>;
    /// The file attached to this evidence, if any.
    async fn get_attachment(&self, scope: &Scope, id: EvidenceId) -> Result<Option<Attachment>>;
    async fn create_finding(&self, scope: &Scope, finding: &Finding, actor: &str) -> Result<()>;
    /// An analyser saw a problem again or for the first time. With an unresolved finding of
    /// the same `key` (e.g. `scan.plaintext-telnet/192.168.1.5/23`), adds the new evidence
    /// and moves `last_seen` (audited `finding.seen`); otherwise creates `finding` with the
    /// key. Returns the finding's id and whether it is new.
    async fn observe_finding(
        &self,
        scope: &Scope,
        finding: &Finding,
        key: &str,
        actor: &str,
    ) -> Result<(FindingId, bool)>;
    async fn get_finding(&self, scope: &Scope, id: FindingId) -> Result<Option<Finding>>;
    async fn list_findings(&self, scope: &Scope, query: &FindingQuery) -> Result<Vec<Finding>>;
    /// How many findings the institution has per severity and status (for dashboards,
    /// without loading them).
    async fn finding_counts(&self, scope: &Scope) -> Result<Vec<FindingCount>>;
    async fn set_finding_status(
        &self,
        scope: &Scope,
        id: FindingId,
        to: FindingStatus,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Finding>;

    // ---- jobs -----------------------------------------------------------------------------

    /// Records a new job (status queued) and audits its creation.
    async fn insert_job(&self, job: &Job) -> Result<()>;
    async fn start_job(&self, id: JobId, runner: &str) -> Result<()>;
    /// Stores progress and refreshes the heartbeat; returns whether cancellation was requested.
    async fn update_job_progress(
        &self,
        id: JobId,
        done: u64,
        total: Option<u64>,
        message: Option<&str>,
    ) -> Result<bool>;
    async fn finish_job(
        &self,
        id: JobId,
        status: JobStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()>;
    /// Asks a queued or running job to stop; audited. A queued job is cancelled at once.
    async fn request_job_cancel(&self, id: JobId, actor: &str) -> Result<Job>;
    async fn get_job(&self, id: JobId) -> Result<Option<Job>>;
    async fn list_jobs(&self, query: &JobQuery) -> Result<Vec<Job>>;
    /// Marks these running jobs interrupted (their process died) and audits it.
    async fn mark_jobs_interrupted(&self, ids: &[JobId]) -> Result<u64>;

    // ---- audit ------------------------------------------------------------------------------

    async fn append_audit(&self, chain: Chain, draft: &AuditDraft) -> Result<AuditEvent>;
    async fn audit_heads(&self) -> Result<Vec<ChainHead>>;
    /// Entries of `chain` with `seq > after_seq`, oldest first.
    async fn audit_events(&self, chain: Chain, after_seq: u64, limit: u32) -> Result<Vec<AuditEvent>>;
    /// The newest `limit` entries of the institution's chain about one object (a record's
    /// history), newest first.
    async fn object_history(
        &self,
        scope: &Scope,
        object_kind: &str,
        object_id: &str,
        limit: u32,
    ) -> Result<Vec<AuditEvent>>;

    // ---- the MHLW checklist --------------------------------------------------------------------

    /// Saves answers of one form (item, device class, answer JSON); unchanged answers are
    /// skipped, each changed one is audited as `checklist.answer` with the whole answer.
    /// Returns how many changed.
    async fn put_checklist_answers(
        &self,
        scope: &Scope,
        key: &ChecklistKey,
        answers: &[(String, Option<String>, serde_json::Value)],
        actor: &str,
    ) -> Result<u64>;
    async fn checklist_answers(&self, scope: &Scope, key: &ChecklistKey) -> Result<Vec<StoredAnswer>>;
    /// Installation-wide; audited on the system chain. An existing id is `Conflict`.
    async fn put_checklist_edition(&self, edition: &StoredEdition) -> Result<()>;
    async fn checklist_editions(&self) -> Result<Vec<StoredEdition>>;
    /// Assigns (or with `assigned = false` withdraws) a 事業者確認用 form to a vendor.
    async fn set_checklist_assignment(
        &self,
        scope: &Scope,
        assignment: &ChecklistAssignment,
        assigned: bool,
        actor: &str,
    ) -> Result<()>;
    async fn checklist_assignments(&self, scope: &Scope) -> Result<Vec<ChecklistAssignment>>;

    // ---- per-institution settings (saved import mappings, …) --------------------------------

    async fn get_institution_setting(&self, scope: &Scope, key: &str) -> Result<Option<String>>;
    /// Audited as `setting.set` with the key (values may be long; they are not copied).
    async fn set_institution_setting(&self, scope: &Scope, key: &str, value: &str, actor: &str) -> Result<()>;

    // ---- users, memberships, sessions -------------------------------------------------------

    /// Creates a user with its memberships in one transaction; audited on the system chain
    /// (`user.create`, no secrets) and on each institution's chain (`membership.set`).
    /// A taken login is `Conflict`.
    async fn create_user(&self, user: &User, memberships: &[Membership], actor: &str) -> Result<()>;
    async fn get_user(&self, id: UserId) -> Result<Option<User>>;
    /// By normalised (lower-case) login.
    async fn find_user_by_login(&self, login: &str) -> Result<Option<User>>;
    /// Every user, by login.
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Writes every field of `user` except `id`, `login` and `created_at`, and appends
    /// `audit` to the system chain in the same transaction. The caller keeps secrets out of
    /// `audit`.
    async fn update_user(&self, user: &User, audit: &AuditDraft) -> Result<()>;
    /// Accepts TOTP time step `step` for the user only if it is newer than the last accepted
    /// one (atomic: two requests with the same code cannot both succeed).
    async fn accept_totp_step(&self, user: UserId, step: i64) -> Result<bool>;
    /// The user's memberships, by institution creation order.
    async fn memberships(&self, user: UserId) -> Result<Vec<Membership>>;
    /// Users of one institution with their role, by login.
    async fn institution_users(&self, scope: &Scope) -> Result<Vec<(User, Role)>>;
    /// Sets (`Some`) or removes (`None`) the user's role in the institution; audited on the
    /// institution's chain (`membership.set` / `membership.remove`, with old and new role).
    /// Setting the role the user already has (or removing a missing one) changes and audits
    /// nothing. An unknown user is `NotFound`.
    async fn set_membership(&self, scope: &Scope, user: UserId, role: Option<Role>, actor: &str) -> Result<()>;

    async fn insert_session(&self, session: &Session) -> Result<()>;
    async fn get_session(&self, id_hash: &str) -> Result<Option<Session>>;
    /// Records activity (idle timeout).
    async fn touch_session(&self, id_hash: &str, at: OffsetDateTime) -> Result<()>;
    async fn delete_session(&self, id_hash: &str) -> Result<bool>;
    /// Live and expired sessions of one user, or of everyone, newest first.
    async fn list_sessions(&self, user: Option<UserId>) -> Result<Vec<Session>>;
    /// Ends every session of a user (admin revocation, password change); audited
    /// (`session.revoke_all`) on the system chain.
    async fn revoke_sessions(&self, user: UserId, actor: &str) -> Result<u64>;
    /// Removes sessions whose `expires_at` is before `now`.
    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64>;

    // ---- API tokens ---------------------------------------------------------------------------

    async fn insert_api_token(&self, token: &ApiToken) -> Result<()>;
    /// A live token by the hash of its secret: not revoked, and its user (if it has one) not
    /// disabled. Records its use.
    async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiToken>>;
    /// Every token (`None`) or one user's tokens, by creation.
    async fn list_api_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>>;
    async fn revoke_api_token(&self, id: ApiTokenId, actor: &str) -> Result<bool>;
}

/// Typed access to the ledgers on top of the row interface.
#[async_trait]
pub trait StoreExt: Store {
    async fn put<R: Record + Sync>(&self, scope: &Scope, record: &R, actor: &str) -> Result<WriteSummary> {
        self.put_rows(scope, &[record.to_row()], actor, &|_| {}).await
    }

    async fn get<R: Record>(&self, scope: &Scope, id: RecordId) -> Result<Option<R>> {
        match self.get_row(scope, R::KIND, id).await? {
            Some(row) => Ok(Some(R::from_row(&row)?)),
            None => Ok(None),
        }
    }

    /// How many entries a chain has (its head's sequence number; 0 when empty).
    async fn audit_head_seq(&self, chain: Chain) -> Result<u64> {
        Ok(self.audit_heads().await?.into_iter().find(|h| h.chain == chain).map_or(0, |h| h.seq))
    }

    /// The newest `limit` entries of a chain, oldest first.
    async fn latest_audit_events(&self, chain: Chain, limit: u32) -> Result<Vec<AuditEvent>> {
        let head = self.audit_head_seq(chain).await?;
        self.audit_events(chain, head.saturating_sub(u64::from(limit)), limit).await
    }

    async fn list<R: Record>(&self, scope: &Scope, query: &RecordQuery) -> Result<Vec<R>> {
        let rows = self.list_rows(scope, R::KIND, query).await?;
        rows.iter().map(|r| R::from_row(r).map_err(StoreError::from)).collect()
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

/// Options for [`open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// Create the SQLite database file if it does not exist.
    pub create: bool,
    /// Apply pending migrations. When false, an out-of-date schema is an error.
    pub migrate: bool,
}

/// Connects to the configured database, refuses a schema newer than this build knows,
/// and applies migrations when asked. Nothing is written before those checks pass.
pub async fn open(settings: &DbSettings, options: OpenOptions) -> Result<Arc<dyn Store>> {
    match settings {
        DbSettings::Sqlite { path } => Ok(Arc::new(sqlite::SqliteStore::open(path, options).await?)),
        DbSettings::Postgres { .. } => postgres::PgStore::open(settings, options).await,
    }
}

/// The setting that holds the hash of the first-run setup token while setup is pending.
pub const SETUP_TOKEN_SETTING: &str = "setup_token_hash";

/// Set (to the time) when the first administrator has been created.
pub const SETUP_DONE_SETTING: &str = "setup_completed_at";

/// A new random secret (256 bits) in Crockford-free lower-case base32, for tokens.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    data_encoding::BASE32_NOPAD.encode(&bytes).to_ascii_lowercase()
}

/// How secrets (setup and API tokens) are stored: BLAKE3, hex. The secrets are 256-bit
/// random values, so a fast hash is enough; no secret is ever stored or logged in clear.
pub fn hash_secret(secret: &str) -> String {
    blake3::hash(secret.trim().as_bytes()).to_hex().to_string()
}
