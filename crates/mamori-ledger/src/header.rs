//! Finding a ledger's header row and mapping its columns to ledger fields.
//!
//! Clinics' sheets put titles, dates and blank rows above the header and notes below the
//! data, and name columns freely (機器名, 名称, ホスト名…). We scan the first
//! [`HEADER_SCAN_ROWS`] rows and take the row whose cells name the most distinct fields of
//! the ledger; titles and notes match nothing, so they are skipped without special rules.
//! Names are compared after NFKC, lower-cased, without spaces, brackets or `*`/`※` marks;
//! when that fails, bracketed remarks are dropped (`機器名(必須)` → `機器名`).
//!
//! Merged header cells: an empty header cell right of a mapped one inherits nothing, so data
//! under the blank part of a merged cell is not imported. One exception keeps split headers
//! usable: when a parent cell such as 「IPアドレス」 (a list field: IP/MAC addresses, CIDRs)
//! stands over sub-cells 「1」「2」 in the next row, the columns under it all map to that
//! field and data starts below the sub-row. Numbered columns (`IPアドレス2`) also map to list
//! fields. This module must not read cell values below the header.
//!
//! [`MappingOverrides`] are the user's corrections from the import preview (this column is
//! 管理番号 → serial; ignore that one), saved and reused for later files. They are keyed by
//! the same folded header text ([`fold_header`]) and win over the dictionary, both when
//! choosing the header row and when mapping its columns.

use std::collections::BTreeMap;

use mamori_domain::record::{FieldType, RecordKind};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::read::{Cell, Sheet};

/// How many rows from the top may hold the header.
pub const HEADER_SCAN_ROWS: usize = 30;

/// A header row and what its columns mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMatch {
    /// 0-based row of the header (its parent row if the header is split over two rows).
    pub row: usize,
    /// 0-based row where data starts.
    pub data_start: usize,
    /// `(column, field)`, by column. A list field may appear for several columns; any other
    /// field appears once (later columns with the same meaning go to `unmapped`).
    pub columns: Vec<(usize, &'static str)>,
    /// Non-empty header cells that name no field, `(column, text as written)`; includes
    /// columns an override says to ignore.
    pub unmapped: Vec<(usize, String)>,
    /// Columns whose meaning (a field, or "ignore") came from a [`MappingOverrides`].
    pub overridden: Vec<usize>,
}

impl HeaderMatch {
    /// The columns holding `field`.
    pub fn columns_of<'a>(&'a self, field: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.columns.iter().filter(move |(_, f)| *f == field).map(|(c, _)| *c)
    }
}

/// The header of `sheet` for ledger `kind`, if some row names at least two of its fields.
pub fn find_header(sheet: &Sheet, kind: RecordKind) -> Option<HeaderMatch> {
    find_header_with(sheet, kind, None)
}

/// [`find_header`] with the user's overrides, which win over the dictionary cell by cell.
/// Overrides for another ledger are not applied (callers check with
/// [`MappingOverrides::validate_for`]).
pub fn find_header_with(sheet: &Sheet, kind: RecordKind, overrides: Option<&MappingOverrides>) -> Option<HeaderMatch> {
    let overrides = overrides.filter(|o| o.kind == kind);
    let mut best: Option<(usize, Vec<Meaning>)> = None;
    let mut best_score = 1; // at least two distinct fields
    for (r, row) in sheet.rows.iter().take(HEADER_SCAN_ROWS).enumerate() {
        let meanings: Vec<Meaning> = row.iter().map(|c| meaning(kind, c, overrides)).collect();
        let mut distinct: Vec<&str> = meanings.iter().filter_map(|m| m.field).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > best_score {
            best_score = distinct.len();
            best = Some((r, meanings));
        }
    }
    let (row, meanings) = best?;
    let mut m =
        HeaderMatch { row, data_start: row + 1, columns: Vec::new(), unmapped: Vec::new(), overridden: Vec::new() };
    // An override claims its field before the dictionary does, wherever its column is.
    for pass_override in [true, false] {
        for (col, meaning) in meanings.iter().enumerate() {
            if meaning.overridden != pass_override {
                continue;
            }
            if let Some(f) = meaning.field
                && (is_list(kind, f) || !m.columns.iter().any(|(_, g)| *g == f))
            {
                m.columns.push((col, f));
            } else if let Some(text) = crate::normalize::cell_text(sheet.cell(row, col))
                && !text.is_empty()
            {
                let written = match sheet.cell(row, col) {
                    Cell::Text(t) => t.clone(),
                    _ => text,
                };
                m.unmapped.push((col, written));
            }
        }
    }
    m.columns.sort_unstable();
    m.unmapped.sort_unstable();
    m.overridden = meanings.iter().enumerate().filter(|(_, m)| m.overridden).map(|(c, _)| c).collect();
    apply_sub_header(sheet, kind, &mut m);
    Some(m)
}

