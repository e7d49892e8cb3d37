use std::time::Duration;

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
    /// The daemon stopped answering in the middle of the run (restarted, or gone): the
    /// connection itself failed, not the call.
    #[error("lost the Docker daemon while trying to {what} ({source}): it stopped answering (restarting, or stopped); check that dockerd runs (`scripts/local-swarm` starts it here)")]
    Lost {
        /// What was being done, naming the object.
        what: String,
        /// The client's error.
        #[source]
        source: bollard::errors::Error,
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
    /// An exec'd command printed more than ccci reads of one ([`crate::EXEC_OUTPUT_CAP`]).
    #[error("exec {argv:?} in container {container} printed more than {cap_mib} MiB on stdout or stderr, which is all ccci reads of one: write large output to a file in the container and read back what the check needs")]
    ExecOutputTooLarge {
        /// The container.
        container: String,
        /// The command.
        argv: Vec<String>,
        /// The cap, in MiB.
        cap_mib: usize,
    },
    /// A path read out of a container is a larger archive than ccci takes of one.
    #[error("{path} of container {container} is an archive of more than {cap_mib} MiB, more than ccci takes of one: back up a dump or a smaller path, or raise the cap (CCCI_BACKUP_CAP) on a host with the disk for it")]
    ArchiveTooLarge {
        /// The container.
        container: String,
        /// The path read.
        path: String,
        /// The cap, in MiB.
        cap_mib: u64,
    },
    /// The container is gone or no longer running: Swarm is replacing its task. Another
    /// container of the same service may do what was asked.
    #[error(
        "container {container} is gone or not running ({reason}); Swarm is replacing its task"
    )]
    ContainerGone {
        /// The container.
        container: String,
        /// What the daemon said.
        reason: String,
    },
    /// What a container sent could not be written on this host (the archive of a backup).
    #[error("{what}: writing it on this host failed: {source}")]
    Sink {
        /// What was being written, naming the container and path.
        what: String,
        /// The error, whose kind says whether the disk is full.
        #[source]
        source: std::io::Error,
    },
    /// A wait gave up.
    #[error(transparent)]
    Wait(#[from] WaitError),
}

impl SwarmError {
    /// What the host lacked, when this error is the host's fault and not the recipe's: a
    /// daemon that was not reachable, is not a swarm manager, or stopped answering mid-run.
    pub fn host_fault(&self) -> Option<String> {
        match self {
            SwarmError::Unreachable { host, .. } => {
                Some(format!("the Docker daemon at {host} was not reachable"))
            }
            SwarmError::NotSwarm { host, .. } => Some(format!(
                "the Docker daemon at {host} is not a swarm manager"
            )),
            SwarmError::Lost { what, .. } => Some(format!(
                "the Docker daemon stopped answering while ccci tried to {what}"
            )),
            SwarmError::Sink { what, source }
                if source.kind() == std::io::ErrorKind::StorageFull =>
            {
                Some(format!("disk space on this host: {what}: {source}"))
            }
            _ => None,
        }
    }
}

/// Whether the daemon refused a call because the container is gone (404) or not running
/// (409): the signs of a task being replaced.
pub(crate) fn is_gone(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404 | 409,
            ..
        }
    )
}

pub(crate) fn api(what: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> SwarmError {
    let what = what.into();
    move |source| match lost_connection(&source) {
        true => SwarmError::Lost { what, source },
        false => SwarmError::Api { what, source },
    }
}

/// Whether a call failed because the daemon could not be reached at all (the socket refused
/// or dropped the connection), not because the daemon said no.
pub(crate) fn lost_connection(e: &bollard::errors::Error) -> bool {
    match e {
        bollard::errors::Error::HyperLegacyError { err } => {
            err.is_connect() || dropped_mid_request(err)
        }
        bollard::errors::Error::IOError { .. } => true,
        _ => false,
    }
}

/// Whether a request failed because its connection went away under it (the daemon stopped
/// while it was being sent or answered): a closed or cancelled connection, a message cut
/// short, or the socket's own IO error, anywhere in the error's causes.
fn dropped_mid_request(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = err.source();
    while let Some(e) = cause {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_closed() || h.is_canceled() || h.is_incomplete_message() {
                return true;
            }
        }
        if e.is::<std::io::Error>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// A wait that ended without what it waited for.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WaitError {
    /// The deadline passed.
    #[error("gave up waiting for {what} after {}s (deadline {}s); last seen: {last_seen}", waited.as_secs(), budget.as_secs())]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long it waited.
        waited: Duration,
        /// The deadline it had.
        budget: Duration,
        /// The last state observed, per service.
        last_seen: String,
    },
    /// The stack converged and the URL kept answering the same client error (a 404, say)
    /// for [`crate::wait::STEADY_ANSWER`]: that is the app's answer to that path, not a boot-time state,
    /// so waiting out the deadline would prove nothing more.
    #[error("{url} answered {status} for {}s after the stack converged (accepted: {ok:?})", held.as_secs())]
    WrongAnswer {
        /// The URL probed.
        url: String,
        /// What it kept answering.
        status: u16,
        /// The accepted statuses.
        ok: Vec<u16>,
        /// How long it answered so.
        held: Duration,
    },
    /// The Swarm reached a state it cannot leave on its own (a failed one-shot).
    #[error("{what} cannot happen: {why}")]
    Impossible {
        /// What was awaited.
        what: String,
        /// Why it never will.
        why: String,
    },
}
