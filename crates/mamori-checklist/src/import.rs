//! Reading MHLW's checklist workbook (XLSX), comparing it with the edition mamori ships, and
//! turning it into an edition an admin can confirm.
//!
//! The parser does not rely on fixed cell addresses, because the official layout changes
//! between years. On each sheet it finds, by content:
//! - the form (a cell or the sheet name containing 医療機関確認用, 薬局確認用, 事業者確認用,
//!   医療機関・薬局確認用 …);
//! - section headings: a row whose first text is 「1 体制構築」, 「１．体制構築」 or 「1」 next to
//!   「体制構築」;
//! - items: a cell holding a full id (「2-⑦」, 「1-(1)」) or a bare number (「⑦」, 「(7)」) under
//!   a section, with the wording in the longest text cell to its right (or in the same cell
//!   after the number);
//! - the answer header (はい / いいえ / 確認日 / 目標日), whose columns are never wording;
//! - device classes: a 対象 cell or a following row saying サーバ / 端末PC / ネットワーク機器,
//!   or a scope in brackets after the wording 「…(サーバ、端末PC)」.
//!
//! Bytes in, data out: no file access.

use crate::definition::{
    Certainty, DEFAULT_DEADLINE, Deadline, DefinitionError, Edition, Form, Item, Period, Respondent, Section,
    device_class,
};
use crate::normalize::{clean_cell, wording_key};
use calamine::{DataRef, Reader};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Cursor;

/// Larger workbooks are refused: the official one is a few hundred kilobytes.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// Rows read per sheet at most.
pub const MAX_ROWS: u32 = 5_000;
const MAX_COLS: u32 = 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is {bytes} bytes; at most {max} are accepted")]
    TooLarge { bytes: usize, max: usize },
    #[error("the file is not a readable XLSX workbook: {detail}")]
    Damaged { detail: String },
    #[error("the workbook is password-protected")]
    PasswordProtected,
    #[error("sheet {sheet:?} has more than {max} rows")]
    TooManyRows { sheet: String, max: u32 },
    #[error("no checklist items were found (no cell like 「1-①」 or 「①」 under a section heading)")]
    NoItems,
    #[error("sheet {sheet:?} row {row}: item {id} appears again (first at row {first_row})")]
    DuplicateItemId { sheet: String, row: u32, id: String, first_row: u32 },
    #[error("sheet {sheet:?} row {row}: item {id} has no wording")]
    MissingWording { sheet: String, row: u32, id: String },
    #[error("sheet {sheet:?} row {row}: item number {number} comes before any section heading")]
    ItemWithoutSection { sheet: String, row: u32, number: String },
    #[error("sheets {first:?} and {second:?} are both the form {form:?}")]
    DuplicateForm { form: String, first: String, second: String },
}

