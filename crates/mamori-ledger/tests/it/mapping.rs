//! The preview's mapping step: the user corrects columns, the corrections are saved as JSON
//! and reused for the next file with the same headers.

use mamori_domain::record::{RecordKind, Value};
use mamori_ledger::header::MappingOverrides;
use mamori_ledger::plan::{HeaderCell, PlanError, PlanOptions, References, plan, plan_with, preview};
use rust_xlsxwriter::Workbook;

use crate::read;

/// An asset ledger whose header has a column the dictionary does not know (院内管理番号) and
/// one it guesses wrongly (設置場所（旧） → location, although the room has moved).
fn ledger() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("説明").unwrap();
    ws.write_string(0, 0, "この台帳は毎年4月に更新します").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("機器一覧").unwrap();
    for (c, h) in ["機器名", "種別", "院内 管理番号", "設置場所（旧）", "現在の部屋"].iter().enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for (r, row) in
        [["電子カルテサーバ", "サーバ", "A-0001", "2階倉庫", "1階サーバ室"], ["受付PC", "端末", "A-0002", "", "受付"]]
            .iter()
            .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 2, c as u16, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

fn options(o: &MappingOverrides) -> PlanOptions {
    PlanOptions { overrides: Some(o.clone()), sheet: None }
}

fn cell(column: usize, text: &str, field: Option<&'static str>, from_override: bool) -> HeaderCell {
    HeaderCell { column, text: text.to_owned(), field, from_override }
}

#[test]
fn the_dictionary_alone_guesses() {
    let sheets = read(&ledger(), "機器.xlsx").unwrap();
    let p = plan(&sheets, RecordKind::Assets, &[], &References::new()).unwrap();
    assert_eq!(p.sheet, "機器一覧");
    assert_eq!(p.header_row, 2);
    assert_eq!(p.columns, [(0, "name"), (1, "kind"), (3, "location")]);
    assert_eq!(p.unmapped, [(2, "院内 管理番号".to_owned()), (4, "現在の部屋".to_owned())]);
    assert_eq!(p.rows[0].row.get("location"), &Value::Text("2階倉庫".into()));
}

#[test]
fn an_unknown_column_mapped_and_a_wrong_guess_ignored() {
    let sheets = read(&ledger(), "機器.xlsx").unwrap();
    let mut o = MappingOverrides::new(RecordKind::Assets);
    // Keyed as find_header folds: the spaces and brackets of the file do not matter.
    o.set("院内管理番号", Some("serial")).unwrap();
    o.set("設置場所（旧）", None).unwrap();
    o.set("【現在の部屋】", Some("location")).unwrap();
    let p = plan_with(&sheets, RecordKind::Assets, &[], &References::new(), &options(&o)).unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.columns, [(0, "name"), (1, "kind"), (2, "serial"), (4, "location")]);
    assert_eq!(p.unmapped, [(3, "設置場所（旧）".to_owned())]);
    assert_eq!(
        p.header_cells,
        [
            cell(0, "機器名", Some("name"), false),
            cell(1, "種別", Some("kind"), false),
            cell(2, "院内 管理番号", Some("serial"), true),
            cell(3, "設置場所（旧）", None, true),
            cell(4, "現在の部屋", Some("location"), true),
        ]
    );
    let server = &p.rows[0].row;
    assert_eq!(server.get("serial"), &Value::Text("A-0001".into()));
    assert_eq!(server.get("location"), &Value::Text("1階サーバ室".into()));

    let pv = preview(&sheets, RecordKind::Assets, &options(&o)).unwrap();
    assert_eq!(pv.sheet_names, ["説明", "機器一覧"]);
    assert_eq!(pv.sheet.as_deref(), Some("機器一覧"));
    assert_eq!((pv.header_row, pv.detected), (Some(2), true));
    assert_eq!(pv.cells, p.header_cells);
}

#[test]
fn overrides_find_a_header_the_dictionary_cannot() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["Gerät", "Seriennummer", "Raum"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "CT").unwrap();
    ws.write_string(1, 1, "X-1").unwrap();
    let sheets = read(&wb.save_to_buffer().unwrap(), "de.xlsx").unwrap();
    let err = plan(&sheets, RecordKind::Software, &[], &References::new()).unwrap_err();
    assert_eq!(err.code(), "no-header");
    // The preview still offers the first row, so the user can map it.
    let pv = preview(&sheets, RecordKind::Assets, &PlanOptions::default()).unwrap();
    assert_eq!((pv.header_row, pv.detected), (Some(1), false));
    assert_eq!(
        pv.cells.iter().map(|c| (c.text.as_str(), c.field)).collect::<Vec<_>>(),
        [("Gerät", None), ("Seriennummer", None), ("Raum", None)]
    );
    let mut o = MappingOverrides::new(RecordKind::Assets);
    o.set("Gerät", Some("name")).unwrap();
    o.set("Seriennummer", Some("serial")).unwrap();
    let p = plan_with(&sheets, RecordKind::Assets, &[], &References::new(), &options(&o)).unwrap();
    assert_eq!(p.columns, [(0, "name"), (1, "serial")]);
    // Asset kind is required and not in the file: the user sees that, per row.
    assert_eq!(p.problems.iter().map(|p| p.code).collect::<Vec<_>>(), ["missing-required"]);
}

