//! Running a queued job: the pull request's head fetched into the service's own clone of the
//! repository (with its tags, for the upgrade's base), `cargo ccci run` on it in a process
//! group of its own (a test crate of the workspace, or the generic tiers), then the verdict
//! told: the commit status and the report, linked to the run's dashboard page.

use super::outbox::Call;
use super::{now, proc, Service, MARKER};
use ccci_core::results::Results;
use ccci_forge::StatusState;
use ccci_store::{Job, JobState};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long fetching a pull request's head may take.
const FETCH: Duration = Duration::from_secs(10 * 60);

/// How long a run asked to stop (its deadline passed, the service stopped) has to tear down.
pub const STOP_GRACE: Duration = Duration::from_secs(10 * 60);

/// Takes queued jobs and runs them, one at a time (the service starts `capacity` of these).
pub async fn work(svc: Arc<Service>, n: usize) {
    // Started one after another, so that the first job goes to the first runner.
    tokio::time::sleep(Duration::from_millis(50 * n as u64)).await;
    loop {
        let host = svc.config.host.clone();
        match svc.ask(move |s| s.claim(&host, now())).await {
            Ok(Some(job)) => {
                run(&svc, job).await;
                svc.runners.notify_waiters();
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(runner = n, "the store: {e}"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), svc.runners.notified()).await;
    }
}

async fn run(svc: &Arc<Service>, job: Job) {
    let dir = svc.config.state_dir.join("jobs").join(&job.id);
    tracing::info!(
        job = job.id,
        repo = job.asked.repo,
        pr = job.asked.pr,
        head = ccci_core::short_commit(&job.asked.head_sha),
        log = %dir.join("run.log").display(),
        "run started"
    );
    let outcome = match prepare(svc, &job, &dir).await {
        Ok(clone) => execute(svc, &job, &clone, &dir).await,
        Err(why) => Outcome::CouldNotRun(why),
    };
    // Stopped with the service: not a verdict; the next start queues it again.
    if svc.stopping.load(std::sync::atomic::Ordering::SeqCst) {
        tracing::info!(
            job = job.id,
            "run stopped with the service; queued again at its next start"
        );
        return;
    }
    if let Outcome::Ran(r) = &outcome {
        if let Some(lacked) = retry_for(svc, &job, r).await {
            return retry(svc, &job, r, &lacked).await;
        }
    }
    tell(svc, &job, outcome).await;
}

/// What the host lacked, when run `r` of `job` failed for the host and may be retried: the
/// job retries fewer earlier attempts than the operator's `host_retries`.
async fn retry_for(svc: &Service, job: &Job, r: &Results) -> Option<String> {
    let lacked = match &r.cause {
        Some(ccci_core::Cause::Host { lacked }) => lacked.clone(),
        _ => return None,
    };
    let id = job.id.clone();
    let before = svc.ask(move |s| s.retries_before(&id)).await.ok()?;
    (before < svc.config.host_retries).then_some(lacked)
}

/// Keeps `job`'s attempt as it ended (run `r`, a fault of the host) and queues it again on
/// a fresh deployment: the head's status says so, and the report waits for the attempt that
/// judges the recipe.
async fn retry(svc: &Arc<Service>, job: &Job, r: &Results, lacked: &str) {
    let (id, run_id, at) = (job.id.clone(), r.run_id.clone(), now());
    let note = format!("a fault of the host: {lacked}; retried");
    let asked = svc
        .ask(move |s| {
            s.finish_job(&id, JobState::Done, Some(&run_id), &note, at)?;
            s.retry(&id, at)
        })
        .await;
    let again = match asked {
        Ok(Some(again)) => again,
        // A job of this head is queued or running already (a `!testme` came): it tells.
        Ok(None) => return,
        Err(e) => {
            tracing::error!(job = job.id, "the retry cannot be queued: {e}");
            return tell(svc, job, Outcome::Ran(Box::new(r.clone()))).await;
        }
    };
    let description = format!("retrying on a fresh deployment after a fault of the host: {lacked}");
    tracing::info!(
        job = job.id,
        retry = again,
        run = r.run_id,
        "run ended: {description}"
    );
    svc.runners.notify_waiters();
    let status = Call::Status {
        repo: job.asked.repo.clone(),
        sha: job.asked.head_sha.clone(),
        state: StatusState::Pending,
        description,
        target_url: svc.public.job(&again),
    };
    if let Err(e) = svc.tell(Some(&job.id), &status).await {
        tracing::error!(job = job.id, "the retry's status cannot be queued: {e}");
    }
}

/// How a job ended.
enum Outcome {
    /// It ran to a verdict.
    Ran(Box<Results>),
    /// It did not: why.
    CouldNotRun(String),
    /// A push superseded it and it was stopped: by this head; its run, if it wrote results.
    Superseded(String, Option<String>),
}

/// The service's clone of the job's repository, with the pull request's head fetched.
async fn prepare(svc: &Service, job: &Job, dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = job.asked.repo.replace('/', "__");
    let clone = svc
        .config
        .state_dir
        .join("repos")
        .join(format!("{name}.git"));
    if !clone.join("HEAD").is_file() {
        let c = clone.display().to_string();
        proc::run("git", &["init", "--quiet", "--bare", &c], None, &[], FETCH).await?;
    }
    let pr = format!("+refs/pull/{0}/head:refs/heads/ccci/pr-{0}", job.asked.pr);
    let fetch = [
        "fetch",
        "--quiet",
        "--force",
        "--tags",
        &job.asked.clone_url,
        "+refs/heads/*:refs/heads/*",
        &pr,
    ];
    proc::run("git", &fetch, Some(&clone), &[], FETCH).await?;
    // A clone of the service's copy checks out the pull request's branch, whatever the
    // forge's default branch is called.
    let branch = format!("refs/heads/ccci/pr-{}", job.asked.pr);
    proc::run(
        "git",
        &["symbolic-ref", "HEAD", &branch],
        Some(&clone),
        &[],
        FETCH,
    )
    .await?;
    let pinned = format!("{}^{{commit}}", job.asked.head_sha);
    proc::run(
        "git",
        &["cat-file", "-e", &pinned],
        Some(&clone),
        &[],
        FETCH,
    )
    .await
    .map_err(|_| {
        format!(
            "the pinned head {} is no longer in {} (force-pushed?): comment `!testme` again",
            job.asked.head_sha, job.asked.clone_url
        )
    })?;
    Ok(clone)
}

/// Resolves once a push has superseded job `id` (its host looks every few seconds).
async fn superseded(svc: &Service, id: &str) {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let asked = id.to_string();
        if let Ok(Some(job)) = svc.ask(move |s| s.job(&asked)).await {
            if job.superseded_by.is_some() {
                return;
            }
        }
    }
}

