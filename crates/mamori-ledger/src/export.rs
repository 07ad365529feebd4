//! Writing ledgers out as files people open in Excel: XLSX (a formatted sheet per ledger) and
//! CSV (CP932 by default, as Excel on Japanese Windows reads it; or UTF-8 with a BOM).
//!
//! Column titles and value labels are written as the clinic's own ledgers would write them
//! (機器名, 保守期限, サーバ, はい/いいえ). This module only renders rows it is given: it does not
//! read the store, and it never silently changes a value (a character CP932 cannot hold is an
//! error naming the row and field, not a `?`).

use mamori_domain::ledger::{AccountHolder, AccountStatus, AssetKind, Criticality, RemoteMethod, SecurityDisclosure};
use mamori_domain::record::{Field, FieldType, RecordKind, Row, Value};
use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use std::collections::HashMap;
use time::{Date, PrimitiveDateTime, UtcOffset};

/// The language of column titles and value labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

/// How a CSV file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvEncoding {
    /// UTF-8 with a byte-order mark, so Excel recognises it as UTF-8.
    Utf8Bom,
    /// Shift_JIS as Windows writes it (CP932): what Excel on Japanese Windows opens by default.
    #[default]
    ShiftJis,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// `row` counts lines of the file as a spreadsheet does: the header is row 1.
    #[error("row {row}, {field}: {character:?} cannot be written in Shift_JIS (CP932)")]
    NotRepresentable { row: usize, field: &'static str, character: char },
    #[error("cannot write the XLSX file: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("cannot write the CSV file: {0}")]
    Csv(#[from] csv::Error),
}

/// Japanese Standard Time: timestamps are stored in UTC and shown as clinics read clocks.
const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

/// The ledger's name, as a title and as the XLSX sheet name (at most 31 characters, no `/`).
pub fn ledger_title(kind: RecordKind, lang: Lang) -> &'static str {
    use RecordKind::*;
    match (lang, kind) {
        (Lang::Ja, Sites) => "拠点一覧",
        (Lang::Ja, Segments) => "ネットワーク構成",
        (Lang::Ja, Assets) => "機器台帳",
        (Lang::Ja, Software) => "ソフトウェア台帳",
        (Lang::Ja, Staff) => "職員名簿",
        (Lang::Ja, Accounts) => "アカウント台帳",
        (Lang::Ja, Vendors) => "事業者台帳",
        (Lang::Ja, Contracts) => "契約台帳",
        (Lang::Ja, RemoteMaintenance) => "リモートメンテナンス接続台帳",
        (Lang::Ja, MdsSds) => "MDS・SDS受領状況",
        (Lang::En, Sites) => "Sites",
        (Lang::En, Segments) => "Network segments",
        (Lang::En, Assets) => "Assets",
        (Lang::En, Software) => "Software",
        (Lang::En, Staff) => "Staff",
        (Lang::En, Accounts) => "Accounts",
        (Lang::En, Vendors) => "Vendors",
        (Lang::En, Contracts) => "Contracts",
        (Lang::En, RemoteMaintenance) => "Remote maintenance",
        (Lang::En, MdsSds) => "MDS-SDS received",
    }
}

/// The column title of a field: `(ja, en)`. Unknown fields (never in practice) get their name.
pub fn column_title(kind: RecordKind, field: &str, lang: Lang) -> String {
    match titles(kind, field) {
        Some((ja, en)) => if lang == Lang::Ja { ja } else { en }.to_owned(),
        None => field.to_owned(),
    }
}

