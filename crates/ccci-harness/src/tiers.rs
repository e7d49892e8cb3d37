//! The generic tiers (R1): install, upgrade, backup, restore. Each runs against the one app
//! of the run and returns a one-line error naming what went wrong and the fix.

use crate::fixture::Http;
use crate::run::{default_domain, io, HarnessError, Live, Run, TierError};
use ccci_abra::backup::is_backup_capable;
use ccci_abra::markers;
use ccci_abra::{App, BuiltinEngine, DeployRequest, Deployer, Recipe, Release};
use ccci_core::ladder::Rung;
use ccci_core::meta::{Probe, Source};
use ccci_core::results::{DeployRecord, RefInfo, RestoreProof, SnapshotRecord};
use ccci_core::version::previous_release;
use ccci_core::{ChaosVersion, Op};
use ccci_swarm::wait::WaitError;
use ccci_swarm::{wait, Deadline, Swarm, SwarmError};
use std::time::Duration;

/// The longest settle-wait before a backup (R15); on timeout the backup runs anyway.
const SETTLE: Duration = Duration::from_secs(300);
/// Backups taken before giving up when BACKUP_VERIFY keeps rejecting them (R18).
const BACKUP_ATTEMPTS: u32 = 3;
/// The CI overlay a test crate or a recipe may supply (R7): copied into the run's checkout
/// and appended to `COMPOSE_FILE` for every deploy.
pub(crate) const CI_OVERLAY: &str = "compose.ccci.yml";

impl Run {
    /// Install: refuse dependencies ccci cannot provide, set up the run's recipe tree and app,
    /// deploy, and wait until converged, healthy and ready (R11, R12). The upgrade base is
    /// deployed when the upgrade will run; otherwise the head itself, so the head is always
    /// deployed and must become healthy.
    pub(crate) fn install(&self) -> Result<(), TierError> {
        if let Some(dep) = self.meta.deps.first() {
            return Err(TierError::Failed(HarnessError::Other(format!(
                "dependency `{dep}` (deps in ccci.yml) cannot be provided: ccci does not provision dependencies yet, and a test that needs one would otherwise run without it; remove it from deps, or test this recipe where {dep} is provided"
            ))));
        }
        self.rt.block_on(async {
            let live = self.prepare().await?;
            let upgrade_runs = !self.meta.expected_na.contains_key(&Rung::Upgrade);
            let target = match (upgrade_runs, &live.base) {
                (true, Some(base)) => Some(base.clone()),
                _ => live.head_release.clone(),
            };
            let commit = target
                .as_ref()
                .map_or(live.head.commit.clone(), |r| r.commit.clone());
            eprintln!(
                "ccci: install: deploying {} {} as {} (stack {})",
                live.meta.recipe,
                target
                    .as_ref()
                    .map_or("unreleased head (chaos)".to_string(), |r| r
                        .version
                        .to_string()),
                live.app.domain,
                live.app.stack
            );
            {
                // From here on teardown owns the app: a deploy that fails half-way may
                // already have created secrets or networks.
                let mut st = self.lock();
                st.live = Some(live);
                st.deployed = true;
            }
            self.deploy_at("install", &commit, target.as_ref()).await?;
            self.wait_ready("install").await?;
            self.mark_healthy();
            Ok(())
        })
    }

    /// Upgrade (R16, R13): redeploy the head in place as a chaos deploy with the recipe's
    /// upgrade env, prove the running stack is the head (its chaos-version label names the head
    /// commit), then wait until healthy and ready within the recipe's deploy timeout.
    pub(crate) fn upgrade(&self) -> Result<(), TierError> {
        self.rt.block_on(async {
            let (base, head) = self.with_live(|l| Ok((l.base.clone(), l.head.clone())))?;
            let short = &head.commit[..8.min(head.commit.len())];
            let Some(base) = base else {
                return Err(TierError::CannotRun(format!(
                    "{} has no release before the head ({}) to upgrade from; tag one, set `upgrade_base_version`, or declare `expected_na: {{upgrade: <reason>}}` in ccci.yml",
                    self.meta.recipe,
                    head.version.as_deref().unwrap_or(&head.commit)
                )));
            };
            self.with_live(|live| {
                for (k, v) in &live.meta.upgrade_extra_env {
                    live.app.env.set(k, v);
                }
                Ok(live.app.save()?)
            })?;
            eprintln!("ccci: upgrade: {} {} -> head {} (chaos)", self.meta.recipe, base.version, short);
            self.deploy_at("upgrade", &head.commit, None).await?;
            let swarm = self.swarm()?;
            let stack = self.with_live(|l| Ok(l.app.stack.clone()))?;
            let label = format!("coop-cloud.{stack}.chaos-version");
            let labels = swarm.service_labels(&stack).await?;
            let service = &self.meta.service;
            let found = labels.iter().find(|(n, _)| n == service).and_then(|(_, l)| l.get(&label).cloned());
            let running: ChaosVersion = found
                .ok_or_else(|| HarnessError::Other(format!("after the upgrade, service {stack}_{service} has no {label} label: the running stack is not a chaos deploy of the head")))?
                .parse()
                .map_err(|e| HarnessError::Other(format!("after the upgrade: {e}")))?;
            if !running.is_commit(&head.commit) {
                return Err(HarnessError::Other(format!(
                    "after the upgrade the stack runs recipe commit {running}, not the head {short}: the redeploy did not take"
                ))
                .into());
            }
            self.wait_ready("upgrade").await?;
            self.mark_healthy();
            Ok(())
        })
    }

