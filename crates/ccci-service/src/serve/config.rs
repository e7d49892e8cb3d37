//! `cargo ccci serve --config FILE`: the service's configuration, read once, every problem
//! named with its key and the fix.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration file, as written (YAML).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    public_url: String,
    database: Option<String>,
    host: Option<String>,
    capacity: Option<usize>,
    run_timeout: Option<String>,
    workspace: Option<PathBuf>,
    cargo_ccci: Option<PathBuf>,
    state_dir: Option<PathBuf>,
    sweep_every: Option<String>,
    docker_host: Option<String>,
    runs_beside_the_service: Option<bool>,
    host_retries: Option<u32>,
    keep_logs: Option<String>,
    max_keep: Option<String>,
    forge: ForgeFile,
    repositories: BTreeMap<String, RepoFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgeFile {
    api: String,
    token_file: PathBuf,
    webhook_secret_file: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoFile {
    recipe: Option<String>,
    test_crate: Option<String>,
    #[serde(default)]
    set: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    auto_rerun: bool,
}

/// The service's configuration, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it listens (default `127.0.0.1:8430`).
    pub listen: String,
    /// Where people reach it from the forge: a run's status and report link here.
    pub public_url: String,
    /// The run store (default: the run store variable, else `runs.db` in the state
    /// directory).
    pub database: Option<String>,
    /// This host's name in the queue (default: the machine's).
    pub host: String,
    /// Runs at once on this host (default 2); 0 for a host that only takes deliveries and
    /// serves the dashboard, while other hosts sharing the store run the queue.
    pub capacity: usize,
    /// A run's deadline (default 2h); it is then asked to stop and tear down.
    pub run_timeout: Duration,
    /// The ccci workspace whose `recipes/` test crates run (default: the current directory).
    pub workspace: PathBuf,
    /// The `cargo-ccci` that runs them (default: beside this binary, else on PATH).
    pub cargo_ccci: Option<PathBuf>,
    /// Where the service keeps its clones of the recipes' repositories and each job's files
    /// (default `serve/` in ccci's state directory).
    pub state_dir: PathBuf,
    /// The forge's API base (`https://git.coopcloud.tech/api/v1`).
    pub api: String,
    /// The forge account's token.
    pub token: String,
    /// The webhooks' secret.
    pub webhook_secret: Vec<u8>,
    /// The repositories it serves, by `owner/name`.
    pub repositories: BTreeMap<String, Repository>,
    /// How often this host runs `cargo ccci sweep` (docs/fleet.md), the first one a period
    /// after the service starts; `None` (the default): never.
    pub sweep_every: Option<Duration>,
    /// The tested Swarm's Docker endpoint (`ssh://ci@test-node`), given to every run, sweep
    /// and janitor as `DOCKER_HOST`; `None`: the service's own `DOCKER_HOST`, else this
    /// host's daemon, which [`Config::read`] refuses for a host that runs jobs unless
    /// `runs_beside_the_service` says so.
    pub docker_host: Option<String>,
    /// How many times a run that failed for the host (results.json's `cause: host`) is
    /// queued again on a fresh deployment before the pull request is told (default 1).
    pub host_retries: u32,
    /// How long a job's log and its run's directory are kept after it ended (default 14
    /// days, `336h`).
    pub keep_logs: Duration,
    /// The longest a `!testme keep=…` keeps a red run's deployment (default 2 h; `0s`
    /// keeps none).
    pub max_keep: Duration,
}

/// What the service runs for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// The recipe (default: the repository's name).
    pub recipe: String,
    /// A test crate of the workspace (default: `recipes/<recipe>` when it exists), else the
    /// generic tiers.
    pub test_crate: Option<String>,
    /// Settings on top of the recipe's `ccci.yml` (`--set`).
    pub set: Vec<String>,
    /// What this repository's heads may deploy beyond their own stack (`--allow`): every
    /// head the service runs is untrusted (docs/serve.md#what-a-head-may-deploy).
    pub allow: Vec<ccci_core::policy::Allowance>,
    /// Whether a push to a pull request runs its new head at once (after superseding the
    /// old head's run), or waits for a new `!testme` (the default).
    pub auto_rerun: bool,
}

