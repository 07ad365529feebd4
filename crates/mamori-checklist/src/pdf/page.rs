//! Pages and tables for the PDF: text wrapped inside cells (Japanese breaks between any two
//! characters, except before closing punctuation), rows kept whole on a page where they fit,
//! split line by line where they do not, and the table header repeated on every page.
//!
//! Coordinates here run from the top of the page down, in points; PDF's bottom-up system
//! appears only where content is written.

use super::font::PdfFont;
use pdf_writer::types::TextRenderingMode;
use pdf_writer::{Content, Name, Str};

/// A4 landscape: the form has eight columns, and the official workbook prints landscape too.
pub(crate) const PAGE_W: f32 = 841.89;
pub(crate) const PAGE_H: f32 = 595.28;
pub(crate) const MARGIN_X: f32 = 28.0;
const MARGIN_TOP: f32 = 28.0;
/// Room for the footer (page number) below the body.
const MARGIN_BOTTOM: f32 = 40.0;
pub(crate) const BODY_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const BODY_BOTTOM: f32 = PAGE_H - MARGIN_BOTTOM;
const PAD_X: f32 = 3.0;
const PAD_Y: f32 = 2.5;
/// The size of table text, for sizing columns.
pub(crate) const BODY_SIZE: f32 = 8.5;
/// A row split over pages starts only where at least this much room is left.
const MIN_SPLIT: f32 = 60.0;
/// No column grows past this to keep a text on one line.
const MAX_MIN_WIDTH: f32 = 130.0;
pub(crate) const FONT_NAME: Name<'static> = Name(b"F1");

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rgb(pub f32, pub f32, pub f32);

pub(crate) const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);
pub(crate) const GREY: Rgb = Rgb(0.35, 0.35, 0.35);
/// Caveats such as 「文言未確認」.
pub(crate) const CAVEAT: Rgb = Rgb(0.75, 0.05, 0.05);
pub(crate) const HEADER_FILL: Rgb = Rgb(0.851, 0.882, 0.949);
pub(crate) const SECTION_FILL: Rgb = Rgb(0.949, 0.949, 0.949);
const BORDER: Rgb = Rgb(0.25, 0.25, 0.25);

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    pub size: f32,
    pub bold: bool,
    pub color: Rgb,
}

impl Style {
    pub(crate) const fn new(size: f32) -> Self {
        Self { size, bold: false, color: BLACK }
    }
    pub(crate) const fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    pub(crate) const fn color(mut self, color: Rgb) -> Self {
        self.color = color;
        self
    }
    fn line_height(&self) -> f32 {
        self.size * 1.35
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
}

/// The contents of a cell before wrapping: paragraphs, each with its style.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub paras: Vec<(String, Style)>,
    pub align: Align,
    pub fill: Option<Rgb>,
}

impl Cell {
    pub(crate) fn new(align: Align) -> Self {
        Self { paras: Vec::new(), align, fill: None }
    }
    pub(crate) fn text(text: impl Into<String>, style: Style, align: Align) -> Self {
        Self::new(align).para(text, style)
    }
    /// Adds a paragraph; empty text adds nothing.
    pub(crate) fn para(mut self, text: impl Into<String>, style: Style) -> Self {
        let text = text.into();
        if !text.is_empty() {
            self.paras.push((text, style));
        }
        self
    }
    pub(crate) fn fill(mut self, fill: Rgb) -> Self {
        self.fill = Some(fill);
        self
    }
}

/// A cell placed in a row: its first column and how many columns it spans.
#[derive(Debug, Clone)]
pub(crate) struct Span {
    pub col: usize,
    pub span: usize,
    pub cell: Cell,
}

impl Span {
    pub(crate) fn one(col: usize, cell: Cell) -> Self {
        Self { col, span: 1, cell }
    }
}

/// What the table flows: one or more rows kept together, with cells that span all of them
/// (an item asked per device class has its id and wording merged over its rows).
#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    pub merged: Vec<Span>,
    pub rows: Vec<Vec<Span>>,
    /// A section heading stays with the first item below it.
    pub keep_with_next: bool,
}

