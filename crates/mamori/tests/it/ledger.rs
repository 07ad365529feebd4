//! `mamori ledger list|export|template`: ledgers on screen and as files people open in Excel.

use crate::harness::*;
use calamine::{Data, Reader, Xlsx};
use mamori_domain::ledger::{Asset, AssetKind, Criticality, Vendor};
use mamori_domain::record::Record;
use mamori_store::StoreExt;

/// A clinic with a vendor and two assets, one of them maintained by the vendor.
async fn clinic() -> Env {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&["institution", "add", "--name", "守りクリニック"]);
    let store = mamori_store::open(
        &mamori_store::DbSettings::Sqlite { path: env.db_path() },
        mamori_store::OpenOptions { create: false, migrate: false },
    )
    .await
    .unwrap();
    let institution = store.list_institutions().await.unwrap()[0].id;
    let scope = store.scope(institution).await.unwrap();
    let vendor = Vendor {
        id: mamori_domain::RecordId::new(),
        name: "〇〇メディカル株式会社".into(),
        service: Some("電子カルテの保守".into()),
        contact_name: None,
        phone: Some("03-1234-5678".into()),
        email: None,
        emergency_contact: None,
        address: None,
        notes: None,
    };
    store.put(&scope, &vendor, "tester").await.unwrap();
    let mut server = Asset::new(AssetKind::Server, "電子カルテサーバ");
    server.serial = Some("0012345".into());
    server.ip_addresses = vec!["192.168.10.10".into()];
    server.criticality = Some(Criticality::High);
    server.maintenance_vendor_id = Some(vendor.id);
    server.maintenance_until = Some(time::macros::date!(2027 - 03 - 31));
    let pc = Asset::new(AssetKind::Pc, "受付PC");
    store.put_rows(&scope, &[server.to_row(), pc.to_row()], "tester", &|_| {}).await.unwrap();
    drop(store);
    env
}

fn xlsx_sheet(path: &std::path::Path, name: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = calamine::open_workbook(path).unwrap();
    book.worksheet_range(name).unwrap()
}

