//! Dependencies provided for real [R29]: ccci's warm OIDC provider on the Swarm, and a realm
//! of its own for every run that declares an SSO dependency.
//!
//! - [`Provider`]: glewlwyd (Debian's, in the image `images/glewlwyd` builds) deployed by
//!   ccci's own engine as a Co-op Cloud recipe (`provider/glewlwyd/<version>/`), one per Swarm
//!   and domain, reached through the Swarm's Traefik over TLS by ccci and by the apps under
//!   test alike, so the issuer an app sees is the one its tokens carry. Created on first
//!   need, kept across runs, health-checked (and recovered) before a run uses it, and
//!   upgraded safely [R27]: snapshot, upgrade, health check, roll back keeping `last_good`.
//! - [`Admin`]: glewlwyd's admin API, called inside its container. A [`Realm`] is a glewlwyd
//!   of the run's own (glewlwyd's users and clients are global to an instance) with one OIDC
//!   plugin instance (its own issuer and signing keys), a confidential client with the app's
//!   redirect URIs and a user with a generated password, all named after the run, removed at
//!   teardown and reaped by the janitor when the run's process is gone.
//!
//! - [`Dependency`]: the seam every kind goes through (ensure, grant, revoke), matched to its
//!   implementation in [`open`] only; the harness and the janitor hold dependencies as
//!   `Arc<dyn Dependency>`.
//!
//! Nothing here decides whether a run needs a dependency: the harness reads the recipe's
//! `deps` ([`ccci_core::deps`]) and asks.

pub mod dependency;
mod error;
pub mod glewlwyd;
mod lock;
pub mod provider;
mod releases;

pub use dependency::{open, Ask, Dependency, Granted};
pub use error::DepsError;
pub use glewlwyd::{Admin, Realm, RealmSpec};
pub use provider::{Place, Provider, Status, Upgrade, REALM_LABEL};

/// The prefix of every realm, client and user ccci makes in a provider: `ccci-<run id>`.
pub const REALM_PREFIX: &str = "ccci-";

/// The realm of run `run_id`.
///
/// ```
/// assert_eq!(ccci_deps::realm_name("20261203101010-1a2b3c"), "ccci-20261203101010-1a2b3c");
/// ```
pub fn realm_name(run_id: &str) -> String {
    format!("{REALM_PREFIX}{run_id}")
}

/// The domain of the warm OIDC provider for apps under `app_domain`: `ccci-oidc.` and the
/// app domain's parent, so that the provider is served under the same wildcard name (and
/// certificate) as the apps.
///
/// ```
/// assert_eq!(ccci_deps::oidc_domain("cust-1a2b3c.ccci.test"), "ccci-oidc.ccci.test");
/// assert_eq!(ccci_deps::oidc_domain("localhost"), "ccci-oidc.localhost");
/// ```
pub fn oidc_domain(app_domain: &str) -> String {
    let parent = app_domain
        .split_once('.')
        .map_or(app_domain, |(_, parent)| parent);
    format!("ccci-oidc.{parent}")
}
