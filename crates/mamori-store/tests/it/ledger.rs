//! Ledger records: round trips of every kind and type, tenant isolation, batches that are
//! all-or-nothing, listing, references and deletion.

use crate::conformance;
use crate::harness::{TestDb, clinic};
use mamori_domain::ledger::*;
use mamori_domain::record::{Record, RecordKind, Row, Value};
use mamori_domain::{RecordId, time_fmt};
use mamori_store::{RecordQuery, StoreError, StoreExt};
use time::macros::date;

conformance!(
    every_kind_round_trips_every_type,
    tenants_never_see_each_other,
    batch_is_all_or_nothing,
    updates_audit_only_changed_fields,
    listing_filters_sorts_and_pages,
    deleting_a_referenced_record_is_refused,
    institutions_are_listed_and_scoped,
);

fn vendor(name: &str) -> Vendor {
    Vendor {
        id: RecordId::new(),
        name: name.into(),
        service: Some("電子カルテ保守".into()),
        contact_name: Some("佐藤".into()),
        phone: Some("03-0000-0000".into()),
        email: None,
        emergency_contact: Some("090-0000-0000（24時間）".into()),
        address: None,
        notes: None,
    }
}

fn full_asset(vendor: RecordId, segment: RecordId, site: RecordId) -> Asset {
    Asset {
        id: RecordId::new(),
        kind: AssetKind::MedicalDevice,
        name: "超音波診断装置".into(),
        hostname: Some("us-01".into()),
        site_id: Some(site),
        segment_id: Some(segment),
        maker: Some("メーカーA".into()),
        model: Some("X-100".into()),
        serial: Some("SN-0001".into()),
        location: Some("2階 検査室".into()),
        department: Some("検査科".into()),
        ip_addresses: vec!["192.168.10.21".into(), "fd00::21".into()],
        mac_addresses: vec!["00:11:22:33:44:55".into()],
        os_name: Some("Windows 10 IoT".into()),
        os_version: Some("1809".into()),
        firmware_version: Some("2.3.1".into()),
        criticality: Some(Criticality::High),
        fragile: Some(true),
        owner: Some("臨床工学技士 鈴木".into()),
        maintenance_vendor_id: Some(vendor),
        maintenance_until: Some(date!(2027 - 03 - 31)),
        notes: Some("備考: 'quote' \"double\" ; DROP TABLE assets;".into()),
    }
}

