//! Whose fault a red run is: the recipe's, the host's, or nobody's (it was cancelled).
//!
//! Maintainers learn to ignore red when a dockerd restart, a registry that is down or a full
//! disk is reported as their recipe failing (the predecessor spent weeks telling loaded-host
//! flakes from recipe bugs by hand). So every red run names its cause: a rung the recipe
//! failed, what the host lacked, or why it was stopped. A CI service retries a host cause and
//! reports only a recipe cause as the pull request's failure (docs/serve.md).
//!
//! The harness decides whether a failed step was the host's from the error's type (a daemon
//! that stopped answering, a registry that could not be reached, a disk that is full, a
//! dependency ccci provides that is down), never from its text;
//! [`crate::results::Results::conclude`] decides the run's cause from its facts.

use serde::{Deserialize, Serialize};

/// Why a red run is red.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// The recipe failed a rung (or its input was bad): the pull request's failure.
    Recipe,
    /// The host failed the run: the Docker daemon, the registry, the disk, the network, a
    /// dependency ccci provides, or ccci itself. Worth a retry on a fresh deployment.
    Host {
        /// What the host lacked, in one line.
        lacked: String,
    },
    /// It was stopped before its verdict: interrupted, or superseded by a newer head.
    Cancelled {
        /// Why, in one line.
        why: String,
    },
}

impl Cause {
    /// `recipe`, `host` or `cancelled`: how the store and the dashboard name it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Cause::Recipe => "recipe",
            Cause::Host { .. } => "host",
            Cause::Cancelled { .. } => "cancelled",
        }
    }

    /// Whether it is the host's (what a retry may cure).
    pub fn is_host(&self) -> bool {
        matches!(self, Cause::Host { .. })
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Recipe => f.write_str("the recipe"),
            Cause::Host { lacked } => write!(f, "the host: {lacked}"),
            Cause::Cancelled { why } => write!(f, "cancelled: {why}"),
        }
    }
}
