//! A filled form read back: mamori exports the form, a vendor fills it in Excel (simulated by
//! reading every cell and merged range of the export and writing a new workbook with them plus
//! the vendor's entries, as Excel does when it re-saves), and the institution imports it.

use crate::{fy2024, fy2025};
use calamine::{Data, ExcelDateTime, ExcelDateTimeType, Reader, Xlsx};
use mamori_checklist::{
    Answer, AnswerImportError, AnswerImportWarning, AnswerValue, export_xlsx, import_answers_xlsx, validate_answers,
};
use rust_xlsxwriter::{Format, Workbook};
use std::collections::BTreeMap;
use std::io::Cursor;
use time::Date;
use time::macros::date;

const ID: u16 = 0;
const CLASS: u16 = 2;
const YES: u16 = 3;
const NO: u16 = 4;
const CONFIRMED: u16 = 5;
const TARGET: u16 = 6;
const NOTE: u16 = 7;

struct SheetCells {
    name: String,
    cells: BTreeMap<(u32, u16), Data>,
    /// (first row, first col, last row, last col)
    merges: Vec<(u32, u16, u32, u16)>,
}

impl SheetCells {
    /// The 0-based row holding `item` in column A (its first row when merged).
    fn row(&self, item: &str) -> u32 {
        self.cells
            .iter()
            .find(|((_, c), v)| *c == ID && matches!(v, Data::String(s) if s == item))
            .map(|((r, _), _)| *r)
            .unwrap_or_else(|| panic!("no row for {item}"))
    }

    fn set(&mut self, item: &str, col: u16, value: Data) {
        let row = self.row(item);
        self.cells.insert((row, col), value);
    }

    fn delete_row(&mut self, row: u32) {
        let shift = |r: u32| if r > row { r - 1 } else { r };
        self.cells = std::mem::take(&mut self.cells)
            .into_iter()
            .filter(|((r, _), _)| *r != row)
            .map(|((r, c), v)| ((shift(r), c), v))
            .collect();
        self.merges.retain(|m| m.0 != row && m.2 != row);
        for m in &mut self.merges {
            (m.0, m.2) = (shift(m.0), shift(m.2));
        }
    }

    fn insert_column(&mut self, col: u16) {
        let shift = |c: u16| if c >= col { c + 1 } else { c };
        self.cells = std::mem::take(&mut self.cells).into_iter().map(|((r, c), v)| ((r, shift(c)), v)).collect();
        for m in &mut self.merges {
            (m.1, m.3) = (shift(m.1), if m.3 >= col { m.3 + 1 } else { m.3 });
        }
    }
}

/// Every sheet of a workbook, as Excel would hand it back.
struct Filled {
    sheets: Vec<SheetCells>,
}

impl Filled {
    fn open(bytes: &[u8]) -> Self {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        let mut sheets = Vec::new();
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name).unwrap();
            let (r0, c0) = range.start().unwrap_or((0, 0));
            let cells = range
                .cells()
                .filter(|(_, _, v)| **v != Data::Empty)
                .map(|(r, c, v)| ((r as u32 + r0, (c as u32 + c0) as u16), v.clone()))
                .collect();
            let merges = book
                .merge_cells_by_sheet_name(&name)
                .unwrap()
                .iter()
                .map(|d| (d.start.0, d.start.1 as u16, d.end.0, d.end.1 as u16))
                .collect();
            sheets.push(SheetCells { name, cells, merges });
        }
        Self { sheets }
    }

    fn form(&mut self) -> &mut SheetCells {
        &mut self.sheets[0]
    }

    fn save(&self) -> Vec<u8> {
        let mut book = Workbook::new();
        let date_format = Format::new().set_num_format("yyyy/m/d");
        for s in &self.sheets {
            let sheet = book.add_worksheet();
            sheet.set_name(&s.name).unwrap();
            for &(r0, c0, r1, c1) in &s.merges {
                let text = match s.cells.get(&(r0, c0)) {
                    Some(Data::String(t)) => t.as_str(),
                    _ => "",
                };
                sheet.merge_range(r0, c0, r1, c1, text, &Format::new()).unwrap();
            }
            for (&(r, c), v) in &s.cells {
                if s.merges.iter().any(|m| (m.0..=m.2).contains(&r) && (m.1..=m.3).contains(&c)) {
                    continue;
                }
                match v {
                    Data::String(t) | Data::DateTimeIso(t) => sheet.write_string(r, c, t),
                    Data::Float(f) => sheet.write_number(r, c, *f),
                    Data::Int(i) => sheet.write_number(r, c, *i as f64),
                    Data::Bool(b) => sheet.write_boolean(r, c, *b),
                    Data::DateTime(d) => sheet.write_number_with_format(r, c, d.as_f64(), &date_format),
                    other => panic!("unexpected cell {other:?}"),
                }
                .unwrap();
            }
        }
        book.save_to_buffer().unwrap()
    }
}

