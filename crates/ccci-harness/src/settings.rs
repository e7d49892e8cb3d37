//! Where a run finds its recipe and its settings: the test crate, ccci's environment variables
//! ([`vars`]), and the settings layers of `ccci.yml` and `--set`.

use crate::error::HarnessError;
use ccci_abra::Pull;
use ccci_core::results::{Lane, Routing};
use ccci_core::{vars, Layer, RecipeMeta};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a run finds its recipe and puts its files. Built from the test crate and environment
/// overrides, so the same binary serves a maintainer, CI and other tools.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The recipe test crate (holds `ccci.yml`; `releases:` sources are relative to it).
    pub crate_dir: PathBuf,
    /// Where run directories go ([`vars::RUNS_DIR`], default `target/ccci/runs`).
    pub runs_dir: PathBuf,
    /// A recipe repository to test instead of `ccci.yml`'s source ([`vars::RECIPE_GIT`]).
    pub recipe_git: Option<String>,
    /// The ref to test ([`vars::REF`]); default the repository's HEAD.
    pub reference: Option<String>,
    /// The app domain ([`vars::DOMAIN`]); default `<4 letters of the recipe>-<6 hex>.ccci.test`.
    pub domain: Option<String>,
    /// Also write results.json here ([`vars::RESULTS_FILE`]).
    pub results_copy: Option<PathBuf>,
    /// This host's name in what the run records ([`vars::HOST`]); `None`: the machine's.
    pub host: Option<String>,
    /// How apps are reached ([`vars::ROUTING`]: `traefik` or `host-port`); default: through
    /// Traefik when one serves the `proxy` network, else on a host port.
    pub routing: Option<Routing>,
    /// When images are pulled ([`vars::PULL`]: `missing`, `always` or `never`); default
    /// `missing`.
    pub pull: Option<Pull>,
    /// A certificate authority to trust for apps behind Traefik ([`vars::CA_CERT`], a PEM file):
    /// a real server's, when its certificates are not publicly trusted. Default: the CI
    /// authority the Swarm carries (scripts/local-swarm's), else the system's.
    pub ca_cert: Option<PathBuf>,
    /// Whether the Swarm's host has IPVS ([`vars::IPVS`]: `yes` or `no`). Default: read from this
    /// machine's kernel for a local daemon; taken as yes for a remote one (a Co-op Cloud
    /// server has it), which only a remote daemon's own kernel could say otherwise.
    pub ipvs: Option<bool>,
    /// Whether the run takes the app's screenshot before teardown ([`vars::SCREENSHOT`]: `yes` or `no`).
    /// It is for people, not for the verdict, and costs a browser's start: `cargo ccci run`
    /// asks for it when this is unsaid (its report shows it); a bare `cargo test` takes none
    /// unless this says yes.
    pub screenshot: Option<bool>,
    /// Whether the run ends by rolling the app back ([`vars::ROLLBACK`]); `None`: as the
    /// recipe's `rollback` says.
    pub rollback: Option<bool>,
    /// Whether the head is untrusted, and what its operator allows it beyond its own stack
    /// ([`vars::UNTRUSTED`], [`vars::ALLOW`]): `None` deploys the recipe as written (a
    /// maintainer's own machine); `Some` holds every deploy to [`ccci_abra::policy`].
    pub untrusted: Option<Vec<ccci_abra::policy::Allowance>>,
    /// The limits an untrusted head's services get where the recipe sets none
    /// ([`vars::LIMITS`]); default [`ccci_core::policy::Limits::default`].
    pub limits: Option<ccci_core::policy::Limits>,
    /// How many bytes of archives a backup may take ([`vars::BACKUP_CAP`]); default
    /// [`ccci_abra::backup::ARCHIVE_CAP`].
    pub backup_cap: Option<u64>,
    /// The run registry's directory ([`vars::REGISTRY_DIR`]); default
    /// [`crate::registry::Registry::open`]'s.
    pub registry_dir: Option<PathBuf>,
    /// Keep a red run's stack up for debugging this long instead of tearing it down
    /// ([`vars::KEEP`], a duration like `1h`); the janitor removes it after. Default: never.
    pub keep: Option<Duration>,
    /// The local image builder ([`vars::IMAGE_BUILDER`], an executable; see
    /// [`ccci_abra::images`]): images it declares are built on first use instead of pulled.
    /// Default: `images/build` of the ccci source tree this was built from, when it exists.
    pub image_builder: Option<PathBuf>,
    /// The run journal's directory ([`vars::JOURNAL_DIR`]; `off` for none): where the run
    /// notes that it started and ended, for the run store to take in
    /// ([`ccci_core::journal`]). Default [`default_journal_dir`] for a test crate and `cargo
    /// ccci`; none for [`Settings::new`] (a tool embedding ccci says where, if anywhere).
    pub journal_dir: Option<PathBuf>,
    /// Dependencies not to provide though the recipe declares them ([`vars::WITHHOLD`]): the run
    /// goes on without them and is red, naming each.
    pub withhold: Vec<String>,
    /// The warm OIDC provider's domain ([`vars::OIDC_DOMAIN`]); default
    /// [`ccci_deps::oidc_domain`] of the app's domain.
    pub oidc_domain: Option<String>,
    /// Whether Ctrl-C and SIGTERM end the running step and tear down before the process
    /// exits (130). True for recipe test binaries and `cargo ccci`; a tool embedding ccci
    /// that handles signals itself leaves it false.
    pub watch_signals: bool,
    /// The run's lane ([`vars::LANE`]): cold (the default) or quick, on the recipe's warm
    /// canonical deployment.
    pub lane: Lane,
    /// What the run does with the recipe's canonical deployment beside its ladder
    /// ([`vars::CANONICAL`]); default: promote it when it exists and the run is green on the
    /// latest release.
    pub canonical: Option<CanonicalAsk>,
    /// Where this host keeps its canonical deployments ([`vars::CANONICAL_DIR`]); default
    /// `canonical` in [`state_dir`].
    pub canonical_dir: PathBuf,
    /// How many releases before the head to upgrade from ([`vars::UPGRADE_FROM`]), over the
    /// recipe's `upgrade_from`.
    pub upgrade_from: Option<u32>,
}

