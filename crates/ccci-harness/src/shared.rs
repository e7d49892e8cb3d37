//! What every step of a run shares: the settings and recipe functions it was started with,
//! the run directory, the budgets, the recipe's `OpState`, and the [`Record`] the steps
//! write their outcomes into. Steps read it and append to the record; nothing else changes
//! after the run starts.

use crate::budget::Budgets;
use crate::plan::Hooks;
use crate::record::Record;
use crate::registry::Registry;
use crate::run_dir::RunDir;
use crate::settings::Settings;
use ccci_core::{OpState, RecipeMeta};
use std::sync::{Arc, Mutex, MutexGuard};

/// See the module docs.
pub(crate) struct Shared {
    pub settings: Settings,
    pub meta: Arc<RecipeMeta>,
    pub hooks: Hooks,
    pub dir: RunDir,
    pub budgets: Budgets,
    pub op_state: Arc<OpState>,
    pub run_id: String,
    pub record: Mutex<Record>,
    /// Where the run registers itself before it deploys, so the janitor can reap it if it is
    /// killed; `None` when no registry directory could be written (said as a warning).
    pub registry: Option<Registry>,
    /// The report's picture when a recipe's test took one ([`crate::Browser::picture_for_report`]):
    /// the run's end keeps it instead of the front page.
    pub picture_taken: Arc<Mutex<Option<std::path::PathBuf>>>,
}

impl Shared {
    /// Changes the record: a moment under its lock, never across an await.
    pub(crate) fn record<T>(&self, f: impl FnOnce(&mut Record) -> T) -> T {
        f(&mut lock(&self.record))
    }
}

/// Locks `m`. A panic while holding one of the run's locks cannot leave a half-made value:
/// every critical section is a single push, insert or swap.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
