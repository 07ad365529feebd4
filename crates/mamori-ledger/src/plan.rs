//! Planning an import: sheets → domain rows with problems, matched against existing records.
//!
//! This is pure: the caller passes the ledger's existing rows and the names of records a
//! ledger may refer to ([`References`]); nothing here reads or writes the store. The plan
//! says, per data row, whether it creates a record, updates one (matched by a natural key,
//! see [`natural_key`]) or leaves it unchanged, and lists every problem with the row the user
//! sees in Excel (1-based) and the 0-based column.
//!
//! Rows with an error problem are not planned (they are absent from [`Plan::rows`]); callers
//! must not write a plan that [`Plan::has_errors`]. A matched row starts from the existing
//! record and only the fields the file maps are overwritten (an empty cell clears its field);
//! a reference the file names but that cannot be resolved keeps the existing value.
//!
//! Memory: a plan holds every planned row. [`plan_owned`] frees each row's cells as it goes,
//! so the cell grid and the rows are not held together. At the reader's limit of 1,000,000
//! rows (ten columns, every cell distinct) reading and planning peak at about 1.5 GiB for a
//! CP932 CSV and 1.65 GiB for an XLSX; the `plan_rss` example measures it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mamori_domain::RecordId;
use mamori_domain::ledger::check_cidr;
use mamori_domain::record::{FieldType, RecordError, RecordKind, Row, Value};
use time::{OffsetDateTime, Time, UtcOffset};

use crate::header::{HeaderMatch, MappingError, MappingOverrides, find_header_with, find_sheet_with};
use crate::normalize::{self, cell_text, parse_asset_kind, parse_bool, parse_date, parse_int, parse_ips, parse_macs};
use crate::read::{Cell, Sheet};

/// What importing a row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Update,
    Unchanged,
}

/// An error blocks the import; a warning is shown but does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
}

/// Something wrong with a cell or row. `code` is stable; the UI maps it to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub sheet: String,
    /// 1-based, as Excel shows it.
    pub row: usize,
    /// 0-based column, when the problem is in one cell.
    pub column: Option<usize>,
    pub field: Option<&'static str>,
    pub code: &'static str,
    /// The offending text (for `duplicate-key`: the key and the earlier row).
    pub value: Option<String>,
    pub level: Level,
}

/// A data row turned into a domain row.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRow {
    /// 1-based spreadsheet row.
    pub source_row: usize,
    pub row: Row,
    pub action: Action,
}

/// The result of planning one ledger import.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub kind: RecordKind,
    pub sheet: String,
    /// 1-based row of the header.
    pub header_row: usize,
    /// `(0-based column, field)` as the header maps them.
    pub columns: Vec<(usize, &'static str)>,
    /// Header cells that name no field, `(0-based column, text)`.
    pub unmapped: Vec<(usize, String)>,
    /// Every non-empty header cell with what it was mapped to, for the preview.
    pub header_cells: Vec<HeaderCell>,
    /// Rows without errors, in sheet order.
    pub rows: Vec<PlannedRow>,
    /// Sorted by row, then column.
    pub problems: Vec<Problem>,
}

impl Plan {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.level == Level::Error)
    }

    /// `(create, update, unchanged)`.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |a: Action| self.rows.iter().filter(|r| r.action == a).count();
        (n(Action::Create), n(Action::Update), n(Action::Unchanged))
    }

    /// The rows to create or update.
    pub fn rows_to_write(&self) -> Vec<Row> {
        self.rows.iter().filter(|r| r.action != Action::Unchanged).map(|r| r.row.clone()).collect()
    }

    /// [`Self::rows_to_write`] without copying them (a large plan is not held twice).
    pub fn into_rows_to_write(self) -> Vec<Row> {
        self.rows.into_iter().filter(|r| r.action != Action::Unchanged).map(|r| r.row).collect()
    }
}

/// Why no plan could be made. `code()` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no sheet has a header for the {kind} ledger")]
    NoHeader { kind: RecordKind },
    #[error("the file has no sheet named {sheet:?}")]
    NoSuchSheet { sheet: String },
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

impl PlanError {
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::NoHeader { .. } => "no-header",
            PlanError::NoSuchSheet { .. } => "no-such-sheet",
            PlanError::Mapping(e) => e.code(),
        }
    }
}

