//! What can go wrong with the run store, each naming the store and the way out.

use std::path::PathBuf;

/// An error of the run store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store's location is not one ccci reads.
    #[error("`{0}` is not a run store: give a SQLite file (a path, or sqlite:///path) or a postgres://user:password@host/database URL")]
    BadLocation(String),
    /// The store cannot be opened or reached.
    #[error("the run store {location} cannot be opened: {why}")]
    Unavailable {
        /// The store (its password hidden).
        location: String,
        /// Why.
        why: String,
    },
    /// The store was written by a newer ccci.
    #[error("the run store {location} was written by a newer ccci (its schema is at version {has}, this ccci knows up to {knows}): upgrade ccci, or point --database at another store")]
    Newer {
        /// The store (its password hidden).
        location: String,
        /// The store's schema version.
        has: i64,
        /// The newest this ccci knows.
        knows: i64,
    },
    /// Applying the store's migrations failed.
    #[error("the run store {location} could not be brought to this ccci's schema: {why}")]
    Migration {
        /// The store (its password hidden).
        location: String,
        /// refinery's error.
        why: String,
    },
    /// SQLite said no.
    #[error("the run store (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL said no.
    #[error("the run store (PostgreSQL): {0}")]
    Postgres(#[from] postgres::Error),
    /// The store holds something this ccci cannot read.
    #[error("the run store holds something this ccci cannot read: {0}")]
    Schema(String),
    /// A results.json that cannot be recorded.
    #[error("{}: {why}", path.display())]
    Results {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// An async caller's question got no answer ([`crate::on_thread`]).
    #[error("the run store gave no answer: {0}")]
    NoAnswer(String),
    /// No run of that id.
    #[error("no run `{0}` in the run store (`cargo ccci history` lists them)")]
    NoRun(String),
    /// A prefix that names several runs.
    #[error("`{prefix}` names {count} runs: give more of the run id")]
    Ambiguous {
        /// The prefix.
        prefix: String,
        /// How many runs it names.
        count: usize,
    },
}

impl StoreError {
    /// Whether the database refused a row because another holds its unique key (a second
    /// run of one recipe at a time, say): a decision of the store, not a failure.
    pub fn is_conflict(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::ConstraintViolation
            }
            StoreError::Postgres(e) => {
                e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            _ => false,
        }
    }
}
