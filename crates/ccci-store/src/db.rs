//! One SQL dialect over two databases: statements are written once, with `?` placeholders
//! and only TEXT, BIGINT and DOUBLE PRECISION values ([`Val`]), and run on SQLite or
//! PostgreSQL alike (`?` becomes `$1, $2…` for PostgreSQL).

use crate::error::StoreError;
use postgres::types::{IsNull, ToSql, Type};
use std::sync::{Mutex, MutexGuard};

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(s.into())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Text(s)
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Val {
        Val::Int(i)
    }
}

impl From<f64> for Val {
    fn from(f: f64) -> Val {
        Val::Real(f)
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// One row of an answer.
#[derive(Debug, Clone)]
pub(crate) struct Row(Vec<Val>);

impl Row {
    /// Column `i` as text (`None` for NULL).
    pub(crate) fn text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Val::Text(s)) => Some(s.clone()),
            Some(Val::Int(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Column `i` as a whole number (`None` for NULL).
    pub(crate) fn int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Val::Int(n)) => Some(*n),
            Some(Val::Real(f)) => Some(*f as i64),
            _ => None,
        }
    }

    /// Column `i` as a number (`None` for NULL).
    pub(crate) fn real(&self, i: usize) -> Option<f64> {
        match self.0.get(i) {
            Some(Val::Real(f)) => Some(*f),
            Some(Val::Int(n)) => Some(*n as f64),
            _ => None,
        }
    }
}

/// A connection to the store's database. One at a time uses it.
pub(crate) enum Db {
    Sqlite(Mutex<rusqlite::Connection>),
    Postgres(Mutex<postgres::Client>, Box<postgres::Config>),
}

/// Runs `call` on the PostgreSQL connection, connecting again when the server closed it
/// (restarted, or a network cut) and running it once more: a service keeps its store across
/// the database's restarts. A batch that failed that way was rolled back by the server.
fn on_postgres<T>(
    client: &Mutex<postgres::Client>,
    config: &postgres::Config,
    call: impl Fn(&mut postgres::Client) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut c = lock(client);
    if c.is_closed() {
        *c = config.connect(postgres::NoTls)?;
    }
    match call(&mut c) {
        Err(_) if c.is_closed() => {
            *c = config.connect(postgres::NoTls)?;
            call(&mut c)
        }
        done => done,
    }
}

/// A statement and its values, for [`Db::batch`].
pub(crate) type Stmt = (&'static str, Vec<Val>);

impl Db {
    /// Whether this is PostgreSQL (for the few statements the two write differently).
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(..))
    }

    /// Runs a statement; returns how many rows it changed.
    pub(crate) fn exec(&self, sql: &str, args: &[Val]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite(c) => {
                let c = lock(c);
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(args.iter()))? as u64)
            }
            Db::Postgres(c, config) => {
                on_postgres(c, config, |c| Ok(c.execute(&numbered(sql), &refs(args))?))
            }
        }
    }

    /// Runs a query; returns its rows.
    pub(crate) fn query(&self, sql: &str, args: &[Val]) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite(c) => {
                let c = lock(c);
                let mut stmt = c.prepare_cached(sql)?;
                let width = stmt.column_count();
                let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    (0..width).map(|i| r.get_ref(i).map(from_sqlite)).collect()
                })?;
                Ok(rows
                    .collect::<Result<Vec<Vec<Val>>, _>>()?
                    .into_iter()
                    .map(Row)
                    .collect())
            }
            Db::Postgres(c, config) => on_postgres(c, config, |c| {
                c.query(&numbered(sql), &refs(args))?
                    .iter()
                    .map(|r| from_postgres(r).map(Row))
                    .collect()
            }),
        }
    }

    /// Runs `stmts` in one transaction: all of them, or none.
    pub(crate) fn batch(&self, stmts: &[Stmt]) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(c) => {
                let mut c = lock(c);
                let tx = c.transaction()?;
                for (sql, args) in stmts {
                    tx.prepare_cached(sql)?
                        .execute(rusqlite::params_from_iter(args.iter()))?;
                }
                Ok(tx.commit()?)
            }
            Db::Postgres(c, config) => on_postgres(c, config, |c| {
                let mut tx = c.transaction()?;
                for (sql, args) in stmts {
                    tx.execute(&numbered(sql), &refs(args))?;
                }
                Ok(tx.commit()?)
            }),
        }
    }
}

/// The connection, even after a thread panicked holding it: every statement is its own
/// transaction or batch, so nothing half-done is left in it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `sql` with its `?` placeholders numbered as PostgreSQL writes them. ccci's statements hold
/// no `?` in a string literal.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn refs(args: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> Val {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(i) => Val::Int(i),
        ValueRef::Real(f) => Val::Real(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => Val::Text(String::from_utf8_lossy(t).into()),
    }
}

fn from_postgres(row: &postgres::Row) -> Result<Vec<Val>, StoreError> {
    row.columns()
        .iter()
        .enumerate()
        .map(|(i, col)| {
            let ty = col.type_();
            Ok(if *ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)?
                    .map_or(Val::Null, Val::Int)
            } else if *ty == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)?
                    .map_or(Val::Null, |n| Val::Int(n.into()))
            } else if *ty == Type::FLOAT8 {
                row.try_get::<_, Option<f64>>(i)?
                    .map_or(Val::Null, Val::Real)
            } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
                row.try_get::<_, Option<String>>(i)?
                    .map_or(Val::Null, Val::Text)
            } else {
                return Err(StoreError::Schema(format!(
                    "column {} is of type {ty}, which the store does not use",
                    col.name()
                )));
            })
        })
        .collect()
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(i) => ValueRef::Integer(*i),
            Val::Real(f) => ValueRef::Real(*f),
            Val::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(i) => i.to_sql(ty, out),
            Val::Real(f) => f.to_sql(ty, out),
            Val::Text(s) => s.to_sql(ty, out),
        }
    }

    // Which Rust type a value has is known only at run time; the statements bind BIGINT
    // columns to whole numbers and TEXT to text, and PostgreSQL refuses anything else.
    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
    }
}