impl ImportError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "checklist-import-too-large",
            Self::Damaged { .. } => "checklist-import-damaged",
            Self::PasswordProtected => "checklist-import-password-protected",
            Self::TooManyRows { .. } => "checklist-import-too-many-rows",
            Self::NoItems => "checklist-import-no-items",
            Self::DuplicateItemId { .. } => "checklist-import-duplicate-item-id",
            Self::MissingWording { .. } => "checklist-import-missing-wording",
            Self::ItemWithoutSection { .. } => "checklist-import-item-without-section",
            Self::DuplicateForm { .. } => "checklist-import-duplicate-form",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedItem {
    pub id: String,
    pub text_ja: String,
    /// A ※ note printed with the item.
    pub note: Option<String>,
    /// Device class ids (server, terminal_pc, network_device, all).
    pub device_classes: Vec<String>,
    /// Asked once per class (one row per class) rather than printed as a scope.
    pub per_device_class: bool,
    /// 1-based row in the sheet.
    pub row: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedSection {
    pub no: String,
    pub title_ja: String,
    pub items: Vec<ImportedItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedForm {
    /// clinic, pharmacy, vendor, clinic-pharmacy; `sheet-N` when the title says nothing known.
    pub id: String,
    pub title_ja: String,
    pub sheet: String,
    pub sections: Vec<ImportedSection>,
}

impl ImportedForm {
    pub fn items(&self) -> impl Iterator<Item = &ImportedItem> {
        self.sections.iter().flat_map(|s| s.items.iter())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportWarning {
    pub sheet: String,
    pub row: u32,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedEdition {
    /// From 「令和7年度」 (or 「令和7年5月」) in the workbook.
    pub fiscal_year: Option<i32>,
    /// e.g. 「令和7年度版」.
    pub label_ja: Option<String>,
    /// The checklist title, when a cell holds one.
    pub title_ja: Option<String>,
    pub forms: Vec<ImportedForm>,
    pub warnings: Vec<ImportWarning>,
}

impl ImportedEdition {
    pub fn form(&self, id: &str) -> Option<&ImportedForm> {
        self.forms.iter().find(|f| f.id == id)
    }
}

type Grid = Vec<Vec<String>>;

fn read_sheets(bytes: &[u8]) -> Result<Vec<(String, Grid)>, ImportError> {
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::TooLarge { bytes: bytes.len(), max: MAX_BYTES });
    }
    let mut book =
        calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(Cursor::new(bytes)).map_err(|e| match e {
            calamine::XlsxError::Password => ImportError::PasswordProtected,
            e => ImportError::Damaged { detail: e.to_string() },
        })?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let damaged = |e: calamine::XlsxError| ImportError::Damaged { detail: format!("{name}: {e}") };
        let mut cells = book.worksheet_cells_reader(&name).map_err(damaged)?;
        let mut grid: Grid = Vec::new();
        while let Some(cell) = cells.next_cell().map_err(damaged)? {
            let (r, c) = cell.get_position();
            if r >= MAX_ROWS {
                return Err(ImportError::TooManyRows { sheet: name.clone(), max: MAX_ROWS });
            }
            if c >= MAX_COLS {
                continue;
            }
            let text = match cell.get_value() {
                DataRef::String(s) | DataRef::DateTimeIso(s) => s.trim().to_owned(),
                DataRef::SharedString(s) => s.trim().to_owned(),
                DataRef::Int(i) => i.to_string(),
                DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e9 => format!("{}", *f as i64),
                DataRef::Float(f) => f.to_string(),
                _ => String::new(),
            };
            if text.is_empty() {
                continue;
            }
            let (r, c) = (r as usize, c as usize);
            if grid.len() <= r {
                grid.resize(r + 1, Vec::new());
            }
            if grid[r].len() <= c {
                grid[r].resize(c + 1, String::new());
            }
            grid[r][c] = text;
        }
        drop(cells);
        out.push((name, grid));
    }
    Ok(out)
}

const CIRCLED: [char; 35] = [
    '①', '②', '③', '④', '⑤', '⑥', '⑦', '⑧', '⑨', '⑩', '⑪', '⑫', '⑬', '⑭', '⑮', '⑯', '⑰', '⑱', '⑲', '⑳', '㉑', '㉒',
    '㉓', '㉔', '㉕', '㉖', '㉗', '㉘', '㉙', '㉚', '㉛', '㉜', '㉝', '㉞', '㉟',
];

/// Full-width digits, dashes and brackets to ASCII, keeping circled numbers (NFKC would turn
/// ① into 1, losing the form's own numbering).
fn ascii_punct(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '－' | '‐' | '−' | '–' | '—' | '―' | 'ｰ' => '-',
            '（' => '(',
            '）' => ')',
            '．' => '.',
            '　' => ' ',
            c => c,
        })
        .collect()
}

/// A local number: 「⑦」 or 「(7)」, returned as printed in canonical form, and the rest.
fn split_local(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    let (_, first) = chars.next()?;
    if CIRCLED.contains(&first) {
        return Some((first.to_string(), s[first.len_utf8()..].trim_start()));
    }
    if first == '(' {
        let close = s.find(')')?;
        let digits = &s[1..close];
        if !digits.is_empty() && digits.len() <= 2 && digits.chars().all(|c| c.is_ascii_digit()) {
            return Some((format!("({})", digits.trim_start_matches('0')), s[close + 1..].trim_start()));
        }
    }
    None
}

