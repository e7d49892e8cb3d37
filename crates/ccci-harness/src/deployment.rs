//! What is deployed now: the run's recipe clone, the app, the engine that deploys it, which
//! commit runs, where it answers, and what the backup left for the restore. Made by the
//! install step ([`Deployment::prepare`]); owned by whichever step runs, then by teardown.

use crate::checkout::{Checkout, Refs, CI_OVERLAY};
use crate::error::{io, HarnessError};
use crate::fixture::{Fixtures, Http, Stack};
use crate::shared::Shared;
use ccci_abra::markers::Marker;
use ccci_abra::{App, BuiltinEngine, DeployRequest, Deployer, Reach, Recipe, Release, Snapshot};
use ccci_core::meta::Probe;
use ccci_core::results::{DeployRecord, Routing};
use ccci_core::{HookCtx, Op};
use ccci_swarm::{wait, Deadline, Swarm, SwarmError, Via, WaitError};
use std::time::Duration;

/// A health path's wrong answer as the harness says it, other wait errors as they are.
fn wrong_answer(e: SwarmError, routed: bool, meta: &ccci_core::RecipeMeta) -> HarnessError {
    match e {
        SwarmError::Wait(WaitError::WrongAnswer {
            status, ok, held, ..
        }) => HarnessError::WrongAnswer {
            routed,
            path: meta.health_path.clone(),
            status,
            ok,
            held,
        },
        other => other.into(),
    }
}

/// Where a deployment goes and how it is known: the run's own app, a canonical deployment,
/// or one path of the upgrade matrix.
pub(crate) struct Placement {
    /// The app's domain; `None`: the settings', else a fresh one.
    pub domain: Option<String>,
    /// Where the recipe is cloned.
    pub checkout: std::path::PathBuf,
    /// Where the app's `.env` goes.
    pub servers: std::path::PathBuf,
    /// The name it is registered under for the janitor; `None` for what outlives the run (a
    /// canonical deployment, which the janitor must never remove).
    pub registered_as: Option<String>,
    /// Labels on every service.
    pub labels: Vec<(String, String)>,
    /// Whether the checkout is the run's (its head, base and domain go in the record).
    pub records: bool,
    /// Whether its deploys go in the run's record (an upgrade path's go in its own).
    pub records_deploys: bool,
}

impl Placement {
    /// The run's own app: the settings' domain, the run directory, registered as the run.
    pub(crate) fn run(shared: &Shared) -> Placement {
        Placement {
            domain: None,
            checkout: shared.dir.recipe_checkout(&shared.meta.recipe),
            servers: shared.dir.servers(),
            registered_as: Some(shared.run_id.clone()),
            labels: Vec::new(),
            records: true,
            records_deploys: true,
        }
    }
}

/// What the record says of the run's checkout: the annotated tags, the overlay, the head,
/// the base, the domain and the stack.
fn record_checkout(shared: &Shared, checkout: &Checkout) {
    for tag in &checkout.annotated {
        eprintln!("ccci: made lightweight tag {tag} annotated in this run's clone (abra only deploys annotated releases)");
    }
    if let Some(overlay) = &checkout.overlay {
        let note = format!(
            "CI overlay {CI_OVERLAY} (from {}) is added to COMPOSE_FILE for every deploy, \
             so every deploy is a chaos deploy",
            overlay.from
        );
        shared.record(|r| {
            r.warn(&note);
            r.manifest
                .push(format!("overlay {CI_OVERLAY} from {}", overlay.from));
        });
    }
    for finding in &checkout.warnings {
        shared.record(|r| r.warn(&finding.to_string()));
    }
    shared.record(|r| {
        r.head = Some(checkout.refs.head.clone());
        r.base = checkout.refs.base_ref();
        r.domain = checkout.app.domain.clone();
        r.stack = checkout.app.stack.clone();
        r.latest = checkout.refs.latest.as_ref().map(|l| l.version.to_string());
    });
}

