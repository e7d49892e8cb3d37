//! `RecipeMeta`: every per-recipe setting in one typed place, with defaults, so an unknown
//! key is an error with a suggestion rather than a silently ignored line [R4].
//!
//! A recipe's test crate sets them in `ccci.yml` next to its `Cargo.toml` (read by the
//! harness, parsed here) or in Rust. Unknown keys are errors with a did-you-mean suggestion,
//! because a misspelt `deploy_timout` silently falling back to the default is exactly the kind
//! of quiet wrongness that costs a day.
//!
//! ```yaml
//! recipe: custom-html
//! source: { releases: recipe }   # or { git: https://git.coopcloud.tech/coop-cloud/custom-html }
//! health_path: /
//! health_ok: [200]
//! deploy_timeout: 5m
//! expected_na:
//!   backup_restore: stateless static site
//! ```

use crate::ladder::Rung;
use crate::suggest::did_you_mean;
use crate::version::Version;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Where the recipe's git repository comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A directory (relative to the test crate) with one sub-directory per release, named by
    /// its version, plus an optional `HEAD/` for unreleased work. The harness builds a real git
    /// repository from it: one commit and one annotated tag per release.
    Releases(String),
    /// A git URL or path, cloned as it is (its tags are the releases).
    Git(String),
}

/// A readiness probe run after install, upgrade and restore: the app is ready only when its
/// own probes pass, not just its health path [R11].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// An HTTP GET on the app's base URL.
    Http {
        /// Path under the base URL.
        path: String,
        /// Accepted status codes.
        ok: Vec<u16>,
    },
    /// TCP connects to a port published on the Swarm's host (127.0.0.1 for a local one).
    Tcp {
        /// The port.
        port: u16,
        /// Consecutive successful connects required.
        stable: u32,
    },
}

/// A dependency the recipe declares: its name (what the recipe calls it, e.g. `keycloak`;
/// [`crate::deps::Kind::of`] says what ccci provides for it) and what the provider needs to
/// know about the app.
///
/// ```yaml
/// deps: [oidc]                                          # or, with options:
/// deps: {oidc: {redirect_paths: [/oauth2/callback]}}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dep {
    /// The name, as `deps` writes it and `ctx.deps` and `{deps.<name>.<key>}` use it.
    pub name: String,
    /// Paths on the app's base URL the provider may send a signed-in user back to (an OIDC
    /// client's redirect URIs); default `/`.
    pub redirect_paths: Vec<String>,
}

impl Dep {
    /// A dependency with default options.
    pub fn named(name: impl Into<String>) -> Dep {
        Dep {
            name: name.into(),
            redirect_paths: vec!["/".into()],
        }
    }
}

/// `deps` as written: a list of names (`[oidc]`, items may be one-key maps with options), or
/// a map of name to options (`{oidc: {redirect_paths: [/cb]}}`).
fn parse_deps(v: &serde_yaml_ng::Value) -> Result<Vec<Dep>, String> {
    use serde_yaml_ng::Value;
    let shape =
        "write `deps: [oidc]`, or with options `deps: {oidc: {redirect_paths: [/callback]}}`";
    let one = |name: &Value, options: Option<&Value>| -> Result<Dep, String> {
        let name = name
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("a dependency's name must be a word: {shape}"))?;
        let mut dep = Dep::named(name);
        let Some(options) = options.filter(|o| !o.is_null()) else {
            return Ok(dep);
        };
        let map = options
            .as_mapping()
            .ok_or_else(|| format!("`{name}`: its options must be a map: {shape}"))?;
        for (k, v) in map {
            match k.as_str() {
                Some("redirect_paths") => {
                    let paths: Vec<String> = serde_yaml_ng::from_value(v.clone()).map_err(|_| format!("`{name}`: redirect_paths must be a list of paths, e.g. [/callback]"))?;
                    if let Some(p) = paths.iter().find(|p| !p.starts_with('/')) {
                        return Err(format!("`{name}`: redirect path `{p}` must start with `/`"));
                    }
                    if paths.is_empty() {
                        return Err(format!(
                            "`{name}`: redirect_paths must name at least one path"
                        ));
                    }
                    dep.redirect_paths = paths;
                }
                other => {
                    return Err(format!(
                        "`{name}`: unknown option `{}` (options: redirect_paths)",
                        other.unwrap_or("?")
                    ))
                }
            }
        }
        Ok(dep)
    };
    let deps = match v {
        Value::Null => Vec::new(),
        Value::Sequence(items) => items
            .iter()
            .map(|item| match item {
                Value::Mapping(m) if m.len() == 1 => {
                    let (name, options) = m.iter().next().expect("one entry");
                    one(name, Some(options))
                }
                other => one(other, None),
            })
            .collect::<Result<_, _>>()?,
        Value::Mapping(m) => m
            .iter()
            .map(|(k, v)| one(k, Some(v)))
            .collect::<Result<_, _>>()?,
        _ => return Err(shape.into()),
    };
    for (i, d) in deps.iter().enumerate() {
        if deps[..i].iter().any(|e| e.name == d.name) {
            return Err(format!("`{}` is declared twice", d.name));
        }
    }
    Ok(deps)
}