/// Choices the user made in the import preview.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Column mapping corrections; they must be for the ledger being planned.
    pub overrides: Option<MappingOverrides>,
    /// Plan this sheet instead of the one whose header names the most fields.
    pub sheet: Option<String>,
}

/// One cell of the header row as the preview shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderCell {
    /// 0-based.
    pub column: usize,
    /// As written in the file.
    pub text: String,
    /// The field the column is imported into; `None`: not imported.
    pub field: Option<&'static str>,
    /// The mapping (or the "ignore") came from the user's override, not the dictionary.
    pub from_override: bool,
}

/// What the mapping step of the import preview shows for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Every sheet of the file, in order (one for CSV).
    pub sheet_names: Vec<String>,
    /// The chosen sheet, or the detected one; `None` when the file has no sheet.
    pub sheet: Option<String>,
    /// 1-based header row: the detected one, or (when `detected` is false) the first
    /// non-empty row, offered so the user can map its columns.
    pub header_row: Option<usize>,
    pub detected: bool,
    pub cells: Vec<HeaderCell>,
}

/// The sheet and header the options choose, or what detection finds.
fn choose(
    sheets: &[Sheet],
    kind: RecordKind,
    options: &PlanOptions,
) -> Result<Option<(usize, HeaderMatch)>, PlanError> {
    let overrides = options.overrides.as_ref();
    if let Some(o) = overrides {
        o.validate_for(kind)?;
    }
    match &options.sheet {
        Some(name) => {
            let index = sheets
                .iter()
                .position(|s| &s.name == name)
                .ok_or_else(|| PlanError::NoSuchSheet { sheet: name.clone() })?;
            Ok(find_header_with(&sheets[index], kind, overrides).map(|h| (index, h)))
        }
        None => Ok(find_sheet_with(sheets, kind, overrides)),
    }
}

fn header_cells(sheet: &Sheet, header: &HeaderMatch) -> Vec<HeaderCell> {
    let row = sheet.rows.get(header.row).map_or(&[][..], Vec::as_slice);
    row.iter()
        .enumerate()
        .filter_map(|(column, cell)| {
            let text = match cell {
                Cell::Text(t) if !t.trim().is_empty() => t.clone(),
                _ => cell_text(cell)?,
            };
            let field = header.columns.iter().find(|(c, _)| *c == column).map(|(_, f)| *f);
            Some(HeaderCell { column, text, field, from_override: header.overridden.contains(&column) })
        })
        .collect()
}

/// The header row of the chosen (or detected) sheet with each column's mapping, and the
/// sheet names, for the preview's mapping step. When no header is found the first
/// non-empty row is offered unmapped, so the user can map it by hand.
pub fn preview(sheets: &[Sheet], kind: RecordKind, options: &PlanOptions) -> Result<Preview, PlanError> {
    let sheet_names: Vec<String> = sheets.iter().map(|s| s.name.clone()).collect();
    if let Some((index, header)) = choose(sheets, kind, options)? {
        let sheet = &sheets[index];
        return Ok(Preview {
            sheet_names,
            sheet: Some(sheet.name.clone()),
            header_row: Some(header.row + 1),
            detected: true,
            cells: header_cells(sheet, &header),
        });
    }
    let index = match &options.sheet {
        Some(name) => sheets.iter().position(|s| &s.name == name),
        None => sheets.iter().position(|s| s.rows.iter().any(|r| r.iter().any(|c| !c.is_empty()))),
    };
    let Some(index) = index else {
        return Ok(Preview { sheet_names, sheet: None, header_row: None, detected: false, cells: Vec::new() });
    };
    let sheet = &sheets[index];
    let row = sheet.rows.iter().take(crate::header::HEADER_SCAN_ROWS).position(|r| r.iter().any(|c| !c.is_empty()));
    let cells = row.map_or_else(Vec::new, |row| {
        let blank =
            HeaderMatch { row, data_start: row + 1, columns: Vec::new(), unmapped: Vec::new(), overridden: Vec::new() };
        header_cells(sheet, &blank)
    });
    Ok(Preview { sheet_names, sheet: Some(sheet.name.clone()), header_row: row.map(|r| r + 1), detected: false, cells })
}