async fn every_kind_round_trips_every_type(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "守りクリニック").await;
    let site =
        Site { id: RecordId::new(), name: "本院".into(), address: Some("東京都千代田区".into()), notes: None };
    let v = vendor("保守株式会社");
    let seg = NetworkSegment {
        id: RecordId::new(),
        name: "医療機器LAN".into(),
        site_id: Some(site.id),
        cidrs: vec!["192.168.10.0/24".into(), "fd00::/64".into()],
        purpose: Some("医療機器".into()),
        vlan: Some(10),
        notes: None,
    };
    let asset = full_asset(v.id, seg.id, site.id);
    let evidence =
        mamori_domain::evidence::Evidence::new("document", "MDS 受領", serde_json::json!({"file": "mds.pdf"}));
    store.put_evidence(&s, &evidence, None, "test").await.unwrap();
    let person = Person {
        id: RecordId::new(),
        name: "山田 花子".into(),
        name_kana: Some("ヤマダ ハナコ".into()),
        staff_number: Some("0001".into()),
        department: Some("医事課".into()),
        job_title: Some("事務長".into()),
        email: Some("hanako@example.jp".into()),
        joined_on: Some(date!(2019 - 04 - 01)),
        retired_on: Some(date!(2026 - 03 - 31)),
        notes: None,
    };
    let login = time_fmt::canonical(time::macros::datetime!(2026-11-01 08:30:15.123456789 +09:00));
    let records: Vec<Row> = vec![
        site.to_row(),
        v.to_row(),
        seg.to_row(),
        person.to_row(),
        asset.to_row(),
        Software {
            id: RecordId::new(),
            asset_id: asset.id,
            name: "画像ビューア".into(),
            publisher: Some("ベンダーB".into()),
            version: Some("5.2".into()),
            cpe: Some("cpe:2.3:a:vendor:viewer:5.2:*:*:*:*:*:*:*".into()),
            end_of_life: Some(date!(2025 - 10 - 14)),
            notes: None,
        }
        .to_row(),
        Account {
            id: RecordId::new(),
            system: "電子カルテ".into(),
            username: "yamada".into(),
            asset_id: Some(asset.id),
            holder: AccountHolder::Person,
            person_id: Some(person.id),
            vendor_id: None,
            role: Some("管理者".into()),
            privileged: Some(true),
            mfa: Some(false),
            last_login_at: Some(login),
            status: AccountStatus::Enabled,
            notes: None,
        }
        .to_row(),
        Contract {
            id: RecordId::new(),
            vendor_id: v.id,
            title: "電子カルテ保守契約".into(),
            scope: Some("サーバ・端末".into()),
            starts_on: Some(date!(2024 - 04 - 01)),
            ends_on: Some(date!(2029 - 03 - 31)),
            responsibility: Some("OS更新は事業者".into()),
            notes: None,
        }
        .to_row(),
        RemoteMaintenance {
            id: RecordId::new(),
            vendor_id: v.id,
            asset_id: Some(asset.id),
            method: RemoteMethod::Vpn,
            authentication: Some("証明書 + パスワード".into()),
            source_restriction: Some("203.0.113.0/24 のみ".into()),
            approval_rule: Some("都度承認".into()),
            confirmed_on: Some(date!(2026 - 04 - 10)),
            last_used_at: Some(login),
            notes: None,
        }
        .to_row(),
        MdsSds {
            id: RecordId::new(),
            system: "電子カルテ".into(),
            vendor_id: Some(v.id),
            document: SecurityDisclosure::Mds,
            version: Some("第2版".into()),
            received_on: Some(date!(2026 - 05 - 01)),
            evidence_id: Some(RecordId(evidence.id.0)),
            notes: None,
        }
        .to_row(),
    ];
    let kinds: std::collections::BTreeSet<_> = records.iter().map(|r| r.kind).collect();
    assert_eq!(kinds.len(), RecordKind::ALL.len(), "the test covers every ledger");
    let summary = store.put_rows(&s, &records, "test", &|_| {}).await.unwrap();
    assert_eq!(summary.created, records.len() as u64);
    for row in &records {
        let back = store.get_row(&s, row.kind, row.id).await.unwrap().expect("stored");
        assert_eq!(&back, row, "{} round trip", row.kind);
        assert_eq!(store.count_rows(&s, row.kind).await.unwrap(), 1);
    }
    let typed: Asset = store.get(&s, asset.id).await.unwrap().unwrap();
    assert_eq!(typed, asset);
}

async fn tenants_never_see_each_other(db: TestDb) {
    let store = db.open().await;
    let a = clinic(&*store, "Aクリニック").await;
    let b = clinic(&*store, "B病院").await;
    let va = vendor("A社");
    store.put(&a, &va, "test").await.unwrap();
    assert!(store.get_row(&b, RecordKind::Vendors, va.id).await.unwrap().is_none());
    assert!(store.list_rows(&b, RecordKind::Vendors, &RecordQuery::default()).await.unwrap().is_empty());
    assert_eq!(store.count_rows(&b, RecordKind::Vendors).await.unwrap(), 0);
    assert!(!store.delete_row(&b, RecordKind::Vendors, va.id, "test").await.unwrap());
    // B cannot point at A's vendor.
    let mut asset = Asset::new(AssetKind::Server, "B サーバ");
    asset.maintenance_vendor_id = Some(va.id);
    let err = store.put(&b, &asset, "test").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::InRow { index: 0, source } if matches!(**source, StoreError::MissingReference { .. })),
        "{err:?}"
    );
    // B cannot overwrite A's row by reusing its id.
    let mut stolen = va.clone();
    stolen.name = "乗っ取り".into();
    let err = store.put(&b, &stolen, "test").await.unwrap_err();
    assert_eq!(err.code(), "conflict", "{err:?}");
    let still: Vendor = store.get(&a, va.id).await.unwrap().unwrap();
    assert_eq!(still.name, "A社");
    // And the audit chains are separate.
    let b_events = store.audit_events(b.chain(), 0, 100).await.unwrap();
    assert!(b_events.iter().all(|e| e.object_id.as_deref() != Some(&va.id.to_string())));
}

