//! Where convergence is decided. Pure: takes the stack's state read at one moment, returns a verdict.
//!
//! A stack is converged when every service runs its desired number of tasks *on its current
//! spec*, and no update is being driven:
//!
//! - `updating` and `rollback_started` block: Swarm is actively replacing tasks.
//! - `paused` and `rollback_paused` do **not** block. Swarm leaves them set until the next
//!   update after a single task flicker; waiting on them hangs forever (the predecessor's
//!   immich runs did) [R9]. A paused update makes no progress, so tasks of the previous spec count as well.
//! - N/N right after a redeploy is not enough: a stop-first update that Swarm has not started
//!   yet still shows the old task 1/1 [R10]. Only tasks whose spec equals the service's
//!   template count, so the old task does not.
//! - What converged means depends on the service's [`ServiceKind`]: a long-running service
//!   when its tasks run; a one-shot job when its current tasks all completed with exit 0 (a
//!   failed one will never recover: that is [`Convergence::Failed`], which lets a wait stop
//!   early instead of burning its deadline); a periodic job while its last run exited 0 or one
//!   runs. Every reason names the kind ccci took the service for.

use crate::model::{ServiceKind, ServiceState, TaskState};

/// The verdict on a stack at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Convergence {
    /// Every service is where it should be.
    Converged,
    /// Still moving; each entry is a service and why it is not ready yet.
    Pending(Vec<(String, String)>),
    /// Something can never converge without a new deploy (a failed one-shot).
    Failed(Vec<(String, String)>),
}

impl Convergence {
    /// True for [`Convergence::Converged`].
    pub fn is_converged(&self) -> bool {
        matches!(self, Convergence::Converged)
    }
}

/// Decides whether `services` (one stack) have converged. An empty stack has not: a wait for
/// convergence right after a deploy must not pass before the services exist.
pub fn evaluate(services: &[ServiceState]) -> Convergence {
    if services.is_empty() {
        return Convergence::Pending(vec![("(stack)".into(), "no services yet".into())]);
    }
    let mut pending = Vec::new();
    let mut failed = Vec::new();
    for s in services {
        match service(s) {
            Ok(()) => {}
            Err(Why::Pending(why)) => pending.push((s.name.clone(), why)),
            Err(Why::Failed(why)) => failed.push((s.name.clone(), why)),
        }
    }
    if !failed.is_empty() {
        Convergence::Failed(failed)
    } else if !pending.is_empty() {
        Convergence::Pending(pending)
    } else {
        Convergence::Converged
    }
}

enum Why {
    Pending(String),
    Failed(String),
}

fn service(s: &ServiceState) -> Result<(), Why> {
    let state = s.update_state.as_deref().unwrap_or("");
    if matches!(state, "updating" | "rollback_started") {
        let msg = s
            .update_message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        return Err(Why::Pending(format!("update {state}{msg}")));
    }
    let stalled = matches!(state, "paused" | "rollback_paused");
    let counts = |t: &&crate::model::TaskState| t.current || stalled;

    match s.kind {
        ServiceKind::OneShot => one_shot(s, &counts),
        ServiceKind::Periodic => periodic(s, &counts),
        ServiceKind::LongRunning => long_running(s, &counts),
    }
    .map_err(|why| why.of(s.kind))
}

impl Why {
    /// The same reason, saying what kind of service ccci took it for.
    fn of(self, kind: ServiceKind) -> Why {
        match self {
            Why::Pending(w) => Why::Pending(format!("({}) {w}", kind.as_str())),
            Why::Failed(w) => Why::Failed(format!("({}) {w}", kind.as_str())),
        }
    }
}

/// A job meant to complete: done when its current tasks exited 0; a non-zero exit is final.
fn one_shot(s: &ServiceState, counts: &dyn Fn(&&TaskState) -> bool) -> Result<(), Why> {
    let current: Vec<_> = s.tasks.iter().filter(counts).collect();
    if let Some(t) = current
        .iter()
        .find(|t| t.state == "failed" || (t.state == "complete" && t.exit_code.unwrap_or(0) != 0))
    {
        return Err(Why::Failed(format!("task {}", t.describe())));
    }
    let done = current.iter().filter(|t| t.state == "complete").count() as u64;
    if s.desired == 0 || done >= s.desired {
        return Ok(());
    }
    let running: Vec<String> = current.iter().map(|t| t.describe()).collect();
    Err(Why::Pending(format!(
        "{done}/{} tasks complete ({})",
        s.desired,
        list(&running)
    )))
}

/// A job Swarm runs again after each exit 0: healthy while its newest current task runs or
/// exited 0 (it waits out its restart delay), pending after a non-zero exit, which Swarm
/// retries; its exits are said with their codes.
fn periodic(s: &ServiceState, counts: &dyn Fn(&&TaskState) -> bool) -> Result<(), Why> {
    let current: Vec<&TaskState> = s.tasks.iter().filter(counts).collect();
    let finished = current.iter().find(|t| {
        matches!(
            t.state.as_str(),
            "complete" | "failed" | "rejected" | "shutdown"
        )
    });
    if current
        .iter()
        .any(|t| t.state == "running" && t.desired_state == "running")
    {
        return Ok(());
    }
    match finished {
        Some(t) if t.state == "complete" && t.exit_code.unwrap_or(0) == 0 => Ok(()),
        _ => {
            let exits: Vec<String> = current.iter().take(3).map(|t| t.describe()).collect();
            Err(Why::Pending(format!(
                "its last run did not exit 0 ({})",
                list(&exits)
            )))
        }
    }
}

