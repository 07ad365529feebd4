//! Runs long work as jobs. A job's progress lives in memory (atomics, cheap to update from
//! a hot loop) and a heartbeat task writes it to the store every second, which also picks
//! up a cancellation requested from anywhere (the CLI, the web UI, another process). When
//! the process dies, the job's row stays `running`; [`JobRunner::reconcile`] on the next
//! start marks it `interrupted`, so no job is ever silently lost.
#![forbid(unsafe_code)]

use mamori_domain::job::{Job, JobStatus, is_orphaned};
use mamori_domain::{JobId, time_fmt};
use mamori_store::{JobQuery, Store, StoreError};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often a running job writes its progress and heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// A job on another host is orphaned when its heartbeat is older than this.
pub const STALE_AFTER: time::Duration = time::Duration::seconds(60);

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a job's work sees: progress reporting and the cancellation flag.
#[derive(Clone)]
pub struct JobContext {
    id: JobId,
    shared: Arc<Shared>,
}

struct Shared {
    done: AtomicU64,
    /// `u64::MAX` = unknown
    total: AtomicU64,
    message: Mutex<Option<String>>,
    cancelled: AtomicBool,
}

impl JobContext {
    pub fn id(&self) -> JobId {
        self.id
    }

    /// Records progress; cheap enough to call for every item.
    pub fn set_progress(&self, done: u64, total: Option<u64>) {
        self.shared.done.store(done, Ordering::Relaxed);
        if let Some(t) = total {
            self.shared.total.store(t, Ordering::Relaxed);
        }
    }

    pub fn set_message(&self, message: &str) {
        *self.shared.message.lock().expect("message lock") = Some(message.to_owned());
    }

    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancellation was requested: `ctx.check()?` between steps.
    pub fn check(&self) -> Result<(), JobError> {
        if self.is_cancelled() { Err(JobError::Cancelled) } else { Ok(()) }
    }
}

/// A job started by this process.
pub struct JobHandle {
    pub id: JobId,
    task: JoinHandle<JobStatus>,
}

impl JobHandle {
    /// Waits for the job to end and returns its final status.
    pub async fn wait(self) -> JobStatus {
        self.task.await.unwrap_or(JobStatus::Failed)
    }
}

#[derive(Clone, Debug)]
pub struct JobRunner {
    store: Arc<dyn Store>,
    host: String,
    runner: String,
}

impl JobRunner {
    pub fn new(store: Arc<dyn Store>) -> Self {
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let runner = format!("{host}:{}", std::process::id());
        Self { store, host, runner }
    }

    /// `host:pid` of this process, as recorded on the jobs it runs.
    pub fn runner_id(&self) -> &str {
        &self.runner
    }

    /// Marks jobs whose process is gone as interrupted; returns how many.
    pub async fn reconcile(&self) -> Result<u64, StoreError> {
        let running = self
            .store
            .list_jobs(&JobQuery { status: Some(JobStatus::Running), limit: 10_000, ..Default::default() })
            .await?;
        let now = time_fmt::now();
        let orphans: Vec<JobId> = running
            .iter()
            .filter(|j| j.runner.as_deref() != Some(self.runner.as_str()))
            .filter(|j| is_orphaned(j, &self.host, pid_alive, now, STALE_AFTER))
            .map(|j| j.id)
            .collect();
        if orphans.is_empty() {
            return Ok(0);
        }
        let n = self.store.mark_jobs_interrupted(&orphans).await?;
        tracing::warn!(count = n, "marked jobs interrupted: their process ended while they ran");
        Ok(n)
    }

