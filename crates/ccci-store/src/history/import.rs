//! Recording existing run directories: `cargo ccci import DIR…` backfills the store from
//! results.json files of any schema ccci has written.

use crate::history::record::read_results;
use crate::model::Imported;
use crate::{Store, StoreError};
use std::path::{Path, PathBuf};

impl Store {
    /// Records every run under `dir`: `dir` itself when it is a run directory (it holds
    /// results.json), else each run directory in it, down to two levels (a runs directory, or
    /// a directory of them).
    ///
    /// # Errors
    /// The store failed. A file that is not a results.json ccci reads is skipped, and named.
    pub fn import(&self, dir: &Path) -> Result<Imported, StoreError> {
        let mut imported = Imported::default();
        for file in results_files(dir, 2) {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    imported.skipped.push(format!("{}: {e}", file.display()));
                    continue;
                }
            };
            match read_results(&text) {
                Ok(r) => {
                    self.record_finished_text(&r, text)?;
                    imported.recorded.push((r.run_id.clone(), r.schema.clone()));
                }
                Err(why) => imported.skipped.push(format!("{}: {why}", file.display())),
            }
        }
        Ok(imported)
    }
}

/// The results.json files of the run directories under `dir`, `depth` levels down at most.
fn results_files(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let own = dir.join("results.json");
    if own.is_file() {
        return vec![own];
    }
    if depth == 0 {
        return Vec::new();
    }
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = listing
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.iter()
        .flat_map(|d| results_files(d, depth - 1))
        .collect()
}
