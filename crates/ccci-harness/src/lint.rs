//! `cargo ccci lint`: the checks a run makes before it deploys, alone, with no Swarm. The
//! settings (every layer, and ccci's environment variables), the recipe's clone and its release
//! tags, the ref and the upgrade base, and the head's compose chain (files, YAML, services,
//! images' tags, secrets, configs, name lengths): exactly [`crate::checkout::Checkout`],
//! which every run starts from, so a recipe `lint` passes is refused by no run for any of
//! these, and one it refuses gets the same one-line error a run would. Untrusted
//! (`--untrusted`), the head's merged chain is also held to what an untrusted run may deploy,
//! as its deploys will be ([`ccci_abra::policy`]).

use crate::checkout::{check_out, Checkout};
use crate::error::{io, HarnessError};
use crate::repo::{repo_meta, with_recipe_layer, RepoRun};
use crate::settings::{crate_layers, sets_of, Settings};
use ccci_core::results::RefInfo;
use ccci_core::RecipeMeta;
use ccci_swarm::Deadline;
use std::path::Path;
use std::time::Duration;

/// How long a lint may take: one local clone and a few `git show`s; a remote repository's
/// clone is what takes longest.
const LINT_TIMEOUT: Duration = Duration::from_secs(120);

/// What a clean lint read: enough for one line that says what was checked.
#[derive(Debug, Clone)]
pub struct Linted {
    /// The recipe.
    pub recipe: String,
    /// The ref under test.
    pub head: RefInfo,
    /// The release the upgrade would start from.
    pub base: Option<RefInfo>,
    /// The compose chain checked, in `COMPOSE_FILE`'s order (the CI overlay last, if any).
    pub compose_files: Vec<String>,
    /// Where the CI overlay comes from, if there is one.
    pub overlay: Option<String>,
    /// Lightweight tags a run would make annotated in its clone.
    pub annotated: Vec<String>,
    /// What the rules found that does not refuse a run: abra's `R001`–`R015` on the head,
    /// and ccci's warnings against the upgrade's base ([`ccci_abra::rules`]).
    pub findings: Vec<ccci_abra::rules::Finding>,
}

/// Lints a recipe test crate (`settings.crate_dir`, its `ccci.yml` and [`vars::SET`](ccci_core::vars::SET)), with
/// `sets` on top.
///
/// # Errors
/// The first problem a run would refuse, as the run would say it.
pub fn lint_crate(settings: Settings, sets: &[String]) -> Result<Linted, HarnessError> {
    let scratch = scratch()?;
    let mut layers = crate_layers(&settings.crate_dir)?;
    layers.extend(sets_of(sets)?);
    let meta = with_recipe_layer(&settings, layers, scratch.path())?;
    lint(&settings, &meta, scratch.path())
}

/// Lints a recipe repository with no test crate, as `cargo ccci run --recipe-git` would
/// run it.
///
/// # Errors
/// The first problem a run would refuse, as the run would say it.
pub fn lint_repository(run: RepoRun) -> Result<Linted, HarnessError> {
    let scratch = scratch()?;
    let meta = repo_meta(&run, scratch.path())?;
    let mut settings = run.settings;
    // The repository is the source; nothing is read from a crate directory.
    settings.recipe_git = None;
    settings.crate_dir = scratch.path().into();
    lint(&settings, &meta, scratch.path())
}

/// A directory of the lint's own, removed when it is dropped: a lint leaves nothing behind.
fn scratch() -> Result<tempfile::TempDir, HarnessError> {
    let dir = std::env::temp_dir();
    tempfile::Builder::new()
        .prefix("ccci-lint-")
        .tempdir_in(&dir)
        .map_err(io(&dir))
}

/// The head held to the release its upgrade starts from ([`ccci_abra::drift`]): a config or
/// secret whose file changed while its name did not is refused, as Swarm would refuse the
/// upgrade half-way. The clone is left at the head.
fn unbumped_since_base(c: &Checkout, deadline: Deadline) -> Result<(), HarnessError> {
    let Some(base) = &c.refs.base else {
        return Ok(());
    };
    let read = || -> Result<Vec<_>, HarnessError> {
        let merged = ccci_abra::merged(&c.app, &c.recipe, deadline)?;
        Ok(ccci_abra::drift::file_objects(&merged)?
            .into_iter()
            .map(|o| {
                let content = std::fs::read(c.recipe.dir.join(&o.file)).ok();
                (o, content)
            })
            .collect())
    };
    // Each release as a deploy has it: its checkout with the CI overlay beside it.
    let overlay = c.overlay.as_ref().map(|o| o.text.as_str());
    check_out(&c.recipe, &c.refs.head.commit, overlay, deadline)?;
    let head = read()?;
    check_out(&c.recipe, &base.commit, overlay, deadline)?;
    let before = read();
    check_out(&c.recipe, &c.refs.head.commit, overlay, deadline)?;
    let found = ccci_abra::drift::unbumped(&before?, &head, &c.recipe.dir);
    if found.is_empty() {
        return Ok(());
    }
    Err(ccci_abra::AbraError::Unbumped {
        base: base.tag.clone(),
        found: found.iter().map(ToString::to_string).collect(),
    }
    .into())
}

fn lint(settings: &Settings, meta: &RecipeMeta, scratch: &Path) -> Result<Linted, HarnessError> {
    let deadline = Deadline::after(LINT_TIMEOUT);
    let checkout = Checkout::read(
        settings,
        meta,
        &scratch.join("recipe"),
        &scratch.join("servers"),
        deadline,
    )?;
    unbumped_since_base(&checkout, deadline)?;
    let names = checkout.app.compose_files();
    let head = crate::checkout::release_at(
        &checkout.recipe,
        &checkout.refs.head.commit,
        checkout.refs.head_release.as_ref().map(|r| r.tag.as_str()),
        &names,
        deadline,
    )?;
    let repository = ccci_abra::rules::Repository {
        tags: checkout
            .refs
            .releases
            .iter()
            .map(|r| r.tag.clone())
            .collect(),
        lightweight: checkout.annotated.clone(),
    };
    let mut findings = ccci_abra::rules::abra(&head, &repository);
    findings.extend(checkout.warnings.iter().cloned());
    Ok(Linted {
        findings,
        recipe: meta.recipe.clone(),
        base: checkout.refs.base_ref(),
        compose_files: checkout.app.compose_files(),
        head: checkout.refs.head,
        overlay: checkout.overlay.map(|o| o.from),
        annotated: checkout.annotated,
    })
}
