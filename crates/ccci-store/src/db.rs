//! One SQL dialect over two databases: statements are written once, with `?` placeholders
//! and only TEXT, BIGINT and DOUBLE PRECISION values ([`Val`]), and run on SQLite or
//! PostgreSQL alike (`?` becomes `$1, $2…` for PostgreSQL).

use crate::error::StoreError;
use postgres::types::{IsNull, ToSql, Type};
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// One row of an answer, its values read by column name: a column the answer lacks (a
/// statement and the schema drifted apart) is a schema error, never an empty value.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    names: std::sync::Arc<[String]>,
    vals: Vec<Val>,
}

impl Row {
    /// Column `name`'s value.
    fn at(&self, name: &str) -> Result<&Val, StoreError> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.vals.get(i))
            .ok_or_else(|| {
                StoreError::Schema(format!(
                    "the store's answer has no column `{name}` (it has {})",
                    self.names.join(", ")
                ))
            })
    }

    /// A value that must be there: a NULL in a column the schema fills is a schema error.
    fn required<T>(name: &str, v: Option<T>) -> Result<T, StoreError> {
        v.ok_or_else(|| {
            StoreError::Schema(format!(
                "column `{name}` is empty where the schema fills it"
            ))
        })
    }

    /// Column `name` as text, `None` for NULL.
    pub(crate) fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(match self.at(name)? {
            Val::Text(s) => Some(s.clone()),
            Val::Int(n) => Some(n.to_string()),
            _ => None,
        })
    }

    /// Column `name` as text, which must not be NULL.
    pub(crate) fn text(&self, name: &str) -> Result<String, StoreError> {
        Self::required(name, self.opt_text(name)?)
    }

    /// Column `name` as a whole number, `None` for NULL.
    pub(crate) fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(match self.at(name)? {
            Val::Int(n) => Some(*n),
            Val::Real(f) => Some(*f as i64),
            _ => None,
        })
    }

    /// Column `name` as a whole number, which must not be NULL.
    pub(crate) fn int(&self, name: &str) -> Result<i64, StoreError> {
        Self::required(name, self.opt_int(name)?)
    }

    /// Column `name` as a number, `None` for NULL.
    pub(crate) fn opt_real(&self, name: &str) -> Result<Option<f64>, StoreError> {
        Ok(match self.at(name)? {
            Val::Real(f) => Some(*f),
            Val::Int(n) => Some(*n as f64),
            _ => None,
        })
    }
}

/// How many connections one process keeps to the store's database.
pub(crate) const POOL: usize = 4;

/// A few connections to the store's database, each used by one question at a time: a
/// question takes one that is free, so the dashboard's reads never wait behind a worker's
/// long write on the same connection (SQLite's WAL lets readers go on beside a writer;
/// PostgreSQL serves each connection on its own). One is made at open; the others when first
/// needed.
pub(crate) struct Pool<C> {
    conns: Vec<Mutex<Option<C>>>,
    next: AtomicUsize,
    connect: Box<dyn Fn() -> Result<C, StoreError> + Send + Sync>,
}

impl<C> Pool<C> {
    /// A pool of [`POOL`] connections made by `connect`, the first of them now.
    pub(crate) fn open(
        connect: impl Fn() -> Result<C, StoreError> + Send + Sync + 'static,
    ) -> Result<Pool<C>, StoreError> {
        let first = connect()?;
        let mut conns = vec![Mutex::new(Some(first))];
        conns.extend((1..POOL).map(|_| Mutex::new(None)));
        Ok(Pool {
            conns,
            next: AtomicUsize::new(0),
            connect: Box::new(connect),
        })
    }

    /// A connection: a free one, else the next in turn once it is free.
    pub(crate) fn get(&self) -> Result<Conn<'_, C>, StoreError> {
        let free = self.conns.iter().find_map(|c| match c.try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        });
        let mut guard = match free {
            Some(g) => g,
            None => lock(&self.conns[self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len()]),
        };
        if guard.is_none() {
            *guard = Some((self.connect)()?);
        }
        Ok(Conn(guard))
    }

    /// A new connection in place of `c`'s (the server closed it).
    fn reconnect(&self, c: &mut Conn<'_, C>) -> Result<(), StoreError> {
        *c.0 = Some((self.connect)()?);
        Ok(())
    }
}

/// A connection taken from a [`Pool`], given back when dropped.
pub(crate) struct Conn<'a, C>(MutexGuard<'a, Option<C>>);

impl<C> std::ops::Deref for Conn<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.0
            .as_ref()
            .expect("a pool's connection is made before it is handed out")
    }
}

impl<C> std::ops::DerefMut for Conn<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        self.0
            .as_mut()
            .expect("a pool's connection is made before it is handed out")
    }
}

