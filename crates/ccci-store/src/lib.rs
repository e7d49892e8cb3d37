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
//! | `db` | one SQL dialect over SQLite and PostgreSQL |
//! | `open` | opening a store and bringing it to this ccci's schema |
//! | `record` | how a run is written: started, finished, lost |
//! | `journal` | taking in the run journal ([`ccci_core::journal`]): which runs finished, run, or were lost |
//! | `import` | recording existing run directories, of any results schema |
//! | `queue` | the forge's CI: deliveries (replays refused), the queue of runs (one per head, one per recipe at a time, one host each), forge calls still to make |
//! | `fleet` | the warm fleet: the version a canonical is made at, the canonicals hosts keep, sweeps and their drift |
//! | `query` | a recipe's history, the catalogue, one run, its previous run of a ref |
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
mod import;
mod journal;
mod location;
mod model;
mod on_thread;
mod open;
mod query;
mod queue;
mod record;

pub use error::StoreError;
pub use fleet::{CanonicalRow, Drift, KnownGood, Sweep, SweepEntry, SweepLine};
pub use location::Location;
pub use model::{HistoryQuery, Imported, RecipeSummary, RunRow, State, StoredRun, TakenIn};
pub use on_thread::{on_thread, ASK_WITHIN};
pub use open::STORE_WAIT;
pub use queue::{
    Accepted, Enqueued, Job, JobState, NewJob, OutboxState, Outgoing, Taken, ABANDONED,
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