    /// Checks out `commit` (with the CI overlay, if any, put back beside it), deploys it as
    /// `release` (or as chaos), and records the deploy. Keys Swarm ignores are said once.
    async fn deploy_at(
        &self,
        step: &str,
        commit: &str,
        release: Option<&Release>,
    ) -> Result<(), HarnessError> {
        let (engine, recipe, app, overlay) = self.with_live(|l| {
            let overlay_path = l.recipe.path(CI_OVERLAY);
            if l.overlay.is_some() {
                // An untracked overlay could block the checkout of a commit that tracks one.
                let _ = std::fs::remove_file(&overlay_path);
            }
            l.recipe.checkout(commit)?;
            if let Some(text) = &l.overlay {
                std::fs::write(&overlay_path, text).map_err(io(&overlay_path))?;
            }
            Ok((
                l.engine.clone(),
                l.recipe.clone(),
                l.app.clone(),
                l.overlay.is_some(),
            ))
        })?;
        let deployed = engine
            .deploy(DeployRequest {
                app: &app,
                recipe: &recipe,
                release: release.map(|r| &r.version),
                force_chaos: overlay,
            })
            .await?;
        {
            let mut st = self.lock();
            st.deploys.push(DeployRecord {
                step: step.into(),
                version: release.map(|r| r.version.to_string()),
                commit: commit.into(),
                chaos_version: deployed.chaos_version.as_ref().map(ToString::to_string),
                compose_files: deployed.compose_files.clone(),
                healthy: false,
            });
            for w in &deployed.ignored {
                if !st.warnings.contains(w) {
                    eprintln!("ccci: warning: {w}");
                    st.warnings.push(w.clone());
                }
            }
            st.stop_grace = st.stop_grace.max(deployed.stop_grace);
        }
        self.set_base_url(deployed.base_url)
    }

    /// The last deploy became converged, healthy and ready.
    fn mark_healthy(&self) {
        if let Some(d) = self.lock().deploys.last_mut() {
            d.healthy = true;
        }
    }

