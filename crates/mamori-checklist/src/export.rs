//! The filled form as XLSX, in the layout of [`crate::layout`], with an evidence appendix.
//! Returns bytes; writing the file is the caller's business.

use crate::answer::{Answer, AnswerValue};
use crate::dates;
use crate::definition::Edition;
use crate::evaluate::Evaluation;
use crate::layout::{self, BodyRow, ColumnKey, EVIDENCE_COLUMNS, EVIDENCE_SHEET, LAST_COL, MARK, column};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("the edition {edition} has no form {form:?}")]
    UnknownForm { edition: String, form: String },
    #[error("the workbook could not be written: {detail}")]
    Xlsx { detail: String },
}

impl ExportError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownForm { .. } => "checklist-export-unknown-form",
            Self::Xlsx { .. } => "checklist-export-xlsx",
        }
    }
}

impl From<XlsxError> for ExportError {
    fn from(e: XlsxError) -> Self {
        Self::Xlsx { detail: e.to_string() }
    }
}

/// Excel limits sheet names to 31 characters and forbids a few.
pub fn sheet_name(title: &str) -> String {
    let cleaned: String =
        title.chars().map(|c| if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') { '_' } else { c }).collect();
    cleaned.chars().take(31).collect()
}

struct Formats {
    title: Format,
    header: Format,
    section: Format,
    cell: Format,
    center: Format,
}

impl Formats {
    fn new() -> Self {
        let cell = Format::new().set_border(FormatBorder::Thin).set_text_wrap().set_align(FormatAlign::VerticalCenter);
        Self {
            title: Format::new().set_bold().set_font_size(14),
            header: cell.clone().set_bold().set_align(FormatAlign::Center).set_background_color("#D9E1F2"),
            section: cell.clone().set_bold().set_background_color("#F2F2F2"),
            center: cell.clone().set_align(FormatAlign::Center),
            cell,
        }
    }
}

/// Writes `form` of `edition` filled with `answers`, and an evidence appendix built from the
/// answers' own evidence and the evaluator's proposals.
pub fn export_xlsx(
    edition: &Edition,
    form_id: &str,
    institution_name: &str,
    answers: &[Answer],
    evaluation: Option<&Evaluation>,
) -> Result<Vec<u8>, ExportError> {
    let form = edition
        .form(form_id)
        .ok_or_else(|| ExportError::UnknownForm { edition: edition.id.clone(), form: form_id.to_owned() })?;
    let f = Formats::new();
    let mut book = Workbook::new();

    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name(&form.title_ja))?;
    sheet.set_landscape();
    sheet.set_paper_size(9); // A4
    sheet.set_print_fit_to_pages(1, 0);
    for c in layout::COLUMNS {
        sheet.set_column_width(c.col, c.width)?;
    }
    sheet.write_string_with_format(
        layout::TITLE_ROW,
        0,
        format!("{} {}", edition.label_ja, edition.title_ja),
        &f.title,
    )?;
    sheet.write_string_with_format(layout::FORM_TITLE_ROW, 0, &form.title_ja, &f.title)?;
    sheet.write_string(layout::INSTITUTION_ROW, 0, layout::INSTITUTION_LABEL)?;
    sheet.write_string(layout::INSTITUTION_ROW, 1, institution_name)?;
    if let Some(text) = &edition.instructions_ja {
        let wrap = Format::new().set_text_wrap();
        sheet.merge_range(layout::INSTRUCTIONS_ROW, 0, layout::INSTRUCTIONS_ROW, LAST_COL, text, &wrap)?;
        sheet.set_row_height(layout::INSTRUCTIONS_ROW, 32)?;
    }
    for c in layout::COLUMNS {
        sheet.write_string_with_format(layout::HEADER_ROW, c.col, layout::header(edition, c.key), &f.header)?;
    }
    sheet.set_freeze_panes(layout::FIRST_BODY_ROW, 0)?;
    write_body(sheet, &f, &layout::body_rows(edition, form, answers))?;

    let appendix = book.add_worksheet();
    appendix.set_name(EVIDENCE_SHEET)?;
    appendix.set_landscape();
    for (i, (title, width)) in EVIDENCE_COLUMNS.iter().enumerate() {
        appendix.set_column_width(i as u16, *width)?;
        appendix.write_string_with_format(0, i as u16, *title, &f.header)?;
    }
    appendix.set_freeze_panes(1, 0)?;
    for (i, r) in layout::evidence_rows(edition, form, answers, evaluation).iter().enumerate() {
        let row = i as u32 + 1;
        let e = r.evidence.as_ref();
        let cells = [
            r.item_id.clone(),
            r.device_class_label.clone().unwrap_or_default(),
            r.value.label_ja().to_owned(),
            r.proposed.map(|p| p.label_ja().to_owned()).unwrap_or_default(),
            r.reasons.clone(),
            e.map(|e| e.kind.label_ja().to_owned()).unwrap_or_default(),
            e.map(|e| e.label.clone()).unwrap_or_else(|| "（根拠の登録なし）".into()),
            e.and_then(|e| e.observed_at).map(mamori_domain::time_fmt::format).unwrap_or_default(),
        ];
        for (col, text) in cells.iter().enumerate() {
            appendix.write_string_with_format(row, col as u16, text, &f.cell)?;
        }
    }
    Ok(book.save_to_buffer()?)
}

fn write_body(sheet: &mut Worksheet, f: &Formats, rows: &[BodyRow]) -> Result<(), ExportError> {
    for (row, r) in (layout::FIRST_BODY_ROW..).zip(rows) {
        match r {
            BodyRow::Section { title } => {
                sheet.merge_range(row, 0, row, LAST_COL, title, &f.section)?;
            }
            BodyRow::Slot {
                item_id,
                text,
                caveat,
                item_note,
                scope_label,
                value,
                confirmed_on,
                target_date,
                answer_note,
                first_of_item,
                slots_of_item,
                ..
            } => {
                let id_col = column(ColumnKey::Id).col;
                let text_col = column(ColumnKey::Text).col;
                if *first_of_item {
                    let mut full = text.clone();
                    if let Some(n) = item_note {
                        full.push('\n');
                        full.push_str(n);
                    }
                    if *slots_of_item > 1 {
                        let last = row + slots_of_item - 1;
                        sheet.merge_range(row, id_col, last, id_col, item_id, &f.center)?;
                        sheet.merge_range(row, text_col, last, text_col, &full, &f.cell)?;
                    } else {
                        sheet.write_string_with_format(row, id_col, item_id, &f.center)?;
                        sheet.write_string_with_format(row, text_col, &full, &f.cell)?;
                    }
                }
                let put = |sheet: &mut Worksheet, key, text: &str, fmt: &Format| {
                    sheet.write_string_with_format(row, column(key).col, text, fmt).map(|_| ())
                };
                put(sheet, ColumnKey::DeviceClass, scope_label.as_deref().unwrap_or(""), &f.cell)?;
                put(sheet, ColumnKey::Yes, if *value == AnswerValue::Yes { MARK } else { "" }, &f.center)?;
                put(sheet, ColumnKey::No, if *value == AnswerValue::No { MARK } else { "" }, &f.center)?;
                put(sheet, ColumnKey::ConfirmedOn, &confirmed_on.map(dates::format).unwrap_or_default(), &f.center)?;
                put(sheet, ColumnKey::TargetDate, &target_date.map(dates::format).unwrap_or_default(), &f.center)?;
                let note: Vec<&str> = caveat.iter().copied().chain(answer_note.as_deref()).collect();
                put(sheet, ColumnKey::Note, &note.join("\n"), &f.cell)?;
            }
        }
    }
    Ok(())
}