/// `cargo ccci run` of the job, under the run's deadline, its output in the job's `run.log`.
async fn execute(svc: &Service, job: &Job, clone: &Path, dir: &Path) -> Outcome {
    let results = dir.join("results.json");
    let _ = std::fs::remove_file(&results);
    let log = dir.join("run.log");
    let mut cmd = run_command(svc, job, clone, &results);
    // What the run would hand to a ccci-service of its own (a quick run's canonicals) is left
    // here for this service, which keeps the store.
    cmd.env(ccci_core::vars::HANDOFF_DIR, dir);
    if let Err(e) = ccci_process::log_to(&mut cmd, &log) {
        return Outcome::CouldNotRun(format!("{}: {e}", log.display()));
    }
    let shown = format!("cargo ccci run {}", job.asked.head_sha);
    let run = match ccci_process::spawn(cmd, shown) {
        Ok(run) => run,
        Err(e) => return Outcome::CouldNotRun(e.to_string()),
    };
    // The store knows the run's process, so that a service started after a crash can stop
    // a run that outlived it.
    let (id, pid) = (job.id.clone(), run.pid());
    let start = ccci_core::host::process_start(pid);
    if let Err(e) = svc.ask(move |s| s.job_process(&id, pid, start)).await {
        tracing::error!(job = job.id, "the run's process cannot be recorded: {e}");
    }
    let deadline = ccci_process::Deadline::after(svc.config.run_timeout);
    let ended = run
        .wait_unless(deadline, STOP_GRACE, superseded(svc, &job.id))
        .await;
    // The run recorded itself in the store's journal; take it in now, for its page.
    if let Some(j) = svc.journal.clone() {
        let alive =
            |e: &ccci_core::journal::Entry| ccci_core::host::process_alive(e.pid, e.pid_start);
        let _ = svc.ask(move |s| s.take_in(&j, &alive)).await;
    }
    let handed = dir.to_path_buf();
    let _ = svc
        .ask(move |s| {
            super::handoff::take(s, &handed);
            Ok(())
        })
        .await;
    let written = std::fs::read_to_string(&results)
        .ok()
        .and_then(|t| serde_json::from_str::<Results>(&t).ok());
    if let Ok((_, true)) = ended {
        let id = job.id.clone();
        let by = svc
            .ask(move |s| s.job(&id))
            .await
            .ok()
            .flatten()
            .and_then(|j| j.superseded_by)
            .unwrap_or_default();
        return Outcome::Superseded(by, written.map(|r| r.run_id.clone()));
    }
    match written {
        Some(r) => {
            reap_on_time(svc, job, &r, dir);
            Outcome::Ran(Box::new(r))
        }
        None => Outcome::CouldNotRun(format!(
            "the run wrote no results ({}); its log, on {}: {}",
            match ended {
                Ok((s, _)) => format!("it exited {s}"),
                Err(e) => e.to_string(),
            },
            svc.config.host,
            last_lines(&log, 3)
        )),
    }
}