fn titles(kind: RecordKind, field: &str) -> Option<(&'static str, &'static str)> {
    use RecordKind::*;
    let t = match (kind, field) {
        (_, "notes") => ("備考", "Notes"),
        (Sites, "name") => ("拠点名", "Site"),
        (Sites, "address") => ("所在地", "Address"),
        (Segments, "name") => ("ネットワーク名", "Segment"),
        (Segments, "site_id") => ("拠点", "Site"),
        (Segments, "cidrs") => ("アドレス範囲（CIDR）", "Address ranges (CIDR)"),
        (Segments, "purpose") => ("用途", "Purpose"),
        (Segments, "vlan") => ("VLAN ID", "VLAN ID"),
        (Assets, "kind") => ("種別", "Kind"),
        (Assets, "name") => ("機器名", "Name"),
        (Assets, "hostname") => ("ホスト名", "Hostname"),
        (Assets, "site_id") => ("拠点", "Site"),
        (Assets, "segment_id") => ("ネットワーク", "Network segment"),
        (Assets, "maker") => ("メーカー", "Maker"),
        (Assets, "model") => ("型番", "Model"),
        (Assets, "serial") => ("製造番号", "Serial number"),
        (Assets, "location") => ("設置場所", "Location"),
        (Assets, "department") => ("部署", "Department"),
        (Assets, "ip_addresses") => ("IPアドレス", "IP addresses"),
        (Assets, "mac_addresses") => ("MACアドレス", "MAC addresses"),
        (Assets, "os_name") => ("OS", "OS"),
        (Assets, "os_version") => ("OSバージョン", "OS version"),
        (Assets, "firmware_version") => ("ファームウェア", "Firmware"),
        (Assets, "criticality") => ("診療上の重要度", "Clinical criticality"),
        (Assets, "fragile") => ("検査時の配慮（脆弱な機器）", "Fragile (scan with care)"),
        (Assets, "owner") => ("管理者", "Owner"),
        (Assets, "maintenance_vendor_id") => ("保守業者", "Maintenance vendor"),
        (Assets, "maintenance_until") => ("保守期限", "Maintenance until"),
        (Software, "asset_id") => ("導入機器", "Installed on"),
        (Software, "name") => ("ソフトウェア名", "Name"),
        (Software, "publisher") => ("提供元", "Publisher"),
        (Software, "version") => ("バージョン", "Version"),
        (Software, "cpe") => ("CPE名", "CPE name"),
        (Software, "end_of_life") => ("サポート終了日", "End of support"),
        (Staff, "name") => ("氏名", "Name"),
        (Staff, "name_kana") => ("氏名（カナ）", "Name (kana)"),
        (Staff, "staff_number") => ("職員番号", "Staff number"),
        (Staff, "department") => ("部署", "Department"),
        (Staff, "job_title") => ("職種", "Job title"),
        (Staff, "email") => ("メールアドレス", "Email"),
        (Staff, "joined_on") => ("入職日", "Joined on"),
        (Staff, "retired_on") => ("退職日", "Retired on"),
        (Accounts, "system") => ("システム", "System"),
        (Accounts, "username") => ("ユーザID", "User ID"),
        (Accounts, "asset_id") => ("対象機器", "Asset"),
        (Accounts, "holder") => ("利用者区分", "Holder"),
        (Accounts, "person_id") => ("利用者（職員）", "Staff member"),
        (Accounts, "vendor_id") => ("事業者", "Vendor"),
        (Accounts, "role") => ("権限", "Role"),
        (Accounts, "privileged") => ("管理者権限", "Privileged"),
        (Accounts, "mfa") => ("二要素認証", "Two-factor authentication"),
        (Accounts, "last_login_at") => ("最終ログイン日時", "Last login"),
        (Accounts, "status") => ("状態", "Status"),
        (Vendors, "name") => ("事業者名", "Vendor"),
        (Vendors, "service") => ("提供サービス", "Service"),
        (Vendors, "contact_name") => ("担当者", "Contact"),
        (Vendors, "phone") => ("電話番号", "Phone"),
        (Vendors, "email") => ("メールアドレス", "Email"),
        (Vendors, "emergency_contact") => ("緊急連絡先", "Emergency contact"),
        (Vendors, "address") => ("所在地", "Address"),
        (Contracts, "vendor_id") => ("事業者", "Vendor"),
        (Contracts, "title") => ("契約名", "Contract"),
        (Contracts, "scope") => ("契約範囲", "Scope"),
        (Contracts, "starts_on") => ("契約開始日", "Starts on"),
        (Contracts, "ends_on") => ("契約終了日", "Ends on"),
        (Contracts, "responsibility") => ("責任分界", "Division of responsibility"),
        (RemoteMaintenance, "vendor_id") => ("事業者", "Vendor"),
        (RemoteMaintenance, "asset_id") => ("接続先機器", "Asset"),
        (RemoteMaintenance, "method") => ("接続方式", "Method"),
        (RemoteMaintenance, "authentication") => ("認証方式", "Authentication"),
        (RemoteMaintenance, "source_restriction") => ("接続元制限", "Source restriction"),
        (RemoteMaintenance, "approval_rule") => ("接続時の承認手順", "Approval rule"),
        (RemoteMaintenance, "confirmed_on") => ("事業者との確認日", "Confirmed with vendor on"),
        (RemoteMaintenance, "last_used_at") => ("最終接続日時", "Last connected"),
        (MdsSds, "system") => ("対象システム", "System"),
        (MdsSds, "vendor_id") => ("事業者", "Vendor"),
        (MdsSds, "document") => ("文書", "Document"),
        (MdsSds, "version") => ("版", "Version"),
        (MdsSds, "received_on") => ("受領日", "Received on"),
        (MdsSds, "evidence_id") => ("受領ファイル", "Received file"),
        _ => return None,
    };
    Some(t)
}

