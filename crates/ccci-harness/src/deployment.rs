//! What is deployed now: the run's recipe clone, the app, the engine that deploys it, which
//! commit runs, where it answers, and what the backup left for the restore. Made by the
//! install step ([`Deployment::prepare`]); owned by whichever step runs, then by teardown.

use crate::error::{io, HarnessError};
use crate::fixture::{Fixtures, Http, Stack};
use crate::shared::Shared;
use ccci_abra::markers::Marker;
use ccci_abra::{
    App, BuiltinEngine, DeployRequest, Deployer, Pull, Reach, Recipe, Release, Snapshot,
};
use ccci_core::meta::{Probe, Source};
use ccci_core::results::{DeployRecord, RefInfo, Routing};
use ccci_core::version::previous_release;
use ccci_core::{HookCtx, Op};
use ccci_swarm::{wait, Deadline, Swarm, SwarmError, Via, WaitError};
use std::time::Duration;

/// The CI overlay a test crate or a recipe may supply: copied into the run's checkout and
/// appended to `COMPOSE_FILE` for every deploy, so CI can swap what only a real server has
/// (a mail relay, say) for something local.
pub(crate) const CI_OVERLAY: &str = "compose.ccci.yml";

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
    /// The ref under test.
    pub head: RefInfo,
    /// The head's release, when it is one.
    pub head_release: Option<Release>,
    /// The release the upgrade starts from.
    pub base: Option<Release>,
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
}

/// An accepted backup and ccci's markers in the live app, until the restore checked them.
pub(crate) struct Backup {
    pub snapshot: Snapshot,
    pub markers: Vec<Marker>,
    /// Backed-up paths that could not hold a marker, with why.
    pub marker_skips: Vec<String>,
}

