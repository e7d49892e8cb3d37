//! `cargo ccci lint`: the checks a run makes before it deploys, alone, with no Swarm, and the
//! rules a head is held to (abra's `R001`–`R015`, ccci's against the release before), each
//! with its id, level, file, line and fix; `--format json` for tools.

use crate::run::{absolute_if_path, Target, Trust};
use crate::{recipe_names, test_crate};
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct LintArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    trust: Trust,
    /// `text` (lines for people, the default) or `json` (one object, for tools).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// How `lint` says what it found.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Lines for people.
    Text,
    /// One JSON object: `recipe`, `head`, `base`, `refused` (the refusal, or null),
    /// `findings` (each `id`, `level`, `file`, `line`, `problem`, `fix`).
    Json,
}

/// `cargo ccci lint`: a test crate's recipe, or any repository's, checked as a run would
/// before it deploys, and held to the rules; a refusal exits 2, as a run's would.
pub(crate) fn lint(
    LintArgs {
        target: a,
        trust,
        format,
    }: LintArgs,
) -> Result<ExitCode, String> {
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
    };
    match (format, linted) {
        (Format::Json, Ok(linted)) => say!("{}", json(&linted)),
        (Format::Json, Err(e)) => {
            say!(
                "{}",
                serde_json::json!({ "refused": e.to_string(), "findings": [] })
            );
            return Ok(ExitCode::from(2));
        }
        (Format::Text, Ok(linted)) => text(&linted, untrusted.as_deref()),
        (Format::Text, Err(e)) => return Err(e.to_string()),
    }
    Ok(ExitCode::SUCCESS)
}

/// A lint that refused nothing, as one JSON object (`refused` null).
fn json(linted: &ccci::Linted) -> serde_json::Value {
    serde_json::json!({
        "recipe": linted.recipe,
        "head": linted.head,
        "base": linted.base,
        "compose_files": linted.compose_files,
        "refused": null,
        "findings": linted.findings,
    })
}

/// The lint as lines for people: what was checked (`clean`: nothing refuses a run), then
/// each finding.
fn text(linted: &ccci::Linted, untrusted: Option<&[ccci::policy::Allowance]>) {
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
    if let Some(allow) = untrusted {
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
    for f in &linted.findings {
        say!("  {f}");
    }
}