/// Every `{deps.<name>.<key>}` in `value` names a declared dependency and, for a kind ccci
/// provides, one of its keys.
fn check_references(deps: &[Dep], value: &str) -> Result<(), String> {
    for r in crate::deps::references(value) {
        if !deps.iter().any(|d| d.name == r.name) {
            return Err(format!(
                "`{{deps.{}.{}}}` reads a dependency `deps` does not declare: add `{}` to deps",
                r.name, r.key, r.name
            ));
        }
        if let Some(kind) = crate::deps::Kind::of(&r.name) {
            if !kind.keys().contains(&r.key.as_str()) {
                let hint = did_you_mean(&r.key, kind.keys().iter().copied())
                    .map(|s| format!(" — did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(format!(
                    "`{{deps.{}.{}}}`: {} gives no `{}`{hint} (keys: {})",
                    r.name,
                    r.key,
                    r.name,
                    r.key,
                    kind.keys().join(", ")
                ));
            }
        }
    }
    Ok(())
}

// serde_yaml_ng reads enums only from YAML tags (`!git x`); settings files are friendlier as
// one-key maps (`{git: x}`), so these are read as structs with exactly one field set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    releases: Option<String>,
    git: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    http: Option<RawHttp>,
    tcp: Option<RawTcp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    path: String,
    #[serde(default = "default_ok")]
    ok: Vec<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTcp {
    port: u16,
    #[serde(default = "one")]
    stable: u32,
}

/// Every per-recipe setting, with the defaults a typical recipe needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecipeMeta {
    /// The recipe's name, e.g. `custom-html`.
    pub recipe: String,
    /// Where its git repository comes from.
    pub source: Source,
    /// The service Traefik routes to and abra labels; Co-op Cloud calls it `app`.
    pub service: String,
    /// Path probed for health on the app's base URL (`HEALTH_PATH`).
    pub health_path: String,
    /// Status codes that count as healthy (`HEALTH_OK`).
    pub health_ok: Vec<u16>,
    /// The budget of each op step (install, upgrade, backup, restore), from the step's start;
    /// everything the step does runs under it (see `ccci::budget`) [R12].
    #[serde(with = "secs")]
    pub deploy_timeout: Duration,
    /// Extra app env for every deploy, e.g. `COMPOSE_FILE` (`EXTRA_ENV`).
    pub extra_env: BTreeMap<String, String>,
    /// Extra app env for the upgrade redeploy only (`UPGRADE_EXTRA_ENV`).
    pub upgrade_extra_env: BTreeMap<String, String>,
    /// Release to upgrade from; default the release before the head (`UPGRADE_BASE_VERSION`).
    pub upgrade_base_version: Option<Version>,
    /// Extra readiness probes (`READY_PROBE`).
    pub ready_probe: Vec<Probe>,
    /// `None`: detect from backupbot labels; `Some(b)`: the recipe says (`BACKUP_CAPABLE`).
    pub backup_capable: Option<bool>,
    /// Rungs that do not apply to this recipe, with the reason (`EXPECTED_NA`).
    pub expected_na: BTreeMap<Rung, String>,
    /// Dependencies the recipe needs, e.g. an SSO provider (`DEPS`): ccci provides each
    /// whose kind it knows ([`crate::deps::Kind`]) to the run, and refuses the run before it
    /// deploys when one is of a kind it cannot provide.
    pub deps: Vec<Dep>,
    /// Values for the app's own secrets instead of generated ones, by the secret's name in
    /// the compose file (`SECRET_<NAME>_VERSION`), e.g. `oidc_client_secret:
    /// "{deps.oidc.client_secret}"`.
    pub secrets: BTreeMap<String, String>,
    /// Deadline of each recipe function (functional test or lifecycle hook): one that has not
    /// finished by then fails, and the run goes on to teardown.
    #[serde(with = "secs")]
    pub test_timeout: Duration,
    /// Whether a `<name>@docker` in a Traefik label (a middleware or service of the recipe's
    /// own) is read as Traefik 3's `<name>@swarm`, as on a Co-op Cloud server whose Traefik
    /// names its Swarm provider `docker` (the default, `true`); `false` deploys the labels as
    /// written, for a server whose Traefik 3 names it `swarm`.
    pub rename_docker_provider: bool,
    /// Whether the recipe is enrolled in the warm fleet (`CANONICAL`): a canonical deployment
    /// kept known-good on the Swarm, which the quick lane tests pull requests on, a green cold
    /// run of its latest release promotes, and the sweep runs (docs/fleet.md).
    pub canonical: bool,
    /// How many releases before the head the upgrade rung starts from (`UPGRADE_FROM`, default
    /// 1): each path deploys its release and upgrades it to the head in a deployment of its
    /// own, and the rung passes only when every path does.
    pub upgrade_from: u32,
    /// Whether the run ends by rolling the app back to the release its upgrade started from,
    /// as `abra app rollback` does, which must come up healthy with the data intact; a red
    /// rollback caps no rung but makes the verdict red. `None` (unsaid): only when the run is
    /// asked to (the sweep, `--rollback`); `Some(false)`: never, whoever asks (a recipe that
    /// says why it cannot be rolled back here).
    pub rollback: Option<bool>,
}

