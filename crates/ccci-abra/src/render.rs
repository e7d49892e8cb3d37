//! Turns the merged compose (`docker stack config` output) into the stack ccci deploys.
//! Pure: YAML in, YAML out, so every rule here is unit-tested.
//!
//! What it does, in order:
//! 1. checks names Swarm would reject (service names over 63 characters, secret and config
//!    names over 64) *before* anything is created, as Swarm would refuse them half-way [R23];
//! 2. stamps abra's labels on the main service: `coop-cloud.<stack>.version`, `.recipe`,
//!    `.chaos` and, for chaos deploys, `.chaos-version`, as abra does (the upgrade proves the
//!    head runs by reading them back);
//! 3. finds the web service: the one whose Traefik `loadbalancer.server.port` label says
//!    where it serves HTTP (the main service when it has one, else the service whose labels
//!    name the app's domain, else the first: in lemp-style recipes nginx `frontend` serves
//!    while `app` is php-fpm). Only what the host lacks or the routing needs is changed, and
//!    every change is listed ([`Rendered::changes`]): without IPVS (Swarm's virtual IPs and
//!    ingress ports need it) every service gets `endpoint_mode: dnsrr` and every published
//!    port `mode: host`; with a host port (no Traefik) the web service is published
//!    on the chosen host port at that target; wherever a host port is held, updates are
//!    stop-first (a host-mode port cannot be held by two tasks). With Traefik and IPVS the
//!    stack is deployed as written;
//! 4. escapes `$` as `$$` in every value: the merged file is already interpolated, and
//!    `docker stack deploy` would interpolate it a second time.

use crate::error::AbraError;
use ccci_core::ChaosVersion;
use serde_yaml_ng::{Mapping, Value};

/// What to stamp and how to route.
#[derive(Debug, Clone)]
pub struct RenderInput<'a> {
    /// The stack name.
    pub stack: &'a str,
    /// The recipe's name.
    pub recipe: &'a str,
    /// The main service (`app`).
    pub service: &'a str,
    /// The release deployed; `None` keeps the version label the recipe has (chaos deploys
    /// keep the last release's label, as abra does).
    pub version: Option<String>,
    /// For chaos deploys, the commit stamped as chaos-version.
    pub chaos: Option<ChaosVersion>,
    /// Without Traefik, the port of the Swarm's host the web service is published on (the app
    /// is reached at `http://<host>:<port>`); `None` through Traefik, where the stack is left
    /// as the recipe wrote it.
    pub host_port: Option<u16>,
    /// The app's domain, to tell which of several routed services serves it.
    pub domain: &'a str,
    /// Whether the host has IPVS, which Swarm's virtual IPs and ingress-mode ports need.
    /// Without it every service gets `endpoint_mode: dnsrr` and published ports `mode: host`.
    pub ipvs: bool,
    /// The name this Traefik gives the Swarm provider that recipes call `docker`: with
    /// `Some("swarm")` (Traefik 3 behind Co-op Cloud's naming) every `<name>@docker` in a
    /// Traefik label reads as `<name>@swarm`, each change recorded; `None` keeps labels as
    /// written.
    pub docker_provider_as: Option<&'a str>,
    /// Labels stamped on every service's `deploy.labels`, as ccci marks what it keeps on the
    /// Swarm beyond a run (`ccci.canonical=<recipe>` on a canonical deployment).
    pub service_labels: &'a [(String, String)],
    /// For an untrusted head: the limits a service gets where the recipe sets none (each
    /// one given is a listed change); `None` deploys the recipe's resources as written.
    pub default_limits: Option<&'a ccci_core::policy::Limits>,
}

