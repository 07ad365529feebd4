//! A process killed with SIGKILL in the middle of a large write batch leaves the database
//! holding none of the batch (it was one transaction), and the audit chain still verifies.
//!
//! The test re-runs this test binary as the writer (`child_writer`, ignored unless the
//! parent sets `MAMORI_DURABILITY_CHILD`), waits until the writer reports that half the
//! batch is written inside its open transaction, and kills it.

use crate::harness::{TestDb, clinic};
use mamori_domain::ledger::{Asset, AssetKind};
use mamori_domain::record::{Record, RecordKind};
use mamori_store::{DbSettings, OpenOptions, verify_audit};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BATCH: u64 = 20_000;

fn spawn_writer(settings: &DbSettings, institution: &str) -> std::process::Child {
    let (backend, target) = match settings {
        DbSettings::Sqlite { path } => ("sqlite", path.display().to_string()),
        DbSettings::Postgres { url } => ("postgres", url.clone()),
    };
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "durability::child_writer", "--ignored", "--nocapture", "--test-threads=1"])
        .env("MAMORI_DURABILITY_CHILD", format!("{backend}|{target}|{institution}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The writer: one batch of `BATCH` assets, reporting progress on stdout.
#[tokio::test]
#[ignore = "run by the durability tests as a separate process"]
async fn child_writer() {
    let Ok(spec) = std::env::var("MAMORI_DURABILITY_CHILD") else { return };
    let mut parts = spec.splitn(3, '|');
    let (backend, target, inst) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    let settings = match backend {
        "sqlite" => DbSettings::Sqlite { path: target.into() },
        _ => DbSettings::Postgres { url: target.into() },
    };
    let store = mamori_store::open(&settings, OpenOptions { create: false, migrate: false }).await.unwrap();
    let scope = store.scope(inst.parse().unwrap()).await.unwrap();
    let rows: Vec<_> = (0..BATCH)
        .map(|i| {
            let mut a = Asset::new(AssetKind::Pc, &format!("端末{i:05}"));
            a.ip_addresses = vec![format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)];
            a.to_row()
        })
        .collect();
    store
        .put_rows(&scope, &rows, "durability", &|n| {
            if n % 1000 == 0 {
                println!("PROGRESS {n}");
            }
        })
        .await
        .unwrap();
    println!("COMMITTED");
}

async fn kill_mid_batch_then_finish(db: TestDb) {
    let store = db.open().await;
    let scope = clinic(&*store, "耐久").await;
    let heads_before = store.audit_heads().await.unwrap();

    // 1. Kill the writer when half the batch is inside its open transaction.
    let mut child = spawn_writer(&db.settings, &scope.institution().to_string());
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut killed_at = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("PROGRESS ").and_then(|n| n.parse::<u64>().ok())
            && n >= BATCH / 2
        {
            child.kill().unwrap(); // SIGKILL on Unix
            killed_at = Some(n);
            break;
        }
        assert_ne!(line, "COMMITTED", "the writer finished before it could be killed");
    }
    let status = child.wait().unwrap();
    assert!(killed_at.is_some(), "the writer never reported progress");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL");
    }
    drop(store);
    let store = db.open().await;
    assert_eq!(store.count_rows(&scope, RecordKind::Assets).await.unwrap(), 0, "none of the killed batch");
    assert_eq!(store.audit_heads().await.unwrap(), heads_before);
    let r = verify_audit(&*store, &|_| true).await.unwrap();
    assert!(r.iter().all(|c| c.broken.is_none()), "{r:?}");

    // 2. The same batch run to the end is there whole.
    let mut child = spawn_writer(&db.settings, &scope.institution().to_string());
    let out = BufReader::new(child.stdout.take().unwrap()).lines().map(Result::unwrap).collect::<Vec<_>>();
    assert!(child.wait().unwrap().success());
    assert!(out.iter().any(|l| l == "COMMITTED"), "{out:?}");
    assert_eq!(store.count_rows(&scope, RecordKind::Assets).await.unwrap(), BATCH);
    let r = verify_audit(&*store, &|_| true).await.unwrap();
    assert!(r.iter().all(|c| c.broken.is_none()), "{r:?}");
    let inst = r.iter().find(|c| c.chain == scope.chain().to_string()).unwrap();
    assert_eq!(inst.checked, BATCH + 1);
}

crate::conformance!(kill_mid_batch_then_finish);
