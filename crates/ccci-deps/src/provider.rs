//! The warm OIDC provider: one glewlwyd stack per Swarm and domain, deployed by ccci's engine
//! from the releases in `provider/glewlwyd/`, kept across runs.
//!
//! - [`Provider::ensure`]: healthy before a run uses it. Missing, it is deployed (at
//!   `last_good`, else the newest release); present but not healthy, it is redeployed once
//!   (what a killed or scaled-down provider needs); still not healthy, the run is told it is
//!   down before anything of the app is deployed.
//! - [`Provider::upgrade`] [R27]: a snapshot of its database, the new release, a health check
//!   that every realm still answers; on any failure the `last_good` release is deployed again
//!   and the snapshot restored, and the outcome says so.
//!
//! - [`Provider::make_realm`]: a run's realm is a glewlwyd of its own (a stack from
//!   `provider/glewlwyd-realm/`, the provider's image), at a domain of its own under the
//!   provider's parent, labelled as the provider's realm: glewlwyd's users and clients are
//!   global to an instance, so only an instance per realm keeps one run's user from signing
//!   in through another's realm. Its admin API is called inside its container.
//!
//! Its state on this host (the release repository, its `.env`, stack files, snapshots and
//! `last_good`, each realm's recipe) is kept in [`Place::dir`]; what runs is read from the
//! Swarm.

use crate::error::{io, DepsError};
use crate::glewlwyd::{Admin, KeyPair, Realm, RealmSpec};
use crate::lock::Lock;
use ccci_abra::{App, BuiltinEngine, DeployRequest, Deployer, Reach, Recipe, Release};
use ccci_core::Version;
use ccci_swarm::{wait, Deadline, Proxy, Swarm, Via};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a provider lives: its domain and this host's state for it.
#[derive(Debug, Clone)]
pub struct Place {
    /// Its domain, e.g. `ccci-oidc.ccci.test` ([`crate::oidc_domain`]).
    pub domain: String,
    /// This host's state for it, e.g. `~/.local/state/ccci/deps/<domain>`.
    pub dir: PathBuf,
    /// The local image builder (images/build), for the provider's image where no registry
    /// has it.
    pub image_builder: Option<PathBuf>,
    /// Whether the Swarm's host has IPVS (see `ccci_abra::BuiltinEngine::new`).
    pub ipvs: bool,
}

/// What is known of a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Where it is reached.
    pub url: String,
    /// Its stack.
    pub stack: String,
    /// The release running, as its service's label says; `None` when it is not deployed.
    pub deployed: Option<Version>,
    /// `None` when healthy, else what is wrong.
    pub unhealthy: Option<String>,
    /// The last release that was healthy after a deploy by this host.
    pub last_good: Option<Version>,
    /// ccci's realms in it (when it could be asked).
    pub realms: Vec<String>,
}

/// How an upgrade ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upgrade {
    /// It already ran that release, healthy.
    AlreadyAt(Version),
    /// It runs the new release, healthy, every realm answering; `last_good` is that release.
    Upgraded {
        /// The release before (`None`: it was not deployed).
        from: Option<Version>,
        /// The release now.
        to: Version,
    },
    /// The new release failed; `last_good` runs again with its data as the snapshot had it.
    RolledBack {
        /// The release tried.
        attempted: Version,
        /// The release running again.
        last_good: Version,
        /// Why the new release was refused.
        why: String,
    },
}

/// One provider on one Swarm (see the module docs).
#[derive(Clone)]
pub struct Provider {
    swarm: Swarm,
    proxy: Proxy,
    place: Place,
    stack: String,
}

/// How long runs that start at once wait for the one deploying the provider.
const LOCK_WAIT: Duration = Duration::from_secs(600);
/// The label a realm's services carry: the realm's name.
pub const REALM_LABEL: &str = "ccci.realm";
/// The label a realm's services carry: the domain of the provider whose realm it is.
const REALM_OF: &str = "ccci.realm-of";
/// How long a present provider may take to answer before it is redeployed.
const ANSWER: Duration = Duration::from_secs(20);
/// Failures of the provider's app on one spec that make it down, not slow.
const CRASHES: usize = 3;

