//! Taking in the run journal ([`ccci_core::journal`]): each entry becomes a finished, running
//! or lost run in the store. An entry is removed once its run is recorded for good, and kept
//! while its run lives or the store could not record it, so nothing is lost while the store
//! is away.

use crate::history::record::{read_results, Unread};
use crate::model::TakenIn;
use crate::{Store, StoreError};
use ccci_core::journal::Entry;
use std::path::Path;

/// Whether an entry's process still lives (the caller knows how to ask the kernel).
pub type Alive<'a> = &'a dyn Fn(&Entry) -> bool;

impl Store {
    /// Takes in every entry of the journal in `dir` (a missing directory has none).
    ///
    /// # Errors
    /// The store failed; entries not yet recorded stay in the journal for the next time.
    pub fn take_in(&self, dir: &Path, alive: Alive<'_>) -> Result<TakenIn, StoreError> {
        let mut taken = TakenIn::default();
        let Ok(listing) = std::fs::read_dir(dir) else {
            return Ok(taken);
        };
        let mut paths: Vec<_> = listing
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let entry = match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Entry>(&b).map_err(|e| e.to_string()))
            {
                Ok(entry) => entry,
                Err(why) => {
                    taken.unreadable.push(format!("{}: {why}", path.display()));
                    continue;
                }
            };
            match self.take_in_one(&entry, alive)? {
                Took::Finished => taken.finished.push(entry.run_id),
                Took::Running => {
                    taken.running.push(entry.run_id);
                    continue;
                }
                Took::Lost => taken.lost.push(entry.run_id),
                Took::Newer(schema) => {
                    taken.newer.push((entry.run_id, schema));
                    continue;
                }
            }
            let _ = std::fs::remove_file(&path);
        }
        Ok(taken)
    }

    /// One entry: finished when it ended and its results read; running while its process
    /// lives (its results are not read then: they may be half written); left for a newer ccci
    /// when a newer one wrote its results; else lost.
    fn take_in_one(&self, e: &Entry, alive: Alive<'_>) -> Result<Took, StoreError> {
        let now = ccci_core::time::unix_secs(std::time::SystemTime::now());
        if e.ended.is_none() && alive(e) {
            self.record_started(e)?;
            return Ok(Took::Running);
        }
        let results = Path::new(&e.run_dir).join("results.json");
        let why = match std::fs::read_to_string(&results) {
            Ok(text) => match read_results(&text) {
                Ok(r) if r.run_id == e.run_id => {
                    self.record_finished_text(&r, text)?;
                    return Ok(Took::Finished);
                }
                Ok(r) => format!("{} holds run {}, not this one", results.display(), r.run_id),
                // A newer ccci ran it: its results are fine, this store cannot judge them.
                // The entry stays for a ccci that reads them; recorded lost, they would be
                // lost for good.
                Err(Unread::Newer(schema)) => return Ok(Took::Newer(schema)),
                Err(why) => format!("its results.json cannot be read: {why}"),
            },
            Err(_) if e.ended.is_some() => {
                "it ended without writing results.json (its run directory may say why)".into()
            }
            Err(_) => "its process is gone and it wrote no results.json: it was killed".into(),
        };
        self.record_lost(e, e.ended.unwrap_or(now), &why)?;
        Ok(Took::Lost)
    }
}

enum Took {
    Finished,
    Running,
    Lost,
    /// Finished, in a results schema newer than this ccci's (named).
    Newer(String),
}
