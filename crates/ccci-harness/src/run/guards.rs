//! What a run does around its steps so that it leaves nothing behind: before the first step
//! it reaps what killed runs left on the daemon; during the run, the first Ctrl-C or SIGTERM
//! ends the running step and leads to teardown (a second exits at once).

use super::Run;
use std::sync::Arc;

impl Run {
    /// The janitor before the first step: what runs killed on this daemon left behind is
    /// removed (never a live run's). Best effort: a failure is said and the run goes on.
    pub(crate) fn reap_killed_runs(&self) {
        let Some(registry) = &self.shared.registry else {
            return;
        };
        let sweep = crate::registry::Sweep {
            older_than: Some(crate::registry::ORPHAN_AGE),
            ..Default::default()
        };
        let (reaped, orphans) = self
            .rt
            .block_on(async {
                let swarm = ccci_swarm::Swarm::connect().await.ok()?;
                let budget = crate::budget::JANITOR;
                Some((
                    crate::registry::reap(registry, &swarm, sweep, budget).await,
                    crate::registry::reap_orphans(registry, &swarm, sweep, budget).await,
                ))
            })
            .unwrap_or_default();
        for o in orphans {
            match o.left.is_empty() {
                true => eprintln!(
                    "ccci: janitor: removed stack {} of {}: no run holds it and it is {} min old",
                    o.stack,
                    o.of,
                    o.age / 60
                ),
                false => eprintln!(
                    "ccci: janitor: stack {} of {} (no run holds it) is gone only in part; left: {}",
                    o.stack,
                    o.of,
                    o.left.join(", ")
                ),
            }
        }
        for r in reaped {
            match r.left.is_empty() {
                true => eprintln!(
                    "ccci: janitor: removed stack {} of run {} (process {} is gone)",
                    r.run.stack, r.run.run_id, r.run.pid
                ),
                false => eprintln!(
                    "ccci: janitor: stack {} of run {} is gone only in part; left: {}",
                    r.run.stack,
                    r.run.run_id,
                    r.left.join(", ")
                ),
            }
        }
    }

    /// When the settings ask for it: the first Ctrl-C or SIGTERM ends the running step (the
    /// rest are recorded as not run) so the run tears down and writes its results before the
    /// process exits 130; a second one exits at once.
    pub(crate) fn watch_signals(self: &Arc<Self>) {
        if !self.shared.settings.watch_signals {
            return;
        }
        let interrupt = self.interrupt.clone();
        std::thread::spawn(move || {
            let watched = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .and_then(|rt| {
                    rt.block_on(async {
                        use tokio::signal::unix::{signal, SignalKind};
                        let mut term = signal(SignalKind::terminate())?;
                        let mut int = signal(SignalKind::interrupt())?;
                        for n in 0.. {
                            tokio::select! {
                                _ = int.recv() => {},
                                _ = term.recv() => {},
                            }
                            if n > 0 {
                                eprintln!("\nccci: interrupted again; exiting without teardown: the stack may be left behind");
                                std::process::exit(130);
                            }
                            eprintln!("\nccci: interrupted; ending the running step and tearing down (interrupt again to exit at once)");
                            interrupt.send_replace(true);
                        }
                        Ok::<(), std::io::Error>(())
                    })
                });
            if let Err(e) = watched {
                eprintln!("ccci: cannot watch for Ctrl-C/SIGTERM ({e}); an interrupted run may leave its stack behind");
            }
        });
    }
}
