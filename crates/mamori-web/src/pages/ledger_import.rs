//! Importing a ledger file in the browser: upload → preview (how the columns map, what
//! would be created or updated, every problem with sheet/row/column in Japanese) → fix the
//! mapping (saved for the next file) → commit as one job, all rows or none.
//!
//! The uploaded file waits in memory between the steps, for its uploader only, for at
//! most [`UPLOAD_TTL`]; nothing is written until the commit.

use super::ledgers::hx_redirect;
use super::{Page, lang_from_headers, not_found, render, server_error};
use crate::AppState;
use crate::ledger_io::{self, column_letter, export_lang};
use crate::session::Auth;
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_domain::job::JobStatus;
use mamori_domain::record::RecordKind;
use mamori_domain::{InstitutionId, UserId};
use mamori_i18n::{Arg, Lang};
use mamori_ledger::export;
use mamori_ledger::header::{MappingOverrides, field_for};
use mamori_ledger::plan::{self, Action, PlanOptions};
use mamori_ledger::read::{Cell, Encoding, Limits, Sheet, read_file};
use mamori_store::Scope;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an uploaded file waits for its commit.
pub const UPLOAD_TTL: Duration = Duration::from_secs(30 * 60);
/// The largest ledger file the browser may upload.
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Files waiting at once (all users) and their bytes; the oldest goes first. One user has
/// at most [`MAX_PER_USER`] waiting, so nobody can push out everyone else's.
const MAX_WAITING: usize = 16;
const MAX_WAITING_BYTES: usize = 256 * 1024 * 1024;
const MAX_PER_USER: usize = 2;

/// A file between upload and commit.
#[derive(Clone)]
pub struct Upload {
    owner: UserId,
    institution: InstitutionId,
    kind: RecordKind,
    name: String,
    bytes: Arc<Vec<u8>>,
    encoding: Encoding,
    options: PlanOptions,
    at: Instant,
}

/// Uploaded files waiting for their commit, in this process's memory.
#[derive(Default)]
pub struct Uploads {
    waiting: Mutex<HashMap<String, Upload>>,
}

impl Uploads {
    fn insert(&self, upload: Upload) -> String {
        let token = crate::security::random_token();
        let mut w = self.waiting.lock().expect("uploads lock");
        w.retain(|_, u| u.at.elapsed() < UPLOAD_TTL);
        // The user's own oldest file goes first, then the oldest of all.
        let owner = upload.owner;
        while w.values().filter(|u| u.owner == owner).count() >= MAX_PER_USER {
            let oldest = w.iter().filter(|(_, u)| u.owner == owner).min_by_key(|(_, u)| u.at).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => w.remove(&k),
                None => break,
            };
        }
        while w.len() >= MAX_WAITING
            || w.values().map(|u| u.bytes.len()).sum::<usize>() + upload.bytes.len() > MAX_WAITING_BYTES
        {
            let oldest = w.iter().min_by_key(|(_, u)| u.at).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => w.remove(&k),
                None => break,
            };
        }
        w.insert(token.clone(), upload);
        token
    }

    /// The upload, if it is this user's, for this institution and ledger, and not expired.
    fn get(&self, token: &str, auth: &Auth, scope: &Scope, kind: RecordKind) -> Option<Upload> {
        let w = self.waiting.lock().expect("uploads lock");
        w.get(token)
            .filter(|u| {
                u.owner == auth.user.id
                    && u.institution == scope.institution()
                    && u.kind == kind
                    && u.at.elapsed() < UPLOAD_TTL
            })
            .cloned()
    }

    fn set_options(&self, token: &str, options: PlanOptions) {
        if let Some(u) = self.waiting.lock().expect("uploads lock").get_mut(token) {
            u.options = options;
        }
    }

    fn remove(&self, token: &str) {
        self.waiting.lock().expect("uploads lock").remove(token);
    }
}

/// A multipart form with one file: the file and the form's text fields.
pub struct Uploaded {
    pub name: String,
    pub bytes: Vec<u8>,
    pub fields: HashMap<String, String>,
}

