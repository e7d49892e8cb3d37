//! What a `cargo ccci` the service started left for it in its hand-off directory
//! (`CCCI_HANDOFF_DIR`): a sweep, this host's canonicals. The service keeps the store, so it
//! records them itself: the commands it starts never start a `ccci-service` of their own, and
//! the two binaries never call each other in a circle.

use ccci_core::wire::{CanonicalsRecord, Handoff, SweepRecord};
use ccci_store::Store;
use std::path::Path;

/// Reads `what`'s file in `dir`, when there is one.
fn read<T: serde::de::DeserializeOwned>(dir: &Path, what: Handoff) -> Option<Result<T, String>> {
    let path = dir.join(what.file());
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())))
}

/// Takes what `dir` holds into `store`, removing each file taken in, and says so in the log
/// (a sweep's drift report a line each).
pub fn take(store: &Store, dir: &Path) {
    match read::<CanonicalsRecord>(dir, Handoff::Canonicals) {
        None => {}
        Some(Err(e)) => tracing::error!("this host's canonicals were handed over unreadable: {e}"),
        Some(Ok(c)) => match store.set_canonicals(&c.host, &c.records) {
            Ok(()) => {
                tracing::info!(
                    canonicals = c.records.len(),
                    "this host's canonicals recorded"
                );
                let _ = std::fs::remove_file(dir.join(Handoff::Canonicals.file()));
            }
            Err(e) => tracing::error!("this host's canonicals cannot be recorded: {e}"),
        },
    }
    match read::<SweepRecord>(dir, Handoff::Sweep) {
        None => {}
        Some(Err(e)) => tracing::error!("a sweep was handed over unreadable: {e}"),
        Some(Ok(s)) => match store.record_sweep(&s) {
            Ok(sweep) => {
                for line in crate::fleet::report(&sweep).lines() {
                    tracing::info!(sweep = sweep.sweep_id, "{line}");
                }
                let _ = std::fs::remove_file(dir.join(Handoff::Sweep.file()));
            }
            Err(e) => tracing::error!("a sweep cannot be recorded: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccci_core::wire::SweepEntry;

    /// A sweep handed over is in the store afterwards, and its file gone; a file that is not
    /// one is left for the operator to look at.
    #[test]
    fn a_sweep_handed_over_is_recorded_and_its_file_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(
            &tmp.path()
                .join("runs.db")
                .display()
                .to_string()
                .parse()
                .unwrap(),
        )
        .unwrap();
        let sweep = SweepRecord {
            sweep_id: "sweep-1".into(),
            host: "ci-1".into(),
            started_at: 100,
            finished_at: 200,
            deps: None,
            entries: vec![SweepEntry {
                recipe: "custom-html".into(),
                run_id: None,
                note: Some("not run: held".into()),
            }],
        };
        let dir = tmp.path().join("handed");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(Handoff::Sweep.file()),
            serde_json::to_string(&sweep).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.join(Handoff::Canonicals.file()), "not json").unwrap();
        take(&store, &dir);
        assert!(!dir.join(Handoff::Sweep.file()).exists());
        assert!(dir.join(Handoff::Canonicals.file()).exists());
        let recorded = store.sweeps(10).unwrap();
        assert_eq!(recorded.len(), 1, "{recorded:?}");
        assert_eq!(recorded[0].sweep_id, "sweep-1");
        assert_eq!(recorded[0].lines[0].note.as_deref(), Some("not run: held"));
    }
}
