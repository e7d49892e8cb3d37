//! What an untrusted head may deploy: its own stack, and nothing of the host or of anyone
//! else's. Checked on the merged compose (`docker stack config`: interpolation and overlays
//! resolved) before anything is created, by every untrusted deploy and by `cargo ccci lint`.
//!
//! A pull request's recipe is input from a stranger. Deployed as written it could mount the
//! Docker socket or `/` (the host, and every secret on it), add capabilities or sysctls, map
//! devices, use any secret, config, volume or network already on the Swarm by name
//! (`external: true`), make the docker CLI read a file of the CI host into a secret or the
//! environment (`file:`, `env_file:`, through a committed symlink too), claim another host in
//! Traefik (an OIDC provider's domain, to which ccci would then send credentials) or a name
//! others resolve on the shared `proxy` network. Each is refused here, one line each naming
//! the service, the key and the value, unless the operator allowed it for the repository by
//! rule and value ([`Allowance`]): the traefik recipe really mounts the Docker socket.
//!
//! Pure: YAML and paths in, refusals out.

use serde_yaml_ng::{Mapping, Value};
use std::fmt;
use std::path::{Path, PathBuf};

pub use ccci_core::policy::{Allowance, Rule};

/// One thing an untrusted head may not deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Which rule.
    pub rule: Rule,
    /// The service, or `None` for a top-level object.
    pub service: Option<String>,
    /// The compose key (`volumes`, `secrets.token.file`, a label's name).
    pub key: String,
    /// The value refused, as an allowance names it.
    pub value: String,
    /// Why it is refused.
    pub why: &'static str,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.service {
            write!(f, "service {s}: ")?;
        }
        write!(
            f,
            "{} `{}` is refused for an untrusted head: {}; an operator who trusts this repository with it allows `{}:{}`",
            self.key, self.value, self.why, self.rule, self.value
        )
    }
}

/// Who the run is: what it may name as its own.
#[derive(Debug, Clone)]
pub struct Own<'a> {
    /// The stack name (its secrets are `<stack>_…`).
    pub stack: &'a str,
    /// The run's domains: a Traefik rule may name these and their subdomains.
    pub domains: &'a [String],
    /// The recipe's checkout: the only files the docker CLI may read for it.
    pub checkout: &'a Path,
}

