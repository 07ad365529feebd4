//! The ledgers of one institution: a list per ledger (search, sort, pages), a record's
//! detail with its history from the audit log, forms to add, edit and delete records, files
//! attached to MDS/SDS records, and XLSX/CSV export and blank templates. Importing a file
//! is in `ledger_import`.

use super::{Page, lang_from_headers, not_found, render, server_error};
use crate::AppState;
use crate::ledger_io::{self, export_lang};
use crate::session::Auth;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_domain::audit::{AuditDraft, AuditEvent};
use mamori_domain::auth::Permission;
use mamori_domain::evidence::{Evidence, classify_upload};
use mamori_domain::ledger::{check_row, choices};
use mamori_domain::record::{FieldType, RecordError, RecordKind, Row, Value};
use mamori_domain::{EvidenceId, RecordId};
use mamori_i18n::{Arg, Lang};
use mamori_ledger::export::{self, CsvEncoding};
use mamori_store::{Attachment, MAX_ATTACHMENT_BYTES, RecordQuery, Scope, StoreError};
use serde::Deserialize;
use std::collections::HashMap;

/// Rows per page of a ledger list.
const PAGE: u32 = 100;

pub struct Tab {
    pub slug: &'static str,
    pub title: &'static str,
    pub current: bool,
}

pub(super) fn tabs(kind: RecordKind, lang: Lang) -> Vec<Tab> {
    let xl = export_lang(lang);
    RecordKind::ALL
        .into_iter()
        .map(|k| Tab { slug: k.as_str(), title: export::ledger_title(k, xl), current: k == kind })
        .collect()
}

fn parse_kind(kind: &str, lang: Lang) -> Result<RecordKind, Response> {
    RecordKind::parse(kind).ok_or_else(|| not_found(lang))
}

fn parse_id(id: &str, lang: Lang) -> Result<RecordId, Response> {
    id.parse::<uuid::Uuid>().map(RecordId).map_err(|_| not_found(lang))
}

fn actor(auth: &Auth) -> String {
    format!("user:{}", auth.user.id)
}

pub fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|q| q[1..].to_owned()).unwrap_or_default()
}

// ---- list ------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    desc: bool,
    #[serde(default)]
    page: u32,
    /// The import job that just finished, to report its result.
    #[serde(default)]
    imported: String,
}

pub struct Column {
    pub title: String,
    pub sort_url: String,
    /// `▲`/`▼` on the column sorted by.
    pub mark: &'static str,
}