/// Service keys `docker stack deploy` does not apply, with what that means for the recipe.
const IGNORED_KEYS: &[(&str, &str)] = &[
    (
        "depends_on",
        "Swarm starts services in no particular order; each must wait for what it needs itself",
    ),
    (
        "build",
        "Swarm only runs images; build and push it elsewhere",
    ),
    ("restart", "Swarm uses deploy.restart_policy instead"),
    ("container_name", "Swarm names containers itself"),
    (
        "links",
        "services reach each other by name on a shared network",
    ),
    (
        "external_links",
        "services reach each other by name on a shared network",
    ),
    ("network_mode", "Swarm services join networks instead"),
    ("privileged", "Swarm services cannot be privileged"),
    ("devices", "Swarm services cannot map devices"),
    ("ipc", "Swarm does not apply it"),
    ("pid", "Swarm does not apply it"),
    ("security_opt", "Swarm does not apply it"),
    ("shm_size", "Swarm does not apply it"),
    ("userns_mode", "Swarm does not apply it"),
    ("cgroup_parent", "Swarm does not apply it"),
    ("domainname", "Swarm does not apply it"),
    ("mac_address", "Swarm does not apply it"),
    (
        "expose",
        "services on one network reach each other on any port",
    ),
];

/// The stack to deploy and what it needs.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The stack file's YAML.
    pub yaml: String,
    /// `(service, image)` for every service.
    pub images: Vec<(String, String)>,
    /// Swarm names of the external secrets the stack uses.
    pub external_secrets: Vec<String>,
    /// Names of the external networks the stack joins.
    pub external_networks: Vec<String>,
    /// The service that serves the app's web route, and its HTTP port inside the container,
    /// from its Traefik `loadbalancer.server.port` label.
    pub web: Option<(String, u16)>,
    /// Compose keys the stack uses that Swarm ignores, with the services using each and what
    /// that means: said once per deploy, never an error.
    pub ignored: Vec<String>,
    /// The longest `stop_grace_period` of any service (Swarm's default is 10 s).
    pub stop_grace: std::time::Duration,
    /// Every change made to the stack as the recipe wrote it, one line each, with why:
    /// only what this host lacks (IPVS) or the routing mode needs is changed.
    pub changes: Vec<String>,
    /// What each service's tasks must run once the deploy has taken.
    pub run_specs: Vec<ccci_swarm::RunSpec>,
}

/// Renders the stack; see the module docs for the four steps, one function each.
pub fn render(merged: &str, input: &RenderInput<'_>) -> Result<Rendered, AbraError> {
    let mut doc: Value = serde_yaml_ng::from_str(merged)
        .map_err(|e| AbraError::HostFault(format!("merged compose is not YAML: {e}")))?;
    let root = doc
        .as_mapping_mut()
        .ok_or_else(|| AbraError::HostFault("merged compose is not a mapping".into()))?;
    check_names(root, input)?;
    let external_secrets = external(root, "secrets");
    let external_networks = external(root, "networks");
    let services = services_of(root, input)?;
    let survey = survey(services, input)?;
    stamp_labels(services, input);
    let stamped = services
        .values_mut()
        .filter_map(Value::as_mapping_mut)
        .filter(|_| !input.service_labels.is_empty());
    for svc in stamped {
        let labels = child(child(svc, "deploy"), "labels");
        for (k, v) in input.service_labels {
            labels.insert(k.clone().into(), v.clone().into());
        }
    }
    let web = web_service(services, input);
    let mut changes = Vec::new();
    if !input.ipvs {
        without_ipvs(services, &mut changes);
    }
    if let Some(published) = input.host_port {
        publish_on_host(services, web.as_ref(), published, &mut changes);
    }
    if let (None, Some(provider)) = (input.host_port, input.docker_provider_as) {
        rename_docker_provider(services, provider, &mut changes);
    }
    if let Some(limits) = input.default_limits {
        limit(services, limits, &mut changes);
    }
    let run_specs = run_specs(&doc, input.stack);
    escape_dollars(&mut doc);
    let yaml = serde_yaml_ng::to_string(&doc)
        .map_err(|e| AbraError::HostFault(format!("cannot write the stack file: {e}")))?;
    Ok(Rendered {
        yaml,
        images: survey.images,
        external_secrets,
        external_networks,
        web,
        ignored: survey.ignored,
        stop_grace: survey.stop_grace,
        changes,
        run_specs,
    })
}