fn text(s: &str) -> Data {
    Data::String(s.into())
}

/// A date the way Excel stores one typed into a cell: a serial number with a date format.
fn excel_date(d: Date) -> Data {
    Data::DateTime(ExcelDateTime::new(serial(d), ExcelDateTimeType::DateTime, false))
}

fn serial(d: Date) -> f64 {
    (d - date!(1899 - 12 - 30)).whole_days() as f64
}

fn vendor_form(edition: &mamori_checklist::Edition) -> Filled {
    Filled::open(&export_xlsx(edition, "vendor", "やまだ内科クリニック", &[], None).unwrap())
}

fn import_vendor(filled: &Filled) -> Result<mamori_checklist::ImportedAnswers, AnswerImportError> {
    import_answers_xlsx(fy2025(), "vendor", &filled.save())
}

fn slots(form: &str) -> usize {
    fy2025().form(form).unwrap().items().map(|i| i.answer_slots().len()).sum()
}

#[test]
fn a_vendor_fills_the_form_in_excel_and_the_answers_come_back() {
    let mut filled = vendor_form(fy2025());
    let s = filled.form();
    s.set("1-①", YES, text("○"));
    s.set("1-①", CONFIRMED, excel_date(date!(2025 - 06 - 01)));
    s.set("2-①", NO, text("〇"));
    s.set("2-①", CONFIRMED, text("2025-06-01"));
    s.set("2-①", TARGET, text("令和7年12月31日"));
    s.set("2-①", NOTE, text("文言未確認\n台帳は11月に整備予定"));
    s.set("2-③", YES, text("✓"));
    s.set("2-③", CONFIRMED, text("R7.6.2"));
    s.set("2-⑥", YES, Data::Bool(true));
    s.set("2-⑥", CONFIRMED, Data::Float(20250603.0));
    s.set("2-⑦", NO, text("X"));
    s.set("2-⑦", CONFIRMED, text("２０２５／６／３"));
    s.set("2-⑦", TARGET, Data::Float(serial(date!(2026 - 03 - 31))));
    s.set("2-⑧", YES, Data::Float(1.0));
    s.set("2-⑧", CONFIRMED, text("令和7年6月4日"));
    s.set("2-⑧", NOTE, text("社内規程で禁止"));

    let imported = import_vendor(&filled).unwrap();
    assert_eq!(imported.warnings, []);
    assert_eq!(imported.institution_name.as_deref(), Some("やまだ内科クリニック"));
    assert_eq!(imported.answers.len(), slots("vendor"));
    let mut ledger =
        Answer::new("2-①", None, AnswerValue::No).confirmed(date!(2025 - 06 - 01)).target(date!(2025 - 12 - 31));
    ledger.note = Some("台帳は11月に整備予定".into());
    let mut reuse = Answer::new("2-⑧", None, AnswerValue::Yes).confirmed(date!(2025 - 06 - 04));
    reuse.note = Some("社内規程で禁止".into());
    let expected = vec![
        Answer::new("1-①", None, AnswerValue::Yes).confirmed(date!(2025 - 06 - 01)),
        ledger,
        Answer::new("2-③", None, AnswerValue::Yes).confirmed(date!(2025 - 06 - 02)),
        Answer::new("2-⑥", None, AnswerValue::Yes).confirmed(date!(2025 - 06 - 03)),
        Answer::new("2-⑦", None, AnswerValue::No).confirmed(date!(2025 - 06 - 03)).target(date!(2026 - 03 - 31)),
        reuse,
    ];
    let answered: Vec<Answer> =
        imported.answers.iter().filter(|a| a.value != AnswerValue::Unanswered).cloned().collect();
    assert_eq!(answered, expected);
    // Every other slot is 未回答, without the printed 「文言未確認」 taken for a note.
    for a in imported.answers.iter().filter(|a| a.value == AnswerValue::Unanswered) {
        assert_eq!((a.confirmed_on, a.target_date, &a.note), (None, None, &None), "{a:?}");
    }
    validate_answers(fy2025(), "vendor", &imported.answers).unwrap();
}