pub struct ListRow {
    pub id: String,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    page: Page,
    inst: String,
    kind: &'static str,
    tabs: Vec<Tab>,
    columns: Vec<Column>,
    rows: Vec<ListRow>,
    /// The column that links to the record (its name), 0-based.
    link_column: usize,
    count_line: String,
    q: String,
    can_edit: bool,
    prev_url: Option<String>,
    next_url: Option<String>,
    notice: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind)): Path<(String, String)>,
    Query(lq): Query<ListQuery>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let kind = match parse_kind(&kind, lang) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let xl = export_lang(lang);
    let fields = export::summary_fields(kind);
    let sort = kind.field(&lq.sort).filter(|f| f.ty != FieldType::TextList).map(|f| f.name);
    let query = RecordQuery {
        order_by: Some(sort.unwrap_or(fields[0]).to_owned()),
        descending: lq.desc,
        limit: Some(PAGE),
        offset: lq.page.saturating_mul(PAGE),
        search: Some(lq.q.trim().to_owned()).filter(|q| !q.is_empty()),
        ..Default::default()
    };
    let result: Result<_, StoreError> = async {
        let total = state.store.count_rows(&scope, kind).await?;
        let matching = state.store.count_matching(&scope, kind, &query).await?;
        let rows = state.store.list_rows(&scope, kind, &query).await?;
        let names = ledger_io::reference_names(&*state.store, &scope, kind).await?;
        Ok((total, matching, rows, names))
    }
    .await;
    let (total, matching, rows, names) = match result {
        Ok(r) => r,
        Err(e) => return server_error(lang, &e),
    };
    let inst = scope.institution().to_string();
    let base = format!("/i/{inst}/ledgers/{kind}");
    let q_part = if lq.q.trim().is_empty() { String::new() } else { format!("&q={}", url_encode(lq.q.trim())) };
    let sorted_by = sort.unwrap_or(fields[0]);
    let columns = fields
        .iter()
        .map(|f| {
            let desc = *f == sorted_by && !lq.desc;
            Column {
                title: export::column_title(kind, f, xl),
                sort_url: if kind.field(f).is_some_and(|d| d.ty == FieldType::TextList) {
                    String::new()
                } else {
                    format!("{base}?sort={f}{}{q_part}", if desc { "&desc=true" } else { "" })
                },
                mark: match (*f == sorted_by, lq.desc) {
                    (true, false) => "▲",
                    (true, true) => "▼",
                    _ => "",
                },
            }
        })
        .collect();
    let table = rows
        .iter()
        .map(|r| ListRow {
            id: r.id.to_string(),
            cells: fields
                .iter()
                .filter_map(|name| kind.field(name))
                .map(|f| export::render(kind, f, r.get(f.name), &names, xl).to_text().replace('\n', ", "))
                .collect(),
        })
        .collect::<Vec<_>>();
    let page_url =
        |p: u32| format!("{base}?sort={sorted_by}{}{q_part}&page={p}", if lq.desc { "&desc=true" } else { "" });
    let shown_to = u64::from(lq.page) * u64::from(PAGE) + table.len() as u64;
    let count_line = lang.ta(
        "ledger-web-count",
        &[
            ("total", Arg::from(total)),
            ("matching", Arg::from(matching)),
            ("from", Arg::from(if table.is_empty() { 0 } else { u64::from(lq.page) * u64::from(PAGE) + 1 })),
            ("to", Arg::from(shown_to)),
        ],
    );
    let notice = match lq.imported.parse::<uuid::Uuid>() {
        Ok(job) => import_notice(&state, lang, mamori_domain::JobId(job), &scope).await,
        Err(_) => None,
    };
    render(&LedgerPage {
        page: Page::for_user(&state, &auth, lang, "ledger-web-title", Some(scope.institution())).await,
        inst,
        kind: kind.as_str(),
        tabs: tabs(kind, lang),
        columns,
        rows: table,
        link_column: fields.iter().position(|f| matches!(*f, "name" | "title" | "system" | "username")).unwrap_or(0),
        count_line,
        q: lq.q.trim().to_owned(),
        can_edit: auth.can(scope.institution(), Permission::EditData),
        prev_url: (lq.page > 0).then(|| page_url(lq.page - 1)),
        next_url: (shown_to < matching).then(|| page_url(lq.page + 1)),
        notice,
    })
}

/// "取り込みました（新規 n 件…）" for an import job of this institution.
async fn import_notice(state: &AppState, lang: Lang, job: mamori_domain::JobId, scope: &Scope) -> Option<String> {
    let job = state.store.get_job(job).await.ok()??;
    if job.institution_id != Some(scope.institution()) || job.kind != "ledger-import" {
        return None;
    }
    let summary: mamori_store::WriteSummary = serde_json::from_value(job.result.clone()?).ok()?;
    Some(lang.ta("import-done", &[("create", Arg::from(summary.created)), ("update", Arg::from(summary.updated))]))
}

// ---- one record ------------------------------------------------------------------------

pub struct Shown {
    pub label: String,
    pub value: String,
    /// A link for a reference (to the record) or an attachment (to the file).
    pub link: Option<String>,
}

pub struct HistoryLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub changes: Vec<String>,
}

