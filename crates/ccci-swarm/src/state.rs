//! A stack as the Swarm sees it now: its services with their tasks, and which tasks run the
//! service's current spec (what [`crate::converge`] decides on).

use crate::error::{api, SwarmError};
use crate::model::{ServiceKind, ServiceState, TaskState};
use crate::stack::stack_filter;
use crate::Swarm;
use bollard::models::{Service, ServiceSpec, Task, TaskSpecRestartPolicyConditionEnum};
use bollard::query_parameters::{ListServicesOptions, ListTasksOptions};
use std::collections::HashMap;

impl Swarm {
    /// The stack's services with their tasks, as plain values read at one moment (see
    /// [`crate::converge`]).
    ///
    /// Swarm learns that a task's container died a moment after the Engine does: until then
    /// the task still reads `running`. A task whose container this daemon knows to have
    /// stopped is reported as `exited`, so that nothing converges on, or execs into, a dead
    /// container (a database killed in the middle of a backup, say).
    pub async fn stack_state(&self, stack: &str) -> Result<Vec<ServiceState>, SwarmError> {
        let services = self.services(stack).await?;
        let mut tasks = self.tasks(stack).await?;
        tasks.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        let stopped = self.stopped_containers(stack).await?;
        let mut states: Vec<ServiceState> =
            services.iter().map(|s| service_state(s, &tasks)).collect();
        for task in states.iter_mut().flat_map(|s| s.tasks.iter_mut()) {
            let dead = task.container_id.as_ref().and_then(|c| stopped.get(c));
            if let (true, Some(state)) = (task.state == "running", dead) {
                task.state = "exited".into();
                task.err = Some(format!(
                    "its container is {state}; Swarm has not replaced the task yet"
                ));
            }
        }
        Ok(states)
    }

    /// The stack's containers on this daemon that are not running, with their state.
    async fn stopped_containers(&self, stack: &str) -> Result<HashMap<String, String>, SwarmError> {
        Ok(self
            .stack_containers(stack)
            .await?
            .into_iter()
            .filter_map(|c| {
                let state = c.state.map(|s| s.to_string()).unwrap_or_default();
                // An unknown state says nothing: only a known stopped one counts.
                (!state.is_empty() && state != "running").then_some((c.id?, state))
            })
            .collect())
    }

    /// The stack's services (exactly this stack: matched by label, not name prefix).
    pub async fn services(&self, stack: &str) -> Result<Vec<Service>, SwarmError> {
        let opts = ListServicesOptions {
            filters: Some(stack_filter(stack)),
            status: Some(true),
        };
        let mut v = self
            .docker
            .list_services(Some(opts))
            .await
            .map_err(api(format!("list services of stack {stack}")))?;
        v.sort_by_key(|s| s.spec.as_ref().and_then(|sp| sp.name.clone()));
        Ok(v)
    }

    /// The stack's tasks.
    pub async fn tasks(&self, stack: &str) -> Result<Vec<Task>, SwarmError> {
        let opts = ListTasksOptions {
            filters: Some(stack_filter(stack)),
        };
        self.docker
            .list_tasks(Some(opts))
            .await
            .map_err(api(format!("list tasks of stack {stack}")))
    }

    /// The id of a running container of `<stack>_<service>` that Swarm means to keep running,
    /// on its current spec if any is.
    pub async fn running_container(
        &self,
        stack: &str,
        service: &str,
    ) -> Result<Option<String>, SwarmError> {
        let full = format!("{stack}_{service}");
        let snap = self.stack_state(stack).await?;
        let Some(s) = snap.iter().find(|s| s.name == full) else {
            return Ok(None);
        };
        let mut running: Vec<&TaskState> = s
            .tasks
            .iter()
            // A task Swarm is shutting down still reads `running` for a moment; its container
            // is about to go, so it is not one to exec into.
            .filter(|t| {
                t.state == "running" && t.desired_state == "running" && t.container_id.is_some()
            })
            .collect();
        running.sort_by_key(|t| !t.current);
        Ok(running.first().and_then(|t| t.container_id.clone()))
    }