/// The deployed app; see the module docs.
pub(crate) struct Deployment {
    pub swarm: Swarm,
    pub recipe: Recipe,
    pub app: App,
    pub engine: BuiltinEngine,
    /// What runs: the head and the upgrade's base.
    pub refs: Refs,
    /// Where the app answers HTTP, once deployed with a web route, and how to get there.
    pub base_url: Option<String>,
    pub via: Via,
    pub http: Option<Http>,
    /// The CI overlay's content, written into the checkout before every deploy.
    overlay: Option<String>,
    /// Whether anything of the app may exist on the Swarm: set before the first deploy, as a
    /// deploy that fails half-way may already have created secrets or networks.
    pub on_swarm: bool,
    /// The longest `stop_grace_period` deployed: teardown waits at least this long.
    pub stop_grace: Duration,
    /// What each service's tasks must run after the last deploy: a wait that ends healthy
    /// also proves every service runs it ([`ccci_swarm::off_spec`]).
    pub run_specs: Vec<ccci_swarm::RunSpec>,
    /// What an accepted backup left for the restore.
    pub backup: Option<Backup>,
    /// The dependencies provided to the run.
    pub deps: Provided,
    /// A quick run's canonical, as it was known-good before the head went on it.
    pub canonical: Option<ccci_core::canonical::Canonical>,
    /// Why a quick run did not trust the canonical it found, and rebuilt it.
    pub untrusted: Option<String>,
    /// Whether its deploys and waits go in the run's record.
    records_deploys: bool,
}

/// An accepted backup and ccci's markers in the live app, until the restore checked them.
pub(crate) struct Backup {
    pub snapshot: Snapshot,
    pub markers: Vec<Marker>,
    /// Backed-up paths that could not hold a marker, with why.
    pub marker_skips: Vec<String>,
}

impl Deployment {
    /// The run's own deployment: [`Deployment::prepare_as`] of [`Placement::run`].
    pub(crate) async fn prepare(
        shared: &Shared,
        deadline: Deadline,
    ) -> Result<Deployment, HarnessError> {
        Deployment::prepare_as(shared, Placement::run(shared), deadline).await
    }

    /// The checkout (see [`Checkout`]: everything checked that can be without a Swarm),
    /// then the Swarm, how the app is reached, the engine, and, when `placement` says so,
    /// the deployment registered for the janitor.
    pub(crate) async fn prepare_as(
        shared: &Shared,
        placement: Placement,
        deadline: Deadline,
    ) -> Result<Deployment, HarnessError> {
        let meta = &shared.meta;
        let mut settings = shared.settings.clone();
        if let Some(domain) = &placement.domain {
            settings.domain = Some(domain.clone());
        }
        // Git may wait on a network: on a thread of its own, so that an interrupt does not
        // have to wait for it.
        let meta_owned = meta.clone();
        let (dest, servers) = (placement.checkout.clone(), placement.servers.clone());
        let checkout = tokio::task::spawn_blocking(move || {
            Checkout::read(&settings, &meta_owned, &dest, &servers, deadline)
        })
        .await
        .map_err(|e| HarnessError::Io {
            path: placement.checkout.clone(),
            source: std::io::Error::other(e.to_string()),
        })??;
        if placement.records {
            record_checkout(shared, &checkout);
        }
        let Checkout {
            recipe,
            app,
            refs,
            overlay,
            annotated: _,
            warnings: _,
        } = checkout;
        let swarm = Swarm::connect().await?;
        let mut labels = placement.labels;
        // Whose the stack is, on every service: a janitor that finds it with no registry
        // entry (an older ccci's, a crashed host's) tells a live run's from a dead one's.
        if let Some(run_id) = &placement.registered_as {
            labels.push((crate::registry::RUN_LABEL.into(), run_id.clone()));
            labels.push((
                ccci_core::host::OWNER_LABEL.into(),
                ccci_core::host::owner(),
            ));
        }
        let engine = engine(shared, &swarm).await?.with_service_labels(labels);
        if let (Some(registry), Some(run_id)) = (&shared.registry, &placement.registered_as) {
            let (pid, pid_start) = crate::registry::this_process();
            registry.register(&crate::registry::ActiveRun {
                run_id: run_id.clone(),
                pid,
                pid_start,
                recipe: meta.recipe.clone(),
                stack: app.stack.clone(),
                domain: app.domain.clone(),
                docker_host: swarm.host().to_string(),
                keep_until: None,
                realms: Vec::new(),
            })?;
        }
        Ok(Deployment {
            swarm,
            recipe,
            app,
            engine,
            refs,
            base_url: None,
            via: Via::direct(),
            http: None,
            overlay: overlay.map(|o| o.text),
            on_swarm: false,
            stop_grace: Duration::from_secs(10),
            run_specs: Vec::new(),
            backup: None,
            deps: Default::default(),
            canonical: None,
            untrusted: None,
            records_deploys: placement.records_deploys,
        })
    }