#[derive(Template)]
#[template(path = "ledger_record.html")]
struct RecordPage {
    page: Page,
    inst: String,
    kind: &'static str,
    tabs: Vec<Tab>,
    id: String,
    fields: Vec<Shown>,
    history: Vec<HistoryLine>,
    can_edit: bool,
    can_attach: bool,
    error: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct RecordQueryParams {
    #[serde(default)]
    error: String,
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind, id)): Path<(String, String, String)>,
    Query(params): Query<RecordQueryParams>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (kind, id) = match (parse_kind(&kind, lang), parse_id(&id, lang)) {
        (Ok(k), Ok(i)) => (k, i),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let xl = export_lang(lang);
    let result: Result<_, StoreError> = async {
        let Some(row) = state.store.get_row(&scope, kind, id).await? else { return Ok(None) };
        let names = ledger_io::reference_names(&*state.store, &scope, kind).await?;
        let history = state.store.object_history(&scope, kind.as_str(), &id.to_string(), 100).await?;
        let attachment = match row.get("evidence_id") {
            Value::Ref(e) => state.store.get_attachment(&scope, EvidenceId(*e)).await?.map(|a| (*e, a.name)),
            _ => None,
        };
        let users: HashMap<String, String> =
            state.store.list_users().await?.into_iter().map(|u| (format!("user:{}", u.id), u.display_name)).collect();
        Ok(Some((row, names, history, attachment, users)))
    }
    .await;
    let (row, names, history, attachment, users) = match result {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(lang),
        Err(e) => return server_error(lang, &e),
    };
    let inst = scope.institution().to_string();
    let fields = kind
        .fields()
        .iter()
        .filter(|f| f.name != "evidence_id")
        .map(|f| {
            let value = export::render(kind, f, row.get(f.name), &names, xl).to_text();
            let link = match (row.get(f.name), f.refers_to.and_then(RecordKind::from_table)) {
                (Value::Ref(r), Some(target)) => Some(format!("/i/{inst}/ledgers/{target}/{r}")),
                _ => None,
            };
            Shown { label: export::column_title(kind, f.name, xl), value, link }
        })
        .chain(attachment.map(|(e, name)| Shown {
            label: lang.t("ledger-web-attachment"),
            value: name,
            link: Some(format!("/i/{inst}/evidence/{e}/file")),
        }))
        .collect();
    let history = history.iter().map(|e| history_line(lang, kind, e, &users)).collect();
    let heading = export::display_name(&row).unwrap_or_else(|| export::ledger_title(kind, xl).to_owned());
    let error = match params.error.as_str() {
        "" => None,
        code => lang.try_t(&format!("ledger-web-error-{code}")),
    };
    let mut page = Page::for_user(&state, &auth, lang, "ledger-web-title", Some(scope.institution())).await;
    page.title = heading.clone();
    render(&RecordPage {
        page,
        inst,
        kind: kind.as_str(),
        tabs: tabs(kind, lang),
        id: id.to_string(),
        fields,
        history,
        can_edit: auth.can(scope.institution(), Permission::EditData),
        can_attach: kind.field("evidence_id").is_some(),
        error,
    })
}

fn history_line(lang: Lang, kind: RecordKind, e: &AuditEvent, users: &HashMap<String, String>) -> HistoryLine {
    let xl = export_lang(lang);
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::Null => lang.t("ledger-web-blank"),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned)).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    };
    let mut changes = Vec::new();
    if let Some(changed) = details.get("changed").and_then(|c| c.as_object()) {
        for (field, pair) in changed {
            let (old, new) =
                (pair.get(0).unwrap_or(&serde_json::Value::Null), pair.get(1).unwrap_or(&serde_json::Value::Null));
            changes.push(format!("{}: {} → {}", export::column_title(kind, field, xl), show(old), show(new)));
        }
    } else if let Some(fields) = details.get("fields").and_then(|c| c.as_object()) {
        for (field, v) in fields {
            changes.push(format!("{}: {}", export::column_title(kind, field, xl), show(v)));
        }
    }
    HistoryLine {
        at: super::jobs::when(e.at),
        actor: users.get(&e.actor).cloned().unwrap_or_else(|| e.actor.clone()),
        action: lang.try_t(&format!("audit-action-{}", e.action.replace('.', "-"))).unwrap_or_else(|| e.action.clone()),
        changes,
    }
}

// ---- add and edit ----------------------------------------------------------------------

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Input {
    pub name: &'static str,
    pub label: String,
    pub required: bool,
    /// `text`, `textarea`, `number`, `date`, `datetime-local` or `select`.
    pub input: &'static str,
    pub value: String,
    pub choices: Vec<Choice>,
    pub hint: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "ledger_form.html")]
