//! Checklist answers per institution, fiscal year, form and vendor, their audited history;
//! imported editions; 事業者確認用 assignments.

use crate::conformance;
use crate::harness::{TestDb, clinic};
use mamori_domain::ledger::Vendor;
use mamori_domain::{RecordId, time_fmt};
use mamori_store::{ChecklistAssignment, ChecklistKey, StoreError, StoreExt, StoredEdition};
use serde_json::json;

conformance!(answers_are_kept_per_form_and_audited_when_changed, editions_and_assignments,);

fn key(form: &str, vendor: Option<RecordId>) -> ChecklistKey {
    ChecklistKey { fiscal_year: 2025, form: form.into(), vendor }
}

async fn answers_are_kept_per_form_and_audited_when_changed(db: TestDb) {
    let store = db.open().await;
    let a = clinic(&*store, "A").await;
    let b = clinic(&*store, "B").await;
    let yes = json!({"item_id": "1-①", "value": "yes", "confirmed_on": "2025-06-01"});
    let no = json!({"item_id": "2-④", "value": "no", "target_date": "2026-03-01"});
    let n = store
        .put_checklist_answers(
            &a,
            &key("clinic", None),
            &[("1-①".into(), None, yes.clone()), ("2-④".into(), Some("server".into()), no.clone())],
            "u1",
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        store
            .put_checklist_answers(&a, &key("clinic", None), &[("1-①".into(), None, yes.clone())], "u1")
            .await
            .unwrap(),
        0,
        "unchanged is not written again"
    );
    let got = store.checklist_answers(&a, &key("clinic", None)).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].item_id.as_str(), got[0].device_class.as_deref(), &got[0].answer), ("1-①", None, &yes));
    assert_eq!(got[1].device_class.as_deref(), Some("server"));
    assert_eq!(got[1].updated_by, "u1");
    assert!(store.checklist_answers(&b, &key("clinic", None)).await.unwrap().is_empty(), "tenant bound");
    assert!(store.checklist_answers(&a, &key("pharmacy", None)).await.unwrap().is_empty());
    assert!(
        store
            .checklist_answers(&a, &ChecklistKey { fiscal_year: 2024, ..key("clinic", None) })
            .await
            .unwrap()
            .is_empty()
    );

    let changed = json!({"item_id": "1-①", "value": "no", "target_date": "2026-01-31"});
    store
        .put_checklist_answers(&a, &key("clinic", None), &[("1-①".into(), None, changed.clone())], "u2")
        .await
        .unwrap();
    let history = store.object_history(&a, "checklist", "2025/clinic/1-①", 10).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!((history[0].action.as_str(), history[0].actor.as_str()), ("checklist.answer", "u2"));
    let details: serde_json::Value = serde_json::from_str(&history[0].details).unwrap();
    assert_eq!(details["answer"], changed);
    let class = store.object_history(&a, "checklist", "2025/clinic/2-④#server", 10).await.unwrap();
    assert_eq!(class.len(), 1);

    // A vendor's form is separate from the institution's own.
    let vendor = RecordId::new();
    store
        .put_checklist_answers(&a, &key("vendor", Some(vendor)), &[("1-①".into(), None, yes.clone())], "v")
        .await
        .unwrap();
    assert_eq!(store.checklist_answers(&a, &key("vendor", Some(vendor))).await.unwrap().len(), 1);
    assert_eq!(store.checklist_answers(&a, &key("vendor", None)).await.unwrap().len(), 0);
}

async fn editions_and_assignments(db: TestDb) {
    let store = db.open().await;
    let a = clinic(&*store, "A").await;
    let e = StoredEdition {
        id: "fy2026-mhlw".into(),
        fiscal_year: 2026,
        definition: json!({"id": "fy2026-mhlw", "forms": []}).to_string(),
        source: "checklist.xlsx".into(),
        source_hash: "ab".repeat(32),
        imported_by: "user:x".into(),
        created_at: time_fmt::now(),
    };
    store.put_checklist_edition(&e).await.unwrap();
    assert!(matches!(store.put_checklist_edition(&e).await, Err(StoreError::Conflict { .. })));
    let list = store.checklist_editions().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&list[0].definition).unwrap()["id"], "fy2026-mhlw");
    let last = store.latest_audit_events(mamori_domain::audit::Chain::System, 1).await.unwrap().remove(0);
    assert_eq!(last.action, "checklist.edition_import");

    let v = Vendor {
        id: RecordId::new(),
        name: "保守A".into(),
        service: None,
        contact_name: None,
        phone: None,
        email: None,
        emergency_contact: None,
        address: None,
        notes: None,
    };
    store.put(&a, &v, "t").await.unwrap();
    let asg = ChecklistAssignment { fiscal_year: 2025, form: "vendor".into(), vendor: v.id, user: None };
    store.set_checklist_assignment(&a, &asg, true, "t").await.unwrap();
    store.set_checklist_assignment(&a, &asg, true, "t").await.unwrap();
    assert_eq!(store.checklist_assignments(&a).await.unwrap(), vec![asg.clone()]);
    let unknown = ChecklistAssignment { vendor: RecordId::new(), ..asg.clone() };
    assert!(store.set_checklist_assignment(&a, &unknown, true, "t").await.is_err(), "only vendors of the ledger");
    store.set_checklist_assignment(&a, &asg, false, "t").await.unwrap();
    assert!(store.checklist_assignments(&a).await.unwrap().is_empty());
    let b = clinic(&*store, "B").await;
    assert!(store.set_checklist_assignment(&b, &asg, true, "t").await.is_err(), "another tenant's vendor");
}