/// Text fields of an upload form are short (a kind, a title, a date).
const MAX_FIELD_BYTES: usize = 4096;

/// Reads a multipart form: the first file field (`file`, at most `limit` bytes) and the text
/// fields. `None` when no file was chosen. Errors are codes (`upload-*`).
pub async fn read_upload(mut multipart: Multipart, limit: usize) -> Result<Option<Uploaded>, &'static str> {
    let mut file = None;
    let mut fields = HashMap::new();
    while let Some(mut field) = multipart.next_field().await.map_err(|_| "upload-broken")? {
        let is_file = field.name() == Some("file");
        if is_file && file.is_some() {
            continue;
        }
        let key = field.name().unwrap_or("").to_owned();
        let name = field.file_name().unwrap_or("").to_owned();
        if name.len() > 255 {
            return Err("upload-name-too-long");
        }
        let max = if is_file { limit } else { MAX_FIELD_BYTES };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| "upload-broken")? {
            if bytes.len() + chunk.len() > max {
                return Err(if is_file { "upload-too-large" } else { "upload-broken" });
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            if !name.is_empty() || !bytes.is_empty() {
                file = Some((name, bytes));
            }
        } else {
            fields.insert(key, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(file.map(|(name, bytes)| Uploaded { name, bytes, fields }))
}

fn kind_of(kind: &str, lang: Lang) -> Result<RecordKind, Response> {
    RecordKind::parse(kind).ok_or_else(|| not_found(lang))
}

#[derive(Template)]
#[template(path = "ledger_import.html")]
struct UploadPage {
    page: Page,
    inst: String,
    kind: &'static str,
    tabs: Vec<super::ledgers::Tab>,
    ledger: String,
    error: Option<String>,
}

async fn upload_page(
    state: &AppState,
    auth: &Auth,
    scope: &Scope,
    lang: Lang,
    kind: RecordKind,
    error: Option<String>,
) -> Response {
    let failed = error.is_some();
    let mut res = render(&UploadPage {
        page: Page::for_user(state, auth, lang, "import-web-title", Some(scope.institution())).await,
        inst: scope.institution().to_string(),
        kind: kind.as_str(),
        tabs: super::ledgers::tabs(kind, lang),
        ledger: export::ledger_title(kind, export_lang(lang)).to_owned(),
        error,
    });
    if failed {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind)): Path<(String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    match kind_of(&kind, lang) {
        Ok(kind) => upload_page(&state, &auth, &scope, lang, kind, None).await,
        Err(r) => r,
    }
}

/// Takes the file, checks that it reads, and goes to the preview.
pub async fn upload(
    state: State<AppState>,
    headers: HeaderMap,
    auth: Extension<Auth>,
    scope: Extension<Scope>,
    path: Path<(String, String)>,
    multipart: Multipart,
) -> Response {
    let h = headers.clone();
    super::for_htmx(&h, upload_inner(state, headers, auth, scope, path, multipart).await)
}

async fn upload_inner(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind)): Path<(String, String)>,
    multipart: Multipart,
) -> Response {
    let lang = lang_from_headers(&headers);
    let kind = match kind_of(&kind, lang) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let (name, bytes, encoding) = match read_upload(multipart, MAX_UPLOAD_BYTES).await {
        Ok(Some(f)) => {
            let encoding = match f.fields.get("encoding").map(String::as_str) {
                Some("utf8") => Encoding::Utf8,
                Some("cp932") => Encoding::ShiftJis,
                _ => Encoding::Auto,
            };
            (f.name, f.bytes, encoding)
        }
        Ok(None) => {
            return upload_page(&state, &auth, &scope, lang, kind, Some(lang.t("ledger-web-error-upload-empty"))).await;
        }
        Err(code) => {
            return upload_page(&state, &auth, &scope, lang, kind, Some(lang.t(&format!("ledger-web-error-{code}"))))
                .await;
        }
    };
    // Reading now gives the "this is not a ledger file" answer at once.
    let (bytes, name) = (Arc::new(bytes), name);
    let check = {
        let (bytes, name) = (bytes.clone(), name.clone());
        tokio::task::spawn_blocking(move || read_file(&bytes, &name, encoding, &Limits::default()).map(drop)).await
    };
    if let Err(e) = check.unwrap_or(Err(mamori_ledger::read::ReadError::Empty)) {
        return upload_page(&state, &auth, &scope, lang, kind, Some(ledger_io::read_error_text(lang, &e))).await;
    }
    let options = match ledger_io::saved_mapping(&*state.store, &scope, kind).await {
        Ok(overrides) => PlanOptions { overrides, sheet: None },
        Err(e) => return server_error(lang, &e),
    };
    let token = state.uploads.insert(Upload {
        owner: auth.user.id,
        institution: scope.institution(),
        kind,
        name,
        bytes,
        encoding,
        options,
        at: Instant::now(),
    });
    hx_redirect(&headers, &format!("/i/{}/ledgers/{kind}/import/{token}", scope.institution()))
}