    /// Backup (R15, R18): let the services settle, write ccci's markers into every backed-up
    /// directory, take a snapshot by the backupbot labels, and accept it only if it holds
    /// every marker and every BACKUP_VERIFY function accepts it; a rejected or failed backup
    /// is taken again, up to three attempts, each recorded.
    pub(crate) fn backup(&self) -> Result<(), TierError> {
        self.rt.block_on(async {
            let swarm = self.swarm()?;
            let (stack, run_dir) = self.stack_and_dir()?;
            let capable = match self.meta.backup_capable {
                Some(c) => c,
                None => is_backup_capable(&swarm.service_labels(&stack).await?),
            };
            if !capable {
                return Err(TierError::CannotRun(format!(
                    "no service of {stack} has the label backupbot.backup=true; add it (and its hooks) to the recipe, or declare `expected_na: {{backup_restore: <reason>}}` in ccci.yml"
                )));
            }
            let settle = Deadline::after(SETTLE.min(self.meta.deploy_timeout));
            if let Err(e) = wait::wait_converged(&swarm, &stack, settle).await {
                eprintln!("ccci: backup: the stack did not settle ({e}); backing up anyway, the checks decide");
            }
            let deadline = Deadline::after(self.meta.deploy_timeout);
            let plans = ccci_abra::backup::plans(&swarm, &stack, deadline).await?;
            let placed = markers::place(&swarm, &stack, &plans, &self.run_id, deadline).await?;
            for m in &placed.markers {
                eprintln!("ccci: backup: wrote marker {}", m.describe());
            }
            {
                let mut st = self.lock();
                st.markers = placed.markers.clone();
                st.marker_skips = placed.skipped.clone();
            }
            let mut failures = Vec::new();
            for attempt in 1..=BACKUP_ATTEMPTS {
                let dir = run_dir.join("snapshots").join(attempt.to_string());
                let (engine, _, app) = self.parts()?;
                let taken = engine.backup(&app, &dir, Deadline::after(self.meta.deploy_timeout)).await;
                let mut record = SnapshotRecord { attempt, dir: dir.display().to_string(), verified: None, error: None };
                match taken {
                    Err(e) => record.error = Some(e.to_string()),
                    Ok(snapshot) => {
                        let lost = markers::missing_from(&snapshot, &placed.markers)?;
                        self.lock().snapshot = Some(snapshot);
                        let rejected = match lost.is_empty() {
                            true => self.verify_snapshot().await,
                            false => Some(format!("the snapshot lacks ccci's marker {}", lost.join(", "))),
                        };
                        record.verified = (!self.hooks.verify.is_empty()).then_some(rejected.is_none());
                        record.error = rejected;
                    }
                }
                let accepted = record.error.is_none();
                eprintln!(
                    "ccci: backup: attempt {attempt}: {} (snapshot kept at {})",
                    record.error.as_deref().map(|e| format!("rejected: {e}")).unwrap_or_else(|| "accepted".into()),
                    record.dir
                );
                if let Some(e) = &record.error {
                    failures.push(format!("attempt {attempt}: {e}"));
                }
                self.lock().snapshots.push(record);
                if accepted {
                    return Ok(());
                }
                self.lock().snapshot = None;
            }
            Err(HarnessError::Other(format!("no usable backup in {BACKUP_ATTEMPTS} attempts: {}", failures.join("; "))).into())
        })
    }

    /// Runs every BACKUP_VERIFY function on the latest snapshot; `None` when all accept it.
    async fn verify_snapshot(&self) -> Option<String> {
        for def in &self.hooks.verify {
            let fx = match self.fixtures(Some(ccci_core::Op::Backup)) {
                Ok(fx) => fx,
                Err(e) => return Some(e),
            };
            match (def.run)(&fx).await {
                Ok(true) => {}
                Ok(false) => {
                    return Some(format!(
                        "BACKUP_VERIFY {} rejected the snapshot ({}:{})",
                        def.name, def.file, def.line
                    ))
                }
                Err(e) => {
                    return Some(format!(
                        "BACKUP_VERIFY {} failed: {e} ({}:{})",
                        def.name, def.file, def.line
                    ))
                }
            }
        }
        None
    }

    /// Restore (R19): take ccci's markers out of the live app, put the accepted snapshot
    /// back, wait until the app is healthy and ready again, and require every marker back
    /// byte for byte. Records what proved the data came back. The snapshot is only read: a
    /// failed restore can be retried from it.
    pub(crate) fn restore(&self) -> Result<(), TierError> {
        self.rt.block_on(async {
            let (snapshot, placed, skipped) = {
                let st = self.lock();
                (st.snapshot.clone(), st.markers.clone(), st.marker_skips.clone())
            };
            let snapshot = snapshot.ok_or_else(|| HarnessError::Other("no accepted snapshot to restore".into()))?;
            let swarm = self.swarm()?;
            let (stack, _) = self.stack_and_dir()?;
            let deadline = Deadline::after(self.meta.deploy_timeout);
            markers::remove(&swarm, &stack, &placed, deadline).await?;
            let (engine, _, app) = self.parts()?;
            let restored = engine.restore(&app, &snapshot, deadline).await;
            restored.map_err(|e| {
                HarnessError::Other(format!(
                    "{e}; the snapshot is intact at {} for another attempt",
                    snapshot.dir.display()
                ))
            })?;
            eprintln!("ccci: restore: restored the snapshot at {}", snapshot.dir.display());
            self.wait_ready("restore").await?;
            let lost = markers::not_restored(&swarm, &stack, &placed, deadline).await?;
            if !lost.is_empty() {
                return Err(HarnessError::Other(format!(
                    "the restore lost data: ccci's marker written before the backup is not back ({}); the snapshot at {} holds it",
                    lost.join(", "),
                    snapshot.dir.display()
                ))
                .into());
            }
            markers::clean_up(&swarm, &stack, &placed).await;
            let hooks: Vec<String> = self
                .hooks
                .lifecycle
                .iter()
                .filter(|d| d.op == Op::Restore && !d.before)
                .map(|d| d.name.to_string())
                .collect();
            let proof = if !hooks.is_empty() {
                RestoreProof::RecipeHooks { hooks }
            } else if !placed.is_empty() {
                RestoreProof::Markers { paths: placed.iter().map(|m| m.describe()).collect() }
            } else {
                RestoreProof::None {
                    reason: format!(
                        "no backed-up path can hold a marker ({}) and the recipe has no #[ccci::lifecycle(after = restore)] check; add one that finds data seeded before the backup",
                        skipped.join("; ")
                    ),
                }
            };
            if let RestoreProof::None { reason } = &proof {
                eprintln!("ccci: restore: not proven by data: {reason}");
            }
            self.lock().restore_proof = Some(proof);
            Ok(())
        })
    }

