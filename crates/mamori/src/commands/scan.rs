//! `mamori scan run|export|import|list` and `mamori findings list`: the institution's own
//! network, scanned inside the segments of its network ledger, with the same job, evidence
//! and findings as the web UI.

use super::Ctx;
use super::ledger::{scope, write_atomically};
use crate::cli::{FindingsCommand, ListFormat, ScanCommand, ScanFormat};
use crate::failure::CliError;
use crate::output;
use mamori_domain::EvidenceId;
use mamori_domain::job::JobStatus;
use mamori_store::FindingQuery;
use mamori_web::scan_io::{self, ScanIoError, ScanRequest};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

pub async fn run(ctx: &Ctx, cmd: ScanCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ScanCommand::Run { profile, segment, targets, institution } => {
            let profile = mamori_scan::Profile::parse(&profile).map_err(ScanIoError::from)?;
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            let runner = mamori_jobs::JobRunner::new(store.clone());
            let req = ScanRequest { profile, segment, targets };
            let run = scan_io::run_scan(&runner, store.clone(), scope, req, &ctx.actor).await?;
            let id = run.handle.id;
            let bar = output::progress_bar(None);
            let wait = run.handle.wait();
            tokio::pin!(wait);
            let status = loop {
                tokio::select! {
                    s = &mut wait => break s,
                    _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                        let total = run.total.load(Ordering::Relaxed);
                        if total > 0 { bar.set_length(total); }
                        bar.set_position(run.done.load(Ordering::Relaxed));
                    }
                }
            };
            bar.finish_and_clear();
            let job = store.get_job(id).await?.ok_or_else(|| anyhow::anyhow!("job vanished"))?;
            if status != JobStatus::Succeeded {
                return Err(CliError::JobNotSucceeded { status: super::jobs::status_label(ctx, status) }.into());
            }
            let r = job.result.unwrap_or_default();
            let n = |k: &str| r[k].as_u64().unwrap_or(0);
            println!(
                "{}",
                ctx.ta(
                    "scan-done",
                    &[
                        ("hosts", n("hosts_up").into()),
                        ("new", n("findings_new").into()),
                        ("seen", n("findings_seen").into()),
                        ("probes", n("probes_sent").into()),
                        ("scan", r["scan"].as_str().unwrap_or_default().into()),
                    ]
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        ScanCommand::Export { scan, format, output, institution } => {
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            let id = scan
                .as_deref()
                .map(|s| s.parse::<uuid::Uuid>().map(EvidenceId).map_err(|_| CliError::BadId { value: s.to_owned() }))
                .transpose()?;
            let (evidence, report) = scan_io::report(&*store, &scope, id).await?;
            let bytes = match format {
                ScanFormat::NmapXml => mamori_scan::nmap_xml::export(&report).into_bytes(),
                ScanFormat::Json => serde_json::to_vec_pretty(&scan_io::redacted(&report))?,
            };
            write_atomically(&output, &bytes)?;
            let draft = mamori_domain::audit::AuditDraft::new(&ctx.actor, "scan.export")
                .object("evidence", evidence.id)
                .details(serde_json::json!({
                    "format": match format { ScanFormat::NmapXml => "nmap-xml", ScanFormat::Json => "json" },
                    "file": output.display().to_string(),
                }));
            store.append_audit(scope.chain(), &draft).await?;
            println!("{}", ctx.ta("scan-exported", &[("path", output.display().to_string().into())]));
            Ok(ExitCode::SUCCESS)
        }
        ScanCommand::Import { file, institution } => {
            let text = std::fs::read_to_string(&file).map_err(|e| CliError::ReadFile {
                path: file.display().to_string(),
                reason: mamori_store::classify_io(&e),
            })?;
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let (id, new, seen) = scan_io::import_nmap(&*store, &scope, &text, &name, &ctx.actor).await?;
            println!(
                "{}",
                ctx.ta("scan-imported", &[("scan", id.to_string().into()), ("new", new.into()), ("seen", seen.into())])
            );
            Ok(ExitCode::SUCCESS)
        }
        ScanCommand::List { institution, json } => {
            let store = ctx.open().await?;
            let scope = scope(&*store, institution.as_deref()).await?;
            let scans = scan_io::scans(&*store, &scope, 100).await?;
            if json {
                let out: Vec<serde_json::Value> = scans
                    .iter()
                    .map(|e| serde_json::json!({"id": e.id.to_string(), "summary": e.summary, "observed_at": mamori_domain::time_fmt::format(e.observed_at)}))
                    .collect();
                output::json(&out);
            } else {
                let rows: Vec<Vec<String>> = scans
                    .iter()
                    .map(|e| vec![e.id.to_string(), super::when(e.observed_at), e.summary.clone()])
                    .collect();
                output::table(&[ctx.t("col-id"), ctx.t("col-at"), ctx.t("col-details")], &rows);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn findings(ctx: &Ctx, cmd: FindingsCommand) -> anyhow::Result<ExitCode> {
    let FindingsCommand::List { institution, format } = cmd;
    let store = ctx.open().await?;
    let scope = scope(&*store, institution.as_deref()).await?;
    let list = store.list_findings(&scope, &FindingQuery::default()).await?;
    match format {
        ListFormat::Json => output::json(&list),
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|f| {
                    vec![
                        ctx.t(&format!("finding-severity-{}", f.severity.as_str())),
                        ctx.t(&format!("finding-status-{}", f.status.as_str())),
                        f.title.clone(),
                        super::when(f.last_seen),
                    ]
                })
                .collect();
            if rows.is_empty() {
                println!("{}", ctx.t("findings-none"));
            } else {
                output::table(
                    &[ctx.t("col-severity"), ctx.t("col-status"), ctx.t("col-name"), ctx.t("col-last-seen")],
                    &rows,
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
