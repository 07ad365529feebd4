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

/// A clinic's own 機器台帳 as Excel saves CSV: CP932, a title row, a blank row, full-width
/// digits, an era date, the vendor by name.
fn clinic_csv(extra_row: &str) -> Vec<u8> {
    let text = format!(
        "機器台帳（令和8年4月1日現在）\r\n\r\n機器名,種別,製造番号,IPアドレス,保守業者,保守期限\r\n\
         画像サーバ,サーバ,ＳＮ－９００１,１９２．１６８．１０．２０,〇〇メディカル株式会社,令和9年3月31日\r\n\
         診察室PC,端末,SN-9002,192.168.20.31,,R8.12.31\r\n{extra_row}"
    );
    encoding_rs::SHIFT_JIS.encode(&text).0.into_owned()
}

#[tokio::test]
async fn a_messy_cp932_ledger_is_checked_then_imported_once() {
    let env = clinic().await;
    let file = env.tmp.path().join("機器台帳.csv");
    std::fs::write(&file, clinic_csv("")).unwrap();
    let f = file.to_str().unwrap();

    // The dry run shows what would happen and writes nothing.
    let r = env.ok(&["ledger", "import", f, "--kind", "assets"]);
    assert!(r.stdout.contains("3 行目を見出し") && r.stdout.contains("新規 2 件"), "{}", r.stdout);
    assert!(r.stdout.contains("まだ登録していません"), "{}", r.stdout);
    let listed = env.ok(&["ledger", "list", "--kind", "assets", "--json"]);
    assert_eq!(serde_json::from_str::<Vec<serde_json::Value>>(&listed.stdout).unwrap().len(), 2);

    // --yes saves them (as a job), with full-width text normalised and the vendor linked.
    let r = env.ok(&["ledger", "import", f, "--kind", "assets", "--yes"]);
    assert!(r.stdout.contains("登録しました（新規 2 件"), "{}", r.stdout);
    let listed = env.ok(&["ledger", "list", "--kind", "assets", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(rows.len(), 4);
    let image = rows.iter().find(|r| r["name"] == "画像サーバ").unwrap();
    assert_eq!(image["serial"], "SN-9001");
    assert_eq!(image["ip_addresses"], serde_json::json!(["192.168.10.20"]));
    assert_eq!(image["maintenance_until"], "2027-03-31");
    assert!(image["maintenance_vendor_id"].is_string(), "the vendor was found by name: {image}");
    let jobs = env.ok(&["jobs", "list", "--json"]);
    assert!(jobs.stdout.contains("\"ledger-import\""), "{}", jobs.stdout);

    // The same file again changes nothing and duplicates nothing.
    let r = env.ok(&["ledger", "import", f, "--kind", "assets", "--yes"]);
    assert!(r.stdout.contains("新規 0 件、更新 0 件、変更なし 2 件"), "{}", r.stdout);
    let listed = env.ok(&["ledger", "list", "--kind", "assets", "--json"]);
    assert_eq!(serde_json::from_str::<Vec<serde_json::Value>>(&listed.stdout).unwrap().len(), 4);
}

#[tokio::test]
async fn errors_are_listed_by_row_and_column_and_nothing_is_saved() {
    let env = clinic().await;
    let file = env.tmp.path().join("bad.csv");
    std::fs::write(&file, clinic_csv("謎の箱,トースター,SN-9003,192.168.1.300,,令和9年2月30日\r\n")).unwrap();
    let r = env.run(&["ledger", "import", file.to_str().unwrap(), "--kind", "assets", "--yes"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("[誤り] bad.csv 6 行目 B列（種別）: 機器の種別が分かりません"), "{}", r.stdout);
    assert!(r.stdout.contains("D列（IPアドレス）: IP アドレスとして読み取れません"), "{}", r.stdout);
    assert!(r.stdout.contains("存在しない日付です"), "{}", r.stdout);
    assert!(r.one_error_line().contains("誤りが 3 件あるため登録していません"), "{}", r.stderr);
    let listed = env.ok(&["ledger", "list", "--kind", "assets", "--json"]);
    assert_eq!(serde_json::from_str::<Vec<serde_json::Value>>(&listed.stdout).unwrap().len(), 2, "nothing saved");

    // A binary file with a .csv name, and a file with no header, are one line each.
    let png = env.tmp.path().join("photo.csv");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01").unwrap();
    let r = env.run(&["ledger", "import", png.to_str().unwrap(), "--kind", "assets"]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("Excel ファイルでも CSV でもありません"), "{}", r.stderr);
    let notes = env.tmp.path().join("notes.csv");
    std::fs::write(&notes, "今日の予定\n会議\n").unwrap();
    let r = env.run(&["ledger", "import", notes.to_str().unwrap(), "--kind", "assets"]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("機器台帳の見出し行が見つかりません"), "{}", r.stderr);
}

#[tokio::test]
async fn records_are_shown_searched_changed_and_deleted_from_the_command_line() {
    let env = clinic().await;
    let listed = env.ok(&["ledger", "list", "--kind", "assets", "--search", "カルテ", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(rows.len(), 1, "{}", listed.stdout);
    let id = rows[0]["id"].as_str().unwrap().to_owned();
    let sorted = env.ok(&["ledger", "list", "--kind", "assets", "--sort", "name", "--desc"]);
    assert!(
        sorted.stdout.find("電子カルテサーバ").unwrap() < sorted.stdout.find("受付PC").unwrap(),
        "{}",
        sorted.stdout
    );
    let r = env.run(&["ledger", "list", "--kind", "assets", "--sort", "colour"]);
    assert!(r.one_error_line().contains("項目「colour」はありません"), "{}", r.stderr);

    // Values are read as people type them: full-width digits, an era date.
    let r = env.ok(&[
        "ledger",
        "set",
        &id,
        "--kind",
        "assets",
        "location=２階 サーバ室",
        "maintenance_until=令和10年3月31日",
        "ip_addresses=１９２.168.10.11",
    ]);
    assert!(r.stdout.contains("更新しました"), "{}", r.stdout);
    let r = env.run(&["ledger", "set", &id, "--kind", "assets", "ip_addresses=192.168.10.300"]);
    assert_eq!(r.code, 1);
    assert!(
        r.one_error_line().contains("IPアドレスの値「192.168.10.300」: IP アドレスとして読み取れません"),
        "{}",
        r.stderr
    );
    let r = env.run(&["ledger", "set", &id, "--kind", "assets", "colour=red"]);
    assert!(r.one_error_line().contains("項目「colour」はありません"), "{}", r.stderr);
    let r = env.run(&["ledger", "set", &id, "--kind", "assets", "just-text"]);
    assert!(r.one_error_line().contains("項目=値"), "{}", r.stderr);

    let shown = env.ok(&["ledger", "show", &id, "--kind", "assets", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(v["record"]["maintenance_until"], "2028-03-31");
    assert_eq!(v["record"]["ip_addresses"], serde_json::json!(["192.168.10.11"]));
    let actions: Vec<&str> = v["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["record.update", "record.create"], "only the good change was saved");
    let text = env.ok(&["ledger", "show", &id, "--kind", "assets"]);
    assert!(text.stdout.contains("２階 サーバ室") && text.stdout.contains("変更履歴"), "{}", text.stdout);

    // The vendor is referenced by the server: refused, one line; the server itself goes.
    let vendors: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["ledger", "list", "--kind", "vendors", "--json"]).stdout).unwrap();
    let r = env.run(&["ledger", "delete", vendors[0]["id"].as_str().unwrap(), "--kind", "vendors"]);
    assert_eq!(r.code, 1);
    assert!(r.one_error_line().contains("参照されているため削除できません"), "{}", r.stderr);
    env.ok(&["ledger", "delete", &id, "--kind", "assets"]);
    let r = env.run(&["ledger", "show", &id, "--kind", "assets"]);
    assert!(r.one_error_line().contains("見つかりません"), "{}", r.stderr);
}

#[tokio::test]
async fn the_demo_loads_two_marked_institutions_with_filled_ledgers() {
    let env = Env::new();
    env.ok(&["init"]);
    let r = env.ok(&["demo"]);
    assert!(r.stdout.contains("みまもり内科クリニック") && r.stdout.contains("みまもり記念病院"), "{}", r.stdout);
    let list: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["institution", "list", "--json"]).stdout).unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|i| i["demo"] == true), "{list:?}");
    let text = env.ok(&["institution", "list"]);
    assert_eq!(text.stdout.matches("【デモ】").count(), 2, "marked once each: {}", text.stdout);
    for inst in &list {
        let id = inst["id"].as_str().unwrap();
        for kind in ["assets", "staff", "accounts", "vendors", "contracts", "remote-maintenance", "mds-sds", "segments"]
        {
            let rows: Vec<serde_json::Value> = serde_json::from_str(
                &env.ok(&["ledger", "list", "--kind", kind, "--institution", id, "--json"]).stdout,
            )
            .unwrap();
            assert!(!rows.is_empty(), "{kind} of {}", inst["name"]);
            assert!(rows.iter().all(|r| r["notes"].as_str().unwrap_or("").contains("デモデータ")), "{kind}");
        }
    }
    let r = env.ok(&["audit", "verify"]);
    assert_eq!(r.code, 0);
}

#[test]
fn a_file_over_the_row_limit_is_refused_at_the_limit_and_nothing_is_saved() {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&["institution", "add", "--name", "大病院"]);
    let mut text = String::from("種別,機器名\r\n");
    for i in 0..200_005 {
        text.push_str(&format!("端末PC,PC{i:06}\r\n"));
    }
    let file = env.tmp.path().join("huge.csv");
    std::fs::write(&file, text).unwrap();
    let r = env.run(&["ledger", "import", file.to_str().unwrap(), "--kind", "assets", "--yes"]);
    assert_eq!(r.code, 1);
    let line = r.one_error_line();
    assert!(line.contains("行数が多すぎます") && line.contains("200,000 行まで"), "{line}");
    assert!(line.contains("200001 行目") || line.contains("200,001 行目"), "the row is named: {line}");
    let listed = env.ok(&["ledger", "list", "--kind", "assets", "--json"]);
    assert_eq!(listed.stdout.trim(), "[]");
}