/// What a run is asked to do with its recipe's canonical deployment ([`vars::CANONICAL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanonicalAsk {
    /// `up`: the run tests the latest release (when no ref is given), and, green, makes the
    /// canonical where there is none or promotes it.
    Up,
    /// `promote`: the run tests the latest release (when no ref is given), and, green,
    /// promotes the canonical when there is one (the sweep).
    Promote,
    /// `establish`: no ladder; the canonical is deployed at the ref, which a green cold run
    /// already proved.
    Establish,
}

impl std::str::FromStr for CanonicalAsk {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "up" => Ok(CanonicalAsk::Up),
            "promote" => Ok(CanonicalAsk::Promote),
            "establish" => Ok(CanonicalAsk::Establish),
            other => Err(other.to_string()),
        }
    }
}

impl CanonicalAsk {
    /// As [`vars::CANONICAL`] writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CanonicalAsk::Up => "up",
            CanonicalAsk::Promote => "promote",
            CanonicalAsk::Establish => "establish",
        }
    }
}

/// Where this host keeps its canonical deployments when nothing says.
pub fn default_canonical_dir() -> PathBuf {
    ccci_core::host::StateDir::of_host().canonical()
}

/// The `images/build` of the source tree ccci was built from, if it is still there.
fn own_image_builder() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../images/build");
    path.is_file().then(|| path.canonicalize().unwrap_or(path))
}

/// Where runs go when nothing says: `target/ccci/runs` of the cargo workspace `dir` is in,
/// else `$XDG_STATE_HOME/ccci/runs` (default `~/.local/state/ccci/runs`), so a run started
/// in a recipe's own working tree never writes into it.
pub fn default_runs_dir(dir: &Path) -> PathBuf {
    let workspace = dir.ancestors().find(|d| {
        std::fs::read_to_string(d.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]"))
    });
    match workspace {
        Some(root) => root.join("target").join("ccci").join("runs"),
        None => ccci_core::host::StateDir::of_host().runs(),
    }
}

pub use ccci_core::host::state_dir;

/// Where the OIDC provider at `domain` keeps its state on this host (`deps/<domain>` in
/// [`state_dir`]), built with `image_builder`, on a host with or without IPVS.
pub(crate) fn provider_place(
    domain: &str,
    image_builder: Option<&Path>,
    ipvs: bool,
) -> ccci_deps::Place {
    ccci_deps::Place {
        domain: domain.into(),
        dir: ccci_core::host::StateDir::of_host().provider(domain),
        image_builder: image_builder.map(Into::into),
        ipvs,
    }
}