impl Provider {
    /// The provider at `place` on `swarm`, reached through the Traefik serving `proxy`.
    pub async fn open(swarm: &Swarm, place: Place) -> Result<Provider, DepsError> {
        let proxy = swarm
            .find_proxy()
            .await?
            .ok_or_else(|| DepsError::NoTraefik {
                host: swarm.host().to_string(),
            })?;
        let stack = ccci_abra::stack_name(&place.domain)?;
        std::fs::create_dir_all(&place.dir).map_err(io(&place.dir))?;
        Ok(Provider {
            swarm: swarm.clone(),
            proxy,
            place,
            stack,
        })
    }

    /// Its domain.
    pub fn domain(&self) -> &str {
        &self.place.domain
    }

    /// Its public URL, without a trailing slash: `https://<domain>[:<Traefik's https port>]`.
    pub fn url(&self) -> String {
        match self.proxy.https_port {
            443 => format!("https://{}", self.place.domain),
            port => format!("https://{}:{port}", self.place.domain),
        }
    }

    /// How a client on this host reaches it: its domain resolved to Traefik, the Swarm's CI
    /// authority (if any) trusted.
    pub fn via(&self) -> Result<Via, DepsError> {
        let addr = ccci_swarm::route::socket_addr(&self.swarm.node_host(), self.proxy.https_port)
            .map_err(|why| DepsError::Unreachable {
            url: self.url(),
            what: "be reached".into(),
            why,
        })?;
        Ok(Via {
            resolve: Some((self.place.domain.clone(), addr)),
            also: Vec::new(),
            ca_pem: self.proxy.ca_pem.clone(),
        })
    }

    /// The authorities that sign its TLS certificate, PEM, for an app that must trust them:
    /// the Swarm's CI authority, else this host's system bundle (a public certificate).
    pub fn ca_pem(&self) -> String {
        match &self.proxy.ca_pem {
            Some(pem) => String::from_utf8_lossy(pem).into_owned(),
            None => {
                std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default()
            }
        }
    }

    /// Its stack's name.
    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// Healthy, deployed or recovered as the module docs say; returns the release running.
    pub async fn ensure(&self, deadline: Deadline) -> Result<Version, DepsError> {
        let _lock = Lock::take(
            &self.place.dir.join("lock"),
            LOCK_WAIT.min(deadline.remaining()),
            "deploying, upgrading or removing the provider",
        )
        .await?;
        let deployed = self.deployed().await?;
        if let Some(v) = &deployed {
            if self.answers(deadline.capped(ANSWER)).await.is_ok() {
                return Ok(v.clone());
            }
            eprintln!(
                "ccci: deps: the OIDC provider {} ({v}) does not answer: redeploying it",
                self.url()
            );
        }
        let (recipe, releases) = self.recipe(None, deadline)?;
        let target = match (self.last_good(), deployed) {
            (Some(v), _) | (None, Some(v)) => v,
            (None, None) => newest(&releases)?,
        };
        eprintln!(
            "ccci: deps: deploying the OIDC provider {} ({target})",
            self.url()
        );
        self.deploy(&recipe, &releases, &target, deadline).await?;
        self.healthy(deadline).await?;
        self.set_last_good(&target)?;
        Ok(target)
    }

    /// What runs, whether it is healthy, and its realms.
    pub async fn status(&self, deadline: Deadline) -> Result<Status, DepsError> {
        let deployed = self.deployed().await?;
        let unhealthy = match deployed {
            None => Some("not deployed".into()),
            Some(_) => self.answers(deadline.capped(ANSWER)).await.err(),
        };
        let realms = self.realm_names().await?;
        Ok(Status {
            url: self.url(),
            stack: self.stack.clone(),
            deployed,
            unhealthy,
            last_good: self.last_good(),
            realms,
        })
    }