/// Names → ids of records a ledger refers to (e.g. vendor name → vendor id), per referenced
/// table name ("vendors", "sites", "network_segments", "assets", "persons"). Names are
/// compared after NFKC, trimming and case-folding; a name given two different ids is
/// ambiguous and resolves to nothing.
#[derive(Debug, Clone, Default)]
pub struct References {
    names: HashMap<(&'static str, String), Option<RecordId>>,
}

impl References {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, table: &'static str, name: &str, id: RecordId) {
        let entry = self.names.entry((table, fold(name))).or_insert(Some(id));
        if *entry != Some(id) {
            *entry = None;
        }
    }

    /// Adds a record under the names a ledger may use for it: its display name
    /// ([`crate::export::display_name`]) and, for an asset, its hostname too (a software
    /// ledger often names the PC by ホスト名).
    pub fn add_row(&mut self, row: &Row) {
        let table = row.kind.table();
        if let Some(name) = crate::export::display_name(row) {
            self.add(table, &name, row.id);
        }
        if row.kind == RecordKind::Assets
            && let Value::Text(host) = row.get("hostname")
            && !host.trim().is_empty()
        {
            self.add(table, host, row.id);
        }
    }

    /// `Ok(None)` when the name is unknown, `Err(())` when it is ambiguous.
    fn lookup(&self, table: &'static str, name: &str) -> Result<Option<RecordId>, ()> {
        match self.names.get(&(table, fold(name))) {
            None => Ok(None),
            Some(Some(id)) => Ok(Some(*id)),
            Some(None) => Err(()),
        }
    }
}

/// NFKC, trimmed, lower-cased.
fn fold(s: &str) -> String {
    normalize::text(s).to_lowercase()
}

/// Plans importing the best sheet for `kind` against the `existing` rows of that ledger
/// (rows of other kinds are ignored).
pub fn plan(sheets: &[Sheet], kind: RecordKind, existing: &[Row], refs: &References) -> Result<Plan, PlanError> {
    plan_with(sheets, kind, existing, refs, &PlanOptions::default())
}

/// [`plan`] with the choices of the import preview: the user's column mapping and sheet.
pub fn plan_with(
    sheets: &[Sheet],
    kind: RecordKind,
    existing: &[Row],
    refs: &References,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let (index, header) = choose(sheets, kind, options)?.ok_or(PlanError::NoHeader { kind })?;
    let sheet = &sheets[index];
    let cells = header_cells(sheet, &header);
    let data = sheet.rows.iter().enumerate().skip(header.data_start);
    let (rows, problems) = plan_rows(&sheet.name, data, kind, &header, existing, refs);
    Ok(Plan {
        kind,
        sheet: sheet.name.clone(),
        header_row: header.row + 1,
        header_cells: cells,
        columns: header.columns,
        unmapped: header.unmapped,
        rows,
        problems,
    })
}

/// [`plan_with`] taking the sheets by value: each row's cells are freed once the row is
/// planned, and the other sheets before planning starts, so a large file's cell grid and
/// its planned rows are not held at the same time. Prefer this when the sheets are not
/// needed afterwards.
pub fn plan_owned(
    mut sheets: Vec<Sheet>,
    kind: RecordKind,
    existing: &[Row],
    refs: &References,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let (index, header) = choose(&sheets, kind, options)?.ok_or(PlanError::NoHeader { kind })?;
    let mut sheet = sheets.swap_remove(index);
    drop(sheets);
    let cells = header_cells(&sheet, &header);
    let data = sheet.rows.drain(..).enumerate().skip(header.data_start);
    let (rows, problems) = plan_rows(&sheet.name, data, kind, &header, existing, refs);
    Ok(Plan {
        kind,
        sheet: sheet.name,
        header_row: header.row + 1,
        header_cells: cells,
        columns: header.columns,
        unmapped: header.unmapped,
        rows,
        problems,
    })
}

