//! The MHLW checklist in the browser for the demo clinic: proposals with evidence, the guided
//! answer form with its rules (目標日, overrides need a reason, per device class), documents and
//! the 責任者 changing proposals, and the official form as XLSX and PDF.

use crate::kit::{Backend, Kit};
use mamori_domain::auth::Role;
use mamori_ledger::demo::DemoInstitution;
use mamori_store::{ChecklistKey, StoreExt};

fn demo_clinic(kit: &Kit) -> mamori_store::Scope {
    let (inst, _) =
        kit.rt.block_on(mamori_web::ledger_io::load_demo(&*kit.store, DemoInstitution::Clinic, "test")).unwrap();
    kit.rt.block_on(kit.store.scope(inst.id)).unwrap()
}

#[test]
fn the_demo_clinic_answers_its_checklist() {
    let kit = Kit::start(Backend::Sqlite);
    let a = demo_clinic(&kit);
    let u = kit.user("jimucho", false, &[(a, Role::Operator)]);
    let mut c = kit.login(&u);
    let inst = a.institution();

    let r = c.get(&format!("/i/{inst}/checklist"));
    assert_eq!((r.status, r.location()), (303, format!("/i/{inst}/checklist/2025/clinic").as_str()));
    let base = format!("/i/{inst}/checklist/2025/clinic");
    let r = c.get(&base);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("令和7年度版") && r.body.contains("医療機関確認用"), "{}", r.body);
    assert!(r.body.contains("文言未確認"), "unconfirmed wording is marked");
    assert!(r.body.contains(&format!("href=\"/i/{inst}/ledgers/")), "evidence links to the ledgers");
    assert!(r.body.contains("【デモ】"), "the demo banner");

    // Last year's answer (FY2024's 2-(1), the same topic as FY2025's 2-①) is offered.
    let r = c.post(
        &format!("/i/{inst}/checklist/2024/clinic/answer"),
        &[("item", "2-(1)"), ("value_", "yes"), ("confirmed_on", "2024-06-01")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let r = c.get(&format!("{base}/guide?item=2-%E2%91%A0"));
    assert!(r.body.contains("前年度の回答: はい"), "{}", r.body);

    // The guide starts at the first unanswered item.
    let r = c.get(&format!("{base}/guide"));
    assert!(r.body.contains("19 項目中 1 項目目"), "{}", r.body);
    let r = c.get(&format!("{base}/guide?item=2-%E2%91%A0"));
    assert!(r.body.contains("サーバ、端末PC、ネットワーク機器の台帳管理"), "{}", r.body);
    assert!(r.body.contains("確認すること") && r.body.contains("mamori の判定"), "{}", r.body);

    let today = mamori_web::checklist_io::today().to_string();
    let r = c.post(&format!("{base}/answer"), &[("item", "2-①"), ("value_", "yes"), ("confirmed_on", &today)]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().contains("guide?item=2-"), "on to the next item: {}", r.location());

    // いいえ needs a 目標日 within 令和7年度; nothing is saved otherwise.
    let r = c.post(&format!("{base}/answer"), &[("item", "3-③"), ("value_", "no")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("目標日を入力してください"), "{}", r.body);
    let r = c.post(&format!("{base}/answer"), &[("item", "3-③"), ("value_", "no"), ("target_date", "2026-06-30")]);
    assert!(r.body.contains("2025-04-01〜2026-03-31"), "{}", r.body);
    // An answer against mamori's proposal (no 責任者 is designated) needs a reason.
    let r = c.post(&format!("{base}/answer"), &[("item", "1-①"), ("value_", "yes")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("理由を入力してください"), "{}", r.body);
    let r = c.post(
        &format!("{base}/answer"),
        &[("item", "1-①"), ("value_", "yes"), ("reason", "院長を任命済み（辞令は紙で保管）"), ("go", "form")],
    );
    assert_eq!((r.status, r.location()), (303, base.as_str()));
    // Per device class: one answer each.
    let r = c.post(
        &format!("{base}/answer"),
        &[
            ("item", "2-⑤"),
            ("value_server", "no"),
            ("value_terminal_pc", "yes"),
            ("confirmed_on", "令和7年11月1日"),
            ("target_date", "2026-01-31"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let key = ChecklistKey { fiscal_year: 2025, form: "clinic".into(), vendor: None };
    let stored = kit.rt.block_on(mamori_web::checklist_io::answers(&*kit.store, &a, &key)).unwrap();
    let got: Vec<(String, Option<String>, String)> =
        stored.iter().map(|x| (x.item_id.clone(), x.device_class.clone(), x.value.as_str().to_owned())).collect();
    assert!(got.contains(&("2-⑤".into(), Some("server".into()), "no".into())), "{got:?}");
    assert!(got.contains(&("2-⑤".into(), Some("terminal_pc".into()), "yes".into())), "{got:?}");
    assert!(!got.iter().any(|g| g.0 == "3-③"), "refused answers are not saved");
    let one = stored.iter().find(|x| x.item_id == "1-①").unwrap();
    assert_eq!(one.overridden.as_ref().unwrap().reason, "院長を任命済み（辞令は紙で保管）");
    let history = kit.rt.block_on(kit.store.object_history(&a, "checklist", "2025/clinic/1-①", 5)).unwrap();
    assert_eq!(history.len(), 1);
    let r = c.get(&base);
    assert!(r.body.contains("手動で回答"), "the override is visible");
    let r = c.get(&format!("{base}/guide?item=1-%E2%91%A0"));
    assert!(r.body.contains("guide-history") && r.body.contains("院長を任命済み"), "the item's history: {}", r.body);

    // Registering the BCP and the 責任者 changes mamori's proposals.
    let bcp = b"%PDF-1.4\n% BCP\n%%EOF\n";
    let r = c.post_multipart(
        &format!("/i/{inst}/documents"),
        &[("kind", "bcp"), ("title", "サイバー攻撃を想定したBCP"), ("reviewed_on", &today)],
        Some(("BCP.pdf", bcp)),
    );
    assert_eq!(r.header("hx-redirect"), Some(format!("/i/{inst}/documents").as_str()), "{}", r.body);
    let r = c.get(&format!("/i/{inst}/documents"));
    assert!(r.body.contains("サイバー攻撃を想定したBCP") && r.body.contains("BCP.pdf"), "{}", r.body);
    // The BCP is cited as the basis of 3-③'s answer.
    let doc_id = {
        let i = r.body.find("/evidence/").unwrap() + "/evidence/".len();
        r.body[i..i + 36].to_owned()
    };
    let r = c.get(&format!("{base}/guide?item=3-%E2%91%A2"));
    assert!(r.body.contains(&format!("name=\"doc_{doc_id}\"")), "{}", r.body);
    let r = c.post(
        &format!("{base}/answer"),
        &[("item", "3-③"), ("value_", "yes"), ("confirmed_on", "2025-11-01"), (&format!("doc_{doc_id}"), "on")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let stored = kit.rt.block_on(mamori_web::checklist_io::answers(&*kit.store, &a, &key)).unwrap();
    let bcp_answer = stored.iter().find(|x| x.item_id == "3-③").unwrap();
    assert!(bcp_answer.evidence.iter().any(|e| e.id == doc_id), "{:?}", bcp_answer.evidence);
    let r = c.post_multipart(&format!("/i/{inst}/documents"), &[("kind", "bcp")], Some(("x.exe", b"MZ\x90\0")));
    assert!(r.header("hx-redirect").unwrap().contains("error=upload-type-not-allowed"));
    let staff = kit
        .rt
        .block_on(kit.store.list_rows(&a, mamori_domain::record::RecordKind::Staff, &Default::default()))
        .unwrap();
    let director = staff.iter().find(|s| s.text("job_title").unwrap().unwrap_or_default().contains("院長")).unwrap();
    let r = c.post(
        &format!("/i/{inst}/documents/responsible"),
        &[("person", &director.id.to_string()), ("designated_on", "2025-04-01")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let evaluation = kit
        .rt
        .block_on(mamori_web::checklist_io::evaluate(
            &*kit.store,
            &a,
            mamori_checklist::builtin_edition(2025).unwrap(),
            "clinic",
            mamori_web::checklist_io::today(),
        ))
        .unwrap();
    assert_eq!(evaluation.get("1-①", None).unwrap().value, mamori_checklist::ProposedValue::Yes);
    assert_eq!(evaluation.get("3-③", None).unwrap().value, mamori_checklist::ProposedValue::Yes);

    // The official form as XLSX and PDF; both exports are audited.
    let x = c.get(&format!("{base}/export?format=xlsx"));
    assert_eq!(x.status, 200);
    assert!(x.header("content-type").unwrap().contains("spreadsheetml"));
    let p = c.get(&format!("{base}/export?format=pdf"));
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.header("content-type"), Some("application/pdf"));
    let events = kit.rt.block_on(kit.store.latest_audit_events(a.chain(), 30)).unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "checklist.export").count(), 2);

    // An auditor reads the checklist but cannot answer.
    let auditor = kit.user("kansa", false, &[(a, Role::Auditor)]);
    let mut au = kit.login(&auditor);
    let r = au.get(&base);
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("guide-start"), "no answering for an auditor");
    assert_eq!(au.post(&format!("{base}/answer"), &[("item", "2-①"), ("value_", "no")]).status, 403);
    assert_eq!(c.get(&format!("/i/{inst}/checklist/2031/clinic")).status, 404);
    assert_eq!(c.get(&format!("/i/{inst}/checklist/2025/nosuchform")).status, 404);
}

#[test]
fn vendors_answer_their_own_form_and_filled_files_come_back() {
    let kit = Kit::start(Backend::Sqlite);
    let a = demo_clinic(&kit);
    let inst = a.institution();
    let admin = kit.user("incho", false, &[(a, Role::Admin)]);
    let vendor_user = kit.user("ehr-vendor", false, &[(a, Role::Vendor)]);
    let mut c = kit.login(&admin);
    let vendors = kit
        .rt
        .block_on(kit.store.list_rows(&a, mamori_domain::record::RecordKind::Vendors, &Default::default()))
        .unwrap();
    let (v1, v2) = (vendors[0].id.to_string(), vendors[1].id.to_string());

    let r = c.get(&format!("/i/{inst}/checklist/2025/clinic"));
    assert!(r.body.contains("事業者確認用（事業者への依頼）"), "{}", r.body);
    let r = c.post(
        &format!("/i/{inst}/checklist/2025/vendors"),
        &[("vendor", &v1), ("user", &vendor_user.user.id.to_string())],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    // Only a 事業者 member can be named.
    let r =
        c.post(&format!("/i/{inst}/checklist/2025/vendors"), &[("vendor", &v2), ("user", &admin.user.id.to_string())]);
    assert_eq!(r.status, 404);

    let mut v = kit.login(&vendor_user);
    let r = v.get(&format!("/i/{inst}/vendor-forms"));
    assert!(r.body.contains(&format!("/vendor-forms/2025/{v1}")), "{}", r.body);
    assert_eq!(
        v.get(&format!("/i/{inst}/checklist/2025/clinic")).status,
        403,
        "the institution's own form is not theirs"
    );
    assert_eq!(v.get(&format!("/i/{inst}/vendor-forms/2025/{v2}")).status, 403, "a form not assigned to them");
    assert_eq!(
        v.post(&format!("/i/{inst}/vendor-forms/2025/{v2}/answer"), &[("item", "1-①"), ("value_", "yes")]).status,
        403
    );
    let form = format!("/i/{inst}/vendor-forms/2025/{v1}");
    let r = v.get(&form);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("事業者確認用"), "{}", r.body);
    assert!(!r.body.contains("/documents") && !r.body.contains("文書と責任者の登録"), "no internal data: {}", r.body);
    assert_eq!(v.get(&format!("/i/{inst}/checklist/2025/vendor")).status, 403, "the vendor form is per vendor");
    assert_eq!(c.get(&format!("/i/{inst}/checklist/2025/vendor")).status, 404, "not as the institution's own form");
    let edition = mamori_checklist::builtin_edition(2025).unwrap();
    let vendor_form = edition.forms.iter().find(|f| f.id == "vendor").expect("a vendor form");
    let first = vendor_form.items().next().unwrap();
    let mut fields: Vec<(String, String)> =
        vec![("item".into(), first.id.clone()), ("confirmed_on".into(), "2025-07-01".into())];
    for class in first.answer_slots() {
        fields.push((format!("value_{}", class.unwrap_or("")), "yes".into()));
    }
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect();
    let r = v.post(&format!("{form}/answer"), &refs);
    assert_eq!(r.status, 303, "{}", r.body);
    let key1 = ChecklistKey { fiscal_year: 2025, form: "vendor".into(), vendor: Some(vendors[0].id) };
    let saved = kit.rt.block_on(mamori_web::checklist_io::answers(&*kit.store, &a, &key1)).unwrap();
    assert_eq!(saved.len(), first.answer_slots().len());

    // The institution sees it, exports the vendor form, and imports a filled file for the
    // other vendor (as if that vendor had filled in the Excel file).
    let r = c.get(&format!("/i/{inst}/checklist/2025/vendor/{v1}"));
    assert!(r.body.contains(&format!("はい {} 件", saved.len())), "{}", r.body);
    let x = c.get(&format!("/i/{inst}/checklist/2025/vendor/{v1}/export"));
    assert_eq!(x.status, 200);
    let bytes = x.body_bytes.clone();
    let r =
        c.post_multipart(&format!("/i/{inst}/checklist/2025/vendor/{v2}/import"), &[], Some(("filled.xlsx", &bytes)));
    assert!(r.body.contains("件の回答を取り込みました"), "{}", r.body);
    let key2 = ChecklistKey { fiscal_year: 2025, form: "vendor".into(), vendor: Some(vendors[1].id) };
    assert_eq!(kit.rt.block_on(mamori_web::checklist_io::answers(&*kit.store, &a, &key2)).unwrap().len(), saved.len());
    // The clinic form is not the vendor form: refused, nothing saved.
    let clinic = c.get(&format!("/i/{inst}/checklist/2025/clinic/export?format=xlsx")).body_bytes;
    let r =
        c.post_multipart(&format!("/i/{inst}/checklist/2025/vendor/{v2}/import"), &[], Some(("wrong.xlsx", &clinic)));
    assert!(r.body.contains("role=\"alert\""), "{}", r.body);
    let r = c.post_multipart(
        &format!("/i/{inst}/checklist/2025/vendor/{v2}/import"),
        &[],
        Some(("broken.xlsx", &bytes[..300])),
    );
    assert!(r.body.contains("読み取れません"), "{}", r.body);
    assert_eq!(kit.rt.block_on(mamori_web::checklist_io::answers(&*kit.store, &a, &key2)).unwrap().len(), saved.len());
}

#[test]
fn the_administrator_imports_an_mhlw_workbook_as_an_edition() {
    let kit = Kit::start(Backend::Sqlite);
    let a = demo_clinic(&kit);
    let admin = kit.user("sysadmin", true, &[]);
    let mut c = kit.login(&admin);
    let workbook = c.get(&format!("/i/{}/checklist/2025/clinic/export?format=xlsx", a.institution())).body_bytes;
    let r = c.get("/admin/editions");
    assert!(r.body.contains("令和7年度版") && r.body.contains("令和6年度版"), "{}", r.body);
    let r = c.post_multipart("/admin/editions", &[], Some(("mhlw.xlsx", &workbook)));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("比較対象: 令和7年度版") && r.body.contains("edition-confirm"), "{}", r.body);
    let data = {
        let i = r.body.find("name=\"data\" value=\"").unwrap() + "name=\"data\" value=\"".len();
        r.body[i..i + r.body[i..].find('"').unwrap()].to_owned()
    };
    assert!(kit.rt.block_on(kit.store.checklist_editions()).unwrap().is_empty(), "nothing before the confirmation");
    let r = c.post("/admin/editions/confirm", &[("file", "mhlw.xlsx"), ("data", &data)]);
    assert_eq!((r.status, r.location()), (303, "/admin/editions"), "{}", r.body);
    let stored = kit.rt.block_on(kit.store.checklist_editions()).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].fiscal_year, 2025);
    let r = c.post("/admin/editions/confirm", &[("file", "mhlw.xlsx"), ("data", &data)]);
    assert!(r.body.contains("すでに登録されています"), "{}", r.body);
    let r = c.post_multipart("/admin/editions", &[], Some(("broken.xlsx", &workbook[..200])));
    assert!(r.body.contains("厚生労働省のチェックリストとして読み取れません"), "{}", r.body);
    // An operator of an institution is not the installation administrator.
    let op = kit.user("inst-admin", false, &[(a, Role::Admin)]);
    assert_eq!(kit.login(&op).get("/admin/editions").status, 403);
}