impl Deployment {
    /// The run's own recipe tree with annotated tags (abra deploys only annotated releases),
    /// the head and the upgrade base, the app with its env, the CI overlay, the engine.
    pub(crate) async fn prepare(
        run: &Shared,
        deadline: Deadline,
    ) -> Result<Deployment, HarnessError> {
        let meta = &run.meta;
        let swarm = Swarm::connect().await?;
        let dest = run.dir.recipe_checkout(&meta.recipe);
        let source = match (&run.settings.recipe_git, &meta.source) {
            (Some(url), _) | (None, Source::Git(url)) => Fetch::Clone(url.clone()),
            (None, Source::Releases(dir)) => Fetch::Releases(run.settings.crate_dir.join(dir)),
        };
        // The fetch may wait on a network: on a thread of its own, so that an interrupt does
        // not have to wait for it.
        let name = meta.recipe.clone();
        let recipe = tokio::task::spawn_blocking(move || match source {
            Fetch::Clone(url) => Recipe::clone_from(&name, &url, &dest, deadline),
            Fetch::Releases(dir) => Recipe::from_release_dirs(&name, &dir, &dest, deadline),
        })
        .await
        .map_err(|e| HarnessError::Io {
            path: run.dir.recipe_checkout(&meta.recipe),
            source: std::io::Error::other(e.to_string()),
        })??;
        for tag in recipe.normalize_tags(deadline)? {
            eprintln!("ccci: made lightweight tag {tag} annotated in this run's clone (abra only deploys annotated releases)");
        }
        let reference = run
            .settings
            .reference
            .clone()
            .unwrap_or_else(|| "HEAD".into());
        let commit =
            recipe
                .resolve(&reference, deadline)
                .map_err(|source| HarnessError::UnknownRef {
                    reference: reference.clone(),
                    url: run
                        .settings
                        .recipe_git
                        .clone()
                        .unwrap_or_else(|| match &meta.source {
                            Source::Git(url) => url.clone(),
                            Source::Releases(dir) => dir.clone(),
                        }),
                    source: Box::new(source),
                    fix: "set CCCI_REF (or --ref) to a tag, branch or commit of it",
                })?;
        let releases = recipe.releases(deadline)?;
        same_version_twice(&releases)?;
        let head_release = releases.iter().find(|r| r.commit == commit).cloned();
        let head = RefInfo {
            reference,
            commit: commit.clone(),
            version: head_release.as_ref().map(|r| r.version.to_string()),
        };
        let base = select_base(
            &meta.upgrade_base_version,
            &releases,
            head_release.as_ref(),
            &commit,
        )?;
        let domain = run
            .settings
            .domain
            .clone()
            .unwrap_or_else(|| crate::names::default_domain(&meta.recipe));
        let mut app = App::new(&recipe, &domain, &run.dir.servers(), &meta.extra_env)?;
        let overlay = overlay(run, &recipe, &commit, deadline)?;
        lint_head(
            &recipe,
            &commit,
            &app,
            overlay.as_ref().map(|(text, _)| text.as_str()),
            &meta.service,
            deadline,
        )?;
        if let Some((_, from)) = &overlay {
            let files = app.compose_files();
            if !files.iter().any(|f| f == CI_OVERLAY) {
                app.env.set(
                    "COMPOSE_FILE",
                    &[files, vec![CI_OVERLAY.to_string()]].concat().join(":"),
                );
                app.save()?;
            }
            let note = format!(
                "CI overlay {CI_OVERLAY} (from {from}) is added to COMPOSE_FILE for every deploy, \
                 so every deploy is a chaos deploy"
            );
            run.record(|r| {
                r.warn(&note);
                r.manifest.push(format!("overlay {CI_OVERLAY} from {from}"));
            });
        }
        run.record(|r| {
            r.head = Some(head.clone());
            r.base = base.as_ref().map(|b| RefInfo {
                reference: b.tag.clone(),
                commit: b.commit.clone(),
                version: Some(b.version.to_string()),
            });
            r.domain = app.domain.clone();
            r.stack = app.stack.clone();
        });
        let reach = reach(run, &swarm).await?;
        let local = swarm.host().starts_with("unix://");
        let ipvs = run
            .settings
            .ipvs
            .unwrap_or_else(|| !local || ccci_swarm::route::local_ipvs());
        let routing = match &reach {
            Reach::Traefik(p) => {
                eprintln!(
                    "ccci: routing through Traefik ({}, https port {})",
                    p.service, p.https_port
                );
                Routing::Traefik
            }
            Reach::HostPort => Routing::HostPort,
        };
        run.record(|r| r.routing = Some(routing));
        let pull = run
            .settings
            .pull
            .as_deref()
            .map(str::parse::<Pull>)
            .transpose()
            .map_err(HarnessError::BadPull)?
            .unwrap_or_default();
        let local_images = match &run.settings.image_builder {
            Some(builder) => Some(ccci_abra::images::LocalImages::open(builder)?),
            None => None,
        };
        let engine =
            BuiltinEngine::new(swarm.clone(), &run.dir.stacks(), &meta.service, reach, ipvs)?
                .with_pull(pull)
                .with_local_images(local_images)
                // ccci's Traefik 3 calls the Swarm provider `swarm`; see docs/recipes.md.
                .with_docker_provider_as(meta.rename_docker_provider.then(|| "swarm".into()));
        if let Some(registry) = &run.registry {
            let (pid, pid_start) = crate::registry::this_process();
            registry.register(&crate::registry::ActiveRun {
                run_id: run.run_id.clone(),
                pid,
                pid_start,
                recipe: meta.recipe.clone(),
                stack: app.stack.clone(),
                domain: app.domain.clone(),
                docker_host: swarm.host().to_string(),
                keep_until: None,
            })?;
        }
        Ok(Deployment {
            swarm,
            recipe,
            app,
            engine,
            head,
            head_release,
            base,
            base_url: None,
            via: Via::direct(),
            http: None,
            overlay: overlay.map(|(text, _)| text),
            on_swarm: false,
            stop_grace: Duration::from_secs(10),
            backup: None,
        })
    }

    /// Checks out `commit` (with the CI overlay, if any, put back beside it), deploys it as
    /// `release` (or as chaos), and records the deploy; keys Swarm ignores are said once.
    pub(crate) async fn deploy_at(
        &mut self,
        run: &Shared,
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
        self.app.reload()?;
        self.stop_grace = self.stop_grace.max(deployed.stop_grace);
        run.record(|r| {
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
        });
        self.http = deployed
            .base_url
            .as_deref()
            .map(|url| Http::new(url, &deployed.via))
            .transpose()
            .map_err(|e| HarnessError::HttpClient {
                base_url: deployed.base_url.clone().unwrap_or_default(),
                reason: e.to_string(),
            })?;
        self.base_url = deployed.base_url;
        self.via = deployed.via;
        Ok(())
    }

