//! Attachments, per-institution settings, text search over a ledger and a record's history.

use crate::conformance;
use crate::harness::{TestDb, clinic};
use mamori_domain::RecordId;
use mamori_domain::evidence::Evidence;
use mamori_domain::ledger::{Site, Vendor};
use mamori_domain::record::{Record, RecordKind};
use mamori_store::{Attachment, MAX_ATTACHMENT_BYTES, RecordQuery, StoreError, StoreExt};

conformance!(
    attachments_round_trip_with_their_evidence,
    attachments_must_match_their_hash_and_size,
    institution_settings_are_per_tenant_and_audited,
    search_matches_text_and_lists_and_counts,
    history_lists_one_records_changes_newest_first,
    evidence_is_listed_by_kind_and_ledgers_know_when_they_changed,
    a_problem_seen_again_adds_evidence_to_its_open_finding,
);

fn json(details: &str) -> serde_json::Value {
    serde_json::from_str(details).unwrap()
}

fn vendor(name: &str) -> Vendor {
    Vendor {
        id: RecordId::new(),
        name: name.into(),
        service: None,
        contact_name: None,
        phone: None,
        email: None,
        emergency_contact: None,
        address: None,
        notes: None,
    }
}

fn pdf(name: &str, bytes: &[u8]) -> (Evidence, Attachment) {
    let file = Attachment { name: name.into(), media_type: "application/pdf".into(), bytes: bytes.to_vec() };
    let mut e = Evidence::new("document", &format!("MDS: {name}"), serde_json::json!({}));
    e.content_hash = Some(file.content_hash());
    (e, file)
}

