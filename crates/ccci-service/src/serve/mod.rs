//! `cargo ccci serve --config FILE`: the forge's CI. One process that serves the dashboard
//! and a webhook for Gitea/Forgejo, takes `!testme` from pull requests, queues runs in the run
//! store, runs them (at most `capacity` at once, one per recipe across every host sharing the
//! store), and tells the pull request: a reaction, a `pending` commit status, then `success`,
//! `failure` or `error` and the report as a comment (edited, not repeated, by later runs).
//!
//! | module | what it decides |
//! |---|---|
//! | `asked` | what a delivery asks: a `!testme` for the intake, a push that supersedes |
//! | `config` | the configuration file, checked |
//! | `hook` | whether a delivery is taken: signature, replay, size, repository, what it asks |
//! | `intake` | what an accepted delivery becomes: a reply, or a queued run with its head pinned |
//! | `runner` | running a queued job: the pull request's head fetched, `cargo ccci run`, the verdict told |
//! | `outbox` | the forge calls, made in order per job and retried with backoff until taken |
//! | `recover` | at start: the runs this host lost (killed) stopped, reaped, queued again once |
//! | `handoff` | what a `cargo ccci` it started left for the store (a sweep, the canonicals), recorded by the service itself |
//! | `log` | the service's log: a line per event, plain or JSON, `RUST_LOG` / `-v` |
//! | `supersede` | a push to a pull request: its older heads' runs cancelled or stopped, its head run at once when asked |
//! | `proc` | the short commands (git, the janitor) as argv, run by `ccci-process` |
//!
//! Everything that must survive a kill is in the store: deliveries, jobs, forge calls.

mod asked;
pub mod config;
#[cfg(test)]
mod double;
mod handoff;
mod hook;
mod intake;
pub mod log;
mod outbox;
pub(crate) mod proc;
mod prune;
mod recover;
mod runner;
mod supersede;

use ccci_store::{Store, StoreError};
use config::Config;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;

pub use crate::tell::CONTEXT;

pub use crate::tell::MARKER;

/// What every part of the service shares.
pub struct Service {
    /// The configuration.
    pub config: Config,
    /// The run store, with the queue.
    pub store: Arc<Store>,
    /// The forge's API: Gitea's or Forgejo's, or a test's double ([`ccci_forge::ForgeApi`]).
    pub forge: Arc<dyn ccci_forge::ForgeApi>,
    /// The dashboard's URLs as people reach them.
    pub public: ccci_web::Urls,
    /// This host's run journal.
    pub journal: Option<PathBuf>,
    /// Where the store is, for the runs it starts (they record themselves in it).
    pub database: String,
    /// Wakes the intake: a delivery was accepted.
    pub intake: Notify,
    /// Wakes the outbox: a forge call was queued.
    pub outbox: Notify,
    /// Wakes the runners: a job was queued or one ended.
    pub runners: Notify,
    /// Set when the service stops: a run it stops is not reported (it is queued again at the
    /// next start).
    pub stopping: std::sync::atomic::AtomicBool,
}

impl Service {
    /// The logs of the jobs this host runs, as their pages serve them: never the service's
    /// own secrets (its forge token, its webhook secret, its store's address and password).
    pub fn job_logs(&self) -> ccci_web::JobLogs {
        let mut secrets = vec![
            self.config.token.clone(),
            String::from_utf8_lossy(&self.config.webhook_secret).into_owned(),
            self.database.clone(),
        ];
        secrets.extend(password_of(&self.database));
        ccci_web::JobLogs::new(self.config.state_dir.join("jobs"), secrets)
    }

