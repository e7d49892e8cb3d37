//! The run's dependencies [R29]: each one the recipe declares (`deps`) is provided for real
//! before the app is deployed, or the run is refused naming it.
//!
//! Every kind goes through one seam, [`ccci_deps::Dependency`]: the warm dependency made
//! healthy (deployed or recovered) first, then a realm (a grant) of the run's own in it. An
//! OIDC dependency (`oidc`, `keycloak`, … see [`ccci_core::deps::NAMES`]) is ccci's warm
//! provider ([`ccci_deps::Provider`]), its realm a glewlwyd of the run's own so that no other
//! run's user signs in through it, with a client for the app's redirect URIs and a user. The
//! values reach the app through the settings' `{deps.<name>.<key>}` templates (its env and
//! secrets) and the tests as `ctx.deps[name]`; results.json says what was provided, its
//! credentials redacted. The realm is registered before it exists, removed at teardown, and
//! reaped by the janitor once the run's process is gone.
//!
//! A dependency the settings withhold ([`crate::Settings::withhold`]) is not provided: its
//! templates read empty, the tests find nothing, and the run is red naming it [R3].

use crate::deployment::{Deployment, Held, Provided};
use crate::error::HarnessError;
use crate::settings::Settings;
use crate::shared::Shared;
use ccci_abra::Reach;
use ccci_core::deps::{Kind, SECRET_KEYS};
use ccci_core::meta::Dep;
use ccci_core::{vars, Deps, MetaError};
use ccci_deps::{Ask, Dependency, Provider};
use ccci_swarm::{Deadline, Swarm};
use std::collections::BTreeMap;
use std::time::Duration;

/// The domain of the warm OIDC provider runs with `settings` use: [`Settings::oidc_domain`],
/// else [`ccci_deps::oidc_domain`] of the app's domain (`app_domain`, else the settings',
/// else the default test domain's).
pub fn oidc_domain(settings: &Settings, app_domain: Option<&str>) -> String {
    settings.oidc_domain.clone().unwrap_or_else(|| {
        let app = app_domain
            .map(String::from)
            .or_else(|| settings.domain.clone())
            .unwrap_or_else(|| crate::names::default_domain("app"));
        ccci_deps::oidc_domain(&app)
    })
}

/// The warm OIDC provider at `domain` on `swarm`, as runs with `settings` deploy and reach it.
pub async fn oidc_provider(
    settings: &Settings,
    swarm: &Swarm,
    domain: &str,
) -> Result<Provider, ccci_deps::DepsError> {
    Provider::open(swarm, place(settings, swarm, domain)).await
}

/// Where the dependency at `domain` lives for runs with `settings` on `swarm`.
fn place(settings: &Settings, swarm: &Swarm, domain: &str) -> ccci_deps::Place {
    crate::settings::provider_place(
        domain,
        settings.image_builder.as_deref(),
        crate::deployment::ipvs(settings, swarm),
    )
}

/// Provides every dependency the recipe declares, then gives the app its env and secrets
/// from the settings' templates. The first dependency that cannot be provided is the error.
pub(crate) async fn provide(
    shared: &Shared,
    d: &mut Deployment,
    deadline: Deadline,
) -> Result<(), HarnessError> {
    for dep in &shared.meta.deps {
        let Some(kind) = Kind::of(&dep.name) else {
            return Err(HarnessError::Unprovidable {
                dep: dep.name.clone(),
            });
        };
        if shared.settings.withhold.contains(&dep.name) {
            let why = format!("withheld by {}", vars::WITHHOLD);
            shared.record(|r| {
                r.warn(&format!(
                    "dependency `{}` is {why}: the run goes on without it and cannot be green",
                    dep.name
                ));
                if let Some(rec) = r.dependencies.iter_mut().find(|x| x.name == dep.name) {
                    rec.problem = Some(why);
                }
            });
            continue;
        }
        grant(shared, d, dep, kind, deadline).await?;
    }
    apply(shared, d)
}

