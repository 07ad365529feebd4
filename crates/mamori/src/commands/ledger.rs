//! `mamori ledger list|export|template`: one ledger of one institution, on screen or as an
//! XLSX/CSV file to hand to people who work in Excel.

use super::Ctx;
use crate::cli::{CsvEncodingArg, FileFormat, ImportEncodingArg, LedgerCommand};
use crate::failure::CliError;
use crate::output;
use mamori_domain::InstitutionId;
use mamori_domain::record::{RecordKind, Row};
use mamori_ledger::export::{self, CsvEncoding, ExportError};
use mamori_ledger::plan::PlanOptions;
use mamori_store::{RecordQuery, Scope, Store};
use mamori_web::ledger_io;
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

fn parse_kind(s: &str) -> Result<RecordKind, CliError> {
    RecordKind::parse(s).ok_or_else(|| CliError::BadLedgerKind { value: s.to_owned() })
}

fn export_lang(ctx: &Ctx) -> export::Lang {
    match ctx.lang {
        mamori_i18n::Lang::Ja => export::Lang::Ja,
        mamori_i18n::Lang::En => export::Lang::En,
    }
}

/// The institution named by `--institution`, or the only one there is.
pub(super) async fn scope(store: &dyn Store, institution: Option<&str>) -> anyhow::Result<Scope> {
    let id = match institution {
        Some(s) => s.parse::<InstitutionId>().map_err(|_| CliError::BadId { value: s.to_owned() })?,
        None => match store.list_institutions().await?.as_slice() {
            [one] => one.id,
            [] => return Err(CliError::NoInstitution.into()),
            many => return Err(CliError::InstitutionRequired { count: many.len() }.into()),
        },
    };
    Ok(store.scope(id).await?)
}

fn csv_encoding(e: CsvEncodingArg) -> CsvEncoding {
    match e {
        CsvEncodingArg::Cp932 => CsvEncoding::ShiftJis,
        CsvEncodingArg::Utf8Bom => CsvEncoding::Utf8Bom,
    }
}

fn file_bytes(
    kind: RecordKind,
    rows: &[Row],
    names: &HashMap<uuid::Uuid, String>,
    lang: export::Lang,
    format: FileFormat,
    encoding: CsvEncodingArg,
) -> Result<Vec<u8>, CliError> {
    let bytes = match format {
        FileFormat::Xlsx => export::to_xlsx(kind, rows, names, lang),
        FileFormat::Csv => export::to_csv(kind, rows, names, lang, csv_encoding(encoding)),
    };
    bytes.map_err(|e| match e {
        ExportError::NotRepresentable { row, field, character } => {
            CliError::NotRepresentable { row, column: export::column_title(kind, field, lang), character }
        }
        other => CliError::Export { reason: other.to_string() },
    })
}

/// Writes beside the target and renames, so a reader never sees half a file and a failed
/// export leaves any earlier file as it was.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError::WriteFile {
        path: path.display().to_string(),
        reason: mamori_store::classify_io(&e),
    };
    let name = path.file_name().ok_or_else(|| fail(std::io::Error::other("not a file name")))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

async fn import(
    ctx: &Ctx,
    file: &Path,
    kind: RecordKind,
    institution: Option<&str>,
    encoding: ImportEncodingArg,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    use mamori_ledger::read::{Encoding, Limits, read_file};
    let bytes = std::fs::read(file)
        .map_err(|e| CliError::ReadFile { path: file.display().to_string(), reason: mamori_store::classify_io(&e) })?;
    let encoding = match encoding {
        ImportEncodingArg::Auto => Encoding::Auto,
        ImportEncodingArg::Utf8 => Encoding::Utf8,
        ImportEncodingArg::Cp932 => Encoding::ShiftJis,
    };
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let sheets = read_file(&bytes, &name, encoding, &Limits::default())
        .map_err(|e| CliError::ImportUnreadable { code: e.code(), row: e.row() })?;
    let store = ctx.open().await?;
    let scope = scope(&*store, institution).await?;
    let (existing, refs) = ledger_io::import_context(&*store, &scope, kind).await?;
    // The column mapping saved in the web UI applies here too.
    let options = PlanOptions { overrides: ledger_io::saved_mapping(&*store, &scope, kind).await?, sheet: None };
    let plan = mamori_ledger::plan::plan_owned(sheets, kind, &existing, &refs, &options)
        .map_err(|_| CliError::ImportNoHeader { ledger: export::ledger_title(kind, export_lang(ctx)).to_owned() })?;
    let (create, update, unchanged) = plan.counts();
    println!(
        "{}",
        ctx.ta(
            "import-summary",
            &[
                ("sheet", plan.sheet.clone().into()),
                ("header", plan.header_row.into()),
                ("create", create.into()),
                ("update", update.into()),
                ("unchanged", unchanged.into()),
            ]
        )
    );
    for (col, title) in &plan.unmapped {
        println!(
            "{}",
            ctx.ta(
                "import-unmapped",
                &[("column", ledger_io::column_letter(*col).into()), ("title", title.clone().into())]
            )
        );
    }
    for p in &plan.problems {
        println!("{}", ledger_io::problem_line(ctx.lang, kind, p));
    }
    if plan.has_errors() {
        return Err(CliError::ImportHasErrors {
            count: plan.problems.iter().filter(|p| matches!(p.level, mamori_ledger::plan::Level::Error)).count(),
        }
        .into());
    }
    if !yes {
        println!("{}", ctx.t("import-dry-run"));
        return Ok(ExitCode::SUCCESS);
    }
    // One transaction, run as a job: all rows or none, with progress.
    let runner = mamori_jobs::JobRunner::new(store.clone());
    let run = ledger_io::run_import(
        &runner,
        store.clone(),
        scope,
        kind,
        plan.into_rows_to_write(),
        &name,
        &bytes,
        &ctx.actor,
    )
    .await?;
    let (handle, done, total) = (run.handle, run.done, run.total);
    let bar = output::progress_bar(Some(total));
    let wait = handle.wait();
    tokio::pin!(wait);
    let status = loop {
        tokio::select! {
            s = &mut wait => break s,
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => bar.set_position(done.load(std::sync::atomic::Ordering::Relaxed)),
        }
    };
    bar.finish_and_clear();
    if status != mamori_domain::job::JobStatus::Succeeded {
        return Err(CliError::JobNotSucceeded { status: super::jobs::status_label(ctx, status) }.into());
    }
    println!("{}", ctx.ta("import-done", &[("create", create.into()), ("update", update.into())]));
    Ok(ExitCode::SUCCESS)
}

