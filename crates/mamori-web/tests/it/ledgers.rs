//! Ledgers in the browser: records added, edited and deleted through the forms with their
//! history; a messy CP932 CSV imported through upload → preview → mapping → commit, the
//! mapping saved and reused; bad files refused with nothing written; exports audited;
//! documents attached to MDS/SDS records and refused when dangerous.

use crate::kit::{Backend, Client, Kit};
use mamori_domain::auth::Role;
use mamori_domain::record::RecordKind;
use mamori_store::{RecordQuery, Scope, StoreExt};

fn cp932(s: &str) -> Vec<u8> {
    let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(s);
    assert!(!bad);
    bytes.into_owned()
}

fn operator(kit: &Kit, inst: Scope) -> Client {
    let u = kit.user("tanto", false, &[(inst, Role::Operator)]);
    kit.login(&u)
}

fn count(kit: &Kit, s: &Scope, kind: RecordKind) -> u64 {
    kit.rt.block_on(kit.store.count_rows(s, kind)).unwrap()
}

/// The path an htmx response sends the browser to.
fn hx_target(r: &crate::kit::Resp) -> String {
    r.header("hx-redirect").unwrap_or_else(|| panic!("no HX-Redirect ({}): {}", r.status, r.body)).to_owned()
}

#[test]
fn records_are_added_edited_and_deleted_with_history() {
    let kit = Kit::start(Backend::Sqlite);
    let a = kit.institution("みまもりクリニック");
    let mut c = operator(&kit, a);
    let base = format!("/i/{}/ledgers/assets", a.institution());

    let r = c.get(&base);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("この台帳にはまだ記録がありません"), "{}", r.body);
    let r = c.get(&format!("{base}/new"));
    assert!(r.body.contains("name=\"f_kind\"") && r.body.contains("サーバ"), "{}", r.body);

    // Wrong input: the form comes back with the reason in Japanese, nothing is saved.
    let r =
        c.post(&base, &[("f_kind", "server"), ("f_name", "電子カルテサーバ"), ("f_ip_addresses", "192.168.10.300")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("IP アドレスとして読み取れません"), "{}", r.body);
    assert!(r.body.contains("電子カルテサーバ"), "what was typed is kept");
    assert_eq!(count(&kit, &a, RecordKind::Assets), 0);

    // Full-width digits and a Japanese era date are read like the import reads them.
    let r = c.post(
        &base,
        &[
            ("f_kind", "server"),
            ("f_name", "電子カルテサーバ"),
            ("f_ip_addresses", "１９２．１６８．１０．５\n192.168.10.6"),
            ("f_maintenance_until", "令和9年3月31日"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let detail = r.location().to_owned();
    let r = c.get(&detail);
    assert!(r.body.contains("192.168.10.5") && r.body.contains("2027-03-31"), "{}", r.body);
    assert!(r.body.contains("変更履歴") && r.body.contains("登録"), "{}", r.body);

    let r = c.get(&format!("{detail}/edit"));
    assert!(r.body.contains("value=\"2027-03-31\""), "{}", r.body);
    let r = c.post(
        &detail,
        &[
            ("f_kind", "server"),
            ("f_name", "電子カルテサーバ"),
            ("f_ip_addresses", "192.168.10.5\n192.168.10.6"),
            ("f_maintenance_until", "2027-03-31"),
            ("f_location", "2階 サーバ室"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let r = c.get(&detail);
    assert!(r.body.contains("2階 サーバ室"));
    assert!(r.body.contains("（空欄） → 2階 サーバ室"), "the change is in the history: {}", r.body);

    // Search, then sort.
    c.post(&base, &[("f_kind", "pc"), ("f_name", "受付PC")]);
    let r = c.get(&format!("{base}?q=%E5%8F%97%E4%BB%98"));
    assert!(r.body.contains("受付PC") && !r.body.contains("電子カルテサーバ"), "{}", r.body);
    let r = c.get(&format!("{base}?sort=name&desc=true"));
    let (first, second) = (r.body.find("電子カルテサーバ").unwrap(), r.body.find("受付PC").unwrap());
    assert!(first < second, "電 sorts after 受 by code point, so first when descending");

    // A vendor that an asset refers to cannot be deleted; the page says why.
    let vendors = format!("/i/{}/ledgers/vendors", a.institution());
    let r = c.post(&vendors, &[("f_name", "保守株式会社")]);
    let vendor_page = r.location().to_owned();
    let vendor_id = vendor_page.rsplit('/').next().unwrap().to_owned();
    let r = c.post(
        &detail,
        &[("f_kind", "server"), ("f_name", "電子カルテサーバ"), ("f_maintenance_vendor_id", &vendor_id)],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        c.get(&detail).body.contains(&format!("href=\"{vendors}/{vendor_id}\"")),
        "the reference links to the vendor"
    );
    let r = c.post(&format!("{vendor_page}/delete"), &[]);
    assert!(r.location().ends_with("?error=referenced"), "{}", r.location());
    assert!(c.get(r.location()).body.contains("参照されているため削除できません"));
    let r = c.post(&format!("{detail}/delete"), &[]);
    assert_eq!(r.status, 303);
    assert_eq!(count(&kit, &a, RecordKind::Assets), 1);
    let events = kit.rt.block_on(kit.store.latest_audit_events(a.chain(), 50)).unwrap();
    assert!(events.iter().any(|e| e.action == "record.delete"));
}

const MESSY: &str = "機器台帳（令和8年4月1日現在）\r\n\r\n種別,機器名,IPアドレス,保守期限,端末の愛称\r\nサーバ,電子カルテサーバ,１９２．１６８．１０．５,令和9年3月31日,karte-sv\r\n端末PC,受付PC,192.168.10.21,R8.4.1,uketsuke\r\n";

#[test]
fn a_messy_csv_is_imported_through_preview_and_mapping() {
    let kit = Kit::start(Backend::Sqlite);
    let a = kit.institution("みまもりクリニック");
    let mut c = operator(&kit, a);
    let base = format!("/i/{}/ledgers/assets", a.institution());

    let r = c.get(&format!("{base}/import"));
    assert!(r.body.contains("hx-encoding=\"multipart/form-data\""), "{}", r.body);
    let r = c.post_multipart(&format!("{base}/import"), &[("encoding", "auto")], Some(("機器台帳.csv", &cp932(MESSY))));
    let preview = hx_target(&r);
    let r = c.get(&preview);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("3 行目を見出し行として読み取りました"), "{}", r.body);
    assert!(r.body.contains("新規 2 件"), "{}", r.body);
    assert!(r.body.contains("端末の愛称"), "the unknown column is shown to be mapped");
    assert_eq!(count(&kit, &a, RecordKind::Assets), 0, "a preview writes nothing");

    // Column E (0-based 4) holds host names: map it, and keep the mapping.
    let r = c.post(&format!("{preview}/mapping"), &[("col_4", "hostname"), ("save", "on")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let r = c.get(&preview);
    assert!(r.body.contains("手動で指定"), "{}", r.body);
    let r = c.post(&format!("{preview}/commit"), &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().contains("?imported="), "{}", r.location());
    let r = c.get(r.location());
    assert!(r.body.contains("登録しました（新規 2 件、更新 0 件）"), "{}", r.body);
    assert!(r.body.contains("karte-sv") && r.body.contains("192.168.10.5"), "{}", r.body);
    assert_eq!(count(&kit, &a, RecordKind::Assets), 2);
    let r = c.post(&format!("{preview}/commit"), &[]);
    assert!(r.body.contains("取込み中のファイルが見つかりません"), "one commit per upload: {}", r.body);

    // The same file again: the saved mapping applies, every row is unchanged.
    let r = c.post_multipart(&format!("{base}/import"), &[], Some(("機器台帳.csv", &cp932(MESSY))));
    let again = hx_target(&r);
    let r = c.get(&again);
    assert!(r.body.contains("手動で指定") && r.body.contains("変更なし 2 件"), "{}", r.body);

    let rows = kit.rt.block_on(kit.store.list_rows(&a, RecordKind::Assets, &RecordQuery::default())).unwrap();
    let hosts: Vec<_> = rows.iter().filter_map(|r| r.text("hostname").unwrap()).collect();
    assert_eq!(hosts.len(), 2, "{hosts:?}");
    let events = kit.rt.block_on(kit.store.latest_audit_events(a.chain(), 20)).unwrap();
    let import = events.iter().find(|e| e.action == "ledger.import").expect("the import is audited");
    assert!(import.details.contains("機器台帳.csv") && import.details.contains("blake3"), "{}", import.details);
    assert!(events.iter().any(|e| e.action == "setting.set"), "the saved mapping is audited");
}

#[test]
fn bad_files_are_refused_and_nothing_is_written() {
    let kit = Kit::start(Backend::Sqlite);
    let a = kit.institution("みまもりクリニック");
    let mut c = operator(&kit, a);
    let base = format!("/i/{}/ledgers/assets", a.institution());

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let r = c.post_multipart(&format!("{base}/import"), &[], Some(("台帳.csv", png)));
    assert_eq!(r.status, 200, "htmx swaps only successful answers, so the explanation comes as a 200");
    assert!(r.header("hx-redirect").is_none());
    assert!(r.body.contains("Excel ファイルでも CSV でもありません"), "{}", r.body);
    let r = c.post_multipart(&format!("{base}/import"), &[], None);
    assert!(r.body.contains("ファイルが選ばれていない"), "{}", r.body);

    let bad = "種別,機器名,IPアドレス,保守期限\r\nサーバ,電子カルテサーバ,192.168.10.300,令和8年2月30日\r\nサーバ,PACS,192.168.10.7,\r\n";
    let r = c.post_multipart(&format!("{base}/import"), &[], Some(("bad.csv", &cp932(bad))));
    let preview = hx_target(&r);
    let r = c.get(&preview);
    assert!(r.body.contains("IP アドレスとして読み取れません「192.168.10.300」"), "{}", r.body);
    assert!(r.body.contains("存在しない日付です"), "{}", r.body);
    assert!(r.body.contains("import-blocked") && !r.body.contains("import-commit"), "no commit button");
    let r = c.post(&format!("{preview}/commit"), &[]);
    assert_eq!((r.status, r.location()), (303, preview.as_str()), "back to the preview");
    assert_eq!(count(&kit, &a, RecordKind::Assets), 0, "all or nothing: the good row is not written either");

    // Someone else's upload is not reachable, even with the link.
    let other = kit.user("other", false, &[(a, Role::Operator)]);
    let mut o = kit.login(&other);
    let r = o.get(&preview);
    assert!(r.body.contains("取込み中のファイルが見つかりません"), "{}", r.body);
}

#[test]
fn exports_and_attachments() {
    let kit = Kit::start(Backend::Sqlite);
    let a = kit.institution("みまもりクリニック");
    let b = kit.institution("別の病院");
    let mut c = operator(&kit, a);
    let base = format!("/i/{}/ledgers/mds-sds", a.institution());
    let r = c.post(&base, &[("f_system", "電子カルテ"), ("f_document", "mds"), ("f_version", "2.0")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let record = r.location().to_owned();

    let r = c.post_multipart(&format!("{record}/attachment"), &[], Some(("setup.exe", b"MZ\x90\0")));
    let r = c.get(&hx_target(&r));
    assert!(r.body.contains("この種類のファイルは添付できません"), "{}", r.body);
    let r = c.post_multipart(&format!("{record}/attachment"), &[], Some(("MDS.pdf", b"<html><script>")));
    assert!(c.get(&hx_target(&r)).body.contains("中身が拡張子と一致しない"));

    let pdf = b"%PDF-1.4\n% MDS of the EHR\n%%EOF\n";
    let r = c.post_multipart(&format!("{record}/attachment"), &[], Some(("MDS_電子カルテ.pdf", pdf)));
    let r = c.get(&hx_target(&r));
    let link_start = r.body.find("/evidence/").expect("attachment link");
    let link_end = r.body[link_start..].find('"').unwrap() + link_start;
    let file_url = format!("/i/{}{}", a.institution(), &r.body[link_start..link_end]);
    assert!(r.body.contains("MDS_電子カルテ.pdf"));
    let f = c.get(&file_url);
    assert_eq!(f.status, 200);
    assert_eq!(f.body.as_bytes(), pdf);
    assert!(f.header("content-disposition").unwrap().contains("filename*=UTF-8''MDS_%E9%9B%BB"), "{:?}", f.headers);
    assert_eq!(f.header("x-content-type-options"), Some("nosniff"));
    // Another institution's member sees nothing of it, even knowing the id.
    let outsider = kit.user("outsider", false, &[(b, Role::Admin)]);
    let mut o = kit.login(&outsider);
    assert_eq!(o.get(&file_url).status, 403);
    let evidence_id = file_url.split('/').nth(4).unwrap();
    assert_eq!(o.get(&format!("/i/{}/evidence/{evidence_id}/file", b.institution())).status, 404);

    let x = c.get(&format!("/i/{}/ledgers/mds-sds/export?format=xlsx", a.institution()));
    assert_eq!(x.status, 200);
    assert!(x.header("content-type").unwrap().contains("spreadsheetml"));
    let csv = c.get(&format!("/i/{}/ledgers/mds-sds/export?format=csv&encoding=utf8", a.institution()));
    assert!(csv.body.contains("電子カルテ"), "{}", csv.body);
    let events = kit.rt.block_on(kit.store.latest_audit_events(a.chain(), 20)).unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "ledger.export").count(), 2);
    assert!(events.iter().any(|e| e.action == "evidence.download"));
    let t = c.get(&format!("/i/{}/ledgers/contracts/template?format=xlsx", a.institution()));
    assert!(t.header("content-disposition").unwrap().contains(".xlsx"));
}