/// Plans the data rows `(0-based row, cells)` below the header.
fn plan_rows<C: AsRef<[Cell]>>(
    sheet_name: &str,
    data: impl ExactSizeIterator<Item = (usize, C)>,
    kind: RecordKind,
    header: &HeaderMatch,
    existing: &[Row],
    refs: &References,
) -> (Vec<PlannedRow>, Vec<Problem>) {
    // Every natural key of every existing record, once: matching a file row is then a
    // lookup, not a scan (a re-import of a 50,000-row ledger stays linear). The first
    // record with a key wins, as a scan in order would.
    let mut by_key: HashMap<(&'static str, String), &Row> = HashMap::new();
    for e in existing.iter().filter(|r| r.kind == kind) {
        for tag in key_tags(kind) {
            if let Some(v) = key_value(e, tag) {
                by_key.entry((*tag, v)).or_insert(e);
            }
        }
    }
    let mapped: BTreeSet<&'static str> = header.columns.iter().map(|(_, f)| *f).collect();
    let mut problems = Vec::new();
    // Sized once: doubling a million-row vector would hold two copies for a moment.
    let mut rows = Vec::with_capacity(data.len());
    let mut seen_keys: HashMap<(&'static str, String), usize> = HashMap::new();
    let mut seen_ids: HashMap<RecordId, usize> = HashMap::new();

    for (r, cells) in data {
        let cells = cells.as_ref();
        if skip_row(cells, header) {
            continue;
        }
        let source_row = r + 1;
        let mut ctx = RowCtx { sheet: sheet_name, row: source_row, problems: Vec::new() };
        let (values, unresolved) = convert_row(cells, kind, header, refs, &mut ctx);

        let mut fresh = Row::new(kind, RecordId::new());
        for (f, v) in &values {
            fresh.set(f, v.clone());
        }
        let key = natural_key(&fresh);
        let matched = key.as_ref().and_then(|(tag, k)| by_key.get(&(*tag, k.clone())).copied());
        let (row, action) = match matched {
            Some(e) => {
                let mut row = e.clone();
                for f in &mapped {
                    if unresolved.contains(f) {
                        continue;
                    }
                    let new = values.get(f).cloned().unwrap_or(Value::Null);
                    if !same_after_normalising(e.get(f), &new) {
                        row.set(f, new);
                    }
                }
                let action = if row.values == e.values { Action::Unchanged } else { Action::Update };
                (row, action)
            }
            None => (fresh, Action::Create),
        };

        if let Some(key) = &key {
            if let Some(first) = seen_keys.get(key) {
                ctx.error(None, None, "duplicate-key", Some(format!("{} (row {first})", key.1)));
            } else {
                seen_keys.insert(key.clone(), source_row);
            }
        }
        if matched.is_some() {
            if let Some(first) = seen_ids.get(&row.id) {
                if !ctx.problems.iter().any(|p| p.code == "duplicate-key") {
                    let k = key.as_ref().map(|k| k.1.clone()).unwrap_or_default();
                    ctx.error(None, None, "duplicate-key", Some(format!("{k} (row {first})")));
                }
            } else {
                seen_ids.insert(row.id, source_row);
            }
        }

        if let Err(e) = mamori_domain::ledger::check_row(&row) {
            let (code, field) = match &e {
                RecordError::Missing { field, .. } => ("missing-required", Some(*field)),
                RecordError::WrongType { field, .. } | RecordError::Invalid { field, .. } => ("invalid", Some(*field)),
                RecordError::UnknownField { .. } => ("invalid", None),
            };
            let already =
                field.is_some_and(|f| ctx.problems.iter().any(|p| p.field == Some(f) && p.level == Level::Error));
            if !already {
                let column = field.and_then(|f| header.columns_of(f).next());
                ctx.error(column, field, code, Some(e.to_string()));
            }
        }

        if !ctx.problems.iter().any(|p| p.level == Level::Error) {
            rows.push(PlannedRow { source_row, row, action });
        }
        problems.append(&mut ctx.problems);
    }
    problems.sort_by_key(|p| (p.row, p.column));
    (rows, problems)
}

/// Whether a stored value reads as the file's value: the file's text is NFKC-normalised, so
/// a stored 「（24時間）」 exported and imported again must not count as a change.
fn same_after_normalising(stored: &Value, file: &Value) -> bool {
    match (stored, file) {
        (Value::Text(a), Value::Text(b)) => normalize::text(a) == *b,
        (Value::TextList(a), Value::TextList(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| normalize::text(x) == *y)
        }
        (a, b) => a == b,
    }
}

/// Blank rows, rows with nothing under a mapped column (`No.` pre-filled in a template) and
/// note rows (`※ …`, or one lone cell under a header of three or more fields).
fn skip_row(cells: &[Cell], header: &HeaderMatch) -> bool {
    let filled: Vec<(usize, &Cell)> = cells.iter().enumerate().filter(|(_, c)| !c.is_empty()).collect();
    if filled.is_empty() || !filled.iter().any(|(c, _)| header.columns.iter().any(|(hc, _)| hc == c)) {
        return true;
    }
    if filled.len() == 1 {
        let distinct: BTreeSet<&str> = header.columns.iter().map(|(_, f)| *f).collect();
        let note = cell_text(filled[0].1).is_some_and(|t| ["※", "注", "備考"].iter().any(|p| t.starts_with(p)));
        return note || distinct.len() >= 3;
    }
    false
}

struct RowCtx<'a> {
    sheet: &'a str,
    row: usize,
    problems: Vec<Problem>,
}

impl RowCtx<'_> {
    fn push(
        &mut self,
        level: Level,
        column: Option<usize>,
        field: Option<&'static str>,
        code: &'static str,
        value: Option<String>,
    ) {
        self.problems.push(Problem { sheet: self.sheet.to_owned(), row: self.row, column, field, code, value, level });
    }

    fn error(&mut self, column: Option<usize>, field: Option<&'static str>, code: &'static str, value: Option<String>) {
        self.push(Level::Error, column, field, code, value);
    }
}

