use std::path::PathBuf;

/// Anything that stops an app from being deployed or a recipe from being read. Every message
/// names the file, key, service or command, and the fix.
#[derive(Debug, thiserror::Error)]
pub enum AbraError {
    /// A file the recipe must have is missing.
    #[error("recipe {recipe} has no {file} (looked at {}): {fix}", path.display())]
    MissingFile {
        /// The recipe.
        recipe: String,
        /// The file's name.
        file: String,
        /// Where it was looked for.
        path: PathBuf,
        /// What to do.
        fix: String,
    },
    /// The recipe has no `.env.sample` at the ref under test.
    #[error("recipe {recipe} has no .env.sample: every recipe ships one with its settings and secret versions (abra lint R008); add it")]
    NoEnvSample {
        /// The recipe.
        recipe: String,
    },
    /// A compose file of the recipe is wrong, found before anything is deployed.
    #[error("{file}{}: {problem}: {fix}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Compose {
        /// The compose file.
        file: String,
        /// The line, when the problem is at one.
        line: Option<usize>,
        /// What is wrong.
        problem: String,
        /// What to do.
        fix: String,
    },
    /// The recipe as written, or how it is to be run (its settings, the domain), is wrong:
    /// bad input, for a person to fix before a run can mean anything.
    #[error("{0}")]
    Recipe(String),
    /// An untrusted head asks for what only its operator may grant ([`crate::policy`]).
    #[error("the head asks for what an untrusted run may not deploy (nothing was deployed):\n  {}", refusals.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Untrusted {
        /// Each thing refused.
        refusals: Vec<crate::policy::Refusal>,
    },
    /// `upgrade_base_version` names no release.
    #[error("upgrade_base_version {wanted} is not a release of the recipe (releases: {}): set it to one of them, or remove it to upgrade from the release before the head", releases.join(", "))]
    UnknownBase {
        /// The version asked for.
        wanted: String,
        /// The recipe's releases.
        releases: Vec<String>,
    },
    /// The head to test is not a release after the upgrade base.
    #[error("the head {head} is not newer than the upgrade base {base}: an upgrade goes forward; test a newer ref (--ref), or set upgrade_base_version to a release before {head}")]
    HeadNotAfterBase {
        /// The head's version.
        head: String,
        /// The base's version.
        base: String,
    },
    /// Two release tags of one version on different commits: which is the release?
    #[error("release tags `{a}` and `{b}` are both version {version} but tag different commits: delete or rename one of them (`git tag -d` and `git push --delete origin <tag>`)")]
    SameVersionTwice {
        /// One tag.
        a: String,
        /// The other.
        b: String,
        /// Their version.
        version: String,
    },
    /// The deployed app did not do what the run needed of it (a backup hook failed, its
    /// container kept being replaced): a failure of the run's step, not of its input.
    #[error("{0}")]
    App(String),
    /// A backup snapshot cannot be written, or read back as it was written (corrupt,
    /// truncated): a failure of the run's backup or restore, never of the recipe's input.
    #[error("{0}")]
    Snapshot(String),
    /// The host cannot do what the run needs (a tool missing or broken, a local image builder
    /// that does not answer): a fault of the machine, never of the recipe.
    #[error("{0}")]
    HostFault(String),
    /// A Swarm object name would exceed the 64 characters Swarm allows: found before
    /// deploying, as Swarm would refuse it half-way [R23].
    #[error("{kind} name `{name}` is {len} characters, over Swarm's limit of 64: use a shorter domain (the stack name `{stack}` is derived from it) or a shorter {kind} name in the recipe")]
    NameTooLong {
        /// `secret` or `config`.
        kind: &'static str,
        /// The full name.
        name: String,
        /// Its length.
        len: usize,
        /// The stack name.
        stack: String,
    },
    /// Images the stack needs cannot be had: each is named with why, before anything is
    /// created [R14].
    #[error("{}", describe_images(images))]
    ImagesUnavailable {
        /// `(service, image, why)`; no reason when pulling is off (`pull: never`).
        images: Vec<(String, String, Option<ccci_swarm::PullFailure>)>,
    },
    /// A command failed, could not start, or outlived its deadline.
    #[error(transparent)]
    Process(#[from] ccci_process::ProcessError),
    /// Between the release the upgrade starts from and the head, configs or secrets whose
    /// file changed while their name did not ([`crate::drift`]).
    #[error("since release {base}: {}", found.join("; "))]
    Unbumped {
        /// The release the upgrade starts from.
        base: String,
        /// Each object, as one line.
        found: Vec<String>,
    },
    /// A config or secret the stack names exists on the Swarm with other content: Swarm never
    /// changes one in place, so a head that changed what it holds must name a new one.
    #[error("{kind} `{name}` already exists on the Swarm with other content, and Swarm never changes a {kind} in place (Docker: only updates to Labels are allowed): the head changed what it holds but not its name; bump `{variable}` (Co-op Cloud names it `${{STACK_NAME}}_{key}_${{{variable}}}`, its value set in abra.sh) so that this release makes a {kind} of its own")]
    Immutable {
        /// `config` or `secret`.
        kind: String,
        /// Its name on the Swarm.
        name: String,
        /// Its name without the stack and the version (`nginx_conf`).
        key: String,
        /// The variable whose value versions it (`NGINX_CONF_VERSION`).
        variable: String,
    },
    /// A service whose deploy mode the head changed (`replicated` ↔ `global`): Swarm refuses
    /// to change a service's mode in place, so the upgrade cannot be deployed.
    #[error("service `{service}` has another deploy mode than the release it upgrades from, and Swarm never changes a service's mode in place (Docker: service mode change is not allowed): keep its mode, or give the service a new name so that this release makes one of its own (rule C009 of `cargo ccci lint` says so before a deploy)")]
    ModeChange {
        /// The service, as the Swarm names it (`<stack>_<service>`).
        service: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The Swarm said no.
    #[error(transparent)]
    Swarm(#[from] ccci_swarm::SwarmError),
}

impl AbraError {
    /// What the host lacked, when this error is the host's fault and not the recipe's: a
    /// tool or builder the machine lacks, the Docker daemon, a registry that could not be
    /// reached for any of the images, a full disk.
    pub fn host_fault(&self) -> Option<String> {
        match self {
            AbraError::HostFault(why) => Some(why.clone()),
            AbraError::Swarm(e) => e.host_fault(),
            AbraError::ImagesUnavailable { images } => {
                let unreachable: Vec<&str> = images
                    .iter()
                    .filter(|(_, _, why)| why.as_ref().is_some_and(|w| w.is_host()))
                    .map(|(_, image, _)| image.as_str())
                    .collect();
                // Only when every image that failed failed for the host: one that does not
                // exist is the recipe's, whatever else happened.
                (!unreachable.is_empty() && unreachable.len() == images.len()).then(|| {
                    format!(
                        "the registry of {} could not be reached",
                        unreachable.join(", ")
                    )
                })
            }
            AbraError::Io { path, source } => disk_full(path, source),
            _ => None,
        }
    }
}

/// What the host lacked when `source` says the disk holding `path` is full.
pub fn disk_full(path: &std::path::Path, source: &std::io::Error) -> Option<String> {
    (source.kind() == std::io::ErrorKind::StorageFull)
        .then(|| format!("disk space: writing {} failed: {source}", path.display()))
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> AbraError {
    let path = path.into();
    move |source| AbraError::Io { path, source }
}

fn describe_images(images: &[(String, String, Option<ccci_swarm::PullFailure>)]) -> String {
    let list: Vec<String> = images
        .iter()
        .map(|(service, image, why)| match why {
            Some(why) => format!("image `{image}` of service `{service}` cannot be pulled: {why}"),
            None => format!(
                "image `{image}` of service `{service}` is not on the Docker host and pulling is off (pull: never)"
            ),
        })
        .collect();
    format!(
        "{}; fix the image name or tag in the recipe, push the image, or build it first (a local image builder, {}, builds the images it declares on first use: ccci's own is images/build)",
        list.join("; "),
        ccci_core::vars::IMAGE_BUILDER
    )
}