    /// Converged + health path (R11) + every READY_PROBE, all within the recipe's
    /// deploy_timeout (R12).
    async fn wait_ready(&self, op: &str) -> Result<(), HarnessError> {
        self.wait_ready_inner(op).await.map_err(|e| match e {
            HarnessError::Swarm(SwarmError::Wait(WaitError::WrongAnswer { status, ok, held, .. })) => {
                HarnessError::Other(format!(
                    "the stack converged, but the health path {} answered {status} for {}s (accepted: {ok:?}): set `health_path` to a path the app serves (in ccci.yml, or `--set health_path=/path`), or accept that status with `health_ok` (`--set 'health_ok=[200, {status}]'`)",
                    self.meta.health_path,
                    held.as_secs()
                ))
            }
            other => other,
        })
    }

    async fn wait_ready_inner(&self, op: &str) -> Result<(), HarnessError> {
        let swarm = self.swarm()?;
        let (stack, _) = self.stack_and_dir()?;
        let base_url = self.with_live(|l| Ok(l.base_url.clone()))?;
        let deadline = Deadline::after(self.meta.deploy_timeout);
        match &base_url {
            Some(base) => {
                let url = format!("{base}{}", self.meta.health_path);
                wait::wait_healthy(&swarm, &stack, &url, &self.meta.health_ok, deadline).await?;
            }
            None => {
                wait::wait_converged(&swarm, &stack, deadline).await?;
            }
        }
        for probe in &self.meta.ready_probe {
            match probe {
                Probe::Http { path, ok } => {
                    let base = base_url.as_deref().ok_or_else(|| {
                        HarnessError::Other(format!(
                            "ready_probe http {path}: the app has no HTTP route to probe"
                        ))
                    })?;
                    wait::wait_http(&format!("{base}{path}"), ok, deadline)
                        .await
                        .map_err(ccci_swarm::SwarmError::from)?;
                }
                Probe::Tcp { port, stable } => {
                    wait::wait_tcp("127.0.0.1", *port, *stable, deadline)
                        .await
                        .map_err(ccci_swarm::SwarmError::from)?;
                }
            }
        }
        eprintln!(
            "ccci: {op}: {stack} is healthy and ready after {:.1}s",
            deadline.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// Setup: the run directory, the run's own recipe tree (R21) with annotated tags (R17),
    /// the head and the upgrade base (R16), the app and the engine.
    async fn prepare(&self) -> Result<Live, HarnessError> {
        let meta = self.meta.clone();
        let run_dir = self
            .lock()
            .run_dir
            .clone()
            .ok_or_else(|| HarnessError::Other("the run has no directory".into()))?;
        let swarm = Swarm::connect().await?;

        let recipe_dir = run_dir.join("abra/recipes").join(&meta.recipe);
        let recipe = match (&self.settings.recipe_git, &meta.source) {
            (Some(url), _) | (None, Source::Git(url)) => {
                Recipe::clone_from(&meta.recipe, url, &recipe_dir)?
            }
            (None, Source::Releases(dir)) => Recipe::from_release_dirs(
                &meta.recipe,
                &self.settings.crate_dir.join(dir),
                &recipe_dir,
            )?,
        };
        for tag in recipe.normalize_tags()? {
            eprintln!("ccci: made lightweight tag {tag} annotated in this run's clone (abra only deploys annotated releases)");
        }
        let reference = self
            .settings
            .reference
            .clone()
            .unwrap_or_else(|| "HEAD".into());
        let commit = recipe.resolve(&reference).map_err(|e| {
            HarnessError::Other(format!("ref `{reference}` is not in the recipe repository ({e}): set CCCI_REF to a tag, branch or commit of it"))
        })?;
        let releases = recipe.releases()?;
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

        let domain = self
            .settings
            .domain
            .clone()
            .unwrap_or_else(|| default_domain(&meta.recipe));
        let mut app = App::new(
            &recipe,
            &domain,
            &run_dir.join("abra/servers/local"),
            &meta.extra_env,
        )?;
        // The CI overlay: the test crate's (beside its ccci.yml), else the recipe's own at the
        // head.
        let crate_overlay = self.settings.crate_dir.join(CI_OVERLAY);
        let is_crate = self.settings.crate_dir.join("ccci.yml").is_file();
        let overlay = match std::fs::read_to_string(&crate_overlay) {
            Ok(text) if is_crate => Some((text, crate_overlay.display().to_string())),
            _ => recipe.file_at(&commit, CI_OVERLAY)?.map(|text| {
                (
                    text,
                    format!(
                        "{CI_OVERLAY} of the recipe at {}",
                        &commit[..8.min(commit.len())]
                    ),
                )
            }),
        };
        if let Some((_, from)) = &overlay {
            let files = app.compose_files();
            if !files.iter().any(|f| f == CI_OVERLAY) {
                app.env.set(
                    "COMPOSE_FILE",
                    &[files, vec![CI_OVERLAY.to_string()]].concat().join(":"),
                );
                app.save()?;
            }
            let note = format!("CI overlay {CI_OVERLAY} (from {from}) is added to COMPOSE_FILE for every deploy, so every deploy is a chaos deploy");
            eprintln!("ccci: {note}");
            self.lock().warnings.push(note);
        }
        {
            let mut st = self.lock();
            st.head = Some(head.clone());
            st.base = base.as_ref().map(|b| RefInfo {
                reference: b.tag.clone(),
                commit: b.commit.clone(),
                version: Some(b.version.to_string()),
            });
            st.domain = app.domain.clone();
            st.stack = app.stack.clone();
        }
        let engine = BuiltinEngine::local(swarm.clone(), &run_dir.join("stacks"), &meta.service)?;
        Ok(Live {
            meta,
            run_dir,
            swarm,
            recipe,
            app,
            engine,
            head,
            head_release,
            base,
            base_url: None,
            http: None,
            overlay: overlay.map(|(text, _)| text),
        })
    }

    fn set_base_url(&self, base_url: Option<String>) -> Result<(), HarnessError> {
        let http = base_url
            .as_deref()
            .map(Http::new)
            .transpose()
            .map_err(|e| HarnessError::Other(format!("cannot build the HTTP client: {e}")))?;
        self.with_live(|live| {
            live.base_url = base_url;
            live.http = http;
            Ok(())
        })
    }

    /// Reads or changes the deployed app under the state lock. The closure cannot await, so
    /// the lock is never held across an await: tiers copy out what they need first.
    fn with_live<T>(
        &self,
        f: impl FnOnce(&mut Live) -> Result<T, HarnessError>,
    ) -> Result<T, HarnessError> {
        let mut st = self.lock();
        let live = st
            .live
            .as_mut()
            .ok_or_else(|| HarnessError::Other("the app is not deployed".into()))?;
        f(live)
    }

    fn swarm(&self) -> Result<Swarm, HarnessError> {
        self.with_live(|l| Ok(l.swarm.clone()))
    }

    fn stack_and_dir(&self) -> Result<(String, std::path::PathBuf), HarnessError> {
        self.with_live(|l| Ok((l.app.stack.clone(), l.run_dir.clone())))
    }

    /// Copies of the engine, recipe and app, to use across awaits.
    fn parts(&self) -> Result<(BuiltinEngine, Recipe, App), HarnessError> {
        self.with_live(|l| Ok((l.engine.clone(), l.recipe.clone(), l.app.clone())))
    }
}

/// The release the upgrade starts from (R16): `upgrade_base_version` when set (it must be a
/// release), else the release before the head; for an unreleased head, the latest release.
fn select_base(
    wanted: &Option<ccci_core::Version>,
    releases: &[Release],
    head_release: Option<&Release>,
    head_commit: &str,
) -> Result<Option<Release>, HarnessError> {
    if let Some(v) = wanted {
        return releases
            .iter()
            .find(|r| &r.version == v)
            .cloned()
            .map(Some)
            .ok_or_else(|| {
                let all: Vec<String> = releases.iter().map(|r| r.version.to_string()).collect();
                HarnessError::Other(format!(
                    "upgrade_base_version {v} is not a release of the recipe (releases: {})",
                    all.join(", ")
                ))
            });
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