/// Where runs note their start and end when nothing says: `journal` in [`state_dir`].
pub fn default_journal_dir() -> PathBuf {
    ccci_core::host::StateDir::of_host().journal()
}

impl Settings {
    /// Settings for a recipe test crate, from its manifest dir and Cargo's target tmp dir,
    /// with ccci's environment overrides ([`vars`]) applied.
    ///
    /// # Errors
    /// A variable of ccci's ([`vars`]) whose value is not one ccci knows, named with the
    /// values it takes.
    pub fn for_test_crate(
        manifest_dir: &str,
        target_tmpdir: &str,
    ) -> Result<Settings, HarnessError> {
        let default_runs = Path::new(target_tmpdir)
            .parent()
            .unwrap_or(Path::new(target_tmpdir))
            .join("ccci")
            .join("runs");
        Settings::from_env(Path::new(manifest_dir), default_runs)
    }

    /// Settings with every environment override of ccci's ([`vars`]) applied (this is the one
    /// place that reads them): a test crate's, and `cargo ccci run --recipe-git`'s before its
    /// flags. Runs go to [`vars::RUNS_DIR`], else `default_runs`.
    ///
    /// # Errors
    /// A variable of ccci's ([`vars`]) whose value is not one ccci knows, named with the
    /// values it takes.
    pub fn from_env(crate_dir: &Path, default_runs: PathBuf) -> Result<Settings, HarnessError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(Settings {
            crate_dir: crate_dir.into(),
            runs_dir: var(vars::RUNS_DIR)
                .map(PathBuf::from)
                .unwrap_or(default_runs),
            recipe_git: var(vars::RECIPE_GIT),
            reference: var(vars::REF),
            domain: var(vars::DOMAIN),
            results_copy: var(vars::RESULTS_FILE).map(PathBuf::from),
            host: var(vars::HOST),
            routing: var(vars::ROUTING)
                .map(|v| v.parse().map_err(HarnessError::BadRouting))
                .transpose()?,
            pull: var(vars::PULL)
                .map(|v| v.parse().map_err(HarnessError::BadPull))
                .transpose()?,
            ca_cert: var(vars::CA_CERT).map(PathBuf::from),
            ipvs: var(vars::IPVS).map(|v| switch(vars::IPVS, v)).transpose()?,
            screenshot: var(vars::SCREENSHOT)
                .map(|v| switch(vars::SCREENSHOT, v))
                .transpose()?,
            rollback: var(vars::ROLLBACK)
                .map(|v| switch(vars::ROLLBACK, v))
                .transpose()?,
            untrusted: untrusted(
                var(vars::UNTRUSTED)
                    .map(|v| switch(vars::UNTRUSTED, v))
                    .transpose()?,
                var(vars::ALLOW),
            )?,
            limits: var(vars::LIMITS)
                .map(|v| {
                    v.parse().map_err(|why: String| HarnessError::BadValue {
                        key: vars::LIMITS,
                        value: why,
                        takes: "`memory=2G,cpus=1` (either may be left out), or `none`",
                    })
                })
                .transpose()?,
            backup_cap: var(vars::BACKUP_CAP)
                .map(|v| {
                    ccci_core::meta::size(&v).ok_or(HarnessError::BadValue {
                        key: vars::BACKUP_CAP,
                        value: v,
                        takes: "a size like `4G` or `512M`",
                    })
                })
                .transpose()?,
            registry_dir: var(vars::REGISTRY_DIR).map(PathBuf::from),
            keep: var(vars::KEEP)
                .map(|v| ccci_core::meta::duration(&v).ok_or(HarnessError::BadKeep(v)))
                .transpose()?,
            image_builder: var(vars::IMAGE_BUILDER)
                .map(PathBuf::from)
                .or_else(own_image_builder),
            journal_dir: match var(vars::JOURNAL_DIR).as_deref() {
                Some("off") => None,
                Some(dir) => Some(dir.into()),
                None => Some(default_journal_dir()),
            },
            withhold: var(vars::WITHHOLD)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            oidc_domain: var(vars::OIDC_DOMAIN),
            watch_signals: true,
            lane: var(vars::LANE)
                .map(|v| {
                    v.parse().map_err(|_| HarnessError::BadValue {
                        key: vars::LANE,
                        value: v,
                        takes: "`cold` or `quick`",
                    })
                })
                .transpose()?
                .unwrap_or_default(),
            canonical: var(vars::CANONICAL)
                .map(|v| {
                    v.parse().map_err(|_| HarnessError::BadValue {
                        key: vars::CANONICAL,
                        value: v,
                        takes: "`up`, `promote` or `establish`",
                    })
                })
                .transpose()?,
            canonical_dir: var(vars::CANONICAL_DIR)
                .map(PathBuf::from)
                .unwrap_or_else(default_canonical_dir),
            upgrade_from: var(vars::UPGRADE_FROM)
                .map(|v| match v.parse::<u32>() {
                    Ok(n) if (1..=ccci_core::meta::MAX_UPGRADE_FROM).contains(&n) => Ok(n),
                    _ => Err(HarnessError::BadValue {
                        key: vars::UPGRADE_FROM,
                        value: v,
                        takes: "a number of releases, 1 to 8",
                    }),
                })
                .transpose()?,
        })
    }

    /// Settings with no environment overrides: runs under `runs_dir`, sources relative to
    /// `crate_dir`, signals left alone, images built by ccci's own builder when it is there. For tools and tests that set everything themselves.
    pub fn new(crate_dir: &Path, runs_dir: &Path) -> Settings {
        Settings {
            crate_dir: crate_dir.into(),
            runs_dir: runs_dir.into(),
            recipe_git: None,
            reference: None,
            domain: None,
            results_copy: None,
            host: None,
            routing: None,
            pull: None,
            ca_cert: None,
            ipvs: None,
            screenshot: None,
            rollback: None,
            untrusted: None,
            limits: None,
            backup_cap: None,
            registry_dir: None,
            keep: None,
            image_builder: own_image_builder(),
            journal_dir: None,
            withhold: Vec::new(),
            oidc_domain: None,
            watch_signals: false,
            lane: Lane::Cold,
            canonical: None,
            canonical_dir: default_canonical_dir(),
            upgrade_from: None,
        }
    }
}

