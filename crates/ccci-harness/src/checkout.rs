//! The recipe at the ref under test, read and checked before anything touches a Swarm: its
//! clone with annotated tags, the head and the upgrade base, the app with its env, the CI
//! overlay, and the compose chain's one-line refusals. The install step starts from it
//! (`Deployment::prepare`, a layer above); `cargo ccci lint` ([`crate::lint`]) is it
//! alone. Pure of the run: it returns what the record should say instead of writing it.

use crate::error::HarnessError;
use crate::settings::Settings;
use ccci_abra::{App, Recipe, Release};
use ccci_core::meta::Source;
use ccci_core::results::RefInfo;
use ccci_core::{vars, RecipeMeta};
use ccci_swarm::Deadline;
use std::path::{Path, PathBuf};

/// The CI overlay a test crate or a recipe may supply: copied into the run's checkout and
/// appended to `COMPOSE_FILE` for every deploy, so CI can swap what only a real server has
/// (a mail relay, say) for something local.
pub(crate) const CI_OVERLAY: &str = "compose.ccci.yml";

/// See the module docs.
pub(crate) struct Checkout {
    pub recipe: Recipe,
    pub app: App,
    /// What runs: the head and the upgrade's base.
    pub refs: Refs,
    /// The CI overlay, when there is one.
    pub overlay: Option<Overlay>,
    /// Lightweight tags this clone made annotated (abra deploys only annotated releases).
    pub annotated: Vec<String>,
    /// ccci's rules' warnings on the head against the upgrade's base (their errors refused
    /// it): for the run's warnings and comment.
    pub warnings: Vec<ccci_abra::rules::Finding>,
}

/// The refs a run deploys.
#[derive(Debug, Clone)]
pub(crate) struct Refs {
    /// The ref under test.
    pub head: RefInfo,
    /// The head's release, when it is one.
    pub head_release: Option<Release>,
    /// The release the upgrade starts from.
    pub base: Option<Release>,
    /// The releases before `base` the upgrade matrix also starts from, newest first
    /// (`upgrade_from` − 1 of them at most).
    pub older_bases: Vec<Release>,
    /// The recipe's latest release.
    pub latest: Option<Release>,
    /// Every release, oldest first.
    pub releases: Vec<Release>,
}

/// Checks `commit` out in `recipe` with the CI overlay `text`, when there is one, written
/// beside it: the tree every deploy (and the untrusted check) reads.
pub(crate) fn check_out(
    recipe: &Recipe,
    commit: &str,
    overlay: Option<&str>,
    deadline: Deadline,
) -> Result<(), HarnessError> {
    let path = recipe.path(CI_OVERLAY);
    if overlay.is_some() {
        // An untracked overlay could block the checkout of a commit that tracks one.
        let _ = std::fs::remove_file(&path);
    }
    recipe.checkout(commit, deadline)?;
    if let Some(text) = overlay {
        std::fs::write(&path, text).map_err(crate::error::io(&path))?;
    }
    Ok(())
}

impl Refs {
    /// The record's ref of the upgrade base.
    pub(crate) fn base_ref(&self) -> Option<RefInfo> {
        self.base.as_ref().map(|b| RefInfo {
            reference: b.tag.clone(),
            commit: b.commit.clone(),
            version: Some(b.version.to_string()),
        })
    }
}

/// The CI overlay's content and where it came from.
pub(crate) struct Overlay {
    pub text: String,
    pub from: String,
}

/// Where the recipe comes from.
enum Fetch {
    Clone(String),
    Releases(PathBuf),
}