#[tokio::test]
async fn a_ledger_is_listed_and_exported_as_xlsx_and_cp932_csv() {
    let env = clinic().await;

    let list = env.ok(&["ledger", "list", "--kind", "assets"]);
    assert!(list.stdout.contains("機器名") && list.stdout.contains("電子カルテサーバ"), "{}", list.stdout);
    assert!(
        list.stdout.contains("サーバ") && list.stdout.contains("端末PC") && list.stdout.contains("高"),
        "{}",
        list.stdout
    );
    let json = env.ok(&["ledger", "list", "--kind", "assets", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert!(rows.as_array().unwrap().iter().any(|r| r["serial"] == "0012345" && r["kind"] == "server"));

    let xlsx = env.tmp.path().join("機器台帳.xlsx");
    let r = env.ok(&["ledger", "export", "--kind", "assets", "--format", "xlsx", "-o", xlsx.to_str().unwrap()]);
    assert!(r.stdout.contains(&format!("2 件を {} に書き出しました", xlsx.display())), "{}", r.stdout);
    let sheet = xlsx_sheet(&xlsx, "機器台帳");
    let header: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(&header[..2], ["種別", "機器名"]);
    let col = |t: &str| header.iter().position(|h| h == t).unwrap_or_else(|| panic!("no {t} in {header:?}")) as u32;
    let server_row =
        (1..=2).find(|r| sheet.get_value((*r, col("機器名"))) == Some(&Data::String("電子カルテサーバ".into())));
    let r = server_row.expect("the server is exported");
    assert_eq!(sheet.get_value((r, col("製造番号"))), Some(&Data::String("0012345".into())));
    assert_eq!(sheet.get_value((r, col("保守業者"))), Some(&Data::String("〇〇メディカル株式会社".into())));
    assert!(matches!(sheet.get_value((r, col("保守期限"))), Some(Data::DateTime(_))));
    // No temporary file is left beside the export.
    let leftovers: Vec<_> = std::fs::read_dir(env.tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let csv = env.tmp.path().join("assets.csv");
    let r = env.ok(&["ledger", "export", "--kind", "assets", "--format", "csv", "-o", csv.to_str().unwrap()]);
    assert!(r.stdout.contains("2 件を"), "{}", r.stdout);
    let bytes = std::fs::read(&csv).unwrap();
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad, "not CP932");
    assert!(text.starts_with("種別,機器名,ホスト名"), "{text}");
    assert!(text.contains("サーバ,電子カルテサーバ") && text.contains("〇〇メディカル株式会社,2027-03-31"), "{text}");

    let utf8 = env.tmp.path().join("assets-utf8.csv");
    env.ok(&[
        "ledger",
        "export",
        "--kind",
        "assets",
        "--format",
        "csv",
        "--encoding",
        "utf8-bom",
        "-o",
        utf8.to_str().unwrap(),
    ]);
    assert!(std::fs::read(&utf8).unwrap().starts_with(&[0xEF, 0xBB, 0xBF]));

    let nowhere = env.tmp.path().join("no-such-folder").join("assets.csv");
    let r = env.run(&["ledger", "export", "--kind", "assets", "--format", "csv", "-o", nowhere.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    let line = r.one_error_line();
    assert!(line.contains("書き込めません（見つかりません）"), "{line}");

    // Each export that wrote a file is in the institution's audit log.
    let inst = env.ok(&["institution", "list", "--json"]);
    let id = serde_json::from_str::<serde_json::Value>(&inst.stdout).unwrap()[0]["id"].as_str().unwrap().to_owned();
    let log = env.ok(&["audit", "log", "--institution", &id, "--json"]);
    let events: Vec<serde_json::Value> = serde_json::from_str(&log.stdout).unwrap();
    let exports: Vec<_> = events.iter().filter(|e| e["action"] == "ledger.export").collect();
    assert_eq!(exports.len(), 3, "xlsx, cp932 and utf-8 exports; the failed one is not");
    assert_eq!(exports[0]["actor"], "cli:tester");
    assert!(exports[0]["details"].as_str().unwrap().contains("\"records\":2"));
}

#[tokio::test]
async fn a_character_cp932_lacks_is_one_line_and_writes_nothing() {
    let env = clinic().await;
    let store = mamori_store::open(
        &mamori_store::DbSettings::Sqlite { path: env.db_path() },
        mamori_store::OpenOptions { create: false, migrate: false },
    )
    .await
    .unwrap();
    let scope = store.scope(store.list_institutions().await.unwrap()[0].id).await.unwrap();
    let mut a = Asset::new(AssetKind::Pc, "診察室PC");
    a.owner = Some("𠮷田 太郎".into());
    store.put(&scope, &a, "tester").await.unwrap();
    drop(store);
    let csv = env.tmp.path().join("assets.csv");
    let r = env.run(&["ledger", "export", "--kind", "assets", "--format", "csv", "-o", csv.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    let line = r.one_error_line();
    assert!(line.contains("「管理者」") && line.contains("𠮷") && line.contains("utf8-bom"), "{line}");
    assert!(!csv.exists());
}

#[test]
fn a_template_has_the_header_and_an_example() {
    let env = Env::new();
    let path = env.tmp.path().join("職員名簿.xlsx");
    let r = env.ok(&["ledger", "template", "--kind", "staff", "--format", "xlsx", "-o", path.to_str().unwrap()]);
    assert!(r.stdout.contains("職員名簿の記入用ひな形"), "{}", r.stdout);
    let blank = xlsx_sheet(&path, "職員名簿");
    assert_eq!(blank.height(), 1);
    assert_eq!(blank.get_value((0, 0)), Some(&Data::String("氏名".into())));
    let example = xlsx_sheet(&path, "記入例");
    assert_eq!(example.height(), 2);
}

#[tokio::test]
async fn bad_kind_and_ambiguous_institution_are_one_line_each() {
    let env = clinic().await;
    let r = env.run(&["ledger", "list", "--kind", "printers"]);
    assert_eq!(r.code, 1);
    let line = r.one_error_line();
    assert!(line.contains("「printers」") && line.contains("assets") && line.contains("mds-sds"), "{line}");
    let r = env.run(&["ledger", "template", "--kind", "printers", "-o", "x.xlsx"]);
    assert!(r.one_error_line().contains("「printers」"), "{}", r.stderr);

    env.ok(&["institution", "add", "--name", "守り病院", "--kind", "hospital"]);
    let r = env.run(&["ledger", "list", "--kind", "assets"]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("--institution"), "{}", r.stderr);
    let list = env.ok(&["institution", "list", "--json"]);
    let institutions: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let second = institutions.as_array().unwrap().iter().find(|i| i["name"] == "守り病院").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = env.ok(&["ledger", "list", "--kind", "assets", "--institution", &second]);
    assert!(r.stdout.contains("機器台帳に記録はありません"), "{}", r.stdout);
}
