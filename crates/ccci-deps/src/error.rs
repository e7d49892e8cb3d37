//! What can go wrong providing a dependency, each naming the provider and what to do.

use ccci_abra::AbraError;
use ccci_swarm::SwarmError;
use std::path::PathBuf;

/// A dependency could not be provided, or its provider could not be managed.
#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    /// The provider did not become healthy, even after ccci redeployed it.
    #[error("the OIDC provider {url} is down: {why}; `cargo ccci deps status --domain {domain}` says more, `docker service ps {stack}_app --no-trunc` says why")]
    Down {
        /// Where it is reached.
        url: String,
        /// Its domain.
        domain: String,
        /// Its stack.
        stack: String,
        /// What was seen last.
        why: String,
    },
    /// No Traefik serves the `proxy` network: the provider is reached through it.
    #[error("no Traefik serves the `proxy` network of {host}, and ccci's OIDC provider is reached through it (as the apps under test reach it): start one (scripts/local-swarm does), or withhold the dependency")]
    NoTraefik {
        /// The daemon.
        host: String,
    },
    /// The provider's admin API refused a call.
    #[error("the OIDC provider {url} refused to {what}: it answered {status} {body}")]
    Refused {
        /// Where it is reached.
        url: String,
        /// What ccci asked.
        what: String,
        /// Its status code.
        status: u16,
        /// The start of its answer.
        body: String,
    },
    /// The provider did not answer a call.
    #[error("the OIDC provider {url} did not answer when asked to {what}: {why}")]
    Unreachable {
        /// Where it is reached.
        url: String,
        /// What ccci asked.
        what: String,
        /// The client's error.
        why: String,
    },
    /// A realm's stack could not be removed whole.
    #[error("realm {realm} could not be removed whole: {left} of stack {stack} is left; `cargo ccci janitor` tries again")]
    RealmLeft {
        /// The realm.
        realm: String,
        /// Its stack.
        stack: String,
        /// What is left.
        left: String,
    },
    /// A provider release that is not among the known ones.
    #[error("there is no provider release {version}: the releases are {known}")]
    NoRelease {
        /// The version asked for.
        version: String,
        /// The versions there are.
        known: String,
    },
    /// Deploying, backing up or restoring the provider's stack failed.
    #[error(transparent)]
    Abra(#[from] AbraError),
    /// The Swarm could not be asked.
    #[error(transparent)]
    Swarm(#[from] SwarmError),
    /// The provider's state directory could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> DepsError + '_ {
    move |source| DepsError::Io {
        path: path.into(),
        source,
    }
}