    /// Where an app this process did not deploy answers (a canonical deployment), through
    /// Traefik, for the waits and the recipe's functions.
    pub(crate) fn assume_deployed(&mut self) -> Result<(), HarnessError> {
        let (base_url, mut via) = self.engine.answers_through_traefik(&self.app)?;
        via.also = self.deps.domains();
        self.http = base_url
            .as_deref()
            .map(|url| Http::new(url, &via))
            .transpose()
            .map_err(|e| HarnessError::HttpClient {
                base_url: base_url.clone().unwrap_or_default(),
                reason: e.to_string(),
            })?;
        self.base_url = base_url;
        self.via = via;
        Ok(())
    }

    /// Checks out `commit` (with the CI overlay, if any, put back beside it), deploys it as
    /// `release` (or as chaos), and records the deploy; keys Swarm ignores are said once.
    pub(crate) async fn deploy_at(
        &mut self,
        shared: &Shared,
        step: &str,
        commit: &str,
        release: Option<&Release>,
        deadline: Deadline,
    ) -> Result<(), HarnessError> {
        crate::checkout::check_out(&self.recipe, commit, self.overlay.as_deref(), deadline)?;
        self.on_swarm = true;
        let deployed = self
            .engine
            .deploy(DeployRequest {
                app: &self.app,
                recipe: &self.recipe,
                release: release.map(|r| &r.version),
                force_chaos: self.overlay.is_some(),
                deadline,
            })
            .await?;
        self.stop_grace = self.stop_grace.max(deployed.stop_grace);
        self.run_specs.clone_from(&deployed.run_specs);
        let records = self.records_deploys;
        shared.record(|r| {
            if !records {
                return;
            }
            r.deploys.push(DeployRecord {
                step: step.into(),
                version: release.map(|r| r.version.to_string()),
                commit: commit.into(),
                chaos_version: deployed.chaos_version.as_ref().map(ToString::to_string),
                compose_files: deployed.compose_files.clone(),
                healthy: false,
            });
            for w in &deployed.ignored {
                r.warn(w);
            }
            for c in &deployed.changes {
                if !r.changes.contains(c) {
                    r.changes.push(c.clone());
                }
            }
            if deployed.base_url.is_some() {
                r.app_url.clone_from(&deployed.base_url);
            }
        });
        // The tests' client reaches the app's dependencies too, behind the same Traefik.
        let mut via = deployed.via;
        via.also = self.deps.domains();
        self.http = deployed
            .base_url
            .as_deref()
            .map(|url| Http::new(url, &via))
            .transpose()
            .map_err(|e| HarnessError::HttpClient {
                base_url: deployed.base_url.clone().unwrap_or_default(),
                reason: e.to_string(),
            })?;
        self.base_url = deployed.base_url;
        self.via = via;
        Ok(())
    }