    /// A service of `config`, keeping `store` (at `database`, for the runs it starts) and
    /// talking to `forge`.
    pub fn new(
        config: Config,
        store: Arc<Store>,
        forge: Arc<dyn ccci_forge::ForgeApi>,
        journal: Option<PathBuf>,
        database: String,
    ) -> Service {
        Service {
            public: ccci_web::Urls::new(&config.public_url),
            config,
            store,
            forge,
            journal,
            database,
            intake: Notify::new(),
            outbox: Notify::new(),
            runners: Notify::new(),
            stopping: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Runs `ask` on the store on a blocking thread.
    pub async fn ask<T: Send + 'static>(
        &self,
        ask: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, String> {
        ccci_store::on_thread(&self.store, ask)
            .await
            .map_err(|e| e.to_string())
    }

    /// Queues forge call `call` about `job` and wakes the outbox.
    pub async fn tell(&self, job: Option<&str>, call: &outbox::Call) -> Result<(), String> {
        let (kind, summary, json) = (
            call.kind(),
            call.summary(),
            serde_json::to_string(call).map_err(|e| e.to_string())?,
        );
        let job = job.map(String::from);
        self.ask(move |s| s.outbox_push(job.as_deref(), kind, &summary, &json, now()))
            .await?;
        self.outbox.notify_one();
        Ok(())
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    ccci_core::time::unix_secs(std::time::SystemTime::now()) as i64
}

/// How long to wait before the `attempts`-th retry: 1 s, doubling, at most 5 min.
pub fn backoff(attempts: u32) -> i64 {
    (1i64 << attempts.min(9)).min(300)
}

/// Runs `cargo ccci sweep` every `every` (its output in `sweeps/` of the state directory),
/// until the service stops. A sweep waits for the live runs of each recipe on this host, the
/// service's among them.
async fn sweep(svc: Arc<Service>, every: std::time::Duration) {
    let dir = svc.config.state_dir.join("sweeps");
    loop {
        tokio::time::sleep(every).await;
        if svc.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let at = now();
        let log = dir.join(format!("{at}.log"));
        let handed = dir.join(at.to_string());
        let mut cmd = ccci_process::command(runner::cargo_ccci(&svc));
        cmd.args(["ccci", "sweep"])
            .current_dir(&svc.config.workspace)
            .envs(svc.config.tested_swarm_env())
            .env(ccci_core::vars::DATABASE, &svc.database)
            .env(ccci_core::vars::HANDOFF_DIR, &handed);
        if let Some(j) = &svc.journal {
            cmd.env(ccci_core::vars::JOURNAL_DIR, j);
        }
        if let Err(e) =
            std::fs::create_dir_all(&dir).and_then(|_| ccci_process::log_to(&mut cmd, &log))
        {
            tracing::error!("no sweep: {}: {e}", log.display());
            continue;
        }
        tracing::info!(report = %log.display(), "sweep started");
        // A sweep runs each enrolled recipe's whole ladder, one after another: it may take as
        // long as a period.
        let ended = match ccci_process::spawn(cmd, "cargo ccci sweep".into()) {
            Ok(sweep) => {
                sweep
                    .wait(ccci_process::Deadline::after(every), runner::STOP_GRACE)
                    .await
            }
            Err(e) => Err(e),
        };
        match ended {
            Ok(status) => tracing::info!("sweep ended: {status}"),
            Err(e) => tracing::error!("sweep: {e}"),
        }
        let h = handed.clone();
        let _ = svc
            .ask(move |s| {
                handoff::take(s, &h);
                Ok(())
            })
            .await;
        let _ = std::fs::remove_dir(&handed);
    }
}

/// Serves until Ctrl-C or SIGTERM: the dashboard and the webhook on `config.listen`, the
/// intake, `config.capacity` runners, the outbox, and this host's journal taken in.
///
/// # Errors
/// The store, the forge client or the listening address cannot be had.
pub fn serve(
    config: Config,
    store: Store,
    database: String,
    journal: Option<PathBuf>,
) -> Result<(), String> {
    let forge = ccci_forge::Forge::new(&config.api, &config.token)?;
    std::fs::create_dir_all(&config.state_dir)
        .map_err(|e| format!("{}: {e}", config.state_dir.display()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let svc = Arc::new(Service::new(
        config,
        Arc::new(store),
        Arc::new(forge),
        journal,
        database,
    ));
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&svc.config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", svc.config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        recover::lost_runs(&svc).await;
        tokio::spawn(intake::work(svc.clone()));
        tokio::spawn(outbox::work(svc.clone()));
        tokio::spawn(prune::work(svc.clone()));
        for n in 0..svc.config.capacity {
            tokio::spawn(runner::work(svc.clone(), n));
        }
        tokio::spawn(take_in(svc.clone()));
        if let (Some(every), true) = (svc.config.sweep_every, svc.config.capacity > 0) {
            tokio::spawn(sweep(svc.clone(), every));
        }
        tracing::info!(
            "serving {} on {} at http://{addr}/ (webhook: /hooks/forge; store {}; {} run(s) at once)",
            svc.config.public_url,
            svc.config.host,
            svc.store.location(),
            svc.config.capacity
        );
        let dashboard =
            ccci_web::Dashboard::new(svc.store.clone()).with_job_logs(svc.job_logs());
        let app = ccci_web::router(dashboard).merge(hook::router(svc.clone()));
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(stopped())
            .await
            .map_err(|e| format!("the service stopped: {e}"));
        stop_runs(&svc).await;
        served
    })
}

/// Stops the runs going now (each tears down); their jobs stay running in the store, so the
/// next start of this host queues them again and tells their pull requests.
async fn stop_runs(svc: &Service) {
    svc.stopping
        .store(true, std::sync::atomic::Ordering::SeqCst);
    // Every command this service started is in the one registry of running groups: the
    // runs, a sweep, a git fetch.
    let going = ccci_process::running_count();
    if going > 0 {
        tracing::info!(
            "stopping {going} command(s) (a run tears down, and its job is queued again at the next start)"
        );
    }
    ccci_process::stop_all_within(runner::STOP_GRACE).await;
    tracing::info!("stopped");
}

/// Ctrl-C or SIGTERM (the service's, and `cargo ccci forge serve`'s).
pub(crate) async fn stopped() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Takes this host's journal in every two seconds, so runs made here outside the service show.
async fn take_in(svc: Arc<Service>) {
    let Some(journal) = svc.journal.clone() else {
        return;
    };
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let j = journal.clone();
        let alive =
            |e: &ccci_core::journal::Entry| ccci_core::host::process_alive(e.pid, e.pid_start);
        if let Err(e) = svc.ask(move |s| s.take_in(&j, &alive)).await {
            tracing::error!("the run journal cannot be taken in: {e}");
        }
    }
}

/// The password in a database URL (`postgres://user:password@host/db`), if it has one.
fn password_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let (credentials, _) = rest.rsplit_once('@')?;
    let (_, password) = credentials.split_once(':')?;
    Some(password.to_string()).filter(|p| !p.is_empty())
}
