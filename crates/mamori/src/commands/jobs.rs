//! `mamori jobs list|show|cancel`: jobs of this installation, whoever started them.

use super::{Ctx, when};
use crate::cli::JobsCommand;
use crate::failure::CliError;
use crate::output;
use mamori_domain::JobId;
use mamori_domain::job::{Job, JobStatus};
use mamori_jobs::JobRunner;
use mamori_store::{JobQuery, JobScope, StoreError};
use std::process::ExitCode;
use std::time::Duration;

pub fn parse_id(s: &str) -> Result<JobId, CliError> {
    s.parse().map_err(|_| CliError::BadId { value: s.to_owned() })
}

pub fn status_label(ctx: &Ctx, s: JobStatus) -> String {
    ctx.t(&format!("job-status-{}", s.as_str()))
}

fn progress(j: &Job) -> String {
    match j.progress_total {
        Some(t) => format!("{}/{}", j.progress_done, t),
        None if j.progress_done > 0 => j.progress_done.to_string(),
        None => String::new(),
    }
}

pub async fn run(ctx: &Ctx, cmd: JobsCommand) -> anyhow::Result<ExitCode> {
    let store = ctx.open().await?;
    // Whoever looks first after a crash sees the truth: dead processes' jobs are interrupted.
    JobRunner::new(store.clone()).reconcile().await?;
    match cmd {
        JobsCommand::List { institution, status, limit, json } => {
            let scope = match institution {
                Some(i) => JobScope::Institution(i.parse().map_err(|_| CliError::BadId { value: i.clone() })?),
                None => JobScope::All,
            };
            let status =
                status.map(|s| JobStatus::parse(&s).ok_or(CliError::BadStatus { value: s.clone() })).transpose()?;
            let jobs = store.list_jobs(&JobQuery { scope, status, limit }).await?;
            if json {
                output::json(&jobs);
            } else if jobs.is_empty() {
                println!("{}", ctx.t("jobs-none"));
            } else {
                let header = ["col-id", "col-kind", "col-status", "col-progress", "col-created"].map(|k| ctx.t(k));
                let rows: Vec<Vec<String>> = jobs
                    .iter()
                    .map(|j| {
                        vec![
                            j.id.to_string(),
                            j.kind.clone(),
                            status_label(ctx, j.status),
                            progress(j),
                            when(j.created_at),
                        ]
                    })
                    .collect();
                output::table(&header, &rows);
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Show { id, follow, json } => {
            let id = parse_id(&id)?;
            let not_found = || StoreError::NotFound { what: "job", id: id.to_string() };
            let mut job = store.get_job(id).await?.ok_or_else(not_found)?;
            if follow && !job.status.is_finished() {
                let bar = output::progress_bar(job.progress_total);
                bar.set_message(job.kind.clone());
                while !job.status.is_finished() {
                    if let Some(t) = job.progress_total {
                        bar.set_length(t);
                    }
                    bar.set_position(job.progress_done);
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    job = store.get_job(id).await?.ok_or_else(not_found)?;
                }
                bar.finish_and_clear();
            }
            if json {
                output::json(&job);
            } else {
                let rows = [
                    ("col-id", job.id.to_string()),
                    ("col-kind", job.kind.clone()),
                    ("col-status", status_label(ctx, job.status)),
                    ("col-progress", progress(&job)),
                    ("col-message", job.message.clone().unwrap_or_default()),
                    ("col-error", job.error.clone().unwrap_or_default()),
                    ("col-created", when(job.created_at)),
                    ("col-finished", job.finished_at.map(when).unwrap_or_default()),
                    ("col-created-by", job.created_by.clone()),
                ];
                for (k, v) in rows {
                    if !v.is_empty() {
                        println!("{}: {v}", ctx.t(k));
                    }
                }
            }
            if follow && job.status != JobStatus::Succeeded {
                return Err(CliError::JobNotSucceeded { status: status_label(ctx, job.status) }.into());
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Cancel { id } => {
            let job = store.request_job_cancel(parse_id(&id)?, &ctx.actor).await?;
            let key = if job.status == JobStatus::Cancelled { "jobs-cancelled" } else { "jobs-cancel-requested" };
            println!("{}", ctx.ta(key, &[("id", job.id.to_string().into())]));
            Ok(ExitCode::SUCCESS)
        }
    }
}
