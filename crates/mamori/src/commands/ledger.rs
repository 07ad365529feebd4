//! `mamori ledger list|export|template`: one ledger of one institution, on screen or as an
//! XLSX/CSV file to hand to people who work in Excel.

use super::Ctx;
use crate::cli::{CsvEncodingArg, FileFormat, LedgerCommand};
use crate::failure::CliError;
use crate::output;
use mamori_domain::InstitutionId;
use mamori_domain::record::{RecordKind, Row};
use mamori_ledger::export::{self, CsvEncoding, ExportError};
use mamori_store::{RecordQuery, Scope, Store};
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
async fn scope(store: &dyn Store, institution: Option<&str>) -> anyhow::Result<Scope> {
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

/// Names of the records `kind` refers to, so references show as names rather than ids.
async fn reference_names(
    store: &dyn Store,
    scope: &Scope,
    kind: RecordKind,
) -> anyhow::Result<HashMap<uuid::Uuid, String>> {
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

/// The columns `ledger list` shows: enough to recognise each record on a terminal.
fn summary_fields(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Sites => &["name", "address"],
        RecordKind::Segments => &["name", "cidrs", "purpose", "vlan"],
        RecordKind::Assets => &["kind", "name", "hostname", "ip_addresses", "department", "criticality"],
        RecordKind::Software => &["name", "version", "asset_id", "end_of_life"],
        RecordKind::Staff => &["name", "staff_number", "department", "job_title", "retired_on"],
        RecordKind::Accounts => &["system", "username", "holder", "privileged", "mfa", "status"],
        RecordKind::Vendors => &["name", "service", "contact_name", "phone"],
        RecordKind::Contracts => &["title", "vendor_id", "starts_on", "ends_on"],
        RecordKind::RemoteMaintenance => &["vendor_id", "asset_id", "method", "source_restriction", "confirmed_on"],
        RecordKind::MdsSds => &["system", "document", "vendor_id", "received_on"],
    }
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
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
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

pub async fn run(ctx: &Ctx, cmd: LedgerCommand) -> anyhow::Result<ExitCode> {
    let lang = export_lang(ctx);
    match cmd {
        LedgerCommand::List { kind, institution, json } => {
            let kind = parse_kind(&kind.kind)?;
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            let rows = store.list_rows(&scope, kind, &RecordQuery::default()).await?;
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
                let names = reference_names(&*store, &scope, kind).await?;
                let fields = summary_fields(kind);
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
        LedgerCommand::Export { kind, institution, format, encoding, output } => {
            let kind = parse_kind(&kind.kind)?;
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            let rows = store.list_rows(&scope, kind, &RecordQuery::default()).await?;
            let names = reference_names(&*store, &scope, kind).await?;
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
