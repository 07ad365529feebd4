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

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mamori_domain::RecordId;
use mamori_domain::ledger::check_cidr;
use mamori_domain::record::{FieldType, RecordError, RecordKind, Row, Value};
use time::{OffsetDateTime, Time, UtcOffset};

use crate::header::{HeaderMatch, find_sheet};
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
}

/// Why no plan could be made. `code()` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no sheet has a header for the {kind} ledger")]
    NoHeader { kind: RecordKind },
}

impl PlanError {
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::NoHeader { .. } => "no-header",
        }
    }
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
    let (index, header) = find_sheet(sheets, kind).ok_or(PlanError::NoHeader { kind })?;
    let sheet = &sheets[index];
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
    let mut rows = Vec::new();
    let mut seen_keys: HashMap<(&'static str, String), usize> = HashMap::new();
    let mut seen_ids: HashMap<RecordId, usize> = HashMap::new();

    for r in header.data_start..sheet.rows.len() {
        let cells = &sheet.rows[r];
        if skip_row(cells, &header) {
            continue;
        }
        let source_row = r + 1;
        let mut ctx = RowCtx { sheet: &sheet.name, row: source_row, problems: Vec::new() };
        let (values, unresolved) = convert_row(sheet, r, kind, &header, refs, &mut ctx);

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
                    if !unresolved.contains(f) {
                        row.set(f, values.get(f).cloned().unwrap_or(Value::Null));
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
    Ok(Plan {
        kind,
        sheet: sheet.name.clone(),
        header_row: header.row + 1,
        columns: header.columns,
        unmapped: header.unmapped,
        rows,
        problems,
    })
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
    sheet: &Sheet,
    r: usize,
    kind: RecordKind,
    header: &HeaderMatch,
    refs: &References,
    ctx: &mut RowCtx<'_>,
) -> (BTreeMap<&'static str, Value>, BTreeSet<&'static str>) {
    let mut values: BTreeMap<&'static str, Value> = BTreeMap::new();
    let mut unresolved = BTreeSet::new();
    for &(col, name) in &header.columns {
        let Some(field) = kind.field(name) else { continue };
        let cell = sheet.cell(r, col);
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
    if let Cell::Text(s) = cell
        && let Ok(t) = mamori_domain::time_fmt::parse(&normalize::text(s))
    {
        return Ok(t);
    }
    let day = parse_date(cell).map_err(|p| p.code())?;
    Ok(day.midnight().assume_offset(jst))
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
            ("person", &["個人", "本人", "職員", "person", "personal"]),
            ("shared", &["共有", "共用", "shared"]),
            ("service", &["サービス", "システム", "サービスアカウント", "service", "system"]),
            ("vendor", &["事業者", "業者", "ベンダー", "保守業者", "vendor"]),
        ],
        (RecordKind::Accounts, "status") => &[
            ("enabled", &["有効", "使用中", "利用中", "enabled", "active"]),
            ("disabled", &["無効", "停止", "停止中", "休止", "disabled", "inactive"]),
            ("removed", &["削除", "削除済", "削除済み", "廃止", "removed", "deleted"]),
        ],
        (RecordKind::RemoteMaintenance, "method") => &[
            ("vpn", &["vpn", "ipsec-vpn", "ssl-vpn"]),
            ("rdp", &["rdp", "リモートデスクトップ"]),
            ("teamviewer", &["teamviewer"]),
            ("anydesk", &["anydesk"]),
            ("ssh", &["ssh"]),
            ("other", &["その他", "other"]),
        ],
        (RecordKind::MdsSds, "document") => &[("mds", &["mds"]), ("sds", &["sds"])],
        _ => return None,
    })
}

fn lookup_choice(dict: Choices, raw: &str) -> Option<&'static str> {
    let k: String = fold(raw).chars().filter(|c| !c.is_whitespace()).collect();
    dict.iter().find(|(_, labels)| labels.iter().any(|l| *l == k)).map(|(v, _)| *v)
}

/// The key that identifies the record a row stands for, as `(which key, folded value)`:
/// assets by serial, else first MAC, else hostname, else name; staff by staff number, else
/// name and joining date; accounts by system and user name; vendors, segments and sites by
/// name; other ledgers by their required text fields. `None` when the row has no key.
pub fn natural_key(row: &Row) -> Option<(&'static str, String)> {
    key_tags(row.kind).iter().find_map(|tag| key_value(row, tag).map(|v| (*tag, v)))
}

fn key_tags(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Assets => &["serial", "mac", "hostname", "name"],
        RecordKind::Staff => &["staff_number", "name+joined_on"],
        RecordKind::Accounts => &["system+username"],
        RecordKind::Vendors | RecordKind::Segments | RecordKind::Sites => &["name"],
        _ => &["required"],
    }
}

fn key_value(row: &Row, tag: &str) -> Option<String> {
    let text = |f: &str| match row.get(f) {
        Value::Text(s) if !s.trim().is_empty() => Some(fold(s)),
        _ => None,
    };
    match tag {
        "mac" => match row.get("mac_addresses") {
            Value::TextList(l) => l.first().map(|m| fold(m)),
            _ => None,
        },
        "name+joined_on" => {
            let joined = match row.get("joined_on") {
                Value::Date(d) => d.to_string(),
                _ => String::new(),
            };
            text("name").map(|n| format!("{n}\u{1f}{joined}"))
        }
        "system+username" => Some(format!("{}\u{1f}{}", text("system")?, text("username")?)),
        "required" => {
            let parts: Vec<String> = row
                .kind
                .fields()
                .iter()
                .filter(|f| f.required && f.ty == FieldType::Text)
                .map(|f| text(f.name).unwrap_or_default())
                .collect();
            (!parts.is_empty() && parts.iter().any(|p| !p.is_empty())).then(|| parts.join("\u{1f}"))
        }
        f => text(f),
    }
}
