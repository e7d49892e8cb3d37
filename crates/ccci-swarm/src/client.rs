//! The connection to a swarm manager: where it is, that it answers, that it is a manager.
//! What is done over it lives beside this file, one concept per room: [`crate::state`]
//! (services, tasks and the current spec), [`crate::exec`] (exec and archives),
//! [`crate::objects`] (images and secrets a deploy needs) and [`crate::inventory`] (what a
//! stack owns, and removing it).

use crate::error::{api, SwarmError};
use bollard::Docker;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A connection to a swarm manager.
#[derive(Clone)]
pub struct Swarm {
    pub(crate) docker: Docker,
    host: String,
    /// For an `ssh://` host: the tunnel the connection goes through, closed with the last
    /// clone of this connection.
    _tunnel: Option<Arc<Tunnel>>,
}

/// `ssh -L <local socket>:/var/run/docker.sock <host>`: the remote daemon's socket, here.
/// The system's ssh does it, with the user's ssh config and keys, as the docker CLI does for
/// the same `DOCKER_HOST`.
struct Tunnel {
    /// ssh, killed with its process group when the tunnel is dropped.
    ssh: ccci_process::Held,
    socket: PathBuf,
    /// The address ssh connects to, after the user's ssh config (`ssh -G`): a Host alias
    /// names no machine DNS knows.
    hostname: String,
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        // `ssh` itself is stopped when `self.ssh` drops, after this.
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// How long an ssh tunnel may take to come up.
const TUNNEL_UP: Duration = Duration::from_secs(20);

/// The host name `ssh -G` resolves `login` to with the user's ssh config, within
/// [`TUNNEL_UP`].
fn ssh_hostname(login: &str, port: Option<&str>) -> Result<String, String> {
    let mut cmd = ccci_process::command("ssh");
    cmd.arg("-G");
    if let Some(p) = port {
        cmd.args(["-p", p]);
    }
    cmd.arg(login);
    let out = ccci_process::run(
        cmd,
        format!("ssh -G {login}"),
        crate::Deadline::after(TUNNEL_UP),
        ": install the OpenSSH client",
    )
    .map_err(|e| e.to_string())?;
    out.lines()
        .find_map(|l| l.strip_prefix("hostname "))
        .map(|h| h.trim().to_string())
        .ok_or_else(|| format!("`ssh -G {login}` named no hostname"))
}

impl Tunnel {
    /// Opens a tunnel to the Docker socket of `ssh://[user@]host[:port]`.
    fn open(url: &str) -> Result<Tunnel, String> {
        let target = url.trim_start_matches("ssh://").trim_end_matches('/');
        let (login, port) = match target.rsplit_once(':') {
            Some((l, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => (l, Some(p)),
            _ => (target, None),
        };
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let socket = std::env::temp_dir().join(format!(
            "ccci-ssh-{}-{}.sock",
            std::process::id(),
            SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&socket);
        let mut cmd = ccci_process::command("ssh");
        cmd.args([
            "-nNT",
            "-o",
            "ExitOnForwardFailure=yes",
            "-o",
            "BatchMode=yes",
        ])
        .arg("-L")
        .arg(format!("{}:/var/run/docker.sock", socket.display()));
        if let Some(p) = port {
            cmd.args(["-p", p]);
        }
        cmd.arg(login)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let hostname = ssh_hostname(login, port)?;
        let ssh = ccci_process::hold(
            cmd,
            format!("ssh -L … {login}"),
            Vec::new(),
            ": install the OpenSSH client",
        )
        .map_err(|e| e.to_string())?;
        let mut tunnel = Tunnel {
            ssh,
            socket,
            hostname,
        };
        let started = std::time::Instant::now();
        while !tunnel.socket.exists() {
            if let Some(status) = tunnel.ssh.exited() {
                let err = tunnel.ssh.stderr();
                return Err(format!("ssh to {login} exited {status}: {}", err.trim()));
            }
            if started.elapsed() > TUNNEL_UP {
                return Err(format!(
                    "ssh to {login} did not forward the Docker socket within {} s",
                    TUNNEL_UP.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(tunnel)
    }
}

impl Swarm {
    /// Connects to the daemon named by `DOCKER_HOST` (default: the local socket), checks that it
    /// answers within 5 s and that it is a swarm manager.
    pub async fn connect() -> Result<Swarm, SwarmError> {
        let host =
            std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
        Self::connect_host(&host).await
    }

    /// Connects to the daemon at `host` (`unix:///path`, `tcp://host:port`, or
    /// `ssh://[user@]host[:port]` through the system's ssh and the user's ssh config), with the
    /// same checks as [`Swarm::connect`].
    pub async fn connect_host(host: &str) -> Result<Swarm, SwarmError> {
        let host = host.to_string();
        let unreachable = |reason: String| SwarmError::Unreachable {
            host: host.clone(),
            reason,
        };
        let mut tunnel = None;
        let docker = if let Some(path) = host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, 120, bollard::API_DEFAULT_VERSION)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            Docker::connect_with_http(&host, 120, bollard::API_DEFAULT_VERSION)
        } else if host.starts_with("ssh://") {
            let url = host.clone();
            let t = tokio::task::spawn_blocking(move || Tunnel::open(&url))
                .await
                .map_err(|e| unreachable(e.to_string()))?
                .map_err(unreachable)?;
            let socket = t.socket.display().to_string();
            tunnel = Some(Arc::new(t));
            Docker::connect_with_unix(&socket, 120, bollard::API_DEFAULT_VERSION)
        } else {
            return Err(unreachable(
                "only unix://, tcp:// and ssh:// hosts are supported".into(),
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
        Ok(Swarm {
            docker,
            host,
            _tunnel: tunnel,
        })
    }

    /// Waits until the daemon answers a ping (it may be restarting), checking twice a
    /// second, until `deadline`.
    pub async fn wait_reachable(&self, deadline: crate::Deadline) -> Result<(), SwarmError> {
        loop {
            let remaining = deadline.remaining().min(Duration::from_secs(5));
            let answered = tokio::time::timeout(remaining, self.docker.ping()).await;
            match answered {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) if deadline.passed() => {
                    return Err(SwarmError::Unreachable {
                        host: self.host.clone(),
                        reason: format!("no answer for {} s: {e}", deadline.budget().as_secs()),
                    })
                }
                Err(_) if deadline.passed() => {
                    return Err(SwarmError::Unreachable {
                        host: self.host.clone(),
                        reason: format!("no answer for {} s", deadline.budget().as_secs()),
                    })
                }
                _ => tokio::time::sleep(Duration::from_millis(500).min(deadline.remaining())).await,
            }
        }
    }

    /// Resolves when the daemon first fails to answer a ping, checked every `every` (no
    /// answer within 10 s is a failure too): what it said. A step that saw this may have
    /// failed because of the host (a dockerd restart), not because of its recipe.
    pub async fn stops_answering(&self, every: Duration) -> String {
        loop {
            tokio::time::sleep(every).await;
            match tokio::time::timeout(Duration::from_secs(10), self.docker.ping()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return e.to_string(),
                Err(_) => return "no answer to a ping within 10 s".into(),
            }
        }
    }

    /// The host name of the machine the daemon runs on, as this client reaches it: 127.0.0.1
    /// for a local socket, the host of a `tcp://` address, the host ssh connects to for an
    /// `ssh://` one. Published ports of the Swarm's services are reached there.
    pub fn node_host(&self) -> String {
        match &self._tunnel {
            Some(t) => t.hostname.clone(),
            None => crate::route::daemon_host(&self.host),
        }
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