/// The label of a stored enum code (`server` → サーバ), or `None` when the field is not an
/// enum or the code is unknown. Matching on the domain enums keeps every variant labelled.
pub fn enum_label(kind: RecordKind, field: &str, code: &str, lang: Lang) -> Option<&'static str> {
    let ja = lang == Lang::Ja;
    let pick = |j: &'static str, e: &'static str| if ja { j } else { e };
    match (kind, field) {
        (RecordKind::Assets, "kind") => Some(match AssetKind::parse(code)? {
            AssetKind::Server => pick("サーバ", "Server"),
            AssetKind::Pc => pick("端末PC", "PC"),
            AssetKind::NetworkDevice => pick("ネットワーク機器", "Network device"),
            AssetKind::MedicalDevice => pick("医療機器", "Medical device"),
            AssetKind::Iot => pick("IoT", "IoT"),
            AssetKind::Other => pick("その他", "Other"),
        }),
        (RecordKind::Assets, "criticality") => Some(match Criticality::parse(code)? {
            Criticality::High => pick("高", "High"),
            Criticality::Medium => pick("中", "Medium"),
            Criticality::Low => pick("低", "Low"),
        }),
        (RecordKind::Accounts, "holder") => Some(match AccountHolder::parse(code)? {
            AccountHolder::Person => pick("個人", "Person"),
            AccountHolder::Shared => pick("共用", "Shared"),
            AccountHolder::Service => pick("サービス用", "Service"),
            AccountHolder::Vendor => pick("事業者用", "Vendor"),
        }),
        (RecordKind::Accounts, "status") => Some(match AccountStatus::parse(code)? {
            AccountStatus::Enabled => pick("有効", "Enabled"),
            AccountStatus::Disabled => pick("無効", "Disabled"),
            AccountStatus::Removed => pick("削除済み", "Removed"),
        }),
        (RecordKind::RemoteMaintenance, "method") => Some(match RemoteMethod::parse(code)? {
            RemoteMethod::Vpn => "VPN",
            RemoteMethod::Rdp => pick("リモートデスクトップ（RDP）", "Remote Desktop (RDP)"),
            RemoteMethod::TeamViewer => "TeamViewer",
            RemoteMethod::AnyDesk => "AnyDesk",
            RemoteMethod::Ssh => "SSH",
            RemoteMethod::Other => pick("その他", "Other"),
        }),
        (RecordKind::MdsSds, "document") => Some(match SecurityDisclosure::parse(code)? {
            SecurityDisclosure::Mds => "MDS",
            SecurityDisclosure::Sds => "SDS",
        }),
        _ => None,
    }
}

/// The columns a list shows (the CLI's `ledger list`, the web ledger page): enough to
/// recognise each record.
pub fn summary_fields(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Sites => &["name", "address"],
        RecordKind::Segments => &["name", "cidrs", "purpose", "vlan"],
        RecordKind::Assets => &["kind", "name", "hostname", "ip_addresses", "department", "criticality"],
        RecordKind::Software => &["name", "version", "asset_id", "end_of_life"],
        RecordKind::Staff => &["name", "staff_number", "department", "job_title", "retired_on"],
        RecordKind::Accounts => &["system", "username", "holder", "privileged", "mfa", "status"],
        RecordKind::Vendors => &["name", "service", "contact_name", "phone"],
        RecordKind::Contracts => &["title", "vendor_id", "starts_on", "ends_on"],
        RecordKind::RemoteMaintenance => &["vendor_id", "asset_id", "method", "source_restriction", "confirmed_on"],
        RecordKind::MdsSds => &["system", "document", "vendor_id", "received_on"],
    }
}

/// What a person calls a record when another record refers to it (a vendor's name, an
/// account's `system / username`), for rendering references.
pub fn display_name(row: &Row) -> Option<String> {
    let text = |f: &str| match row.get(f) {
        Value::Text(s) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    };
    match row.kind {
        RecordKind::Accounts => Some(format!("{} / {}", text("system")?, text("username")?)),
        RecordKind::Contracts => text("title"),
        RecordKind::MdsSds => text("system"),
        RecordKind::RemoteMaintenance => None,
        _ => text("name"),
    }
}