/// A service that runs until stopped: converged when its desired tasks run on the current spec.
fn long_running(s: &ServiceState, counts: &dyn Fn(&&TaskState) -> bool) -> Result<(), Why> {
    let running = s
        .tasks
        .iter()
        .filter(counts)
        .filter(|t| t.state == "running" && t.desired_state == "running")
        .count() as u64;
    if running >= s.desired {
        return Ok(());
    }
    let others: Vec<String> = s
        .tasks
        .iter()
        .filter(|t| t.desired_state == "running" || t.state == "failed" || t.state == "rejected")
        .take(3)
        .map(|t| t.describe())
        .collect();
    Err(Why::Pending(format!(
        "{running}/{} running on the current spec ({})",
        s.desired,
        list(&others)
    )))
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "no tasks yet".into()
    } else {
        items.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TaskState;

    fn task(state: &str, desired: &str, current: bool) -> TaskState {
        TaskState {
            id: "t".into(),
            slot: Some(1),
            desired_state: desired.into(),
            state: state.into(),
            err: None,
            exit_code: None,
            timestamp: None,
            container_id: None,
            current,
        }
    }
    fn svc(update: Option<&str>, one_shot: bool, tasks: Vec<TaskState>) -> ServiceState {
        ServiceState {
            name: "s_app".into(),
            desired: 1,
            kind: if one_shot {
                ServiceKind::OneShot
            } else {
                ServiceKind::LongRunning
            },
            update_state: update.map(String::from),
            update_message: None,
            tasks,
        }
    }

    #[test]
    fn running_current_task_converges() {
        assert!(
            evaluate(&[svc(None, false, vec![task("running", "running", true)])]).is_converged()
        );
        assert!(evaluate(&[svc(
            Some("completed"),
            false,
            vec![task("running", "running", true)]
        )])
        .is_converged());
    }

    #[test]
    fn an_update_in_flight_blocks_even_at_n_of_n() {
        for st in ["updating", "rollback_started"] {
            let c = evaluate(&[svc(Some(st), false, vec![task("running", "running", true)])]);
            assert!(
                matches!(&c, Convergence::Pending(p) if p[0].1.contains(st)),
                "{st}: {c:?}"
            );
        }
    }

    #[test]
    fn paused_does_not_block_once_replicas_are_back() {
        for st in ["paused", "rollback_paused"] {
            assert!(
                evaluate(&[svc(Some(st), false, vec![task("running", "running", true)])])
                    .is_converged(),
                "{st}"
            );
            // A paused update never proceeds, so the task of the previous spec is what runs.
            assert!(
                evaluate(&[svc(
                    Some(st),
                    false,
                    vec![task("running", "running", false)]
                )])
                .is_converged(),
                "{st}"
            );
        }
    }

    #[test]
    fn stop_first_update_not_started_is_not_converged() {
        // Redeployed with a new spec; Swarm has not touched the old task yet: it reads 1/1.
        let c = evaluate(&[svc(None, false, vec![task("running", "running", false)])]);
        assert!(
            matches!(&c, Convergence::Pending(p) if p[0].1.contains("0/1 running on the current spec")),
            "{c:?}"
        );
    }

    #[test]
    fn starting_task_is_not_running() {
        // Tasks stay `starting` while their healthcheck has not passed.
        assert!(
            !evaluate(&[svc(None, false, vec![task("starting", "running", true)])]).is_converged()
        );
    }

    #[test]
    fn completed_one_shot_converges_and_failed_one_fails() {
        let mut ok = task("complete", "shutdown", true);
        ok.exit_code = Some(0);
        assert!(evaluate(&[svc(None, true, vec![ok])]).is_converged());
        let mut bad = task("failed", "shutdown", true);
        bad.exit_code = Some(3);
        bad.err = Some("task: non-zero exit (3)".into());
        let c = evaluate(&[svc(None, true, vec![bad])]);
        assert!(
            matches!(&c, Convergence::Failed(f) if f[0].1.contains("exit 3") && f[0].1.starts_with("(one-shot job)")),
            "{c:?}"
        );
        assert!(
            !evaluate(&[svc(None, true, vec![task("running", "running", true)])]).is_converged()
        );
    }

    #[test]
    fn a_periodic_job_is_healthy_between_its_runs_and_says_its_exits() {
        let mut done = task("complete", "shutdown", true);
        done.exit_code = Some(0);
        // The newest task waits out the restart delay; the last run exited 0.
        let mut s = svc(
            None,
            false,
            vec![task("ready", "running", true), done.clone()],
        );
        s.kind = ServiceKind::Periodic;
        assert!(evaluate(std::slice::from_ref(&s)).is_converged());
        let mut running = s.clone();
        running.tasks = vec![task("running", "running", true), done];
        assert!(evaluate(&[running]).is_converged());
        let mut bad = task("failed", "shutdown", true);
        bad.exit_code = Some(2);
        s.tasks = vec![bad];
        let c = evaluate(&[s]);
        assert!(
            matches!(&c, Convergence::Pending(p) if p[0].1.starts_with("(periodic job)") && p[0].1.contains("exit 2")),
            "{c:?}"
        );
    }

    #[test]
    fn a_long_running_service_says_so_while_pending() {
        let c = evaluate(&[svc(None, false, vec![task("starting", "running", true)])]);
        assert!(
            matches!(&c, Convergence::Pending(p) if p[0].1.starts_with("(long-running) 0/1 running")),
            "{c:?}"
        );
    }

    #[test]
    fn an_empty_stack_has_not_converged() {
        assert!(!evaluate(&[]).is_converged());
    }

    #[test]
    fn scaled_to_zero_converges() {
        let mut s = svc(None, false, vec![]);
        s.desired = 0;
        assert!(evaluate(&[s]).is_converged());
    }
}
