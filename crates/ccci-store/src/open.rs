//! Opening a store: connecting, refusing a store written by a newer ccci, and applying this
//! ccci's migrations (one process at a time).

use crate::db::{Db, Pool, Val};
use crate::{Location, Store, StoreError};
use ccci_core::host::FileLock;

use std::time::Duration;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How long a statement may wait for another process's hold on the store (SQLite's busy
/// wait, PostgreSQL's connect and statement timeouts): the deadline of every store call.
pub const STORE_WAIT: Duration = Duration::from_secs(30);

/// A key for PostgreSQL's advisory lock around migrations ("ccci" in ASCII).
const MIGRATION_LOCK: i64 = 0x6363_6369;

impl Store {
    /// Opens the store at `location`, making a SQLite file (and its directory) if missing,
    /// and brings it to this ccci's schema.
    ///
    /// # Errors
    /// The store cannot be reached or written, was written by a newer ccci, or a migration
    /// failed; each error names the store.
    pub fn open(location: &Location) -> Result<Store, StoreError> {
        let unavailable = |why: String| StoreError::Unavailable {
            location: location.to_string(),
            why,
        };
        let mut sqlite_lock = None;
        let db = match location {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| unavailable(format!("{}: {e}", dir.display())))?;
                }
                // Held from the first connection to the last migration: the first
                // connection switches a new file to WAL, which SQLite does without waiting
                // for a busy file (a store being migrated), so two processes opening a new
                // store at once take turns here as they do for the migrations.
                sqlite_lock = Some(take_lock(&lock_file(path))?);
                let path = path.clone();
                let location = location.to_string();
                let pool = Pool::open(move || {
                    let unavailable = |why: String| StoreError::Unavailable {
                        location: location.clone(),
                        why,
                    };
                    let conn = rusqlite::Connection::open(&path)
                        .map_err(|e| unavailable(e.to_string()))?;
                    conn.busy_timeout(STORE_WAIT)
                        .map_err(|e| unavailable(e.to_string()))?;
                    // Readers (the dashboard) go on while a run is recorded.
                    conn.pragma_update(None, "journal_mode", "WAL")
                        .map_err(|e| unavailable(e.to_string()))?;
                    conn.pragma_update(None, "synchronous", "NORMAL")
                        .map_err(|e| unavailable(e.to_string()))?;
                    Ok(conn)
                })?;
                Db::Sqlite(pool)
            }
            Location::Postgres(url) => {
                let mut config: postgres::Config = url
                    .parse()
                    .map_err(|e| unavailable(format!("not a PostgreSQL URL: {e}")))?;
                config.connect_timeout(STORE_WAIT);
                config.options(&format!("-c statement_timeout={}", STORE_WAIT.as_millis()));
                let location = location.to_string();
                let pool = Pool::open(move || {
                    config
                        .connect(postgres::NoTls)
                        .map_err(|e| StoreError::Unavailable {
                            location: location.clone(),
                            why: e.to_string(),
                        })
                })?;
                Db::Postgres(pool)
            }
        };
        let store = Store {
            db,
            location: location.clone(),
        };
        match sqlite_lock {
            Some(_held) => store.migrate_locked()?,
            None => store.migrate()?,
        }
        Ok(store)
    }

    /// Applies the migrations this ccci has and the store lacks, holding the store's
    /// migration lock so that processes opening a new store at once do not race.
    fn migrate(&self) -> Result<(), StoreError> {
        let _lock = match &self.location {
            Location::Sqlite(path) => Some(take_lock(&lock_file(path))?),
            Location::Postgres(_) => {
                self.db
                    .exec("SELECT pg_advisory_lock(?)", &[Val::Int(MIGRATION_LOCK)])?;
                None
            }
        };
        let result = self.migrate_locked();
        if let Location::Postgres(_) = self.location {
            let _ = self
                .db
                .exec("SELECT pg_advisory_unlock(?)", &[Val::Int(MIGRATION_LOCK)]);
        }
        result
    }

    fn migrate_locked(&self) -> Result<(), StoreError> {
        let runner = embedded::migrations::runner();
        let knows = runner
            .get_migrations()
            .iter()
            .map(|m| i64::from(m.version()))
            .max()
            .unwrap_or(0);
        let has = self.schema_version()?;
        if has > knows {
            return Err(StoreError::Newer {
                location: self.location.to_string(),
                has,
                knows,
            });
        }
        let failed = |e: refinery::Error| StoreError::Migration {
            location: self.location.to_string(),
            why: e.to_string(),
        };
        match &self.db {
            Db::Sqlite(pool) => {
                let mut c = pool.get()?;
                runner.run(&mut *c).map_err(failed)?;
            }
            Db::Postgres(pool) => {
                let mut c = pool.get()?;
                runner.run(&mut *c).map_err(failed)?;
            }
        }
        Ok(())
    }

    /// The newest migration the store has applied (0 for a new store).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let exists = match self.db {
            Db::Sqlite(_) => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history'",
            Db::Postgres(_) => "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'refinery_schema_history'",
        };
        let found = self.db.query(exists, &[])?;
        if found.first().map(|r| r.int("n")).transpose()?.unwrap_or(0) == 0 {
            return Ok(0);
        }
        let max = self.db.query(
            "SELECT MAX(version) AS version FROM refinery_schema_history",
            &[],
        )?;
        Ok(max
            .first()
            .map(|r| r.opt_int("version"))
            .transpose()?
            .flatten()
            .unwrap_or(0))
    }
}

/// Takes the store's migration lock on `path` ([`FileLock`]), waiting at most [`STORE_WAIT`].
/// The file a SQLite store's openers and migrators take turns on: `<store>.lock`.
fn lock_file(store: &std::path::Path) -> std::path::PathBuf {
    let mut file = store.to_path_buf().into_os_string();
    file.push(".lock");
    file.into()
}

fn take_lock(path: &std::path::Path) -> Result<FileLock, StoreError> {
    let deadline = std::time::Instant::now() + STORE_WAIT;
    loop {
        let taken = FileLock::try_take(path).map_err(|e| StoreError::Unavailable {
            location: path.display().to_string(),
            why: e.to_string(),
        })?;
        if let Some(lock) = taken {
            return Ok(lock);
        }
        if std::time::Instant::now() > deadline {
            return Err(StoreError::Unavailable {
                location: path.display().to_string(),
                why: format!(
                    "another process held the store's migration lock for {} s",
                    STORE_WAIT.as_secs()
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
