//! The filled form as PDF, in the layout of [`crate::layout`] (the same columns and rows as
//! the XLSX export), with the evidence appendix (根拠一覧) after it and the Japanese font
//! embedded as a subset so that the file prints the same everywhere.
//!
//! The font is the one I/O of this module: [`FontSource`] reads a font file of the system
//! (Debian's fonts-ipaexfont-gothic, fonts-ipafont-gothic or fonts-noto-cjk) or one the caller
//! names. mamori ships no font. Everything else is bytes in, bytes out.

mod font;
mod page;

pub use font::{FONT_PACKAGE, FontSource, SYSTEM_FONTS, SystemFont, find_system_font};

use crate::answer::{Answer, AnswerValue};
use crate::dates;
use crate::definition::Edition;
use crate::evaluate::Evaluation;
use crate::layout::{self, BodyRow, ColumnKey, EVIDENCE_COLUMNS, EVIDENCE_SHEET, EvidenceRow, MARK};
use font::PdfFont;
use page::{Align, BLACK, Block, CAVEAT, Canvas, Cell, GREY, HEADER_FILL, SECTION_FILL, Span, Style};
use pdf_writer::{Chunk, Filter, Finish, Pdf, Rect, Ref, TextStr};
use std::io::Write;
use time::{OffsetDateTime, UtcOffset};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("the edition {edition} has no form {form:?}")]
    UnknownForm { edition: String, form: String },
    #[error(
        "no Japanese font for the PDF was found (looked at {}): install the Debian package {package} \
         (or fonts-ipafont-gothic or fonts-noto-cjk), or give the path of a font file",
        searched.join(", ")
    )]
    FontMissing { searched: Vec<String>, package: &'static str },
    #[error("the font file {path} could not be read: {detail}")]
    FontUnreadable { path: String, detail: String },
    #[error("the font {path} cannot be embedded in the PDF: {detail}")]
    FontUnsupported { path: String, detail: String },
    #[error("the PDF could not be written: {detail}")]
    Write { detail: String },
}

impl PdfError {
    pub fn code(&self) -> &'static str {
        match self {
            // The same condition as the XLSX export, so the same code.
            Self::UnknownForm { .. } => "checklist-export-unknown-form",
            Self::FontMissing { .. } => "checklist-pdf-font-missing",
            Self::FontUnreadable { .. } => "checklist-pdf-font-unreadable",
            Self::FontUnsupported { .. } => "checklist-pdf-font-unsupported",
            Self::Write { .. } => "checklist-pdf-write",
        }
    }
}

pub(crate) fn deflate(data: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).and_then(|()| enc.finish()).map_err(|e| PdfError::Write { detail: e.to_string() })
}

const BODY: Style = Style::new(page::BODY_SIZE);
const SMALL: Style = Style::new(7.5);
const HEADER: Style = Style::new(8.5).bold();
/// The ○ in the はい / いいえ column, larger than the text so that it reads at a glance.
const MARK_STYLE: Style = Style::new(13.0).bold();