/// The refusals of the merged compose `merged` for a run that is `own`, less what `allow`
/// allows. Empty when the head may be deployed.
pub fn check(merged: &Value, own: &Own<'_>, allow: &[Allowance]) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    let root = merged.as_mapping();
    let section = |name: &str| root.and_then(|r| r.get(name)).and_then(Value::as_mapping);
    // The networks other stacks share (`proxy`): a name on one is resolved by all of them.
    let shared: Vec<&str> = section("networks")
        .into_iter()
        .flatten()
        .filter(|(_, def)| {
            def.get("external")
                .is_some_and(|e| e.as_bool() == Some(true) || e.is_mapping())
        })
        .filter_map(|(k, _)| k.as_str())
        .collect();
    if let Some(services) = section("services") {
        for (name, svc) in services {
            let (Some(name), Some(svc)) = (name.as_str(), svc.as_mapping()) else {
                continue;
            };
            service(name, svc, own, &shared, &mut refusals);
        }
    }
    top_level(section("volumes"), "volumes", own, &mut refusals);
    top_level(section("secrets"), "secrets", own, &mut refusals);
    top_level(section("configs"), "configs", own, &mut refusals);
    top_level(section("networks"), "networks", own, &mut refusals);
    refusals.retain(|r| !allow.iter().any(|a| a.rule == r.rule && a.value == r.value));
    refusals
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// What an untrusted head's service `name` may not have: what reaches the host
/// ([`host_access`]), a host file, a name other stacks resolve, a foreign host in a route.
fn service(name: &str, svc: &Mapping, own: &Own<'_>, shared: &[&str], out: &mut Vec<Refusal>) {
    let mut refuse = |rule, key: &str, value: String, why| {
        out.push(Refusal {
            rule,
            service: Some(name.to_string()),
            key: key.to_string(),
            value,
            why,
        })
    };
    for (rule, key, value, why) in host_access(svc) {
        refuse(rule, key, value, why);
    }
    for file in strings(svc.get("env_file")) {
        if let Some(path) = outside(own.checkout, &file) {
            refuse(
                Rule::HostFile,
                "env_file",
                path,
                "the docker CLI would read this file of the CI host into the service's environment",
            );
        }
    }
    if let Some(Value::Mapping(nets)) = svc.get("networks") {
        let on_shared = nets
            .iter()
            .filter(|(net, _)| net.as_str().is_some_and(|n| shared.contains(&n)));
        for (net, how) in on_shared {
            // The app's own domain as an alias is how Co-op Cloud apps reach each other on
            // `proxy`; any other name there is one another stack resolves.
            for alias in strings(how.get("aliases")) {
                if !ours(&alias, own.domains) {
                    refuse(
                        Rule::Alias,
                        &format!("networks.{}.aliases", net.as_str().unwrap_or("?")),
                        alias,
                        "an alias on a shared network is a name other stacks resolve to this service",
                    );
                }
            }
        }
    }
    if name.starts_with("ccci") {
        refuse(
            Rule::Alias,
            "services",
            name.to_string(),
            "a service's name is an alias on its networks, and `ccci…` names are ccci's infrastructure",
        );
    }
    let labels = svc
        .get("deploy")
        .and_then(|d| d.get("labels"))
        .or_else(|| svc.get("labels"));
    for (key, rule) in traefik_rules(labels) {
        for host in foreign_hosts(&rule, own.domains) {
            refuse(
                Rule::Host,
                &key,
                host,
                "a Traefik rule may name only the run's own domains and their subdomains",
            );
        }
    }
}

/// What of the host a service's spec reaches, `(rule, key, value, why)` each: a bind mount, a
/// capability, a kernel parameter, a device.
fn host_access(svc: &Mapping) -> Vec<(Rule, &'static str, String, &'static str)> {
    let mut found = Vec::new();
    for v in svc
        .get("volumes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let bind = v.get("type").and_then(Value::as_str) == Some("bind");
        if let Some(source) = v.get("source").and_then(Value::as_str).filter(|_| bind) {
            found.push((
                Rule::BindMount,
                "volumes",
                source.to_string(),
                "a host path gives the head the host's files (the Docker socket gives it the host)",
            ));
        }
    }
    for cap in strings(svc.get("cap_add")) {
        found.push((
            Rule::CapAdd,
            "cap_add",
            cap,
            "a capability widens what the container may do to the host's kernel",
        ));
    }
    let sysctls: Vec<String> = match svc.get("sysctls") {
        Some(Value::Mapping(m)) => m
            .keys()
            .filter_map(|k| k.as_str().map(String::from))
            .collect(),
        other => strings(other)
            .into_iter()
            .map(|s| s.split('=').next().unwrap_or_default().to_string())
            .collect(),
    };
    for key in sysctls {
        found.push((
            Rule::Sysctl,
            "sysctls",
            key,
            "a kernel parameter is the host's to set",
        ));
    }
    for dev in strings(svc.get("devices")) {
        let host = dev.split(':').next().unwrap_or_default().to_string();
        found.push((Rule::Device, "devices", host, "a device is the host's"));
    }
    found
}

/// `(label, rule)` of every Traefik router rule among `labels` (a mapping or `k=v` list).
fn traefik_rules(labels: Option<&Value>) -> Vec<(String, String)> {
    let pairs: Vec<(String, String)> = match labels {
        Some(Value::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
            .collect(),
        other => strings(other)
            .into_iter()
            .filter_map(|l| {
                let (k, v) = l.split_once('=')?;
                Some((k.to_string(), v.to_string()))
            })
            .collect(),
    };
    pairs
        .into_iter()
        .filter(|(k, _)| k.starts_with("traefik.") && k.ends_with(".rule"))
        .collect()
}

/// The hosts `rule` names that are not `domains` or under one; a rule that names no host
/// matches every host, and is given as `*`; a host pattern (`HostRegexp`) as written.
/// Whether `host` is one of `domains` or under one.
fn ours(host: &str, domains: &[String]) -> bool {
    let host = host.to_ascii_lowercase();
    domains.iter().any(|d| {
        let d = d.to_ascii_lowercase();
        host == d || host.ends_with(&format!(".{d}"))
    })
}

fn foreign_hosts(rule: &str, domains: &[String]) -> Vec<String> {
    let ours = |host: &str| ours(host, domains);
    let mut named = 0;
    let mut foreign = Vec::new();
    for (matcher, args) in matchers(rule) {
        match matcher.as_str() {
            "Host" | "HostSNI" => {
                for host in args {
                    named += 1;
                    if !ours(&host) {
                        foreign.push(host);
                    }
                }
            }
            "HostRegexp" | "HostSNIRegexp" => {
                named += 1;
                foreign.extend(args);
            }
            _ => {}
        }
    }
    if named == 0 {
        foreign.push("*".into());
    }
    foreign
}

/// The matchers of a Traefik rule with their quoted arguments: ``Host(`a`, `b`)`` gives
/// `("Host", ["a", "b"])`.
fn matchers(rule: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = rule;
    while let Some(open) = rest.find('(') {
        let name: String = rest[..open]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let Some(close) = rest[open..].find(')') else {
            break;
        };
        let inner = &rest[open + 1..open + close];
        let args = inner
            .split(',')
            .map(|a| {
                a.trim()
                    .trim_matches(|c| c == '`' || c == '"' || c == '\'')
                    .to_string()
            })
            .filter(|a| !a.is_empty())
            .collect();
        if !name.is_empty() {
            out.push((name, args));
        }
        rest = &rest[open + close + 1..];
    }
    out
}

fn top_level(section: Option<&Mapping>, kind: &str, own: &Own<'_>, out: &mut Vec<Refusal>) {
    for (key, def) in section.into_iter().flatten() {
        let Some(key) = key.as_str() else { continue };
        let name = def
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(key)
            .to_string();
        let external = def
            .get("external")
            .is_some_and(|e| e.as_bool() == Some(true) || e.is_mapping());
        let app_own = name.starts_with(&format!("{}_", own.stack));
        let proxy = kind == "networks" && name == "proxy";
        if external && !app_own && !proxy {
            out.push(Refusal {
                rule: Rule::External,
                service: None,
                key: format!("{kind}.{key}.external"),
                value: name.clone(),
                why: "an object already on the Swarm that is not the run's own belongs to someone else",
            });
        }
        if let Some(file) = def.get("file").and_then(Value::as_str) {
            if let Some(path) = outside(own.checkout, file) {
                out.push(Refusal {
                    rule: Rule::HostFile,
                    service: None,
                    key: format!("{kind}.{key}.file"),
                    value: path,
                    why: "the docker CLI would read this file of the CI host into the Swarm",
                });
            }
        }
        let opts = def.get("driver_opts").and_then(Value::as_mapping);
        let binds = opts.is_some_and(|o| {
            o.get("o")
                .and_then(Value::as_str)
                .is_some_and(|v| v.split(',').any(|x| x.trim() == "bind"))
                || o.get("device").is_some()
        });
        if kind == "volumes" && binds {
            let device = opts
                .and_then(|o| o.get("device"))
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            out.push(Refusal {
                rule: Rule::BindMount,
                service: None,
                key: format!("volumes.{key}.driver_opts"),
                value: device,
                why: "a volume bound to a host path gives the head the host's files",
            });
        }
    }
}

/// `file` (relative to `checkout`) when it is outside `checkout` once symlinks are followed,
/// as the path it resolves to; `None` when it is inside. A file that does not exist is
/// judged by its path as written.
fn outside(checkout: &Path, file: &str) -> Option<String> {
    let root = checkout
        .canonicalize()
        .unwrap_or_else(|_| checkout.to_path_buf());
    let path = PathBuf::from(file);
    let path = if path.is_absolute() {
        path
    } else {
        checkout.join(path)
    };
    let resolved = path.canonicalize().unwrap_or_else(|_| normalise(&path));
    (!resolved.starts_with(&root)).then(|| resolved.display().to_string())
}

/// `path` with `.` and `..` taken out, without touching the disk.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(checkout: &Path) -> (Vec<String>, PathBuf) {
        (vec!["app.ccci.test".to_string()], checkout.to_path_buf())
    }

    fn refusals(yaml: &str, checkout: &Path, allow: &[Allowance]) -> Vec<Refusal> {
        let (domains, dir) = own(checkout);
        let doc: Value = serde_yaml_ng::from_str(yaml).unwrap();
        check(
            &doc,
            &Own {
                stack: "app_ccci_test",
                domains: &domains,
                checkout: &dir,
            },
            allow,
        )
    }

    #[test]
    fn a_recipe_that_keeps_to_its_own_stack_passes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nginx.conf"), "x").unwrap();
        let yaml = format!(
            r#"
services:
  app:
    image: nginx
    volumes: [{{type: volume, source: data, target: /data}}]
    networks: {{proxy: {{aliases: [app.ccci.test]}}, internal: {{aliases: [db-cache]}}}}
    deploy:
      labels:
        traefik.http.routers.app.rule: "Host(`app.ccci.test`) || Host(`www.app.ccci.test`)"
volumes: {{data: {{}}}}
networks: {{proxy: {{external: true, name: proxy}}, internal: {{}}}}
secrets: {{db: {{external: true, name: app_ccci_test_db_v1}}}}
configs: {{conf: {{file: {}/nginx.conf}}}}
"#,
            dir.path().display()
        );
        assert_eq!(refusals(&yaml, dir.path(), &[]), vec![]);
    }

    #[test]
    fn every_way_out_of_the_stack_is_refused_naming_service_key_and_value() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).unwrap();
        let yaml = format!(
            r#"
services:
  app:
    image: x
    volumes:
      - {{type: bind, source: /var/run/docker.sock, target: /var/run/docker.sock}}
    cap_add: [NET_ADMIN]
    sysctls: {{net.core.somaxconn: "1024"}}
    devices: ["/dev/fuse:/dev/fuse"]
    env_file: [../../root/.config/token.env]
    networks: {{proxy: {{aliases: [sso.ccci.test]}}}}
    deploy:
      labels:
        traefik.http.routers.a.rule: "Host(`sso.ccci.test`)"
        traefik.http.routers.b.rule: "PathPrefix(`/`)"
  ccci-traefik:
    image: x
volumes: {{bound: {{driver_opts: {{type: none, o: bind, device: /etc}}}}}}
secrets:
  theirs: {{external: true, name: other_ccci_test_db_v1}}
  linked: {{file: {}/link}}
configs:
  passwd: {{file: /etc/passwd}}
networks:
  proxy: {{external: true}}
  host_net: {{external: true, name: ingress}}
"#,
            dir.path().display()
        );
        let found = refusals(&yaml, dir.path(), &[]);
        let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
        let has = |rule: Rule, value: &str| {
            assert!(
                found.iter().any(|r| r.rule == rule && r.value == value),
                "no {rule} {value} in {lines:#?}"
            )
        };
        for (rule, value) in [
            (Rule::BindMount, "/var/run/docker.sock"),
            (Rule::BindMount, "/etc"),
            (Rule::CapAdd, "NET_ADMIN"),
            (Rule::Sysctl, "net.core.somaxconn"),
            (Rule::Device, "/dev/fuse"),
            (Rule::HostFile, "/etc/hostname"),
            (Rule::HostFile, "/etc/passwd"),
            (Rule::External, "other_ccci_test_db_v1"),
            (Rule::External, "ingress"),
            (Rule::Host, "sso.ccci.test"),
            (Rule::Host, "*"),
            (Rule::Alias, "sso.ccci.test"),
            (Rule::Alias, "ccci-traefik"),
        ] {
            has(rule, value);
        }
        assert!(found
            .iter()
            .any(|r| r.rule == Rule::HostFile && r.key == "env_file"));
        assert!(
            lines.contains(&"service app: volumes `/var/run/docker.sock` is refused for an untrusted head: a host path gives the head the host's files (the Docker socket gives it the host); an operator who trusts this repository with it allows `bind_mount:/var/run/docker.sock`".to_string()),
            "{lines:#?}"
        );
    }

    #[test]
    fn an_allowance_lets_exactly_its_rule_and_value_through() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = r#"
services:
  app:
    image: traefik
    volumes:
      - {type: bind, source: /var/run/docker.sock, target: /var/run/docker.sock}
      - {type: bind, source: /etc, target: /host-etc}
"#;
        let allow: Vec<Allowance> = vec!["bind_mount:/var/run/docker.sock".parse().unwrap()];
        let found = refusals(yaml, dir.path(), &allow);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].value, "/etc");
    }

    #[test]
    fn host_matchers_are_read_from_a_rule() {
        let domains = vec!["a.test".to_string()];
        assert!(foreign_hosts("Host(`a.test`) && PathPrefix(`/x`)", &domains).is_empty());
        assert!(foreign_hosts("Host(`www.a.test`)", &domains).is_empty());
        assert_eq!(
            foreign_hosts("Host(`evila.test`)", &domains),
            ["evila.test"]
        );
        assert_eq!(foreign_hosts("HostRegexp(`{x:.+}`)", &domains), ["{x:.+}"]);
        assert_eq!(foreign_hosts("PathPrefix(`/`)", &domains), ["*"]);
        assert_eq!(
            foreign_hosts("Host(`a.test`, `b.test`)", &domains),
            ["b.test"]
        );
    }
}
