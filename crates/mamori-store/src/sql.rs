//! SQL text shared by both backends. Table and column names come only from the fixed
//! descriptors in `mamori_domain::record`, never from input; values are always bound.
//! Placeholders are `$1, $2, …` in order of appearance, which SQLite and PostgreSQL both take.

use crate::StoreError;
use mamori_domain::record::{FieldType, RecordKind, Value};

/// Where the backends' SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

pub(crate) struct Placeholders(usize);

impl Placeholders {
    pub fn new() -> Self {
        Self(0)
    }
    pub fn next(&mut self) -> String {
        self.0 += 1;
        format!("${}", self.0)
    }
}

pub(crate) fn columns(kind: RecordKind) -> String {
    let mut cols = vec!["id"];
    cols.extend(kind.fields().iter().map(|f| f.name));
    cols.join(", ")
}

pub(crate) fn select_one(kind: RecordKind) -> String {
    format!("SELECT {} FROM {} WHERE institution_id = $1 AND id = $2", columns(kind), kind.table())
}

/// `INSERT` binding: id, institution_id, every field, created_at, updated_at.
pub(crate) fn insert(kind: RecordKind) -> String {
    let mut p = Placeholders::new();
    let names: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
    let n = names.len() + 4;
    let values: Vec<String> = (0..n).map(|_| p.next()).collect();
    format!(
        "INSERT INTO {} (id, institution_id, {}, created_at, updated_at) VALUES ({})",
        kind.table(),
        names.join(", "),
        values.join(", ")
    )
}

/// `UPDATE` binding: every field, updated_at, then institution_id and id.
pub(crate) fn update(kind: RecordKind) -> String {
    let mut p = Placeholders::new();
    let sets: Vec<String> = kind.fields().iter().map(|f| format!("{} = {}", f.name, p.next())).collect();
    let updated = p.next();
    let inst = p.next();
    let id = p.next();
    format!(
        "UPDATE {} SET {}, updated_at = {updated} WHERE institution_id = {inst} AND id = {id}",
        kind.table(),
        sets.join(", ")
    )
}

pub(crate) fn delete(kind: RecordKind) -> String {
    format!("DELETE FROM {} WHERE institution_id = $1 AND id = $2", kind.table())
}

pub(crate) fn count(kind: RecordKind) -> String {
    format!("SELECT COUNT(*) FROM {} WHERE institution_id = $1", kind.table())
}

/// A validated listing: SQL plus the filter values to bind after the institution id.
pub(crate) struct ListSql {
    pub sql: String,
    pub binds: Vec<Value>,
    pub limit: i64,
    pub offset: i64,
}

/// The `WHERE` clause of a listing (institution, equality filters, text search) and the
/// values to bind after the institution id.
fn filter(
    kind: RecordKind,
    q: &crate::RecordQuery,
    dialect: Dialect,
    p: &mut Placeholders,
) -> Result<(String, Vec<Value>), StoreError> {
    let mut sql = format!(" WHERE institution_id = {}", p.next());
    let mut binds = Vec::new();
    for (name, value) in &q.filters {
        let field = kind
            .field(name)
            .ok_or_else(|| StoreError::Invalid(format!("{kind} has no field {name:?} to filter on")))?;
        if field.ty == FieldType::TextList {
            return Err(StoreError::Invalid(format!("{kind}.{name} is a list and cannot be filtered by equality")));
        }
        if value.is_null() {
            sql.push_str(&format!(" AND {} IS NULL", field.name));
        } else if value.fits(field.ty) {
            sql.push_str(&format!(" AND {} = {}", field.name, p.next()));
            binds.push(value.clone());
        } else {
            return Err(StoreError::Invalid(format!("{kind}.{name}: filter value has the wrong type")));
        }
    }
    if let Some(term) = q.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        // One bound pattern per text column; `\` escapes the user's own % and _.
        let pattern = format!("%{}%", term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let mut any = Vec::new();
        for f in kind.fields().iter().filter(|f| matches!(f.ty, FieldType::Text | FieldType::TextList)) {
            let column = match (dialect, f.ty) {
                (Dialect::Postgres, FieldType::TextList) => format!("array_to_string({}, ' ')", f.name),
                _ => f.name.to_owned(),
            };
            let like = if dialect == Dialect::Postgres { "ILIKE" } else { "LIKE" };
            any.push(format!("{column} {like} {} ESCAPE '\\'", p.next()));
            binds.push(Value::Text(pattern.clone()));
        }
        if !any.is_empty() {
            sql.push_str(&format!(" AND ({})", any.join(" OR ")));
        }
    }
    Ok((sql, binds))
}