    /// Why the health path did not answer as expected. Through Traefik, Traefik itself is
    /// asked how it sees the stack's routers: a refused router, or no router matching the
    /// health URL, is the reason, said with Traefik's words; refusals that do not touch the
    /// health route become warnings.
    async fn why_not_healthy(&self, shared: &Shared, e: SwarmError) -> HarnessError {
        let meta = &shared.meta;
        let Reach::Traefik(proxy) = self.engine.reach() else {
            return wrong_answer(e, false, meta);
        };
        let what = match &e {
            SwarmError::Wait(WaitError::WrongAnswer { status, held, .. }) => format!(
                "the health path {} answered {status} for {}s",
                meta.health_path,
                held.as_secs()
            ),
            SwarmError::Wait(WaitError::Timeout { .. }) => {
                format!(
                    "the health path {} never answered as expected",
                    meta.health_path
                )
            }
            _ => return e.into(),
        };
        let routers =
            match ccci_swarm::traefik::stack_routers(&self.swarm, proxy, &self.app.stack).await {
                Ok(Some(routers)) => routers,
                Ok(None) => return wrong_answer(e, true, meta),
                Err(why) => {
                    shared.record(|r| {
                        r.warn(&format!(
                            "could not ask Traefik how it sees the routers: {why}"
                        ))
                    });
                    return wrong_answer(e, true, meta);
                }
            };
        let host = &self.app.domain;
        let path = &meta.health_path;
        let (health, others): (Vec<_>, Vec<_>) = routers
            .iter()
            .cloned()
            .partition(|r| r.rule.is_none() || r.matches(host, path));
        for r in others.iter().filter(|r| r.refused()) {
            shared.record(|rec| {
                rec.warn(&format!(
                    "Traefik refused router `{}` (rule {}): {}",
                    r.name,
                    r.rule.as_deref().unwrap_or("unknown"),
                    r.errors.join("; ")
                ))
            });
        }
        let refused: Vec<_> = health.iter().filter(|r| r.refused()).cloned().collect();
        // Traefik lists only the routers of services with a running task: routers it does
        // not list, of a service with none, were never refused.
        if !refused.is_empty() && refused.iter().all(|r| r.status == "missing") {
            if let Some(why) = self.nothing_runs(&meta.service).await {
                return HarnessError::NothingRuns {
                    what,
                    service: format!("{}_{}", self.app.stack, meta.service),
                    why,
                };
            }
        }
        if !refused.is_empty() {
            return HarnessError::RefusedByTraefik { what, refused };
        }
        if health.is_empty() {
            return HarnessError::NoRouterMatches {
                what,
                url: format!("https://{host}{path}"),
                rules: routers
                    .iter()
                    .map(|r| format!("{}: {}", r.name, r.rule.as_deref().unwrap_or("none")))
                    .collect(),
            };
        }
        wrong_answer(e, true, meta)
    }

    /// Why `service` of the app has no task running now, when it has none: its update's
    /// message, or its newest task's state and error.
    async fn nothing_runs(&self, service: &str) -> Option<String> {
        let full = format!("{}_{service}", self.app.stack);
        let states = self.swarm.stack_state(&self.app.stack).await.ok()?;
        let s = states.iter().find(|s| s.name == full)?;
        if s.tasks
            .iter()
            .any(|t| t.state == "running" && t.desired_state == "running")
        {
            return None;
        }
        Some(match (&s.update_message, s.tasks.first()) {
            (Some(m), Some(t)) => format!("{m}; its newest task: {}", t.describe()),
            (Some(m), None) => m.clone(),
            (None, Some(t)) => format!("its newest task: {}", t.describe()),
            (None, None) => "it has no task".into(),
        })
    }