/// The sheet whose header names the most fields of `kind`, with that header.
pub fn find_sheet(sheets: &[Sheet], kind: RecordKind) -> Option<(usize, HeaderMatch)> {
    find_sheet_with(sheets, kind, None)
}

/// [`find_sheet`] with the user's overrides.
pub fn find_sheet_with(
    sheets: &[Sheet],
    kind: RecordKind,
    overrides: Option<&MappingOverrides>,
) -> Option<(usize, HeaderMatch)> {
    sheets
        .iter()
        .enumerate()
        .filter_map(|(i, s)| find_header_with(s, kind, overrides).map(|h| (i, h)))
        .max_by_key(|(i, h)| (h.columns.len(), std::cmp::Reverse(*i)))
}

/// What one header cell means: a field or nothing, and whether an override said so.
#[derive(Debug, Clone, Copy)]
struct Meaning {
    field: Option<&'static str>,
    overridden: bool,
}

fn meaning(kind: RecordKind, cell: &Cell, overrides: Option<&MappingOverrides>) -> Meaning {
    if let Some(o) = overrides
        && let Some(field) = o.lookup_cell(kind, cell)
    {
        return Meaning { field, overridden: true };
    }
    Meaning { field: field_for(kind, cell), overridden: false }
}

/// The user's column mapping for one ledger: folded header text → field name, or `None` to
/// ignore the column. Serialised as
/// `{"kind":"assets","by_header":{"管理番号":"serial","謎の列":null}}`; keys are folded again
/// when read, so a hand-edited file still matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawOverrides")]
pub struct MappingOverrides {
    kind: RecordKind,
    by_header: BTreeMap<String, Option<String>>,
}

#[derive(Deserialize)]
struct RawOverrides {
    kind: RecordKind,
    #[serde(default)]
    by_header: BTreeMap<String, Option<String>>,
}

impl From<RawOverrides> for MappingOverrides {
    fn from(raw: RawOverrides) -> Self {
        let by_header = raw.by_header.into_iter().map(|(k, v)| (fold_header(&k), v)).filter(|(k, _)| !k.is_empty());
        MappingOverrides { kind: raw.kind, by_header: by_header.collect() }
    }
}

/// Why a mapping override cannot be used. `code()` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("the {kind} ledger has no field {field:?} (column {header:?})")]
    UnknownField { kind: RecordKind, header: String, field: String },
    #[error("a column mapping needs the header text")]
    EmptyHeader,
    #[error("the column mapping is for the {found} ledger, not {expected}")]
    WrongLedger { expected: RecordKind, found: RecordKind },
}

impl MappingError {
    pub fn code(&self) -> &'static str {
        match self {
            MappingError::UnknownField { .. } => "mapping-unknown-field",
            MappingError::EmptyHeader => "mapping-empty-header",
            MappingError::WrongLedger { .. } => "mapping-wrong-ledger",
        }
    }
}

impl MappingOverrides {
    pub fn new(kind: RecordKind) -> Self {
        MappingOverrides { kind, by_header: BTreeMap::new() }
    }

    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// Maps the column headed `header_text` to `field`, or ignores it (`None`). The field
    /// must be one of the ledger's fields.
    pub fn set(&mut self, header_text: &str, field: Option<&str>) -> Result<(), MappingError> {
        let key = fold_header(header_text);
        if key.is_empty() {
            return Err(MappingError::EmptyHeader);
        }
        if let Some(f) = field
            && self.kind.field(f).is_none()
        {
            return Err(MappingError::UnknownField {
                kind: self.kind,
                header: header_text.to_owned(),
                field: f.to_owned(),
            });
        }
        self.by_header.insert(key, field.map(str::to_owned));
        Ok(())
    }

    /// Drops the override for `header_text` (the dictionary decides again).
    pub fn remove(&mut self, header_text: &str) -> bool {
        self.by_header.remove(&fold_header(header_text)).is_some()
    }

    /// `None`: no override; `Some(None)`: ignore the column; `Some(Some(field))`.
    pub fn get(&self, header_text: &str) -> Option<Option<&str>> {
        self.by_header.get(&fold_header(header_text)).map(Option::as_deref)
    }

