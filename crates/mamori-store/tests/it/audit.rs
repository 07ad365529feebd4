//! The hash-chained audit log, tampered with directly in the database.

use crate::conformance;
use crate::harness::{TestDb, clinic};
use mamori_domain::audit::{AuditDraft, Chain, ChainBreak};
use mamori_domain::evidence::Evidence;
use mamori_domain::finding::{Finding, FindingStatus, ObjectRef, Severity};
use mamori_domain::ledger::{Asset, AssetKind};
use mamori_domain::record::RecordKind;
use mamori_domain::{ApiTokenId, time_fmt};
use mamori_store::{ApiToken, FindingQuery, Scope, Store, StoreExt, hash_secret, new_secret, verify_audit};

conformance!(
    untouched_log_verifies,
    edited_entry_is_detected,
    deleted_entry_is_detected,
    reordered_entries_are_detected,
    deleted_newest_entry_is_detected,
    emptied_chain_is_detected,
    concurrent_writers_keep_the_chain_intact,
    findings_keep_status_history_and_evidence,
    api_tokens_are_stored_hashed_and_revocable,
    settings_changes_are_audited,
);

async fn some_history(store: &dyn Store) -> Scope {
    let s = clinic(store, "監査クリニック").await;
    for i in 0..5 {
        store.put(&s, &Asset::new(AssetKind::Pc, &format!("端末{i}")), "alice").await.unwrap();
    }
    store.append_audit(Chain::System, &AuditDraft::new("alice", "auth.login")).await.unwrap();
    s
}

async fn reports(store: &dyn Store) -> Vec<(String, Option<ChainBreak>)> {
    verify_audit(store, &|_| true).await.unwrap().into_iter().map(|r| (r.chain, r.broken)).collect()
}

fn broken_in(reports: &[(String, Option<ChainBreak>)], chain: &Scope) -> Option<ChainBreak> {
    reports.iter().find(|(c, _)| *c == chain.chain().to_string()).and_then(|(_, b)| b.clone())
}

async fn untouched_log_verifies(db: TestDb) {
    let store = db.open().await;
    let s = some_history(&*store).await;
    let r = verify_audit(&*store, &|_| true).await.unwrap();
    assert_eq!(r.len(), 2, "system chain and the institution's chain: {r:?}");
    assert!(r.iter().all(|c| c.broken.is_none()), "{r:?}");
    let inst = r.iter().find(|c| c.chain == s.chain().to_string()).unwrap();
    assert_eq!(inst.checked, 6, "institution.create + 5 record.create");
}

async fn edited_entry_is_detected(db: TestDb) {
    let store = db.open().await;
    let s = some_history(&*store).await;
    let chain = s.chain().to_string();
    let n = db.exec(&format!("UPDATE audit_events SET actor = 'mallory' WHERE chain = '{chain}' AND seq = 3")).await;
    assert_eq!(n, 1);
    assert_eq!(broken_in(&reports(&*store).await, &s), Some(ChainBreak::Edited { seq: 3 }));
}

async fn deleted_entry_is_detected(db: TestDb) {
    let store = db.open().await;
    let s = some_history(&*store).await;
    let chain = s.chain().to_string();
    db.exec(&format!("DELETE FROM audit_events WHERE chain = '{chain}' AND seq = 2")).await;
    assert_eq!(broken_in(&reports(&*store).await, &s), Some(ChainBreak::Gap { expected_after: 1, found: 3 }));
}

async fn reordered_entries_are_detected(db: TestDb) {
    let store = db.open().await;
    let s = some_history(&*store).await;
    let chain = s.chain().to_string();
    // Swap entries 2 and 3 (via a temporary seq to satisfy the unique constraint).
    db.exec(&format!("UPDATE audit_events SET seq = -1 WHERE chain = '{chain}' AND seq = 2")).await;
    db.exec(&format!("UPDATE audit_events SET seq = 2 WHERE chain = '{chain}' AND seq = 3")).await;
    db.exec(&format!("UPDATE audit_events SET seq = 3 WHERE chain = '{chain}' AND seq = -1")).await;
    assert_eq!(broken_in(&reports(&*store).await, &s), Some(ChainBreak::Edited { seq: 2 }));
}