/// What a command line (`cargo ccci run`'s flags) says about a run's settings, over ccci's
/// environment ([`vars`]): applied to [`Settings`] for a run in this process, or given to a
/// test binary run on its behalf as the variables it reads.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--ref`.
    pub reference: Option<String>,
    /// `--recipe-git`, for a test crate.
    pub recipe_git: Option<String>,
    /// `--domain`.
    pub domain: Option<String>,
    /// `--routing`.
    pub routing: Option<Routing>,
    /// `--pull`.
    pub pull: Option<Pull>,
    /// `--keep --keep-for`.
    pub keep: Option<Duration>,
    /// Whether to take the screenshot.
    pub screenshot: Option<bool>,
    /// `--untrusted` with its `--allow`s.
    pub untrusted: Option<Vec<ccci_abra::policy::Allowance>>,
    /// Where else to write results.json.
    pub results_copy: Option<PathBuf>,
    /// `--quick`.
    pub lane: Option<Lane>,
    /// `--upgrade-from`.
    pub upgrade_from: Option<u32>,
    /// What `canonical up` asks of the run.
    pub canonical: Option<CanonicalAsk>,
    /// Whether the run ends by rolling the app back.
    pub rollback: Option<bool>,
}

impl Overrides {
    /// `settings` with every override that is given.
    pub fn apply(self, mut settings: Settings) -> Settings {
        settings.reference = self.reference.or(settings.reference);
        settings.recipe_git = self.recipe_git.or(settings.recipe_git);
        settings.domain = self.domain.or(settings.domain);
        settings.routing = self.routing.or(settings.routing);
        settings.pull = self.pull.or(settings.pull);
        settings.keep = self.keep.or(settings.keep);
        settings.screenshot = self.screenshot.or(settings.screenshot);
        settings.untrusted = self.untrusted.or(settings.untrusted);
        settings.results_copy = self.results_copy.or(settings.results_copy);
        settings.lane = self.lane.unwrap_or(settings.lane);
        settings.upgrade_from = self.upgrade_from.or(settings.upgrade_from);
        settings.canonical = self.canonical.or(settings.canonical);
        settings.rollback = self.rollback.or(settings.rollback);
        settings
    }

