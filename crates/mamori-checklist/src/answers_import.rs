//! Reading back a form that mamori exported ([`crate::export::export_xlsx`]) and someone filled
//! in Excel — typically 事業者確認用, sent to a vendor and returned with はい/いいえ, 確認日,
//! 目標日 and 備考.
//!
//! The file must still be the layout mamori wrote for this edition and form: the sheet named
//! after the form, the title rows, the header row of [`crate::layout::COLUMNS`], and every body
//! row of [`crate::layout::body_rows`] in place (section headings, item ids in form order, the
//! device class of each per-class row). Anything else is refused with the sheet, row and column
//! where the layout first differs; the answers are never guessed from a moved row.
//!
//! All or nothing: the result is one answer per answer slot of the form (未回答 included), each
//! checked with [`crate::answer::validate_answer`], or an error. Import validates because a
//! file with いいえ and no 目標日 cannot be saved anyway, and only here can the error name the
//! row to fix. The evidence sheet and other sheets are not read. Bytes in, data out.

use crate::answer::{Answer, AnswerError, AnswerValue, validate_answer};
use crate::dates;
use crate::definition::{Edition, Form};
use crate::export::sheet_name;
use crate::layout::{self, BodyRow, COLUMNS, ColumnKey, LAST_COL, column};
use crate::normalize::{clean_cell, wording_key};
use calamine::{Data, Reader};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Cursor;
use time::Date;
use unicode_normalization::UnicodeNormalization;

/// A filled form is a few dozen kilobytes; anything near this is not one.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Rows read below the form's last body row (a signature block, a remark) before giving up.
pub const MAX_EXTRA_ROWS: u32 = 200;
/// Columns read per row; content further right is not looked at.
const MAX_COLS: u16 = 64;
const MAX_WARNINGS: usize = 100;

/// Why a filled form was refused. Rows are 1-based and columns are letters, as Excel shows them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerImportError {
    #[error("the file is {bytes} bytes; a filled form is at most {max}")]
    TooLarge { bytes: usize, max: usize },
    #[error("the file is not a readable XLSX workbook: {detail}")]
    Damaged { detail: String },
    #[error("the workbook is password-protected")]
    PasswordProtected,
    #[error("the edition {edition} has no form {form:?}")]
    UnknownForm { edition: String, form: String },
    #[error("the workbook has no sheet {expected:?} (sheets: {sheets:?}); sheets must not be renamed")]
    SheetMissing { expected: String, sheets: Vec<String> },
    #[error("sheet {sheet:?} is the form {found:?}, not {expected:?}")]
    WrongForm { sheet: String, expected: String, found: String },
    #[error("sheet {sheet:?} cell A{row}: the file is {found:?}, not {expected:?}", row = layout::TITLE_ROW + 1)]
    WrongEdition { sheet: String, expected: String, found: String },
    #[error(
        "sheet {sheet:?} cell {column}{row}: expected {expected:?}, found {found:?}; rows or columns were inserted, deleted or moved"
    )]
    LayoutChanged { sheet: String, row: u32, column: char, expected: String, found: String },
    #[error("sheet {sheet:?} cell {column}{row}: {item:?} is not an item of this form")]
    UnknownItem { sheet: String, row: u32, column: char, item: String },
    #[error("sheet {sheet:?} has content below row {max}, far past the end of the form")]
    TooManyRows { sheet: String, max: u32 },
    #[error("sheet {sheet:?} cell {column}{row} (item {item}): {found:?} is not a mark (write ○ or leave it empty)")]
    BadMark { sheet: String, row: u32, column: char, item: String, found: String },
    #[error("sheet {sheet:?} row {row} (item {item}): both はい and いいえ are marked")]
    BothMarked { sheet: String, row: u32, item: String },
    #[error("sheet {sheet:?} cell {column}{row} (item {item}, {header}): {found:?} is not a date")]
    BadDate { sheet: String, row: u32, column: char, item: String, header: String, found: String },
    #[error("sheet {sheet:?} row {row}: {source}")]
    InvalidAnswer {
        sheet: String,
        row: u32,
        #[source]
        source: Box<AnswerError>,
    },
}