impl RecipeMeta {
    /// Defaults for a recipe named `recipe` whose repository comes from `source`.
    pub fn new(recipe: impl Into<String>, source: Source) -> Self {
        RecipeMeta {
            recipe: recipe.into(),
            source,
            service: "app".into(),
            health_path: "/".into(),
            health_ok: default_ok(),
            deploy_timeout: Duration::from_secs(300),
            extra_env: BTreeMap::new(),
            upgrade_extra_env: BTreeMap::new(),
            upgrade_base_version: None,
            ready_probe: Vec::new(),
            backup_capable: None,
            expected_na: BTreeMap::new(),
            deps: Vec::new(),
            secrets: BTreeMap::new(),
            test_timeout: Duration::from_secs(300),
            rename_docker_provider: true,
            canonical: false,
            upgrade_from: 1,
            rollback: None,
        }
    }

    /// Every key `ccci.yml` accepts.
    pub const KEYS: &'static [&'static str] = &[
        "recipe",
        "source",
        "service",
        "health_path",
        "health_ok",
        "deploy_timeout",
        "extra_env",
        "upgrade_extra_env",
        "upgrade_base_version",
        "ready_probe",
        "backup_capable",
        "expected_na",
        "deps",
        "secrets",
        "test_timeout",
        "rename_docker_provider",
        "canonical",
        "upgrade_from",
        "rollback",
    ];

    /// Parses the text of a `ccci.yml`. `file` is only used in error messages.
    ///
    /// ```
    /// use ccci_core::RecipeMeta;
    /// let m = RecipeMeta::from_yaml("ccci.yml", "recipe: x\nsource: {git: ../x}\ndeploy_timeout: 2m\n").unwrap();
    /// assert_eq!(m.deploy_timeout.as_secs(), 120);
    /// let e = RecipeMeta::from_yaml("ccci.yml", "recipe: x\nsource: {git: ../x}\nhelth_path: /\n").unwrap_err();
    /// assert!(e.to_string().contains("did you mean `health_path`"));
    /// ```
    pub fn from_yaml(file: &str, text: &str) -> Result<RecipeMeta, MetaError> {
        RecipeMeta::from_layers(&[Layer::parse(file, text)?])
    }

    /// Settings from layers, lowest precedence first: a key in a later layer replaces the
    /// same key of an earlier one (a whole value: `extra_env` is not merged key by key).
    /// Every error names the layer the offending key came from.
    pub fn from_layers(layers: &[Layer]) -> Result<RecipeMeta, MetaError> {
        let mut merged = serde_yaml_ng::Mapping::new();
        let mut origin: BTreeMap<String, String> = BTreeMap::new();
        for layer in layers {
            for (k, v) in &layer.map {
                let key = k.as_str().unwrap_or_default().to_string();
                origin.insert(key, layer.origin.clone());
                merged.insert(k.clone(), v.clone());
            }
        }
        let text = serde_yaml_ng::to_string(&merged).map_err(|e| MetaError::Yaml {
            file: "settings".into(),
            message: e.to_string(),
        })?;
        let fallback = layers.last().map_or("settings", |l| l.origin.as_str());
        // From text, not the Value: serde_yaml_ng reads `source: {git: …}` as an enum only there.
        let raw: RawMeta = serde_yaml_ng::from_str(&text).map_err(|e| MetaError::Yaml {
            file: fallback.into(),
            message: e.to_string(),
        })?;
        raw.into_meta(&|key: &str| {
            origin
                .get(key)
                .cloned()
                .unwrap_or_else(|| fallback.to_string())
        })
    }
}

