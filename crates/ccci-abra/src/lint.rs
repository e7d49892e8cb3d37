//! The recipe's compose files read before anything is deployed, so a mistake in them is a
//! one-line refusal that names the file, line, service or key and the fix, not a half-made
//! stack or a wait that times out. Pure: the files come in as text.
//!
//! Checked, in this order, and the first problem is the answer:
//! - every file of `COMPOSE_FILE` exists at the ref under test;
//! - each is YAML (the error's line and column), a mapping, with no key twice;
//! - together they define services, the main service among them, each with an image that
//!   has a tag other than `latest` (abra deploys pinned releases: a moving tag makes an
//!   upgrade test meaningless);
//! - every secret and config a service uses is defined at the top level, and every config's
//!   `file` is in the recipe;
//! - then ([`name_limits`]) the names the app's domain gives its secrets and services fit
//!   Swarm's limits.

use crate::app::App;
use crate::error::AbraError;
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeMap;

/// One compose file of the chain: its name and its text, `None` when the ref lacks it.
pub struct ComposeFile<'a> {
    /// The name, as `COMPOSE_FILE` gives it.
    pub name: &'a str,
    /// Its content at the ref under test.
    pub text: Option<&'a str>,
}

fn compose(file: &str, line: Option<usize>, problem: String, fix: &str) -> AbraError {
    AbraError::Compose {
        file: file.to_string(),
        line,
        problem,
        fix: fix.to_string(),
    }
}

/// Checks the compose chain (see the module docs). `has_file` says whether the recipe has
/// a file at the ref (for configs' `file:`); `main_service` is the service ccci probes.
/// Returns the secrets the chain defines at its top level, for the checks that need the
/// app's names.
pub fn lint(
    files: &[ComposeFile<'_>],
    has_file: &dyn Fn(&str) -> bool,
    main_service: &str,
) -> Result<Vec<String>, AbraError> {
    let parsed = files
        .iter()
        .map(parse)
        .collect::<Result<Vec<_>, AbraError>>()?;
    let chain = merge(&parsed, has_file)?;
    let first = files.first().map_or("compose.yml", |f| f.name);
    check_services(&chain, first, main_service)?;
    let mut defined = chain.defined;
    Ok(defined.remove("secrets").unwrap_or_default())
}

/// The chain as `docker stack config` merges it: its services by name (each with the file
/// that first defined it), and the secrets and configs defined at its top levels.
struct Chain<'a> {
    services: BTreeMap<String, (&'a str, Mapping)>,
    defined: BTreeMap<&'static str, Vec<String>>,
}

/// One compose file read: present, YAML with its merge keys applied, a mapping.
fn parse<'a>(f: &ComposeFile<'a>) -> Result<(&'a str, Mapping), AbraError> {
    let Some(text) = f.text else {
        return Err(compose(
            f.name,
            None,
            "COMPOSE_FILE (in .env.sample) names this file, which the recipe does not have".into(),
            "add the file, or remove it from COMPOSE_FILE",
        ));
    };
    let mut value: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        let message = e.to_string();
        // The parser's own message ends with where; the line is said once, up front.
        let message = match message.find(" at line ") {
            Some(at) => message[..at].to_string(),
            None => message,
        };
        compose(
            f.name,
            line,
            format!("not valid YAML: {message}"),
            "fix the YAML there (indentation, a missing quote or colon, a key given twice)",
        )
    })?;
    // `<<: *anchor` merge keys, as `docker stack config` applies them (real recipes share
    // service settings that way).
    value.apply_merge().map_err(|e| {
        compose(
            f.name,
            None,
            format!("a `<<` merge key cannot be applied: {e}"),
            "merge only mappings (`<<: *anchor` where the anchor is a mapping)",
        )
    })?;
    let Value::Mapping(top) = value else {
        return Err(compose(
            f.name,
            None,
            "the top level is not a mapping of keys (services, networks, …)".into(),
            "write it as a compose file: `services:` with one entry per service",
        ));
    };
    Ok((f.name, top))
}