/// What each service's tasks must run, read from the stack file as deployed (interpolated,
/// before `$` is escaped for the docker CLI): what [`ccci_swarm::off_spec`] holds the running
/// tasks to.
fn run_specs(doc: &Value, stack: &str) -> Vec<ccci_swarm::RunSpec> {
    // A top-level secret or config is named by its `name`, else by its key when external,
    // else `<stack>_<key>` (as `docker stack deploy` names it).
    let swarm_name = |kind: &str, key: &str| {
        let def = doc.get(kind).and_then(|m| m.get(key));
        let external = def
            .and_then(|d| d.get("external"))
            .is_some_and(|e| e.as_bool() == Some(true) || e.is_mapping());
        match def.and_then(|d| d.get("name")).and_then(Value::as_str) {
            Some(name) => name.to_string(),
            None if external => key.to_string(),
            None => format!("{stack}_{key}"),
        }
    };
    let sources = |svc: &Value, kind: &str| {
        svc.get(kind)
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|x| {
                x.as_str()
                    .or_else(|| x.get("source").and_then(Value::as_str))
            })
            .map(|key| swarm_name(kind, key))
            .collect()
    };
    let scalar = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    };
    let services = doc.get("services").and_then(Value::as_mapping);
    services
        .into_iter()
        .flatten()
        .filter_map(|(key, svc)| {
            let env = match svc.get("environment") {
                Some(Value::Mapping(m)) => m
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), scalar(v))))
                    .collect(),
                Some(Value::Sequence(l)) => l
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|kv| match kv.split_once('=') {
                        Some((k, v)) => (k.to_string(), v.to_string()),
                        None => (kv.to_string(), String::new()),
                    })
                    .collect(),
                _ => Default::default(),
            };
            Some(ccci_swarm::RunSpec {
                service: format!("{stack}_{}", key.as_str()?),
                image: svc.get("image").map(scalar).unwrap_or_default(),
                env,
                configs: sources(svc, "configs"),
                secrets: sources(svc, "secrets"),
            })
        })
        .collect()
}

/// Step 1: names Swarm would reject, found before anything is created: secret and config
/// names over 64 characters, service names over 63.
fn check_names(root: &Mapping, input: &RenderInput<'_>) -> Result<(), AbraError> {
    let stack = input.stack;
    for kind in ["secrets", "configs"] {
        let Some(m) = root.get(kind).and_then(Value::as_mapping) else {
            continue;
        };
        for (key, def) in m {
            let name = def
                .get("name")
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| format!("{stack}_{}", key.as_str().unwrap_or("")));
            if name.len() > 64 {
                return Err(AbraError::NameTooLong {
                    kind: if kind == "secrets" {
                        "secret"
                    } else {
                        "config"
                    },
                    len: name.len(),
                    name,
                    stack: stack.into(),
                });
            }
        }
    }
    let services = root.get("services").and_then(Value::as_mapping);
    for name in services
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(Value::as_str)
    {
        let full = format!("{stack}_{name}");
        if full.len() > 63 {
            return Err(AbraError::Recipe(format!(
                "service name `{full}` is {} characters, over Swarm's limit of 63: use a shorter domain (the stack name `{stack}` is derived from it)",
                full.len()
            )));
        }
    }
    Ok(())
}

/// The names of the top-level `secrets` or `networks` marked `external: true`.
fn external(root: &Mapping, kind: &str) -> Vec<String> {
    root.get(kind)
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .filter(|(_, d)| d.get("external").and_then(Value::as_bool) == Some(true))
                .map(|(k, d)| {
                    d.get("name")
                        .and_then(Value::as_str)
                        .or(k.as_str())
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The `services` mapping, which must hold the main service.
fn services_of<'m>(
    root: &'m mut Mapping,
    input: &RenderInput<'_>,
) -> Result<&'m mut Mapping, AbraError> {
    let services = root
        .get_mut("services")
        .and_then(Value::as_mapping_mut)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            AbraError::Recipe(format!(
                "recipe {}: the compose files define no services",
                input.recipe
            ))
        })?;
    if !services.contains_key(input.service) {
        let names: Vec<&str> = services.keys().filter_map(Value::as_str).collect();
        return Err(AbraError::Recipe(format!(
            "recipe {}: no service named `{}` (it has: {}); Co-op Cloud recipes name their main service `app` (abra lint R009), or set `service:` in ccci.yml",
            input.recipe,
            input.service,
            names.join(", ")
        )));
    }
    Ok(services)
}

