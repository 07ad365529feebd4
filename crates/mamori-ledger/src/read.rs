//! Reading a ledger file into sheets of raw cells.
//!
//! The format is chosen by content, never by the file name: a ZIP container is XLSX or ODS,
//! an OLE container is XLS (or an encrypted OOXML file, which Excel also wraps in OLE), and
//! anything else must be CSV/TSV text in UTF-8, UTF-16 with a BOM, or CP932. This module only
//! turns bytes into cells; it must not interpret them (that is `normalize` and `header`).
//!
//! Rows and columns are kept at their spreadsheet positions: `rows[0]` is Excel row 1 and
//! `rows[r][0]` is column A, so every problem can be reported as the row the user sees.

use std::io::Cursor;

use calamine::{Data, DataRef, Reader};

/// One worksheet (or the single table of a CSV file).
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name: String,
    /// `rows[i]` is spreadsheet row `i + 1`; trailing empty cells and rows are dropped.
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    /// The cell at a 0-based position, `Cell::Empty` outside the data.
    pub fn cell(&self, row: usize, col: usize) -> &Cell {
        self.rows.get(row).and_then(|r| r.get(col)).unwrap_or(&Cell::Empty)
    }

    /// Formula error cells (`#DIV/0!`, `#REF!`…) as `(row, col, text)`, 0-based.
    pub fn errors(&self) -> impl Iterator<Item = (usize, usize, &str)> {
        self.rows.iter().enumerate().flat_map(|(r, row)| {
            row.iter().enumerate().filter_map(move |(c, cell)| match cell {
                Cell::Error(e) => Some((r, c, e.as_str())),
                _ => None,
            })
        })
    }
}

/// A raw cell value as the file stores it. CSV cells are always `Text` or `Empty`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// An Excel serial date (1900 date system; the fractional part is the time of day).
    DateTime(f64),
    /// A formula error such as `#DIV/0!`.
    Error(String),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }
}

/// How to decode a CSV/TSV file. Ignored for spreadsheets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// BOM → UTF-8/UTF-16; valid UTF-8 → UTF-8; otherwise CP932.
    #[default]
    Auto,
    Utf8,
    /// CP932 (Windows-31J), what Japanese Excel writes as "CSV".
    ShiftJis,
}

/// What a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// XLSX or ODS (a ZIP container).
    Zip,
    /// XLS or encrypted OOXML (an OLE compound file).
    Ole,
    /// CSV or TSV text.
    Text,
}

/// Guards against files that would exhaust memory or time.
///
/// The default of 200,000 rows is far above any institution's ledger (a 900-bed hospital
/// keeps a few thousand devices and tens of thousands of accounts) and keeps reading and
/// planning a file within about 0.5 GiB; a file with a million rows is refused at row
/// 200,001 while it is read, before its rest is decoded (docs/BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rows over all sheets, counting from row 1 (so blank rows above the data count).
    pub max_rows: usize,
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_rows: 200_000, max_bytes: 200 * 1024 * 1024 }
    }
}

/// Why a file could not be read. `code()` is stable; the UI maps it to a message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {bytes} bytes, more than the limit of {max_bytes}")]
    FileTooLarge { bytes: usize, max_bytes: usize },
    /// `rows` is where reading stopped: the file has at least that many (counting all sheets).
    #[error("{} has {rows} rows or more, more than the limit of {max_rows}", sheet.as_deref().unwrap_or("the file"))]
    TooLarge { sheet: Option<String>, rows: usize, max_rows: usize },
    #[error("the workbook is password-protected")]
    PasswordProtected,
    #[error("the file is damaged{}: {detail}", sheet.as_ref().map(|s| format!(" (sheet {s})")).unwrap_or_default())]
    Damaged { format: Format, sheet: Option<String>, detail: String },
    #[error("line {line} is not valid {expected}")]
    Encoding { line: usize, expected: &'static str },
    #[error("the file is not text (a binary file named as CSV?)")]
    NotText,
    #[error("row {row}: {detail}")]
    Csv { row: usize, detail: String },
}

