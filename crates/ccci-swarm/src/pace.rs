//! When a wait looks again: soon after the Swarm says something changed, rarely otherwise.
//!
//! Each wait subscribes to the Engine's event stream: service events (create, update,
//! remove, and update-state changes) and the container events of the stack (start, die,
//! health_status…). An event puts the wait into a short *hot* phase of quick re-checks,
//! because the manager records a task's new state a moment after the container event that
//! caused it. Without events the wait re-checks slowly; if the stream drops it falls back to
//! polling more often, so a lost stream costs latency, never correctness.

use crate::stack::STACK_LABEL;
use crate::Deadline;
use crate::Swarm;
use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Re-check interval during a hot phase.
const HOT_INTERVAL: Duration = Duration::from_millis(50);
/// How long a hot phase lasts after an event.
const HOT_FOR: Duration = Duration::from_millis(1500);
/// Re-check interval while the event stream is up and quiet.
const QUIET_INTERVAL: Duration = Duration::from_secs(2);
/// Re-check interval when the event stream is down.
const FALLBACK_INTERVAL: Duration = Duration::from_millis(500);

/// Paces one wait; see the module docs.
pub(crate) struct Pacer {
    notify: Arc<Notify>,
    alive: Arc<AtomicBool>,
    hot_until: Instant,
    listener: tokio::task::JoinHandle<()>,
}

impl Pacer {
    /// Starts listening for events of `stack` (all of them when `stack` is empty).
    pub(crate) fn new(swarm: &Swarm, stack: &str) -> Pacer {
        let notify = Arc::new(Notify::new());
        let alive = Arc::new(AtomicBool::new(true));
        let (n, a, docker, stack) = (
            notify.clone(),
            alive.clone(),
            swarm.docker().clone(),
            stack.to_string(),
        );
        let listener = tokio::spawn(async move {
            let filters = HashMap::from([(
                "type".to_string(),
                vec!["service".to_string(), "container".to_string()],
            )]);
            let mut events = docker.events(Some(EventsOptions {
                filters: Some(filters),
                ..Default::default()
            }));
            while let Some(ev) = events.next().await {
                match ev {
                    Ok(m) => {
                        let attrs = m.actor.and_then(|a| a.attributes).unwrap_or_default();
                        let ours = stack.is_empty()
                            || attrs.get(STACK_LABEL).is_some_and(|s| *s == stack)
                            || attrs
                                .get("name")
                                .is_some_and(|n| n.starts_with(&format!("{stack}_")));
                        if ours {
                            n.notify_one();
                        }
                    }
                    Err(e) => {
                        tracing::warn!("the Docker event stream dropped ({e}); polling every {FALLBACK_INTERVAL:?} instead");
                        break;
                    }
                }
            }
            a.store(false, Ordering::Relaxed);
        });
        // Start hot: a wait usually begins right after a deploy changed everything.
        Pacer {
            notify,
            alive,
            hot_until: Instant::now() + HOT_FOR,
            listener,
        }
    }

    /// Sleeps until the next re-check: an event, the current interval, or the deadline.
    pub(crate) async fn next(&mut self, deadline: &Deadline) {
        self.next_at_most(deadline, FALLBACK_INTERVAL.max(QUIET_INTERVAL))
            .await;
    }

    /// As [`Pacer::next`], looking again after `most` at the latest: for what no event of
    /// the stack announces (a router that learns of a healthy task on its own schedule).
    pub(crate) async fn next_at_most(&mut self, deadline: &Deadline, most: Duration) {
        let now = Instant::now();
        let interval = if now < self.hot_until {
            HOT_INTERVAL
        } else if self.alive.load(Ordering::Relaxed) {
            QUIET_INTERVAL
        } else {
            FALLBACK_INTERVAL
        };
        tokio::select! {
            _ = self.notify.notified() => self.hot_until = Instant::now() + HOT_FOR,
            _ = tokio::time::sleep(interval.min(most).min(deadline.remaining())) => {}
        }
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// A one-line progress display on a terminal: what the wait still waits for. Silent when
/// stderr is not a terminal (CI logs get the final outcome, not a stream of redraws).
pub(crate) struct Progress {
    tty: bool,
    shown: bool,
    last: String,
    next_heartbeat: Duration,
}

/// How often a wait that runs long says, on a line of its own, what it still waits for and
/// what the service it waits on last logged: a ten-minute first boot is not silent, on a
/// terminal or in a CI log.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(30);

impl Progress {
    pub(crate) fn new() -> Progress {
        use std::io::IsTerminal;
        Progress {
            tty: std::io::stderr().is_terminal(),
            shown: false,
            last: String::new(),
            next_heartbeat: HEARTBEAT,
        }
    }

    /// True once the wait has run a [`HEARTBEAT`] past its last heartbeat line.
    pub(crate) fn heartbeat_due(&self, elapsed: Duration) -> bool {
        elapsed >= self.next_heartbeat
    }

    /// Says on a line of its own what the wait still waits for (`pending`) and, when there is
    /// one, the last line the first pending service logged.
    pub(crate) fn heartbeat(&mut self, elapsed: Duration, pending: &str, log: Option<&str>) {
        if self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
            self.last.clear();
        }
        let said: String = pending.chars().take(300).collect();
        match log {
            Some(line) => eprintln!(
                "ccci: still waiting after {}s: {said}; it last logged: {line}",
                elapsed.as_secs()
            ),
            None => eprintln!("ccci: still waiting after {}s: {said}", elapsed.as_secs()),
        }
        self.next_heartbeat = elapsed + HEARTBEAT;
    }

    /// Shows how long the wait has run and why it is not done yet: the entries name the
    /// services, which is what a person watching needs.
    pub(crate) fn show(&mut self, elapsed: Duration, pending: &str) {
        if !self.tty {
            return;
        }
        let line = format!("  waiting {:>3}s: {pending}", elapsed.as_secs());
        if line != self.last {
            let width = 160;
            let cut: String = line.chars().take(width).collect();
            eprint!("\r\x1b[2K{cut}");
            self.last = line;
            self.shown = true;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}
