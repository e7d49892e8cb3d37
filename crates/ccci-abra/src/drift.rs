//! What changed between two releases of a recipe that a server trips on, read from each
//! release's merged compose (no Swarm): a config or secret whose file changed while its name
//! did not. Swarm never changes a config or secret in place, so Co-op Cloud names each with a
//! version variable (`${STACK_NAME}_nginx_conf_${NGINX_CONF_VERSION}`) that a release changing
//! the file must bump; an upgrade that did not is refused by Swarm half-way.

use crate::error::AbraError;
use serde_yaml_ng::Value;
use std::path::PathBuf;

/// A config or secret of a merged compose that Swarm makes from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileObject {
    /// `config` or `secret`.
    pub kind: &'static str,
    /// Its key in the compose file (`nginx_conf`).
    pub key: String,
    /// Its name on the Swarm, interpolated (`app_example_org_nginx_conf_v1`).
    pub name: String,
    /// Its file, as the merged compose names it (absolute).
    pub file: PathBuf,
}

/// Every config and secret of `merged` (`docker stack config` output) made from a file.
///
/// # Errors
/// The merged compose is not YAML.
pub fn file_objects(merged: &str) -> Result<Vec<FileObject>, AbraError> {
    let doc: Value = serde_yaml_ng::from_str(merged)
        .map_err(|e| AbraError::HostFault(format!("merged compose is not YAML: {e}")))?;
    let mut out = Vec::new();
    for (section, kind) in [("configs", "config"), ("secrets", "secret")] {
        let Some(map) = doc.get(section).and_then(Value::as_mapping) else {
            continue;
        };
        for (key, def) in map {
            let (Some(key), Some(file)) = (key.as_str(), def.get("file").and_then(Value::as_str))
            else {
                continue;
            };
            let name = def
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_string();
            out.push(FileObject {
                kind,
                key: key.to_string(),
                name,
                file: file.into(),
            });
        }
    }
    Ok(out)
}

/// A config or secret whose file changed between two releases while its name did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unbumped {
    /// `config` or `secret`.
    pub kind: &'static str,
    /// Its key.
    pub key: String,
    /// Its name, the same in both releases.
    pub name: String,
    /// Its file, relative to the recipe.
    pub file: String,
}

impl std::fmt::Display for Unbumped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} `{}` ({}) changed, but its name `{}` did not: Swarm never changes a {} in place, so the upgrade would be refused; bump the version variable in its name (Co-op Cloud's `{}_VERSION`, in abra.sh)",
            self.kind,
            self.key,
            self.file,
            self.name,
            self.kind,
            match self.kind {
                "secret" => format!("SECRET_{}", self.key.to_uppercase()),
                _ => self.key.to_uppercase(),
            }
        )
    }
}

/// The objects of `head` whose content (read for each object of each release) differs from
/// `base`'s object of the same kind and key while the name is the same.
pub fn unbumped(
    base: &[(FileObject, Option<Vec<u8>>)],
    head: &[(FileObject, Option<Vec<u8>>)],
    recipe_dir: &std::path::Path,
) -> Vec<Unbumped> {
    head.iter()
        .filter_map(|(h, content)| {
            let (b, before) = base
                .iter()
                .find(|(b, _)| b.kind == h.kind && b.key == h.key)?;
            (b.name == h.name && before != content).then(|| Unbumped {
                kind: h.kind,
                key: h.key.clone(),
                name: h.name.clone(),
                file: h
                    .file
                    .strip_prefix(recipe_dir)
                    .unwrap_or(&h.file)
                    .display()
                    .to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERGED: &str = "configs:\n  page:\n    name: s_page_v1\n    file: /r/index.html\nsecrets:\n  db_password:\n    name: s_db_password_v1\n    external: true\nservices: {}\n";

    #[test]
    fn a_file_changed_under_the_same_name_is_found_and_a_bumped_one_is_not() {
        let objects = file_objects(MERGED).unwrap();
        assert_eq!(
            objects.len(),
            1,
            "an external secret has no file: {objects:?}"
        );
        let with = |o: &FileObject, name: &str, text: &str| {
            let mut o = o.clone();
            o.name = name.into();
            (o, Some(text.as_bytes().to_vec()))
        };
        let base = [with(&objects[0], "s_page_v1", "one")];
        let found = unbumped(
            &base,
            &[with(&objects[0], "s_page_v1", "two")],
            "/r".as_ref(),
        );
        assert_eq!(found.len(), 1);
        let said = found[0].to_string();
        assert!(
            said.contains("config `page` (index.html) changed, but its name `s_page_v1` did not")
                && said.contains("`PAGE_VERSION`"),
            "{said}"
        );
        assert!(unbumped(
            &base,
            &[with(&objects[0], "s_page_v2", "two")],
            "/r".as_ref()
        )
        .is_empty());
        assert!(unbumped(
            &base,
            &[with(&objects[0], "s_page_v1", "one")],
            "/r".as_ref()
        )
        .is_empty());
    }
}
