//! Ledger import and export as both the web UI and the CLI do them: loading what a plan
//! compares against, the saved column mappings, the one job that commits an import, and
//! the Japanese (or English) wording of every import problem. One implementation, so the
//! browser and `mamori ledger import` say the same thing about the same file.

use mamori_domain::InstitutionId;
use mamori_domain::audit::AuditDraft;
use mamori_domain::job::Job;
use mamori_domain::record::{Field, FieldType, RecordKind, Row, Value};
use mamori_i18n::{Arg, Lang};
use mamori_jobs::{JobError, JobHandle, JobRunner};
use mamori_ledger::export;
use mamori_ledger::header::MappingOverrides;
use mamori_ledger::normalize;
use mamori_ledger::plan::{Level, Problem, References};
use mamori_ledger::read::ReadError;
use mamori_store::{RecordQuery, Scope, Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub fn export_lang(lang: Lang) -> export::Lang {
    match lang {
        Lang::Ja => export::Lang::Ja,
        Lang::En => export::Lang::En,
    }
}

/// Names of the records `kind` refers to, so references show as names rather than ids.
pub async fn reference_names(
    store: &dyn Store,
    scope: &Scope,
    kind: RecordKind,
) -> Result<HashMap<uuid::Uuid, String>, StoreError> {
    let mut names = HashMap::new();
    for k in export::referenced_kinds(kind) {
        for row in store.list_rows(scope, k, &RecordQuery::default()).await? {
            if let Some(name) = export::display_name(&row) {
                names.insert(row.id.0, name);
            }
        }
    }
    Ok(names)
}

/// What planning an import of `kind` compares against: the ledger's current records and
/// the names of the records it may refer to.
pub async fn import_context(
    store: &dyn Store,
    scope: &Scope,
    kind: RecordKind,
) -> Result<(Vec<Row>, References), StoreError> {
    let existing = store.list_rows(scope, kind, &RecordQuery::default()).await?;
    let mut refs = References::new();
    for k in export::referenced_kinds(kind) {
        for row in store.list_rows(scope, k, &RecordQuery::default()).await? {
            refs.add_row(&row);
        }
    }
    Ok((existing, refs))
}

fn mapping_key(kind: RecordKind) -> String {
    format!("import-mapping:{kind}")
}

/// The column mapping saved for `kind` at this institution. A saved value that no longer
/// fits the ledger (hand-edited, or from an older field list) is ignored with a log line.
pub async fn saved_mapping(
    store: &dyn Store,
    scope: &Scope,
    kind: RecordKind,
) -> Result<Option<MappingOverrides>, StoreError> {
    let Some(json) = store.get_institution_setting(scope, &mapping_key(kind)).await? else { return Ok(None) };
    match serde_json::from_str::<MappingOverrides>(&json) {
        Ok(m) if m.validate_for(kind).is_ok() => Ok(Some(m)),
        _ => {
            tracing::warn!(ledger = %kind, "ignoring a saved column mapping that does not fit the ledger");
            Ok(None)
        }
    }
}

pub async fn save_mapping(
    store: &dyn Store,
    scope: &Scope,
    mapping: &MappingOverrides,
    actor: &str,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(mapping).map_err(|e| StoreError::Invalid(e.to_string()))?;
    store.set_institution_setting(scope, &mapping_key(mapping.kind()), &json, actor).await
}

/// Excel's column letters: 0 → A, 26 → AA.
pub fn column_letter(mut c: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

/// One import problem, worded for a clinic manager.
#[derive(Debug, Clone)]
pub struct ProblemText {
    pub error: bool,
    pub level: String,
    pub sheet: String,
    pub row: usize,
    /// `B列（IPアドレス）`, or empty for a whole-row problem.
    pub column: String,
    /// What is wrong, with the offending value in 「」.
    pub what: String,
}

pub fn problem_text(lang: Lang, kind: RecordKind, p: &Problem) -> ProblemText {
    let xl = export_lang(lang);
    let column = match (p.column, p.field) {
        (Some(c), Some(f)) => lang.ta(
            "import-column-field",
            &[("column", column_letter(c).into()), ("field", export::column_title(kind, f, xl).into())],
        ),
        (Some(c), None) => lang.ta("import-column", &[("column", column_letter(c).into())]),
        (None, Some(f)) => export::column_title(kind, f, xl),
        (None, None) => String::new(),
    };
    let what = lang
        .try_t(&format!("import-problem-{}", p.code))
        .unwrap_or_else(|| lang.ta("import-problem-other", &[("code", p.code.into())]));
    let value = p.value.as_deref().map(|v| format!("「{v}」")).unwrap_or_default();
    let error = p.level == Level::Error;
    ProblemText {
        error,
        level: lang.t(if error { "import-level-error" } else { "import-level-warning" }),
        sheet: p.sheet.clone(),
        row: p.row,
        column,
        what: format!("{what}{value}"),
    }
}

/// The problem as one line (the CLI prints these).
pub fn problem_line(lang: Lang, kind: RecordKind, p: &Problem) -> String {
    let t = problem_text(lang, kind, p);
    lang.ta(
        "import-problem-line",
        &[
            ("level", t.level.into()),
            ("sheet", t.sheet.into()),
            ("row", t.row.into()),
            ("column", t.column.into()),
            ("what", t.what.into()),
        ],
    )
}

/// Why a file could not be read at all, naming the row when the reader knows it.
pub fn read_error_text(lang: Lang, e: &ReadError) -> String {
    let what = lang.t(&format!("import-read-{}", e.code()));
    match e.row() {
        Some(row) => lang.ta("err-import-unreadable-row", &[("what", what.into()), ("row", Arg::from(row))]),
        None => lang.ta("err-import-unreadable", &[("what", what.into())]),
    }
}

/// Japan Standard Time, in which people type dates and times.
pub fn jst() -> time::UtcOffset {
    time::UtcOffset::from_hms(9, 0, 0).expect("valid offset")
}

/// A stored value as a person types it (the web form, `mamori ledger set`).
pub fn field_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Text(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Timestamp(t) => {
            let t = t.to_offset(jst());
            format!("{:04}-{:02}-{:02}T{:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
        }
        Value::Ref(u) => u.to_string(),
        Value::TextList(l) => l.join("\n"),
    }
}

/// What a person typed for one field (the web form, `mamori ledger set`), as a value of the
/// field's type: full-width digits, 和暦 dates, yes/no words and MAC notations are read as
/// the import reads them. Errors are import problem codes.
pub fn parse_field_text(kind: RecordKind, f: &Field, raw: &str) -> Result<Value, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match f.ty {
        FieldType::Text => Value::Text(raw.replace("\r\n", "\n")),
        FieldType::Int => Value::Int(normalize::parse_int(raw).map_err(|e| e.code())?),
        FieldType::Bool => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::Bool(normalize::parse_bool(other).map_err(|e| e.code())?),
        },
        FieldType::Date => Value::Date(normalize::parse_date_text(raw).map_err(|e| e.code())?),
        FieldType::Timestamp => {
            let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
            let local = time::PrimitiveDateTime::parse(raw, format).map_err(|_| "date-unrecognised")?;
            Value::Timestamp(mamori_domain::time_fmt::canonical(local.assume_offset(jst())))
        }
        FieldType::Ref => Value::Ref(raw.parse::<uuid::Uuid>().map_err(|_| "unknown-reference")?),
        FieldType::TextList => {
            let items = raw.split(['\n', ',', '、']).map(normalize::text).filter(|s| !s.is_empty());
            let list: Vec<String> = match (kind, f.name) {
                (RecordKind::Assets, "ip_addresses") => items
                    .map(|s| {
                        normalize::parse_ips(&s).map(|ips| ips.iter().map(|ip| ip.to_string()).collect::<Vec<_>>())
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.code())?
                    .concat(),
                (RecordKind::Assets, "mac_addresses") => {
                    items.map(|s| normalize::parse_mac(&s)).collect::<Result<_, _>>().map_err(|e| e.code())?
                }
                _ => items.collect(),
            };
            Value::TextList(list)
        }
    })
}