impl AnswerImportError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "checklist-answers-too-large",
            Self::Damaged { .. } => "checklist-answers-damaged",
            Self::PasswordProtected => "checklist-answers-password-protected",
            Self::UnknownForm { .. } => "checklist-answers-unknown-form",
            Self::SheetMissing { .. } => "checklist-answers-sheet-missing",
            Self::WrongForm { .. } => "checklist-answers-wrong-form",
            Self::WrongEdition { .. } => "checklist-answers-wrong-edition",
            Self::LayoutChanged { .. } => "checklist-answers-layout-changed",
            Self::UnknownItem { .. } => "checklist-answers-unknown-item",
            Self::TooManyRows { .. } => "checklist-answers-too-many-rows",
            Self::BadMark { .. } => "checklist-answers-bad-mark",
            Self::BothMarked { .. } => "checklist-answers-both-marked",
            Self::BadDate { .. } => "checklist-answers-bad-date",
            Self::InvalidAnswer { .. } => "checklist-answers-invalid-answer",
        }
    }
}

/// Something in the file that was set aside; the answers are complete without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum AnswerImportWarning {
    #[error("sheet {sheet:?} cell {column}{row}: the wording of item {item} was edited; the form's wording stays")]
    WordingChanged { sheet: String, row: u32, column: String, item: String },
    #[error("sheet {sheet:?} cell {column}{row}: item {item} is not answered いいえ, so its target date was ignored")]
    TargetDateIgnored { sheet: String, row: u32, column: String, item: String },
    #[error("sheet {sheet:?} cell {column}{row}: item {item} is not answered, so its date was ignored")]
    ConfirmedDateIgnored { sheet: String, row: u32, column: String, item: String },
    #[error("sheet {sheet:?} cell {column}{row}: {text:?} is outside the form and was ignored")]
    OutsideForm { sheet: String, row: u32, column: String, text: String },
}