impl ReadError {
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::Empty => "empty",
            ReadError::FileTooLarge { .. } => "file-too-large",
            ReadError::TooLarge { .. } => "too-many-rows",
            ReadError::PasswordProtected => "password-protected",
            ReadError::Damaged { .. } => "damaged",
            ReadError::Encoding { .. } => "encoding",
            ReadError::NotText => "not-text",
            ReadError::Csv { .. } => "csv-malformed",
        }
    }

    /// The sheet the problem is in, when there is one.
    pub fn sheet(&self) -> Option<&str> {
        match self {
            ReadError::TooLarge { sheet, .. } | ReadError::Damaged { sheet, .. } => sheet.as_deref(),
            _ => None,
        }
    }

    /// The 1-based row (or text line) the problem is on, when there is one.
    pub fn row(&self) -> Option<usize> {
        match self {
            ReadError::Encoding { line, .. } => Some(*line),
            ReadError::Csv { row, .. } => Some(*row),
            ReadError::TooLarge { rows, .. } => Some(*rows),
            _ => None,
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The container format, by magic bytes.
pub fn detect_format(bytes: &[u8]) -> Format {
    if bytes.starts_with(ZIP_MAGIC) {
        Format::Zip
    } else if bytes.starts_with(OLE_MAGIC) {
        Format::Ole
    } else {
        Format::Text
    }
}

/// Reads every sheet of a ledger file. `file_name` names the sheet of a CSV file and hints
/// the delimiter (`.tsv`); it never decides the format.
pub fn read_file(bytes: &[u8], file_name: &str, enc: Encoding, limits: &Limits) -> Result<Vec<Sheet>, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(ReadError::FileTooLarge { bytes: bytes.len(), max_bytes: limits.max_bytes });
    }
    match detect_format(bytes) {
        Format::Ole if is_encrypted_ooxml(bytes) => Err(ReadError::PasswordProtected),
        format @ (Format::Zip | Format::Ole) => read_workbook(bytes, format, limits),
        Format::Text => read_text(bytes, file_name, enc, limits),
    }
}

/// Excel stores a password-protected XLSX as an OLE file with an `EncryptedPackage` stream;
/// directory entry names are UTF-16LE.
fn is_encrypted_ooxml(bytes: &[u8]) -> bool {
    let needle: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(needle.len()).any(|w| w == needle.as_slice())
}

fn read_workbook(bytes: &[u8], format: Format, limits: &Limits) -> Result<Vec<Sheet>, ReadError> {
    let cursor = Cursor::new(bytes);
    let damaged = |sheet: Option<String>, detail: String| ReadError::Damaged { format, sheet, detail };
    if format == Format::Zip {
        match calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(cursor.clone()) {
            Ok(book) => return read_xlsx(book, limits),
            Err(calamine::XlsxError::Password) => return Err(ReadError::PasswordProtected),
            Err(xlsx_err) => {
                let book = calamine::open_workbook_from_rs::<calamine::Ods<_>, _>(cursor)
                    .map_err(|_| damaged(None, xlsx_err.to_string()))?;
                return read_ranges(calamine::Sheets::Ods(book), format, limits);
            }
        }
    }
    let book = calamine::open_workbook_from_rs::<calamine::Xls<_>, _>(cursor).map_err(|e| match e {
        calamine::XlsError::Password => ReadError::PasswordProtected,
        e => damaged(None, e.to_string()),
    })?;
    read_ranges(calamine::Sheets::Xls(book), format, limits)
}

