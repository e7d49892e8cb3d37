use crate::error::{api, SwarmError};
use crate::model::{ServiceState, TaskState};
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{SecretSpec, Service, Task, TaskSpecRestartPolicyConditionEnum};
use bollard::query_parameters::{
    DownloadFromContainerOptions, ListConfigsOptions, ListContainersOptions, ListNetworksOptions,
    ListSecretsOptions, ListServicesOptions, ListTasksOptions, ListVolumesOptions,
    RemoveVolumeOptions, UploadToContainerOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

/// The label `docker stack deploy` puts on everything of a stack.
pub const STACK_LABEL: &str = "com.docker.stack.namespace";

/// A connection to a swarm manager.
#[derive(Clone)]
pub struct Swarm {
    docker: Docker,
    host: String,
}

/// A volume or bind mount of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// `volume` or `bind`.
    pub kind: String,
    /// The volume's name (`<stack>_<volume>` for stack volumes).
    pub name: Option<String>,
    /// Where it is mounted in the container.
    pub destination: String,
}

/// What an exec'd command printed and returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit code.
    pub exit_code: i64,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// Standard output as (lossy) UTF-8.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// Standard error as (lossy) UTF-8.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

fn stack_filter(stack: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![format!("{STACK_LABEL}={stack}")])])
}

impl Swarm {
    /// Connects to the daemon named by `DOCKER_HOST` (default: the local socket), checks that it
    /// answers within 5 s and that it is a swarm manager.
    pub async fn connect() -> Result<Swarm, SwarmError> {
        let host =
            std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
        Self::connect_host(&host).await
    }

