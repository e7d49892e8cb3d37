//! glewlwyd's admin API, as ccci uses it: in a run's own glewlwyd, its realm (one OIDC plugin
//! instance: its own issuer and signing keys), a confidential client and a user.
//!
//! glewlwyd's clients and users are global to an instance, not kept to a plugin instance (its
//! docs: "by design, all scopes are available"), so a realm gets a glewlwyd of its own
//! ([`crate::Provider::make_realm`]); the client and user are still named after the realm
//! (`ccci-<run>`, `ccci-<run>-user`). Calls are made inside its container, never through a
//! domain.

use crate::error::DepsError;
use ccci_swarm::{Swarm, SwarmError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a realm is made for: its name and where the provider may send a signed-in user back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmSpec {
    /// The realm's name ([`crate::realm_name`]): also its client's id.
    pub name: String,
    /// The app's redirect URIs, exactly as the app sends them.
    pub redirect_uris: Vec<String>,
}

/// A run's realm: everything an app and a test need to sign a user in through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm {
    /// The realm's name.
    pub name: String,
    /// The domain its own glewlwyd is reached at, through Traefik (by the app, through its
    /// door on `proxy`).
    pub domain: String,
    /// Its issuer: `<its URL>/api/<name>`, what its tokens carry as `iss`.
    pub issuer: String,
    /// Its OpenID discovery document.
    pub discovery_url: String,
    /// The app's client id.
    pub client_id: String,
    /// The client's secret.
    pub client_secret: String,
    /// The test user's name.
    pub username: String,
    /// The test user's password.
    pub password: String,
}

impl Realm {
    /// The realm as a run's dependency values ([`ccci_core::deps::OIDC_KEYS`]), with the
    /// authorities that sign the provider's certificate.
    pub fn values(&self, ca_pem: &str) -> BTreeMap<String, String> {
        [
            ("issuer", &self.issuer),
            ("discovery_url", &self.discovery_url),
            ("realm", &self.name),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("username", &self.username),
            ("password", &self.password),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .chain([("ca_pem".to_string(), ca_pem.to_string())])
        .collect()
    }
}

/// A realm's signing key pair, PEM.
#[derive(Clone)]
pub struct KeyPair {
    /// The private key.
    pub private_pem: String,
    /// The public key.
    pub public_pem: String,
}

impl KeyPair {
    /// The pair from `ccci-keypair`'s output: the private key's PEM, then the public key's.
    pub fn parse(text: &str) -> Option<KeyPair> {
        let split = text.find("-----BEGIN PUBLIC KEY-----")?;
        let (private, public) = text.split_at(split);
        private.contains("PRIVATE KEY-----").then(|| KeyPair {
            private_pem: private.trim().to_string() + "\n",
            public_pem: public.trim().to_string() + "\n",
        })
    }
}

/// A signed-in admin session at one glewlwyd, each call made by curl inside its own container
/// to `127.0.0.1`: the admin's password and session never travel towards a domain, which a
/// run could claim in Traefik.
pub struct Admin {
    swarm: Swarm,
    container: String,
    /// Where the instance is reached, for errors.
    url: String,
    /// The session's cookie file, inside the container.
    jar: String,
}

/// How long one admin call may take.
const CALL: Duration = Duration::from_secs(20);

impl Admin {
    /// Signs in as `admin` with `password` at the glewlwyd running in `container` (reached
    /// from outside at `url`, named in errors).
    pub async fn login(
        swarm: &Swarm,
        container: &str,
        url: &str,
        password: &str,
    ) -> Result<Admin, DepsError> {
        let admin = Admin {
            swarm: swarm.clone(),
            container: container.into(),
            url: url.trim_end_matches('/').to_string(),
            jar: format!("/tmp/ccci-admin-{}", secret(12)?),
        };
        admin
            .call(
                "POST",
                "/api/auth/",
                Some(json!({"username": "admin", "password": password})),
                "sign in as its admin",
            )
            .await?;
        Ok(admin)
    }

