use crate::wait::WaitError;

/// Anything that went wrong talking to the Swarm. Messages name the daemon, object or wait,
/// and what to do.
#[derive(Debug, thiserror::Error)]
pub enum SwarmError {
    /// The daemon did not answer.
    #[error("the Docker daemon at {host} is not reachable ({reason}): start it with `scripts/local-swarm`, or point DOCKER_HOST at a running daemon")]
    Unreachable {
        /// `DOCKER_HOST`, or the default socket.
        host: String,
        /// What the client said.
        reason: String,
    },
    /// The daemon answers but is not a swarm manager.
    #[error("the Docker daemon at {host} is not a swarm manager (swarm state: {state}): run `docker swarm init --advertise-addr 127.0.0.1`, or `scripts/local-swarm`")]
    NotSwarm {
        /// `DOCKER_HOST`, or the default socket.
        host: String,
        /// The node's swarm state.
        state: String,
    },
    /// An Engine API call failed.
    #[error("Docker API: {what}: {source}")]
    Api {
        /// What was being done, naming the object.
        what: String,
        /// The client's error.
        #[source]
        source: bollard::errors::Error,
    },
    /// An exec'd command could not be run or read.
    #[error("exec {argv:?} in container {container}: {reason}")]
    Exec {
        /// The container.
        container: String,
        /// The command.
        argv: Vec<String>,
        /// What went wrong.
        reason: String,
    },
    /// A wait gave up.
    #[error(transparent)]
    Wait(#[from] WaitError),
}

pub(crate) fn api(what: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> SwarmError {
    let what = what.into();
    move |source| SwarmError::Api { what, source }
}
