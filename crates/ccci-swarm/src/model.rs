//! A stack's services and tasks as plain values read at one moment: what convergence is
//! decided on.
//!
//! Built from the Engine API's types in [`crate::Swarm::stack_state`], but free of them, so the
//! decision in [`crate::converge`] is pure and unit-testable with hand-written states.

/// One service of a stack, as last seen.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServiceState {
    /// Full service name, `<stack>_<service>`.
    pub name: String,
    /// How many tasks should run: replicas for replicated services, eligible nodes for global
    /// ones (the Engine's `ServiceStatus.DesiredTasks`).
    pub desired: u64,
    /// What kind of service ccci takes it for, from its spec and task history: what its
    /// convergence means.
    pub kind: ServiceKind,
    /// `UpdateStatus.State`: `None` before any update, else `updating`, `paused`,
    /// `completed`, `rollback_started`, `rollback_paused` or `rollback_completed`.
    pub update_state: Option<String>,
    /// `UpdateStatus.Message`, for reports.
    pub update_message: Option<String>,
    /// Every task the Engine still reports for the service, newest first.
    pub tasks: Vec<TaskState>,
}

/// What a service is, as real recipes shape them, decided by [`crate::Swarm::stack_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceKind {
    /// Runs until stopped: converged while its tasks run. A service that serves (a Traefik
    /// route, a published port or a healthcheck) is one whatever its restart policy, so a web
    /// app written with `restart_policy: {condition: none}` is waited on to run, not to exit.
    LongRunning,
    /// A job meant to complete: a job mode, or restart policy `none` on a service that serves
    /// nothing. Converged once its tasks exited 0; a non-zero exit will never recover.
    OneShot,
    /// A job Swarm runs again after it exits 0 (restart policy `any`, and a task of its current
    /// spec that completed with 0): healthy between its runs as while one runs.
    Periodic,
}

impl ServiceKind {
    /// How reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::LongRunning => "long-running",
            ServiceKind::OneShot => "one-shot job",
            ServiceKind::Periodic => "periodic job",
        }
    }
}

/// One task of a service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TaskState {
    /// Task id.
    pub id: String,
    /// Replica slot (replicated services).
    pub slot: Option<i64>,
    /// What the orchestrator wants: `running`, `shutdown`, `complete`…
    pub desired_state: String,
    /// What it is: `pending`, `starting` (also while its healthcheck has not passed),
    /// `running`, `complete`, `failed`, `shutdown`, `rejected`…
    pub state: String,
    /// The task's error (`task: non-zero exit (3)`, `No such image…`).
    pub err: Option<String>,
    /// The container's exit code, once it exited.
    pub exit_code: Option<i64>,
    /// When the task reached its state (RFC 3339, from the Engine).
    pub timestamp: Option<String>,
    /// Its container, once one exists.
    pub container_id: Option<String>,
    /// True when the task runs the service's current spec: its `Spec` equals the service's
    /// `TaskTemplate` (swarmkit's own test for whether a task needs replacing). False for the
    /// old task of an update that has not replaced it yet, which still reads as running [R10].
    pub current: bool,
}

impl TaskState {
    /// One line for reports: `slot 1 running (current)`, `failed: task: non-zero exit (3), exit 3`.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if let Some(slot) = self.slot {
            s.push_str(&format!("slot {slot} "));
        }
        s.push_str(&self.state);
        if self.desired_state != "running" && self.state != self.desired_state {
            s.push_str(&format!(" (desired {})", self.desired_state));
        }
        if !self.current {
            s.push_str(" [previous spec]");
        }
        if let Some(e) = self.err.as_deref().filter(|e| !e.is_empty()) {
            s.push_str(&format!(": {e}"));
        }
        if let Some(code) = self.exit_code.filter(|c| *c != 0) {
            s.push_str(&format!(", exit {code}"));
        }
        s
    }
}