    /// The variables a test binary reads for the overrides that are given (the rest of its
    /// environment it inherits).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        [
            (vars::REF, self.reference.clone()),
            (vars::RECIPE_GIT, self.recipe_git.clone()),
            (vars::DOMAIN, self.domain.clone()),
            (vars::ROUTING, self.routing.map(|r| r.as_str().into())),
            (vars::PULL, self.pull.map(|p| p.as_str().into())),
            (vars::KEEP, self.keep.map(|k| format!("{}s", k.as_secs()))),
            (vars::SCREENSHOT, self.screenshot.map(yes_no)),
            (
                vars::UNTRUSTED,
                self.untrusted.as_ref().map(|_| yes_no(true)),
            ),
            (
                vars::ALLOW,
                self.untrusted.as_ref().filter(|a| !a.is_empty()).map(|a| {
                    a.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                }),
            ),
            (
                vars::RESULTS_FILE,
                self.results_copy.as_ref().map(|p| p.display().to_string()),
            ),
            (vars::LANE, self.lane.map(|l| l.as_str().into())),
            (vars::UPGRADE_FROM, self.upgrade_from.map(|n| n.to_string())),
            (vars::CANONICAL, self.canonical.map(|c| c.as_str().into())),
            (vars::ROLLBACK, self.rollback.map(yes_no)),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
    }
}

/// The variable that carries `--set`s to a test binary, one `key=value` a line.
pub fn sets_env(sets: &[String]) -> Option<(&'static str, String)> {
    (!sets.is_empty()).then(|| (vars::SET, sets.join("\n")))
}

/// Whether a run is untrusted, from [`vars::UNTRUSTED`] and its allowances from
/// [`vars::ALLOW`]; allowances without `UNTRUSTED=yes` are refused, as they would mean nothing.
fn untrusted(
    on: Option<bool>,
    allow: Option<String>,
) -> Result<Option<Vec<ccci_abra::policy::Allowance>>, HarnessError> {
    let allow: Vec<ccci_abra::policy::Allowance> = allow
        .unwrap_or_default()
        .split(['\n', ','])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse().map_err(|why: String| HarnessError::BadValue {
                key: vars::ALLOW,
                value: why,
                takes: "RULE:VALUE allowances (docs/serve.md#what-a-head-may-deploy)",
            })
        })
        .collect::<Result<_, _>>()?;
    match on {
        Some(true) => Ok(Some(allow)),
        _ if !allow.is_empty() => Err(HarnessError::BadValue {
            key: vars::ALLOW,
            value: allow
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            takes: "allowances only with CCCI_UNTRUSTED=yes (a trusted run is deployed as written)",
        }),
        _ => Ok(None),
    }
}

/// A yes-or-no variable's value.
fn switch(key: &'static str, value: String) -> Result<bool, HarnessError> {
    match value.as_str() {
        "yes" | "true" | "1" => Ok(true),
        "no" | "false" | "0" => Ok(false),
        _ => Err(HarnessError::BadSwitch { key, value }),
    }
}

/// Reads a recipe test crate's `ccci.yml`, with `--set` overrides from [`vars::SET`] (one
/// `key=value` per line) on top.
pub fn load_meta(crate_dir: &Path) -> Result<RecipeMeta, HarnessError> {
    Ok(RecipeMeta::from_layers(&crate_layers(crate_dir)?)?)
}

/// The settings layers of a test crate: its `ccci.yml`, then [`vars::SET`].
pub(crate) fn crate_layers(crate_dir: &Path) -> Result<Vec<Layer>, HarnessError> {
    let path = crate_dir.join("ccci.yml");
    let text = std::fs::read_to_string(&path).map_err(|source| HarnessError::NoSettings {
        path: path.clone(),
        source,
    })?;
    let mut layers = vec![Layer::parse(&path.display().to_string(), &text)?];
    let sets: Vec<String> = std::env::var(vars::SET)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    layers.extend(sets_of(&sets)?);
    Ok(layers)
}

/// Parses `--set key=value` arguments into layers, one each.
pub fn sets_of(args: &[String]) -> Result<Vec<Layer>, HarnessError> {
    args.iter()
        .map(|a| Layer::parse_set(a).map_err(HarnessError::from))
        .collect()
}
