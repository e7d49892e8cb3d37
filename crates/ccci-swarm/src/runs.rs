//! What really runs, set against what was deployed: after an upgrade every service's running
//! tasks must be on the head's spec (its image, and the very image the node has under that
//! tag; its env, configs and secrets). A label ccci stamped itself proves only that the deploy
//! was sent: Swarm may roll a failing update back to the old spec, or pause it with the old
//! task still serving, and a health path answers either way.

use crate::error::{api, SwarmError};
use crate::Swarm;
use bollard::models::TaskSpecContainerSpec;
use std::collections::{BTreeMap, BTreeSet};

/// What a deployed stack file says one service's tasks must run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunSpec {
    /// The service's full name, `<stack>_<service>`.
    pub service: String,
    /// Its image as written (a `@sha256:` pin kept, Swarm's own resolution ignored).
    pub image: String,
    /// Its environment.
    pub env: BTreeMap<String, String>,
    /// The Swarm names of its configs.
    pub configs: BTreeSet<String>,
    /// The Swarm names of its secrets.
    pub secrets: BTreeSet<String>,
}

/// One service as it runs: its update's state and every task Swarm means to keep running.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Running {
    /// The service's full name.
    pub service: String,
    /// `UpdateStatus.State` (`rollback_completed`, `paused`…), if any.
    pub update_state: Option<String>,
    /// `UpdateStatus.Message`.
    pub update_message: Option<String>,
    /// How many tasks should run (0 for a service scaled down).
    pub desired: u64,
    /// The tasks Swarm keeps running, and those of a job that completed: what each runs, and
    /// the image id of its container.
    pub tasks: Vec<(RunSpec, Option<String>)>,
    /// The id of the image the node has under the deployed tag, when it has one.
    pub tag_image_id: Option<String>,
}

/// Every way `running` is not on `expected`, one `(service, why)` per service that is not:
/// no task running, or a running task whose image, image id, env, configs or secrets differ
/// from the deployed stack file's; a rolled-back or paused update is named as the reason.
pub fn off_spec(expected: &[RunSpec], running: &[Running]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for want in expected {
        let Some(run) = running.iter().find(|r| r.service == want.service) else {
            out.push((
                want.service.clone(),
                "the service is not on the Swarm".into(),
            ));
            continue;
        };
        let mut why = Vec::new();
        if run.tasks.is_empty() && run.desired > 0 {
            why.push("no task of it is running".into());
        }
        for (i, (task, image_id)) in run.tasks.iter().enumerate() {
            let task_why =
                differences(want, task, image_id.as_deref(), run.tag_image_id.as_deref());
            if !task_why.is_empty() {
                why.push(format!("running task {}: {}", i + 1, task_why.join(", ")));
            }
        }
        if why.is_empty() {
            continue;
        }
        // The update's state explains a difference but is none itself: Swarm leaves `paused`
        // set after a single task flicker even once the new spec runs [R9].
        if let Some(
            s @ ("rollback_started" | "rollback_paused" | "rollback_completed" | "paused"),
        ) = run.update_state.as_deref()
        {
            let msg = run.update_message.as_deref().unwrap_or("no message");
            why.insert(0, format!("Swarm's update is {s} ({msg})"));
        }
        out.push((want.service.clone(), why.join("; ")));
    }
    out
}

fn differences(
    want: &RunSpec,
    task: &RunSpec,
    image_id: Option<&str>,
    tag_id: Option<&str>,
) -> Vec<String> {
    let mut why = Vec::new();
    if strip_resolved(&task.image) != strip_resolved(&want.image) {
        why.push(format!(
            "runs image {}, the deploy says {}",
            task.image, want.image
        ));
    } else if let (Some(have), Some(tag)) = (image_id, tag_id) {
        if have != tag {
            why.push(format!(
                "its container runs image {}, but {} is {} on the node",
                short(have),
                want.image,
                short(tag)
            ));
        }
    }
    let changed: Vec<&str> = want
        .env
        .iter()
        .filter(|(k, v)| task.env.get(*k) != Some(*v))
        .map(|(k, _)| k.as_str())
        .chain(
            task.env
                .keys()
                .filter(|k| !want.env.contains_key(*k))
                .map(String::as_str),
        )
        .collect();
    if !changed.is_empty() {
        why.push(format!("env differs in {}", changed.join(", ")));
    }
    for (kind, have, wanted) in [
        ("configs", &task.configs, &want.configs),
        ("secrets", &task.secrets, &want.secrets),
    ] {
        if have != wanted {
            let show = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
            why.push(format!(
                "{kind} are [{}], the deploy says [{}]",
                show(have),
                show(wanted)
            ));
        }
    }
    why
}