/// One source of settings: a `ccci.yml` (a test crate's, or a recipe repository's own) or
/// a `--set key=value` on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Where it came from, for messages: a file, or `--set key`.
    pub origin: String,
    /// Its keys, each checked to be a setting.
    pub map: serde_yaml_ng::Mapping,
}

impl Layer {
    /// Parses a settings file. Unknown keys are refused with a did-you-mean suggestion, and
    /// each value is checked on its own, so a mistake names this file.
    pub fn parse(origin: &str, text: &str) -> Result<Layer, MetaError> {
        let yaml = |message: String| MetaError::Yaml {
            file: origin.into(),
            message,
        };
        let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| {
            yaml(format!(
                "not valid YAML: {e}: fix it there (indentation, a missing quote or colon)"
            ))
        })?;
        let map = match doc {
            serde_yaml_ng::Value::Mapping(m) => m,
            serde_yaml_ng::Value::Null => serde_yaml_ng::Mapping::new(),
            _ => return Err(yaml("the file must be a mapping of settings".into())),
        };
        Layer::checked(origin, map)
    }

    /// A `--set key=value`: the value is YAML (`--set 'health_ok=[200, 404]'`,
    /// `--set deploy_timeout=90s`); `--set extra_env.NAME=value` sets one entry of a map.
    pub fn parse_set(arg: &str) -> Result<Layer, MetaError> {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(MetaError::Yaml {
                file: format!("--set {arg}"),
                message: "write it as `--set key=value`, e.g. `--set health_path=/api/health`"
                    .into(),
            });
        };
        let origin = format!("--set {key}");
        let value: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(value).map_err(|e| MetaError::Yaml {
                file: origin.clone(),
                message: format!(
                    "`{value}` is not a YAML value ({e}): write the value as YAML, quoted for the shell, e.g. --set 'health_ok=[200, 404]'"
                ),
            })?;
        let mut map = serde_yaml_ng::Mapping::new();
        match key.split_once('.') {
            Some((outer, inner)) => {
                let mut m = serde_yaml_ng::Mapping::new();
                m.insert(inner.into(), value);
                map.insert(outer.into(), m.into());
            }
            None => {
                map.insert(key.into(), value);
            }
        }
        Layer::checked(&origin, map)
    }

    fn checked(origin: &str, map: serde_yaml_ng::Mapping) -> Result<Layer, MetaError> {
        for key in map.keys() {
            let key = key.as_str().unwrap_or_default();
            if !RecipeMeta::KEYS.contains(&key) {
                return Err(MetaError::UnknownKey {
                    file: origin.into(),
                    key: key.into(),
                    suggestion: did_you_mean(key, RecipeMeta::KEYS.iter().copied())
                        .map(String::from),
                    valid: RecipeMeta::KEYS.join(", "),
                });
            }
        }
        // Each value on its own, so that a wrong type is blamed on this layer.
        let text = serde_yaml_ng::to_string(&map).map_err(|e| MetaError::Yaml {
            file: origin.into(),
            message: e.to_string(),
        })?;
        let raw = serde_yaml_ng::from_str::<RawMeta>(&text).map_err(|e| MetaError::Yaml {
            file: origin.into(),
            message: e.to_string(),
        })?;
        if let Some(deps) = &raw.deps {
            parse_deps(deps).map_err(|message| MetaError::Invalid {
                file: origin.into(),
                key: "deps".into(),
                message,
            })?;
        }
        Ok(Layer {
            origin: origin.into(),
            map,
        })
    }

    /// Whether this layer sets `key`.
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }
}

