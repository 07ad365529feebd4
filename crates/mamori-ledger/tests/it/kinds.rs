//! The five ledgers beyond assets, staff, vendors, accounts and segments, each from a file as
//! a clinic or vendor would write it; and every ledger's blank template filled in and read back.

use std::collections::HashMap;

use mamori_domain::RecordId;
use mamori_domain::ledger::{Asset, AssetKind};
use mamori_domain::record::{Record, RecordKind, Row, Value};
use mamori_ledger::export::{self, CsvEncoding, Lang};
use mamori_ledger::normalize::{self, cell_text};
use mamori_ledger::plan::{Action, Level, Plan, References, plan};
use mamori_ledger::read::{Cell, Sheet};
use rust_xlsxwriter::{Format, Workbook};
use time::macros::{date, datetime};

use crate::read;

fn codes(p: &Plan) -> Vec<(usize, Option<usize>, &'static str)> {
    p.problems.iter().map(|p| (p.row, p.column, p.code)).collect()
}

/// A workbook with a title on row 1, the header on row 3 and `data` below; `dates` are
/// columns whose cells are written as real Excel dates (serials) instead of text.
fn workbook(sheet: &str, title: &str, header: &[&str], data: &[&[&str]], dates: &[usize]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let date_fmt = Format::new().set_num_format("yyyy/mm/dd");
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    ws.write_string(0, 0, title).unwrap();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for (r, row) in data.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 3, c as u16);
            if v.is_empty() {
                continue;
            }
            if dates.contains(&(c as usize)) && v.parse::<f64>().is_ok() {
                ws.write_number_with_format(r, c, v.parse::<f64>().unwrap(), &date_fmt).unwrap();
            } else {
                ws.write_string(r, c, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

fn cp932(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable, "the fixture fits CP932");
    bytes.into_owned()
}

fn rows_of(p: &Plan) -> Vec<Row> {
    p.rows.iter().map(|r| r.row.clone()).collect()
}

#[test]
fn sites_from_a_cp932_csv() {
    let csv = "拠点一覧\r\n\r\n施設名,住所,備考\r\n本院,東京都千代田区〇〇1-2-3,\r\n第二診療所,東京都千代田区〇〇4-5-6,分院\r\n";
    let sheets = read(&cp932(csv), "拠点.csv").unwrap();
    let p = plan(&sheets, RecordKind::Sites, &[], &References::new()).unwrap();
    assert_eq!(p.header_row, 3);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.counts(), (2, 0, 0));
    assert_eq!(p.rows[1].row.get("address"), &Value::Text("東京都千代田区〇〇4-5-6".into()));
    let again = plan(&sheets, RecordKind::Sites, &rows_of(&p), &References::new()).unwrap();
    assert_eq!(again.counts(), (0, 0, 2));
}