/// `name:tag@sha256:…` as `name:tag` when a tag is there: `docker stack deploy` pins the digest
/// it resolved at a registry, which the stack file never named.
fn strip_resolved(image: &str) -> &str {
    match image.split_once('@') {
        Some((named, _))
            if named
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':')) =>
        {
            named
        }
        _ => image,
    }
}

fn short(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    &id[..id.len().min(12)]
}

/// A task's or service's container spec as a [`RunSpec`].
fn run_spec(service: &str, c: &TaskSpecContainerSpec) -> RunSpec {
    RunSpec {
        service: service.into(),
        image: c.image.clone().unwrap_or_default(),
        env: c
            .env
            .iter()
            .flatten()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.clone(), String::new()),
            })
            .collect(),
        configs: c
            .configs
            .iter()
            .flatten()
            .filter_map(|x| x.config_name.clone())
            .collect(),
        secrets: c
            .secrets
            .iter()
            .flatten()
            .filter_map(|x| x.secret_name.clone())
            .collect(),
    }
}

impl Swarm {
    /// Every service of `stack` as it runs now ([`Running`]), for [`off_spec`].
    pub async fn running(&self, stack: &str) -> Result<Vec<Running>, SwarmError> {
        let services = self.services(stack).await?;
        let tasks = self.tasks(stack).await?;
        let mut out = Vec::new();
        for s in &services {
            let spec = s.spec.clone().unwrap_or_default();
            let name = spec.name.clone().unwrap_or_default();
            let image = spec
                .task_template
                .as_ref()
                .and_then(|t| t.container_spec.as_ref())
                .and_then(|c| c.image.clone())
                .unwrap_or_default();
            // The tasks Swarm keeps running; for a job with none running, its newest completed
            // task (older ones are history, not what runs).
            let mut own_tasks: Vec<&bollard::models::Task> =
                tasks.iter().filter(|t| t.service_id == s.id).collect();
            own_tasks.sort_by(|a, b| b.created_at.cmp(&a.created_at));
            let state_of = |t: &bollard::models::Task| {
                t.status
                    .as_ref()
                    .and_then(|st| st.state)
                    .map(|x| x.to_string())
                    .unwrap_or_default()
            };
            let mut counted: Vec<&bollard::models::Task> = own_tasks
                .iter()
                .copied()
                .filter(|t| {
                    state_of(t) == "running"
                        && t.desired_state.is_some_and(|x| x.to_string() == "running")
                })
                .collect();
            if counted.is_empty() {
                counted.extend(
                    own_tasks
                        .iter()
                        .copied()
                        .find(|t| state_of(t) == "complete"),
                );
            }
            let mut own = Vec::new();
            for t in counted {
                let Some(c) = t.spec.as_ref().and_then(|sp| sp.container_spec.as_ref()) else {
                    continue;
                };
                let container = t
                    .status
                    .as_ref()
                    .and_then(|st| st.container_status.as_ref())
                    .and_then(|c| c.container_id.clone());
                let image_id = match container {
                    Some(id) => self.container_image(&id).await?,
                    None => None,
                };
                own.push((run_spec(&name, c), image_id));
            }
            let desired = s
                .service_status
                .as_ref()
                .and_then(|st| st.desired_tasks)
                .unwrap_or(1);
            let update = s.update_status.clone().unwrap_or_default();
            out.push(Running {
                service: name,
                update_state: update
                    .state
                    .map(|x| x.to_string())
                    .filter(|x| !x.is_empty()),
                update_message: update.message,
                desired,
                tasks: own,
                tag_image_id: self.image_id(strip_resolved(&image)).await?,
            });
        }
        Ok(out)
    }

    /// The image id a container of this daemon runs; `None` for one it does not know (a task
    /// on another node of the Swarm).
    async fn container_image(&self, id: &str) -> Result<Option<String>, SwarmError> {
        match self.docker.inspect_container(id, None).await {
            Ok(c) => Ok(c.image),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(api(format!("inspect container {id}"))(e)),
        }
    }

