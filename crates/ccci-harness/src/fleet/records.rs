//! Where this host keeps its canonical deployments' records and known-good snapshots:
//! `<canonical dir>/<recipe>/canonical.json` beside the snapshots it names. A record is
//! replaced in one rename, and only then is the snapshot it replaced removed, so a crash at
//! any point leaves a record whose snapshot exists.

use crate::error::{io, HarnessError};
use ccci_core::canonical::Canonical;
use std::path::{Path, PathBuf};

/// The canonical records of one host ([`crate::Settings::canonical_dir`]).
#[derive(Debug, Clone)]
pub struct Records {
    dir: PathBuf,
}

const RECORD: &str = "canonical.json";

impl Records {
    /// The records under `dir`.
    pub fn at(dir: &Path) -> Records {
        Records { dir: dir.into() }
    }

    /// The directory of `recipe`'s canonical.
    pub fn of(&self, recipe: &str) -> PathBuf {
        self.dir.join(recipe)
    }

    /// `recipe`'s record, if this host keeps its canonical.
    ///
    /// # Errors
    /// The record exists and cannot be read.
    pub fn load(&self, recipe: &str) -> Result<Option<Canonical>, HarnessError> {
        let path = self.of(recipe).join(RECORD);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| HarnessError::Io {
                path,
                source: std::io::Error::other(format!(
                    "not a canonical record ({e}): remove the canonical with `cargo ccci canonical down`"
                )),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HarnessError::Io { path, source: e }),
        }
    }

    /// Every record this host keeps, by recipe; unreadable ones said by name.
    pub fn all(&self) -> Vec<Result<Canonical, HarnessError>> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join(RECORD).is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
            .iter()
            .filter_map(|n| self.load(n).transpose())
            .collect()
    }

    /// A new directory for a snapshot of `recipe`'s canonical.
    ///
    /// # Errors
    /// It cannot be made.
    pub(crate) fn new_snapshot_dir(&self, recipe: &str) -> Result<PathBuf, HarnessError> {
        let dir = self
            .of(recipe)
            .join(crate::names::unique("snapshot").replace(['/', ' '], "-"));
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(dir)
    }

    /// Replaces `c.recipe`'s record with `c` in one rename, then removes every snapshot the
    /// new record does not name (the one it replaced, and any a crash left).
    ///
    /// # Errors
    /// The record cannot be written.
    pub(crate) fn save(&self, c: &Canonical) -> Result<(), HarnessError> {
        let dir = self.of(&c.recipe);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let tmp = dir.join(format!("{RECORD}.new"));
        let json = serde_json::to_string_pretty(c).map_err(|e| HarnessError::Io {
            path: tmp.clone(),
            source: std::io::Error::other(e),
        })?;
        std::fs::write(&tmp, json).map_err(io(&tmp))?;
        let path = dir.join(RECORD);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        self.remove_snapshots_but(&c.recipe, c.snapshot.as_deref());
        Ok(())
    }

    /// Removes every snapshot of `recipe`'s canonical but `keep`. Best effort: a snapshot
    /// left costs disk, never data.
    pub(crate) fn remove_snapshots_but(&self, recipe: &str, keep: Option<&str>) {
        let Ok(entries) = std::fs::read_dir(self.of(recipe)) else {
            return;
        };
        for e in entries.filter_map(|e| e.ok()) {
            let path = e.path();
            let named = keep.is_some_and(|k| Path::new(k) == path);
            if path.is_dir() && !named {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }

    /// Forgets `recipe`'s canonical: its record and snapshots.
    ///
    /// # Errors
    /// They cannot be removed.
    pub fn forget(&self, recipe: &str) -> Result<(), HarnessError> {
        let dir = self.of(recipe);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(HarnessError::Io {
                path: dir,
                source: e,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(recipe: &str, snapshot: Option<String>) -> Canonical {
        Canonical {
            recipe: recipe.into(),
            version: "1.0.0+1".into(),
            tag: "1.0.0+1".into(),
            commit: "abc".into(),
            domain: format!("canonical-{recipe}.ccci.test"),
            stack: format!("canonical-{recipe}_ccci_test"),
            docker_host: "unix:///var/run/docker.sock".into(),
            since: 1,
            proven_by: None,
            markers: Vec::new(),
            seeded: Default::default(),
            checks: Vec::new(),
            snapshot,
            env: String::new(),
            web: true,
        }
    }

    #[test]
    fn a_new_record_replaces_the_old_and_only_then_its_snapshot_goes() {
        let root = tempfile::tempdir().unwrap();
        let records = Records::at(root.path());
        assert_eq!(records.load("x").unwrap(), None);
        let first = records.new_snapshot_dir("x").unwrap();
        let c1 = record("x", Some(first.display().to_string()));
        records.save(&c1).unwrap();
        assert_eq!(records.load("x").unwrap(), Some(c1.clone()));
        let second = records.new_snapshot_dir("x").unwrap();
        assert!(
            first.is_dir(),
            "the old snapshot stays until a new record names another"
        );
        let c2 = record("x", Some(second.display().to_string()));
        records.save(&c2).unwrap();
        assert_eq!(records.load("x").unwrap(), Some(c2));
        assert!(!first.exists() && second.is_dir());
        assert_eq!(records.all().len(), 1);
        records.forget("x").unwrap();
        assert_eq!(records.load("x").unwrap(), None);
        assert!(records.all().is_empty());
    }
}
