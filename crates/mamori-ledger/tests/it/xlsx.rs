use std::net::IpAddr;

use mamori_domain::ledger::AssetKind;
use mamori_domain::record::RecordKind;
use mamori_ledger::header::{find_header, find_sheet};
use mamori_ledger::normalize::{cell_text, parse_asset_kind, parse_date, parse_ips, parse_macs};
use mamori_ledger::read::Cell;
use rust_xlsxwriter::{Format, Formula, Workbook};
use time::macros::date;

use crate::read;

/// What a clinic's 機器台帳 looks like: a title, a blank row, the header on row 3, full-width
/// addresses, 和暦 and a real Excel date, a note at the bottom, and a second sheet.
pub fn clinic_workbook() -> Vec<u8> {
    let mut wb = Workbook::new();
    let date_fmt = Format::new().set_num_format("yyyy/mm/dd");
    let ws = wb.add_worksheet();
    ws.set_name("機器台帳").unwrap();
    ws.write_string(0, 0, "医療情報システム 機器台帳（令和6年度）").unwrap();
    for (c, h) in
        ["No.", "種別", "機器名", "ＩＰアドレス", "MACアドレス", "設置場所", "保守期限", "導入日"].iter().enumerate()
    {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    ws.write_number(3, 0, 1).unwrap();
    ws.write_string(3, 1, "サーバー").unwrap();
    ws.write_string(3, 2, "電子カルテサーバ").unwrap();
    ws.write_string(3, 3, "１９２．１６８．１０．５、192.168.20.5").unwrap();
    ws.write_string(3, 4, "ＡＡ－ＢＢ－ＣＣ－００－１１－２２").unwrap();
    ws.write_string(3, 5, "サーバ室").unwrap();
    ws.write_string(3, 6, "令和8年3月31日").unwrap();
    ws.write_number_with_format(3, 7, 46113.0, &date_fmt).unwrap();
    ws.write_number(4, 0, 2).unwrap();
    ws.write_string(4, 1, "端末").unwrap();
    ws.write_string(4, 2, "受付PC").unwrap();
    ws.write_string(4, 3, "192.168.10.21").unwrap();
    ws.write_string(4, 6, "H31/4/30").unwrap();
    ws.write_formula(4, 7, Formula::new("=1/0").set_result("#DIV/0!")).unwrap();
    ws.write_string(6, 0, "※ IPアドレスは固定割当。保守期限は契約書で確認すること。").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("職員").unwrap();
    ws.write_string(0, 0, "氏名").unwrap();
    ws.write_string(0, 1, "部署").unwrap();
    ws.write_string(1, 0, "山田 花子").unwrap();
    ws.write_string(1, 1, "医事課").unwrap();
    wb.save_to_buffer().unwrap()
}

#[test]
fn clinic_asset_ledger_reads_as_the_user_typed_it() {
    let sheets = read(&clinic_workbook(), "台帳.xlsx").unwrap();
    assert_eq!(sheets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["機器台帳", "職員"]);
    let s = &sheets[0];

    let h = find_header(s, RecordKind::Assets).unwrap();
    assert_eq!((h.row, h.data_start), (2, 3), "header is on Excel row 3");
    assert_eq!(
        h.columns,
        [
            (1, "kind"),
            (2, "name"),
            (3, "ip_addresses"),
            (4, "mac_addresses"),
            (5, "location"),
            (6, "maintenance_until")
        ]
    );
    assert_eq!(h.unmapped, [(0, "No.".to_owned()), (7, "導入日".to_owned())]);

    let server = &s.rows[3];
    assert_eq!(parse_asset_kind(&cell_text(&server[1]).unwrap()), Ok(AssetKind::Server));
    let ips: Vec<IpAddr> = vec!["192.168.10.5".parse().unwrap(), "192.168.20.5".parse().unwrap()];
    assert_eq!(parse_ips(&cell_text(&server[3]).unwrap()), Ok(ips));
    assert_eq!(parse_macs(&cell_text(&server[4]).unwrap()), Ok(vec!["aa:bb:cc:00:11:22".to_owned()]));
    assert_eq!(parse_date(&server[6]), Ok(date!(2026 - 03 - 31)));
    assert_eq!(server[7], Cell::DateTime(46113.0), "a date-formatted number is a date cell");
    assert_eq!(parse_date(&server[7]), Ok(date!(2026 - 04 - 01)));

    let pc = &s.rows[4];
    assert_eq!(parse_asset_kind(&cell_text(&pc[1]).unwrap()), Ok(AssetKind::Pc));
    assert_eq!(pc[4], Cell::Empty);
    assert_eq!(parse_date(&pc[6]), Ok(date!(2019 - 04 - 30)));

    // The note row below the data is kept as a row; the importer skips it because it has no name.
    assert_eq!(s.rows.len(), 7);
    assert!(s.rows[5].is_empty());
    assert_eq!(cell_text(s.cell(6, 2)), None);
}

#[test]
fn formula_errors_surface_with_their_row() {
    let sheets = read(&clinic_workbook(), "台帳.xlsx").unwrap();
    let errors: Vec<_> = sheets[0].errors().collect();
    assert_eq!(errors, [(4, 7, "#DIV/0!")], "Excel row 5, column H");
    assert!(parse_date(&sheets[0].rows[4][7]).is_err());
}

#[test]
fn the_right_sheet_is_found_per_ledger() {
    let sheets = read(&clinic_workbook(), "台帳.xlsx").unwrap();
    assert_eq!(find_sheet(&sheets, RecordKind::Assets).map(|(i, h)| (i, h.row)), Some((0, 2)));
    assert_eq!(find_sheet(&sheets, RecordKind::Staff).map(|(i, h)| (i, h.row)), Some((1, 0)));
}

#[test]
fn merged_parent_header_over_numbered_sub_columns() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "機器名").unwrap();
    ws.merge_range(0, 1, 0, 2, "IPアドレス", &Format::new()).unwrap();
    ws.write_string(0, 3, "場所").unwrap();
    ws.write_number(1, 1, 1).unwrap();
    ws.write_number(1, 2, 2).unwrap();
    ws.write_string(2, 0, "PACS").unwrap();
    ws.write_string(2, 1, "10.1.0.10").unwrap();
    ws.write_string(2, 2, "10.2.0.10").unwrap();
    ws.write_string(2, 3, "放射線科").unwrap();
    let sheets = read(&wb.save_to_buffer().unwrap(), "merged.xlsx").unwrap();
    let h = find_header(&sheets[0], RecordKind::Assets).unwrap();
    assert_eq!((h.row, h.data_start), (0, 2));
    assert_eq!(h.columns_of("ip_addresses").collect::<Vec<_>>(), [1, 2]);
    let ips: Vec<String> = h.columns_of("ip_addresses").filter_map(|c| cell_text(sheets[0].cell(2, c))).collect();
    assert_eq!(ips, ["10.1.0.10", "10.2.0.10"]);
}

#[test]
fn numbers_and_booleans_keep_their_types() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_number(0, 0, 12345).unwrap();
    ws.write_boolean(0, 1, true).unwrap();
    ws.write_number(1, 3, 1.5).unwrap();
    let sheets = read(&wb.save_to_buffer().unwrap(), "n.xlsx").unwrap();
    assert_eq!(sheets[0].rows[0], [Cell::Number(12345.0), Cell::Bool(true)]);
    assert_eq!(sheets[0].rows[1], [Cell::Empty, Cell::Empty, Cell::Empty, Cell::Number(1.5)]);
    assert_eq!(cell_text(&sheets[0].rows[0][0]).as_deref(), Some("12345"));
}