/// What an id-like cell holds.
#[derive(Debug, PartialEq, Eq)]
enum IdCell<'a> {
    /// 「2-⑦」 / 「1-(1)」, maybe followed by wording.
    Full { section: String, local: String, rest: &'a str },
    /// 「⑦」 / 「(7)」, maybe followed by wording.
    Local { local: String, rest: &'a str },
}

fn parse_id_cell(s: &str) -> Option<IdCell<'_>> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if (1..=2).contains(&digits_end) && s[digits_end..].starts_with('-') {
        let (local, rest) = split_local(s[digits_end + 1..].trim_start())?;
        return Some(IdCell::Full { section: s[..digits_end].to_owned(), local, rest });
    }
    let (local, rest) = split_local(s)?;
    Some(IdCell::Local { local, rest })
}

/// 「1 体制構築」 / 「1.体制構築」 → ("1", "体制構築").
fn parse_section_cell(s: &str) -> Option<(String, String)> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if !(1..=2).contains(&digits_end) {
        return None;
    }
    let title = s[digits_end..].trim_start_matches(['.', '、', ' ', ')', '．']).trim();
    looks_like_title(title).then(|| (s[..digits_end].to_owned(), title.to_owned()))
}

fn looks_like_title(t: &str) -> bool {
    let n = t.chars().count();
    (2..=30).contains(&n)
        && !t.contains('。')
        && !t.contains('「')
        && !t.starts_with('-')
        && !t.starts_with(|c: char| c.is_ascii_digit())
        && !is_header_word(t)
}

fn is_header_word(t: &str) -> bool {
    let k = wording_key(t);
    ["はい", "いいえ", "確認日", "目標日", "備考", "対象", "項目", "確認事項", "○", "〇"].contains(&k.as_str())
        || k.starts_with("確認結果")
}

fn class_of_label(t: &str) -> Option<&'static str> {
    match wording_key(t).as_str() {
        "サーバ" | "サーバー" => Some(device_class::SERVER),
        "端末PC" | "端末" | "PC" => Some(device_class::TERMINAL_PC),
        "ネットワーク機器" | "ネットワーク" => Some(device_class::NETWORK_DEVICE),
        "医療情報システム全般" | "全般" => Some(device_class::ALL),
        _ => None,
    }
}

/// Splits 「…停止している。(サーバ、端末PC)」 into the wording and its classes.
fn split_scope(text: &str) -> (String, Vec<String>) {
    let t = text.trim_end();
    if t.ends_with(')') || t.ends_with('）') {
        let open = t.rfind(['(', '（']);
        if let Some(open) = open {
            let mut inner = t[open..].chars();
            inner.next();
            inner.next_back();
            let inner = inner.as_str();
            let classes: Option<Vec<String>> =
                inner.split(['、', ',', '，', '・']).map(|p| class_of_label(p).map(str::to_owned)).collect();
            if let Some(classes) = classes.filter(|c| !c.is_empty()) {
                return (t[..open].trim_end().to_owned(), classes);
            }
        }
    }
    (t.to_owned(), Vec::new())
}

/// Wording and its ※ note.
fn split_note(text: &str) -> (String, Option<String>) {
    match text.find('※') {
        Some(i) if i > 0 => (text[..i].trim().to_owned(), Some(text[i..].trim().to_owned())),
        _ => (text.trim().to_owned(), None),
    }
}

/// Line breaks inside a cell are layout; the wording has none.
fn join_lines(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("")
}

fn form_of_title(text: &str) -> Option<(&'static str, &'static str)> {
    let k = wording_key(text);
    if k.contains("医療機関・薬局確認用") || k.contains("医療機関等確認用") {
        Some(("clinic-pharmacy", "医療機関・薬局確認用"))
    } else if k.contains("事業者確認用") {
        Some(("vendor", "事業者確認用"))
    } else if k.contains("薬局確認用") {
        Some(("pharmacy", "薬局確認用"))
    } else if k.contains("医療機関確認用") {
        Some(("clinic", "医療機関確認用"))
    } else {
        None
    }
}

fn form_title_of_sheet(sheet: &str, grid: &Grid) -> Option<(&'static str, &'static str)> {
    grid.iter().take(12).flat_map(|r| r.iter()).find_map(|c| form_of_title(c)).or_else(|| form_of_title(sheet))
}