async fn batch_is_all_or_nothing(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "C").await;
    let heads_before = store.audit_heads().await.unwrap();
    let mut rows: Vec<Row> = (0..50).map(|i| vendor(&format!("事業者{i}")).to_row()).collect();
    // Invalid value: caught before any write.
    let mut bad = Asset::new(AssetKind::Pc, "受付PC").to_row();
    bad.set("ip_addresses", Value::TextList(vec!["999.1.1.1".into()]));
    rows.push(bad);
    let err = store.put_rows(&s, &rows, "test", &|_| {}).await.unwrap_err();
    assert!(matches!(err, StoreError::InRow { index: 50, .. }), "{err:?}");
    // A reference the database rejects in the middle of the batch: earlier rows roll back.
    rows.pop();
    let mut dangling = Asset::new(AssetKind::Pc, "受付PC");
    dangling.maintenance_vendor_id = Some(RecordId::new());
    rows.insert(25, dangling.to_row());
    let err = store.put_rows(&s, &rows, "test", &|_| {}).await.unwrap_err();
    assert!(matches!(err, StoreError::InRow { index: 25, .. }), "{err:?}");
    assert_eq!(store.count_rows(&s, RecordKind::Vendors).await.unwrap(), 0);
    assert_eq!(store.count_rows(&s, RecordKind::Assets).await.unwrap(), 0);
    assert_eq!(store.audit_heads().await.unwrap(), heads_before, "no audit entry survives a failed batch");
    // Progress is reported row by row.
    rows.remove(25);
    let seen = std::sync::atomic::AtomicU64::new(0);
    let summary = store
        .put_rows(&s, &rows, "test", &|n| {
            seen.fetch_max(n, std::sync::atomic::Ordering::Relaxed);
        })
        .await
        .unwrap();
    assert_eq!(summary.created, 50);
    assert_eq!(seen.into_inner(), 50);
    assert_eq!(store.count_rows(&s, RecordKind::Vendors).await.unwrap(), 50);
}

async fn updates_audit_only_changed_fields(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "D").await;
    let mut v = vendor("保守株式会社");
    store.put(&s, &v, "alice").await.unwrap();
    let again = store.put(&s, &v, "alice").await.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 1));
    v.phone = Some("03-1111-1111".into());
    v.service = None;
    let upd = store.put(&s, &v, "bob").await.unwrap();
    assert_eq!(upd.updated, 1);
    let events = store.audit_events(s.chain(), 0, 100).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.action, "record.update");
    assert_eq!(last.actor, "bob");
    assert_eq!(last.object_kind.as_deref(), Some("vendors"));
    let details: serde_json::Value = serde_json::from_str(&last.details).unwrap();
    assert_eq!(details["changed"]["phone"], serde_json::json!(["03-0000-0000", "03-1111-1111"]));
    assert_eq!(details["changed"]["service"], serde_json::json!(["電子カルテ保守", null]));
    assert_eq!(details["changed"].as_object().unwrap().len(), 2);
    let creates = events.iter().filter(|e| e.action == "record.create").count();
    assert_eq!(creates, 1, "the unchanged put wrote no audit entry");
}

