//! How the Traefik serving `proxy` sees a stack: its routers, with their rules and Traefik's
//! reasons for refusing any, read from Traefik's own API (`/api/http/routers`,
//! `/api/http/middlewares`) on the entrypoint only ccci reaches (the Traefik API entrypoint,
//! published on a host port: scripts/local-swarm's Traefik has it; a real server's need not).
//! Asked only when the app does not answer through Traefik as expected, so a refusal reads as
//! Traefik's, not as a wrong health path.

use crate::{Proxy, Swarm};
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// How long asking Traefik's API may take.
const ASK: Duration = Duration::from_secs(5);

/// One router of the stack as Traefik sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterView {
    /// The router's name in the recipe's labels (without `@provider`).
    pub name: String,
    /// Its rule, as Traefik read it; `None` when Traefik has no such router at all.
    pub rule: Option<String>,
    /// Its entrypoints.
    pub entrypoints: Vec<String>,
    /// `enabled`, `warning` or `disabled`, as Traefik says; `missing` when Traefik lists no
    /// router of that name (its labels were refused before it became one).
    pub status: String,
    /// Traefik's reasons, each as it gives it.
    pub errors: Vec<String>,
}

impl RouterView {
    /// Whether Traefik refused the router, wholly or in part.
    pub fn refused(&self) -> bool {
        self.status != "enabled" || !self.errors.is_empty()
    }

    /// Whether every reason is about an entrypoint the proxy lacks.
    pub fn only_missing_entrypoints(&self) -> bool {
        !self.errors.is_empty()
            && self
                .errors
                .iter()
                .all(|e| e.contains("entryPoint") && e.contains("doesn't exist"))
    }

    /// Whether its rule could send `host` + `path` here: a `Host(…)` naming `host` (or no
    /// Host at all) and, with `PathPrefix(…)`, one prefix `path` starts with. A reading of
    /// the rules Co-op Cloud recipes write, not all of Traefik's rule language.
    pub fn matches(&self, host: &str, path: &str) -> bool {
        let Some(rule) = &self.rule else {
            return false;
        };
        let args = |matcher: &str| -> Vec<String> {
            rule.match_indices(&format!("{matcher}("))
                .filter_map(|(at, m)| {
                    let rest = &rule[at + m.len()..];
                    let end = rest.find(')')?;
                    Some(
                        rest[..end]
                            .split(',')
                            .map(|a| a.trim().trim_matches(['`', '"', '\'']).to_string())
                            .collect::<Vec<_>>(),
                    )
                })
                .flatten()
                .collect()
        };
        let hosts = args("Host");
        let prefixes = args("PathPrefix");
        (hosts.is_empty() || hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
            && (prefixes.is_empty() || prefixes.iter().any(|p| path.starts_with(p.as_str())))
    }
}

#[derive(Deserialize)]
struct ApiRouter {
    name: String,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default, rename = "entryPoints")]
    entry_points: Vec<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    error: Vec<String>,
    #[serde(default)]
    provider: String,
}

/// Every router the services of `stack` declare, as `proxy` sees them; `Ok(None)` when the
/// proxy publishes no API entrypoint to ask.
pub async fn stack_routers(
    swarm: &Swarm,
    proxy: &Proxy,
    stack: &str,
) -> Result<Option<Vec<RouterView>>, String> {
    let Some(api_port) = proxy.api_port else {
        return Ok(None);
    };
    let labels = swarm
        .service_labels(stack)
        .await
        .map_err(|e| format!("the labels of {stack}'s services: {e}"))?;
    let names = router_names(
        labels
            .iter()
            .flat_map(|(_, l)| l.keys().map(String::as_str)),
    );
    let api = format!("{}:{api_port}", swarm.node_host());
    let api: SocketAddr = api
        .parse()
        .map_err(|e| format!("Traefik's API address {api}: {e}"))?;
    routers(api, &names).await.map(Some)
}

/// The routers named `names` (from the stack's `traefik.http.routers.<name>.…` labels) as the
/// Traefik whose API answers at `api` sees them. Routers of other providers are left out.
pub async fn routers(api: SocketAddr, names: &[String]) -> Result<Vec<RouterView>, String> {
    let client = reqwest::Client::builder()
        .timeout(ASK)
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("http://{api}/api/http/routers?per_page=10000");
    let body = client
        .get(&url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("GET {url}: {e}"))?
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let listed: Vec<ApiRouter> = serde_json::from_slice(&body)
        .map_err(|e| format!("GET {url}: not Traefik's router list: {e}"))?;
    Ok(names
        .iter()
        .map(|name| {
            let found = listed.iter().find(|r| {
                r.provider != "internal"
                    && r.name.split_once('@').map_or(r.name.as_str(), |(n, _)| n) == name
            });
            match found {
                Some(r) => RouterView {
                    name: name.clone(),
                    rule: r.rule.clone(),
                    entrypoints: r.entry_points.clone(),
                    status: r.status.clone(),
                    errors: r.error.clone(),
                },
                None => RouterView {
                    name: name.clone(),
                    rule: None,
                    entrypoints: Vec::new(),
                    status: "missing".into(),
                    errors: vec!["Traefik lists no router of this name: it refused its labels (see Traefik's log)".into()],
                },
            }
        })
        .collect())
}

/// The router names a service's labels declare (`traefik.http.routers.<name>.<key>`).
pub fn router_names<'a>(labels: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = labels
        .into_iter()
        .filter_map(|k| k.strip_prefix("traefik.http.routers."))
        .filter_map(|rest| rest.split_once('.').map(|(n, _)| n.to_string()))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(rule: &str) -> RouterView {
        RouterView {
            name: "r".into(),
            rule: Some(rule.into()),
            entrypoints: vec![],
            status: "enabled".into(),
            errors: vec![],
        }
    }

    #[test]
    fn rules_are_read_as_recipes_write_them() {
        let r = router("Host(`a.ccci.test`) && PathPrefix(`/fss-cms`)");
        assert!(r.matches("a.ccci.test", "/fss-cms/api/health"));
        assert!(!r.matches("a.ccci.test", "/api/health"));
        assert!(!r.matches("b.ccci.test", "/fss-cms/"));
        let r = router("Host(`a.ccci.test`, `www.a.ccci.test`)");
        assert!(r.matches("www.a.ccci.test", "/"));
        assert!(router("PathPrefix(`/x`)").matches("any", "/x/y"));
    }

    #[test]
    fn router_names_come_from_the_labels() {
        let labels = [
            "traefik.enable",
            "traefik.http.routers.app.rule",
            "traefik.http.routers.app.middlewares",
            "traefik.http.routers.app-files.rule",
            "traefik.http.services.app.loadbalancer.server.port",
        ];
        assert_eq!(router_names(labels), ["app", "app-files"]);
    }

    #[test]
    fn a_refusal_for_a_missing_entrypoint_alone_is_told_apart() {
        let mut r = router("Host(`a`)");
        r.status = "warning".into();
        r.errors = vec!["entryPoint \"gemini\" doesn't exist".into()];
        assert!(r.refused() && r.only_missing_entrypoints());
        r.errors
            .push("middleware \"x@docker\" does not exist".into());
        assert!(!r.only_missing_entrypoints());
    }
}