/// Merges the parsed chain (see [`Chain`]); every config's `file` must be in the recipe.
fn merge<'a>(
    parsed: &[(&'a str, Mapping)],
    has_file: &dyn Fn(&str) -> bool,
) -> Result<Chain<'a>, AbraError> {
    let mut chain = Chain {
        services: BTreeMap::new(),
        defined: BTreeMap::new(),
    };
    for (name, top) in parsed {
        if let Some(s) = top.get("services") {
            let Value::Mapping(s) = s else {
                return Err(compose(
                    name,
                    None,
                    "`services` is not a mapping".into(),
                    "give each service as `name:` followed by its keys",
                ));
            };
            for (k, v) in s {
                let (Some(k), Value::Mapping(v)) = (k.as_str(), v) else {
                    return Err(compose(
                        name,
                        None,
                        format!("service `{}` is not a mapping of keys", key_text(k)),
                        "give the service its keys (image, deploy, …)",
                    ));
                };
                let entry = chain
                    .services
                    .entry(k.to_string())
                    .or_insert((name, Mapping::new()));
                for (key, value) in v {
                    entry.1.insert(key.clone(), value.clone());
                }
            }
        }
        for kind in ["secrets", "configs"] {
            if let Some(Value::Mapping(m)) = top.get(kind) {
                let list = chain.defined.entry(kind).or_default();
                list.extend(m.keys().filter_map(|k| k.as_str().map(String::from)));
                if kind == "configs" {
                    config_files_present(name, m, has_file)?;
                }
            }
        }
    }
    Ok(chain)
}

/// Every `file:` of the top-level `configs` of compose file `name` is in the recipe.
fn config_files_present(
    name: &str,
    configs: &Mapping,
    has_file: &dyn Fn(&str) -> bool,
) -> Result<(), AbraError> {
    for (k, v) in configs {
        if let Some(file) = v.get("file").and_then(Value::as_str) {
            let file = file.trim_start_matches("./");
            if !file.contains('$') && !has_file(file) {
                return Err(compose(
                    name,
                    None,
                    format!(
                        "config `{}` reads file `{file}`, which the recipe does not have",
                        key_text(k)
                    ),
                    "add the file to the recipe, or fix the config's `file:`",
                ));
            }
        }
    }
    Ok(())
}

