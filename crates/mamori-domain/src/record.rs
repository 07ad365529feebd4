//! Ledger records as rows of typed values.
//!
//! Every ledger (機器台帳, ソフトウェア台帳, 職員名簿, …) is a [`RecordKind`] with a fixed list of
//! [`Field`]s. Typed structs (`Asset`, `Person`, …) convert to and from [`Row`], so the
//! store, the importers and the exporters handle every ledger through one path while the
//! analysers work with real types. Field names are also the database column names.

use crate::RecordId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use time::{Date, OffsetDateTime};

/// The type of one field. Each backend maps it to its own column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Int,
    Bool,
    Date,
    Timestamp,
    /// A reference to another record (or evidence) of the same institution.
    Ref,
    /// A list of short strings (IP addresses, MAC addresses, CIDRs).
    TextList,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: bool,
    /// For [`FieldType::Ref`]: the table referred to.
    pub refers_to: Option<&'static str>,
}

/// A `&'static` slice of field descriptors built by const fns.
macro_rules! fields {
    ([$($e:expr),+ $(,)?]) => {{
        const F: &[Field] = &[$($e),+];
        F
    }};
}

const fn f(name: &'static str, ty: FieldType) -> Field {
    Field { name, ty, required: false, refers_to: None }
}
const fn req(name: &'static str, ty: FieldType) -> Field {
    Field { name, ty, required: true, refers_to: None }
}
const fn r(name: &'static str, table: &'static str) -> Field {
    Field { name, ty: FieldType::Ref, required: false, refers_to: Some(table) }
}
const fn req_r(name: &'static str, table: &'static str) -> Field {
    Field { name, ty: FieldType::Ref, required: true, refers_to: Some(table) }
}

/// One value of a field. `Null` is an empty cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    Date(Date),
    Timestamp(#[serde(with = "time::serde::rfc3339")] OffsetDateTime),
    Ref(uuid::Uuid),
    TextList(Vec<String>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this value may be stored in a field of type `ty`.
    pub fn fits(&self, ty: FieldType) -> bool {
        matches!(
            (self, ty),
            (Value::Null, _)
                | (Value::Text(_), FieldType::Text)
                | (Value::Int(_), FieldType::Int)
                | (Value::Bool(_), FieldType::Bool)
                | (Value::Date(_), FieldType::Date)
                | (Value::Timestamp(_), FieldType::Timestamp)
                | (Value::Ref(_), FieldType::Ref)
                | (Value::TextList(_), FieldType::TextList)
        )
    }

    /// A plain JSON form for the audit log and the API.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Text(s) => J::String(s.clone()),
            Value::Int(i) => J::from(*i),
            Value::Bool(b) => J::Bool(*b),
            Value::Date(d) => J::String(d.to_string()),
            Value::Timestamp(t) => J::String(crate::time_fmt::format(*t)),
            Value::Ref(u) => J::String(u.hyphenated().to_string()),
            Value::TextList(l) => J::from(l.clone()),
        }
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::Null, Value::Text)
    }
}
impl From<Option<Date>> for Value {
    fn from(v: Option<Date>) -> Self {
        v.map_or(Value::Null, Value::Date)
    }
}
impl From<Option<OffsetDateTime>> for Value {
    fn from(v: Option<OffsetDateTime>) -> Self {
        v.map_or(Value::Null, |t| Value::Timestamp(crate::time_fmt::canonical(t)))
    }
}
impl From<Option<RecordId>> for Value {
    fn from(v: Option<RecordId>) -> Self {
        v.map_or(Value::Null, |id| Value::Ref(id.0))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}

/// The ledgers mamori keeps. The string forms are their stable names (the audit log's
/// object kinds, and the names the CLI and API use for ledgers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordKind {
    Sites,
    Segments,
    Assets,
    Software,
    Staff,
    Accounts,
    Vendors,
    Contracts,
    RemoteMaintenance,
    MdsSds,
}