async fn deleted_newest_entry_is_detected(db: TestDb) {
    let store = db.open().await;
    let s = some_history(&*store).await;
    let chain = s.chain().to_string();
    db.exec(&format!("DELETE FROM audit_events WHERE chain = '{chain}' AND seq = 6")).await;
    assert_eq!(broken_in(&reports(&*store).await, &s), Some(ChainBreak::Truncated { last: 5, head: 6 }));
    // Deleting the head too leaves entries without a head.
    db.exec(&format!("DELETE FROM audit_heads WHERE chain = '{chain}'")).await;
    assert_eq!(broken_in(&reports(&*store).await, &s), Some(ChainBreak::HeadMissing));
}

async fn emptied_chain_is_detected(db: TestDb) {
    let store = db.open().await;
    let s = some_history(&*store).await;
    let chain = s.chain().to_string();
    db.exec(&format!("DELETE FROM audit_events WHERE chain = '{chain}'")).await;
    db.exec(&format!("DELETE FROM audit_heads WHERE chain = '{chain}'")).await;
    assert_eq!(broken_in(&reports(&*store).await, &s), Some(ChainBreak::Emptied));
}

async fn concurrent_writers_keep_the_chain_intact(db: TestDb) {
    // Two independent store instances (as two server processes would be) write at once.
    let a = db.open().await;
    let b = db.open().await;
    let s = clinic(&*a, "並行").await;
    let mut tasks = Vec::new();
    for (w, store) in [a.clone(), b.clone(), a.clone(), b.clone()].into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                store.put(&s, &Asset::new(AssetKind::Pc, &format!("w{w}-{i}")), "w").await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(a.count_rows(&s, RecordKind::Assets).await.unwrap(), 60);
    let r = verify_audit(&*a, &|_| true).await.unwrap();
    assert!(r.iter().all(|c| c.broken.is_none()), "{r:?}");
    assert_eq!(r.iter().find(|c| c.chain == s.chain().to_string()).unwrap().checked, 61);
}