/// The mapped fields' values (absent = empty), and the reference fields that could not be
/// resolved.
fn convert_row(
    cells: &[Cell],
    kind: RecordKind,
    header: &HeaderMatch,
    refs: &References,
    ctx: &mut RowCtx<'_>,
) -> (BTreeMap<&'static str, Value>, BTreeSet<&'static str>) {
    let mut values: BTreeMap<&'static str, Value> = BTreeMap::new();
    let mut unresolved = BTreeSet::new();
    for &(col, name) in &header.columns {
        let Some(field) = kind.field(name) else { continue };
        let cell = cells.get(col).unwrap_or(&Cell::Empty);
        if let Cell::Error(e) = cell {
            ctx.error(Some(col), Some(name), "formula-error", Some(e.clone()));
            continue;
        }
        if cell.is_empty() {
            continue;
        }
        let raw = cell_text(cell).unwrap_or_default();
        let mut fail = |code: &'static str| ctx.error(Some(col), Some(name), code, Some(raw.clone()));
        let value = match field.ty {
            FieldType::Text => match choice(kind, name) {
                Some(dict) => match lookup_choice(dict, &raw) {
                    Some(v) => Value::Text(v.to_owned()),
                    None => {
                        fail("unknown-choice");
                        continue;
                    }
                },
                None if kind == RecordKind::Assets && name == "kind" => match parse_asset_kind(&raw) {
                    Ok(k) => Value::Text(k.as_str().to_owned()),
                    Err(p) => {
                        fail(p.code());
                        continue;
                    }
                },
                None => Value::Text(raw.clone()),
            },
            FieldType::Int => match cell {
                Cell::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => Value::Int(*n as i64),
                _ => match parse_int(&raw) {
                    Ok(i) => Value::Int(i),
                    Err(p) => {
                        fail(p.code());
                        continue;
                    }
                },
            },
            FieldType::Bool => match cell {
                Cell::Bool(b) => Value::Bool(*b),
                _ => match parse_bool(&raw) {
                    Ok(b) => Value::Bool(b),
                    Err(p) => {
                        fail(p.code());
                        continue;
                    }
                },
            },
            FieldType::Date => match parse_date(cell) {
                Ok(d) => Value::Date(d),
                Err(p) => {
                    fail(p.code());
                    continue;
                }
            },
            FieldType::Timestamp => match timestamp(cell) {
                Ok(t) => Value::from(Some(t)),
                Err(code) => {
                    fail(code);
                    continue;
                }
            },
            FieldType::TextList => {
                let items = match name {
                    "ip_addresses" => parse_ips(&raw).map(|l| l.iter().map(ToString::to_string).collect()),
                    "mac_addresses" => parse_macs(&raw),
                    _ => Ok(split_items(&raw)),
                };
                let items = match items {
                    Ok(items) => items,
                    Err(p) => {
                        fail(p.code());
                        continue;
                    }
                };
                if name == "cidrs" && items.iter().any(|c| check_cidr(c).is_err()) {
                    fail("not-a-cidr");
                    continue;
                }
                let entry = values.entry(name).or_insert_with(|| Value::TextList(Vec::new()));
                if let Value::TextList(list) = entry {
                    for item in items {
                        if !list.contains(&item) {
                            list.push(item);
                        }
                    }
                }
                continue;
            }
            FieldType::Ref => {
                let table = field.refers_to.unwrap_or_default();
                match refs.lookup(table, &raw) {
                    Ok(Some(id)) => Value::Ref(id.0),
                    found => {
                        let code = if found.is_err() { "ambiguous-reference" } else { "unknown-reference" };
                        ctx.push(Level::Warning, Some(col), Some(name), code, Some(raw.clone()));
                        unresolved.insert(name);
                        continue;
                    }
                }
            }
        };
        values.insert(name, value);
    }
    values.retain(|_, v| !matches!(v, Value::TextList(l) if l.is_empty()));
    (values, unresolved)
}