/// What the services say about the deploy without changing it.
struct Survey {
    images: Vec<(String, String)>,
    ignored: Vec<String>,
    stop_grace: std::time::Duration,
}

/// Every service's image (each must have one), the compose keys Swarm ignores, and the
/// longest `stop_grace_period`.
fn survey(services: &Mapping, input: &RenderInput<'_>) -> Result<Survey, AbraError> {
    let mut images = Vec::new();
    let mut ignored: Vec<(&str, &str, Vec<String>)> = Vec::new();
    let mut stop_grace = std::time::Duration::from_secs(10);
    for (name, svc) in services {
        let name = name.as_str().unwrap_or_default().to_string();
        let svc = svc
            .as_mapping()
            .ok_or_else(|| AbraError::Recipe(format!("service `{name}` is not a mapping")))?;
        let image = svc.get("image").and_then(Value::as_str).ok_or_else(|| {
            AbraError::Recipe(format!(
                "recipe {}: service `{name}` has no image (abra lint R011): every service needs one",
                input.recipe
            ))
        })?;
        images.push((name.clone(), image.to_string()));
        for (key, why) in IGNORED_KEYS {
            if svc.contains_key(*key) {
                match ignored.iter_mut().find(|(k, _, _)| k == key) {
                    Some((_, _, users)) => users.push(name.clone()),
                    None => ignored.push((key, why, vec![name.clone()])),
                }
            }
        }
        if let Some(g) = svc.get("stop_grace_period").and_then(Value::as_str) {
            let grace = parse_go_duration(g).ok_or_else(|| {
                AbraError::Recipe(format!(
                    "service `{name}`: stop_grace_period `{g}` is not a duration: write it like `30s` or `1m30s`"
                ))
            })?;
            stop_grace = stop_grace.max(grace);
        }
    }
    let ignored = ignored
        .into_iter()
        .map(|(key, why, users)| {
            format!(
                "compose key `{key}` (service {}) is ignored by Swarm: {why}",
                users.join(", ")
            )
        })
        .collect();
    Ok(Survey {
        images,
        ignored,
        stop_grace,
    })
}

/// Step 2: abra's labels on the main service.
fn stamp_labels(services: &mut Mapping, input: &RenderInput<'_>) {
    let stack = input.stack;
    let Some(svc) = services
        .get_mut(input.service)
        .and_then(Value::as_mapping_mut)
    else {
        return;
    };
    let labels = child(child(svc, "deploy"), "labels");
    let stamped = crate::Stamp::labels(
        stack,
        input.version.as_deref(),
        input.recipe,
        input.chaos.as_ref(),
    );
    for (k, v) in stamped {
        labels.insert(k.into(), v.into());
    }
}

