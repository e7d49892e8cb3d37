//! The deployer seam: whatever does abra's job for the harness.

use crate::app::App;
use crate::backup::Snapshot;
use crate::error::AbraError;
use crate::recipe::Recipe;
use ccci_core::{ChaosVersion, Version};
use ccci_swarm::Deadline;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future, so deployers can be chosen at run time (`Box<dyn Deployer>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One deploy: the app, the recipe checked out at what should run, and which release that is.
pub struct DeployRequest<'a> {
    /// The app.
    pub app: &'a App,
    /// The recipe, its working tree at the ref to deploy.
    pub recipe: &'a Recipe,
    /// The release being deployed, or `None` for a chaos deploy of whatever is checked out.
    pub release: Option<&'a Version>,
    /// Stamp the deploy as chaos even for a release: the tree holds files that are not in
    /// the release (a CI overlay), so abra would need `--chaos` to deploy it.
    pub force_chaos: bool,
    /// When the step that deploys must be done: every command and call of the deploy runs
    /// under it.
    pub deadline: Deadline,
}

/// What a deploy produced.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// Where the app answers HTTP, if it has a web route.
    pub base_url: Option<String>,
    /// How a client reaches `base_url` (the domain resolved to Traefik, its CA trusted).
    pub via: ccci_swarm::Via,
    /// Every change made to the recipe's stack, with why (see [`crate::render`]).
    pub changes: Vec<String>,
    /// The chaos-version stamped, for chaos deploys.
    pub chaos_version: Option<ChaosVersion>,
    /// The compose files deployed, in `COMPOSE_FILE` order.
    pub compose_files: Vec<String>,
    /// Compose keys Swarm ignores in this stack, one line each (see [`crate::render`]).
    pub ignored: Vec<String>,
    /// The longest `stop_grace_period` of the stack's services: teardown waits at least
    /// this long before it calls anything left behind.
    pub stop_grace: Duration,
    /// What each service's tasks must run once the deploy has taken (image, env, configs,
    /// secrets, from the stack file deployed): the proof of an upgrade is what runs.
    pub run_specs: Vec<ccci_swarm::RunSpec>,
}

/// Does abra's job: deploys an app's stack and removes it again. A deploy applies the spec
/// and returns; waiting for convergence is the harness's job, because abra's own monitor
/// gives up before slow apps are ready [R13].
pub trait Deployer: Send + Sync {
    /// Deploys (or redeploys in place) the app's stack.
    fn deploy<'a>(&'a self, req: DeployRequest<'a>) -> BoxFuture<'a, Result<Deployed, AbraError>>;

    /// Removes the app's stack and all its data (volumes, secrets, configs), waits until it is
    /// gone or `deadline` passes, and returns what could not be removed (empty when clean).
    fn remove<'a>(
        &'a self,
        app: &'a App,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<Vec<String>, AbraError>>;

    /// Takes a backup of the app by the backupbot labels into `dest`, a new directory,
    /// within `deadline`.
    fn backup<'a>(
        &'a self,
        app: &'a App,
        dest: &'a Path,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<Snapshot, AbraError>>;

    /// Restores `snapshot` into the app within `deadline`. The snapshot is only read, so a
    /// failed restore can be tried again.
    fn restore<'a>(
        &'a self,
        app: &'a App,
        snapshot: &'a Snapshot,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<(), AbraError>>;
}