pub(crate) struct Table {
    /// Column widths in points; they add up to [`BODY_W`].
    pub widths: Vec<f32>,
    pub header: Vec<Cell>,
    /// The column repeated, marked 「（続き）」, where a row continues on the next page.
    pub repeat_col: Option<usize>,
}

impl Table {
    fn x(&self, col: usize) -> f32 {
        MARGIN_X + self.widths[..col].iter().sum::<f32>()
    }
    fn width(&self, col: usize, span: usize) -> f32 {
        self.widths[col..col + span].iter().sum()
    }
}

#[derive(Debug, Clone)]
struct Line {
    text: String,
    style: Style,
}

#[derive(Debug, Clone)]
struct LaidCell {
    col: usize,
    span: usize,
    lines: Vec<Line>,
    align: Align,
    fill: Option<Rgb>,
}

impl LaidCell {
    fn height(&self) -> f32 {
        2.0 * PAD_Y + self.lines.iter().map(|l| l.style.line_height()).sum::<f32>()
    }
}

#[derive(Debug, Clone)]
struct LaidRow {
    cells: Vec<LaidCell>,
    height: f32,
}

#[derive(Debug, Clone)]
struct LaidBlock {
    merged: Vec<LaidCell>,
    rows: Vec<LaidRow>,
    keep_with_next: bool,
}

impl LaidBlock {
    fn height(&self) -> f32 {
        self.rows.iter().map(|r| r.height).sum()
    }
}

fn row_height(cells: &[LaidCell]) -> f32 {
    cells.iter().map(LaidCell::height).fold(0.0, f32::max)
}

/// The document being drawn: finished pages, the page in progress and the cursor on it.
pub(crate) struct Canvas<'f> {
    pub font: PdfFont<'f>,
    pages: Vec<Content>,
    page: Content,
    y: f32,
    /// A short line drawn at the top of every page after the first.
    running_head: String,
}

impl<'f> Canvas<'f> {
    pub(crate) fn new(font: PdfFont<'f>, running_head: String) -> Self {
        Self { font, pages: Vec::new(), page: Content::new(), y: MARGIN_TOP, running_head }
    }

    pub(crate) fn new_page(&mut self) {
        let done = std::mem::replace(&mut self.page, Content::new());
        self.pages.push(done);
        self.y = MARGIN_TOP;
        let head = self.running_head.clone();
        let style = Style::new(7.5).color(GREY);
        self.draw_text(MARGIN_X, self.y, &head, style);
        self.y += style.line_height() + 4.0;
    }

    /// Columns in proportion to `units` (the XLSX column widths) across the page, each widened
    /// to fit its header and the texts of `keep_whole` on one line (a date, 「医療情報システム全般」),
    /// at the expense of the columns with room to spare (the wording column, mostly).
    pub(crate) fn table_columns(&mut self, units: &[f64], header: Vec<Cell>, keep_whole: &[Vec<String>]) -> Table {
        let total: f64 = units.iter().sum();
        let mut widths: Vec<f32> = units.iter().map(|u| (*u / total) as f32 * BODY_W).collect();
        let mins: Vec<f32> = (0..widths.len())
            .map(|col| {
                let head = header.get(col).into_iter().flat_map(|c| &c.paras).map(|(t, st)| (t, st.size));
                let texts = keep_whole.get(col).into_iter().flatten().map(|t| (t, BODY_SIZE));
                let widest = head.chain(texts).map(|(t, size)| self.font.width(t, size)).fold(0.0, f32::max);
                (widest + 2.0 * PAD_X + 1.0).min(MAX_MIN_WIDTH)
            })
            .collect();
        let deficit: f32 = widths.iter().zip(&mins).map(|(w, m)| (m - w).max(0.0)).sum();
        let spare: f32 = widths.iter().zip(&mins).map(|(w, m)| (w - m).max(0.0)).sum();
        if deficit > 0.0 && spare > deficit {
            for (w, m) in widths.iter_mut().zip(&mins) {
                *w = if *w < *m { *m } else { *w - (*w - *m) * deficit / spare };
            }
        }
        Table { widths, header, repeat_col: None }
    }

    pub(crate) fn gap(&mut self, points: f32) {
        self.y += points;
    }