impl Config {
    /// Reads and checks `path`, the service's own `DOCKER_HOST` being where runs go when
    /// the file does not say.
    ///
    /// # Errors
    /// One line naming the file, the key and the fix.
    pub fn read(path: &Path) -> Result<Config, String> {
        Config::read_for(path, std::env::var("DOCKER_HOST").ok().as_deref())
    }

    /// The variables every subprocess that touches the tested Swarm gets: `DOCKER_HOST` when
    /// the configuration names it.
    pub fn tested_swarm_env(&self) -> Vec<(&'static str, &str)> {
        self.docker_host
            .iter()
            .map(|h| ("DOCKER_HOST", h.as_str()))
            .collect()
    }

    /// [`Config::read`], the service's environment saying `DOCKER_HOST=env_docker_host`.
    fn read_for(path: &Path, env_docker_host: Option<&str>) -> Result<Config, String> {
        let at = |what: String| format!("{}: {what}", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| at(format!("cannot be read: {e}")))?;
        let f: File = serde_yaml_ng::from_str(&text).map_err(|e| at(e.to_string()))?;
        if !(f.public_url.starts_with("http://") || f.public_url.starts_with("https://")) {
            return Err(at(format!(
                "public_url `{}` is not an http(s) URL: say where people reach this service",
                f.public_url
            )));
        }
        let run_timeout = match f.run_timeout.as_deref() {
            None => Duration::from_secs(2 * 3600),
            Some(t) => ccci_core::meta::duration(t).ok_or_else(|| {
                at(format!(
                    "run_timeout `{t}` is not a duration: write it like `90m` or `2h`"
                ))
            })?,
        };
        let capacity = f.capacity.unwrap_or(2);
        let sweep_every = sweep_every(f.sweep_every.as_deref(), &at)?;
        let workspace = absolute(f.workspace.unwrap_or_else(|| PathBuf::from(".")));
        let repositories = repositories(f.repositories, &workspace, &at)?;
        let docker_host = f.docker_host.filter(|h| !h.trim().is_empty());
        let endpoint = docker_host.as_deref().or(env_docker_host);
        // A head is a stranger's code: on the daemon of the host that keeps the forge token,
        // the webhook secret and the store, one escape from its containers reaches them all.
        if capacity > 0 && on_this_host(endpoint) && f.runs_beside_the_service != Some(true) {
            return Err(at(format!(
                "docker_host: the runs would deploy pull requests' heads on this host's own Docker ({}), beside the forge token, the webhook secret and the store: set `docker_host: ssh://<user>@<test node>` to a Swarm kept for tests (docs/serve.md#threat-model), or `runs_beside_the_service: true` for repositories whose pull requests you trust",
                endpoint.unwrap_or("no DOCKER_HOST: the local socket")
            )));
        }
        if repositories.is_empty() {
            return Err(at("repositories: none is named, so every delivery would be refused: name the forge's `owner/name` of each recipe repository".into()));
        }
        Ok(Config {
            listen: f.listen.unwrap_or_else(|| "127.0.0.1:8430".into()),
            public_url: f.public_url.trim_end_matches('/').into(),
            database: f.database,
            host: f
                .host
                .or_else(ccci_core::host::host_name)
                .unwrap_or_else(|| "localhost".into()),
            capacity,
            run_timeout,
            workspace,
            cargo_ccci: f.cargo_ccci,
            state_dir: absolute(
                f.state_dir
                    .unwrap_or_else(|| ccci_core::host::StateDir::of_host().serve()),
            ),
            api: f.forge.api.trim_end_matches('/').into(),
            token: secret("token_file", &f.forge.token_file, &at)?,
            webhook_secret: secret("webhook_secret_file", &f.forge.webhook_secret_file, &at)?
                .into_bytes(),
            repositories,
            sweep_every,
            docker_host,
            host_retries: f.host_retries.unwrap_or(1),
            keep_logs: keep_logs(f.keep_logs.as_deref(), &at)?,
            max_keep: match f.max_keep.as_deref() {
                None => Duration::from_secs(2 * 3600),
                Some(t) => ccci_core::meta::duration(t).ok_or_else(|| {
                    at(format!(
                        "max_keep `{t}` is not a duration: write it like `2h` or `30m`"
                    ))
                })?,
            },
        })
    }
}

