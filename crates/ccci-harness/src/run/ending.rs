//! How a run ends: the screenshot (when asked), keeping a red run's stack for debugging or
//! tearing it down, and the results it concludes and writes.

use super::{Report, Run};
use crate::budget::Budgets;
use crate::record::RunFacts;
use crate::shared::lock;
use ccci_abra::Deployer;
use ccci_core::lane::Ending;
use ccci_core::results::Teardown;
use std::time::Instant;

impl Run {
    /// Tears down, concludes the ladder and writes results.json and summary.txt. Steps that
    /// never ran were not selected by the test filter, or cut off by an interrupt.
    pub(crate) fn finish(&self) -> Report {
        self.take_screenshot();
        self.roll_back();
        self.persist_op_state();
        if !self.interrupted() {
            self.check_dependencies();
        }
        let run_dir = self.shared.dir.path().display().to_string();
        let facts = RunFacts {
            meta: &self.shared.meta,
            run_id: &self.shared.run_id,
            run_dir: &run_dir,
            started: self.started,
            interrupted: self.interrupted(),
            host: crate::build::host_name(&self.shared.settings),
        };
        // The ladder is concluded twice, each time for its own use: here, as if teardown
        // will be clean, for the verdict that decides how the run ends (a red stack kept,
        // the canonical returned, a green one promoted); and once more at the end, with the
        // teardown that happened and the promotion's record, for the results.
        let so_far = self
            .shared
            .record(|r| r.results(&facts, &self.steps, Teardown::clean()))
            .verdict;
        let red = so_far == ccci_core::Verdict::Red;
        let teardown = match self.shared.settings.lane.ending() {
            Ending::ReturnCanonical => self.return_canonical(red),
            Ending::TearDown => {
                let kept = match self.shared.settings.keep {
                    Some(keep) if !self.interrupted() && red => self.keep_stack(keep),
                    _ => None,
                };
                kept.unwrap_or_else(|| self.teardown())
            }
        };
        if self.shared.settings.lane.may_promote() && !self.interrupted() {
            let green = so_far == ccci_core::Verdict::Green && teardown.makes_red().is_none();
            self.promote_canonical(green);
        }
        // A run that left something stays registered, for the janitor to retry (or, kept,
        // to remove when its time is up).
        if let (true, Some(registry)) = (teardown.clean, &self.shared.registry) {
            registry.forget(&self.shared.run_id);
        }
        let results = self
            .shared
            .record(|r| r.results(&facts, &self.steps, teardown));
        let path = self.shared.dir.results();
        match serde_json::to_string_pretty(&results) {
            Ok(json) => {
                for target in
                    std::iter::once(&path).chain(self.shared.settings.results_copy.as_ref())
                {
                    if let Err(e) = std::fs::write(target, &json) {
                        eprintln!("ccci: cannot write {}: {e}", target.display());
                    }
                }
            }
            Err(e) => eprintln!("ccci: cannot serialise the results: {e}"),
        }
        if let Some(journal) = lock(&self.journal).as_mut() {
            journal.end();
        }
        let summary = crate::report::summary(&results, &path);
        if let Err(e) = std::fs::write(self.shared.dir.summary(), format!("{summary}\n")) {
            eprintln!(
                "ccci: cannot write {}: {e}",
                self.shared.dir.summary().display()
            );
        }
        Report {
            results,
            path,
            interrupted: self.interrupted(),
        }
    }

    /// The page a recipe's test chose for the report, else the app's front page, while it
    /// is still deployed and the run was not interrupted,
    /// when the settings ask for it (`cargo ccci run` does).
    /// Best effort: a failure is recorded, never a failure of the run.
    pub(super) fn take_screenshot(&self) {
        if let Some(path) = lock(&self.shared.picture_taken).clone() {
            let picture = ccci_core::results::Picture::Taken {
                path: path.display().to_string(),
            };
            self.shared.record(|r| r.screenshot = Some(picture));
            return;
        }
        if self.shared.settings.screenshot != Some(true) || self.interrupted() {
            return;
        }
        let target = {
            let d = lock(&self.deployment);
            d.as_ref().and_then(|d| {
                let base = d.base_url.clone()?;
                let resolve = d
                    .via
                    .resolve
                    .as_ref()
                    .map(|(host, addr)| (host.clone(), addr.ip().to_string()));
                Some((base, resolve))
            })
        };
        let Some((base, resolve)) = target else {
            return;
        };
        let url = format!("{base}/");
        let out = self.shared.dir.screenshot();
        let resolve = resolve.as_ref().map(|(h, ip)| (h.as_str(), ip.as_str()));
        let picture = match crate::screenshot::capture(&url, &out, (1280, 800), resolve) {
            Ok(()) => ccci_core::results::Picture::Taken {
                path: out.display().to_string(),
            },
            Err(reason) => {
                eprintln!("ccci: no screenshot of {url}: {reason}");
                ccci_core::results::Picture::Failed { reason }
            }
        };
        self.shared.record(|r| r.screenshot = Some(picture));
    }