    /// The id of the image this daemon has under `reference`, if it has it.
    async fn image_id(&self, reference: &str) -> Result<Option<String>, SwarmError> {
        match self.docker.inspect_image(reference).await {
            Ok(i) => Ok(i.id),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(api(format!("inspect image {reference}"))(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(image: &str, env: &[(&str, &str)], configs: &[&str]) -> RunSpec {
        RunSpec {
            service: "s_app".into(),
            image: image.into(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            configs: configs.iter().map(|c| c.to_string()).collect(),
            secrets: BTreeSet::new(),
        }
    }

    fn running(
        update: Option<&str>,
        tasks: Vec<(RunSpec, Option<&str>)>,
        tag: Option<&str>,
    ) -> Running {
        Running {
            service: "s_app".into(),
            update_state: update.map(String::from),
            update_message: update
                .map(|_| "update rolled back due to failure or early termination of task x".into()),
            desired: 1,
            tasks: tasks
                .into_iter()
                .map(|(s, id)| (s, id.map(String::from)))
                .collect(),
            tag_image_id: tag.map(String::from),
        }
    }

    #[test]
    fn a_task_on_the_deployed_spec_is_on_spec() {
        let want = spec(
            "ghost:5.130.6",
            &[("url", "https://x")],
            &["s_entrypoint_v1"],
        );
        let mut task = want.clone();
        task.image = "ghost:5.130.6@sha256:abc".into();
        let run = running(
            Some("completed"),
            vec![(task, Some("sha256:1"))],
            Some("sha256:1"),
        );
        assert_eq!(off_spec(&[want], &[run]), vec![]);
    }

    #[test]
    fn a_rolled_back_update_is_named_with_what_runs() {
        let want = spec("ghost:5.130.6", &[], &[]);
        let old = spec("ghost:5.120.3", &[], &[]);
        let off = off_spec(
            &[want],
            &[running(Some("rollback_completed"), vec![(old, None)], None)],
        );
        assert_eq!(off.len(), 1, "{off:?}");
        assert_eq!(off[0].0, "s_app");
        assert!(
            off[0].1.contains("rollback_completed")
                && off[0].1.contains("runs image ghost:5.120.3"),
            "{off:?}"
        );
    }

    #[test]
    fn a_paused_update_keeping_the_old_task_or_no_task_is_off_spec() {
        let want = spec("a:1", &[], &[]);
        let old = spec("a:0", &[], &[]);
        let off = off_spec(
            std::slice::from_ref(&want),
            &[running(Some("paused"), vec![(old, None)], None)],
        );
        assert!(
            off[0].1.starts_with("Swarm's update is paused") && off[0].1.contains("runs image a:0"),
            "{off:?}"
        );
        // `paused` stays set after a flicker the new spec recovered from: that runs what was
        // deployed [R9].
        let recovered = off_spec(
            std::slice::from_ref(&want),
            &[running(Some("paused"), vec![(want.clone(), None)], None)],
        );
        assert_eq!(recovered, vec![]);
        let off = off_spec(&[want], &[running(None, vec![], None)]);
        assert!(off[0].1.contains("no task of it is running"), "{off:?}");
    }

    #[test]
    fn env_configs_and_the_image_behind_the_tag_are_compared() {
        let want = spec("a:1", &[("V", "2"), ("K", "x")], &["c_v2"]);
        let task = spec("a:1", &[("V", "1"), ("K", "x"), ("OLD", "y")], &["c_v1"]);
        let off = off_spec(
            std::slice::from_ref(&want),
            &[running(
                None,
                vec![(task, Some("sha256:old"))],
                Some("sha256:new"),
            )],
        );
        let why = &off[0].1;
        assert!(why.contains("env differs in V, OLD"), "{why}");
        assert!(
            why.contains("configs are [c_v1], the deploy says [c_v2]"),
            "{why}"
        );
        let off = off_spec(
            std::slice::from_ref(&want),
            &[running(
                None,
                vec![(want.clone(), Some("sha256:old"))],
                Some("sha256:new"),
            )],
        );
        assert!(
            off[0]
                .1
                .contains("its container runs image old, but a:1 is new on the node"),
            "{off:?}"
        );
    }

    #[test]
    fn only_a_resolved_digest_after_a_tag_is_stripped() {
        assert_eq!(strip_resolved("ghost:5@sha256:ab"), "ghost:5");
        assert_eq!(
            strip_resolved("reg:5000/x/ghost:5@sha256:ab"),
            "reg:5000/x/ghost:5"
        );
        assert_eq!(strip_resolved("ghost@sha256:ab"), "ghost@sha256:ab");
    }
}