/// `sweep_every`, checked: a duration of an hour or more, or none (never).
fn sweep_every(
    t: Option<&str>,
    at: &impl Fn(String) -> String,
) -> Result<Option<Duration>, String> {
    let Some(t) = t else { return Ok(None) };
    ccci_core::meta::duration(t)
        .filter(|d| *d >= Duration::from_secs(3600))
        .map(Some)
        .ok_or_else(|| {
            at(format!(
                "sweep_every `{t}` is not a duration of an hour or more: write it like `24h`"
            ))
        })
}

/// `p` made absolute: the runs, the janitor and the clones work in directories of their own,
/// where a relative path would name another place.
fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}

/// `keep_logs`, checked: a duration of an hour or more (default 14 days).
fn keep_logs(t: Option<&str>, at: &impl Fn(String) -> String) -> Result<Duration, String> {
    match t {
        None => Ok(Duration::from_secs(14 * 24 * 3600)),
        Some(t) => ccci_core::meta::duration(t)
            .filter(|d| *d >= Duration::from_secs(3600))
            .ok_or_else(|| {
                at(format!(
                    "keep_logs `{t}` is not a duration of an hour or more: write it like `336h` (14 days)"
                ))
            }),
    }
}

/// The secret `forge.<key>` names: the trimmed content of `file`, which must not be empty.
fn secret(key: &str, file: &Path, at: &impl Fn(String) -> String) -> Result<String, String> {
    let v = std::fs::read_to_string(file).map_err(|e| {
        at(format!(
            "forge.{key}: {} cannot be read ({e}): write the value into that file",
            file.display()
        ))
    })?;
    let v = v.trim().to_string();
    if v.is_empty() {
        return Err(at(format!("forge.{key}: {} is empty", file.display())));
    }
    Ok(v)
}

/// The configured repositories, each checked: `owner/name` as the forge names it, its test
/// crate in the workspace, what it may deploy beyond its own stack. `at` names the file.
fn repositories(
    listed: BTreeMap<String, RepoFile>,
    workspace: &Path,
    at: &impl Fn(String) -> String,
) -> Result<BTreeMap<String, Repository>, String> {
    let mut repositories = BTreeMap::new();
    for (name, r) in listed {
        let Some((_, short)) = name
            .split_once('/')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
        else {
            return Err(at(format!(
                "repositories: `{name}` is not `owner/name` as the forge names it"
            )));
        };
        let recipe = r.recipe.unwrap_or_else(|| short.to_string());
        let crate_at = |c: &str| workspace.join("recipes").join(c).join("ccci.yml");
        let test_crate = match r.test_crate {
            Some(c) if !crate_at(&c).is_file() => {
                return Err(at(format!(
                    "repositories.{name}.test_crate: no recipes/{c}/ccci.yml in the workspace {}",
                    workspace.display()
                )));
            }
            Some(c) => Some(c),
            None => crate_at(&recipe).is_file().then(|| recipe.clone()),
        };
        let allow = r
            .allow
            .iter()
            .map(|a| {
                a.parse()
                    .map_err(|why: String| at(format!("repositories.{name}.allow: {why}")))
            })
            .collect::<Result<_, _>>()?;
        repositories.insert(
            name,
            Repository {
                recipe,
                test_crate,
                set: r.set,
                allow,
                auto_rerun: r.auto_rerun,
            },
        );
    }
    Ok(repositories)
}