/// 令和N年度 → fiscal year; 令和N年M月 → the fiscal year that month falls in.
fn fiscal_year_in(text: &str) -> Option<(i32, String)> {
    let t = ascii_punct(text);
    let i = t.find("令和")?;
    let rest = &t[i + "令和".len()..];
    let (n, after) = if let Some(r) = rest.strip_prefix('元') {
        (1, r)
    } else {
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        (rest[..end].parse::<i32>().ok()?, &rest[end..])
    };
    let year = 2018 + n;
    if after.starts_with("年度") {
        return Some((year, format!("令和{n}年度版")));
    }
    let after = after.strip_prefix('年')?;
    let end = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
    let month: i32 = after[..end].parse().ok()?;
    after[end..].starts_with('月').then(|| {
        let fy = if month >= 4 { year } else { year - 1 };
        (fy, format!("令和{}年度版", fy - 2018))
    })
}

/// Reads an official checklist workbook.
pub fn import_edition_xlsx(bytes: &[u8]) -> Result<ImportedEdition, ImportError> {
    let sheets = read_sheets(bytes)?;
    let mut out =
        ImportedEdition { fiscal_year: None, label_ja: None, title_ja: None, forms: Vec::new(), warnings: Vec::new() };
    // When some sheets name a known form, other sheets (notes, an evidence appendix) are not
    // forms, even if they list item ids.
    let any_known = sheets.iter().any(|(name, grid)| form_title_of_sheet(name, grid).is_some());
    for (index, (sheet, grid)) in sheets.iter().enumerate() {
        if any_known && form_title_of_sheet(sheet, grid).is_none() {
            continue;
        }
        for row in grid.iter().take(12) {
            for cell in row.iter().filter(|c| !c.is_empty()) {
                if out.fiscal_year.is_none()
                    && let Some((fy, label)) = fiscal_year_in(cell)
                {
                    out.fiscal_year = Some(fy);
                    out.label_ja = Some(label);
                }
                if out.title_ja.is_none() && cell.contains("チェックリスト") {
                    let title = join_lines(cell);
                    let title = title.split_once("版").map_or(title.as_str(), |(_, t)| t.trim()).to_owned();
                    out.title_ja = Some(title);
                }
            }
        }
        let Some(form) = parse_sheet(index, sheet, grid, &mut out.warnings)? else { continue };
        if let Some(other) = out.forms.iter().find(|f| f.id == form.id) {
            return Err(ImportError::DuplicateForm {
                form: form.id,
                first: other.sheet.clone(),
                second: sheet.clone(),
            });
        }
        out.forms.push(form);
    }
    if out.forms.is_empty() {
        return Err(ImportError::NoItems);
    }
    Ok(out)
}