/// The `cargo ccci run` command line of `job`: its pull request's head, untrusted, with what
/// the operator set and allowed for its repository; its results to `results`.
fn run_command(svc: &Service, job: &Job, clone: &Path, results: &Path) -> std::process::Command {
    let mut cmd = ccci_process::command(cargo_ccci(svc));
    cmd.args(["ccci", "run"]);
    if let Some(c) = &job.asked.test_crate {
        cmd.arg(c);
    }
    // A pull request's head is a stranger's input: it gets its own stack and what the
    // operator allowed its repository, nothing else (docs/serve.md#what-a-head-may-deploy).
    cmd.arg("--recipe-git")
        .arg(clone)
        .args(["--ref", &job.asked.head_sha])
        .arg("--untrusted");
    if let Some(flag) = job.asked.lane.flag() {
        cmd.arg(flag);
    }
    if let Some(keep) = kept_for(svc, job) {
        cmd.arg("--keep")
            .arg("--keep-for")
            .arg(format!("{}s", keep.as_secs()));
    }
    if let Some(repo) = svc.config.repositories.get(&job.asked.repo) {
        for set in &repo.set {
            cmd.args(["--set", set]);
        }
        for allowed in &repo.allow {
            cmd.arg("--allow").arg(allowed.to_string());
        }
    }
    cmd.current_dir(&svc.config.workspace)
        .envs(svc.config.tested_swarm_env())
        .env(ccci_core::vars::RESULTS_FILE, results)
        // One name for this host: the run records the one the job's page shows.
        .env(ccci_core::vars::HOST, &svc.config.host)
        .env(ccci_core::vars::DATABASE, &svc.database);
    if let Some(j) = &svc.journal {
        cmd.env(ccci_core::vars::JOURNAL_DIR, j);
    }
    cmd
}

/// How long `job`'s run keeps its deployment when it is red: what `!testme keep=…` asked,
/// within the operator's `max_keep`; `None` when nothing is to be kept.
fn kept_for(svc: &Service, job: &Job) -> Option<Duration> {
    let asked = Duration::from_secs(job.asked.keep?);
    Some(asked.min(svc.config.max_keep)).filter(|k| !k.is_zero())
}

/// Starts, detached, what removes run `r`'s kept deployment when its time is up: `cargo ccci
/// janitor --after …`, which outlives this service (a `kill -9` of it, a restart) and keeps
/// its own deadlines; its output in the job's `reaper.log`.
fn reap_on_time(svc: &Service, job: &Job, r: &Results, dir: &Path) {
    let Some(until) = r
        .teardown
        .kept
        .as_ref()
        .and_then(|k| ccci_core::time::parse_rfc3339(&k.until))
    else {
        return;
    };
    let wait = until.saturating_sub(now().max(0) as u64) + 5;
    let mut cmd = ccci_process::command(cargo_ccci(svc));
    cmd.args(["ccci", "janitor", "--older-than", "never", "--after"])
        .arg(format!("{wait}s"))
        .current_dir(&svc.config.workspace)
        .envs(svc.config.tested_swarm_env());
    let log = dir.join("reaper.log");
    let started = ccci_process::log_to(&mut cmd, &log)
        .map_err(|e| format!("{}: {e}", log.display()))
        .and_then(|()| {
            ccci_process::detach(cmd, "cargo ccci janitor --after").map_err(|e| e.to_string())
        });
    match started {
        Ok(pid) => tracing::info!(job = job.id, pid, wait_secs = wait, "the kept deployment is removed on time"),
        Err(e) => tracing::error!(job = job.id, "the kept deployment's reaper did not start ({e}): `cargo ccci janitor` removes it once its time is up"),
    }
}

/// The `cargo-ccci` that runs jobs: the configured one, else beside this binary, else on PATH.
pub fn cargo_ccci(svc: &Service) -> PathBuf {
    if let Some(c) = &svc.config.cargo_ccci {
        return c.clone();
    }
    std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.join("cargo-ccci")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("cargo-ccci"))
}

