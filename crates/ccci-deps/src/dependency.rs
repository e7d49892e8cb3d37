//! The seam every dependency kind goes through: a warm service on the Swarm that runs share
//! ([`Dependency::ensure`]), and a grant of a run's own in it ([`Dependency::grant`],
//! [`Dependency::revoke`]).
//!
//! The harness provides, checks and removes a run's dependencies only through this trait,
//! and the janitor reaps a gone run's grants through it (the registry records each grant's
//! kind), so a new kind (a PostgreSQL or an S3 a recipe needs) is one implementation here, one
//! arm in [`open`], its names in [`ccci_core::deps::NAMES`] and the domain it is served at
//! (the harness's `oidc_domain` is the OIDC kind's, the only one so far). The OIDC provider
//! ([`crate::Provider`], a glewlwyd per realm) is the first.
//!
//! Futures are boxed so that the harness can hold a run's dependencies as
//! `Arc<dyn Dependency>` whatever their kinds.

use crate::error::DepsError;
use crate::provider::{Place, Provider};
use ccci_core::deps::Kind;
use ccci_swarm::{Deadline, Swarm};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A dependency's answer, later.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, DepsError>> + Send + 'a>>;

/// What a run asks of a dependency: a grant named after it, for the app at `app_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// The grant's name ([`crate::realm_name`] of the run): unique per run, and what the
    /// janitor finds it by.
    pub name: String,
    /// The app's public URL, without a trailing slash.
    pub app_url: String,
    /// Paths under `app_url` the dependency sends users back to (an OIDC client's redirect
    /// URIs); kinds without such a thing ignore them.
    pub redirect_paths: Vec<String>,
}

/// What a grant gives the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// The values the app's settings and the tests read (`{deps.<name>.<key>}`,
    /// `ctx.deps[name]`): every key of the kind ([`Kind::keys`]).
    pub values: BTreeMap<String, String>,
    /// Where the grant is reached, for a person: e.g. its issuer.
    pub at: String,
}

/// One kind of dependency, kept warm on a Swarm (see the module docs).
pub trait Dependency: Send + Sync {
    /// Its kind.
    fn kind(&self) -> Kind;

    /// Its domain: what the registry and the janitor know it by.
    fn domain(&self) -> &str;

    /// Where it is reached, for a person and for messages.
    fn url(&self) -> String;

    /// Healthy before a run uses it: deployed when missing, recovered when not healthy, else
    /// an error saying it is down. Returns what runs, for results.json (e.g.
    /// `glewlwyd 2.7.5+1 at https://…`).
    fn ensure(&self, deadline: Deadline) -> Pending<'_, String>;

    /// A grant of the run's own, made from nothing (one of that name left by an earlier
    /// attempt is removed first).
    fn grant<'a>(&'a self, ask: &'a Ask, deadline: Deadline) -> Pending<'a, Granted>;

    /// Removes grant `name` and everything of it; one already gone is fine.
    fn revoke<'a>(&'a self, name: &'a str, deadline: Deadline) -> Pending<'a, ()>;

    /// Whether grant `name` still answers (a run checks this before it calls itself green).
    fn answers<'a>(&'a self, name: &'a str, deadline: Deadline) -> Pending<'a, ()>;

    /// The domains a client on this host must resolve to reach it and grant `name`.
    fn domains(&self, name: &str) -> Vec<String>;

    /// Where grant `name` is reached, for a person.
    fn grant_url(&self, name: &str) -> String;
}

/// The one place a kind is matched to its implementation: the dependency of `kind` at
/// `place` on `swarm`.
pub async fn open(
    kind: Kind,
    swarm: &Swarm,
    place: Place,
) -> Result<Arc<dyn Dependency>, DepsError> {
    match kind {
        Kind::Oidc => Ok(Arc::new(Provider::open(swarm, place).await?)),
    }
}

impl Dependency for Provider {
    fn kind(&self) -> Kind {
        Kind::Oidc
    }

    fn domain(&self) -> &str {
        Provider::domain(self)
    }

    fn url(&self) -> String {
        Provider::url(self)
    }

    fn ensure(&self, deadline: Deadline) -> Pending<'_, String> {
        Box::pin(async move {
            let version = Provider::ensure(self, deadline).await?;
            Ok(format!("glewlwyd {version} at {}", self.url()))
        })
    }

    fn grant<'a>(&'a self, ask: &'a Ask, deadline: Deadline) -> Pending<'a, Granted> {
        Box::pin(async move {
            let keys = self.new_keys(deadline).await?;
            let spec = crate::RealmSpec {
                name: ask.name.clone(),
                redirect_uris: ask
                    .redirect_paths
                    .iter()
                    .map(|p| format!("{}{p}", ask.app_url))
                    .collect(),
            };
            let realm = self.make_realm(&spec, &keys, deadline).await?;
            Ok(Granted {
                values: realm.values(&self.ca_pem()),
                at: realm.issuer,
            })
        })
    }

    fn revoke<'a>(&'a self, name: &'a str, deadline: Deadline) -> Pending<'a, ()> {
        Box::pin(self.remove_realm(name, deadline))
    }

    fn answers<'a>(&'a self, name: &'a str, deadline: Deadline) -> Pending<'a, ()> {
        Box::pin(async move {
            self.realm_answers(name, deadline)
                .await
                .map_err(|why| DepsError::Unreachable {
                    url: self.realm_url(name),
                    what: format!("serve realm {name}'s discovery document"),
                    why,
                })
        })
    }

    fn domains(&self, name: &str) -> Vec<String> {
        vec![self.domain().to_string(), self.realm_domain(name)]
    }

    fn grant_url(&self, name: &str) -> String {
        self.realm_url(name)
    }
}
