//! What a stack owns (services, containers, networks, volumes, secrets, configs), found by
//! the stack label, and removing what `docker stack rm` leaves behind.

use crate::error::{api, SwarmError};
use crate::stack::{of_stack, stack_filter};
use crate::Swarm;
use bollard::query_parameters::{
    ListConfigsOptions, ListContainersOptions, ListNetworksOptions, ListSecretsOptions,
    ListVolumesOptions, RemoveVolumeOptions,
};

impl Swarm {
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

    /// The stack's containers on this daemon, running or not, as the Engine lists them.
    pub(crate) async fn stack_containers(
        &self,
        stack: &str,
    ) -> Result<Vec<bollard::models::ContainerSummary>, SwarmError> {
        let opts = ListContainersOptions {
            all: true,
            filters: Some(stack_filter(stack)),
            ..Default::default()
        };
        self.docker
            .list_containers(Some(opts))
            .await
            .map_err(api(format!("list containers of stack {stack}")))
    }

    /// Names of the stack's containers, running or not.
    pub async fn containers(&self, stack: &str) -> Result<Vec<String>, SwarmError> {
        Ok(self
            .stack_containers(stack)
            .await?
            .into_iter()
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
        let named = all
            .into_iter()
            .map(|x| (x.id, x.spec.map(|s| (s.name, s.labels))));
        Ok(named_of_stack(stack, named))
    }

    /// (id, name) of the stack's configs: labelled, or named `<stack>_…`.
    pub async fn configs(&self, stack: &str) -> Result<Vec<(String, String)>, SwarmError> {
        let all = self
            .docker
            .list_configs(None::<ListConfigsOptions>)
            .await
            .map_err(api("list configs"))?;
        let named = all
            .into_iter()
            .map(|x| (x.id, x.spec.map(|s| (s.name, s.labels))));
        Ok(named_of_stack(stack, named))
    }

    /// Removes what `docker stack rm` leaves: the stack's volumes, secrets and configs. Call
    /// only after [`crate::wait::wait_undeployed`], which also removes networks a stack left
    /// behind. An object the daemon refuses to remove (a volume a container outside the stack
    /// still holds, say) does not stop the rest: it is among [`DataRemoval::refused`] with
    /// the daemon's reason. Only a daemon that cannot be reached is an error.
    pub async fn remove_stack_data(&self, stack: &str) -> Result<DataRemoval, SwarmError> {
        let mut done = DataRemoval::default();
        for v in self.volumes(stack).await? {
            let r = self
                .docker
                .remove_volume(&v, Some(RemoveVolumeOptions { force: false }))
                .await;
            done.note(format!("volume {v}"), r)?;
        }
        for (id, n) in self.secrets(stack).await? {
            let r = self.docker.delete_secret(&id).await;
            done.note(format!("secret {n}"), r)?;
        }
        for (id, n) in self.configs(stack).await? {
            let r = self.docker.delete_config(&id).await;
            done.note(format!("config {n}"), r)?;
        }
        Ok(done)
    }
}

/// What [`Swarm::remove_stack_data`] did: each object as `<kind> <name>`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DataRemoval {
    /// Removed.
    pub removed: Vec<String>,
    /// Still there: each object with the daemon's reason.
    pub refused: Vec<(String, String)>,
}

impl DataRemoval {
    /// Files one removal's outcome: the daemon's refusal is a reason the object stays; any
    /// other failure (the daemon not reached) ends the removal as an error.
    fn note(
        &mut self,
        object: String,
        r: Result<(), bollard::errors::Error>,
    ) -> Result<(), SwarmError> {
        match r {
            Ok(()) => self.removed.push(object),
            Err(bollard::errors::Error::DockerResponseServerError { message, .. }) => {
                self.refused.push((object, message));
            }
            Err(e) => return Err(api(format!("remove {object}"))(e)),
        }
        Ok(())
    }
}

/// Labels of a secret or config, as the Engine gives them.
type Labels = Option<std::collections::HashMap<String, String>>;

/// (id, name) of the secrets or configs (their id, and their spec's name and labels) that
/// belong to `stack`.
fn named_of_stack(
    stack: &str,
    all: impl Iterator<Item = (Option<String>, Option<(Option<String>, Labels)>)>,
) -> Vec<(String, String)> {
    all.filter_map(|(id, spec)| {
        let (name, labels) = spec?;
        of_stack(stack, id, name?, labels.as_ref())
    })
    .collect()
}