impl Checkout {
    /// Clones the recipe into `dest` and writes the app's env under `servers`, then checks
    /// everything ccci can check without a Swarm (for an untrusted head, what its merged
    /// stack reaches: [`ccci_abra::policy`]); the first problem is the answer. Blocks on
    /// git: call it where blocking is allowed.
    pub(crate) fn read(
        settings: &Settings,
        meta: &RecipeMeta,
        dest: &Path,
        servers: &Path,
        deadline: Deadline,
    ) -> Result<Checkout, HarnessError> {
        let source = match (&settings.recipe_git, &meta.source) {
            (Some(url), _) | (None, Source::Git(url)) => Fetch::Clone(url.clone()),
            (None, Source::Releases(dir)) => Fetch::Releases(settings.crate_dir.join(dir)),
        };
        let recipe = match source {
            Fetch::Clone(url) => Recipe::clone_from(&meta.recipe, &url, dest, deadline)?,
            Fetch::Releases(dir) => Recipe::from_release_dirs(&meta.recipe, &dir, dest, deadline)?,
        };
        let annotated = recipe.normalize_tags(deadline)?;
        let refs = Refs::of(&recipe, settings, meta, deadline)?;
        let commit = refs.head.commit.clone();
        let domain = settings
            .domain
            .clone()
            .unwrap_or_else(|| crate::names::default_domain(&meta.recipe));
        let mut app = App::new(&recipe, &domain, servers, &meta.extra_env)?;
        let overlay = overlay(settings, &recipe, &commit, deadline)?;
        lint_head(
            &recipe,
            &commit,
            &app,
            overlay.as_ref().map(|o| o.text.as_str()),
            &meta.service,
            deadline,
        )?;
        check_secrets(meta, &app)?;
        if overlay.is_some() {
            let files = app.compose_files();
            if !files.iter().any(|f| f == CI_OVERLAY) {
                app.env.set(
                    "COMPOSE_FILE",
                    &[files, vec![CI_OVERLAY.to_string()]].concat().join(":"),
                );
                app.save()?;
            }
        }
        if let Some(allow) = &settings.untrusted {
            // The head as its deploy will have it: checked out, the CI overlay beside it; a
            // head reaching beyond its stack is refused before anything is deployed.
            check_out(
                &recipe,
                &commit,
                overlay.as_ref().map(|o| o.text.as_str()),
                deadline,
            )?;
            ccci_abra::check_untrusted(&app, &recipe, allow, deadline)?;
        }
        // The checks above first: a head refused for what it is, before what it changed.
        let warnings = rules(&recipe, &refs, &app, deadline)?;
        Ok(Checkout {
            recipe,
            app,
            refs,
            overlay,
            annotated,
            warnings,
        })
    }
}

/// A release of `recipe` as [`ccci_abra::rules`] reads it: its files at `commit` (the compose
/// files `names`, but the CI overlay, which is ccci's, not the release's).
pub(crate) fn release_at(
    recipe: &Recipe,
    commit: &str,
    tag: Option<&str>,
    names: &[String],
    deadline: Deadline,
) -> Result<ccci_abra::rules::Release, HarnessError> {
    let mut compose = Vec::new();
    for name in names.iter().filter(|n| *n != CI_OVERLAY) {
        if let Some(text) = recipe.file_at(commit, name, deadline)? {
            compose.push((name.clone(), text));
        }
    }
    Ok(ccci_abra::rules::Release {
        tag: tag.map(String::from),
        compose,
        env_sample: recipe.file_at(commit, ".env.sample", deadline)?,
        abra_sh: recipe.file_at(commit, "abra.sh", deadline)?,
        readme: recipe.file_at(commit, "README.md", deadline)?,
    })
}

/// ccci's rules on the head against the release its upgrade starts from
/// ([`ccci_abra::rules::between`], [`ccci_abra::rules::label_is_tag`]): an error refuses the
/// run before anything is deployed; the warnings are returned.
fn rules(
    recipe: &Recipe,
    refs: &Refs,
    app: &App,
    deadline: Deadline,
) -> Result<Vec<ccci_abra::rules::Finding>, HarnessError> {
    let names = app.compose_files();
    let tag = refs.head_release.as_ref().map(|r| r.tag.as_str());
    let head = release_at(recipe, &refs.head.commit, tag, &names, deadline)?;
    let mut found: Vec<_> = ccci_abra::rules::label_is_tag(&head).into_iter().collect();
    if let Some(b) = &refs.base {
        let base = release_at(recipe, &b.commit, Some(&b.tag), &names, deadline)?;
        found.extend(ccci_abra::rules::between(&base, &head));
    }
    let (errors, warnings): (Vec<_>, Vec<_>) = found
        .into_iter()
        .partition(|f| f.level == ccci_abra::rules::Level::Error);
    if !errors.is_empty() {
        return Err(HarnessError::Rules {
            findings: errors.iter().map(ToString::to_string).collect(),
        });
    }
    Ok(warnings)
}

