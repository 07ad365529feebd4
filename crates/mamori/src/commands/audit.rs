//! `mamori audit verify|log`. Verification runs as a job (it can be long on a big log)
//! with a progress bar; the exit code is 3 when any chain is broken.

use super::{Ctx, when};
use crate::cli::AuditCommand;
use crate::failure::CliError;
use crate::output;
use mamori_domain::audit::{Chain, ChainBreak};
use mamori_domain::job::{Job, JobStatus};
use mamori_jobs::{JobError, JobRunner};
use mamori_store::StoreExt;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn break_message(ctx: &Ctx, b: &ChainBreak) -> String {
    match b {
        ChainBreak::Edited { seq } => ctx.ta("audit-break-edited", &[("seq", (*seq).into())]),
        ChainBreak::Gap { expected_after, found } => {
            ctx.ta("audit-break-gap", &[("after", (*expected_after).into()), ("found", (*found).into())])
        }
        ChainBreak::Unlinked { seq } => ctx.ta("audit-break-unlinked", &[("seq", (*seq).into())]),
        ChainBreak::Truncated { last, head } => {
            ctx.ta("audit-break-truncated", &[("last", (*last).into()), ("head", (*head).into())])
        }
        ChainBreak::HeadMismatch { seq } => ctx.ta("audit-break-head-mismatch", &[("seq", (*seq).into())]),
        ChainBreak::HeadMissing => ctx.t("audit-break-head-missing"),
        ChainBreak::Emptied => ctx.t("audit-break-emptied"),
    }
}

pub async fn run(ctx: &Ctx, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let store = ctx.open().await?;
    let names: HashMap<String, String> =
        store.list_institutions().await?.into_iter().map(|i| (i.id.to_string(), i.name)).collect();
    let chain_name = |c: &str| {
        if c == "system" { ctx.t("audit-chain-system") } else { names.get(c).cloned().unwrap_or_else(|| c.to_owned()) }
    };
    match cmd {
        AuditCommand::Verify { json } => {
            let runner = JobRunner::new(store.clone());
            let checked = Arc::new(AtomicU64::new(0));
            let total = Arc::new(AtomicU64::new(0));
            let (seen, expected) = (checked.clone(), total.clone());
            let job_store = store.clone();
            let job = Job::new(None, "audit-verify", serde_json::json!({}), &ctx.actor);
            let handle = runner
                .spawn(job, move |jc| async move {
                    // Counted once the job has started, so its own `job.create` entry is included.
                    let sum: u64 = job_store.audit_heads().await?.iter().map(|h| h.seq).sum();
                    expected.store(sum, Ordering::Relaxed);
                    let reports = mamori_store::verify_audit(&*job_store, &|n| {
                        seen.store(n, Ordering::Relaxed);
                        jc.set_progress(n, Some(sum));
                        !jc.is_cancelled()
                    })
                    .await?;
                    jc.check()?;
                    serde_json::to_value(&reports).map_err(|e| JobError::Failed(e.to_string()))
                })
                .await?;
            let id = handle.id;
            let bar = output::progress_bar(Some(0));
            bar.set_message(ctx.t("audit-verifying"));
            let wait = handle.wait();
            tokio::pin!(wait);
            let status = loop {
                tokio::select! {
                    s = &mut wait => break s,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {
                        bar.set_length(total.load(Ordering::Relaxed));
                        bar.set_position(checked.load(Ordering::Relaxed));
                    }
                }
            };
            bar.finish_and_clear();
            let job = store.get_job(id).await?.ok_or_else(|| anyhow::anyhow!("job vanished"))?;
            if status != JobStatus::Succeeded {
                return Err(CliError::JobNotSucceeded { status: super::jobs::status_label(ctx, status) }.into());
            }
            let reports: Vec<mamori_store::ChainReport> =
                serde_json::from_value(job.result.unwrap_or_default()).unwrap_or_default();
            let broken = reports.iter().any(|r| r.broken.is_some());
            if json {
                output::json(&serde_json::json!({"ok": !broken, "job": id, "chains": reports}));
            } else {
                for r in &reports {
                    let name = chain_name(&r.chain);
                    match &r.broken {
                        None => println!(
                            "{}",
                            ctx.ta("audit-chain-ok", &[("chain", name.into()), ("count", r.checked.into())])
                        ),
                        Some(b) => println!(
                            "{}",
                            ctx.ta(
                                "audit-chain-broken",
                                &[("chain", name.into()), ("problem", break_message(ctx, b).into())]
                            )
                        ),
                    }
                }
            }
            if broken {
                return Err(CliError::AuditBroken.into());
            }
            if !json {
                println!("{}", ctx.ta("audit-verified", &[("chains", reports.len().into())]));
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Log { institution, limit, json } => {
            let chain = match institution {
                None => Chain::System,
                Some(i) => Chain::Institution(
                    store.scope(i.parse().map_err(|_| CliError::BadId { value: i.clone() })?).await?.institution(),
                ),
            };
            let events = store.latest_audit_events(chain, limit).await?;
            if json {
                output::json(&events);
            } else {
                let header = ["col-seq", "col-at", "col-actor", "col-action", "col-object"].map(|k| ctx.t(k));
                let rows: Vec<Vec<String>> = events
                    .iter()
                    .map(|e| {
                        let object = match (&e.object_kind, &e.object_id) {
                            (Some(k), Some(i)) => format!("{k}:{i}"),
                            _ => String::new(),
                        };
                        vec![e.seq.to_string(), when(e.at), e.actor.clone(), e.action.clone(), object]
                    })
                    .collect();
                output::table(&header, &rows);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