    /// Connects to the daemon at `host` (`unix:///path` or `tcp://host:port`), with the same
    /// checks as [`Swarm::connect`].
    pub async fn connect_host(host: &str) -> Result<Swarm, SwarmError> {
        let host = host.to_string();
        let unreachable = |reason: String| SwarmError::Unreachable {
            host: host.clone(),
            reason,
        };
        let docker = if let Some(path) = host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, 120, bollard::API_DEFAULT_VERSION)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            Docker::connect_with_http(&host, 120, bollard::API_DEFAULT_VERSION)
        } else {
            return Err(unreachable(
                "only unix:// and tcp:// hosts are supported (ssh:// needs bollard's ssh feature)"
                    .into(),
            ));
        }
        .map_err(|e| unreachable(e.to_string()))?;
        match tokio::time::timeout(Duration::from_secs(5), docker.ping()).await {
            Err(_) => return Err(unreachable("no answer within 5 s".into())),
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Ok(Ok(_)) => {}
        }
        let info = docker.info().await.map_err(api("read daemon info"))?;
        let swarm = info.swarm.unwrap_or_default();
        let state = swarm
            .local_node_state
            .map(|s| s.to_string())
            .unwrap_or_default();
        if state != "active" || swarm.control_available != Some(true) {
            return Err(SwarmError::NotSwarm {
                host,
                state: if state.is_empty() {
                    "inactive".into()
                } else {
                    state
                },
            });
        }
        Ok(Swarm { docker, host })
    }

    /// The daemon address this connection uses.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The underlying bollard client, for what this crate does not wrap.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The stack's services with their tasks, as plain snapshots (see [`crate::converge`]).
    pub async fn snapshot(&self, stack: &str) -> Result<Vec<ServiceState>, SwarmError> {
        let services = self.services(stack).await?;
        let mut tasks = self.tasks(stack).await?;
        tasks.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(services.iter().map(|s| service_state(s, &tasks)).collect())
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
        let snap = self.snapshot(stack).await?;
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

    /// Runs `argv` in `container` (no shell, no TTY) and collects its output and exit code.
    pub async fn exec(&self, container: &str, argv: &[&str]) -> Result<ExecOutput, SwarmError> {
        let err = |reason: String| SwarmError::Exec {
            container: container.to_string(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            reason,
        };
        let opts = CreateExecOptions {
            cmd: Some(argv.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let created = self
            .docker
            .create_exec(container, opts)
            .await
            .map_err(|e| err(e.to_string()))?;
        let mut out = ExecOutput {
            exit_code: -1,
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        match self
            .docker
            .start_exec(&created.id, None)
            .await
            .map_err(|e| err(e.to_string()))?
        {
            StartExecResults::Attached { mut output, .. } => {
                while let Some(chunk) = output.next().await {
                    match chunk.map_err(|e| err(e.to_string()))? {
                        bollard::container::LogOutput::StdOut { message } => {
                            out.stdout.extend_from_slice(&message)
                        }
                        bollard::container::LogOutput::StdErr { message } => {
                            out.stderr.extend_from_slice(&message)
                        }
                        _ => {}
                    }
                }
            }
            StartExecResults::Detached => return Err(err("the daemon detached the exec".into())),
        }
        let inspect = self
            .docker
            .inspect_exec(&created.id)
            .await
            .map_err(|e| err(e.to_string()))?;
        out.exit_code = inspect
            .exit_code
            .ok_or_else(|| err("the daemon reported no exit code".into()))?;
        Ok(out)
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

    /// The mounts of a container.
    pub async fn mounts(&self, container: &str) -> Result<Vec<MountInfo>, SwarmError> {
        let c = self
            .docker
            .inspect_container(container, None)
            .await
            .map_err(api(format!("inspect container {container}")))?;
        Ok(c.mounts
            .unwrap_or_default()
            .into_iter()
            .map(|m| MountInfo {
                kind: m.typ.map(|t| t.to_string()).unwrap_or_default(),
                name: m.name,
                destination: m.destination.unwrap_or_default(),
            })
            .collect())
    }

    /// Streams `path` out of `container` as a tar archive into `sink`; returns the bytes read.
    pub async fn download(
        &self,
        container: &str,
        path: &str,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<u64, SwarmError> {
        let opts = DownloadFromContainerOptions {
            path: path.to_string(),
        };
        let mut stream = self.docker.download_from_container(container, Some(opts));
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(api(format!("download {path} from container {container}")))?;
            n += chunk.len() as u64;
            sink(&chunk).map_err(|e| SwarmError::Exec {
                container: container.into(),
                argv: vec![format!("download {path}")],
                reason: format!("writing the archive failed: {e}"),
            })?;
        }
        Ok(n)
    }

    /// Extracts the tar archive `tar` into directory `dir` of `container`.
    pub async fn upload(&self, container: &str, dir: &str, tar: Vec<u8>) -> Result<(), SwarmError> {
        let opts = UploadToContainerOptions {
            path: dir.to_string(),
            ..Default::default()
        };
        self.docker
            .upload_to_container(
                container,
                Some(opts),
                bollard::body_full(bytes::Bytes::from(tar)),
            )
            .await
            .map_err(api(format!(
                "upload an archive into {dir} of container {container}"
            )))
    }

    /// Whether an image is present on the daemon.
    pub async fn image_exists(&self, image: &str) -> Result<bool, SwarmError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(SwarmError::Api {
                what: format!("inspect image {image}"),
                source: e,
            }),
        }
    }

    /// Whether a swarm secret with exactly this name exists.
    pub async fn secret_exists(&self, name: &str) -> Result<bool, SwarmError> {
        let opts = ListSecretsOptions {
            filters: Some(HashMap::from([("name".into(), vec![name.into()])])),
        };
        let all = self
            .docker
            .list_secrets(Some(opts))
            .await
            .map_err(api(format!("list secret {name}")))?;
        Ok(all
            .iter()
            .any(|s| s.spec.as_ref().and_then(|sp| sp.name.as_deref()) == Some(name)))
    }

    /// Creates a swarm secret labelled as part of `stack`, so the stack's teardown removes it.
    pub async fn create_secret(
        &self,
        stack: &str,
        name: &str,
        value: &[u8],
    ) -> Result<(), SwarmError> {
        let mut b64 = Vec::new();
        base64_encode(value, &mut b64);
        let spec = SecretSpec {
            name: Some(name.into()),
            labels: Some(HashMap::from([
                (STACK_LABEL.to_string(), stack.to_string()),
                ("ccci.generated".into(), "true".into()),
            ])),
            data: Some(String::from_utf8(b64).unwrap_or_default()),
            ..Default::default()
        };
        self.docker
            .create_secret(spec)
            .await
            .map_err(api(format!("create secret {name}")))?;
        Ok(())
    }

    /// Everything of `stack` that still exists, as `kind name` lines: services, containers,
    /// networks, volumes, secrets and configs carrying the stack label, plus secrets and
    /// configs whose name starts with `<stack>_`.
    pub async fn leftovers(&self, stack: &str) -> Result<Vec<String>, SwarmError> {
        let mut out = Vec::new();
        for s in self.services(stack).await? {
            out.push(format!(
                "service {}",
                s.spec.and_then(|sp| sp.name).unwrap_or_default()
            ));
        }
        out.extend(
            self.containers(stack)
                .await?
                .into_iter()
                .map(|c| format!("container {c}")),
        );
        out.extend(
            self.networks(stack)
                .await?
                .into_iter()
                .map(|n| format!("network {n}")),
        );
        out.extend(
            self.volumes(stack)
                .await?
                .into_iter()
                .map(|v| format!("volume {v}")),
        );
        out.extend(
            self.secrets(stack)
                .await?
                .into_iter()
                .map(|(_, n)| format!("secret {n}")),
        );
        out.extend(
            self.configs(stack)
                .await?
                .into_iter()
                .map(|(_, n)| format!("config {n}")),
        );
        Ok(out)
    }

    /// Names of the stack's containers, running or not.
    pub async fn containers(&self, stack: &str) -> Result<Vec<String>, SwarmError> {
        let opts = ListContainersOptions {
            all: true,
            filters: Some(stack_filter(stack)),
            ..Default::default()
        };
        let v = self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(api(format!("list containers of stack {stack}")))?;
        Ok(v.into_iter()
            .map(|c| {
                c.names
                    .unwrap_or_default()
                    .join(",")
                    .trim_start_matches('/')
                    .to_string()
            })
            .collect())
    }

    /// Names of the stack's networks.
    pub async fn networks(&self, stack: &str) -> Result<Vec<String>, SwarmError> {
        let opts = ListNetworksOptions {
            filters: Some(stack_filter(stack)),
        };
        let v = self
            .docker
            .list_networks(Some(opts))
            .await
            .map_err(api(format!("list networks of stack {stack}")))?;
        Ok(v.into_iter().filter_map(|n| n.name).collect())
    }

    /// Names of the stack's volumes.
    pub async fn volumes(&self, stack: &str) -> Result<Vec<String>, SwarmError> {
        let opts = ListVolumesOptions {
            filters: Some(stack_filter(stack)),
        };
        let v = self
            .docker
            .list_volumes(Some(opts))
            .await
            .map_err(api(format!("list volumes of stack {stack}")))?;
        Ok(v.volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect())
    }

    /// (id, name) of the stack's secrets: labelled, or named `<stack>_…`.
    pub async fn secrets(&self, stack: &str) -> Result<Vec<(String, String)>, SwarmError> {
        let all = self
            .docker
            .list_secrets(None::<ListSecretsOptions>)
            .await
            .map_err(api("list secrets"))?;
        Ok(all
            .into_iter()
            .filter_map(|x| {
                let spec = x.spec?;
                of_stack(stack, x.id, spec.name?, spec.labels.as_ref())
            })
            .collect())
    }

    /// (id, name) of the stack's configs: labelled, or named `<stack>_…`.
    pub async fn configs(&self, stack: &str) -> Result<Vec<(String, String)>, SwarmError> {
        let all = self
            .docker
            .list_configs(None::<ListConfigsOptions>)
            .await
            .map_err(api("list configs"))?;
        Ok(all
            .into_iter()
            .filter_map(|x| {
                let spec = x.spec?;
                of_stack(stack, x.id, spec.name?, spec.labels.as_ref())
            })
            .collect())
    }

    /// Removes what `docker stack rm` leaves: the stack's volumes, secrets and configs. Call
    /// only after [`crate::wait::wait_undeployed`], which also removes networks a stack left
    /// behind; returns what it removed.
    pub async fn remove_stack_data(&self, stack: &str) -> Result<Vec<String>, SwarmError> {
        let mut removed = Vec::new();
        for v in self.volumes(stack).await? {
            self.docker
                .remove_volume(&v, Some(RemoveVolumeOptions { force: false }))
                .await
                .map_err(api(format!("remove volume {v}")))?;
            removed.push(format!("volume {v}"));
        }
        for (id, n) in self.secrets(stack).await? {
            self.docker
                .delete_secret(&id)
                .await
                .map_err(api(format!("remove secret {n}")))?;
            removed.push(format!("secret {n}"));
        }
        for (id, n) in self.configs(stack).await? {
            self.docker
                .delete_config(&id)
                .await
                .map_err(api(format!("remove config {n}")))?;
            removed.push(format!("config {n}"));
        }
        Ok(removed)
    }
}

/// `(id, name)` of a secret or config that belongs to `stack`: it carries the stack label, or
/// its name starts with `<stack>_` (abra's naming, for ones created without the label).
fn of_stack(
    stack: &str,
    id: Option<String>,
    name: String,
    labels: Option<&HashMap<String, String>>,
) -> Option<(String, String)> {
    let labelled = labels
        .as_ref()
        .and_then(|l| l.get(STACK_LABEL))
        .map(String::as_str)
        == Some(stack);
    (labelled || name.starts_with(&format!("{stack}_"))).then(|| (id.unwrap_or_default(), name))
}

fn service_state(s: &Service, tasks: &[Task]) -> ServiceState {
    let spec = s.spec.clone().unwrap_or_default();
    let name = spec.name.clone().unwrap_or_default();
    let template = spec.task_template.clone();
    let mode = spec.mode.clone().unwrap_or_default();
    let job = mode.replicated_job.is_some() || mode.global_job.is_some();
    let restart_none = template
        .as_ref()
        .and_then(|t| t.restart_policy.as_ref())
        .and_then(|r| r.condition)
        .is_some_and(|c| c == TaskSpecRestartPolicyConditionEnum::NONE);
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
        .map(|t| {
            let st = t.status.clone().unwrap_or_default();
            let current = match (
                &template_json,
                t.spec
                    .as_ref()
                    .and_then(|sp| serde_json::to_value(sp).ok())
                    .map(normalized),
            ) {
                (Some(a), Some(b)) => *a == b,
                _ => false,
            };
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
        })
        .collect();
    let update = s.update_status.clone().unwrap_or_default();
    ServiceState {
        name,
        desired,
        one_shot: job || restart_none,
        update_state: update
            .state
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty()),
        update_message: update.message,
        tasks: own,
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

/// Standard base64 (the Engine API wants secret data encoded so).
fn base64_encode(input: &[u8], out: &mut Vec<u8>) {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63]);
        out.push(T[(n >> 12) as usize & 63]);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63]
        } else {
            b'='
        });
    }
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

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut v = Vec::new();
            super::base64_encode(i.as_bytes(), &mut v);
            assert_eq!(String::from_utf8(v).unwrap(), o);
        }
    }
}