struct FormPage {
    page: Page,
    inst: String,
    tabs: Vec<Tab>,
    action: String,
    cancel: String,
    inputs: Vec<Input>,
    errors: bool,
    /// A problem with the whole record (e.g. a reference that vanished meanwhile).
    general: Option<String>,
}

/// Options of a reference field: the records of the referenced ledger by name.
async fn reference_choices(
    state: &AppState,
    scope: &Scope,
    kind: RecordKind,
) -> Result<HashMap<&'static str, Vec<(String, String)>>, StoreError> {
    let mut out = HashMap::new();
    for f in kind.fields() {
        let Some(target) = f.refers_to.and_then(RecordKind::from_table) else { continue };
        let mut options: Vec<(String, String)> = state
            .store
            .list_rows(scope, target, &RecordQuery::default())
            .await?
            .iter()
            .map(|r| (r.id.to_string(), export::display_name(r).unwrap_or_else(|| r.id.to_string())))
            .collect();
        options.sort_by(|a, b| a.1.cmp(&b.1));
        out.insert(f.name, options);
    }
    Ok(out)
}

fn inputs(
    lang: Lang,
    kind: RecordKind,
    values: &HashMap<String, String>,
    refs: &HashMap<&'static str, Vec<(String, String)>>,
    errors: &HashMap<&'static str, String>,
) -> Vec<Input> {
    let xl = export_lang(lang);
    kind.fields()
        .iter()
        .filter(|f| f.name != "evidence_id")
        .map(|f| {
            let value = values.get(f.name).cloned().unwrap_or_default();
            let blank = Choice { value: String::new(), label: lang.t("ledger-web-unset"), selected: value.is_empty() };
            let (input, choices) = if let Some(options) = refs.get(f.name) {
                let mut c = vec![blank];
                c.extend(options.iter().map(|(id, name)| Choice {
                    value: id.clone(),
                    label: name.clone(),
                    selected: *id == value,
                }));
                ("select", c)
            } else if let Some(codes) = choices(kind, f.name) {
                let mut c = if f.required { Vec::new() } else { vec![blank] };
                c.extend(codes.iter().map(|code| Choice {
                    value: (*code).to_owned(),
                    label: export::enum_label(kind, f.name, code, xl).unwrap_or(code).to_owned(),
                    selected: *code == value,
                }));
                ("select", c)
            } else {
                match f.ty {
                    FieldType::Bool => (
                        "select",
                        vec![
                            blank,
                            Choice { value: "true".into(), label: lang.t("ledger-web-yes"), selected: value == "true" },
                            Choice {
                                value: "false".into(),
                                label: lang.t("ledger-web-no"),
                                selected: value == "false",
                            },
                        ],
                    ),
                    FieldType::Int => ("number", Vec::new()),
                    FieldType::Date => ("date", Vec::new()),
                    FieldType::Timestamp => ("datetime-local", Vec::new()),
                    FieldType::TextList => ("textarea", Vec::new()),
                    _ if f.name == "notes" || f.name == "address" || f.name == "scope" => ("textarea", Vec::new()),
                    _ => ("text", Vec::new()),
                }
            };
            Input {
                name: f.name,
                label: export::column_title(kind, f.name, xl),
                required: f.required,
                input,
                value,
                choices,
                hint: if f.ty == FieldType::TextList { lang.t("ledger-web-hint-list") } else { String::new() },
                error: errors.get(f.name).cloned(),
            }
        })
        .collect()
}

/// Reads the submitted form into `row` (fields not in the form keep their value); the
/// problems by field, worded for the user.
fn read_form(lang: Lang, row: &mut Row, form: &HashMap<String, String>) -> HashMap<&'static str, String> {
    let kind = row.kind;
    let mut errors = HashMap::new();
    for f in kind.fields().iter().filter(|f| f.name != "evidence_id") {
        let raw = form.get(&format!("f_{}", f.name)).map(String::as_str).unwrap_or("");
        match ledger_io::parse_field_text(kind, f, raw) {
            Ok(v) => {
                row.set(f.name, v);
            }
            Err(code) => {
                errors.insert(f.name, lang.t(&format!("import-problem-{code}")));
            }
        }
    }
    if errors.is_empty()
        && let Err(e) = check_row(row)
    {
        let (field, code) = match &e {
            RecordError::Missing { field, .. } => (*field, "missing-required"),
            RecordError::Invalid { field, .. } | RecordError::WrongType { field, .. } => (*field, "invalid"),
            RecordError::UnknownField { .. } => ("notes", "invalid"),
        };
        errors.insert(field, lang.t(&format!("import-problem-{code}")));
    }
    errors
}

