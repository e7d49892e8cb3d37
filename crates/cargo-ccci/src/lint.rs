//! `cargo ccci lint`: the checks a run makes before it deploys, alone, with no Swarm.

use crate::run::{absolute_if_path, Target, Trust};
use crate::{recipe_names, test_crate};
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct LintArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    trust: Trust,
}

/// `cargo ccci lint`: a test crate's recipe, or any repository's, checked as a run would
/// before it deploys; one line either way.
pub(crate) fn lint(LintArgs { target: a, trust }: LintArgs) -> Result<ExitCode, String> {
    let git = a.recipe_git.map(absolute_if_path);
    let untrusted = trust.allowances();
    let overrides = ccci::Overrides {
        reference: a.reference,
        domain: a.domain,
        untrusted: untrusted.clone(),
        ..Default::default()
    };
    let here = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
    let linted = match (a.recipe, git) {
        (None, Some(url)) => {
            let settings = ccci::Settings::from_env(&here, ccci::default_runs_dir(&here))
                .map_err(|e| e.to_string())?;
            ccci::lint_repository(ccci::RepoRun {
                url,
                sets: a.sets,
                settings: overrides.apply(settings),
            })
        }
        (recipe, git) => {
            let recipe = test_crate(recipe, &recipe_names(), "lint")?;
            let dir = here.join("recipes").join(&recipe);
            let settings = ccci::Settings::from_env(&dir, ccci::default_runs_dir(&dir))
                .map_err(|e| e.to_string())?;
            let overrides = ccci::Overrides {
                recipe_git: git,
                ..overrides
            };
            ccci::lint_crate(overrides.apply(settings), &a.sets)
        }
    }
    .map_err(|e| e.to_string())?;
    let head = &linted.head;
    let short = ccci::core::short_commit(&head.commit);
    let release = head.version.as_deref().unwrap_or("unreleased");
    let base = match &linted.base {
        Some(b) => format!("upgrade from {}", b.reference),
        None => "no release before it to upgrade from".into(),
    };
    say!(
        "cargo ccci lint: {} at {} ({short}, {release}): clean: {}; {base}",
        linted.recipe,
        head.reference,
        linted.compose_files.join(" + "),
    );
    if let Some(allow) = &untrusted {
        let allowed: Vec<String> = allow.iter().map(ToString::to_string).collect();
        say!(
            "  untrusted: the head keeps to its own stack, domain and checkout{}",
            match allowed.is_empty() {
                true => String::new(),
                false => format!(" (allowed: {})", allowed.join(", ")),
            }
        );
    }
    for tag in &linted.annotated {
        say!("  note: tag {tag} is lightweight; a run makes it annotated in its own clone (abra deploys only annotated releases)");
    }
    if let Some(from) = &linted.overlay {
        say!("  note: the CI overlay from {from} is added to every deploy");
    }
    Ok(ExitCode::SUCCESS)
}
