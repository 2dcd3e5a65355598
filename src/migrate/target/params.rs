//! Bound parameters and text results across the three drivers.

use super::*;

/// The statements of an SQL file: comment lines dropped, then split on `;`.
pub(super) fn statements(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .split(';')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A bound parameter.
#[derive(Debug, Clone)]
pub enum Val {
    /// Text (or NULL).
    T(Option<String>),
    /// Integer.
    I(i64),
    /// Float.
    F(f64),
}

pub(super) fn pg_params(v: &[Val]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    v.iter()
        .map(|x| -> Box<dyn postgres::types::ToSql + Sync> {
            match x {
                Val::T(s) => Box::new(s.clone()),
                Val::I(i) => Box::new(*i),
                Val::F(f) => Box::new(*f),
            }
        })
        .collect()
}

pub(super) fn my_params(v: &[Val]) -> Vec<mysql::Value> {
    v.iter()
        .map(|x| match x {
            Val::T(None) => mysql::Value::NULL,
            Val::T(Some(s)) => s.as_str().into(),
            Val::I(i) => (*i).into(),
            Val::F(f) => (*f).into(),
        })
        .collect()
}

pub(super) fn lite_params(v: &[Val]) -> Vec<rusqlite::types::Value> {
    v.iter()
        .map(|x| match x {
            Val::T(None) => rusqlite::types::Value::Null,
            Val::T(Some(s)) => rusqlite::types::Value::Text(s.clone()),
            Val::I(i) => rusqlite::types::Value::Integer(*i),
            Val::F(f) => rusqlite::types::Value::Real(*f),
        })
        .collect()
}

pub(super) fn my_text(v: mysql::Value) -> Option<String> {
    match v {
        mysql::Value::NULL => None,
        mysql::Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        mysql::Value::Int(i) => Some(i.to_string()),
        mysql::Value::UInt(i) => Some(i.to_string()),
        mysql::Value::Float(f) => Some(f.to_string()),
        mysql::Value::Double(f) => Some(f.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

pub(super) fn lite_text(v: rusqlite::types::Value) -> Option<String> {
    match v {
        rusqlite::types::Value::Null => None,
        rusqlite::types::Value::Integer(i) => Some(i.to_string()),
        rusqlite::types::Value::Real(f) => Some(f.to_string()),
        rusqlite::types::Value::Text(s) => Some(s),
        rusqlite::types::Value::Blob(b) => Some(String::from_utf8_lossy(&b).into_owned()),
    }
}

pub(super) trait PgText {
    fn simple_query_or_typed(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Vec<Option<String>>>, postgres::Error>;
}

impl PgText for postgres::Client {
    /// Runs a query with every output column cast to text by the server.
    fn simple_query_or_typed(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Vec<Option<String>>>, postgres::Error> {
        let stmt = self.prepare(sql)?;
        let n = stmt.columns().len();
        let wrapped = format!(
            "SELECT {} FROM ({sql}) AS reckon_t",
            (0..n)
                .map(|i| format!("{}::text", quote_ident(stmt.columns()[i].name(), false)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = self.query(&wrapped, params)?;
        Ok(rows
            .iter()
            .map(|r| (0..n).map(|i| r.get::<_, Option<String>>(i)).collect())
            .collect())
    }
}