impl AnswerImportWarning {
    pub fn code(&self) -> &'static str {
        match self {
            Self::WordingChanged { .. } => "checklist-answers-wording-changed",
            Self::TargetDateIgnored { .. } => "checklist-answers-target-date-ignored",
            Self::ConfirmedDateIgnored { .. } => "checklist-answers-confirmed-date-ignored",
            Self::OutsideForm { .. } => "checklist-answers-outside-form",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedAnswers {
    /// One answer per answer slot of the form, in form order; 未回答 where nothing is marked.
    pub answers: Vec<Answer>,
    pub warnings: Vec<AnswerImportWarning>,
    /// The name in the 医療機関名 cell, for the caller to compare with the institution.
    pub institution_name: Option<String>,
}

/// Excel's column letters (0 → A, 26 → AA).
fn column_letters(col: u16) -> String {
    let mut n = u32::from(col) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// The letter of a column of the form table (A..H): every error points into the table.
fn letter(col: u16) -> char {
    debug_assert!(col <= LAST_COL);
    char::from(b'A' + col.min(25) as u8)
}

/// The form sheet's cells, by 0-based (row, column).
struct Sheet {
    name: String,
    cells: BTreeMap<(u32, u16), Data>,
}

impl Sheet {
    fn get(&self, row: u32, col: u16) -> Option<&Data> {
        self.cells.get(&(row, col))
    }

    /// What a person sees in the cell, trimmed; empty for an empty cell.
    fn text(&self, row: u32, col: u16) -> String {
        self.get(row, col).map(cell_text).unwrap_or_default()
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::Error(e) => format!("#{e:?}"),
        Data::Empty => String::new(),
    }
}

fn open(bytes: &[u8]) -> Result<calamine::Xlsx<Cursor<&[u8]>>, AnswerImportError> {
    if bytes.len() > MAX_BYTES {
        return Err(AnswerImportError::TooLarge { bytes: bytes.len(), max: MAX_BYTES });
    }
    calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| match e {
        calamine::XlsxError::Password => AnswerImportError::PasswordProtected,
        e => AnswerImportError::Damaged { detail: e.to_string() },
    })
}

fn read_sheet(book: &mut calamine::Xlsx<Cursor<&[u8]>>, name: &str, max_row: u32) -> Result<Sheet, AnswerImportError> {
    let damaged = |e: calamine::XlsxError| AnswerImportError::Damaged { detail: format!("{name}: {e}") };
    let mut reader = book.worksheet_cells_reader(name).map_err(damaged)?;
    let mut cells = BTreeMap::new();
    while let Some(cell) = reader.next_cell().map_err(damaged)? {
        let (row, col) = cell.get_position();
        let value: Data = cell.get_value().clone().into();
        if value == Data::Empty || matches!(&value, Data::String(s) if s.trim().is_empty()) {
            continue;
        }
        if row > max_row {
            return Err(AnswerImportError::TooManyRows { sheet: name.to_owned(), max: max_row + 1 });
        }
        if let Ok(col) = u16::try_from(col)
            && col < MAX_COLS
        {
            cells.insert((row, col), value);
        }
    }
    Ok(Sheet { name: name.to_owned(), cells })
}

/// Finds the sheet of `form`, telling a renamed sheet from another form of the edition.
fn find_sheet(
    book: &mut calamine::Xlsx<Cursor<&[u8]>>,
    edition: &Edition,
    form: &Form,
    max_row: u32,
) -> Result<Sheet, AnswerImportError> {
    let expected = sheet_name(&form.title_ja);
    let names = book.sheet_names();
    if names.contains(&expected) {
        let sheet = read_sheet(book, &expected, max_row)?;
        let found = sheet.text(layout::FORM_TITLE_ROW, 0);
        if found != form.title_ja {
            if let Some(other) = edition.forms.iter().find(|f| f.title_ja == found) {
                return Err(AnswerImportError::WrongForm {
                    sheet: sheet.name,
                    expected: form.title_ja.clone(),
                    found: other.title_ja.clone(),
                });
            }
            return Err(layout_changed(&sheet, layout::FORM_TITLE_ROW, 0, &form.title_ja, &found));
        }
        return Ok(sheet);
    }
    for other in edition.forms.iter().filter(|f| f.id != form.id) {
        if let Some(name) = names.iter().find(|n| **n == sheet_name(&other.title_ja)) {
            return Err(AnswerImportError::WrongForm {
                sheet: name.clone(),
                expected: form.title_ja.clone(),
                found: other.title_ja.clone(),
            });
        }
    }
    Err(AnswerImportError::SheetMissing { expected, sheets: names })
}

fn layout_changed(sheet: &Sheet, row: u32, col: u16, expected: &str, found: &str) -> AnswerImportError {
    AnswerImportError::LayoutChanged {
        sheet: sheet.name.clone(),
        row: row + 1,
        column: letter(col),
        expected: expected.to_owned(),
        found: found.to_owned(),
    }
}

/// Whether mamori writes the cell: the title rows, the institution name and the table.
fn in_form(row: u32, col: u16, last_body_row: u32) -> bool {
    match row {
        layout::TITLE_ROW | layout::FORM_TITLE_ROW | layout::INSTRUCTIONS_ROW => col == 0,
        layout::INSTITUTION_ROW => col <= 1,
        r if r < layout::HEADER_ROW => false,
        r => r <= last_body_row && col <= LAST_COL,
    }
}

/// Requires the cell to read `expected` (after NFKC and whitespace clean-up).
fn expect_cell(sheet: &Sheet, row: u32, col: u16, expected: &str) -> Result<(), AnswerImportError> {
    let found = sheet.text(row, col);
    if clean_cell(&found) == clean_cell(expected) {
        Ok(())
    } else {
        Err(layout_changed(sheet, row, col, expected, &found))
    }
}

/// A mark in the はい or いいえ column: `Some(true)` marked, `Some(false)` empty, `None` not a mark.
fn mark(cell: Option<&Data>) -> Option<bool> {
    match cell {
        None | Some(Data::Empty) | Some(Data::Bool(false)) => Some(false),
        Some(Data::Bool(true)) => Some(true),
        Some(Data::Int(1)) => Some(true),
        Some(Data::Float(f)) if *f == 1.0 => Some(true),
        Some(Data::String(s)) => {
            let s: String = s.nfkc().filter(|c| !c.is_whitespace()).collect();
            match s.as_str() {
                "" => Some(false),
                "○" | "〇" | "◯" | "●" | "x" | "X" | "レ" | "✓" | "✔" | "1" => Some(true),
                _ if s.eq_ignore_ascii_case("true") => Some(true),
                _ => None,
            }
        }
        Some(_) => None,
    }
}

/// A date cell: an Excel date, an Excel serial number, `20250601`, or text (see
/// [`dates::parse_written`]). Only years 2000–2099 are taken: anything else in a checklist is a
/// slip of the keyboard. `Ok(None)` for an empty cell.
fn date_cell(cell: Option<&Data>) -> Result<Option<Date>, ()> {
    let date = match cell {
        None | Some(Data::Empty) => return Ok(None),
        Some(Data::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Data::DateTime(dt)) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            Date::from_calendar_date(i32::from(y), time::Month::try_from(m).map_err(|_| ())?, d).ok()
        }
        Some(Data::DateTimeIso(s)) => dates::parse(s.split('T').next().unwrap_or(s)),
        Some(Data::String(s)) => dates::parse_written(s),
        Some(Data::Int(n)) if (10_000_000..100_000_000).contains(n) => dates::parse_written(&n.to_string()),
        Some(Data::Int(n)) => dates::from_excel_serial(*n as f64),
        Some(Data::Float(f)) if (1e7..1e8).contains(f) && f.fract() == 0.0 => {
            dates::parse_written(&format!("{}", *f as i64))
        }
        Some(Data::Float(f)) => dates::from_excel_serial(*f),
        Some(_) => None,
    };
    date.filter(|d| (2000..=2099).contains(&d.year())).map(Some).ok_or(())
}

/// The answer note: the cell without the caveat line mamori printed above it.
fn note_of(text: &str, caveat: Option<&str>) -> Option<String> {
    let text = text.trim();
    let rest = caveat.and_then(|c| text.strip_prefix(c)).unwrap_or(text).trim();
    (!rest.is_empty()).then(|| rest.to_owned())
}

/// Does this look like an item id (「2-⑳」, 「3-(1)」) rather than stray text?
fn looks_like_item_id(text: &str) -> bool {
    let n: String = text.nfkc().collect();
    n.chars().next().is_some_and(|c| c.is_ascii_digit()) && n.contains('-') && n.chars().count() <= 8
}

/// Reads the filled form `form_id` of `edition` from an XLSX file mamori exported.
pub fn import_answers_xlsx(
    edition: &Edition,
    form_id: &str,
    bytes: &[u8],
) -> Result<ImportedAnswers, AnswerImportError> {
    let form = edition
        .form(form_id)
        .ok_or_else(|| AnswerImportError::UnknownForm { edition: edition.id.clone(), form: form_id.to_owned() })?;
    let body = layout::body_rows(edition, form, &[]);
    let last_body_row = layout::FIRST_BODY_ROW + body.len() as u32 - 1;
    let mut book = open(bytes)?;
    let sheet = find_sheet(&mut book, edition, form, last_body_row + MAX_EXTRA_ROWS)?;

    let title = format!("{} {}", edition.label_ja, edition.title_ja);
    let found_title = sheet.text(layout::TITLE_ROW, 0);
    if clean_cell(&found_title) != clean_cell(&title) {
        return Err(AnswerImportError::WrongEdition { sheet: sheet.name.clone(), expected: title, found: found_title });
    }
    expect_cell(&sheet, layout::INSTITUTION_ROW, 0, layout::INSTITUTION_LABEL)?;
    for c in COLUMNS {
        expect_cell(&sheet, layout::HEADER_ROW, c.col, &layout::header(edition, c.key))?;
    }

    let mut warnings = Vec::new();
    for (&(row, col), value) in &sheet.cells {
        if !in_form(row, col, last_body_row) && warnings.len() < MAX_WARNINGS {
            warnings.push(AnswerImportWarning::OutsideForm {
                sheet: sheet.name.clone(),
                row: row + 1,
                column: column_letters(col),
                text: cell_text(value),
            });
        }
    }

    let ids: Vec<&str> = form.items().map(|i| i.id.as_str()).collect();
    let col = |key| column(key).col;
    let mut answers = Vec::new();
    for (row, expected) in (layout::FIRST_BODY_ROW..).zip(&body) {
        let BodyRow::Slot { item_id, text, caveat, item_note, device_class, scope_label, first_of_item, .. } = expected
        else {
            if let BodyRow::Section { title } = expected {
                expect_cell(&sheet, row, col(ColumnKey::Id), title)?;
            }
            continue;
        };
        let id_col = col(ColumnKey::Id);
        let found_id = sheet.text(row, id_col);
        let want_id = if *first_of_item { item_id.as_str() } else { "" };
        if found_id != want_id {
            if !found_id.is_empty() && !ids.contains(&found_id.as_str()) && looks_like_item_id(&found_id) {
                return Err(AnswerImportError::UnknownItem {
                    sheet: sheet.name.clone(),
                    row: row + 1,
                    column: letter(id_col),
                    item: found_id,
                });
            }
            return Err(layout_changed(&sheet, row, id_col, want_id, &found_id));
        }
        expect_cell(&sheet, row, col(ColumnKey::DeviceClass), scope_label.as_deref().unwrap_or(""))?;
        if *first_of_item {
            let full = match item_note {
                Some(n) => format!("{text}\n{n}"),
                None => text.clone(),
            };
            let text_col = col(ColumnKey::Text);
            if wording_key(&sheet.text(row, text_col)) != wording_key(&full) {
                warnings.push(AnswerImportWarning::WordingChanged {
                    sheet: sheet.name.clone(),
                    row: row + 1,
                    column: column_letters(text_col),
                    item: item_id.clone(),
                });
            }
        }

        let marked = |key: ColumnKey| {
            let c = col(key);
            mark(sheet.get(row, c)).ok_or_else(|| AnswerImportError::BadMark {
                sheet: sheet.name.clone(),
                row: row + 1,
                column: letter(c),
                item: item_id.clone(),
                found: sheet.text(row, c),
            })
        };
        let value = match (marked(ColumnKey::Yes)?, marked(ColumnKey::No)?) {
            (true, true) => {
                return Err(AnswerImportError::BothMarked {
                    sheet: sheet.name.clone(),
                    row: row + 1,
                    item: item_id.clone(),
                });
            }
            (true, false) => AnswerValue::Yes,
            (false, true) => AnswerValue::No,
            (false, false) => AnswerValue::Unanswered,
        };
        let date = |key: ColumnKey| {
            let c = col(key);
            date_cell(sheet.get(row, c)).map_err(|()| AnswerImportError::BadDate {
                sheet: sheet.name.clone(),
                row: row + 1,
                column: letter(c),
                item: item_id.clone(),
                header: layout::header(edition, key),
                found: sheet.text(row, c),
            })
        };
        let mut confirmed_on = date(ColumnKey::ConfirmedOn)?;
        let mut target_date = date(ColumnKey::TargetDate)?;
        let at = |key: ColumnKey| (sheet.name.clone(), row + 1, column_letters(col(key)), item_id.clone());
        if target_date.is_some() && value != AnswerValue::No {
            let (sheet, row, column, item) = at(ColumnKey::TargetDate);
            warnings.push(AnswerImportWarning::TargetDateIgnored { sheet, row, column, item });
            target_date = None;
        }
        if confirmed_on.is_some() && value == AnswerValue::Unanswered {
            let (sheet, row, column, item) = at(ColumnKey::ConfirmedOn);
            warnings.push(AnswerImportWarning::ConfirmedDateIgnored { sheet, row, column, item });
            confirmed_on = None;
        }
        let mut answer = Answer::new(item_id, device_class.as_deref(), value);
        answer.confirmed_on = confirmed_on;
        answer.target_date = target_date;
        answer.note = note_of(&sheet.text(row, col(ColumnKey::Note)), *caveat);
        validate_answer(edition, &form.id, &answer).map_err(|source| AnswerImportError::InvalidAnswer {
            sheet: sheet.name.clone(),
            row: row + 1,
            source: Box::new(source),
        })?;
        answers.push(answer);
    }

    let name = sheet.text(layout::INSTITUTION_ROW, 1);
    Ok(ImportedAnswers { answers, warnings, institution_name: (!name.is_empty()).then_some(name) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(7), "H");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn marks_people_write() {
        let s = |t: &str| mark(Some(&Data::String(t.into())));
        for m in ["○", "〇", "◯", "●", "x", "X", "ｘ", "Ｘ", "レ", "✓", "✔", "1", "１", "TRUE", "true", " ○ "]
        {
            assert_eq!(s(m), Some(true), "{m}");
        }
        for m in ["", " ", "　"] {
            assert_eq!(s(m), Some(false), "{m:?}");
        }
        for m in ["△", "×", "はい", "0", "FALSE", "○○", "済"] {
            assert_eq!(s(m), None, "{m}");
        }
        assert_eq!(mark(None), Some(false));
        assert_eq!(mark(Some(&Data::Bool(true))), Some(true));
        assert_eq!(mark(Some(&Data::Bool(false))), Some(false));
        assert_eq!(mark(Some(&Data::Int(1))), Some(true));
        assert_eq!(mark(Some(&Data::Float(1.0))), Some(true));
        assert_eq!(mark(Some(&Data::Float(2.0))), None);
    }

    #[test]
    fn notes_lose_the_printed_caveat() {
        assert_eq!(note_of("文言未確認", Some("文言未確認")), None);
        assert_eq!(note_of("文言未確認\n保守契約で対応", Some("文言未確認")), Some("保守契約で対応".into()));
        assert_eq!(note_of(" 保守契約で対応 ", None), Some("保守契約で対応".into()));
        assert_eq!(note_of("", None), None);
    }

    #[test]
    fn date_cells() {
        use time::macros::date;
        let d = date!(2025 - 06 - 01);
        assert_eq!(date_cell(None), Ok(None));
        assert_eq!(date_cell(Some(&Data::String("  ".into()))), Ok(None));
        assert_eq!(date_cell(Some(&Data::String("R7.6.1".into()))), Ok(Some(d)));
        assert_eq!(date_cell(Some(&Data::Float(45809.0))), Ok(Some(d)));
        assert_eq!(date_cell(Some(&Data::Int(20250601))), Ok(Some(d)));
        assert_eq!(date_cell(Some(&Data::DateTimeIso("2025-06-01T00:00:00".into()))), Ok(Some(d)));
        assert_eq!(date_cell(Some(&Data::Float(5.0))), Err(()));
        assert_eq!(date_cell(Some(&Data::String("1999-12-31".into()))), Err(()));
        assert_eq!(date_cell(Some(&Data::Bool(true))), Err(()));
    }
}