impl Refs {
    /// What the run deploys of `recipe`: its releases, the head the settings name (`canonical
    /// up` with no ref: the latest release), the upgrade's base and the matrix's older bases.
    fn of(
        recipe: &Recipe,
        settings: &Settings,
        meta: &RecipeMeta,
        deadline: Deadline,
    ) -> Result<Refs, HarnessError> {
        let releases = recipe.releases(deadline)?;
        ccci_abra::release::same_version_twice(&releases)?;
        let latest = releases
            .iter()
            .max_by(|a, b| a.version.cmp(&b.version))
            .cloned();
        let reference = match (&settings.reference, settings.canonical, &latest) {
            (Some(r), _, _) => r.clone(),
            (None, Some(_), Some(latest)) => latest.tag.clone(),
            (None, _, _) => "HEAD".into(),
        };
        let commit = resolve_head(recipe, &reference, settings, meta, deadline)?;
        let head_release = releases.iter().find(|r| r.commit == commit).cloned();
        let head = RefInfo {
            reference,
            commit: commit.clone(),
            version: head_release.as_ref().map(|r| r.version.to_string()),
        };
        let base = ccci_abra::release::select_base(
            &meta.upgrade_base_version,
            &releases,
            head_release.as_ref(),
            &commit,
        )?;
        let from = settings.upgrade_from.unwrap_or(meta.upgrade_from).max(1) as usize;
        let older_bases = match &base {
            Some(b) => ccci_abra::release::older_bases(&releases, b, &commit, from - 1),
            None => Vec::new(),
        };
        Ok(Refs {
            head,
            head_release,
            base,
            older_bases,
            latest,
            releases,
        })
    }
}

/// The commit `reference` names in the recipe, or why not, naming where the recipe came from.
fn resolve_head(
    recipe: &Recipe,
    reference: &str,
    settings: &Settings,
    meta: &RecipeMeta,
    deadline: Deadline,
) -> Result<String, HarnessError> {
    recipe
        .resolve(reference, deadline)
        .map_err(|source| HarnessError::UnknownRef {
            reference: reference.to_string(),
            url: settings
                .recipe_git
                .clone()
                .unwrap_or_else(|| match &meta.source {
                    Source::Git(url) => url.clone(),
                    Source::Releases(dir) => dir.clone(),
                }),
            source: Box::new(source),
            fix: format!(
                "set {} (or --ref) to a tag, branch or commit of it",
                vars::REF
            ),
        })
}

/// The CI overlay and where it came from: the test crate's (beside its ccci.yml), else the
/// recipe's own at the head.
fn overlay(
    settings: &Settings,
    recipe: &Recipe,
    commit: &str,
    deadline: Deadline,
) -> Result<Option<Overlay>, HarnessError> {
    let crate_overlay = settings.crate_dir.join(CI_OVERLAY);
    let is_crate = settings.crate_dir.join("ccci.yml").is_file();
    if is_crate {
        if let Ok(text) = std::fs::read_to_string(&crate_overlay) {
            return Ok(Some(Overlay {
                text,
                from: crate_overlay.display().to_string(),
            }));
        }
    }
    let short = ccci_core::short_commit(commit);
    Ok(recipe
        .file_at(commit, CI_OVERLAY, deadline)?
        .map(|text| Overlay {
            text,
            from: format!("{CI_OVERLAY} of the recipe at {short}"),
        }))
}

/// Reads the head's compose chain before anything is deployed, and the names the app's
/// domain will give its secrets and services (see `ccci_abra::lint`).
fn lint_head(
    recipe: &Recipe,
    commit: &str,
    app: &App,
    overlay: Option<&str>,
    main_service: &str,
    deadline: Deadline,
) -> Result<(), HarnessError> {
    let names = app.compose_files();
    let mut texts = Vec::new();
    for name in &names {
        texts.push(match (name.as_str(), overlay) {
            (CI_OVERLAY, Some(text)) => Some(text.to_string()),
            _ => recipe.file_at(commit, name, deadline)?,
        });
    }
    let files: Vec<ccci_abra::lint::ComposeFile<'_>> = names
        .iter()
        .zip(&texts)
        .map(|(name, text)| ccci_abra::lint::ComposeFile {
            name,
            text: text.as_deref(),
        })
        .collect();
    let has_file = |path: &str| matches!(recipe.file_at(commit, path, deadline), Ok(Some(_)));
    let secrets = ccci_abra::lint::lint(&files, &has_file, main_service)?;
    ccci_abra::lint::name_limits(app, &secrets, main_service)?;
    Ok(())
}

/// Whether every secret `secrets` gives a value for is one of the recipe's own
/// (`SECRET_<NAME>_VERSION` in `app`'s env, named in lower case): checked when the recipe is
/// read, before anything is deployed.
pub(crate) fn check_secrets(meta: &RecipeMeta, app: &App) -> Result<(), HarnessError> {
    let known: Vec<String> = app
        .env
        .entries()
        .iter()
        .filter_map(ccci_abra::env::Entry::secret_name)
        .collect();
    match meta.secrets.keys().find(|n| !known.contains(n)) {
        Some(name) => Err(HarnessError::NoSuchSecret {
            name: name.clone(),
            known: match known.is_empty() {
                true => "none".into(),
                false => known.join(", "),
            },
        }),
        None => Ok(()),
    }
}