fn parse_sheet(
    index: usize,
    sheet: &str,
    grid: &Grid,
    warnings: &mut Vec<ImportWarning>,
) -> Result<Option<ImportedForm>, ImportError> {
    let (id, title) = match form_title_of_sheet(sheet, grid) {
        Some((id, title)) => (id.to_owned(), title.to_owned()),
        None => (format!("sheet-{}", index + 1), sheet.to_owned()),
    };
    let mut form = ImportedForm { id, title_ja: title, sheet: sheet.to_owned(), sections: Vec::new() };
    let mut answer_cols: Vec<usize> = Vec::new();
    let mut first_rows: BTreeMap<String, u32> = BTreeMap::new();
    for (r, row) in grid.iter().enumerate() {
        let row_no = r as u32 + 1;
        let texts: Vec<(usize, String)> = row
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.trim().is_empty())
            .map(|(i, c)| (i, ascii_punct(c.trim())))
            .collect();
        let Some((first_col, first)) = texts.first().cloned() else { continue };
        let is_header = texts.iter().filter(|(_, t)| is_header_word(t)).count() >= 2
            && texts
                .iter()
                .any(|(_, t)| is_header_word(t) && !matches!(wording_key(t).as_str(), "はい" | "いいえ" | "○" | "〇"))
            && texts.iter().all(|(_, t)| class_of_label(t).is_none());
        if parse_id_cell(&first).is_none() && is_header {
            answer_cols = texts
                .iter()
                .filter(|(_, t)| is_header_word(t) && !matches!(wording_key(t).as_str(), "確認事項" | "項目"))
                .map(|(i, _)| *i)
                .collect();
            continue;
        }
        let wording_cells = |after: usize| -> Option<String> {
            texts
                .iter()
                .filter(|(i, t)| {
                    *i > after && !answer_cols.contains(i) && class_of_label(t).is_none() && !is_header_word(t)
                })
                .max_by_key(|(_, t)| t.chars().count())
                .map(|(_, t)| t.clone())
        };
        let row_classes: Vec<String> = texts
            .iter()
            .filter(|(i, _)| *i != first_col)
            .filter_map(|(_, t)| class_of_label(t).map(str::to_owned))
            .collect();

        match parse_id_cell(&first) {
            Some(id_cell) => {
                let (section_no, local, rest) = match id_cell {
                    IdCell::Full { section, local, rest } => (section, local, rest),
                    IdCell::Local { local, rest } => match form.sections.last() {
                        Some(s) => (s.no.clone(), local, rest),
                        None => {
                            return Err(ImportError::ItemWithoutSection {
                                sheet: sheet.to_owned(),
                                row: row_no,
                                number: local,
                            });
                        }
                    },
                };
                let id = format!("{section_no}-{local}");
                if let Some(first_row) = first_rows.get(&id) {
                    return Err(ImportError::DuplicateItemId {
                        sheet: sheet.to_owned(),
                        row: row_no,
                        id,
                        first_row: *first_row,
                    });
                }
                let raw = if rest.trim().is_empty() { wording_cells(first_col) } else { Some(rest.to_owned()) };
                let Some(raw) = raw.filter(|t| !t.trim().is_empty()) else {
                    return Err(ImportError::MissingWording { sheet: sheet.to_owned(), row: row_no, id });
                };
                let (text, note) = split_note(&join_lines(&raw));
                let (text, scope) = split_scope(&text);
                first_rows.insert(id.clone(), row_no);
                if form.sections.last().is_none_or(|s| s.no != section_no) {
                    // An id names a section no heading introduced: keep the item, title unknown.
                    warnings.push(ImportWarning {
                        sheet: sheet.to_owned(),
                        row: row_no,
                        message: format!("section {section_no} has no heading row"),
                    });
                    form.sections.push(ImportedSection {
                        no: section_no.clone(),
                        title_ja: String::new(),
                        items: Vec::new(),
                    });
                }
                let per_class = row_classes.iter().any(|c| c != device_class::ALL);
                let section = form.sections.last_mut().expect("pushed above");
                section.items.push(ImportedItem {
                    id,
                    text_ja: text,
                    note,
                    device_classes: if row_classes.is_empty() { scope } else { row_classes },
                    per_device_class: per_class,
                    row: row_no,
                });
            }
            None => {
                if class_of_label(&first).is_some() || (texts.len() <= 2 && !row_classes.is_empty()) {
                    let mut row_classes = row_classes;
                    if let Some(c) = class_of_label(&first) {
                        row_classes.insert(0, c.to_owned());
                    }
                    // A sub-row of the previous item for one device class.
                    if let Some(item) = form.sections.last_mut().and_then(|s| s.items.last_mut()) {
                        for c in row_classes {
                            if !item.device_classes.contains(&c) {
                                item.device_classes.push(c);
                            }
                        }
                        item.per_device_class = true;
                        continue;
                    }
                }
                let section = parse_section_cell(&clean_cell(&first)).or_else(|| {
                    let no = clean_cell(&first);
                    let next = texts.get(1).map(|(_, t)| clean_cell(t))?;
                    (no.len() <= 2 && no.chars().all(|c| c.is_ascii_digit()) && looks_like_title(&next))
                        .then_some((no, next))
                });
                if let Some((no, title)) = section {
                    if form.sections.iter().any(|s| s.no == no) {
                        warnings.push(ImportWarning {
                            sheet: sheet.to_owned(),
                            row: row_no,
                            message: format!("section {no} appears again; items continue in it"),
                        });
                        let i = form.sections.iter().position(|s| s.no == no).expect("found");
                        let s = form.sections.remove(i);
                        form.sections.push(s);
                    } else {
                        form.sections.push(ImportedSection { no, title_ja: title, items: Vec::new() });
                    }
                } else if !form.sections.is_empty() && texts.iter().any(|(_, t)| t.ends_with('。')) {
                    warnings.push(ImportWarning {
                        sheet: sheet.to_owned(),
                        row: row_no,
                        message: format!("text without an item number was skipped: {}", join_lines(&first)),
                    });
                }
            }
        }
    }
    form.sections.retain(|s| !s.items.is_empty());
    Ok((!form.sections.is_empty()).then_some(form))
}