#[test]
fn software_by_host_name_or_asset_name() {
    let mut pc = Asset::new(AssetKind::Pc, "受付PC");
    pc.hostname = Some("UKETSUKE-PC01".into());
    let server = Asset::new(AssetKind::Server, "電子カルテサーバ");
    let mut refs = References::new();
    refs.add_row(&pc.to_row());
    refs.add_row(&server.to_row());
    // 46843 is 2028-03-31.
    let bytes = workbook(
        "ソフトウェア",
        "ソフトウェア台帳（令和7年度）",
        &["No.", "ホスト名", "製品名", "発行元", "Ver.", "CPE", "サポート終了日（EOL）"],
        &[
            &["1", "uketsuke-pc01", "Adobe Acrobat Reader", "Adobe", "2025.001", "", ""],
            &[
                "2",
                "電子カルテサーバ",
                "Windows Server 2019",
                "Microsoft",
                "1809",
                "cpe:2.3:o:microsoft:windows_server_2019:-:*:*:*:*:*:*:*",
                "令和11年1月9日",
            ],
            &["3", "電子カルテサーバ", "Adobe Acrobat Reader", "Adobe", "2024.002", "", "46843"],
            &["4", "UKETSUKE-PC01", "Adobe Acrobat Reader", "Adobe", "2025.002", "", ""],
            &["5", "事務室PC", "ウイルス対策ソフト", "", "", "", ""],
        ],
        &[6],
    );
    let sheets = read(&bytes, "ソフトウェア台帳.xlsx").unwrap();
    let p = plan(&sheets, RecordKind::Software, &[], &refs).unwrap();
    assert_eq!(p.header_row, 3);
    assert_eq!(
        p.columns,
        [(1, "asset_id"), (2, "name"), (3, "publisher"), (4, "version"), (5, "cpe"), (6, "end_of_life")]
    );
    // Row 7 names the same software on the same PC as row 4; row 8 names an unknown PC.
    assert_eq!(
        codes(&p),
        [(7, None, "duplicate-key"), (8, Some(1), "unknown-reference"), (8, Some(1), "missing-required")]
    );
    assert_eq!(p.problems[1].level, Level::Warning);
    assert_eq!(p.counts(), (3, 0, 0), "the same software on two machines is two records");
    let r = &p.rows[0].row;
    assert_eq!(r.get("asset_id"), &Value::Ref(pc.id.0));
    assert_eq!(p.rows[1].row.get("asset_id"), &Value::Ref(server.id.0));
    assert_eq!(p.rows[1].row.get("end_of_life"), &Value::Date(date!(2029 - 01 - 09)));
    assert_eq!(p.rows[2].row.get("end_of_life"), &Value::Date(date!(2028 - 03 - 31)));

    // Re-import with a new version on the PC: an update of the same record.
    let existing = rows_of(&p);
    let bytes = workbook(
        "ソフトウェア",
        "",
        &["ホスト名", "ソフトウェア名", "バージョン"],
        &[&["UKETSUKE-PC01", "Adobe Acrobat Reader", "2025.003"]],
        &[],
    );
    let again = plan(&read(&bytes, "s.xlsx").unwrap(), RecordKind::Software, &existing, &refs).unwrap();
    assert_eq!(again.counts(), (0, 1, 0));
    assert_eq!(again.rows[0].row.id, existing[0].id);
    assert_eq!(again.rows[0].row.get("publisher"), &Value::Text("Adobe".into()), "unmapped fields are kept");
}

#[test]
fn contracts_with_era_dates_and_vendor_names() {
    let vendor = RecordId::new();
    let mut refs = References::new();
    refs.add("vendors", "株式会社みまもりメディカルシステムズ", vendor);
    // 45748 is 2025-04-01.
    let bytes = workbook(
        "契約一覧",
        "保守契約 一覧",
        &["業者名", "件名", "保守範囲", "契約開始", "契約期限", "責任分界", "備考"],
        &[
            &[
                "株式会社みまもりメディカルシステムズ",
                "電子カルテシステム保守契約",
                "サーバ・端末・院内LAN",
                "45748",
                "令和8年3月31日",
                "院内LANまでは事業者、インターネット回線は医療機関",
                "",
            ],
            &["株式会社みまもりメディカルシステムズ", "ＵＴＭ 保守", "UTM本体", "R7.4.1", "R8.3.31", "", "自動更新"],
            &["未登録の業者", "複合機保守", "", "", "", "", ""],
        ],
        &[3],
    );
    let sheets = read(&bytes, "契約.xlsx").unwrap();
    let p = plan(&sheets, RecordKind::Contracts, &[], &refs).unwrap();
    assert_eq!(codes(&p), [(6, Some(0), "unknown-reference"), (6, Some(0), "missing-required")]);
    assert_eq!(p.counts(), (2, 0, 0));
    let c = &p.rows[0].row;
    assert_eq!(c.get("vendor_id"), &Value::Ref(vendor.0));
    assert_eq!(c.get("starts_on"), &Value::Date(date!(2025 - 04 - 01)));
    assert_eq!(c.get("ends_on"), &Value::Date(date!(2026 - 03 - 31)));
    assert_eq!(p.rows[1].row.get("title"), &Value::Text("UTM 保守".into()));
    // Same vendor and title (after NFKC and case folding): the same contract.
    let bytes = workbook(
        "契約一覧",
        "",
        &["事業者名", "契約名", "満了日"],
        &[&["株式会社みまもりメディカルシステムズ", "utm 保守", "令和9年3月31日"]],
        &[],
    );
    let again = plan(&read(&bytes, "c.xlsx").unwrap(), RecordKind::Contracts, &rows_of(&p), &refs).unwrap();
    assert_eq!(again.counts(), (0, 1, 0));
    assert_eq!(again.rows[0].row.id, p.rows[1].row.id);
    assert_eq!(again.rows[0].row.get("ends_on"), &Value::Date(date!(2027 - 03 - 31)));
}