    /// Text across the page width, wrapped.
    pub(crate) fn paragraph(&mut self, text: &str, style: Style) {
        for line in self.wrap(text, style, BODY_W) {
            if self.y + style.line_height() > BODY_BOTTOM {
                self.new_page();
            }
            self.draw_text(MARGIN_X, self.y, &line, style);
            self.y += style.line_height();
        }
    }

    /// A horizontal rule under the text just written, `width` points long.
    pub(crate) fn rule(&mut self, width: f32) {
        let y = PAGE_H - self.y;
        self.page.set_stroke_rgb(BORDER.0, BORDER.1, BORDER.2).set_line_width(0.6);
        self.page.move_to(MARGIN_X, y).line_to(MARGIN_X + width, y).stroke();
    }

    /// Flows `blocks` into `table`, starting at the cursor.
    pub(crate) fn table(&mut self, table: &Table, blocks: &[Block]) {
        let header = self.lay_block(table, &header_block(table));
        let laid: Vec<LaidBlock> = blocks.iter().map(|b| self.lay_block(table, b)).collect();
        let mut queue: std::collections::VecDeque<LaidBlock> = laid.into();
        let first = queue.front().map_or(0.0, LaidBlock::height);
        if self.y + header.height() + first.min(BODY_BOTTOM / 3.0) > BODY_BOTTOM {
            self.new_page();
        }
        self.draw_block(table, &header);
        let mut top = self.y;
        while let Some(block) = queue.pop_front() {
            let fresh = BODY_BOTTOM - top;
            let h = block.height();
            let oversized = h > fresh;
            // A section heading goes with the start of the item under it.
            let with_next = match queue.front() {
                Some(next) if block.keep_with_next => next.height().min(MIN_SPLIT),
                _ => 0.0,
            };
            let need = if oversized { MIN_SPLIT } else { h + with_next };
            if self.y + need > BODY_BOTTOM && self.y > top {
                self.new_page();
                self.draw_block(table, &header);
                top = self.y;
            }
            if self.y + h <= BODY_BOTTOM {
                self.draw_block(table, &block);
                continue;
            }
            // Taller than the rest of the page: rows one by one, then line by line.
            let mut rows = flatten(block);
            let row = rows.remove(0);
            let (head, tail) = split_row(row, BODY_BOTTOM - self.y, table.repeat_col);
            for rest in rows.into_iter().rev() {
                queue.push_front(single(rest));
            }
            if let Some(tail) = tail {
                queue.push_front(single(tail));
            }
            self.draw_block(table, &single(head));
        }
    }

    /// The font with every glyph the pages use, and the content streams of all pages, each
    /// with its footer.
    pub(crate) fn finish(mut self) -> (PdfFont<'f>, Vec<Content>) {
        let page = std::mem::replace(&mut self.page, Content::new());
        self.pages.push(page);
        let mut pages = std::mem::take(&mut self.pages);
        let total = pages.len();
        let style = Style::new(8.0).color(GREY);
        for (i, page) in pages.iter_mut().enumerate() {
            let label = format!("{} / {}", i + 1, total);
            let w = self.font.width(&label, style.size);
            let baseline = PAGE_H - MARGIN_BOTTOM + 22.0;
            text_at(&mut self.font, page, (PAGE_W - w) / 2.0, baseline, &label, style);
        }
        (self.font, pages)
    }

    fn draw_text(&mut self, x: f32, top: f32, text: &str, style: Style) {
        let baseline = top + style.size * 1.1;
        text_at(&mut self.font, &mut self.page, x, baseline, text, style);
    }

    fn lay_cell(&mut self, table: &Table, span: &Span) -> LaidCell {
        let width = table.width(span.col, span.span) - 2.0 * PAD_X;
        let mut lines = Vec::new();
        for (text, style) in &span.cell.paras {
            for line in self.wrap(text, *style, width) {
                lines.push(Line { text: line, style: *style });
            }
        }
        LaidCell { col: span.col, span: span.span, lines, align: span.cell.align, fill: span.cell.fill }
    }