    /// Waits until the stack has converged, the health path answers and every ready probe
    /// passes, then marks the last deploy healthy.
    pub(crate) async fn wait_ready(
        &self,
        shared: &Shared,
        op: &str,
        deadline: Deadline,
    ) -> Result<(), HarnessError> {
        let meta = &shared.meta;
        let stack = &self.app.stack;
        match &self.base_url {
            Some(base) => {
                let url = format!("{base}{}", meta.health_path);
                let waited = wait::wait_healthy(
                    &self.swarm,
                    stack,
                    &url,
                    &self.via,
                    &meta.health_ok,
                    deadline,
                )
                .await;
                if let Err(e) = waited {
                    return Err(self.why_not_healthy(shared, e).await);
                }
            }
            None => {
                wait::wait_converged(&self.swarm, stack, deadline).await?;
            }
        }
        for probe in &meta.ready_probe {
            match probe {
                Probe::Http { path, ok } => {
                    let base = self
                        .base_url
                        .as_deref()
                        .ok_or_else(|| HarnessError::NoRouteToProbe { path: path.clone() })?;
                    wait::wait_http(&format!("{base}{path}"), &self.via, ok, deadline)
                        .await
                        .map_err(SwarmError::from)?;
                }
                Probe::Tcp { port, stable } => {
                    let host = self.swarm.node_host();
                    wait::wait_tcp(&host, *port, *stable, deadline)
                        .await
                        .map_err(SwarmError::from)?;
                }
            }
        }
        // Healthy is not enough: Swarm may have rolled the deploy back, or paused it with the
        // previous task still answering. What runs must be what was deployed.
        let off = ccci_swarm::off_spec(&self.run_specs, &self.swarm.running(stack).await?);
        if !off.is_empty() {
            return Err(HarnessError::OffSpec {
                op: op.into(),
                services: off,
            });
        }
        eprintln!(
            "ccci: {op}: {stack} is healthy and ready after {:.1}s",
            deadline.elapsed().as_secs_f64()
        );
        if self.records_deploys {
            shared.record(|r| {
                if let Some(d) = r.deploys.last_mut() {
                    d.healthy = true;
                }
            });
        }
        Ok(())
    }

    /// The fixtures a recipe function of `op` gets.
    pub(crate) fn fixtures(&self, shared: &Shared, op: Option<Op>) -> Fixtures {
        Fixtures {
            ctx: HookCtx {
                domain: self.app.domain.clone(),
                base_url: self.base_url.clone().unwrap_or_default(),
                meta: shared.meta.clone(),
                deps: self.deps.values.clone(),
                op,
                routing: self.engine.reach().routing(),
            },
            op_state: shared.op_state.clone(),
            stack: Stack {
                swarm: self.swarm.clone(),
                name: self.app.stack.clone(),
            },
            http: self.http.clone(),
            browser: self.base_url.as_deref().map(|base| {
                let mut secrets = self.engine.secrets_made();
                for values in self.deps.values.values() {
                    for key in ccci_core::deps::SECRET_KEYS {
                        secrets.extend(values.get(*key).cloned());
                    }
                }
                secrets.retain(|s| s.len() >= crate::browser::SHORTEST_SECRET);
                crate::Browser::new(
                    base,
                    self.via
                        .resolve
                        .as_ref()
                        .map(|(host, addr)| (host.clone(), addr.ip().to_string())),
                    secrets,
                    Some(crate::browser::ReportPicture {
                        path: shared.dir.screenshot(),
                        taken: shared.picture_taken.clone(),
                        wanted: shared.settings.screenshot != Some(false),
                    }),
                )
            }),
            snapshot: self.backup.as_ref().map(|b| b.snapshot.clone()),
        }
    }
}

/// Whether `swarm`'s host has IPVS: as the settings say, else a local daemon's kernel is
/// asked, and a remote one (which cannot be seen from here) is taken to have it.
pub(crate) fn ipvs(settings: &crate::settings::Settings, swarm: &Swarm) -> bool {
    settings
        .ipvs
        .unwrap_or_else(|| !swarm.host().starts_with("unix://") || ccci_swarm::route::local_ipvs())
}

