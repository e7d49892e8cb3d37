//! The connection to a swarm manager: where it is, that it answers, that it is a manager.
//! What is done over it lives beside this file, one concept per room: [`crate::snapshot`]
//! (services, tasks and the current spec), [`crate::exec`] (exec and archives),
//! [`crate::objects`] (images and secrets a deploy needs) and [`crate::inventory`] (what a
//! stack owns, and removing it).

use crate::error::{api, SwarmError};
use bollard::Docker;
use std::time::Duration;

/// A connection to a swarm manager.
#[derive(Clone)]
pub struct Swarm {
    pub(crate) docker: Docker,
    host: String,
}

impl Swarm {
    /// Connects to the daemon named by `DOCKER_HOST` (default: the local socket), checks that it
    /// answers within 5 s and that it is a swarm manager.
    pub async fn connect() -> Result<Swarm, SwarmError> {
        let host =
            std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
        Self::connect_host(&host).await
    }

    /// Connects to the daemon at `host` (`unix:///path` or `tcp://host:port`), with the same
    /// checks as [`Swarm::connect`].
    pub async fn connect_host(host: &str) -> Result<Swarm, SwarmError> {
        let host = host.to_string();
        let unreachable = |reason: String| SwarmError::Unreachable {
            host: host.clone(),
            reason,
        };
        let docker = if let Some(path) = host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, 120, bollard::API_DEFAULT_VERSION)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            Docker::connect_with_http(&host, 120, bollard::API_DEFAULT_VERSION)
        } else {
            return Err(unreachable(
                "only unix:// and tcp:// hosts are supported (ssh:// needs bollard's ssh feature)"
                    .into(),
            ));
        }
        .map_err(|e| unreachable(e.to_string()))?;
        match tokio::time::timeout(Duration::from_secs(5), docker.ping()).await {
            Err(_) => return Err(unreachable("no answer within 5 s".into())),
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Ok(Ok(_)) => {}
        }
        let info = docker.info().await.map_err(api("read daemon info"))?;
        let swarm = info.swarm.unwrap_or_default();
        let state = swarm
            .local_node_state
            .map(|s| s.to_string())
            .unwrap_or_default();
        if state != "active" || swarm.control_available != Some(true) {
            return Err(SwarmError::NotSwarm {
                host,
                state: if state.is_empty() {
                    "inactive".into()
                } else {
                    state
                },
            });
        }
        Ok(Swarm { docker, host })
    }

    /// The daemon address this connection uses.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The underlying bollard client, for what this crate does not wrap.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }
}
