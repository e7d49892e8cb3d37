//! What can go wrong in a run, as types: the harness decides on the variant (a step that
//! cannot apply is an undeclared skip, a step whose prerequisite failed is not run, anything
//! else is a failure); the text is only what a person reads.

use ccci_abra::AbraError;
use ccci_core::{vars, MetaError};
use ccci_swarm::SwarmError;
use std::path::PathBuf;
use std::time::Duration;

/// Why a run could not set up, or why a generic tier failed. One line, naming the file, key
/// or service and the fix.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// `ccci.yml` or a `--set` is wrong.
    #[error(transparent)]
    Meta(#[from] MetaError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Run directories cannot be written where they go.
    #[error("cannot write run directories under {} ({source}): nothing was deployed; set {} to a writable directory", path.display(), vars::RUNS_DIR)]
    RunsDirUnusable {
        /// The runs directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A test crate has no `ccci.yml`.
    #[error("{}: {source}: every recipe test crate has a ccci.yml naming its recipe and source", path.display())]
    NoSettings {
        /// Where it was looked for.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The recipe or its deploy.
    #[error(transparent)]
    Abra(#[from] AbraError),
    /// The Swarm.
    #[error(transparent)]
    Swarm(#[from] SwarmError),
    /// A bare-repository run was given something that names no recipe.
    #[error("cannot tell the recipe's name from `{url}`: give the repository's URL or path")]
    NoRecipeName {
        /// What was given.
        url: String,
    },
    /// A recipe's own `ccci.yml` names a source.
    #[error("{origin}: `source` cannot be set in a recipe's own ccci.yml (the repository is the source): remove it")]
    SourceInRecipe {
        /// Which file, at which ref.
        origin: String,
    },
    /// The ref to test is not in the recipe repository.
    #[error("ref `{reference}` is not in the recipe repository {url}: {fix}")]
    UnknownRef {
        /// The ref.
        reference: String,
        /// The repository.
        url: String,
        /// What git said.
        #[source]
        source: Box<AbraError>,
        /// How to name a ref here (`--ref`, or [`vars::REF`]).
        fix: String,
    },
    /// The recipe repository has no commit to test.
    #[error("the recipe repository {url} has no commits: commit the recipe (compose.yml, .env.sample) and run again")]
    EmptyRepository {
        /// The repository.
        url: String,
    },
    /// A recipe repository given as a path is not one.
    #[error("--recipe-git {path}: {why}: give the path of a recipe's git repository (or a git bundle), or its URL")]
    NotARepository {
        /// The path given.
        path: String,
        /// What is there instead.
        why: &'static str,
    },
    /// `deps` names something ccci cannot provide.
    #[error("dependency `{dep}` (deps in ccci.yml) cannot be provided: ccci provides an OIDC provider, under the names {}, and nothing else, and a test that needs `{dep}` would otherwise run without it; remove it from deps, or test this recipe where {dep} is provided", ccci_core::deps::NAMES.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", "))]
    Unprovidable {
        /// The dependency.
        dep: String,
    },
    /// A dependency's provider failed: down, unreachable, or refusing to make the run's realm.
    #[error("dependency `{dep}`: {source}")]
    Dependency {
        /// The dependency, as `deps` names it.
        dep: String,
        /// What went wrong (boxed: the provider's errors are large, and every step returns
        /// this type).
        #[source]
        source: Box<ccci_deps::DepsError>,
    },
    /// An app with a dependency is reached on a host port, where its redirect URIs are not
    /// known before it is deployed.
    #[error("dependency `{dep}`: an app that signs its users in through ccci's OIDC provider is reached through Traefik, as the provider is: drop {}=host-port (or --routing host-port)", vars::ROUTING)]
    DepsNeedTraefik {
        /// The dependency.
        dep: String,
    },
    /// `secrets` in the settings names a secret the recipe does not have.
    #[error("`secrets` in ccci.yml gives a value for `{name}`, but the recipe's .env.sample has no SECRET_{}_VERSION (its secrets: {known}): use one of those names, or remove `{name}` from `secrets`", name.to_uppercase())]
    NoSuchSecret {
        /// The name given.
        name: String,
        /// The recipe's secrets.
        known: String,
    },
    /// After the upgrade, the main service carries no chaos-version label.
    #[error("after the upgrade, service {stack}_{service} has no {label} label: the running stack is not a chaos deploy of the head")]
    NotChaos {
        /// The stack.
        stack: String,
        /// The main service.
        service: String,
        /// The label looked for.
        label: String,
    },
    /// After the upgrade, the stack runs another commit than the head.
    #[error("after the upgrade the stack runs recipe commit {running}, not the head {head}: the redeploy did not take")]
    UpgradeDidNotTake {
        /// The commit the label names (or the label's unreadable text).
        running: String,
        /// The head's short commit.
        head: String,
    },
    /// The stack answers, but a service does not run what was deployed: Swarm rolled its
    /// update back, paused it, or kept a task of the previous spec.
    #[error("after the {op} the stack answers, but {} not run what was deployed: {}", if services.len() == 1 { "a service does" } else { "services do" }, services.iter().map(|(s, why)| format!("{s}: {why}")).collect::<Vec<_>>().join("; "))]
    OffSpec {
        /// The op whose deploy did not take (`install`, `upgrade`…).
        op: String,
        /// Each service not on its deployed spec, with how.
        services: Vec<(String, String)>,
    },
    /// The stack converged but the health path keeps giving the same refusal.
    #[error("the stack converged, but the health path {path} answered {status} for {}s (accepted: {ok:?}){}: set `health_path` to a path the app serves (in ccci.yml, or `--set health_path=/path`), or accept that status with `health_ok` (`--set 'health_ok=[200, {status}]'`)", held.as_secs(), if *routed { " through Traefik, where the recipe's routers decide which paths exist (a PathPrefix rule puts the app under its prefix)" } else { "" })]
    WrongAnswer {
        /// Whether the answer came through Traefik.
        routed: bool,
        /// `health_path`.
        path: String,
        /// What it kept answering.
        status: u16,
        /// `health_ok`.
        ok: Vec<u16>,
        /// For how long.
        held: Duration,
    },
    /// The app did not answer through Traefik as expected, and Traefik refused routers of the
    /// stack: its reasons, not the health path, are the problem.
    #[error("{what} through Traefik, and Traefik refused the stack's routers: {}: fix the router labels in the recipe (a middleware or service named `<name>@docker` is this Swarm's provider `swarm` under Traefik 3: see `rename_docker_provider` in docs/recipe-tests.md)", describe_refusals(refused))]
    RefusedByTraefik {
        /// What went wrong: `the health path /x answered 404 for 30s`.
        what: String,
        /// The routers Traefik refused.
        refused: Vec<ccci_swarm::traefik::RouterView>,
    },
    /// The app did not answer through Traefik, and its main service has no running task:
    /// Traefik lists no router of a service with nothing to send to, so the tasks, not the
    /// labels, are the problem.
    #[error("{what} through Traefik: service {service} has no running task ({why}); its forensics say why its tasks ended")]
    NothingRuns {
        /// What went wrong.
        what: String,
        /// The service.
        service: String,
        /// Its update's message, or its latest task's error.
        why: String,
    },
    /// The app did not answer through Traefik as expected, and no router of the stack sends
    /// the health URL to it.
    #[error("{what} through Traefik, and no router of the stack matches {url}: {}; set `health_path` to a path a router sends to the app, or fix the routers' rules", if rules.is_empty() { "the stack declares no router (no `traefik.http.routers.<name>.rule` label)".to_string() } else { format!("its routers' rules are {}", rules.join("; ")) })]
    NoRouterMatches {
        /// What went wrong.
        what: String,
        /// The health URL (its host and path).
        url: String,
        /// Each router's `name: rule`.
        rules: Vec<String>,
    },
    /// An HTTP ready probe on an app without a web route.
    #[error("ready_probe http {path}: the app has no HTTP route to probe (no service has a traefik loadbalancer.server.port label); probe a TCP port instead, or add the label")]
    NoRouteToProbe {
        /// The probe's path.
        path: String,
    },
    /// ccci's rules refuse the head against the release its upgrade starts from
    /// ([`ccci_abra::rules`]): each finding, with its id, file, line and fix.
    #[error("{}", findings.join("; "))]
    Rules {
        /// Each finding, as one line.
        findings: Vec<String>,
    },
    /// Every backup attempt failed or was rejected.
    #[error("no usable backup in {attempts} attempts: {}", failures.join("; "))]
    NoUsableBackup {
        /// How many were taken.
        attempts: u32,
        /// Each attempt's reason.
        failures: Vec<String>,
        /// What the host lacked, when every attempt failed for the host (a full disk).
        host_fault: Option<String>,
    },
    /// The restore itself failed; the snapshot is untouched.
    #[error("{source}; the snapshot is intact at {} for another attempt", dir.display())]
    RestoreFailed {
        /// What went wrong.
        #[source]
        source: Box<AbraError>,
        /// The snapshot.
        dir: PathBuf,
    },
    /// The restore finished but data written before the backup is not back.
    #[error("the restore lost data: ccci's marker written before the backup is not back ({}); the snapshot at {} holds it", lost.join(", "), dir.display())]
    DataLost {
        /// The markers missing, with where.
        lost: Vec<String>,
        /// The snapshot.
        dir: PathBuf,
    },
    /// Two of the recipe's functions make steps of one name (the macros refuse this at
    /// compile time; a tool choosing its own [`crate::Hooks`] can still do it).
    #[error("two steps are named `{name}`: give one of the functions another name")]
    DuplicateStep {
        /// The step name.
        name: String,
    },
    /// The routing asked for is not one ccci knows.
    #[error("{0} ({var} or --routing)", var = vars::ROUTING)]
    BadRouting(String),
    /// How long to keep a red run's stack is not a duration.
    #[error("`{0}` is not a duration to keep a red run's stack for ({var} or --keep-for): write it like `30m`, `1h` or `600` (seconds)", var = vars::KEEP)]
    BadKeep(String),
    /// The pull policy asked for is not one ccci knows.
    #[error("{0} ({var} or --pull)", var = vars::PULL)]
    BadPull(String),
    /// A yes-or-no variable of ccci's ([`vars`]) is neither.
    #[error("{key}=`{value}` is neither yes nor no: set it to `yes` or `no` (or unset it for the default)")]
    BadSwitch {
        /// The variable.
        key: &'static str,
        /// Its value.
        value: String,
    },
    /// Routing through Traefik was asked for, and none serves the `proxy` network.
    #[error("--routing traefik: no Traefik serves the `proxy` network of the Swarm at {host} (no service of a traefik image on proxy publishes port 443): start one (scripts/local-swarm does here; a Co-op Cloud server runs the traefik recipe), or use --routing host-port")]
    NoTraefik {
        /// The daemon asked.
        host: String,
    },
    /// The HTTP client for the app could not be built.
    #[error("cannot build the HTTP client for {base_url}: {reason}")]
    HttpClient {
        /// The app's base URL.
        base_url: String,
        /// Why.
        reason: String,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A variable of ccci's ([`vars`]) has a value it does not take.
    #[error("{key}=`{value}`: it takes {takes} (or unset it for the default)")]
    BadValue {
        /// The variable.
        key: &'static str,
        /// Its value.
        value: String,
        /// What it takes.
        takes: &'static str,
    },
    /// An upgrade path from an older release failed (`upgrade_from`).
    #[error(
        "the upgrade from {from} to the head failed ({failed} of {paths} paths failed): {why}"
    )]
    UpgradePathFailed {
        /// The release it started from.
        from: String,
        /// Why it failed.
        why: String,
        /// How many paths failed.
        failed: usize,
        /// How many paths there were.
        paths: usize,
    },
    /// A quick run of a recipe that is not enrolled in the warm fleet.
    #[error("{recipe} is not enrolled in the warm fleet, so it has no canonical deployment for the quick lane: add `canonical: true` to its ccci.yml (and run `cargo ccci canonical up {recipe}`), or run it cold")]
    NotEnrolled {
        /// The recipe.
        recipe: String,
    },
    /// A quick run, and this host keeps no canonical of the recipe.
    #[error("this host keeps no canonical deployment of {recipe} ({} has no record): make it with `cargo ccci canonical up {recipe}`, or run it cold", dir.display())]
    NoCanonical {
        /// The recipe.
        recipe: String,
        /// Where its record would be.
        dir: PathBuf,
    },
    /// The canonical is to be made at a ref that is no release.
    #[error("a canonical deployment runs a release, and {reference} is none: give a release tag, or leave the ref unset for the latest release")]
    CanonicalNotRelease {
        /// The ref.
        reference: String,
    },
    /// The canonical could not be made known-good.
    #[error("the canonical {stack} could not be made known-good at {version}: {why}")]
    CanonicalFailed {
        /// Its stack.
        stack: String,
        /// The version.
        version: String,
        /// Why.
        why: String,
    },
}

/// A step that found it does not apply to this recipe, and nothing declared that: an
/// undeclared skip of its rung, with how to declare or fix it.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum NotApplicable {
    /// Nothing to upgrade from.
    #[error("{recipe} has no release before the head ({head}) to upgrade from; tag one, set `upgrade_base_version`, or declare `expected_na: {{upgrade: <reason>}}` in ccci.yml")]
    NoUpgradeBase { recipe: String, head: String },
    /// Nothing to back up.
    #[error("no service of {stack} has the label backupbot.backup=true; add it (and its hooks) to the recipe, or declare `expected_na: {{backup_restore: <reason>}}` in ccci.yml")]
    NotBackupCapable { stack: String },
}

/// One line per refused router: its name, rule and Traefik's reasons.
fn describe_refusals(refused: &[ccci_swarm::traefik::RouterView]) -> String {
    refused
        .iter()
        .map(|r| {
            format!(
                "router `{}` (rule {}, {}): {}",
                r.name,
                r.rule
                    .as_deref()
                    .map_or("unknown".into(), |x| format!("`{x}`")),
                r.status,
                r.errors.join("; ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How a recipe function failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecipeFailure {
    /// It returned an error.
    #[error("{0}")]
    Returned(String),
    /// It panicked.
    #[error("panicked: {0}")]
    Panicked(String),
    /// It was still running at `test_timeout`.
    #[error("did not finish within test_timeout ({}s); raise `test_timeout` in ccci.yml if it needs longer", .0.as_secs())]
    TimedOut(Duration),
    /// Its fixtures could not be made (the app is not deployed, say).
    #[error("{0}")]
    NoFixtures(String),
    /// The host could not start a thread to run it on.
    #[error("cannot start a thread for the recipe function: {0}")]
    NoThread(std::io::Error),
}

/// Why a step did not pass.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepError {
    /// The step does not apply and nothing declared that.
    #[error("cannot run: {0}")]
    CannotRun(#[from] NotApplicable),
    /// A step it needs did not succeed.
    #[error("not run: {because}")]
    NotRun {
        /// Which step, and how it ended.
        because: String,
    },
    /// Ctrl-C or SIGTERM ended it.
    #[error("interrupted: the run is tearing down")]
    Interrupted,
    /// A generic tier failed.
    #[error(transparent)]
    Tier(#[from] HarnessError),
    /// A recipe function failed.
    #[error("{failure} ({file}:{line})")]
    Recipe {
        /// How.
        failure: RecipeFailure,
        /// Where the function is.
        file: &'static str,
        /// Its line.
        line: u32,
    },
}

impl From<AbraError> for StepError {
    fn from(e: AbraError) -> Self {
        StepError::Tier(e.into())
    }
}

impl From<SwarmError> for StepError {
    fn from(e: SwarmError) -> Self {
        StepError::Tier(e.into())
    }
}

impl StepError {
    /// What the host lacked, when the step failed because of the host and not the recipe
    /// (see [`HarnessError::host_fault`]); a recipe function's failure is the recipe's.
    pub(crate) fn host_fault(&self) -> Option<String> {
        match self {
            StepError::Tier(e) => e.host_fault(),
            _ => None,
        }
    }
}

impl HarnessError {
    /// What the host lacked, when this is the host's fault and not the recipe's
    /// ([`ccci_core::Cause::Host`]): the Docker daemon, a registry that could not be
    /// reached, a full disk, a dependency or a Traefik ccci provides, ccci's own runtime.
    /// Decided on the error's type, never its text.
    pub fn host_fault(&self) -> Option<String> {
        match self {
            HarnessError::Swarm(e) => e.host_fault(),
            HarnessError::Abra(e) => e.host_fault(),
            HarnessError::Io { path, source } => ccci_abra::disk_full(path, source),
            HarnessError::RunsDirUnusable { path, source } => Some(format!(
                "a writable runs directory: {}: {source}",
                path.display()
            )),
            HarnessError::Dependency { dep, source } => {
                Some(format!("dependency `{dep}`, which ccci provides: {source}"))
            }
            HarnessError::NoTraefik { host } => Some(format!("a Traefik on the Swarm at {host}")),
            HarnessError::HttpClient { reason, .. } => Some(format!("an HTTP client: {reason}")),
            HarnessError::Runtime(e) => Some(format!("an async runtime: {e}")),
            HarnessError::NoUsableBackup { host_fault, .. } => host_fault.clone(),
            _ => None,
        }
    }

    /// Whether the run's input is wrong (the recipe as written, its settings, the command
    /// line): what a person must fix before the run can mean anything, as opposed to a
    /// failure of the app or a fault of the host. A run refused for bad input *could not
    /// run*.
    pub fn is_bad_input(&self) -> bool {
        match self {
            HarnessError::Meta(_)
            | HarnessError::NoSettings { .. }
            | HarnessError::NoRecipeName { .. }
            | HarnessError::SourceInRecipe { .. }
            | HarnessError::UnknownRef { .. }
            | HarnessError::EmptyRepository { .. }
            | HarnessError::NotARepository { .. }
            | HarnessError::DuplicateStep { .. }
            | HarnessError::BadRouting(_)
            | HarnessError::BadKeep(_)
            | HarnessError::BadPull(_)
            | HarnessError::BadSwitch { .. }
            | HarnessError::BadValue { .. }
            | HarnessError::NotEnrolled { .. }
            | HarnessError::NoCanonical { .. }
            | HarnessError::CanonicalNotRelease { .. }
            | HarnessError::DepsNeedTraefik { .. }
            | HarnessError::NoSuchSecret { .. }
            | HarnessError::Rules { .. } => true,
            HarnessError::Abra(e) => matches!(
                e,
                AbraError::Recipe(_)
                    | AbraError::Untrusted { .. }
                    | AbraError::UnknownBase { .. }
                    | AbraError::HeadNotAfterBase { .. }
                    | AbraError::SameVersionTwice { .. }
                    | AbraError::MissingFile { .. }
                    | AbraError::NoEnvSample { .. }
                    | AbraError::NameTooLong { .. }
                    | AbraError::Compose { .. }
                    | AbraError::Unbumped { .. }
            ),
            _ => false,
        }
    }
}

/// A closure turning an IO error about `path` into a [`HarnessError`].
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let path = path.into();
    move |source| HarnessError::Io { path, source }
}