pub struct MapColumn {
    pub column: String,
    pub index: usize,
    pub text: String,
    pub selected: String,
    pub from_override: bool,
}

pub struct ProblemRow {
    pub error: bool,
    pub level: String,
    pub sheet: String,
    pub row: usize,
    pub column: String,
    pub what: String,
}

pub struct SampleRow {
    pub action: String,
    pub row: usize,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "ledger_preview.html")]
struct PreviewPage {
    page: Page,
    inst: String,
    kind: &'static str,
    tabs: Vec<super::ledgers::Tab>,
    base: String,
    file: String,
    sheets: Vec<(String, bool)>,
    header_line: String,
    columns: Vec<MapColumn>,
    fields: Vec<(String, String)>,
    summary: Option<String>,
    problems: Vec<ProblemRow>,
    more_problems: usize,
    errors: usize,
    sample_headers: Vec<String>,
    sample: Vec<SampleRow>,
    no_header: bool,
}

/// Problems listed on the page; the rest are counted.
const SHOWN_PROBLEMS: usize = 300;
const SAMPLE_ROWS: usize = 20;

/// The upload a path names, read again: `(ledger, upload, sheets)`, or the page that says
/// why not (unknown ledger, expired or foreign upload, unreadable file).
async fn open_upload(
    state: &AppState,
    auth: &Auth,
    scope: &Scope,
    lang: Lang,
    kind: &str,
    token: &str,
) -> Result<(RecordKind, Upload, Vec<Sheet>), Response> {
    let kind = kind_of(kind, lang)?;
    let Some(upload) = state.uploads.get(token, auth, scope, kind) else {
        return Err(upload_page(state, auth, scope, lang, kind, Some(lang.t("ledger-web-error-upload-expired"))).await);
    };
    // Reading a large workbook takes CPU for a while: off the async workers.
    let copy = upload.clone();
    let read = tokio::task::spawn_blocking(move || read(&copy)).await;
    match read.unwrap_or(Err(mamori_ledger::read::ReadError::Empty)) {
        Ok(sheets) => Ok((kind, upload, sheets)),
        Err(e) => Err(upload_page(state, auth, scope, lang, kind, Some(ledger_io::read_error_text(lang, &e))).await),
    }
}

fn read(u: &Upload) -> Result<Vec<Sheet>, mamori_ledger::read::ReadError> {
    read_file(&u.bytes, &u.name, u.encoding, &Limits::default())
}