/// The store's database, through a [`Pool`] of connections.
pub(crate) enum Db {
    Sqlite(Pool<rusqlite::Connection>),
    Postgres(Pool<postgres::Client>),
}

/// Runs `call` on a PostgreSQL connection, connecting again when the server closed it
/// (restarted, or a network cut) and running it once more: a service keeps its store across
/// the database's restarts. A batch that failed that way was rolled back by the server.
fn on_postgres<T>(
    pool: &Pool<postgres::Client>,
    call: impl Fn(&mut postgres::Client) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut c = pool.get()?;
    if c.is_closed() {
        pool.reconnect(&mut c)?;
    }
    match call(&mut c) {
        Err(_) if c.is_closed() => {
            pool.reconnect(&mut c)?;
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
        matches!(self, Db::Postgres(_))
    }

    /// Runs a statement; returns how many rows it changed.
    pub(crate) fn exec(&self, sql: &str, args: &[Val]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite(pool) => {
                let c = pool.get()?;
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(args.iter()))? as u64)
            }
            Db::Postgres(pool) => {
                on_postgres(pool, |c| Ok(c.execute(&numbered(sql), &refs(args))?))
            }
        }
    }

    /// Runs a query; returns its rows.
    pub(crate) fn query(&self, sql: &str, args: &[Val]) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite(pool) => {
                let c = pool.get()?;
                let mut stmt = c.prepare_cached(sql)?;
                let width = stmt.column_count();
                let names: std::sync::Arc<[String]> =
                    stmt.column_names().iter().map(|n| n.to_string()).collect();
                let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    (0..width).map(|i| r.get_ref(i).map(from_sqlite)).collect()
                })?;
                Ok(rows
                    .collect::<Result<Vec<Vec<Val>>, _>>()?
                    .into_iter()
                    .map(|vals| Row {
                        names: names.clone(),
                        vals,
                    })
                    .collect())
            }
            Db::Postgres(pool) => on_postgres(pool, |c| {
                let rows = c.query(&numbered(sql), &refs(args))?;
                let names: std::sync::Arc<[String]> = rows.first().map_or_else(
                    || std::sync::Arc::from(Vec::new()),
                    |r| r.columns().iter().map(|c| c.name().to_string()).collect(),
                );
                rows.iter()
                    .map(|r| {
                        from_postgres(r).map(|vals| Row {
                            names: names.clone(),
                            vals,
                        })
                    })
                    .collect()
            }),
        }
    }

    /// Runs `stmts` in one transaction: all of them, or none.
    pub(crate) fn batch(&self, stmts: &[Stmt]) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => {
                let mut c = pool.get()?;
                let tx = c.transaction()?;
                for (sql, args) in stmts {
                    tx.prepare_cached(sql)?
                        .execute(rusqlite::params_from_iter(args.iter()))?;
                }
                Ok(tx.commit()?)
            }
            Db::Postgres(pool) => on_postgres(pool, |c| {
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

    /// A column is read by its name: one the answer lacks (a statement and the schema
    /// drifted apart) and a NULL where a value must be are schema errors, never empty values.
    #[test]
    fn a_column_is_read_by_name_and_a_missing_one_is_a_schema_error() {
        let db = Db::Sqlite(Pool::open(|| Ok(rusqlite::Connection::open_in_memory()?)).unwrap());
        let rows = db
            .query("SELECT 'x' AS name, 7 AS n, NULL AS gone", &[])
            .unwrap();
        let r = &rows[0];
        assert_eq!(r.text("name").unwrap(), "x");
        assert_eq!(r.int("n").unwrap(), 7);
        assert_eq!(r.opt_text("gone").unwrap(), None);
        let missing = r.text("renamed").unwrap_err();
        assert!(
            matches!(&missing, StoreError::Schema(m) if m.contains("no column `renamed`") && m.contains("name, n, gone")),
            "{missing}"
        );
        assert!(matches!(r.text("gone"), Err(StoreError::Schema(_))));
    }

    /// A question never waits behind another on a busy connection while one is free: a
    /// worker holding one (a long write) leaves the others to the dashboard.
    #[test]
    fn a_busy_connection_leaves_the_others_free() {
        let made = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = made.clone();
        let pool = Pool::open(move || Ok(counter.fetch_add(1, Ordering::SeqCst))).unwrap();
        let held = pool.get().unwrap();
        let other = pool.get().unwrap();
        assert_ne!(
            *held, *other,
            "a second connection, not a wait for the first"
        );
        drop(other);
        let again = pool.get().unwrap();
        assert_eq!(
            made.load(Ordering::SeqCst),
            2,
            "a free connection is used again"
        );
        drop((held, again));
        let all: Vec<_> = (0..POOL).map(|_| pool.get().unwrap()).collect();
        assert_eq!(all.len(), POOL);
    }

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
    }
}
