//! How an app is reached, and whether this Swarm has what a Co-op Cloud server has: a Traefik
//! serving the `proxy` network, and IPVS for Swarm's virtual IPs.
//!
//! A Traefik is recognised by what it is, not by a name: a service whose image is Traefik's,
//! attached to `proxy`, publishing port 443. Its certificate authority, when it is a CI one,
//! is the Docker config labelled `ccci.ca=true` (scripts/local-swarm makes one), so a client
//! of a remote daemon finds it too.

use crate::error::{api, SwarmError};
use crate::Swarm;
use bollard::query_parameters::{ListConfigsOptions, ListServicesOptions};
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// A Traefik that serves the `proxy` network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// Its service's name.
    pub service: String,
    /// The host port its `web-secure` (443) entrypoint is published on.
    pub https_port: u16,
    /// The host port its API entrypoint (`traefik`, port 8080) is published on, when it is:
    /// where ccci asks how Traefik sees a stack's routers ([`crate::traefik`]).
    pub api_port: Option<u16>,
    /// A CI certificate authority its default certificate is signed by (PEM), if the Swarm
    /// carries one.
    pub ca_pem: Option<Vec<u8>>,
}

/// Where an HTTP client sends requests for an app, and what it trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Via {
    /// Resolve this host name to this address instead of asking DNS (the test domain to
    /// Traefik's address).
    pub resolve: Option<(String, SocketAddr)>,
    /// Other host names served at the same address: a dependency the app signs its users
    /// in through, behind the same Traefik.
    pub also: Vec<String>,
    /// A certificate authority to trust besides the system's (PEM).
    pub ca_pem: Option<Vec<u8>>,
}

impl Via {
    /// Straight to the URL's host, trusting the system's authorities.
    pub fn direct() -> Via {
        Via::default()
    }

    /// A client builder set up for this route: no proxy from the environment, redirects not
    /// followed (so they can be asserted), the name resolved and the authority trusted.
    pub fn client_builder(&self) -> Result<reqwest::ClientBuilder, String> {
        let mut b = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30));
        if let Some((host, addr)) = &self.resolve {
            b = b.resolve(host, *addr);
            for other in &self.also {
                b = b.resolve(other, *addr);
            }
        }
        if let Some(pem) = &self.ca_pem {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| {
                format!("the CI certificate authority is not a PEM certificate: {e}")
            })?;
            b = b.add_root_certificate(cert);
        }
        Ok(b)
    }
}

/// The host name of the machine the daemon runs on, as this client reaches it: 127.0.0.1 for
/// a local socket, the host of an `ssh://` or `tcp://` address.
pub fn daemon_host(docker_host: &str) -> String {
    let rest = docker_host
        .split_once("://")
        .map_or(docker_host, |(_, rest)| rest);
    if docker_host.starts_with("unix://") || docker_host.starts_with("npipe://") {
        return "127.0.0.1".into();
    }
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host.to_string()
}

/// The address `host:port`, resolved now.
pub fn socket_addr(host: &str, port: u16) -> Result<SocketAddr, String> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} resolves to no address"))
}

impl Swarm {
    /// The Traefik serving `proxy`, if there is one (see the module docs).
    pub async fn find_proxy(&self) -> Result<Option<Proxy>, SwarmError> {
        let Ok(proxy_net) = self.docker.inspect_network("proxy", None).await else {
            return Ok(None);
        };
        let proxy_id = proxy_net.id.unwrap_or_default();
        let services = self
            .docker
            .list_services(None::<ListServicesOptions>)
            .await
            .map_err(api("list services"))?;
        let found = services.into_iter().find_map(|s| {
            let spec = s.spec?;
            let template = spec.task_template?;
            let image = template.container_spec?.image?;
            let on_proxy = template.networks.unwrap_or_default().iter().any(|n| {
                n.target
                    .as_deref()
                    .is_some_and(|t| t == proxy_id || t == "proxy")
            });
            let ports = spec.endpoint_spec?.ports?;
            let published = |target: i64| {
                ports
                    .iter()
                    .find(|p| p.target_port == Some(target))
                    .and_then(|p| p.published_port)
                    .and_then(|p| u16::try_from(p).ok())
            };
            let https = published(443)?;
            (is_traefik(&image) && on_proxy).then(|| Proxy {
                service: spec.name.unwrap_or_default(),
                https_port: https,
                api_port: published(8080),
                ca_pem: None,
            })
        });
        let Some(mut proxy) = found else {
            return Ok(None);
        };
        proxy.ca_pem = self.ci_authority().await?;
        Ok(Some(proxy))
    }

    /// The CI certificate authority this Swarm carries (a config labelled `ccci.ca=true`).
    async fn ci_authority(&self) -> Result<Option<Vec<u8>>, SwarmError> {
        let opts = ListConfigsOptions {
            filters: Some(HashMap::from([(
                "label".to_string(),
                vec!["ccci.ca=true".to_string()],
            )])),
        };
        let mut configs = self
            .docker
            .list_configs(Some(opts))
            .await
            .map_err(api("list configs labelled ccci.ca=true"))?;
        configs.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(configs
            .into_iter()
            .find_map(|c| c.spec?.data)
            .and_then(|b64| base64_decode(&b64)))
    }
}

/// Whether `image` (`traefik:v3.1`, `docker.io/library/traefik@sha256:…`,
/// `local/traefik:3.7`) is Traefik's.
fn is_traefik(image: &str) -> bool {
    let without_digest = image.split('@').next().unwrap_or(image);
    let name = without_digest.rsplit('/').next().unwrap_or(without_digest);
    name.split(':').next() == Some("traefik")
}

/// Standard base64, as the Engine API returns config data.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = T.iter().position(|t| *t == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Whether this machine's kernel has IPVS, which Swarm's virtual IPs and ingress ports need.
/// Only a local daemon can be asked; a remote Co-op Cloud server is taken to have it.
pub fn local_ipvs() -> bool {
    std::path::Path::new("/proc/net/ip_vs").exists()
        || std::fs::read_to_string("/proc/modules")
            .is_ok_and(|m| m.lines().any(|l| l.starts_with("ip_vs ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_images_are_recognised_by_name() {
        for i in [
            "traefik",
            "traefik:v3.1",
            "docker.io/library/traefik@sha256:ab",
            "local/traefik:3.7",
        ] {
            assert!(is_traefik(i), "{i}");
        }
        for i in ["nginx:1.22", "traefik-forward-auth:2", "local/not-traefik"] {
            assert!(!is_traefik(i), "{i}");
        }
    }

    #[test]
    fn the_daemons_host_from_docker_host() {
        assert_eq!(daemon_host("unix:///var/run/docker.sock"), "127.0.0.1");
        assert_eq!(daemon_host("ssh://root@127.0.0.1"), "127.0.0.1");
        assert_eq!(
            daemon_host("ssh://ci@swarm.example.org:2222"),
            "swarm.example.org"
        );
        assert_eq!(daemon_host("tcp://10.0.0.5:2376"), "10.0.0.5");
        assert_eq!(daemon_host("tcp://[::1]:2376"), "::1");
    }

    #[test]
    fn base64_decodes_what_the_engine_returns() {
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert!(base64_decode("not*base64").is_none());
    }
}