    /// Upgrades to `to` (default the newest release), from the built-in releases and those in
    /// `extra` (a directory of release directories); see the module docs.
    pub async fn upgrade(
        &self,
        to: Option<&Version>,
        extra: Option<&Path>,
        deadline: Deadline,
    ) -> Result<Upgrade, DepsError> {
        let _lock = Lock::take(
            &self.place.dir.join("lock"),
            LOCK_WAIT.min(deadline.remaining()),
            "deploying, upgrading or removing the provider",
        )
        .await?;
        let (recipe, releases) = self.recipe(extra, deadline)?;
        let target = match to {
            Some(v) => v.clone(),
            None => newest(&releases)?,
        };
        let from = self.deployed().await?;
        let Some(current) = from.clone() else {
            self.deploy(&recipe, &releases, &target, deadline).await?;
            self.healthy(deadline).await?;
            self.set_last_good(&target)?;
            return Ok(Upgrade::Upgraded { from, to: target });
        };
        if current == target && self.answers(deadline.capped(ANSWER)).await.is_ok() {
            return Ok(Upgrade::AlreadyAt(target));
        }
        let last_good = self.last_good().unwrap_or(current);
        let app = self.app(&recipe)?;
        let snapshot_dir = self
            .place
            .dir
            .join("snapshots")
            .join(format!("before-{target}"));
        if snapshot_dir.exists() {
            std::fs::remove_dir_all(&snapshot_dir).map_err(io(&snapshot_dir))?;
        }
        let snapshots = self.place.dir.join("snapshots");
        std::fs::create_dir_all(&snapshots).map_err(io(&snapshots))?;
        let realms = self.realm_names().await?;
        let snapshot = self.engine()?.backup(&app, &snapshot_dir, deadline).await?;
        eprintln!(
            "ccci: deps: snapshot of {} taken ({} realm(s)); upgrading {last_good} -> {target}",
            self.url(),
            realms.len()
        );
        // The new release gets half of what is left, the rollback the other half: a release
        // that never becomes healthy must not eat the time the way back needs.
        let trial = deadline.capped(deadline.remaining() / 2);
        let tried = async {
            self.deploy(&recipe, &releases, &target, trial).await?;
            self.healthy(trial).await?;
            self.realms_answer(&realms, trial).await
        }
        .await;
        let why = match tried {
            Ok(()) => {
                self.set_last_good(&target)?;
                return Ok(Upgrade::Upgraded { from, to: target });
            }
            Err(e) => e.to_string(),
        };
        eprintln!("ccci: deps: {target} failed ({why}); rolling back to {last_good}");
        self.deploy(&recipe, &releases, &last_good, deadline)
            .await?;
        self.healthy(deadline).await?;
        let app = self.app(&recipe)?;
        self.engine()?.restore(&app, &snapshot, deadline).await?;
        self.healthy(deadline).await?;
        self.realms_answer(&realms, deadline).await?;
        Ok(Upgrade::RolledBack {
            attempted: target,
            last_good,
            why,
        })
    }

    /// Removes its stack and all its data, and every realm of it still on the Swarm; returns
    /// what could not be removed.
    pub async fn remove(&self, deadline: Deadline) -> Result<Vec<String>, DepsError> {
        let _lock = Lock::take(
            &self.place.dir.join("lock"),
            LOCK_WAIT.min(deadline.remaining()),
            "deploying, upgrading or removing the provider",
        )
        .await?;
        let mut left = Vec::new();
        for realm in self.realm_names().await? {
            if let Err(e) = self.remove_realm(&realm, deadline).await {
                left.push(e.to_string());
            }
        }
        left.extend(ccci_abra::remove_stack(&self.swarm, &self.stack, deadline).await?);
        let _ = std::fs::remove_file(self.place.dir.join("last_good"));
        Ok(left)
    }

    /// The domain of realm `name`'s own glewlwyd: `ccci-realm-<hash of the provider's
    /// domain and the name>` under the provider's parent, so that the same wildcard name and
    /// certificate serve it, and short enough for every name Swarm derives from it.
    pub fn realm_domain(&self, name: &str) -> String {
        let parent = self
            .place
            .domain
            .split_once('.')
            .map_or(self.place.domain.as_str(), |(_, p)| p);
        let id = fnv1a(format!("{}\n{name}", self.place.domain).as_bytes());
        format!("ccci-realm-{id:016x}.{parent}")
    }