fn last_lines(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" / ")
}

/// Tells the pull request how the job ended and records it: status, report, job state.
async fn tell(svc: &Arc<Service>, job: &Job, outcome: Outcome) {
    let a = &job.asked;
    let (state, description, body, run_id, job_state) = match &outcome {
        Outcome::Ran(r) => {
            let (state, verdict) = crate::tell::status_of(r);
            let footer = format!(
                "[This run on the dashboard]({}) · `!testme` by @{} on `{}` · ran on {}",
                svc.public.run(&r.run_id),
                a.requested_by,
                ccci_core::short_commit(&a.head_sha),
                svc.config.host
            );
            let footer = match &r.teardown.kept {
                Some(k) => format!(
                    "{}\n{footer}",
                    crate::tell::kept_lines(k, svc.config.docker_host.as_deref())
                ),
                None => footer,
            };
            let body = crate::tell::report_body(r, Some(&svc.public.files(&r.run_id)), &footer);
            (state, verdict, body, Some(r.run_id.clone()), JobState::Done)
        }
        Outcome::CouldNotRun(why) => {
            let body = format!(
                "{MARKER}\n### ⚠️ ccci could not run {} at `{}`\n\n{why}\n\n[The job on the dashboard]({})\n",
                a.recipe,
                ccci_core::short_commit(&a.head_sha),
                svc.public.job(&job.id)
            );
            (
                StatusState::Error,
                format!("could not run: {why}"),
                body,
                None,
                JobState::Error,
            )
        }
        // No verdict and no report: the old head is told who superseded it.
        Outcome::Superseded(by, run_id) => {
            return superseded_told(svc, job, by, run_id.clone()).await;
        }
    };
    let target = run_id
        .as_deref()
        .map_or_else(|| svc.public.job(&job.id), |r| svc.public.run(r));
    tracing::info!(
        job = job.id,
        status = state.as_str(),
        page = target,
        "run ended: {description}"
    );
    let calls = [
        Call::Status {
            repo: a.repo.clone(),
            sha: a.head_sha.clone(),
            state,
            description: description.clone(),
            target_url: target,
        },
        Call::Report {
            repo: a.repo.clone(),
            pr: a.pr,
            body,
        },
    ];
    for call in &calls {
        if let Err(e) = svc.tell(Some(&job.id), call).await {
            tracing::error!(job = job.id, "the verdict cannot be queued: {e}");
        }
    }
    let (id, note) = (job.id.clone(), description);
    if let Err(e) = svc
        .ask(move |s| s.finish_job(&id, job_state, run_id.as_deref(), &note, now()))
        .await
    {
        tracing::error!(job = job.id, "the job cannot be finished in the store: {e}");
    }
}

