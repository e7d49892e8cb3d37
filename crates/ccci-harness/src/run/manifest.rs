//! The run's manifest: how it was customised, one line each, for results.json.

use crate::plan::Hooks;
use crate::settings::Settings;
use ccci_core::{vars, RecipeMeta};

/// How a run is customised, one line each, for the manifest in results.json: settings that
/// differ from the defaults (values of secret-looking names redacted), the command line's
/// overrides, and the recipe's own functions.
pub(super) fn customisation(settings: &Settings, meta: &RecipeMeta, hooks: &Hooks) -> Vec<String> {
    use ccci_core::results::looks_secret;
    let shown = |name: &str, v: &serde_json::Value| match looks_secret(name) {
        true => "<redacted>".to_string(),
        false => v.to_string(),
    };
    let mut m = Vec::new();
    let defaults = RecipeMeta::new(meta.recipe.clone(), meta.source.clone());
    if let (Ok(serde_json::Value::Object(set)), Ok(serde_json::Value::Object(default))) =
        (serde_json::to_value(meta), serde_json::to_value(&defaults))
    {
        for (key, value) in set.iter().filter(|(k, _)| *k != "recipe" && *k != "source") {
            if default.get(key) == Some(value) {
                continue;
            }
            match value.as_object() {
                Some(map) if key.ends_with("_env") => {
                    for (name, v) in map {
                        m.push(format!("setting {key}.{name} = {}", shown(name, v)));
                    }
                }
                _ => m.push(format!("setting {key} = {}", shown(key, value))),
            }
        }
    }
    let overrides = [
        (
            "recipe repository",
            vars::RECIPE_GIT,
            settings.recipe_git.clone(),
        ),
        ("ref", vars::REF, settings.reference.clone()),
        ("domain", vars::DOMAIN, settings.domain.clone()),
        (
            "routing forced",
            vars::ROUTING,
            settings.routing.map(|r| r.as_str().to_string()),
        ),
        (
            "pull",
            vars::PULL,
            settings.pull.map(|p| p.as_str().to_string()),
        ),
    ];
    for (what, var, v) in overrides {
        if let Some(v) = v {
            m.push(format!("{what} ({var}) = {v}"));
        }
    }
    if let Some(ipvs) = settings.ipvs {
        m.push(format!(
            "IPVS said to be {} ({})",
            if ipvs { "present" } else { "absent" },
            vars::IPVS
        ));
    }
    let (l, f, v) = (
        hooks.lifecycle.len(),
        hooks.functional.len(),
        hooks.verify.len(),
    );
    if l + f + v > 0 {
        m.push(format!(
            "recipe functions: {l} lifecycle, {f} functional, {v} backup_verify"
        ));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_manifest_names_what_differs_and_redacts_secret_looking_values() {
        let mut meta = RecipeMeta::new("x", ccci_core::meta::Source::Releases("r".into()));
        meta.health_path = "/api/health".into();
        meta.extra_env
            .insert("DB_PASSWORD".into(), "hunter2".into());
        meta.extra_env
            .insert("KEYCLOAK_URL".into(), "https://kc".into());
        let mut settings = Settings::new(Path::new("."), Path::new("."));
        settings.routing = Some(ccci_core::results::Routing::HostPort);
        let m = customisation(&settings, &meta, &Hooks::none()).join("\n");
        assert!(m.contains(r#"setting health_path = "/api/health""#), "{m}");
        assert!(
            m.contains("setting extra_env.DB_PASSWORD = <redacted>"),
            "{m}"
        );
        assert!(!m.contains("hunter2"), "{m}");
        assert!(
            m.contains(r#"setting extra_env.KEYCLOAK_URL = "https://kc""#),
            "{m}"
        );
        assert!(
            m.contains(&format!("routing forced ({}) = host-port", vars::ROUTING)),
            "{m}"
        );
        assert!(!m.contains("health_ok"), "defaults are not listed: {m}");
    }
}