    /// Records `job`, starts it and runs `work` on the runtime. The job ends `succeeded`
    /// with the value `work` returns, `cancelled`, or `failed` with the error.
    pub async fn spawn<F, Fut>(&self, job: Job, work: F) -> Result<JobHandle, StoreError>
    where
        F: FnOnce(JobContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<serde_json::Value, JobError>> + Send + 'static,
    {
        let id = job.id;
        self.store.insert_job(&job).await?;
        self.store.start_job(id, &self.runner).await?;
        let shared = Arc::new(Shared {
            done: AtomicU64::new(0),
            total: AtomicU64::new(u64::MAX),
            message: Mutex::new(None),
            cancelled: AtomicBool::new(false),
        });
        let ctx = JobContext { id, shared: shared.clone() };
        let store = self.store.clone();
        let task = tokio::spawn(async move {
            let beat = tokio::spawn(heartbeat(store.clone(), id, shared.clone()));
            let outcome = work(ctx).await;
            beat.abort();
            flush(&*store, id, &shared).await.ok();
            let (status, result, error) = match outcome {
                Ok(v) => (JobStatus::Succeeded, Some(v), None),
                Err(JobError::Cancelled) => (JobStatus::Cancelled, None, None),
                Err(e) => (JobStatus::Failed, None, Some(e.to_string())),
            };
            if let Err(e) = store.finish_job(id, status, result.as_ref(), error.as_deref()).await {
                tracing::error!(job = %id, error = %e, "could not record the end of a job");
            }
            status
        });
        Ok(JobHandle { id, task })
    }
}

async fn flush(store: &dyn Store, id: JobId, shared: &Shared) -> Result<bool, StoreError> {
    let total = shared.total.load(Ordering::Relaxed);
    let message = shared.message.lock().expect("message lock").clone();
    store
        .update_job_progress(
            id,
            shared.done.load(Ordering::Relaxed),
            (total != u64::MAX).then_some(total),
            message.as_deref(),
        )
        .await
}

async fn heartbeat(store: Arc<dyn Store>, id: JobId, shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.tick().await;
    loop {
        tick.tick().await;
        match flush(&*store, id, &shared).await {
            Ok(true) => shared.cancelled.store(true, Ordering::Relaxed),
            Ok(false) => {}
            Err(e) => tracing::warn!(job = %id, error = %e, "job heartbeat failed"),
        }
    }
}

/// Whether a process with this pid exists on this host; `None` where that cannot be told
/// (no /proc), so the heartbeat decides.
fn pid_alive(pid: u32) -> Option<bool> {
    cfg!(target_os = "linux").then(|| std::path::Path::new(&format!("/proc/{pid}")).exists())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_store::{DbSettings, OpenOptions};

    async fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let settings = DbSettings::Sqlite { path: dir.path().join("m.db") };
        let s = mamori_store::open(&settings, OpenOptions { create: true, migrate: true }).await.unwrap();
        (dir, s)
    }

    #[tokio::test]
    async fn job_succeeds_with_progress_and_result() {
        let (_d, store) = store().await;
        let runner = JobRunner::new(store.clone());
        let h = runner
            .spawn(Job::new(None, "count", serde_json::Value::Null, "test"), |ctx| async move {
                for i in 1..=100 {
                    ctx.set_progress(i, Some(100));
                }
                ctx.set_message("数えました");
                Ok(serde_json::json!({"counted": 100}))
            })
            .await
            .unwrap();
        let id = h.id;
        assert_eq!(h.wait().await, JobStatus::Succeeded);
        let j = store.get_job(id).await.unwrap().unwrap();
        assert_eq!((j.progress_done, j.progress_total), (100, Some(100)));
        assert_eq!(j.message.as_deref(), Some("数えました"));
        assert_eq!(j.result, Some(serde_json::json!({"counted": 100})));
        assert_eq!(j.runner.as_deref(), Some(runner.runner_id()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancellation_requested_through_the_store_stops_the_job() {
        let (_d, store) = store().await;
        let runner = JobRunner::new(store.clone());
        let h = runner
            .spawn(Job::new(None, "forever", serde_json::Value::Null, "test"), |ctx| async move {
                let mut i = 0;
                loop {
                    ctx.check()?;
                    i += 1;
                    ctx.set_progress(i, None);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        // As `mamori jobs cancel` from another process does: only the store is touched.
        store.request_job_cancel(h.id, "alice").await.unwrap();
        let id = h.id;
        let status = tokio::time::timeout(Duration::from_secs(10), h.wait()).await.expect("job stopped");
        assert_eq!(status, JobStatus::Cancelled);
        let j = store.get_job(id).await.unwrap().unwrap();
        assert_eq!(j.status, JobStatus::Cancelled);
        assert!(j.progress_done > 0);
    }

    #[tokio::test]
    async fn failure_is_recorded_with_its_message() {
        let (_d, store) = store().await;
        let runner = JobRunner::new(store.clone());
        let h = runner
            .spawn(Job::new(None, "fail", serde_json::Value::Null, "test"), |_ctx| async move {
                Err(JobError::Failed("ファイルが読めません".into()))
            })
            .await
            .unwrap();
        let id = h.id;
        assert_eq!(h.wait().await, JobStatus::Failed);
        assert_eq!(store.get_job(id).await.unwrap().unwrap().error.as_deref(), Some("ファイルが読めません"));
    }

    #[tokio::test]
    async fn reconcile_marks_jobs_of_dead_processes_only() {
        let (_d, store) = store().await;
        let runner = JobRunner::new(store.clone());
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let dead = Job::new(None, "scan", serde_json::Value::Null, "test");
        let alive = Job::new(None, "scan", serde_json::Value::Null, "test");
        store.insert_job(&dead).await.unwrap();
        store.insert_job(&alive).await.unwrap();
        // pid 0x3fffffff is above Linux's pid_max: never a live process.
        store.start_job(dead.id, &format!("{host}:{}", 0x3fff_ffff)).await.unwrap();
        store.start_job(alive.id, &format!("{host}:1")).await.unwrap();
        assert_eq!(runner.reconcile().await.unwrap(), 1);
        assert_eq!(store.get_job(dead.id).await.unwrap().unwrap().status, JobStatus::Interrupted);
        assert_eq!(store.get_job(alive.id).await.unwrap().unwrap().status, JobStatus::Running);
    }
}