    /// The labels of every service on the Swarm whose labels say `key=value`, of any stack.
    pub async fn services_labelled(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<HashMap<String, String>>, SwarmError> {
        let found = self.services_by_label(&format!("{key}={value}")).await?;
        Ok(found.into_iter().map(|(labels, _)| labels).collect())
    }

    /// Every service on the Swarm that carries label `key` (whatever its value), of any
    /// stack: its labels and when it was created (RFC 3339, when the daemon says).
    pub async fn services_with_label(
        &self,
        key: &str,
    ) -> Result<Vec<(HashMap<String, String>, Option<String>)>, SwarmError> {
        self.services_by_label(key).await
    }

    /// The services the label filter `filter` (`key` or `key=value`, as `docker service ls
    /// --filter label=…` takes it) finds, of any stack: labels and creation time.
    async fn services_by_label(
        &self,
        filter: &str,
    ) -> Result<Vec<(HashMap<String, String>, Option<String>)>, SwarmError> {
        let opts = ListServicesOptions {
            filters: Some(HashMap::from([(
                "label".to_string(),
                vec![filter.to_string()],
            )])),
            status: Some(false),
        };
        Ok(self
            .docker
            .list_services(Some(opts))
            .await
            .map_err(api(format!("list the services labelled {filter}")))?
            .into_iter()
            .map(|s| {
                (
                    s.spec.and_then(|sp| sp.labels).unwrap_or_default(),
                    s.created_at,
                )
            })
            .collect())
    }

    /// Every service of the stack with its labels, by short name (`app`, not `<stack>_app`).
    pub async fn service_labels(
        &self,
        stack: &str,
    ) -> Result<Vec<(String, HashMap<String, String>)>, SwarmError> {
        let prefix = format!("{stack}_");
        Ok(self
            .services(stack)
            .await?
            .into_iter()
            .filter_map(|s| {
                let spec = s.spec?;
                let name = spec.name?.strip_prefix(&prefix)?.to_string();
                Some((name, spec.labels.unwrap_or_default()))
            })
            .collect())
    }
}

fn service_state(s: &Service, tasks: &[Task]) -> ServiceState {
    let spec = s.spec.clone().unwrap_or_default();
    let name = spec.name.clone().unwrap_or_default();
    let template = spec.task_template.clone();
    let mode = spec.mode.clone().unwrap_or_default();
    let job = mode.replicated_job.is_some() || mode.global_job.is_some();
    let condition = template
        .as_ref()
        .and_then(|t| t.restart_policy.as_ref())
        .and_then(|r| r.condition);
    let restart_none = condition.is_some_and(|c| c == TaskSpecRestartPolicyConditionEnum::NONE);
    let restart_any = condition.is_none_or(|c| c == TaskSpecRestartPolicyConditionEnum::ANY);
    // A service that serves something is meant to keep running, whatever its restart policy.
    let serves = serves(&spec);
    let desired = s
        .service_status
        .as_ref()
        .and_then(|st| st.desired_tasks)
        .or_else(|| {
            mode.replicated
                .as_ref()
                .and_then(|r| r.replicas)
                .map(|r| r as u64)
        })
        .unwrap_or(1);
    let template_json = template
        .as_ref()
        .and_then(|t| serde_json::to_value(t).ok())
        .map(normalized);
    let own: Vec<TaskState> = tasks
        .iter()
        .filter(|t| t.service_id == s.id)
        .map(|t| task_state(t, template_json.as_ref()))
        .collect();
    let completed_ok = own
        .iter()
        .any(|t| t.current && t.state == "complete" && t.exit_code.unwrap_or(0) == 0);
    let kind = if job || (restart_none && !serves) {
        ServiceKind::OneShot
    } else if restart_any && completed_ok {
        ServiceKind::Periodic
    } else {
        ServiceKind::LongRunning
    };
    let update = s.update_status.clone().unwrap_or_default();
    ServiceState {
        name,
        desired,
        kind,
        update_state: update
            .state
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty()),
        update_message: update.message,
        tasks: own,
    }
}

/// Whether a service serves something: Traefik routes to it, it publishes a port, or it has
/// a healthcheck.
fn serves(spec: &ServiceSpec) -> bool {
    spec.labels
        .as_ref()
        .is_some_and(|l| l.get("traefik.enable").is_some_and(|v| v == "true"))
        || spec
            .endpoint_spec
            .as_ref()
            .and_then(|e| e.ports.as_ref())
            .is_some_and(|p| !p.is_empty())
        || spec
            .task_template
            .as_ref()
            .and_then(|t| t.container_spec.as_ref())
            .and_then(|c| c.health_check.as_ref())
            .and_then(|h| h.test.as_ref())
            .is_some_and(|t| t.first().is_some_and(|x| x != "NONE"))
}

/// Task `t` as ccci judges it; `current` when its spec is the service's template (both
/// [`normalized`]).
fn task_state(t: &Task, template: Option<&serde_json::Value>) -> TaskState {
    let st = t.status.clone().unwrap_or_default();
    let spec = t
        .spec
        .as_ref()
        .and_then(|sp| serde_json::to_value(sp).ok())
        .map(normalized);
    let current = matches!((template, spec), (Some(a), Some(b)) if *a == b);
    TaskState {
        id: t.id.clone().unwrap_or_default(),
        slot: t.slot,
        desired_state: t.desired_state.map(|d| d.to_string()).unwrap_or_default(),
        state: st.state.map(|d| d.to_string()).unwrap_or_default(),
        err: st.err,
        exit_code: st.container_status.as_ref().and_then(|c| c.exit_code),
        timestamp: st.timestamp,
        container_id: st.container_status.and_then(|c| c.container_id),
        current,
    }
}

/// A task spec as swarmkit compares it: the Engine fills `Runtime: "container"` into the
/// service's template but not into its tasks, and empty values carry no meaning either way.
fn normalized(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    fn strip(v: Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::Object(m) => {
                let m: serde_json::Map<String, Value> = m
                    .into_iter()
                    .filter_map(|(k, v)| strip(v).map(|v| (k, v)))
                    .collect();
                (!m.is_empty()).then_some(Value::Object(m))
            }
            Value::Array(a) if a.is_empty() => None,
            Value::Array(a) => Some(Value::Array(
                a.into_iter()
                    .map(|v| strip(v).unwrap_or(Value::Null))
                    .collect(),
            )),
            other => Some(other),
        }
    }
    let mut v = strip(v).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        if m.get("Runtime").and_then(Value::as_str) == Some("container") {
            m.remove("Runtime");
        }
    }
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn spec_normalisation_ignores_defaults_and_empties_but_not_changes() {
        use serde_json::json;
        let template = json!({"ContainerSpec": {"Image": "a", "Env": ["X=1"], "Mounts": []}, "Resources": {}, "Runtime": "container", "ForceUpdate": 0});
        let task = json!({"ContainerSpec": {"Image": "a", "Env": ["X=1"]}, "ForceUpdate": 0});
        assert_eq!(super::normalized(template.clone()), super::normalized(task));
        let changed = json!({"ContainerSpec": {"Image": "a", "Env": ["X=2"]}, "ForceUpdate": 0});
        assert_ne!(super::normalized(template), super::normalized(changed));
    }
}