/// For a Traefik 3 serving recipes written for Co-op Cloud's Traefik: Co-op Cloud's traefik
/// recipe names its Swarm provider `docker` (Traefik 2's `providers.docker` in swarm mode),
/// so recipes name their own middlewares and services `<name>@docker`; Traefik 3 calls the
/// same provider `swarm` and refuses a router that names `@docker`. Every such reference in
/// a `traefik.*` label is read as `@<provider>`, each change recorded.
fn rename_docker_provider(services: &mut Mapping, provider: &str, changes: &mut Vec<String>) {
    let renamed = |value: &str| -> Option<String> {
        let parts: Vec<String> = value
            .split(',')
            .map(|p| match p.trim().strip_suffix("@docker") {
                Some(name) => format!("{name}@{provider}"),
                None => p.trim().to_string(),
            })
            .collect();
        let new = parts.join(",");
        (value.contains("@docker") && new != value).then_some(new)
    };
    for (name, svc) in services.iter_mut() {
        let name = name.as_str().unwrap_or_default().to_string();
        let Some(labels) = svc.get_mut("deploy").and_then(|d| d.get_mut("labels")) else {
            continue;
        };
        let mut note = |key: &str, old: &str, new: &str| {
            changes.push(format!(
                "service {name}: label {key}: `{old}` read as `{new}` (Co-op Cloud's Traefik names its Swarm provider `docker`; Traefik 3 names it `{provider}`)"
            ))
        };
        match labels {
            Value::Mapping(m) => {
                for (k, v) in m.iter_mut() {
                    let key = k.as_str().unwrap_or_default().to_string();
                    if !key.starts_with("traefik.") {
                        continue;
                    }
                    if let Some(new) = v.as_str().and_then(renamed) {
                        note(&key, v.as_str().unwrap_or_default(), &new);
                        *v = new.into();
                    }
                }
            }
            Value::Sequence(items) => {
                for item in items.iter_mut() {
                    let Some((key, value)) = item.as_str().and_then(|i| i.split_once('=')) else {
                        continue;
                    };
                    if !key.starts_with("traefik.") {
                        continue;
                    }
                    if let Some(new) = renamed(value) {
                        note(key, value, &new);
                        *item = format!("{key}={new}").into();
                    }
                }
            }
            _ => {}
        }
    }
}

/// Step 3, for a host without IPVS: every service `endpoint_mode: dnsrr` (its name resolves
/// to its tasks' addresses instead of a virtual IP) and every published port `mode: host`
/// (the ingress mesh needs IPVS too), with stop-first updates wherever a host port is held
/// (a host port can be held by one task only). Each change is recorded.
fn without_ipvs(services: &mut Mapping, changes: &mut Vec<String>) {
    for (name, svc) in services.iter_mut() {
        let name = name.as_str().unwrap_or_default().to_string();
        let Some(svc) = svc.as_mapping_mut() else {
            continue;
        };
        let deploy = child(svc, "deploy");
        if deploy.get("endpoint_mode").and_then(Value::as_str) != Some("dnsrr") {
            deploy.insert("endpoint_mode".into(), "dnsrr".into());
            changes.push(format!(
                "service {name}: endpoint_mode dnsrr (Swarm's virtual IPs need IPVS, which this host lacks)"
            ));
        }
        let mut host_ports = false;
        if let Some(ports) = svc.get_mut("ports").and_then(Value::as_sequence_mut) {
            for p in ports.iter_mut().filter_map(Value::as_mapping_mut) {
                if p.get("mode").and_then(Value::as_str) != Some("host") {
                    let target = p.get("target").and_then(Value::as_u64).unwrap_or_default();
                    p.insert("mode".into(), "host".into());
                    changes.push(format!(
                        "service {name}: port {target} published in host mode (the ingress mesh needs IPVS)"
                    ));
                }
                host_ports = true;
            }
        }
        if host_ports {
            stop_first(svc, &name, changes);
        }
    }
}

/// Step 3, with a host port (no Traefik): the web service published on `published` of the host,
/// where ccci reaches it without Traefik.
fn publish_on_host(
    services: &mut Mapping,
    web: Option<&(String, u16)>,
    published: u16,
    changes: &mut Vec<String>,
) {
    let Some((name, target)) = web else {
        return;
    };
    let Some(svc) = services
        .get_mut(name.as_str())
        .and_then(Value::as_mapping_mut)
    else {
        return;
    };
    let mut port = Mapping::new();
    port.insert("target".into(), u64::from(*target).into());
    port.insert("published".into(), u64::from(published).into());
    port.insert("protocol".into(), "tcp".into());
    port.insert("mode".into(), "host".into());
    let ports = svc
        .entry("ports".into())
        .or_insert_with(|| Value::Sequence(vec![]));
    if let Some(seq) = ports.as_sequence_mut() {
        seq.push(Value::Mapping(port));
    }
    changes.push(format!(
        "service {name}: port {target} published on host port {published} (host-port routing: no Traefik)"
    ));
    stop_first(svc, name, changes);
}