pub async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind, token)): Path<(String, String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (kind, upload, sheets) = match open_upload(&state, &auth, &scope, lang, &kind, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let xl = export_lang(lang);
    let view = match plan::preview(&sheets, kind, &upload.options) {
        Ok(v) => v,
        Err(e) => {
            return upload_page(
                &state,
                &auth,
                &scope,
                lang,
                kind,
                Some(lang.t(&format!("ledger-web-error-{}", e.code()))),
            )
            .await;
        }
    };
    let (existing, refs) = match ledger_io::import_context(&*state.store, &scope, kind).await {
        Ok(c) => c,
        Err(e) => return server_error(lang, &e),
    };
    let planned = plan::plan_with(&sheets, kind, &existing, &refs, &upload.options);
    let columns = view
        .cells
        .iter()
        .map(|c| MapColumn {
            column: column_letter(c.column),
            index: c.column,
            text: c.text.clone(),
            selected: c.field.unwrap_or("-").to_owned(),
            from_override: c.from_override,
        })
        .collect();
    let mut fields = vec![("-".to_owned(), lang.t("import-web-skip-column"))];
    fields.extend(kind.fields().iter().map(|f| (f.name.to_owned(), export::column_title(kind, f.name, xl))));
    let sample_fields = export::summary_fields(kind);
    let names = ledger_io::reference_names(&*state.store, &scope, kind).await.unwrap_or_default();
    let (summary, problems, more, errors, sample, no_header) = match &planned {
        Ok(p) => {
            let (create, update, unchanged) = p.counts();
            let summary = lang.ta(
                "import-summary",
                &[
                    ("sheet", p.sheet.clone().into()),
                    ("header", p.header_row.into()),
                    ("create", create.into()),
                    ("update", update.into()),
                    ("unchanged", unchanged.into()),
                ],
            );
            let errors = p.problems.iter().filter(|x| x.level == plan::Level::Error).count();
            let problems = p
                .problems
                .iter()
                .take(SHOWN_PROBLEMS)
                .map(|x| {
                    let t = ledger_io::problem_text(lang, kind, x);
                    ProblemRow {
                        error: t.error,
                        level: t.level,
                        sheet: t.sheet,
                        row: t.row,
                        column: t.column,
                        what: t.what,
                    }
                })
                .collect();
            let sample = p
                .rows
                .iter()
                .filter(|r| r.action != Action::Unchanged)
                .take(SAMPLE_ROWS)
                .map(|r| SampleRow {
                    action: lang.t(match r.action {
                        Action::Create => "import-web-action-create",
                        Action::Update => "import-web-action-update",
                        Action::Unchanged => "import-web-action-unchanged",
                    }),
                    row: r.source_row,
                    cells: sample_fields
                        .iter()
                        .filter_map(|f| kind.field(f))
                        .map(|f| export::render(kind, f, r.row.get(f.name), &names, xl).to_text().replace('\n', ", "))
                        .collect(),
                })
                .collect();
            (Some(summary), problems, p.problems.len().saturating_sub(SHOWN_PROBLEMS), errors, sample, false)
        }
        Err(_) => (None, Vec::new(), 0, 0, Vec::new(), true),
    };
    let header_line = match view.header_row {
        Some(r) if view.detected => lang.ta("import-web-header-found", &[("row", Arg::from(r))]),
        Some(r) => lang.ta("import-web-header-guess", &[("row", Arg::from(r))]),
        None => lang.t("import-web-header-none"),
    };
    let chosen = view.sheet.clone().unwrap_or_default();
    render(&PreviewPage {
        page: Page::for_user(&state, &auth, lang, "import-web-preview-title", Some(scope.institution())).await,
        inst: scope.institution().to_string(),
        kind: kind.as_str(),
        tabs: super::ledgers::tabs(kind, lang),
        base: format!("/i/{}/ledgers/{kind}/import/{token}", scope.institution()),
        file: upload.name.clone(),
        sheets: view.sheet_names.iter().map(|s| (s.clone(), *s == chosen)).collect(),
        header_line,
        columns,
        fields,
        summary,
        problems,
        more_problems: more,
        errors,
        sample_headers: sample_fields.iter().map(|f| export::column_title(kind, f, xl)).collect(),
        sample,
        no_header,
    })
}

/// The user's corrections: a field (or `-`, not imported) per header column, the sheet,
/// and whether to keep the mapping for the next file.
pub async fn mapping(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind, token)): Path<(String, String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (kind, upload, sheets) = match open_upload(&state, &auth, &scope, lang, &kind, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let back = format!("/i/{}/ledgers/{kind}/import/{token}", scope.institution());
    let sheet = form.get("sheet").filter(|s| sheets.iter().any(|x| &x.name == *s)).cloned();
    let sheet_changed = sheet.is_some() && sheet != upload.options.sheet && form.contains_key("sheet_only");
    let mut options = PlanOptions { overrides: upload.options.overrides.clone(), sheet };
    if sheet_changed {
        state.uploads.set_options(&token, options);
        return Redirect::to(&back).into_response();
    }
    // The header shown on the page, as the user saw it.
    let view = match plan::preview(&sheets, kind, &upload.options) {
        Ok(v) => v,
        Err(e) => {
            return upload_page(
                &state,
                &auth,
                &scope,
                lang,
                kind,
                Some(lang.t(&format!("ledger-web-error-{}", e.code()))),
            )
            .await;
        }
    };
    let mut overrides = options.overrides.take().unwrap_or_else(|| MappingOverrides::new(kind));
    for cell in &view.cells {
        let Some(choice) = form.get(&format!("col_{}", cell.column)) else { continue };
        let chosen = if choice == "-" { None } else { kind.field(choice).map(|f| f.name) };
        if choice != "-" && chosen.is_none() {
            return upload_page(
                &state,
                &auth,
                &scope,
                lang,
                kind,
                Some(lang.t("ledger-web-error-mapping-unknown-field")),
            )
            .await;
        }
        let dictionary = field_for(kind, &Cell::Text(cell.text.clone()));
        let result = if chosen == dictionary {
            overrides.remove(&cell.text);
            Ok(())
        } else {
            overrides.set(&cell.text, chosen)
        };
        if let Err(e) = result {
            return upload_page(
                &state,
                &auth,
                &scope,
                lang,
                kind,
                Some(lang.t(&format!("ledger-web-error-{}", e.code()))),
            )
            .await;
        }
    }
    if form.get("save").is_some_and(|v| v == "on")
        && let Err(e) =
            ledger_io::save_mapping(&*state.store, &scope, &overrides, &format!("user:{}", auth.user.id)).await
    {
        return server_error(lang, &e);
    }
    options.overrides = (!overrides.is_empty()).then_some(overrides);
    state.uploads.set_options(&token, options);
    Redirect::to(&back).into_response()
}

/// Plans again against the ledger as it is now and, without errors, writes it as a job.
pub async fn commit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind, token)): Path<(String, String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (kind, upload, sheets) = match open_upload(&state, &auth, &scope, lang, &kind, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let back = format!("/i/{}/ledgers/{kind}/import/{token}", scope.institution());
    let (existing, refs) = match ledger_io::import_context(&*state.store, &scope, kind).await {
        Ok(c) => c,
        Err(e) => return server_error(lang, &e),
    };
    let planned = match plan::plan_owned(sheets, kind, &existing, &refs, &upload.options) {
        Ok(p) if !p.has_errors() => p,
        // The preview shows why.
        _ => return Redirect::to(&back).into_response(),
    };
    let run = match ledger_io::run_import(
        &state.runner,
        state.store.clone(),
        scope,
        kind,
        planned.into_rows_to_write(),
        &upload.name,
        &upload.bytes,
        &format!("user:{}", auth.user.id),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return server_error(lang, &e),
    };
    state.uploads.remove(&token);
    let job = run.handle.id;
    // Most imports take seconds; a long one goes on in the jobs list.
    match tokio::time::timeout(Duration::from_secs(30), run.handle.wait()).await {
        Ok(JobStatus::Succeeded) => {
            Redirect::to(&format!("/i/{}/ledgers/{kind}?imported={job}", scope.institution())).into_response()
        }
        _ => Redirect::to(&format!("/i/{}/jobs", scope.institution())).into_response(),
    }
}
