use mamori_domain::RecordId;
use mamori_domain::record::{RecordKind, Row, Value};
use mamori_ledger::plan::{Action, Level, PlanError, PlanOptions, References, plan, plan_owned};
use mamori_ledger::read::{Cell, Sheet};
use time::macros::date;

use crate::read;

fn t(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn sheet(rows: Vec<Vec<Cell>>) -> Vec<Sheet> {
    vec![Sheet { name: "機器台帳".into(), rows }]
}

const HEADER: [&str; 8] = ["種別", "機器名", "製造番号", "ＩＰアドレス", "MACアドレス", "保守期限", "保守業者", "備考"];

/// A title, a blank row, the header on row 3 and data below it.
fn assets(data: Vec<[&str; 8]>) -> Vec<Sheet> {
    let mut rows = vec![vec![t("医療情報システム 機器台帳")], vec![], HEADER.iter().map(|h| t(h)).collect()];
    for d in data {
        rows.push(d.iter().map(|v| if v.is_empty() { Cell::Empty } else { t(v) }).collect());
    }
    sheet(rows)
}

fn codes(p: &mamori_ledger::plan::Plan) -> Vec<(usize, Option<usize>, &'static str)> {
    p.problems.iter().map(|p| (p.row, p.column, p.code)).collect()
}

fn good() -> Vec<[&'static str; 8]> {
    vec![
        [
            "サーバー",
            "電子カルテサーバ",
            "SN-001",
            "１９２．１６８．１０．５",
            "ＡＡ－ＢＢ－ＣＣ－００－１１－２２",
            "令和8年3月31日",
            "",
            "",
        ],
        ["端末", "受付PC", "SN-002", "192.168.10.21", "", "H31/4/30", "", ""],
    ]
}

#[test]
fn header_below_a_title_and_values_converted() {
    let p = plan(&assets(good()), RecordKind::Assets, &[], &References::new()).unwrap();
    assert_eq!(p.header_row, 3);
    assert_eq!(p.sheet, "機器台帳");
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.counts(), (2, 0, 0));
    let r = &p.rows[0];
    assert_eq!(r.source_row, 4);
    assert_eq!(r.action, Action::Create);
    assert_eq!(r.row.get("kind"), &Value::Text("server".into()));
    assert_eq!(r.row.get("ip_addresses"), &Value::TextList(vec!["192.168.10.5".into()]));
    assert_eq!(r.row.get("mac_addresses"), &Value::TextList(vec!["aa:bb:cc:00:11:22".into()]));
    assert_eq!(r.row.get("maintenance_until"), &Value::Date(date!(2026 - 03 - 31)));
    assert_eq!(p.rows[1].row.get("maintenance_until"), &Value::Date(date!(2019 - 04 - 30)));
    assert_eq!(p.rows_to_write().len(), 2);
}

#[test]
fn note_and_blank_rows_are_skipped() {
    let mut s = assets(good());
    s[0].rows.push(vec![]);
    s[0].rows.push(vec![t("※ IPアドレスは固定割当")]);
    s[0].rows.push(vec![Cell::Empty, t("注意書きのような一行")]);
    let p = plan(&s, RecordKind::Assets, &[], &References::new()).unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.rows.len(), 2);
}

#[test]
fn unknown_kind_and_bad_date_are_errors_with_columns() {
    let mut d = good();
    d[0][0] = "トースター";
    d[1][5] = "来年の春";
    let p = plan(&assets(d), RecordKind::Assets, &[], &References::new()).unwrap();
    assert!(p.has_errors());
    assert_eq!(codes(&p), [(4, Some(0), "unknown-asset-kind"), (5, Some(5), "date-unrecognised")]);
    assert_eq!(p.problems[0].field, Some("kind"));
    assert_eq!(p.problems[0].value.as_deref(), Some("トースター"));
    assert_eq!(p.problems[0].level, Level::Error);
    assert!(p.rows.is_empty(), "rows with errors are not planned");
}

#[test]
fn missing_required_name() {
    let mut d = good();
    d[1][1] = "";
    let p = plan(&assets(d), RecordKind::Assets, &[], &References::new()).unwrap();
    assert_eq!(codes(&p), [(5, Some(1), "missing-required")]);
    assert_eq!(p.problems[0].field, Some("name"));
    assert_eq!(p.rows.len(), 1);
}

#[test]
fn formula_error_cell() {
    let mut s = assets(good());
    s[0].rows[3][5] = Cell::Error("#DIV/0!".into());
    let p = plan(&s, RecordKind::Assets, &[], &References::new()).unwrap();
    assert_eq!(codes(&p), [(4, Some(5), "formula-error")]);
}

#[test]
fn duplicate_serial_in_the_file() {
    let mut d = good();
    d[1][2] = "ｓｎ－００１";
    let p = plan(&assets(d), RecordKind::Assets, &[], &References::new()).unwrap();
    assert_eq!(codes(&p), [(5, None, "duplicate-key")]);
    assert!(p.problems[0].value.as_deref().unwrap().contains("row 4"), "{:?}", p.problems[0].value);
}