async fn attachments_round_trip_with_their_evidence(db: TestDb) {
    let store = db.open().await;
    let a = clinic(&*store, "A").await;
    let b = clinic(&*store, "B").await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let (e, file) = pdf("MDS_電子カルテ.pdf", &bytes);
    store.put_evidence(&a, &e, Some(&file), "tester").await.unwrap();
    assert_eq!(store.get_attachment(&a, e.id).await.unwrap(), Some(file));
    assert_eq!(store.get_attachment(&b, e.id).await.unwrap(), None, "another tenant sees nothing");
    let plain = Evidence::new("scan", "no file", serde_json::json!({}));
    store.put_evidence(&a, &plain, None, "tester").await.unwrap();
    assert_eq!(store.get_attachment(&a, plain.id).await.unwrap(), None);
    let events = store.latest_audit_events(a.chain(), 5).await.unwrap();
    let created = events.iter().find(|ev| ev.object_id.as_deref() == Some(&e.id.to_string()[..])).unwrap();
    assert_eq!(json(&created.details)["file"]["size"], 70_000);
    // The file is described, never copied: name, type and size only, and the entry stays small.
    let described: Vec<String> = json(&created.details)["file"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(described, ["media_type", "name", "size"]);
    assert!(created.details.len() < 1_000, "bytes never reach the audit log ({} bytes)", created.details.len());
}

async fn attachments_must_match_their_hash_and_size(db: TestDb) {
    let store = db.open().await;
    let a = clinic(&*store, "A").await;
    let (mut e, file) = pdf("x.pdf", b"%PDF-1.4");
    e.content_hash = Some("00".repeat(32));
    let err = store.put_evidence(&a, &e, Some(&file), "t").await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let (e, file) = pdf("big.pdf", &vec![0u8; MAX_ATTACHMENT_BYTES + 1]);
    assert!(matches!(store.put_evidence(&a, &e, Some(&file), "t").await, Err(StoreError::Invalid(_))));
    assert_eq!(store.get_evidence(&a, e.id).await.unwrap(), None, "nothing written");
}

async fn institution_settings_are_per_tenant_and_audited(db: TestDb) {
    let store = db.open().await;
    let a = clinic(&*store, "A").await;
    let b = clinic(&*store, "B").await;
    assert_eq!(store.get_institution_setting(&a, "import-mapping:assets").await.unwrap(), None);
    store.set_institution_setting(&a, "import-mapping:assets", r#"{"機種":"model"}"#, "u1").await.unwrap();
    store.set_institution_setting(&a, "import-mapping:assets", r#"{"機種":null}"#, "u1").await.unwrap();
    assert_eq!(
        store.get_institution_setting(&a, "import-mapping:assets").await.unwrap().as_deref(),
        Some(r#"{"機種":null}"#)
    );
    assert_eq!(store.get_institution_setting(&b, "import-mapping:assets").await.unwrap(), None);
    let last = store.latest_audit_events(a.chain(), 1).await.unwrap().remove(0);
    assert_eq!((last.action.as_str(), last.actor.as_str()), ("setting.set", "u1"));
    assert_eq!(json(&last.details)["key"], "import-mapping:assets");
}

async fn search_matches_text_and_lists_and_counts(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "A").await;
    let other = clinic(&*store, "B").await;
    let mut rows = Vec::new();
    for (name, notes) in [("富士保守", Some("100%対応")), ("みどりネット", None), ("Fuji Net", Some("a_b"))]
    {
        let mut v = vendor(name);
        v.notes = notes.map(Into::into);
        rows.push(v.to_row());
    }
    store.put_rows(&s, &rows, "t", &|_| {}).await.unwrap();
    store
        .put_rows(
            &other,
            &[Site { id: RecordId::new(), name: "富士".into(), address: None, notes: None }.to_row()],
            "t",
            &|_| {},
        )
        .await
        .unwrap();
    let q = |t: &str| RecordQuery { search: Some(t.into()), order_by: Some("name".into()), ..Default::default() };
    let names = |rows: Vec<mamori_domain::record::Row>| -> Vec<String> {
        rows.iter().map(|r| r.req_text("name").unwrap()).collect()
    };
    assert_eq!(names(store.list_rows(&s, RecordKind::Vendors, &q("富士")).await.unwrap()), ["富士保守"]);
    assert_eq!(
        names(store.list_rows(&s, RecordKind::Vendors, &q("fuji")).await.unwrap()),
        ["Fuji Net"],
        "ASCII case-insensitive"
    );
    assert_eq!(names(store.list_rows(&s, RecordKind::Vendors, &q("%")).await.unwrap()), ["富士保守"], "% is literal");
    assert_eq!(names(store.list_rows(&s, RecordKind::Vendors, &q("_")).await.unwrap()), ["Fuji Net"], "_ is literal");
    assert_eq!(store.count_matching(&s, RecordKind::Vendors, &q("ネット")).await.unwrap(), 1);
    assert_eq!(store.count_matching(&s, RecordKind::Vendors, &q("  ")).await.unwrap(), 3, "blank search is no search");
    assert_eq!(store.count_matching(&s, RecordKind::Sites, &q("富士")).await.unwrap(), 0, "tenant bound");

    let seg = mamori_domain::ledger::NetworkSegment {
        id: RecordId::new(),
        name: "医療機器LAN".into(),
        site_id: None,
        cidrs: vec!["192.168.10.0/24".into()],
        purpose: None,
        vlan: None,
        notes: None,
    };
    store.put(&s, &seg, "t").await.unwrap();
    let found = store.list_rows(&s, RecordKind::Segments, &q("168.10")).await.unwrap();
    assert_eq!(found.len(), 1, "list fields are searched too");
}

async fn history_lists_one_records_changes_newest_first(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "A").await;
    let mut v = vendor("保守A");
    store.put(&s, &v, "alice").await.unwrap();
    v.phone = Some("03-0000-0001".into());
    store.put(&s, &v, "bob").await.unwrap();
    let w = vendor("別");
    store.put(&s, &w, "carol").await.unwrap();
    let h = store.object_history(&s, "vendors", &v.id.to_string(), 10).await.unwrap();
    let seen: Vec<(&str, &str)> = h.iter().map(|e| (e.action.as_str(), e.actor.as_str())).collect();
    assert_eq!(seen, [("record.update", "bob"), ("record.create", "alice")]);
    assert_eq!(json(&h[0].details)["changed"]["phone"], serde_json::json!([null, "03-0000-0001"]));
    let other = clinic(&*store, "B").await;
    assert!(store.object_history(&other, "vendors", &v.id.to_string(), 10).await.unwrap().is_empty());
}

async fn evidence_is_listed_by_kind_and_ledgers_know_when_they_changed(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "A").await;
    let other = clinic(&*store, "B").await;
    assert_eq!(store.ledger_updated_at(&s, RecordKind::Vendors).await.unwrap(), None);
    let before = mamori_domain::time_fmt::now();
    store.put(&s, &vendor("V"), "t").await.unwrap();
    let at = store.ledger_updated_at(&s, RecordKind::Vendors).await.unwrap().unwrap();
    assert!(at >= before - time::Duration::seconds(1), "{at} {before}");
    assert_eq!(store.ledger_updated_at(&other, RecordKind::Vendors).await.unwrap(), None);
    for (i, kind) in ["document", "scan", "document"].iter().enumerate() {
        let mut e = Evidence::new(kind, &format!("e{i}"), serde_json::json!({"n": i}));
        e.observed_at = before + time::Duration::seconds(i as i64);
        store.put_evidence(&s, &e, None, "t").await.unwrap();
    }
    let docs = store.list_evidence(&s, "document", 10).await.unwrap();
    assert_eq!(docs.iter().map(|e| e.summary.as_str()).collect::<Vec<_>>(), ["e2", "e0"], "newest first");
    assert!(store.list_evidence(&other, "document", 10).await.unwrap().is_empty());
}

async fn a_problem_seen_again_adds_evidence_to_its_open_finding(db: TestDb) {
    use mamori_domain::finding::{Finding, FindingStatus, Severity};
    let store = db.open().await;
    let s = clinic(&*store, "A").await;
    let scan = |n: i64| {
        let mut e = Evidence::new("scan", &format!("scan {n}"), serde_json::json!({}));
        e.observed_at = mamori_domain::time_fmt::now() + time::Duration::seconds(n);
        e
    };
    let key = "scan.plaintext-telnet/192.168.1.5/23";
    let (e1, e2, e3) = (scan(1), scan(2), scan(3));
    for e in [&e1, &e2, &e3] {
        store.put_evidence(&s, e, None, "scan").await.unwrap();
    }
    let f1 = Finding::new("scan.plaintext-telnet", Severity::High, "Telnet", vec![e1.id]);
    let (id, new) = store.observe_finding(&s, &f1, key, "scan").await.unwrap();
    assert!(new);
    let mut f2 = Finding::new("scan.plaintext-telnet", Severity::High, "Telnet", vec![e2.id]);
    f2.last_seen = e2.observed_at;
    let (again, new) = store.observe_finding(&s, &f2, key, "scan").await.unwrap();
    assert_eq!((again, new), (id, false), "the same open finding");
    let got = store.get_finding(&s, id).await.unwrap().unwrap();
    assert_eq!(got.evidence.len(), 2);
    assert_eq!(got.last_seen, mamori_domain::time_fmt::canonical(e2.observed_at));
    let f_other = Finding::new("scan.plaintext-telnet", Severity::High, "Telnet", vec![e1.id]);
    let other = store.observe_finding(&s, &f_other, "scan.plaintext-telnet/192.168.1.6/23", "scan").await.unwrap();
    assert!(other.1, "another host is another finding");
    // Once resolved, a new observation is a new finding.
    store.set_finding_status(&s, id, FindingStatus::Resolved, "alice", None).await.unwrap();
    let f3 = Finding::new("scan.plaintext-telnet", Severity::High, "Telnet", vec![e3.id]);
    let (third, new) = store.observe_finding(&s, &f3, key, "scan").await.unwrap();
    assert!(new && third != id);
    let events = store.latest_audit_events(s.chain(), 20).await.unwrap();
    assert!(events.iter().any(|e| e.action == "finding.seen"));
}