/// XLSX is streamed cell by cell: sheets often claim a used range down to row 1,048,576
/// because of formatting, and a dense range of that size would exhaust memory. Cells without
/// a value take no space here.
fn read_xlsx(mut book: calamine::Xlsx<Cursor<&[u8]>>, limits: &Limits) -> Result<Vec<Sheet>, ReadError> {
    let mut sheets = Vec::new();
    let mut total_rows = 0usize;
    for name in book.sheet_names() {
        let damaged = |e: calamine::XlsxError| match e {
            calamine::XlsxError::Password => ReadError::PasswordProtected,
            e => ReadError::Damaged { format: Format::Zip, sheet: Some(name.clone()), detail: e.to_string() },
        };
        let mut cells = book.worksheet_cells_reader(&name).map_err(damaged)?;
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        while let Some(cell) = cells.next_cell().map_err(damaged)? {
            let value = convert_ref(cell.get_value());
            if value == Cell::Empty {
                continue;
            }
            let (r, c) = cell.get_position();
            let (r, c) = (r as usize, c as usize);
            if total_rows + r >= limits.max_rows {
                return Err(ReadError::TooLarge {
                    sheet: Some(name),
                    rows: total_rows + r + 1,
                    max_rows: limits.max_rows,
                });
            }
            if rows.len() <= r {
                rows.resize(r + 1, Vec::new());
            }
            let row = &mut rows[r];
            if row.len() <= c {
                row.resize(c + 1, Cell::Empty);
            }
            row[c] = value;
        }
        drop(cells);
        let rows = trimmed(rows);
        total_rows += rows.len();
        sheets.push(Sheet { name, rows });
    }
    Ok(sheets)
}

/// XLS and ODS through calamine's dense ranges (their readers build them anyway).
fn read_ranges(
    mut book: calamine::Sheets<Cursor<&[u8]>>,
    format: Format,
    limits: &Limits,
) -> Result<Vec<Sheet>, ReadError> {
    let mut sheets = Vec::new();
    let mut total_rows = 0usize;
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| match e {
            calamine::Error::Xls(calamine::XlsError::Password) => ReadError::PasswordProtected,
            e => ReadError::Damaged { format, sheet: Some(name.clone()), detail: e.to_string() },
        })?;
        let Some((row0, col0)) = range.start() else {
            sheets.push(Sheet { name, rows: Vec::new() });
            continue;
        };
        let (row0, col0) = (row0 as usize, col0 as usize);
        let height = row0 + range.height();
        if total_rows + height > limits.max_rows {
            return Err(ReadError::TooLarge {
                sheet: Some(name),
                rows: total_rows + height,
                max_rows: limits.max_rows,
            });
        }
        let mut rows = vec![Vec::new(); row0];
        for r in range.rows() {
            let mut row = vec![Cell::Empty; col0];
            row.extend(r.iter().map(convert));
            rows.push(row);
        }
        let rows = trimmed(rows);
        total_rows += rows.len();
        sheets.push(Sheet { name, rows });
    }
    Ok(sheets)
}