    /// Why the health path did not answer as expected. Through Traefik, Traefik itself is
    /// asked how it sees the stack's routers: a refused router, or no router matching the
    /// health URL, is the reason, said with Traefik's words; refusals that do not touch the
    /// health route become warnings.
    async fn why_not_healthy(&self, run: &Shared, e: SwarmError) -> HarnessError {
        let meta = &run.meta;
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
                    run.record(|r| {
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
            run.record(|rec| {
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
        run: &Shared,
        op: &str,
        deadline: Deadline,
    ) -> Result<(), HarnessError> {
        let meta = &run.meta;
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
                    return Err(self.why_not_healthy(run, e).await);
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
        run.record(|r| {
            if let Some(d) = r.deploys.last_mut() {
                d.healthy = true;
            }
        });
        Ok(())
    }

    /// The fixtures a recipe function of `op` gets.
    pub(crate) fn fixtures(&self, run: &Shared, op: Option<Op>) -> Fixtures {
        Fixtures {
            ctx: HookCtx {
                domain: self.app.domain.clone(),
                base_url: self.base_url.clone().unwrap_or_default(),
                meta: run.meta.clone(),
                deps: Default::default(),
                op,
                routing: match self.engine.reach() {
                    Reach::Traefik(_) => Routing::Traefik,
                    Reach::HostPort => Routing::HostPort,
                },
            },
            op_state: run.op_state.clone(),
            stack: Stack {
                swarm: self.swarm.clone(),
                name: self.app.stack.clone(),
            },
            http: self.http.clone(),
            snapshot: self.backup.as_ref().map(|b| b.snapshot.clone()),
        }
    }
}

/// How the app will be reached: as the settings force it, else through the Traefik serving
/// `proxy` when there is one, else on a host port (said once, in the summary too).
async fn reach(run: &Shared, swarm: &Swarm) -> Result<Reach, HarnessError> {
    let forced = run
        .settings
        .routing
        .as_deref()
        .map(str::parse::<Routing>)
        .transpose()
        .map_err(HarnessError::BadRouting)?;
    let proxy = match forced {
        Some(Routing::HostPort) => return Ok(Reach::HostPort),
        _ => swarm.find_proxy().await?,
    };
    match (forced, proxy) {
        (_, Some(mut p)) => {
            if let Some(path) = &run.settings.ca_cert {
                p.ca_pem = Some(std::fs::read(path).map_err(io(path))?);
            }
            Ok(Reach::Traefik(p))
        }
        (Some(Routing::Traefik), None) => Err(HarnessError::NoTraefik {
            host: swarm.host().to_string(),
        }),
        (_, None) => {
            run.record(|r| {
                r.warn("no Traefik serves the `proxy` network here, so the app is published on a host port and its Traefik labels go unused (routing: host-port)")
            });
            Ok(Reach::HostPort)
        }
    }
}

/// Where the recipe comes from.
enum Fetch {
    Clone(String),
    Releases(std::path::PathBuf),
}

/// The CI overlay and where it came from: the test crate's (beside its ccci.yml), else the
/// recipe's own at the head.
fn overlay(
    run: &Shared,
    recipe: &Recipe,
    commit: &str,
    deadline: Deadline,
) -> Result<Option<(String, String)>, HarnessError> {
    let crate_overlay = run.settings.crate_dir.join(CI_OVERLAY);
    let is_crate = run.settings.crate_dir.join("ccci.yml").is_file();
    if is_crate {
        if let Ok(text) = std::fs::read_to_string(&crate_overlay) {
            return Ok(Some((text, crate_overlay.display().to_string())));
        }
    }
    let short = &commit[..8.min(commit.len())];
    Ok(recipe
        .file_at(commit, CI_OVERLAY, deadline)?
        .map(|text| (text, format!("{CI_OVERLAY} of the recipe at {short}"))))
}

/// The release the upgrade starts from: `upgrade_base_version` when set (it must be a
/// release), else the release before the head; for an unreleased head, the latest release.
/// Refuses two release tags of one version on different commits: which is the release?
fn same_version_twice(releases: &[Release]) -> Result<(), HarnessError> {
    for (i, a) in releases.iter().enumerate() {
        if let Some(b) = releases[i + 1..]
            .iter()
            .find(|b| b.version == a.version && b.commit != a.commit)
        {
            return Err(ccci_abra::AbraError::Invalid(format!(
                "release tags `{}` and `{}` are both version {} but tag different commits: delete or rename one of them (`git tag -d` and `git push --delete origin <tag>`)",
                a.tag, b.tag, a.version
            ))
            .into());
        }
    }
    Ok(())
}

/// Reads the head's compose chain before anything is deployed (see `ccci_abra::lint`), and
/// refuses service names over the 63 characters Swarm allows, which the domain makes long.
fn lint_head(
    recipe: &Recipe,
    commit: &str,
    app: &App,
    overlay: Option<&str>,
    main_service: &str,
    deadline: Deadline,
) -> Result<(), HarnessError> {
    let names = app.compose_files();
    let mut texts = Vec::new();
    for name in &names {
        texts.push(match (name.as_str(), overlay) {
            (CI_OVERLAY, Some(text)) => Some(text.to_string()),
            _ => recipe.file_at(commit, name, deadline)?,
        });
    }
    let files: Vec<ccci_abra::lint::ComposeFile<'_>> = names
        .iter()
        .zip(&texts)
        .map(|(name, text)| ccci_abra::lint::ComposeFile {
            name,
            text: text.as_deref(),
        })
        .collect();
    let has_file = |path: &str| matches!(recipe.file_at(commit, path, deadline), Ok(Some(_)));
    let secrets = ccci_abra::lint::lint(&files, &has_file, main_service)?;
    // abra names a secret `<stack>_<secret>_<version>`; Swarm refuses names over 64.
    for secret in secrets {
        let version = app
            .env
            .get(&format!("SECRET_{}_VERSION", secret.to_uppercase()))
            .unwrap_or("v1");
        let name = format!("{}_{secret}_{version}", app.stack);
        if name.len() > 64 {
            return Err(ccci_abra::AbraError::NameTooLong {
                kind: "secret",
                len: name.len(),
                name,
                stack: app.stack.clone(),
            }
            .into());
        }
    }
    let longest = format!("{}_{main_service}", app.stack);
    if longest.len() > 63 {
        return Err(ccci_abra::AbraError::Invalid(format!(
            "domain `{}` makes service names like `{longest}` ({} characters) longer than the 63 Swarm allows: use a shorter domain (--domain or CCCI_DOMAIN)",
            app.domain,
            longest.len()
        ))
        .into());
    }
    Ok(())
}

pub(crate) fn select_base(
    wanted: &Option<ccci_core::Version>,
    releases: &[Release],
    head_release: Option<&Release>,
    head_commit: &str,
) -> Result<Option<Release>, HarnessError> {
    if let Some(v) = wanted {
        let base = releases
            .iter()
            .find(|r| &r.version == v)
            .cloned()
            .ok_or_else(|| HarnessError::UnknownBase {
                wanted: v.to_string(),
                releases: releases.iter().map(|r| r.version.to_string()).collect(),
            })?;
        if let Some(h) = head_release.filter(|h| h.version <= base.version) {
            return Err(HarnessError::HeadNotAfterBase {
                head: h.tag.clone(),
                base: base.tag.clone(),
            });
        }
        return Ok(Some(base));
    }
    let versions: Vec<ccci_core::Version> = releases
        .iter()
        .filter(|r| r.commit != head_commit)
        .map(|r| r.version.clone())
        .collect();
    let base = match head_release {
        Some(h) => previous_release(&versions, &h.version).cloned(),
        None => versions.iter().max().cloned(),
    };
    Ok(base.and_then(|v| releases.iter().find(|r| r.version == v).cloned()))
}

#[cfg(test)]
mod tests {
    use super::select_base;
    use ccci_abra::Release;

    fn rel(v: &str, commit: &str) -> Release {
        Release {
            version: v.parse().unwrap(),
            tag: v.into(),
            commit: commit.into(),
            annotated: true,
        }
    }

    #[test]
    fn the_base_is_the_release_before_the_head() {
        let all = [
            rel("1.0.0+1", "a"),
            rel("1.2.0+1", "c"),
            rel("1.1.0+1", "b"),
        ];
        let base = select_base(&None, &all, Some(&all[1]), "c")
            .unwrap()
            .unwrap();
        assert_eq!(base.tag, "1.1.0+1");
        assert!(
            select_base(&None, &all, Some(&all[0]), "a")
                .unwrap()
                .is_none(),
            "the first release has nothing before it"
        );
    }

    #[test]
    fn an_unreleased_head_upgrades_from_the_latest_release() {
        let all = [rel("1.0.0+1", "a"), rel("1.1.0+1", "b")];
        assert_eq!(
            select_base(&None, &all, None, "d").unwrap().unwrap().tag,
            "1.1.0+1"
        );
        assert!(select_base(&None, &[], None, "d").unwrap().is_none());
    }

    #[test]
    fn upgrade_base_version_must_be_a_release() {
        let all = [
            rel("1.0.0+1", "a"),
            rel("1.1.0+1", "b"),
            rel("1.2.0+1", "c"),
        ];
        let wanted = Some("1.0.0+1".parse().unwrap());
        assert_eq!(
            select_base(&wanted, &all, Some(&all[2]), "c")
                .unwrap()
                .unwrap()
                .tag,
            "1.0.0+1"
        );
        let missing = Some("0.9.0+1".parse().unwrap());
        let e = select_base(&missing, &all, Some(&all[2]), "c")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("upgrade_base_version 0.9.0+1 is not a release")
                && e.contains("1.0.0+1, 1.1.0+1, 1.2.0+1"),
            "{e}"
        );
    }
}