#[test]
fn remote_maintenance_from_a_utf8_csv() {
    let (vendor, emr) = (RecordId::new(), RecordId::new());
    let mut refs = References::new();
    refs.add("vendors", "みまもりネットワーク保守株式会社", vendor);
    refs.add("assets", "電子カルテサーバ", emr);
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(
        "保守業者,対象機器,接続方法,認証方式,接続元制限,承認手順,確認日,最終利用日\r\n\
         みまもりネットワーク保守株式会社,電子カルテサーバ,VPN（IPsec）,証明書＋ID/パスワード,保守センターの固定IP,都度 事務長が承認,2026/4/1,2026/3/15 14:05\r\n\
         みまもりネットワーク保守株式会社,電子カルテサーバ,リモートデスクトップ,ID/パスワード,なし,,R8.4.1,\r\n\
         みまもりネットワーク保守株式会社,,TeamViewer,,,,,\r\n\
         みまもりネットワーク保守株式会社,電子カルテサーバ,電話回線,,,,,\r\n"
            .as_bytes(),
    );
    let sheets = read(&bytes, "リモート保守.csv").unwrap();
    let p = plan(&sheets, RecordKind::RemoteMaintenance, &[], &refs).unwrap();
    assert_eq!(codes(&p), [(5, Some(2), "unknown-choice")]);
    assert_eq!(p.counts(), (3, 0, 0), "vendor, asset and method make the key");
    let vpn = &p.rows[0].row;
    assert_eq!(vpn.get("method"), &Value::Text("vpn".into()));
    assert_eq!(vpn.get("asset_id"), &Value::Ref(emr.0));
    assert_eq!(vpn.get("confirmed_on"), &Value::Date(date!(2026 - 04 - 01)));
    assert_eq!(vpn.get("last_used_at"), &Value::Timestamp(datetime!(2026-03-15 05:05 UTC)));
    assert_eq!(vpn.get("source_restriction"), &Value::Text("保守センターの固定IP".into()));
    assert_eq!(p.rows[1].row.get("method"), &Value::Text("rdp".into()));
    assert_eq!(p.rows[2].row.get("method"), &Value::Text("teamviewer".into()));
    assert_eq!(p.rows[2].row.get("asset_id"), &Value::Null);
    let again = plan(&sheets, RecordKind::RemoteMaintenance, &rows_of(&p), &refs).unwrap();
    assert_eq!(again.counts(), (0, 0, 3));
}

#[test]
fn mds_sds_received() {
    let vendor = RecordId::new();
    let mut refs = References::new();
    refs.add("vendors", "みまもり医療機器株式会社", vendor);
    // 45809 is 2025-06-01.
    let bytes = workbook(
        "MDS・SDS",
        "MDS/SDS 受領状況",
        &["システム名", "事業者", "文書", "バージョン", "受領日", "備考"],
        &[
            &["超音波診断装置", "みまもり医療機器株式会社", "MDS", "第2.0版", "45809", ""],
            &["超音波診断装置", "みまもり医療機器株式会社", "ＳＤＳ", "第2.0版", "令和7年6月1日", ""],
            &["電子カルテ", "", "製造業者による医療情報セキュリティ開示書", "", "", "事業者に依頼中"],
            &["心電計", "", "取扱説明書", "", "", ""],
        ],
        &[4],
    );
    let sheets = read(&bytes, "MDS.xlsx").unwrap();
    let p = plan(&sheets, RecordKind::MdsSds, &[], &refs).unwrap();
    assert_eq!(codes(&p), [(7, Some(2), "unknown-choice")]);
    assert_eq!(p.counts(), (3, 0, 0));
    assert_eq!(p.rows[0].row.get("document"), &Value::Text("mds".into()));
    assert_eq!(p.rows[0].row.get("received_on"), &Value::Date(date!(2025 - 06 - 01)));
    assert_eq!(p.rows[1].row.get("document"), &Value::Text("sds".into()));
    assert_eq!(p.rows[2].row.get("document"), &Value::Text("mds".into()));
    assert_eq!(p.rows[2].row.get("vendor_id"), &Value::Null);
    let again = plan(&sheets, RecordKind::MdsSds, &rows_of(&p), &refs).unwrap();
    assert_eq!(again.counts(), (0, 0, 3));
}

// ---- templates ------------------------------------------------------------------------------

/// The names the template's example row refers to, as records the clinic already has.
fn example_refs() -> (References, HashMap<uuid::Uuid, String>) {
    let names = [
        ("sites", "本院"),
        ("network_segments", "医療機器ネットワーク"),
        ("vendors", "〇〇メディカル株式会社"),
        ("assets", "電子カルテサーバ"),
        ("persons", "山田 花子"),
        ("evidence", "MDS_電子カルテ_2025.pdf"),
    ];
    let mut refs = References::new();
    let mut by_id = HashMap::new();
    for (table, name) in names {
        let id = RecordId::new();
        refs.add(table, name, id);
        by_id.insert(id.0, name.to_owned());
    }
    (refs, by_id)
}