/// Stop-first updates and rollbacks for a service that holds a host port: a start-first
/// update would wait for ever for the port its old task still holds.
/// Gives every service the limits of `limits` its recipe does not set itself.
fn limit(services: &mut Mapping, limits: &ccci_core::policy::Limits, changes: &mut Vec<String>) {
    for (name, svc) in services.iter_mut() {
        let (Some(name), Some(svc)) = (name.as_str(), svc.as_mapping_mut()) else {
            continue;
        };
        let set = child(child(child(svc, "deploy"), "resources"), "limits");
        for (key, value) in [("memory", &limits.memory), ("cpus", &limits.cpus)] {
            let Some(value) = value else { continue };
            if set.contains_key(key) {
                continue;
            }
            set.insert(key.into(), value.clone().into());
            changes.push(format!(
                "service {name}: {key} limited to {value} (the recipe sets no limit; an untrusted head's default)"
            ));
        }
    }
}

fn stop_first(svc: &mut Mapping, name: &str, changes: &mut Vec<String>) {
    let deploy = child(svc, "deploy");
    let mut changed = false;
    for key in ["update_config", "rollback_config"] {
        let cfg = child(deploy, key);
        if cfg.get("order").and_then(Value::as_str) != Some("stop-first") {
            cfg.insert("order".into(), "stop-first".into());
            changed = true;
        }
    }
    let said =
        format!("service {name}: stop-first updates (a host port is held by one task at a time)");
    if changed && !changes.contains(&said) {
        changes.push(said);
    }
}

/// The HTTP port a Traefik `loadbalancer.server.port` label gives a service, if any.
fn lb_port(svc: &Value) -> Option<u16> {
    let labels = svc.get("deploy")?.get("labels")?.as_mapping()?;
    labels
        .iter()
        .find(|(k, _)| {
            k.as_str().is_some_and(|k| {
                k.starts_with("traefik.http.services.") && k.ends_with(".loadbalancer.server.port")
            })
        })
        .and_then(|(_, v)| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .or(v.as_u64().and_then(|n| u16::try_from(n).ok()))
        })
}

/// The service serving the app's web route; see the module docs.
fn web_service(services: &Mapping, input: &RenderInput<'_>) -> Option<(String, u16)> {
    let routed: Vec<(String, u16, bool)> = services
        .iter()
        .filter_map(|(name, svc)| {
            let port = lb_port(svc)?;
            let names_domain = !input.domain.is_empty()
                && serde_yaml_ng::to_string(svc.get("deploy")?.get("labels")?)
                    .is_ok_and(|t| t.contains(&format!("`{}`", input.domain)));
            Some((name.as_str()?.to_string(), port, names_domain))
        })
        .collect();
    routed
        .iter()
        .find(|(n, _, _)| n == input.service)
        .or_else(|| routed.iter().find(|(_, _, d)| *d))
        .or_else(|| routed.first())
        .map(|(n, p, _)| (n.clone(), *p))
}

/// A Go duration as compose writes `stop_grace_period`: `45s`, `1m30s`, `1h`, `500ms`.
fn parse_go_duration(s: &str) -> Option<std::time::Duration> {
    let mut total = 0f64;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += n * mult;
        rest = &rest[unit_len..];
    }
    Some(std::time::Duration::from_secs_f64(total))
}

fn child<'m>(m: &'m mut Mapping, key: &str) -> &'m mut Mapping {
    let v = m
        .entry(key.into())
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if !v.is_mapping() {
        *v = Value::Mapping(Mapping::new());
    }
    v.as_mapping_mut().expect("just made a mapping")
}