#[test]
fn what_mamori_exports_it_reads_back_including_rows_per_device_class() {
    let e = fy2025();
    let mut note =
        Answer::new("2-①", None, AnswerValue::No).confirmed(date!(2025 - 06 - 01)).target(date!(2025 - 12 - 31));
    note.note = Some("台帳を作成中\n（紙の一覧あり）".into());
    let answers = vec![
        Answer::new("有無", None, AnswerValue::Yes).confirmed(date!(2025 - 06 - 01)),
        note,
        Answer::new("2-⑤", Some("server"), AnswerValue::Yes).confirmed(date!(2025 - 06 - 02)),
        Answer::new("2-⑤", Some("terminal_pc"), AnswerValue::No)
            .confirmed(date!(2025 - 06 - 02))
            .target(date!(2026 - 01 - 31)),
        Answer::new("2-⑬", Some("network_device"), AnswerValue::Yes).confirmed(date!(2025 - 06 - 03)),
    ];
    validate_answers(e, "clinic", &answers).unwrap();
    let bytes = export_xlsx(e, "clinic", "やまだ内科クリニック", &answers, None).unwrap();
    for bytes in [bytes.clone(), Filled::open(&bytes).save()] {
        let imported = import_answers_xlsx(e, "clinic", &bytes).unwrap();
        assert_eq!(imported.warnings, []);
        assert_eq!(imported.answers.len(), slots("clinic"));
        let answered: Vec<Answer> =
            imported.answers.into_iter().filter(|a| a.value != AnswerValue::Unanswered).collect();
        assert_eq!(answered, answers);
    }
}

fn assert_refused(
    result: Result<mamori_checklist::ImportedAnswers, AnswerImportError>,
    code: &str,
) -> AnswerImportError {
    let err = result.expect_err("the file must be refused");
    assert_eq!(err.code(), code, "{err}");
    err
}

/// The 1-based row Excel shows for an item.
fn excel_row(filled: &mut Filled, item: &str) -> u32 {
    filled.form().row(item) + 1
}

#[test]
fn a_deleted_row_is_a_changed_layout() {
    let mut filled = vendor_form(fy2025());
    filled.form().set("2-①", YES, text("○"));
    filled.form().set("2-①", CONFIRMED, text("2025-06-01"));
    let row = excel_row(&mut filled, "2-③");
    filled.form().delete_row(row - 1);
    let err = assert_refused(import_vendor(&filled), "checklist-answers-layout-changed");
    assert_eq!(
        err,
        AnswerImportError::LayoutChanged {
            sheet: "事業者確認用".into(),
            row,
            column: 'A',
            expected: "2-③".into(),
            found: "2-④".into(),
        }
    );
    assert!(err.to_string().contains("cell A") && err.to_string().contains("事業者確認用"), "{err}");
}