/// Whether a Docker endpoint (`DOCKER_HOST`'s syntax; `None`: the default socket) is this
/// host's own daemon: a local socket, or a TCP or ssh address of this host.
fn on_this_host(endpoint: Option<&str>) -> bool {
    let Some(endpoint) = endpoint else {
        return true;
    };
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return true;
    };
    if !matches!(scheme, "tcp" | "ssh" | "http" | "https") {
        // unix://, fd://, npipe://: a socket of this machine.
        return true;
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let this = ccci_core::host::host_name().unwrap_or_default();
    host.is_empty()
        || host == "localhost"
        || host == "::1"
        || host == "0.0.0.0"
        || host.starts_with("127.")
        || host.eq_ignore_ascii_case(&this)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration with `extra` lines, its secrets beside it, its runs on a test node.
    fn read_with(name: &str, extra: &str) -> Result<Config, String> {
        read_env(name, extra, Some("ssh://ci@test-node.example.org"))
    }

    /// [`read_with`], the service's `DOCKER_HOST` being `env`.
    fn read_env(name: &str, extra: &str, env: Option<&str>) -> Result<Config, String> {
        let dir = std::env::temp_dir().join(format!("ccci-config-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("token"), "t").unwrap();
        std::fs::write(dir.join("secret"), "s").unwrap();
        let path = dir.join("serve.yml");
        std::fs::write(
            &path,
            format!(
                "public_url: http://127.0.0.1:8430\n{extra}forge:\n  api: http://127.0.0.1:1/api/v1\n  token_file: {0}/token\n  webhook_secret_file: {0}/secret\nrepositories:\n  coop-cloud/custom-html: {{}}\n",
                dir.display()
            ),
        )
        .unwrap();
        let read = Config::read_for(&path, env);
        let _ = std::fs::remove_dir_all(&dir);
        read
    }

    #[test]
    fn heads_run_beside_the_services_secrets_only_when_told() {
        let refused = read_env("local", "", None).unwrap_err();
        assert!(
            refused.contains("serve.yml: docker_host: the runs would deploy pull requests' heads on this host's own Docker (no DOCKER_HOST: the local socket)")
                && refused.contains("runs_beside_the_service: true"),
            "{refused}"
        );
        for local in [
            "unix:///var/run/docker.sock",
            "tcp://127.0.0.1:2375",
            "ssh://ci@localhost",
            "ssh://ci@[::1]:22",
        ] {
            assert!(
                read_env("l", "", Some(local)).is_err(),
                "{local} is this host"
            );
            let named = read_env("n", &format!("docker_host: {local}\n"), None);
            assert!(named.is_err(), "{local} named in the file is this host");
        }
        let told = read_env("told", "runs_beside_the_service: true\n", None).unwrap();
        assert!(told.tested_swarm_env().is_empty());
        let node = read_env("node", "docker_host: ssh://ci@test-node:2222\n", None).unwrap();
        assert_eq!(
            node.tested_swarm_env(),
            [("DOCKER_HOST", "ssh://ci@test-node:2222")]
        );
        // A host that runs nothing (it takes deliveries for others) holds no head.
        assert!(read_env("none", "capacity: 0\n", None).is_ok());
    }

    #[test]
    fn a_sweep_period_is_an_hour_or_more_and_none_by_default() {
        assert_eq!(read_with("none", "").unwrap().sweep_every, None);
        assert_eq!(
            read_with("day", "sweep_every: 24h\n").unwrap().sweep_every,
            Some(Duration::from_secs(24 * 3600))
        );
        let e = read_with("short", "sweep_every: 5m\n").unwrap_err();
        assert!(
            e.contains("sweep_every `5m` is not a duration of an hour or more"),
            "{e}"
        );
    }
}
