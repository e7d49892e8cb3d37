//! The run store: every ccci run kept in a real database, so that a recipe's history, the
//! catalogue's levels and two runs side by side can be asked for.
//!
//! SQLite is the default (one file, `runs.db` in ccci's state directory); PostgreSQL
//! (`postgres://…`) serves several CI hosts sharing one store. The schema is numbered SQL
//! migrations (`migrations/`, applied by refinery when the store is opened); a store written
//! by a newer ccci is refused, naming both versions.
//!
//! | module | what it decides |
//! |---|---|
//! | `location` | where a store is ([`Location`]) |
//! | `db` | one SQL dialect over SQLite and PostgreSQL, through a few pooled connections |
//! | `open` | opening a store and bringing it to this ccci's schema |
//! | `on_thread` | the store for async callers: each question on a blocking thread, with a deadline |
//!
//! Its three jobs, a room each:
//!
//! | job | what it decides |
//! |---|---|
//! | `history` | the runs: how one is written (`record`), the run journal taken in (`journal`), run directories imported (`import`), and a recipe's history, the catalogue, one run (`query`) |
//! | `queue` | the forge's CI: deliveries (replays refused), the queue of runs (one per head, one per recipe at a time, one host each), forge calls still to make |
//! | `fleet` | the warm fleet: the version a canonical is made at, the canonicals hosts keep, sweeps and their drift |
//!
//! ```no_run
//! use ccci_store::{HistoryQuery, Store};
//! let store = Store::open(&"runs.db".parse()?)?;
//! for run in store.history(&HistoryQuery::default())? {
//!     println!("{} {} {:?}", run.run_id, run.recipe, run.level);
//! }
//! # Ok::<(), ccci_store::StoreError>(())
//! ```

mod db;
mod error;
mod fleet;
mod history;
mod location;
mod model;
mod on_thread;
mod open;
mod queue;

pub use error::StoreError;
pub use fleet::{CanonicalRow, Drift, KnownGood, Sweep, SweepEntry, SweepLine, SweepRecord};
pub use location::Location;
pub use model::{HistoryQuery, Imported, RecipeSummary, RunRow, State, StoredRun, TakenIn};
pub use on_thread::{on_thread, ASK_WITHIN};
pub use open::STORE_WAIT;
pub use queue::{
    Accepted, Enqueued, Job, JobState, NewJob, OutboxState, Outgoing, Superseded, Taken, Told,
    ABANDONED,
};

/// How many of a recipe's latest cold runs the catalogue draws.
pub const SPARK: usize = 30;

/// A run store, open.
pub struct Store {
    db: db::Db,
    location: Location,
}

impl Store {
    /// Where the store is.
    pub fn location(&self) -> &Location {
        &self.location
    }
}