#[test]
fn an_inserted_column_is_a_changed_layout() {
    let mut filled = vendor_form(fy2025());
    filled.form().insert_column(YES);
    let err = assert_refused(import_vendor(&filled), "checklist-answers-layout-changed");
    assert!(
        matches!(&err, AnswerImportError::LayoutChanged { row: 6, column, expected, found, .. }
            if *column == 'D' && expected == "はい" && found.is_empty()),
        "{err:?}"
    );
}

#[test]
fn a_renamed_sheet_is_missing() {
    let mut filled = vendor_form(fy2025());
    filled.form().name = "Sheet1".into();
    let err = assert_refused(import_vendor(&filled), "checklist-answers-sheet-missing");
    assert!(
        matches!(&err, AnswerImportError::SheetMissing { expected, sheets }
            if expected == "事業者確認用" && sheets.contains(&"Sheet1".to_owned())),
        "{err:?}"
    );
}

#[test]
fn the_clinic_form_is_not_the_vendor_form() {
    let bytes = export_xlsx(fy2025(), "clinic", "やまだ内科クリニック", &[], None).unwrap();
    let err = assert_refused(import_answers_xlsx(fy2025(), "vendor", &bytes), "checklist-answers-wrong-form");
    assert!(
        matches!(&err, AnswerImportError::WrongForm { expected, found, .. } if expected == "事業者確認用" && found == "医療機関確認用"),
        "{err:?}"
    );
}

#[test]
fn last_years_form_is_not_this_years() {
    let bytes = vendor_form(fy2024()).save();
    let err = assert_refused(import_answers_xlsx(fy2025(), "vendor", &bytes), "checklist-answers-wrong-edition");
    assert!(err.to_string().contains("令和6年度版"), "{err}");
}

#[test]
fn both_yes_and_no_marked() {
    let mut filled = vendor_form(fy2025());
    filled.form().set("2-③", YES, text("○"));
    filled.form().set("2-③", NO, text("○"));
    filled.form().set("2-③", CONFIRMED, text("2025-06-01"));
    let row = excel_row(&mut filled, "2-③");
    let err = assert_refused(import_vendor(&filled), "checklist-answers-both-marked");
    assert_eq!(err, AnswerImportError::BothMarked { sheet: "事業者確認用".into(), row, item: "2-③".into() });
}

#[test]
fn a_mark_that_is_not_one() {
    let mut filled = vendor_form(fy2025());
    filled.form().set("2-④", NO, text("△"));
    let row = excel_row(&mut filled, "2-④");
    let err = assert_refused(import_vendor(&filled), "checklist-answers-bad-mark");
    assert!(
        matches!(&err, AnswerImportError::BadMark { row: r, column, item, found, .. }
            if *r == row && *column == 'E' && item == "2-④" && found == "△"),
        "{err:?}"
    );
}

#[test]
fn a_date_that_is_not_one() {
    let mut filled = vendor_form(fy2025());
    filled.form().set("1-①", YES, text("○"));
    filled.form().set("1-①", CONFIRMED, text("来月"));
    let row = excel_row(&mut filled, "1-①");
    let err = assert_refused(import_vendor(&filled), "checklist-answers-bad-date");
    assert!(
        matches!(&err, AnswerImportError::BadDate { row: r, column, header, found, .. }
            if *r == row && *column == 'F' && header == "確認日" && found == "来月"),
        "{err:?}"
    );
}

#[test]
fn an_item_id_typed_over() {
    let mut filled = vendor_form(fy2025());
    filled.form().set("2-③", ID, text("2-⑳"));
    let err = assert_refused(import_vendor(&filled), "checklist-answers-unknown-item");
    assert!(
        matches!(&err, AnswerImportError::UnknownItem { item, column, .. } if item == "2-⑳" && *column == 'A'),
        "{err:?}"
    );
}