fn escape_dollars(v: &mut Value) {
    match v {
        Value::String(s) if s.contains('$') => *s = s.replace('$', "$$"),
        Value::Sequence(seq) => seq.iter_mut().for_each(escape_dollars),
        Value::Mapping(m) => m.iter_mut().for_each(|(_, v)| escape_dollars(v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERGED: &str = r#"version: "3.8"
services:
  app:
    image: local/nginx:1.22
    deploy:
      labels:
        coop-cloud.cust_ccci_test.version: 1.0.0+1.22
        traefik.enable: "true"
        traefik.http.services.cust_ccci_test.loadbalancer.server.port: "80"
    healthcheck:
      test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1; echo $HOME"]
    networks:
      proxy: null
    secrets:
      - source: db_password
  db:
    image: local/busybox:1.35
    ports:
      - mode: ingress
        target: 5432
        published: 15432
        protocol: tcp
networks:
  proxy:
    name: proxy
    external: true
secrets:
  db_password:
    name: cust_ccci_test_db_password_v1
    external: true
"#;

    fn input(host_port: Option<u16>) -> RenderInput<'static> {
        RenderInput {
            stack: "cust_ccci_test",
            recipe: "custom-html",
            service: "app",
            version: Some("1.1.0+1.22".into()),
            chaos: None,
            host_port,
            domain: "cust.ccci.test",
            ipvs: host_port.is_none(),
            docker_provider_as: Some("swarm"),
            service_labels: &[],
            default_limits: None,
        }
    }

    #[test]
    fn an_untrusted_heads_services_get_the_limits_their_recipe_does_not_set() {
        let merged = "services:\n  app:\n    image: nginx:1.27\n  db:\n    image: mariadb:10.11\n    deploy:\n      resources:\n        limits:\n          memory: 512M\n";
        let limits = ccci_core::policy::Limits::default();
        let mut i = input(None);
        i.default_limits = Some(&limits);
        let r = render(merged, &i).unwrap();
        let doc: Value = serde_yaml_ng::from_str(&r.yaml).unwrap();
        let of = |svc: &str| &doc["services"][svc]["deploy"]["resources"]["limits"];
        assert_eq!(of("app")["memory"], "2G");
        assert_eq!(of("app")["cpus"], "1");
        assert_eq!(of("db")["memory"], "512M", "the recipe's own limit is kept");
        assert_eq!(of("db")["cpus"], "1");
        assert_eq!(
            r.changes
                .iter()
                .filter(|c| c.contains("an untrusted head's default"))
                .count(),
            3,
            "{:?}",
            r.changes
        );
        let trusted = render(merged, &input(None)).unwrap();
        assert!(
            !trusted.yaml.contains("cpus"),
            "a trusted run is as written"
        );
    }

    #[test]
    fn local_routing_snapshot() {
        let r = render(MERGED, &input(Some(20080))).unwrap();
        assert_eq!(r.web, Some(("app".to_string(), 80)));
        assert_eq!(r.stop_grace, std::time::Duration::from_secs(10));
        assert_eq!(r.external_secrets, ["cust_ccci_test_db_password_v1"]);
        assert_eq!(r.external_networks, ["proxy"]);
        assert_eq!(
            r.images,
            [
                ("app".to_string(), "local/nginx:1.22".to_string()),
                ("db".to_string(), "local/busybox:1.35".to_string())
            ]
        );
        insta::assert_snapshot!(r.yaml);
    }

    #[test]
    fn chaos_deploy_keeps_release_label_and_stamps_commit() {
        let mut i = input(None);
        i.version = None;
        i.chaos = Some(ChaosVersion::new("0123456789abcdef", true));
        let r = render(MERGED, &i).unwrap();
        assert!(
            r.yaml
                .contains("coop-cloud.cust_ccci_test.version: 1.0.0+1.22"),
            "{}",
            r.yaml
        );
        assert!(
            r.yaml
                .contains("coop-cloud.cust_ccci_test.chaos-version: 01234567+U"),
            "{}",
            r.yaml
        );
        assert!(
            r.yaml.contains("coop-cloud.cust_ccci_test.chaos: 'true'"),
            "{}",
            r.yaml
        );
        assert!(
            !r.yaml.contains("dnsrr") && r.changes.is_empty(),
            "Traefik routing with IPVS leaves the stack as written: {:?}",
            r.changes
        );
    }

    #[test]
    fn without_ipvs_only_what_the_host_lacks_is_changed_and_listed() {
        let mut i = input(None);
        i.ipvs = false;
        let r = render(MERGED, &i).unwrap();
        assert!(
            r.changes
                .iter()
                .any(|c| c.starts_with("service app: endpoint_mode dnsrr")),
            "{:?}",
            r.changes
        );
        assert!(
            !r.changes.iter().any(|c| c.contains("host-port routing")),
            "Traefik reaches the app: nothing is published for ccci: {:?}",
            r.changes
        );
        let host = render(MERGED, &input(Some(20080))).unwrap();
        assert!(
            host.changes
                .iter()
                .any(|c| c == "service app: port 80 published on host port 20080 (host-port routing: no Traefik)"),
            "{:?}",
            host.changes
        );
    }

    #[test]
    fn names_swarm_would_reject_fail_before_deploy() {
        let long = "a".repeat(55);
        let merged = MERGED.replace(
            "cust_ccci_test_db_password_v1",
            &format!("{long}_db_password_v1"),
        );
        let e = render(&merged, &input(None)).unwrap_err().to_string();
        assert!(
            e.starts_with("secret name `")
                && e.contains("over Swarm's limit of 64")
                && e.contains("shorter domain"),
            "{e}"
        );

        let mut i = input(None);
        let stack = "s".repeat(60);
        i.stack = &stack;
        let e = render(MERGED, &i).unwrap_err().to_string();
        assert!(e.contains("over Swarm's limit of 63"), "{e}");
    }

    /// lemp (shared/recipes): `app` is php-fpm, nginx `frontend` carries the Traefik labels.
    #[test]
    fn the_web_service_is_the_one_traefik_routes_to() {
        let merged = r#"services:
  app:
    image: php:8.0-fpm
    depends_on: [db]
  frontend:
    image: nginx:1.19.2
    depends_on: [app]
    stop_grace_period: 1m30s
    deploy:
      labels:
        traefik.http.services.s.loadbalancer.server.port: "80"
        traefik.http.routers.s.rule: Host(`cust.ccci.test`)
  db:
    image: mariadb:10.6
    restart: always
"#;
        let r = render(merged, &input(Some(20080))).unwrap();
        assert_eq!(r.web, Some(("frontend".to_string(), 80)));
        assert!(r.yaml.contains("published: 20080"), "{}", r.yaml);
        assert_eq!(r.stop_grace, std::time::Duration::from_secs(90));
        assert_eq!(
            r.ignored,
            [
                "compose key `depends_on` (service app, frontend) is ignored by Swarm: Swarm starts services in no particular order; each must wait for what it needs itself",
                "compose key `restart` (service db) is ignored by Swarm: Swarm uses deploy.restart_policy instead"
            ]
        );
        let bad = merged.replace("1m30s", "soon");
        let e = render(&bad, &input(None)).unwrap_err().to_string();
        assert!(
            e.contains("stop_grace_period `soon` is not a duration"),
            "{e}"
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(
            parse_go_duration("45s"),
            Some(std::time::Duration::from_secs(45))
        );
        assert_eq!(
            parse_go_duration("1m30s"),
            Some(std::time::Duration::from_secs(90))
        );
        assert_eq!(
            parse_go_duration("1h"),
            Some(std::time::Duration::from_secs(3600))
        );
        assert_eq!(
            parse_go_duration("1.5s"),
            Some(std::time::Duration::from_millis(1500))
        );
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn missing_main_service_names_what_exists() {
        let mut i = input(None);
        i.service = "web";
        let e = render(MERGED, &i).unwrap_err().to_string();
        assert!(
            e.contains("no service named `web` (it has: app, db)"),
            "{e}"
        );
    }
}