fn convert(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) if s.is_empty() => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) if dt.is_duration() => Cell::Number(dt.as_f64()),
        Data::DateTime(dt) => Cell::DateTime(dt.as_f64()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

fn convert_ref(d: &DataRef<'_>) -> Cell {
    match d {
        DataRef::Empty => Cell::Empty,
        DataRef::SharedString("") => Cell::Empty,
        DataRef::String(s) if s.is_empty() => Cell::Empty,
        DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) if dt.is_duration() => Cell::Number(dt.as_f64()),
        DataRef::DateTime(dt) => Cell::DateTime(dt.as_f64()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

/// Drops trailing empty cells of each row and trailing empty rows.
fn trimmed(mut rows: Vec<Vec<Cell>>) -> Vec<Vec<Cell>> {
    for row in &mut rows {
        while row.last().is_some_and(|c| matches!(c, Cell::Empty)) {
            row.pop();
        }
    }
    while rows.last().is_some_and(Vec::is_empty) {
        rows.pop();
    }
    rows
}

fn read_text(bytes: &[u8], file_name: &str, enc: Encoding, limits: &Limits) -> Result<Vec<Sheet>, ReadError> {
    let text = decode(bytes, enc)?;
    let delimiter = sniff_delimiter(&text, file_name);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    // The csv crate skips blank lines, and a record's reported position is where the skipped
    // lines began. Rows are placed by the line each record really starts on, so `rows[i]` is
    // line `i + 1` of the file, as a text editor shows it.
    let bytes = text.as_bytes();
    let (mut counted_to, mut line) = (0usize, 1usize);
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ReadError::Csv {
            row: e.position().map_or(i + 1, |p| p.line() as usize),
            detail: e.to_string(),
        })?;
        let mut start = record.position().map_or(counted_to, |p| p.byte() as usize).clamp(counted_to, bytes.len());
        while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            start += 1;
        }
        line += bytes[counted_to..start].iter().filter(|&&b| b == b'\n').count();
        counted_to = start;
        let line = line.max(rows.len() + 1);
        if line > limits.max_rows {
            return Err(ReadError::TooLarge { sheet: None, rows: line, max_rows: limits.max_rows });
        }
        rows.resize(line - 1, Vec::new());
        rows.push(
            record
                .iter()
                .map(|f| if f.is_empty() { Cell::Empty } else { Cell::Text(f.to_owned()) })
                .collect::<Vec<_>>(),
        );
    }
    Ok(vec![Sheet { name: file_name.to_owned(), rows: trimmed(rows) }])
}

/// Decodes CSV bytes to text, refusing binary files and undecodable bytes.
fn decode(bytes: &[u8], enc: Encoding) -> Result<String, ReadError> {
    // Excel's "Unicode text" export is UTF-16LE with a BOM; it contains NULs, so check it first.
    if enc == Encoding::Auto {
        for (bom, encoding) in [(&[0xFF, 0xFE][..], encoding_rs::UTF_16LE), (&[0xFE, 0xFF][..], encoding_rs::UTF_16BE)]
        {
            if let Some(rest) = bytes.strip_prefix(bom) {
                let (text, had_errors) = encoding.decode_without_bom_handling(rest);
                return finish(text.into_owned(), had_errors, "UTF-16");
            }
        }
    }
    if !looks_like_text(bytes) {
        return Err(ReadError::NotText);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match enc {
        Encoding::Utf8 => {
            let (text, had_errors) = encoding_rs::UTF_8.decode_without_bom_handling(bytes);
            finish(text.into_owned(), had_errors, "UTF-8")
        }
        Encoding::Auto => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => shift_jis(bytes),
        },
        Encoding::ShiftJis => shift_jis(bytes),
    }
}

fn shift_jis(bytes: &[u8]) -> Result<String, ReadError> {
    // WHATWG Shift_JIS is CP932: NEC and IBM extensions (①, 髙) included.
    let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    finish(text.into_owned(), had_errors, "Shift_JIS (CP932)")
}

fn finish(text: String, had_errors: bool, expected: &'static str) -> Result<String, ReadError> {
    if !had_errors {
        return Ok(text);
    }
    let at = text.find('\u{FFFD}').unwrap_or(0);
    Err(ReadError::Encoding { line: text[..at].matches('\n').count() + 1, expected })
}

/// No NUL bytes, and at most 1 in 100 bytes of the first 64 KiB a control character other
/// than tab, newline, carriage return, form feed and Ctrl-Z (old DOS end-of-file).
fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.contains(&0) {
        return false;
    }
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    let control = sample
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A)) || b == 0x7F)
        .count();
    control * 100 <= sample.len()
}

