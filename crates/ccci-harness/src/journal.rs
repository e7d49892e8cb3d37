//! The run's entry in the run journal ([`ccci_core::journal`]): written when the run starts
//! and again when it ends, so the run store, kept by whatever has a database, learns of every
//! run even though a recipe's test binary carries none.

use crate::registry::{this_process, unix_now, write_json};
use ccci_core::journal::Entry;
use std::path::{Path, PathBuf};

/// This run's journal entry, where it was written.
pub(crate) struct Journal {
    path: PathBuf,
    entry: Entry,
}

impl Journal {
    /// Notes the start of a run on `lane` in `dir`; the error says why it could not (the run
    /// goes on without, and says so once).
    pub(crate) fn start(
        dir: &Path,
        run_id: &str,
        recipe: &str,
        reference: Option<&str>,
        run_dir: &Path,
        lane: ccci_core::results::Lane,
        host: Option<String>,
    ) -> Result<Journal, String> {
        let (pid, pid_start) = this_process();
        let entry = Entry {
            run_id: run_id.into(),
            recipe: recipe.into(),
            reference: reference.map(String::from),
            run_dir: run_dir.display().to_string(),
            pid,
            pid_start,
            host,
            started: unix_now(),
            ended: None,
            // A running or lost quick run is stored as quick, not as a cold run.
            lane,
        };
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(Entry::file_name(run_id));
        write_json(&path, &entry).map_err(|e| e.to_string())?;
        Ok(Journal { path, entry })
    }

    /// Notes that the run ended (its results.json is written, or could not be).
    pub(crate) fn end(&mut self) {
        self.entry.ended = Some(unix_now());
        if let Err(e) = write_json(&self.path, &self.entry) {
            eprintln!("ccci: cannot note the run's end in the run journal: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccci_core::results::Lane;

    #[test]
    fn the_entry_says_the_runs_lane_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::start(
            dir.path(),
            "r-1",
            "ghost",
            None,
            dir.path(),
            Lane::Quick,
            None,
        )
        .unwrap();
        let read = |dir: &Path| -> Entry {
            let text = std::fs::read_to_string(dir.join(Entry::file_name("r-1"))).unwrap();
            serde_json::from_str(&text).unwrap()
        };
        assert_eq!(read(dir.path()).lane, Lane::Quick, "running, it is quick");
        j.end();
        let ended = read(dir.path());
        assert_eq!(ended.lane, Lane::Quick);
        assert!(ended.ended.is_some());
    }
}