    /// Where realm `name`'s glewlwyd is reached: `https://<realm domain>[:<port>]`.
    pub fn realm_url(&self, name: &str) -> String {
        let domain = self.realm_domain(name);
        match self.proxy.https_port {
            443 => format!("https://{domain}"),
            port => format!("https://{domain}:{port}"),
        }
    }

    /// How a client on this host reaches realm `name`'s glewlwyd (see [`Provider::via`]).
    pub fn realm_via(&self, name: &str) -> Result<Via, DepsError> {
        let mut via = self.via()?;
        if let Some((domain, _)) = &mut via.resolve {
            *domain = self.realm_domain(name);
        }
        Ok(via)
    }

    fn realm_stack(&self, name: &str) -> Result<String, DepsError> {
        Ok(ccci_abra::stack_name(&self.realm_domain(name))?)
    }

    fn realm_dir(&self, name: &str) -> PathBuf {
        self.place.dir.join("realms").join(name)
    }

    /// Makes the realm `spec` with `keys`: its own glewlwyd deployed and healthy, then in it
    /// the OIDC plugin instance, its client and its user (see [`Admin::create_realm`]). A
    /// realm of that name left by an earlier attempt is removed first.
    pub async fn make_realm(
        &self,
        spec: &RealmSpec,
        keys: &KeyPair,
        deadline: Deadline,
    ) -> Result<Realm, DepsError> {
        self.remove_realm(&spec.name, deadline).await?;
        let dir = self.realm_dir(&spec.name);
        let src = dir.join("releases");
        crate::releases::write_realm(&src)?;
        let recipe =
            Recipe::from_release_dirs("glewlwyd-realm", &src, &dir.join("recipe"), deadline)?;
        let releases = recipe.releases(deadline)?;
        let release = releases.last().ok_or_else(|| DepsError::NoRelease {
            version: "any realm release".into(),
            known: "none".into(),
        })?;
        recipe.checkout(&release.commit, deadline)?;
        let (domain, url) = (self.realm_domain(&spec.name), self.realm_url(&spec.name));
        let extra = [
            ("EXTERNAL_URL".to_string(), url.clone()),
            ("DOOR_PORT".to_string(), self.proxy.https_port.to_string()),
            ("TRAEFIK_SERVICE".to_string(), self.proxy.service.clone()),
            ("REALM".to_string(), spec.name.clone()),
            ("PROVIDER_DOMAIN".to_string(), self.place.domain.clone()),
            ("OWNER".to_string(), ccci_core::host::owner()),
        ];
        let app = App::new(
            &recipe,
            &domain,
            &dir.join("servers"),
            extra.iter().map(|(k, v)| (k, v)),
        )?;
        self.engine()?
            .deploy(DeployRequest {
                app: &app,
                recipe: &recipe,
                release: Some(&release.version),
                force_chaos: false,
                deadline,
            })
            .await?;
        let realm_down = |why: String| DepsError::Down {
            url: url.clone(),
            domain: self.place.domain.clone(),
            stack: app.stack.clone(),
            why: format!("realm {}'s own glewlwyd: {why}", spec.name),
        };
        let health = format!("{url}/config");
        let via = self.realm_via(&spec.name)?;
        wait::wait_healthy(&self.swarm, &app.stack, &health, &via, &[200], deadline)
            .await
            .map_err(|e| realm_down(e.to_string()))?;
        let container = self
            .swarm
            .running_container(&app.stack, "app")
            .await?
            .ok_or_else(|| realm_down("its app service has no running container".into()))?;
        // The admin's password, read from its secret in the realm's container, goes back
        // into that container only.
        let password = self
            .swarm
            .exec(&container, &["cat", "/run/secrets/pw"])
            .await?;
        if password.exit_code != 0 {
            return Err(realm_down(format!(
                "its admin password cannot be read: {}",
                password.stderr_str().trim()
            )));
        }
        let admin =
            Admin::login(&self.swarm, &container, &url, password.stdout_str().trim()).await?;
        admin.create_realm(spec, keys, &domain, &url).await
    }

