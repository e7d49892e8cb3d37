//! `cargo ccci deps`: the warm OIDC provider runs share (see docs/recipe-tests.md): what it
//! runs and holds, its safe upgrade [R27], and its removal.

use ccci::Deadline;
use ccci_deps::{Provider, Upgrade};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// How long an upgrade (snapshot, new release, health check, and the way back) may take.
const UPGRADE: Duration = Duration::from_secs(600);
/// How long status and removal may take.
const SHORT: Duration = Duration::from_secs(180);

/// What to do with the provider.
#[derive(clap::Subcommand)]
pub(crate) enum DepsCmd {
    /// Say which release runs, whether it is healthy, its last good release and the realms in
    /// it (each with its run, live or gone). Exit 0 healthy, 1 not.
    Status(Which),
    /// Upgrade to a newer provider release, safely: a snapshot of its database, the new
    /// release, a health check that every realm still answers; on failure the last good
    /// release runs again with the snapshot restored. Deploys it when it is not there yet.
    /// Exit 0 upgraded (or already there), 1 rolled back.
    Upgrade {
        #[command(flatten)]
        which: Which,
        /// The release to upgrade to (default: the newest).
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
        /// A directory of further provider releases (one directory each, named by its
        /// version, like provider/glewlwyd/ in ccci's source).
        #[arg(long, value_name = "DIR")]
        releases: Option<PathBuf>,
    },
    /// Remove the provider's stack and all its data. Refused while a live run holds a realm
    /// in it, unless --force.
    Remove {
        #[command(flatten)]
        which: Which,
        /// Remove it even while live runs use it (they will fail).
        #[arg(long)]
        force: bool,
    },
}

/// Which provider.
#[derive(clap::Args)]
pub(crate) struct Which {
    /// Its domain (default: what runs use, `ccci-oidc.ccci.test` unless CCCI_OIDC_DOMAIN or
    /// CCCI_DOMAIN say otherwise).
    #[arg(long)]
    domain: Option<String>,
}

/// Runs `cmd`.
pub(crate) fn deps(cmd: DepsCmd) -> Result<ExitCode, String> {
    let here = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
    let settings = ccci::Settings::from_env(&here, ccci::default_runs_dir(&here))
        .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let which = match &cmd {
        DepsCmd::Status(w)
        | DepsCmd::Upgrade { which: w, .. }
        | DepsCmd::Remove { which: w, .. } => w,
    };
    let domain = which
        .domain
        .clone()
        .unwrap_or_else(|| ccci::oidc_domain(&settings, None));
    rt.block_on(async {
        let swarm = ccci_swarm::Swarm::connect()
            .await
            .map_err(|e| e.to_string())?;
        let provider = ccci::oidc_provider(&settings, &swarm, &domain)
            .await
            .map_err(|e| e.to_string())?;
        match cmd {
            DepsCmd::Status(_) => status(&provider, &settings).await,
            DepsCmd::Upgrade { to, releases, .. } => {
                let to = to
                    .map(|v| v.parse().map_err(|e| format!("--to {v}: {e}")))
                    .transpose()?;
                upgrade(&provider, to.as_ref(), releases.as_deref()).await
            }
            DepsCmd::Remove { force, .. } => remove(&provider, &settings, force).await,
        }
    })
}

/// The sweep's first step: the warm provider, when one runs on this Swarm, upgraded safely
/// to its newest release; what happened, in a line.
pub(crate) fn roll() -> String {
    let rolled = (|| -> Result<String, String> {
        let here = std::env::current_dir().map_err(|e| e.to_string())?;
        let settings = ccci::Settings::from_env(&here, ccci::default_runs_dir(&here))
            .map_err(|e| e.to_string())?;
        let domain = ccci::oidc_domain(&settings, None);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let swarm = ccci_swarm::Swarm::connect()
                .await
                .map_err(|e| e.to_string())?;
            let p = ccci::oidc_provider(&settings, &swarm, &domain)
                .await
                .map_err(|e| e.to_string())?;
            let s = p
                .status(Deadline::after(SHORT))
                .await
                .map_err(|e| e.to_string())?;
            if s.deployed.is_none() {
                return Ok(format!(
                    "no OIDC provider runs at {} (the first run that needs one deploys it)",
                    p.url()
                ));
            }
            let outcome = p
                .upgrade(None, None, Deadline::after(UPGRADE))
                .await
                .map_err(|e| e.to_string())?;
            Ok(match outcome {
                Upgrade::AlreadyAt(v) => {
                    format!("OIDC provider at its newest release, glewlwyd {v}, healthy")
                }
                Upgrade::Upgraded { from, to } => format!(
                    "OIDC provider upgraded from {} to {to}, every realm answering",
                    from.map_or("nothing".to_string(), |v| v.to_string())
                ),
                Upgrade::RolledBack {
                    attempted,
                    last_good,
                    why,
                } => format!(
                    "OIDC provider ROLLED BACK: {attempted} failed ({why}); {last_good} runs again"
                ),
            })
        })
    })();
    rolled.unwrap_or_else(|e| format!("the OIDC provider could not be rolled: {e}"))
}