/// A `ccci.yml` that cannot be used. Every message names the file and the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    /// A key that is not a setting.
    #[error("{file}: unknown key `{key}`{} (valid keys: {valid})", suggestion.as_ref().map(|s| format!(" — did you mean `{s}`?")).unwrap_or_default())]
    UnknownKey {
        /// The settings file.
        file: String,
        /// The key as written.
        key: String,
        /// The closest valid key, if one is close.
        suggestion: Option<String>,
        /// All valid keys, comma-separated.
        valid: String,
    },
    /// A known key with a value of the wrong shape.
    #[error("{file}: `{key}`: {message}")]
    Invalid {
        /// The settings file.
        file: String,
        /// The key.
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// Not YAML, or a value serde could not read.
    #[error("{file}: {message}")]
    Yaml {
        /// The settings file.
        file: String,
        /// The parser's message, with its line and column.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    recipe: Option<String>,
    source: Option<RawSource>,
    service: Option<String>,
    health_path: Option<String>,
    health_ok: Option<Vec<u16>>,
    deploy_timeout: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    extra_env: BTreeMap<String, String>,
    #[serde(default)]
    upgrade_extra_env: BTreeMap<String, String>,
    upgrade_base_version: Option<String>,
    #[serde(default)]
    ready_probe: Vec<RawProbe>,
    backup_capable: Option<bool>,
    #[serde(default)]
    expected_na: BTreeMap<String, String>,
    deps: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    secrets: BTreeMap<String, String>,
    test_timeout: Option<serde_yaml_ng::Value>,
    rename_docker_provider: Option<bool>,
    canonical: Option<bool>,
    upgrade_from: Option<u32>,
    rollback: Option<bool>,
}

impl RawMeta {
    fn into_meta(self, origin: &dyn Fn(&str) -> String) -> Result<RecipeMeta, MetaError> {
        let invalid = |key: &str, message: String| MetaError::Invalid {
            file: origin(key),
            key: key.into(),
            message,
        };
        let recipe = self.recipe.ok_or_else(|| {
            invalid(
                "recipe",
                "missing: name the recipe, e.g. `recipe: custom-html`".into(),
            )
        })?;
        let source_help = "say where the recipe repository is: `source: {releases: <dir>}` or `source: {git: <url or path>}`";
        let source = match self.source {
            Some(RawSource {
                releases: Some(dir),
                git: None,
            }) => Source::Releases(dir),
            Some(RawSource {
                releases: None,
                git: Some(url),
            }) => Source::Git(url),
            Some(_) => {
                return Err(invalid(
                    "source",
                    format!("give exactly one of `releases` and `git`: {source_help}"),
                ))
            }
            None => return Err(invalid("source", format!("missing: {source_help}"))),
        };
        let mut m = RecipeMeta::new(recipe, source);
        if let Some(s) = self.service {
            m.service = s;
        }
        if let Some(p) = self.health_path {
            if !p.starts_with('/') {
                return Err(invalid("health_path", format!("`{p}` must start with `/`")));
            }
            m.health_path = p;
        }
        if let Some(ok) = self.health_ok {
            if ok.is_empty() || ok.iter().any(|c| !(100..600).contains(c)) {
                return Err(invalid(
                    "health_ok",
                    format!("{ok:?} must be a non-empty list of HTTP status codes (100–599)"),
                ));
            }
            m.health_ok = ok;
        }
        if let Some(t) = self.deploy_timeout {
            m.deploy_timeout = parse_duration(&t).map_err(|msg| invalid("deploy_timeout", msg))?;
        }
        if let Some(v) = self.upgrade_base_version {
            m.upgrade_base_version = Some(
                v.parse()
                    .map_err(|e| invalid("upgrade_base_version", format!("{e}")))?,
            );
        }
        for p in self.ready_probe {
            m.ready_probe.push(match p {
                RawProbe { http: Some(h), tcp: None } => Probe::Http { path: h.path, ok: h.ok },
                RawProbe { http: None, tcp: Some(t) } if t.stable > 0 => Probe::Tcp { port: t.port, stable: t.stable },
                RawProbe { http: None, tcp: Some(_) } => return Err(invalid("ready_probe", "tcp `stable` must be at least 1".into())),
                _ => return Err(invalid("ready_probe", "each probe is exactly one of `{http: {path: /x}}` or `{tcp: {port: N, stable: 3}}`".into())),
            });
        }
        m.backup_capable = self.backup_capable;
        for (rung, reason) in self.expected_na {
            let r = Rung::parse(&rung).ok_or_else(|| {
                let names = Rung::ALL.map(Rung::as_str);
                let hint = did_you_mean(&rung, names)
                    .map(|s| format!(" — did you mean `{s}`?"))
                    .unwrap_or_default();
                invalid(
                    "expected_na",
                    format!("`{rung}` is not a rung{hint} (rungs: {})", names.join(", ")),
                )
            })?;
            if r == Rung::Install {
                return Err(invalid(
                    "expected_na",
                    "install cannot be declared not applicable: every recipe must deploy".into(),
                ));
            }
            if reason.trim().is_empty() {
                return Err(invalid(
                    "expected_na",
                    format!("`{rung}` needs a reason, e.g. `{rung}: stateless static site`"),
                ));
            }
            m.expected_na.insert(r, reason);
        }
        m.extra_env = self.extra_env;
        m.upgrade_extra_env = self.upgrade_extra_env;
        set_dependencies(&mut m, self.deps.as_ref(), self.secrets, &invalid)?;
        set_fleet(&mut m, self.canonical, self.upgrade_from, &invalid)?;
        if let Some(r) = self.rename_docker_provider {
            m.rename_docker_provider = r;
        }
        m.rollback = self.rollback;
        if let Some(t) = self.test_timeout {
            m.test_timeout = parse_duration(&t).map_err(|msg| invalid("test_timeout", msg))?;
        }
        for (key, d) in [
            ("deploy_timeout", m.deploy_timeout),
            ("test_timeout", m.test_timeout),
        ] {
            if d.is_zero() || d > Duration::from_secs(24 * 3600) {
                return Err(invalid(
                    key,
                    format!("{}s: give a duration from 1s to 24h", d.as_secs()),
                ));
            }
        }
        Ok(m)
    }
}

/// The most upgrade paths a run may take: each is a deployment of its own.
pub const MAX_UPGRADE_FROM: u32 = 8;

/// `canonical` and `upgrade_from` into `m`, once they agree with the rest of it.
fn set_fleet(
    m: &mut RecipeMeta,
    canonical: Option<bool>,
    upgrade_from: Option<u32>,
    invalid: &dyn Fn(&str, String) -> MetaError,
) -> Result<(), MetaError> {
    if let Some(n) = upgrade_from {
        if !(1..=MAX_UPGRADE_FROM).contains(&n) {
            return Err(invalid(
                "upgrade_from",
                format!("{n}: give how many releases before the head to upgrade from, 1 to {MAX_UPGRADE_FROM}"),
            ));
        }
        if n > 1 && m.upgrade_base_version.is_some() {
            return Err(invalid(
                "upgrade_from",
                format!(
                    "{n} paths and `upgrade_base_version` name the upgrade's base twice: keep one"
                ),
            ));
        }
        m.upgrade_from = n;
    }
    if canonical == Some(true) && !m.deps.is_empty() {
        // A realm lives as long as the run that made it; a canonical outlives every run.
        return Err(invalid(
            "canonical",
            "a canonical deployment outlives every run, and the realms ccci provides for `deps` end with their run: remove `canonical: true`, or `deps`".into(),
        ));
    }
    m.canonical = canonical.unwrap_or(false);
    Ok(())
}

/// `deps` and `secrets` into `m`, once every template in `m`'s env and secrets
/// (`{deps.<name>.<key>}`) names a declared dependency and one of its keys.
fn set_dependencies(
    m: &mut RecipeMeta,
    deps: Option<&serde_yaml_ng::Value>,
    secrets: BTreeMap<String, String>,
    invalid: &dyn Fn(&str, String) -> MetaError,
) -> Result<(), MetaError> {
    if let Some(deps) = deps {
        m.deps = parse_deps(deps).map_err(|msg| invalid("deps", msg))?;
    }
    let lower = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if let Some(name) = secrets
        .keys()
        .find(|n| n.is_empty() || !n.chars().all(lower))
    {
        return Err(invalid("secrets", format!("`{name}` is not a secret's name: give the name the compose file and `SECRET_<NAME>_VERSION` use, lower case (e.g. `oidc_client_secret`)")));
    }
    m.secrets = secrets;
    for (key, map) in [
        ("extra_env", &m.extra_env),
        ("upgrade_extra_env", &m.upgrade_extra_env),
        ("secrets", &m.secrets),
    ] {
        for (k, v) in map {
            check_references(&m.deps, v).map_err(|msg| invalid(key, format!("{k}: {msg}")))?;
        }
    }
    Ok(())
}

/// Seconds as an integer, or a number with `s`, `m` or `h`.
fn parse_duration(v: &serde_yaml_ng::Value) -> Result<Duration, String> {
    let expected = "expected seconds (`300`) or a number with s/m/h (`90s`, `15m`, `1h`)";
    if let Some(n) = v.as_u64() {
        return Ok(Duration::from_secs(n));
    }
    let shown = serde_json::to_string(v).unwrap_or_default();
    let s = v.as_str().ok_or_else(|| format!("`{shown}`: {expected}"))?;
    duration(s).ok_or_else(|| format!("`{s}`: {expected}"))
}

/// A duration as settings write it: seconds (`300`), or a number with `s`, `m` or `h`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(ccci_core::meta::duration("90m"), Some(Duration::from_secs(5400)));
/// assert_eq!(ccci_core::meta::duration("2 days"), None);
/// ```
pub fn duration(s: &str) -> Option<Duration> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return None,
    };
    n.checked_mul(mult).map(Duration::from_secs)
}