#[test]
fn an_override_naming_a_missing_field_is_refused() {
    let mut o = MappingOverrides::new(RecordKind::Assets);
    let err = o.set("院内管理番号", Some("asset_number")).unwrap_err();
    assert_eq!(err.code(), "mapping-unknown-field");
    assert!(o.is_empty(), "a refused override is not kept");
    // A stored mapping that has gone stale (or was edited by hand) is refused when used.
    let stale: MappingOverrides =
        serde_json::from_str(r#"{"kind":"assets","by_header":{"院内管理番号":"asset_number"}}"#).unwrap();
    let sheets = read(&ledger(), "機器.xlsx").unwrap();
    let err = plan_with(&sheets, RecordKind::Assets, &[], &References::new(), &options(&stale)).unwrap_err();
    assert!(matches!(&err, PlanError::Mapping(_)), "{err:?}");
    assert_eq!(err.code(), "mapping-unknown-field");
    assert_eq!(preview(&sheets, RecordKind::Assets, &options(&stale)).unwrap_err().code(), "mapping-unknown-field");
    // A mapping saved for another ledger is refused too.
    let staff = MappingOverrides::new(RecordKind::Staff);
    let err = plan_with(&sheets, RecordKind::Assets, &[], &References::new(), &options(&staff)).unwrap_err();
    assert_eq!(err.code(), "mapping-wrong-ledger");
}

#[test]
fn a_saved_mapping_is_reused_on_the_next_file() {
    let mut o = MappingOverrides::new(RecordKind::Assets);
    o.set("院内 管理番号", Some("serial")).unwrap();
    o.set("設置場所（旧）", None).unwrap();
    o.set("現在の部屋", Some("location")).unwrap();
    let json = serde_json::to_string(&o).unwrap();
    assert_eq!(
        json,
        r#"{"kind":"assets","by_header":{"現在の部屋":"location","設置場所旧":null,"院内管理番号":"serial"}}"#
    );
    let saved: MappingOverrides = serde_json::from_str(&json).unwrap();
    assert_eq!(saved, o);

    // Next year's file: CP932 CSV, full-width and spaced headers, columns in another order.
    let csv = "機器台帳（令和8年度）\r\n現在の 部屋,機器名,設置場所(旧),種別,院内管理番号\r\n放射線科,超音波診断装置,2階倉庫,医療機器,Ａ－０００３\r\n";
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(csv);
    let sheets = read(&bytes, "機器2026.csv").unwrap();
    let opts = PlanOptions { overrides: Some(saved), sheet: Some("機器2026.csv".into()) };
    let p = plan_with(&sheets, RecordKind::Assets, &[], &References::new(), &opts).unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.header_row, 2);
    assert_eq!(p.columns, [(0, "location"), (1, "name"), (3, "kind"), (4, "serial")]);
    let r = &p.rows[0].row;
    assert_eq!(r.get("serial"), &Value::Text("A-0003".into()));
    assert_eq!(r.get("location"), &Value::Text("放射線科".into()));

    // Keys written by hand, unfolded, still match.
    let hand: MappingOverrides =
        serde_json::from_str(r#"{"kind":"assets","by_header":{"院内 管理番号 ":"serial"}}"#).unwrap();
    assert_eq!(hand.get("院内管理番号"), Some(Some("serial")));
}

#[test]
fn a_chosen_sheet() {
    let sheets = read(&ledger(), "機器.xlsx").unwrap();
    let pick = |s: &str| PlanOptions { overrides: None, sheet: Some(s.to_owned()) };
    let err = plan_with(&sheets, RecordKind::Assets, &[], &References::new(), &pick("ない")).unwrap_err();
    assert_eq!(err, PlanError::NoSuchSheet { sheet: "ない".into() });
    assert_eq!(err.code(), "no-such-sheet");
    let err = plan_with(&sheets, RecordKind::Assets, &[], &References::new(), &pick("説明")).unwrap_err();
    assert_eq!(err.code(), "no-header");
    let pv = preview(&sheets, RecordKind::Assets, &pick("説明")).unwrap();
    assert_eq!((pv.sheet.as_deref(), pv.header_row, pv.detected), (Some("説明"), Some(1), false));
    let p = plan_with(&sheets, RecordKind::Assets, &[], &References::new(), &pick("機器一覧")).unwrap();
    assert_eq!(p.counts(), (2, 0, 0));
}
