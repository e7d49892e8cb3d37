//! The objects a deploy checks or creates before `docker stack deploy`: images on the
//! daemon and the app's Swarm secrets.

use crate::error::{api, SwarmError};
use crate::stack::STACK_LABEL;
use crate::Swarm;
use bollard::models::SecretSpec;
use bollard::query_parameters::ListSecretsOptions;
use std::collections::HashMap;

impl Swarm {
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
