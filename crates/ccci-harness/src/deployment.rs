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
    /// What an accepted backup left for the restore.
    pub backup: Option<Backup>,
    /// The dependencies provided to the run (see [`crate::deps`]).
    pub deps: crate::deps::Provided,
}

/// An accepted backup and ccci's markers in the live app, until the restore checked them.
pub(crate) struct Backup {
    pub snapshot: Snapshot,
    pub markers: Vec<Marker>,
    /// Backed-up paths that could not hold a marker, with why.
    pub marker_skips: Vec<String>,
}

impl Deployment {
    /// The checkout (see [`Checkout`]: everything checked that can be without a Swarm),
    /// then the Swarm, how the app is reached, the engine, and the run registered for the
    /// janitor.
    pub(crate) async fn prepare(
        shared: &Shared,
        deadline: Deadline,
    ) -> Result<Deployment, HarnessError> {
        let meta = &shared.meta;
        // Git may wait on a network: on a thread of its own, so that an interrupt does not
        // have to wait for it.
        let (settings, meta_owned) = (shared.settings.clone(), meta.clone());
        let (dest, servers) = (
            shared.dir.recipe_checkout(&meta.recipe),
            shared.dir.servers(),
        );
        let checkout = tokio::task::spawn_blocking(move || {
            Checkout::read(&settings, &meta_owned, &dest, &servers, deadline)
        })
        .await
        .map_err(|e| HarnessError::Io {
            path: shared.dir.recipe_checkout(&meta.recipe),
            source: std::io::Error::other(e.to_string()),
        })??;
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
        shared.record(|r| {
            r.head = Some(checkout.refs.head.clone());
            r.base = checkout.refs.base_ref();
            r.domain = checkout.app.domain.clone();
            r.stack = checkout.app.stack.clone();
        });
        let Checkout {
            recipe,
            app,
            refs,
            overlay,
            annotated: _,
        } = checkout;
        let swarm = Swarm::connect().await?;
        let engine = engine(shared, &swarm).await?;
        if let Some(registry) = &shared.registry {
            let (pid, pid_start) = crate::registry::this_process();
            registry.register(&crate::registry::ActiveRun {
                run_id: shared.run_id.clone(),
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
            backup: None,
            deps: Default::default(),
        })
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
        let overlay_path = self.recipe.path(CI_OVERLAY);
        if self.overlay.is_some() {
            // An untracked overlay could block the checkout of a commit that tracks one.
            let _ = std::fs::remove_file(&overlay_path);
        }
        self.recipe.checkout(commit, deadline)?;
        if let Some(text) = &self.overlay {
            std::fs::write(&overlay_path, text).map_err(io(&overlay_path))?;
        }
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
        shared.record(|r| {
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
        eprintln!(
            "ccci: {op}: {stack} is healthy and ready after {:.1}s",
            deadline.elapsed().as_secs_f64()
        );
        shared.record(|r| {
            if let Some(d) = r.deploys.last_mut() {
                d.healthy = true;
            }
        });
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
    Ok(BuiltinEngine::new(
        swarm.clone(),
        &shared.dir.stacks(),
        &meta.service,
        reach,
        ipvs,
    )?
    .with_pull(shared.settings.pull.unwrap_or_default())
    .with_local_images(local_images)
    // ccci's Traefik 3 calls the Swarm provider `swarm`; see docs/recipes.md.
    .with_docker_provider_as(meta.rename_docker_provider.then(|| "swarm".into())))
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