#[test]
fn a_device_class_row_relabelled() {
    let bytes = export_xlsx(fy2025(), "clinic", "やまだ内科クリニック", &[], None).unwrap();
    let mut filled = Filled::open(&bytes);
    let row = filled.form().row("2-⑤");
    filled.form().cells.insert((row, CLASS), text("サーバー"));
    let err =
        assert_refused(import_answers_xlsx(fy2025(), "clinic", &filled.save()), "checklist-answers-layout-changed");
    assert!(
        matches!(&err, AnswerImportError::LayoutChanged { row: r, column, expected, found, .. }
            if *r == row + 1 && *column == 'C' && expected == "サーバ" && found == "サーバー"),
        "{err:?}"
    );
}

#[test]
fn a_damaged_or_oversized_file() {
    let bytes = vendor_form(fy2025()).save();
    assert_refused(import_answers_xlsx(fy2025(), "vendor", &bytes[..bytes.len() / 2]), "checklist-answers-damaged");
    assert_refused(import_answers_xlsx(fy2025(), "vendor", b"not a workbook"), "checklist-answers-damaged");
    let huge = vec![0u8; mamori_checklist::answers_import::MAX_BYTES + 1];
    assert_refused(import_answers_xlsx(fy2025(), "vendor", &huge), "checklist-answers-too-large");
    assert_refused(import_answers_xlsx(fy2025(), "dentist", &bytes), "checklist-answers-unknown-form");
    let mut far = vendor_form(fy2025());
    far.form().cells.insert((100_000, 0), text("署名"));
    assert_refused(import_vendor(&far), "checklist-answers-too-many-rows");
}

#[test]
fn no_without_a_target_date_is_refused_with_its_row() {
    let mut filled = vendor_form(fy2025());
    filled.form().set("2-①", NO, text("○"));
    filled.form().set("2-①", CONFIRMED, text("2025-06-01"));
    let row = excel_row(&mut filled, "2-①");
    let err = assert_refused(import_vendor(&filled), "checklist-answers-invalid-answer");
    let AnswerImportError::InvalidAnswer { row: r, source, .. } = &err else { panic!("{err:?}") };
    assert_eq!((*r, source.code()), (row, "checklist-target-date-required"));
    assert!(err.to_string().contains("目標日"), "{err}");

    // A target date outside the fiscal year is refused the same way.
    filled.form().set("2-①", TARGET, text("R8.4.1"));
    let err = assert_refused(import_vendor(&filled), "checklist-answers-invalid-answer");
    let AnswerImportError::InvalidAnswer { source, .. } = &err else { panic!("{err:?}") };
    assert_eq!(source.code(), "checklist-target-date-outside-fiscal-year");
}

#[test]
fn what_is_set_aside_is_reported() {
    let mut filled = vendor_form(fy2025());
    let s = filled.form();
    s.set("2-②", YES, text("○"));
    s.set("2-②", CONFIRMED, text("2025-06-01"));
    s.set("2-②", TARGET, text("2025-12-01"));
    s.set("2-④", CONFIRMED, text("2025-06-01"));
    s.set("2-⑥", 1, text("パッチは毎月適用"));
    s.set("2-⑥", 8, text("担当: 佐藤"));
    let imported = import_vendor(&filled).unwrap();
    let codes: Vec<&str> = imported.warnings.iter().map(AnswerImportWarning::code).collect();
    assert_eq!(
        codes,
        [
            "checklist-answers-outside-form",
            "checklist-answers-target-date-ignored",
            "checklist-answers-confirmed-date-ignored",
            "checklist-answers-wording-changed",
        ]
    );
    assert!(imported.warnings[0].to_string().contains("cell I"), "{}", imported.warnings[0]);
    let by_id = |id: &str| imported.answers.iter().find(|a| a.item_id == id).unwrap();
    assert_eq!(by_id("2-②").target_date, None);
    assert_eq!((by_id("2-④").value, by_id("2-④").confirmed_on), (AnswerValue::Unanswered, None));
}
