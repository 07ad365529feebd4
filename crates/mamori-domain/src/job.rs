//! Jobs: long work (imports, scans, feed sync, log import, backup verification) with
//! progress, cancellation, and an honest end state even when the process dies.

use crate::{InstitutionId, JobId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// The process running it died; the job did not finish and its work may be partial
    /// (each job's writes are transactional, so "partial" means "some batches").
    Interrupted,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] =
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed, Self::Cancelled, Self::Interrupted];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
    pub fn is_finished(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    /// `None` for work on the whole installation (e.g. verifying every audit chain).
    pub institution_id: Option<InstitutionId>,
    /// e.g. `ledger-import`, `scan`, `audit-verify`
    pub kind: String,
    pub status: JobStatus,
    pub progress_done: u64,
    pub progress_total: Option<u64>,
    pub message: Option<String>,
    pub params: serde_json::Value,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub cancel_requested: bool,
    /// `host:pid` of the process running it.
    pub runner: Option<String>,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub heartbeat_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

impl Job {
    pub fn new(institution_id: Option<InstitutionId>, kind: &str, params: serde_json::Value, created_by: &str) -> Self {
        Self {
            id: JobId::new(),
            institution_id,
            kind: kind.to_owned(),
            status: JobStatus::Queued,
            progress_done: 0,
            progress_total: None,
            message: None,
            params,
            result: None,
            error: None,
            cancel_requested: false,
            runner: None,
            created_by: created_by.to_owned(),
            created_at: crate::time_fmt::now(),
            started_at: None,
            heartbeat_at: None,
            finished_at: None,
        }
    }

    /// 0.0 ..= 1.0 when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        match self.progress_total {
            Some(0) => Some(1.0),
            Some(t) => Some((self.progress_done as f64 / t as f64).min(1.0)),
            None => None,
        }
    }
}

/// A running job is orphaned when its process is gone: on this host, its pid no longer
/// exists; elsewhere (a shared PostgreSQL), or where the pid cannot be checked
/// (`pid_alive` returns `None`), its heartbeat is older than `stale_after`.
pub fn is_orphaned(
    job: &Job,
    this_host: &str,
    pid_alive: impl Fn(u32) -> Option<bool>,
    now: OffsetDateTime,
    stale_after: time::Duration,
) -> bool {
    if job.status != JobStatus::Running {
        return false;
    }
    if let Some((host, pid)) = job.runner.as_deref().and_then(|r| r.rsplit_once(':'))
        && host == this_host
        && let Ok(pid) = pid.parse::<u32>()
        && let Some(alive) = pid_alive(pid)
    {
        return !alive;
    }
    match job.heartbeat_at.or(job.started_at) {
        Some(beat) => now - beat > stale_after,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn running(runner: &str, beat: OffsetDateTime) -> Job {
        let mut j = Job::new(None, "x", serde_json::Value::Null, "system");
        j.status = JobStatus::Running;
        j.runner = Some(runner.into());
        j.heartbeat_at = Some(beat);
        j
    }

    #[test]
    fn dead_local_pid_is_orphaned_at_once() {
        let now = crate::time_fmt::now();
        let j = running("box:4242", now);
        assert!(is_orphaned(&j, "box", |_| Some(false), now, Duration::minutes(1)));
        assert!(!is_orphaned(&j, "box", |p| Some(p == 4242), now, Duration::minutes(1)));
    }

    #[test]
    fn unknown_pid_state_falls_back_to_the_heartbeat() {
        let now = crate::time_fmt::now();
        let fresh = running("box:4242", now);
        assert!(!is_orphaned(&fresh, "box", |_| None, now, Duration::minutes(1)));
        let stale = running("box:4242", now - Duration::minutes(5));
        assert!(is_orphaned(&stale, "box", |_| None, now, Duration::minutes(1)));
    }

    #[test]
    fn remote_job_is_orphaned_by_stale_heartbeat() {
        let now = crate::time_fmt::now();
        let j = running("other:1", now - Duration::minutes(5));
        assert!(is_orphaned(&j, "box", |_| Some(true), now, Duration::minutes(1)));
        let j = running("other:1", now - Duration::seconds(10));
        assert!(!is_orphaned(&j, "box", |_| Some(true), now, Duration::minutes(1)));
    }

    #[test]
    fn finished_jobs_are_never_orphaned() {
        let now = crate::time_fmt::now();
        let mut j = running("box:1", now);
        j.status = JobStatus::Succeeded;
        assert!(!is_orphaned(&j, "box", |_| Some(false), now, Duration::minutes(1)));
    }
}