async fn listing_filters_sorts_and_pages(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "E").await;
    let mut rows = Vec::new();
    for (i, kind) in [AssetKind::Pc, AssetKind::Server, AssetKind::Pc, AssetKind::NetworkDevice, AssetKind::Pc]
        .into_iter()
        .enumerate()
    {
        let mut a = Asset::new(kind, &format!("機器{i}"));
        a.fragile = Some(i % 2 == 0);
        rows.push(a.to_row());
    }
    store.put_rows(&s, &rows, "test", &|_| {}).await.unwrap();
    let pcs = RecordQuery {
        filters: vec![("kind".into(), Value::Text("pc".into()))],
        order_by: Some("name".into()),
        descending: true,
        ..Default::default()
    };
    let names: Vec<String> = store.list::<Asset>(&s, &pcs).await.unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["機器4", "機器2", "機器0"]);
    let page = RecordQuery { order_by: Some("name".into()), limit: Some(2), offset: 2, ..Default::default() };
    let names: Vec<String> = store.list::<Asset>(&s, &page).await.unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["機器2", "機器3"]);
    let fragile = RecordQuery { filters: vec![("fragile".into(), Value::Bool(true))], ..Default::default() };
    assert_eq!(store.list_rows(&s, RecordKind::Assets, &fragile).await.unwrap().len(), 3);
    let no_host = RecordQuery { filters: vec![("hostname".into(), Value::Null)], ..Default::default() };
    assert_eq!(store.list_rows(&s, RecordKind::Assets, &no_host).await.unwrap().len(), 5);
    let bad = RecordQuery { order_by: Some("password".into()), ..Default::default() };
    assert_eq!(store.list_rows(&s, RecordKind::Assets, &bad).await.unwrap_err().code(), "invalid-request");
}

async fn deleting_a_referenced_record_is_refused(db: TestDb) {
    let store = db.open().await;
    let s = clinic(&*store, "F").await;
    let v = vendor("保守株式会社");
    let mut a = Asset::new(AssetKind::Server, "サーバ");
    a.maintenance_vendor_id = Some(v.id);
    store.put_rows(&s, &[v.to_row(), a.to_row()], "test", &|_| {}).await.unwrap();
    let err = store.delete_row(&s, RecordKind::Vendors, v.id, "test").await.unwrap_err();
    assert_eq!(err.code(), "referenced", "{err:?}");
    assert!(store.get_row(&s, RecordKind::Vendors, v.id).await.unwrap().is_some());
    assert!(store.delete_row(&s, RecordKind::Assets, a.id, "carol").await.unwrap());
    assert!(store.delete_row(&s, RecordKind::Vendors, v.id, "carol").await.unwrap());
    assert!(!store.delete_row(&s, RecordKind::Vendors, v.id, "carol").await.unwrap());
    let events = store.audit_events(s.chain(), 0, 100).await.unwrap();
    let del = events.iter().rfind(|e| e.action == "record.delete").unwrap();
    assert_eq!(del.actor, "carol");
    assert!(del.details.contains("保守株式会社"), "the deleted record's content stays in the log");
}

async fn institutions_are_listed_and_scoped(db: TestDb) {
    let store = db.open().await;
    let mut i =
        mamori_domain::institution::Institution::new("守り病院", mamori_domain::institution::InstitutionKind::Hospital)
            .unwrap()
            .with_medical_code("1312345678")
            .unwrap();
    i.demo = true;
    let s = store.create_institution(&i, "test").await.unwrap();
    assert_eq!(store.institution(&s).await.unwrap(), i);
    assert_eq!(store.list_institutions().await.unwrap(), vec![i.clone()]);
    let missing = mamori_domain::InstitutionId::new();
    assert_eq!(store.scope(missing).await.unwrap_err().code(), "not-found");
    assert_eq!(store.scope(i.id).await.unwrap(), s);
    assert_eq!(store.create_institution(&i, "test").await.unwrap_err().code(), "conflict");
}