    /// Removes realm `name`: its glewlwyd's stack with its data and secret. A realm already
    /// gone is fine (a teardown after a janitor, or the other way round).
    pub async fn remove_realm(&self, name: &str, deadline: Deadline) -> Result<(), DepsError> {
        let stack = self.realm_stack(name)?;
        let left = ccci_abra::remove_stack(&self.swarm, &stack, deadline).await?;
        if !left.is_empty() {
            return Err(DepsError::RealmLeft {
                realm: name.into(),
                stack,
                left: left.join(", "),
            });
        }
        let dir = self.realm_dir(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        Ok(())
    }

    /// The names of the realms of this provider on the Swarm, sorted.
    pub async fn realm_names(&self) -> Result<Vec<String>, DepsError> {
        let mut names: Vec<String> = self
            .swarm
            .services_labelled(REALM_OF, &self.place.domain)
            .await?
            .into_iter()
            .filter_map(|labels| labels.get(REALM_LABEL).cloned())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// A new signing key pair for a realm, made by the provider's own openssl.
    pub async fn new_keys(&self, deadline: Deadline) -> Result<KeyPair, DepsError> {
        let out = self.exec(&["ccci-keypair"], deadline).await?;
        KeyPair::parse(&out).ok_or_else(|| DepsError::Refused {
            url: self.url(),
            what: "make a key pair".into(),
            status: 0,
            body: out.chars().take(200).collect(),
        })
    }

    /// Whether realm `name` answers: its discovery document, through Traefik.
    pub async fn realm_answers(&self, name: &str, deadline: Deadline) -> Result<(), String> {
        let url = format!(
            "{}/api/{name}/.well-known/openid-configuration",
            self.realm_url(name)
        );
        wait::wait_http(
            &url,
            &self.realm_via(name).map_err(|e| e.to_string())?,
            &[200],
            deadline,
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    async fn realms_answer(&self, realms: &[String], deadline: Deadline) -> Result<(), DepsError> {
        for r in realms {
            self.realm_answers(r, deadline.capped(ANSWER))
                .await
                .map_err(|why| self.down(format!("realm {r} no longer answers: {why}")))?;
        }
        Ok(())
    }

    async fn exec(&self, argv: &[&str], deadline: Deadline) -> Result<String, DepsError> {
        let what = argv.join(" ");
        let run = async {
            let container = self
                .swarm
                .running_container(&self.stack, "app")
                .await?
                .ok_or_else(|| self.down("its app service has no running container".into()))?;
            let out = self.swarm.exec(&container, argv).await?;
            match out.exit_code {
                0 => Ok(out.stdout_str()),
                code => Err(self.down(format!(
                    "`{what}` in it exited {code}: {}",
                    out.stderr_str().trim()
                ))),
            }
        };
        tokio::time::timeout(deadline.remaining(), run)
            .await
            .unwrap_or_else(|_| Err(self.down(format!("`{what}` in it did not finish in time"))))
    }

    fn down(&self, why: String) -> DepsError {
        DepsError::Down {
            url: self.url(),
            domain: self.place.domain.clone(),
            stack: self.stack.clone(),
            why,
        }
    }

    /// The release its app service's label names, when it is deployed.
    async fn deployed(&self) -> Result<Option<Version>, DepsError> {
        let services = self.swarm.service_labels(&self.stack).await?;
        Ok(ccci_abra::Stamp::find(&self.stack, &services).and_then(|(_, s)| s.release()))
    }

    /// Whether it answers now (within `deadline`), through Traefik.
    async fn answers(&self, deadline: Deadline) -> Result<(), String> {
        let url = format!("{}/config", self.url());
        let via = self.via().map_err(|e| e.to_string())?;
        wait::wait_http(&url, &via, &[200], deadline)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Converged and answering, or down: the deadline passed, or glewlwyd failed
    /// [`CRASHES`] times on the spec deployed (it starts in well under a second, so an app
    /// that keeps failing is broken, not slow).
    async fn healthy(&self, deadline: Deadline) -> Result<(), DepsError> {
        let url = format!("{}/config", self.url());
        let via = self.via()?;
        let waited = wait::wait_healthy(&self.swarm, &self.stack, &url, &via, &[200], deadline);
        tokio::select! {
            r = waited => r.map(|_| ()).map_err(|e| self.down(e.to_string())),
            why = self.crash_loop() => Err(self.down(why)),
        }
    }

    /// Returns once the app service's tasks of the current spec have failed [`CRASHES`]
    /// times, saying how the last one ended.
    async fn crash_loop(&self) -> String {
        let app = format!("{}_app", self.stack);
        loop {
            if let Ok(state) = self.swarm.stack_state(&self.stack).await {
                let failed: Vec<_> = state
                    .iter()
                    .filter(|s| s.name == app)
                    .flat_map(|s| &s.tasks)
                    .filter(|t| t.current && matches!(t.state.as_str(), "failed" | "rejected"))
                    .collect();
                if failed.len() >= CRASHES {
                    return format!(
                        "its app failed {} times since it was deployed, last: {}",
                        failed.len(),
                        failed[0].describe()
                    );
                }
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    /// The provider's release repository, built from the built-in releases and `extra`.
    fn recipe(
        &self,
        extra: Option<&Path>,
        deadline: Deadline,
    ) -> Result<(Recipe, Vec<Release>), DepsError> {
        let src = self.place.dir.join("releases");
        crate::releases::write(&src, extra)?;
        let recipe =
            Recipe::from_release_dirs("glewlwyd", &src, &self.place.dir.join("recipe"), deadline)?;
        let releases = recipe.releases(deadline)?;
        Ok((recipe, releases))
    }

    /// Its `.env`, from the checked-out release's `.env.sample`, for this Swarm's Traefik.
    fn app(&self, recipe: &Recipe) -> Result<App, DepsError> {
        let door_port = self.proxy.https_port.to_string();
        let extra = [
            ("EXTERNAL_URL".to_string(), self.url()),
            ("DOOR_PORT".to_string(), door_port),
            ("TRAEFIK_SERVICE".to_string(), self.proxy.service.clone()),
        ];
        Ok(App::new(
            recipe,
            &self.place.domain,
            &self.place.dir.join("servers"),
            extra.iter().map(|(k, v)| (k, v)),
        )?)
    }

    fn engine(&self) -> Result<BuiltinEngine, DepsError> {
        let local = match &self.place.image_builder {
            Some(b) => Some(ccci_abra::images::LocalImages::open(b)?),
            None => None,
        };
        Ok(BuiltinEngine::new(
            self.swarm.clone(),
            &self.place.dir.join("stacks"),
            "app",
            Reach::Traefik(self.proxy.clone()),
            self.place.ipvs,
        )?
        .with_local_images(local))
    }

    async fn deploy(
        &self,
        recipe: &Recipe,
        releases: &[Release],
        version: &Version,
        deadline: Deadline,
    ) -> Result<(), DepsError> {
        let release = releases
            .iter()
            .find(|r| &r.version == version)
            .ok_or_else(|| DepsError::NoRelease {
                version: version.to_string(),
                known: releases
                    .iter()
                    .map(|r| r.version.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        recipe.checkout(&release.commit, deadline)?;
        let app = self.app(recipe)?;
        self.engine()?
            .deploy(DeployRequest {
                app: &app,
                recipe,
                release: Some(&release.version),
                force_chaos: false,
                deadline,
            })
            .await?;
        Ok(())
    }

    fn last_good(&self) -> Option<Version> {
        std::fs::read_to_string(self.place.dir.join("last_good"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    fn set_last_good(&self, v: &Version) -> Result<(), DepsError> {
        let path = self.place.dir.join("last_good");
        std::fs::write(&path, format!("{v}\n")).map_err(io(&path))
    }
}

/// FNV-1a, 64 bits: a short, stable name from a longer one (not a secret).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn newest(releases: &[Release]) -> Result<Version, DepsError> {
    releases
        .last()
        .map(|r| r.version.clone())
        .ok_or_else(|| DepsError::NoRelease {
            version: "any".into(),
            known: "none".into(),
        })
}
