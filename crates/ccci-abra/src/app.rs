//! An app: one deployed instance of a recipe under a domain.

use crate::env::EnvFile;
use crate::error::{io, AbraError};
use crate::recipe::Recipe;
use std::path::{Path, PathBuf};

/// abra's stack name for a domain: dots become `_`, hyphens stay
/// (`cust-e084bd.ci.example.net` → `cust-e084bd_ci_example_net`).
///
/// ```
/// assert_eq!(ccci_abra::stack_name("cust-e084bd.ci.example.net").unwrap(), "cust-e084bd_ci_example_net");
/// assert!(ccci_abra::stack_name("Bad Domain").is_err());
/// ```
pub fn stack_name(domain: &str) -> Result<String, AbraError> {
    let ok = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'))
        && domain
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !ok {
        return Err(AbraError::Recipe(format!(
            "`{domain}` is not a usable app domain: use lower-case letters, digits, `-` and `.`, e.g. `custom-html.example.com`"
        )));
    }
    Ok(domain.replace('.', "_"))
}

/// A deployed (or to-be-deployed) app and its `.env`.
#[derive(Debug, Clone)]
pub struct App {
    /// The app's domain.
    pub domain: String,
    /// The stack name derived from it.
    pub stack: String,
    /// The recipe's name.
    pub recipe: String,
    /// Where the `.env` lives: `<servers dir>/<domain>.env`, as abra keeps it.
    pub env_path: PathBuf,
    /// The app's settings.
    pub env: EnvFile,
}

impl App {
    /// Creates the app's `.env` from the recipe's `.env.sample` (what `abra app new` does):
    /// `DOMAIN` and `TYPE` are set, `extra` is applied on top.
    pub fn new<'a>(
        recipe: &Recipe,
        domain: &str,
        servers_dir: &Path,
        extra: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<App, AbraError> {
        let stack = stack_name(domain)?;
        let sample = recipe.path(".env.sample");
        let text = std::fs::read_to_string(&sample).map_err(|_| AbraError::NoEnvSample {
            recipe: recipe.name.clone(),
        })?;
        let mut env = EnvFile::parse(&text)
            .map_err(|e| AbraError::Recipe(format!("recipe {}: .env.sample {e}", recipe.name)))?;
        env.set("DOMAIN", domain);
        env.set("TYPE", &recipe.name);
        for (k, v) in extra {
            env.set(k, v);
        }
        std::fs::create_dir_all(servers_dir).map_err(io(servers_dir))?;
        let app = App {
            domain: domain.into(),
            stack,
            recipe: recipe.name.clone(),
            env_path: servers_dir.join(format!("{domain}.env")),
            env,
        };
        app.save()?;
        Ok(app)
    }

    /// Writes the `.env` back.
    pub fn save(&self) -> Result<(), AbraError> {
        std::fs::write(&self.env_path, self.env.render()).map_err(io(&self.env_path))
    }

    /// The compose files to deploy: `COMPOSE_FILE` split on `:`, default `compose.yml`.
    pub fn compose_files(&self) -> Vec<String> {
        match self.env.get("COMPOSE_FILE") {
            Some(v) if !v.trim().is_empty() => v
                .split(':')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            _ => vec!["compose.yml".into()],
        }
    }
}