/// Writes `form` of `edition` filled with `answers` as an A4 landscape PDF: title, 医療機関名,
/// 記入方法, the form table (one row per answer slot, the item's id and wording merged over
/// its device-class rows), then the evidence appendix built from the answers' own evidence
/// and the evaluator's proposals. Page numbers on every page.
pub fn export_pdf(
    edition: &Edition,
    form_id: &str,
    institution_name: &str,
    answers: &[Answer],
    evaluation: Option<&Evaluation>,
    font: &FontSource,
) -> Result<Vec<u8>, PdfError> {
    let form = edition
        .form(form_id)
        .ok_or_else(|| PdfError::UnknownForm { edition: edition.id.clone(), form: form_id.to_owned() })?;
    let (font_data, font_name) = font.load()?;
    let pdf_font = PdfFont::new(&font_data, &font_name)?;

    let title = format!("{} {}", edition.label_ja, edition.title_ja);
    let running_head = format!("{title}　{}　{}：{institution_name}", form.title_ja, layout::INSTITUTION_LABEL);
    let mut canvas = Canvas::new(pdf_font, running_head);

    canvas.paragraph(&title, Style::new(14.0).bold());
    canvas.gap(2.0);
    canvas.paragraph(&form.title_ja, Style::new(12.0).bold());
    canvas.gap(6.0);
    canvas.paragraph(&format!("{}：{institution_name}", layout::INSTITUTION_LABEL), Style::new(10.5));
    canvas.gap(1.5);
    canvas.rule(page::BODY_W / 2.0);
    canvas.gap(5.0);
    if let Some(text) = &edition.instructions_ja {
        canvas.paragraph(text, BODY);
        if let Some(caveat) = edition.instructions_status.caveat_ja() {
            canvas.paragraph(&format!("（記入方法：{caveat}）"), SMALL.color(CAVEAT));
        }
    }
    canvas.paragraph(
        &format!(
            "{MARK} は回答を示します。備考の「文言未確認」などは、公式の文言を確認できていない項目です（候補の文言を表示しています）。"
        ),
        SMALL.color(GREY),
    );
    canvas.gap(5.0);

    let body = layout::body_rows(edition, form, answers);
    let mut table = canvas.table_columns(
        &layout::COLUMNS.map(|c| c.width),
        layout::COLUMNS
            .iter()
            .map(|c| Cell::text(layout::header(edition, c.key), HEADER, Align::Center).fill(HEADER_FILL))
            .collect(),
        &form_keep_whole(&body),
    );
    table.repeat_col = Some(layout::column(ColumnKey::Id).col as usize);
    canvas.table(&table, &form_blocks(&body));

    canvas.new_page();
    canvas.paragraph(&format!("{EVIDENCE_SHEET}（各回答の根拠と観測日時）"), Style::new(12.0).bold());
    canvas.gap(2.0);
    canvas.paragraph(
        "回答ごとに、mamori の提案、その理由、根拠（台帳・文書・添付ファイルなど）と、根拠を観測した日時（日本時間）を示します。",
        SMALL.color(GREY),
    );
    canvas.gap(5.0);
    let evidence = layout::evidence_rows(edition, form, answers, evaluation);
    let mut appendix = canvas.table_columns(
        &EVIDENCE_COLUMNS.map(|(_, w)| w),
        EVIDENCE_COLUMNS.iter().map(|(t, _)| Cell::text(*t, HEADER, Align::Center).fill(HEADER_FILL)).collect(),
        &evidence_keep_whole(&evidence),
    );
    appendix.repeat_col = Some(0);
    canvas.table(&appendix, &evidence_blocks(&evidence));

    let (pdf_font, pages) = canvas.finish();
    write_pdf(&format!("{title} {}（{institution_name}）", form.title_ja), pdf_font, pages, &font_name)
}

fn write_pdf(
    title: &str,
    font: PdfFont<'_>,
    pages: Vec<pdf_writer::Content>,
    font_name: &str,
) -> Result<Vec<u8>, PdfError> {
    let mut next = Ref::new(1);
    let catalog_ref = next.bump();
    let tree_ref = next.bump();
    let info_ref = next.bump();
    let font_ref = next.bump();
    let page_refs: Vec<(Ref, Ref)> = pages.iter().map(|_| (next.bump(), next.bump())).collect();

    let mut pdf = Pdf::new();
    pdf.set_version(1, 7);
    pdf.catalog(catalog_ref).pages(tree_ref).lang(TextStr("ja"));
    pdf.document_info(info_ref).title(TextStr(title)).producer(TextStr("mamori"));
    pdf.pages(tree_ref).kids(page_refs.iter().map(|(p, _)| *p)).count(page_refs.len() as i32);
    for ((page_ref, content_ref), content) in page_refs.iter().zip(pages) {
        let mut page = pdf.page(*page_ref);
        page.parent(tree_ref).media_box(Rect::new(0.0, 0.0, page::PAGE_W, page::PAGE_H)).contents(*content_ref);
        page.resources().fonts().pair(page::FONT_NAME, font_ref);
        page.finish();
        let data = deflate(&content.finish())?;
        pdf.stream(*content_ref, &data).filter(Filter::FlateDecode);
    }
    let mut chunk = Chunk::new();
    font.write(&mut chunk, font_ref, &mut next, font_name)?;
    pdf.extend(&chunk);
    Ok(pdf.finish())
}

fn slot_cells(row: &BodyRow) -> Vec<Span> {
    let BodyRow::Slot { scope_label, value, confirmed_on, target_date, caveat, answer_note, .. } = row else {
        return Vec::new();
    };
    let col = |key| layout::column(key).col as usize;
    let mark = |on: bool| Cell::new(Align::Center).para(if on { MARK } else { "" }, MARK_STYLE);
    let date = |d: &Option<time::Date>| Cell::text(d.map(dates::format).unwrap_or_default(), BODY, Align::Center);
    let mut note = Cell::new(Align::Left);
    if let Some(c) = caveat {
        note = note.para(*c, BODY.color(CAVEAT));
    }
    if let Some(n) = answer_note {
        note = note.para(n.clone(), BODY);
    }
    vec![
        Span::one(col(ColumnKey::DeviceClass), Cell::text(scope_label.clone().unwrap_or_default(), BODY, Align::Left)),
        Span::one(col(ColumnKey::Yes), mark(*value == AnswerValue::Yes)),
        Span::one(col(ColumnKey::No), mark(*value == AnswerValue::No)),
        Span::one(col(ColumnKey::ConfirmedOn), date(confirmed_on)),
        Span::one(col(ColumnKey::TargetDate), date(target_date)),
        Span::one(col(ColumnKey::Note), note),
    ]
}