    /// Makes `spec`'s realm in this glewlwyd, reached at `domain` (`base`: its public URL),
    /// signed with `keys`: the OIDC plugin instance, then its client and user with generated
    /// secrets.
    pub async fn create_realm(
        &self,
        spec: &RealmSpec,
        keys: &KeyPair,
        domain: &str,
        base: &str,
    ) -> Result<Realm, DepsError> {
        let issuer = format!("{}/api/{}", base.trim_end_matches('/'), spec.name);
        let username = format!("{}-user", spec.name);
        let (client_secret, password) = (secret(40)?, secret(24)?);
        let plugin = json!({
            "module": "oidc", "name": spec.name, "display_name": spec.name, "enabled": true,
            "parameters": {
                "iss": issuer, "jwt-type": "rsa", "jwt-key-size": "256",
                "key": keys.private_pem, "cert": keys.public_pem,
                "access-token-duration": 3600, "refresh-token-duration": 86400,
                "code-duration": 600, "refresh-token-rolling": true,
                // The password grant is OAuth 2's, not OIDC's: glewlwyd allows it only so.
                "allow-non-oidc": true,
                "auth-type-code-enabled": true, "auth-type-password-enabled": true,
                "auth-type-client-enabled": true, "auth-type-refresh-enabled": true,
                "jwks-show": true, "allowed-scope": ["openid"],
                "name-claim": "mandatory", "email-claim": "mandatory",
            }
        });
        self.call("POST", "/api/mod/plugin/", Some(plugin), "make a realm")
            .await?;
        let client = json!({
            "client_id": spec.name, "name": spec.name, "enabled": true, "confidential": true,
            "password": client_secret, "scope": ["openid"], "redirect_uri": spec.redirect_uris,
            "authorization_type": ["code", "password", "refresh_token"],
            // Without it glewlwyd's token endpoint refuses the client (403).
            "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"],
        });
        self.call(
            "POST",
            "/api/client/",
            Some(client),
            "make a realm's client",
        )
        .await?;
        let user = json!({
            "username": username, "name": username, "email": format!("{username}@ccci.test"),
            "password": password, "enabled": true, "scope": ["openid"],
        });
        self.call("POST", "/api/user/", Some(user), "make a realm's user")
            .await?;
        Ok(Realm {
            discovery_url: format!("{issuer}/.well-known/openid-configuration"),
            issuer,
            client_id: spec.name.clone(),
            client_secret,
            username,
            password,
            name: spec.name.clone(),
            domain: domain.into(),
        })
    }

    /// One call of the admin API: `curl` in the container, its answer's JSON (null when
    /// empty). What goes wrong is said without the command, which may hold the password.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        what: &str,
    ) -> Result<Value, DepsError> {
        let url = format!("http://127.0.0.1:4593{path}");
        let max_time = CALL.as_secs().to_string();
        let body = body.map(|b| b.to_string());
        let mut argv = vec![
            "curl",
            "-sS",
            "--max-time",
            &max_time,
            "-b",
            &self.jar,
            "-c",
            &self.jar,
            "-X",
            method,
            "-w",
            "\n%{http_code}",
        ];
        if let Some(body) = &body {
            argv.extend(["-H", "content-type: application/json", "--data-raw", body]);
        }
        argv.push(&url);
        let unreachable = |why: String| DepsError::Unreachable {
            url: self.url.clone(),
            what: what.into(),
            why,
        };
        let out = match self.swarm.exec(&self.container, &argv).await {
            Ok(out) => out,
            Err(SwarmError::Exec { reason, .. }) => return Err(unreachable(reason)),
            Err(SwarmError::ExecOutputTooLarge { .. }) => {
                return Err(unreachable("it answered more than ccci reads".into()))
            }
            Err(e) => return Err(e.into()),
        };
        if out.exit_code != 0 {
            return Err(unreachable(format!(
                "curl in its container exited {}: {}",
                out.exit_code,
                out.stderr_str().trim()
            )));
        }
        let text = out.stdout_str();
        let (answer, status) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
        let status: u16 = status.trim().parse().unwrap_or(0);
        if !(200..300).contains(&status) {
            return Err(DepsError::Refused {
                url: self.url.clone(),
                what: what.into(),
                status,
                body: answer.chars().take(300).collect(),
            });
        }
        Ok(serde_json::from_str(answer).unwrap_or(Value::Null))
    }
}

/// `len` random letters and digits, from the kernel's CSPRNG.
fn secret(len: usize) -> Result<String, DepsError> {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    ccci_core::random_chars(len, ALNUM)
        .map_err(crate::error::io(std::path::Path::new("/dev/urandom")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_pair_is_read_from_the_scripts_output() {
        let out = "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n-----BEGIN PUBLIC KEY-----\nBBB\n-----END PUBLIC KEY-----\n";
        let k = KeyPair::parse(out).unwrap();
        assert!(
            k.private_pem.starts_with("-----BEGIN PRIVATE KEY-----")
                && k.private_pem.ends_with("-----END PRIVATE KEY-----\n")
        );
        assert!(k.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert!(KeyPair::parse("openssl: error").is_none());
    }

    #[test]
    fn secrets_are_long_random_and_alphanumeric() {
        let (a, b) = (secret(40).unwrap(), secret(40).unwrap());
        assert_eq!(a.len(), 40);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
