//! The run's dependencies [R29]: each one the recipe declares (`deps`) is provided for real
//! before the app is deployed, or the run is refused naming it.
//!
//! An OIDC dependency (`oidc`, `keycloak`, … see [`ccci_core::deps::NAMES`]) is a realm of
//! the run's own beside ccci's warm provider ([`ccci_deps::Provider`]): the provider made
//! healthy (deployed or recovered) first, then the realm, a glewlwyd of the run's own so that
//! no other run's user signs in through it, its client with the app's redirect URIs and a
//! user. The
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
use ccci_deps::{Provider, RealmSpec};
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
    let place = crate::settings::provider_place(
        domain,
        settings.image_builder.as_deref(),
        crate::deployment::ipvs(settings, swarm),
    );
    Provider::open(swarm, place).await
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
        match kind {
            Kind::Oidc => oidc(shared, d, dep, deadline).await?,
        }
    }
    apply(shared, d)
}

/// A realm of the run's own in the warm OIDC provider.
async fn oidc(
    shared: &Shared,
    d: &mut Deployment,
    dep: &Dep,
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
    let provider = oidc_provider(&shared.settings, &d.swarm, &domain)
        .await
        .map_err(failed)?;
    let realm = ccci_deps::realm_name(&shared.run_id);
    // Registered before it exists: a run killed from here on has its realm reaped.
    if let Some(registry) = &shared.registry {
        registry.hold_realm(&shared.run_id, &domain, &realm)?;
    }
    let version = provider.ensure(deadline).await.map_err(failed)?;
    reap_dead_runs_realms(shared, &provider, deadline).await;
    let keys = provider.new_keys(deadline).await.map_err(failed)?;
    let base = match proxy.https_port {
        443 => format!("https://{}", d.app.domain),
        port => format!("https://{}:{port}", d.app.domain),
    };
    let spec = RealmSpec {
        name: realm.clone(),
        redirect_uris: dep
            .redirect_paths
            .iter()
            .map(|p| format!("{base}{p}"))
            .collect(),
    };
    // Held before it is made: whatever of it a failure leaves is removed at teardown.
    d.deps.realms.push(Held {
        dep: dep.name.clone(),
        provider: provider.clone(),
        realm: realm.clone(),
    });
    let made = provider
        .make_realm(&spec, &keys, deadline)
        .await
        .map_err(failed)?;
    eprintln!(
        "ccci: install: dependency `{}`: realm {realm} at {} (glewlwyd {version})",
        dep.name, made.issuer
    );
    let values = made.values(&provider.ca_pem());
    let provider_line = format!("glewlwyd {version} at {}", provider.url());
    shared.record(|r| {
        if let Some(rec) = r.dependencies.iter_mut().find(|x| x.name == dep.name) {
            rec.provided = true;
            rec.provider = Some(provider_line);
            rec.values = shown(&values);
        }
    });
    d.deps.values.insert(dep.name.clone(), values);
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
        if let Err(why) = held
            .provider
            .realm_answers(&held.realm, Deadline::after(STILL_THERE))
            .await
        {
            let problem = format!(
                "realm {} of the provider {} stopped answering (its own glewlwyd at {}): {why}",
                held.realm,
                held.provider.url(),
                held.provider.realm_url(&held.realm)
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
        if let Err(e) = held.provider.remove_realm(&held.realm, deadline).await {
            left.push(format!(
                "realm {} at {}: {e}",
                held.realm,
                held.provider.url()
            ));
        }
    }
    left
}

/// Removes, at `provider`, the realms of registered runs whose process is gone (a run killed
/// while its provider was down could not). Best effort: what fails stays registered.
async fn reap_dead_runs_realms(shared: &Shared, provider: &Provider, deadline: Deadline) {
    let Some(registry) = &shared.registry else {
        return;
    };
    let dead: Vec<_> = registry
        .runs()
        .into_iter()
        .filter(|r| {
            !crate::registry::alive(r) && r.realms.iter().any(|h| h.domain == provider.domain())
        })
        .collect();
    if dead.is_empty() {
        return;
    }
    for run in dead {
        for held in run.realms.iter().filter(|h| h.domain == provider.domain()) {
            match provider.remove_realm(&held.realm, deadline).await {
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