/// The engine that deploys the app on `swarm`: how it reaches the app (recorded), whether
/// the host has IPVS, when it pulls, which images it builds here, how it reads `@docker`.
async fn engine(shared: &Shared, swarm: &Swarm) -> Result<BuiltinEngine, HarnessError> {
    let reach = reach(shared, swarm).await?;
    let ipvs = ipvs(&shared.settings, swarm);
    if let Reach::Traefik(p) = &reach {
        eprintln!(
            "ccci: routing through Traefik ({}, https port {})",
            p.service, p.https_port
        );
    }
    shared.record(|r| r.routing = Some(reach.routing()));
    let local_images = match &shared.settings.image_builder {
        Some(builder) => Some(ccci_abra::images::LocalImages::open(builder)?),
        None => None,
    };
    let meta = &shared.meta;
    let engine = BuiltinEngine::new(
        swarm.clone(),
        &shared.dir.stacks(),
        &meta.service,
        reach,
        ipvs,
    )?
    .with_pull(shared.settings.pull.unwrap_or_default())
    .with_local_images(local_images)
    // ccci's Traefik 3 calls the Swarm provider `swarm`; see docs/recipes.md.
    .with_docker_provider_as(meta.rename_docker_provider.then(|| "swarm".into()))
    .with_default_limits(Some(shared.settings.limits.clone().unwrap_or_default()))
    .with_archive_cap(
        shared
            .settings
            .backup_cap
            .unwrap_or(ccci_abra::backup::ARCHIVE_CAP),
    );
    Ok(match &shared.settings.untrusted {
        Some(allow) => engine.untrusted(allow.clone()),
        None => engine,
    })
}

/// How the app will be reached: as the settings force it, else through the Traefik serving
/// `proxy` when there is one, else on a host port (said once, in the summary too).
async fn reach(shared: &Shared, swarm: &Swarm) -> Result<Reach, HarnessError> {
    let forced = shared.settings.routing;
    let proxy = match forced {
        Some(Routing::HostPort) => return Ok(Reach::HostPort),
        _ => swarm.find_proxy().await?,
    };
    match (forced, proxy) {
        (_, Some(mut p)) => {
            if let Some(path) = &shared.settings.ca_cert {
                p.ca_pem = Some(std::fs::read(path).map_err(io(path))?);
            }
            Ok(Reach::Traefik(p))
        }
        (Some(Routing::Traefik), None) => Err(HarnessError::NoTraefik {
            host: swarm.host().to_string(),
        }),
        (_, None) => {
            shared.record(|r| {
                r.warn("no Traefik serves the `proxy` network here, so the app is published on a host port and its Traefik labels go unused (routing: host-port)")
            });
            Ok(Reach::HostPort)
        }
    }
}

/// What the run was given of its dependencies (provided by the dependencies module, a layer
/// above), and where each realm lives.
#[derive(Default)]
pub(crate) struct Provided {
    /// `ctx.deps`: every provided dependency's values, by its name.
    pub values: ccci_core::Deps,
    /// Every realm made for the run, for teardown.
    pub realms: Vec<Held>,
}

/// A realm (a grant of the run's own) the run holds at a dependency.
pub(crate) struct Held {
    /// The dependency, as `deps` names it.
    pub dep: String,
    /// Where the realm is held.
    pub at: std::sync::Arc<dyn ccci_deps::Dependency>,
    /// The realm's name.
    pub realm: String,
}

impl Provided {
    /// The providers' and the realms' domains, which the tests' HTTP client resolves to
    /// Traefik too.
    pub(crate) fn domains(&self) -> Vec<String> {
        let mut d: Vec<String> = self
            .realms
            .iter()
            .flat_map(|h| h.at.domains(&h.realm))
            .collect();
        d.sort();
        d.dedup();
        d
    }
}