/// The chain has services, the main one among them, each with a pinned image and only
/// secrets and configs the chain defines. `first` is the file a chain-wide problem names.
fn check_services(chain: &Chain<'_>, first: &str, main_service: &str) -> Result<(), AbraError> {
    let services = &chain.services;
    if services.is_empty() {
        return Err(compose(
            first,
            None,
            "no compose file defines any service".into(),
            "add a `services:` section with the recipe's services",
        ));
    }
    if !services.contains_key(main_service) {
        return Err(compose(
            first,
            None,
            format!(
                "the main service `{main_service}` (`service` in ccci.yml, default `app`) is not a service of the recipe (services: {})",
                services.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            "set `service` in ccci.yml to the service that serves the app",
        ));
    }
    for (service, (file, keys)) in services {
        match keys.get("image").and_then(Value::as_str) {
            None => {
                return Err(compose(
                    file,
                    None,
                    format!("service `{service}` has no image"),
                    "give it an `image:` with a pinned tag (Swarm does not build images)",
                ))
            }
            Some(image) if !image.contains('$') => {
                if let Some(problem) = unpinned(image) {
                    return Err(compose(
                        file,
                        None,
                        format!("service `{service}`: image `{image}` {problem}"),
                        "pin the image to a version tag, e.g. `nginx:1.27.2`",
                    ));
                }
            }
            Some(_) => {}
        }
        for kind in ["secrets", "configs"] {
            for used in uses(keys.get(kind)) {
                if !chain.defined.get(kind).is_some_and(|d| d.contains(&used)) {
                    let singular = &kind[..kind.len() - 1];
                    return Err(compose(
                        file,
                        None,
                        format!(
                            "service `{service}` uses {singular} `{used}`, which no compose file defines under top-level `{kind}:`"
                        ),
                        match kind {
                            "secrets" => "define it under `secrets:` (external, with a versioned name, as abra creates it), or remove it from the service",
                            _ => "define it under `configs:`, or remove it from the service",
                        },
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The Swarm names `app`'s domain makes, within Swarm's limits: each of the chain's
/// `secrets` as abra names it (`<stack>_<secret>_<version>`, at most 64 characters) and the
/// services (`<stack>_<service>`, at most 63).
pub fn name_limits(app: &App, secrets: &[String], main_service: &str) -> Result<(), AbraError> {
    for secret in secrets {
        let version = app
            .env
            .get(&format!("SECRET_{}_VERSION", secret.to_uppercase()))
            .unwrap_or("v1");
        let name = format!("{}_{secret}_{version}", app.stack);
        if name.len() > 64 {
            return Err(AbraError::NameTooLong {
                kind: "secret",
                len: name.len(),
                name,
                stack: app.stack.clone(),
            });
        }
    }
    let longest = format!("{}_{main_service}", app.stack);
    if longest.len() > 63 {
        return Err(AbraError::Recipe(format!(
            "domain `{}` makes service names like `{longest}` ({} characters) longer than the 63 Swarm allows: use a shorter domain (--domain or {})",
            app.domain,
            longest.len(),
            ccci_core::vars::DOMAIN
        )));
    }
    Ok(())
}

/// Why an image reference is not pinned, if it is not.
fn unpinned(image: &str) -> Option<&'static str> {
    if image.contains('@') {
        return None;
    }
    // The tag follows the last `:` after the last `/` (a registry's port is before it).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("has no tag (it means `latest`, whatever that is on the day)"),
        Some((_, "latest")) => Some("is tagged `latest`, which moves"),
        Some((_, "")) => Some("has an empty tag"),
        Some(_) => None,
    }
}

/// The names a service's `secrets:` or `configs:` list uses: strings, or `source:` of the
/// long form.
fn uses(list: Option<&Value>) -> Vec<String> {
    let Some(Value::Sequence(items)) = list else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| match i {
            Value::String(s) => Some(s.clone()),
            Value::Mapping(m) => m.get("source").and_then(Value::as_str).map(String::from),
            _ => None,
        })
        .collect()
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "services:\n  app:\n    image: nginx:1.27\n    secrets: [db]\nsecrets:\n  db:\n    external: true\n";

    fn one(text: &str) -> Result<Vec<String>, AbraError> {
        lint(
            &[ComposeFile {
                name: "compose.yml",
                text: Some(text),
            }],
            &|_| false,
            "app",
        )
    }

    #[test]
    fn merge_keys_are_applied_as_docker_applies_them() {
        let text = "x-base: &base\n  image: nginx:1.27\nservices:\n  app:\n    <<: *base\n";
        assert_eq!(one(text).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_good_recipe_passes_and_each_mistake_is_named() {
        assert_eq!(one(GOOD).unwrap(), ["db"]);
        let e = one("services:\n  app:\n    image: nginx:1.27\n    image: nginx:1.28\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("compose.yml line 3: not valid YAML"), "{e}");
        assert!(e.contains("duplicate"), "{e}");
        let e = one("services:\n  app:\n    image: nginx\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("image `nginx` has no tag"), "{e}");
        let e = one("services:\n  app:\n    image: localhost:5000/x\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("has no tag"),
            "a registry port is not a tag: {e}"
        );
        one("services:\n  app:\n    image: localhost:5000/x:1.0\n").unwrap();
        let e = one("services:\n  app:\n    image: nginx:1\n    secrets: [nope]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("uses secret `nope`"), "{e}");
    }
}