/// An Excel date-time (taken as JST), an RFC 3339 text, or a date (midnight JST).
fn timestamp(cell: &Cell) -> Result<OffsetDateTime, &'static str> {
    let jst = UtcOffset::from_hms(9, 0, 0).map_err(|_| "date-unrecognised")?;
    if let Cell::DateTime(serial) = cell {
        let day = normalize::excel_serial(*serial).map_err(|p| p.code())?;
        let secs = ((serial.fract() * 86_400.0).round() as u32).min(86_399);
        let time = Time::from_hms((secs / 3600) as u8, (secs / 60 % 60) as u8, (secs % 60) as u8)
            .map_err(|_| "date-unrecognised")?;
        return Ok(day.with_time(time).assume_offset(jst));
    }
    if let Cell::Text(s) = cell {
        let n = normalize::text(s);
        if let Ok(t) = mamori_domain::time_fmt::parse(&n) {
            return Ok(t);
        }
        // `2026-04-01 09:30` as exported, `2026/4/1 9:30:15` as typed: JST wall-clock time.
        if let Some((day, clock)) = n.split_once([' ', 'T'])
            && clock.contains(':')
        {
            let time = clock_time(clock.trim()).ok_or("date-unrecognised")?;
            let day = normalize::parse_date_text(day).map_err(|p| p.code())?;
            return Ok(day.with_time(time).assume_offset(jst));
        }
    }
    let day = parse_date(cell).map_err(|p| p.code())?;
    Ok(day.midnight().assume_offset(jst))
}

/// `9:30`, `09:30:15`.
fn clock_time(s: &str) -> Option<Time> {
    let mut parts = s.split(':');
    let mut next = |max: u8| -> Option<Option<u8>> {
        match parts.next() {
            None => Some(None),
            Some(p) if (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|v| *v <= max).map(Some)
            }
            Some(_) => None,
        }
    };
    let h = next(23)??;
    let m = next(59)??;
    let sec = next(59)?.unwrap_or(0);
    if parts.next().is_some() {
        return None;
    }
    Time::from_hms(h, m, sec).ok()
}

/// Splits a cell holding several values: commas, `、`, `;` or whitespace.
fn split_items(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in s.split(|c: char| matches!(c, ',' | '、' | ';') || c.is_whitespace()).filter(|t| !t.is_empty()) {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_owned());
        }
    }
    out
}

type Choices = &'static [(&'static str, &'static [&'static str])];