/// Who holds a realm, as this host's run registry says.
enum Owner {
    /// A run whose process runs: `<run id> (<recipe>)`.
    Live(String),
    /// A registered run whose process is gone: the janitor removes its realm.
    Gone(String),
    /// No run this host registered: another host's, or left by a run that lost track of it.
    Unknown,
}

/// The run each realm belongs to, from the run registry.
fn owners(settings: &ccci::Settings, realms: &[String]) -> Vec<(String, Owner)> {
    let runs = ccci::registry::Registry::open(settings.registry_dir.as_deref())
        .map(|r| r.runs())
        .unwrap_or_default();
    realms
        .iter()
        .map(|realm| {
            let owner = runs
                .iter()
                .find(|r| r.realms.iter().any(|h| &h.realm == realm))
                .map_or(Owner::Unknown, |r| {
                    let run = format!("{} ({})", r.run_id, r.recipe);
                    match ccci::registry::alive(r) {
                        true => Owner::Live(run),
                        false => Owner::Gone(run),
                    }
                });
            (realm.clone(), owner)
        })
        .collect()
}

async fn status(p: &Provider, settings: &ccci::Settings) -> Result<ExitCode, String> {
    let s = p
        .status(Deadline::after(SHORT))
        .await
        .map_err(|e| e.to_string())?;
    say!("OIDC provider {} (stack {})", s.url, s.stack);
    let shown = |v: &Option<ccci::core::Version>| {
        v.as_ref().map_or("none".to_string(), ToString::to_string)
    };
    match (&s.deployed, &s.unhealthy) {
        (None, _) => say!("  running:    nothing: the first run that needs it deploys it (or `cargo ccci deps upgrade`)"),
        (Some(v), None) => say!("  running:    glewlwyd {v}, healthy"),
        (Some(v), Some(why)) => say!("  running:    glewlwyd {v}, NOT healthy: {why}"),
    }
    say!("  last good:  {}", shown(&s.last_good));
    say!("  realms:     {}", s.realms.len());
    for (realm, owner) in owners(settings, &s.realms) {
        match owner {
            Owner::Live(run) => say!("    {realm}: live run {run}"),
            Owner::Gone(run) => say!("    {realm}: gone run {run} (the janitor removes it)"),
            Owner::Unknown => say!(
                "    {realm}: no run on this host holds it (another host's run, or left behind)"
            ),
        }
    }
    Ok(match (s.deployed.is_some(), s.unhealthy.is_none()) {
        (true, true) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

async fn upgrade(
    p: &Provider,
    to: Option<&ccci::core::Version>,
    releases: Option<&std::path::Path>,
) -> Result<ExitCode, String> {
    let outcome = p
        .upgrade(to, releases, Deadline::after(UPGRADE))
        .await
        .map_err(|e| e.to_string())?;
    Ok(match outcome {
        Upgrade::AlreadyAt(v) => {
            say!(
                "cargo ccci deps: {} already runs glewlwyd {v}, healthy",
                p.url()
            );
            ExitCode::SUCCESS
        }
        Upgrade::Upgraded { from, to } => {
            let from = from.map_or("nothing".to_string(), |v| v.to_string());
            say!("cargo ccci deps: {} upgraded from {from} to {to}: healthy, every realm answering; last good is {to}", p.url());
            ExitCode::SUCCESS
        }
        Upgrade::RolledBack {
            attempted,
            last_good,
            why,
        } => {
            say!("cargo ccci deps: ROLLED BACK: {attempted} failed ({why}); {} runs {last_good} again with its data as before the upgrade, every realm answering", p.url());
            ExitCode::FAILURE
        }
    })
}

async fn remove(p: &Provider, settings: &ccci::Settings, force: bool) -> Result<ExitCode, String> {
    let deadline = Deadline::after(SHORT);
    let realms = match p.status(deadline).await {
        Ok(s) => s.realms,
        Err(_) => Vec::new(),
    };
    let live: Vec<String> = owners(settings, &realms)
        .into_iter()
        .filter_map(|(realm, owner)| match owner {
            Owner::Live(run) => Some(format!("{realm} (run {run})")),
            Owner::Gone(_) | Owner::Unknown => None,
        })
        .collect();
    if !live.is_empty() && !force {
        return Err(format!(
            "live runs hold realms in {}: {}; wait for them, or remove it anyway with --force",
            p.url(),
            live.join(", ")
        ));
    }
    let left = p.remove(deadline).await.map_err(|e| e.to_string())?;
    match left.is_empty() {
        true => {
            say!("cargo ccci deps: removed {} and all its data", p.url());
            Ok(ExitCode::SUCCESS)
        }
        false => Err(format!(
            "{} was removed but left {}",
            p.url(),
            left.join(", ")
        )),
    }
}