/// The kinds `kind`'s reference fields point at (whose names a caller may look up).
pub fn referenced_kinds(kind: RecordKind) -> Vec<RecordKind> {
    let mut out: Vec<RecordKind> = kind.fields().iter().filter_map(|f| RecordKind::from_table(f.refers_to?)).collect();
    out.sort();
    out.dedup();
    out
}

/// One rendered cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Date(Date),
    /// Local (JST) wall-clock time.
    DateTime(PrimitiveDateTime),
}

impl Cell {
    /// The cell as CSV text: dates as `2026-04-01`, times as `2026-04-01 09:30`.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::DateTime(t) => format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()),
        }
    }
}

/// Renders one value of `field` for people: enum codes as labels, references as the
/// referenced record's name when `names` has it (else the id), lists one item per line.
pub fn render(kind: RecordKind, field: &Field, value: &Value, names: &HashMap<uuid::Uuid, String>, lang: Lang) -> Cell {
    let ja = lang == Lang::Ja;
    match value {
        Value::Null => Cell::Empty,
        Value::Text(s) => Cell::Text(enum_label(kind, field.name, s, lang).map_or_else(|| s.clone(), str::to_owned)),
        Value::Int(i) => Cell::Int(*i),
        Value::Bool(b) => Cell::Text(
            match (b, ja) {
                (true, true) => "はい",
                (false, true) => "いいえ",
                (true, false) => "Yes",
                (false, false) => "No",
            }
            .to_owned(),
        ),
        Value::Date(d) => Cell::Date(*d),
        Value::Timestamp(t) => {
            let t = t.to_offset(JST);
            Cell::DateTime(PrimitiveDateTime::new(t.date(), t.time()))
        }
        Value::Ref(u) => Cell::Text(names.get(u).cloned().unwrap_or_else(|| u.hyphenated().to_string())),
        Value::TextList(l) => Cell::Text(l.join("\n")),
    }
}

fn render_row(row: &Row, names: &HashMap<uuid::Uuid, String>, lang: Lang) -> Vec<Cell> {
    row.kind.fields().iter().map(|f| render(row.kind, f, row.get(f.name), names, lang)).collect()
}

fn header(kind: RecordKind, lang: Lang) -> Vec<String> {
    kind.fields().iter().map(|f| column_title(kind, f.name, lang)).collect()
}

// ---- XLSX ---------------------------------------------------------------------------------

/// Display width in Excel's character units, roughly: East Asian characters are two wide.
fn display_width(s: &str) -> usize {
    s.lines()
        .map(|l| {
            l.chars().map(|c| if (c as u32) >= 0x1100 && !matches!(c, '\u{FF61}'..='\u{FF9F}') { 2 } else { 1 }).sum()
        })
        .max()
        .unwrap_or(0)
}

struct Formats {
    header: Format,
    text: Format,
    date: Format,
    datetime: Format,
}

impl Formats {
    fn new() -> Self {
        let base = Format::new().set_align(FormatAlign::Top);
        Formats {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDD_EB_F7))
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::Center)
                .set_text_wrap(),
            // `@`: cells typed later in these columns stay text, so 0-leading numbers survive.
            text: base.clone().set_num_format("@").set_text_wrap(),
            date: base.clone().set_num_format("yyyy-mm-dd"),
            datetime: base.set_num_format("yyyy-mm-dd hh:mm"),
        }
    }
}

/// Writes a header row and data rows to `sheet`, with filter, frozen header and widths.
fn write_sheet(sheet: &mut Worksheet, kind: RecordKind, rows: &[Vec<Cell>], lang: Lang) -> Result<(), XlsxError> {
    let formats = Formats::new();
    let titles = header(kind, lang);
    let mut widths: Vec<usize> = titles.iter().map(|t| display_width(t)).collect();
    for (c, (field, title)) in kind.fields().iter().zip(&titles).enumerate() {
        let col = c as u16;
        sheet.write_string_with_format(0, col, title, &formats.header)?;
        if matches!(field.ty, FieldType::Text | FieldType::TextList | FieldType::Ref) {
            sheet.set_column_format(col, &formats.text)?;
        }
    }
    for (r, cells) in rows.iter().enumerate() {
        let row = r as u32 + 1;
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    sheet.write_string_with_format(row, col, s, &formats.text)?;
                }
                Cell::Int(i) => {
                    sheet.write_number(row, col, *i as f64)?;
                }
                Cell::Date(d) => {
                    let x = ExcelDateTime::from_ymd(d.year() as u16, d.month().into(), d.day())?;
                    sheet.write_datetime_with_format(row, col, &x, &formats.date)?;
                }
                Cell::DateTime(t) => {
                    let x = ExcelDateTime::from_ymd(t.year() as u16, t.month().into(), t.day())?.and_hms(
                        t.hour().into(),
                        t.minute(),
                        t.second(),
                    )?;
                    sheet.write_datetime_with_format(row, col, &x, &formats.datetime)?;
                }
            }
            widths[c] = widths[c].max(display_width(&cell.to_text()));
        }
    }
    let last_col = (titles.len() - 1) as u16;
    sheet.autofilter(0, 0, rows.len().max(1) as u32, last_col)?;
    sheet.set_freeze_panes(1, 0)?;
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w as f64 + 2.0).clamp(8.0, 60.0))?;
    }
    Ok(())
}