    /// `(folded header, field or None)`, sorted by header.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.by_header.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
    }

    pub fn is_empty(&self) -> bool {
        self.by_header.is_empty()
    }

    /// Checks a mapping (e.g. one read back from storage) against `kind`'s fields.
    pub fn validate_for(&self, kind: RecordKind) -> Result<(), MappingError> {
        if self.kind != kind {
            return Err(MappingError::WrongLedger { expected: kind, found: self.kind });
        }
        for (header, field) in &self.by_header {
            if let Some(f) = field
                && kind.field(f).is_none()
            {
                return Err(MappingError::UnknownField { kind, header: header.clone(), field: f.clone() });
            }
        }
        Ok(())
    }

    /// The override for a header cell, with the field as the ledger's own `&'static str`;
    /// an unknown field (never after [`Self::validate_for`]) counts as no override.
    fn lookup_cell(&self, kind: RecordKind, cell: &Cell) -> Option<Option<&'static str>> {
        let text = crate::normalize::cell_text(cell)?;
        match self.by_header.get(&fold_header(&text))? {
            None => Some(None),
            Some(f) => kind.field(f).map(|f| Some(f.name)),
        }
    }
}

/// Header text as compared: NFKC, lower-case, without spaces, brackets and marks, so
/// 「設置 場所」, 「設置場所」 and 「※設置場所」 are one key. Overrides are keyed by this.
pub fn fold_header(s: &str) -> String {
    key(s)
}

/// A parent list-field cell over sub-cells: the row below has cells only under the parent
/// and the blank header cells right of it.
fn apply_sub_header(sheet: &Sheet, kind: RecordKind, m: &mut HeaderMatch) {
    let below = match sheet.rows.get(m.row + 1) {
        Some(r) => r,
        None => return,
    };
    let header_blank = |c: usize| sheet.cell(m.row, c).is_empty();
    let mut under: Vec<(usize, &'static str)> = Vec::new();
    for (col, cell) in below.iter().enumerate() {
        if cell.is_empty() {
            continue;
        }
        // The nearest header cell at or left of `col`, over blanks only.
        let parent = (0..=col).rev().find(|&c| !header_blank(c));
        let Some(field) = parent.and_then(|p| m.columns.iter().find(|(c, _)| *c == p).map(|(_, f)| *f)) else {
            return;
        };
        if !is_list(kind, field) || !short_label(cell) {
            return;
        }
        under.push((col, field));
    }
    if under.is_empty() || !under.iter().any(|&(c, _)| header_blank(c)) {
        return;
    }
    for (col, field) in under {
        if !m.columns.contains(&(col, field)) {
            m.columns.push((col, field));
        }
    }
    m.columns.sort_unstable();
    m.data_start = m.row + 2;
}

/// `1`, `2`, `①`, `IPv4`, `予備`: a sub-column label, not a value.
fn short_label(cell: &Cell) -> bool {
    match cell {
        Cell::Number(n) => n.fract() == 0.0 && (0.0..100.0).contains(n),
        Cell::Text(t) => t.trim().chars().count() <= 6 && !t.contains(['.', ':']),
        _ => false,
    }
}

fn is_list(kind: RecordKind, field: &str) -> bool {
    kind.field(field).is_some_and(|f| f.ty == FieldType::TextList)
}

/// The ledger field a header cell names, if any.
pub fn field_for(kind: RecordKind, cell: &Cell) -> Option<&'static str> {
    let Cell::Text(t) = cell else { return None };
    let (full, stripped) = keys(t);
    if full.is_empty() {
        return None;
    }
    let dict = dictionary(kind);
    let lookup = |k: &str| dict.iter().find(|(_, names)| names.iter().any(|n| key(n) == k)).map(|(f, _)| *f);
    if let Some(f) = lookup(&full).or_else(|| lookup(&stripped)) {
        return Some(f);
    }
    // `IPアドレス2`, `MAC(2)`: numbered columns of a list field.
    let unnumbered = stripped.trim_end_matches(|c: char| c.is_ascii_digit());
    if unnumbered.len() < stripped.len() {
        return lookup(unnumbered).filter(|f| is_list(kind, f));
    }
    None
}

const BRACKETS: &[(char, char)] =
    &[('(', ')'), ('[', ']'), ('【', '】'), ('「', '」'), ('『', '』'), ('<', '>'), ('〔', '〕')];