/// A realm of the run's own at the warm dependency of `kind`.
async fn grant(
    shared: &Shared,
    d: &mut Deployment,
    dep: &Dep,
    kind: Kind,
    deadline: Deadline,
) -> Result<(), HarnessError> {
    let failed = |source| HarnessError::Dependency {
        dep: dep.name.clone(),
        source: Box::new(source),
    };
    let Reach::Traefik(proxy) = d.engine.reach().clone() else {
        return Err(HarnessError::DepsNeedTraefik {
            dep: dep.name.clone(),
        });
    };
    let domain = oidc_domain(&shared.settings, Some(&d.app.domain));
    let at = ccci_deps::open(kind, &d.swarm, place(&shared.settings, &d.swarm, &domain))
        .await
        .map_err(failed)?;
    let realm = ccci_deps::realm_name(&shared.run_id);
    // Registered before it exists: a run killed from here on has its realm reaped.
    if let Some(registry) = &shared.registry {
        registry.hold_realm(&shared.run_id, kind, &domain, &realm)?;
    }
    let running = at.ensure(deadline).await.map_err(failed)?;
    reap_dead_runs_realms(shared, at.as_ref(), deadline).await;
    let ask = Ask {
        name: realm.clone(),
        app_url: match proxy.https_port {
            443 => format!("https://{}", d.app.domain),
            port => format!("https://{}:{port}", d.app.domain),
        },
        redirect_paths: dep.redirect_paths.clone(),
    };
    // Held before it is made: whatever of it a failure leaves is removed at teardown.
    d.deps.realms.push(Held {
        dep: dep.name.clone(),
        at: at.clone(),
        realm: realm.clone(),
    });
    let granted = at.grant(&ask, deadline).await.map_err(failed)?;
    eprintln!(
        "ccci: install: dependency `{}`: realm {realm} at {} ({running})",
        dep.name, granted.at
    );
    shared.record(|r| {
        if let Some(rec) = r.dependencies.iter_mut().find(|x| x.name == dep.name) {
            rec.provided = true;
            rec.provider = Some(running);
            rec.values = shown(&granted.values);
        }
    });
    d.deps.values.insert(dep.name.clone(), granted.values);
    Ok(())
}

/// Values as results.json shows them: credentials redacted, certificates left out.
fn shown(values: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    values
        .iter()
        .filter(|(k, _)| *k != "ca_pem")
        .map(|(k, v)| match SECRET_KEYS.contains(&k.as_str()) {
            true => (k.clone(), "<redacted>".into()),
            false => (k.clone(), v.clone()),
        })
        .collect()
}

/// The values templates read: every provided dependency's, and a withheld one's as empty.
pub(crate) fn template_values(shared: &Shared, d: &Deployment) -> Deps {
    let mut values = d.deps.values.clone();
    for dep in &shared.meta.deps {
        if let Some(kind) = Kind::of(&dep.name) {
            let entry = values.entry(dep.name.clone()).or_default();
            for key in kind.keys() {
                entry.entry((*key).to_string()).or_default();
            }
        }
    }
    values
}

/// `value` with its `{deps.…}` templates filled in; `key` names the setting, for the error.
pub(crate) fn expand(value: &str, values: &Deps, key: &str) -> Result<String, HarnessError> {
    ccci_core::deps::expand(value, values).map_err(|missing| {
        HarnessError::Meta(MetaError::Invalid {
            file: "ccci.yml".into(),
            key: key.into(),
            message: format!("`{{{missing}}}` has no value: declare the dependency in deps"),
        })
    })
}

/// The app's env from `extra_env` and its secrets from `secrets`, templates filled in. An
/// empty value (a withheld dependency's) leaves the secret generated.
fn apply(shared: &Shared, d: &mut Deployment) -> Result<(), HarnessError> {
    let values = template_values(shared, d);
    for (k, v) in &shared.meta.extra_env {
        let v = expand(v, &values, "extra_env")?;
        d.app.env.set(k, &v);
    }
    d.app.save()?;
    let mut secrets = BTreeMap::new();
    for (name, v) in &shared.meta.secrets {
        let v = expand(v, &values, "secrets")?;
        if !v.is_empty() {
            secrets.insert(name.clone(), v);
        }
    }
    d.engine = d.engine.clone().with_secret_values(secrets);
    Ok(())
}

/// How long a realm may take to answer when the run checks that its dependency is still there.
const STILL_THERE: Duration = Duration::from_secs(15);

/// Whether every realm the run holds still answers; a dependency that does not is recorded as
/// lost (once), which makes the run red naming it.
pub(crate) async fn check(shared: &Shared, d: &Deployment) {
    for held in &d.deps.realms {
        // Only a realm that was made can be lost, and only once.
        let answering = shared.record(|r| {
            r.dependencies
                .iter()
                .any(|x| x.name == held.dep && x.provided && x.problem.is_none())
        });
        if !answering {
            continue;
        }
        if let Err(e) = held
            .at
            .answers(&held.realm, Deadline::after(STILL_THERE))
            .await
        {
            let problem = format!(
                "realm {} of the provider {} stopped answering (at {}): {e}",
                held.realm,
                held.at.url(),
                held.at.grant_url(&held.realm)
            );
            eprintln!("ccci: dependency `{}`: {problem}", held.dep);
            shared.record(|r| {
                if let Some(rec) = r.dependencies.iter_mut().find(|x| x.name == held.dep) {
                    rec.problem = Some(problem);
                }
            });
        }
    }
}

/// Removes every realm the run holds; returns what could not be removed, one line each.
pub(crate) async fn remove(provided: &Provided, deadline: Deadline) -> Vec<String> {
    let mut left = Vec::new();
    for held in &provided.realms {
        if let Err(e) = held.at.revoke(&held.realm, deadline).await {
            left.push(format!("realm {} at {}: {e}", held.realm, held.at.url()));
        }
    }
    left
}