/// The ledger as an XLSX workbook with one sheet named after it (e.g. 機器台帳).
pub fn to_xlsx(
    kind: RecordKind,
    rows: &[Row],
    names: &HashMap<uuid::Uuid, String>,
    lang: Lang,
) -> Result<Vec<u8>, ExportError> {
    let cells: Vec<Vec<Cell>> = rows.iter().map(|r| render_row(r, names, lang)).collect();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(ledger_title(kind, lang))?;
    write_sheet(sheet, kind, &cells, lang)?;
    Ok(book.save_to_buffer()?)
}

/// A blank ledger to fill in: the header only, and a second sheet (記入例 / Example) with
/// one example row.
pub fn template_xlsx(kind: RecordKind, lang: Lang) -> Result<Vec<u8>, ExportError> {
    let (row, names) = example(kind);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(ledger_title(kind, lang))?;
    write_sheet(sheet, kind, &[], lang)?;
    let sheet = book.add_worksheet();
    sheet.set_name(if lang == Lang::Ja { "記入例" } else { "Example" })?;
    write_sheet(sheet, kind, &[render_row(&row, &names, lang)], lang)?;
    Ok(book.save_to_buffer()?)
}

/// One plausible row of each ledger, with the names of the records it refers to.
fn example(kind: RecordKind) -> (Row, HashMap<uuid::Uuid, String>) {
    use time::macros::{date, datetime};
    let refs: HashMap<&str, (uuid::Uuid, &str)> = [
        ("sites", "本院"),
        ("network_segments", "医療機器ネットワーク"),
        ("vendors", "〇〇メディカル株式会社"),
        ("assets", "電子カルテサーバ"),
        ("persons", "山田 花子"),
        ("evidence", "MDS_電子カルテ_2025.pdf"),
    ]
    .into_iter()
    .map(|(t, n)| (t, (uuid::Uuid::now_v7(), n)))
    .collect();
    let names = refs.values().map(|(id, n)| (*id, (*n).to_owned())).collect();
    let t = |s: &str| Value::Text(s.to_owned());
    let list = |l: &[&str]| Value::TextList(l.iter().map(|s| (*s).to_owned()).collect());
    let values: Vec<(&str, Value)> = match kind {
        RecordKind::Sites => vec![("name", t("本院")), ("address", t("東京都千代田区霞が関1-2-2"))],
        RecordKind::Segments => vec![
            ("name", t("医療機器ネットワーク")),
            ("cidrs", list(&["192.168.20.0/24"])),
            ("purpose", t("医療機器")),
            ("vlan", Value::Int(20)),
        ],
        RecordKind::Assets => vec![
            ("kind", t("server")),
            ("name", t("電子カルテサーバ")),
            ("hostname", t("emr-srv01")),
            ("maker", t("〇〇電機")),
            ("model", t("SV-1000")),
            ("serial", t("0012345")),
            ("location", t("1階 サーバ室")),
            ("department", t("医事課")),
            ("ip_addresses", list(&["192.168.10.10"])),
            ("mac_addresses", list(&["00:11:22:33:44:55"])),
            ("os_name", t("Windows Server")),
            ("os_version", t("2022")),
            ("criticality", t("high")),
            ("fragile", Value::Bool(false)),
            ("owner", t("山田 花子")),
            ("maintenance_until", Value::Date(date!(2027 - 03 - 31))),
        ],
        RecordKind::Software => vec![
            ("name", t("電子カルテシステム")),
            ("publisher", t("〇〇メディカル株式会社")),
            ("version", t("5.2")),
            ("end_of_life", Value::Date(date!(2028 - 03 - 31))),
        ],
        RecordKind::Staff => vec![
            ("name", t("山田 花子")),
            ("name_kana", t("ヤマダ ハナコ")),
            ("staff_number", t("00123")),
            ("department", t("医事課")),
            ("job_title", t("医療事務")),
            ("joined_on", Value::Date(date!(2020 - 04 - 01))),
        ],
        RecordKind::Accounts => vec![
            ("system", t("電子カルテ")),
            ("username", t("yamada")),
            ("holder", t("person")),
            ("role", t("一般利用者")),
            ("privileged", Value::Bool(false)),
            ("mfa", Value::Bool(true)),
            ("last_login_at", Value::Timestamp(datetime!(2026-04-01 00:30 UTC))),
            ("status", t("enabled")),
        ],
        RecordKind::Vendors => vec![
            ("name", t("〇〇メディカル株式会社")),
            ("service", t("電子カルテの保守")),
            ("contact_name", t("佐藤 一郎")),
            ("phone", t("03-1234-5678")),
            ("emergency_contact", t("0120-000-000（24時間）")),
        ],
        RecordKind::Contracts => vec![
            ("title", t("電子カルテ保守契約")),
            ("scope", t("サーバ・端末のハードウェアとソフトウェアの保守")),
            ("starts_on", Value::Date(date!(2026 - 04 - 01))),
            ("ends_on", Value::Date(date!(2027 - 03 - 31))),
            ("responsibility", t("院内ネットワークは医療機関、サーバは事業者")),
        ],
        RecordKind::RemoteMaintenance => vec![
            ("method", t("vpn")),
            ("authentication", t("証明書とワンタイムパスワード")),
            ("source_restriction", t("事業者の保守センターの固定IPアドレスのみ")),
            ("approval_rule", t("接続のたびに医事課長が承認")),
            ("confirmed_on", Value::Date(date!(2026 - 04 - 01))),
        ],
        RecordKind::MdsSds => vec![
            ("system", t("電子カルテ")),
            ("document", t("mds")),
            ("version", t("2025年版")),
            ("received_on", Value::Date(date!(2026 - 04 - 01))),
        ],
    };
    let mut row = Row::new(kind, mamori_domain::RecordId::new());
    for (f, v) in values {
        row.set(f, v);
    }
    for field in kind.fields() {
        if let Some(table) = field.refers_to
            && let Some((id, _)) = refs.get(table)
        {
            row.set(field.name, Value::Ref(*id));
        }
    }
    (row, names)
}

