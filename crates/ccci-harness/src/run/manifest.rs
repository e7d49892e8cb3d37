//! The run's manifest: how it was customised, one line each, for results.json.

use crate::plan::Hooks;
use crate::settings::Settings;
use ccci_core::{vars, RecipeMeta};

/// How a run is customised, one line each, for the manifest in results.json: settings that
/// differ from the defaults (values of secret-looking names redacted), the command line's
/// overrides, and the recipe's own functions.
pub(super) fn customisation(settings: &Settings, meta: &RecipeMeta, hooks: &Hooks) -> Vec<String> {
    let mut m = changed_settings(meta);
    let overrides = [
        (
            "recipe repository",
            vars::RECIPE_GIT,
            settings.recipe_git.clone(),
        ),
        ("ref", vars::REF, settings.reference.clone()),
        ("domain", vars::DOMAIN, settings.domain.clone()),
        (
            "dependencies withheld",
            vars::WITHHOLD,
            (!settings.withhold.is_empty()).then(|| settings.withhold.join(", ")),
        ),
        (
            "OIDC provider",
            vars::OIDC_DOMAIN,
            settings.oidc_domain.clone(),
        ),
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
        (
            "upgrade paths",
            vars::UPGRADE_FROM,
            settings.upgrade_from.map(|n| n.to_string()),
        ),
        (
            "canonical",
            vars::CANONICAL,
            settings.canonical.map(|c| c.as_str().to_string()),
        ),
    ];
    for (what, var, v) in overrides {
        if let Some(v) = v {
            m.push(format!("{what} ({var}) = {v}"));
        }
    }
    if let Some(allow) = &settings.untrusted {
        m.push(format!(
            "untrusted head ({}): its stack held to its own stack, domain and checkout",
            vars::UNTRUSTED
        ));
        for a in allow {
            m.push(format!(
                "untrusted head allowed by its operator ({}): {a}",
                vars::ALLOW
            ));
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

/// A line for every setting that differs from its default (`recipe` and `source` aside), one
/// per entry of a map; values of secret-looking names, and of `secrets` that are more than
/// templates reading a dependency's values (`{deps.oidc.x}`), redacted.
fn changed_settings(meta: &RecipeMeta) -> Vec<String> {
    use ccci_core::results::looks_secret;
    let shown = |name: &str, v: &serde_json::Value| match looks_secret(name) {
        true => "<redacted>".to_string(),
        false => v.to_string(),
    };
    let mut m = Vec::new();
    let defaults = RecipeMeta::new(meta.recipe.clone(), meta.source.clone());
    let (Ok(serde_json::Value::Object(set)), Ok(serde_json::Value::Object(default))) =
        (serde_json::to_value(meta), serde_json::to_value(&defaults))
    else {
        return m;
    };
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
            Some(map) if key == "secrets" => {
                for (name, v) in map {
                    let text = v.as_str().unwrap_or_default();
                    let v = match ccci_core::deps::only_references(text) {
                        true => v.to_string(),
                        false => "<redacted>".into(),
                    };
                    m.push(format!("setting secrets.{name} = {v}"));
                }
            }
            _ => m.push(format!("setting {key} = {}", shown(key, value))),
        }
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
        meta.secrets
            .insert("client_secret".into(), "{deps.sso.client_secret}".into());
        meta.secrets
            .insert("api_key".into(), "s3cr3t-{deps.sso.realm}".into());
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
        assert!(
            m.contains(r#"setting secrets.client_secret = "{deps.sso.client_secret}""#),
            "{m}"
        );
        assert!(
            m.contains("setting secrets.api_key = <redacted>") && !m.contains("s3cr3t"),
            "{m}"
        );
    }
}