/// A record by its id.
async fn find(store: &dyn Store, scope: &Scope, kind: RecordKind, id: &str) -> anyhow::Result<Row> {
    let parsed = id.trim().parse::<uuid::Uuid>().map_err(|_| CliError::BadId { value: id.to_owned() })?;
    store
        .get_row(scope, kind, mamori_domain::RecordId(parsed))
        .await?
        .ok_or_else(|| mamori_store::StoreError::NotFound { what: kind.as_str(), id: id.to_owned() }.into())
}

/// `mamori demo`: fictional institutions with filled ledgers, marked as demo everywhere.
pub async fn demo(ctx: &Ctx, which: crate::cli::DemoArg) -> anyhow::Result<ExitCode> {
    use crate::cli::DemoArg;
    use mamori_ledger::demo::DemoInstitution;
    let store = ctx.open().await?;
    let list = match which {
        DemoArg::Clinic => vec![DemoInstitution::Clinic],
        DemoArg::Hospital => vec![DemoInstitution::Hospital],
        DemoArg::All => vec![DemoInstitution::Clinic, DemoInstitution::Hospital],
    };
    for w in list {
        let (inst, summary) = ledger_io::load_demo(&*store, w, &ctx.actor).await?;
        println!(
            "{}",
            ctx.ta(
                "demo-loaded",
                &[
                    ("name", inst.name.clone().into()),
                    ("id", inst.id.to_string().into()),
                    ("records", summary.created.into())
                ]
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(ctx: &Ctx, cmd: LedgerCommand) -> anyhow::Result<ExitCode> {
    let lang = export_lang(ctx);
    match cmd {
        LedgerCommand::Import { file, kind, institution, encoding, yes } => {
            let kind = parse_kind(&kind.kind)?;
            return import(ctx, &file, kind, institution.as_deref(), encoding, yes).await;
        }
        LedgerCommand::List { kind, institution, json, search, sort, desc } => {
            let kind = parse_kind(&kind.kind)?;
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            if let Some(f) = sort.as_deref().filter(|f| kind.field(f).is_none()) {
                return Err(CliError::UnknownField {
                    ledger: export::ledger_title(kind, lang).into(),
                    field: f.into(),
                }
                .into());
            }
            let query = RecordQuery { search, order_by: sort, descending: desc, ..Default::default() };
            let rows = store.list_rows(&scope, kind, &query).await?;
            if json {
                let out: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|r| {
                        let mut m = serde_json::Map::new();
                        m.insert("id".into(), r.id.to_string().into());
                        m.extend(r.to_json());
                        serde_json::Value::Object(m)
                    })
                    .collect();
                output::json(&out);
            } else if rows.is_empty() {
                println!("{}", ctx.ta("ledger-none", &[("ledger", export::ledger_title(kind, lang).into())]));
            } else {
                let names = ledger_io::reference_names(&*store, &scope, kind).await?;
                let fields = export::summary_fields(kind);
                let header: Vec<String> = fields.iter().map(|f| export::column_title(kind, f, lang)).collect();
                let table: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        fields
                            .iter()
                            .map(|name| {
                                let field = kind.field(name).expect("summary fields are fields of the kind");
                                export::render(kind, field, r.get(name), &names, lang).to_text().replace('\n', ", ")
                            })
                            .collect()
                    })
                    .collect();
                output::table(&header, &table);
            }
        }
        LedgerCommand::Show { record, kind, institution, json } => {
            let kind = parse_kind(&kind.kind)?;
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            let row = find(&*store, &scope, kind, &record).await?;
            let history = store.object_history(&scope, kind.as_str(), &row.id.to_string(), 100).await?;
            if json {
                let mut m = serde_json::Map::new();
                m.insert("id".into(), row.id.to_string().into());
                m.extend(row.to_json());
                let h: Vec<serde_json::Value> = history
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "at": mamori_domain::time_fmt::format(e.at),
                            "actor": e.actor,
                            "action": e.action,
                            "details": serde_json::from_str::<serde_json::Value>(&e.details).unwrap_or_default(),
                        })
                    })
                    .collect();
                output::json(&serde_json::json!({"record": m, "history": h}));
            } else {
                let names = ledger_io::reference_names(&*store, &scope, kind).await?;
                let rows: Vec<Vec<String>> = kind
                    .fields()
                    .iter()
                    .map(|f| {
                        vec![
                            export::column_title(kind, f.name, lang),
                            export::render(kind, f, row.get(f.name), &names, lang).to_text().replace('\n', ", "),
                        ]
                    })
                    .collect();
                output::table(&[ctx.t("col-field"), ctx.t("col-value")], &rows);
                println!();
                println!("{}", ctx.t("ledger-history"));
                let lines: Vec<Vec<String>> = history
                    .iter()
                    .map(|e| vec![super::when(e.at), e.actor.clone(), e.action.clone(), e.details.clone()])
                    .collect();
                output::table(
                    &[ctx.t("col-at"), ctx.t("col-actor"), ctx.t("col-action"), ctx.t("col-details")],
                    &lines,
                );
            }
        }
        LedgerCommand::Set { record, kind, institution, values } => {
            let kind = parse_kind(&kind.kind)?;
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            let mut row = find(&*store, &scope, kind, &record).await?;
            for assignment in &values {
                let (name, raw) =
                    assignment.split_once('=').ok_or_else(|| CliError::BadAssignment { value: assignment.clone() })?;
                let field = kind.field(name.trim()).filter(|f| f.name != "evidence_id").ok_or_else(|| {
                    CliError::UnknownField { ledger: export::ledger_title(kind, lang).into(), field: name.into() }
                })?;
                let value = ledger_io::parse_field_text(kind, field, raw).map_err(|code| CliError::BadFieldValue {
                    field: export::column_title(kind, field.name, lang),
                    value: raw.into(),
                    code,
                })?;
                row.set(field.name, value);
            }
            let summary = store.put_rows(&scope, &[row], &ctx.actor, &|_| {}).await?;
            println!("{}", ctx.t(if summary.updated > 0 { "ledger-updated" } else { "ledger-unchanged" }));
        }
        LedgerCommand::Delete { record, kind, institution } => {
            let kind = parse_kind(&kind.kind)?;
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            let row = find(&*store, &scope, kind, &record).await?;
            store.delete_row(&scope, kind, row.id, &ctx.actor).await?;
            println!("{}", ctx.t("ledger-deleted"));
        }
        LedgerCommand::Export { kind, institution, format, encoding, output } => {
            let kind = parse_kind(&kind.kind)?;
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            let rows = store.list_rows(&scope, kind, &RecordQuery::default()).await?;
            let names = ledger_io::reference_names(&*store, &scope, kind).await?;
            let bytes = file_bytes(kind, &rows, &names, lang, format, encoding)?;
            write_atomically(&output, &bytes)?;
            // Data leaving mamori is a security-relevant action: it goes in the audit log.
            let draft = mamori_domain::audit::AuditDraft::new(&ctx.actor, "ledger.export")
                .object("ledger", kind)
                .details(serde_json::json!({
                    "format": match format { FileFormat::Xlsx => "xlsx", FileFormat::Csv => "csv" },
                    "records": rows.len(),
                    "file": output.display().to_string(),
                }));
            store.append_audit(scope.chain(), &draft).await?;
            println!(
                "{}",
                ctx.ta(
                    "ledger-exported",
                    &[("count", rows.len().into()), ("path", output.display().to_string().into())]
                )
            );
        }
        LedgerCommand::Template { kind, format, encoding, output } => {
            let kind = parse_kind(&kind.kind)?;
            let bytes = match format {
                FileFormat::Xlsx => {
                    export::template_xlsx(kind, lang).map_err(|e| CliError::Export { reason: e.to_string() })?
                }
                FileFormat::Csv => file_bytes(kind, &[], &HashMap::new(), lang, format, encoding)?,
            };
            write_atomically(&output, &bytes)?;
            println!(
                "{}",
                ctx.ta(
                    "ledger-template-written",
                    &[
                        ("ledger", export::ledger_title(kind, lang).into()),
                        ("path", output.display().to_string().into())
                    ]
                )
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