/// A run a push stopped: its head's status says by which commit (no report: the pull
/// request's report stays the last run's), and the job is cancelled.
async fn superseded_told(svc: &Arc<Service>, job: &Job, by: &str, run_id: Option<String>) {
    let a = &job.asked;
    let auto_rerun = svc
        .config
        .repositories
        .get(&a.repo)
        .is_some_and(|r| r.auto_rerun);
    let description = super::supersede::told(by, auto_rerun);
    tracing::info!(job = job.id, "run stopped: {description}");
    let status = Call::Status {
        repo: a.repo.clone(),
        sha: a.head_sha.clone(),
        state: StatusState::Error,
        description: description.clone(),
        target_url: svc.public.job(&job.id),
    };
    if let Err(e) = svc.tell(Some(&job.id), &status).await {
        tracing::error!(job = job.id, "the superseded status cannot be queued: {e}");
    }
    let id = job.id.clone();
    if let Err(e) = svc
        .ask(move |s| {
            s.finish_job(
                &id,
                JobState::Cancelled,
                run_id.as_deref(),
                &description,
                now(),
            )
        })
        .await
    {
        tracing::error!(job = job.id, "the job cannot be finished in the store: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::double::{new_job as asked, service, Double};
    use ccci_core::Cause;
    use ccci_store::Enqueued;

    fn red(run_id: &str, cause: Cause) -> Results {
        let mut r = ccci_testkit::sample_results(run_id, "custom-html", "aaaa1111", 1, false);
        r.cause = Some(cause);
        r
    }

    /// Every commit status queued for the head, in order.
    fn statuses(svc: &Service) -> Vec<(StatusState, String)> {
        svc.store
            .outbox_due(i64::MAX / 2, 100)
            .unwrap()
            .iter()
            .filter_map(|o| match serde_json::from_str(&o.call).unwrap() {
                Call::Status {
                    state, description, ..
                } => Some((state, description)),
                _ => None,
            })
            .collect()
    }

    async fn claimed(svc: &Service) -> Job {
        svc.store
            .claim("ci-1", now())
            .unwrap()
            .expect("a queued job")
    }

    /// A host fault is retried once on a new job linked to the first, the head told it is
    /// retried (pending); the retry's host fault is told as `error`, never `failure`.
    #[tokio::test]
    async fn a_host_fault_is_retried_once_and_never_posts_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let svc = service(tmp.path(), Arc::new(Double::default()), false);
        let Enqueued::New(first) = svc.store.enqueue(&asked("aaaa1111"), 1, 1).unwrap() else {
            panic!("new")
        };
        let job = claimed(&svc).await;
        let host = Cause::Host {
            lacked: "the registry of 127.0.0.1:5000/app:1 could not be reached".into(),
        };
        let r = red("run-1", host.clone());
        let lacked = retry_for(&svc, &job, &r)
            .await
            .expect("a first attempt is retried");
        retry(&svc, &job, &r, &lacked).await;

        let jobs = svc.store.jobs(10).unwrap();
        let kept = jobs.iter().find(|j| j.id == first).unwrap();
        assert_eq!(
            (kept.state, kept.run_id.as_deref()),
            (JobState::Done, Some("run-1"))
        );
        let again = jobs.iter().find(|j| j.id != first).expect("a retry job");
        assert_eq!(
            (again.state, again.retry_of.as_deref()),
            (JobState::Queued, Some(first.as_str()))
        );
        let told = statuses(&svc);
        assert!(
            matches!(told.as_slice(), [(StatusState::Pending, d)] if d.contains("fault of the host") && d.contains("127.0.0.1:5000")),
            "{told:?}"
        );

        // The retry fails for the host again: not retried, told as an error of the host.
        let retried = claimed(&svc).await;
        assert_eq!(retried.id, again.id);
        let r = red("run-2", host);
        assert_eq!(retry_for(&svc, &retried, &r).await, None);
        tell(&svc, &retried, Outcome::Ran(Box::new(r))).await;
        let told = statuses(&svc);
        assert!(
            matches!(told.last(), Some((StatusState::Error, d)) if d.starts_with("not judged: a fault of the host")),
            "{told:?}"
        );
        assert!(
            told.iter().all(|(s, _)| *s != StatusState::Failure),
            "{told:?}"
        );
    }

    /// `!testme keep=…` becomes `--keep --keep-for`, capped by the operator's `max_keep`.
    #[tokio::test]
    async fn keep_is_asked_of_the_run_within_max_keep() {
        let tmp = tempfile::tempdir().unwrap();
        let svc = service(tmp.path(), Arc::new(Double::default()), false);
        let args = |head: &str, keep: Option<u64>| {
            let mut asked = asked(head);
            asked.keep = keep;
            svc.store.enqueue(&asked, 1, 1).unwrap();
            let job = svc.store.claim("ci-1", 2).unwrap().unwrap();
            svc.store
                .finish_job(&job.id, JobState::Done, None, "", 3)
                .unwrap();
            let cmd = run_command(&svc, &job, tmp.path(), &tmp.path().join("r.json"));
            let args: Vec<String> = cmd
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            args.join(" ")
        };
        assert!(args("aaaa1111", Some(1800)).contains("--keep --keep-for 1800s"));
        // Over the operator's cap (2 h here): the cap.
        assert!(args("bbbb2222", Some(10 * 3600)).contains("--keep --keep-for 7200s"));
        assert!(!args("cccc3333", None).contains("--keep"));
    }

    /// A recipe's red is told as `failure` at once, never retried.
    #[tokio::test]
    async fn a_recipe_red_posts_failure_once() {
        let tmp = tempfile::tempdir().unwrap();
        let svc = service(tmp.path(), Arc::new(Double::default()), false);
        svc.store.enqueue(&asked("aaaa1111"), 1, 1).unwrap();
        let job = claimed(&svc).await;
        let r = red("run-1", Cause::Recipe);
        assert_eq!(retry_for(&svc, &job, &r).await, None);
        tell(&svc, &job, Outcome::Ran(Box::new(r))).await;
        let told = statuses(&svc);
        assert!(
            matches!(told.as_slice(), [(StatusState::Failure, _)]),
            "{told:?}"
        );
        assert_eq!(svc.store.jobs(10).unwrap().len(), 1, "no retry was queued");
    }
}
