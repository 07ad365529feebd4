use mamori_domain::record::RecordKind;
use mamori_ledger::header::find_header;
use mamori_ledger::normalize::{cell_text, parse_bool, parse_date};
use mamori_ledger::read::{Cell, Encoding, Limits, read_file};
use time::macros::date;

use crate::read;

const STAFF: &str = "職員台帳\r\n\r\n氏名,職員番号,部署,入職日,退職日,二要素\r\n山田 花子,００１２,医事課,平成30年4月1日,,\r\n鈴木 一郎,0013,放射線科,R2.4.1,2026/3/31,\r\n";

#[test]
fn cp932_csv_as_excel_saves_it() {
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(STAFF);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "the fixture really is CP932");
    let sheets = read(&bytes, "職員.csv").unwrap();
    assert_eq!(sheets.len(), 1);
    assert_eq!(sheets[0].name, "職員.csv");
    let s = &sheets[0];
    let h = find_header(s, RecordKind::Staff).unwrap();
    assert_eq!(h.row, 2);
    assert_eq!(h.columns, [(0, "name"), (1, "staff_number"), (2, "department"), (3, "joined_on"), (4, "retired_on")]);
    assert_eq!(s.rows[3][0], Cell::Text("山田 花子".into()));
    assert_eq!(cell_text(&s.rows[3][1]).as_deref(), Some("0012"), "full-width digits, leading zeros kept");
    assert_eq!(parse_date(&s.rows[3][3]), Ok(date!(2018 - 04 - 01)));
    assert_eq!(parse_date(&s.rows[4][3]), Ok(date!(2020 - 04 - 01)));
    assert_eq!(parse_date(&s.rows[4][4]), Ok(date!(2026 - 03 - 31)));
}

#[test]
fn cp932_only_characters_decode() {
    // ① and ｶﾅ exist in CP932 but not in JIS X 0208 proper; 髙 is an IBM extension.
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode("氏名,備考\n髙橋,①ｶﾅ\n");
    assert!(!unmappable);
    let s = read_file(&bytes, "x.csv", Encoding::ShiftJis, &Limits::default()).unwrap();
    assert_eq!(s[0].rows[1], [Cell::Text("髙橋".into()), Cell::Text("①ｶﾅ".into())]);
}

#[test]
fn utf8_bom_csv() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend("事業者名,電話番号,緊急連絡先\n○○メディカル,03-1234-5678,090-0000-0000\n".as_bytes());
    let s = read(&bytes, "vendors.csv").unwrap();
    assert_eq!(s[0].rows[0][0], Cell::Text("事業者名".into()), "the BOM is not part of the first cell");
    let h = find_header(&s[0], RecordKind::Vendors).unwrap();
    assert_eq!(h.columns, [(0, "name"), (1, "phone"), (2, "emergency_contact")]);
}

#[test]
fn tsv_is_sniffed() {
    let s = read("アカウント\t区分\t二要素認証\nadmin\t共用\t○\n".as_bytes(), "accounts.txt").unwrap();
    let h = find_header(&s[0], RecordKind::Accounts).unwrap();
    assert_eq!(h.columns, [(0, "username"), (1, "holder"), (2, "mfa")]);
    assert_eq!(parse_bool(&cell_text(&s[0].rows[1][2]).unwrap()), Ok(true));
}