/// Loads a fictional institution (`mamori demo`, the administrator's page): created with the
/// demo flag, so every page of it says 【デモ】, and its ledgers written in one audited batch.
pub async fn load_demo(
    store: &dyn Store,
    which: mamori_ledger::demo::DemoInstitution,
    actor: &str,
) -> Result<(mamori_domain::institution::Institution, mamori_store::WriteSummary), StoreError> {
    use mamori_domain::institution::{Institution, InstitutionKind};
    use mamori_ledger::demo::{DemoInstitution, demo};
    let data = demo(which).with_fresh_ids();
    let kind = match which {
        DemoInstitution::Clinic => InstitutionKind::Clinic,
        DemoInstitution::Hospital => InstitutionKind::Hospital,
    };
    // The demo flag marks it on every page and list; the name need not say it again.
    let name = data.institution_name.trim_start_matches("【デモ】");
    let mut institution = Institution::new(name, kind)?;
    institution.demo = true;
    let scope = store.create_institution(&institution, actor).await?;
    let summary = store.put_rows(&scope, &data.rows, actor, &|_| {}).await?;
    Ok((institution, summary))
}

/// A committed import, running.
pub struct ImportRun {
    pub handle: JobHandle,
    /// Rows written so far (for a progress bar).
    pub done: Arc<AtomicU64>,
    pub total: u64,
}

/// Commits planned rows as one `ledger-import` job: one transaction (all rows or none),
/// every record audited, then a `ledger.import` entry naming the file and its hash.
#[allow(clippy::too_many_arguments)]
pub async fn run_import(
    runner: &JobRunner,
    store: Arc<dyn Store>,
    scope: Scope,
    kind: RecordKind,
    rows: Vec<Row>,
    file_name: &str,
    file_bytes: &[u8],
    actor: &str,
) -> Result<ImportRun, StoreError> {
    let file_hash = blake3::hash(file_bytes).to_hex().to_string();
    let total = rows.len() as u64;
    let institution: InstitutionId = scope.institution();
    let job = Job::new(
        Some(institution),
        "ledger-import",
        serde_json::json!({"kind": kind.as_str(), "file": file_name, "rows": total}),
        actor,
    );
    let done = Arc::new(AtomicU64::new(0));
    let seen = done.clone();
    let actor = actor.to_owned();
    let file = file_name.to_owned();
    let handle = runner
        .spawn(job, move |jc| async move {
            let summary = store
                .put_rows(&scope, &rows, &actor, &|n| {
                    seen.store(n, Ordering::Relaxed);
                    jc.set_progress(n, Some(total));
                })
                .await?;
            let draft = AuditDraft::new(&actor, "ledger.import").object("ledger", kind).details(serde_json::json!({
                "file": file,
                "blake3": file_hash,
                "created": summary.created,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "job": jc.id().to_string(),
            }));
            store.append_audit(scope.chain(), &draft).await?;
            serde_json::to_value(summary).map_err(|e| JobError::Failed(e.to_string()))
        })
        .await?;
    Ok(ImportRun { handle, done, total })
}

#[cfg(test)]
mod tests {
    use super::column_letter;

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
