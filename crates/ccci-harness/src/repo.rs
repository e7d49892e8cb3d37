//! Testing any recipe repository, no Rust needed: the generic tiers on a recipe that has no
//! test crate, with settings from the repository's own `ccci.yml` and the command line.

use crate::budget::PROBE;
use crate::error::HarnessError;
use crate::plan::Hooks;
use crate::run::{run_recipe, Report};
use crate::settings::{sets_of, Settings};
use ccci_abra::Recipe;
use ccci_core::{Layer, RecipeMeta};
use ccci_swarm::Deadline;
use std::path::Path;

/// A bare-repository run: what `cargo ccci run --recipe-git <url>` asks for.
#[derive(Debug, Clone)]
pub struct RepoRun {
    /// The recipe repository: a URL or a path (a git bundle works too).
    pub url: String,
    /// `key=value` settings from the command line, which win over the repository's own.
    pub sets: Vec<String>,
    /// Everything else, as for a test crate ([`Settings::from_env`], then the command line's
    /// flags); its `recipe_git` is ignored for `url`, and its `crate_dir` unused.
    pub settings: Settings,
}

/// The recipe's name from its repository's URL or path: the last component without `.git`
/// or `.bundle` (`…/coop-cloud/custom-html.git` → `custom-html`).
pub fn recipe_name(url: &str) -> Option<String> {
    let last = url.trim_end_matches('/').rsplit(['/', ':']).next()?;
    let name = last
        .strip_suffix(".git")
        .or_else(|| last.strip_suffix(".bundle"))
        .unwrap_or(last);
    (!name.is_empty()).then(|| name.to_string())
}

/// The settings of a bare-repository run, lowest precedence first: the name and source from
/// the command line, the repository's own `ccci.yml` at the ref under test, `--set`.
pub fn repo_meta(run: &RepoRun, scratch: &Path) -> Result<RecipeMeta, HarnessError> {
    let name = recipe_name(&run.url).ok_or_else(|| HarnessError::NoRecipeName {
        url: run.url.clone(),
    })?;
    let mut layers = vec![command_line_layer(&name, &run.url)?];
    if let Some(own) = recipe_layer(&name, &run.url, run.settings.reference.as_deref(), scratch)? {
        layers.push(own);
    }
    layers.extend(sets_of(&run.sets)?);
    Ok(RecipeMeta::from_layers(&layers)?)
}

/// The repository's own `ccci.yml` at `reference`, as a settings layer, read from a clone
/// made within [`PROBE`]. `source` may not be set there: the repository is the source.
pub fn recipe_layer(
    name: &str,
    url: &str,
    reference: Option<&str>,
    scratch: &Path,
) -> Result<Option<Layer>, HarnessError> {
    local_repository(url)?;
    // Unique: runs of the same recipe may probe at once.
    let dir = scratch.join(crate::names::unique(&format!("probe-{name}")));
    let deadline = Deadline::after(PROBE);
    let recipe = Recipe::clone_from(name, url, &dir, deadline)?;
    let found = recipe
        .resolve(reference.unwrap_or("HEAD"), deadline)
        .map_err(|source| match reference {
            // HEAD resolves in every repository with a commit.
            None => HarnessError::EmptyRepository { url: url.into() },
            Some(reference) => HarnessError::UnknownRef {
                reference: reference.into(),
                url: url.into(),
                source: Box::new(source),
                fix: "give a tag, branch or commit of it with --ref".into(),
            },
        })
        .and_then(|commit| Ok(recipe.file_at(&commit, "ccci.yml", deadline)?));
    let _ = std::fs::remove_dir_all(&dir);
    let Some(text) = found? else {
        return Ok(None);
    };
    let origin = format!("{url} at {}: ccci.yml", reference.unwrap_or("HEAD"));
    let layer = Layer::parse(&origin, &text)?;
    if layer.has("source") {
        return Err(HarnessError::SourceInRecipe { origin });
    }
    Ok(Some(layer))
}

/// A recipe repository given as a local path must be one: a git repository (a working tree
/// or a bare one) or a bundle. URLs are left to git.
fn local_repository(url: &str) -> Result<(), HarnessError> {
    let remote = url.contains("://")
        || url
            .split_once(':')
            .is_some_and(|(host, _)| host.contains('@'));
    if remote {
        return Ok(());
    }
    let path = Path::new(url);
    let why = match std::fs::metadata(path) {
        Err(_) => "there is nothing at that path",
        Ok(m) if m.is_dir() && !path.join(".git").exists() && !path.join("HEAD").is_file() => {
            "it is a directory, but not a git repository"
        }
        Ok(_) => return Ok(()),
    };
    Err(HarnessError::NotARepository {
        path: url.into(),
        why,
    })
}