/// A size as settings write it: bytes (`1048576`), or a number with `K`, `M`, `G` or `T`
/// (binary: `4G` is 4 GiB).
///
/// ```
/// assert_eq!(ccci_core::meta::size("4G"), Some(4 << 30));
/// assert_eq!(ccci_core::meta::size("lots"), None);
/// ```
pub fn size(s: &str) -> Option<u64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().ok()?;
    let shift = match unit {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        "T" | "t" => 40,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

fn default_ok() -> Vec<u16> {
    vec![200]
}
fn one() -> u32 {
    1
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "recipe: custom-html\nsource: {releases: recipe}\n";

    fn parse(extra: &str) -> Result<RecipeMeta, MetaError> {
        RecipeMeta::from_yaml("recipes/x/ccci.yml", &format!("{BASE}{extra}"))
    }

    #[test]
    fn defaults_are_what_a_typical_recipe_needs() {
        let m = parse("").unwrap();
        assert_eq!(m.service, "app");
        assert_eq!(m.health_path, "/");
        assert_eq!(m.health_ok, [200]);
        assert_eq!(m.deploy_timeout, Duration::from_secs(300));
        assert_eq!(m.backup_capable, None);
        assert_eq!(m.source, Source::Releases("recipe".into()));
    }

    #[test]
    fn every_setting_is_read() {
        let m = parse(
            "service: web\nhealth_path: /healthz\nhealth_ok: [200, 302]\ndeploy_timeout: 15m\n\
             extra_env: {COMPOSE_FILE: 'compose.yml:compose.x.yml'}\nupgrade_extra_env: {A: b}\n\
             upgrade_base_version: 1.0.0+1.22\nready_probe: [{tcp: {port: 64738, stable: 3}}, {http: {path: /x}}]\n\
             backup_capable: false\nexpected_na: {backup_restore: stateless}\ndeps: [keycloak]\n",
        )
        .unwrap();
        assert_eq!(m.deploy_timeout, Duration::from_secs(900));
        assert_eq!(m.health_ok, [200, 302]);
        assert_eq!(m.extra_env["COMPOSE_FILE"], "compose.yml:compose.x.yml");
        assert_eq!(m.upgrade_base_version.unwrap().to_string(), "1.0.0+1.22");
        assert_eq!(
            m.ready_probe[0],
            Probe::Tcp {
                port: 64738,
                stable: 3
            }
        );
        assert_eq!(
            m.ready_probe[1],
            Probe::Http {
                path: "/x".into(),
                ok: vec![200]
            }
        );
        assert_eq!(m.expected_na[&Rung::BackupRestore], "stateless");
        assert_eq!(m.backup_capable, Some(false));
        assert_eq!(m.deps, [Dep::named("keycloak")]);
    }

    #[test]
    fn deps_are_names_or_names_with_options() {
        let m = parse("deps: [oidc]\n").unwrap();
        assert_eq!(m.deps, [Dep::named("oidc")]);
        assert_eq!(m.deps[0].redirect_paths, ["/"]);
        for form in [
            "deps: {oidc: {redirect_paths: [/cb]}}\n",
            "deps: [{oidc: {redirect_paths: [/cb]}}]\n",
        ] {
            let m = parse(form).unwrap();
            assert_eq!(m.deps[0].redirect_paths, ["/cb"], "{form}");
        }
        for (bad, says) in [
            ("deps: nope\n", "write `deps: [oidc]`"),
            ("deps: [oidc, oidc]\n", "declared twice"),
            (
                "deps: {oidc: {redirect_paths: [cb]}}\n",
                "must start with `/`",
            ),
            ("deps: {oidc: {scopes: [x]}}\n", "unknown option `scopes`"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains("`deps`") && e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn templates_read_only_declared_dependencies_and_their_keys() {
        let m = parse(
            "deps: [keycloak]\nextra_env: {ISSUER: '{deps.keycloak.issuer}'}\nsecrets: {client_secret: '{deps.keycloak.client_secret}'}\n",
        )
        .unwrap();
        assert_eq!(m.secrets["client_secret"], "{deps.keycloak.client_secret}");
        let e = parse("extra_env: {ISSUER: '{deps.oidc.issuer}'}\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("extra_env") && e.contains("add `oidc` to deps"),
            "{e}"
        );
        let e = parse("deps: [oidc]\nupgrade_extra_env: {X: '{deps.oidc.isuer}'}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `issuer`"), "{e}");
        let e = parse("secrets: {Bad-Name: x}\n").unwrap_err().to_string();
        assert!(e.contains("`secrets`") && e.contains("lower case"), "{e}");
    }

    #[test]
    fn unknown_key_names_file_key_and_suggestion() {
        let e = parse("deploy_timout: 10\n").unwrap_err().to_string();
        assert!(
            e.starts_with(
                "recipes/x/ccci.yml: unknown key `deploy_timout` — did you mean `deploy_timeout`?"
            ),
            "{e}"
        );
        let e = parse("colour: blue\n").unwrap_err().to_string();
        assert!(
            !e.contains("did you mean") && e.contains("valid keys: recipe, source"),
            "{e}"
        );
    }

    #[test]
    fn later_layers_win_and_errors_name_their_layer() {
        let base = Layer::parse(
            "--recipe-git",
            "recipe: lemp\nsource: {git: ../lemp.bundle}\n",
        )
        .unwrap();
        let own = Layer::parse(
            "lemp@HEAD:ccci.yml",
            "health_path: /index.php\ndeploy_timeout: 2m\n",
        )
        .unwrap();
        let set = Layer::parse_set("health_ok=[200, 404]").unwrap();
        let path = Layer::parse_set("health_path=/api/health").unwrap();
        let env = Layer::parse_set("extra_env.SEED_ON_EMPTY=false").unwrap();
        let m = RecipeMeta::from_layers(&[base.clone(), own.clone(), set, path, env]).unwrap();
        assert_eq!(m.health_path, "/api/health");
        assert_eq!(m.health_ok, [200, 404]);
        assert_eq!(m.deploy_timeout, Duration::from_secs(120));
        assert_eq!(m.extra_env["SEED_ON_EMPTY"], "false");

        let bad = Layer::parse_set("health_path=api").unwrap();
        let e = RecipeMeta::from_layers(&[base.clone(), own, bad])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--set health_path: `health_path`: `api` must start with `/`"),
            "{e}"
        );
        let e = Layer::parse_set("helth_path=/x").unwrap_err().to_string();
        assert!(
            e.contains("--set helth_path: unknown key `helth_path` — did you mean `health_path`?"),
            "{e}"
        );
        let e = Layer::parse_set("health_ok=lots").unwrap_err().to_string();
        assert!(e.starts_with("--set health_ok:"), "{e}");
        let e = Layer::parse_set("health_path").unwrap_err().to_string();
        assert!(e.contains("--set key=value"), "{e}");
        let e = Layer::parse("x/ccci.yml", "deps: nope\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x/ccci.yml:"), "{e}");
        assert!(Layer::parse("empty.yml", "").unwrap().map.is_empty());
    }

    #[test]
    fn durations_must_be_sane() {
        for (yaml, needle) in [
            ("deploy_timeout: 0\n", "from 1s to 24h"),
            ("test_timeout: 48h\n", "from 1s to 24h"),
            ("test_timeout: 2x\n", "`test_timeout`"),
        ] {
            let e = parse(yaml).unwrap_err().to_string();
            assert!(e.contains(needle), "{yaml} -> {e}");
        }
        assert_eq!(
            parse("test_timeout: 90s\n").unwrap().test_timeout,
            Duration::from_secs(90)
        );
    }

    #[test]
    fn bad_values_name_the_key_and_the_fix() {
        for (yaml, needle) in [
            (
                "deploy_timeout: soon\n",
                "`deploy_timeout`: `soon`: expected seconds",
            ),
            (
                "health_path: health\n",
                "`health_path`: `health` must start with `/`",
            ),
            ("health_ok: [999]\n", "`health_ok`"),
            (
                "expected_na: {backup: x}\n",
                "did you mean `backup_restore`?",
            ),
            ("expected_na: {install: x}\n", "every recipe must deploy"),
            ("expected_na: {upgrade: ' '}\n", "needs a reason"),
            ("upgrade_base_version: latest\n", "is not a recipe version"),
            ("ready_probe: [{tcp: {port: 1, stable: 0}}]\n", "at least 1"),
            ("ready_probe: [{}]\n", "exactly one of"),
            (
                "upgrade_from: 0\n",
                "`upgrade_from`: 0: give how many releases",
            ),
            ("upgrade_from: 9\n", "1 to 8"),
            (
                "upgrade_from: 2\nupgrade_base_version: 1.0.0+1\n",
                "name the upgrade's base twice",
            ),
            (
                "canonical: true\ndeps: [oidc]\n",
                "`canonical`: a canonical deployment outlives every run",
            ),
        ] {
            let e = parse(yaml).unwrap_err().to_string();
            assert!(e.contains(needle), "{yaml} -> {e}");
        }
        let e = RecipeMeta::from_yaml("f.yml", "source: {git: x}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`recipe`: missing"), "{e}");
        let e = RecipeMeta::from_yaml("f.yml", "- a\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be a mapping"), "{e}");
    }
}