#[test]
fn replanning_is_unchanged_and_one_cell_is_one_update() {
    let first = plan(&assets(good()), RecordKind::Assets, &[], &References::new()).unwrap();
    let existing: Vec<Row> = first.rows.iter().map(|r| r.row.clone()).collect();
    let again = plan(&assets(good()), RecordKind::Assets, &existing, &References::new()).unwrap();
    assert_eq!(again.counts(), (0, 0, 2));
    assert!(again.rows_to_write().is_empty());
    let ids = |p: &mamori_ledger::plan::Plan| p.rows.iter().map(|r| r.row.id).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&first));

    let mut d = good();
    d[1][3] = "192.168.10.22";
    let changed = plan(&assets(d), RecordKind::Assets, &existing, &References::new()).unwrap();
    assert_eq!(changed.counts(), (0, 1, 1));
    let written = changed.rows_to_write();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].id, first.rows[1].row.id);
    assert_eq!(written[0].get("ip_addresses"), &Value::TextList(vec!["192.168.10.22".into()]));
}

#[test]
fn unmapped_fields_keep_existing_values() {
    let first = plan(&assets(good()), RecordKind::Assets, &[], &References::new()).unwrap();
    let mut existing: Vec<Row> = first.rows.iter().map(|r| r.row.clone()).collect();
    existing[0].set("location", Value::Text("サーバ室".into()));
    let again = plan(&assets(good()), RecordKind::Assets, &existing, &References::new()).unwrap();
    assert_eq!(again.counts(), (0, 0, 2));
    assert_eq!(again.rows[0].row.get("location"), &Value::Text("サーバ室".into()));
}

#[test]
fn references_by_name_and_unknown_ones_warn() {
    let vendor = RecordId::new();
    let mut refs = References::new();
    refs.add("vendors", "株式会社ＡＢＣメディカル", vendor);
    let mut d = good();
    d[0][6] = " 株式会社abcメディカル ";
    d[1][6] = "知らない業者";
    let p = plan(&assets(d), RecordKind::Assets, &[], &refs).unwrap();
    assert!(!p.has_errors(), "{:?}", p.problems);
    assert_eq!(codes(&p), [(5, Some(6), "unknown-reference")]);
    assert_eq!(p.problems[0].level, Level::Warning);
    assert_eq!(p.rows[0].row.get("maintenance_vendor_id"), &Value::Ref(vendor.0));
    assert_eq!(p.rows[1].row.get("maintenance_vendor_id"), &Value::Null);
}

#[test]
fn japanese_choice_labels_and_unknown_choice() {
    let rows = vec![
        vec![t("システム"), t("アカウント"), t("区分"), t("状態")],
        vec![t("電子カルテ"), t("admin"), t("共有"), t("有効")],
        vec![t("電子カルテ"), t("user1"), t("個人"), t("たぶん有効")],
    ];
    let p = plan(&sheet(rows), RecordKind::Accounts, &[], &References::new()).unwrap();
    assert_eq!(p.rows[0].row.get("holder"), &Value::Text("shared".into()));
    assert_eq!(p.rows[0].row.get("status"), &Value::Text("enabled".into()));
    assert_eq!(codes(&p), [(3, Some(3), "unknown-choice")]);
}

#[test]
fn no_header_is_an_error() {
    let err = plan(&sheet(vec![vec![t("説明")]]), RecordKind::Vendors, &[], &References::new()).unwrap_err();
    assert_eq!(err, PlanError::NoHeader { kind: RecordKind::Vendors });
    assert_eq!(err.code(), "no-header");
}

#[test]
fn xlsx_end_to_end() {
    let sheets = read(&crate::xlsx::clinic_workbook(), "台帳.xlsx").unwrap();
    let p = plan(&sheets, RecordKind::Assets, &[], &References::new()).unwrap();
    assert_eq!(p.header_row, 3);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.counts(), (2, 0, 0));
    let server = &p.rows[0].row;
    assert_eq!(server.get("kind"), &Value::Text("server".into()));
    assert_eq!(server.get("ip_addresses"), &Value::TextList(vec!["192.168.10.5".into(), "192.168.20.5".into()]));
    assert_eq!(server.get("mac_addresses"), &Value::TextList(vec!["aa:bb:cc:00:11:22".into()]));
    assert_eq!(server.get("maintenance_until"), &Value::Date(date!(2026 - 03 - 31)));
    let again = plan(&sheets, RecordKind::Assets, &p.rows_to_write(), &References::new()).unwrap();
    assert_eq!(again.counts(), (0, 0, 2));
}

#[test]
fn an_accounts_name_column_points_at_the_staff_member() {
    let rows = vec![
        vec![t("システム"), t("アカウント"), t("氏名"), t("区分"), t("状態")],
        vec![t("電子カルテ"), t("yamada"), t("山田 花子"), t("個人"), t("有効")],
    ];
    let hanako = RecordId::new();
    let mut refs = References::new();
    refs.add("persons", "山田 花子", hanako);
    let p = plan(&sheet(rows), RecordKind::Accounts, &[], &refs).unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.rows[0].row.get("person_id"), &Value::Ref(hanako.0));
    assert_eq!(p.rows[0].row.get("holder"), &Value::Text("person".into()));
}

#[test]
fn planning_owned_sheets_gives_the_same_plan() {
    let sheets = read(&crate::xlsx::clinic_workbook(), "台帳.xlsx").unwrap();
    let borrowed = plan(&sheets, RecordKind::Assets, &[], &References::new()).unwrap();
    let owned = plan_owned(sheets, RecordKind::Assets, &[], &References::new(), &PlanOptions::default()).unwrap();
    let strip = |p: &mamori_ledger::plan::Plan| {
        let mut p = p.clone();
        for r in &mut p.rows {
            r.row.id = RecordId(uuid::Uuid::nil());
        }
        p
    };
    assert_eq!(strip(&owned), strip(&borrowed));
    assert_eq!(owned.clone().into_rows_to_write().len(), owned.rows_to_write().len());
}
