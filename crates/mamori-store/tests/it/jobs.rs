//! Job records: lifecycle, progress with cancellation, tenant listing, interruption.

use crate::conformance;
use crate::harness::{TestDb, clinic};
use mamori_domain::job::{Job, JobStatus};
use mamori_store::{JobQuery, JobScope};

conformance!(job_lifecycle, queued_job_cancels_at_once, jobs_list_by_institution, interrupted_jobs_are_marked);

async fn job_lifecycle(db: TestDb) {
    let store = db.open().await;
    let job = Job::new(None, "audit-verify", serde_json::json!({"all": true}), "cli:root");
    store.insert_job(&job).await.unwrap();
    let got = store.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(got, job);
    store.start_job(job.id, "host:1").await.unwrap();
    assert!(store.start_job(job.id, "host:1").await.is_err(), "a job starts once");
    assert!(!store.update_job_progress(job.id, 10, Some(100), Some("検証中")).await.unwrap());
    let cancelled = store.request_job_cancel(job.id, "alice").await.unwrap();
    assert!(cancelled.cancel_requested);
    assert_eq!(cancelled.status, JobStatus::Running, "a running job stops itself");
    assert!(store.update_job_progress(job.id, 20, None, None).await.unwrap(), "the runner sees the request");
    let j = store.get_job(job.id).await.unwrap().unwrap();
    assert_eq!((j.progress_done, j.progress_total, j.message.as_deref()), (20, Some(100), Some("検証中")));
    assert_eq!(j.runner.as_deref(), Some("host:1"));
    assert!(j.heartbeat_at.is_some() && j.started_at.is_some());
    store.finish_job(job.id, JobStatus::Cancelled, Some(&serde_json::json!({"checked": 20})), None).await.unwrap();
    let j = store.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(j.status, JobStatus::Cancelled);
    assert_eq!(j.result, Some(serde_json::json!({"checked": 20})));
    assert!(j.finished_at.is_some());
    assert!(store.finish_job(job.id, JobStatus::Succeeded, None, None).await.is_err(), "finished once");
    assert!(store.request_job_cancel(job.id, "alice").await.is_err());
    assert_eq!(store.request_job_cancel(mamori_domain::JobId::new(), "alice").await.unwrap_err().code(), "not-found");
    let actions: Vec<String> = store
        .audit_events(mamori_domain::audit::Chain::System, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["schema.migrate", "job.create", "job.cancel", "job.finish"]);
}

async fn queued_job_cancels_at_once(db: TestDb) {
    let store = db.open().await;
    let job = Job::new(None, "scan", serde_json::Value::Null, "cli:root");
    store.insert_job(&job).await.unwrap();
    let j = store.request_job_cancel(job.id, "alice").await.unwrap();
    assert_eq!(j.status, JobStatus::Cancelled);
    assert!(store.start_job(job.id, "host:1").await.is_err());
}

async fn jobs_list_by_institution(db: TestDb) {
    let store = db.open().await;
    let a = clinic(&*store, "A").await;
    let b = clinic(&*store, "B").await;
    for (inst, kind) in [(Some(a.institution()), "scan"), (Some(b.institution()), "scan"), (None, "audit-verify")] {
        store.insert_job(&Job::new(inst, kind, serde_json::Value::Null, "t")).await.unwrap();
    }
    assert_eq!(store.list_jobs(&JobQuery::default()).await.unwrap().len(), 3);
    let only_a = store
        .list_jobs(&JobQuery { scope: JobScope::Institution(a.institution()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(only_a.len(), 1);
    assert_eq!(only_a[0].institution_id, Some(a.institution()));
    let queued = store.list_jobs(&JobQuery { status: Some(JobStatus::Running), ..Default::default() }).await.unwrap();
    assert!(queued.is_empty());
}

async fn interrupted_jobs_are_marked(db: TestDb) {
    let store = db.open().await;
    let a = clinic(&*store, "A").await;
    let running = Job::new(Some(a.institution()), "scan", serde_json::Value::Null, "t");
    let queued = Job::new(None, "scan", serde_json::Value::Null, "t");
    store.insert_job(&running).await.unwrap();
    store.insert_job(&queued).await.unwrap();
    store.start_job(running.id, "gone:999999").await.unwrap();
    assert_eq!(store.mark_jobs_interrupted(&[running.id, queued.id]).await.unwrap(), 1);
    assert_eq!(store.get_job(running.id).await.unwrap().unwrap().status, JobStatus::Interrupted);
    assert_eq!(store.get_job(queued.id).await.unwrap().unwrap().status, JobStatus::Queued);
    let last = store.audit_events(a.chain(), 0, 10).await.unwrap().pop().unwrap();
    assert_eq!(last.action, "job.interrupted");
}