fn form_values(row: &Row) -> HashMap<String, String> {
    row.kind.fields().iter().map(|f| (f.name.to_owned(), ledger_io::field_text(row.get(f.name)))).collect()
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    auth: &Auth,
    scope: &Scope,
    lang: Lang,
    kind: RecordKind,
    id: Option<RecordId>,
    values: HashMap<String, String>,
    errors: HashMap<&'static str, String>,
    general: Option<String>,
) -> Response {
    let refs = match reference_choices(state, scope, kind).await {
        Ok(r) => r,
        Err(e) => return server_error(lang, &e),
    };
    let inst = scope.institution().to_string();
    let base = format!("/i/{inst}/ledgers/{kind}");
    let (action, cancel, title) = match id {
        Some(id) => (format!("{base}/{id}"), format!("{base}/{id}"), "ledger-web-edit-title"),
        None => (base.clone(), base, "ledger-web-new-title"),
    };
    let has_errors = !errors.is_empty() || general.is_some();
    let mut res = render(&FormPage {
        page: Page::for_user(state, auth, lang, title, Some(scope.institution())).await,
        inst,
        tabs: tabs(kind, lang),
        action,
        cancel,
        inputs: inputs(lang, kind, &values, &refs, &errors),
        errors: has_errors,
        general,
    });
    if has_errors {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

pub async fn new_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind)): Path<(String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let kind = match parse_kind(&kind, lang) {
        Ok(k) => k,
        Err(r) => return r,
    };
    form_page(&state, &auth, &scope, lang, kind, None, HashMap::new(), HashMap::new(), None).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind, id)): Path<(String, String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (kind, id) = match (parse_kind(&kind, lang), parse_id(&id, lang)) {
        (Ok(k), Ok(i)) => (k, i),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    match state.store.get_row(&scope, kind, id).await {
        Ok(Some(row)) => {
            form_page(&state, &auth, &scope, lang, kind, Some(id), form_values(&row), HashMap::new(), None).await
        }
        Ok(None) => not_found(lang),
        Err(e) => server_error(lang, &e),
    }
}

async fn save(
    state: &AppState,
    auth: &Auth,
    scope: &Scope,
    lang: Lang,
    mut row: Row,
    form: HashMap<String, String>,
    existing: bool,
) -> Response {
    let kind = row.kind;
    let id = row.id;
    let errors = read_form(lang, &mut row, &form);
    let mut general = None;
    if errors.is_empty() {
        match state.store.put_rows(scope, std::slice::from_ref(&row), &actor(auth), &|_| {}).await {
            Ok(_) => return Redirect::to(&format!("/i/{}/ledgers/{kind}/{id}", scope.institution())).into_response(),
            Err(e) => match lang.try_t(&format!("ledger-web-error-{}", e.code())) {
                Some(message) => general = Some(message),
                None => return server_error(lang, &e),
            },
        }
    }
    let values: HashMap<String, String> = kind
        .fields()
        .iter()
        .map(|f| (f.name.to_owned(), form.get(&format!("f_{}", f.name)).cloned().unwrap_or_default()))
        .collect();
    form_page(state, auth, scope, lang, kind, existing.then_some(id), values, errors, general).await
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let kind = match parse_kind(&kind, lang) {
        Ok(k) => k,
        Err(r) => return r,
    };
    save(&state, &auth, &scope, lang, Row::new(kind, RecordId::new()), form, false).await
}

pub async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind, id)): Path<(String, String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (kind, id) = match (parse_kind(&kind, lang), parse_id(&id, lang)) {
        (Ok(k), Ok(i)) => (k, i),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    match state.store.get_row(&scope, kind, id).await {
        Ok(Some(row)) => save(&state, &auth, &scope, lang, row, form, true).await,
        Ok(None) => not_found(lang),
        Err(e) => server_error(lang, &e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind, id)): Path<(String, String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (kind, id) = match (parse_kind(&kind, lang), parse_id(&id, lang)) {
        (Ok(k), Ok(i)) => (k, i),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let base = format!("/i/{}/ledgers/{kind}", scope.institution());
    match state.store.delete_row(&scope, kind, id, &actor(&auth)).await {
        Ok(true) => hx_redirect(&headers, &base),
        Ok(false) => not_found(lang),
        Err(StoreError::Referenced { .. }) => hx_redirect(&headers, &format!("{base}/{id}?error=referenced")),
        Err(e) => server_error(lang, &e),
    }
}

// ---- attachments -----------------------------------------------------------------------

/// Attaches a document (an MDS/SDS file) to a record that has an evidence field: the file
/// is checked against the allow-list, kept with its BLAKE3 hash as evidence, and the record
/// points at it. Sent by htmx (multipart, CSRF token in its header).
pub async fn attach(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind, id)): Path<(String, String, String)>,
    multipart: Multipart,
) -> Response {
    let lang = lang_from_headers(&headers);
    let (kind, id) = match (parse_kind(&kind, lang), parse_id(&id, lang)) {
        (Ok(k), Ok(i)) => (k, i),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let back = format!("/i/{}/ledgers/{kind}/{id}", scope.institution());
    let fail = |code: &str| hx_redirect(&headers, &format!("{back}?error={code}"));
    if kind.field("evidence_id").is_none() {
        return not_found(lang);
    }
    let mut row = match state.store.get_row(&scope, kind, id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(lang),
        Err(e) => return server_error(lang, &e),
    };
    let (name, bytes) = match super::ledger_import::read_upload(multipart, MAX_ATTACHMENT_BYTES).await {
        Ok(Some(f)) => (f.name, f.bytes),
        Ok(None) => return fail("upload-empty"),
        Err(code) => return fail(code),
    };
    let media_type = match classify_upload(&name, &bytes) {
        Ok(m) => m,
        Err(e) => return fail(e.code()),
    };
    let file = Attachment { name: name.clone(), media_type: media_type.to_owned(), bytes };
    let mut evidence = Evidence::new(
        "document",
        &format!("{}: {name}", export::ledger_title(kind, export_lang(lang))),
        serde_json::json!({"record": {"kind": kind.as_str(), "id": id.to_string()}}),
    );
    evidence.content_hash = Some(file.content_hash());
    evidence.source = Some(name);
    let actor = actor(&auth);
    if let Err(e) = state.store.put_evidence(&scope, &evidence, Some(&file), &actor).await {
        return server_error(lang, &e);
    }
    row.set("evidence_id", Value::Ref(evidence.id.0));
    if kind == RecordKind::MdsSds && row.get("received_on").is_null() {
        row.set("received_on", Value::Date(mamori_domain::time_fmt::now().to_offset(ledger_io::jst()).date()));
    }
    match state.store.put_rows(&scope, &[row], &actor, &|_| {}).await {
        Ok(_) => hx_redirect(&headers, &back),
        Err(e) => server_error(lang, &e),
    }
}

/// Go to `to`: an htmx request gets `HX-Redirect` on a 200 (the browser's XHR would follow
/// a 303 itself and hand htmx the next page instead), any other client a 303.
pub fn hx_redirect(headers: &HeaderMap, to: &str) -> Response {
    if headers.contains_key("hx-request")
        && let Ok(v) = HeaderValue::from_str(to)
    {
        let mut res = axum::http::StatusCode::OK.into_response();
        res.headers_mut().insert("hx-redirect", v);
        return res;
    }
    Redirect::to(to).into_response()
}

/// A file leaving mamori: recorded on the institution's audit chain first, then sent.
pub async fn audited_download(
    state: &AppState,
    scope: &Scope,
    lang: Lang,
    draft: AuditDraft,
    file: (Vec<u8>, &str, &str),
) -> Response {
    if let Err(e) = state.store.append_audit(scope.chain(), &draft).await {
        return server_error(lang, &e);
    }
    let (bytes, media_type, name) = file;
    download(bytes, media_type, name)
}

/// `?format=` (and `&encoding=` for CSV) of the export links.
#[derive(Debug, Deserialize, Default)]
pub struct FormatQuery {
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub encoding: String,
}

/// `Content-Disposition: attachment` with the name in RFC 5987 form (Japanese names
/// survive) and an ASCII fallback.
pub fn download(bytes: Vec<u8>, media_type: &str, name: &str) -> Response {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    let disposition =
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", url_encode(name).replace('+', "%20"));
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    res
}

pub async fn attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let Ok(id) = id.parse::<uuid::Uuid>() else { return not_found(lang) };
    match state.store.get_attachment(&scope, EvidenceId(id)).await {
        Ok(Some(a)) => {
            let draft = AuditDraft::new(&actor(&auth), "evidence.download")
                .object("evidence", id)
                .details(serde_json::json!({"file": a.name}));
            audited_download(&state, &scope, lang, draft, (a.bytes, &a.media_type, &a.name)).await
        }
        Ok(None) => not_found(lang),
        Err(e) => server_error(lang, &e),
    }
}

// ---- export and templates --------------------------------------------------------------

fn file_name(kind: RecordKind, lang: Lang, suffix: &str, ext: &str) -> String {
    format!("{}{suffix}.{ext}", export::ledger_title(kind, export_lang(lang)))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub async fn export_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(auth): Extension<Auth>,
    Extension(scope): Extension<Scope>,
    Path((_, kind)): Path<(String, String)>,
    Query(fq): Query<FormatQuery>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let kind = match parse_kind(&kind, lang) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let xl = export_lang(lang);
    let result: Result<_, StoreError> = async {
        let rows = state.store.list_rows(&scope, kind, &RecordQuery::default()).await?;
        let names = ledger_io::reference_names(&*state.store, &scope, kind).await?;
        Ok((rows, names))
    }
    .await;
    let (rows, names) = match result {
        Ok(r) => r,
        Err(e) => return server_error(lang, &e),
    };
    let (bytes, media, ext) = match fq.format.as_str() {
        "csv" => {
            let enc = if fq.encoding == "utf8" { CsvEncoding::Utf8Bom } else { CsvEncoding::ShiftJis };
            (export::to_csv(kind, &rows, &names, xl, enc), "text/csv", "csv")
        }
        _ => (export::to_xlsx(kind, &rows, &names, xl), XLSX, "xlsx"),
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(export::ExportError::NotRepresentable { row, field, character }) => {
            let message = lang.ta(
                "ledger-web-not-representable",
                &[
                    ("row", Arg::from(row)),
                    ("column", export::column_title(kind, field, xl).into()),
                    ("char", character.to_string().into()),
                ],
            );
            return super::message_page(&state, &auth, lang, Some(scope.institution()), &message).await;
        }
        Err(e) => return server_error(lang, &e),
    };
    let draft = AuditDraft::new(&actor(&auth), "ledger.export").object("ledger", kind).details(serde_json::json!({
        "format": ext,
        "records": rows.len(),
        "via": "web",
    }));
    audited_download(&state, &scope, lang, draft, (bytes, media, &file_name(kind, lang, "", ext))).await
}

pub async fn template_file(
    headers: HeaderMap,
    Path((_, kind)): Path<(String, String)>,
    Query(fq): Query<FormatQuery>,
) -> Response {
    let lang = lang_from_headers(&headers);
    let kind = match parse_kind(&kind, lang) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let xl = export_lang(lang);
    let suffix = if lang == Lang::Ja { "_テンプレート" } else { "_template" };
    let result = match fq.format.as_str() {
        "csv" => export::to_csv(kind, &[], &HashMap::new(), xl, CsvEncoding::ShiftJis).map(|b| (b, "text/csv", "csv")),
        _ => export::template_xlsx(kind, xl).map(|b| (b, XLSX, "xlsx")),
    };
    match result {
        Ok((bytes, media, ext)) => download(bytes, media, &file_name(kind, lang, suffix, ext)),
        Err(e) => server_error(lang, &e),
    }
}