// ---- CSV ----------------------------------------------------------------------------------

/// Excel runs a cell starting with these as a formula (CSV injection); such text gets a
/// leading `'`, which Excel shows as text and an importer strips.
fn defuse(s: String) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s }
}

/// The ledger as CSV: header line, then one line per row, CRLF line ends as Excel writes.
pub fn to_csv(
    kind: RecordKind,
    rows: &[Row],
    names: &HashMap<uuid::Uuid, String>,
    lang: Lang,
    encoding: CsvEncoding,
) -> Result<Vec<u8>, ExportError> {
    let mut lines: Vec<Vec<String>> = vec![header(kind, lang)];
    lines.extend(rows.iter().map(|r| render_row(r, names, lang).iter().map(|c| defuse(c.to_text())).collect()));
    if encoding == CsvEncoding::ShiftJis {
        for (i, line) in lines.iter().enumerate() {
            for (cell, field) in line.iter().zip(kind.fields()) {
                if let Some(character) = first_unencodable(cell) {
                    return Err(ExportError::NotRepresentable { row: i + 1, field: field.name, character });
                }
            }
        }
    }
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for line in &lines {
        w.write_record(line)?;
    }
    let utf8 = w.into_inner().map_err(|e| ExportError::Csv(csv::Error::from(e.into_error())))?;
    let utf8 = String::from_utf8(utf8).expect("the CSV writer writes the UTF-8 it is given");
    Ok(match encoding {
        CsvEncoding::Utf8Bom => [b"\xEF\xBB\xBF".as_slice(), utf8.as_bytes()].concat(),
        CsvEncoding::ShiftJis => encoding_rs::SHIFT_JIS.encode(&utf8).0.into_owned(),
    })
}

