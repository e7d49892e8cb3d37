//! glewlwyd's admin API, as ccci uses it: a realm per run (one OIDC plugin instance: its own
//! issuer and signing keys), a confidential client and a user in it, and their removal.
//!
//! glewlwyd's clients and users are global, not per plugin instance, so they are named after
//! the realm (`ccci-<run>`, `ccci-<run>-user`) and removed with it. Calls are made through
//! Traefik, at the provider's public URL, as every other client of it reaches it.

use crate::error::DepsError;
use ccci_swarm::Via;
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
    /// Its issuer: `<provider URL>/api/<name>`, what its tokens carry as `iss`.
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

/// A signed-in admin session at a provider.
pub struct Admin {
    client: reqwest::Client,
    url: String,
}

/// How long one admin call may take.
const CALL: Duration = Duration::from_secs(20);

impl Admin {
    /// Signs in as `admin` with `password` at the provider `url` (its public URL, reached
    /// `via` Traefik).
    pub async fn login(url: &str, via: &Via, password: &str) -> Result<Admin, DepsError> {
        let client = via
            .client_builder()
            .and_then(|b| {
                b.cookie_store(true)
                    .timeout(CALL)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .map_err(|why| DepsError::Unreachable {
                url: url.into(),
                what: "sign in".into(),
                why,
            })?;
        let admin = Admin {
            client,
            url: url.trim_end_matches('/').to_string(),
        };
        admin
            .call(
                reqwest::Method::POST,
                "/api/auth/",
                Some(json!({"username": "admin", "password": password})),
                "sign in as its admin",
            )
            .await?;
        Ok(admin)
    }

    /// Makes `spec`'s realm, signed with `keys`: the OIDC plugin instance, then its client
    /// and user with generated secrets. A realm of that name left by an earlier attempt is
    /// removed first.
    pub async fn create_realm(&self, spec: &RealmSpec, keys: &KeyPair) -> Result<Realm, DepsError> {
        self.remove_realm(&spec.name).await?;
        let issuer = format!("{}/api/{}", self.url, spec.name);
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
        self.call(
            reqwest::Method::POST,
            "/api/mod/plugin/",
            Some(plugin),
            "make a realm",
        )
        .await?;
        let client = json!({
            "client_id": spec.name, "name": spec.name, "enabled": true, "confidential": true,
            "password": client_secret, "scope": ["openid"], "redirect_uri": spec.redirect_uris,
            "authorization_type": ["code", "password", "refresh_token"],
            // Without it glewlwyd's token endpoint refuses the client (403).
            "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"],
        });
        self.call(
            reqwest::Method::POST,
            "/api/client/",
            Some(client),
            "make a realm's client",
        )
        .await?;
        let user = json!({
            "username": username, "name": username, "email": format!("{username}@ccci.test"),
            "password": password, "enabled": true, "scope": ["openid"],
        });
        self.call(
            reqwest::Method::POST,
            "/api/user/",
            Some(user),
            "make a realm's user",
        )
        .await?;
        Ok(Realm {
            discovery_url: format!("{issuer}/.well-known/openid-configuration"),
            issuer,
            client_id: spec.name.clone(),
            client_secret,
            username,
            password,
            name: spec.name.clone(),
        })
    }

    /// Removes realm `name`, its client and its user; what is already gone is fine.
    pub async fn remove_realm(&self, name: &str) -> Result<(), DepsError> {
        for (path, what) in [
            (format!("/api/user/{name}-user"), "remove a realm's user"),
            (format!("/api/client/{name}"), "remove a realm's client"),
            (format!("/api/mod/plugin/{name}"), "remove a realm"),
        ] {
            match self.call(reqwest::Method::DELETE, &path, None, what).await {
                Ok(_) | Err(DepsError::Refused { status: 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The names of the realms ccci made here ([`crate::REALM_PREFIX`]), sorted.
    pub async fn realm_names(&self) -> Result<Vec<String>, DepsError> {
        let list = self
            .call(
                reqwest::Method::GET,
                "/api/mod/plugin/",
                None,
                "list its realms",
            )
            .await?;
        let mut names: Vec<String> = list
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["module"] == "oidc")
            .filter_map(|p| p["name"].as_str())
            .filter(|n| n.starts_with(crate::REALM_PREFIX))
            .map(String::from)
            .collect();
        names.sort();
        Ok(names)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        what: &str,
    ) -> Result<Value, DepsError> {
        let url = format!("{}{path}", self.url);
        let mut req = self.client.request(method, &url);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let r = req.send().await.map_err(|e| DepsError::Unreachable {
            url: self.url.clone(),
            what: what.into(),
            why: e.to_string(),
        })?;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(DepsError::Refused {
                url: self.url.clone(),
                what: what.into(),
                status,
                body: text.chars().take(300).collect(),
            });
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
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
