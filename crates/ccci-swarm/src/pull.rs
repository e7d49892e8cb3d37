//! Pulling images onto the Swarm's node through the Engine API, as a Co-op Cloud server gets
//! a recipe's images: with the credentials of the user's Docker config, under a deadline, and
//! with a typed answer when an image cannot be had.

use crate::Deadline;
use crate::Swarm;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;
use std::path::PathBuf;

/// Why an image could not be pulled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullFailure {
    /// The registry has no such repository or tag.
    #[error("not found on its registry (unknown repository or tag): {0}")]
    NotFound(String),
    /// The registry refused the credentials, or asked for some.
    #[error("unauthorised: {0}; log in with `docker login <registry>` (ccci uses the credentials of your Docker config)")]
    Unauthorised(String),
    /// The registry could not be reached, or failed.
    #[error("the registry could not be reached or failed: {0}")]
    Unreachable(String),
    /// The step's deadline passed while pulling.
    #[error("still pulling when the step's deadline passed ({} s)", .0.as_secs())]
    TimedOut(std::time::Duration),
}

impl PullFailure {
    /// Whether the failure is the host's (its registry or network could not be reached, or
    /// was too slow), not the recipe's (an image that does not exist, or is not public).
    pub fn is_host(&self) -> bool {
        matches!(self, PullFailure::Unreachable(_) | PullFailure::TimedOut(_))
    }
}

/// The registry an image comes from, as Docker configs key it: the first path component when
/// it looks like a host (`ghcr.io/…`, `127.0.0.1:5000/…`, `localhost/…`), else Docker Hub.
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_string()
        }
        _ => "https://index.docker.io/v1/".to_string(),
    }
}

/// `(repository, tag)` of `image` (`name@sha256:…` keeps its digest as the "tag").
fn repository_and_tag(image: &str) -> (String, String) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo.to_string(), digest.to_string());
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(i) => (
            image[..last_slash + i].to_string(),
            image[last_slash + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    }
}

/// The credentials the user's Docker config (`$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`) holds for `registry`, from its `auths` entries. Credential helpers
/// are not run.
pub fn credentials_for(registry: &str) -> Option<DockerCredentials> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))?;
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let config: serde_json::Value = serde_json::from_str(&text).ok()?;
    let auths = config.get("auths")?.as_object()?;
    let entry = auths.iter().find_map(|(k, v)| {
        let host = k
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or(k);
        let wanted = registry
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap_or(registry);
        (host == wanted).then_some(v)
    })?;
    let auth = entry.get("auth")?.as_str()?;
    let decoded = String::from_utf8(crate::route::base64_decode(auth)?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some(DockerCredentials {
        username: Some(user.to_string()),
        password: Some(password.to_string()),
        serveraddress: Some(registry.to_string()),
        ..Default::default()
    })
}

impl Swarm {
    /// Pulls `image` onto the daemon's node before `deadline`.
    pub async fn pull(&self, image: &str, deadline: Deadline) -> Result<(), PullFailure> {
        let (repo, tag) = repository_and_tag(image);
        let opts = CreateImageOptions {
            from_image: Some(repo),
            tag: Some(tag),
            ..Default::default()
        };
        let creds = credentials_for(&registry_of(image));
        let mut stream = self.docker.create_image(Some(opts), None, creds);
        let pulled = async {
            while let Some(item) = stream.next().await {
                item.map_err(classify)?;
            }
            Ok(())
        };
        match tokio::time::timeout_at(deadline.instant().into(), pulled).await {
            Ok(r) => r,
            Err(_) => Err(PullFailure::TimedOut(deadline.budget())),
        }
    }
}

/// The daemon's answer, by its status: 404 no such image, 401/403 refused, anything else the
/// registry's or the network's failure.
fn classify(e: bollard::errors::Error) -> PullFailure {
    match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message,
        } => PullFailure::NotFound(message),
        bollard::errors::Error::DockerResponseServerError {
            status_code: 401 | 403,
            message,
        } => PullFailure::Unauthorised(message),
        bollard::errors::Error::DockerResponseServerError { message, .. } => {
            PullFailure::Unreachable(message)
        }
        other => PullFailure::Unreachable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_and_tags_of_image_names() {
        assert_eq!(registry_of("nginx:1.19.2"), "https://index.docker.io/v1/");
        assert_eq!(registry_of("library/nginx"), "https://index.docker.io/v1/");
        assert_eq!(registry_of("ghcr.io/o/app:1.0.0"), "ghcr.io");
        assert_eq!(
            registry_of("127.0.0.1:5000/ccci/busybox:1.35"),
            "127.0.0.1:5000"
        );
        assert_eq!(
            repository_and_tag("127.0.0.1:5000/ccci/busybox:1.35"),
            ("127.0.0.1:5000/ccci/busybox".into(), "1.35".into())
        );
        assert_eq!(
            repository_and_tag("127.0.0.1:5000/ccci/busybox"),
            ("127.0.0.1:5000/ccci/busybox".into(), "latest".into())
        );
        assert_eq!(
            repository_and_tag("nginx@sha256:abc"),
            ("nginx".into(), "sha256:abc".into())
        );
    }
}