/// `SELECT COUNT(*)` over what [`list`] would return without its limit.
pub(crate) fn count_matching(
    kind: RecordKind,
    q: &crate::RecordQuery,
    dialect: Dialect,
) -> Result<(String, Vec<Value>), StoreError> {
    let mut p = Placeholders::new();
    let (filter, binds) = filter(kind, q, dialect, &mut p)?;
    Ok((format!("SELECT COUNT(*) FROM {}{filter}", kind.table()), binds))
}

/// Both backends sort the same: text by code point (PostgreSQL would otherwise follow the
/// database's collation) and NULL before every value, as SQLite does.
pub(crate) fn list(kind: RecordKind, q: &crate::RecordQuery, dialect: Dialect) -> Result<ListSql, StoreError> {
    let mut p = Placeholders::new();
    let (filter, binds) = filter(kind, q, dialect, &mut p)?;
    let mut sql = format!("SELECT {} FROM {}{filter}", columns(kind), kind.table());
    let (order, ty) = match q.order_by.as_deref() {
        None => ("created_at", FieldType::Timestamp),
        Some(o @ ("created_at" | "updated_at")) => (o, FieldType::Timestamp),
        Some(o) => kind
            .field(o)
            .filter(|f| f.ty != FieldType::TextList)
            .map(|f| (f.name, f.ty))
            .ok_or_else(|| StoreError::Invalid(format!("{kind} cannot be sorted by {o:?}")))?,
    };
    let dir = if q.descending { "DESC" } else { "ASC" };
    let (collate, nulls) = match dialect {
        Dialect::Sqlite => ("", ""),
        Dialect::Postgres => (
            if ty == FieldType::Text { " COLLATE \"C\"" } else { "" },
            if q.descending { " NULLS LAST" } else { " NULLS FIRST" },
        ),
    };
    sql.push_str(&format!(" ORDER BY {order}{collate} {dir}{nulls}, id {dir} LIMIT {} OFFSET {}", p.next(), p.next()));
    Ok(ListSql { sql, binds, limit: q.limit.map_or(i64::MAX, i64::from), offset: i64::from(q.offset) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecordQuery;

    #[test]
    fn insert_and_update_bind_every_field() {
        let k = RecordKind::Sites;
        assert_eq!(
            insert(k),
            "INSERT INTO sites (id, institution_id, name, address, notes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        );
        assert_eq!(
            update(k),
            "UPDATE sites SET name = $1, address = $2, notes = $3, updated_at = $4 WHERE institution_id = $5 AND id = $6"
        );
    }

    #[test]
    fn list_rejects_unknown_names() {
        let q = RecordQuery { order_by: Some("name; DROP TABLE sites".into()), ..Default::default() };
        assert!(list(RecordKind::Sites, &q, Dialect::Sqlite).is_err());
        let q = RecordQuery { filters: vec![("nope".into(), Value::Null)], ..Default::default() };
        assert!(list(RecordKind::Sites, &q, Dialect::Sqlite).is_err());
        let q = RecordQuery {
            filters: vec![("name".into(), Value::Text("本院".into())), ("address".into(), Value::Null)],
            order_by: Some("name".into()),
            descending: true,
            ..Default::default()
        };
        let l = list(RecordKind::Sites, &q, Dialect::Sqlite).unwrap();
        let pg = list(RecordKind::Sites, &q, Dialect::Postgres).unwrap();
        assert!(pg.sql.contains("ORDER BY name COLLATE \"C\" DESC NULLS LAST, id DESC"), "{}", pg.sql);
        assert!(l.sql.ends_with("WHERE institution_id = $1 AND name = $2 AND address IS NULL ORDER BY name DESC, id DESC LIMIT $3 OFFSET $4"), "{}", l.sql);
    }
}