/// Labels of the text fields that hold a closed set of values, by stored value.
fn choice(kind: RecordKind, field: &str) -> Option<Choices> {
    Some(match (kind, field) {
        (RecordKind::Assets, "criticality") => &[
            ("high", &["高", "高い", "大", "high", "h", "a"]),
            ("medium", &["中", "普通", "medium", "middle", "m", "b"]),
            ("low", &["低", "低い", "小", "low", "l", "c"]),
        ],
        (RecordKind::Accounts, "holder") => &[
            ("person", &["個人", "個人用", "本人", "職員", "person", "personal"]),
            ("shared", &["共有", "共用", "共用アカウント", "共有アカウント", "shared"]),
            ("service", &["サービス", "サービス用", "システム", "サービスアカウント", "service", "system"]),
            ("vendor", &["事業者", "事業者用", "業者", "ベンダー", "保守業者", "vendor"]),
        ],
        (RecordKind::Accounts, "status") => &[
            ("enabled", &["有効", "使用中", "利用中", "enabled", "active"]),
            ("disabled", &["無効", "停止", "停止中", "休止", "disabled", "inactive"]),
            ("removed", &["削除", "削除済", "削除済み", "廃止", "removed", "deleted"]),
        ],
        (RecordKind::RemoteMaintenance, "method") => &[
            (
                "vpn",
                &[
                    "vpn",
                    "ipsec-vpn",
                    "ipsecvpn",
                    "ipsec",
                    "ssl-vpn",
                    "sslvpn",
                    "ip-vpn",
                    "インターネットvpn",
                    "vpn装置",
                    "vpn接続",
                ],
            ),
            ("rdp", &["rdp", "リモートデスクトップ", "リモートデスクトップ接続", "remotedesktop"]),
            ("teamviewer", &["teamviewer", "チームビューワー"]),
            ("anydesk", &["anydesk"]),
            ("ssh", &["ssh"]),
            ("other", &["その他", "専用線", "other"]),
        ],
        (RecordKind::MdsSds, "document") => &[
            ("mds", &["mds", "製造業者による医療情報セキュリティ開示書"]),
            ("sds", &["sds", "サービス事業者による医療情報セキュリティ開示書"]),
        ],
        _ => return None,
    })
}

/// A label matches as a header does: folded, and failing that without bracketed remarks
/// (`リモートデスクトップ（RDP）`, `VPN（IPsec）`).
fn lookup_choice(dict: Choices, raw: &str) -> Option<&'static str> {
    let (full, stripped) = crate::header::keys(raw);
    let find = |k: &str| dict.iter().find(|(_, labels)| labels.contains(&k)).map(|(v, _)| *v);
    find(&full).or_else(|| find(&stripped))
}

/// The key that identifies the record a row stands for, as `(which key, folded value)`:
/// assets by serial, else first MAC, else hostname, else name; staff by staff number, else
/// name and joining date; accounts by system and user name; vendors, segments and sites by
/// name; software by asset and name; contracts by vendor and title; remote maintenance by
/// vendor, asset and method; MDS/SDS by system, document and vendor. References take part
/// by id. `None` when a required part of the key is empty.
pub fn natural_key(row: &Row) -> Option<(&'static str, String)> {
    key_tags(row.kind).iter().find_map(|tag| key_value(row, tag).map(|v| (*tag, v)))
}

fn key_tags(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Assets => &["serial", "mac", "hostname", "name"],
        RecordKind::Staff => &["staff_number", "name+joined_on"],
        RecordKind::Accounts => &["system+username"],
        RecordKind::Vendors | RecordKind::Segments | RecordKind::Sites => &["name"],
        RecordKind::Software => &["asset_id+name"],
        RecordKind::Contracts => &["vendor_id+title"],
        RecordKind::RemoteMaintenance => &["vendor_id+asset_id+method"],
        RecordKind::MdsSds => &["system+document+vendor_id"],
    }
}