impl RecordKind {
    /// In dependency order: a kind only refers to kinds before it.
    pub const ALL: [RecordKind; 10] = [
        Self::Sites,
        Self::Vendors,
        Self::Segments,
        Self::Staff,
        Self::Assets,
        Self::Software,
        Self::Accounts,
        Self::Contracts,
        Self::RemoteMaintenance,
        Self::MdsSds,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sites => "sites",
            Self::Segments => "segments",
            Self::Assets => "assets",
            Self::Software => "software",
            Self::Staff => "staff",
            Self::Accounts => "accounts",
            Self::Vendors => "vendors",
            Self::Contracts => "contracts",
            Self::RemoteMaintenance => "remote-maintenance",
            Self::MdsSds => "mds-sds",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The database table. Not user input: a fixed identifier per kind.
    pub fn table(self) -> &'static str {
        match self {
            Self::Sites => "sites",
            Self::Segments => "network_segments",
            Self::Assets => "assets",
            Self::Software => "software",
            Self::Staff => "persons",
            Self::Accounts => "accounts",
            Self::Vendors => "vendors",
            Self::Contracts => "contracts",
            Self::RemoteMaintenance => "remote_maintenance",
            Self::MdsSds => "mds_sds",
        }
    }

    pub fn from_table(table: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.table() == table)
    }

    pub fn fields(self) -> &'static [Field] {
        use FieldType::*;
        match self {
            Self::Sites => fields!([req("name", Text), f("address", Text), f("notes", Text)]),
            Self::Segments => fields!([
                req("name", Text),
                r("site_id", "sites"),
                req("cidrs", TextList),
                f("purpose", Text),
                f("vlan", Int),
                f("notes", Text),
            ]),
            Self::Assets => fields!([
                req("kind", Text),
                req("name", Text),
                f("hostname", Text),
                r("site_id", "sites"),
                r("segment_id", "network_segments"),
                f("maker", Text),
                f("model", Text),
                f("serial", Text),
                f("location", Text),
                f("department", Text),
                f("ip_addresses", TextList),
                f("mac_addresses", TextList),
                f("os_name", Text),
                f("os_version", Text),
                f("firmware_version", Text),
                f("criticality", Text),
                f("fragile", Bool),
                f("owner", Text),
                r("maintenance_vendor_id", "vendors"),
                f("maintenance_until", Date),
                f("notes", Text),
            ]),
            Self::Software => fields!([
                req_r("asset_id", "assets"),
                req("name", Text),
                f("publisher", Text),
                f("version", Text),
                f("cpe", Text),
                f("end_of_life", Date),
                f("notes", Text),
            ]),
            Self::Staff => fields!([
                req("name", Text),
                f("name_kana", Text),
                f("staff_number", Text),
                f("department", Text),
                f("job_title", Text),
                f("email", Text),
                f("joined_on", Date),
                f("retired_on", Date),
                f("notes", Text),
            ]),
            Self::Accounts => fields!([
                req("system", Text),
                req("username", Text),
                r("asset_id", "assets"),
                req("holder", Text),
                r("person_id", "persons"),
                r("vendor_id", "vendors"),
                f("role", Text),
                f("privileged", Bool),
                f("mfa", Bool),
                f("last_login_at", Timestamp),
                req("status", Text),
                f("notes", Text),
            ]),
            Self::Vendors => fields!([
                req("name", Text),
                f("service", Text),
                f("contact_name", Text),
                f("phone", Text),
                f("email", Text),
                f("emergency_contact", Text),
                f("address", Text),
                f("notes", Text),
            ]),
            Self::Contracts => fields!([
                req_r("vendor_id", "vendors"),
                req("title", Text),
                f("scope", Text),
                f("starts_on", Date),
                f("ends_on", Date),
                f("responsibility", Text),
                f("notes", Text),
            ]),
            Self::RemoteMaintenance => fields!([
                req_r("vendor_id", "vendors"),
                r("asset_id", "assets"),
                req("method", Text),
                f("authentication", Text),
                f("source_restriction", Text),
                f("approval_rule", Text),
                f("confirmed_on", Date),
                f("last_used_at", Timestamp),
                f("notes", Text),
            ]),
            Self::MdsSds => fields!([
                req("system", Text),
                r("vendor_id", "vendors"),
                req("document", Text),
                f("version", Text),
                f("received_on", Date),
                r("evidence_id", "evidence"),
                f("notes", Text),
            ]),
        }
    }

    pub fn field(self, name: &str) -> Option<&'static Field> {
        self.fields().iter().find(|f| f.name == name)
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One record as field values. Fields not present are `Null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub kind: RecordKind,
    pub id: RecordId,
    pub values: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("{kind}: unknown field {field}")]
    UnknownField { kind: RecordKind, field: String },
    #[error("{kind}.{field}: value does not fit a {expected:?} field")]
    WrongType { kind: RecordKind, field: &'static str, expected: FieldType },
    #[error("{kind}.{field} is required")]
    Missing { kind: RecordKind, field: &'static str },
    #[error("{kind}.{field}: {reason}")]
    Invalid { kind: RecordKind, field: &'static str, reason: String },
}

impl Row {
    pub fn new(kind: RecordKind, id: RecordId) -> Self {
        Self { kind, id, values: BTreeMap::new() }
    }

    /// Sets a field; setting `Null` clears it, so two rows with the same content are equal
    /// however they were built.
    pub fn set(&mut self, field: &str, v: impl Into<Value>) -> &mut Self {
        match v.into() {
            Value::Null => self.values.remove(field),
            v => self.values.insert(field.to_owned(), v),
        };
        self
    }

    pub fn get(&self, field: &str) -> &Value {
        self.values.get(field).unwrap_or(&Value::Null)
    }

    /// Every field is known, of the right type, and required fields are present.
    pub fn validate(&self) -> Result<(), RecordError> {
        for name in self.values.keys() {
            if self.kind.field(name).is_none() {
                return Err(RecordError::UnknownField { kind: self.kind, field: name.clone() });
            }
        }
        for field in self.kind.fields() {
            let v = self.get(field.name);
            // NUL is never meaningful in a ledger and PostgreSQL cannot store it in text.
            let has_nul = match v {
                Value::Text(s) => s.contains('\0'),
                Value::TextList(l) => l.iter().any(|s| s.contains('\0')),
                _ => false,
            };
            if has_nul {
                return Err(RecordError::Invalid {
                    kind: self.kind,
                    field: field.name,
                    reason: "contains a NUL character".into(),
                });
            }
            if !v.fits(field.ty) {
                return Err(RecordError::WrongType { kind: self.kind, field: field.name, expected: field.ty });
            }
            let empty = match v {
                Value::Null => true,
                Value::Text(s) => s.trim().is_empty(),
                Value::TextList(l) => l.is_empty(),
                _ => false,
            };
            if field.required && empty {
                return Err(RecordError::Missing { kind: self.kind, field: field.name });
            }
        }
        Ok(())
    }

    pub fn text(&self, field: &'static str) -> Result<Option<String>, RecordError> {
        match self.get(field) {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            _ => Err(self.wrong(field, FieldType::Text)),
        }
    }

    pub fn req_text(&self, field: &'static str) -> Result<String, RecordError> {
        self.text(field)?.ok_or(RecordError::Missing { kind: self.kind, field })
    }

    pub fn int(&self, field: &'static str) -> Result<Option<i64>, RecordError> {
        match self.get(field) {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            _ => Err(self.wrong(field, FieldType::Int)),
        }
    }

    pub fn bool(&self, field: &'static str) -> Result<Option<bool>, RecordError> {
        match self.get(field) {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            _ => Err(self.wrong(field, FieldType::Bool)),
        }
    }

    pub fn date(&self, field: &'static str) -> Result<Option<Date>, RecordError> {
        match self.get(field) {
            Value::Null => Ok(None),
            Value::Date(d) => Ok(Some(*d)),
            _ => Err(self.wrong(field, FieldType::Date)),
        }
    }

    pub fn timestamp(&self, field: &'static str) -> Result<Option<OffsetDateTime>, RecordError> {
        match self.get(field) {
            Value::Null => Ok(None),
            Value::Timestamp(t) => Ok(Some(*t)),
            _ => Err(self.wrong(field, FieldType::Timestamp)),
        }
    }

    pub fn reference(&self, field: &'static str) -> Result<Option<RecordId>, RecordError> {
        match self.get(field) {
            Value::Null => Ok(None),
            Value::Ref(u) => Ok(Some(RecordId(*u))),
            _ => Err(self.wrong(field, FieldType::Ref)),
        }
    }

    pub fn req_reference(&self, field: &'static str) -> Result<RecordId, RecordError> {
        self.reference(field)?.ok_or(RecordError::Missing { kind: self.kind, field })
    }

    pub fn list(&self, field: &'static str) -> Result<Vec<String>, RecordError> {
        match self.get(field) {
            Value::Null => Ok(Vec::new()),
            Value::TextList(l) => Ok(l.clone()),
            _ => Err(self.wrong(field, FieldType::TextList)),
        }
    }

    fn wrong(&self, field: &'static str, expected: FieldType) -> RecordError {
        RecordError::WrongType { kind: self.kind, field, expected }
    }

    /// The fields whose values differ from `old`, as `{field: [old, new]}` for the audit log.
    pub fn diff(&self, old: &Row) -> serde_json::Map<String, serde_json::Value> {
        let mut out = serde_json::Map::new();
        for field in self.kind.fields() {
            let (a, b) = (old.get(field.name), self.get(field.name));
            if a != b {
                out.insert(field.name.to_owned(), serde_json::json!([a.to_json(), b.to_json()]));
            }
        }
        out
    }

    /// All non-null fields as JSON, for the audit entry of a new record.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.values.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.to_json())).collect()
    }
}

/// A typed ledger record.
pub trait Record: Sized {
    const KIND: RecordKind;
    fn id(&self) -> RecordId;
    fn to_row(&self) -> Row;
    fn from_row(row: &Row) -> Result<Self, RecordError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_refer_only_backwards() {
        let mut seen = vec!["evidence"];
        for kind in RecordKind::ALL {
            assert_eq!(RecordKind::parse(kind.as_str()), Some(kind));
            assert_eq!(RecordKind::from_table(kind.table()), Some(kind));
            for field in kind.fields() {
                assert_eq!(field.ty == FieldType::Ref, field.refers_to.is_some(), "{kind}.{}", field.name);
                if let Some(t) = field.refers_to {
                    assert!(seen.contains(&t), "{kind}.{} refers forward to {t}", field.name);
                }
            }
            seen.push(kind.table());
        }
    }

    #[test]
    fn validate_rejects_unknown_wrong_type_and_missing() {
        let mut row = Row::new(RecordKind::Sites, RecordId::new());
        assert!(matches!(row.validate(), Err(RecordError::Missing { field: "name", .. })));
        row.set("name", Value::Text("   ".into()));
        assert!(matches!(row.validate(), Err(RecordError::Missing { field: "name", .. })));
        row.set("name", Value::Int(3));
        assert!(matches!(row.validate(), Err(RecordError::WrongType { field: "name", .. })));
        row.set("name", Value::Text("本院".into()));
        row.set("colour", Value::Text("red".into()));
        assert!(matches!(row.validate(), Err(RecordError::UnknownField { .. })));
        row.values.remove("colour");
        assert_eq!(row.validate(), Ok(()));
        row.set("notes", Value::Text("a\0b".into()));
        assert!(matches!(row.validate(), Err(RecordError::Invalid { field: "notes", .. })));
    }

    #[test]
    fn diff_lists_changed_fields_only() {
        let mut a = Row::new(RecordKind::Sites, RecordId::new());
        a.set("name", Value::Text("本院".into()));
        let mut b = a.clone();
        b.set("address", Value::Text("東京都".into()));
        let d = b.diff(&a);
        assert_eq!(d.len(), 1);
        assert_eq!(d["address"], serde_json::json!([null, "東京都"]));
    }
}
