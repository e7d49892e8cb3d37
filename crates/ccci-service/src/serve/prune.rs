//! What a CI host keeps of the jobs it ran, and for how long: each job's directory (its
//! `run.log` and results) and its run's directory are removed `keep_logs` after the job ended
//! (default 14 days), so a busy host's disk does not fill with old runs. A job the store does
//! not know, or one not ended, is never touched; what is removed is said in the service's log.

use super::{now, Service};
use ccci_store::JobState;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How often the host looks for what to prune.
const EVERY: Duration = Duration::from_secs(3600);

/// Prunes now, then every [`EVERY`], for as long as the service runs.
pub async fn work(svc: Arc<Service>) {
    loop {
        let s = svc.clone();
        let pruned = tokio::task::spawn_blocking(move || prune(&s, now())).await;
        if let Ok(Err(e)) = pruned {
            tracing::error!("pruning old jobs: {e}");
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// Removes the directories of the jobs that ended more than `keep_logs` before `at` (Unix
/// seconds): each job's own, and its run's on this host. Returns the jobs pruned.
pub fn prune(svc: &Service, at: i64) -> Result<Vec<String>, String> {
    let jobs = svc.config.state_dir.join("jobs");
    let Ok(entries) = std::fs::read_dir(&jobs) else {
        return Ok(Vec::new());
    };
    let keep = svc.config.keep_logs.as_secs() as i64;
    let mut pruned = Vec::new();
    for dir in entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        let Some(id) = dir.file_name().and_then(|n| n.to_str()).map(String::from) else {
            continue;
        };
        let job = svc.store.job(&id).map_err(|e| e.to_string())?;
        let Some(job) = job else { continue };
        let ended = matches!(
            job.state,
            JobState::Done | JobState::Error | JobState::Cancelled
        );
        if !ended || job.finished_at.is_none_or(|t| at - t < keep) {
            continue;
        }
        let run_dir = match &job.run_id {
            Some(run) => svc
                .store
                .run(run)
                .map_err(|e| e.to_string())?
                .and_then(|r| r.row.run_dir)
                .map(PathBuf::from),
            None => None,
        };
        remove(&dir)?;
        if let Some(run_dir) = run_dir.filter(|d| d.is_dir()) {
            remove(&run_dir)?;
        }
        tracing::info!(
            job = id,
            days = (at - job.finished_at.unwrap_or(at)) / 86_400,
            "pruned: the job's log and its run's directory (keep_logs)"
        );
        pruned.push(id);
    }
    Ok(pruned)
}

fn remove(dir: &Path) -> Result<(), String> {
    std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::double::{new_job, service, Double};
    use ccci_store::{Enqueued, NewJob};

    /// An ended job older than `keep_logs` is pruned with its log; a younger one, a running
    /// one and a directory the store does not know are kept.
    #[test]
    fn only_ended_jobs_older_than_keep_logs_are_pruned() {
        let tmp = tempfile::tempdir().unwrap();
        let svc = service(tmp.path(), Arc::new(Double::default()), false);
        let keep = svc.config.keep_logs.as_secs() as i64;
        let job = |head: &str| {
            let asked = NewJob {
                recipe: format!("recipe-{head}"),
                ..new_job(head)
            };
            let Enqueued::New(id) = svc.store.enqueue(&asked, 1, 1).unwrap() else {
                panic!("new")
            };
            let dir = svc.config.state_dir.join("jobs").join(&id);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("run.log"), "a line\n").unwrap();
            id
        };
        let (old, young, running) = (job("aaaa"), job("bbbb"), job("cccc"));
        let unknown = svc.config.state_dir.join("jobs/not-a-job");
        std::fs::create_dir_all(&unknown).unwrap();
        let at = 10 * keep;
        svc.store
            .finish_job(&old, JobState::Done, None, "green", at - keep - 1)
            .unwrap();
        svc.store
            .finish_job(&young, JobState::Error, None, "host", at - keep + 60)
            .unwrap();
        assert_eq!(svc.store.claim("ci-1", 2).unwrap().unwrap().id, running);

        assert_eq!(prune(&svc, at).unwrap(), vec![old.clone()]);
        let jobs = svc.config.state_dir.join("jobs");
        assert!(!jobs.join(&old).exists());
        for kept in [&young, &running] {
            assert!(jobs.join(kept).join("run.log").is_file(), "{kept}");
        }
        assert!(unknown.is_dir());
    }
}