    fn lay_block(&mut self, table: &Table, block: &Block) -> LaidBlock {
        let merged: Vec<LaidCell> = block.merged.iter().map(|s| self.lay_cell(table, s)).collect();
        let mut rows: Vec<LaidRow> = block
            .rows
            .iter()
            .map(|r| {
                let cells: Vec<LaidCell> = r.iter().map(|s| self.lay_cell(table, s)).collect();
                LaidRow { height: row_height(&cells), cells }
            })
            .collect();
        let needed = row_height(&merged);
        let have: f32 = rows.iter().map(|r| r.height).sum();
        if needed > have && !rows.is_empty() {
            let extra = (needed - have) / rows.len() as f32;
            for r in &mut rows {
                r.height += extra;
            }
        }
        LaidBlock { merged, rows, keep_with_next: block.keep_with_next }
    }

    fn draw_block(&mut self, table: &Table, block: &LaidBlock) {
        let top = self.y;
        let mut y = top;
        for row in &block.rows {
            for cell in &row.cells {
                self.draw_cell(table, cell, y, row.height);
            }
            y += row.height;
        }
        for cell in &block.merged {
            self.draw_cell(table, cell, top, y - top);
        }
        self.y = y;
    }

    fn draw_cell(&mut self, table: &Table, cell: &LaidCell, top: f32, height: f32) {
        let x = table.x(cell.col);
        let w = table.width(cell.col, cell.span);
        let bottom = PAGE_H - top - height;
        if let Some(Rgb(r, g, b)) = cell.fill {
            self.page.set_fill_rgb(r, g, b).rect(x, bottom, w, height).fill_nonzero();
        }
        self.page.set_stroke_rgb(BORDER.0, BORDER.1, BORDER.2).set_line_width(0.5).rect(x, bottom, w, height).stroke();
        // Centred vertically, as the XLSX cells are.
        let text_h: f32 = cell.lines.iter().map(|l| l.style.line_height()).sum();
        let mut line_top = top + (height - text_h) / 2.0;
        for line in &cell.lines {
            let lx = match cell.align {
                Align::Left => x + PAD_X,
                Align::Center => x + (w - self.font.width(&line.text, line.style.size)) / 2.0,
            };
            self.draw_text(lx, line_top, &line.text, line.style);
            line_top += line.style.line_height();
        }
    }

    /// Breaks `text` into lines no wider than `width`: at explicit newlines, and between any
    /// two characters otherwise, never putting closing punctuation at the start of a line (the
    /// last character moves down with it) and preferring a space inside Latin text.
    fn wrap(&mut self, text: &str, style: Style, width: f32) -> Vec<String> {
        let mut out = Vec::new();
        for para in text.split('\n') {
            let mut line: Vec<char> = Vec::new();
            let mut w = 0.0;
            for c in para.chars().map(|c| if c == '\t' { ' ' } else { c }).filter(|c| !c.is_control()) {
                let cw = self.font.glyph(c).1 * style.size;
                if w + cw > width && !line.is_empty() {
                    let mut carry: Vec<char> = Vec::new();
                    if let Some(pos) = latin_break(&line) {
                        carry = line.split_off(pos);
                    } else if NO_LINE_START.contains(c) && line.len() > 1 {
                        carry.extend(line.pop());
                    }
                    out.push(line.iter().collect::<String>().trim_end().to_owned());
                    line = carry.into_iter().skip_while(|c| *c == ' ').collect();
                    w = line.iter().map(|c| self.font.glyph(*c).1 * style.size).sum();
                    if c == ' ' && line.is_empty() {
                        continue;
                    }
                }
                line.push(c);
                w += cw;
            }
            out.push(line.into_iter().collect());
        }
        out
    }
}

const CONTINUED: &str = "（続き）";

/// Characters that must not begin a line (行頭禁則).
const NO_LINE_START: &str = "、。，．・：；？！ー）」』】〕｝〉》’”ゃゅょっぁぃぅぇぉャュョッァィゥェォ々,.:;!?)]}%";

/// Inside a run of Latin letters or digits at the end of `line`, the position after its last
/// space, so that a word such as 「機器一覧.xlsx」 does not break mid-word when it need not.
fn latin_break(line: &[char]) -> Option<usize> {
    let last = *line.last()?;
    if !last.is_ascii_alphanumeric() {
        return None;
    }
    let pos = line.iter().rposition(|c| *c == ' ')?;
    let word = &line[pos + 1..];
    (pos > 0 && word.iter().all(|c| c.is_ascii_graphic()) && word.len() < 24).then_some(pos + 1)
}