/// A key's value: its fields joined by U+001F. A required field must be present; an
/// optional one may be empty (a connection with no asset is its own key).
fn key_value(row: &Row, tag: &str) -> Option<String> {
    if tag == "mac" {
        return match row.get("mac_addresses") {
            Value::TextList(l) => l.first().map(|m| fold(m)),
            _ => None,
        };
    }
    let mut parts = Vec::new();
    for name in tag.split('+') {
        let part = match row.get(name) {
            Value::Text(s) if !s.trim().is_empty() => Some(fold(s)),
            Value::Ref(u) => Some(u.hyphenated().to_string()),
            Value::Date(d) => Some(d.to_string()),
            _ => None,
        };
        let required = row.kind.field(name).is_some_and(|f| f.required);
        match part {
            Some(p) => parts.push(p),
            None if required || parts.is_empty() => return None,
            None => parts.push(String::new()),
        }
    }
    Some(parts.join("\u{1f}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{Lang, enum_label};
    use mamori_domain::ledger::{
        AccountHolder, AccountStatus, AssetKind, Criticality, RemoteMethod, SecurityDisclosure,
    };

    #[test]
    fn every_exported_label_reads_back() {
        let codes: Vec<(RecordKind, &str, Vec<&str>)> = vec![
            (RecordKind::Assets, "kind", AssetKind::ALL.iter().map(|v| v.as_str()).collect()),
            (RecordKind::Assets, "criticality", Criticality::ALL.iter().map(|v| v.as_str()).collect()),
            (RecordKind::Accounts, "holder", AccountHolder::ALL.iter().map(|v| v.as_str()).collect()),
            (RecordKind::Accounts, "status", AccountStatus::ALL.iter().map(|v| v.as_str()).collect()),
            (RecordKind::RemoteMaintenance, "method", RemoteMethod::ALL.iter().map(|v| v.as_str()).collect()),
            (RecordKind::MdsSds, "document", SecurityDisclosure::ALL.iter().map(|v| v.as_str()).collect()),
        ];
        for (kind, field, values) in codes {
            for code in values {
                for lang in [Lang::Ja, Lang::En] {
                    let label = enum_label(kind, field, code, lang).unwrap();
                    let back = match choice(kind, field) {
                        Some(dict) => lookup_choice(dict, label),
                        None => parse_asset_kind(label).ok().map(|k| k.as_str()),
                    };
                    assert_eq!(back, Some(code), "{kind}.{field}: {label}");
                }
            }
        }
    }

    #[test]
    fn choice_labels_are_in_key_form() {
        for kind in RecordKind::ALL {
            for field in kind.fields() {
                for (_, labels) in choice(kind, field.name).unwrap_or(&[]) {
                    for l in *labels {
                        assert_eq!(crate::header::keys(l).0, *l, "{kind}.{}: {l}", field.name);
                    }
                }
            }
        }
    }

    #[test]
    fn timestamps_with_a_clock_time_are_jst() {
        let t = timestamp(&Cell::Text("2026/4/1 9:30".into())).unwrap();
        assert_eq!(t, time::macros::datetime!(2026-04-01 00:30 UTC));
        let t = timestamp(&Cell::Text("２０２６－０４－０１ ０９：３０：１５".into())).unwrap();
        assert_eq!(t, time::macros::datetime!(2026-04-01 00:30:15 UTC));
        let t = timestamp(&Cell::Text("令和8年4月1日".into())).unwrap();
        assert_eq!(t, time::macros::datetime!(2026-03-31 15:00 UTC));
        assert!(timestamp(&Cell::Text("2026/4/1 25:00".into())).is_err());
        assert_eq!(clock_time("9:30"), Time::from_hms(9, 30, 0).ok());
        assert_eq!(clock_time("9"), None);
        assert_eq!(clock_time("9:30:1:2"), None);
    }

    #[test]
    fn keys_of_the_new_ledgers() {
        let (a, v) = (RecordId::new(), RecordId::new());
        let mut sw = Row::new(RecordKind::Software, RecordId::new());
        sw.set("asset_id", Value::Ref(a.0)).set("name", Value::Text("Acrobat Reader".into()));
        assert_eq!(natural_key(&sw), Some(("asset_id+name", format!("{a}\u{1f}acrobat reader"))));
        sw.set("asset_id", Value::Null);
        assert_eq!(natural_key(&sw), None, "the asset is part of the key");
        let mut rm = Row::new(RecordKind::RemoteMaintenance, RecordId::new());
        rm.set("vendor_id", Value::Ref(v.0)).set("method", Value::Text("vpn".into()));
        assert_eq!(natural_key(&rm), Some(("vendor_id+asset_id+method", format!("{v}\u{1f}\u{1f}vpn"))));
        let mut m = Row::new(RecordKind::MdsSds, RecordId::new());
        m.set("system", Value::Text("電子カルテ".into())).set("document", Value::Text("mds".into()));
        assert_eq!(natural_key(&m), Some(("system+document+vendor_id", "電子カルテ\u{1f}mds\u{1f}".into())));
    }
}