/// Section headings across the table; each item a block whose id and wording span its slots.
fn form_blocks(rows: &[BodyRow]) -> Vec<Block> {
    let id_col = layout::column(ColumnKey::Id).col as usize;
    let text_col = layout::column(ColumnKey::Text).col as usize;
    let mut blocks: Vec<Block> = Vec::new();
    for row in rows {
        match row {
            BodyRow::Section { title } => blocks.push(Block {
                merged: Vec::new(),
                rows: vec![vec![Span {
                    col: 0,
                    span: layout::COLUMNS.len(),
                    cell: Cell::text(title.clone(), BODY.bold(), Align::Left).fill(SECTION_FILL),
                }]],
                keep_with_next: true,
            }),
            BodyRow::Slot { item_id, text, item_note, first_of_item, .. } => {
                if *first_of_item || blocks.is_empty() {
                    let wording = Cell::text(text.clone(), BODY, Align::Left)
                        .para(item_note.clone().unwrap_or_default(), SMALL.color(BLACK));
                    blocks.push(Block {
                        merged: vec![
                            Span::one(id_col, Cell::text(item_id.clone(), BODY, Align::Center)),
                            Span::one(text_col, wording),
                        ],
                        rows: Vec::new(),
                        keep_with_next: false,
                    });
                }
                if let Some(block) = blocks.last_mut() {
                    block.rows.push(slot_cells(row));
                }
            }
        }
    }
    blocks
}

/// Japan Standard Time, in which the people reading the form live.
fn observed_ja(t: OffsetDateTime) -> String {
    let jst = UtcOffset::from_hms(9, 0, 0).map_or(t, |o| t.to_offset(o));
    format!("{:04}-{:02}-{:02} {:02}:{:02}", jst.year(), u8::from(jst.month()), jst.day(), jst.hour(), jst.minute())
}

/// A sample date, for the width of the date columns.
const SAMPLE_DATE: &str = "2025-12-31";
const SAMPLE_OBSERVED: &str = "2025-12-31 23:59";

/// Per column of the form, the texts that should not wrap: ids, scopes, dates.
fn form_keep_whole(rows: &[BodyRow]) -> Vec<Vec<String>> {
    let mut keep = vec![Vec::new(); layout::COLUMNS.len()];
    for row in rows {
        if let BodyRow::Slot { item_id, scope_label, .. } = row {
            keep[layout::column(ColumnKey::Id).col as usize].push(item_id.clone());
            keep[layout::column(ColumnKey::DeviceClass).col as usize].extend(scope_label.clone());
        }
    }
    keep[layout::column(ColumnKey::ConfirmedOn).col as usize].push(SAMPLE_DATE.into());
    keep[layout::column(ColumnKey::TargetDate).col as usize].push(SAMPLE_DATE.into());
    keep
}

fn evidence_keep_whole(rows: &[EvidenceRow]) -> Vec<Vec<String>> {
    let mut keep = vec![Vec::new(); EVIDENCE_COLUMNS.len()];
    for r in rows {
        keep[0].push(r.item_id.clone());
        keep[1].extend(r.device_class_label.clone());
        keep[2].push(r.value.label_ja().into());
        keep[3].extend(r.proposed.map(|p| p.label_ja().to_owned()));
        keep[5].extend(r.evidence.as_ref().map(|e| e.kind.label_ja().to_owned()));
    }
    keep[7].push(SAMPLE_OBSERVED.into());
    keep
}

fn evidence_blocks(rows: &[EvidenceRow]) -> Vec<Block> {
    rows.iter()
        .map(|r| {
            let e = r.evidence.as_ref();
            let cells = [
                (r.item_id.clone(), Align::Center),
                (r.device_class_label.clone().unwrap_or_default(), Align::Left),
                (r.value.label_ja().to_owned(), Align::Center),
                (r.proposed.map(|p| p.label_ja().to_owned()).unwrap_or_default(), Align::Center),
                (r.reasons.clone(), Align::Left),
                (e.map(|e| e.kind.label_ja().to_owned()).unwrap_or_default(), Align::Left),
                (e.map(|e| e.label.clone()).unwrap_or_else(|| "（根拠の登録なし）".into()), Align::Left),
                (e.and_then(|e| e.observed_at).map(observed_ja).unwrap_or_default(), Align::Center),
            ];
            Block {
                merged: Vec::new(),
                rows: vec![
                    cells
                        .into_iter()
                        .enumerate()
                        .map(|(col, (text, align))| Span::one(col, Cell::text(text, BODY, align)))
                        .collect(),
                ],
                keep_with_next: false,
            }
        })
        .collect()
}