fn header_block(table: &Table) -> Block {
    Block {
        merged: Vec::new(),
        rows: vec![table.header.iter().enumerate().map(|(col, cell)| Span::one(col, cell.clone())).collect()],
        keep_with_next: false,
    }
}

fn single(row: LaidRow) -> LaidBlock {
    LaidBlock { merged: Vec::new(), rows: vec![row], keep_with_next: false }
}

/// The rows of a block, with the merged cells moved into the first row.
fn flatten(block: LaidBlock) -> Vec<LaidRow> {
    let mut rows = block.rows;
    if rows.is_empty() {
        rows.push(LaidRow { cells: Vec::new(), height: 0.0 });
    }
    for r in &mut rows {
        r.height = row_height(&r.cells);
    }
    rows[0].cells.extend(block.merged);
    rows[0].cells.sort_by_key(|c| c.col);
    rows[0].height = row_height(&rows[0].cells);
    rows
}

/// The part of `row` that fits in `available` points, and the rest for the next page.
fn split_row(row: LaidRow, available: f32, repeat_col: Option<usize>) -> (LaidRow, Option<LaidRow>) {
    let mut head = Vec::new();
    let mut tail = Vec::new();
    for cell in row.cells {
        let mut used = 2.0 * PAD_Y;
        let mut take = 0;
        for line in &cell.lines {
            if used + line.style.line_height() > available && take > 0 {
                break;
            }
            used += line.style.line_height();
            take += 1;
        }
        let mut first = cell.clone();
        let rest = first.lines.split_off(take);
        head.push(first);
        tail.push(LaidCell { lines: rest, ..cell });
    }
    let more = tail.iter().any(|c| !c.lines.is_empty());
    for (cell, first) in tail.iter_mut().zip(&head) {
        if Some(cell.col) == repeat_col && more {
            cell.lines = first.lines.iter().cloned().chain(cell.lines.drain(..)).collect();
            let style = first.lines.first().map_or(Style::new(BODY_SIZE), |l| l.style);
            cell.lines.push(Line { text: CONTINUED.to_owned(), style: Style { size: style.size * 0.85, ..style } });
        }
    }
    let head_row = LaidRow { height: row_height(&head).min(available.max(0.0)), cells: head };
    let tail_row = more.then(|| LaidRow { height: row_height(&tail), cells: tail });
    (head_row, tail_row)
}

fn text_at(font: &mut PdfFont<'_>, page: &mut Content, x: f32, baseline: f32, text: &str, style: Style) {
    if text.is_empty() {
        return;
    }
    let Rgb(r, g, b) = style.color;
    let bytes = font.encode(text);
    page.begin_text();
    page.set_font(FONT_NAME, style.size);
    page.set_fill_rgb(r, g, b);
    if style.bold {
        // The Japanese gothic fonts come without a bold face: stroke the outlines as well.
        page.set_stroke_rgb(r, g, b).set_line_width(style.size * 0.035);
        page.set_text_rendering_mode(TextRenderingMode::FillStroke);
    } else {
        page.set_text_rendering_mode(TextRenderingMode::Fill);
    }
    page.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, PAGE_H - baseline]);
    page.show(Str(&bytes));
    page.end_text();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::FontSource;

    #[test]
    fn wrapping_keeps_closing_punctuation_and_short_latin_words_on_their_line() {
        let (data, name) = FontSource::System.load().expect("a Japanese font (fonts-ipafont-gothic)");
        let mut canvas = Canvas::new(PdfFont::new(&data, &name).unwrap(), String::new());
        let style = Style::new(10.0);
        // Ten full-width characters fit in 100 pt: the 11th, 「。」, may not open a line.
        let lines = canvas.wrap("あいうえおかきくけこ。さしす", style, 100.5);
        assert_eq!(lines, ["あいうえおかきくけ", "こ。さしす"]);
        let lines = canvas.wrap("根拠は report.xlsx です", style, 60.5);
        assert_eq!(lines, ["根拠は", "report.xlsx", "です"]);
        assert_eq!(canvas.wrap("一行目\n二行目", style, 500.0), ["一行目", "二行目"]);
    }
}