/// The recipe's name and source, as the command line gives them.
fn command_line_layer(name: &str, url: &str) -> Result<Layer, HarnessError> {
    let text = format!(
        "recipe: {}\nsource: {{git: {}}}\n",
        yaml_string(name),
        yaml_string(url)
    );
    Ok(Layer::parse("--recipe-git", &text)?)
}

/// `s` as a double-quoted YAML string.
fn yaml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A test crate's settings (`layers`: its `ccci.yml` and `--set`s) with the recipe
/// repository's own `ccci.yml` beneath them, when the recipe comes from git (`source: {git:
/// …}` or [`vars::RECIPE_GIT`]): the crate's keys win. The repository is probed in `scratch`.
pub(crate) fn with_recipe_layer(
    settings: &Settings,
    layers: Vec<Layer>,
    scratch: &Path,
) -> Result<RecipeMeta, HarnessError> {
    let meta = RecipeMeta::from_layers(&layers)?;
    let url = match (&settings.recipe_git, &meta.source) {
        (Some(url), _) | (None, ccci_core::meta::Source::Git(url)) => url.clone(),
        (None, ccci_core::meta::Source::Releases(_)) => return Ok(meta),
    };
    let own = recipe_layer(&meta.recipe, &url, settings.reference.as_deref(), scratch)?;
    let Some(own) = own else {
        return Ok(meta);
    };
    Ok(RecipeMeta::from_layers(
        &std::iter::once(own).chain(layers).collect::<Vec<_>>(),
    )?)
}

/// Runs the generic tiers on a recipe repository with no test crate: install, upgrade,
/// backup/restore by backupbot labels; the functional rung is an undeclared skip unless the
/// settings declare it in `expected_na`. Tears down and writes results.json as usual.
pub fn run_repository(run: RepoRun) -> Result<Report, HarnessError> {
    let runs_dir = run.settings.runs_dir.clone();
    crate::run_dir::writable(&runs_dir)?;
    let meta = repo_meta(&run, &runs_dir)?;
    let mut settings = run.settings;
    // The repository is the source; nothing is read from a crate directory.
    settings.recipe_git = None;
    settings.crate_dir = runs_dir;
    run_recipe(settings, meta, Hooks::none())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A git repository with one commit holding `ccci.yml`.
    fn repo_with(settings: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(crate::names::unique("ccci-repo"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ccci.yml"), settings).unwrap();
        for args in [
            &["init", "-q"][..],
            &["add", "ccci.yml"],
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "settings",
            ],
        ] {
            let mut git = ccci_process::command("git");
            git.arg("-C").arg(&dir).args(args);
            let deadline = Deadline::after(std::time::Duration::from_secs(30));
            ccci_process::run(git, format!("git {args:?}"), deadline, "")
                .unwrap_or_else(|e| panic!("{e}"));
        }
        dir
    }

    #[test]
    fn the_recipes_own_settings_lie_beneath_the_command_line() {
        let repo = repo_with("health_path: /api/health\nhealth_ok: [200, 204]\n");
        let scratch = std::env::temp_dir().join(crate::names::unique("ccci-scratch"));
        let run = RepoRun {
            url: repo.display().to_string(),
            sets: vec!["health_ok=[204]".into()],
            settings: Settings::new(&scratch, &scratch),
        };
        std::fs::create_dir_all(&scratch).unwrap();
        let meta = repo_meta(&run, &scratch).unwrap();
        assert_eq!(
            meta.health_path, "/api/health",
            "from the recipe's ccci.yml"
        );
        assert_eq!(meta.health_ok, [204], "--set wins");
        assert!(meta.recipe.starts_with("ccci-repo"));

        let bad = repo_with("source: {git: elsewhere}\n");
        let e = recipe_layer("x", &bad.display().to_string(), None, &scratch)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`source` cannot be set in a recipe's own ccci.yml"),
            "{e}"
        );
        let e = recipe_layer(
            "x",
            &bad.display().to_string(),
            Some("no-such-ref"),
            &scratch,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("ref `no-such-ref` is not in the recipe repository"),
            "{e}"
        );
        for d in [repo, bad, scratch] {
            let _ = std::fs::remove_dir_all(d);
        }
    }

    #[test]
    fn names_from_urls_and_paths() {
        for (url, name) in [
            (
                "https://git.coopcloud.tech/coop-cloud/custom-html.git",
                "custom-html",
            ),
            (
                "https://git.coopcloud.tech/coop-cloud/custom-html/",
                "custom-html",
            ),
            ("../shared/recipes/lemp.bundle", "lemp"),
            ("git@example.org:org/ghost.git", "ghost"),
        ] {
            assert_eq!(super::recipe_name(url).as_deref(), Some(name), "{url}");
        }
        assert_eq!(super::recipe_name("/"), None);
    }
}