/// The first character of `s` that Shift_JIS (encoding_rs's, which is CP932) cannot encode.
fn first_unencodable(s: &str) -> Option<char> {
    let (_, _, had_errors) = encoding_rs::SHIFT_JIS.encode(s);
    if !had_errors {
        return None;
    }
    s.chars().find(|c| encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut [0; 4])).2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use mamori_domain::ledger::{Asset, Vendor};
    use mamori_domain::record::Record;
    use std::io::{Cursor, Read};
    use time::macros::date;

    fn vendor() -> Vendor {
        Vendor {
            id: mamori_domain::RecordId::new(),
            name: "〇〇メディカル株式会社".into(),
            service: None,
            contact_name: None,
            phone: Some("03-1234-5678".into()),
            email: None,
            emergency_contact: None,
            address: None,
            notes: None,
        }
    }

    fn assets(v: &Vendor) -> Vec<Row> {
        let mut a = Asset::new(AssetKind::Server, "電子カルテサーバ");
        a.serial = Some("0012345".into());
        a.ip_addresses = vec!["192.168.10.10".into(), "192.168.10.11".into()];
        a.criticality = Some(Criticality::High);
        a.fragile = Some(true);
        a.maintenance_vendor_id = Some(v.id);
        a.maintenance_until = Some(date!(2026 - 04 - 01));
        let b = Asset::new(AssetKind::MedicalDevice, "超音波診断装置");
        vec![a.to_row(), b.to_row()]
    }

    fn names(v: &Vendor) -> HashMap<uuid::Uuid, String> {
        HashMap::from([(v.id.0, v.name.clone())])
    }

    fn sheet(bytes: &[u8], name: &str) -> calamine::Range<Data> {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        book.worksheet_range(name).unwrap()
    }

    fn zip_entry(bytes: &[u8], path: &str) -> String {
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        z.by_name(path).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    fn excel_serial(d: Date) -> f64 {
        (d - date!(1899 - 12 - 30)).whole_days() as f64
    }

    #[test]
    fn every_field_has_a_title_and_sheet_names_are_valid() {
        for kind in RecordKind::ALL {
            for f in kind.fields() {
                assert!(titles(kind, f.name).is_some(), "{kind}.{} has no title", f.name);
            }
            for lang in [Lang::Ja, Lang::En] {
                let name = ledger_title(kind, lang);
                assert!(name.chars().count() <= 31 && !name.contains(['/', '\\', '?', '*', '[', ']', ':']), "{name}");
                // Every title fits CP932, so a CP932 header never fails.
                for t in header(kind, lang) {
                    assert_eq!(first_unencodable(&t), None, "{t}");
                }
            }
        }
    }

    #[test]
    fn values_render_as_people_read_them() {
        let v = vendor();
        let cells = render_row(&assets(&v)[0], &names(&v), Lang::Ja);
        let at = |f: &str| &cells[RecordKind::Assets.fields().iter().position(|x| x.name == f).unwrap()];
        assert_eq!(at("kind"), &Cell::Text("サーバ".into()));
        assert_eq!(at("criticality"), &Cell::Text("高".into()));
        assert_eq!(at("fragile"), &Cell::Text("はい".into()));
        assert_eq!(at("ip_addresses"), &Cell::Text("192.168.10.10\n192.168.10.11".into()));
        assert_eq!(at("maintenance_vendor_id"), &Cell::Text("〇〇メディカル株式会社".into()));
        assert_eq!(at("maintenance_until").to_text(), "2026-04-01");
        assert_eq!(at("hostname"), &Cell::Empty);
        // Without the lookup, a reference is its id; in English, labels are English.
        let en = render_row(&assets(&v)[0], &HashMap::new(), Lang::En);
        assert!(en.contains(&Cell::Text(v.id.0.hyphenated().to_string())));
        assert!(en.contains(&Cell::Text("Server".into())) && en.contains(&Cell::Text("Yes".into())));
        let mut acct = Row::new(RecordKind::Accounts, mamori_domain::RecordId::new());
        acct.set("last_login_at", Value::Timestamp(time::macros::datetime!(2026-04-01 00:30 UTC)));
        let f = RecordKind::Accounts.field("last_login_at").unwrap();
        assert_eq!(
            render(RecordKind::Accounts, f, acct.get(f.name), &HashMap::new(), Lang::Ja).to_text(),
            "2026-04-01 09:30"
        );
        assert_eq!(
            enum_label(RecordKind::RemoteMaintenance, "method", "rdp", Lang::Ja),
            Some("リモートデスクトップ（RDP）")
        );
    }

    #[test]
    fn xlsx_round_trips_through_calamine() {
        let v = vendor();
        let bytes = to_xlsx(RecordKind::Assets, &assets(&v), &names(&v), Lang::Ja).unwrap();
        let range = sheet(&bytes, "機器台帳");
        let header: Vec<String> = range.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
        assert_eq!(header[0], "種別");
        assert_eq!(header[1], "機器名");
        assert!(header.contains(&"診療上の重要度".to_owned()) && header.contains(&"保守期限".to_owned()));
        let col = |t: &str| header.iter().position(|h| h == t).unwrap() as u32;
        assert_eq!(range.get_value((1, col("機器名"))), Some(&Data::String("電子カルテサーバ".into())));
        // Text stays text: the leading zero survives.
        assert_eq!(range.get_value((1, col("製造番号"))), Some(&Data::String("0012345".into())));
        assert_eq!(range.get_value((1, col("保守業者"))), Some(&Data::String("〇〇メディカル株式会社".into())));
        match range.get_value((1, col("保守期限"))) {
            Some(Data::DateTime(d)) => assert_eq!(d.as_f64(), excel_serial(date!(2026 - 04 - 01))),
            other => panic!("保守期限 is not a date: {other:?}"),
        }
        assert_eq!(range.get_value((2, col("種別"))), Some(&Data::String("医療機器".into())));
        let xml = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
        assert!(xml.contains("<pane") && xml.contains(r#"state="frozen""#), "no frozen header");
        assert!(xml.contains("<autoFilter ref=\"A1:U3\""), "no autofilter over the data");
        let styles = zip_entry(&bytes, "xl/styles.xml");
        assert!(styles.contains("yyyy-mm-dd") && styles.contains("<b/>"), "{styles}");
    }

    #[test]
    fn template_has_header_only_and_an_example_sheet() {
        for kind in RecordKind::ALL {
            let bytes = template_xlsx(kind, Lang::Ja).unwrap();
            let blank = sheet(&bytes, ledger_title(kind, Lang::Ja));
            assert_eq!(blank.height(), 1, "{kind}");
            let ex = sheet(&bytes, "記入例");
            assert_eq!(ex.height(), 2, "{kind}");
            assert_eq!(ex.rows().next().unwrap().len(), kind.fields().len(), "{kind}");
        }
        let bytes = template_xlsx(RecordKind::Assets, Lang::En).unwrap();
        let ex = sheet(&bytes, "Example");
        assert_eq!(ex.get_value((0, 1)), Some(&Data::String("Name".into())));
        assert_eq!(ex.get_value((1, 0)), Some(&Data::String("Server".into())));
    }

    #[test]
    fn cp932_csv_decodes_to_the_same_japanese() {
        let v = vendor();
        let bytes = to_csv(RecordKind::Assets, &assets(&v), &names(&v), Lang::Ja, CsvEncoding::ShiftJis).unwrap();
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
        assert!(!bad);
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][0], "種別");
        assert_eq!(&rows[0][16], "検査時の配慮（脆弱な機器）");
        assert_eq!(&rows[1][1], "電子カルテサーバ");
        assert_eq!(&rows[1][7], "0012345");
        assert_eq!(&rows[1][10], "192.168.10.10\n192.168.10.11");
        assert_eq!(&rows[1][18], "〇〇メディカル株式会社");
        assert_eq!(&rows[1][19], "2026-04-01");
        assert!(text.contains("\r\n"));
    }

    #[test]
    fn a_character_outside_cp932_is_an_error_naming_row_and_field() {
        let mut a = Asset::new(AssetKind::Pc, "受付PC");
        a.owner = Some("𠮷田 太郎".into());
        let rows = vec![Asset::new(AssetKind::Pc, "診察室PC").to_row(), a.to_row()];
        let err = to_csv(RecordKind::Assets, &rows, &HashMap::new(), Lang::Ja, CsvEncoding::ShiftJis).unwrap_err();
        assert!(matches!(err, ExportError::NotRepresentable { row: 3, field: "owner", character: '𠮷' }), "{err:?}");
        // UTF-8 keeps it, behind a byte-order mark.
        let bytes = to_csv(RecordKind::Assets, &rows, &HashMap::new(), Lang::Ja, CsvEncoding::Utf8Bom).unwrap();
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        assert!(String::from_utf8(bytes[3..].to_vec()).unwrap().contains("𠮷田 太郎"));
    }

    #[test]
    fn formula_like_text_is_defused_in_csv() {
        let mut a = Asset::new(AssetKind::Pc, "=HYPERLINK(\"http://x\")");
        a.notes = Some("通常の備考".into());
        let bytes = to_csv(RecordKind::Assets, &[a.to_row()], &HashMap::new(), Lang::Ja, CsvEncoding::Utf8Bom).unwrap();
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains("通常の備考"));
    }
}