/// Tab if the first lines have more tabs than commas (or the file is named `.tsv` and has
/// tabs), comma otherwise. Quoted text is not special-cased: a rough count is enough.
fn sniff_delimiter(text: &str, file_name: &str) -> u8 {
    let head: String = text.lines().take(50).collect::<Vec<_>>().join("\n");
    let tabs = head.matches('\t').count();
    let commas = head.matches(',').count();
    let tsv_name = file_name.to_ascii_lowercase().ends_with(".tsv");
    if tabs > commas || (tsv_name && tabs > 0) { b'\t' } else { b',' }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Vec<Sheet>, ReadError> {
        read_file(bytes, "t.csv", Encoding::Auto, &Limits::default())
    }

    fn texts(sheet: &Sheet) -> Vec<Vec<String>> {
        sheet
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Cell::Text(t) => t.clone(),
                        Cell::Empty => String::new(),
                        other => format!("{other:?}"),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn csv_utf8_comma_and_tab() {
        let s = read("機器名,IP\n受付PC,192.168.1.2\n".as_bytes()).unwrap();
        assert_eq!(texts(&s[0]), [["機器名", "IP"], ["受付PC", "192.168.1.2"]]);
        let s = read("a\tb,c\n1\t2\n".as_bytes()).unwrap();
        assert_eq!(texts(&s[0]), [["a", "b,c"], ["1", "2"]]);
    }

    #[test]
    fn csv_trailing_empties_are_dropped_and_quotes_work() {
        let s = read(b"a,,\n\"x,y\",\"multi\nline\"\n,,\n").unwrap();
        assert_eq!(texts(&s[0]), vec![vec!["a".to_owned()], vec!["x,y".to_owned(), "multi\nline".to_owned()]]);
        // Blank lines keep their place; a record spanning lines sits on its first line.
        let s = read(b"a\n\nb\n\"1\n2\"\nc\n").unwrap();
        assert_eq!(texts(&s[0]), vec![vec!["a"], vec![], vec!["b"], vec!["1\n2"], vec![], vec!["c"]]);
    }

    #[test]
    fn utf16_bom_is_decoded() {
        let mut b = vec![0xFF, 0xFE];
        b.extend("名称\tIP\n".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(texts(&read(&b).unwrap()[0]), [["名称", "IP"]]);
    }

    #[test]
    fn explicit_encodings() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("部署,氏名\n");
        let err = read_file(&sjis, "x.csv", Encoding::Utf8, &Limits::default()).unwrap_err();
        assert_eq!((err.code(), err.row()), ("encoding", Some(1)));
        let ok = read_file(&sjis, "x.csv", Encoding::ShiftJis, &Limits::default()).unwrap();
        assert_eq!(texts(&ok[0]), [["部署", "氏名"]]);
    }

    #[test]
    fn bad_shift_jis_reports_the_line() {
        // 0x81 0x20 is not a CP932 character.
        let err = read(b"a,b\nc,d\n\x81\x20x\n").unwrap_err();
        assert_eq!(err, ReadError::Encoding { line: 3, expected: "Shift_JIS (CP932)" });
    }

    #[test]
    fn binary_and_empty_files() {
        assert_eq!(read(b"").unwrap_err().code(), "empty");
        assert_eq!(read(b"abc\0def").unwrap_err().code(), "not-text");
        let noise: Vec<u8> = (0..400u32).map(|i| (i * 7 % 32) as u8).collect();
        assert_eq!(read(&noise).unwrap_err(), ReadError::NotText);
    }

    #[test]
    fn limits() {
        let small = Limits { max_rows: 2, max_bytes: 100 };
        let err = read_file(b"1\n2\n3\n", "x.csv", Encoding::Auto, &small).unwrap_err();
        assert_eq!(err, ReadError::TooLarge { sheet: None, rows: 3, max_rows: 2 });
        let err = read_file(&[b'a'; 101], "x.csv", Encoding::Auto, &small).unwrap_err();
        assert_eq!(err.code(), "file-too-large");
    }

    #[test]
    fn magic_decides_the_format() {
        assert_eq!(detect_format(b"PK\x03\x04rest"), Format::Zip);
        assert_eq!(detect_format(OLE_MAGIC), Format::Ole);
        assert_eq!(detect_format(b"a,b"), Format::Text);
        assert_eq!(read(b"PK\x03\x04garbage").unwrap_err().code(), "damaged");
        assert_eq!(read(OLE_MAGIC).unwrap_err().code(), "damaged");
    }
}