    /// Leaves a red run's stack up for `keep` instead of tearing it down, registered so the
    /// janitor removes it after, and says how to reach and remove it. `None` (tear down as
    /// usual) when nothing is deployed or the registry cannot record the keep: a stack no
    /// janitor would ever remove is not left behind.
    pub(super) fn keep_stack(&self, keep: std::time::Duration) -> Option<Teardown> {
        let (swarm, stack, url, resolve) = {
            let d = lock(&self.deployment);
            let d = d.as_ref().filter(|d| d.on_swarm)?;
            (
                d.swarm.clone(),
                d.app.stack.clone(),
                d.base_url.clone(),
                d.via.resolve.clone(),
            )
        };
        let until = crate::registry::unix_now() + keep.as_secs();
        let registry = self.shared.registry.as_ref()?;
        if let Err(e) = registry.keep(&self.shared.run_id, until) {
            eprintln!("ccci: cannot keep stack {stack} ({e}); tearing it down");
            return None;
        }
        let kept = ccci_core::results::Kept {
            stack: stack.clone(),
            until: ccci_core::time::rfc3339(until),
            url,
            remove: "cargo ccci janitor --kept".into(),
        };
        // The test domain resolves nowhere but here: say how to reach it anyway.
        let reach = match (&kept.url, &resolve) {
            (Some(url), Some((host, addr))) => {
                format!(
                    "{url} (curl -k --resolve {host}:{}:{} {url}/)",
                    addr.port(),
                    addr.ip()
                )
            }
            (Some(url), None) => url.clone(),
            (None, _) => "(it never answered)".into(),
        };
        eprintln!(
            "ccci: the run is red; stack {stack} is kept for debugging until {} (--keep)\n  the app:      {reach}\n  look:         docker stack ps {stack} --no-trunc; docker service logs {stack}_<service>\n  remove it:    {} (any ccci run or janitor after {} removes it)",
            kept.until,
            kept.remove,
            kept.until,
        );
        let leftovers = self
            .rt
            .block_on(swarm.leftovers(&stack))
            .unwrap_or_default();
        Some(Teardown {
            clean: false,
            leftovers,
            error: None,
            kept: Some(kept),
        })
    }

    /// Removes the app and everything it created, and the realms its dependencies were given,
    /// under teardown's own deadline: whatever happened before, this runs to its end.
    pub(super) fn teardown(&self) -> Teardown {
        let Some(d) = lock(&self.deployment).take() else {
            return Teardown {
                clean: true,
                ..Teardown::default()
            };
        };
        let deadline = Budgets::teardown(d.stop_grace);
        let mut teardown = self.remove_stack(&d, deadline);
        let realms_left = self.rt.block_on(crate::deps::remove(&d.deps, deadline));
        if !d.deps.realms.is_empty() {
            eprintln!(
                "ccci: removed {} of {} realm(s)",
                d.deps.realms.len() - realms_left.len(),
                d.deps.realms.len()
            );
        }
        teardown.clean &= realms_left.is_empty();
        teardown.leftovers.extend(realms_left);
        teardown
    }

    /// Removes the app's stack and all its data, when anything of it may be on the Swarm.
    fn remove_stack(
        &self,
        d: &crate::deployment::Deployment,
        deadline: ccci_swarm::Deadline,
    ) -> Teardown {
        if !d.on_swarm {
            return Teardown {
                clean: true,
                ..Teardown::default()
            };
        }
        let started = Instant::now();
        // A daemon that is restarting comes back within the budget: wait for it rather than
        // leave the stack for the janitor.
        if let Err(e) = self.rt.block_on(d.swarm.wait_reachable(deadline)) {
            eprintln!("ccci: teardown: {e}");
        }
        let result = self.rt.block_on(d.engine.remove(&d.app, deadline));
        eprintln!(
            "ccci: removed stack {} in {:.1}s",
            d.app.stack,
            started.elapsed().as_secs_f64()
        );
        match result {
            Ok(left) => Teardown {
                clean: left.is_empty(),
                leftovers: left,
                ..Teardown::default()
            },
            Err(e) => Teardown {
                clean: false,
                // Report what is still there even when removal failed part-way.
                leftovers: self
                    .rt
                    .block_on(d.swarm.leftovers(&d.app.stack))
                    .unwrap_or_default(),
                error: Some(e.to_string()),
                kept: None,
            },
        }
    }
}