/// A cell as a person would type it into a CSV file (a date-time keeps its time).
fn typed(cell: &Cell) -> String {
    match cell {
        Cell::DateTime(serial) if serial.fract() != 0.0 => {
            let day = cell_text(cell).unwrap();
            let minutes = (serial.fract() * 1440.0).round() as u32;
            format!("{day} {:02}:{:02}", minutes / 60, minutes % 60)
        }
        c => cell_text(c).unwrap_or_default(),
    }
}

/// The template's blank sheet and its example sheet, read back.
fn template(kind: RecordKind, lang: Lang) -> (Sheet, Sheet) {
    let sheets = read(&export::template_xlsx(kind, lang).unwrap(), "template.xlsx").unwrap();
    assert_eq!(sheets.len(), 2);
    let mut it = sheets.into_iter();
    (it.next().unwrap(), it.next().unwrap())
}

/// One created row, no problems, and exporting it renders the example row again.
fn assert_round_trip(kind: RecordKind, lang: Lang, filled: &[u8], name: &str, example: &Sheet) {
    let (refs, names) = example_refs();
    let p = plan(&read(filled, name).unwrap(), kind, &[], &refs).unwrap();
    assert!(p.problems.is_empty(), "{kind} {name}: {:?}", p.problems);
    assert!(p.unmapped.is_empty(), "{kind} {name}: {:?}", p.unmapped);
    assert_eq!(p.columns.len(), kind.fields().len(), "{kind} {name}");
    assert_eq!(p.counts(), (1, 0, 0), "{kind} {name}");
    assert_eq!(p.rows[0].action, Action::Create);
    let out = export::to_xlsx(kind, &rows_of(&p), &names, lang).unwrap();
    let out = read(&out, "out.xlsx").unwrap();
    // Text is imported NFKC-normalised (（24時間） → (24時間)), as every cell is.
    let nfkc = |cells: &[Cell]| -> Vec<Cell> {
        cells.iter().map(|c| if let Cell::Text(t) = c { Cell::Text(normalize::text(t)) } else { c.clone() }).collect()
    };
    assert_eq!(nfkc(&out[0].rows[1]), nfkc(&example.rows[1]), "{kind} {name}: the imported row exports as the example");
}

#[test]
fn every_blank_xlsx_template_fills_in_and_imports() {
    for lang in [Lang::Ja, Lang::En] {
        for kind in RecordKind::ALL {
            let (blank, example) = template(kind, lang);
            assert_eq!(blank.rows.len(), 1, "{kind}: the blank sheet is the header only");
            // Fill in the blank sheet as a user would: the template's header, one row below.
            let mut wb = Workbook::new();
            let ws = wb.add_worksheet();
            ws.set_name(&blank.name).unwrap();
            let date_fmt = Format::new().set_num_format("yyyy-mm-dd hh:mm");
            for (c, h) in blank.rows[0].iter().enumerate() {
                ws.write_string(0, c as u16, cell_text(h).unwrap()).unwrap();
            }
            for (c, v) in example.rows[1].iter().enumerate() {
                let c = c as u16;
                match v {
                    Cell::Empty => {}
                    Cell::DateTime(x) => {
                        ws.write_number_with_format(1, c, *x, &date_fmt).unwrap();
                    }
                    Cell::Number(x) => {
                        ws.write_number(1, c, *x).unwrap();
                    }
                    other => {
                        ws.write_string(1, c, cell_text(other).unwrap()).unwrap();
                    }
                }
            }
            let filled = wb.save_to_buffer().unwrap();
            assert_round_trip(kind, lang, &filled, &format!("{lang:?}.xlsx"), &example);
        }
    }
}

#[test]
fn every_blank_csv_template_fills_in_and_imports() {
    for kind in RecordKind::ALL {
        let (_, example) = template(kind, Lang::Ja);
        let blank = export::to_csv(kind, &[], &HashMap::new(), Lang::Ja, CsvEncoding::ShiftJis).unwrap();
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        w.write_record(example.rows[1].iter().map(typed)).unwrap();
        let line = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let filled = [blank, cp932(&line)].concat();
        assert_round_trip(kind, Lang::Ja, &filled, "template.csv", &example);
    }
}