/// Revokes, at `at`, the realms of registered runs whose process is gone (a run killed while
/// its dependency was down could not). Best effort: what fails stays registered.
async fn reap_dead_runs_realms(shared: &Shared, at: &dyn Dependency, deadline: Deadline) {
    let Some(registry) = &shared.registry else {
        return;
    };
    let dead: Vec<_> = registry
        .runs()
        .into_iter()
        .filter(|r| !crate::registry::alive(r) && r.realms.iter().any(|h| h.domain == at.domain()))
        .collect();
    if dead.is_empty() {
        return;
    }
    for run in dead {
        for held in run.realms.iter().filter(|h| h.domain == at.domain()) {
            match at.revoke(&held.realm, deadline).await {
                Ok(()) => {
                    eprintln!(
                        "ccci: janitor: removed realm {} of gone run {}",
                        held.realm, run.run_id
                    );
                    registry.release_realm(&run.run_id, &held.realm);
                }
                Err(e) => eprintln!(
                    "ccci: janitor: realm {} of gone run {}: {e}",
                    held.realm, run.run_id
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Held;
    use ccci_core::deps::Kind;
    use ccci_deps::dependency::Pending;
    use ccci_deps::{DepsError, Granted};
    use std::sync::{Arc, Mutex};

    /// A test double of [`Dependency`]: it records what it was asked, and refuses to revoke
    /// the realms named in `stuck`.
    struct Ledger {
        domain: String,
        stuck: Vec<String>,
        revoked: Mutex<Vec<String>>,
    }

    impl Ledger {
        fn new(domain: &str, stuck: &[&str]) -> Arc<Ledger> {
            Arc::new(Ledger {
                domain: domain.into(),
                stuck: stuck.iter().map(|s| s.to_string()).collect(),
                revoked: Mutex::new(Vec::new()),
            })
        }
    }

    impl Dependency for Ledger {
        fn kind(&self) -> Kind {
            Kind::Oidc
        }
        fn domain(&self) -> &str {
            &self.domain
        }
        fn url(&self) -> String {
            format!("https://{}", self.domain)
        }
        fn ensure(&self, _: Deadline) -> Pending<'_, String> {
            Box::pin(async { Ok("ledger".to_string()) })
        }
        fn grant<'a>(&'a self, ask: &'a Ask, _: Deadline) -> Pending<'a, Granted> {
            Box::pin(async move {
                Ok(Granted {
                    values: BTreeMap::new(),
                    at: ask.name.clone(),
                })
            })
        }
        fn revoke<'a>(&'a self, name: &'a str, _: Deadline) -> Pending<'a, ()> {
            Box::pin(async move {
                if self.stuck.iter().any(|s| s == name) {
                    return Err(DepsError::RealmLeft {
                        realm: name.into(),
                        stack: format!("realm_{name}"),
                        left: "a volume".into(),
                    });
                }
                self.revoked.lock().unwrap().push(name.into());
                Ok(())
            })
        }
        fn answers<'a>(&'a self, _: &'a str, _: Deadline) -> Pending<'a, ()> {
            Box::pin(async { Ok(()) })
        }
        fn domains(&self, name: &str) -> Vec<String> {
            vec![self.domain.clone(), format!("{name}.{}", self.domain)]
        }
        fn grant_url(&self, name: &str) -> String {
            format!("https://{name}.{}", self.domain)
        }
    }

    fn held(dep: &str, at: &Arc<Ledger>, realm: &str) -> Held {
        Held {
            dep: dep.into(),
            at: at.clone(),
            realm: realm.into(),
        }
    }

    #[tokio::test]
    async fn teardown_revokes_every_realm_and_names_the_one_left() {
        let (a, b) = (Ledger::new("a.test", &[]), Ledger::new("b.test", &["r2"]));
        let provided = Provided {
            values: Default::default(),
            realms: vec![held("sso", &a, "r1"), held("oidc", &b, "r2")],
        };
        let left = remove(&provided, Deadline::after(Duration::from_secs(5))).await;
        assert_eq!(*a.revoked.lock().unwrap(), ["r1"]);
        assert!(b.revoked.lock().unwrap().is_empty());
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(
            left[0].starts_with("realm r2 at https://b.test: realm r2 could not be removed whole"),
            "{left:?}"
        );
    }

    #[test]
    fn the_tests_resolve_each_dependency_and_realm_once() {
        let a = Ledger::new("a.test", &[]);
        let provided = Provided {
            values: Default::default(),
            realms: vec![held("sso", &a, "r1"), held("oidc", &a, "r2")],
        };
        assert_eq!(provided.domains(), ["a.test", "r1.a.test", "r2.a.test"]);
    }
}