fn ignorable(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '*' | '※' | '●' | '◆' | '■' | ':')
        || BRACKETS.iter().any(|&(o, e)| c == o || c == e)
}

/// A header name as compared: NFKC, lower-case, without spaces, brackets and marks.
fn key(s: &str) -> String {
    s.nfkc().flat_map(char::to_lowercase).filter(|&c| !ignorable(c)).collect()
}

/// `(key, key without bracketed remarks)`.
pub(crate) fn keys(s: &str) -> (String, String) {
    let n: String = s.nfkc().collect();
    let mut stripped = String::new();
    let mut depth = 0usize;
    for c in n.chars() {
        if BRACKETS.iter().any(|&(o, _)| o == c) {
            depth += 1;
        } else if BRACKETS.iter().any(|&(_, e)| e == c) {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            stripped.push(c);
        }
    }
    (key(&n), key(&stripped))
}

type Dictionary = &'static [(&'static str, &'static [&'static str])];

/// Column names per ledger, Japanese as clinics and vendors write them, and English.
/// A field that refers to another ledger (`maintenance_vendor_id`, `site_id`…) is named here
/// too; its cells hold the other record's name, resolved by the importer.
pub fn dictionary(kind: RecordKind) -> Dictionary {
    match kind {
        RecordKind::Assets => &[
            ("kind", &["種別", "区分", "機器種別", "機器区分", "種類", "分類", "kind", "type", "category"]),
            ("name", &["機器名", "名称", "機器名称", "資産名", "装置名", "name", "device", "devicename", "asset"]),
            (
                "hostname",
                &["ホスト名", "コンピュータ名", "コンピューター名", "pc名", "hostname", "host", "computername"],
            ),
            ("site_id", &["拠点", "施設", "施設名", "site"]),
            (
                "segment_id",
                &[
                    "セグメント",
                    "ネットワーク",
                    "ネットワークセグメント",
                    "vlan名",
                    "segment",
                    "network",
                    "networksegment",
                ],
            ),
            ("maker", &["メーカー", "メーカ", "製造元", "製造業者", "製造販売業者", "maker", "manufacturer"]),
            ("model", &["型番", "機種", "型式", "モデル", "機種名", "製品名", "model"]),
            ("serial", &["製造番号", "シリアル番号", "シリアル", "シリアルno", "s/n", "serial", "serialnumber", "sn"]),
            ("location", &["設置場所", "場所", "設置先", "設置位置", "所在", "location", "room"]),
            ("department", &["部署", "部門", "所属", "診療科", "管理部署", "department", "dept"]),
            ("ip_addresses", &["ipアドレス", "ip", "ipv4", "ipv4アドレス", "ipaddress", "ipaddresses"]),
            ("mac_addresses", &["macアドレス", "mac", "macaddress", "macaddresses", "物理アドレス"]),
            ("os_name", &["os", "os名", "オペレーティングシステム", "osname"]),
            ("os_version", &["バージョン", "osバージョン", "版", "osversion", "version"]),
            ("firmware_version", &["ファームウェア", "ファームウェアバージョン", "ファーム", "firmware", "fw"]),
            ("criticality", &["重要度", "重要性", "診療上の重要度", "criticality", "clinicalcriticality"]),
            ("fragile", &["スキャン注意", "スキャン不可", "脆弱", "検査時の配慮", "fragile"]),
            ("owner", &["管理者", "担当者", "責任者", "管理担当", "使用者", "owner"]),
            (
                "maintenance_vendor_id",
                &["保守業者", "保守会社", "保守事業者", "保守ベンダー", "保守委託先", "maintenancevendor"],
            ),
            (
                "maintenance_until",
                &["保守期限", "保守終了日", "保守期間", "保守契約期限", "サポート期限", "maintenanceuntil"],
            ),
            ("notes", &["備考", "メモ", "注記", "notes", "note", "remarks"]),
        ],
        RecordKind::Staff => &[
            ("name", &["氏名", "名前", "職員名", "name", "fullname"]),
            ("name_kana", &["フリガナ", "ふりがな", "カナ", "氏名カナ", "氏名フリガナ", "kana", "namekana"]),
            ("staff_number", &["職員番号", "社員番号", "職員コード", "職員id", "staffnumber", "employeeid"]),
            ("department", &["部署", "所属", "部門", "診療科", "department"]),
            ("job_title", &["職種", "役職", "職名", "jobtitle", "title", "role"]),
            ("email", &["メール", "メールアドレス", "eメール", "email", "e-mail", "mail"]),
            ("joined_on", &["入職日", "入社日", "採用日", "着任日", "joined", "joinedon", "startdate"]),
            ("retired_on", &["退職日", "離職日", "退職年月日", "retired", "retiredon", "enddate"]),
            ("notes", &["備考", "メモ", "notes", "remarks"]),
        ],
        RecordKind::Vendors => &[
            (
                "name",
                &[
                    "事業者名",
                    "会社名",
                    "業者名",
                    "事業者",
                    "委託先",
                    "ベンダー",
                    "ベンダー名",
                    "name",
                    "company",
                    "vendor",
                ],
            ),
            ("service", &["業務内容", "サービス", "提供サービス", "委託内容", "契約内容", "担当システム", "service"]),
            ("contact_name", &["担当者", "担当者名", "営業担当", "contact", "contactname"]),
            ("phone", &["電話番号", "電話", "tel", "phone", "連絡先"]),
            ("email", &["メール", "メールアドレス", "email", "e-mail", "mail"]),
            ("emergency_contact", &["緊急連絡先", "緊急時連絡先", "夜間連絡先", "emergencycontact"]),
            ("address", &["住所", "所在地", "address"]),
            ("notes", &["備考", "メモ", "notes", "remarks"]),
        ],
        RecordKind::Accounts => &[
            ("system", &["システム", "システム名", "対象システム", "機器", "system"]),
            (
                "username",
                &[
                    "アカウント",
                    "アカウント名",
                    "ユーザid",
                    "ユーザーid",
                    "ログインid",
                    "ユーザ名",
                    "ユーザー名",
                    "username",
                    "account",
                    "userid",
                    "login",
                ],
            ),
            // 氏名 names the person (resolved against 職員名簿); 区分 says whose account it is.
            ("person_id", &["氏名", "利用者", "使用者", "名前", "職員", "name", "person", "staffmember"]),
            // 機器 alone is the system (an account ledger per device); 対象機器 is the asset.
            ("asset_id", &["対象機器", "機器名", "ホスト名", "asset", "host"]),
            ("vendor_id", &["事業者", "事業者名", "業者名", "保守業者", "vendor"]),
            ("holder", &["区分", "アカウント区分", "アカウント種別", "所有区分", "利用者区分", "holder"]),
            ("role", &["権限", "ロール", "役割", "role", "permission"]),
            ("privileged", &["管理者権限", "特権", "特権アカウント", "privileged", "admin"]),
            ("mfa", &["二要素認証", "2要素認証", "多要素認証", "二段階認証", "mfa", "2fa", "two-factorauthentication"]),
            ("last_login_at", &["最終ログイン", "最終ログイン日時", "最終利用日", "lastlogin"]),
            ("status", &["状態", "ステータス", "有効/無効", "status"]),
            ("notes", &["備考", "メモ", "notes", "remarks"]),
        ],
        RecordKind::Segments => &[
            ("name", &["セグメント名", "ネットワーク名", "セグメント", "名称", "name", "segment"]),
            ("site_id", &["拠点", "施設", "site"]),
            (
                "cidrs",
                &[
                    "ネットワーク",
                    "cidr",
                    "ネットワークアドレス",
                    "アドレス帯",
                    "アドレス範囲",
                    "サブネット",
                    "network",
                    "subnet",
                    "addressrange",
                    "addressranges",
                ],
            ),
            ("purpose", &["用途", "目的", "接続機器", "purpose"]),
            ("vlan", &["vlan", "vlanid", "vlan番号"]),
            ("notes", &["備考", "メモ", "notes", "remarks"]),
        ],
        RecordKind::Sites => &[
            (
                "name",
                &[
                    "拠点名",
                    "拠点",
                    "施設名",
                    "施設",
                    "事業所名",
                    "医療機関名",
                    "病院名",
                    "診療所名",
                    "建物名",
                    "名称",
                    "name",
                    "site",
                    "sitename",
                    "facility",
                ],
            ),
            ("address", &["住所", "所在地", "address", "location"]),
            ("notes", &["備考", "メモ", "notes", "remarks"]),
        ],
        // 機器名・ホスト名 name the asset the software is installed on (resolved by name).
        RecordKind::Software => &[
            (
                "asset_id",
                &[
                    "機器名",
                    "ホスト名",
                    "導入機器",
                    "導入先",
                    "導入端末",
                    "インストール先",
                    "対象機器",
                    "端末名",
                    "コンピュータ名",
                    "コンピューター名",
                    "機器",
                    "asset",
                    "host",
                    "hostname",
                    "installedon",
                    "device",
                ],
            ),
            (
                "name",
                &[
                    "ソフトウェア名",
                    "ソフトウェア",
                    "ソフト名",
                    "製品名",
                    "アプリケーション名",
                    "アプリケーション",
                    "システム名",
                    "名称",
                    "name",
                    "software",
                    "product",
                    "application",
                ],
            ),
            (
                "publisher",
                &[
                    "ベンダー",
                    "ベンダ",
                    "発行元",
                    "提供元",
                    "開発元",
                    "製造元",
                    "メーカー",
                    "メーカ",
                    "publisher",
                    "vendor",
                    "developer",
                    "maker",
                ],
            ),
            ("version", &["バージョン", "版", "ver", "ver.", "version"]),
            ("cpe", &["cpe", "cpe名", "cpe23", "cpename"]),
            (
                "end_of_life",
                &[
                    "サポート終了日",
                    "サポート終了",
                    "サポート期限",
                    "サポート期間",
                    "eol",
                    "eol日",
                    "延長サポート終了日",
                    "保守終了日",
                    "endoflife",
                    "endofsupport",
                ],
            ),
            ("notes", &["備考", "メモ", "notes", "remarks"]),
        ],
        RecordKind::Contracts => &[
            (
                "vendor_id",
                &[
                    "事業者名",
                    "業者名",
                    "事業者",
                    "契約先",
                    "契約相手",
                    "相手方",
                    "委託先",
                    "会社名",
                    "ベンダー",
                    "vendor",
                    "company",
                    "contractor",
                ],
            ),
            ("title", &["契約名", "件名", "契約件名", "契約名称", "名称", "contract", "title", "name"]),
            (
                "scope",
                &[
                    "範囲",
                    "保守範囲",
                    "契約範囲",
                    "委託範囲",
                    "業務範囲",
                    "対象範囲",
                    "契約内容",
                    "委託内容",
                    "業務内容",
                    "対象システム",
                    "scope",
                ],
            ),
            (
                "starts_on",
                &[
                    "開始日",
                    "契約開始",
                    "契約開始日",
                    "契約日",
                    "締結日",
                    "契約締結日",
                    "始期",
                    "start",
                    "startson",
                    "startdate",
                ],
            ),
            (
                "ends_on",
                &[
                    "終了日",
                    "契約期限",
                    "契約終了",
                    "契約終了日",
                    "満了日",
                    "契約満了日",
                    "終期",
                    "有効期限",
                    "end",
                    "endson",
                    "enddate",
                    "expires",
                ],
            ),
            (
                "responsibility",
                &[
                    "責任分界",
                    "責任分界点",
                    "責任分界表",
                    "責任分担",
                    "役割分担",
                    "責任範囲",
                    "responsibility",
                    "divisionofresponsibility",
                ],
            ),
            ("notes", &["備考", "メモ", "notes", "remarks"]),
        ],
        RecordKind::RemoteMaintenance => &[
            (
                "vendor_id",
                &[
                    "事業者",
                    "事業者名",
                    "保守業者",
                    "保守事業者",
                    "保守会社",
                    "業者名",
                    "接続事業者",
                    "委託先",
                    "ベンダー",
                    "vendor",
                ],
            ),
            (
                "asset_id",
                &[
                    "対象機器",
                    "接続先機器",
                    "接続先",
                    "機器名",
                    "対象装置",
                    "保守対象機器",
                    "ホスト名",
                    "asset",
                    "target",
                    "device",
                ],
            ),
            ("method", &["接続方法", "接続方式", "方式", "接続手段", "リモート接続方式", "接続形態", "method"]),
            ("authentication", &["認証方式", "認証方法", "認証", "authentication", "auth"]),
            (
                "source_restriction",
                &[
                    "接続元制限",
                    "接続元",
                    "接続元ip",
                    "接続元ipアドレス",
                    "接続元の制限",
                    "アクセス制限",
                    "sourcerestriction",
                    "source",
                ],
            ),
            (
                "approval_rule",
                &[
                    "承認ルール",
                    "承認手順",
                    "接続時の承認",
                    "接続時の承認手順",
                    "接続承認",
                    "事前承認",
                    "承認",
                    "approvalrule",
                    "approval",
                ],
            ),
            (
                "confirmed_on",
                &[
                    "確認日",
                    "事業者との確認日",
                    "最終確認日",
                    "確認年月日",
                    "点検日",
                    "confirmedon",
                    "confirmed",
                    "confirmedwithvendoron",
                ],
            ),
            (
                "last_used_at",
                &[
                    "最終利用日",
                    "最終利用日時",
                    "最終接続日",
                    "最終接続日時",
                    "前回接続日",
                    "lastused",
                    "lastusedat",
                    "lastconnected",
                ],
            ),
            ("notes", &["備考", "メモ", "notes", "remarks"]),
        ],
        RecordKind::MdsSds => &[
            (
                "system",
                &["システム名", "システム", "対象システム", "製品名", "機器名", "対象機器", "system", "product"],
            ),
            (
                "vendor_id",
                &[
                    "事業者",
                    "事業者名",
                    "製造業者",
                    "製造販売業者",
                    "提供事業者",
                    "サービス事業者",
                    "業者名",
                    "ベンダー",
                    "vendor",
                ],
            ),
            ("document", &["文書", "種別", "文書種別", "区分", "書類", "開示書", "document", "type"]),
            ("version", &["バージョン", "版", "版数", "様式", "version"]),
            ("received_on", &["受領日", "入手日", "受領年月日", "取得日", "receivedon", "received"]),
            ("evidence_id", &["受領ファイル", "ファイル", "添付", "添付ファイル", "receivedfile", "file", "evidence"]),
            ("notes", &["備考", "メモ", "notes", "remarks"]),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    fn sheet(rows: Vec<Vec<Cell>>) -> Sheet {
        Sheet { name: "s".into(), rows }
    }

    #[test]
    fn every_dictionary_field_exists_in_its_ledger() {
        for kind in RecordKind::ALL {
            for (field, names) in dictionary(kind) {
                assert!(kind.field(field).is_some(), "{kind}: {field}");
                for n in *names {
                    assert_eq!(field_for(kind, &t(n)), Some(*field), "{kind}: {n} is claimed twice");
                }
            }
        }
    }

    #[test]
    fn names_match_loosely() {
        let k = RecordKind::Assets;
        assert_eq!(field_for(k, &t("ＩＰアドレス")), Some("ip_addresses"));
        assert_eq!(field_for(k, &t(" IP Address ")), Some("ip_addresses"));
        assert_eq!(field_for(k, &t("【機器名】")), Some("name"));
        assert_eq!(field_for(k, &t("機器名(必須)")), Some("name"));
        assert_eq!(field_for(k, &t("※設置 場所")), Some("location"));
        assert_eq!(field_for(k, &t("MACアドレス2")), Some("mac_addresses"));
        assert_eq!(field_for(k, &t("機器名2")), None);
        assert_eq!(field_for(k, &t("機器台帳")), None);
        assert_eq!(field_for(k, &t("")), None);
        assert_eq!(field_for(k, &Cell::Number(1.0)), None);
        assert_eq!(field_for(RecordKind::Staff, &t("メール")), Some("email"));
        assert_eq!(field_for(RecordKind::Software, &t("名称")), Some("name"));
        assert_eq!(field_for(RecordKind::Software, &t("型番")), None);
    }

    #[test]
    fn title_blank_and_note_rows_are_skipped() {
        let s = sheet(vec![
            vec![t("医療情報システム 機器台帳")],
            vec![],
            vec![t("No."), t("機器名"), t("IPアドレス"), t("設置場所"), Cell::Empty, t("謎の列")],
            vec![Cell::Number(1.0), t("受付PC"), t("192.168.1.2"), t("受付")],
            vec![t("※ 備考: IPは固定")],
        ]);
        let h = find_header(&s, RecordKind::Assets).unwrap();
        assert_eq!(h.row, 2);
        assert_eq!(h.data_start, 3);
        assert_eq!(h.columns, [(1, "name"), (2, "ip_addresses"), (3, "location")]);
        assert_eq!(h.unmapped, [(0, "No.".to_owned()), (5, "謎の列".to_owned())]);
    }

    #[test]
    fn duplicate_scalar_columns_go_to_unmapped() {
        let s = sheet(vec![vec![t("名称"), t("機器名"), t("場所")]]);
        let h = find_header(&s, RecordKind::Assets).unwrap();
        assert_eq!(h.columns, [(0, "name"), (2, "location")]);
        assert_eq!(h.unmapped, [(1, "機器名".to_owned())]);
    }

    #[test]
    fn no_header_means_none() {
        assert_eq!(find_header(&sheet(vec![]), RecordKind::Assets), None);
        let s = sheet(vec![vec![t("機器名")], vec![t("受付PC")]]);
        assert_eq!(find_header(&s, RecordKind::Assets), None, "one field is not enough");
        let s = sheet(vec![vec![t("氏名"), t("職員番号")]]);
        assert_eq!(find_header(&s, RecordKind::Assets), None);
        assert!(find_header(&s, RecordKind::Staff).is_some());
    }

    #[test]
    fn header_split_over_two_rows() {
        let s = sheet(vec![
            vec![t("機器名"), t("IPアドレス"), Cell::Empty, t("場所")],
            vec![Cell::Empty, Cell::Number(1.0), Cell::Number(2.0)],
            vec![t("電子カルテ"), t("10.0.0.1"), t("10.0.0.2"), t("サーバ室")],
        ]);
        let h = find_header(&s, RecordKind::Assets).unwrap();
        assert_eq!((h.row, h.data_start), (0, 2));
        assert_eq!(h.columns, [(0, "name"), (1, "ip_addresses"), (2, "ip_addresses"), (3, "location")]);
        assert_eq!(h.columns_of("ip_addresses").collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn blank_right_of_a_scalar_inherits_nothing() {
        let s = sheet(vec![vec![t("機器名"), Cell::Empty, t("場所")], vec![t("電子カルテ"), t("予備"), t("サーバ室")]]);
        let h = find_header(&s, RecordKind::Assets).unwrap();
        assert_eq!((h.row, h.data_start), (0, 1));
        assert_eq!(h.columns, [(0, "name"), (2, "location")]);
    }

    #[test]
    fn best_sheet_wins() {
        let sheets = vec![
            sheet(vec![vec![t("説明")]]),
            sheet(vec![vec![t("氏名"), t("部署"), t("入職日")]]),
            sheet(vec![vec![t("氏名"), t("部署")]]),
        ];
        assert_eq!(find_sheet(&sheets, RecordKind::Staff).map(|(i, _)| i), Some(1));
        assert_eq!(find_sheet(&sheets, RecordKind::Vendors), None);
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::*;
    use crate::export::{Lang, column_title};

    fn t(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    #[test]
    fn every_exported_column_title_reads_back() {
        for kind in RecordKind::ALL {
            for f in kind.fields() {
                for lang in [Lang::Ja, Lang::En] {
                    let title = column_title(kind, f.name, lang);
                    assert_eq!(field_for(kind, &t(&title)), Some(f.name), "{kind}: {title}");
                }
            }
        }
    }

    #[test]
    fn every_ledger_has_a_dictionary() {
        for kind in RecordKind::ALL {
            for f in kind.fields() {
                assert!(dictionary(kind).iter().any(|(g, _)| *g == f.name), "{kind}.{}", f.name);
            }
        }
    }

    #[test]
    fn overrides_fold_like_headers() {
        let mut o = MappingOverrides::new(RecordKind::Assets);
        o.set("院内 管理番号", Some("serial")).unwrap();
        assert_eq!(o.get("【院内管理番号】"), Some(Some("serial")));
        assert_eq!(o.get("院内管理番号２"), None);
        assert!(o.remove("院内管理番号"));
        assert!(o.is_empty());
        assert_eq!(o.set(" ※ ", None).unwrap_err().code(), "mapping-empty-header");
        let err = o.set("色", Some("colour")).unwrap_err();
        assert_eq!(err.code(), "mapping-unknown-field");
        assert_eq!(o.validate_for(RecordKind::Staff).unwrap_err().code(), "mapping-wrong-ledger");
    }

    #[test]
    fn an_override_claims_its_field_before_the_dictionary() {
        let s = Sheet {
            name: "s".into(), rows: vec![vec![t("機器名"), t("場所"), t("現在の設置場所"), t("IP")]]
        };
        let mut o = MappingOverrides::new(RecordKind::Assets);
        o.set("現在の設置場所", Some("location")).unwrap();
        let h = find_header_with(&s, RecordKind::Assets, Some(&o)).unwrap();
        assert_eq!(h.columns, [(0, "name"), (2, "location"), (3, "ip_addresses")]);
        assert_eq!(h.unmapped, [(1, "場所".to_owned())]);
        assert_eq!(h.overridden, [2]);
        // Overrides of another ledger are not applied.
        let h = find_header_with(&s, RecordKind::Staff, Some(&o));
        assert_eq!(h, None);
    }
}