async fn findings_keep_status_history_and_evidence(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "所見").await;
    let other = clinic(&*store, "他院").await;
    let asset = Asset::new(AssetKind::NetworkDevice, "ルータ");
    store.put(&s, &asset, "scan").await.unwrap();
    let ev = Evidence::new("scan", "TCP/23 open", serde_json::json!({"port": 23}));
    store.put_evidence(&s, &ev, None, "scan").await.unwrap();
    let mut f = Finding::new("scan.telnet-open", Severity::High, "Telnet が有効です", vec![ev.id]);
    f.detail = "通信が暗号化されません".into();
    f.remediation = "Telnet を無効にし SSH を使ってください".into();
    f.objects = vec![ObjectRef { kind: RecordKind::Assets, id: asset.id }];
    store.create_finding(&s, &f, "scan").await.unwrap();

    // Evidence of another institution cannot be linked.
    let mut foreign = Finding::new("x", Severity::Low, "x", vec![ev.id]);
    foreign.id = mamori_domain::FindingId::new();
    assert!(store.create_finding(&other, &foreign, "scan").await.is_err());
    assert!(store.get_finding(&other, f.id).await.unwrap().is_none());
    assert!(store.get_evidence(&other, ev.id).await.unwrap().is_none());
    assert_eq!(store.get_evidence(&s, ev.id).await.unwrap().unwrap(), ev);

    let err = store.set_finding_status(&s, f.id, FindingStatus::Accepted, "alice", None).await.unwrap_err();
    assert_eq!(err.code(), "invalid-finding");
    store.set_finding_status(&s, f.id, FindingStatus::InProgress, "alice", None).await.unwrap();
    let done = store.set_finding_status(&s, f.id, FindingStatus::Accepted, "bob", Some("来月機器更新")).await.unwrap();
    assert_eq!(done.status, FindingStatus::Accepted);
    let statuses: Vec<_> = done.history.iter().map(|h| (h.status, h.actor.as_str())).collect();
    assert_eq!(
        statuses,
        [(FindingStatus::Open, "scan"), (FindingStatus::InProgress, "alice"), (FindingStatus::Accepted, "bob")]
    );
    assert_eq!(done.history[2].reason.as_deref(), Some("来月機器更新"));
    assert_eq!(done.evidence, vec![ev.id]);
    assert_eq!(done.objects, f.objects);
    assert_eq!(done.title, f.title);

    let low = Finding::new("acct.unused", Severity::Low, "未使用アカウント", vec![ev.id]);
    store.create_finding(&s, &low, "scan").await.unwrap();
    let all = store.list_findings(&s, &FindingQuery::default()).await.unwrap();
    assert_eq!(all.iter().map(|f| f.severity).collect::<Vec<_>>(), [Severity::High, Severity::Low]);
    let high = store
        .list_findings(&s, &FindingQuery { min_severity: Some(Severity::Medium), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(high.len(), 1);
    let open = store
        .list_findings(&s, &FindingQuery { status: Some(FindingStatus::Open), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(open.iter().map(|f| f.id).collect::<Vec<_>>(), [low.id]);
    assert!(store.list_findings(&other, &FindingQuery::default()).await.unwrap().is_empty());
    let counts: Vec<_> =
        store.finding_counts(&s).await.unwrap().into_iter().map(|c| (c.severity, c.status, c.count)).collect();
    assert_eq!(counts, [(Severity::High, FindingStatus::Accepted, 1), (Severity::Low, FindingStatus::Open, 1)]);
    assert!(store.finding_counts(&other).await.unwrap().is_empty());
}

async fn api_tokens_are_stored_hashed_and_revocable(db: TestDb) {
    let store = db.open().await;
    let secret = new_secret();
    let token = ApiToken {
        id: ApiTokenId::new(),
        name: "監視".into(),
        token_hash: hash_secret(&secret),
        user_id: None,
        institution_id: None,
        role: None,
        created_by: "cli:root".into(),
        created_at: time_fmt::now(),
        last_used_at: None,
        revoked_at: None,
    };
    store.insert_api_token(&token).await.unwrap();
    let dump = db.scalar(&format!("SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{secret}'")).await;
    assert_eq!(dump, 0, "the secret itself is not stored");
    let used = store.use_api_token(&hash_secret(&secret)).await.unwrap().unwrap();
    assert_eq!(used.id, token.id);
    assert!(used.last_used_at.is_some());
    assert!(store.use_api_token(&hash_secret("wrong")).await.unwrap().is_none());
    assert!(store.revoke_api_token(token.id, "cli:root").await.unwrap());
    assert!(!store.revoke_api_token(token.id, "cli:root").await.unwrap());
    assert!(store.use_api_token(&hash_secret(&secret)).await.unwrap().is_none());
    let events = store.audit_events(Chain::System, 0, 100).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["schema.migrate", "api_token.create", "api_token.revoke"]);
    assert!(events.iter().all(|e| !e.details.contains(&secret)));
}

async fn settings_changes_are_audited(db: TestDb) {
    let store = db.open().await;
    assert_eq!(store.get_setting("setup_token_hash").await.unwrap(), None);
    let draft = AuditDraft::new("cli:root", "setup.token_issued");
    store.set_setting("setup_token_hash", "abc", &draft).await.unwrap();
    store.set_setting("setup_token_hash", "def", &draft).await.unwrap();
    assert_eq!(store.get_setting("setup_token_hash").await.unwrap().as_deref(), Some("def"));
    let events = store.audit_events(Chain::System, 0, 10).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["schema.migrate", "setup.token_issued", "setup.token_issued"]);
    assert!(events.iter().all(|e| !e.details.contains("def")));
}