/// An item on either side of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffItem {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WordingChange {
    pub id: String,
    /// What mamori ships (official, candidate or subject).
    pub shipped: String,
    pub shipped_status: Certainty,
    pub imported: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassChange {
    pub id: String,
    pub shipped: Vec<String>,
    pub imported: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormDiff {
    pub form: String,
    pub added: Vec<DiffItem>,
    pub removed: Vec<DiffItem>,
    /// The shipped wording was seen and differs (after NFKC and without whitespace).
    pub wording_changed: Vec<WordingChange>,
    /// The shipped wording was a candidate or a draft; the workbook gives the exact text
    /// (which may or may not equal the candidate: compare `shipped` and `imported`).
    pub newly_confirmed: Vec<WordingChange>,
    pub device_classes_changed: Vec<ClassChange>,
    /// (section no, shipped title, imported title)
    pub section_titles_changed: Vec<(String, String, String)>,
}

impl FormDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.wording_changed.is_empty()
            && self.newly_confirmed.is_empty()
            && self.device_classes_changed.is_empty()
            && self.section_titles_changed.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditionDiff {
    pub forms: Vec<FormDiff>,
    /// Forms in the workbook that mamori does not ship (e.g. 医療機関・薬局確認用).
    pub forms_added: Vec<String>,
    /// Shipped forms the workbook does not have.
    pub forms_missing: Vec<String>,
}

impl EditionDiff {
    pub fn is_empty(&self) -> bool {
        self.forms_added.is_empty() && self.forms_missing.is_empty() && self.forms.iter().all(FormDiff::is_empty)
    }
}

/// What the workbook changes compared with the edition mamori ships. Items are matched by id.
pub fn diff(shipped: &Edition, imported: &ImportedEdition) -> EditionDiff {
    let mut out = EditionDiff { forms: Vec::new(), forms_added: Vec::new(), forms_missing: Vec::new() };
    for f in &shipped.forms {
        if imported.form(&f.id).is_none() {
            out.forms_missing.push(f.id.clone());
        }
    }
    for imp in &imported.forms {
        let Some(ship) = shipped.form(&imp.id) else {
            out.forms_added.push(imp.id.clone());
            continue;
        };
        let mut d = FormDiff {
            form: imp.id.clone(),
            added: Vec::new(),
            removed: Vec::new(),
            wording_changed: Vec::new(),
            newly_confirmed: Vec::new(),
            device_classes_changed: Vec::new(),
            section_titles_changed: Vec::new(),
        };
        for s in &imp.sections {
            if let Some(ss) = ship.sections.iter().find(|x| x.no.as_deref() == Some(s.no.as_str())) {
                let shipped_title = ss.title_ja.clone().or(ss.title_candidate_ja.clone()).unwrap_or_default();
                if !s.title_ja.is_empty() && wording_key(&shipped_title) != wording_key(&s.title_ja) {
                    d.section_titles_changed.push((s.no.clone(), shipped_title, s.title_ja.clone()));
                }
            }
        }
        for item in imp.items() {
            let Some(si) = ship.item(&item.id) else {
                d.added.push(DiffItem { id: item.id.clone(), text: item.text_ja.clone() });
                continue;
            };
            let change = WordingChange {
                id: item.id.clone(),
                shipped: si.display_text().to_owned(),
                shipped_status: si.text_status,
                imported: item.text_ja.clone(),
            };
            if !si.text_status.is_official() || si.text_ja.is_none() {
                d.newly_confirmed.push(change);
            } else if wording_key(si.display_text()) != wording_key(&item.text_ja) {
                d.wording_changed.push(change);
            }
            if !item.device_classes.is_empty() {
                let mut a = si.device_classes.clone();
                let mut b = item.device_classes.clone();
                a.sort();
                b.sort();
                if a != b {
                    d.device_classes_changed.push(ClassChange {
                        id: item.id.clone(),
                        shipped: si.device_classes.clone(),
                        imported: item.device_classes.clone(),
                    });
                }
            }
        }
        for si in ship.items() {
            if !imp.items().any(|i| i.id == si.id) {
                d.removed.push(DiffItem { id: si.id.clone(), text: si.display_text().to_owned() });
            }
        }
        out.forms.push(d);
    }
    out
}

/// Builds the edition to store after an admin confirmed the import: the workbook's forms,
/// sections, ids and wording (as `verbatim`), with mamori's topics, guidance, deadlines and
/// evidence hints carried from the shipped edition by id and wording. The result is
/// validated like any edition file.
pub fn edition_from_import(
    base: &Edition,
    imported: &ImportedEdition,
    edition_id: &str,
) -> Result<Edition, DefinitionError> {
    let fiscal_year = imported.fiscal_year.unwrap_or(base.fiscal_year);
    let period = Period::fiscal_year(fiscal_year)
        .ok_or_else(|| DefinitionError::InvalidDate { at: "fiscal_year".into(), detail: fiscal_year.to_string() })?;
    let reiwa = fiscal_year - 2018;
    let same_year = fiscal_year == base.fiscal_year;
    let mut deadlines = BTreeMap::new();
    for (k, d) in &base.deadlines {
        if k != DEFAULT_DEADLINE && d.by >= period.start {
            deadlines.insert(k.clone(), d.clone());
        }
    }
    let default = match base.deadlines.get(DEFAULT_DEADLINE) {
        Some(d) if same_year => d.clone(),
        _ => Deadline {
            label_ja: format!("令和{reiwa}年度中"),
            by: period.end,
            status: Certainty::Inferred,
            note: Some("取り込んだ様式から年度末と推定".into()),
        },
    };
    deadlines.insert(DEFAULT_DEADLINE.to_owned(), default);

    let mut forms = Vec::new();
    for imp in &imported.forms {
        let base_form = base.form(&imp.id).or_else(|| {
            // A merged form (医療機関・薬局確認用) inherits from 医療機関確認用.
            base.forms.iter().find(|f| f.respondent == Respondent::Institution)
        });
        let base_items: Vec<&Item> = base_form.map(|f| f.items().collect()).unwrap_or_default();
        let find_base = |item: &ImportedItem| -> Option<&Item> {
            let key = wording_key(&item.text_ja);
            base_items
                .iter()
                .find(|b| b.id == item.id && wording_key(b.display_text()) == key)
                .or_else(|| base_items.iter().find(|b| wording_key(b.display_text()) == key))
                .or_else(|| base_items.iter().find(|b| b.id == item.id))
                .copied()
        };
        let sections = imp
            .sections
            .iter()
            .map(|s| Section {
                no: Some(s.no.clone()),
                no_status: None,
                title_ja: (!s.title_ja.is_empty()).then(|| s.title_ja.clone()),
                title_candidate_ja: None,
                title_status: if s.title_ja.is_empty() { Certainty::Unconfirmed } else { Certainty::Verbatim },
                note: None,
                items: s
                    .items
                    .iter()
                    .map(|i| {
                        let b = find_base(i);
                        let deadline = b.and_then(|b| b.deadline.clone()).filter(|d| deadlines.contains_key(d));
                        Item {
                            id: i.id.clone(),
                            id_status: Certainty::Verbatim,
                            topic: b.and_then(|b| b.topic.clone()),
                            text_ja: Some(i.text_ja.clone()),
                            text_status: Certainty::Verbatim,
                            text_partial_ja: None,
                            candidate_ja: None,
                            candidate_basis: None,
                            subject_ja: None,
                            note: i.note.clone(),
                            device_classes: if i.device_classes.is_empty() {
                                b.map(|b| b.device_classes.clone()).unwrap_or_default()
                            } else {
                                i.device_classes.clone()
                            },
                            device_classes_status: None,
                            per_device_class: if i.device_classes.is_empty() {
                                b.is_some_and(|b| b.per_device_class)
                            } else {
                                i.per_device_class
                            },
                            deadline,
                            gate: false,
                            evidence_hints: b.map(|b| b.evidence_hints.clone()).unwrap_or_default(),
                            sources: vec![format!("imported:{}", imp.sheet)],
                            guidance: None,
                        }
                    })
                    .collect(),
            })
            .collect();
        forms.push(Form {
            id: imp.id.clone(),
            title_ja: imp.title_ja.clone(),
            respondent: if imp.id == "vendor" { Respondent::Vendor } else { Respondent::Institution },
            filled_by_ja: base_form.filter(|f| f.id == imp.id).and_then(|f| f.filled_by_ja.clone()),
            items_from: None,
            structure_status: None,
            note: None,
            sections,
        });
    }
    Edition {
        schema: crate::definition::SCHEMA_VERSION,
        id: edition_id.to_owned(),
        fiscal_year,
        label_ja: imported.label_ja.clone().unwrap_or_else(|| format!("令和{reiwa}年度版")),
        title_ja: imported.title_ja.clone().unwrap_or_else(|| base.title_ja.clone()),
        period,
        published: None,
        text_basis: Some("厚生労働省の様式（XLSX）から取り込んだ文言".into()),
        sources: Vec::new(),
        confirmed_on_label_ja: base.confirmed_on_label_ja.clone(),
        confirmed_on_label_status: Certainty::Inferred,
        target_date_label_ja: base.target_date_label_ja.clone(),
        instructions_ja: None,
        instructions_status: Certainty::Unconfirmed,
        device_classes: base.device_classes.clone(),
        deadlines,
        forms,
    }
    .prepared()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_recognised_in_their_printed_forms() {
        assert_eq!(parse_id_cell("2-⑦"), Some(IdCell::Full { section: "2".into(), local: "⑦".into(), rest: "" }));
        assert_eq!(
            parse_id_cell(&ascii_punct("２－（３）")),
            Some(IdCell::Full { section: "2".into(), local: "(3)".into(), rest: "" })
        );
        assert_eq!(
            parse_id_cell("⑫ バックグラウンド"),
            Some(IdCell::Local { local: "⑫".into(), rest: "バックグラウンド" })
        );
        assert_eq!(parse_id_cell("(1)"), Some(IdCell::Local { local: "(1)".into(), rest: "" }));
        assert_eq!(parse_id_cell("1 体制構築"), None);
        assert_eq!(parse_id_cell("はい"), None);
    }

    #[test]
    fn sections_scopes_and_years() {
        assert_eq!(parse_section_cell("1 体制構築"), Some(("1".into(), "体制構築".into())));
        assert_eq!(
            parse_section_cell("2.医療情報システムの管理・運用"),
            Some(("2".into(), "医療情報システムの管理・運用".into()))
        );
        assert_eq!(parse_section_cell("1回目の確認で「いいえ」の場合、目標日を記入してください。"), None);
        assert_eq!(
            split_scope("不要なソフトウェア及びサービスを停止している。(サーバ、端末PC)"),
            ("不要なソフトウェア及びサービスを停止している。".into(), vec!["server".into(), "terminal_pc".into()])
        );
        assert_eq!(
            split_scope("リモートメンテナンス(保守)を利用"),
            ("リモートメンテナンス(保守)を利用".into(), vec![])
        );
        assert_eq!(fiscal_year_in("令和7年度版"), Some((2025, "令和7年度版".into())));
        assert_eq!(fiscal_year_in("チェックリスト（令和８年５月）"), Some((2026, "令和8年度版".into())));
        assert_eq!(fiscal_year_in("令和8年3月"), Some((2025, "令和7年度版".into())));
        assert_eq!(form_of_title("医療機関・薬局確認用"), Some(("clinic-pharmacy", "医療機関・薬局確認用")));
    }
}
